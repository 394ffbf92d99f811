/* Negative-transfer guard (tl/guard.h): judges a transfer, and the source behind it, with only
 * unlabelled target data, and with a few labelled target rows when there are some.
 *
 * Feature correspondence (the Mantel statistic; Mantel, Cancer Research 1967): on at most
 * max_rows rows per domain and max_features columns (those non-zero in the most rows of both
 * domains when d is larger), each domain's columns are centred and scaled to unit variance,
 * B = (X - mean) / (std sqrt(m)), so C = B^T B is the correlation matrix (one SYRK). Columns
 * constant in either domain carry no correlation and are dropped. r = Pearson correlation of the
 * upper off-diagonal entries of C_s and C_t. A permutation relabels the target's features:
 * the multiset of each matrix's entries is unchanged, so only the cross sum sum_{i<j} a_ij
 * b_{pi(i) pi(j)} is recomputed, O(k^2) per permutation; p = (1 + #{r_perm >= r}) / (1 + P).
 * Why this signal: the other label-free ones overlap between related and unrelated sources on
 * the benchmarks (see guard.h), while an unrelated source shows no correlation structure in
 * common with the target at all (|r| < 0.01 against >= 0.27 for related domains).
 *
 * Reverse validation (Zhong, Fan, Yang, Verscheure & Ren, ECML-PKDD 2010): f = learner(source
 * without fold k, ys, ws); yt^ = f(target); g = learner(target, yt^); RV = acc(g(fold k), ys)
 * over 2 source folds (reverse_validate); computed in the original space without weights
 * ("before") and in the transferred space with the weights ("after"), next to MMD^2 of each
 * space (tl_mmd; RBF with the median heuristic for dense data, linear for sparse data) and the
 * agreement of the two target labelings. A fall by more than one standard error of RV is
 * "slight", by more than `margin` harmful.
 *
 * Weights: ESS share = (sum w)^2 / (n sum w^2), Kish's effective sample size over n.
 *
 * Labelled rows: exact binomial upper tail P(X >= k | n, chance) by summing the pmf in log space
 * (lgamma); the comparison with a target-only learner uses the normal approximation of the
 * difference of two accuracies on n rows each.
 *
 * Cost (the guard runs on every transfer, so it must stay well below the transfer itself): with
 * 1-NN, reverse validation takes one source x target distance pass for its five models
 * (rv_1nn); the dense RBF MMD shares one pass of distances between its median heuristic and its
 * kernel sums (mmd_rbf_shared); the Mantel permutations are scored in parallel, four sums per
 * row (mantel_task). Each gives the figures of the straightforward computation it replaced
 * (tests/test_guard.c holds them against it). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "internal/select.h"
#include "internal/parallel.h"
#include "pipeline_internal.h"
#include "tl/guard.h"
#include "tl/measure.h"

tl_guard_params tl_guard_params_default(void) {
    tl_guard_params p;
    memset(&p, 0, sizeof p);
    p.learner = tl_learner_params_default(TL_LEARNER_LOGREG);
    p.margin = 0.05;
    p.seed = 42;
    p.min_correspondence = 0.1;
    p.max_features = 1000;
    p.max_rows = 1000;
    p.permutations = 99;
    p.min_ess = 0.5;
    p.alpha = 0.05;
    return p;
}

tl_status tl_guard_params_check(const tl_guard_params *p) {
    tl_status st = TL_OK;
    TL_CHECK(p, TL_ERR_INVALID_ARG, "guard: NULL parameters");
    TL_CHECK(isfinite(p->margin) && p->margin >= 0 && p->margin < 1, TL_ERR_INVALID_ARG,
             "guard: margin = %g must be in [0, 1)", p->margin);
    TL_CHECK(isfinite(p->min_correspondence) && p->min_correspondence >= -1 &&
                 p->min_correspondence <= 1,
             TL_ERR_INVALID_ARG, "guard: min_correspondence = %g must be in [-1, 1]",
             p->min_correspondence);
    TL_CHECK(p->max_features >= 3, TL_ERR_INVALID_ARG,
             "guard: max_features = %zu must be at least 3 (a correlation needs 3 pairs)",
             p->max_features);
    TL_CHECK(p->max_rows >= 2, TL_ERR_INVALID_ARG, "guard: max_rows = %zu must be at least 2",
             p->max_rows);
    TL_CHECK(p->permutations <= 100000, TL_ERR_INVALID_ARG,
             "guard: permutations = %zu is more than 100000", p->permutations);
    TL_CHECK(isfinite(p->min_ess) && p->min_ess >= 0 && p->min_ess <= 1, TL_ERR_INVALID_ARG,
             "guard: min_ess = %g must be in [0, 1]", p->min_ess);
    TL_CHECK(isfinite(p->alpha) && p->alpha > 0 && p->alpha < 1, TL_ERR_INVALID_ARG,
             "guard: alpha = %g must be in (0, 1)", p->alpha);
    st = tl_learner_params_check(&p->learner);
    if (st != TL_OK) st = tl_fail_prefix(st, "guard: learner");
done:
    return st;
}

const char *tl_guard_verdict_name(tl_guard_verdict v) {
    switch (v) {
    case TL_GUARD_OK: return "ok";
    case TL_GUARD_HARMFUL: return "harmful";
    case TL_GUARD_UNSURE: return "unsure";
    }
    return "unknown";
}

/* ---- feature correspondence ---- */

/* idx (m): m = min(n, cap) row indices, all rows in order, or a seeded sample in increasing order. */
static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}
static tl_status sample_rows(size_t n, size_t cap, tl_rng *r, size_t **idx, size_t *m) {
    tl_status st = TL_OK;
    size_t *all = NULL;
    TL_ALLOC(all, n);
    for (size_t i = 0; i < n; i++) all[i] = i;
    if (n > cap) {
        tl_rng_shuffle(r, all, n);
        qsort(all, cap, sizeof *all, cmp_size);
    }
    *m = n > cap ? cap : n;
    *idx = all;
    all = NULL;
done:
    tl_free(all);
    return st;
}

/* nz (d) += number of sampled rows where each column is non-zero. */
static void count_nonzero(tl_xmat X, const size_t *rows, size_t m, size_t *nz) {
    for (size_t r = 0; r < m; r++) {
        size_t i = rows[r];
        if (X.sparse) {
            for (size_t e = X.csr.indptr[i]; e < X.csr.indptr[i + 1]; e++)
                nz[X.csr.indices[e]] += X.csr.values[e] != 0;
        } else {
            const double *row = X.dense.data + i * X.dense.ld;
            for (size_t j = 0; j < X.dense.cols; j++) nz[j] += row[j] != 0;
        }
    }
}

