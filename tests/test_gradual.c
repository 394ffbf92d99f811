/* Transfer through intermediate domains (tl_gradual_run): the rotating two-Gaussian problem of
 * Kumar, Ma & Liang (ICML 2020). Two classes at +-(2 cos a, 2 sin a) with unit-free noise 0.5;
 * the source at a = 0, intermediates every 10 degrees, the target at 90 degrees, where the
 * source's boundary (x = 0) cuts both classes in half.
 *   - gradual self-training along the intermediates recovers the target (>= 0.95), source-only
 *     and direct self-training stay near chance;
 *   - from a shuffled pool with a distractor (a far-off copy), the chosen path is the angles in
 *     order, and the distractor is left out;
 *   - the pipeline predicts what the run predicted, also after a save and load;
 *   - a feature mapping (CORAL) hop by hop does the same where its direct transfer fails;
 *   - out of memory at every allocation fails cleanly;
 *   - refusals: a pool of one, no intermediate, a width mismatch, keep out of range, an
 *     unlabelled source, preprocessing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "oom_alloc.h"
#include "tl.h"

/* n rows per class at angle `deg` (degrees), shifted by `off` in both coordinates; width d (the
 * columns past 2 are noise); labelled when `labels`. */
static tl_dataset *blob(uint64_t seed, size_t n, double deg, double off, size_t d, bool labels,
                        const char *name) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    double a = deg * 3.14159265358979323846 / 180;
    tl_mat X = {0};
    tl_mat_alloc(&X, 2 * n, d);
    int *y = malloc(2 * n * sizeof *y);
    for (size_t i = 0; i < 2 * n; i++) {
        int c = (int)(i % 2);
        double s = c ? -2 : 2;
        for (size_t j = 0; j < d; j++) TL_AT(X, i, j) = off + 0.5 * tl_rng_normal(&r);
        TL_AT(X, i, 0) += s * cos(a);
        TL_AT(X, i, 1) += s * sin(a);
        y[i] = c;
    }
    tl_dataset *ds = NULL;
    tl_dataset_from_dense(X, labels ? y : NULL, &ds);
    if (ds) tl_dataset_set_name(ds, name);
    tl_mat_free(&X);
    free(y);
    return ds;
}

#define NSTEP 8

typedef struct {
    tl_dataset *src, *tgt, *test, *step[NSTEP], *far;
    tl_params *lp;
} fixture;

static void setup(fixture *f) {
    memset(f, 0, sizeof *f);
    f->src = blob(1, 100, 0, 0, 2, true, "source");
    f->tgt = blob(2, 100, 90, 0, 2, true, "target");
    f->test = blob(3, 100, 90, 0, 2, true, "test");
    for (int i = 0; i < NSTEP; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "deg%02d", 10 * (i + 1));
        f->step[i] = blob(10 + (uint64_t)i, 100, 10.0 * (i + 1), 0, 2, false, nm);
    }
    f->far = blob(30, 100, 45, 6, 2, false, "far");
    tl_params_create(tl_method_find("logreg", -1), &f->lp);
    tl_params_set(f->lp, "C", "1");
}

static void teardown(fixture *f) {
    tl_dataset_free(f->src);
    tl_dataset_free(f->tgt);
    tl_dataset_free(f->test);
    for (int i = 0; i < NSTEP; i++) tl_dataset_free(f->step[i]);
    tl_dataset_free(f->far);
    tl_params_free(f->lp);
}

/* source, the intermediates order[0..n), target (+ test). */
static tl_task *task_of(fixture *f, tl_dataset **inter, size_t n) {
    tl_task *t = NULL;
    size_t ti;
    tl_task_create(&t);
    tl_task_add(t, TL_ROLE_SOURCE, f->src, NULL);
    for (size_t i = 0; i < n; i++) tl_task_add(t, TL_ROLE_INTERMEDIATE, inter[i], NULL);
    tl_task_add(t, TL_ROLE_TARGET, f->tgt, &ti);
    tl_task_set_test(t, ti, f->test);
    return t;
}

