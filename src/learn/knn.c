/* Exact k nearest neighbours (Euclidean) and the k-NN classifier.
 *
 * Search: ||q - r||^2 = ||q||^2 + ||r||^2 - 2 q.r. The reference norms are computed once; for each
 * block of 128 queries, -2 Q R^T is formed by cblas_dgemm against blocks of 2048 reference rows
 * (memory O(block x ref block)), the norms are added and each query keeps its m = k + 16 best
 * candidates in a small sorted insertion list (ties keep the lower reference index). The query
 * blocks are tasks on the library's threads (internal/parallel.h, OpenBLAS serial meanwhile, one
 * work area per thread): the candidate lists and the re-ranking are serial work per block, as
 * large as the GEMM on sets of a few thousand rows (MNIST->USPS 1-NN 31 -> 26 ms on 2 cores).
 * Each block's result depends only on its queries, so any thread count gives the same answer.
 *
 * The norm expansion cancels when points are close relative to their norms, so the expansion only
 * selects candidates: their distances are then recomputed exactly as sum_j (q_j - r_j)^2 and
 * re-ranked. With u the unit roundoff, the expansion differs from the exact distance by at most
 * delta = 8 (d + 4) u (||q||^2 + max ||r||^2) (the standard dot-product error bound, with slack).
 * If the k-th exact distance is below (m-th candidate's expanded distance) - delta, no reference
 * outside the list can beat it and the answer equals the plain Euclidean k-NN exactly (same
 * values, ties by lower index); otherwise (many near-equal distances) that query falls back to an
 * exact scan. The result is therefore identical to tl_knn_search_naive, bit for bit.
 *
 * Classifier: a dense training set is kept as dense rows (sparse queries are then densified 1024
 * rows at a time); a sparse one as its CSR rows plus the dense transpose Rt (d, n), so dense
 * queries use GEMM on Rt and sparse queries a sparse x dense product costing O(nnz(Q) n) instead
 * of O(nq n d) (the 5000-d bag-of-words sets). Exact distances for sparse operands are summed over
 * the same index order as the dense loop, so every storage combination returns the same
 * neighbours. Votes are weighted by the sample weights, the majority wins and ties go to the class
 * of the nearest neighbour among the tied classes. Zero-weight training samples are dropped.
 * Regression: the prediction is the weight-weighted mean of the k nearest rows' targets. */
#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "internal/check.h"
#include "internal/parallel.h"
#include "internal/testing.h"
#include "learn/learn_internal.h"

#define KNN_BQ 128    /* query rows per GEMM block */
#define KNN_BR 2048   /* reference rows per GEMM block */
#define KNN_BR_SPARSE 256 /* reference columns of Rt per block for sparse queries */
#define KNN_EXTRA 16  /* candidates beyond k kept for the exact re-ranking (at most) */
#define KNN_EXTRA_MIN 3 /* ... and at least: k + max(3, min(16, k)) */
#define KNN_QCHUNK 1024 /* classifier: query rows densified / searched at a time */
#define KNN_MAX_THREADS 16

static double sqdist_exact(const double *a, const double *b, size_t d) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* Insert (v, id) into the ascending list (a, ids) of *cnt <= cap entries; an equal value keeps the
 * earlier entry first. The caller has checked that v belongs (list not full or v < last). */
static void list_insert(double *a, size_t *ids, size_t *cnt, size_t cap, double v, size_t id) {
    size_t pos = *cnt < cap ? (*cnt)++ : cap - 1;
    while (pos > 0 && a[pos - 1] > v) {
        a[pos] = a[pos - 1];
        ids[pos] = ids[pos - 1];
        pos--;
    }
    a[pos] = v;
    ids[pos] = id;
}

/* The reference set: dense rows R (n, d) (ld), or, for a sparse training set, the transpose
 * Rt (d, n) (ld = n) used for the products plus the CSR rows used for exact distances. */
typedef struct {
    size_t n, d;
    const double *R; /* (n, d) row-major with ld, or Rt (d, n) when csr != NULL */
    size_t ld;
    const tl_csr *csr;
    const double *rn; /* (n) squared norms */
    double rnmax;
} knn_ref;