typedef struct {
    double score;
    size_t col;
} col_score;
static int cmp_col_score(const void *a, const void *b) {
    const col_score *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

/* A (m, k): the sampled rows of X restricted to the columns with pos[col] = position (or -1). */
static void gather(tl_xmat X, const size_t *rows, size_t m, const long *pos, const size_t *cols,
                   size_t k, tl_mat A) {
    if (X.sparse) tl_mat_fill(A, 0); /* dense rows overwrite every entry */
    for (size_t r = 0; r < m; r++) {
        size_t i = rows[r];
        double *out = A.data + r * A.ld;
        if (X.sparse) {
            for (size_t e = X.csr.indptr[i]; e < X.csr.indptr[i + 1]; e++) {
                long q = pos[X.csr.indices[e]];
                if (q >= 0) out[q] = X.csr.values[e];
            }
        } else {
            const double *row = X.dense.data + i * X.dense.ld;
            for (size_t q = 0; q < k; q++) out[q] = row[cols[q]];
        }
    }
}

/* Column mean and population std of A (m, k); keep[q] = 0 where the column is constant. */
static void col_stats(tl_mat A, double *mean, double *sd, unsigned char *keep) {
    for (size_t q = 0; q < A.cols; q++) {
        double s = 0, mx = 0;
        for (size_t r = 0; r < A.rows; r++) s += TL_AT(A, r, q);
        double mu = s / (double)A.rows, v = 0;
        for (size_t r = 0; r < A.rows; r++) {
            double x = TL_AT(A, r, q);
            v += (x - mu) * (x - mu);
            mx = fmax(mx, fabs(x));
        }
        mean[q] = mu;
        sd[q] = sqrt(v / (double)A.rows);
        keep[q] &= sd[q] > 1e-12 * mx && mx > 0;
    }
}

/* In place: row by row, the kept columns of A (m, k) centred and divided by sd sqrt(m), packed to
 * the left (each value moves to a column at or before its own, so a row never overwrites what
 * it still reads); the result is the first kk columns of A. */
static void standardise(tl_mat A, const double *mean, const double *sd, const unsigned char *keep) {
    double sm = sqrt((double)A.rows);
    for (size_t r = 0; r < A.rows; r++) {
        size_t o = 0;
        for (size_t q = 0; q < A.cols; q++)
            if (keep[q]) TL_AT(A, r, o++) = (TL_AT(A, r, q) - mean[q]) / (sd[q] * sm);
    }
}

/* Mantel permutations: the cross sum s_b = sum_{i<j} Cs_ij Ct_{pi(i) pi(j)} of permutation b.
 * The sequential loop is one dependent chain of additions over 320 000 gathered entries (800
 * features): latency- and cache-bound, ~0.4 ms per permutation. Here each permutation reads
 * single-precision copies of the two matrices (half the bytes to bring in from cache) into four
 * double accumulators per row. A product of two floats is exact in double, so s_b differs from
 * the sequential loop's by at most (2^-23 + 2^-48 + summation rounding) * sum |a b|, and
 * sum_{i<j} |a_ij b_pi(i)pi(j)| <= sqrt(sum a^2 sum b^2) (Cauchy-Schwarz): only a permutation
 * whose statistic lands within that bound (tol) of the threshold could be counted differently,
 * and those few are recomputed by the sequential loop in double. The count, hence p, is the
 * sequential loop's exactly.
 * Early exit: most permutations land far below the observed r, and a row-by-row bound says so
 * before the end. After rows 0..i the rest of the sum is at most sqrt(A_rest B_rest) in absolute
 * value (Cauchy-Schwarz over the pairs still to come), with A_rest the sum of the a^2 of those
 * pairs (fixed: the rows are not permuted) and B_rest = sum b^2 over all pairs - the b^2 seen so
 * far (the permuted entries of the pairs are a permutation of all pairs' entries). Once even
 * s_so_far + that bound (widened by 1e-9 for the double sums' rounding) gives an r below
 * thr - 2 tol, the full float sum lands below thr - tol (the rows still to come round by far less
 * than tol) and would have been counted below without a recomputation, so the permutation is
 * counted below at once: on the SURF pairs (800 features) after ~40 % of its
 * pairs (C->A, r = 0.59) to ~72 % (W->D, r = 0.27), which takes 55 % and 30 % off the
 * permutations' time. (Relabelling the features by decreasing row mass would stop them sooner,
 * at 31 % and 69 % in a numpy prototype, but building the relabelled copies cost what it saved.) */
#define MANTEL_PER_TASK 4
typedef struct {
    tl_mat Cs, Ct;            /* double, for the sequential recomputation */
    const float *as, *bt;     /* (kk, kk) float copies */
    const uint32_t *perm;     /* (P, kk) */
    const double *arest;      /* (kk + 1): sum of as_ij^2 over rows >= i, j > i */
    size_t kk, P;
    double npair, mamb, den, thr, tol;
    double sbb;               /* sum over i < j of bt_ij^2 */
    size_t *ge; /* (tasks) */
} mantel_job;

static double mantel_sum_serial(const mantel_job *m, const uint32_t *pm) {
    double s = 0;
    for (size_t i = 0; i < m->kk; i++) {
        const double *crow = m->Ct.data + pm[i] * m->Ct.ld;
        for (size_t j = i + 1; j < m->kk; j++) s += TL_AT(m->Cs, i, j) * crow[pm[j]];
    }
    return s;
}

/* The cross sum of one permutation pm (kk), four double accumulators per row, into
 * *out; returns false, without a sum, when the early-exit bound (see above) already puts the
 * permutation's r below thr - tol. */
static bool mantel_sum(const mantel_job *m, const uint32_t *pm, double *out) {
    size_t kk = m->kk;
    double s = 0, bseen = 0;
    for (size_t i = 0; i < kk; i++) {
        const float *a = m->as + i * kk, *crow = m->bt + (size_t)pm[i] * kk;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0;
        size_t j = i + 1;
        for (; j + 4 <= kk; j += 4) {
            double b0 = crow[pm[j]], b1 = crow[pm[j + 1]], b2 = crow[pm[j + 2]],
                   b3 = crow[pm[j + 3]];
            s0 += (double)a[j] * b0;
            s1 += (double)a[j + 1] * b1;
            s2 += (double)a[j + 2] * b2;
            s3 += (double)a[j + 3] * b3;
            q0 += b0 * b0 + b1 * b1;
            q1 += b2 * b2 + b3 * b3;
        }
        for (; j < kk; j++) {
            double b0 = crow[pm[j]];
            s0 += (double)a[j] * b0;
            q0 += b0 * b0;
        }
        s += (s0 + s1) + (s2 + s3);
        bseen += q0 + q1;
        if (i + 2 < kk) {
            double brest = m->sbb - bseen;
            brest = (brest > 0 ? brest : 0) + 1e-9 * m->sbb;
            double bound = sqrt(m->arest[i + 1] * brest) * (1.0 + 1e-9);
            if (((s + bound) / m->npair - m->mamb) / m->den < m->thr - 2.0 * m->tol) return false;
        }
    }
    *out = s;
    return true;
}

static tl_status mantel_task(void *v, size_t task, size_t thread) {
    mantel_job *m = v;
    (void)thread;
    size_t b0 = task * MANTEL_PER_TASK, b1 = b0 + MANTEL_PER_TASK < m->P ? b0 + MANTEL_PER_TASK : m->P;
    size_t ge = 0, kk = m->kk;
    for (size_t b = b0; b < b1; b++) {
        const uint32_t *pm = m->perm + b * kk;
        double s;
        if (!mantel_sum(m, pm, &s)) continue; /* below, decided early */
        double rp = (s / m->npair - m->mamb) / m->den;
        if (fabs(rp - m->thr) <= m->tol) /* too close to call: the sequential loop decides */
            rp = (mantel_sum_serial(m, pm) / m->npair - m->mamb) / m->den;
        ge += rp >= m->thr;
    }
    m->ge[task] = ge;
    return TL_OK;
}

tl_status tl_guard_correspondence(const tl_guard_params *p, tl_xmat Xs, tl_xmat Xt, double *r_out,
                                  double *p_out) {
    tl_status st = TL_OK;
    size_t *rs = NULL, *rt = NULL, *nzs = NULL, *nzt = NULL, *cols = NULL, *perm = NULL;
    size_t *ge_task = NULL;
    uint32_t *perm32 = NULL;
    double *arest = NULL;
    float *cf = NULL;
    long *pos = NULL;
    col_score *cs = NULL;
    double *mean = NULL, *sd = NULL;
    unsigned char *keep = NULL;
    tl_mat As = {0}, At = {0}, Bs = {0}, Bt = {0}, Cs = {0}, Ct = {0};
    if (r_out) *r_out = NAN;
    if (p_out) *p_out = NAN;
    TL_CHECK(p && r_out, TL_ERR_INVALID_ARG, "guard: NULL parameters or output");
    TL_TRY(tl_guard_params_check(p));
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt), d = tl_xmat_cols(Xs);
    TL_CHECK(tl_xmat_cols(Xt) == d, TL_ERR_SHAPE,
             "guard: the source has %zu features and the target %zu", d, tl_xmat_cols(Xt));
    TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
             "guard: needs at least 2 source and 2 target samples (have %zu and %zu)", ns, nt);
    tl_rng rng;
    tl_rng_seed(&rng, p->seed ^ 0x9e3779b97f4a7c15ULL);
    size_t ms, mt;
    TL_TRY(sample_rows(ns, p->max_rows, &rng, &rs, &ms));
    TL_TRY(sample_rows(nt, p->max_rows, &rng, &rt, &mt));
    /* the columns: all, or the max_features non-zero in the most sampled rows of both domains */
    size_t k = d;
    TL_ALLOC(pos, d ? d : 1);
    if (d > p->max_features) {
        TL_CALLOC(nzs, d);
        TL_CALLOC(nzt, d);
        count_nonzero(Xs, rs, ms, nzs);
        count_nonzero(Xt, rt, mt, nzt);
        TL_ALLOC(cs, d);
        for (size_t j = 0; j < d; j++) {
            double a = (double)nzs[j] / (double)ms, b = (double)nzt[j] / (double)mt;
            cs[j].score = a < b ? a : b;
            cs[j].col = j;
        }
        qsort(cs, d, sizeof *cs, cmp_col_score);
        k = p->max_features;
    }
    TL_ALLOC(cols, k ? k : 1);
    if (cs) {
        for (size_t q = 0; q < k; q++) cols[q] = cs[q].col;
        qsort(cols, k, sizeof *cols, cmp_size);
    } else {
        for (size_t q = 0; q < k; q++) cols[q] = q;
    }
    for (size_t j = 0; j < d; j++) pos[j] = -1;
    for (size_t q = 0; q < k; q++) pos[cols[q]] = (long)q;
    if (k < 3) goto done; /* no pairs to correlate: r stays NaN */
    TL_TRY(tl_mat_alloc(&As, ms, k));
    TL_TRY(tl_mat_alloc(&At, mt, k));
    gather(Xs, rs, ms, pos, cols, k, As);
    gather(Xt, rt, mt, pos, cols, k, At);
    TL_ALLOC(mean, 2 * k);
    TL_ALLOC(sd, 2 * k);
    TL_ALLOC(keep, k);
    memset(keep, 1, k);
    col_stats(As, mean, sd, keep);
    col_stats(At, mean + k, sd + k, keep);
    size_t kk = 0;
    for (size_t q = 0; q < k; q++) kk += keep[q];
    if (kk < 3) goto done;
    standardise(As, mean, sd, keep);
    standardise(At, mean + k, sd + k, keep);
    Bs = tl_mat_cols(As, 0, kk); /* views: As and At own the memory */
    Bt = tl_mat_cols(At, 0, kk);
    TL_TRY(tl_mat_alloc(&Cs, kk, kk));
    TL_TRY(tl_mat_alloc(&Ct, kk, kk));
    TL_TRY(tl_syrk(TL_TRANS, 1.0, Bs, 0.0, Cs));
    TL_TRY(tl_syrk(TL_TRANS, 1.0, Bt, 0.0, Ct));
    /* Pearson r of the upper off-diagonal entries */
    double npair = (double)kk * (double)(kk - 1) / 2, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t i = 0; i < kk; i++)
        for (size_t j = i + 1; j < kk; j++) {
            double a = TL_AT(Cs, i, j), b = TL_AT(Ct, i, j);
            sa += a;
            sb += b;
            saa += a * a;
            sbb += b * b;
            sab += a * b;
        }
    double ma = sa / npair, mb = sb / npair;
    double va = saa / npair - ma * ma, vb = sbb / npair - mb * mb;
    if (!(va > 1e-300 && vb > 1e-300)) goto done; /* all pairs alike: no structure to compare */
    double den = sqrt(va * vb);
    double r = (sab / npair - ma * mb) / den;
    *r_out = fmax(-1.0, fmin(1.0, r));
    if (p_out && p->permutations > 0) {
        /* the permutations are drawn in sequence (each shuffles the previous one), then scored
           in parallel; see mantel_task for how each count stays the sequential loop's */
        size_t P = p->permutations, cells;
        TL_CHECK(tl_size_mul(P, kk, &cells) == 0 && kk <= UINT32_MAX, TL_ERR_NOMEM,
                 "guard: %zu permutations of %zu features overflow", P, kk);
        TL_ALLOC(perm, kk);
        TL_ALLOC(perm32, cells);
        for (size_t i = 0; i < kk; i++) perm[i] = i;
        for (size_t b = 0; b < P; b++) {
            tl_rng_shuffle(&rng, perm, kk); /* each permutation shuffles the previous one */
            for (size_t i = 0; i < kk; i++) perm32[b * kk + i] = (uint32_t)perm[i];
        }
        TL_ALLOC(cf, 2 * kk * kk);
        for (size_t i = 0; i < kk; i++)
            for (size_t j = 0; j < kk; j++) {
                cf[i * kk + j] = (float)TL_AT(Cs, i, j);
                cf[kk * kk + i * kk + j] = (float)TL_AT(Ct, i, j);
            }
        /* the early exit's sums of squares: A_rest by rows from the last, and all of B's pairs */
        TL_ALLOC(arest, kk + 1);
        double sbbf = 0;
        arest[kk] = 0;
        for (size_t i = kk; i-- > 0;) {
            const float *x = cf + i * kk, *y = cf + kk * kk + i * kk;
            double a0 = 0, a1 = 0, b0 = 0, b1 = 0;
            size_t j = i + 1;
            for (; j + 2 <= kk; j += 2) {
                double x0 = x[j], x1 = x[j + 1], y0 = y[j], y1 = y[j + 1];
                a0 += x0 * x0;
                a1 += x1 * x1;
                b0 += y0 * y0;
                b1 += y1 * y1;
            }
            if (j < kk) {
                double x0 = x[j], y0 = y[j];
                a0 += x0 * x0;
                b0 += y0 * y0;
            }
            arest[i] = arest[i + 1] + (a0 + a1);
            sbbf += b0 + b1;
        }
        size_t ntask = (P + MANTEL_PER_TASK - 1) / MANTEL_PER_TASK;
        TL_CALLOC(ge_task, ntask);
        /* |s_float - s_exact| <= (2^-23 + 2^-48) sum|ab| + the two summations' rounding */
        double tol = (ldexp(1.0, -23) + 8.0 * DBL_EPSILON) * sqrt(saa * sbb) / (npair * den);
        mantel_job job = {Cs,    Ct,      cf,  cf + kk * kk, perm32,    arest, kk,
                          P,     npair,   ma * mb, den, r - 1e-12, tol, sbbf, ge_task};
        TL_TRY(tl_parallel_tasks(ntask, (size_t)tl_parallel_default_threads(), mantel_task, &job));
        size_t ge = 0;
        for (size_t t = 0; t < ntask; t++) ge += ge_task[t];
        *p_out = (1.0 + (double)ge) / (1.0 + (double)P);
    }
