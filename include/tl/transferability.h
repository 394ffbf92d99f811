/* libtl transferability scores: how well a pre-trained model should transfer to a labelled target
 * task, computed from the model's outputs on the target data without fine-tuning it.
 *
 *   LogME   (You et al., ICML 2021): mean over classes of the maximum log evidence of a Bayesian
 *           linear model from features F to the one-hot label column, divided by n. Higher is
 *           better. Fixed-point iteration on (alpha, beta) as in the authors' code, through the
 *           eigen-decomposition of F^T F shared by all classes.
 *   LEEP    (Nguyen et al., ICML 2020): (1/n) sum_i log sum_z P(y_i | z) theta_z(x_i), with theta
 *           the source model's softmax outputs and P(y | z) the empirical conditional from the
 *           joint (1/n) sum_i theta_z(x_i) [y_i = y]. Higher is better (<= 0).
 *   NCE     (Tran et al., ICCV 2019): negative conditional entropy -H(Y | Z) of the target labels
 *           given the source model's hard predictions z_i = argmax theta(x_i). Higher is better.
 *   H-score (Bao et al., ICIP 2019): tr(cov(f)^+ cov(E[f | y])), features f, pseudo-inverse
 *           through the eigen-decomposition (eigenvalues below 1e-10 x the largest dropped).
 *
 * Features and probabilities are double, one sample per row; labels any integers. */
#ifndef TL_TRANSFERABILITY_H
#define TL_TRANSFERABILITY_H

#include <stddef.h>

#include "tl/core.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* F (n, d) features, y (n). n >= 2, at least 2 classes. */
tl_status tl_logme(tl_mat F, const int *y, double *out);
/* P (n, z) source-class probabilities (rows non-negative, summing to 1 within 1e-3), y (n). */
tl_status tl_leep(tl_mat P, const int *y, double *out);
/* P (n, z) source-class probabilities or scores (only the argmax of each row is used), y (n). */
tl_status tl_nce(tl_mat P, const int *y, double *out);
/* F (n, d) features, y (n). With at least as many features as samples and features in general
 * position, the centred features span every centred direction of the samples, so the score is
 * c - 1 whatever the features are (c classes): H-score only ranks models when n > d. */
tl_status tl_hscore(tl_mat F, const int *y, double *out);
/* Kendall's tau-b between two score lists (n >= 2): how well one ranking predicts the other. */
tl_status tl_kendall_tau(const double *a, const double *b, size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif
