/* The tl_learner object: parameters (defaults, check, parse, names), a small vtable over the four
 * base learners (k-NN, multinomial logistic regression, linear SVM, ridge classifier), input
 * validation done once here (finite values, CSR structure, weights, labels), the mapping from any
 * integer labels to sorted class indices, and prediction as the argmax of the class scores.
 *
 * C = auto (TL_LEARNER_C_AUTO) for logreg and the SVM: stratified k-fold cross-validation on the
 * training rows over the log grid 1e-4 .. 1e2, the folds in parallel, each fold walking the grid
 * upwards with warm starts (a smaller C's solution is a good start for the next: the path of
 * liblinear's and glmnet's C / lambda searches) and the walk stopping once two grid points in a
 * row score below the best; the score is the sample-weighted accuracy pooled over the held-out
 * rows, ties go to the smaller C; the search's fits use a looser tolerance than the final one
 * (see choose_C); then one cold fit with the chosen C on all rows, so an auto fit equals a fit
 * given that C. The grid: decades around liblinear's and scikit-learn's C = 1, wide enough for
 * raw counts (the Amazon 5000-d rows choose C = 0.01 for the SVM, 0.01-0.1 for logreg, exactly
 * as scikit-learn's cross_val_score over the same grid does) and for normalised rows (larger C).
 *
 * Also the private tl_xmat helpers shared by the learners (learn_internal.h): they are kept here
 * instead of depending on src/data so the learners need only core + BLAS. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal/check.h"
#include "internal/parallel.h"
#include "learn/learn_internal.h"

struct tl_learner {
    tl_learner_params p;
    const tlp_learner_ops *ops;
    bool fitted;
    size_t d;     /* training column count */
    size_t c;     /* number of classes */
    int *classes; /* (c) sorted distinct training labels */
    void *model;  /* owned by ops; NULL when c == 1 (a constant predictor) */
    double C;     /* logreg / svm: the C of the fitted model (chosen when p.C is auto) */
    bool C_auto;  /* C was chosen by cross-validation */
    double cv_acc;/* ... and its cross-validated (weighted) accuracy */
    bool converged;
    int iterations;
    bool regression; /* fitted on real targets (c == 0, no classes; ops->predict_reg predicts) */
};

/* ---------------------------------------------------------------- tl_xmat helpers */

size_t tlp_xrows(tl_xmat X) { return X.sparse ? X.csr.rows : X.dense.rows; }
size_t tlp_xcols(tl_xmat X) { return X.sparse ? X.csr.cols : X.dense.cols; }

tl_xmat tlp_xslice(tl_xmat X, size_t row0, size_t n) {
    tl_xmat v = X;
    if (X.sparse) {
        v.csr.rows = n;
        v.csr.indptr = X.csr.indptr + row0;
        v.csr.nnz = n ? X.csr.indptr[row0 + n] - X.csr.indptr[row0] : 0;
    } else {
        v.dense = tl_mat_rows(X.dense, row0, n);
    }
    return v;
}

tl_status tlp_xvalidate(tl_xmat X, const char *what) {
    if (!X.sparse) {
        tl_mat M = X.dense;
        if (M.rows && M.cols && !M.data)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: %zu x %zu matrix has no data", what, M.rows,
                           M.cols);
        if (M.rows > 1 && M.ld < M.cols)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: leading dimension %zu < %zu columns", what,
                           M.ld, M.cols);
        return tl_mat_check_finite(M, what);
    }
    const tl_csr *A = &X.csr;
    if (A->rows == 0) return TL_OK;
    if (!A->indptr)
        return tl_fail(TL_ERR_INVALID_ARG, "%s: sparse matrix has no indptr", what);
    if (A->indptr[A->rows] > A->indptr[0] && (!A->indices || !A->values))
        return tl_fail(TL_ERR_INVALID_ARG, "%s: sparse matrix has no indices or values", what);
    for (size_t i = 0; i < A->rows; i++) /* all of indptr first: no entry is read before */
        if (A->indptr[i + 1] < A->indptr[i])
            return tl_fail(TL_ERR_FORMAT, "%s: row %zu: indptr decreases (%zu -> %zu)", what,
                           i + 1, A->indptr[i], A->indptr[i + 1]);
    if (A->indptr[A->rows] - A->indptr[0] != A->nnz)
        return tl_fail(TL_ERR_FORMAT, "%s: indptr spans %zu entries but nnz is %zu", what,
                       A->indptr[A->rows] - A->indptr[0], A->nnz);
    for (size_t i = 0; i < A->rows; i++) {
        size_t a = A->indptr[i], b = A->indptr[i + 1];
        for (size_t t = a; t < b; t++) {
            int32_t j = A->indices[t];
            if (j < 0 || (size_t)j >= A->cols)
                return tl_fail(TL_ERR_FORMAT, "%s: row %zu: column index %ld outside [0, %zu)",
                               what, i + 1, (long)j, A->cols);
            if (t > a && j <= A->indices[t - 1])
                return tl_fail(TL_ERR_FORMAT, "%s: row %zu: column indices not increasing", what,
                               i + 1);
            if (!isfinite(A->values[t]))
                return tl_fail(TL_ERR_NONFINITE, "%s: %s at row %zu, column %ld", what,
                               isnan(A->values[t]) ? "NaN" : "Inf", i + 1, (long)j + 1);
        }
    }
    return TL_OK;
}