done:
    tl_free(rs);
    tl_free(rt);
    tl_free(nzs);
    tl_free(nzt);
    tl_free(cols);
    tl_free(perm);
    tl_free(ge_task);
    tl_free(perm32);
    tl_free(arest);
    tl_free(cf);
    tl_free(pos);
    tl_free(cs);
    tl_free(mean);
    tl_free(sd);
    tl_free(keep);
    tl_mat_free(&As);
    tl_mat_free(&At);
    tl_mat_free(&Cs);
    tl_mat_free(&Ct);
    return st;
}

/* ---- reverse validation and the distance before/after ---- */

/* Reverse validation with the source in RV_FOLDS folds (Zhong et al. 2010 validate on held-out
 * source rows): for each fold k, f = learner(source without fold k) labels the target, g =
 * learner(pseudo-labelled target) is scored on fold k; RV = the share of source rows g gets
 * right. Holding the fold out matters for instance-based learners: with f trained on every
 * source row, 1-NN's round trip (a source row -> the target rows it labelled -> back to their
 * nearest source row, itself) returns the row's own label, and RV measured that memorisation
 * (75-85 % for the small Office+Caltech D and W sources whatever the transfer did). The folds
 * are a seeded shuffle; with fewer than 2 classes in a fold's training rows (tiny sources) the
 * whole source is used instead. pt (nt) receives the predictions of f trained on every source
 * row (for the agreement and the prediction entropy); ps (ns) is work. */
#define RV_FOLDS 2
/* Fold k of the shuffled rows perm (ns): idx receives the m training rows, then the q held-out
 * ones; returns whether the training rows hold at least 2 classes. */
static bool rv_fold(const size_t *perm, size_t ns, size_t k, const int *ys, size_t *idx, size_t *m,
                    size_t *q) {
    size_t a = 0, b = 0;
    for (size_t i = 0; i < ns; i++)
        if (i % RV_FOLDS != k) idx[a++] = perm[i];
    for (size_t i = 0; i < ns; i++)
        if (i % RV_FOLDS == k) idx[a + b++] = perm[i];
    *m = a;
    *q = b;
    for (size_t i = 1; i < a; i++)
        if (ys[idx[i]] != ys[idx[0]]) return true;
    return false;
}

/* ---- reverse validation with 1-NN, from one distance pass ----
 * With the learner the CLI uses most (1-NN) every model of reverse validation is a nearest-
 * neighbour rule between the source and the target rows: f (every source row) and f_k (the source
 * rows outside fold k) label each target row with the label of its nearest source row among
 * their training rows; g_k, trained on every target row, labels a held-out source row with the
 * f_k-label of its nearest target row - the same target row for both folds. So one source x
 * target distance pass gives all five models, where the learners take three (f, f_0, f_1) plus
 * two (g_0, g_1) searches. The answers are those of tl_knn exactly: expanded distances
 * (||t||^2 + ||s||^2 - 2 t.s, one GEMM per block of target rows) only select candidates, within
 * twice knn.c's rounding bound of the smallest; the candidates' distances are then recomputed
 * exactly, sum_j (t_j - s_j)^2 in order, and ties go to the earlier training row (a fold's
 * training rows are in the shuffled order, as tl_dataset_subset lays them out; zero-weight rows
 * are left out, as the k-NN fit drops them). */
#define RV_BLOCK 256 /* target rows per GEMM block */
#define RV_KEEP 4    /* per source row: the nearest target rows kept by expanded distance */

static bool rv_all_finite(tl_mat A) {
    for (size_t i = 0; i < A.rows; i++)
        for (size_t j = 0; j < A.cols; j++)
            if (!isfinite(A.data[i * A.ld + j])) return false;
    return true;
}

