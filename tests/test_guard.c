/* guard (negative-transfer check): a transfer that changes nothing is "ok" with equal reverse
 * validation; a projection that keeps only a non-discriminative direction, or weights that drop
 * a whole class, is "harmful"; a transfer that removes a mean shift is "ok" and brings the domains
 * closer; feature correspondence (Mantel r of the two feature-correlation matrices) against a
 * naive reference, invariant to per-domain column scaling, high for domains sharing a latent
 * structure and ~0 (flagged "unrelated") when the target's columns are shuffled, identical for
 * dense and sparse storage, with constant columns dropped and the max_features choice; the
 * labelled check's exact binomial tail and its two harm rules; bad inputs fail with their
 * messages. */
#include "harness.h"
#include "tl.h"
#include "tl/guard.h"

static tl_mat gauss2(size_t n, double shift, int *y, tl_rng *r) {
    tl_mat m = tl_mat_view(malloc(n * 2 * sizeof(double)), n, 2);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 2);
        if (y) y[i] = c;
        TL_AT(m, i, 0) = (c ? 1.5 : -1.5) + 0.7 * tl_rng_normal(r) + shift;
        TL_AT(m, i, 1) = tl_rng_normal(r) + shift;
    }
    return m;
}

static tl_xmat xd(tl_mat m) { return tl_xmat_from_dense(m); }

TEST(identity_is_ok) {
    tl_rng r;
    tl_rng_seed(&r, 1);
    int ys[200];
    tl_mat S = gauss2(200, 0, ys, &r), T = gauss2(150, 0.5, NULL, &r);
    tl_guard_params p = tl_guard_params_default();
    tl_guard_report g;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g));
    CHECK(g.verdict == TL_GUARD_OK);
    CHECK_NEAR(g.rv_before, g.rv_after, 0);
    CHECK_NEAR(g.agreement, 1.0, 0);
    CHECK(g.rv_before > 0.9);
    CHECK(strcmp(tl_guard_verdict_name(g.verdict), "ok") == 0 && g.reason[0]);
    free(S.data);
    free(T.data);
}

TEST(harmful_transfers_are_flagged) {
    tl_rng r;
    tl_rng_seed(&r, 2);
    int ys[200];
    tl_mat S = gauss2(200, 0, ys, &r), T = gauss2(160, 0, NULL, &r);
    tl_guard_params p = tl_guard_params_default();
    tl_guard_report g;
    /* a subspace that keeps only the non-discriminative direction (a bad projection); note a
     * mere reflection of the target would not be caught: no label-free check can see it */
    tl_mat Zs = tl_mat_cols(S, 1, 1), Zt = tl_mat_cols(T, 1, 1);
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(Zs), NULL, xd(Zt), &g));
    CHECK_MSG(g.verdict == TL_GUARD_HARMFUL, "verdict %s: %s", tl_guard_verdict_name(g.verdict),
              g.reason);
    CHECK(g.rv_before > 0.9 && g.rv_after < 0.7);
    /* weights that all but drop class 1: reverse validation sees it (the ESS rule is off) */
    double w[200];
    for (int i = 0; i < 200; i++) w[i] = ys[i] ? 1e-6 : 1.0;
    p.min_ess = 0;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), w, xd(T), &g));
    CHECK_MSG(g.verdict == TL_GUARD_HARMFUL, "verdict %s: %s", tl_guard_verdict_name(g.verdict),
              g.reason);
    CHECK(strstr(g.reason, "fell") != NULL);
    CHECK_NEAR(g.ess, (100 + 1e-4) * (100 + 1e-4) / (100 + 1e-10) / 200, 1e-12);
    /* weights on 2 rows in 10 (both classes kept): ESS = 20 %, flagged by concentration */
    p = tl_guard_params_default();
    for (int i = 0; i < 200; i++) w[i] = i % 10 < 1 || i % 10 == 5 ? 3.0 : 0.0;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), w, xd(T), &g));
    CHECK_NEAR(g.ess, 0.2, 1e-12);
    CHECK_MSG(g.verdict == TL_GUARD_HARMFUL && strstr(g.reason, "effective sample size"),
              "verdict %s: %s", tl_guard_verdict_name(g.verdict), g.reason);
    /* uniform weights: ESS 1, the same verdict as no weights */
    for (int i = 0; i < 200; i++) w[i] = 2.0;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), w, xd(T), &g));
    CHECK_NEAR(g.ess, 1.0, 1e-12);
    CHECK_MSG(g.verdict == TL_GUARD_OK, "verdict %s: %s", tl_guard_verdict_name(g.verdict), g.reason);
    w[3] = -1;
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), w, xd(T), &g), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("weight 4");
    free(S.data);
    free(T.data);
}

