/* libtl base learners and evaluation: exact k-NN (blocked BLAS distances), multinomial logistic
 * regression (L2, sample weights, L-BFGS), linear SVM (one-vs-rest, dual coordinate descent as in
 * liblinear, sample weights), ridge classifier; accuracy, balanced accuracy, macro-F1, confusion
 * matrix, two-class AUC, stratified k-fold cross-validation.
 *
 * All learners take dense or sparse features (tl_xmat), integer labels of any values (the sorted
 * distinct training labels become the classes) and optional per-sample weights. */
#ifndef TL_LEARN_H
#define TL_LEARN_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/io.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The base learners. */
typedef enum {
    TL_LEARNER_KNN = 0,    /* k nearest neighbours (classes; the mean value for regression) */
    TL_LEARNER_LOGREG = 1, /* multinomial logistic regression */
    TL_LEARNER_SVM = 2,    /* linear SVM, one-vs-rest (squared hinge, liblinear's dual) */
    TL_LEARNER_RIDGE = 3   /* ridge classifier, and ridge regression on targets */
} tl_learner_type;

/* A learner's settings (tl_learner_params_default, then change what you need). */
typedef struct tl_learner_params tl_learner_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* The settings of tl_learner_create. */
struct tl_learner_params {
    tl_learner_type type; /* which learner */
    size_t k;          /* k-NN: neighbours (default 1); ties broken by the nearest neighbour */
    double C;          /* logreg / svm: 0.5||W||^2 + C * sum_i w_i loss_i (sklearn's C), default 1;
                          TL_LEARNER_C_AUTO (0): chosen by stratified cv_folds-fold
                          cross-validation on the training rows (and their weights) over the grid
                          1e-4, 1e-3, ..., 1e2, ties to the smaller C (tl_learner_C says which) */
    double alpha;      /* ridge: ||XW - Y||^2 + alpha ||W||^2, default 1 */
    bool fit_intercept;/* logreg / svm / ridge: default true (intercept not regularised for
                          logreg/ridge; svm uses liblinear's bias feature = 1) */
    int max_iter;      /* logreg: L-BFGS iterations (default 500); svm: epochs (default 1000);
                          stopping there without converging is reported (tl_learner_converged) */
    double tol;        /* logreg: gradient-norm tolerance (default 1e-6); svm: default 1e-4 */
    uint64_t seed;     /* svm coordinate order (default 42) */
    int threads;       /* 0: leave BLAS threads as they are */
    size_t cv_folds;   /* C = auto: folds of the cross-validation (default 5, at least 2; fewer
                          when the training set has fewer rows) */
    const tl_comm *comm; /* logreg with a given C: the training rows are held by several
                          processes, each fitting on its block (NULL: one process); the loss and
                          gradient are summed over them, so every process gets the same model,
                          the one-process model to rounding. Every process must hold every class */
};

/* The value of C that asks for cross-validation (the registry's default for logreg and svm; the
 * typed default stays C = 1, so programs built on tl_learner_params_default keep their results). */
#define TL_LEARNER_C_AUTO 0.0
/* The grid C = auto searches: TL_LEARNER_C_GRID_N values from 1e-4 up by factors of 10. */
#define TL_LEARNER_C_GRID_N 7

tl_learner_params tl_learner_params_default(tl_learner_type type); /* the defaults above */
/* Says in words what is wrong (TL_ERR_INVALID_ARG). */
tl_status tl_learner_params_check(const tl_learner_params *p);
/* "1nn" (k=1), "knn" (k from p, default 5 when given as knn), "logreg", "svm", "ridge";
 * fills type and k. TL_ERR_INVALID_ARG naming the word otherwise. */
tl_status tl_learner_parse(const char *name, tl_learner_params *p);
#endif
const char *tl_learner_name(tl_learner_type type); /* "knn", "logreg", "svm", "ridge" */
bool tl_learner_type_regresses(tl_learner_type type); /* ridge and knn: true */

/* A learner: created with its settings, fitted, then predicting. */
typedef struct tl_learner tl_learner;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
tl_status tl_learner_create(const tl_learner_params *p, tl_learner **out); /* not yet fitted */
#endif
void tl_learner_free(tl_learner *l); /* NULL-safe */
/* X (n, d), y (n), w (n) or NULL for unit weights. Rejects n = 0, NaN/Inf, negative weights,
 * all-zero weights, and k-NN with k larger than n (naming both). A single class is accepted
 * (predicts it). */
tl_status tl_learner_fit(tl_learner *l, tl_xmat X, const int *y, const double *w);
/* Regression: X (n, d), t (n) real targets, w (n) or NULL. ridge (weighted least squares with the
 * alpha penalty, sklearn's Ridge) and k-NN (the weighted mean of the k nearest rows' targets)
 * regress; logreg and svm are classifiers (TL_ERR_UNSUPPORTED). A learner fitted this way
 * predicts with tl_learner_predict_values; tl_learner_predict / scores refuse it (TL_ERR_STATE),
 * as predict_values refuses a classifier. Saved and loaded like any learner. */
