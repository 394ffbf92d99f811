/* The instance-weighting methods in the registry: KMM, KLIEP, uLSIF and the discriminative
 * domain classifier (tl/instance.h), described once with their parameters. fit builds a
 * tl_weighter on the task's source and target features (dense or sparse), so the weights are a
 * fitted model: the fitting rows' weights, new samples' weights where the method defines a
 * function of x, and a clear refusal where it does not (KMM). */
#include <string.h>

#include "method_internal.h"
#include "tl/instance.h"

#define P_GAMMA                                                                                    \
    {"gamma", TL_PARAM_REAL, "0", 0, 1e300, NULL,                                                  \
     "RBF gamma (0: median heuristic on source + target)", NULL}
#define P_CENTERS                                                                                  \
    {"centers", TL_PARAM_INT, "100", 1, 100000, NULL, "kernel centres drawn from the target",     \
     "50,100,200"}
#define P_WIDTHS                                                                                   \
    {"widths", TL_PARAM_INT, "1", 1, 32, NULL,                                                     \
     "choose the kernel width among N candidates gamma * 2^(k - (N-1)/2) (KLIEP: likelihood "      \
     "cross-validation; uLSIF: leave-one-out, with lambda when it is negative); 1 keeps gamma",    \
     NULL}
#define P_MAXIT {"max-iter", TL_PARAM_INT, "1000", 1, 1e8, NULL, "solver iterations", NULL}

static const tl_param_desc kmm_params[] = {
    P_GAMMA,
    {"B", TL_PARAM_REAL, "1000", 1e-300, 1e300, NULL, "upper bound of a weight", NULL},
    {"eps", TL_PARAM_REAL, "0", 0, 1e6, NULL,
     "|mean weight - 1| <= eps (0: (sqrt(ns) - 1) / sqrt(ns))", NULL}};
static const tl_param_desc kliep_params[] = {
    P_GAMMA, P_CENTERS, P_WIDTHS,
    {"folds", TL_PARAM_INT, "5", 2, 1000, NULL, "width selection: cross-validation folds", NULL},
    P_MAXIT};
static const tl_param_desc ulsif_params[] = {
    P_GAMMA, P_CENTERS,
    {"lambda", TL_PARAM_REAL, "0.001", -1e300, 1e300, NULL,
     "ridge (negative: chosen by leave-one-out)", "0.001,0.01,0.1,1"},
    P_WIDTHS};
static const tl_param_desc dclf_params[] = {
    {"clf-C", TL_PARAM_REAL, "1", 1e-12, 1e12, NULL,
     "inverse regularisation of the domain classifier", "0.1,1,10"},
    P_MAXIT};

/* The method's tl_weight_params from its descriptor values. */
static tl_weight_params weight_params(const tl_params *p, uint64_t seed, const tl_ctx *ctx) {
    const tl_method *m = tl_params_method(p);
    tl_weight_params w = tl_weight_params_default((tl_weight_method)m->variant);
    if (tl_method_param_find(m, "gamma")) w.kernel.gamma = tlx_num(p, "gamma");
    if (tl_method_param_find(m, "B")) w.B = tlx_num(p, "B");
    if (tl_method_param_find(m, "eps")) w.eps = tlx_num(p, "eps");
    if (tl_method_param_find(m, "centers")) w.centers = (size_t)tlx_int(p, "centers");
    if (tl_method_param_find(m, "lambda")) w.lambda = tlx_num(p, "lambda");
    if (tl_method_param_find(m, "widths")) w.widths = (size_t)tlx_int(p, "widths");
    if (tl_method_param_find(m, "folds")) w.folds = (size_t)tlx_int(p, "folds");
    if (tl_method_param_find(m, "clf-C")) w.C = tlx_num(p, "clf-C");
    if (tl_method_param_find(m, "max-iter")) w.max_iter = (int)tlx_int(p, "max-iter");
    w.seed = seed;
    w.ctx = ctx;
    return w;
}

