/* Preprocessing: per-sample sum (L1 for histograms) and L2 normalisation, per-column z-score
 * (population std, MATLAB zscore(X,1): constant columns become 0 because a zero std is replaced
 * by 1 after centring) and min-max scaling to [0, 1] (a zero range replaced by 1 likewise).
 *
 * The Office+Caltech SURF protocol is "rowsum,zscore" fitted and applied per domain
 * (tl_preprocess_apply); the JDA/TCA family and MNIST-USPS use "l2".
 *
 * Why it is built this way: column statistics are learned by tl_scaler_fit on one set and applied
 * unchanged to others (fit on source, transform target and new samples), with steps applied in
 * order, so the statistics of a later step are computed on the output of the earlier ones. Row
 * steps need no state and work on CSR values directly; centring a sparse matrix would make it
 * dense, so z-score/min-max refuse sparse data rather than silently densifying 5000-d text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

static const char *tl_pre_name(tl_pre_step s) {
    switch (s) {
    case TL_PRE_ROWSUM: return "rowsum";
    case TL_PRE_L2: return "l2";
    case TL_PRE_ZSCORE: return "zscore";
    case TL_PRE_MINMAX: return "minmax";
    }
    return "?";
}

static bool tl_word_eq(const char *s, size_t n, const char *w) {
    if (strlen(w) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return false;
    }
    return true;
}

tl_status tl_preprocess_parse(const char *spec, tl_preprocess *out) {
    tl_status st = TL_OK;
    tl_preprocess p;
    memset(&p, 0, sizeof p);
    char q[64];
    TL_CHECK(spec != NULL, TL_ERR_INVALID_ARG, "preprocessing: no spec given");
    const char *s = spec;
    bool none = false;
    size_t words = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t') s++;
        const char *a = s;
        while (*s && *s != ',') s++;
        size_t n = (size_t)(s - a);
        while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t')) n--;
        if (n == 0 && words == 0 && *s == '\0') break; /* "" = none */
        TL_CHECK(n > 0, TL_ERR_INVALID_ARG,
                 "preprocessing \"%s\": empty step (expected words separated by commas)", spec);
        words++;
        tl_pre_step step = TL_PRE_L2;
        if (tl_word_eq(a, n, "none")) {
            none = true;
        } else {
            if (tl_word_eq(a, n, "rowsum") || tl_word_eq(a, n, "sum") || tl_word_eq(a, n, "l1"))
                step = TL_PRE_ROWSUM;
            else if (tl_word_eq(a, n, "l2"))
                step = TL_PRE_L2;
            else if (tl_word_eq(a, n, "zscore") || tl_word_eq(a, n, "standard"))
                step = TL_PRE_ZSCORE;
            else if (tl_word_eq(a, n, "minmax"))
                step = TL_PRE_MINMAX;
            else {
                TL_CHECK(false, TL_ERR_INVALID_ARG,
                         "unknown preprocessing step \"%s\" (expected none, rowsum, l2, zscore, "
                         "minmax, or a comma-separated list)",
                         tl_text_quote(a, n, q, sizeof q));
            }
            TL_CHECK(p.nsteps < TL_PRE_MAX_STEPS, TL_ERR_INVALID_ARG,
                     "preprocessing \"%s\": more than %d steps", spec, TL_PRE_MAX_STEPS);
            p.steps[p.nsteps++] = step;
        }
        if (*s == '\0') break;
        s++; /* ',' */
    }
    TL_CHECK(!none || words == 1, TL_ERR_INVALID_ARG,
             "preprocessing \"%s\": \"none\" cannot be combined with other steps", spec);
    *out = p;
done:
    return st;
}

void tl_preprocess_format(const tl_preprocess *p, char *buf, size_t cap) {
    if (!buf || cap == 0) return;
    buf[0] = '\0';
    if (!p || p->nsteps == 0) {
        snprintf(buf, cap, "none");
        return;
    }
    size_t o = 0;
    for (size_t k = 0; k < p->nsteps && k < TL_PRE_MAX_STEPS; k++) {
        int w = snprintf(buf + o, cap - o, "%s%s", k ? "," : "", tl_pre_name(p->steps[k]));
        if (w < 0 || (size_t)w >= cap - o) return; /* truncated, still NUL-terminated */
        o += (size_t)w;
    }
}