tl_status tl_learner_fit_targets(tl_learner *l, tl_xmat X, const double *t, const double *w);
tl_status tl_learner_predict_values(const tl_learner *l, tl_xmat X, double *out);
bool tl_learner_is_regressor(const tl_learner *l); /* fitted on regression targets */
/* pred (n): predicted labels (values from the training labels). TL_ERR_SHAPE if X's column count
 * differs from training, TL_ERR_STATE before fit. */
tl_status tl_learner_predict(const tl_learner *l, tl_xmat X, int *pred);
/* S (n, nclasses): class scores in the order of tl_learner_classes: probabilities (logreg),
 * decision values (svm, ridge), neighbour vote fractions (k-NN). */
tl_status tl_learner_scores(const tl_learner *l, tl_xmat X, tl_mat S);
size_t tl_learner_nclasses(const tl_learner *l);
size_t tl_learner_input_dim(const tl_learner *l); /* training features (0 before fit) */
const int *tl_learner_classes(const tl_learner *l);
/* logreg / svm: the C the fitted model uses (the one cross-validation chose when C was auto; the
 * given one otherwise); 0 for the other learners and before fit. */
double tl_learner_C(const tl_learner *l);
/* True when C was chosen by cross-validation (C = auto) in the last fit; cv_accuracy, when not
 * NULL, receives the chosen C's cross-validated accuracy (weighted by the sample weights). */
bool tl_learner_C_auto(const tl_learner *l, double *cv_accuracy);
/* False when the last fit (logreg: L-BFGS; svm: dual coordinate descent, any one-vs-rest problem)
 * stopped at max_iter without meeting its tolerance: the model is usable but not the optimum, and
 * a report should say so (more iterations, scaled features or a smaller C help). True for k-NN,
 * ridge, a single-class fit and a learner read back from a file that predates the flag; false
 * before fit. Cross-validation fits for C = auto do not count. */
bool tl_learner_converged(const tl_learner *l);
/* Iterations the last final fit took (logreg: L-BFGS iterations; svm: the most epochs of any
 * one-vs-rest problem; 0 for the others). */
int tl_learner_iterations(const tl_learner *l);
/* A fitted learner into / out of a .tlm container (tl/io.h); name: the file, for messages. */
tl_status tl_learner_write(const tl_learner *l, tl_tlm *c);
tl_status tl_learner_read(const tl_tlm *c, const char *name, tl_learner **out);

/* Exact k nearest neighbours of each query row among the reference rows (Euclidean), computed in
 * blocks through GEMM: idx (nq, k) and optional dist2 (nq, k, may be NULL) ascending by distance,
 * ties by lower reference index. ref (nr, d), query (nq, d). */
tl_status tl_knn_search(tl_mat ref, tl_mat query, size_t k, size_t *idx, double *dist2);

/* ---- metrics ---- */
/* Scores of predictions pred against labels y (n): the share right; the mean of the per-class
 * recalls; the mean of the per-class F1 (scikit-learn's definitions). */
double tl_accuracy(const int *y, const int *pred, size_t n);
tl_status tl_balanced_accuracy(const int *y, const int *pred, size_t n, double *out);
tl_status tl_macro_f1(const int *y, const int *pred, size_t n, double *out);
/* Regression scores of values v against targets t (n >= 1): root-mean-square error, mean
 * absolute error and R^2 = 1 - SSE / SST (scikit-learn's r2_score; NaN when the targets are
 * constant). Any output may be NULL. */
tl_status tl_regression_scores(const double *t, const double *v, size_t n, double *rmse,
                               double *mae, double *r2);
/* M (c, c) row = true class, column = predicted, over the sorted classes (c); labels outside
 * classes are an error (TL_ERR_LABEL). */
tl_status tl_confusion(const int *y, const int *pred, size_t n, const int *classes, size_t c,
                       size_t *M);
/* Area under the ROC curve for two classes: score is higher for `positive`; ties count half. */
tl_status tl_auc(const int *y, const double *score, size_t n, int positive, double *out);

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Stratified k-fold cross-validation accuracy of a learner. fold_acc (folds) may be NULL. */
tl_status tl_cross_validate(const tl_learner_params *p, tl_xmat X, const int *y, const double *w,
                            size_t folds, uint64_t seed, double *mean_acc, double *fold_acc);
/* The same on rows held by several processes (p->comm; NULL: tl_cross_validate): each passes its
 * block of X, y and w (the blocks of processes 0, 1, ... end to end being the data); the folds
 * are those of tl_cross_validate on all the rows, the learner (logreg, a given C) is fitted over
 * the processes, and every process returns the same accuracies. */
tl_status tl_cross_validate_comm(const tl_learner_params *p, tl_xmat X, const int *y,
                                 const double *w, size_t folds, uint64_t seed, double *mean_acc,
                                 double *fold_acc);
#endif

#ifdef __cplusplus
}
#endif
#endif