static double rv_sqdist(const double *a, const double *b, size_t d) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* Nearest of the source rows i with group[i] == g (g < 0: every kept row) to target row t
 * (expanded distances e (ns)), ties to the lower key[i]. Returns ns when the group is empty. */
static size_t rv_nearest_source(const double *e, const double *trow, tl_mat S,
                                const signed char *group, int g, const size_t *key, double delta) {
    size_t ns = S.rows, best = ns;
    double emin = INFINITY, bd = INFINITY;
    for (size_t i = 0; i < ns; i++)
        if (group[i] >= 0 && (g < 0 || group[i] == g) && e[i] < emin) emin = e[i];
    if (!(emin < INFINITY)) return ns;
    double lim = emin + 2.0 * delta;
    for (size_t i = 0; i < ns; i++) {
        if (group[i] < 0 || (g >= 0 && group[i] != g) || !(e[i] <= lim)) continue;
        double x = rv_sqdist(trow, S.data + i * S.ld, S.cols);
        if (x < bd || (x == bd && best < ns && key[i] < key[best])) bd = x, best = i;
    }
    return best;
}

/* 1-NN reverse validation (see above). S (ns, d), T (nt, d) dense and finite; perm (ns) the
 * shuffled rows; folds: whether the two folds are used (else in-sample). Returns
 * TL_ERR_UNSUPPORTED, without a message, when a training set has no row of positive weight (the
 * caller then runs the learners, which report it). */
/* The rows the guard's MMD uses (at most max_rows per domain, drawn as guard_mmd draws them) and,
 * when reverse validation runs its distance pass first, their source x target block of squared
 * distances, handed over so the MMD does not compute it again. */
typedef struct {
    size_t *si, *ti;   /* (ms), (mt) sampled row indices, increasing */
    size_t ms, mt;
    long *spos, *tpos; /* (ns), (nt): position of a row in the sample, or -1 */
    double *D;         /* (ms, mt) d(s_si[a], t_ti[b]) clamped at 0, or NULL */
    bool filled;
} mmd_plan;

static tl_status rv_1nn(tl_mat S, const int *ys, const double *ws, tl_mat T, const size_t *perm,
                        bool folds, int *pt, double *rv, mmd_plan *plan) {
    tl_status st = TL_OK;
    size_t ns = S.rows, nt = T.rows, d = S.cols, ok = 0;
    double *sn = NULL, *tn = NULL, *G = NULL, *cv = NULL;
    size_t *rank = NULL, *ident = NULL, *cj = NULL, *cnt = NULL, *nnt = NULL;
    int *yk[RV_FOLDS] = {NULL};
    signed char *group = NULL;
    TL_ALLOC(sn, ns);
    TL_ALLOC(tn, nt);
    TL_ALLOC(rank, ns);
    TL_ALLOC(ident, ns);
    TL_ALLOC(group, ns);
    TL_ALLOC(nnt, ns);
    TL_ALLOC(cv, ns * RV_KEEP);
    TL_ALLOC(cj, ns * RV_KEEP);
    TL_CALLOC(cnt, ns);
    for (size_t k = 0; k < RV_FOLDS; k++) TL_ALLOC(yk[k], nt);
    size_t kept[RV_FOLDS + 1] = {0};
    double snmax = 0.0, tnmax = 0.0;
    for (size_t r = 0; r < ns; r++) rank[perm[r]] = r;
    tl_row_sqnorms(S, sn); /* as the MMD's blocks compute them */
    tl_row_sqnorms(T, tn);
    for (size_t i = 0; i < ns; i++) {
        ident[i] = i;
        snmax = sn[i] > snmax ? sn[i] : snmax;
        /* group: the fold whose held-out rows i belongs to; -1 when its weight is zero */
        group[i] = ws && !(ws[i] > 0) ? -1 : (signed char)(rank[i] % RV_FOLDS);
        if (group[i] >= 0) kept[RV_FOLDS]++, kept[group[i]]++;
    }
    if (!kept[RV_FOLDS] || (folds && (!kept[0] || !kept[1]))) {
        st = TL_ERR_UNSUPPORTED; /* silent: the learners' path reports it */
        goto done;
    }
    for (size_t j = 0; j < nt; j++) tnmax = tn[j] > tnmax ? tn[j] : tnmax;
    const double dscale = 8.0 * ((double)d + 4.0) * (DBL_EPSILON / 2);
    size_t blk = nt < RV_BLOCK ? nt : RV_BLOCK;
    TL_ALLOC(G, blk * ns);
    for (size_t j0 = 0; j0 < nt; j0 += blk) {
        size_t nb = nt - j0 < blk ? nt - j0 : blk;
        tl_mat Gb = tl_mat_view(G, nb, ns);
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, -2.0, tl_mat_rows(T, j0, nb), S, 0.0, Gb));
        for (size_t b = 0; b < nb; b++) {
            size_t j = j0 + b;
            double *e = G + b * ns;
            const double *trow = T.data + j * T.ld;
            for (size_t i = 0; i < ns; i++) e[i] = (sn[i] + tn[j]) + e[i]; /* the MMD's order */
            if (plan && plan->D && plan->tpos[j] >= 0) {
                double *col = plan->D + (size_t)plan->tpos[j];
                for (size_t a = 0; a < plan->ms; a++) {
                    double v = e[plan->si[a]];
                    col[a * plan->mt] = v < 0.0 ? 0.0 : v;
                }
            }
            /* f (every kept source row, in row order) and f_k (the rows outside fold k) */
            double delta = dscale * (tn[j] + snmax);
            size_t i0 = rv_nearest_source(e, trow, S, group, -1, ident, delta);
            pt[j] = ys[i0];
            if (folds)
                for (int k = 0; k < RV_FOLDS; k++) {
                    /* with 2 folds, the rows outside fold k are those of the other fold */
                    size_t ik = rv_nearest_source(e, trow, S, group, 1 - k, rank, delta);
                    yk[k][j] = ys[ik];
                }
            /* g: each source row's nearest target rows, by expanded distance, ties to lower j */
            for (size_t i = 0; i < ns; i++) {
                double v = e[i];
                double *a = cv + i * RV_KEEP;
                size_t *ids = cj + i * RV_KEEP, c = cnt[i];
                if (c == RV_KEEP && !(v < a[RV_KEEP - 1])) continue;
                size_t pos = c < RV_KEEP ? c++ : RV_KEEP - 1;
                while (pos > 0 && a[pos - 1] > v) {
                    a[pos] = a[pos - 1];
                    ids[pos] = ids[pos - 1];
                    pos--;
                }
                a[pos] = v;
                ids[pos] = j;
                cnt[i] = c;
            }
        }
    }
    /* g's nearest target row for each source row: exact among the kept ones, or an exact scan
       when rows beyond the kept ones could still be within the rounding bound */
    for (size_t i = 0; i < ns; i++) {
        const double *srow = S.data + i * S.ld;
        const double *a = cv + i * RV_KEEP;
        const size_t *ids = cj + i * RV_KEEP;
        double lim = a[0] + 2.0 * dscale * (sn[i] + tnmax), bd = INFINITY;
        size_t best = 0;
        if (cnt[i] == RV_KEEP && !(a[RV_KEEP - 1] > lim)) {
            for (size_t j = 0; j < nt; j++) {
                double x = rv_sqdist(T.data + j * T.ld, srow, d);
                if (x < bd) bd = x, best = j;
            }
        } else {
            for (size_t c = 0; c < cnt[i]; c++) {
                if (!(a[c] <= lim)) break;
                double x = rv_sqdist(T.data + ids[c] * T.ld, srow, d);
                if (x < bd || (x == bd && ids[c] < best)) bd = x, best = ids[c];
            }
        }
        nnt[i] = best;
    }
    if (!folds) { /* g trained on the target labelled by f, scored on every source row */
        for (size_t i = 0; i < ns; i++) ok += pt[nnt[i]] == ys[i];
    } else { /* g_k labels the held-out rows of fold k with f_k's target labels */
        for (size_t i = 0; i < ns; i++) ok += yk[rank[i] % RV_FOLDS][nnt[i]] == ys[i];
    }
    *rv = (double)ok / (double)ns;
    if (plan && plan->D) plan->filled = true;
done:
    tl_free(sn);
    tl_free(tn);
    tl_free(G);
    tl_free(cv);
    tl_free(rank);
    tl_free(ident);
    tl_free(cj);
    tl_free(cnt);
    tl_free(nnt);
    tl_free(group);
    for (size_t k = 0; k < RV_FOLDS; k++) tl_free(yk[k]);
    return st;
}

