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
 * difference of two accuracies on n rows each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
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
    tl_mat_fill(A, 0);
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

/* Into B (m, kk): the kept columns of A, centred and divided by sd sqrt(m). */
static void standardise(tl_mat A, const double *mean, const double *sd, const unsigned char *keep,
                        tl_mat B) {
    double sm = sqrt((double)A.rows);
    for (size_t r = 0; r < A.rows; r++) {
        size_t o = 0;
        for (size_t q = 0; q < A.cols; q++)
            if (keep[q]) TL_AT(B, r, o++) = (TL_AT(A, r, q) - mean[q]) / (sd[q] * sm);
    }
}

tl_status tl_guard_correspondence(const tl_guard_params *p, tl_xmat Xs, tl_xmat Xt, double *r_out,
                                  double *p_out) {
    tl_status st = TL_OK;
    size_t *rs = NULL, *rt = NULL, *nzs = NULL, *nzt = NULL, *cols = NULL, *perm = NULL;
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
    TL_TRY(tl_mat_alloc(&Bs, ms, kk));
    TL_TRY(tl_mat_alloc(&Bt, mt, kk));
    standardise(As, mean, sd, keep, Bs);
    standardise(At, mean + k, sd + k, keep, Bt);
    tl_mat_free(&As);
    tl_mat_free(&At);
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
        TL_ALLOC(perm, kk);
        for (size_t i = 0; i < kk; i++) perm[i] = i;
        size_t ge = 0;
        for (size_t b = 0; b < p->permutations; b++) {
            tl_rng_shuffle(&rng, perm, kk);
            double s = 0;
            for (size_t i = 0; i < kk; i++) {
                const double *crow = Ct.data + perm[i] * Ct.ld;
                for (size_t j = i + 1; j < kk; j++) s += TL_AT(Cs, i, j) * crow[perm[j]];
            }
            double rp = (s / npair - ma * mb) / den;
            ge += rp >= r - 1e-12;
        }
        *p_out = (1.0 + (double)ge) / (1.0 + (double)p->permutations);
    }
done:
    tl_free(rs);
    tl_free(rt);
    tl_free(nzs);
    tl_free(nzt);
    tl_free(cols);
    tl_free(perm);
    tl_free(pos);
    tl_free(cs);
    tl_free(mean);
    tl_free(sd);
    tl_free(keep);
    tl_mat_free(&As);
    tl_mat_free(&At);
    tl_mat_free(&Bs);
    tl_mat_free(&Bt);
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

