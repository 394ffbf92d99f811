/* Automatic transfer (tl/auto.h): candidates from the registry, successive halving over a time
 * budget, label-free scoring (tl/validate.h + the guard's reverse validation), a rank-mean
 * combination that never picks a collapsed or harmful candidate, and the fallback to no transfer.
 *
 * Why this shape: every candidate runs through tl_transfer_run, the one protocol, so a method added
 * to the registry joins the search with no change here; its parameters' grid strings give the
 * variants. The criteria are computed with a probe - logistic regression (C = 1) on the
 * candidate's source rows in its own space - because the user's learner is often 1-NN, whose
 * one-hot votes carry no entropy or density; the collapse and reverse validation judge the
 * user's learner itself. Ranks rather than raw values are averaged: the criteria live on
 * different scales (nats, log-losses, accuracies) and a rank is robust to one criterion's
 * outlier. The held-out source losses come from 2 folds of the source (IWCV / DEV need rows the
 * probe did not train on); the importance weights from a domain classifier in the candidate's
 * space, as DEV prescribes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/check.h"
#include "internal/util.h"
#include "pipeline_internal.h"
#include "tl/auto.h"
#include "tl/instance.h"
#include "tl/json.h"
#include "tl/validate.h"
#include "tl/nn.h"

static const char *const crit_names[TL_CRIT_COUNT] = {"entropy", "snd", "iwcv", "dev", "rv",
                                                              "mixval", "crv"};
const char *tl_criterion_name(int c) {
    return c >= 0 && c < TL_CRIT_COUNT ? crit_names[c] : "unknown";
}
bool tl_criterion_higher_better(int c) {
    return c == TL_CRIT_SND || c == TL_CRIT_RV || c == TL_CRIT_MIXVAL || c == TL_CRIT_CRV;
}

tl_auto_opts tl_auto_opts_default(void) {
    tl_auto_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.budget = 60;
    o.grid = 4;
    o.criteria = TL_CRIT_DEFAULT_MASK;
    return o;
}

void tl_auto_result_free(tl_auto_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) tl_params_free(r->cand[i].params);
    tl_free(r->cand);
    tl_free(r->source_scores);
    tl_report_free(r->report);
    tl_free(r);
}

/* The budget's clock: wall-clock seconds, or the process's CPU seconds (every thread). */
static double clock_now(bool cpu) {
    struct timespec ts;
    if (cpu && clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    return tli_seconds();
}

/* ---- the probe: held-out source losses, importance weights, target probabilities ---- */

static tl_status probe_fit(tl_mat X, bool sparse, const int *y, const double *w,
                           const size_t *rows, size_t m, tl_learner **out) {
    tl_status st;
    tl_mat A = {0};
    tlx_csr C = {0};
    int *ya = NULL;
    double *wa = NULL;
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    lp.C = 1;
    lp.max_iter = 200;
    if (sparse)
        TL_TRY(tlx_csr_rows(X, rows, m, &C));
    else
        TL_TRY(tl_mat_alloc(&A, m, X.cols));
    TL_ALLOC(ya, m);
    if (w) TL_ALLOC(wa, m);
    for (size_t i = 0; i < m; i++) {
        size_t r = rows ? rows[i] : i;
        if (!sparse) memcpy(A.data + i * A.ld, X.data + r * X.ld, X.cols * sizeof(double));
        ya[i] = y[r];
        if (w) wa[i] = w[r];
    }
    TL_TRY(tl_learner_create(&lp, out));
    st = tl_learner_fit(*out, sparse ? C.X : tl_xmat_from_dense(A), ya, wa);
    if (st != TL_OK) {
        tl_learner_free(*out);
        *out = NULL;
    }
done:
    tl_mat_free(&A);
    tlx_csr_free(&C);
    tl_free(ya);
    tl_free(wa);
    return st;
}

typedef struct {
    tl_mat Zs, Zt, P;    /* source and target rows in the candidate's space; P (nt, k) */
    double *loss, *dr;   /* (ns) held-out log-loss, importance weights */
    double mixval;       /* MixVal of the probe on the target rows */
} probe;

/* MixVal's predictor: the probe learner, keeping its status so that a failure inside it (out of
 * memory, say) is returned as itself rather than as MixVal's "the predictor failed". */
typedef struct {
    tl_learner *l;
    tl_status st;
} probe_user;

static int probe_predict(void *user, tl_mat X, int *pred) {
    probe_user *u = user;
    u->st = tl_learner_predict(u->l, tl_xmat_from_dense(X), pred);
    return u->st != TL_OK;
}

static void probe_free(probe *p) {
    tl_mat_free(&p->Zs);
    tl_mat_free(&p->Zt);
    tl_mat_free(&p->P);
    tl_free(p->loss);
    tl_free(p->dr);
}

static bool mat_same(tl_mat A, tl_mat B) {
    if (!A.data || !B.data || A.rows != B.rows || A.cols != B.cols) return false;
    for (size_t i = 0; i < A.rows; i++)
        if (memcmp(A.data + i * A.ld, B.data + i * B.ld, A.cols * sizeof(double))) return false;
    return true;
}

/* The probe in the candidate's space. cs, ct, cdr: the common (no-transfer) space and its
 * importance weights, reused when the candidate's space is that one (an instance weighting: the
 * same domain classifier on the same rows with the same seed would give the same weights);
 * cdr NULL before they exist. */
static tl_status probe_run(const tl_pipeline *pipe, size_t si, const tl_dataset *src, size_t ti,
                           const tl_dataset *tgt, const double *w, uint64_t seed, tl_mat cs,
                           tl_mat ct, const double *cdr, probe *p) {
    tl_status st;
    tl_learner *l = NULL;
    size_t *perm = NULL, *rows = NULL;
    tl_mat S = {0};
    tlx_csr Ct = {0};
    const int *ys = tl_dataset_labels_const(src);
    if (!p->Zs.data) { /* a network candidate comes with its embedding */
        TL_TRY(tl_pipeline_transform(pipe, si, src, &p->Zs));
        TL_TRY(tl_pipeline_transform(pipe, ti, tgt, &p->Zt));
    }
    size_t ns = p->Zs.rows, nt = p->Zt.rows;
    TL_ALLOC(p->loss, ns);
    TL_ALLOC(p->dr, ns);
    /* importance weights p_t / p_s from a domain classifier in this space (mean 1) */
    if (cdr && mat_same(p->Zs, cs) && mat_same(p->Zt, ct)) {
        memcpy(p->dr, cdr, ns * sizeof *p->dr);
    } else {
        tl_weight_params wp = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
        wp.seed = seed;
        TL_TRY(tl_weights_fit(&wp, tl_xmat_from_dense(p->Zs), tl_xmat_from_dense(p->Zt),
                              p->dr));
    }
    /* sparse rows (bag-of-words counts): the probes take them as CSR */
    bool sparse = tlx_csr_worth(p->Zs) && tlx_csr_worth(p->Zt);
    if (sparse) TL_TRY(tlx_csr_rows(p->Zt, NULL, nt, &Ct));
    tl_xmat Xt = sparse ? Ct.X : tl_xmat_from_dense(p->Zt);
    /* 2 folds of the source: each half scored by the probe trained on the other */
    TL_ALLOC(perm, ns);
    TL_ALLOC(rows, ns);
    for (size_t i = 0; i < ns; i++) perm[i] = i;
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    tl_rng_shuffle(&rng, perm, ns);
    for (int f = 0; f < 2; f++) {
        size_t m = 0;
        for (size_t i = 0; i < ns; i++)
            if ((int)(i % 2) != f) rows[m++] = perm[i];
        TL_TRY(probe_fit(p->Zs, sparse, ys, w, rows, m, &l));
        size_t k = tl_learner_nclasses(l);
        const int *cl = tl_learner_classes(l);
        TL_TRY(tl_mat_alloc(&S, 1, k));
        for (size_t i = 0; i < ns; i++) {
            if ((int)(i % 2) != f) continue;
            size_t r = perm[i];
            TL_TRY(tl_learner_scores(l, tl_xmat_from_dense(tl_mat_rows(p->Zs, r, 1)), S));
            double pr = 1e-12;
            for (size_t j = 0; j < k; j++)
                if (cl[j] == ys[r] && S.data[j] > pr) pr = S.data[j];
            p->loss[r] = -log(pr);
        }
        tl_mat_free(&S);
        tl_learner_free(l);
        l = NULL;
    }
    TL_TRY(probe_fit(p->Zs, sparse, ys, w, NULL, ns, &l));
    TL_TRY(tl_mat_alloc(&p->P, nt, tl_learner_nclasses(l)));
    TL_TRY(tl_learner_scores(l, Xt, p->P));
    /* MixVal: the probe's own target predictions as pseudo-labels, partners a seeded shuffle */
    if (nt >= 2) {
        int *pt = NULL;
        size_t *partner = NULL;
        tl_criterion cr;
        pt = tl_malloc(nt * sizeof *pt);
        partner = tl_malloc(nt * sizeof *partner);
        st = pt && partner ? tl_learner_predict(l, Xt, pt)
                           : tl_fail(TL_ERR_NOMEM, "out of memory for MixVal");
        if (st == TL_OK) {
            for (size_t i = 0; i < nt; i++) partner[i] = i;
            tl_rng_shuffle(&rng, partner, nt);
            probe_user pu = {l, TL_OK};
            st = tl_validate_mixval(p->Zt, pt, partner, 0.55, probe_predict, &pu, &cr);
            if (st != TL_OK && pu.st != TL_OK) st = pu.st; /* the message names both */
            p->mixval = st == TL_OK ? cr.value : NAN;
        }
        tl_free(pt);
        tl_free(partner);
        if (st != TL_OK) goto done;
    }
done:
    tl_learner_free(l);
    tl_mat_free(&S);
    tlx_csr_free(&Ct);
    tl_free(perm);
    tl_free(rows);
    return st;
}

/* ---- candidates ---- */

typedef struct {
    tl_auto_result *r;
    size_t cap;
    bool cpu; /* the budget's clock */
    double rv_before; /* reverse validation without transfer (the guard's, from the first
                         guarded candidate): no transfer's own RV */
    const tl_dataset *test; /* labelled held-out target rows scoring `accuracy`, or NULL */
    tl_mat Xs, Xt;      /* the common space: source and target rows as no transfer sees them */
    double *dr;         /* (Xs.rows) the importance weights of the common space */
    tlx_csr Cs, Ct;     /* Xs and Xt as CSR when they are sparse (Cs.indptr NULL: dense) */
    double crv_none, crv_se; /* no transfer's common reverse validation and its standard error */
    tl_report **reps;   /* (cap) every candidate's report and fitted pipeline, kept so that the */
    tl_pipeline **pipes; /* chosen one is not refitted (its cost would fall outside the budget) */
    tl_task *ntask;     /* the task with the network (opts.net) for the network candidates */
    double net_rate;    /* network candidates: seconds per row and epoch (0: none run yet) */
    double crv_net, crv_net_se; /* the source-only network's crv and its standard error (NaN:
                                   not run): the network adaptations' harm check */
    tlx_run_cache rc;   /* the baseline and the guard's original-space half, the same for every
                           candidate: computed by the first one that uses them */
    int **crv_pred;     /* (n_crv) the distinct target labelings crv has scored, and */
    double *crv_val;    /* their values: a labeling seen before (every weighting under 1-NN, */
    size_t n_crv;       /* which ignores weights, labels as no transfer does) is not refitted */
} table;

static tl_status table_push(table *t, tl_auto_candidate **c) {
    tl_status st = TL_OK;
    if (t->r->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        tl_auto_candidate *g = tl_realloc(t->r->cand, cap * sizeof *g);
        TL_CHECK(g, TL_ERR_NOMEM, "out of memory growing the candidate table");
        t->r->cand = g;
        tl_report **gr = tl_realloc(t->reps, cap * sizeof *gr);
        TL_CHECK(gr, TL_ERR_NOMEM, "out of memory growing the candidate table");
        t->reps = gr;
        tl_pipeline **gp = tl_realloc(t->pipes, cap * sizeof *gp);
        TL_CHECK(gp, TL_ERR_NOMEM, "out of memory growing the candidate table");
        t->pipes = gp;
        for (size_t i = t->cap; i < cap; i++) t->reps[i] = NULL, t->pipes[i] = NULL;
        t->cap = cap;
    }
    *c = &t->r->cand[t->r->n++];
    memset(*c, 0, sizeof **c);
    for (int k = 0; k < TL_CRIT_COUNT; k++) (*c)->crit[k] = NAN;
    (*c)->score = (*c)->accuracy = (*c)->top_share = NAN;
done:
    return st;
}

/* Common reverse validation: a probe (logistic regression, C = 1) trained on the target rows Xt
 * with the candidate's predicted labels pred, scored on the labelled source rows Xs. Xs and Xt
 * are the same for every candidate (the no-transfer space), so the values compare across
 * candidates, where the criteria computed in each candidate's own space (a 5000-d count space
 * beside a 30-d projection) do not. A labeling that puts one class everywhere scores the share
 * of that class in the source. */
static tl_status common_rv(tl_xmat Xs, const int *ys, tl_xmat Xt, const int *pred, double *out) {
    tl_status st = TL_OK;
    tl_learner *l = NULL;
    int *ps = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), hit = 0;
    bool one = true;
    for (size_t i = 1; i < nt; i++) one = one && pred[i] == pred[0];
    if (one) {
        for (size_t i = 0; i < ns; i++) hit += nt && ys[i] == pred[0];
    } else {
        tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
        lp.C = 1;
        lp.max_iter = 200;
        TL_ALLOC(ps, ns);
        TL_TRY(tl_learner_create(&lp, &l));
        TL_TRY(tl_learner_fit(l, Xt, pred, NULL));
        TL_TRY(tl_learner_predict(l, Xs, ps));
        for (size_t i = 0; i < ns; i++) hit += ps[i] == ys[i];
    }
    *out = ns ? (double)hit / (double)ns : NAN;
done:
    tl_learner_free(l);
    tl_free(ps);
    return st;
}