void tlp_xdense_block(tl_xmat X, size_t row0, size_t n, tl_mat out) {
    if (!X.sparse) {
        for (size_t i = 0; i < n; i++)
            memcpy(out.data + i * out.ld, X.dense.data + (row0 + i) * X.dense.ld,
                   X.dense.cols * sizeof(double));
        return;
    }
    const tl_csr *A = &X.csr;
    for (size_t i = 0; i < n; i++) {
        double *o = out.data + i * out.ld;
        memset(o, 0, A->cols * sizeof(double));
        for (size_t t = A->indptr[row0 + i]; t < A->indptr[row0 + i + 1]; t++)
            o[A->indices[t]] = A->values[t];
    }
}

tl_status tlp_linear_scores(tl_xmat X, const double *Wt /* (d, t) */, const double *b /* (t) */,
                            size_t t, tl_mat Z /* (n, t) */) {
    tl_status st = TL_OK;
    size_t n = tlp_xrows(X), d = tlp_xcols(X);
    if (n == 0) return TL_OK;
    for (size_t i = 0; i < n; i++) {
        double *z = Z.data + i * Z.ld;
        for (size_t k = 0; k < t; k++) z[k] = b ? b[k] : 0.0;
    }
    if (d == 0) return TL_OK;
    if (!X.sparse) {
        TL_CHECK_INT(n, "rows");
        TL_CHECK_INT(d, "columns");
        TL_CHECK_INT(X.dense.ld, "leading dimension");
        TL_CHECK_INT(Z.ld, "leading dimension");
        /* a single row may carry ld < cols; BLAS wants ld >= cols */
        int lda = (int)(X.dense.ld < d ? d : X.dense.ld), ldz = (int)(Z.ld < t ? t : Z.ld);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)t, (int)d, 1.0,
                    X.dense.data, lda, Wt, (int)t, 1.0, Z.data, ldz);
    } else {
        const tl_csr *A = &X.csr;
        for (size_t i = 0; i < n; i++) {
            double *z = Z.data + i * Z.ld;
            for (size_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) {
                const double v = A->values[q], *wr = Wt + (size_t)A->indices[q] * t;
                for (size_t k = 0; k < t; k++) z[k] += v * wr[k];
            }
        }
    }
done:
    return st;
}

tl_status tlp_linmodel_create(size_t d, size_t c, tlp_linmodel **out) {
    tl_status st = TL_OK;
    tlp_linmodel *m = NULL;
    size_t cells;
    *out = NULL;
    TL_CALLOC(m, 1);
    m->d = d;
    m->c = c;
    m->t = c == 2 ? 1 : c;
    TL_CHECK(tl_size_mul(d, m->t, &cells) == 0, TL_ERR_NOMEM, "model %zu x %zu overflows", d,
             m->t);
    TL_CALLOC(m->Wt, cells);
    TL_CALLOC(m->b, m->t);
    *out = m;
    m = NULL;
done:
    tlp_linmodel_free(m);
    return st;
}

void tlp_linmodel_free(void *mp) {
    tlp_linmodel *m = mp;
    if (!m) return;
    tl_free(m->alpha);
    tl_free(m->Wt);
    tl_free(m->b);
    tl_free(m);
}

tl_status tlp_linmodel_decision(const void *mp, tl_xmat X, tl_mat S /* (n, c) */) {
    const tlp_linmodel *m = mp;
    if (m->t == m->c) return tlp_linear_scores(X, m->Wt, m->b, m->t, S);
    tl_mat col1 = {S.rows, 1, S.ld, S.data + 1}; /* f into column 1, then column 0 = -f */
    tl_status st = tlp_linear_scores(X, m->Wt, m->b, 1, col1);
    if (st != TL_OK) return st;
    for (size_t i = 0; i < S.rows; i++) S.data[i * S.ld] = -S.data[i * S.ld + 1];
    return TL_OK;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

tl_status tlp_unique(const int *y, size_t n, int **classes, size_t *c) {
    tl_status st = TL_OK;
    int *u = NULL;
    *classes = NULL;
    *c = 0;
    TL_ALLOC(u, n);
    if (n) memcpy(u, y, n * sizeof(int));
    qsort(u, n, sizeof(int), cmp_int);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || u[i] != u[m - 1]) u[m++] = u[i];
    *classes = u;
    *c = m;
    u = NULL;
done:
    tl_free(u);
    return st;
}

long tlp_find(const int *a, size_t c, int v) {
    size_t lo = 0, hi = c;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < c && a[lo] == v) ? (long)lo : -1;
}


/* ---------------------------------------------------------------- parameters */

static int default_max_iter(tl_learner_type t) { return t == TL_LEARNER_SVM ? 1000 : 500; }
static double default_tol(tl_learner_type t) { return t == TL_LEARNER_SVM ? 1e-4 : 1e-6; }

tl_learner_params tl_learner_params_default(tl_learner_type type) {
    tl_learner_params p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.k = 1;
    p.C = 1.0;
    p.alpha = 1.0;
    p.fit_intercept = true;
    p.max_iter = default_max_iter(type);
    p.tol = default_tol(type);
    p.seed = 42;
    p.threads = 0;
    p.cv_folds = 5;
    return p;
}