/* ---- dense building blocks ---- */
void tl_rows_l2_normalize(tl_mat X) {
    for (size_t i = 0; i < X.rows; i++) {
        double *r = X.data + i * X.ld;
        double s = 0;
        for (size_t j = 0; j < X.cols; j++) s += r[j] * r[j];
        if (s > 0) {
            double inv = 1.0 / sqrt(s);
            for (size_t j = 0; j < X.cols; j++) r[j] *= inv;
        }
    }
}

void tl_rows_sum_normalize(tl_mat X) {
    for (size_t i = 0; i < X.rows; i++) {
        double *r = X.data + i * X.ld;
        double s = 0;
        for (size_t j = 0; j < X.cols; j++) s += r[j];
        if (s != 0)
            for (size_t j = 0; j < X.cols; j++) r[j] /= s;
    }
}

void tl_cols_mean_std(tl_mat X, double *mean, double *std) {
    size_t n = X.rows, d = X.cols;
    for (size_t j = 0; j < d; j++) mean[j] = std[j] = 0;
    if (n == 0) return;
    /* two passes (mean, then squared deviations): no cancellation for large offsets */
    for (size_t i = 0; i < n; i++) {
        const double *r = X.data + i * X.ld;
        for (size_t j = 0; j < d; j++) mean[j] += r[j];
    }
    for (size_t j = 0; j < d; j++) mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        const double *r = X.data + i * X.ld;
        for (size_t j = 0; j < d; j++) {
            double t = r[j] - mean[j];
            std[j] += t * t;
        }
    }
    for (size_t j = 0; j < d; j++) std[j] = sqrt(std[j] / (double)n);
}