/* Keeps a labeling crv has scored and its value (table.crv_pred). */
static tl_status crv_remember(table *t, const int *pred, size_t nt, double crv) {
    tl_status st = TL_OK;
    int **gp = tl_realloc(t->crv_pred, (t->n_crv + 1) * sizeof *gp);
    TL_CHECK(gp, TL_ERR_NOMEM, "out of memory keeping a labeling");
    t->crv_pred = gp;
    double *gv = tl_realloc(t->crv_val, (t->n_crv + 1) * sizeof *gv);
    TL_CHECK(gv, TL_ERR_NOMEM, "out of memory keeping a labeling");
    t->crv_val = gv;
    TL_ALLOC(t->crv_pred[t->n_crv], nt ? nt : 1);
    memcpy(t->crv_pred[t->n_crv], pred, nt * sizeof *pred);
    t->crv_val[t->n_crv++] = crv;
done:
    return st;
}

/* Runs one candidate (params NULL: no transfer, run first; the table takes params) and scores
 * it; the table keeps its report and pipeline. */
static tl_status run_candidate(table *t, tl_task *task, size_t si, size_t ti, tl_params *params,
                               int rung, const tl_run_opts *ro, uint64_t seed) {
    tl_status st;
    tl_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    probe pr = {0};
    pr.mixval = NAN;
    tl_auto_candidate *c = NULL;
    double t0 = clock_now(t->cpu);
    st = table_push(t, &c);
    if (st != TL_OK) {
        tl_params_free(params);
        return st;
    }
    c->params = params;
    c->rung = rung;
    c->method = params ? tl_method_name(tl_params_method(params)) : "none";
    size_t len = (size_t)snprintf(c->label, sizeof c->label, "%s", c->method);
    const tl_method *m = params ? tl_params_method(params) : NULL;
    for (size_t i = 0; m && i < tl_method_param_count(m) && len < sizeof c->label; i++) {
        const char *pn = tl_method_param(m, i)->name;
        if (tl_params_is_set(params, pn))
            len += (size_t)snprintf(c->label + len, sizeof c->label - len, " %s=%s", pn,
                                    tl_params_get(params, pn));
    }
    if (ro->ctx && ro->ctx->progress) {
        char stage[160];
        snprintf(stage, sizeof stage, "auto: candidate %zu: %s", t->r->n, c->label);
        ro->ctx->progress(ro->ctx->user, stage, 0);
    }
    tl_dataset *src = tl_task_data(task, si), *tgt = tl_task_data(task, ti);
    const double *w = NULL;
    if (m && tl_method_family(m) == TL_FAMILY_MODEL) { /* a network: auto_net.c */
        TL_TRY(tlx_auto_net_run(t->ntask, si, ti, params, ro->ctx, &rep, &pipe, &pr.Zs, &pr.Zt));
        rep->source_only = t->reps[0]->result; /* no transfer's, candidate 0 */
        rep->gain = rep->result.accuracy - rep->source_only.accuracy;
    } else {
        TL_TRY(tlx_transfer_run_cached(task, params, ro, &t->rc, &rep, &pipe));
        const tl_model *model = tl_pipeline_model(pipe);
        size_t nw = 0;
        w = model ? tl_model_fit_weights(model, &nw) : NULL;
        if (w && nw != tl_dataset_rows(src)) w = NULL;
    }
    TL_TRY(probe_run(pipe, si, src, ti, tgt, w, seed, t->Xs, t->Xt, t->dr, &pr));
    size_t nt = rep->n_eval;
    const int *pred = rep->predictions;
    tl_criterion cr;
    TL_TRY(tl_validate_entropy(pr.P, pred, &cr));
    c->crit[TL_CRIT_ENTROPY] = cr.value;
    c->top_share = cr.top_share;
    c->collapsed = cr.top_share > tl_validate_collapse_share(pr.P.cols); /* k: source classes */
    TL_TRY(tl_validate_snd(pr.P, TL_SND_TEMPERATURE, pred, &cr));
    c->crit[TL_CRIT_SND] = cr.value;
    TL_TRY(tl_validate_iwcv(pr.loss, pr.dr, pr.Zs.rows, pred, nt, &cr));
    c->crit[TL_CRIT_IWCV] = cr.value;
    TL_TRY(tl_validate_dev(pr.loss, pr.dr, pr.Zs.rows, pred, nt, &cr));
    c->crit[TL_CRIT_DEV] = cr.value;
    c->crit[TL_CRIT_MIXVAL] = pr.mixval;
    c->crit[TL_CRIT_RV] = rep->guarded && params ? rep->guard.rv_after : NAN;
    if (rep->guarded && params && isnan(t->rv_before)) t->rv_before = rep->guard.rv_before;
    if (!t->Xs.data) { /* no transfer: its space is the common one */
        t->Xs = pr.Zs, t->Xt = pr.Zt, t->dr = pr.dr;
        memset(&pr.Zs, 0, sizeof pr.Zs);
        memset(&pr.Zt, 0, sizeof pr.Zt);
        pr.dr = NULL;
        if (tlx_csr_worth(t->Xs) && tlx_csr_worth(t->Xt)) {
            TL_TRY(tlx_csr_rows(t->Xs, NULL, t->Xs.rows, &t->Cs));
            TL_TRY(tlx_csr_rows(t->Xt, NULL, t->Xt.rows, &t->Ct));
        }
    }
    TL_CHECK(t->Xt.rows == nt, TL_ERR_STATE, "scored %zu target rows, the common space has %zu",
             nt, t->Xt.rows);
    double crv = NAN;
    bool sp = t->Cs.indptr && t->Ct.indptr;
    for (size_t i = 0; i < t->n_crv && isnan(crv); i++)
        if (memcmp(t->crv_pred[i], pred, nt * sizeof *pred) == 0) crv = t->crv_val[i];
    if (isnan(crv)) {
        TL_TRY(common_rv(sp ? t->Cs.X : tl_xmat_from_dense(t->Xs), tl_dataset_labels_const(src),
                         sp ? t->Ct.X : tl_xmat_from_dense(t->Xt), pred, &crv));
        TL_TRY(crv_remember(t, pred, nt, crv));
    }
    c->crit[TL_CRIT_CRV] = crv;
    if (!params) t->crv_none = crv, t->crv_se = sqrt(crv * (1 - crv) / (double)t->Xs.rows);
    /* harmful: collapsed, judged harmful by the guard, or a common reverse validation more
     * than two standard errors below no transfer's (the harm check against no transfer, in the
     * one space where the two compare; two, because no transfer's own labels are the easiest
     * for the common-space probe to learn back, a bias a weighting within a point of no
     * transfer on Amazon fell foul of at one) */
    /* A network is another learner, whose own no transfer is the network trained on the source
     * alone: the adaptations are checked against it, and it against nothing but collapse (a
     * network's labels are not the ones the common-space probe learns back most easily, as no
     * transfer's 1-NN labels are, so against no transfer it would fail the check for that
     * bias alone: on MNIST->USPS a CNN's, right on 73 % of the target against no transfer's
     * 66 %, did) */
    bool netc = m && tl_method_family(m) == TL_FAMILY_MODEL,
         net_none = netc && atof(tl_params_get(params, "lambda")) == 0;
    double ref = t->crv_none, se = t->crv_se;
    if (netc && !isnan(t->crv_net)) ref = t->crv_net, se = t->crv_net_se;
    c->harmful = c->collapsed || (params && (rep->negative_transfer ||
                                             (!net_none && crv < ref - 2 * se)));
    if (net_none) t->crv_net = crv, t->crv_net_se = sqrt(crv * (1 - crv) / (double)t->Xs.rows);
    if (t->test) { /* held-out target rows: the fitted pipeline predicts them */
        size_t nh = tl_dataset_rows(t->test);
        const int *yh = tl_dataset_labels_const(t->test);
        int *ph = NULL;
        TL_ALLOC(ph, nh ? nh : 1);
        st = tl_pipeline_predict(pipe, ti, t->test, ph);
        size_t hit = 0;
        for (size_t i = 0; st == TL_OK && i < nh; i++) hit += ph[i] == yh[i];
        tl_free(ph);
        if (st != TL_OK) goto done;
        c->accuracy = nh ? (double)hit / (double)nh : NAN;
    } else {
        c->accuracy = tl_dataset_has_labels(tgt) ? rep->result.accuracy : NAN;
    }
    t->reps[c - t->r->cand] = rep;
    t->pipes[c - t->r->cand] = pipe;
    rep = NULL;
    pipe = NULL;
done:
    if (c) c->seconds = clock_now(t->cpu) - t0;
    if (st != TL_OK)
        st = tl_fail_prefix(st, "candidate '%s'", c ? c->label : "?");
    probe_free(&pr);
    tl_report_free(rep);
    tl_pipeline_free(pipe);
    return st;
}

