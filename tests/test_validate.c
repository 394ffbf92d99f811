/* Tests of the label-free validation criteria (tl/validate.h) against the numpy versions of their
 * papers' formulas (tests/golden/make_validate.py -> tests/golden/validate.txt), the collapse
 * flag on hand-made predictions, the refusals, and automatic transfer (tl/auto.h) on small
 * synthetic domains: the table, the choice, the fallback and the bad inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_fixture.h"
#include "harness.h"
#include "oom_alloc.h"
#include "tl.h"

static int close_rel(double a, double b, double tol) {
    return fabs(a - b) <= tol * (1 + fabs(b));
}

TEST(criteria_vs_numpy) {
    golden g;
    if (golden_load(&g, "validate.txt") != 0) {
        CHECK(0);
        return;
    }
    const char *tags[] = {"a", "b"};
    for (int t = 0; t < 2; t++) {
        char nm[32];
        snprintf(nm, sizeof nm, "P_%s", tags[t]);
        tl_mat P = gmat(&g, nm);
        tl_criterion c;
        CHECK_OK(tl_validate_entropy(P, NULL, &c));
        snprintf(nm, sizeof nm, "entropy_%s", tags[t]);
        CHECK_MSG(close_rel(c.value, gnum(&g, nm), 1e-12), "%s %.17g vs %.17g", nm, c.value,
                  gnum(&g, nm));
        snprintf(nm, sizeof nm, "top_%s", tags[t]);
        CHECK_NEAR(c.top_share, gnum(&g, nm), 1e-15);
        CHECK(!c.collapsed);
        CHECK_OK(tl_validate_snd(P, TL_SND_TEMPERATURE, NULL, &c));
        snprintf(nm, sizeof nm, "snd_%s", tags[t]);
        CHECK_MSG(close_rel(c.value, gnum(&g, nm), 1e-10), "%s %.17g vs %.17g", nm, c.value,
                  gnum(&g, nm));
        CHECK_OK(tl_validate_snd(P, 1.0, NULL, &c));
        snprintf(nm, sizeof nm, "snd1_%s", tags[t]);
        CHECK_MSG(close_rel(c.value, gnum(&g, nm), 1e-10), "%s %.17g vs %.17g", nm, c.value,
                  gnum(&g, nm));
    }
    tl_mat L = gmat(&g, "loss"), W = gmat(&g, "w");
    size_t m = L.cols * L.rows;
    int pred[4] = {1, 2, 3, 1};
    tl_criterion c;
    CHECK_OK(tl_validate_iwcv(L.data, W.data, m, pred, 4, &c));
    CHECK_MSG(close_rel(c.value, gnum(&g, "iwcv"), 1e-12), "iwcv %.17g vs %.17g", c.value,
              gnum(&g, "iwcv"));
    CHECK_NEAR(c.top_share, 0.5, 0);
    CHECK(!c.collapsed); /* exactly half is not "most" */
    CHECK_OK(tl_validate_dev(L.data, W.data, m, pred, 4, &c));
    CHECK_MSG(close_rel(c.value, gnum(&g, "dev"), 1e-10), "dev %.17g vs %.17g", c.value,
              gnum(&g, "dev"));
    golden_free(&g);
}

/* The MixVal test's candidate: argmax of X W, W (d, k) a golden matrix. */
static int linear_predict(void *user, tl_mat X, int *pred) {
    const tl_mat *W = user;
    for (size_t i = 0; i < X.rows; i++) {
        double best = -INFINITY;
        for (size_t c = 0; c < W->cols; c++) {
            double v = 0;
            for (size_t j = 0; j < X.cols; j++) v += X.data[i * X.ld + j] * W->data[j * W->ld + c];
            if (v > best) {
                best = v;
                pred[i] = (int)c;
            }
        }
    }
    return 0;
}