tl_status tl_learner_params_check(const tl_learner_params *p) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "learner parameters are NULL");
    if ((int)p->type < TL_LEARNER_KNN || (int)p->type > TL_LEARNER_RIDGE)
        return tl_fail(TL_ERR_INVALID_ARG, "unknown learner type %d", (int)p->type);
    if (p->type == TL_LEARNER_KNN && p->k < 1)
        return tl_fail(TL_ERR_INVALID_ARG, "k-NN: k must be at least 1");
    if ((p->type == TL_LEARNER_LOGREG || p->type == TL_LEARNER_SVM) &&
        !(isfinite(p->C) && p->C >= 0))
        return tl_fail(TL_ERR_INVALID_ARG,
                       "%s: C = %g must be positive and finite (or 0: chosen by cross-validation)",
                       tl_learner_name(p->type), p->C);
    if ((p->type == TL_LEARNER_LOGREG || p->type == TL_LEARNER_SVM) &&
        p->C == TL_LEARNER_C_AUTO && p->cv_folds < 2)
        return tl_fail(TL_ERR_INVALID_ARG, "%s: cv_folds = %zu must be at least 2 for C = auto",
                       tl_learner_name(p->type), p->cv_folds);
    if (p->type == TL_LEARNER_RIDGE && !(isfinite(p->alpha) && p->alpha >= 0))
        return tl_fail(TL_ERR_INVALID_ARG, "ridge: alpha = %g must be >= 0 and finite", p->alpha);
    if ((p->type == TL_LEARNER_LOGREG || p->type == TL_LEARNER_SVM) && p->max_iter < 1)
        return tl_fail(TL_ERR_INVALID_ARG, "%s: max_iter = %d must be at least 1",
                       tl_learner_name(p->type), p->max_iter);
    if ((p->type == TL_LEARNER_LOGREG || p->type == TL_LEARNER_SVM) &&
        !(isfinite(p->tol) && p->tol > 0))
        return tl_fail(TL_ERR_INVALID_ARG, "%s: tol = %g must be positive and finite",
                       tl_learner_name(p->type), p->tol);
    if (p->threads < 0)
        return tl_fail(TL_ERR_INVALID_ARG, "threads = %d must be >= 0", p->threads);
    if (p->comm && p->comm->size > 1 && (p->type != TL_LEARNER_LOGREG || p->C == TL_LEARNER_C_AUTO))
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s on rows held by %d processes: only logreg with a given C is fitted "
                       "over processes", tl_learner_name(p->type), p->comm->size);
    return TL_OK;
}

/* Rows held by several processes: every process must have found the same classes (else their
 * models would not have the same shape). Decided from sums, the same on every process: the
 * values v_r agree iff P sum v_r^2 = (sum v_r)^2. */
static tl_status same_classes(const tl_comm *cm, const int *cls, size_t c) {
    tl_status st = TL_OK;
    double *v = NULL, P = (double)cm->size;
    double k[2] = {(double)c, (double)c * (double)c};
    TL_TRY(cm->sum(cm->user, k, 2));
    TL_CHECK(P * k[1] == k[0] * k[0], TL_ERR_LABEL,
             "logreg over %d processes: they hold different numbers of classes (every process "
             "needs rows of every class)", cm->size);
    TL_ALLOC(v, 2 * c);
    for (size_t i = 0; i < c; i++) v[i] = cls[i], v[c + i] = (double)cls[i] * cls[i];
    TL_TRY(cm->sum(cm->user, v, 2 * c));
    for (size_t i = 0; i < c; i++)
        TL_CHECK(P * v[c + i] == v[i] * v[i], TL_ERR_LABEL,
                 "logreg over %d processes: they hold different classes (every process needs "
                 "rows of every class)", cm->size);
done:
    tl_free(v);
    return st;
}

/* Accepts "1nn", "knn", "<k>nn" (e.g. "3nn"), "logreg", "svm", "ridge" (case-insensitive).
 * When the type changes, max_iter and tol still holding the old type's defaults move to the new
 * type's defaults (so default(KNN) + parse("svm") gives the SVM defaults). */
tl_status tl_learner_parse(const char *name, tl_learner_params *p) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "learner parameters are NULL");
    if (!name) return tl_fail(TL_ERR_INVALID_ARG, "learner name is NULL");
    char w[32];
    size_t L = strlen(name);
    if (L == 0 || L >= sizeof w)
        return tl_fail(TL_ERR_INVALID_ARG,
                       "unknown learner '%s' (expected 1nn, knn, logreg, svm or ridge)", name);
    for (size_t i = 0; i <= L; i++) w[i] = (char)tolower((unsigned char)name[i]);
    tl_learner_type t;
    size_t k = p->k;
    if (strcmp(w, "knn") == 0) {
        t = TL_LEARNER_KNN;
        k = p->k > 1 ? p->k : 5;
    } else if (strcmp(w, "logreg") == 0) {
        t = TL_LEARNER_LOGREG;
    } else if (strcmp(w, "svm") == 0) {
        t = TL_LEARNER_SVM;
    } else if (strcmp(w, "ridge") == 0) {
        t = TL_LEARNER_RIDGE;
    } else if (L > 2 && strcmp(w + L - 2, "nn") == 0 && isdigit((unsigned char)w[0])) {
        char *end = NULL;
        unsigned long v = strtoul(w, &end, 10);
        if (end != w + L - 2 || v < 1 || v > 1000000)
            return tl_fail(TL_ERR_INVALID_ARG,
                           "unknown learner '%s' (expected 1nn, knn, logreg, svm or ridge)", name);
        t = TL_LEARNER_KNN;
        k = (size_t)v;
    } else {
        return tl_fail(TL_ERR_INVALID_ARG,
                       "unknown learner '%s' (expected 1nn, knn, logreg, svm or ridge)", name);
    }
    if (t != p->type) {
        if (p->max_iter == default_max_iter(p->type)) p->max_iter = default_max_iter(t);
        if (p->tol == default_tol(p->type)) p->tol = default_tol(t);
    }
    p->type = t;
    p->k = k;
    return TL_OK;
}