/* Combined scores of the table's eligible candidates: the mean over the chosen criteria of the
 * share of the other eligible candidates each beats (ties count half). */
static void combine(tl_auto_result *r, unsigned mask) {
    size_t ne = 0;
    for (size_t i = 0; i < r->n; i++) ne += !r->cand[i].harmful;
    for (size_t i = 0; i < r->n; i++) {
        tl_auto_candidate *a = &r->cand[i];
        a->score = NAN;
        if (a->harmful) continue;
        double sum = 0;
        int used = 0;
        for (int k = 0; k < TL_CRIT_COUNT; k++) {
            if (!(mask & (1u << k)) || !isfinite(a->crit[k])) continue;
            double beat = 0;
            size_t others = 0;
            for (size_t j = 0; j < r->n; j++) {
                const tl_auto_candidate *b = &r->cand[j];
                if (j == i || b->harmful || !isfinite(b->crit[k])) continue;
                others++;
                double d = tl_criterion_higher_better(k) ? a->crit[k] - b->crit[k]
                                                         : b->crit[k] - a->crit[k];
                beat += d > 0 ? 1 : d == 0 ? 0.5 : 0;
            }
            sum += others ? beat / (double)others : 1;
            used++;
        }
        a->score = used ? sum / used : (ne == 1 ? 1 : 0.5);
    }
}

