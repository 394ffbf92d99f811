/* tl_weighter (tl/instance.h): an importance weighting kept as a fitted model. The weights of the
 * fitting source rows come from tli_weights_fit exactly as tl_weights_fit computes them; what the
 * fit learnt about the ratio p_t(x) / p_s(x) is kept as a function so new samples get weights on
 * the same scale (the mean-1 factor of the fit is kept too):
 *   KLIEP, uLSIF:  w(x) = scale * sum_l alpha_l k(x, c_l)       (Sugiyama et al. 2008;
 *                                                               Kanamori et al. 2009)
 *   domain-clf:    w(x) = scale * prior * p(t|x) / max(p(s|x), 1e-12), p(t|x) = sigmoid(v.x + b)
 * KMM's QP has one variable per fitting row and defines no function of x (Huang et al. 2007):
 * asking it for other rows' weights fails with a message that says so and names the methods
 * that can. Saved through the .tlm container like every model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance/instance_internal.h"

struct tl_weighter {
    tl_weight_params p; /* ctx cleared */
    tl_weight_info info;
    size_t ns, d;
    double *w;          /* (ns) the fitting rows' weights, mean 1 */
    double scale;       /* the mean-1 factor applied to r(x) */
    tli_ratio r;
};

void tl_weighter_free(tl_weighter *w) {
    if (!w) return;
    tl_free(w->w);
    tli_ratio_free(&w->r);
    tl_free(w);
}

tl_status tl_weighter_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, tl_weighter **out) {
    tl_status st = TL_OK;
    tl_weighter *m = NULL;
    TL_CHECK(p && out, TL_ERR_INVALID_ARG, "weighter_fit: NULL parameters or output");
    *out = NULL;
    TL_CALLOC(m, 1);
    m->p = *p;
    m->p.ctx = NULL;
    m->ns = tl_xmat_rows(Xs);
    m->d = tl_xmat_cols(Xs);
    TL_ALLOC(m->w, m->ns ? m->ns : 1);
    TL_TRY(tli_weights_fit(p, Xs, Xt, m->w, &m->info, &m->r, &m->scale));
    *out = m;
    m = NULL;
done:
    tl_weighter_free(m);
    return st;
}

const double *tl_weighter_fit_weights(const tl_weighter *w, size_t *n) {
    if (n) *n = w ? w->ns : 0;
    return w ? w->w : NULL;
}

tl_weight_info tl_weighter_info(const tl_weighter *w) {
    tl_weight_info z = {0.0, 0.0};
    return w ? w->info : z;
}

size_t tl_weighter_input_dim(const tl_weighter *w) { return w ? w->d : 0; }

tl_weight_method tl_weighter_method(const tl_weighter *w) {
    return w ? w->p.method : TL_WEIGHT_KMM;
}

tl_status tl_weighter_weights(const tl_weighter *m, tl_xmat X, double *out) {
    tl_status st = TL_OK;
    tl_mat Phi = {0, 0, 0, NULL}, B = {0, 0, 0, NULL};
    TL_CHECK(m && out, TL_ERR_INVALID_ARG, "weighter_weights: NULL weighter or output");
    const char *nm = tl_weight_method_name(m->p.method);
    TL_CHECK(m->r.kind != 0, TL_ERR_UNSUPPORTED,
             "%s weights only the source rows it was fitted on (its quadratic programme has one "
             "variable per row and defines no function of x); kliep, ulsif, domain-clf and rulsif "
             "weight new samples",
             nm);
    size_t n = tl_xmat_rows(X);
    TL_CHECK(tl_xmat_cols(X) == m->d, TL_ERR_SHAPE,
             "%s weights: the samples have %zu features, the weighting was fitted on %zu", nm,
             tl_xmat_cols(X), m->d);
    if (n == 0) goto done;
    if (m->r.kind == 1) {
        size_t b = m->r.C.rows, blk = 4096;
        TL_TRY(tl_mat_alloc(&Phi, n < blk ? n : blk, b));
        for (size_t r0 = 0; r0 < n; r0 += blk) {
            size_t nb = n - r0 < blk ? n - r0 : blk;
            tl_mat P = tl_mat_rows(Phi, 0, nb);
            TL_TRY(tl_mat_alloc(&B, nb, m->d));
            TL_TRY(tl_xmat_rows_dense(X, r0, nb, B));
            TL_TRY(tl_mat_check_finite(B, "weighter: samples"));
            TL_TRY(tl_kernel_matrix(&m->r.k, B, m->r.C, P));
            TL_TRY(tl_gemv(TL_NOTRANS, m->scale, P, m->r.alpha, 0.0, out + r0));
            tl_mat_free(&B);
        }
    } else {
        const double *v = m->r.v;
        TL_TRY(tl_mat_alloc(&B, 1, m->d));
        for (size_t i = 0; i < n; i++) {
            TL_TRY(tl_xmat_rows_dense(X, i, 1, B));
            double z = v[m->d];
            for (size_t j = 0; j < m->d; j++) z += v[j] * B.data[j];
            TL_CHECK(isfinite(z), TL_ERR_NONFINITE, "%s weights: sample %zu is not finite", nm,
                     i + 1);
            double e = exp(-fabs(z)), pt = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e),
                   ps = z >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
            out[i] = m->scale * m->r.prior * pt / (ps > 1e-12 ? ps : 1e-12);
        }
    }