const char *tl_learner_name(tl_learner_type type) {
    switch (type) {
    case TL_LEARNER_KNN: return "knn";
    case TL_LEARNER_LOGREG: return "logreg";
    case TL_LEARNER_SVM: return "svm";
    case TL_LEARNER_RIDGE: return "ridge";
    }
    return "unknown";
}

/* ---------------------------------------------------------------- object */

static const tlp_learner_ops *ops_of(tl_learner_type t) {
    switch (t) {
    case TL_LEARNER_KNN: return &tlp_knn_ops;
    case TL_LEARNER_LOGREG: return &tlp_logreg_ops;
    case TL_LEARNER_SVM: return &tlp_svm_ops;
    case TL_LEARNER_RIDGE: return &tlp_ridge_ops;
    }
    return NULL;
}

tl_status tl_learner_create(const tl_learner_params *p, tl_learner **out) {
    tl_status st = TL_OK;
    tl_learner *l = NULL;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "learner: output pointer is NULL");
    *out = NULL;
    TL_TRY(tl_learner_params_check(p));
    TL_CALLOC(l, 1);
    l->p = *p;
    l->ops = ops_of(p->type);
    *out = l;
done:
    return st;
}

static void reset(tl_learner *l) {
    if (l->model) l->ops->free_model(l->model);
    l->model = NULL;
    tl_free(l->classes);
    l->classes = NULL;
    l->c = l->d = 0;
    l->fitted = false;
    l->C = 0;
    l->C_auto = false;
    l->cv_acc = 0;
    l->converged = false;
    l->iterations = 0;
    l->regression = false;
}

static bool uses_C(tl_learner_type t) { return t == TL_LEARNER_LOGREG || t == TL_LEARNER_SVM; }

void tl_learner_free(tl_learner *l) {
    if (!l) return;
    reset(l);
    tl_free(l);
}

size_t tl_learner_nclasses(const tl_learner *l) { return l && l->fitted ? l->c : 0; }
size_t tl_learner_input_dim(const tl_learner *l) { return l && l->fitted ? l->d : 0; }
const int *tl_learner_classes(const tl_learner *l) { return l && l->fitted ? l->classes : NULL; }
double tl_learner_C(const tl_learner *l) { return l && l->fitted && uses_C(l->p.type) ? l->C : 0; }
bool tl_learner_C_auto(const tl_learner *l, double *cv_accuracy) {
    bool a = l && l->fitted && l->C_auto;
    if (cv_accuracy) *cv_accuracy = a ? l->cv_acc : 0;
    return a;
}
bool tl_learner_converged(const tl_learner *l) { return l && l->fitted && l->converged; }
int tl_learner_iterations(const tl_learner *l) { return l && l->fitted ? l->iterations : 0; }

/* Class indices pred (n) of a fitted model: the learner's own predict, else the argmax of the
 * scores in blocks. */
#define PREDICT_BLOCK 4096
static tl_status predict_idx(const tlp_learner_ops *ops, const void *model, size_t c, tl_xmat X,
                             int *pred) {
    tl_status st = TL_OK;
    double *buf = NULL;
    size_t n = tlp_xrows(X);
    if (n == 0) return TL_OK;
    if (ops->predict) return ops->predict(model, X, pred);
    size_t bs = n < PREDICT_BLOCK ? n : PREDICT_BLOCK;
    size_t cells;
    TL_CHECK(tl_size_mul(bs, c, &cells) == 0, TL_ERR_NOMEM, "predict: size overflow");
    TL_ALLOC(buf, cells);
    for (size_t r0 = 0; r0 < n; r0 += bs) {
        size_t nb = n - r0 < bs ? n - r0 : bs;
        tl_mat S = tl_mat_view(buf, nb, c);
        TL_TRY(ops->scores(model, tlp_xslice(X, r0, nb), S));
        for (size_t i = 0; i < nb; i++) {
            const double *s = buf + i * c;
            size_t best = 0;
            for (size_t k = 1; k < c; k++)
                if (s[k] > s[best]) best = k;
            pred[r0 + i] = (int)best;
        }
    }
done:
    tl_free(buf);
    return st;
}

/* ---------------------------------------------------------------- C = auto */

/* The search walks the grid upwards; every fold keeps its model for the next grid point's warm
 * start. A fold trains on all rows with its held-out rows weighted 0 (the same objective as the
 * subset: both solvers skip or zero-weight those rows), so no rows are copied and the warm start
 * sees the same rows; it scores the held-out rows by their weights. */
typedef struct {
    const tlp_learner_ops *ops;
    tl_learner_params p; /* C: the current grid point */
    tl_xmat X;
    const int *yi;
    const double *w;
    size_t n, c;
    const size_t *fold; /* (n) */
    const double *wf;   /* (folds, n) fold f's training weights */
    const bool *skip;   /* (folds) nothing to train on or to score */
    void **prev;        /* (folds) the previous grid point's models */
    int *pred;          /* (folds, n) */
    double *hits;       /* (folds) weighted correct held-out predictions at this grid point */
} cgrid_job;

static double grid_C(size_t g) { return pow(10.0, (double)g - 4.0); }

static tl_status cgrid_fold(void *v, size_t f, size_t thread) {
    tl_status st = TL_OK;
    const cgrid_job *j = v;
    void *model = NULL;
    (void)thread;
    j->hits[f] = 0;
    if (j->skip[f]) return TL_OK;
    tlp_fit_info info = {j->prev[f], true, false, 0};
    TL_TRY(j->ops->fit(&j->p, j->X, j->yi, j->wf + f * j->n, j->c, &info, &model));
    if (j->prev[f]) j->ops->free_model(j->prev[f]);
    j->prev[f] = model;
    model = NULL;
    int *pred = j->pred + f * j->n;
    TL_TRY(predict_idx(j->ops, j->prev[f], j->c, j->X, pred));
    double h = 0;
    for (size_t i = 0; i < j->n; i++)
        if (j->fold[i] == f && pred[i] == j->yi[i]) h += j->w[i];
    j->hits[f] = h;
done:
    return st;
}