/* Exact ||q - r_j||^2 summed over j = 0..d-1 in order. For sparse operands the absent terms are
 * (0 - 0)^2 = +0, which leave the sum unchanged, so every variant gives the dense loop's value
 * bit for bit. q is the query row i of Q (dense or CSR). */
static double exact_dist(const knn_ref *R, tl_xmat Q, size_t i, size_t j) {
    const size_t d = R->d;
    if (!R->csr) { /* dense reference, dense query (sparse queries are densified first) */
        return sqdist_exact(Q.dense.data + i * Q.dense.ld, R->R + j * R->ld, d);
    }
    const tl_csr *A = R->csr;
    size_t p = A->indptr[j], pe = A->indptr[j + 1];
    double s = 0.0;
    if (!Q.sparse) {
        const double *q = Q.dense.data + i * Q.dense.ld;
        for (size_t f = 0; f < d; f++) {
            double r = 0.0;
            if (p < pe && (size_t)A->indices[p] == f) r = A->values[p++];
            double t = q[f] - r;
            s += t * t;
        }
        return s;
    }
    const tl_csr *B = &Q.csr;
    size_t a = B->indptr[i], ae = B->indptr[i + 1];
    while (a < ae || p < pe) {
        double t;
        if (p >= pe || (a < ae && B->indices[a] < A->indices[p]))
            t = B->values[a++];
        else if (a >= ae || A->indices[p] < B->indices[a])
            t = -A->values[p++];
        else
            t = B->values[a++] - A->values[p++];
        s += t * t;
    }
    return s;
}

/* Exact scan: the k nearest of query row i among all references, ascending by (distance, index). */
static void exact_scan(const knn_ref *R, tl_xmat Q, size_t i, size_t k, double *a, size_t *ids) {
    size_t cnt = 0;
    for (size_t j = 0; j < R->n; j++) {
        double e = exact_dist(R, Q, i, j);
        if (cnt < k || e < a[k - 1]) list_insert(a, ids, &cnt, k, e, j);
    }
}

typedef struct {
    double *G;    /* (KNN_BQ, KNN_BR) */
    double *ca;   /* (KNN_BQ, m) candidate expanded distances minus ||q||^2 */
    size_t *ci;   /* (KNN_BQ, m) candidate indices */
    size_t *cnt;  /* (KNN_BQ) */
    double *qn;   /* (KNN_BQ) */
    double *ea;   /* (m) exact distances of one query's candidates */
    size_t *ei;   /* (m) */
    size_t m;
} knn_work;

static void work_free(knn_work *w) {
    tl_free(w->G);
    tl_free(w->ca);
    tl_free(w->ci);
    tl_free(w->cnt);
    tl_free(w->qn);
    tl_free(w->ea);
    tl_free(w->ei);
    memset(w, 0, sizeof *w);
}

static tl_status work_alloc(knn_work *w, size_t nr, size_t k) {
    tl_status st = TL_OK;
    memset(w, 0, sizeof *w);
    /* the list only has to reach past the k-th neighbour by more than the rounding bound for
       the check in knn_block to pass: a few extra for small k (the JDA rounds' 1-NN kept 17
       candidates per query and spent more time sorting them into the list than in the GEMM);
       a query whose list falls short takes the exact scan, so the answer never changes */
    size_t extra = k < KNN_EXTRA_MIN ? KNN_EXTRA_MIN : k > KNN_EXTRA ? KNN_EXTRA : k;
    w->m = k + extra < nr ? k + extra : nr;
    size_t br = nr < KNN_BR ? nr : KNN_BR, cells;
    TL_CHECK(tl_size_mul(KNN_BQ, w->m, &cells) == 0, TL_ERR_NOMEM, "knn: k = %zu too large", k);
    TL_ALLOC(w->G, (size_t)KNN_BQ * br);
    TL_ALLOC(w->ca, cells);
    TL_ALLOC(w->ci, cells);
    TL_ALLOC(w->cnt, KNN_BQ);
    TL_ALLOC(w->qn, KNN_BQ);
    TL_ALLOC(w->ea, w->m);
    TL_ALLOC(w->ei, w->m);
done:
    if (st != TL_OK) work_free(w);
    return st;
}

/* Queries [q0, q0 + bq) of Q (nq, d) dense, or CSR when the reference is sparse (R->csr);
 * 1 <= k <= R->n. idx (nq, k), dist2 (nq, k) or NULL. Sizes already checked against int. */
