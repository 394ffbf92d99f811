/* Relative uLSIF (RuLSIF; Yamada, Suzuki, Kanamori, Hachiya & Sugiyama, "Relative density-ratio
 * estimation for robust distribution comparison", NIPS 2011 / Neural Computation 2013): importance
 * weights from the alpha-relative density ratio
 *     r_a(x) = p_t(x) / (a p_t(x) + (1 - a) p_s(x)),
 * which is bounded by 1/a, so no source sample can take the whole weight the way an ordinary ratio
 * lets it when the target has mass where the source has little (a = 0 is uLSIF). Model
 * r(x) = sum_l theta_l k(x, c_l) with b Gaussian centres drawn from the target; the squared-loss
 * fit is closed-form:
 *     H = (1 - a)/ns Phi_s^T Phi_s + a/nt Phi_t^T Phi_t,  h = mean of Phi_t's rows,
 *     theta = max(0, (H + lambda I)^{-1} h),   w_i = r(x_i) rescaled to mean 1 on the source.
 * The kernel width is the median heuristic on the pooled rows (gamma = 1 / median ||x - x'||^2),
 * as the library's other ratio estimators default to.
 *
 * This file is the whole method: descriptor, parameters, fit, weights for new samples, save and
 * load. Listed in registry.c, it reaches `tl weight`, `tl help`, --json, saved models and the
 * guard through the generic code, with no other file changed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "method_internal.h"

static const tl_param_desc rulsif_params[] = {
    {"alpha", TL_PARAM_REAL, "0.1", 0, 0.999, NULL,
     "relative mixture: the ratio p_t / (alpha p_t + (1 - alpha) p_s) is at most 1/alpha "
     "(0: uLSIF)",
     "0,0.1,0.5"},
    {"gamma", TL_PARAM_REAL, "0", 0, 1e300, NULL,
     "RBF gamma (0: median heuristic on source + target)", NULL},
    {"centers", TL_PARAM_INT, "100", 1, 100000, NULL, "kernel centres drawn from the target",
     "50,100,200"},
    {"lambda", TL_PARAM_REAL, "0.001", 1e-12, 1e12, NULL, "ridge of the least-squares fit",
     "0.001,0.01,0.1"}};

typedef struct {
    tl_kernel k;
    tl_mat C;      /* (b, d) centres */
    double *theta; /* (b) */
    double scale;  /* mean-1 factor of the fitting rows */
    double *w;     /* (ns) fitting weights */
    size_t ns;
} rulsif_state;

static void rulsif_free(void *sp) {
    rulsif_state *s = sp;
    if (!s) return;
    tl_mat_free(&s->C);
    tl_free(s->theta);
    tl_free(s->w);
    tl_free(s);
}

/* Rows idx of X densified into out (k, d). */
static tl_status gather(tl_xmat X, const size_t *idx, size_t k, tl_mat out) {
    tl_status st = TL_OK;
    for (size_t i = 0; i < k && st == TL_OK; i++)
        st = tl_xmat_rows_dense(X, idx[i], 1, tl_mat_rows(out, i, 1));
    return st;
}

/* Phi (rows(X), b) = k(X, C), X densified in blocks; Phi allocated. */
static tl_status design(const tl_kernel *k, tl_xmat X, tl_mat C, tl_mat *Phi) {
    tl_status st = TL_OK;
    tl_mat B = {0, 0, 0, NULL};
    size_t n = tl_xmat_rows(X), blk = 2048;
    TL_TRY(tl_mat_alloc(Phi, n, C.rows));
    for (size_t r0 = 0; r0 < n; r0 += blk) {
        size_t nb = n - r0 < blk ? n - r0 : blk;
        TL_TRY(tl_mat_alloc(&B, nb, C.cols));
        TL_TRY(tl_xmat_rows_dense(X, r0, nb, B));
        TL_TRY(tl_mat_check_finite(B, "rulsif: samples"));
        TL_TRY(tl_kernel_matrix(k, B, C, tl_mat_rows(*Phi, r0, nb)));
        tl_mat_free(&B);
    }
done:
    tl_mat_free(&B);
    return st;
}