done:
    tl_mat_free(&Phi);
    tl_mat_free(&B);
    return st;
}

/* ---- the container ---- */

/* A float64 tensor of exactly the given shape (cols 0: a vector), copied into *out. */
static tl_status get_f64(const tl_tlm *c, const char *name, const char *tn, size_t rows,
                         size_t cols, double **out) {
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    tl_status st = tl_tlm_get_tensor(c, tn, &dt, &nd, &dims, &data);
    if (st != TL_OK) return tl_fail(TL_ERR_FORMAT, "%s: weighting lacks tensor '%s'", name, tn);
    if (dt != TL_DTYPE_F64 || nd != (cols ? 2u : 1u) || dims[0] != rows ||
        (cols && dims[1] != cols))
        return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s' has the wrong type or shape", name, tn);
    size_t n = cols ? rows * cols : rows;
    *out = tl_malloc((n ? n : 1) * sizeof(double));
    if (!*out) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", name);
    if (n) memcpy(*out, data, n * sizeof(double));
    return TL_OK;
}

tl_status tl_weighter_write(const tl_weighter *m, tl_tlm *c) {
    tl_status st = TL_OK;
    TL_CHECK(m && c, TL_ERR_INVALID_ARG, "weighter_write: NULL weighter or container");
    TL_TRY(tl_tlm_set_meta(c, "model", "tl_weighter"));
    TL_TRY(tl_tlm_set_meta(c, "method", tl_weight_method_name(m->p.method)));
    TL_TRY(tl_tlm_set_num(c, "features", (double)m->d));
    TL_TRY(tl_tlm_set_num(c, "kind", m->r.kind));
    TL_TRY(tl_tlm_set_num(c, "scale", m->scale));
    TL_TRY(tl_tlm_set_num(c, "gamma", m->info.gamma));
    TL_TRY(tl_tlm_set_num(c, "lambda", m->info.lambda));
    size_t dn[1] = {m->ns};
    TL_TRY(tl_tlm_add_tensor(c, "fit_weights", TL_DTYPE_F64, 1, dn, m->w));
    if (m->r.kind == 1) {
        TL_TRY(tl_tlm_set_meta(c, "kernel", m->r.k.type == TL_KERNEL_RBF      ? "rbf"
                                            : m->r.k.type == TL_KERNEL_LINEAR ? "linear"
                                                                              : "poly"));
        TL_TRY(tl_tlm_set_num(c, "kernel_gamma", m->r.k.gamma));
        TL_TRY(tl_tlm_set_num(c, "kernel_coef0", m->r.k.coef0));
        TL_TRY(tl_tlm_set_num(c, "kernel_degree", m->r.k.degree));
        size_t dc[2] = {m->r.C.rows, m->r.C.cols}, da[1] = {m->r.C.rows};
        TL_CHECK(m->r.C.ld == m->r.C.cols, TL_ERR_INVALID_ARG, "weighter_write: strided centres");
        TL_TRY(tl_tlm_add_tensor(c, "centres", TL_DTYPE_F64, 2, dc, m->r.C.data));
        TL_TRY(tl_tlm_add_tensor(c, "alpha", TL_DTYPE_F64, 1, da, m->r.alpha));
    } else if (m->r.kind == 2) {
        TL_TRY(tl_tlm_set_num(c, "prior", m->r.prior));
        size_t dv[1] = {m->d + 1};
        TL_TRY(tl_tlm_add_tensor(c, "classifier", TL_DTYPE_F64, 1, dv, m->r.v));
    }
done:
    return st;
}