static void knn_block(const knn_ref *R, tl_xmat Q, size_t k, size_t q0, size_t bq, size_t *idx,
                      double *dist2, knn_work *w) {
    const size_t nr = R->n, d = R->d, m = w->m;
    const double delta_scale = 8.0 * ((double)d + 4.0) * (DBL_EPSILON / 2);
    for (size_t i = 0; i < bq; i++) {
        double s = 0;
        if (!Q.sparse) {
            const double *q = Q.dense.data + (q0 + i) * Q.dense.ld;
            for (size_t j = 0; j < d; j++) s += q[j] * q[j];
        } else {
            for (size_t t = Q.csr.indptr[q0 + i]; t < Q.csr.indptr[q0 + i + 1]; t++)
                s += Q.csr.values[t] * Q.csr.values[t];
        }
        w->qn[i] = s;
        w->cnt[i] = 0;
    }
    /* sparse queries read rows of Rt: a narrower block keeps the (d, br) slab in cache */
    const size_t brmax = Q.sparse ? KNN_BR_SPARSE : KNN_BR;
    for (size_t r0 = 0; r0 < nr; r0 += brmax) {
        size_t br = nr - r0 < brmax ? nr - r0 : brmax;
        /* G (bq, br) = -2 Q_block R_block^T */
        if (!Q.sparse) {
            const double *Qb = Q.dense.data + q0 * Q.dense.ld;
            int ldq = (int)(Q.dense.ld < d ? d : Q.dense.ld);
            if (!R->csr)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)br, (int)d,
                            -2.0, Qb, ldq, R->R + r0 * R->ld, (int)(R->ld < d ? d : R->ld),
                            0.0, w->G, (int)br);
            else
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, (int)br,
                            (int)d, -2.0, Qb, ldq, R->R + r0, (int)R->ld, 0.0, w->G,
                            (int)br);
        } else { /* sparse query x dense Rt: one contiguous axpy per stored entry */
            memset(w->G, 0, bq * br * sizeof(double));
            for (size_t i = 0; i < bq; i++) {
                double *g = w->G + i * br;
                for (size_t t = Q.csr.indptr[q0 + i]; t < Q.csr.indptr[q0 + i + 1]; t++) {
                    const double v = -2.0 * Q.csr.values[t];
                    const double *rt = R->R + (size_t)Q.csr.indices[t] * R->ld + r0;
                    for (size_t j = 0; j < br; j++) g[j] += v * rt[j];
                }
            }
        }
        for (size_t i = 0; i < bq; i++) {
            const double *g = w->G + i * br, *rnb = R->rn + r0;
            double *a = w->ca + i * m;
            size_t *ids = w->ci + i * m, cnt = w->cnt[i];
            for (size_t j = 0; j < br; j++) {
                double v = g[j] + rnb[j];
                if (cnt < m || v < a[m - 1]) list_insert(a, ids, &cnt, m, v, r0 + j);
            }
            w->cnt[i] = cnt;
        }
    }
    for (size_t i = 0; i < bq; i++) {
        const double *a = w->ca + i * m;
        const size_t *ids = w->ci + i * m;
        size_t cnt = 0;
        for (size_t t = 0; t < m; t++) {
            double e = exact_dist(R, Q, q0 + i, ids[t]);
            list_insert(w->ea, w->ei, &cnt, m, e, ids[t]);
        }
        /* list_insert keeps equal values in insertion order; restore index order on ties. */
        for (size_t t = 1; t < m; t++) {
            double e = w->ea[t];
            size_t id = w->ei[t], p = t;
            while (p > 0 && w->ea[p - 1] == e && w->ei[p - 1] > id) {
                w->ea[p] = w->ea[p - 1];
                w->ei[p] = w->ei[p - 1];
                p--;
            }
            w->ea[p] = e;
            w->ei[p] = id;
        }
        if (m < nr) {
            double qn = w->qn[i];
            double delta = delta_scale * (qn + R->rnmax);
            double bound = a[m - 1] + qn - delta; /* every excluded row is at least this far */
            if (!(w->ea[k - 1] < bound) || !isfinite(bound))
                exact_scan(R, Q, q0 + i, k, w->ea, w->ei);
        }
        for (size_t t = 0; t < k; t++) {
            idx[(q0 + i) * k + t] = w->ei[t];
            if (dist2) dist2[(q0 + i) * k + t] = w->ea[t];
        }
    }
}

