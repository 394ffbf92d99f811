/* libtl instance-based transfer: reweight source samples so the weighted source looks like the
 * target, then train any learner with those weights. KMM (Huang et al. 2007, a QP with box and sum
 * constraints), KLIEP (Sugiyama et al. 2008), uLSIF (Kanamori et al. 2009), a discriminative
 * density ratio from a probabilistic domain classifier (Bickel et al. 2007), and TrAdaBoost (Dai
 * et al. 2007) for a few labelled target samples. */
#ifndef TL_INSTANCE_H
#define TL_INSTANCE_H

#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/io.h"
#include "tl/learn.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The weighting methods (docs/methods/NAME.md each). */
typedef enum {
    TL_WEIGHT_KMM = 0,
    TL_WEIGHT_KLIEP = 1,
    TL_WEIGHT_ULSIF = 2,
    TL_WEIGHT_DOMAIN_CLF = 3
} tl_weight_method;

/* A weighting's settings (tl_weight_params_default, then change what you need). */
typedef struct tl_weight_params tl_weight_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* The settings of tl_weights_fit and tl_weighter_fit. */
struct tl_weight_params {
    tl_weight_method method; /* which method */
    tl_kernel kernel;   /* KMM/KLIEP/uLSIF kernel (default RBF, gamma <= 0: median heuristic) */
    double B;           /* KMM: weight upper bound (default 1000) */
    double eps;         /* KMM: |mean w - 1| <= eps; <= 0 means (sqrt(ns) - 1) / sqrt(ns) */
    size_t centers;     /* KLIEP/uLSIF: kernel centres drawn from the target (default 100) */
    double lambda;      /* uLSIF ridge (default 1e-3; < 0: chosen by LOO-CV over a grid) */
    size_t widths;      /* KLIEP/uLSIF kernel-width selection, the authors' protocol. 0 or 1
                           (default): the one width kernel.gamma (or the median heuristic).
                           >= 2 (at most 32): that many candidates gamma_k = gamma * 2^(k - (widths
                           - 1) / 2) centred on that width, chosen by KLIEP's likelihood
                           cross-validation over the target rows (`folds` folds) or by uLSIF's
                           leave-one-out score (jointly with lambda when lambda < 0). The
                           candidates run on ctx->threads threads (0: OpenBLAS's count), with the
                           same result for any count */
    size_t folds;       /* KLIEP width selection: cross-validation folds (default 5, >= 2) */
    double C;           /* domain classifier: logistic regression C (default 1) */
    int max_iter;       /* solver iterations (default 1000) */
    double tol;         /* solver tolerance (default 1e-6) */
    uint64_t seed;      /* centres, folds (default 42) */
    const tl_ctx *ctx;  /* threads, log; may be NULL */
};

tl_weight_params tl_weight_params_default(tl_weight_method m); /* the published settings */
/* Says in words what is wrong (TL_ERR_INVALID_ARG). */
tl_status tl_weight_params_check(const tl_weight_params *p);
#endif
tl_status tl_weight_method_parse(const char *name, tl_weight_method *out); /* kmm kliep ulsif domain-clf */
const char *tl_weight_method_name(tl_weight_method m); /* the same names back */
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Importance weights w (ns), mean 1, for source rows Xs (ns, d) against target Xt (nt, d). */
tl_status tl_weights_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w);
#endif
/* What a fit settled on, for reporting and for reuse as fixed settings. */
typedef struct {
    double gamma;  /* KMM/KLIEP/uLSIF: the kernel gamma used (median heuristic, given, or chosen by
                      the width selection); 0 for domain-clf */
    double lambda; /* uLSIF: the ridge used (given, or chosen by leave-one-out); 0 otherwise */
} tl_weight_info;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* tl_weights_fit that also reports what it settled on (info may be NULL). */
tl_status tl_weights_fit_info(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, double *w,
                              tl_weight_info *info);
#endif

/* A weighting as a fitted model: the weights of the source rows it was fitted on, and weights
 * for new samples on the same scale where the method defines a function of x (KLIEP and uLSIF:
 * the kernel expansion sum_l alpha_l k(x, c_l); domain-clf: the classifier's odds). KMM solves
 * for the fitting rows' weights only and says so (TL_ERR_UNSUPPORTED) when asked for others. */
typedef struct tl_weighter tl_weighter;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Fits the weighting of source rows Xs (ns, d) toward the target Xt (nt, d). */
tl_status tl_weighter_fit(const tl_weight_params *p, tl_xmat Xs, tl_xmat Xt, tl_weighter **out);
#endif

void tl_weighter_free(tl_weighter *w); /* NULL-safe */
const double *tl_weighter_fit_weights(const tl_weighter *w, size_t *n); /* (n), mean 1 */
tl_weight_info tl_weighter_info(const tl_weighter *w); /* what the fit chose */
size_t tl_weighter_input_dim(const tl_weighter *w); /* the features it weights */
tl_weight_method tl_weighter_method(const tl_weighter *w); /* which method */
/* w (rows(X)) for samples X (n, d) of the source's feature space. */
tl_status tl_weighter_weights(const tl_weighter *w, tl_xmat X, double *out);
/* Into / out of a .tlm container (tl/io.h); name: the file, for messages. */
tl_status tl_weighter_write(const tl_weighter *w, tl_tlm *c);
tl_status tl_weighter_read(const tl_tlm *c, const char *name, tl_weighter **out);

/* TrAdaBoost: source (Xs, ys) and a few labelled target rows (Xl, yl); rounds N (default 20);
 * base learner any weighted learner (default logreg). The fitted ensemble predicts with the
 * second half of the rounds' learners, as in the paper. */
typedef struct tl_tradaboost_params tl_tradaboost_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* TrAdaBoost's settings. */
struct tl_tradaboost_params {
    size_t rounds;          /* boosting rounds N (default 20) */
    tl_learner_params base; /* the weighted base learner (default logreg) */
};
tl_tradaboost_params tl_tradaboost_params_default(void); /* 20 rounds of logreg */
#endif
/* A fitted TrAdaBoost ensemble. */
typedef struct tl_tradaboost tl_tradaboost;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Fits on the source (Xs, ys) and the labelled target rows (Xl, yl). */
tl_status tl_tradaboost_fit(const tl_tradaboost_params *p, tl_xmat Xs, const int *ys, tl_xmat Xl,
                            const int *yl, tl_tradaboost **out);
#endif
/* pred (n): the weighted vote of the second half of the rounds. */
tl_status tl_tradaboost_predict(const tl_tradaboost *m, tl_xmat X, int *pred);
/* S (n, classes): each class's share of the weighted vote; classes in tl_tradaboost_classes order. */
tl_status tl_tradaboost_scores(const tl_tradaboost *m, tl_xmat X, tl_mat S);
const int *tl_tradaboost_classes(const tl_tradaboost *m, size_t *nclasses);
size_t tl_tradaboost_input_dim(const tl_tradaboost *m); /* the features it was trained on */
void tl_tradaboost_free(tl_tradaboost *m);
/* Into / out of a .tlm container (tl/io.h). */
tl_status tl_tradaboost_write(const tl_tradaboost *m, tl_tlm *c);
tl_status tl_tradaboost_read(const tl_tlm *c, const char *name, tl_tradaboost **out);

#ifdef __cplusplus
}
#endif
#endif