static tl_status reverse_validate(const tl_learner_params *lp, tl_xmat S, const int *ys,
                                  const double *ws, tl_xmat T, uint64_t seed, int *pt, int *ps,
                                  double *rv) {
    tl_status st = TL_OK;
    tl_learner *f = NULL, *g = NULL;
    tl_dataset *all = NULL, *tr = NULL, *te = NULL;
    size_t ns = tl_xmat_rows(S), nt = tl_xmat_rows(T), *perm = NULL, *idx = NULL, ok = 0;
    int *yk = NULL; /* (nt) the fold model's target labels */
    TL_TRY(tl_learner_create(lp, &f));
    TL_TRY(tl_learner_fit(f, S, ys, ws));
    TL_TRY(tl_learner_predict(f, T, pt));
    tl_learner_free(f);
    f = NULL;
    TL_ALLOC(perm, ns);
    TL_ALLOC(idx, ns);
    for (size_t i = 0; i < ns; i++) perm[i] = i;
    tl_rng rng;
    tl_rng_seed(&rng, seed ^ 0x5256u); /* "RV" */
    tl_rng_shuffle(&rng, perm, ns);
    bool folds = ns >= 2 * RV_FOLDS;
    size_t m, q;
    for (size_t k = 0; k < RV_FOLDS && folds; k++) folds = rv_fold(perm, ns, k, ys, idx, &m, &q);
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

/* MMD^2 of S and T: RBF (median heuristic) on at most max_rows rows per domain when dense,
 * linear on every row when sparse. */
static tl_status guard_mmd(const tl_guard_params *p, tl_xmat S, tl_xmat T, double *out) {
    tl_status st = TL_OK;
    tl_mat Ss = {0}, Ts = {0};
    size_t *ri = NULL;
    tl_mmd_params mp = tl_mmd_params_default();
    mp.seed = p->seed;
    tl_mmd_result r;
    if (S.sparse || T.sparse) {
        mp.kernel = TL_KERNEL_LINEAR;
        TL_TRY(tl_mmd(&mp, S, T, &r));
    } else {
        tl_rng rng;
        tl_rng_seed(&rng, p->seed);
        tl_xmat in[2] = {S, T};
        tl_mat *sub[2] = {&Ss, &Ts};
        for (int k = 0; k < 2; k++) {
            size_t n = tl_xmat_rows(in[k]), m;
            if (n <= p->max_rows) continue;
            TL_TRY(sample_rows(n, p->max_rows, &rng, &ri, &m));
            TL_TRY(tl_mat_alloc(sub[k], m, in[k].dense.cols));
            for (size_t i = 0; i < m; i++)
                memcpy(sub[k]->data + i * sub[k]->ld, in[k].dense.data + ri[i] * in[k].dense.ld,
                       in[k].dense.cols * sizeof(double));
            tl_free(ri);
            ri = NULL;
        }
        TL_TRY(tl_mmd(&mp, Ss.data ? tl_xmat_from_dense(Ss) : S,
                      Ts.data ? tl_xmat_from_dense(Ts) : T, &r));
    }
    *out = r.mmd2;
done:
    tl_mat_free(&Ss);
    tl_mat_free(&Ts);
    tl_free(ri);
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

tl_status tl_guard_check(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                         tl_xmat Zs, const double *ws, tl_xmat Zt, tl_guard_report *out) {
    tl_status st = TL_OK;
    int *pb = NULL, *pa = NULL, *ps = NULL;
    TL_CHECK(p && out, TL_ERR_INVALID_ARG, "guard: NULL parameters or report");
    memset(out, 0, sizeof *out);
    TL_TRY(tl_guard_params_check(p));
    TL_CHECK(ys, TL_ERR_LABEL, "guard: the source labels are missing");
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
    TL_ALLOC(pb, nt);
    TL_ALLOC(pa, nt);
    TL_ALLOC(ps, ns);
    st = tl_guard_correspondence(p, Xs, Xt, &out->correspondence, &out->correspondence_p);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard: feature correspondence");
        goto done;
    }
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
    st = guard_mmd(p, Xs, Xt, &out->mmd_before);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard (original space)");
        goto done;
    }
    bool weights_only = same_view(Xs, Zs) && same_view(Xt, Zt);
    if (weights_only) {
        out->mmd_after = out->mmd_before;
    } else if ((st = guard_mmd(p, Zs, Zt, &out->mmd_after)) != TL_OK) {
        st = tl_fail_prefix(st, "guard (transferred space)");
        goto done;
    }
    st = reverse_validate(&p->learner, Xs, ys, NULL, Xt, p->seed, pb, ps, &out->rv_before);
    if (st == TL_OK)
        st = reverse_validate(&p->learner, Zs, ys, ws, Zt, p->seed, pa, ps, &out->rv_after);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "guard: reverse validation");
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
        snprintf(out->reason, sizeof out->reason,
                 "features correspond (r = %.2f), reverse validation %.1f%% -> %.1f%%, MMD^2 "
                 "%.3g -> %.3g",
                 out->correspondence, 100 * out->rv_before, 100 * out->rv_after, out->mmd_before,
                 out->mmd_after);
    }
done:
    tl_free(pb);
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
                 "time, not above chance (%.1f%%, binomial p = %.2g): the source's classes do not "
                 "match the target's",
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