/* Chooses l->C by cross-validation on (X, yi, w) (validated; c >= 2 classes). The walk stops
 * once two successive grid points score below the best so far: held-out accuracy rises (or stays
 * at the prior's, for the smallest C's: a plateau does not count) and then falls along C, and
 * the largest C's are the slowest to fit. */
static tl_status choose_C(tl_learner *l, tl_xmat X, const int *yi, const double *w) {
    tl_status st = TL_OK;
    size_t *fold = NULL;
    double *wf = NULL, *hits = NULL;
    bool *skip = NULL;
    void **prev = NULL;
    int *pred = NULL;
    size_t n = tlp_xrows(X), folds = l->p.cv_folds < n ? l->p.cv_folds : n, cells;
    TL_CHECK(tl_size_mul(folds, n, &cells) == 0, TL_ERR_NOMEM, "cv: size overflow");
    TL_ALLOC(fold, n);
    TL_ALLOC(wf, cells);
    TL_ALLOC(pred, cells);
    TL_ALLOC(hits, folds);
    TL_ALLOC(skip, folds);
    TL_CALLOC(prev, folds);
    TL_TRY(tlp_stratified_folds(yi, n, folds, l->p.seed, fold));
    double wsum = 0;
    for (size_t i = 0; i < n; i++) wsum += w[i];
    for (size_t f = 0; f < folds; f++) {
        double wtr = 0, wte = 0;
        for (size_t i = 0; i < n; i++) {
            wf[f * n + i] = fold[i] == f ? 0.0 : w[i];
            wtr += wf[f * n + i];
            wte += fold[i] == f ? w[i] : 0.0;
        }
        skip[f] = !(wtr > 0) || !(wte > 0);
    }
    cgrid_job j = {l->ops, l->p, X, yi, w, n, l->c, fold, wf, skip, prev, pred, hits};
    int T = tl_parallel_default_threads();
    double best = -1;
    size_t gbest = 0, drops = 0;
    /* the held-out accuracy needs the decision, not the optimum's last digits: the search's fits
       stop at a looser tolerance (svm 100x: 1e-2 by default, still 10x liblinear's own 0.1;
       logreg 10x: 1e-5 on the gradient); on the Amazon rows this chooses the same C 2-5x faster */
    j.p.tol *= l->p.type == TL_LEARNER_SVM ? 100.0 : 10.0;
    for (size_t g = 0; g < TL_LEARNER_C_GRID_N && drops < 2; g++) {
        j.p.C = grid_C(g);
        st = tl_parallel_tasks(folds, T > 0 ? (size_t)T : 1, cgrid_fold, &j);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "%s: choosing C by cross-validation (C = %g)",
                                tl_learner_name(l->p.type), j.p.C);
            goto done;
        }
        double h = 0; /* summed in fold order: the same whatever the threads did */
        for (size_t f = 0; f < folds; f++) h += hits[f];
        if (h > best * (1 + 1e-12)) { /* ties (to rounding) keep the smaller C */
            best = h;
            gbest = g;
            drops = 0;
        } else if (h < best * (1 - 1e-12)) {
            drops++;
        } else {
            drops = 0; /* a plateau (the prior at the smallest C's) is not a decline */
        }
    }
    l->C = grid_C(gbest);
    l->C_auto = true;
    l->cv_acc = fmin(fmax(best / wsum, 0.0), 1.0); /* the two sums round apart */
done:
    for (size_t f = 0; prev && f < folds; f++)
        if (prev[f]) l->ops->free_model(prev[f]);
    tl_free(prev);
    tl_free(fold);
    tl_free(wf);
    tl_free(pred);
    tl_free(hits);
    tl_free(skip);
    return st;
}

/* The checks every fit makes on its training rows and weights: *wu (n) receives the weights (1
 * when w is NULL), allocated with tl_malloc. */
static tl_status check_training(const tl_learner *l, tl_xmat X, const double *w, double **wu) {
    tl_status st = TL_OK;
    const char *nm = tl_learner_name(l->p.type);
    size_t n = tlp_xrows(X), d = tlp_xcols(X);
    *wu = NULL;
    TL_CHECK(n > 0, TL_ERR_EMPTY, "%s fit: the training set has no samples", nm);
    TL_CHECK(d > 0, TL_ERR_EMPTY, "%s fit: the training set has no features", nm);
    TL_CHECK(l->p.type != TL_LEARNER_KNN || l->p.k <= n, TL_ERR_INVALID_ARG,
             "%s fit: k = %zu neighbours, but the training set has only %zu rows", nm, l->p.k, n);
    st = tlp_xvalidate(X, "training X");
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "%s fit", nm);
        goto done;
    }
    TL_ALLOC(*wu, n);
    double wsum = 0;
    for (size_t i = 0; i < n; i++) {
        double v = w ? w[i] : 1.0;
        TL_CHECK(isfinite(v), TL_ERR_NONFINITE, "%s fit: sample weight %zu is %s", nm, i + 1,
                 isnan(v) ? "NaN" : "Inf");
        TL_CHECK(v >= 0, TL_ERR_INVALID_ARG, "%s fit: sample weight %zu is negative (%g)", nm,
                 i + 1, v);
        (*wu)[i] = v;
        wsum += v;
    }
    TL_CHECK(wsum > 0, TL_ERR_INVALID_ARG, "%s fit: all sample weights are zero", nm);