TEST(mean_alignment_is_ok_and_closer) {
    tl_rng r;
    tl_rng_seed(&r, 3);
    int ys[200];
    tl_mat S = gauss2(200, 0, ys, &r), T = gauss2(200, 2.0, NULL, &r);
    tl_mat Ta = tl_mat_view(malloc(200 * 2 * sizeof(double)), 200, 2);
    for (size_t i = 0; i < 200; i++)
        for (size_t j = 0; j < 2; j++) TL_AT(Ta, i, j) = TL_AT(T, i, j) - 2.0;
    tl_guard_params p = tl_guard_params_default();
    tl_guard_report g;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(Ta), &g));
    CHECK_MSG(g.verdict == TL_GUARD_OK, "verdict %s: %s", tl_guard_verdict_name(g.verdict), g.reason);
    CHECK(g.mmd_after < g.mmd_before);
    CHECK(g.rv_after >= g.rv_before - 0.02);
    free(S.data);
    free(T.data);
    free(Ta.data);
}

/* n rows of d features from 3 latent factors with a fixed loading matrix (shared "meaning" of the
 * columns), plus per-domain column shift/scale and noise; colperm (d) relabels the columns (NULL:
 * identity). */
static tl_mat latent(size_t n, size_t d, double shift, const size_t *colperm, tl_rng *r) {
    tl_mat m = tl_mat_view(malloc(n * d * sizeof(double)), n, d);
    tl_rng lr;
    tl_rng_seed(&lr, 77); /* the same loadings for every domain */
    double A[3][64];
    for (int f = 0; f < 3; f++)
        for (size_t j = 0; j < d; j++) A[f][j] = tl_rng_normal(&lr);
    for (size_t i = 0; i < n; i++) {
        double z[3] = {tl_rng_normal(r), tl_rng_normal(r), tl_rng_normal(r)};
        for (size_t j = 0; j < d; j++) {
            size_t c = colperm ? colperm[j] : j;
            double v = z[0] * A[0][c] + z[1] * A[1][c] + z[2] * A[2][c] + 0.5 * tl_rng_normal(r);
            TL_AT(m, i, j) = (1.0 + shift * (double)(j % 3)) * v + shift * (double)j;
        }
    }
    return m;
}

/* Naive reference: correlation matrices by loops over the columns in use, Pearson r of the upper
 * off-diagonal entries. use (d): 1 = column taken. */
static double naive_r(tl_mat S, tl_mat T, const int *use) {
    size_t d = S.cols, k = 0, idx[64];
    for (size_t j = 0; j < d; j++)
        if (use[j]) idx[k++] = j;
    double cs[64][64], ct[64][64];
    tl_mat M[2] = {S, T};
    for (int w = 0; w < 2; w++) {
        double(*c)[64] = w ? ct : cs;
        tl_mat X = M[w];
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) {
                double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
                for (size_t i = 0; i < X.rows; i++) ma += TL_AT(X, i, idx[a]), mb += TL_AT(X, i, idx[b]);
                ma /= (double)X.rows;
                mb /= (double)X.rows;
                for (size_t i = 0; i < X.rows; i++) {
                    double u = TL_AT(X, i, idx[a]) - ma, v = TL_AT(X, i, idx[b]) - mb;
                    sab += u * v, saa += u * u, sbb += v * v;
                }
                c[a][b] = sab / sqrt(saa * sbb);
            }
    }
    double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = a + 1; b < k; b++) {
            double x = cs[a][b], y = ct[a][b];
            n++, sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
        }
    double ma = sa / n, mb = sb / n;
    return (sab / n - ma * mb) / sqrt((saa / n - ma * ma) * (sbb / n - mb * mb));
}