static tl_status rulsif_fit(const tl_params *p, const tlx_fit_args *f, void **out) {
    tl_status st = TL_OK;
    rulsif_state *s = NULL;
    tl_mat Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL}, H = {0, 0, 0, NULL}, S = {0, 0, 0, NULL};
    size_t *idx = NULL;
    double *h = NULL;
    tl_xmat Xs = tlx_features(f->task, f->source), Xt = tlx_features(f->task, f->target);
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), d = tl_xmat_cols(Xs);
    double a = tlx_num(p, "alpha"), lambda = tlx_num(p, "lambda");
    uint64_t seed = tlx_seed(f->ctx);
    TL_CHECK(ns > 0 && nt > 0, TL_ERR_EMPTY, "rulsif: source (%zu rows) and target (%zu rows) "
             "must both have samples", ns, nt);
    TL_CHECK(tl_xmat_cols(Xt) == d, TL_ERR_SHAPE, "rulsif: source has %zu features, target %zu",
             d, tl_xmat_cols(Xt));
    TL_CALLOC(s, 1);
    s->k = tl_kernel_default(TL_KERNEL_RBF);
    s->k.gamma = tlx_num(p, "gamma");
    /* centres: b target rows, a seeded sample (all of them, in order, when b >= nt) */
    size_t b = (size_t)tlx_int(p, "centers");
    if (b > nt) b = nt;
    TL_ALLOC(idx, ns + nt);
    for (size_t i = 0; i < nt; i++) idx[i] = i;
    tl_rng r;
    tl_rng_seed(&r, seed);
    if (b < nt) tl_rng_shuffle(&r, idx, nt);
    TL_TRY(tl_mat_alloc(&s->C, b, d));
    TL_TRY(gather(Xt, idx, b, s->C));
    if (!(s->k.gamma > 0)) { /* median heuristic on up to 1000 rows of each domain */
        size_t ks = ns < 1000 ? ns : 1000, kt = nt < 1000 ? nt : 1000;
        TL_TRY(tl_mat_alloc(&S, ks + kt, d));
        for (size_t i = 0; i < ns; i++) idx[i] = i;
        tl_rng_shuffle(&r, idx, ns);
        TL_TRY(gather(Xs, idx, ks, tl_mat_rows(S, 0, ks)));
        for (size_t i = 0; i < nt; i++) idx[i] = i;
        tl_rng_shuffle(&r, idx, nt);
        TL_TRY(gather(Xt, idx, kt, tl_mat_rows(S, ks, kt)));
        TL_TRY(tl_kernel_median_gamma(S, seed, &s->k.gamma));
    }
    TL_TRY(design(&s->k, Xs, s->C, &Ps));
    TL_TRY(design(&s->k, Xt, s->C, &Pt));
    TL_TRY(tl_mat_alloc(&H, b, b));
    TL_TRY(tl_syrk(TL_TRANS, (1.0 - a) / (double)ns, Ps, 0.0, H));
    if (a > 0) TL_TRY(tl_syrk(TL_TRANS, a / (double)nt, Pt, 1.0, H));
    for (size_t l = 0; l < b; l++) TL_AT(H, l, l) += lambda;
    TL_ALLOC(h, b);
    for (size_t l = 0; l < b; l++) h[l] = 0;
    for (size_t i = 0; i < nt; i++)
        for (size_t l = 0; l < b; l++) h[l] += TL_AT(Pt, i, l) / (double)nt;
    tl_mat hv = tl_mat_view(h, b, 1);
    st = tl_solve_spd(H, hv);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "rulsif (lambda = %g; a larger lambda regularises more)", lambda);
        goto done;
    }
    for (size_t l = 0; l < b; l++)
        if (h[l] < 0) h[l] = 0;
    s->theta = h;
    h = NULL;
    s->ns = ns;
    TL_ALLOC(s->w, ns);
    TL_TRY(tl_gemv(TL_NOTRANS, 1.0, Ps, s->theta, 0.0, s->w));
    double sum = 0;
    for (size_t i = 0; i < ns; i++) sum += s->w[i];
    TL_CHECK(sum > 0 && isfinite(sum), TL_ERR_LINALG,
             "rulsif: every weight is zero: no source sample resembles the target under this "
             "kernel (try a smaller gamma)");
    s->scale = (double)ns / sum;
    for (size_t i = 0; i < ns; i++) s->w[i] *= s->scale;
    *out = s;
    s = NULL;
done:
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_mat_free(&H);
    tl_mat_free(&S);
    tl_free(idx);
    tl_free(h);
    rulsif_free(s);
    return st;
}

static size_t rulsif_input_dim(const void *sp, size_t domain) {
    (void)domain;
    return ((const rulsif_state *)sp)->C.cols;
}

static const double *rulsif_fit_weights(const void *sp, size_t *n) {
    const rulsif_state *s = sp;
    if (n) *n = s->ns;
    return s->w;
}

static tl_status rulsif_weights(const void *sp, tl_xmat X, double *w) {
    const rulsif_state *s = sp;
    tl_status st = TL_OK;
    tl_mat P = {0, 0, 0, NULL};
    TL_CHECK(tl_xmat_cols(X) == s->C.cols, TL_ERR_SHAPE,
             "rulsif weights: the samples have %zu features, the weighting was fitted on %zu",
             tl_xmat_cols(X), s->C.cols);
    if (tl_xmat_rows(X) == 0) goto done;
    TL_TRY(design(&s->k, X, s->C, &P));
    TL_TRY(tl_gemv(TL_NOTRANS, s->scale, P, s->theta, 0.0, w));
done:
    tl_mat_free(&P);
    return st;
}

static size_t rulsif_info(const void *sp, const char **keys, double *vals, size_t cap) {
    const rulsif_state *s = sp;
    if (cap < 1) return 0;
    keys[0] = "gamma";
    vals[0] = s->k.gamma;
    return 1;
}