done:
    if (st != TL_OK) {
        tl_free(*wu);
        *wu = NULL;
    }
    return st;
}

bool tl_learner_type_regresses(tl_learner_type type) {
    const tlp_learner_ops *ops = ops_of(type);
    return ops && ops->fit_reg;
}

tl_status tl_learner_fit_targets(tl_learner *l, tl_xmat X, const double *t, const double *w) {
    tl_status st = TL_OK;
    double *wu = NULL;
    tli_thread_scope scope = {0};
    TL_CHECK(l != NULL, TL_ERR_INVALID_ARG, "fit: learner is NULL");
    reset(l);
    const char *nm = tl_learner_name(l->p.type);
    TL_CHECK(l->ops->fit_reg, TL_ERR_UNSUPPORTED,
             "%s is a classifier: regression targets need a regressor (ridge or knn)", nm);
    TL_CHECK(t != NULL, TL_ERR_LABEL, "%s fit: training targets are missing", nm);
    TL_TRY(check_training(l, X, w, &wu));
    size_t n = tlp_xrows(X);
    for (size_t i = 0; i < n; i++)
        TL_CHECK(isfinite(t[i]), TL_ERR_NONFINITE, "%s fit: target %zu is %s", nm, i + 1,
                 isnan(t[i]) ? "NaN" : "Inf");
    scope = tli_threads_enter_n(l->p.threads);
    tlp_fit_info info = {NULL, false, true, 0};
    TL_TRY(l->ops->fit_reg(&l->p, X, t, wu, &info, &l->model));
    l->regression = true;
    l->converged = true; /* direct solves and lookups */
    l->d = tlp_xcols(X);
    l->fitted = true;
done:
    tli_threads_leave(scope);
    if (st != TL_OK && l) reset(l);
    tl_free(wu);
    return st;
}

bool tl_learner_is_regressor(const tl_learner *l) { return l && l->fitted && l->regression; }

tl_status tl_learner_fit(tl_learner *l, tl_xmat X, const int *y, const double *w) {
    tl_status st = TL_OK;
    int *yi = NULL;
    double *wu = NULL;
    tli_thread_scope scope = {0};
    TL_CHECK(l != NULL, TL_ERR_INVALID_ARG, "fit: learner is NULL");
    reset(l);
    const char *nm = tl_learner_name(l->p.type);
    size_t n = tlp_xrows(X), d = tlp_xcols(X);
    TL_CHECK(y != NULL, TL_ERR_LABEL, "%s fit: training labels are missing", nm);
    TL_TRY(check_training(l, X, w, &wu));
    TL_TRY(tlp_unique(y, n, &l->classes, &l->c));
    TL_CHECK(l->c <= (size_t)INT32_MAX, TL_ERR_LABEL, "%s fit: too many classes", nm);
    if (l->p.comm && l->p.comm->size > 1) TL_TRY(same_classes(l->p.comm, l->classes, l->c));
    TL_ALLOC(yi, n);
    for (size_t i = 0; i < n; i++) yi[i] = (int)tlp_find(l->classes, l->c, y[i]);
    scope = tli_threads_enter_n(l->p.threads);
    l->C = l->p.C;
    l->converged = true;
    if (l->c >= 2) {
        tl_learner_params p = l->p;
        if (uses_C(p.type) && p.C == TL_LEARNER_C_AUTO) {
            TL_TRY(choose_C(l, X, yi, wu));
            p.C = l->C;
        }
        tlp_fit_info info = {NULL, false, false, 0};
        TL_TRY(l->ops->fit(&p, X, yi, wu, l->c, &info, &l->model));
        l->converged = info.converged || !uses_C(p.type);
        l->iterations = info.iterations;
    } else if (uses_C(l->p.type) && l->p.C == TL_LEARNER_C_AUTO) {
        l->C = 1.0; /* one class: nothing to choose; a constant predictor */
    }
    l->d = d;
    l->fitted = true;
done:
    tli_threads_leave(scope);
    if (st != TL_OK && l) reset(l);
    tl_free(yi);
    tl_free(wu);
    return st;
}

static tl_status check_query(const tl_learner *l, tl_xmat X, const char *op) {
    if (!l) return tl_fail(TL_ERR_INVALID_ARG, "%s: learner is NULL", op);
    if (!l->fitted)
        return tl_fail(TL_ERR_STATE, "%s %s: the learner has not been fitted",
                       tl_learner_name(l->p.type), op);
    if (tlp_xcols(X) != l->d)
        return tl_fail(TL_ERR_SHAPE, "%s %s: X has %zu columns, the learner was trained on %zu",
                       tl_learner_name(l->p.type), op, tlp_xcols(X), l->d);
    tl_status st = tlp_xvalidate(X, "X");
    if (st != TL_OK) return tl_fail_prefix(st, "%s %s", tl_learner_name(l->p.type), op);
    return TL_OK;
}

/* A regressor has no classes to score or predict (and a classifier no values). */
static tl_status check_kind(const tl_learner *l, bool want_regression, const char *op) {
    if (l->regression == want_regression) return TL_OK;
    return tl_fail(TL_ERR_STATE,
                   want_regression ? "%s %s: the learner was fitted on class labels, not on "
                                     "regression targets"
                                   : "%s %s: the learner was fitted on regression targets: it "
                                     "predicts values, not classes",
                   tl_learner_name(l->p.type), op);
}

