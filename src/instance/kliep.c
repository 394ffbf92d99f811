/* KLIEP, the Kullback-Leibler importance estimation procedure (Sugiyama, Nakajima, Kashima, von
 * Buenau & Kawanabe, NIPS 2007 / AISM 2008). The ratio w(x) = p_t(x) / p_s(x) is modelled as
 * sum_l alpha_l k(x, c_l) over b kernel centres c_l taken from the target, and fitted by
 *   maximise  sum_j log (Phi_t alpha)_j   s.t.  mean_i (Phi_s alpha)_i = 1,  alpha >= 0,
 * with Phi_t (nt, b), Phi_s (ns, b) the kernel design matrices. The algorithm is the authors'
 * reference (KLIEP.m, KLIEP_learning): projected gradient ascent
 *   alpha <- alpha + eps Phi_t^T (1 ./ Phi_t alpha),
 *   then projection: alpha += bv (1 - bv.alpha) / (bv.bv), alpha = max(0, alpha),
 *   alpha /= bv.alpha  (bv = mean of Phi_s's rows),
 * over step sizes eps = 10^3, 10^2, ..., 10^-3, each for at most max_iter steps while the
 * objective mean(log(Phi_t alpha)) still improves.
 *
 * Width: the median heuristic on the pooled sample (or the given gamma), or with widths >= 2 the
 * authors' likelihood cross-validation (KLIEP.m): the target rows are split into `folds` folds
 * (tli_cv_order), and for every candidate width alpha is learnt on all folds but one and scored by
 * the mean log ratio of the held-out fold; the width with the best mean score is refitted on every
 * target row. KLIEP.m walks its widths greedily from sigma = 10 down; we score a grid centred on
 * the median heuristic instead (an absolute starting width means nothing on unnormalised data) and
 * keep one fold split for every width, so the widths are compared on the same folds.
 *
 * Speed. A step needs Phi_t a (for the objective) and then Phi_t^T (1 ./ Phi_t a) (for the next
 * step); both are computed in one pass over Phi_t, row by row while the row is in L1
 * (tli_kliep_pass), instead of two BLAS-2 calls that each stream Phi_t (and that OpenBLAS
 * threads at a loss at these sizes). The gradient of a rejected candidate is dropped and the
 * gradient of the current alpha kept, so every step costs exactly one pass, and the objective's
 * logs are one log per pass (a mantissa product with an exponent sum). The squared distances to
 * the centres are computed once for all widths (row blocks on our threads, OpenBLAS kept
 * single-threaded for the whole selection) and each width's design is the previous one squared
 * (weights.c). The width x fold fits are independent tasks on the threads (tl_parallel_tasks),
 * each on its own workspace: the result does not depend on the thread count. Cost O((ns + nt) b d)
 * for the distances plus O(nt b) per step. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "instance/instance_internal.h"

/* ---- the fused pass: y = P a, sum log y, u += P^T (1 ./ y) ---- */

TLI_INLINE double clamp_ratio(double y) { return y > 1e-300 ? y : 1e-300; }

/* sum_j log y_j as log(prod of mantissas) + (sum of exponents) ln 2: the mantissas of the y_j
 * (normal, >= 1e-300) are in [1, 2) and their running product is renormalised after every
 * factor, so one log per pass replaces one per row (log was a sixth of a pass). The result
 * differs from a sum of logs only in rounding (~1e-16 relative per factor). */
typedef struct {
    double m[4]; /* four running products (independent chains), each in [1, 2) */
    int64_t e;   /* sum of the binary exponents */
} logsum;