TEST(mixval_vs_numpy) {
    golden g;
    if (golden_load(&g, "validate.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Z = gmat(&g, "mix_Z"), W = gmat(&g, "mix_W"), P = gmat(&g, "mix_partner");
    size_t n = Z.rows, partner[64];
    int pred[64];
    CHECK(n <= 64 && P.rows * P.cols == n);
    linear_predict(&W, Z, pred);
    for (size_t i = 0; i < n && i < 64; i++) partner[i] = (size_t)P.data[i];
    tl_criterion c;
    CHECK_OK(tl_validate_mixval(Z, pred, partner, 0.55, linear_predict, &W, &c));
    CHECK_MSG(fabs(c.value - gnum(&g, "mixval")) < 1e-12, "mixval %.17g vs %.17g", c.value,
              gnum(&g, "mixval"));
    CHECK(c.value > 0 && c.value < 1); /* the fixture has misses of both kinds */
    CHECK(tl_validate_mixval(Z, pred, partner, 0.5, linear_predict, &W, &c) == TL_ERR_INVALID_ARG);
    partner[0] = n;
    CHECK(tl_validate_mixval(Z, pred, partner, 0.55, linear_predict, &W, &c) == TL_ERR_INVALID_ARG);
    golden_free(&g);
}

/* The class-aware collapse threshold (1 + 1/k) / 2: 0.75 with 2 classes, 0.55 with 10; never
 * below TL_COLLAPSE_SHARE. */
TEST(collapse_share_by_classes) {
    CHECK_NEAR(tl_validate_collapse_share(2), 0.75, 1e-15);
    CHECK_NEAR(tl_validate_collapse_share(10), 0.55, 1e-15);
    CHECK_NEAR(tl_validate_collapse_share(1), 1.0, 1e-15);
    CHECK(tl_validate_collapse_share(1000) >= TL_COLLAPSE_SHARE);
    CHECK(tl_validate_collapse_share(0) == 1.0);
}

TEST(criteria_hand_cases) {
    /* uniform probabilities: entropy log k; one-hot rows of a single class: entropy 0, collapsed */
    double u[3 * 4], o[3 * 4] = {0};
    for (int i = 0; i < 12; i++) u[i] = 0.25;
    for (int i = 0; i < 3; i++) o[i * 4 + 2] = 1;
    tl_criterion c;
    CHECK_OK(tl_validate_entropy(tl_mat_view(u, 3, 4), NULL, &c));
    CHECK_NEAR(c.value, log(4.0), 1e-15);
    CHECK_OK(tl_validate_entropy(tl_mat_view(o, 3, 4), NULL, &c));
    CHECK_NEAR(c.value, 0, 0);
    CHECK(c.collapsed && c.top_share == 1);
    int pred[3] = {0, 1, 2}; /* the labels given decide the collapse, not P's argmax */
    CHECK_OK(tl_validate_entropy(tl_mat_view(o, 3, 4), pred, &c));
    CHECK(!c.collapsed);
    /* SND of identical rows: every other row equally near, entropy log(n - 1) */
    CHECK_OK(tl_validate_snd(tl_mat_view(o, 3, 4), 0.05, NULL, &c));
    CHECK_NEAR(c.value, log(2.0), 1e-12);
    /* DEV with constant weights: the control variate vanishes, DEV = IWCV = w * mean loss */
    double l[3] = {1, 2, 3}, w[3] = {2, 2, 2};
    CHECK_OK(tl_validate_dev(l, w, 3, NULL, 0, &c));
    CHECK_NEAR(c.value, 4, 1e-15);
    CHECK(!c.collapsed);
    /* refusals */
    double bad[2] = {0.5, NAN};
    CHECK(tl_validate_entropy(tl_mat_view(bad, 1, 2), NULL, &c) == TL_ERR_INVALID_ARG);
    CHECK(strstr(tl_error_message(), "entropy") != NULL);
    CHECK(tl_validate_snd(tl_mat_view(u, 1, 4), 0.05, NULL, &c) == TL_ERR_INVALID_ARG);
    CHECK(tl_validate_snd(tl_mat_view(u, 3, 4), 0, NULL, &c) == TL_ERR_INVALID_ARG);
    double wn[3] = {1, -1, 1};
    CHECK(tl_validate_iwcv(l, wn, 3, NULL, 0, &c) == TL_ERR_INVALID_ARG);
    CHECK(tl_validate_dev(l, w, 0, NULL, 0, &c) == TL_ERR_INVALID_ARG);
    CHECK_NEAR(tl_validate_top_share(NULL, 0), 0, 0);
}

/* ---- automatic transfer on small synthetic domains ---- */

/* n rows of 3 classes in d = 6 columns: class c centred at 3 e_c, plus `shift` on every column
 * and a scale of the last three columns (the domain shift). */
static tl_dataset *blobs(size_t n, double shift, double scale, uint64_t seed, size_t d) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    double *x = malloc(n * d * sizeof *x);
    int *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % 3);
        for (size_t j = 0; j < d; j++) {
            double v = tl_rng_normal(&r) + shift + (j == (size_t)y[i] ? 3 : 0);
            x[i * d + j] = j >= 3 ? v * scale : v;
        }
    }
    tl_dataset *ds = NULL;
    tl_status st = tl_dataset_from_dense(tl_mat_view(x, n, d), y, &ds);
    free(x);
    free(y);
    return st == TL_OK ? ds : NULL;
}