/* The best eligible candidate; ties to the earlier (defaults before variants, no transfer first). */
static size_t best_of(const tl_auto_result *r, bool transfer_only) {
    size_t b = (size_t)-1;
    for (size_t i = 0; i < r->n; i++) {
        const tl_auto_candidate *c = &r->cand[i];
        if (c->harmful || !isfinite(c->score) || (transfer_only && !c->params)) continue;
        if (b == (size_t)-1 || c->score > r->cand[b].score) b = i;
    }
    return b;
}

static bool method_candidate(const tl_method *m) {
    tl_family f = tl_method_family(m);
    unsigned nd = tl_method_needs(m);
    return (f == TL_FAMILY_FEATURE || f == TL_FAMILY_INSTANCE) &&
           !(nd & (TL_NEEDS_TARGET_LABELS | TL_MULTI_SOURCE));
}

/* A rough operation count of fitting method m at its defaults, to run the cheap methods first
 * when the budget cannot hold them all (Amazon's 5000 features: a d x d eigenproblem costs
 * ~100 s where a weighting of 2000 rows costs seconds): a feature mapping solves a d x d problem
 * in its primal form (n x n in a kernel form), once per pseudo-label iteration; an instance
 * weighting compares every source row with every target row over the d features. The order
 * only matters when the budget binds; the choice never reads it. */
static double cost_guess(const tl_method *m, double d, double ns, double nt) {
    if (tl_method_family(m) == TL_FAMILY_INSTANCE) return ns * nt * d;
    const tl_param_desc *k = tl_method_param_find(m, "kernel"),
                        *it = tl_method_param_find(m, "iters");
    double side = k && strcmp(k->def, "primal") != 0 ? ns + nt : d;
    double rounds = it ? atof(it->def) : 1;
    return side * side * side * (rounds > 1 ? rounds : 1);
}