/* ---- sparse row steps (on CSR values) ---- */
static void tl_csr_rows_scale(tl_dataset *ds, bool l2) {
    for (size_t i = 0; i < ds->rows; i++) {
        double s = 0;
        for (size_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
            s += l2 ? ds->values[k] * ds->values[k] : ds->values[k];
        if (s == 0) continue;
        double f = l2 ? 1.0 / sqrt(s) : 1.0 / s;
        for (size_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++)
            ds->values[k] = l2 ? ds->values[k] * f : ds->values[k] / s;
    }
}

/* ---- fitted scaler ---- */
struct tl_scaler {
    tl_preprocess p;
    size_t d;                          /* columns the column steps were fitted on */
    double *shift[TL_PRE_MAX_STEPS];   /* (d) per column step: mean or min; NULL for row steps */
    double *scale[TL_PRE_MAX_STEPS];   /* (d) std or range, zeros replaced by 1 */
};

void tl_scaler_free(tl_scaler *s) {
    if (!s) return;
    for (size_t k = 0; k < TL_PRE_MAX_STEPS; k++) {
        tl_free(s->shift[k]);
        tl_free(s->scale[k]);
    }
    tl_free(s);
}

static bool tl_is_col_step(tl_pre_step s) { return s == TL_PRE_ZSCORE || s == TL_PRE_MINMAX; }

static tl_status tl_check_steps(const tl_preprocess *p) {
    if (p->nsteps > TL_PRE_MAX_STEPS)
        return tl_fail(TL_ERR_INVALID_ARG, "preprocessing: %zu steps, at most %d", p->nsteps,
                       TL_PRE_MAX_STEPS);
    for (size_t k = 0; k < p->nsteps; k++)
        if (p->steps[k] < TL_PRE_ROWSUM || p->steps[k] > TL_PRE_MINMAX)
            return tl_fail(TL_ERR_INVALID_ARG, "preprocessing: unknown step code %d",
                           (int)p->steps[k]);
    return TL_OK;
}

static tl_status tl_refuse_sparse(const tl_dataset *ds, tl_pre_step s) {
    return tl_fail(TL_ERR_UNSUPPORTED,
                   "%s: %s on sparse data would make it dense (centring fills every zero); use "
                   "\"l2\" or \"rowsum\" for sparse data, or densify it first",
                   ds->name ? ds->name : "dataset", tl_pre_name(s));
}

/* Apply step k of s to dense X in place. */
static void tl_apply_step_dense(const tl_scaler *s, size_t k, tl_mat X) {
    switch (s->p.steps[k]) {
    case TL_PRE_ROWSUM: tl_rows_sum_normalize(X); break;
    case TL_PRE_L2: tl_rows_l2_normalize(X); break;
    case TL_PRE_ZSCORE:
    case TL_PRE_MINMAX:
        for (size_t i = 0; i < X.rows; i++) {
            double *r = X.data + i * X.ld;
            for (size_t j = 0; j < X.cols; j++) r[j] = (r[j] - s->shift[k][j]) / s->scale[k][j];
        }
        break;
    }
}

tl_status tl_scaler_fit(const tl_preprocess *p, const tl_dataset *ds, tl_scaler **out) {
    tl_status st = TL_OK;
    tl_scaler *s = NULL;
    tl_mat W = {0, 0, 0, NULL};
    *out = NULL;
    TL_CHECK(p != NULL && ds != NULL, TL_ERR_INVALID_ARG, "scaler fit: NULL argument");
    TL_TRY(tl_check_steps(p));
    TL_CALLOC(s, 1);
    s->p = *p;
    s->d = ds->cols;
    bool any_col = false;
    for (size_t k = 0; k < p->nsteps; k++)
        if (tl_is_col_step(p->steps[k])) {
            if (ds->sparse) TL_TRY(tl_refuse_sparse(ds, p->steps[k]));
            any_col = true;
        }
    if (any_col) {
        TL_CHECK(ds->rows > 0, TL_ERR_EMPTY, "%s: cannot fit column statistics on 0 rows",
                 ds->name ? ds->name : "dataset");
        /* work on a copy, running the steps in order so later statistics see earlier steps */
        TL_TRY(tl_mat_clone(&W, ds->X));
        for (size_t k = 0; k < p->nsteps; k++) {
            if (tl_is_col_step(p->steps[k])) {
                TL_ALLOC(s->shift[k], s->d);
                TL_ALLOC(s->scale[k], s->d);
                if (p->steps[k] == TL_PRE_ZSCORE) {
                    tl_cols_mean_std(W, s->shift[k], s->scale[k]);
                } else {
                    for (size_t j = 0; j < s->d; j++) {
                        double lo = TL_AT(W, 0, j), hi = lo;
                        for (size_t i = 1; i < W.rows; i++) {
                            double v = TL_AT(W, i, j);
                            if (v < lo) lo = v;
                            if (v > hi) hi = v;
                        }
                        s->shift[k][j] = lo;
                        s->scale[k][j] = hi - lo;
                    }
                }
                for (size_t j = 0; j < s->d; j++)
                    if (!(s->scale[k][j] > 0) || !isfinite(s->scale[k][j])) s->scale[k][j] = 1.0;
            }
            /* the last step's effect on W is not needed */
            if (k + 1 < p->nsteps) tl_apply_step_dense(s, k, W);
        }
    }
    *out = s;
    s = NULL;
done:
    tl_mat_free(&W);
    tl_scaler_free(s);
    return st;
}

tl_status tl_scaler_apply(const tl_scaler *s, tl_dataset *ds) {
    tl_status st = TL_OK;
    TL_CHECK(s != NULL && ds != NULL, TL_ERR_INVALID_ARG, "scaler apply: NULL argument");
    for (size_t k = 0; k < s->p.nsteps; k++) {
        if (!tl_is_col_step(s->p.steps[k])) continue;
        if (ds->sparse) TL_TRY(tl_refuse_sparse(ds, s->p.steps[k]));
        TL_CHECK(ds->cols == s->d, TL_ERR_SHAPE,
                 "%s: %zu columns, but the %s statistics were fitted on %zu",
                 ds->name ? ds->name : "dataset", ds->cols, tl_pre_name(s->p.steps[k]), s->d);
    }
    if (s->p.nsteps) TL_TRY(tl_dataset_own_rows(ds)); /* a borrowed set: scale a copy */
    for (size_t k = 0; k < s->p.nsteps; k++) {
        if (ds->sparse)
            tl_csr_rows_scale(ds, s->p.steps[k] == TL_PRE_L2);
        else
            tl_apply_step_dense(s, k, ds->X);
    }
done:
    return st;
}

tl_status tl_preprocess_apply(const tl_preprocess *p, tl_dataset *ds) {
    tl_status st = TL_OK;
    tl_scaler *s = NULL;
    TL_TRY(tl_scaler_fit(p, ds, &s));
    TL_TRY(tl_scaler_apply(s, ds));
done:
    tl_scaler_free(s);
    return st;
}

/* ---- save / load: the steps as text, the column statistics as tensors "shift<k>", "scale<k>" ---- */

tl_status tl_scaler_write(const tl_scaler *s, tl_tlm *c) {
    tl_status st = TL_OK;
    char steps[128], buf[32];
    TL_CHECK(s && c, TL_ERR_INVALID_ARG, "scaler_write: NULL scaler or container");
    tl_preprocess_format(&s->p, steps, sizeof steps);
    TL_TRY(tl_tlm_set_meta(c, "model", "tl_scaler"));
    TL_TRY(tl_tlm_set_meta(c, "steps", steps));
    snprintf(buf, sizeof buf, "%zu", s->d);
    TL_TRY(tl_tlm_set_meta(c, "features", buf));
    for (size_t k = 0; k < s->p.nsteps; k++) {
        if (!s->shift[k]) continue;
        char nm[32];
        size_t dims[1] = {s->d};
        snprintf(nm, sizeof nm, "shift%zu", k);
        TL_TRY(tl_tlm_add_tensor(c, nm, TL_DTYPE_F64, 1, dims, s->shift[k]));
        snprintf(nm, sizeof nm, "scale%zu", k);
        TL_TRY(tl_tlm_add_tensor(c, nm, TL_DTYPE_F64, 1, dims, s->scale[k]));
    }
done:
    return st;
}

tl_status tl_scaler_read(const tl_tlm *c, const char *name, tl_scaler **out) {
    tl_status st = TL_OK;
    tl_scaler *s = NULL;
    TL_CHECK(c && out, TL_ERR_INVALID_ARG, "scaler_read: NULL container or output");
    *out = NULL;
    if (!name) name = "scaler";
    const char *kind = tl_tlm_get_meta(c, "model"), *steps = tl_tlm_get_meta(c, "steps"),
               *feat = tl_tlm_get_meta(c, "features");
    TL_CHECK(kind && strcmp(kind, "tl_scaler") == 0 && steps && feat, TL_ERR_FORMAT,
             "%s: holds no preprocessing", name);
    TL_CALLOC(s, 1);
    st = tl_preprocess_parse(steps, &s->p);
    if (st != TL_OK) {
        st = tl_fail_prefix(TL_ERR_FORMAT, "%s: preprocessing steps", name);
        goto done;
    }
    char *end = NULL;
    unsigned long long d = strtoull(feat, &end, 10);
    TL_CHECK(end != feat && !*end && d < (1ull << 31), TL_ERR_FORMAT,
             "%s: preprocessing feature count '%s' is invalid", name, feat);
    s->d = (size_t)d;
    for (size_t k = 0; k < s->p.nsteps; k++) {
        if (!tl_is_col_step(s->p.steps[k])) continue;
        double **dst[2] = {&s->shift[k], &s->scale[k]};
        const char *what[2] = {"shift", "scale"};
        for (int q = 0; q < 2; q++) {
            char nm[32];
            tl_dtype dt;
            size_t nd;
            const size_t *dims;
            const void *data;
            snprintf(nm, sizeof nm, "%s%zu", what[q], k);
            TL_CHECK(tl_tlm_get_tensor(c, nm, &dt, &nd, &dims, &data) == TL_OK &&
                         dt == TL_DTYPE_F64 && nd == 1 && dims[0] == s->d,
                     TL_ERR_FORMAT, "%s: preprocessing lacks tensor '%s' of %zu values", name, nm,
                     s->d);
            TL_ALLOC(*dst[q], s->d ? s->d : 1);
            memcpy(*dst[q], data, s->d * sizeof(double));
            for (size_t j = 0; j < s->d; j++)
                TL_CHECK(isfinite((*dst[q])[j]) && (q == 0 || (*dst[q])[j] != 0), TL_ERR_FORMAT,
                         "%s: preprocessing tensor '%s' holds an invalid value", name, nm);
        }
    }
    *out = s;
    s = NULL;
done:
    tl_scaler_free(s);
    return st;
}