/* multiply lane k by y's mantissa and renormalise it, exponents into e */
TLI_INLINE void logsum_add(logsum *s, int k, double y) {
    uint64_t u, v;
    memcpy(&u, &y, sizeof u);
    s->e += (int64_t)((u >> 52) & 0x7ff) - 1023;
    u = (u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL; /* y's mantissa in [1, 2) */
    double m;
    memcpy(&m, &u, sizeof m);
    m *= s->m[k]; /* in [1, 4) */
    memcpy(&v, &m, sizeof v);
    s->e += (int64_t)((v >> 52) & 0x7ff) - 1023;
    v = (v & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    memcpy(&s->m[k], &v, sizeof v);
}

TLI_INLINE double logsum_value(const logsum *s) {
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    double e = (double)s->e; /* ln2_hi has 21 significant bits: e * ln2_hi is exact */
    double m = (s->m[0] * s->m[1]) * (s->m[2] * s->m[3]); /* < 16 */
    return e * ln2_hi + (log(m) + e * ln2_lo);
}

#if TLI_VEC
#if defined(__clang__)
#define KLIEP_SHUF(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define KLIEP_SHUF(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, (tli_v4i){i0, i1, i2, i3})
#endif
#endif

/* Four rows at a time: each row is read from L2 once for its dot product and then again from L1
 * for the update of u, and a and u are loaded once per four rows. The four dot products are
 * reduced, clamped, logged (the mantissa/exponent lanes of logsum) and inverted as one vector. The
 * 4-wide vectors compile to AVX in the avx2 clone and to pairs of SSE2 operations otherwise (no
 * FMA contraction in ISO C, so both clones round identically). */
TLI_INLINE double pass_body(const double *P, size_t ld, size_t r0, size_t r1, size_t b,
                            const double *a, double *u) {
    logsum ls = {{1.0, 1.0, 1.0, 1.0}, 0};
    size_t j = r0;
#if TLI_VEC
    const tli_v4i mant = {0x000fffffffffffffLL, 0x000fffffffffffffLL, 0x000fffffffffffffLL,
                          0x000fffffffffffffLL};
    const tli_v4i one = {0x3ff0000000000000LL, 0x3ff0000000000000LL, 0x3ff0000000000000LL,
                         0x3ff0000000000000LL};
    const tli_v4i emask = {0x7ff, 0x7ff, 0x7ff, 0x7ff}, bias = {1023, 1023, 1023, 1023};
    const tli_v4 lo = {1e-300, 1e-300, 1e-300, 1e-300}, onev = {1.0, 1.0, 1.0, 1.0};
    tli_v4 macc = onev;
    tli_v4i eacc = {0, 0, 0, 0};
    size_t b4 = b & ~(size_t)3;
    for (; j + 4 <= r1; j += 4) {
        const double *p0 = P + j * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
        tli_v4 s0 = {0.0, 0.0, 0.0, 0.0}, s1 = s0, s2 = s0, s3 = s0, x, av;
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&av, a + l, sizeof av);
            memcpy(&x, p0 + l, sizeof x);
            s0 += x * av;
            memcpy(&x, p1 + l, sizeof x);
            s1 += x * av;
            memcpy(&x, p2 + l, sizeof x);
            s2 += x * av;
            memcpy(&x, p3 + l, sizeof x);
            s3 += x * av;
        }
        /* y_k = (s_k[0] + s_k[1]) + (s_k[2] + s_k[3]) for the four rows at once */
        tli_v4 h0 = KLIEP_SHUF(s0, s1, 0, 4, 2, 6) + KLIEP_SHUF(s0, s1, 1, 5, 3, 7);
        tli_v4 h1 = KLIEP_SHUF(s2, s3, 0, 4, 2, 6) + KLIEP_SHUF(s2, s3, 1, 5, 3, 7);
        tli_v4 y = KLIEP_SHUF(h0, h1, 0, 1, 4, 5) + KLIEP_SHUF(h0, h1, 2, 3, 6, 7);
        if (b4 < b) {
            double t[4];
            memcpy(t, &y, sizeof t);
            for (size_t l = b4; l < b; l++) {
                t[0] += p0[l] * a[l];
                t[1] += p1[l] * a[l];
                t[2] += p2[l] * a[l];
                t[3] += p3[l] * a[l];
            }
            memcpy(&y, t, sizeof t);
        }
        tli_v4i keep = (tli_v4i)(y > lo); /* clamp_ratio, NaN included */
        y = (tli_v4)(((tli_v4i)y & keep) | ((tli_v4i)lo & ~keep));
        tli_v4i bits = (tli_v4i)y; /* logsum_add on the four lanes */
        eacc += ((bits >> 52) & emask) - bias;
        macc *= (tli_v4)((bits & mant) | one);
        bits = (tli_v4i)macc;
        eacc += ((bits >> 52) & emask) - bias;
        macc = (tli_v4)((bits & mant) | one);
        tli_v4 zv = onev / y;
        double z[4];
        memcpy(z, &zv, sizeof z);
        tli_v4 z0 = {z[0], z[0], z[0], z[0]}, z1 = {z[1], z[1], z[1], z[1]};
        tli_v4 z2 = {z[2], z[2], z[2], z[2]}, z3 = {z[3], z[3], z[3], z[3]}, uv;
        for (size_t l = 0; l < b4; l += 4) {
            memcpy(&uv, u + l, sizeof uv);
            memcpy(&x, p0 + l, sizeof x);
            uv += x * z0;
            memcpy(&x, p1 + l, sizeof x);
            uv += x * z1;
            memcpy(&x, p2 + l, sizeof x);
            uv += x * z2;
            memcpy(&x, p3 + l, sizeof x);
            uv += x * z3;
            memcpy(u + l, &uv, sizeof uv);
        }
        for (size_t l = b4; l < b; l++)
            u[l] += p0[l] * z[0] + p1[l] * z[1] + p2[l] * z[2] + p3[l] * z[3];
    }
    long long e4[4];
    memcpy(ls.m, &macc, sizeof ls.m);
    memcpy(e4, &eacc, sizeof e4);
    ls.e = (int64_t)(e4[0] + e4[1] + e4[2] + e4[3]);
#endif
    for (; j < r1; j++) {
        const double *p = P + j * ld;
        double y = 0.0;
        for (size_t l = 0; l < b; l++) y += p[l] * a[l];
        y = clamp_ratio(y);
        logsum_add(&ls, 0, y);
        double z = 1.0 / y;
        for (size_t l = 0; l < b; l++) u[l] += p[l] * z;
    }
    return logsum_value(&ls);
}

static double pass_portable(const double *P, size_t ld, size_t r0, size_t r1, size_t b,
                            const double *a, double *u) {
    return pass_body(P, ld, r0, r1, b, a, u);
}

#if TLI_AVX2
TLI_TARGET_AVX2 static double pass_avx2(const double *P, size_t ld, size_t r0, size_t r1, size_t b,
                                        const double *a, double *u) {
    return pass_body(P, ld, r0, r1, b, a, u);
}
#endif

/* avx2: the CPU check already made (tli_have_avx2, once per fit, on the calling thread) */
static double pass_any(int avx2, const double *P, size_t ld, size_t r0, size_t r1, size_t b,
                       const double *a, double *u) {
#if TLI_AVX2
    if (avx2) return pass_avx2(P, ld, r0, r1, b, a, u);
#else
    (void)avx2;
#endif
    return pass_portable(P, ld, r0, r1, b, a, u);
}

double tli_kliep_pass(const double *P, size_t ld, size_t r0, size_t r1, size_t b, const double *a,
                      double *u, int simd) {
    return pass_any(simd && tli_have_avx2(), P, ld, r0, r1, b, a, u);
}

/* ---- KLIEP_learning ---- */

typedef struct {
    double *bv;       /* (b) mean of the source design's rows */
    double c;         /* bv.bv */
    size_t b;
    int max_iter;
    int avx2;            /* tli_have_avx2() */
    double *u, *un, *an; /* (b) work: gradient direction at alpha, at the candidate; candidate */
} kliep_ws;

/* alpha projected onto {alpha >= 0, bv.alpha = 1}, as KLIEP.m does. */
static void project(double *alpha, const double *bv, double c, size_t b) {
    double ba = 0.0;
    for (size_t l = 0; l < b; l++) ba += bv[l] * alpha[l];
    for (size_t l = 0; l < b; l++) {
        alpha[l] += bv[l] * (1.0 - ba) / c;
        if (alpha[l] < 0.0) alpha[l] = 0.0;
    }
    ba = 0.0;
    for (size_t l = 0; l < b; l++) ba += bv[l] * alpha[l];
    if (ba > 0)
        for (size_t l = 0; l < b; l++) alpha[l] /= ba;
}

/* Rows [q[0], q[1]) and [q[2], q[3]) of P: mean log ratio of a, and u = sum P_j / y_j. */
static double pass_rows(const kliep_ws *w, tl_mat P, const size_t q[4], const double *a,
                        double *u) {
    memset(u, 0, w->b * sizeof *u);
    double ls = pass_any(w->avx2, P.data, P.ld, q[0], q[1], w->b, a, u) +
                pass_any(w->avx2, P.data, P.ld, q[2], q[3], w->b, a, u);
    return ls / (double)((q[1] - q[0]) + (q[3] - q[2]));
}