tl_status tl_weighter_read(const tl_tlm *c, const char *name, tl_weighter **out) {
    tl_status st = TL_OK;
    tl_weighter *m = NULL;
    double x;
    TL_CHECK(c && out, TL_ERR_INVALID_ARG, "weighter_read: NULL container or output");
    *out = NULL;
    if (!name) name = "weighting";
    const char *kind = tl_tlm_get_meta(c, "model"), *meth = tl_tlm_get_meta(c, "method");
    TL_CHECK(kind && strcmp(kind, "tl_weighter") == 0, TL_ERR_FORMAT, "%s: holds no weighting",
             name);
    tl_weight_method wm;
    TL_CHECK(meth && tl_weight_method_parse(meth, &wm) == TL_OK, TL_ERR_FORMAT,
             "%s: unknown weighting method '%s'", name, meth ? meth : "");
    TL_CALLOC(m, 1);
    m->p = tl_weight_params_default(wm);
    TL_TRY(tl_tlm_get_num(c, name, "features", -HUGE_VAL, HUGE_VAL, &x));
    TL_CHECK(x >= 1 && x < 2147483648.0 && x == floor(x), TL_ERR_FORMAT,
             "%s: feature count %g is invalid", name, x);
    m->d = (size_t)x;
    TL_TRY(tl_tlm_get_num(c, name, "kind", -HUGE_VAL, HUGE_VAL, &x));
    TL_CHECK(x == 0 || x == 1 || x == 2, TL_ERR_FORMAT, "%s: unknown weighting kind %g", name, x);
    m->r.kind = (int)x;
    TL_TRY(tl_tlm_get_num(c, name, "scale", -HUGE_VAL, HUGE_VAL, &m->scale));
    TL_TRY(tl_tlm_get_num(c, name, "gamma", -HUGE_VAL, HUGE_VAL, &m->info.gamma));
    TL_TRY(tl_tlm_get_num(c, name, "lambda", -HUGE_VAL, HUGE_VAL, &m->info.lambda));
    {
        size_t nd;
        const size_t *dims;
        TL_CHECK(tl_tlm_get_tensor(c, "fit_weights", NULL, &nd, &dims, NULL) == TL_OK && nd == 1,
                 TL_ERR_FORMAT, "%s: weighting lacks its fitting weights", name);
        m->ns = dims[0];
        TL_TRY(get_f64(c, name, "fit_weights", m->ns, 0, &m->w));
    }
    if (m->r.kind == 1) {
        tl_kernel_type kt;
        const char *ks = tl_tlm_get_meta(c, "kernel");
        TL_CHECK(ks && tl_kernel_type_parse(ks, &kt) == TL_OK, TL_ERR_FORMAT,
                 "%s: unknown kernel '%s'", name, ks ? ks : "");
        m->r.k = tl_kernel_default(kt);
        TL_TRY(tl_tlm_get_num(c, name, "kernel_gamma", -HUGE_VAL, HUGE_VAL, &m->r.k.gamma));
        TL_TRY(tl_tlm_get_num(c, name, "kernel_coef0", -HUGE_VAL, HUGE_VAL, &m->r.k.coef0));
        TL_TRY(tl_tlm_get_num(c, name, "kernel_degree", -HUGE_VAL, HUGE_VAL, &x));
        TL_CHECK(x >= 0 && x <= 64, TL_ERR_FORMAT, "%s: kernel degree %g is invalid", name, x);
        m->r.k.degree = (int)x;
        TL_CHECK(kt == TL_KERNEL_LINEAR || m->r.k.gamma > 0, TL_ERR_FORMAT,
                 "%s: kernel gamma %g is invalid", name, m->r.k.gamma);
        size_t nd;
        const size_t *dims;
        TL_CHECK(tl_tlm_get_tensor(c, "centres", NULL, &nd, &dims, NULL) == TL_OK && nd == 2 &&
                     dims[1] == m->d && dims[0] > 0,
                 TL_ERR_FORMAT, "%s: weighting lacks centres of %zu features", name, m->d);
        size_t b = dims[0];
        double *buf = NULL;
        TL_TRY(get_f64(c, name, "centres", b, m->d, &buf));
        m->r.C = tl_mat_view(buf, b, m->d);
        TL_TRY(get_f64(c, name, "alpha", b, 0, &m->r.alpha));
    } else if (m->r.kind == 2) {
        TL_TRY(tl_tlm_get_num(c, name, "prior", -HUGE_VAL, HUGE_VAL, &m->r.prior));
        TL_TRY(get_f64(c, name, "classifier", m->d + 1, 0, &m->r.v));
    }
    *out = m;
    m = NULL;
done:
    tl_weighter_free(m);
    return st;
}
