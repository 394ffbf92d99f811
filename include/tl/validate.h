/* libtl label-free validation: score a fitted transfer on an unlabelled target, so that methods
 * and hyper-parameters can be compared without target labels (what `tl auto` does).
 *
 * Each criterion returns its value and whether the candidate collapsed: one class predicted for
 * more than TL_COLLAPSE_SHARE of the target rows (a collapsed predictor can look excellent to
 * entropy and to density criteria while being useless). The criteria:
 *  - prediction entropy: mean over target rows of -sum_k p_k log p_k of the class probabilities
 *    (lower is better; the entropy-minimisation view of Grandvalet & Bengio, NIPS 2004, used as a
 *    validation score by Morerio et al., ICLR 2018).
 *  - soft neighbourhood density, SND (Saito, Kim, Teterwak, Sclaroff, Darrell & Saenko, "Tune it
 *    the right way: unsupervised validation of domain adaptation via soft neighborhood density",
 *    ICCV 2021): the target probability vectors L2-normalised, their cosine similarities divided
 *    by a temperature tau (0.05 in the paper), each row's own similarity set to -1/tau, a softmax
 *    per row, and the mean entropy of those rows (higher is better: dense neighbourhoods).
 *  - importance-weighted cross-validation, IWCV (Sugiyama, Krauledat & Mueller, "Covariate shift
 *    adaptation by importance weighted cross validation", JMLR 2007): the mean over held-out
 *    source rows of w_i l_i, w the density ratio p_target / p_source and l the loss (lower is
 *    better).
 *  - deep embedded validation, DEV (You, Wang, Long & Wang, "Towards accurate model selection in
 *    deep unsupervised domain adaptation", ICML 2019): IWCV with its control variate,
 *    L_i = w_i l_i, eta = -Cov(L, w) / Var(w), DEV = mean(L) + eta mean(w) - eta (lower is
 *    better; population moments, as the authors' code).
 *  - MixVal (Hu, Liang, Wang, Chen & Wang, "Mixed samples as probes for unsupervised model
 *    selection in domain adaptation", NeurIPS 2023): target rows paired (row i with partner[i]),
 *    mixed x = lambda x_i + (1 - lambda) x_partner with lambda > 1/2 (0.55 in the paper), and the
 *    mixed row's pseudo-label is row i's predicted label; the share of mixed rows the candidate
 *    predicts as that label, computed apart for pairs of the same predicted class (intra-cluster)
 *    and of different ones (inter-cluster), MixVal = the mean of the two shares (higher is
 *    better; one of them alone when the other kind of pair does not occur).
 *  - reverse validation (Zhong et al., ECML-PKDD 2010) is the guard's (tl/guard.h: rv_after of
 *    tl_guard_check, which tl_transfer_run's report carries).
 * The probabilities P are (n, k), one row per target sample, nonnegative; pred (n) the labels the
 * candidate predicts (any integers; NULL: the argmax of each row of P) decide the collapse. */
#ifndef TL_VALIDATE_H
#define TL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A candidate whose most frequent predicted class takes more than this share of the target rows
 * is called collapsed. */
#define TL_COLLAPSE_SHARE 0.5
/* SND's temperature in the paper. */
#define TL_SND_TEMPERATURE 0.05

/* A criterion's value on a candidate, and whether the candidate collapsed. */
typedef struct {
    double value;     /* the criterion (NaN when it cannot be computed) */
    double top_share; /* share of the target rows in the most frequent predicted class */
    bool collapsed;   /* top_share > TL_COLLAPSE_SHARE */
} tl_criterion;

/* The collapse threshold for k classes, as tl_auto_run applies it: the top class's share is
 * nearer to every row (1) than to an even spread (1/k), i.e. above (1 + 1/k) / 2, and never
 * below TL_COLLAPSE_SHARE. With two classes "most of the target" (> 0.5) is any predictor at
 * all on a balanced target, so the fixed share judges nothing there; with 10 classes the two
 * rules differ by 0.05. */
double tl_validate_collapse_share(size_t n_classes);
/* Share of the most frequent value of pred (n); 0 when n = 0. */
double tl_validate_top_share(const int *pred, size_t n);
/* P (n, k): mean prediction entropy (natural log). */
tl_status tl_validate_entropy(tl_mat P, const int *pred, tl_criterion *out);
/* P (n, k), n >= 2: SND with temperature tau > 0. */
tl_status tl_validate_snd(tl_mat P, double tau, const int *pred, tl_criterion *out);
/* loss (m), w (m) >= 0: held-out source losses and their importance weights; pred (n) the
 * candidate's target predictions (the collapse only; NULL with n = 0: not judged). */
tl_status tl_validate_iwcv(const double *loss, const double *w, size_t m, const int *pred,
                           size_t n, tl_criterion *out);
/* The same inputs: DEV with its control variate (Var(w) = 0: IWCV's value). */
tl_status tl_validate_dev(const double *loss, const double *w, size_t m, const int *pred,
                          size_t n, tl_criterion *out);

/* The candidate's predictions of rows X (m, d) into pred (m); 0 on success. */
typedef int (*tl_predict_fn)(void *user, tl_mat X, int *pred);
/* Z (n, d) target rows in the space predict takes, pred (n) their predicted labels, partner (n)
 * indices < n (a row paired with itself is skipped), lambda in (0.5, 1). */
tl_status tl_validate_mixval(tl_mat Z, const int *pred, const size_t *partner, double lambda,
                             tl_predict_fn predict, void *user, tl_criterion *out);

#ifdef __cplusplus
}
#endif
#endif