tl_status tl_learner_predict_values(const tl_learner *l, tl_xmat X, double *out /* (n) */) {
    tl_status st = TL_OK;
    tli_thread_scope scope = {0};
    TL_TRY(check_query(l, X, "predict"));
    TL_TRY(check_kind(l, true, "predict values"));
    size_t n = tlp_xrows(X);
    if (n == 0) goto done;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "predict values: output array is NULL");
    scope = tli_threads_enter_n(l->p.threads);
    TL_TRY(l->ops->predict_reg(l->model, X, out));
done:
    tli_threads_leave(scope);
    return st;
}

tl_status tl_learner_scores(const tl_learner *l, tl_xmat X, tl_mat S) {
    tl_status st = TL_OK;
    TL_TRY(check_query(l, X, "scores"));
    TL_TRY(check_kind(l, false, "scores"));
    size_t n = tlp_xrows(X);
    TL_CHECK(S.rows == n && S.cols == l->c && (S.data || n == 0) && (n <= 1 || S.ld >= S.cols),
             TL_ERR_SHAPE, "%s scores: S is %zu x %zu, expected %zu x %zu",
             tl_learner_name(l->p.type), S.rows, S.cols, n, l->c);
    if (n == 0) goto done;
    if (l->c == 1) {
        tl_mat_fill(S, 1.0);
    } else {
        tli_thread_scope scope = tli_threads_enter_n(l->p.threads);
        st = l->ops->scores(l->model, X, S);
        tli_threads_leave(scope);
    }
done:
    return st;
}

tl_status tl_learner_predict(const tl_learner *l, tl_xmat X, int *pred /* (n) */) {
    tl_status st = TL_OK;
    tli_thread_scope scope = {0};
    TL_TRY(check_query(l, X, "predict"));
    TL_TRY(check_kind(l, false, "predict"));
    size_t n = tlp_xrows(X);
    if (n == 0) goto done;
    TL_CHECK(pred != NULL, TL_ERR_INVALID_ARG, "predict: output array is NULL");
    scope = tli_threads_enter_n(l->p.threads);
    if (l->c == 1) {
        for (size_t i = 0; i < n; i++) pred[i] = l->classes[0];
        goto done;
    }
    TL_TRY(predict_idx(l->ops, l->model, l->c, X, pred));
    for (size_t i = 0; i < n; i++) pred[i] = l->classes[pred[i]];
done:
    tli_threads_leave(scope);
    return st;
}

/* ---------------------------------------------------------------- save / load */

tl_status tlp_put_linear(tl_tlm *m, const double *Wt, const double *b, size_t d, size_t t) {
    size_t dw[2] = {d, t}, db[1] = {t};
    tl_status st = tl_tlm_add_tensor(m, "weights", TL_DTYPE_F64, 2, dw, Wt);
    return st == TL_OK ? tl_tlm_add_tensor(m, "bias", TL_DTYPE_F64, 1, db, b) : st;
}

tl_status tlp_get_linear(const tl_tlm *m, const char *name, size_t d, size_t t, double *Wt,
                         double *b) {
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    if (tl_tlm_get_tensor(m, "weights", &dt, &nd, &dims, &data) != TL_OK || dt != TL_DTYPE_F64 ||
        nd != 2 || dims[0] != d || dims[1] != t)
        return tl_fail(TL_ERR_FORMAT, "%s: learner tensor 'weights' missing or not %zu x %zu", name,
                       d, t);
    memcpy(Wt, data, d * t * sizeof(double));
    if (tl_tlm_get_tensor(m, "bias", &dt, &nd, &dims, &data) != TL_OK || dt != TL_DTYPE_F64 ||
        nd != 1 || dims[0] != t)
        return tl_fail(TL_ERR_FORMAT, "%s: learner tensor 'bias' missing or not of %zu", name, t);
    memcpy(b, data, t * sizeof(double));
    for (size_t i = 0; i < d * t; i++)
        if (!isfinite(Wt[i]))
            return tl_fail(TL_ERR_FORMAT, "%s: learner weights are not finite", name);
    return TL_OK;
}

tl_status tlp_linmodel_write(const void *mp, tl_tlm *c) {
    const tlp_linmodel *m = mp;
    return tlp_put_linear(c, m->Wt, m->b, m->d, m->t);
}

tl_status tlp_linmodel_read(const tl_learner_params *p, const tl_tlm *c, const char *name,
                            size_t d, size_t nc, void **out) {
    tl_status st = TL_OK;
    tlp_linmodel *m = NULL;
    (void)p;
    TL_TRY(tlp_linmodel_create(d, nc, &m));
    TL_TRY(tlp_get_linear(c, name, d, m->t, m->Wt, m->b));
    *out = m;
    m = NULL;
done:
    tlp_linmodel_free(m);
    return st;
}

