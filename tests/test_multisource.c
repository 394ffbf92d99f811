/* Multi-source transfer (tl_multisource_run): synthetic domains of one feature space, shifted
 * copies of the same classes, and a harmful source (a good one with its labels permuted, which
 * only the labelled target rows can expose).
 *   - a harmful source is dropped with the guard's reason, gets weight 0, and the combination
 *     matches the one without it;
 *   - vote, weighted and pool combine and score; the weights sum to 1;
 *   - refusals: one source, sources with different label sets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "oom_alloc.h"
#include "tl.h"

#define NC 4
#define D 6

/* n rows per class around fixed class centres, shifted by `shift`; labels 0..NC-1, permuted
 * by +1 when `permute`. */
static tl_dataset *domain(uint64_t seed, size_t n, double shift, bool permute, const char *name) {
    tl_rng r, rc;
    tl_rng_seed(&r, seed);
    tl_rng_seed(&rc, 99); /* the same class centres everywhere */
    double cen[NC][D];
    for (int c = 0; c < NC; c++)
        for (int j = 0; j < D; j++) cen[c][j] = 3 * tl_rng_normal(&rc);
    tl_mat X = {0};
    tl_mat_alloc(&X, n * NC, D);
    int *y = malloc(n * NC * sizeof *y);
    for (size_t i = 0; i < n * NC; i++) {
        int c = (int)(i % NC);
        for (int j = 0; j < D; j++) TL_AT(X, i, j) = cen[c][j] + shift + tl_rng_normal(&r);
        y[i] = permute ? (c + 1) % NC : c;
    }
    tl_dataset *ds = NULL;
    tl_dataset_from_dense(X, y, &ds);
    if (ds) tl_dataset_set_name(ds, name);
    tl_mat_free(&X);
    free(y);
    return ds;
}

static tl_task *make_task(tl_dataset **s, size_t k, tl_dataset *tgt, tl_dataset *lab) {
    tl_task *t = NULL;
    size_t ti;
    tl_task_create(&t);
    for (size_t i = 0; i < k; i++) tl_task_add(t, TL_ROLE_SOURCE, s[i], NULL);
    tl_task_add(t, TL_ROLE_TARGET, tgt, &ti);
    if (lab) tl_task_set_labelled(t, ti, lab);
    return t;
}

TEST(harmful_source_dropped) {
    tl_dataset *s[3] = {domain(1, 20, 0.5, false, "s1"), domain(2, 20, -0.5, false, "s2"),
                        domain(3, 20, 0.3, true, "permuted")};
    tl_dataset *tgt = domain(4, 25, 0.2, false, "target"), *lab = domain(5, 3, 0.2, false, "lab");
    tl_params *mp = NULL;
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &mp));
    tl_run_opts o = tl_run_opts_default();
    tl_multi_report *with = NULL, *without = NULL;
    tl_task *t3 = make_task(s, 3, tgt, lab), *t2 = make_task(s, 2, tgt, lab);
    CHECK_OK(tl_multisource_run(t3, mp, &o, TL_COMBINE_WEIGHTED, true, &with));
    CHECK_OK(tl_multisource_run(t2, mp, &o, TL_COMBINE_WEIGHTED, true, &without));
    if (with && without) {
        CHECK(!with->dropped[0] && !with->dropped[1] && with->dropped[2]);
        CHECK(with->weight[2] == 0 && strlen(with->why[2]) > 0);
        CHECK_MSG(strstr(with->why[2], "labelled target rows") != NULL, "reason: %s", with->why[2]);
        CHECK_NEAR(with->weight[0] + with->weight[1], 1.0, 1e-12);
        CHECK_MSG(with->result.accuracy >= 0.9, "combined accuracy %.3f", with->result.accuracy);
        CHECK(fabs(with->result.accuracy - without->result.accuracy) <= 0.01);
        CHECK(with->single[2]->negative_transfer && !with->single[0]->negative_transfer);
        char *txt = NULL, *js = NULL;
        CHECK_OK(tl_multi_report_text(with, &txt));
        CHECK(txt && strstr(txt, "dropped") && strstr(txt, "permuted"));
        CHECK_OK(tl_multi_report_json(with, "adapt", &js));
        CHECK(js && strstr(js, "\"dropped\": true") && strstr(js, "\"combine\": \"weighted\""));
        tl_free(txt);
        tl_free(js);
    }
    /* kept when asked: the permuted source then pulls the vote down */
    tl_multi_report *kept = NULL;
    CHECK_OK(tl_multisource_run(t3, mp, &o, TL_COMBINE_VOTE, false, &kept));
    if (kept) CHECK(!kept->dropped[2] && fabs(kept->weight[2] - 1.0 / 3) < 1e-12);
    for (int c = 0; c < 3; c++) { /* every combination scores the same rows */
        tl_multi_report *r = NULL;
        CHECK_OK(tl_multisource_run(t3, mp, &o, (tl_combine)c, true, &r));
        if (r) {
            CHECK(r->n_eval == tl_dataset_rows(tgt) && r->result.n == r->n_eval);
            CHECK_MSG(r->result.accuracy >= 0.9, "%s: %.3f", tl_combine_name((tl_combine)c),
                      r->result.accuracy);
            CHECK((c == TL_COMBINE_POOL) == (r->pooled != NULL));
        }
        tl_multi_report_free(r);
    }
    tl_multi_report_free(with);
    tl_multi_report_free(without);
    tl_multi_report_free(kept);
    tl_task_free(t3);
    tl_task_free(t2);
    tl_params_free(mp);
    for (int i = 0; i < 3; i++) tl_dataset_free(s[i]);
    tl_dataset_free(tgt);
    tl_dataset_free(lab);
}