/* The expected seconds of a method whose cost_guess is g, before it runs: what every candidate
 * pays (no transfer's measured seconds: the probe, the guard, the learner) plus g times the
 * seconds per guessed operation of its family - the largest measured on the candidates run so
 * far; before a feature mapping has run, the seconds per operation of one small symmetric
 * eigenproblem timed here (calibrate: a feature mapping's cost is its d x d or n x n
 * eigenproblem; an instance weighting's cost is close to the base, as measured). A candidate
 * whose estimate does not fit what is left of the budget is skipped rather than started. */
#define COST_MARGIN 1.25 /* a candidate's seconds vary by about a fifth between runs of the same
                            work on a loaded machine (Amazon K->E: 7.7 and 8.9 s for two RuLSIF
                            fits): the estimates are padded by a quarter so that the last one
                            started still ends within the budget */
typedef struct {
    double base, rate[2], prior; /* rate[0] feature, [1] instance; 0: none measured */
} cost_model;
static double cost_estimate(const cost_model *cm, bool instance, double g) {
    double r = cm->rate[instance] > 0 ? cm->rate[instance] : instance ? 0 : cm->prior;
    return COST_MARGIN * (cm->base + r * g);
}
static void cost_learn(cost_model *cm, bool instance, double g, double seconds) {
    double r = g > 0 ? (seconds - cm->base) / g : 0;
    if (r > cm->rate[instance]) cm->rate[instance] = r;
}
/* Seconds per n^3 of a full symmetric eigen-decomposition with vectors (n = 192, the faster of
 * two tries, on the budget's clock): this machine's speed at a feature mapping's core step. */
static tl_status calibrate(bool cpu, double *rate) {
    tl_status st = TL_OK;
    enum { N = 192 };
    tl_mat A = {0}, V = {0};
    double *w = NULL, best = INFINITY;
    TL_TRY(tl_mat_alloc(&A, N, N));
    TL_TRY(tl_mat_alloc(&V, N, N));
    TL_ALLOC(w, N);
    tl_rng rng;
    tl_rng_seed(&rng, 7);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i; j < N; j++)
            A.data[i * A.ld + j] = A.data[j * A.ld + i] = tl_rng_normal(&rng);
    for (int k = 0; k < 2; k++) {
        double t0 = clock_now(cpu);
        TL_TRY(tl_eig_sym(A, TL_EIG_ALL, N, w, V));
        double dt = clock_now(cpu) - t0;
        if (dt < best) best = dt;
    }
    *rate = best / ((double)N * N * N);
done:
    tl_mat_free(&A);
    tl_mat_free(&V);
    tl_free(w);
    return st;
}

/* The chosen candidate's report, scored on the held-out target rows t->test: the result from
 * its pipeline, the no-transfer baseline from candidate 0's, the predictions those rows'. */
static tl_status report_on_test(const table *t, size_t b, size_t ti, tl_report *rep) {
    tl_status st = TL_OK;
    size_t nh = tl_dataset_rows(t->test);
    const int *yh = tl_dataset_labels_const(t->test);
    int *ph = NULL, *p0 = NULL;
    TL_ALLOC(ph, nh);
    TL_ALLOC(p0, nh);
    TL_TRY(tl_pipeline_predict(t->pipes[b], ti, t->test, ph));
    TL_TRY(tl_pipeline_predict(t->pipes[0], ti, t->test, p0));
    TL_TRY(tlx_score(yh, ph, nh, &rep->result));
    TL_TRY(tlx_score(yh, p0, nh, &rep->source_only));
    rep->gain = rep->result.accuracy - rep->source_only.accuracy;
    rep->worse_than_baseline = rep->gain < 0;
    char *name = tli_strdup(tl_dataset_name(t->test));
    TL_CHECK(name, TL_ERR_NOMEM, "out of memory naming the test rows");
    tl_free((char *)rep->evaluated_on);
    rep->evaluated_on = name;
    rep->n_eval = nh;
    tl_free(rep->predictions);
    rep->predictions = ph;
    ph = NULL;
done:
    tl_free(ph);
    tl_free(p0);
    return st;
}

/* Up to `cap` variants of method m, one parameter changed from its default at a time, taken
 * round-robin over the parameters that have a grid. */
static tl_status grid_variants(const tl_method *m, size_t cap, tl_params **v, size_t *nv,
                               size_t ncols, size_t nrows) {
    tl_status st = TL_OK;
    char vals[8][16][24];
    size_t nvals[8] = {0}, np = 0, pidx[8];
    *nv = 0;
    for (size_t i = 0; i < tl_method_param_count(m) && np < 8; i++) {
        const tl_param_desc *d = tl_method_param(m, i);
        if (!d->grid) continue;
        const char *s = d->grid;
        size_t k = 0;
        while (*s && k < 16) {
            size_t l = strcspn(s, ",");
            if (l > 0 && l < 24 && !(strlen(d->def) == l && strncmp(s, d->def, l) == 0)) {
                memcpy(vals[np][k], s, l);
                vals[np][k][l] = '\0';
                k++;
            }
            s += l + (s[l] == ',');
        }
        if (k) {
            nvals[np] = k;
            pidx[np++] = i;
        }
    }
    for (size_t round = 0; *nv < cap; round++) {
        bool any = false;
        for (size_t q = 0; q < np && *nv < cap; q++) {
            if (round >= nvals[q]) continue;
            any = true;
            tl_params *p = NULL;
            TL_TRY(tl_params_create(m, &p));
            if (tl_params_set(p, tl_method_param(m, pidx[q])->name, vals[q][round]) != TL_OK ||
                tl_params_check(p, ncols, nrows) != TL_OK) {
                tl_params_free(p); /* a grid value this data cannot take: left out */
                continue;
            }
            v[(*nv)++] = p;
        }
        if (!any) break;
    }
done:
    return st;
}

/* ---- network candidates (opts.net) ---- */

/* The adaptations a network candidate uses; the source-only network is DANN with lambda 0. */
static const char *const net_das[] = {"dann", "dan", "coral"};
#define NET_DAS (sizeof net_das / sizeof *net_das)

/* A "deep-da" candidate: the caller's training settings (o->net_params, else the defaults) with
 * adaptation da and weight lambda. */