TEST(gradual_beats_direct) {
    fixture f;
    setup(&f);
    tl_task *t = task_of(&f, f.step, NSTEP);
    tl_run_opts o = tl_run_opts_default();
    o.learner = f.lp;
    tl_gradual_opts g = tl_gradual_opts_default();
    tl_gradual_report *r = NULL;
    tl_pipeline *pl = NULL;
    CHECK_OK(tl_gradual_run(t, &o, &g, &r, &pl));
    if (r) {
        CHECK_MSG(r->result.accuracy >= 0.95, "gradual %.3f", r->result.accuracy);
        CHECK_MSG(r->source_only.accuracy <= 0.7, "source only %.3f", r->source_only.accuracy);
        CHECK_MSG(r->direct.accuracy <= 0.7, "direct %.3f", r->direct.accuracy);
        CHECK(r->n_steps == NSTEP && r->n_pool == NSTEP && r->n_eval == 200);
        for (size_t i = 0; i < r->n_steps; i++) CHECK(strcmp(r->names[i], tl_dataset_name(f.step[i])) == 0);
        CHECK(r->kept[0] == 180 && r->kept[NSTEP] == 180); /* 90 % of 200 rows */
        for (size_t i = 0; i <= r->n_steps; i++) CHECK(r->hop[i] < r->direct_mmd);
        CHECK(r->guarded && !r->negative_transfer);
        CHECK(fabs(r->gain - (r->result.accuracy - r->source_only.accuracy)) < 1e-12);
        char *txt = NULL, *js = NULL;
        CHECK_OK(tl_gradual_report_text(r, &txt));
        CHECK(txt && strstr(txt, "direct self-training") && strstr(txt, "deg50"));
        CHECK_OK(tl_gradual_report_json(r, "adapt", &js));
        CHECK(js && strstr(js, "\"path\": [\"deg10\"") && strstr(js, "\"direct_accuracy\""));
        tl_free(txt);
        tl_free(js);
    }
    if (r && pl) { /* the pipeline is the final learner: the same labels, after a save too; it
                      has two domains, the source and the target (1), as tl predict reads it */
        int pred[200], pred2[200];
        CHECK(tl_pipeline_domains(pl) == 2);
        CHECK_OK(tl_pipeline_predict(pl, 1, f.test, pred));
        CHECK(memcmp(pred, r->predictions, sizeof pred) == 0);
        char path[128];
        snprintf(path, sizeof path, "/tmp/tl_test_gradual_%d.tlm", (int)getpid());
        CHECK_OK(tl_pipeline_save(pl, path));
        tl_pipeline *p2 = NULL;
        CHECK_OK(tl_pipeline_load(path, &p2));
        if (p2) {
            CHECK_OK(tl_pipeline_predict(p2, 1, f.test, pred2));
            CHECK(memcmp(pred, pred2, sizeof pred) == 0);
        }
        tl_pipeline_free(p2);
        remove(path);
    }
    /* keep = 1 keeps every row */
    tl_gradual_report *r1 = NULL;
    g.keep = 1;
    CHECK_OK(tl_gradual_run(t, &o, &g, &r1, NULL));
    if (r1) CHECK(r1->kept[0] == 200);
    tl_gradual_report_free(r1);
    tl_gradual_report_free(r);
    tl_pipeline_free(pl);
    tl_task_free(t);
    teardown(&f);
}

TEST(pool_path_follows_the_angles) {
    fixture f;
    setup(&f);
    /* shuffled, with the far-off copy in the middle */
    tl_dataset *pool[NSTEP + 1] = {f.step[4], f.step[1], f.step[7], f.far,    f.step[0],
                                   f.step[6], f.step[3], f.step[2], f.step[5]};
    tl_task *t = task_of(&f, pool, NSTEP + 1);
    tl_run_opts o = tl_run_opts_default();
    o.learner = f.lp;
    tl_gradual_opts g = tl_gradual_opts_default();
    g.choose_path = true;
    tl_gradual_report *r = NULL;
    CHECK_OK(tl_gradual_run(t, &o, &g, &r, NULL));
    if (r) {
        CHECK(r->n_pool == NSTEP + 1);
        CHECK_MSG(r->n_steps >= NSTEP / 2, "path of %zu steps", r->n_steps);
        for (size_t i = 0; i < r->n_steps; i++) {
            CHECK_MSG(strcmp(r->names[i], "far") != 0, "the distractor is on the path");
            if (i) CHECK_MSG(strcmp(r->names[i - 1], r->names[i]) < 0, "%s before %s",
                             r->names[i - 1], r->names[i]);
        }
        CHECK_MSG(r->result.accuracy >= 0.95, "gradual along the chosen path %.3f",
                  r->result.accuracy);
    }
    tl_gradual_report_free(r);
    tl_task_free(t);
    teardown(&f);
}