TEST(refusals) {
    tl_dataset *a = domain(1, 10, 0, false, "a"), *b = domain(2, 10, 0, false, "b");
    tl_dataset *tgt = domain(3, 10, 0, false, "target");
    int *yb = tl_dataset_labels(b);
    yb[0] = 7; /* a class the other source lacks */
    tl_params *mp = NULL;
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &mp));
    tl_multi_report *r = NULL;
    tl_dataset *one[1] = {a}, *two[2] = {a, b};
    tl_task *t1 = make_task(one, 1, tgt, NULL), *t2 = make_task(two, 2, tgt, NULL);
    CHECK_STATUS(tl_multisource_run(t1, mp, NULL, TL_COMBINE_VOTE, true, &r), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("at least two sources");
    CHECK_STATUS(tl_multisource_run(t2, mp, NULL, TL_COMBINE_VOTE, true, &r), TL_ERR_LABEL);
    CHECK_ERR_HAS("label sets differ: 'b' has class 7");
    CHECK(r == NULL);
    tl_combine c;
    CHECK_STATUS(tl_combine_parse("average", &c), TL_ERR_INVALID_ARG);
    CHECK_OK(tl_combine_parse("pool", &c));
    CHECK(c == TL_COMBINE_POOL);
    tl_task_free(t1);
    tl_task_free(t2);
    tl_params_free(mp);
    tl_dataset_free(a);
    tl_dataset_free(b);
    tl_dataset_free(tgt);
}

/* The multi-source pipeline predicts what the run predicted (weighted vote of the kept sources;
 * pool: the pooled run), also after a save and load; the dropped source is not in it; it refuses
 * source rows and a transform (no one shared space). */
