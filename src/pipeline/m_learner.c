/* The base learners in the registry: 1-NN, k-NN, logistic regression, linear SVM and the ridge
 * classifier (tl/learn.h). They transfer nothing by themselves: the protocol trains one as the
 * no-transfer baseline and again in the transferred space, TrAdaBoost boosts one. Their
 * parameters (k, C, max-iter, alpha) are described here once, like every method's.
 *
 * C defaults to "auto": chosen by 5-fold stratified cross-validation on the training rows (with
 * their weights) over 1e-4 .. 1e2 (tl/learn.h, TL_LEARNER_C_AUTO), as the published protocols
 * choose it; a number keeps that C exactly. The fitted learner tells which C it used and whether
 * its solver converged within max-iter (lrn_info: "C", "C_auto", "converged", "iterations"). */
#include <stdio.h>
#include <string.h>

#include "method_internal.h"

static const tl_param_desc knn_params[] = {
    {"k", TL_PARAM_INT, "5", 1, 1e6, NULL, "neighbours", "1,3,5,10"}};
#define P_C                                                                                        \
    {"C", TL_PARAM_REAL, "auto", 1e-12, 1e12, "auto",                                              \
     "inverse regularisation (scikit-learn's C); auto: chosen by 5-fold cross-validation on the "  \
     "training rows over 1e-4..1e2",                                                               \
     "0.01,0.1,1,10,100"}
#define P_MAX_ITER(def)                                                                            \
    {"max-iter", TL_PARAM_INT, def, 1, 1e7, NULL,                                                  \
     "solver iterations (logreg: L-BFGS steps; svm: epochs); a fit that stops here unconverged "   \
     "says so",                                                                                    \
     NULL}
static const tl_param_desc logreg_params[] = {P_C, P_MAX_ITER("500")};
static const tl_param_desc svm_params[] = {P_C, P_MAX_ITER("1000")};
static const tl_param_desc ridge_params[] = {
    {"alpha", TL_PARAM_REAL, "1", 0, 1e12, NULL, "ridge regularisation", "0.1,1,10"}};

tl_status tlx_learner_params(const tl_params *lp, const tl_ctx *ctx, tl_learner_params *out) {
    const tl_method *m = tl_params_method(lp);
    if (!m || m->family != TL_FAMILY_LEARNER)
        return tl_fail(TL_ERR_INVALID_ARG, "'%s' is not a learner", m ? m->name : "(null)");
    tl_learner_params p = tl_learner_params_default((tl_learner_type)m->variant);
    if (tl_method_param_find(m, "k")) p.k = (size_t)tlx_int(lp, "k");
    if (tl_method_param_find(m, "C")) p.C = tlx_num(lp, "C"); /* auto reads as 0 */
    if (tl_method_param_find(m, "max-iter")) p.max_iter = (int)tlx_int(lp, "max-iter");
    if (tl_method_param_find(m, "alpha")) p.alpha = tlx_num(lp, "alpha");
    p.seed = tlx_seed(ctx);
    p.threads = 0; /* the call's thread scope (ctx) governs */
    *out = p;
    return tl_learner_params_check(&p);
}

tl_status tl_learner_params_from(const tl_params *p, uint64_t seed, tl_learner_params *out) {
    tl_ctx c = tl_ctx_default();
    c.seed = seed;
    if (!p || !out) return tl_fail(TL_ERR_INVALID_ARG, "learner_params_from: NULL argument");
    return tlx_learner_params(p, &c, out);
}

void tl_learner_label(const tl_params *p, char *buf, size_t cap) { tlx_learner_label(p, buf, cap); }

void tlx_learner_label(const tl_params *lp, char *buf, size_t cap) {
    const tl_method *m = tl_params_method(lp);
    if (m && m->variant == TL_LEARNER_KNN && tl_method_param_find(m, "k"))
        snprintf(buf, cap, "%ldnn", tlx_int(lp, "k"));
    else
        snprintf(buf, cap, "%s", m ? m->name : "1nn");
}

static void lrn_free(void *s) { tl_learner_free(s); }

static size_t lrn_input_dim(const void *s, size_t domain) {
    (void)domain;
    return tl_learner_input_dim(s);
}

static tl_status lrn_fit(const tl_params *p, const tlx_fit_args *f, void **out) {
    tl_status st = TL_OK;
    tl_learner *l = NULL;
    tl_learner_params lp;
    const tl_dataset *src = tl_task_data(f->task, f->source);
    TL_TRY(tlx_learner_params(p, f->ctx, &lp));
    TL_TRY(tl_learner_create(&lp, &l));
    TL_TRY(tl_learner_fit(l, tl_dataset_features(src), tl_dataset_labels_const(src),
                          tl_dataset_weights(src)));
    *out = l;
    l = NULL;
done:
    tl_learner_free(l);
    return st;
}

/* What the fit settled on: the C (chosen or given), whether cross-validation chose it, and the
 * solver's convergence and iterations (logreg / svm only). */
static size_t lrn_info(const void *s, const char **keys, double *values, size_t cap) {
    size_t n = 0;
    double cv;
    if (tl_learner_C(s) <= 0) return 0;
    const char *k[5] = {"C", "C_auto", "cv_accuracy", "converged", "iterations"};
    bool a = tl_learner_C_auto(s, &cv);
    double v[5] = {tl_learner_C(s), a, cv, tl_learner_converged(s), tl_learner_iterations(s)};
    for (size_t i = 0; i < 5 && n < cap; i++) {
        if (i == 2 && !a) continue;
        keys[n] = k[i];
        values[n++] = v[i];
    }
    return n;
}

static tl_status lrn_predict(const void *s, tl_xmat X, int *pred) {
    return tl_learner_predict(s, X, pred);
}

static tl_status learner_write_fn(const void *l, tl_tlm *c) { return tl_learner_write(l, c); }

static tl_status lrn_write(const void *s, tl_tlm *c, const char *prefix) {
    return tlx_write_nested(s, learner_write_fn, c, prefix);
}

static tl_status learner_read_fn(const tl_tlm *c, const char *name, void **out) {
    return tl_learner_read(c, name, (tl_learner **)out);
}

static tl_status lrn_read(const tl_params *p, const tl_tlm *c, const char *prefix,
                          const char *name, void **out) {
    (void)p;
    return tlx_read_nested(c, prefix, name, learner_read_fn, out);
}

static const tlx_ops lrn_ops = {.fit = lrn_fit,
                                .free = lrn_free,
                                .input_dim = lrn_input_dim,
                                .predict = lrn_predict,
                                .info = lrn_info,
                                .write = lrn_write,
                                .read = lrn_read};

#define LEARNER(sym, nm, var, summ, params, np)                                                    \
    const tl_method sym = {nm,   summ, "", TL_FAMILY_LEARNER, var, TL_NEEDS_SOURCE_LABELS,         \
                           nm,   params, np, &lrn_ops}

LEARNER(tlx_m_1nn, "1nn", TL_LEARNER_KNN, "nearest neighbour (exact, Euclidean)", NULL, 0);
LEARNER(tlx_m_knn, "knn", TL_LEARNER_KNN, "k nearest neighbours, weighted vote", knn_params, 1);
LEARNER(tlx_m_logreg, "logreg", TL_LEARNER_LOGREG,
        "multinomial logistic regression (L2, L-BFGS)", logreg_params, 2);
LEARNER(tlx_m_svm, "svm", TL_LEARNER_SVM, "linear SVM, one-vs-rest (dual coordinate descent)",
        svm_params, 2);
LEARNER(tlx_m_ridge, "ridge", TL_LEARNER_RIDGE, "ridge classifier", ridge_params, 1);