/* The query blocks as tasks on up to T threads (each with its own work w[thread]; OpenBLAS
 * serial meanwhile): the per-query candidate lists and the exact re-ranking are as much of the
 * time as the GEMMs on small sets, and they are serial within a block. */
typedef struct {
    const knn_ref *R;
    tl_xmat Q;
    size_t k, *idx;
    double *dist2;
    knn_work *w;
} knn_job;

static tl_status knn_task(void *v, size_t task, size_t thread) {
    const knn_job *j = v;
    size_t nq = tlp_xrows(j->Q), q0 = task * KNN_BQ, bq = nq - q0 < KNN_BQ ? nq - q0 : KNN_BQ;
    knn_block(j->R, j->Q, j->k, q0, bq, j->idx, j->dist2, &j->w[thread]);
    return TL_OK;
}

static tl_status knn_core(const knn_ref *R, tl_xmat Q, size_t k, size_t *idx, double *dist2,
                          knn_work *w, size_t T) {
    knn_job j = {R, Q, k, idx, dist2, w};
    return tl_parallel_tasks((tlp_xrows(Q) + KNN_BQ - 1) / KNN_BQ, T, knn_task, &j);
}

/* Threads for a search of nq queries, and their works (w (T), freed with works_free). */
static size_t knn_threads(size_t nq) {
    size_t T = (size_t)tl_parallel_default_threads(), nb = (nq + KNN_BQ - 1) / KNN_BQ;
    if (T > KNN_MAX_THREADS) T = KNN_MAX_THREADS;
    return T < nb ? T : (nb ? nb : 1);
}

static void works_free(knn_work *w, size_t T) {
    for (size_t t = 0; t < T; t++) work_free(&w[t]);
}

static tl_status works_alloc(knn_work *w, size_t T, size_t nr, size_t k) {
    tl_status st = TL_OK;
    for (size_t t = 0; t < T; t++) TL_TRY(work_alloc(&w[t], nr, k));
done:
    return st;
}

static tl_xmat xdense(tl_mat A) {
    tl_xmat X;
    memset(&X, 0, sizeof X);
    X.dense = A;
    return X;
}

static void row_norms(tl_mat A, double *rn, double *rnmax) {
    double mx = 0;
    for (size_t j = 0; j < A.rows; j++) {
        const double *r = A.data + j * A.ld;
        double s = 0;
        for (size_t t = 0; t < A.cols; t++) s += r[t] * r[t];
        rn[j] = s;
        if (s > mx) mx = s;
    }
    *rnmax = mx;
}

static tl_status check_search(tl_mat ref, tl_mat query, size_t k, const size_t *idx) {
    tl_status st = TL_OK;
    TL_CHECK(ref.cols == query.cols, TL_ERR_SHAPE,
             "knn search: reference has %zu columns, query has %zu", ref.cols, query.cols);
    TL_CHECK(ref.rows > 0, TL_ERR_EMPTY, "knn search: the reference set is empty");
    TL_CHECK(k >= 1 && k <= ref.rows, TL_ERR_INVALID_ARG,
             "knn search: k = %zu must be in [1, %zu] (reference rows)", k, ref.rows);
    TL_CHECK(idx != NULL || query.rows == 0, TL_ERR_INVALID_ARG, "knn search: idx is NULL");
    TL_CHECK(ref.data && (query.data || query.rows == 0), TL_ERR_INVALID_ARG,
             "knn search: matrix without data");
    TL_CHECK(ref.rows <= 1 || ref.ld >= ref.cols, TL_ERR_INVALID_ARG,
             "knn search: reference leading dimension %zu < %zu columns", ref.ld, ref.cols);
    TL_CHECK(query.rows <= 1 || query.ld >= query.cols, TL_ERR_INVALID_ARG,
             "knn search: query leading dimension %zu < %zu columns", query.ld, query.cols);
    TL_CHECK_INT(ref.cols, "columns");
    TL_CHECK_INT(ref.ld, "reference leading dimension");
    TL_CHECK_INT(query.ld, "query leading dimension");
    TL_TRY(tl_mat_check_finite(ref, "knn reference"));
    TL_TRY(tl_mat_check_finite(query, "knn query"));
done:
    return st;
}