TEST(correspondence_matches_naive_and_is_scale_invariant) {
    tl_rng r;
    tl_rng_seed(&r, 5);
    size_t d = 12;
    tl_mat S = latent(300, d, 0, NULL, &r), T = latent(250, d, 0.7, NULL, &r);
    tl_guard_params p = tl_guard_params_default();
    double rr, pv;
    CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &rr, &pv));
    int use[64];
    for (size_t j = 0; j < d; j++) use[j] = 1;
    double ref = naive_r(S, T, use);
    CHECK_NEAR(rr, ref, 1e-10);
    CHECK_MSG(rr > 0.8, "shared loadings give r = %g", rr);
    CHECK_NEAR(pv, 1.0 / 100, 1e-12); /* no permutation reaches it */
    /* per-domain shift and positive scale of each column changes nothing */
    for (size_t i = 0; i < T.rows; i++)
        for (size_t j = 0; j < d; j++) TL_AT(T, i, j) = 3.0 * (double)(j + 1) * TL_AT(T, i, j) - 5.0;
    double r2;
    CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &r2, NULL));
    CHECK_NEAR(r2, rr, 1e-10);
    /* a constant column (in one domain) is dropped, as the reference does */
    for (size_t i = 0; i < T.rows; i++) TL_AT(T, i, 4) = 2.5;
    use[4] = 0;
    CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &r2, NULL));
    CHECK_NEAR(r2, naive_r(S, T, use), 1e-10);
    free(S.data);
    free(T.data);
}

TEST(unrelated_source_is_flagged) {
    tl_rng r;
    tl_rng_seed(&r, 6);
    size_t d = 16, perm[16];
    for (size_t j = 0; j < d; j++) perm[j] = j;
    tl_rng_shuffle(&r, perm, d);
    int ys[300];
    tl_mat S = latent(300, d, 0, NULL, &r), T = latent(300, d, 0, perm, &r);
    for (size_t i = 0; i < 300; i++) ys[i] = TL_AT(S, i, 0) > 0;
    tl_guard_params p = tl_guard_params_default();
    tl_guard_report g;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g));
    CHECK_MSG(fabs(g.correspondence) < 0.3, "shuffled columns give r = %g", g.correspondence);
    CHECK(g.correspondence_p > 0.05);
    CHECK(g.unrelated);
    CHECK_MSG(g.verdict == TL_GUARD_HARMFUL, "verdict %s: %s", tl_guard_verdict_name(g.verdict),
              g.reason);
    CHECK(strstr(g.reason, "unrelated") != NULL);
    /* the same columns in the same order: related, not flagged for it */
    tl_mat T2 = latent(300, d, 0.3, NULL, &r);
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T2), xd(S), NULL, xd(T2), &g));
    CHECK(g.correspondence > 0.8 && !g.unrelated && g.verdict == TL_GUARD_OK);
    CHECK_NEAR(g.prediction_entropy, 1.0, 0.1);
    /* the threshold is a parameter */
    p.min_correspondence = -1;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g));
    CHECK(!g.unrelated);
    free(S.data);
    free(T.data);
    free(T2.data);
}

/* CSR copy of a dense matrix (zeros dropped). */
typedef struct {
    size_t ip[401];
    int32_t ix[400 * 16];
    double v[400 * 16];
} csr_buf;
static tl_csr to_csr(tl_mat X, csr_buf *b) {
    size_t e = 0;
    b->ip[0] = 0;
    for (size_t i = 0; i < X.rows; i++) {
        for (size_t j = 0; j < X.cols; j++)
            if (TL_AT(X, i, j) != 0) b->ix[e] = (int32_t)j, b->v[e++] = TL_AT(X, i, j);
        b->ip[i + 1] = e;
    }
    tl_csr c = {X.rows, X.cols, e, b->ip, b->ix, b->v};
    return c;
}

