/* libtl measures: how far apart two domains are, before anything is transferred. MMD (Gretton et
 * al. 2012) with linear or RBF kernels (median-heuristic bandwidth or several bandwidths), biased or
 * unbiased, with a permutation-test p-value; CORAL distance (Sun & Saenko 2016: squared Frobenius
 * distance of the covariances / 4d^2); proxy A-distance (Ben-David et al. 2007: 2(1 - 2 err) of a
 * cross-validated linear domain classifier). All run in memory bounded independently of n^2:
 * blockwise kernel sums, or random Fourier features above a size threshold. */
#ifndef TL_MEASURE_H
#define TL_MEASURE_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The MMD's settings (tl_mmd_params_default, then change what you need). */
typedef struct tl_mmd_params tl_mmd_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* The settings of tl_mmd. */
struct tl_mmd_params {
    tl_kernel_type kernel;   /* TL_KERNEL_LINEAR or TL_KERNEL_RBF (default RBF) */
    double gamma;            /* RBF; <= 0: median heuristic on the pooled sample */
    size_t n_bandwidths;     /* RBF: > 1 averages kernels at gamma * 2^(i - n/2) (default 1) */
    bool unbiased;           /* U-statistic (default true); biased V-statistic otherwise */
    size_t permutations;     /* permutation test draws; 0 = no p-value (default 0) */
    size_t rff_above;        /* use random Fourier features when ns + nt exceeds this
                                (default 20000; 0 = never) */
    size_t rff_features;     /* default 2048 */
    uint64_t seed;           /* permutations and random features (default 42) */
    const tl_comm *comm;     /* rows held by several processes, each passing its blocks of the
                                source and the target (NULL: one process): every form (linear,
                                exact RBF with the blocks passed between the processes, random
                                features) and the permutation p-value; the same figure as one
                                process holding every row, to rounding */
};
#endif

/* What tl_mmd measured. */
typedef struct {
    double mmd2;     /* squared MMD estimate */
    double p_value;  /* permutation test (NaN when permutations == 0) */
    double gamma;    /* RBF bandwidth used */
} tl_mmd_result;

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
tl_mmd_params tl_mmd_params_default(void); /* the defaults above */
/* Xs (ns, d), Xt (nt, d); dense or sparse (sparse: linear kernel, or densified by blocks). */
tl_status tl_mmd(const tl_mmd_params *p, tl_xmat Xs, tl_xmat Xt, tl_mmd_result *out);
#endif
/* Squared Frobenius distance between the covariance matrices, divided by 4 d^2. */
tl_status tl_coral_distance(tl_xmat Xs, tl_xmat Xt, double *out);
/* The same over rows held by several processes (comm NULL: one process), each passing its blocks:
 * the covariances are sums over rows (d <= the rows and d <= 8192). */
tl_status tl_coral_distance_comm(const tl_comm *comm, tl_xmat Xs, tl_xmat Xt, double *out);
/* Proxy A-distance 2 (1 - 2 err), err the `folds`-fold CV error of a linear domain classifier
 * (logistic regression, C given); clipped to [0, 2]. */
tl_status tl_proxy_a_distance(tl_xmat Xs, tl_xmat Xt, size_t folds, double C, uint64_t seed,
                              double *out);
/* The same over rows held by several processes (comm NULL: one process), each passing its blocks
 * of the source and the target: the same folds, the classifier fitted over the processes
 * (tl_cross_validate_comm); the one-process figure up to the few held-out rows the classifier
 * puts on the other side of its boundary because the sums are added in another order (2 of 8 000
 * on Fashion-MNIST; each moves the figure by 4 / rows). */
tl_status tl_proxy_a_distance_comm(const tl_comm *comm, tl_xmat Xs, tl_xmat Xt, size_t folds,
                                   double C, uint64_t seed, double *out);

#ifdef __cplusplus
}
#endif
#endif
