/* Proxy A-distance (Ben-David et al., "Analysis of representations for domain adaptation", NIPS
 * 2007): label the source rows 0 and the target rows 1, measure the cross-validated error err of a
 * linear domain classifier (the project's L2 logistic regression, sklearn's C), and report
 * 2 (1 - 2 err), clipped to [0, 2]: 0 when the domains cannot be told apart, 2 when they separate
 * perfectly. Stratified folds (tl_cross_validate) keep both domains in every fold.
 * Rows held by several processes (issue 17): each process pools its own source and target rows;
 * the folds, drawn over every process's labels, give each row the fold it has in one process's
 * pool (the stratified folds deal each domain's rows in their order, wherever the other domain's
 * rows sit), and the classifier is fitted over the processes (tl_cross_validate_comm). */
#include <math.h>
#include <string.h>

#include "measure/measure_internal.h"
#include "tl/learn.h"

tl_status tl_proxy_a_distance(tl_xmat Xs, tl_xmat Xt, size_t folds, double C, uint64_t seed,
                              double *out) {
    return tl_proxy_a_distance_comm(NULL, Xs, Xt, folds, C, seed, out);
}

tl_status tl_proxy_a_distance_comm(const tl_comm *comm, tl_xmat Xs, tl_xmat Xt, size_t folds,
                                   double C, uint64_t seed, double *out) {
    tl_status st = TL_OK;
    tlm_pooled pool;
    int *y = NULL;
    memset(&pool, 0, sizeof pool);
    TL_CHECK(out, TL_ERR_INVALID_ARG, "proxy A-distance: output is NULL");
    *out = NAN;
    TL_CHECK(folds >= 2, TL_ERR_INVALID_ARG, "proxy A-distance: folds = %zu must be at least 2",
             folds);
    TL_CHECK(isfinite(C) && C > 0, TL_ERR_INVALID_ARG,
             "proxy A-distance: C = %g must be positive and finite", C);
    const bool split = comm && comm->size > 1;
    TL_TRY(tlm_check_pair(Xs, Xt, split ? 1 : folds, "proxy A-distance"));
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), n = ns + nt;
    if (split) { /* every process's rows: at least `folds` of each domain */
        double cnt[2] = {(double)ns, (double)nt};
        TL_TRY(comm->sum(comm->user, cnt, 2));
        TL_CHECK(cnt[0] >= (double)folds && cnt[1] >= (double)folds, TL_ERR_EMPTY,
                 "proxy A-distance: the %s domain has %.0f samples, at least %zu are needed",
                 cnt[0] < (double)folds ? "source" : "target",
                 cnt[0] < (double)folds ? cnt[0] : cnt[1], folds);
    }
    TL_TRY(tlm_pool(Xs, Xt, &pool));
    TL_ALLOC(y, n);
    for (size_t i = 0; i < n; i++) y[i] = i < ns ? 0 : 1;
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    lp.C = C;
    lp.seed = seed;
    lp.comm = split ? comm : NULL;
    double acc;
    st = tl_cross_validate_comm(&lp, pool.X, y, NULL, folds, seed, &acc, NULL);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "proxy A-distance: domain classifier");
        goto done;
    }
    double err = 1.0 - acc, pad = 2.0 * (1.0 - 2.0 * err);
    *out = pad < 0.0 ? 0.0 : pad > 2.0 ? 2.0 : pad;
done:
    tlm_pooled_free(&pool);
    tl_free(y);
    return st;
}
