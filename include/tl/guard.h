/* libtl negative-transfer guard: estimate whether a transfer helped, and whether the source is
 * worth transferring from at all. "Negative transfer" (Rosenstein, Marx, Kaelbling & Dietterich,
 * "To transfer or not to transfer", NIPS workshop 2005; Wang, Dai, Poczos & Carbonell,
 * "Characterizing and avoiding negative transfer", CVPR 2019) is a transfer that leaves the target
 * worse than not transferring; without target labels it can only be estimated.
 *
 * Label-free signals (tl_guard_check):
 *  - feature correspondence (the decisive signal for an unrelated source): do the columns of the
 *    two domains mean the same thing? Each domain's feature-feature correlation matrix is
 *    computed and the two are compared by the Pearson correlation r of their off-diagonal entries
 *    (the Mantel statistic: N. Mantel, "The detection of disease clustering and a generalized
 *    regression approach", Cancer Research 27, 1967), with a permutation p-value that relabels the
 *    target's features (the null hypothesis "the features do not correspond"). Correlations are
 *    invariant to per-domain shifts and scales, so r survives the per-domain z-scoring that makes
 *    MMD and the A-distance call any two domains alike, and it compares second-order structure
 *    as CORAL does (Sun, Feng & Saenko, AAAI 2016). r < min_correspondence marks the source
 *    unrelated. Evidence (bench/run.sh guard, bench/RESULTS.md): the 12 Office+Caltech SURF pairs
 *    have r = 0.27 .. 0.60, the Amazon review pairs 0.32 .. 0.45 (most frequent 1000 words),
 *    MNIST vs USPS 0.45, while DeCAF features cut to 800 columns against SURF give |r| < 0.01.
 *    Other label-free signals were measured on the same tasks and overlap between related and
 *    unrelated sources, so they are reported as evidence only: the proxy A-distance and MMD (0
 *    after per-domain z-scoring), reverse validation (JDA's pseudo-labelling makes it high for
 *    an unrelated source: 65 .. 94 %), agreement between two learners' target predictions, and
 *    the entropy of the predicted target labels (collapse).
 *  - domain distance before and after: MMD^2 between source and target in the original space and
 *    in the transferred one (RBF with the median-heuristic bandwidth for dense data, linear for
 *    sparse data, where an RBF kernel would need dense products of every pair; at most max_rows
 *    rows per domain). Weights are not part of the MMD: for a weighting-only transfer the two
 *    values are equal.
 *  - weight concentration, for a transfer that weights the source: the effective sample size
 *    (Kish 1965) ESS = (sum w)^2 / sum w^2 as a share of the source rows. n / ESS is the empirical
 *    second moment of the normalised weights, the quantity that governs the variance of, and the
 *    generalisation bound for, importance-weighted learning (Cortes, Mansour & Mohri, "Learning
 *    bounds for importance weighting", NIPS 2010); a learner that rests on a few heavily weighted
 *    samples is not to be trusted. Evidence: on the 12 Amazon pairs, KMM and the domain-classifier
 *    weights keep 3-25 % of the rows and lose to the unweighted learner in 24 of 24 runs with
 *    logreg (0.8-8 points) and 20 of 24 with a linear SVM, while KLIEP, uLSIF (Amazon) and KMM
 *    (SURF) keep 75-98 % and change accuracy by at most 1.3 points; the default threshold sits
 *    between the two groups.
 *  - reverse validation (Zhong, Fan, Yang, Verscheure & Ren, "Cross validation framework to choose
 *    amongst models and datasets for transfer learning", ECML-PKDD 2010): train on the labelled
 *    source, pseudo-label the target, train a second model on the pseudo-labelled target alone,
 *    and score it on the source labels, before and after the transfer. A transfer that pushes
 *    the target predictions off (a projection that drops the discriminative directions, weights
 *    that drop a class) breaks this loop.
 * Verdict: "harmful" when the source is unrelated, when the weights keep less than min_ess of the
 * source, or when reverse validation falls by more than `margin`; "unsure" when it falls by more
 * than its standard error while the domains get no closer; "ok" otherwise. Reverse validation
 * scores held-out source rows (2 folds): on the whole source, 1-NN's round trip returns each
 * row's own label and RV measures memorisation.
 *
 * With a few labelled target rows (tl_guard_labelled): the transferred source model's accuracy
 * on them is tested against chance (exact one-sided binomial test against the majority-class
 * share of those rows) and compared with a target-only learner's cross-validated accuracy on them.
 * This catches a source whose classes do not correspond to the target's (the same domain with
 * its labels permuted), which no label-free signal can see. Its limit, measured on the SURF tasks
 * with 3 labelled rows per class: 30 rows cannot resolve a 10-15 point loss to a target-only
 * learner (JDA + the labelled rows reaches 41-51 % on A->W, A->D, C->W, C->D, W->A, D->A where
 * 1-NN on the 30 rows alone reaches 43-61 %; leave-one-out on the rows flips sign from draw to
 * draw), so the comparison with the target-only learner only fires on large, significant gaps. */