static tl_status net_candidate(const tl_auto_opts *o, const char *da, double lambda,
                               tl_params **out) {
    tl_status st = TL_OK;
    char v[32];
    *out = NULL;
    if (o->net_params)
        TL_TRY(tl_params_clone(o->net_params, out));
    else
        TL_TRY(tl_params_create(tl_method_find("deep-da", TL_FAMILY_MODEL), out));
    snprintf(v, sizeof v, "%g", lambda);
    TL_TRY(tl_params_set(*out, "da", da));
    TL_TRY(tl_params_set(*out, "lambda", v));
done:
    if (st != TL_OK) {
        tl_params_free(*out);
        *out = NULL;
    }
    return st;
}

/* Where candidate c's adaptation sits in its lambda grid: *g the grid (*ng values), *at the index
 * of c's lambda (ng when it is not a grid value: the source-only network). */
static const double *net_grid(const char *da, size_t *ng) {
    tl_nn_da_method dm = TL_NN_DA_DANN;
    (void)tl_nn_da_parse(da, &dm); /* one of net_das */
    return tl_nn_da_lambda_grid(dm, ng);
}
static void net_grid_of(const tl_params *p, const double **g, size_t *ng, size_t *at) {
    *g = net_grid(tl_params_get(p, "da"), ng);
    double lam = atof(tl_params_get(p, "lambda"));
    char a[32], b[32];
    snprintf(a, sizeof a, "%g", lam);
    for (*at = 0; *at < *ng; (*at)++) {
        snprintf(b, sizeof b, "%g", (*g)[*at]);
        if (strcmp(a, b) == 0) break;
    }
}

/* A network candidate's rows processed in training: epochs x (source + target rows), a guess of
 * its cost in forward-pass rows x 3 (a training step's forward and backward passes). */
static double net_guess(const tl_params *p, double ns, double nt) {
    double ep = atof(tl_params_get(p, "epochs"));
    return 3 * (ep > 0 ? ep : 1) * (ns + nt);
}