TEST(correspondence_sparse_and_feature_choice) {
    tl_rng r;
    tl_rng_seed(&r, 7);
    size_t d = 10;
    tl_mat S = latent(200, d, 0, NULL, &r), T = latent(180, d, 0, NULL, &r);
    /* columns 0..4 are rarely non-zero (a rare word), 5..9 always */
    for (size_t i = 0; i < 200; i++)
        for (size_t j = 0; j < 5; j++)
            if (i % 10) TL_AT(S, i, j) = 0;
    for (size_t i = 0; i < 180; i++)
        for (size_t j = 0; j < 5; j++)
            if (i % 7) TL_AT(T, i, j) = 0;
    static csr_buf bs, bt;
    tl_csr cs = to_csr(S, &bs), ct = to_csr(T, &bt);
    tl_guard_params p = tl_guard_params_default();
    double rd, rs, pd, ps;
    CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &rd, &pd));
    CHECK_OK(tl_guard_correspondence(&p, tl_xmat_from_csr(cs), tl_xmat_from_csr(ct), &rs, &ps));
    CHECK_NEAR(rs, rd, 1e-10);
    CHECK_NEAR(ps, pd, 0);
    int use[64] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_NEAR(rd, naive_r(S, T, use), 1e-10);
    /* max_features = 5 keeps the columns non-zero in most rows of both domains: 5..9 */
    p.max_features = 5;
    int dense_only[64] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    CHECK_OK(tl_guard_correspondence(&p, tl_xmat_from_csr(cs), tl_xmat_from_csr(ct), &rs, NULL));
    CHECK_NEAR(rs, naive_r(S, T, dense_only), 1e-10);
    CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &rd, NULL));
    CHECK_NEAR(rd, rs, 1e-10);
    /* max_rows below the row count samples rows: still strongly related, differs from all rows */
    p.max_features = 1000;
    p.max_rows = 100;
    CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &rs, NULL));
    CHECK(rs > 0.5 && fabs(rs - naive_r(S, T, use)) > 1e-9);
    /* fewer than 3 varying features: NaN, and no verdict from it */
    tl_mat S2 = tl_mat_cols(S, 0, 2), T2 = tl_mat_cols(T, 0, 2);
    p = tl_guard_params_default();
    CHECK_OK(tl_guard_correspondence(&p, xd(S2), xd(T2), &rs, &ps));
    CHECK(isnan(rs) && isnan(ps));
    tl_mat T3 = latent(180, d, 0, NULL, &r);
    CHECK_STATUS(tl_guard_correspondence(&p, xd(S), xd(tl_mat_cols(T3, 0, 9)), &rs, NULL),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("features");
    free(S.data);
    free(T.data);
    free(T3.data);
}

/* CSR copy of a dense matrix of any size (zeros dropped), malloc'd: free ip, ix, v. */
static tl_csr to_csr_alloc(tl_mat X) {
    size_t nnz = 0;
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) nnz += TL_AT(X, i, j) != 0;
    size_t *ip = malloc((X.rows + 1) * sizeof *ip);
    int32_t *ix = malloc((nnz ? nnz : 1) * sizeof *ix);
    double *v = malloc((nnz ? nnz : 1) * sizeof *v);
    size_t e = 0;
    ip[0] = 0;
    for (size_t i = 0; i < X.rows; i++) {
        for (size_t j = 0; j < X.cols; j++)
            if (TL_AT(X, i, j) != 0) ix[e] = (int32_t)j, v[e++] = TL_AT(X, i, j);
        ip[i + 1] = e;
    }
    tl_csr c = {X.rows, X.cols, e, ip, ix, v};
    return c;
}

static void csr_free(tl_csr c) {
    free((void *)c.indptr);
    free((void *)c.indices);
    free((void *)c.values);
}

/* Rows on a coarse grid (many exact ties and duplicated rows), 4 classes. */
static tl_mat grid_rows(size_t n, size_t d, int *y, double shift, tl_rng *r) {
    tl_mat m = tl_mat_view(malloc(n * d * sizeof(double)), n, d);
    for (size_t i = 0; i < n; i++) {
        int c = (int)tl_rng_below(r, 4);
        if (y) y[i] = c;
        for (size_t j = 0; j < d; j++)
            TL_AT(m, i, j) = (double)((int)tl_rng_below(r, 3) + (j == (size_t)c)) + shift;
    }
    return m;
}

/* With 1-NN, reverse validation runs from one distance pass on dense data (guard.c, rv_1nn); on
 * CSR data the learners run it (the k-NN gives the same neighbours for every storage). The two
 * must agree exactly, ties (duplicated rows), zero weights and the in-sample case included. */
TEST(reverse_validation_1nn_matches_the_learners) {
    tl_rng r;
    tl_rng_seed(&r, 11);
    size_t cases[][3] = {{120, 90, 6}, {3, 40, 5}, {257, 300, 3}};
    for (size_t c = 0; c < 3; c++) {
        size_t ns = cases[c][0], nt = cases[c][1], d = cases[c][2];
        int *ys = malloc(ns * sizeof *ys);
        double *w = malloc(ns * sizeof *w);
        tl_mat S = grid_rows(ns, d, ys, 0, &r), T = grid_rows(nt, d, NULL, 0.5, &r);
        tl_mat Zs = grid_rows(ns, 2, NULL, 0, &r), Zt = grid_rows(nt, 2, NULL, 0, &r);
        for (size_t i = 0; i < ns; i++) w[i] = i % 5 == 2 ? 0.0 : 1.0 + (double)(i % 3);
        tl_csr cs = to_csr_alloc(S), ct = to_csr_alloc(T), czs = to_csr_alloc(Zs),
               czt = to_csr_alloc(Zt);
        tl_guard_params p = tl_guard_params_default();
        p.learner = tl_learner_params_default(TL_LEARNER_KNN);
        p.learner.k = 1;
        for (int weighted = 0; weighted < 2; weighted++) {
            const double *ws = weighted ? w : NULL;
            tl_guard_report a, b;
            CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(Zs), ws, xd(Zt), &a));
            CHECK_OK(tl_guard_check(&p, tl_xmat_from_csr(cs), ys, tl_xmat_from_csr(ct),
                                    tl_xmat_from_csr(czs), ws, tl_xmat_from_csr(czt), &b));
            CHECK_MSG(a.rv_before == b.rv_before && a.rv_after == b.rv_after,
                      "case %zu weighted %d: RV %.17g -> %.17g (dense) vs %.17g -> %.17g (CSR)", c,
                      weighted, a.rv_before, a.rv_after, b.rv_before, b.rv_after);
            CHECK(a.agreement == b.agreement);
            CHECK(a.prediction_entropy == b.prediction_entropy);
        }
        csr_free(cs);
        csr_free(ct);
        csr_free(czs);
        csr_free(czt);
        free(S.data);
        free(T.data);
        free(Zs.data);
        free(Zt.data);
        free(ys);
        free(w);
    }
}

/* The Mantel p-value against the sequential loop it replaced (the permutations drawn in turn with
 * the guard's seed, every cross sum added in order), on a related pair (p = 1 / 100) and on a
 * column-shuffled one whose p is in the middle of its range. */
TEST(mantel_p_matches_the_sequential_loop) {
    tl_rng r;
    tl_rng_seed(&r, 12);
    size_t d = 40, cp[40];
    for (size_t j = 0; j < d; j++) cp[j] = j;
    tl_rng_shuffle(&r, cp, d);
    for (int shuffled = 0; shuffled < 2; shuffled++) {
        tl_mat S = latent(200, d, 0, NULL, &r), T = latent(180, d, 0.2, shuffled ? cp : NULL, &r);
        tl_guard_params p = tl_guard_params_default();
        double rr, pv;
        CHECK_OK(tl_guard_correspondence(&p, xd(S), xd(T), &rr, &pv));
        /* the reference: correlation matrices, then 99 permutations from the guard's stream */
        double cs[40][40], ct[40][40];
        tl_mat M[2] = {S, T};
        for (int w = 0; w < 2; w++) {
            double(*cm)[40] = w ? ct : cs, mean[40], sd[40];
            tl_mat X = M[w];
            for (size_t j = 0; j < d; j++) {
                double s = 0, v = 0;
                for (size_t i = 0; i < X.rows; i++) s += TL_AT(X, i, j);
                mean[j] = s / (double)X.rows;
                for (size_t i = 0; i < X.rows; i++)
                    v += (TL_AT(X, i, j) - mean[j]) * (TL_AT(X, i, j) - mean[j]);
                sd[j] = sqrt(v / (double)X.rows);
            }
            for (size_t a = 0; a < d; a++)
                for (size_t b = 0; b < d; b++) {
                    double s = 0;
                    for (size_t i = 0; i < X.rows; i++)
                        s += (TL_AT(X, i, a) - mean[a]) * (TL_AT(X, i, b) - mean[b]);
                    cm[a][b] = s / ((double)X.rows * sd[a] * sd[b]);
                }
        }
        double np = (double)d * (double)(d - 1) / 2, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
        for (size_t a = 0; a < d; a++)
            for (size_t b = a + 1; b < d; b++) {
                double x = cs[a][b], y = ct[a][b];
                sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
            }
        double ma = sa / np, mb = sb / np, den = sqrt((saa / np - ma * ma) * (sbb / np - mb * mb));
        double r0 = (sab / np - ma * mb) / den;
        CHECK_NEAR(rr, r0, 1e-10);
        tl_rng pr;
        tl_rng_seed(&pr, p.seed ^ 0x9e3779b97f4a7c15ULL); /* guard.c's stream (no row sampling) */
        size_t perm[40], ge = 0;
        for (size_t j = 0; j < d; j++) perm[j] = j;
        for (size_t b = 0; b < p.permutations; b++) {
            tl_rng_shuffle(&pr, perm, d);
            double s = 0;
            for (size_t i = 0; i < d; i++)
                for (size_t j = i + 1; j < d; j++) s += cs[i][j] * ct[perm[i]][perm[j]];
            ge += (s / np - ma * mb) / den >= r0 - 1e-12;
        }
        double pref = (1.0 + (double)ge) / (1.0 + (double)p.permutations);
        CHECK_MSG(pv == pref, "shuffled %d: p = %g, the sequential loop gives %g", shuffled, pv, pref);
        if (shuffled) CHECK_MSG(pv > 0.05 && pv < 0.95, "p = %g is not mid-range", pv);
        free(S.data);
        free(T.data);
    }
}