#ifndef TL_GUARD_H
#define TL_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/learn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The guard's settings (tl_guard_params_default, then change what you need). */
typedef struct tl_guard_params tl_guard_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* The settings of tl_guard_check and tl_guard_labelled. */
struct tl_guard_params {
    tl_learner_params learner; /* used for every model of the check (default logreg, C = 1);
                                  give the pipeline's own learner, as the tl commands do:
                                  reverse validation then judges the model the user gets (on
                                  the demo's Fashion-MNIST shift, logreg in JDA's space
                                  collapsed its target predictions and called a +54-point JDA
                                  harmful, while 1-NN, the learner scored, did not) */
    double margin;             /* reverse-validation drop counted as harm (default 0.05; the
                                  SURF A->C JDA task gains 5 points while its RV falls 3.4) */
    uint64_t seed;             /* row/feature sampling and permutations (default 42) */
    double min_correspondence; /* feature correspondence below which the source is unrelated
                                  (default 0.1) */
    size_t max_features;       /* features used for the correspondence: all when d is at most
                                  this, else those non-zero in most rows of both domains
                                  (default 1000) */
    size_t max_rows;           /* rows per domain for the correspondence and the MMD, drawn
                                  with the seed when a domain has more (default 1000) */
    size_t permutations;       /* Mantel permutations for the correspondence p-value (default
                                  99; 0: none) */
    double min_ess;            /* weights: effective sample size, as a share of the source rows,
                                  below which the weighting counts as harmful (default 0.5; 0:
                                  never) */
    double alpha;              /* labelled check: significance of the test against chance, and
                                  the one-sided level of the comparison with the target-only
                                  learner (default 0.05) */
};
#endif

/* The guard's call. */
typedef enum {
    TL_GUARD_OK = 0,      /* no sign of harm */
    TL_GUARD_HARMFUL = 1, /* evidence of negative transfer */
    TL_GUARD_UNSURE = 2   /* weak signs either way */
} tl_guard_verdict;

/* The label-free evidence and the verdict drawn from it (docs/guide/reading-the-guard.md). */
typedef struct {
    double mmd_before;            /* MMD^2 source vs target in the original space */
    double mmd_after;             /* ... and in the transferred space */
    double rv_before;             /* reverse-validation accuracy (0..1) without the transfer */
    double rv_after;              /* ... and with it */
    double agreement;             /* share of target rows the two target models label alike */
    double correspondence;        /* Mantel r of the feature correlations (NaN: fewer than 3
                                     features vary in both domains) */
    double correspondence_p;      /* its permutation p-value (NaN without permutations) */
    double prediction_entropy;    /* entropy of the transferred model's target predictions over
                                     the entropy of the source labels (1: as spread as the
                                     source; near 0: collapsed onto one class) */
    double ess;                   /* effective sample size of the weights / source rows (1
                                     without weights) */
    bool unrelated;               /* correspondence < min_correspondence */
    tl_guard_verdict verdict;     /* the call */
    char reason[256];             /* one sentence saying why */
} tl_guard_report;

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
tl_guard_params tl_guard_params_default(void); /* the defaults listed above */
/* Says in words what is wrong (TL_ERR_INVALID_ARG). */
tl_status tl_guard_params_check(const tl_guard_params *p);
#endif
const char *tl_guard_verdict_name(tl_guard_verdict v); /* "ok", "harmful", "unsure" */
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Xs (ns, d), ys (ns) class labels or NULL for regression targets (reverse validation, the
 * agreement and the prediction entropy are then NaN and the verdict rests on the correspondence,
 * the weights' spread and the MMD), Xt (nt, d): the domains before the transfer. Zs (ns, k), Zt (nt, k): after
 * it (pass Xs, Xt again for a weighting-only transfer); ws (ns) source weights or NULL. */
tl_status tl_guard_check(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                         tl_xmat Zs, const double *ws, tl_xmat Zt, tl_guard_report *out);
/* Feature correspondence alone: Xs (ns, d), Xt (nt, d) dense or sparse; r and p_value (may be
 * NULL) as in the report (NaN when fewer than 3 features vary in both domains). */
tl_status tl_guard_correspondence(const tl_guard_params *p, tl_xmat Xs, tl_xmat Xt, double *r,
                                  double *p_value);
#endif

/* The check on a few labelled target rows (tl_guard_labelled). */
typedef struct {
    size_t n;              /* labelled target rows */
    double accuracy;       /* the transferred source model on them */
    double chance;         /* majority-class share among them (a constant prediction's accuracy) */
    double p_above_chance; /* exact one-sided binomial P(X >= correct | n, chance) */
    double target_only;    /* accuracy of a learner trained on the labelled rows alone (cross-
                              validated; NaN when not given) */
    double z_vs_target_only; /* (target_only - accuracy) / standard error of the difference */
    bool harmful;          /* at chance, or significantly below the target-only learner */
    char reason[256];      /* one sentence saying why */
} tl_guard_labelled_report;

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* y (n) true labels of labelled target rows, pred (n) the transferred source model's predictions
 * for them, target_only the target-only learner's accuracy (NaN if none). Harmful when the
 * accuracy is not above chance at level alpha, or falls below target_only by more than `margin`
 * and by more than the one-sided z quantile of alpha times the standard error of the difference. */
tl_status tl_guard_labelled(const tl_guard_params *p, const int *y, const int *pred, size_t n,
                            double target_only, tl_guard_labelled_report *out);
#endif

#ifdef __cplusplus
}
#endif
#endif