tl_status tl_knn_search(tl_mat ref, tl_mat query, size_t k, size_t *idx /* (nq, k) */,
                        double *dist2 /* (nq, k) or NULL */) {
    tl_status st = TL_OK;
    double *rn = NULL;
    knn_work w[KNN_MAX_THREADS];
    memset(w, 0, sizeof w);
    size_t T = knn_threads(query.rows);
    TL_TRY(check_search(ref, query, k, idx));
    if (query.rows == 0) goto done;
    TL_ALLOC(rn, ref.rows);
    knn_ref R = {ref.rows, ref.cols, ref.data, ref.ld, NULL, rn, 0};
    row_norms(ref, rn, &R.rnmax);
    TL_TRY(works_alloc(w, T, ref.rows, k));
    TL_TRY(knn_core(&R, xdense(query), k, idx, dist2, w, T));
done:
    works_free(w, T);
    tl_free(rn);
    return st;
}

tl_status tl_knn_search_naive(tl_mat ref, tl_mat query, size_t k, size_t *idx, double *dist2) {
    tl_status st = TL_OK;
    double *a = NULL;
    size_t *ids = NULL;
    TL_TRY(check_search(ref, query, k, idx));
    TL_ALLOC(a, k);
    TL_ALLOC(ids, k);
    knn_ref R = {ref.rows, ref.cols, ref.data, ref.ld, NULL, NULL, 0};
    for (size_t i = 0; i < query.rows; i++) {
        exact_scan(&R, xdense(query), i, k, a, ids);
        for (size_t t = 0; t < k; t++) {
            idx[i * k + t] = ids[t];
            if (dist2) dist2[i * k + t] = a[t];
        }
    }
done:
    tl_free(a);
    tl_free(ids);
    return st;
}

/* ---------------------------------------------------------------- classifier */

/* Dense training data is kept as dense rows. Sparse training data (bag-of-words, 5000-d) is kept
 * as its CSR rows (exact distances) plus the dense transpose Rt (d, n): dense queries then use
 * GEMM on Rt and sparse queries an O(nnz(q) n) product, never densifying the queries. */
typedef struct {
    size_t n, d, c, k;
    double *X;  /* dense training: (n, d) rows; sparse training: Rt (d, n) */
    bool sparse;
    size_t *ip; /* sparse training: CSR copy (n + 1), (nnz), (nnz) */
    int32_t *ind;
    double *val;
    tl_csr csr;
    double *rn; /* (n) squared norms */
    double rnmax;
    int *yi;    /* (n) class indices */
    double *w;  /* (n) weights */
    double *tv; /* regression: (n) targets, else NULL */
} knn_model;

static void knn_free(void *mp) {
    knn_model *m = mp;
    if (!m) return;
    tl_free(m->X);
    tl_free(m->ip);
    tl_free(m->ind);
    tl_free(m->val);
    tl_free(m->rn);
    tl_free(m->yi);
    tl_free(m->w);
    tl_free(m->tv);
    tl_free(m);
}