/* The guard's RBF MMD (distances shared by the median heuristic and the kernel sums) equals
 * tl_mmd's on the same rows: a sample large enough for the one-pass median, an odd pair count,
 * and rows that coincide in over half the pairs (the median over the positive pairs). */
TEST(guard_mmd_equals_tl_mmd) {
    tl_rng r;
    tl_rng_seed(&r, 13);
    size_t cases[][3] = {{300, 250, 20}, {201, 2, 7}, {150, 140, 3}};
    for (size_t c = 0; c < 3; c++) {
        size_t ns = cases[c][0], nt = cases[c][1], d = cases[c][2];
        int *ys = malloc(ns * sizeof *ys);
        tl_mat S = c == 2 ? grid_rows(ns, d, ys, 0, &r) : latent(ns, d, 0, NULL, &r);
        tl_mat T = c == 2 ? grid_rows(nt, d, NULL, 0, &r) : latent(nt, d, 0.4, NULL, &r);
        if (c == 2) /* most rows equal: over half of the pairs at distance 0 */
            for (size_t i = 0; i < ns; i++)
                for (size_t j = 0; j < d; j++)
                    if (i % 10) TL_AT(S, i, j) = TL_AT(T, i % 10, j) = 1.0;
        for (size_t i = 0; i < ns; i++) ys[i] = (int)(i % 2);
        tl_mmd_params mp = tl_mmd_params_default();
        tl_mmd_result m;
        CHECK_OK(tl_mmd(&mp, xd(S), xd(T), &m));
        /* logreg: the MMD computes every distance; 1-NN: reverse validation's pass hands over
           the source x target ones */
        for (int nn = 0; nn < 2; nn++) {
            tl_guard_params p = tl_guard_params_default();
            if (nn) p.learner = tl_learner_params_default(TL_LEARNER_KNN), p.learner.k = 1;
            tl_guard_report g;
            CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g));
            CHECK_MSG(fabs(g.mmd_before - m.mmd2) <= 1e-13 * fabs(m.mmd2),
                      "case %zu, 1-NN %d: %.17g vs %.17g", c, nn, g.mmd_before, m.mmd2);
        }
        free(S.data);
        free(T.data);
        free(ys);
    }
}

