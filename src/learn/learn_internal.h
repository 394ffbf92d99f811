/* Private interface of src/learn: the learner vtable every base learner implements, and small
 * helpers over tl_xmat (row/column counts, validation, densifying a row block, linear scores)
 * shared by the learners. Kept private so the public contract stays the opaque tl_learner.
 *
 * learner.c validates inputs once (finite values, CSR structure, weights, labels) and maps labels
 * to class indices 0..c-1 before calling a learner's fit, so the learners see clean data:
 * yi (n) class indices, w (n) non-negative weights with a positive sum, c >= 2 classes. */
#ifndef TL_LEARN_INTERNAL_H
#define TL_LEARN_INTERNAL_H

#include "tl/io.h"
#include "tl/learn.h"

/* What a fit is given beyond the data, and what it reports back. */
typedef struct {
    const void *init; /* in: a model of the same learner fitted on the same rows with another C
                         (kept with keep_state), to start from; NULL: a cold start */
    bool keep_state;  /* in: keep in the model what a warm start needs (svm: dual variables) */
    bool converged;   /* out: false when the solver stopped at max_iter short of its tolerance */
    int iterations;   /* out: solver iterations (svm: the most epochs of any binary problem) */
} tlp_fit_info;

typedef struct {
    /* Fit a model; *model receives an object owned by the learner (freed with free_model).
     * info is never NULL. */
    tl_status (*fit)(const tl_learner_params *p, tl_xmat X /* (n, d) */, const int *yi /* (n) */,
                     const double *w /* (n) */, size_t c, tlp_fit_info *info, void **model);
    /* S (n, c): class scores. */
    tl_status (*scores)(const void *model, tl_xmat X /* (n, d) */, tl_mat S);
    /* Optional: class indices (n) of the predictions; NULL means argmax of scores. */
    tl_status (*predict)(const void *model, tl_xmat X /* (n, d) */, int *pred);
    void (*free_model)(void *model);
    /* The fitted model into / out of a container (learner.c writes the parameters and classes):
     * read rebuilds it for p, d features and c classes; name is the file, for messages. */
    tl_status (*write)(const void *model, tl_tlm *m);
    tl_status (*read)(const tl_learner_params *p, const tl_tlm *m, const char *name, size_t d,
                      size_t c, void **model);
    /* Regression (NULL: a classifier only): fit on real targets t (n) (learner.c validated them
     * and the weights); predict real values out (n). The model writes and reads through write
     * and read above, read with c = 1. */
    tl_status (*fit_reg)(const tl_learner_params *p, tl_xmat X /* (n, d) */, const double *t,
                         const double *w, tlp_fit_info *info, void **model);
    tl_status (*predict_reg)(const void *model, tl_xmat X /* (n, d) */, double *out);
} tlp_learner_ops;

extern const tlp_learner_ops tlp_knn_ops;
extern const tlp_learner_ops tlp_logreg_ops;
extern const tlp_learner_ops tlp_svm_ops;
extern const tlp_learner_ops tlp_ridge_ops;

/* Row / column counts of either storage (private copies so src/learn links on its own). */
size_t tlp_xrows(tl_xmat X);
size_t tlp_xcols(tl_xmat X);
/* Rows [row0, row0 + n) as a view of the same storage (CSR: indptr offset, values shared). */
tl_xmat tlp_xslice(tl_xmat X, size_t row0, size_t n);
/* Structure (CSR indptr monotone, indices in range and increasing; dense ld >= cols, data present)
 * and finiteness. `what` names the argument in messages ("X", "query"). */
tl_status tlp_xvalidate(tl_xmat X, const char *what);
/* out (n, cols(X)) = rows [row0, row0 + n) of X densified. */
void tlp_xdense_block(tl_xmat X, size_t row0, size_t n, tl_mat out);
/* Z (n, t) = X Wt + 1 b^T: X (n, d) dense (GEMM) or CSR (O(nnz t)), Wt (d, t) row-major,
 * b (t) or NULL. */
tl_status tlp_linear_scores(tl_xmat X, const double *Wt, const double *b, size_t t, tl_mat Z);
/* A linear model shared by the SVM and ridge: decision f(x) = Wt^T x + b.
 * t = c score columns, or t = 1 for two classes (one function f for class 1, class 0 gets -f). */
typedef struct {
    size_t d, c, t;
    double *Wt; /* (d, t) */
    double *b;  /* (t) */
    size_t n;      /* svm with keep_state: training rows of alpha, else 0 */
    double *alpha; /* svm with keep_state: (t, n) dual variables (a warm start's), else NULL */
} tlp_linmodel;
tl_status tlp_linmodel_create(size_t d, size_t c, tlp_linmodel **out); /* zeroed */
void tlp_linmodel_free(void *m);
/* S (n, c) decision values (the two-class model fills [-f, f]). */
tl_status tlp_linmodel_decision(const void *m, tl_xmat X, tl_mat S);

/* Write / read of the weights and bias of a linear model ((d, t) and (t), float64), shared by
 * the linear learners' write/read. read checks the shapes against d and t. */
tl_status tlp_put_linear(tl_tlm *m, const double *Wt, const double *b, size_t d, size_t t);
tl_status tlp_get_linear(const tl_tlm *m, const char *name, size_t d, size_t t, double *Wt,
                         double *b);
tl_status tlp_linmodel_write(const void *m, tl_tlm *c);
tl_status tlp_linmodel_read(const tl_learner_params *p, const tl_tlm *m, const char *name,
                            size_t d, size_t c, void **model);

/* Rows of X copied into a matrix of their own (cv.c): dense rows, or a new CSR. */
typedef struct {
    tl_xmat X;
    double *dv;   /* dense rows */
    size_t *ip;   /* CSR indptr */
    int32_t *ind; /* CSR indices */
    double *val;  /* CSR values */
} tlp_xsub;
/* Rows idx (m) of X into s (owned copies; free with tlp_xsub_free, also after a failure). */
tl_status tlp_xsub_make(tl_xmat X, const size_t *idx, size_t m, tlp_xsub *s);
void tlp_xsub_free(tlp_xsub *s);
/* Stratified fold of each sample: fold (n) in [0, folds), each class's samples shuffled with the
 * seed and dealt round-robin (one counter across the classes in sorted order). */
tl_status tlp_stratified_folds(const int *y, size_t n, size_t folds, uint64_t seed, size_t *fold);

/* Sorted distinct values of y (n): *classes allocated with tl_malloc. */
tl_status tlp_unique(const int *y, size_t n, int **classes, size_t *c);
/* Index of v in sorted a (c), or -1. */
long tlp_find(const int *a, size_t c, int v);

#endif