static tl_status rulsif_write(const void *sp, tl_tlm *c, const char *prefix) {
    const rulsif_state *s = sp;
    tl_status st = TL_OK;
    char k[256];
    TL_TRY(tlx_put_num(c, prefix, "gamma", s->k.gamma));
    TL_TRY(tlx_put_num(c, prefix, "scale", s->scale));
    size_t dc[2] = {s->C.rows, s->C.cols}, db[1] = {s->C.rows}, dw[1] = {s->ns};
    TL_TRY(tlx_key(k, sizeof k, prefix, "centres"));
    TL_TRY(tl_tlm_add_tensor(c, k, TL_DTYPE_F64, 2, dc, s->C.data));
    TL_TRY(tlx_key(k, sizeof k, prefix, "theta"));
    TL_TRY(tl_tlm_add_tensor(c, k, TL_DTYPE_F64, 1, db, s->theta));
    TL_TRY(tlx_key(k, sizeof k, prefix, "fit_weights"));
    TL_TRY(tl_tlm_add_tensor(c, k, TL_DTYPE_F64, 1, dw, s->w));
done:
    return st;
}

/* A float64 tensor "<prefix><name>" of rank 1 (cols 0) or 2, copied; *rows receives its rows. */
static tl_status get_tensor(const tl_tlm *c, const char *prefix, const char *tn, const char *name,
                            size_t cols, size_t *rows, double **out) {
    char k[256];
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    tl_status st = tlx_key(k, sizeof k, prefix, tn);
    if (st != TL_OK) return st;
    if (tl_tlm_get_tensor(c, k, &dt, &nd, &dims, &data) != TL_OK || dt != TL_DTYPE_F64 ||
        nd != (cols ? 2u : 1u) || (cols && dims[1] != cols) || dims[0] == 0 ||
        (*rows && dims[0] != *rows))
        return tl_fail(TL_ERR_FORMAT, "%s: rulsif model lacks a valid tensor '%s'", name, tn);
    *rows = dims[0];
    size_t n = cols ? dims[0] * cols : dims[0];
    *out = tl_malloc(n * sizeof(double));
    if (!*out) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", name);
    memcpy(*out, data, n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        if (!isfinite((*out)[i])) return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s' is not finite", name, tn);
    return TL_OK;
}

static tl_status rulsif_read(const tl_params *p, const tl_tlm *c, const char *prefix,
                             const char *name, void **out) {
    tl_status st = TL_OK;
    rulsif_state *s = NULL;
    double *buf = NULL;
    (void)p;
    TL_CALLOC(s, 1);
    s->k = tl_kernel_default(TL_KERNEL_RBF);
    TL_TRY(tlx_get_num(c, prefix, "gamma", name, &s->k.gamma));
    TL_TRY(tlx_get_num(c, prefix, "scale", name, &s->scale));
    TL_CHECK(s->k.gamma > 0 && isfinite(s->k.gamma) && s->scale > 0 && isfinite(s->scale),
             TL_ERR_FORMAT, "%s: rulsif gamma or scale is invalid", name);
    size_t b = 0, d = 0, one = 0;
    char k[256];
    const size_t *dims;
    size_t nd;
    TL_TRY(tlx_key(k, sizeof k, prefix, "centres"));
    TL_CHECK(tl_tlm_get_tensor(c, k, NULL, &nd, &dims, NULL) == TL_OK && nd == 2 && dims[1] > 0,
             TL_ERR_FORMAT, "%s: rulsif model lacks its centres", name);
    d = dims[1];
    TL_TRY(get_tensor(c, prefix, "centres", name, d, &b, &buf));
    s->C = tl_mat_view(buf, b, d);
    buf = NULL;
    TL_TRY(get_tensor(c, prefix, "theta", name, 0, &b, &s->theta));
    TL_TRY(get_tensor(c, prefix, "fit_weights", name, 0, &one, &s->w));
    s->ns = one;
    *out = s;
    s = NULL;
done:
    tl_free(buf);
    rulsif_free(s);
    return st;
}

static const tlx_ops rulsif_ops = {.fit = rulsif_fit,
                                   .free = rulsif_free,
                                   .input_dim = rulsif_input_dim,
                                   .fit_weights = rulsif_fit_weights,
                                   .weights = rulsif_weights,
                                   .info = rulsif_info,
                                   .write = rulsif_write,
                                   .read = rulsif_read};

const tl_method tlx_m_rulsif = {"rulsif",
                                "relative uLSIF: weights from the alpha-relative density ratio, "
                                "bounded by 1/alpha",
                                "Yamada et al., NIPS 2011",
                                TL_FAMILY_INSTANCE,
                                0,
                                TL_NEEDS_TARGET | TL_WEIGHTS_NEW_SAMPLES,
                                "1nn",
                                rulsif_params,
                                TLX_NPARAMS(rulsif_params),
                                &rulsif_ops};