tl_status tl_auto_run(tl_dataset *const *sources, size_t n_sources, tl_dataset *target,
                      const tl_auto_opts *opts, tl_auto_result **out, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    tl_auto_result *r = NULL;
    tl_task *task = NULL;
    tl_params *variants[64];
    size_t nvar = 0;
    tl_auto_opts o = tl_auto_opts_default();
    table t;
    memset(&t, 0, sizeof t);
    t.rv_before = t.crv_none = t.crv_se = t.crv_net = t.crv_net_se = NAN;
    double t0;
    if (opts) {
        size_t n = opts->struct_size && opts->struct_size < sizeof o ? opts->struct_size : sizeof o;
        memcpy(&o, opts, n);
        o.struct_size = sizeof o;
    }
    t.cpu = o.budget_cpu;
    t.test = o.target_test && tl_dataset_rows(o.target_test) > 0 &&
                     tl_dataset_has_labels(o.target_test)
                 ? o.target_test
                 : NULL;
    t0 = clock_now(t.cpu);
    *out = NULL;
    if (pipeline) *pipeline = NULL;
    TL_CHECK(sources && n_sources >= 1 && target, TL_ERR_INVALID_ARG,
             "needs at least one source and a target");
    TL_CHECK(tl_dataset_rows(target) > 0, TL_ERR_INVALID_ARG, "the target '%s' has no rows",
             tl_dataset_name(target));
    TL_CHECK(isfinite(o.budget) && o.budget >= 0, TL_ERR_INVALID_ARG,
             "budget %g is not a number of seconds >= 0", o.budget);
    for (size_t i = 0; i < n_sources; i++) {
        TL_CHECK(!tl_dataset_has_targets(sources[i]), TL_ERR_UNSUPPORTED,
                 "the source '%s' has regression targets: the automatic mode's criteria judge "
                 "class predictions (run tl adapt or tl weight with --task regression)",
                 tl_dataset_name(sources[i]));
        TL_CHECK(tl_dataset_rows(sources[i]) > 0 && tl_dataset_has_labels(sources[i]),
                 TL_ERR_INVALID_ARG, "the source '%s' has no labelled rows",
                 tl_dataset_name(sources[i]));
        TL_CHECK(tl_dataset_cols(sources[i]) == tl_dataset_cols(target), TL_ERR_INVALID_ARG,
                 "the source '%s' has %zu features and the target '%s' %zu: every "
                 "candidate method needs domains of the same width (no heterogeneous method "
                 "is registered)",
                 tl_dataset_name(sources[i]), tl_dataset_cols(sources[i]),
                 tl_dataset_name(target), tl_dataset_cols(target));
    }
    TL_CHECK(!o.target_test || tl_dataset_cols(o.target_test) == tl_dataset_cols(target),
             TL_ERR_INVALID_ARG, "the target's test rows '%s' have %zu features and the target "
             "'%s' %zu", o.target_test ? tl_dataset_name(o.target_test) : "",
             o.target_test ? tl_dataset_cols(o.target_test) : 0, tl_dataset_name(target),
             tl_dataset_cols(target));
    TL_CALLOC(r, 1);
    t.r = r;
    r->n_sources = n_sources;
    const tl_ctx *ctx = o.ctx;
    uint64_t seed = ctx ? ctx->seed : 42;
    /* 1. the source: the nearest by MMD when there are several */
    if (n_sources > 1) {
        TL_CALLOC(r->source_scores, n_sources);
        tl_rank_opts ro = tl_rank_opts_default();
        ro.preprocess = o.preprocess;
        /* scaling fitted on each source and applied to the target: per-domain z-scores would
         * give every domain the same column statistics and MMD ~ 0 for every source */
        ro.preprocess_on_source = true;
        ro.a_distance = false;
        ro.ctx = ctx;
        for (size_t i = 0; i < n_sources; i++)
            TL_TRY(tl_source_score_compute(sources[i], target, NULL, &ro, &r->source_scores[i]));
        tl_sources_rank(r->source_scores, n_sources);
        for (size_t i = 0; i < n_sources; i++)
            if (r->source_scores[i].rank == 1) r->source = i;
    }
    size_t si, ti;
    TL_TRY(tl_task_create(&task));
    TL_TRY(tl_task_add(task, TL_ROLE_SOURCE, sources[r->source], &si));
    TL_TRY(tl_task_add(task, TL_ROLE_TARGET, target, &ti));
    tl_run_opts ro = tl_run_opts_default();
    tl_guard_params gp = tl_guard_params_default();
    gp.permutations = 0; /* the correspondence's p-value is not used here; r is */
    gp.seed = seed;
    ro.guard_params = &gp;
    ro.learner = o.learner;
    ro.preprocess = o.preprocess;
    ro.preprocess_on_source = o.preprocess_on_source;
    ro.allow_unknown_labels = true;
    ro.ctx = ctx;
    size_t ncols = tl_dataset_cols(target),
           nrows = tl_dataset_rows(sources[r->source]) + tl_dataset_rows(target);
    /* 2. rung 0: no transfer (always: the fallback), then every method at its defaults */
    TL_TRY(run_candidate(&t, task, si, ti, NULL, 0, &ro, seed));
    cost_model cm = {r->cand[0].seconds, {0, 0}, 0};
    TL_TRY(calibrate(t.cpu, &cm.prior));
    size_t n_methods = 0, method_at[64 + NET_DAS], n_cand = 0, by_cost[64], n_net = 0;
    double guess[64];
    for (size_t i = 0; i < tl_method_count() && n_cand < 64; i++) {
        const tl_method *m = tl_method_at(i);
        if (!method_candidate(m)) continue;
        guess[n_cand] = cost_guess(m, (double)ncols, (double)tl_dataset_rows(sources[r->source]),
                                  (double)tl_dataset_rows(target));
        by_cost[n_cand++] = i;
    }
    for (size_t i = 1; i < n_cand; i++) /* insertion sort, stable: cheapest first */
        for (size_t j = i; j > 0 && guess[j] < guess[j - 1]; j--) {
            double c = guess[j];
            size_t x = by_cost[j];
            guess[j] = guess[j - 1], by_cost[j] = by_cost[j - 1];
            guess[j - 1] = c, by_cost[j - 1] = x;
        }
    for (size_t q = 0; q < n_cand; q++) {
        const tl_method *m = tl_method_at(by_cost[q]);
        bool inst = tl_method_family(m) == TL_FAMILY_INSTANCE;
        if (clock_now(t.cpu) - t0 + cost_estimate(&cm, inst, guess[q]) > o.budget) {
            r->skipped++;
            continue;
        }
        tl_params *p = NULL;
        TL_TRY(tl_params_create(m, &p));
        if (tl_params_check(p, ncols, nrows) != TL_OK) {
            tl_params_free(p);
            continue;
        }
        TL_TRY(run_candidate(&t, task, si, ti, p, 0, &ro, seed));
        method_at[n_methods++] = r->n - 1;
        cost_learn(&cm, inst, guess[q], r->cand[r->n - 1].seconds);
    }
    /* 2b. the network candidates (opts.net): the network trained on the source alone, then each
       adaptation at the middle of its lambda grid; priced by the rows they train on times the
       seconds per row of a forward pass, then by the seconds per row the ones run took */
    if (o.net) {
        double fwd = 0, ns = (double)tl_dataset_rows(sources[r->source]),
               nt = (double)tl_dataset_rows(target);
        size_t nsi, nti;
        TL_TRY(tl_task_create(&t.ntask));
        TL_TRY(tl_task_add(t.ntask, TL_ROLE_SOURCE, sources[r->source], &nsi));
        TL_TRY(tl_task_add(t.ntask, TL_ROLE_TARGET, target, &nti));
        TL_TRY(tl_task_add_network(t.ntask, TL_ROLE_SOURCE, o.net, "network", NULL));
        TL_CHECK(nsi == si && nti == ti, TL_ERR_STATE, "auto: the network's task differs");
        TL_TRY(tlx_auto_net_rate(t.ntask, si, ti, clock_now, t.cpu, &fwd));
        for (size_t q = 0; q <= NET_DAS; q++) {
            tl_params *p = NULL;
            size_t ng = 0;
            const double *g = q ? net_grid(net_das[q - 1], &ng) : NULL;
            TL_TRY(net_candidate(&o, q ? net_das[q - 1] : "dann", q ? g[ng / 2] : 0, &p));
            double rows = net_guess(p, ns, nt),
                   est = COST_MARGIN * (cm.base + rows * (t.net_rate > 0 ? t.net_rate : fwd));
            if (clock_now(t.cpu) - t0 + est > o.budget) {
                r->skipped++;
                tl_params_free(p);
                continue;
            }
            TL_TRY(run_candidate(&t, task, si, ti, p, 0, &ro, seed));
            double rate = (r->cand[r->n - 1].seconds - cm.base) / rows;
            if (rate > t.net_rate) t.net_rate = rate;
            n_net++;
            if (q) method_at[n_methods++] = r->n - 1; /* the adaptations have grid variants */
        }
    }
    if (n_methods == 0 && n_net == 0) r->budget_too_small = true;
    /* 3. rung 1: the grid variants of the better half of the methods, best first */
    combine(r, o.criteria);
    /* the better half of the mappings and weightings, then the better half of the network
       adaptations: each kind halved on its own (their criteria come from spaces of other kinds) */
    size_t order[64 + NET_DAS], nord = 0;
    for (int kind = 0; kind < 2; kind++) {
        size_t kc[64 + NET_DAS], nk = 0;
        for (size_t i = 0; i < n_methods; i++) {
            const tl_auto_candidate *c = &r->cand[method_at[i]];
            bool netc = tl_method_family(tl_params_method(c->params)) == TL_FAMILY_MODEL;
            if (!c->harmful && netc == (kind == 1)) kc[nk++] = method_at[i];
        }
        for (size_t i = 1; i < nk; i++) /* insertion sort by score, descending */
            for (size_t j = i; j > 0 && r->cand[kc[j]].score > r->cand[kc[j - 1]].score; j--) {
                size_t x = kc[j];
                kc[j] = kc[j - 1];
                kc[j - 1] = x;
            }
        for (size_t i = 0; i < (nk + 1) / 2; i++) order[nord++] = kc[i];
    }
    for (size_t q = 0; q < nord; q++) {
        const tl_auto_candidate *base = &r->cand[order[q]];
        const tl_method *m = tl_params_method(base->params);
        double cost = COST_MARGIN * base->seconds; /* a variant costs about its defaults */
        if (tl_method_family(m) == TL_FAMILY_MODEL) { /* a network: lambda's grid values, */
            const double *g;                         /* nearest the default's first */
            size_t ng, at, cap = o.grid < 64 ? o.grid : 64;
            net_grid_of(base->params, &g, &ng, &at);
            nvar = 0;
            for (size_t k = 1; at < ng && k < ng && nvar < cap; k++)
                for (int side = -1; side <= 1 && nvar < cap; side += 2) {
                    if ((side < 0 && k > at) || (side > 0 && at + k >= ng)) continue;
                    TL_TRY(net_candidate(&o, tl_params_get(base->params, "da"),
                                         g[side < 0 ? at - k : at + k], &variants[nvar]));
                    nvar++;
                }
        } else {
            TL_TRY(grid_variants(m, o.grid < 64 ? o.grid : 64, variants, &nvar, ncols, nrows));
        }
        for (size_t v = 0; v < nvar; v++) {
            tl_params *p = variants[v];
            variants[v] = NULL;
            if (clock_now(t.cpu) - t0 + cost > o.budget) {
                r->skipped++;
                tl_params_free(p);
                continue;
            }
            TL_TRY(run_candidate(&t, task, si, ti, p, 1, &ro, seed));
            cost = fmax(cost, COST_MARGIN * r->cand[r->n - 1].seconds);
        }
        nvar = 0;
    }
    /* 4. the choice (no transfer's reverse validation: the guard's "before" value) */
    r->cand[0].crit[TL_CRIT_RV] = t.rv_before;
    combine(r, o.criteria);
    size_t b = best_of(r, true);
    r->all_harmful = !r->budget_too_small && b == (size_t)-1;
    if (b == (size_t)-1) b = 0; /* no transfer */
    else if (r->cand[0].score > r->cand[b].score)
        b = 0;
    r->chosen = b;
    /* the chosen candidate's report and pipeline as its run left them (no refit) */
    if (t.test) TL_TRY(report_on_test(&t, b, ti, t.reps[b]));
    r->report = t.reps[b];
    t.reps[b] = NULL;
    if (pipeline) {
        *pipeline = t.pipes[b];
        t.pipes[b] = NULL;
    }
    r->seconds = clock_now(t.cpu) - t0;
    *out = r;
    r = NULL;
done:
    for (size_t v = 0; v < nvar; v++) tl_params_free(variants[v]);
    for (size_t i = 0; i < t.cap; i++) {
        tl_report_free(t.reps[i]);
        tl_pipeline_free(t.pipes[i]);
    }
    tl_free(t.reps);
    tl_free(t.pipes);
    tlx_run_cache_free(&t.rc);
    tl_task_free(t.ntask);
    for (size_t i = 0; i < t.n_crv; i++) tl_free(t.crv_pred[i]);
    tl_free(t.crv_pred);
    tl_free(t.crv_val);
    tl_mat_free(&t.Xs);
    tl_mat_free(&t.Xt);
    tl_free(t.dr);
    tlx_csr_free(&t.Cs);
    tlx_csr_free(&t.Ct);
    tl_task_free(task);
    tl_auto_result_free(r);
    return st;
}