static tl_status reverse_validate(const tl_learner_params *lp, tl_xmat S, const int *ys,
                                  const double *ws, tl_xmat T, uint64_t seed, int *pt, int *ps,
                                  double *rv, mmd_plan *plan) {
    tl_status st = TL_OK;
    tl_learner *f = NULL, *g = NULL;
    tl_dataset *all = NULL, *tr = NULL, *te = NULL;
    size_t ns = tl_xmat_rows(S), nt = tl_xmat_rows(T), *perm = NULL, *idx = NULL, ok = 0;
    int *yk = NULL; /* (nt) the fold model's target labels */
    TL_ALLOC(perm, ns);
    TL_ALLOC(idx, ns);
    for (size_t i = 0; i < ns; i++) perm[i] = i;
    tl_rng rng;
    tl_rng_seed(&rng, seed ^ 0x5256u); /* "RV" */
    tl_rng_shuffle(&rng, perm, ns);
    bool folds = ns >= 2 * RV_FOLDS;
    size_t m, q;
    for (size_t k = 0; k < RV_FOLDS && folds; k++) folds = rv_fold(perm, ns, k, ys, idx, &m, &q);
    if (lp->type == TL_LEARNER_KNN && lp->k == 1 && !S.sparse && !T.sparse &&
        rv_all_finite(S.dense) && rv_all_finite(T.dense)) {
        st = rv_1nn(S.dense, ys, ws, T.dense, perm, folds, pt, rv, plan);
        if (st != TL_ERR_UNSUPPORTED) goto done;
        st = TL_OK; /* a training set without weight: the learners say so below */
    }
    TL_TRY(tl_learner_create(lp, &f));
    TL_TRY(tl_learner_fit(f, S, ys, ws));
    TL_TRY(tl_learner_predict(f, T, pt));
    tl_learner_free(f);
    f = NULL;
    if (!folds) { /* the whole source, in-sample */
        TL_TRY(tl_learner_create(lp, &g));
        TL_TRY(tl_learner_fit(g, T, pt, NULL));
        TL_TRY(tl_learner_predict(g, S, ps));
        for (size_t i = 0; i < ns; i++) ok += ps[i] == ys[i];
        *rv = (double)ok / (double)ns;
        goto done;
    }
    TL_ALLOC(yk, nt);
    TL_TRY(S.sparse ? tl_dataset_from_csr(S.csr, ys, &all) : tl_dataset_from_dense(S.dense, ys, &all));
    if (ws) TL_TRY(tl_dataset_set_weights(all, ws));
    for (size_t k = 0; k < RV_FOLDS; k++) {
        (void)rv_fold(perm, ns, k, ys, idx, &m, &q);
        TL_TRY(tl_dataset_subset(all, idx, m, &tr));
        TL_TRY(tl_dataset_subset(all, idx + m, q, &te));
        TL_TRY(tl_learner_create(lp, &f));
        TL_TRY(tl_learner_fit(f, tl_dataset_features(tr), tl_dataset_labels_const(tr),
                              tl_dataset_weights(tr)));
        TL_TRY(tl_learner_predict(f, T, yk));
        TL_TRY(tl_learner_create(lp, &g));
        TL_TRY(tl_learner_fit(g, T, yk, NULL));
        TL_TRY(tl_learner_predict(g, tl_dataset_features(te), ps)); /* q <= ns rows */
        const int *yq = tl_dataset_labels_const(te);
        for (size_t i = 0; i < q; i++) ok += ps[i] == yq[i];
        tl_learner_free(f);
        tl_learner_free(g);
        f = g = NULL;
        tl_dataset_free(tr);
        tl_dataset_free(te);
        tr = te = NULL;
    }
    *rv = (double)ok / (double)ns;
done:
    tl_learner_free(f);
    tl_learner_free(g);
    tl_dataset_free(all);
    tl_dataset_free(tr);
    tl_dataset_free(te);
    tl_free(perm);
    tl_free(idx);
    tl_free(yk);
    return st;
}

/* The unbiased RBF MMD^2 of tl_mmd with its median-heuristic gamma (tl_mmd_params_default),
 * from one pass of distances instead of two: tl_mmd computes every pooled pair distance once for
 * the median (tl_kernel_median_gamma) and again for the kernel sums. Here the distances of the
 * kernel sums' blocks (MMD_BLOCK rows of each domain, -2 A B^T by GEMM, plus the row norms, clamped
 * at 0: the same arithmetic as tlm_kernel_block, so the same values) are kept, their pairs i < j
 * give the median, and they are exponentiated and summed block by block and row by row in
 * tlm_kernel_sums' order. Returns false with *out set; true (nothing computed) when tl_mmd would
 * subsample the pooled rows for the median (more than 2000 pooled rows, or more than 2^23
 * elements), or memory is short: the caller then runs tl_mmd. */
