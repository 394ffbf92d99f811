/* Kernel functions for the kernel methods (MMD, KMM, TCA, JDA): linear x.y, RBF
 * exp(-gamma ||x - y||^2), polynomial (gamma x.y + coef0)^degree; the median heuristic
 * gamma = 1 / median_{i<j} ||x_i - x_j||^2 (Gretton et al. 2012) on at most 2000 seeded rows; and
 * the kernel matrix, computed in row blocks through GEMM (dist.c's tl_la_gram_blocks: the cross
 * products go straight into K's rows and are transformed in place, so no n x m temporary), with a
 * naive per-pair reference for the tests.
 *
 * The median needs every pair distance of the sample (s(s-1)/2 doubles, 16 MB at s = 2000), found
 * by quickselect in O(s^2). The sample rows are gathered in chunks bounded both in rows and in
 * bytes so a very wide X (bag-of-words) does not force a 2000 x d copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/select.h"
#include "internal/testing.h"
#include "la_internal.h"

#define TL_MEDIAN_MAX_ROWS ((size_t)2000)
#define TL_MEDIAN_CHUNK_ROWS ((size_t)512)
#define TL_MEDIAN_CHUNK_ELEMS ((size_t)1 << 20) /* 8 MB per gathered chunk */

tl_kernel tl_kernel_default(tl_kernel_type type) {
    tl_kernel k;
    k.type = type;
    k.gamma = 0.0; /* resolve: median heuristic (RBF) or 1/d (POLY) */
    k.coef0 = 1.0;
    k.degree = 2;
    return k;
}

static int lower_eq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char c = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (c != *b) return 0;
    }
    return *a == *b;
}

tl_status tl_kernel_type_parse(const char *name, tl_kernel_type *out) {
    if (!name) return tl_fail(TL_ERR_INVALID_ARG, "kernel name is NULL");
    if (lower_eq(name, "linear"))
        *out = TL_KERNEL_LINEAR;
    else if (lower_eq(name, "rbf"))
        *out = TL_KERNEL_RBF;
    else if (lower_eq(name, "poly"))
        *out = TL_KERNEL_POLY;
    else
        return tl_fail(TL_ERR_INVALID_ARG, "unknown kernel \"%s\" (expected linear, rbf or poly)",
                       name);
    return TL_OK;
}

/* ---- median heuristic ---- */

static void swapd(double *a, double *b) {
    double t = *a;
    *a = *b;
    *b = t;
}

/* k-th smallest (0-based) of a (n > k), partially reordering a so that a[0..k-1] <= a[k] <=
 * a[k+1..n-1] (quickselect with median-of-three, Numerical Recipes' select). */
double tli_select_kth(double *a, size_t n, size_t k) {
    size_t l = 0, ir = n - 1;
    for (;;) {
        if (ir <= l + 1) {
            if (ir == l + 1 && a[ir] < a[l]) swapd(&a[l], &a[ir]);
            return a[k];
        }
        size_t mid = l + (ir - l) / 2;
        swapd(&a[mid], &a[l + 1]);
        if (a[l] > a[ir]) swapd(&a[l], &a[ir]);
        if (a[l + 1] > a[ir]) swapd(&a[l + 1], &a[ir]);
        if (a[l] > a[l + 1]) swapd(&a[l], &a[l + 1]);
        size_t i = l + 1, j = ir;
        double v = a[l + 1];
        for (;;) {
            do i++;
            while (a[i] < v);
            do j--;
            while (a[j] > v);
            if (j < i) break;
            swapd(&a[i], &a[j]);
        }
        a[l + 1] = a[j];
        a[j] = v;
        if (j >= k) ir = j - 1;
        if (j <= k) l = i;
    }
}