/* KLIEP_learning on the rows q of P: alpha (b) out; returns the accepted steps, *score the mean
 * log ratio on those rows. */
static size_t kliep_learn(kliep_ws *w, tl_mat P, const size_t q[4], double *alpha,
                          double *score) {
    size_t b = w->b, steps = 0;
    for (size_t l = 0; l < b; l++) alpha[l] = 1.0;
    project(alpha, w->bv, w->c, b);
    double s = pass_rows(w, P, q, alpha, w->u);
    for (int e = 3; e >= -3; e--) {
        double epsilon = pow(10.0, e);
        for (int it = 0; it < w->max_iter; it++) {
            for (size_t l = 0; l < b; l++) w->an[l] = alpha[l] + epsilon * w->u[l];
            project(w->an, w->bv, w->c, b);
            double sn = pass_rows(w, P, q, w->an, w->un);
            if (!(sn > s)) break;
            s = sn;
            memcpy(alpha, w->an, b * sizeof *alpha);
            double *t = w->u; /* the candidate's gradient direction becomes the current one */
            w->u = w->un;
            w->un = t;
            steps++;
        }
    }
    *score = s;
    return steps;
}

/* bv = mean of Ps's rows; returns bv.bv (0 when every kernel value underflowed). */
static double source_mean(tl_mat Ps, double *bv) {
    size_t b = Ps.cols;
    double c = 0.0;
    for (size_t l = 0; l < b; l++) bv[l] = 0.0;
    for (size_t i = 0; i < Ps.rows; i++)
        for (size_t l = 0; l < b; l++) bv[l] += TL_AT(Ps, i, l);
    for (size_t l = 0; l < b; l++) {
        bv[l] /= (double)Ps.rows;
        c += bv[l] * bv[l];
    }
    return c;
}

/* Likelihood cross-validation over the width grid. The (width, fold) fits are independent tasks;
 * the target designs of a group of widths (all of them within KLIEP_CV_BYTES; one when there is
 * one thread) are held at once so the tasks of the whole group share the threads. */
#define KLIEP_CV_BYTES ((size_t)256 << 20)

typedef struct {
    const tl_weight_params *p;
    size_t W, F, nt, b, k0; /* k0: the first width of the group in the slots */
    const size_t *slot;     /* (W) slot of each width of the group */
    tl_mat *Pt;             /* (G) target designs in cross-validation order */
    double *bv, *c;         /* (W, b), (W): source means of every width */
    double *fold_score;     /* (W, F) */
    size_t *steps;          /* (W, F) */
    double *work;           /* (threads, 5 b) */
    size_t ngroup;          /* widths in this group */
    int avx2;
} kliep_cv;

static tl_status cv_task(void *v, size_t task, size_t thread) {
    kliep_cv *cv = v;
    /* the largest gammas first: they take the most steps, so the threads end together */
    size_t k = cv->k0 + (cv->ngroup - 1 - task / cv->F), f = task % cv->F, b = cv->b, nt = cv->nt;
    if (!(cv->c[k] > 0)) return TL_OK; /* every kernel value underflowed: not a candidate */
    double *wk = cv->work + thread * 5 * b;
    kliep_ws w = {cv->bv + k * b, cv->c[k], b, cv->p->max_iter, cv->avx2, wk, wk + b, wk + 2 * b};
    double *alpha = wk + 3 * b, s;
    tl_mat P = cv->Pt[cv->slot[k]];
    size_t a0 = tli_fold_start(f, cv->F, nt), a1 = tli_fold_start(f + 1, cv->F, nt);
    size_t train[4] = {0, a0, a1, nt}, test[4] = {a0, a1, a1, a1};
    cv->steps[k * cv->F + f] = kliep_learn(&w, P, train, alpha, &s);
    cv->fold_score[k * cv->F + f] = pass_rows(&w, P, test, alpha, wk + 4 * b);
    return TL_OK;
}

/* *gamma receives the chosen width. Ds (ns, b), Dt (nt, b) with Dt's rows in the
 * cross-validation order; Ps (ns, b) work. */
static tl_status select_width(const tl_weight_params *p, const tl_kernel *k, tl_mat Ds, tl_mat Dt,
                              tl_mat Ps, size_t T, double *gamma) {
    tl_status st = TL_OK;
    size_t nt = Dt.rows, b = Dt.cols, F = p->folds, W = p->widths, G = 1, slot[TLI_MAX_WIDTHS];
    tl_mat Pt[TLI_MAX_WIDTHS];
    double g[TLI_MAX_WIDTHS], best = -INFINITY, *bv = NULL, *c = NULL, *fs = NULL, *work = NULL;
    size_t *steps = NULL, kb = W;
    memset(Pt, 0, sizeof Pt);
    tli_width_grid(k->gamma, W, g);
    size_t bytes = nt * b * sizeof(double); /* no overflow: Dt is allocated */
    G = bytes ? KLIEP_CV_BYTES / bytes : W;
    if (T == 1) G = 1; /* one thread: the chain in place, no copies */
    if (G < 1) G = 1;
    if (G > W) G = W;
    TL_ALLOC(bv, W * b);
    TL_ALLOC(c, W);
    TL_ALLOC(fs, W * F);
    TL_ALLOC(steps, W * F);
    TL_ALLOC(work, T * 5 * b);
    for (size_t i = 0; i < G; i++) TL_TRY(tl_mat_alloc(&Pt[i], nt, b));
    /* source means of every width: exp once, then exp(-2 g D) = exp(-g D)^2 */
    tli_rbf_from_sqdist(Ds, g[0], Ps);
    for (size_t kw = 0; kw < W; kw++) {
        if (kw) tli_square(Ps);
        c[kw] = source_mean(Ps, bv + kw * b);
        if (!(c[kw] > 0))
            tl_log(p->ctx, TL_LOG_DEBUG, "kliep: gamma %g: every source kernel value is 0", g[kw]);
    }
    kliep_cv cv = {p, W, F, nt, b, 0, slot, Pt, bv, c, fs, steps, work, 0, tli_have_avx2()};
    size_t last = 0;
    for (size_t k0 = 0; k0 < W; k0 += G) {
        size_t ng = W - k0 < G ? W - k0 : G;
        for (size_t i = 0; i < ng; i++) { /* target designs of the group, along the chain */
            size_t kw = k0 + i, s = kw % G;
            if (kw == 0)
                tli_rbf_from_sqdist(Dt, g[0], Pt[0]);
            else if (s == last)
                tli_square(Pt[s]);
            else
                for (size_t j = 0; j < nt * b; j++) Pt[s].data[j] = Pt[last].data[j] * Pt[last].data[j];
            slot[kw] = s;
            last = s;
        }
        cv.k0 = k0;
        cv.ngroup = ng;
        TL_TRY(tl_parallel_tasks(ng * F, T, cv_task, &cv));
    }
    for (size_t kw = 0; kw < W; kw++) {
        if (!(c[kw] > 0)) continue;
        double score = 0.0;
        size_t st_k = 0;
        for (size_t f = 0; f < F; f++) {
            score += fs[kw * F + f] / (double)F;
            st_k += steps[kw * F + f];
        }
        tl_log(p->ctx, TL_LOG_DEBUG, "kliep: gamma %g: %zu-fold likelihood %g (%zu steps)", g[kw],
               F, score, st_k);
        if (score > best) {
            best = score;
            kb = kw;
        }
    }
    TL_CHECK(kb < W, TL_ERR_LINALG,
             "kliep: every candidate width underflows to 0 between the source and the centres "
             "(gamma %g to %g); give a smaller gamma",
             g[0], g[W - 1]);
    *gamma = g[kb];
    tl_log(p->ctx, TL_LOG_INFO, "kliep: gamma %g chosen by %zu-fold likelihood cross-validation "
           "over %zu widths (score %g, %zu threads)", g[kb], F, W, best, T);
done:
    for (size_t i = 0; i < TLI_MAX_WIDTHS; i++) tl_mat_free(&Pt[i]);
    tl_free(bv);
    tl_free(c);
    tl_free(fs);
    tl_free(steps);
    tl_free(work);
    return st;
}