TEST(pipeline_round_trip) {
    tl_dataset *s[3] = {domain(1, 20, 0.5, false, "s1"), domain(2, 20, -0.5, false, "s2"),
                        domain(3, 20, 0.3, true, "permuted")};
    tl_dataset *tgt = domain(4, 25, 0.2, false, "target"), *lab = domain(5, 3, 0.2, false, "lab");
    tl_params *mp = NULL;
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &mp));
    tl_run_opts o = tl_run_opts_default();
    tl_task *t3 = make_task(s, 3, tgt, lab);
    tl_combine how[2] = {TL_COMBINE_WEIGHTED, TL_COMBINE_POOL};
    char path[128];
    snprintf(path, sizeof path, "/tmp/tl_test_multisource_%d.tlm", (int)getpid());
    for (int q = 0; q < 2; q++) {
        tl_multi_report *r = NULL;
        tl_pipeline *pl = NULL, *p2 = NULL;
        CHECK_OK(tl_multisource_fit(t3, mp, &o, how[q], true, &r, &pl));
        if (!r || !pl) continue;
        CHECK(r->dropped[2]);
        size_t n = r->n_eval;
        int *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        CHECK(tl_pipeline_domains(pl) == 2);
        CHECK_OK(tl_pipeline_predict(pl, 1, tgt, a));
        CHECK(memcmp(a, r->predictions, n * sizeof *a) == 0);
        tl_mat S = {0};
        CHECK_OK(tl_pipeline_scores(pl, 1, tgt, b, &S));
        CHECK(S.rows == n && S.cols == NC && memcmp(a, b, n * sizeof *a) == 0);
        double rowsum = 0;
        for (size_t j = 0; j < S.cols; j++) rowsum += TL_AT(S, 0, j);
        if (how[q] != TL_COMBINE_POOL) CHECK_NEAR(rowsum, 1.0, 1e-12); /* vote shares */
        tl_mat_free(&S);
        CHECK_OK(tl_pipeline_save(pl, path));
        CHECK_OK(tl_pipeline_load(path, &p2));
        if (p2) {
            memset(b, 0, n * sizeof *b);
            CHECK_OK(tl_pipeline_predict(p2, 1, tgt, b));
            CHECK(memcmp(a, b, n * sizeof *a) == 0);
            if (how[q] != TL_COMBINE_POOL) {
                CHECK_STATUS(tl_pipeline_predict(p2, 0, tgt, b), TL_ERR_UNSUPPORTED);
                CHECK_ERR_HAS("predicts target rows");
                tl_mat Z = {0};
                CHECK_STATUS(tl_pipeline_transform(p2, 1, tgt, &Z), TL_ERR_UNSUPPORTED);
            }
        }
        remove(path);
        free(a);
        free(b);
        tl_pipeline_free(pl);
        tl_pipeline_free(p2);
        tl_multi_report_free(r);
    }
    tl_task_free(t3);
    tl_params_free(mp);
    for (int i = 0; i < 3; i++) tl_dataset_free(s[i]);
    tl_dataset_free(tgt);
    tl_dataset_free(lab);
}

/* Out of memory at every allocation of a multi-source fit with its pipeline, and of loading it:
 * a clean failure with no output until the allocations suffice. */
TEST(out_of_memory) {
    tl_dataset *s[2] = {domain(1, 6, 0.5, false, "s1"), domain(2, 6, -0.5, false, "s2")};
    tl_dataset *tgt = domain(4, 6, 0.2, false, "target");
    tl_params *mp = NULL;
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &mp));
    tl_run_opts o = tl_run_opts_default();
    o.guard = false;
    tl_task *t = make_task(s, 2, tgt, NULL);
    char path[128];
    snprintf(path, sizeof path, "/tmp/tl_test_multisource_oom_%d.tlm", (int)getpid());
    tl_status st = TL_ERR_NOMEM;
    long k;
    for (k = 0; k < 100000 && st != TL_OK; k++) {
        tl_multi_report *r = NULL;
        tl_pipeline *pl = NULL;
        oom_left = k;
        tl_allocator_set(&oom_allocator);
        st = tl_multisource_fit(t, mp, &o, TL_COMBINE_VOTE, true, &r, &pl);
        tl_allocator_set(NULL);
        if (st != TL_OK) CHECK(r == NULL && pl == NULL);
        if (st == TL_OK) CHECK_OK(tl_pipeline_save(pl, path));
        tl_multi_report_free(r);
        tl_pipeline_free(pl);
    }
    CHECK_MSG(st == TL_OK && k > 100, "success after %ld allocations", k);
    st = TL_ERR_NOMEM;
    for (k = 0; k < 100000 && st != TL_OK; k++) {
        tl_pipeline *pl = NULL;
        oom_left = k;
        tl_allocator_set(&oom_allocator);
        st = tl_pipeline_load(path, &pl);
        tl_allocator_set(NULL);
        if (st != TL_OK) CHECK(pl == NULL);
        tl_pipeline_free(pl);
    }
    CHECK_MSG(st == TL_OK && k > 20, "load: success after %ld allocations", k);
    remove(path);
    tl_task_free(t);
    tl_params_free(mp);
    for (int i = 0; i < 2; i++) tl_dataset_free(s[i]);
    tl_dataset_free(tgt);
}

int main(void) {
    RUN(harmful_source_dropped);
    RUN(refusals);
    RUN(pipeline_round_trip);
    RUN(out_of_memory);
    return tl_test_summary();
}