/* Median of a (n >= 1) as numpy defines it (mean of the two middle values when n is even). */
double tli_median_inplace(double *a, size_t n) {
    size_t k = (n - 1) / 2;
    double lo = tli_select_kth(a, n, k);
    if (n % 2) return lo;
    double hi = a[k + 1];
    for (size_t i = k + 2; i < n; i++)
        if (a[i] < hi) hi = a[i];
    return 0.5 * (lo + hi);
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Rows [r0, r0 + nr) of the sample as a matrix: a view of X when not sampling, else gathered. */
static tl_mat sample_rows(tl_mat X, const size_t *idx, size_t r0, size_t nr, double *buf) {
    if (!idx) return tl_mat_rows(X, r0, nr);
    tl_mat B = tl_mat_view(buf, nr, X.cols);
    for (size_t i = 0; i < nr; i++)
        memcpy(buf + i * X.cols, X.data + idx[r0 + i] * X.ld, X.cols * sizeof(double));
    return B;
}

tl_status tl_kernel_median_gamma(tl_mat X /* (n, d) */, uint64_t seed, double *gamma) {
    tl_status st = TL_OK;
    size_t *idx = NULL;
    double *pairs = NULL, *bi = NULL, *bj = NULL;
    tl_mat D = {0, 0, 0, NULL};
    TL_CHECK(gamma, TL_ERR_INVALID_ARG, "kernel_median_gamma: gamma output is NULL");
    TL_TRY(tl_la_check_view(X, "kernel_median_gamma", "X"));
    TL_CHECK(X.rows >= 2, TL_ERR_EMPTY,
             "kernel_median_gamma: X has %zu rows, at least 2 are needed for a pair distance",
             X.rows);
    TL_TRY(tl_mat_check_finite(X, "kernel_median_gamma: X"));
    size_t n = X.rows, d = X.cols, s = n;
    if (n > TL_MEDIAN_MAX_ROWS) {
        /* reservoir sample of s rows (Algorithm R), sorted for memory order */
        s = TL_MEDIAN_MAX_ROWS;
        TL_ALLOC(idx, s);
        tl_rng rng;
        tl_rng_seed(&rng, seed);
        for (size_t i = 0; i < s; i++) idx[i] = i;
        for (size_t i = s; i < n; i++) {
            size_t j = tl_rng_below(&rng, i + 1);
            if (j < s) idx[j] = i;
        }
        qsort(idx, s, sizeof *idx, cmp_size);
    }
    size_t chunk = d ? TL_MEDIAN_CHUNK_ELEMS / d : TL_MEDIAN_CHUNK_ROWS;
    if (chunk > TL_MEDIAN_CHUNK_ROWS) chunk = TL_MEDIAN_CHUNK_ROWS;
    if (chunk < 1) chunk = 1;
    if (chunk > s) chunk = s;
    size_t npairs = s * (s - 1) / 2; /* s <= 2000 */
    TL_ALLOC(pairs, npairs);
    TL_TRY(tl_mat_alloc(&D, chunk, chunk));
    if (idx) {
        TL_ALLOC(bi, chunk * (d ? d : 1)); /* chunk * d <= TL_MEDIAN_CHUNK_ELEMS (or d <= 1) */
        TL_ALLOC(bj, chunk * (d ? d : 1));
    }
    size_t np = 0;
    for (size_t i0 = 0; i0 < s; i0 += chunk) {
        size_t ni = s - i0 < chunk ? s - i0 : chunk;
        tl_mat Xi = sample_rows(X, idx, i0, ni, bi);
        for (size_t j0 = i0; j0 < s; j0 += chunk) {
            size_t nj = s - j0 < chunk ? s - j0 : chunk;
            tl_mat Xj = j0 == i0 ? Xi : sample_rows(X, idx, j0, nj, bj);
            tl_mat Db = {ni, nj, D.ld, D.data};
            TL_TRY(tl_sqdist(Xi, Xj, Db));
            for (size_t i = 0; i < ni; i++)
                for (size_t j = (j0 == i0 ? i + 1 : 0); j < nj; j++) pairs[np++] = TL_AT(Db, i, j);
        }
    }
    double med = tli_median_inplace(pairs, np);
    if (!(med > 0.0)) {
        /* over half the pairs coincide (duplicated or binary rows): 1/0 is useless, so take the
         * median over the distinct (positive-distance) pairs instead */
        size_t npos = 0;
        for (size_t p = 0; p < np; p++)
            if (pairs[p] > 0.0) pairs[npos++] = pairs[p];
        TL_CHECK(npos > 0, TL_ERR_INVALID_ARG,
                 "kernel_median_gamma: all %zu sampled rows are identical; set gamma explicitly",
                 s);
        med = tli_median_inplace(pairs, npos);
    }
    *gamma = 1.0 / med;
done:
    tl_free(idx);
    tl_free(pairs);
    tl_free(bi);
    tl_free(bj);
    tl_mat_free(&D);
    return st;
}

/* ---- kernel matrices ---- */

static double ipow(double b, int e) {
    double r = 1.0;
    while (e > 0) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return r;
}

static tl_status kernel_check(const char *fn, const tl_kernel *k, tl_mat X, tl_mat Y, tl_mat K) {
    tl_status st = TL_OK;
    TL_CHECK(k, TL_ERR_INVALID_ARG, "%s: kernel is NULL", fn);
    TL_CHECK(k->type == TL_KERNEL_LINEAR || k->type == TL_KERNEL_RBF || k->type == TL_KERNEL_POLY,
             TL_ERR_INVALID_ARG, "%s: unknown kernel type %d", fn, (int)k->type);
    if (k->type != TL_KERNEL_LINEAR)
        TL_CHECK(k->gamma > 0.0 && isfinite(k->gamma), TL_ERR_INVALID_ARG,
                 "%s: gamma = %g must be resolved to a finite value > 0 first (median heuristic "
                 "for rbf, 1/d for poly)",
                 fn, k->gamma);
    if (k->type == TL_KERNEL_POLY) {
        TL_CHECK(k->degree >= 1, TL_ERR_INVALID_ARG, "%s: poly degree = %d must be >= 1", fn,
                 k->degree);
        TL_CHECK(isfinite(k->coef0), TL_ERR_INVALID_ARG, "%s: poly coef0 = %g is not finite", fn,
                 k->coef0);
    }
    TL_TRY(tl_la_check_view(X, fn, "X"));
    TL_TRY(tl_la_check_view(Y, fn, "Y"));
    TL_TRY(tl_la_check_view(K, fn, "K"));
    TL_CHECK(X.cols == Y.cols, TL_ERR_SHAPE,
             "%s: X is %zu x %zu but Y is %zu x %zu (feature counts differ)", fn, X.rows, X.cols,
             Y.rows, Y.cols);
    TL_CHECK(K.rows == X.rows && K.cols == Y.rows, TL_ERR_SHAPE,
             "%s: K is %zu x %zu, expected %zu x %zu", fn, K.rows, K.cols, X.rows, Y.rows);
done:
    return st;
}

/* Kb holds -2 X_b Y^T: exp(-gamma * clamp0(||x||^2 + ||y||^2 - 2 x.y)), the scaling inside the
 * exponential's pass. */
static void rbf_finish(tl_mat Kb, size_t row0, const double *xn, const double *yn, int same,
                       void *ctx) {
    double g = ((const tl_kernel *)ctx)->gamma;
    for (size_t i = 0; i < Kb.rows; i++) {
        double *k = Kb.data + i * Kb.ld;
        for (size_t j = 0; j < Kb.cols; j++) {
            double d = xn[i] + yn[j] + k[j];
            k[j] = d > 0.0 ? d : 0.0;
        }
        tl_vexp_scaled(k, -g, k, Kb.cols);
        if (same) k[row0 + i] = 1.0; /* exact self-similarity */
    }
}

/* Kb holds gamma X_b Y^T. */
static void poly_finish(tl_mat Kb, size_t row0, const double *xn, const double *yn, int same,
                        void *ctx) {
    (void)row0, (void)xn, (void)yn, (void)same;
    const tl_kernel *kp = ctx;
    for (size_t i = 0; i < Kb.rows; i++) {
        double *k = Kb.data + i * Kb.ld;
        for (size_t j = 0; j < Kb.cols; j++) k[j] = ipow(k[j] + kp->coef0, kp->degree);
    }
}

tl_status tl_kernel_matrix(const tl_kernel *k, tl_mat X /* (n, d) */, tl_mat Y /* (m, d) */,
                           tl_mat K /* (n, m) */) {
    tl_status st = TL_OK;
    TL_TRY(kernel_check("kernel_matrix", k, X, Y, K));
    switch (k->type) {
    case TL_KERNEL_LINEAR: TL_TRY(tl_la_gram_blocks(X, Y, K, 1.0, 0, NULL, NULL)); break;
    case TL_KERNEL_RBF: TL_TRY(tl_la_gram_blocks(X, Y, K, -2.0, 1, rbf_finish, (void *)k)); break;
    case TL_KERNEL_POLY:
        TL_TRY(tl_la_gram_blocks(X, Y, K, k->gamma, 0, poly_finish, (void *)k));
        break;
    }
done:
    return st;
}

tl_status tl_kernel_matrix_naive(const tl_kernel *k, tl_mat X, tl_mat Y, tl_mat K) {
    tl_status st = TL_OK;
    TL_TRY(kernel_check("kernel_matrix_naive", k, X, Y, K));
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < Y.rows; j++) {
            double dot = 0.0, sq = 0.0;
            for (size_t p = 0; p < X.cols; p++) {
                double a = TL_AT(X, i, p), b = TL_AT(Y, j, p);
                dot += a * b;
                sq += (a - b) * (a - b);
            }
            double v = dot;
            if (k->type == TL_KERNEL_RBF)
                v = exp(-k->gamma * sq);
            else if (k->type == TL_KERNEL_POLY)
                v = ipow(k->gamma * dot + k->coef0, k->degree);
            TL_AT(K, i, j) = v;
        }
done:
    return st;
}