TEST(refusals) {
    fixture f;
    setup(&f);
    tl_run_opts o = tl_run_opts_default();
    o.learner = f.lp;
    tl_gradual_opts g = tl_gradual_opts_default();
    tl_gradual_report *r = NULL;
    tl_task *one = task_of(&f, f.step, 1), *none = task_of(&f, f.step, 0);
    g.choose_path = true;
    CHECK_STATUS(tl_gradual_run(one, &o, &g, &r, NULL), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("at least two");
    CHECK(r == NULL);
    g.choose_path = false;
    CHECK_STATUS(tl_gradual_run(none, &o, &g, &r, NULL), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("intermediate");
    g.keep = 0;
    CHECK_STATUS(tl_gradual_run(one, &o, &g, &r, NULL), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("keep");
    g.keep = 0.9;
    /* preprocessing is fitted (per domain, then on the source) before the walk, and the saved
     * pipeline scales raw target rows as the walk did: its labels are the report's */
    tl_run_opts op = o;
    tl_preprocess_parse("zscore", &op.preprocess);
    for (int on_source = 0; on_source < 2; on_source++) {
        op.preprocess_on_source = on_source;
        tl_pipeline *pp = NULL;
        CHECK_OK(tl_gradual_run(one, &op, &g, &r, &pp));
        if (r && pp) {
            int pred[200];
            CHECK(r->n_eval == 200 && r->result.accuracy > 0.5);
            CHECK_OK(tl_pipeline_predict(pp, 1, f.test, pred));
            CHECK(memcmp(pred, r->predictions, sizeof pred) == 0);
        }
        tl_gradual_report_free(r);
        r = NULL;
        tl_pipeline_free(pp);
    }
    /* a width mismatch names the domain */
    tl_dataset *wide = blob(40, 10, 30, 0, 3, false, "wide");
    tl_dataset *w1[1] = {wide};
    tl_task *tw = task_of(&f, w1, 1);
    CHECK_STATUS(tl_gradual_run(tw, &o, &g, &r, NULL), TL_ERR_SHAPE);
    CHECK_ERR_HAS("wide");
    /* an unlabelled source */
    tl_task *tu = NULL;
    tl_task_create(&tu);
    tl_task_add(tu, TL_ROLE_SOURCE, f.step[0], NULL);
    tl_task_add(tu, TL_ROLE_INTERMEDIATE, f.step[1], NULL);
    tl_task_add(tu, TL_ROLE_TARGET, f.tgt, NULL);
    CHECK_STATUS(tl_gradual_run(tu, &o, &g, &r, NULL), TL_ERR_LABEL);
    CHECK(r == NULL);
    tl_task_free(tu);
    tl_task_free(tw);
    tl_dataset_free(wide);
    tl_task_free(one);
    tl_task_free(none);
    teardown(&f);
}

/* A feature mapping hop by hop (CORAL): along the path it recovers the target, straight from
 * the source it does not; the last hop's pipeline predicts what the run predicted; a method that
 * cannot run unlabelled hop by hop is refused. */
TEST(mapping_hop_by_hop) {
    fixture f;
    setup(&f);
    tl_task *t = task_of(&f, f.step, NSTEP);
    tl_run_opts o = tl_run_opts_default();
    o.learner = f.lp;
    tl_gradual_opts g = tl_gradual_opts_default();
    tl_params *mp = NULL, *bad = NULL;
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &mp));
    g.method = mp;
    tl_gradual_report *r = NULL;
    tl_pipeline *pl = NULL;
    CHECK_OK(tl_gradual_run(t, &o, &g, &r, &pl));
    if (r) {
        CHECK(strcmp(r->method, "coral") == 0);
        CHECK_MSG(r->result.accuracy >= 0.95, "coral hop by hop %.3f", r->result.accuracy);
        CHECK_MSG(r->direct.accuracy <= 0.7, "coral direct %.3f", r->direct.accuracy);
        CHECK(r->kept[0] == 180 && r->kept[NSTEP] == 0);
        char *txt = NULL;
        CHECK_OK(tl_gradual_report_text(r, &txt));
        CHECK(txt && strstr(txt, "direct coral") && strstr(txt, "gradual coral"));
        tl_free(txt);
    }
    if (r && pl) {
        int pred[200];
        CHECK_OK(tl_pipeline_predict(pl, 1, f.test, pred));
        CHECK(memcmp(pred, r->predictions, sizeof pred) == 0);
    }
    tl_gradual_report_free(r);
    r = NULL;
    CHECK_OK(tl_params_create(tl_method_find("kmm", -1), &bad));
    g.method = bad;
    CHECK_STATUS(tl_gradual_run(t, &o, &g, &r, NULL), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("cannot map hop by hop");
    CHECK(r == NULL);
    tl_pipeline_free(pl);
    tl_params_free(mp);
    tl_params_free(bad);
    tl_task_free(t);
    teardown(&f);
}

/* Out of memory at every allocation of a run (the pool path and a hop-by-hop mapping, with the
 * pipeline): it fails cleanly, leaving no output, until the allocations suffice. */
TEST(out_of_memory) {
    tl_dataset *src = blob(1, 15, 0, 0, 2, true, "source"), *tgt = blob(2, 15, 90, 0, 2, true, "t");
    tl_dataset *st3[3] = {blob(3, 15, 30, 0, 2, false, "a"), blob(4, 15, 60, 0, 2, false, "b"),
                          blob(5, 15, 45, 6, 2, false, "far")};
    tl_task *t = NULL;
    tl_task_create(&t);
    tl_task_add(t, TL_ROLE_SOURCE, src, NULL);
    for (int i = 0; i < 3; i++) tl_task_add(t, TL_ROLE_INTERMEDIATE, st3[i], NULL);
    tl_task_add(t, TL_ROLE_TARGET, tgt, NULL);
    tl_params *lp = NULL, *mp = NULL;
    tl_params_create(tl_method_find("logreg", -1), &lp);
    tl_params_set(lp, "C", "1");
    tl_params_create(tl_method_find("coral", -1), &mp);
    tl_run_opts o = tl_run_opts_default();
    o.learner = lp;
    for (int q = 0; q < 3; q++) { /* the pool; a mapping and the learner walked through 'far' */
        tl_gradual_opts g = tl_gradual_opts_default();
        g.choose_path = q == 0;
        g.method = q == 1 ? mp : NULL;
        tl_status st = TL_ERR_NOMEM;
        long k;
        for (k = 0; k < 100000 && st != TL_OK; k++) {
            tl_gradual_report *r = NULL;
            tl_pipeline *pl = NULL;
            oom_left = k;
            tl_allocator_set(&oom_allocator);
            st = tl_gradual_run(t, &o, &g, &r, &pl);
            tl_allocator_set(NULL);
            if (st != TL_OK) CHECK(r == NULL && pl == NULL);
            tl_gradual_report_free(r);
            tl_pipeline_free(pl);
        }
        CHECK_MSG(st == TL_OK, "no success after %ld allocations", k);
        CHECK_MSG(k > 100, "a run that succeeds after only %ld allocations tests little", k);
    }
    tl_params_free(lp);
    tl_params_free(mp);
    tl_task_free(t);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    for (int i = 0; i < 3; i++) tl_dataset_free(st3[i]);
}

int main(void) {
    RUN(gradual_beats_direct);
    RUN(pool_path_follows_the_angles);
    RUN(refusals);
    RUN(mapping_hop_by_hop);
    RUN(out_of_memory);
    return tl_test_summary();
}