#define MMD_BLOCK 512              /* measure_util.c's TLM_KBLOCK */
#define MMD_MEDIAN_ROWS 2000       /* measure_util.c's TLM_MEDIAN_ROWS */
#define MMD_MEDIAN_ELEMS ((size_t)1 << 23)
#define MMD_DENSE_BLOCK_ELEMS ((size_t)1 << 21)

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The median of the pairs comes from one pass (Floyd & Rivest's idea): a sorted strided sample
 * of MEDIAN_SAMPLE values gives bounds lo <= hi that bracket the middle ranks with a wide margin;
 * one pass counts the values below lo and copies those in [lo, hi] (about n / 16) aside, and the
 * middle ranks are selected there. If the bracket misses them, the values are copied and go to
 * the quickselect. The result is an order statistic, so both paths return the same value.
 * Quickselect's branchy partitions over a copy of the ~2M pair distances of a 2000-row sample
 * took 15-20 ms per call. */
#define MEDIAN_SAMPLE 4096

typedef struct {
    tl_mat A, B;    /* row blocks */
    double *K;      /* the block's distances, then kernel values */
    size_t ld;
    int part;       /* 0: S x S, 1: T x T, 2: S x T */
    bool diag;      /* a diagonal block of S x S or T x T */
} mmd_blk;

/* Every pair i < j of the pooled rows once: the upper part of the diagonal blocks and the whole
 * of the others. V names the value inside BODY. */
#define MMD_FOR_PAIRS(blk, nb, V, BODY)                                                            \
    for (size_t b_ = 0; b_ < (nb); b_++) {                                                         \
        const mmd_blk *k_ = &(blk)[b_];                                                            \
        for (size_t i_ = 0; i_ < k_->A.rows; i_++) {                                               \
            const double *r_ = k_->K + i_ * k_->ld;                                                \
            for (size_t j_ = k_->diag ? i_ + 1 : 0; j_ < k_->B.rows; j_++) {                       \
                double V = r_[j_];                                                                 \
                BODY                                                                               \
            }                                                                                      \
        }                                                                                          \
    }

/* The median of the pairs (positive ones only when positive), as tli_median_inplace would return it
 * on a copy of them, without the copy: the bracket from a strided sample (see above), one
 * counting pass, selection among the values inside the bracket. Declines to the copy and the
 * quickselect when the bracket misses. Returns NaN when there is no pair to take. */
static double mmd_pair_median(const mmd_blk *blk, size_t nb, size_t np, bool positive,
                              double *work, size_t wcap, tl_status *st) {
    size_t cnt = 0;
    if (positive) {
        MMD_FOR_PAIRS(blk, nb, v, cnt += v > 0.0;)
    } else {
        cnt = np;
    }
    if (cnt == 0) return NAN;
    size_t k = (cnt - 1) / 2, k2 = cnt % 2 ? k : k + 1;
    if (cnt >= 4 * MEDIAN_SAMPLE && wcap >= MEDIAN_SAMPLE) {
        size_t stride = cnt / MEDIAN_SAMPLE, seen = 0, m = 0;
        MMD_FOR_PAIRS(blk, nb, v, {
            if (positive && !(v > 0.0)) continue;
            if (seen++ % stride == 0 && m < MEDIAN_SAMPLE) work[m++] = v;
        })
        qsort(work, m, sizeof *work, cmp_double);
        double lo = work[m / 2 - 128], hi = work[m / 2 + 128];
        size_t below = 0, mid = 0;
        bool over = false;
        MMD_FOR_PAIRS(blk, nb, v, {
            if (positive && !(v > 0.0)) continue;
            below += v < lo;
            if (v >= lo && v <= hi) {
                if (mid == wcap) over = true;
                else work[mid++] = v;
            }
        })
        if (!over && k >= below && k2 < below + mid) {
            double x = tli_select_kth(work, mid, k - below);
            if (cnt % 2) return x;
            double y = work[k - below + 1];
            for (size_t q = k - below + 2; q < mid; q++)
                if (work[q] < y) y = work[q];
            return 0.5 * (x + y);
        }
    }
    double *all = tl_malloc(cnt * sizeof *all); /* the bracket missed: copy and quickselect */
    if (!all) {
        *st = TL_ERR_NOMEM;
        return NAN;
    }
    size_t q = 0;
    MMD_FOR_PAIRS(blk, nb, v, {
        if (positive && !(v > 0.0)) continue;
        all[q++] = v;
    })
    double med = tli_median_inplace(all, cnt);
    tl_free(all);
    return med;
}

static bool mmd_rbf_shared(tl_mat S, tl_mat T, double *cross, double *out) {
    tl_status st = TL_OK;
    size_t ns = S.rows, nt = T.rows, d = S.cols, n = ns + nt;
    double *D = NULL, *own = NULL, *an = NULL, *bn = NULL, *work = NULL;
    mmd_blk *blk = NULL;
    bool declined = true;
    size_t bs = d ? MMD_DENSE_BLOCK_ELEMS / d : MMD_BLOCK;
    if (bs > MMD_BLOCK) bs = MMD_BLOCK;
    size_t cap = d ? MMD_MEDIAN_ELEMS / d : MMD_MEDIAN_ROWS;
    if (cap > MMD_MEDIAN_ROWS) cap = MMD_MEDIAN_ROWS;
    if (ns < 2 || nt < 2 || n > cap || bs < 1 || d == 0) return true;
    /* the blocks of tlm_kernel_sums: S x S (j0 >= i0), T x T (j0 >= i0), S x T (all); the
       same-domain ones stored one after the other, the S x T ones as views of one ns x nt
       matrix (reverse validation's, when given) */
    size_t nbs = (ns + bs - 1) / bs, nbt = (nt + bs - 1) / bs;
    size_t nblk = nbs * (nbs + 1) / 2 + nbt * (nbt + 1) / 2 + nbs * nbt, nb = 0, tot = 0;
    TL_ALLOC(blk, nblk);
    for (int part = 0; part < 2; part++) {
        tl_mat X = part == 1 ? T : S;
        for (size_t i0 = 0; i0 < X.rows; i0 += bs)
            for (size_t j0 = i0; j0 < X.rows; j0 += bs) {
                size_t ni = X.rows - i0 < bs ? X.rows - i0 : bs, nj = X.rows - j0 < bs ? X.rows - j0 : bs;
                tot += ni * nj;
            }
    }
    TL_ALLOC(D, tot);
    if (!cross) TL_ALLOC(own, ns * nt);
    double *C = cross ? cross : own;
    tot = 0;
    for (int part = 0; part < 3; part++) {
        tl_mat X = part == 1 ? T : S, Y = part == 0 ? S : T;
        bool sym = part < 2;
        for (size_t i0 = 0; i0 < X.rows; i0 += bs)
            for (size_t j0 = sym ? i0 : 0; j0 < Y.rows; j0 += bs) {
                size_t ni = X.rows - i0 < bs ? X.rows - i0 : bs, nj = Y.rows - j0 < bs ? Y.rows - j0 : bs;
                mmd_blk k = {tl_mat_rows(X, i0, ni), tl_mat_rows(Y, j0, nj),
                             sym ? D + tot : C + i0 * nt + j0, sym ? nj : nt, part, sym && i0 == j0};
                blk[nb++] = k;
                if (sym) tot += ni * nj;
            }
    }
    TL_ALLOC(an, bs);
    TL_ALLOC(bn, bs);
    for (size_t b = 0; b < nb; b++) {
        mmd_blk *k = &blk[b];
        if (k->part == 2 && cross) continue; /* reverse validation's distances, clamped */
        tl_mat K = {k->A.rows, k->B.rows, k->ld, k->K};
        tl_row_sqnorms(k->A, an);
        tl_row_sqnorms(k->B, bn);
        if (k->diag) /* symmetric: half the work (then mirrored) */
            TL_TRY(tl_syrk(TL_NOTRANS, -2.0, k->A, 0.0, K));
        else
            TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, -2.0, k->A, k->B, 0.0, K));
        for (size_t i = 0; i < K.rows; i++) {
            double *r = K.data + i * K.ld;
            for (size_t j = 0; j < K.cols; j++) {
                double dd = an[i] + bn[j] + r[j];
                r[j] = dd < 0.0 ? 0.0 : dd;
            }
            if (k->diag) r[i] = 0.0;
        }
    }
    size_t npairs = n * (n - 1) / 2, wcap = npairs / 8 > MEDIAN_SAMPLE ? npairs / 8 : MEDIAN_SAMPLE;
    TL_ALLOC(work, wcap);
    double med = mmd_pair_median(blk, nb, npairs, false, work, wcap, &st);
    if (st == TL_OK && !(med > 0.0)) /* kernel.c: the median over the positive pairs instead */
        med = mmd_pair_median(blk, nb, npairs, true, work, wcap, &st);
    if (st != TL_OK || !(med > 0.0)) goto done; /* tl_mmd reports identical rows */
    double g = 1.0 / med, sum[3] = {0, 0, 0};
    for (size_t b = 0; b < nb; b++) {
        mmd_blk *k = &blk[b];
        double bsum = 0.0;
        for (size_t i = 0; i < k->A.rows; i++) {
            double *r = k->K + i * k->ld, rs = 0.0;
            tl_vexp_scaled(r, -g, r, k->B.rows);
            for (size_t j = 0; j < k->B.rows; j++) rs += r[j];
            bsum += rs;
        }
        if (k->part < 2 && !k->diag) bsum *= 2.0; /* the mirrored block */
        sum[k->part] += bsum;
    }
    double a = (double)ns, c = (double)nt;
    *out = (sum[0] - a) / (a * (a - 1.0)) + (sum[1] - c) / (c * (c - 1.0)) - 2.0 * sum[2] / (a * c);
    declined = false;
done:
    tl_free(D);
    tl_free(own);
    tl_free(work);
    tl_free(an);
    tl_free(bn);
    tl_free(blk);
    return declined;
}

static void mmd_plan_free(mmd_plan *m) {
    tl_free(m->si);
    tl_free(m->ti);
    tl_free(m->spos);
    tl_free(m->tpos);
    tl_free(m->D);
    memset(m, 0, sizeof *m);
}

/* The MMD's rows of S and T (dense): at most max_rows per domain, drawn with the seed in that
 * order; with want_cross, room for their source x target distances. */
static tl_status mmd_plan_make(const tl_guard_params *p, tl_xmat S, tl_xmat T, bool want_cross,
                               mmd_plan *m) {
    tl_status st = TL_OK;
    memset(m, 0, sizeof *m);
    tl_rng rng;
    tl_rng_seed(&rng, p->seed);
    size_t ns = tl_xmat_rows(S), nt = tl_xmat_rows(T);
    TL_TRY(sample_rows(ns, p->max_rows, &rng, &m->si, &m->ms));
    TL_TRY(sample_rows(nt, p->max_rows, &rng, &m->ti, &m->mt));
    if (want_cross) {
        size_t cells;
        TL_CHECK(tl_size_mul(m->ms, m->mt, &cells) == 0, TL_ERR_NOMEM, "guard: MMD sample too big");
        TL_ALLOC(m->spos, ns);
        TL_ALLOC(m->tpos, nt);
        for (size_t i = 0; i < ns; i++) m->spos[i] = -1;
        for (size_t j = 0; j < nt; j++) m->tpos[j] = -1;
        for (size_t a = 0; a < m->ms; a++) m->spos[m->si[a]] = (long)a;
        for (size_t b = 0; b < m->mt; b++) m->tpos[m->ti[b]] = (long)b;
        TL_ALLOC(m->D, cells);
    }
done:
    if (st != TL_OK) mmd_plan_free(m);
    return st;
}

/* MMD^2 of S and T: RBF (median heuristic) on at most max_rows rows per domain when dense (the
 * rows of plan, and its distances when reverse validation filled them), linear on every row when
 * sparse. */
static tl_status guard_mmd(const tl_guard_params *p, tl_xmat S, tl_xmat T, mmd_plan *plan,
                           double *out) {
    tl_status st = TL_OK;
    tl_mat Ss = {0}, Ts = {0};
    tl_mmd_params mp = tl_mmd_params_default();
    mp.seed = p->seed;
    tl_mmd_result r;
    if (S.sparse || T.sparse) {
        mp.kernel = TL_KERNEL_LINEAR;
        TL_TRY(tl_mmd(&mp, S, T, &r));
    } else {
        const size_t *idx[2] = {plan->si, plan->ti}, cnt[2] = {plan->ms, plan->mt};
        tl_xmat in[2] = {S, T};
        tl_mat *sub[2] = {&Ss, &Ts};
        for (int k = 0; k < 2; k++) {
            if (cnt[k] == tl_xmat_rows(in[k])) continue; /* every row, in order: the view */
            TL_TRY(tl_mat_alloc(sub[k], cnt[k], in[k].dense.cols));
            for (size_t i = 0; i < cnt[k]; i++)
                memcpy(sub[k]->data + i * sub[k]->ld, in[k].dense.data + idx[k][i] * in[k].dense.ld,
                       in[k].dense.cols * sizeof(double));
        }
        tl_mat A = Ss.data ? Ss : S.dense, B = Ts.data ? Ts : T.dense;
        if (!mmd_rbf_shared(A, B, plan->filled ? plan->D : NULL, out)) goto done; /* computed */
        TL_TRY(tl_mmd(&mp, tl_xmat_from_dense(A), tl_xmat_from_dense(B), &r));
    }
    *out = r.mmd2;
done:
    tl_mat_free(&Ss);
    tl_mat_free(&Ts);
    return st;
}