static tl_auto_opts small_opts(const tl_ctx *ctx) {
    tl_auto_opts o = tl_auto_opts_default();
    o.budget = 60; /* far more than these small domains need: every candidate runs */
    o.grid = 2;
    o.ctx = ctx;
    return o;
}

/* tl auto on one source with small_opts, keeping the chosen pipeline. */
static tl_status auto_small(tl_dataset *s, tl_dataset *t, tl_auto_result **r, tl_pipeline **p) {
    tl_ctx ctx = tl_ctx_default();
    tl_auto_opts o = small_opts(&ctx);
    return tl_auto_run(&s, 1, t, &o, r, p);
}

/* The common reverse validation by hand: logistic regression (C = 1) on the target's rows with
 * the labels pred, its accuracy on the source's labels (NaN when it fails). */
static double crv_by_hand(const tl_dataset *s, const tl_dataset *t, const int *pred) {
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    lp.C = 1;
    lp.max_iter = 200;
    tl_learner *l = NULL;
    size_t ns = tl_dataset_rows(s), hit = 0;
    int *ps = malloc(ns * sizeof *ps);
    double v = NAN;
    if (ps && tl_learner_create(&lp, &l) == TL_OK &&
        tl_learner_fit(l, tl_dataset_features(t), pred, NULL) == TL_OK &&
        tl_learner_predict(l, tl_dataset_features(s), ps) == TL_OK) {
        for (size_t i = 0; i < ns; i++) hit += ps[i] == tl_dataset_labels_const(s)[i];
        v = (double)hit / (double)ns;
    }
    tl_learner_free(l);
    free(ps);
    return v;
}

