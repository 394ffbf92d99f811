/* libtl negative-transfer guard: without target labels, estimate whether a transfer (a new
 * representation of both domains and/or importance weights on the source) made the target model
 * worse than simply training on the source as it is. Two label-free signals:
 *  - domain distance before and after: RBF MMD^2 between source and target in the original space
 *    and in the transferred one (median-heuristic bandwidth of each space);
 *  - reverse validation (Zhong et al., ECML-PKDD 2010): train on the labelled source, pseudo-label
 *    the target, train a second model on the pseudo-labelled target alone, and score it on the
 *    source labels. A transfer that helps the target keeps this loop accurate; one that pushes
 *    the target predictions off (negative transfer) breaks it.
 * The verdict is "harmful" when reverse validation falls by more than `margin`, "unsure" when
 * it falls a little while the domains get no closer, "ok" otherwise. */
#ifndef TL_GUARD_H
#define TL_GUARD_H

#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/learn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tl_learner_params learner; /* used for every model of the check (default logreg, C = 1) */
    double margin;             /* reverse-validation drop counted as harm (default 0.02) */
    uint64_t seed;             /* MMD bandwidth sampling (default 42) */
} tl_guard_params;

typedef enum { TL_GUARD_OK = 0, TL_GUARD_HARMFUL = 1, TL_GUARD_UNSURE = 2 } tl_guard_verdict;

typedef struct {
    double mmd_before, mmd_after; /* RBF MMD^2 source vs target, original and transferred */
    double rv_before, rv_after;   /* reverse-validation accuracy (0..1) */
    double agreement;             /* share of target rows the two target models label alike */
    tl_guard_verdict verdict;
    char reason[200];             /* one sentence saying why */
} tl_guard_report;

tl_guard_params tl_guard_params_default(void);
const char *tl_guard_verdict_name(tl_guard_verdict v); /* "ok", "harmful", "unsure" */
/* Xs (ns, d), ys (ns), Xt (nt, d): the domains before the transfer. Zs (ns, k), Zt (nt, k): after
 * it (pass Xs, Xt again for a weighting-only transfer); ws (ns) source weights or NULL. */
tl_status tl_guard_check(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                         tl_xmat Zs, const double *ws, tl_xmat Zt, tl_guard_report *out);

#ifdef __cplusplus
}
#endif
#endif