/* ---- the result, ordered and as JSON ---- */

static int by_score_desc(const void *a, const void *b, void *ctx) {
    const tl_auto_candidate *c = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = c[i].score, y = c[j].score;
    if (isnan(x) != isnan(y)) return isnan(x) ? 1 : -1;
    if (x != y && !isnan(x)) return x < y ? 1 : -1;
    return (i > j) - (i < j);
}

void tl_auto_order(const tl_auto_result *r, size_t *idx) {
    for (size_t i = 0; i < r->n; i++) idx[i] = i;
    qsort_r(idx, r->n, sizeof *idx, by_score_desc, r->cand);
}

static void json_cand(tl_json *j, const tl_auto_candidate *c) {
    tl_json_obj_begin(j, NULL);
    tl_json_str(j, "candidate", c->label);
    tl_json_str(j, "method", c->method);
    tl_json_int(j, "rung", c->rung);
    for (int k = 0; k < TL_CRIT_COUNT; k++) tl_json_num(j, tl_criterion_name(k), c->crit[k]);
    tl_json_num(j, "top_share", c->top_share);
    tl_json_bool(j, "collapsed", c->collapsed);
    tl_json_bool(j, "harmful", c->harmful);
    tl_json_num(j, "score", c->score);
    tl_json_num(j, "accuracy", c->accuracy);
    tl_json_num(j, "seconds", c->seconds);
    tl_json_obj_end(j);
}

tl_status tl_auto_json(const tl_auto_result *r, const char *const *source_names,
                       const char *target, const tl_auto_opts *o, const char *saved, char **out) {
    tl_status st = TL_OK;
    size_t *idx = NULL;
    tl_auto_opts d = tl_auto_opts_default();
    if (!o) o = &d;
    *out = NULL;
    TL_CHECK(r && source_names && target && r->report && r->chosen < r->n, TL_ERR_INVALID_ARG,
             "tl_auto_json: needs a result, the sources' and the target's names");
    TL_ALLOC(idx, r->n);
    tl_auto_order(r, idx);
    const tl_report *rep = r->report;
    tl_json j;
    tl_json_begin(&j);
    tl_json_str(&j, "command", "auto");
    tl_json_str(&j, "source", source_names[r->source]);
    tl_json_str(&j, "target", target);
    tl_json_num(&j, "budget", o->budget);
    tl_json_str(&j, "budget_clock", o->budget_cpu ? "cpu" : "wall");
    tl_json_num(&j, "seconds", r->seconds);
    tl_json_bool(&j, "budget_too_small", r->budget_too_small);
    tl_json_bool(&j, "all_harmful", r->all_harmful);
    tl_json_int(&j, "skipped", (long long)r->skipped);
    tl_json_str(&j, "chosen", r->cand[r->chosen].label);
    tl_json_num(&j, "accuracy", rep->result.n ? rep->result.accuracy : NAN);
    tl_json_num(&j, "source_only_accuracy", rep->source_only.n ? rep->source_only.accuracy : NAN);
    if (r->n_sources > 1 && r->source_scores) {
        tl_json_arr_begin(&j, "sources");
        for (size_t i = 0; i < r->n_sources; i++) {
            tl_json_obj_begin(&j, NULL);
            tl_json_str(&j, "source", source_names[i]);
            tl_json_num(&j, "mmd", r->source_scores[i].mmd);
            tl_json_int(&j, "rank", r->source_scores[i].rank);
            tl_json_obj_end(&j);
        }
        tl_json_arr_end(&j);
    }
    tl_json_arr_begin(&j, "candidates");
    for (size_t i = 0; i < r->n; i++) json_cand(&j, &r->cand[idx[i]]);
    tl_json_arr_end(&j);
    if (saved) tl_json_str(&j, "saved", saved);
    st = tl_json_end(&j, out);
    if (st != TL_OK) st = tl_fail(st, "tl_auto_json: out of memory");
done:
    tl_free(idx);
    return st;
}