static tl_status inst_check(const tl_params *p, size_t n_features, size_t n_samples) {
    (void)n_features;
    (void)n_samples;
    tl_weight_params w = weight_params(p, 42, NULL);
    return tl_weight_params_check(&w);
}

static tl_status inst_fit(const tl_params *p, const tlx_fit_args *f, void **out) {
    tl_weight_params w = weight_params(p, tlx_seed(f->ctx), f->ctx);
    return tl_weighter_fit(&w, tlx_features(f->task, f->source), tlx_features(f->task, f->target),
                           (tl_weighter **)out);
}

static void inst_free(void *s) { tl_weighter_free(s); }

static size_t inst_input_dim(const void *s, size_t domain) {
    (void)domain; /* the weighted rows are the source's; the target shares its width */
    return tl_weighter_input_dim(s);
}

static const double *inst_fit_weights(const void *s, size_t *n) {
    return tl_weighter_fit_weights(s, n);
}

static tl_status inst_weights(const void *s, tl_xmat X, double *w) {
    return tl_weighter_weights(s, X, w);
}

static size_t inst_info(const void *s, const char **keys, double *vals, size_t cap) {
    tl_weight_info in = tl_weighter_info(s);
    tl_weight_method m = tl_weighter_method(s);
    size_t n = 0;
    if (m != TL_WEIGHT_DOMAIN_CLF && n < cap) keys[n] = "gamma", vals[n++] = in.gamma;
    if (m == TL_WEIGHT_ULSIF && n < cap) keys[n] = "lambda", vals[n++] = in.lambda;
    return n;
}

static tl_status weighter_write_fn(const void *w, tl_tlm *c) { return tl_weighter_write(w, c); }

static tl_status inst_write(const void *s, tl_tlm *c, const char *prefix) {
    return tlx_write_nested(s, weighter_write_fn, c, prefix);
}

static tl_status weighter_read_fn(const tl_tlm *c, const char *name, void **out) {
    return tl_weighter_read(c, name, (tl_weighter **)out);
}

static tl_status inst_read(const tl_params *p, const tl_tlm *c, const char *prefix,
                           const char *name, void **out) {
    (void)p;
    return tlx_read_nested(c, prefix, name, weighter_read_fn, out);
}

static const tlx_ops inst_ops = {.check = inst_check,
                                 .fit = inst_fit,
                                 .free = inst_free,
                                 .input_dim = inst_input_dim,
                                 .fit_weights = inst_fit_weights,
                                 .weights = inst_weights,
                                 .info = inst_info,
                                 .write = inst_write,
                                 .read = inst_read};

#define INSTANCE(sym, nm, var, needs, summ, ref, params)                                           \
    const tl_method sym = {nm,     summ,   ref, TL_FAMILY_INSTANCE, var, needs | TL_NEEDS_TARGET,  \
                           "1nn",  params, TLX_NPARAMS(params),     &inst_ops}

INSTANCE(tlx_m_kmm, "kmm", TL_WEIGHT_KMM, 0,
         "kernel mean matching: a QP over the source weights (fitting rows only)",
         "Huang et al., NIPS 2006", kmm_params);
INSTANCE(tlx_m_kliep, "kliep", TL_WEIGHT_KLIEP, TL_WEIGHTS_NEW_SAMPLES,
         "KL importance estimation: a kernel model of the density ratio",
         "Sugiyama et al., NIPS 2007", kliep_params);
INSTANCE(tlx_m_ulsif, "ulsif", TL_WEIGHT_ULSIF, TL_WEIGHTS_NEW_SAMPLES,
         "unconstrained least-squares importance fitting",
         "Kanamori, Hido & Sugiyama, JMLR 2009", ulsif_params);
INSTANCE(tlx_m_domain_clf, "domain-clf", TL_WEIGHT_DOMAIN_CLF, TL_WEIGHTS_NEW_SAMPLES,
         "density ratio from a logistic source-vs-target classifier",
         "Bickel, Brueckner & Scheffer, ICML 2007", dclf_params);