static bool same_view(tl_xmat a, tl_xmat b) {
    if (a.sparse != b.sparse || tl_xmat_rows(a) != tl_xmat_rows(b) ||
        tl_xmat_cols(a) != tl_xmat_cols(b))
        return false;
    return a.sparse ? a.csr.values == b.csr.values && a.csr.indptr == b.csr.indptr
                    : a.dense.data == b.dense.data && a.dense.ld == b.dense.ld;
}

/* Entropy (nats) of the label distribution of y (n). */
static tl_status label_entropy(const int *y, size_t n, double *h) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *cnt = NULL, c = 0;
    TL_TRY(tl_labels_unique(y, n, &cls, &cnt, &c));
    double e = 0;
    for (size_t i = 0; i < c; i++) {
        double q = (double)cnt[i] / (double)n;
        if (q > 0) e -= q * log(q);
    }
    *h = e;
done:
    tl_free(cls);
    tl_free(cnt);
    return st;
}

/* The verdict without class labels (regression targets): the source unrelated or the weights
 * concentrated is harmful, as with classes; a mapping that moved the domains apart is unsure;
 * reverse validation is not applicable (it needs classes to relabel the target with). */
static void guard_verdict_unlabelled(const tl_guard_params *p, tl_guard_report *out,
                                     bool weights_only) {
    if (out->unrelated) {
        out->verdict = TL_GUARD_HARMFUL;
        snprintf(out->reason, sizeof out->reason,
                 "the source looks unrelated: its feature correlations do not match the "
                 "target's (Mantel r = %.3f < %.2f, permutation p = %.2g)",
                 out->correspondence, p->min_correspondence, out->correspondence_p);
    } else if (out->ess < p->min_ess) {
        out->verdict = TL_GUARD_HARMFUL;
        snprintf(out->reason, sizeof out->reason,
                 "the weights concentrate on a few samples: effective sample size %.1f%% of the "
                 "source (below %.0f%%)",
                 100 * out->ess, 100 * p->min_ess);
    } else if (!weights_only && out->mmd_after > out->mmd_before) {
        out->verdict = TL_GUARD_UNSURE;
        snprintf(out->reason, sizeof out->reason,
                 "the mapping moved the domains apart (MMD^2 %.3g to %.3g); reverse validation "
                 "does not apply to regression targets",
                 out->mmd_before, out->mmd_after);
    } else {
        out->verdict = TL_GUARD_OK;
        char corr[64];
        if (isnan(out->correspondence))
            snprintf(corr, sizeof corr, "feature correspondence not measurable here");
        else
            snprintf(corr, sizeof corr, "features correspond (r = %.2f)", out->correspondence);
        snprintf(out->reason, sizeof out->reason,
                 "%s, MMD^2 %.3g -> %.3g; reverse validation does not apply to regression "
                 "targets",
                 corr, out->mmd_before, out->mmd_after);
    }
}

/* The half of tl_guard_check that reads only the original spaces (tlx_guard_before, declared in
 * pipeline_internal.h): the feature correspondence, reverse validation and MMD^2 before the
 * transfer. It needs nothing from the method, so tl_transfer_run computes it on a second thread
 * while the method is fitted. Each step seeds its own generator, so the order of the steps, and
 * the thread they run on, change nothing. */
tl_status tlx_guard_before(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                           tlx_guard_pre *pre) {
    tl_status st = TL_OK;
    int *ps = NULL;
    mmd_plan plan_x;
    memset(&plan_x, 0, sizeof plan_x);
    TL_CHECK(p && pre, TL_ERR_INVALID_ARG, "guard: NULL parameters or report");
    memset(pre, 0, sizeof *pre);
    TL_TRY(tl_guard_params_check(p));
    bool classes = ys != NULL;
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
             "guard: needs at least 2 source and 2 target samples (have %zu and %zu)", ns, nt);
    TL_CHECK(tl_xmat_cols(Xs) == tl_xmat_cols(Xt), TL_ERR_SHAPE,
             "guard: source and target differ in feature count (%zu vs %zu before the transfer)",
             tl_xmat_cols(Xs), tl_xmat_cols(Xt));
    pre->ns = ns;
    pre->nt = nt;
    TL_ALLOC(pre->pb, nt);
    TL_ALLOC(ps, ns);
    st = tl_guard_correspondence(p, Xs, Xt, &pre->correspondence, &pre->correspondence_p);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard: feature correspondence");
        goto done;
    }
    /* reverse validation first: with 1-NN its distance pass also gives the MMD's source x
       target distances */
    bool dense_x = !Xs.sparse && !Xt.sparse;
    bool nn1 = classes && p->learner.type == TL_LEARNER_KNN && p->learner.k == 1; /* rv_1nn runs */
    if (dense_x) TL_TRY(mmd_plan_make(p, Xs, Xt, nn1, &plan_x));
    if (classes) {
        st = reverse_validate(&p->learner, Xs, ys, NULL, Xt, p->seed, pre->pb, ps,
                              &pre->rv_before, dense_x ? &plan_x : NULL);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "guard: reverse validation");
            goto done;
        }
    } else {
        pre->rv_before = NAN;
    }
    st = guard_mmd(p, Xs, Xt, &plan_x, &pre->mmd_before);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard (original space)");
        goto done;
    }
    pre->ready = true;
done:
    mmd_plan_free(&plan_x);
    tl_free(ps);
    return st;
}

void tlx_guard_pre_free(tlx_guard_pre *pre) {
    if (!pre) return;
    tl_free(pre->pb);
    memset(pre, 0, sizeof *pre);
}

tl_status tl_guard_check(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                         tl_xmat Zs, const double *ws, tl_xmat Zt, tl_guard_report *out) {
    tlx_guard_pre pre;
    memset(&pre, 0, sizeof pre);
    tl_status st = tlx_guard_after(p, Xs, ys, Xt, Zs, ws, Zt, &pre, out);
    tlx_guard_pre_free(&pre);
    return st;
}