tl_status tl_learner_write(const tl_learner *l, tl_tlm *m) {
    tl_status st = TL_OK;
    TL_CHECK(l && m, TL_ERR_INVALID_ARG, "learner_write: NULL learner or container");
    TL_CHECK(l->fitted, TL_ERR_STATE, "learner_write: the %s learner has not been fitted",
             tl_learner_name(l->p.type));
    TL_TRY(tl_tlm_set_meta(m, "model", "tl_learner"));
    TL_TRY(tl_tlm_set_meta(m, "type", tl_learner_name(l->p.type)));
    TL_TRY(tl_tlm_set_num(m, "k", (double)l->p.k));
    /* the C the model was fitted with (the chosen one when auto): a reloaded learner refits alike */
    TL_TRY(tl_tlm_set_num(m, "C", uses_C(l->p.type) ? l->C : l->p.C));
    TL_TRY(tl_tlm_set_num(m, "C_auto", l->C_auto));
    if (l->C_auto) TL_TRY(tl_tlm_set_num(m, "cv_accuracy", l->cv_acc));
    TL_TRY(tl_tlm_set_num(m, "converged", l->converged));
    TL_TRY(tl_tlm_set_num(m, "iterations", l->iterations));
    TL_TRY(tl_tlm_set_num(m, "alpha", l->p.alpha));
    TL_TRY(tl_tlm_set_num(m, "fit_intercept", l->p.fit_intercept));
    TL_TRY(tl_tlm_set_num(m, "max_iter", l->p.max_iter));
    TL_TRY(tl_tlm_set_num(m, "tol", l->p.tol));
    TL_TRY(tl_tlm_set_num(m, "features", (double)l->d));
    if (l->regression) { /* no classes: the model predicts values */
        TL_TRY(tl_tlm_set_meta(m, "task", "regression"));
        TL_TRY(l->ops->write(l->model, m));
        goto done;
    }
    size_t dc[1] = {l->c};
    TL_TRY(tl_tlm_add_tensor(m, "classes", TL_DTYPE_I32, 1, dc, l->classes));
    if (l->c >= 2) TL_TRY(l->ops->write(l->model, m));
done:
    return st;
}

tl_status tl_learner_read(const tl_tlm *m, const char *name, tl_learner **out) {
    tl_status st = TL_OK;
    tl_learner *l = NULL;
    double v;
    TL_CHECK(m && out, TL_ERR_INVALID_ARG, "learner_read: NULL container or output");
    *out = NULL;
    if (!name) name = "learner";
    const char *kind = tl_tlm_get_meta(m, "model"), *type = tl_tlm_get_meta(m, "type");
    TL_CHECK(kind && strcmp(kind, "tl_learner") == 0, TL_ERR_FORMAT, "%s: holds no learner", name);
    tl_learner_params p = tl_learner_params_default(TL_LEARNER_KNN);
    TL_CHECK(type && (strcmp(type, "knn") == 0 || tl_learner_parse(type, &p) == TL_OK),
             TL_ERR_FORMAT, "%s: unknown learner type '%s'", name, type ? type : "");
    TL_TRY(tl_tlm_get_num(m, name, "k", 1, 1e9, &v));
    p.k = (size_t)v;
    TL_TRY(tl_tlm_get_num(m, name, "C", 1e-300, 1e300, &p.C));
    /* the fit's record (files written before it was kept read as a converged, given C) */
    bool C_auto = false, converged = true;
    double cv_acc = 0, iters = 0;
    if (tl_tlm_get_meta(m, "C_auto")) {
        TL_TRY(tl_tlm_get_num(m, name, "C_auto", 0, 1, &v));
        C_auto = v != 0;
    }
    if (C_auto && tl_tlm_get_meta(m, "cv_accuracy"))
        TL_TRY(tl_tlm_get_num(m, name, "cv_accuracy", 0, 1, &cv_acc));
    if (tl_tlm_get_meta(m, "converged")) {
        TL_TRY(tl_tlm_get_num(m, name, "converged", 0, 1, &v));
        converged = v != 0;
    }
    if (tl_tlm_get_meta(m, "iterations"))
        TL_TRY(tl_tlm_get_num(m, name, "iterations", 0, 2147483647.0, &iters));
    TL_TRY(tl_tlm_get_num(m, name, "alpha", 0, 1e300, &p.alpha));
    TL_TRY(tl_tlm_get_num(m, name, "fit_intercept", 0, 1, &v));
    p.fit_intercept = v != 0;
    TL_TRY(tl_tlm_get_num(m, name, "max_iter", 1, 2e9, &v));
    p.max_iter = (int)v;
    TL_TRY(tl_tlm_get_num(m, name, "tol", 1e-300, 1e300, &p.tol));
    TL_TRY(tl_learner_create(&p, &l));
    TL_TRY(tl_tlm_get_num(m, name, "features", 1, 2147483647.0, &v));
    l->d = (size_t)v;
    const char *task = tl_tlm_get_meta(m, "task");
    if (task) {
        TL_CHECK(strcmp(task, "regression") == 0, TL_ERR_FORMAT, "%s: unknown learner task '%s'",
                 name, task);
        TL_CHECK(l->ops->fit_reg, TL_ERR_FORMAT, "%s: a %s learner cannot hold a regression model",
                 name, type);
        TL_TRY(l->ops->read(&l->p, m, name, l->d, 1, &l->model));
        l->regression = true;
        goto loaded;
    }
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    TL_CHECK(tl_tlm_get_tensor(m, "classes", &dt, &nd, &dims, &data) == TL_OK &&
                 dt == TL_DTYPE_I32 && nd == 1 && dims[0] >= 1,
             TL_ERR_FORMAT, "%s: learner lacks its classes", name);
    l->c = dims[0];
    TL_ALLOC(l->classes, l->c);
    memcpy(l->classes, data, l->c * sizeof(int));
    for (size_t i = 1; i < l->c; i++)
        TL_CHECK(l->classes[i - 1] < l->classes[i], TL_ERR_FORMAT,
                 "%s: learner classes are not sorted and distinct", name);
    if (l->c >= 2) TL_TRY(l->ops->read(&l->p, m, name, l->d, l->c, &l->model));
loaded:
    l->fitted = true;
    l->C = p.C;
    l->C_auto = C_auto;
    l->cv_acc = cv_acc;
    l->converged = converged;
    l->iterations = (int)iters;
    *out = l;
    l = NULL;
done:
    tl_learner_free(l);
    return st;
}