static tl_status knn_fit(const tl_learner_params *p, tl_xmat X, const int *yi, const double *w,
                         size_t c, tlp_fit_info *info, void **out) {
    (void)info; /* nothing iterates */
    tl_status st = TL_OK;
    knn_model *m = NULL;
    size_t n = tlp_xrows(X), d = tlp_xcols(X), nk = 0, cells, nnz = 0;
    for (size_t i = 0; i < n; i++) nk += w[i] > 0;
    TL_CHECK_INT(d, "columns");
    TL_CHECK_INT(nk, "training rows");
    TL_CALLOC(m, 1);
    m->n = nk;
    m->d = d;
    m->c = c;
    m->k = p->k < nk ? p->k : nk;
    m->sparse = X.sparse;
    TL_CHECK(tl_size_mul(nk, d, &cells) == 0, TL_ERR_NOMEM, "knn: %zu x %zu overflows", nk, d);
    TL_ALLOC(m->X, cells);
    if (X.sparse) memset(m->X, 0, cells * sizeof(double));
    TL_ALLOC(m->rn, nk);
    TL_ALLOC(m->yi, nk);
    TL_ALLOC(m->w, nk);
    if (X.sparse) {
        for (size_t i = 0; i < n; i++)
            if (w[i] > 0) nnz += X.csr.indptr[i + 1] - X.csr.indptr[i];
        TL_ALLOC(m->ip, nk + 1);
        TL_ALLOC(m->ind, nnz);
        TL_ALLOC(m->val, nnz);
        m->ip[0] = 0;
    }
    double mx = 0;
    for (size_t i = 0, r = 0; i < n; i++) {
        if (!(w[i] > 0)) continue;
        if (X.sparse) {
            size_t a = X.csr.indptr[i], b = X.csr.indptr[i + 1], q = m->ip[r];
            double s = 0;
            for (size_t t = a; t < b; t++, q++) {
                m->ind[q] = X.csr.indices[t];
                m->val[q] = X.csr.values[t];
                m->X[(size_t)X.csr.indices[t] * nk + r] = X.csr.values[t];
                s += X.csr.values[t] * X.csr.values[t];
            }
            m->ip[r + 1] = q;
            m->rn[r] = s;
        } else {
            const double *src = X.dense.data + i * X.dense.ld;
            double s = 0;
            memcpy(m->X + r * d, src, d * sizeof(double));
            for (size_t j = 0; j < d; j++) s += src[j] * src[j];
            m->rn[r] = s;
        }
        if (m->rn[r] > mx) mx = m->rn[r];
        m->yi[r] = yi[i];
        m->w[r] = w[i];
        r++;
    }
    m->rnmax = mx;
    if (X.sparse) m->csr = (tl_csr){nk, d, nnz, m->ip, m->ind, m->val};
    *out = m;
    m = NULL;
done:
    knn_free(m);
    return st;
}

/* Runs the search over X in chunks and fills S (n, c) with vote fractions, pred (n) with class
 * indices, or (regression) vals (n) with the weighted mean of the neighbours' targets. */
static tl_status knn_run(const knn_model *m, tl_xmat X, tl_mat *S, int *pred, double *vals) {
    tl_status st = TL_OK;
    knn_work w[KNN_MAX_THREADS];
    memset(w, 0, sizeof w);
    size_t *idx = NULL;
    double *dist = NULL, *qbuf = NULL, *votes = NULL;
    size_t n = tlp_xrows(X), k = m->k, ch = n < KNN_QCHUNK ? n : KNN_QCHUNK, T = knn_threads(ch);
    TL_CHECK(X.sparse || X.dense.ld <= TL_INT_MAX_DIM, TL_ERR_INVALID_ARG,
             "knn: leading dimension exceeds the BLAS int range");
    TL_TRY(works_alloc(w, T, m->n, k));
    TL_ALLOC(idx, ch * k);
    TL_ALLOC(dist, ch * k);
    TL_ALLOC(votes, m->c);
    bool densify = X.sparse && !m->sparse;
    if (densify) TL_ALLOC(qbuf, ch * m->d);
    knn_ref R = {m->n, m->d, m->X, m->sparse ? m->n : m->d, m->sparse ? &m->csr : NULL, m->rn,
                 m->rnmax};
    for (size_t r0 = 0; r0 < n; r0 += ch) {
        size_t nb = n - r0 < ch ? n - r0 : ch;
        tl_xmat Q = tlp_xslice(X, r0, nb);
        if (densify) {
            tl_mat D = tl_mat_view(qbuf, nb, m->d);
            tlp_xdense_block(X, r0, nb, D);
            Q = xdense(D);
        }
        TL_TRY(knn_core(&R, Q, k, idx, dist, w, T));
        for (size_t i = 0; i < nb; i++) {
            const size_t *nbr = idx + i * k;
            double tot = 0, best = -1;
            if (vals) {
                double acc = 0;
                for (size_t t = 0; t < k; t++) {
                    acc += m->w[nbr[t]] * m->tv[nbr[t]];
                    tot += m->w[nbr[t]];
                }
                vals[r0 + i] = acc / tot;
                continue;
            }
            memset(votes, 0, m->c * sizeof(double));
            for (size_t t = 0; t < k; t++) {
                votes[m->yi[nbr[t]]] += m->w[nbr[t]];
                tot += m->w[nbr[t]];
            }
            if (S) {
                double *s = S->data + (r0 + i) * S->ld;
                for (size_t c = 0; c < m->c; c++) s[c] = votes[c] / tot;
            } else {
                for (size_t c = 0; c < m->c; c++)
                    if (votes[c] > best) best = votes[c];
                for (size_t t = 0; t < k; t++) /* nearest neighbour among the tied classes */
                    if (votes[m->yi[nbr[t]]] == best) {
                        pred[r0 + i] = m->yi[nbr[t]];
                        break;
                    }
            }
        }
    }
done:
    works_free(w, T);
    tl_free(idx);
    tl_free(dist);
    tl_free(qbuf);
    tl_free(votes);
    return st;
}

