/* Negative-transfer guard (tl/guard.h): compares a transfer against the plain source model using
 * only unlabelled target data. Reverse validation (Zhong, Fan, Yang, Verscheure & Ren, "Cross
 * validation framework to choose amongst models and datasets for transfer learning", ECML-PKDD
 * 2010): f = learner(source, ys, ws); yt^ = f(target); g = learner(target, yt^); RV = acc(g(source),
 * ys). It is computed in the original space without weights ("before") and in the transferred
 * space with the weights ("after"), next to the RBF MMD^2 of each space (tl_mmd, median
 * heuristic), and the two target labelings are compared (agreement). Why these signals: the
 * target labels are unknown, so the check must rest on consistency (RV) and distribution match
 * (MMD); RV is the one that reacts to a transfer that moves the target predictions the wrong way. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/check.h"
#include "tl/guard.h"
#include "tl/measure.h"

tl_guard_params tl_guard_params_default(void) {
    tl_guard_params p;
    memset(&p, 0, sizeof p);
    p.learner = tl_learner_params_default(TL_LEARNER_LOGREG);
    p.margin = 0.02;
    p.seed = 42;
    return p;
}

const char *tl_guard_verdict_name(tl_guard_verdict v) {
    switch (v) {
    case TL_GUARD_OK: return "ok";
    case TL_GUARD_HARMFUL: return "harmful";
    case TL_GUARD_UNSURE: return "unsure";
    }
    return "unknown";
}

/* Reverse validation in one space; pt (nt) receives the target pseudo-labels. */
static tl_status reverse_validate(const tl_learner_params *lp, tl_xmat S, const int *ys,
                                  const double *ws, tl_xmat T, int *pt, int *ps, double *rv) {
    tl_status st = TL_OK;
    tl_learner *f = NULL, *g = NULL;
    size_t ns = tl_xmat_rows(S), nt = tl_xmat_rows(T);
    TL_TRY(tl_learner_create(lp, &f));
    TL_TRY(tl_learner_fit(f, S, ys, ws));
    TL_TRY(tl_learner_predict(f, T, pt));
    TL_TRY(tl_learner_create(lp, &g));
    TL_TRY(tl_learner_fit(g, T, pt, NULL));
    TL_TRY(tl_learner_predict(g, S, ps));
    size_t ok = 0;
    for (size_t i = 0; i < ns; i++) ok += ps[i] == ys[i];
    *rv = (double)ok / (double)ns;
    (void)nt;
done:
    tl_learner_free(f);
    tl_learner_free(g);
    return st;
}

tl_status tl_guard_check(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                         tl_xmat Zs, const double *ws, tl_xmat Zt, tl_guard_report *out) {
    tl_status st = TL_OK;
    int *pb = NULL, *pa = NULL, *ps = NULL;
    TL_CHECK(p && out, TL_ERR_INVALID_ARG, "guard: NULL parameters or report");
    memset(out, 0, sizeof *out);
    TL_CHECK(isfinite(p->margin) && p->margin >= 0 && p->margin < 1, TL_ERR_INVALID_ARG,
             "guard: margin = %g must be in [0, 1)", p->margin);
    TL_CHECK(ys, TL_ERR_LABEL, "guard: the source labels are missing");
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
             "guard: needs at least 2 source and 2 target samples (have %zu and %zu)", ns, nt);
    TL_CHECK(tl_xmat_rows(Zs) == ns && tl_xmat_rows(Zt) == nt, TL_ERR_SHAPE,
             "guard: the transferred domains have %zu and %zu rows, the originals %zu and %zu",
             tl_xmat_rows(Zs), tl_xmat_rows(Zt), ns, nt);
    TL_ALLOC(pb, nt);
    TL_ALLOC(pa, nt);
    TL_ALLOC(ps, ns);
    tl_mmd_params mp = tl_mmd_params_default();
    mp.seed = p->seed;
    tl_mmd_result r;
    st = tl_mmd(&mp, Xs, Xt, &r);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard (original space)");
        goto done;
    }
    out->mmd_before = r.mmd2;
    st = tl_mmd(&mp, Zs, Zt, &r);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard (transferred space)");
        goto done;
    }
    out->mmd_after = r.mmd2;
    st = reverse_validate(&p->learner, Xs, ys, NULL, Xt, pb, ps, &out->rv_before);
    if (st == TL_OK) st = reverse_validate(&p->learner, Zs, ys, ws, Zt, pa, ps, &out->rv_after);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard: reverse validation");
        goto done;
    }
    size_t same = 0;
    for (size_t i = 0; i < nt; i++) same += pa[i] == pb[i];
    out->agreement = (double)same / (double)nt;
    double drop = out->rv_before - out->rv_after;
    if (drop > p->margin) {
        out->verdict = TL_GUARD_HARMFUL;
        snprintf(out->reason, sizeof out->reason,
                 "reverse validation fell from %.1f%% to %.1f%% (more than %.1f points)",
                 100 * out->rv_before, 100 * out->rv_after, 100 * p->margin);
    } else if (drop > 0 && !(out->mmd_after < out->mmd_before)) {
        out->verdict = TL_GUARD_UNSURE;
        snprintf(out->reason, sizeof out->reason,
                 "reverse validation fell slightly (%.1f%% to %.1f%%) and the domains got no "
                 "closer (MMD^2 %.3g to %.3g)",
                 100 * out->rv_before, 100 * out->rv_after, out->mmd_before, out->mmd_after);
    } else {
        out->verdict = TL_GUARD_OK;
        snprintf(out->reason, sizeof out->reason,
                 "reverse validation %.1f%% -> %.1f%%, MMD^2 %.3g -> %.3g", 100 * out->rv_before,
                 100 * out->rv_after, out->mmd_before, out->mmd_after);
    }
done:
    tl_free(pb);
    tl_free(pa);
    tl_free(ps);
    return st;
}