TEST(auto_chooses_among_eligible) {
    tl_dataset *s = blobs(90, 0, 1, 1, 6), *t = blobs(60, 0.8, 1.8, 2, 6);
    tl_auto_result *r = NULL;
    tl_pipeline *p = NULL;
    CHECK_OK(auto_small(s, t, &r, &p));
    if (!r || !p) goto done;
    CHECK(r->n >= 10); /* no transfer + the registry's methods + grid variants */
    CHECK(strcmp(r->cand[0].method, "none") == 0 && !r->cand[0].params);
    CHECK(!r->budget_too_small && r->skipped == 0);
    bool variants = false;
    for (size_t i = 0; i < r->n; i++) {
        const tl_auto_candidate *c = &r->cand[i];
        variants |= c->rung == 1;
        for (int k = 0; k < TL_CRIT_COUNT; k++)
            CHECK_MSG(isfinite(c->crit[k]), "%s: %s not measured", c->label, tl_criterion_name(k));
        CHECK(isfinite(c->accuracy)); /* the target carries labels: scored, not used */
        CHECK(c->collapsed == (c->top_share > TL_COLLAPSE_SHARE));
        CHECK(!c->harmful || isnan(c->score));
        if (!c->harmful) CHECK(c->score >= 0 && c->score <= 1);
    }
    CHECK(variants);
    const tl_auto_candidate *ch = &r->cand[r->chosen];
    CHECK(!ch->harmful && !ch->collapsed);
    for (size_t i = 0; i < r->n; i++)
        if (!r->cand[i].harmful) CHECK(r->cand[i].score <= ch->score);
    /* the report and the pipeline are the chosen candidate's */
    CHECK(strcmp(r->report->method, ch->method) == 0);
    CHECK_NEAR(r->report->result.accuracy, ch->accuracy, 1e-12);
    int *pred = malloc(tl_dataset_rows(t) * sizeof *pred);
    CHECK_OK(tl_pipeline_predict(p, 1, t, pred));
    CHECK(memcmp(pred, r->report->predictions, tl_dataset_rows(t) * sizeof *pred) == 0);
    /* the common reverse validation, by hand: logistic regression (C = 1) on the target rows
     * (no scaling here: the common space is the input) with the chosen candidate's labels,
     * scored on the source's labels */
    size_t ns = tl_dataset_rows(s);
    CHECK_NEAR(ch->crit[TL_CRIT_CRV], crv_by_hand(s, t, pred), 1e-12);
    /* the harm check: a candidate more than two standard errors below no transfer's common
     * reverse validation is harmful, never chosen */
    double c0 = r->cand[0].crit[TL_CRIT_CRV], se = sqrt(c0 * (1 - c0) / (double)ns);
    for (size_t i = 1; i < r->n; i++)
        if (r->cand[i].crit[TL_CRIT_CRV] < c0 - 2 * se) CHECK(r->cand[i].harmful);
    free(pred);
done:
    tl_auto_result_free(r);
    tl_pipeline_free(p);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

/* n rows of 3 classes in 40 columns, mostly zeros (as bag-of-words counts): column y at 2 plus
 * noise, and two columns at 1 drawn from [3, 3 + span) (the domain shift: the target's span
 * differs). 3 non-zeros in 40: sparse enough for tl auto's probes to take the rows as CSR. */
static tl_dataset *sparse_blobs(size_t n, size_t span, uint64_t seed) {
    const size_t d = 40;
    tl_rng r;
    tl_rng_seed(&r, seed);
    double *x = calloc(n * d, sizeof *x);
    int *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % 3);
        x[i * d + (size_t)y[i]] = 2 + 0.3 * tl_rng_normal(&r);
        for (int k = 0; k < 2; k++) x[i * d + 3 + tl_rng_below(&r, span)] = 1;
    }
    tl_dataset *ds = NULL;
    tl_status st = tl_dataset_from_dense(tl_mat_view(x, n, d), y, &ds);
    free(x);
    free(y);
    return st == TL_OK ? ds : NULL;
}

/* On sparse rows the probes run on a CSR copy: the common reverse validation must still be the
 * dense logistic regression's (up to the L-BFGS stopping point), every criterion measured. */
TEST(auto_sparse_rows) {
    tl_dataset *s = sparse_blobs(90, 30, 5), *t = sparse_blobs(60, 20, 6);
    tl_auto_result *r = NULL;
    tl_pipeline *p = NULL;
    CHECK_OK(auto_small(s, t, &r, &p));
    if (!r || !p) goto done;
    for (size_t i = 0; i < r->n; i++)
        for (int k = 0; k < TL_CRIT_COUNT; k++)
            CHECK_MSG(isfinite(r->cand[i].crit[k]), "%s: %s not measured", r->cand[i].label,
                      tl_criterion_name(k));
    /* the chosen candidate's common reverse validation, by hand on the dense rows; one source
     * row may fall the other way */
    CHECK_NEAR(r->cand[r->chosen].crit[TL_CRIT_CRV], crv_by_hand(s, t, r->report->predictions),
               1.5 / (double)tl_dataset_rows(s));
done:
    tl_auto_result_free(r);
    tl_pipeline_free(p);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

TEST(auto_budget_sources_and_refusals) {
    tl_dataset *s = blobs(60, 0, 1, 1, 6), *far = blobs(60, 6, 4, 3, 6),
               *t = blobs(45, 0.5, 1.5, 2, 6);
    tl_ctx ctx = tl_ctx_default();
    tl_auto_opts o = small_opts(&ctx);
    tl_auto_result *r = NULL;
    /* budget 0: no transfer alone, said so */
    o.budget = 0;
    CHECK_OK(tl_auto_run(&s, 1, t, &o, &r, NULL));
    if (r) {
        CHECK(r->budget_too_small && r->n == 1 && r->chosen == 0 && r->skipped > 0);
        CHECK(strcmp(r->report->method, "none") == 0);
    }
    tl_auto_result_free(r);
    r = NULL;
    /* two sources: the near one is chosen (MMD), whichever comes first */
    tl_dataset *two[2] = {far, s};
    o.budget = 60;
    o.grid = 0;
    CHECK_OK(tl_auto_run(two, 2, t, &o, &r, NULL));
    if (r) {
        CHECK(r->n_sources == 2 && r->source == 1 && r->source_scores);
        CHECK(r->source_scores && r->source_scores[1].rank == 1 && r->source_scores[0].rank == 2);
        for (size_t i = 0; i < r->n; i++) CHECK(r->cand[i].rung == 0); /* grid 0: defaults */
    }
    tl_auto_result_free(r);
    r = NULL;
    /* a target with no rows; sources of different widths */
    tl_dataset *empty = NULL, *narrow = blobs(30, 0, 1, 4, 5);
    double none[1] = {0};
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(none, 0, 6), NULL, &empty));
    CHECK(tl_auto_run(&s, 1, empty, &o, &r, NULL) == TL_ERR_INVALID_ARG && !r);
    CHECK(strstr(tl_error_message(), "no rows") != NULL);
    tl_dataset *mixed[2] = {s, narrow};
    CHECK(tl_auto_run(mixed, 2, t, &o, &r, NULL) == TL_ERR_INVALID_ARG && !r);
    CHECK_MSG(strstr(tl_error_message(), "5 features") != NULL, "%s", tl_error_message());
    o.budget = NAN;
    CHECK(tl_auto_run(&s, 1, t, &o, &r, NULL) == TL_ERR_INVALID_ARG && !r);
    tl_dataset_free(empty);
    tl_dataset_free(narrow);
    tl_dataset_free(s);
    tl_dataset_free(far);
    tl_dataset_free(t);
}