tl_status tlx_guard_after(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                          tl_xmat Zs, const double *ws, tl_xmat Zt, tlx_guard_pre *pre,
                          tl_guard_report *out) {
    tl_status st = TL_OK;
    int *pa = NULL, *ps = NULL;
    mmd_plan plan_z;
    memset(&plan_z, 0, sizeof plan_z);
    TL_CHECK(p && out && pre, TL_ERR_INVALID_ARG, "guard: NULL parameters or report");
    memset(out, 0, sizeof *out);
    TL_TRY(tl_guard_params_check(p));
    bool classes = ys != NULL; /* without class labels (regression targets): no reverse
                                  validation, the verdict rests on the label-free distances */
    size_t ns = tl_xmat_rows(Xs), nt = tl_xmat_rows(Xt);
    TL_CHECK(ns >= 2 && nt >= 2, TL_ERR_EMPTY,
             "guard: needs at least 2 source and 2 target samples (have %zu and %zu)", ns, nt);
    TL_CHECK(tl_xmat_rows(Zs) == ns && tl_xmat_rows(Zt) == nt, TL_ERR_SHAPE,
             "guard: the transferred domains have %zu and %zu rows, the originals %zu and %zu",
             tl_xmat_rows(Zs), tl_xmat_rows(Zt), ns, nt);
    TL_CHECK(tl_xmat_cols(Xs) == tl_xmat_cols(Xt) && tl_xmat_cols(Zs) == tl_xmat_cols(Zt),
             TL_ERR_SHAPE,
             "guard: source and target differ in feature count (%zu vs %zu before the transfer, "
             "%zu vs %zu after)",
             tl_xmat_cols(Xs), tl_xmat_cols(Xt), tl_xmat_cols(Zs), tl_xmat_cols(Zt));
    if (!pre->ready) TL_TRY(tlx_guard_before(p, Xs, ys, Xt, pre));
    TL_CHECK(pre->ns == ns && pre->nt == nt, TL_ERR_SHAPE,
             "guard: the original-space half was computed on %zu and %zu rows, not %zu and %zu",
             pre->ns, pre->nt, ns, nt);
    const int *pb = pre->pb;
    out->correspondence = pre->correspondence;
    out->correspondence_p = pre->correspondence_p;
    out->rv_before = pre->rv_before;
    out->mmd_before = pre->mmd_before;
    TL_ALLOC(pa, nt);
    TL_ALLOC(ps, ns);
    out->unrelated = out->correspondence < p->min_correspondence; /* false for NaN */
    out->ess = 1.0;
    if (ws) {
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < ns; i++) {
            TL_CHECK(isfinite(ws[i]) && ws[i] >= 0, TL_ERR_INVALID_ARG,
                     "guard: source weight %zu is %g (weights must be finite and >= 0)", i + 1,
                     ws[i]);
            s1 += ws[i];
            s2 += ws[i] * ws[i];
        }
        TL_CHECK(s2 > 0, TL_ERR_INVALID_ARG, "guard: every source weight is 0");
        out->ess = s1 * s1 / s2 / (double)ns;
    }
    bool weights_only = same_view(Xs, Zs) && same_view(Xt, Zt);
    bool dense_z = !Zs.sparse && !Zt.sparse;
    bool nn1 = classes && p->learner.type == TL_LEARNER_KNN && p->learner.k == 1; /* rv_1nn runs */
    if (dense_z && !weights_only) TL_TRY(mmd_plan_make(p, Zs, Zt, nn1, &plan_z));
    if (classes) {
        st = reverse_validate(&p->learner, Zs, ys, ws, Zt, p->seed, pa, ps, &out->rv_after,
                              dense_z && !weights_only ? &plan_z : NULL);
    } else {
        out->rv_after = NAN;
    }
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard: reverse validation");
        goto done;
    }
    if (weights_only) {
        out->mmd_after = out->mmd_before;
    } else if ((st = guard_mmd(p, Zs, Zt, &plan_z, &out->mmd_after)) != TL_OK) {
        st = tl_fail_prefix(st, "guard (transferred space)");
        goto done;
    }
    if (!classes) {
        out->agreement = out->prediction_entropy = NAN;
        guard_verdict_unlabelled(p, out, weights_only);
        goto done;
    }
    size_t same = 0;
    for (size_t i = 0; i < nt; i++) same += pa[i] == pb[i];
    out->agreement = (double)same / (double)nt;
    double hs, hp;
    TL_TRY(label_entropy(ys, ns, &hs));
    TL_TRY(label_entropy(pa, nt, &hp));
    out->prediction_entropy = hs > 0 ? hp / hs : NAN;
    double drop = out->rv_before - out->rv_after;
    /* a "slight" fall must exceed RV's own sampling noise: one standard error of an accuracy
       on the ns source rows (held-out RV moves by a row or two from any change of the model) */
    double rv_se = sqrt(out->rv_before * (1 - out->rv_before) / (double)ns);
    if (out->unrelated) {
        out->verdict = TL_GUARD_HARMFUL;
        snprintf(out->reason, sizeof out->reason,
                 "the source looks unrelated: its feature correlations do not match the "
                 "target's (Mantel r = %.3f < %.2f, permutation p = %.2g), so its columns "
                 "probably mean something else",
                 out->correspondence, p->min_correspondence, out->correspondence_p);
    } else if (out->ess < p->min_ess) {
        out->verdict = TL_GUARD_HARMFUL;
        snprintf(out->reason, sizeof out->reason,
                 "the weights concentrate on a few samples: effective sample size %.1f%% of the "
                 "source (below %.0f%%), so the weighted model rests on too few samples",
                 100 * out->ess, 100 * p->min_ess);
    } else if (drop > p->margin) {
        out->verdict = TL_GUARD_HARMFUL;
        snprintf(out->reason, sizeof out->reason,
                 "reverse validation fell from %.1f%% to %.1f%% (more than %.1f points)",
                 100 * out->rv_before, 100 * out->rv_after, 100 * p->margin);
    } else if (drop > rv_se && weights_only) {
        out->verdict = TL_GUARD_UNSURE;
        snprintf(out->reason, sizeof out->reason,
                 "reverse validation fell slightly with the weights (%.1f%% to %.1f%%)",
                 100 * out->rv_before, 100 * out->rv_after);
    } else if (drop > rv_se && !(out->mmd_after < out->mmd_before)) {
        out->verdict = TL_GUARD_UNSURE;
        snprintf(out->reason, sizeof out->reason,
                 "reverse validation fell slightly (%.1f%% to %.1f%%) and the domains got no "
                 "closer (MMD^2 %.3g to %.3g)",
                 100 * out->rv_before, 100 * out->rv_after, out->mmd_before, out->mmd_after);
    } else {
        out->verdict = TL_GUARD_OK;
        char corr[64];
        if (isnan(out->correspondence)) /* a Mantel r needs feature pairs to correlate */
            snprintf(corr, sizeof corr, "feature correspondence not measurable here");
        else
            snprintf(corr, sizeof corr, "features correspond (r = %.2f)", out->correspondence);
        snprintf(out->reason, sizeof out->reason,
                 "%s, reverse validation %.1f%% -> %.1f%%, MMD^2 %.3g -> %.3g", corr,
                 100 * out->rv_before, 100 * out->rv_after, out->mmd_before, out->mmd_after);
    }
done:
    mmd_plan_free(&plan_z);
    tl_free(pa);
    tl_free(ps);
    return st;
}

/* ---- a few labelled target rows ---- */

/* P(X >= k) for X ~ Binomial(n, q). */
static double binom_upper(size_t k, size_t n, double q) {
    if (k == 0) return 1.0;
    if (q <= 0) return 0.0;
    if (q >= 1) return 1.0;
    double s = 0, lq = log(q), l1q = log1p(-q), ln = lgamma((double)n + 1);
    for (size_t i = k; i <= n; i++)
        s += exp(ln - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + (double)i * lq +
                 (double)(n - i) * l1q);
    return fmin(1.0, s);
}

tl_status tl_guard_labelled(const tl_guard_params *p, const int *y, const int *pred, size_t n,
                            double target_only, tl_guard_labelled_report *out) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *cnt = NULL, c = 0;
    TL_CHECK(p && out, TL_ERR_INVALID_ARG, "guard: NULL parameters or report");
    memset(out, 0, sizeof *out);
    TL_TRY(tl_guard_params_check(p));
    TL_CHECK(y && pred, TL_ERR_LABEL, "guard: the labelled rows' labels or predictions are missing");
    TL_CHECK(n >= 1, TL_ERR_EMPTY, "guard: no labelled target rows");
    TL_CHECK(isnan(target_only) || (target_only >= 0 && target_only <= 1), TL_ERR_INVALID_ARG,
             "guard: target-only accuracy %g is not in [0, 1]", target_only);
    TL_TRY(tl_labels_unique(y, n, &cls, &cnt, &c));
    size_t top = 0, ok = 0;
    for (size_t i = 0; i < c; i++) top = cnt[i] > top ? cnt[i] : top;
    for (size_t i = 0; i < n; i++) ok += pred[i] == y[i];
    out->n = n;
    out->accuracy = (double)ok / (double)n;
    out->chance = (double)top / (double)n;
    out->p_above_chance = binom_upper(ok, n, out->chance);
    out->target_only = target_only;
    out->z_vs_target_only = NAN;
    bool below_to = false;
    if (!isnan(target_only)) {
        double a = out->accuracy, t = target_only;
        double se = sqrt((a * (1 - a) + t * (1 - t)) / (double)n);
        double gap = t - a;
        out->z_vs_target_only = se > 0 ? gap / se : (gap > 0 ? INFINITY : gap < 0 ? -INFINITY : 0);
        double pz = 0.5 * erfc(out->z_vs_target_only / sqrt(2.0)); /* one-sided */
        below_to = gap > p->margin && pz < p->alpha;
    }
    bool at_chance = out->p_above_chance > p->alpha;
    out->harmful = at_chance || below_to;
    if (at_chance)
        snprintf(out->reason, sizeof out->reason,
                 "on %zu labelled target rows the source-trained model is right %.1f%% of the "
                 "time, not significantly above chance (%.1f%%, binomial p = %.2g): these rows "
                 "do not show that what was learned on the source carries over to the target",
                 n, 100 * out->accuracy, 100 * out->chance, out->p_above_chance);
    else if (below_to)
        snprintf(out->reason, sizeof out->reason,
                 "on %zu labelled target rows the source-trained model (%.1f%%) is worse than "
                 "a learner trained on those rows alone (%.1f%%, z = %.2f)",
                 n, 100 * out->accuracy, 100 * target_only, out->z_vs_target_only);
    else
        snprintf(out->reason, sizeof out->reason,
                 "on %zu labelled target rows the source-trained model is right %.1f%% of the "
                 "time (chance %.1f%%, p = %.2g)%s",
                 n, 100 * out->accuracy, 100 * out->chance, out->p_above_chance,
                 isnan(target_only) ? "" : ", not worse than the target-only learner");
done:
    tl_free(cls);
    tl_free(cnt);
    return st;
}