TEST(labelled_check) {
    tl_guard_params p = tl_guard_params_default();
    tl_guard_labelled_report L;
    int y[40], pr[40];
    /* two classes, 5 + 5: chance 0.5; 8 right: P(X >= 8) = (45 + 10 + 1) / 1024 */
    for (int i = 0; i < 10; i++) y[i] = i % 2, pr[i] = i < 8 ? y[i] : 1 - y[i];
    CHECK_OK(tl_guard_labelled(&p, y, pr, 10, NAN, &L));
    CHECK_NEAR(L.chance, 0.5, 0);
    CHECK_NEAR(L.accuracy, 0.8, 1e-15);
    CHECK_NEAR(L.p_above_chance, 56.0 / 1024, 1e-12);
    CHECK(L.harmful); /* p = 0.055 > 0.05 */
    for (int i = 0; i < 10; i++) pr[i] = y[i];
    CHECK_OK(tl_guard_labelled(&p, y, pr, 10, NAN, &L));
    CHECK_NEAR(L.p_above_chance, 1.0 / 1024, 1e-12);
    CHECK(!L.harmful && isnan(L.z_vs_target_only));
    /* permuted classes: every prediction wrong */
    for (int i = 0; i < 10; i++) pr[i] = 1 - y[i];
    CHECK_OK(tl_guard_labelled(&p, y, pr, 10, NAN, &L));
    CHECK(L.harmful && L.accuracy == 0 && L.p_above_chance == 1.0);
    CHECK(strstr(L.reason, "chance") != NULL);
    /* above chance, but far below a target-only learner: 26 / 40 vs 0.95 */
    for (int i = 0; i < 40; i++) y[i] = i % 2, pr[i] = i < 26 ? y[i] : 1 - y[i];
    CHECK_OK(tl_guard_labelled(&p, y, pr, 40, 0.95, &L));
    CHECK(L.p_above_chance < 0.05);
    CHECK_NEAR(L.z_vs_target_only, 0.30 / sqrt((0.65 * 0.35 + 0.95 * 0.05) / 40), 1e-12);
    CHECK(L.harmful && strstr(L.reason, "alone") != NULL);
    /* the same gap is not harm when it is within the margin, or when the target-only learner
     * is worse */
    p.margin = 0.31;
    CHECK_OK(tl_guard_labelled(&p, y, pr, 40, 0.95, &L));
    CHECK(!L.harmful);
    p.margin = 0.05;
    CHECK_OK(tl_guard_labelled(&p, y, pr, 40, 0.5, &L));
    CHECK(!L.harmful && L.z_vs_target_only < 0);
    CHECK_STATUS(tl_guard_labelled(&p, y, pr, 0, NAN, &L), TL_ERR_EMPTY);
    CHECK_STATUS(tl_guard_labelled(&p, y, pr, 40, 1.5, &L), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_guard_labelled(&p, NULL, pr, 40, NAN, &L), TL_ERR_LABEL);
}

TEST(bad_inputs) {
    tl_rng r;
    tl_rng_seed(&r, 4);
    int ys[20];
    tl_mat S = gauss2(20, 0, ys, &r), T = gauss2(10, 0, NULL, &r);
    tl_guard_params p = tl_guard_params_default();
    tl_guard_report g;
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(T), xd(tl_mat_rows(S, 0, 5)), NULL, xd(T), &g),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("transferred domains");
    /* without class labels (regression targets) the check runs label-free: no reverse validation */
    CHECK_OK(tl_guard_check(&p, xd(S), NULL, xd(T), xd(S), NULL, xd(T), &g));
    CHECK(isnan(g.rv_before) && isnan(g.rv_after) && isnan(g.agreement));
    CHECK(!isnan(g.mmd_before) && strstr(g.reason, "regression") != NULL);
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(tl_mat_rows(T, 0, 1)), xd(S), NULL,
                                xd(tl_mat_rows(T, 0, 1)), &g),
                 TL_ERR_EMPTY);
    p.margin = -1;
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("margin");
    p = tl_guard_params_default();
    p.min_correspondence = 2;
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("min_correspondence");
    p = tl_guard_params_default();
    p.alpha = 0;
    CHECK_STATUS(tl_guard_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("alpha");
    p = tl_guard_params_default();
    p.max_features = 2;
    CHECK_STATUS(tl_guard_params_check(&p), TL_ERR_INVALID_ARG);
    p = tl_guard_params_default();
    p.min_ess = 1.5;
    CHECK_STATUS(tl_guard_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("min_ess");
    p = tl_guard_params_default();
    CHECK_OK(tl_guard_params_check(&p));
    /* different feature counts before the transfer */
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(tl_mat_cols(T, 0, 1)), xd(S), NULL,
                                xd(tl_mat_cols(T, 0, 1)), &g),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("feature count");
    free(S.data);
    free(T.data);
}

int main(void) {
    RUN(identity_is_ok);
    RUN(harmful_transfers_are_flagged);
    RUN(mean_alignment_is_ok_and_closer);
    RUN(correspondence_matches_naive_and_is_scale_invariant);
    RUN(unrelated_source_is_flagged);
    RUN(correspondence_sparse_and_feature_choice);
    RUN(reverse_validation_1nn_matches_the_learners);
    RUN(mantel_p_matches_the_sequential_loop);
    RUN(guard_mmd_equals_tl_mmd);
    RUN(labelled_check);
    RUN(bad_inputs);
    return tl_test_summary();
}