/* A network (opts.net) adds the network candidates: the network trained on the source alone
 * (DANN, lambda 0) and DANN, DAN and Deep CORAL at the middle of their lambda grids, then other
 * grid values of the better ones; each scored by the criteria in its embedding (reverse
 * validation, the guard's, not measured), and the caller's network left as it was. */
TEST(auto_network_candidates) {
    tl_dataset *s = blobs(60, 0, 1, 1, 6), *t = blobs(45, 0.5, 1.5, 2, 6);
    tl_nn *net = NULL;
    tl_params *np = NULL;
    int labels[3] = {0, 1, 2};
    CHECK_OK(tl_nn_create("dense:8,relu,dense:3", 6, 1, 1, 1, &net));
    CHECK_OK(tl_nn_set_labels(net, labels, 3));
    CHECK_OK(tl_params_create(tl_method_find("deep-da", TL_FAMILY_MODEL), &np));
    CHECK_OK(tl_params_set(np, "epochs", "2"));
    const char *wname;
    size_t nd;
    const size_t *dims;
    float *w0, before;
    bool tr;
    tl_nn_tensor(net, 0, &wname, &nd, &dims, &w0, &tr);
    before = w0[0];
    tl_ctx ctx = tl_ctx_default();
    tl_auto_opts o = small_opts(&ctx);
    o.net = net;
    o.net_params = np;
    o.grid = 1;
    tl_auto_result *r = NULL;
    tl_pipeline *p = NULL;
    CHECK_OK(tl_auto_run(&s, 1, t, &o, &r, &p));
    size_t rung0 = 0, rung1 = 0, source_only = 0, adapt_ok = 0;
    for (size_t i = 0; r && i < r->n; i++) {
        const tl_auto_candidate *c = &r->cand[i];
        if (strcmp(c->method, "deep-da") != 0) continue;
        rung0 += c->rung == 0;
        rung1 += c->rung == 1;
        adapt_ok += c->rung == 0 && !c->harmful && strstr(c->label, "lambda=0 ") == NULL;
        source_only += strcmp(c->label, "deep-da da=dann lambda=0 epochs=2") == 0;
        CHECK_MSG(isfinite(c->crit[TL_CRIT_ENTROPY]) && isfinite(c->crit[TL_CRIT_SND]) &&
                      isfinite(c->crit[TL_CRIT_IWCV]) && isfinite(c->crit[TL_CRIT_DEV]) &&
                      isfinite(c->crit[TL_CRIT_CRV]) && isfinite(c->crit[TL_CRIT_MIXVAL]),
                  "%s: a criterion not measured", c->label);
        CHECK(isnan(c->crit[TL_CRIT_RV]));
        CHECK(isfinite(c->accuracy) && c->accuracy >= 0 && c->accuracy <= 1);
        CHECK(c->harmful || isfinite(c->score));
    }
    CHECK_MSG(rung0 == 4 && source_only == 1, "%zu network candidates at rung 0", rung0);
    CHECK_MSG(rung1 >= 1 || adapt_ok == 0, "no lambda variant of a network candidate ran");
    CHECK(w0[0] == before); /* the caller's network is not trained */
    if (r && p) { /* the chosen pipeline, network or not, predicts the target as reported */
        size_t nt = tl_dataset_rows(t), same = 0;
        int *pred = malloc(nt * sizeof *pred);
        CHECK_OK(tl_pipeline_predict(p, 1, t, pred));
        for (size_t i = 0; i < nt; i++) same += pred[i] == r->report->predictions[i];
        CHECK_MSG(same == nt, "%s: %zu of %zu predictions as reported", r->cand[r->chosen].label,
                  same, nt);
        free(pred);
    }
    tl_auto_result_free(r);
    tl_pipeline_free(p);
    tl_params_free(np);
    tl_nn_free(net);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

/* Out of memory at every allocation of the criteria and of a whole automatic run: a clean
 * TL_ERR_NOMEM (never a crash, never a half-made result), and success once memory suffices. */
TEST(out_of_memory) {
    golden g;
    if (golden_load(&g, "validate.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat P = gmat(&g, "P_a"), Z = gmat(&g, "mix_Z"), W = gmat(&g, "mix_W");
    size_t partner[64];
    int pred[64];
    for (size_t i = 0; i < Z.rows; i++) partner[i] = (i + 1) % Z.rows;
    linear_predict(&W, Z, pred);
    tl_criterion c;
    int ok_at[3] = {-1, -1, -1};
    for (long k = 0; k < 50; k++) {
        oom_left = k;
        tl_allocator_set(&oom_allocator);
        tl_status s1 = tl_validate_entropy(P, NULL, &c), s2 = tl_validate_snd(P, 0.05, NULL, &c),
                  s3 = tl_validate_mixval(Z, pred, partner, 0.55, linear_predict, &W, &c);
        tl_allocator_set(NULL);
        tl_status s[3] = {s1, s2, s3};
        for (int q = 0; q < 3; q++) {
            CHECK(s[q] == TL_OK || s[q] == TL_ERR_NOMEM);
            if (s[q] == TL_OK && ok_at[q] < 0) ok_at[q] = (int)k;
        }
    }
    CHECK(ok_at[0] >= 0 && ok_at[1] >= 1 && ok_at[2] >= 1); /* each allocates and then succeeds */
    golden_free(&g);
    /* a whole run, small: every allocation count up to success */
    tl_dataset *s = blobs(30, 0, 1, 1, 6), *t = blobs(24, 0.5, 1.5, 2, 6);
    tl_ctx ctx = tl_ctx_default();
    tl_auto_opts o = small_opts(&ctx);
    o.grid = 1;
    bool done_ok = false;
    for (long k = 0; k < 200000 && !done_ok; k += 1 + k / 8) {
        tl_auto_result *r = NULL;
        oom_left = k;
        tl_allocator_set(&oom_allocator);
        tl_status st = tl_auto_run(&s, 1, t, &o, &r, NULL);
        tl_allocator_set(NULL);
        CHECK_MSG(st == TL_OK || st == TL_ERR_NOMEM, "status %d at %ld: %s", (int)st, k,
                  tl_error_message());
        CHECK(st == TL_OK ? r != NULL : r == NULL);
        done_ok = st == TL_OK;
        tl_auto_result_free(r);
    }
    CHECK(done_ok);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

int main(void) {
    RUN(criteria_vs_numpy);
    RUN(criteria_hand_cases);
    RUN(collapse_share_by_classes);
    RUN(mixval_vs_numpy);
    RUN(auto_chooses_among_eligible);
    RUN(auto_sparse_rows);
    RUN(auto_budget_sources_and_refusals);
    RUN(auto_network_candidates);
    RUN(out_of_memory);
    return tl_test_summary();
}