static tl_status knn_scores(const void *mp, tl_xmat X, tl_mat S) {
    return knn_run(mp, X, &S, NULL, NULL);
}
static tl_status knn_predict(const void *mp, tl_xmat X, int *pred) {
    return knn_run(mp, X, NULL, pred, NULL);
}

/* Regression: the classifier's search over one placeholder class, with the targets of the rows
 * kept (those of positive weight, in order, as knn_fit keeps the rows). */
static tl_status knn_fit_reg(const tl_learner_params *p, tl_xmat X, const double *t,
                             const double *w, tlp_fit_info *info, void **out) {
    tl_status st = TL_OK;
    knn_model *m = NULL;
    int *zero = NULL;
    size_t n = tlp_xrows(X);
    TL_CALLOC(zero, n ? n : 1);
    TL_TRY(knn_fit(p, X, zero, w, 1, info, (void **)&m));
    TL_ALLOC(m->tv, m->n ? m->n : 1);
    for (size_t i = 0, r = 0; i < n; i++)
        if (w[i] > 0) m->tv[r++] = t[i];
    *out = m;
    m = NULL;
done:
    knn_free(m);
    tl_free(zero);
    return st;
}

static tl_status knn_predict_reg(const void *mp, tl_xmat X, double *out) {
    return knn_run(mp, X, NULL, NULL, out);
}

/* Saved as its training rows (dense, or the CSR rows), class indices and weights; read fits
 * again on them, which rebuilds the derived arrays (norms, the transpose) exactly. */
static tl_status knn_write(const void *mp, tl_tlm *c) {
    const knn_model *m = mp;
    tl_status st = TL_OK;
    double *ipd = NULL;
    size_t dn[1] = {m->n};
    TL_TRY(tl_tlm_add_tensor(c, "knn_labels", TL_DTYPE_I32, 1, dn, m->yi));
    TL_TRY(tl_tlm_add_tensor(c, "knn_weights", TL_DTYPE_F64, 1, dn, m->w));
    if (m->tv) TL_TRY(tl_tlm_add_tensor(c, "knn_targets", TL_DTYPE_F64, 1, dn, m->tv));
    if (!m->sparse) {
        size_t dx[2] = {m->n, m->d};
        TL_TRY(tl_tlm_add_tensor(c, "knn_rows", TL_DTYPE_F64, 2, dx, m->X));
    } else {
        size_t di[1] = {m->n + 1}, dz[1] = {m->csr.nnz};
        TL_ALLOC(ipd, m->n + 1);
        for (size_t i = 0; i <= m->n; i++) ipd[i] = (double)m->ip[i];
        TL_TRY(tl_tlm_add_tensor(c, "knn_indptr", TL_DTYPE_F64, 1, di, ipd));
        TL_TRY(tl_tlm_add_tensor(c, "knn_indices", TL_DTYPE_I32, 1, dz, m->ind));
        TL_TRY(tl_tlm_add_tensor(c, "knn_values", TL_DTYPE_F64, 1, dz, m->val));
    }
done:
    tl_free(ipd);
    return st;
}

/* A tensor of the given dtype and length (rank 1), or rows x cols (rank 2 when cols > 0). */
static tl_status knn_tensor(const tl_tlm *c, const char *name, const char *tn, tl_dtype want,
                            size_t rows, size_t cols, const void **data) {
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    if (tl_tlm_get_tensor(c, tn, &dt, &nd, &dims, data) != TL_OK)
        return tl_fail(TL_ERR_FORMAT, "%s: k-NN model lacks tensor '%s'", name, tn);
    if (dt != want || nd != (cols ? 2u : 1u) || dims[0] != rows || (cols && dims[1] != cols))
        return tl_fail(TL_ERR_FORMAT, "%s: k-NN tensor '%s' has the wrong type or shape", name,
                       tn);
    return TL_OK;
}