tl_status tli_kliep(const tl_weight_params *p, const tl_kernel *k, tl_xmat Xs, tl_xmat Xt,
                    double *w, tl_weight_info *info, tli_ratio *ratio) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL}, Ps = {0, 0, 0, NULL}, Pt = {0, 0, 0, NULL};
    tl_mat Ds = {0, 0, 0, NULL}, Dt = {0, 0, 0, NULL}, D0 = {0, 0, 0, NULL};
    double *bv = NULL, *alpha = NULL, *u = NULL, *un = NULL, *an = NULL;
    size_t *perm = NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    int blas_saved = 0; /* > 0: OpenBLAS's thread count to restore */
    tl_kernel kk = *k;
    TL_TRY(tli_centres(Xt, p->centers, p->seed, &C));
    size_t b = C.rows;
    TL_TRY(tl_mat_alloc(&Ps, ns, b));
    TL_TRY(tl_mat_alloc(&Pt, nt, b));
    TL_ALLOC(bv, b);
    TL_ALLOC(alpha, b);
    TL_ALLOC(u, b);
    TL_ALLOC(un, b);
    TL_ALLOC(an, b);
    kliep_ws ws = {bv, 0.0, b, p->max_iter, tli_have_avx2(), u, un, an};
    if (p->widths >= 2) {
        TL_CHECK(nt >= p->folds, TL_ERR_EMPTY,
                 "kliep: %zu-fold cross-validation over widths needs at least %zu target samples "
                 "(have %zu); lower folds or give widths = 0",
                 p->folds, p->folds, nt);
        TL_TRY(tl_mat_alloc(&Ds, ns, b));
        TL_TRY(tl_mat_alloc(&Dt, nt, b));
        TL_TRY(tl_mat_alloc(&D0, nt, b));
        TL_ALLOC(perm, nt);
        size_t T = tli_threads(p, p->widths * p->folds), Td = tli_threads(p, 2 * TLI_MAX_WIDTHS);
        blas_saved = tli_blas_serial();
        TL_TRY(tli_sqdist_designs(Td, Xs, Xt, C, Ds, D0));
        tli_cv_order(nt, p->seed, perm);
        for (size_t i = 0; i < nt; i++) memcpy(Dt.data + i * b, D0.data + perm[i] * b, b * sizeof(double));
        tl_mat_free(&D0);
        TL_TRY(select_width(p, k, Ds, Dt, Ps, T, &kk.gamma));
        tli_rbf_from_sqdist(Ds, kk.gamma, Ps);
        tli_rbf_from_sqdist(Dt, kk.gamma, Pt);
    } else {
        TL_TRY(tli_kernel_design(&kk, Xs, C, Ps));
        if (b == nt) /* the centres are the target rows in order: K(Xt, Xt) is symmetric */
            TL_TRY(tli_kernel_design_self(&kk, C, Pt));
        else
            TL_TRY(tli_kernel_design(&kk, Xt, C, Pt));
    }
    ws.c = source_mean(Ps, bv);
    TL_CHECK(ws.c > 0, TL_ERR_LINALG,
             "kliep: every kernel value between the source and the centres underflows to 0 "
             "(gamma = %g is too large for this data)",
             kk.gamma);
    double score;
    size_t all[4] = {0, nt, nt, nt};
    size_t steps = kliep_learn(&ws, Pt, all, alpha, &score);
    TL_TRY(tl_gemv(TL_NOTRANS, 1.0, Ps, alpha, 0.0, w));
    tl_log(p->ctx, TL_LOG_INFO, "kliep: %zu centres, gamma %g, %zu accepted steps, mean log ratio %g",
           b, kk.gamma, steps, score);
    info->gamma = kk.gamma;
    info->lambda = 0.0;
    if (ratio) tli_ratio_take_kernel(ratio, &kk, &C, &alpha); /* the function behind w */
done:
    if (blas_saved > 0) tli_blas_restore(blas_saved);
    tl_mat_free(&C);
    tl_mat_free(&Ps);
    tl_mat_free(&Pt);
    tl_mat_free(&Ds);
    tl_mat_free(&Dt);
    tl_mat_free(&D0);
    tl_free(bv);
    tl_free(alpha);
    tl_free(u);
    tl_free(un);
    tl_free(an);
    tl_free(perm);
    return st;
}