static tl_status knn_read(const tl_learner_params *p, const tl_tlm *c, const char *name, size_t d,
                          size_t nc, void **out) {
    tl_status st = TL_OK;
    size_t *ip = NULL, nd, n;
    const size_t *dims;
    const void *yv, *wv, *xv, *iv, *ix, *vv;
    int *yi = NULL;
    TL_CHECK(tl_tlm_get_tensor(c, "knn_labels", NULL, &nd, &dims, NULL) == TL_OK && nd == 1,
             TL_ERR_FORMAT, "%s: k-NN model lacks its training labels", name);
    n = dims[0];
    TL_CHECK(n > 0, TL_ERR_FORMAT, "%s: k-NN model has no training rows", name);
    TL_TRY(knn_tensor(c, name, "knn_labels", TL_DTYPE_I32, n, 0, &yv));
    TL_TRY(knn_tensor(c, name, "knn_weights", TL_DTYPE_F64, n, 0, &wv));
    TL_ALLOC(yi, n);
    memcpy(yi, yv, n * sizeof *yi);
    for (size_t i = 0; i < n; i++) {
        TL_CHECK(yi[i] >= 0 && (size_t)yi[i] < nc, TL_ERR_FORMAT,
                 "%s: k-NN label index %d of row %zu is out of range", name, yi[i], i + 1);
        TL_CHECK(((const double *)wv)[i] > 0 && isfinite(((const double *)wv)[i]), TL_ERR_FORMAT,
                 "%s: k-NN weight of row %zu is not positive", name, i + 1);
    }
    tl_xmat X;
    memset(&X, 0, sizeof X);
    if (tl_tlm_get_tensor(c, "knn_rows", NULL, &nd, &dims, NULL) == TL_OK) {
        TL_TRY(knn_tensor(c, name, "knn_rows", TL_DTYPE_F64, n, d, &xv));
        X.dense = tl_mat_view((double *)xv, n, d);
    } else {
        tl_error_clear();
        TL_TRY(knn_tensor(c, name, "knn_indptr", TL_DTYPE_F64, n + 1, 0, &iv));
        TL_ALLOC(ip, n + 1);
        for (size_t i = 0; i <= n; i++) {
            double v = ((const double *)iv)[i];
            TL_CHECK(v >= 0 && v < 9e15 && v == floor(v) && (i == 0 ? v == 0 : v >= ip[i - 1] + 0.0),
                     TL_ERR_FORMAT, "%s: k-NN row pointer %zu is invalid", name, i);
            ip[i] = (size_t)v;
        }
        TL_TRY(knn_tensor(c, name, "knn_indices", TL_DTYPE_I32, ip[n], 0, &ix));
        TL_TRY(knn_tensor(c, name, "knn_values", TL_DTYPE_F64, ip[n], 0, &vv));
        X.sparse = true;
        X.csr = (tl_csr){n, d, ip[n], ip, ix, vv};
    }
    st = tlp_xvalidate(X, "k-NN training rows");
    if (st != TL_OK) {
        st = tl_fail_prefix(TL_ERR_FORMAT, "%s", name);
        goto done;
    }
    tlp_fit_info info = {0};
    if (tl_tlm_get_tensor(c, "knn_targets", NULL, &nd, &dims, NULL) == TL_OK) {
        const void *tvv;
        TL_TRY(knn_tensor(c, name, "knn_targets", TL_DTYPE_F64, n, 0, &tvv));
        for (size_t i = 0; i < n; i++)
            TL_CHECK(isfinite(((const double *)tvv)[i]), TL_ERR_FORMAT,
                     "%s: k-NN target of row %zu is not finite", name, i + 1);
        TL_TRY(knn_fit_reg(p, X, tvv, wv, &info, out));
    } else {
        tl_error_clear();
        TL_TRY(knn_fit(p, X, yi, wv, nc, &info, out));
    }
done:
    tl_free(ip);
    tl_free(yi);
    return st;
}

const tlp_learner_ops tlp_knn_ops = {knn_fit,   knn_scores, knn_predict, knn_free,
                                     knn_write, knn_read,   knn_fit_reg, knn_predict_reg};
