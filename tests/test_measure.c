/* measure: MMD (linear and RBF, biased and unbiased, median heuristic, several bandwidths) and the
 * CORAL distance against numpy (tests/golden/measure_small.txt, made by make_measure.py), dense and
 * sparse inputs agreeing, random Fourier features close to the exact value, the permutation
 * p-value (roughly uniform for two halves of one distribution, tiny for two different ones, also
 * on Office+Caltech SURF), the proxy A-distance at its extremes, the SURF pair ranking (D-W
 * closest), bad inputs with their messages, and out-of-memory injection. */
#include "golden_fixture.h"
#include "harness.h"
#include "oom_alloc.h"
#include "sample_data.h"
#include "tl.h"
#include "tl/measure.h"

/* ---------------------------------------------------------------- helpers */


/* A CSR copy of a dense matrix (zeros dropped); free with csr_free. */
typedef struct {
    tl_csr c;
    size_t *ip;
    int32_t *ix;
    double *v;
} csr_copy;
static csr_copy to_csr(tl_mat X) {
    csr_copy o;
    o.ip = malloc((X.rows + 1) * sizeof(size_t));
    o.ix = malloc((X.rows * X.cols + 1) * sizeof(int32_t));
    o.v = malloc((X.rows * X.cols + 1) * sizeof(double));
    size_t q = 0;
    o.ip[0] = 0;
    for (size_t i = 0; i < X.rows; i++) {
        for (size_t j = 0; j < X.cols; j++)
            if (TL_AT(X, i, j) != 0.0) {
                o.ix[q] = (int32_t)j;
                o.v[q++] = TL_AT(X, i, j);
            }
        o.ip[i + 1] = q;
    }
    o.c = (tl_csr){X.rows, X.cols, q, o.ip, o.ix, o.v};
    return o;
}
static void csr_free(csr_copy *o) {
    free(o->ip);
    free(o->ix);
    free(o->v);
}

static tl_xmat xd(tl_mat m) { return tl_xmat_from_dense(m); }


/* A SURF domain, each histogram divided by its sum; NULL if unavailable. Not the 1-NN protocol's
 * per-domain z-score: that equalises every domain's mean and variance, which is what MMD and a
 * linear domain classifier measure (MMD of A vs C drops to -4e-4, p = 1, A-distance 0). */
static tl_dataset *surf(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/office_caltech10_surf/%s_SURF_L10.mat", dir, name);
    tl_dataset *ds = NULL;
    tl_preprocess pp;
    if (tl_dataset_load(path, NULL, &ds) != TL_OK || tl_preprocess_parse("rowsum", &pp) != TL_OK ||
        tl_preprocess_apply(&pp, ds) != TL_OK || tl_dataset_densify(ds) != TL_OK) {
        printf("  cannot load %s: %s\n", path, tl_error_message());
        tl_dataset_free(ds);
        return NULL;
    }
    return ds;
}

/* ---------------------------------------------------------------- golden values */

TEST(mmd_golden) {
    golden g;
    if (golden_load(&g, "measure_small.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "Xs"), Xt = gmat(&g, "Xt");
    tl_mmd_params p = tl_mmd_params_default();
    tl_mmd_result r;
    /* linear, unbiased and biased */
    p.kernel = TL_KERNEL_LINEAR;
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_lin_u"), 1e-12);
    CHECK(isnan(r.p_value));
    p.unbiased = false;
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_lin_b"), 1e-12);
    /* rbf, median heuristic on the pooled sample */
    p = tl_mmd_params_default();
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.gamma, gnum(&g, "gamma"), 1e-12);
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_rbf_u"), 1e-10);
    p.unbiased = false;
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_rbf_b"), 1e-10);
    /* three bandwidths */
    p = tl_mmd_params_default();
    p.n_bandwidths = 3;
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_multi_u"), 1e-10);
    /* fixed gamma, biased */
    p = tl_mmd_params_default();
    p.gamma = 0.3;
    p.unbiased = false;
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_fixed_b"), 1e-10);
    CHECK_NEAR(r.gamma, 0.3, 0);
    /* the pooled-kernel permutation engine reports the same exact value */
    p = tl_mmd_params_default();
    p.permutations = 50;
    CHECK_OK(tl_mmd(&p, xd(Xs), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_rbf_u"), 1e-10);
    CHECK(r.p_value > 0 && r.p_value <= 1);
    /* sparse storage gives the same numbers (linear closed form and blockwise rbf) */
    csr_copy cs = to_csr(Xs), ct = to_csr(Xt);
    p = tl_mmd_params_default();
    CHECK_OK(tl_mmd(&p, tl_xmat_from_csr(cs.c), tl_xmat_from_csr(ct.c), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_rbf_u"), 1e-10);
    p.kernel = TL_KERNEL_LINEAR;
    CHECK_OK(tl_mmd(&p, tl_xmat_from_csr(cs.c), xd(Xt), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_lin_u"), 1e-10);
    p.permutations = 30; /* feature engine on CSR */
    CHECK_OK(tl_mmd(&p, tl_xmat_from_csr(cs.c), tl_xmat_from_csr(ct.c), &r));
    CHECK_NEAR(r.mmd2, gnum(&g, "mmd_lin_u"), 1e-10);
    CHECK(r.p_value > 0 && r.p_value <= 1);
    csr_free(&cs);
    csr_free(&ct);
    golden_free(&g);
}

TEST(coral_golden) {
    golden g;
    if (golden_load(&g, "measure_small.txt") != 0) {
        CHECK(0);
        return;
    }
    double c;
    CHECK_OK(tl_coral_distance(xd(gmat(&g, "Xs")), xd(gmat(&g, "Xt")), &c));
    CHECK_NEAR(c, gnum(&g, "coral"), 1e-12);
    /* d = 14 > ns + nt = 11: the Gram route */
    CHECK_OK(tl_coral_distance(xd(gmat(&g, "Ws")), xd(gmat(&g, "Wt")), &c));
    CHECK_NEAR(c, gnum(&g, "coral_wide"), 1e-10);
    csr_copy ws = to_csr(gmat(&g, "Ws")), cs = to_csr(gmat(&g, "Xs"));
    CHECK_OK(tl_coral_distance(tl_xmat_from_csr(ws.c), xd(gmat(&g, "Wt")), &c));
    CHECK_NEAR(c, gnum(&g, "coral_wide"), 1e-10);
    CHECK_OK(tl_coral_distance(tl_xmat_from_csr(cs.c), xd(gmat(&g, "Xt")), &c));
    CHECK_NEAR(c, gnum(&g, "coral"), 1e-12);
    /* identical domains: 0 */
    CHECK_OK(tl_coral_distance(xd(gmat(&g, "Xs")), xd(gmat(&g, "Xs")), &c));
    CHECK_NEAR(c, 0.0, 1e-15);
    csr_free(&ws);
    csr_free(&cs);
    golden_free(&g);
}

/* ---------------------------------------------------------------- RFF and p-values */

TEST(mmd_rff_close_to_exact) {
    tl_rng r;
    tl_rng_seed(&r, 7);
    tl_mat A = gauss(300, 4, 0.0, 1.0, &r), B = gauss(250, 4, 0.8, 1.0, &r);
    tl_mmd_params p = tl_mmd_params_default();
    tl_mmd_result ex, rf;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &ex));
    p.rff_above = 100;
    p.rff_features = 4096;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &rf));
    CHECK_MSG(fabs(rf.mmd2 - ex.mmd2) < 0.15 * ex.mmd2, "rff %g exact %g", rf.mmd2, ex.mmd2);
    CHECK_MSG(ex.mmd2 > 0.02, "exact %g", ex.mmd2);
    /* RFF permutation engine: clearly different samples give a tiny p-value */
    p.permutations = 200;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &rf));
    CHECK_MSG(rf.p_value < 0.01, "p = %g", rf.p_value);
    CHECK_NEAR(rf.p_value, 1.0 / 201.0, 1e-12);
    /* several bandwidths through RFF too */
    p.permutations = 0;
    p.n_bandwidths = 3;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &rf));
    p.rff_above = 0;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &ex));
    CHECK_MSG(fabs(rf.mmd2 - ex.mmd2) < 0.15 * ex.mmd2, "rff %g exact %g (3 bandwidths)",
              rf.mmd2, ex.mmd2);
    free(A.data);
    free(B.data);
}

TEST(mmd_pvalue_null_and_alternative) {
    tl_mmd_params p = tl_mmd_params_default();
    p.permutations = 200;
    int above = 0;
    double minp = 1;
    for (uint64_t s = 1; s <= 8; s++) {
        tl_rng r;
        tl_rng_seed(&r, 100 + s);
        tl_mat A = gauss(60, 3, 0.0, 1.0, &r), B = gauss(50, 3, 0.0, 1.0, &r);
        tl_mmd_result res;
        p.seed = s;
        CHECK_OK(tl_mmd(&p, xd(A), xd(B), &res));
        above += res.p_value > 0.05;
        if (res.p_value < minp) minp = res.p_value;
        CHECK(res.p_value >= 1.0 / 201.0 && res.p_value <= 1.0);
        free(A.data);
        free(B.data);
    }
    CHECK_MSG(above >= 6, "only %d of 8 null p-values above 0.05", above);
    /* alternative: shifted mean */
    tl_rng r;
    tl_rng_seed(&r, 5);
    tl_mat A = gauss(60, 3, 0.0, 1.0, &r), B = gauss(50, 3, 1.2, 1.0, &r);
    tl_mmd_result res;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &res));
    CHECK_MSG(res.p_value < 0.01, "p = %g", res.p_value);
    p.kernel = TL_KERNEL_LINEAR;
    CHECK_OK(tl_mmd(&p, xd(A), xd(B), &res));
    CHECK_MSG(res.p_value < 0.01, "linear p = %g", res.p_value);
    free(A.data);
    free(B.data);
}

/* Two random halves of one SURF domain vs two different domains. */
TEST(mmd_pvalue_surf) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "office_caltech10_surf");
    tl_dataset *a = surf(dir, "amazon"), *c = surf(dir, "caltech");
    if (!a || !c) {
        CHECK(0);
        tl_dataset_free(a);
        tl_dataset_free(c);
        return;
    }
    size_t n = tl_dataset_rows(a), h = n / 2;
    size_t *idx = malloc(n * sizeof *idx);
    tl_mmd_params p = tl_mmd_params_default();
    p.permutations = 100;
    int above = 0;
    for (uint64_t s = 1; s <= 4; s++) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        tl_rng r;
        tl_rng_seed(&r, s);
        tl_rng_shuffle(&r, idx, n);
        tl_dataset *h1 = NULL, *h2 = NULL;
        CHECK_OK(tl_dataset_subset(a, idx, h, &h1));
        CHECK_OK(tl_dataset_subset(a, idx + h, n - h, &h2));
        tl_mmd_result res;
        p.seed = s;
        CHECK_OK(tl_mmd(&p, tl_dataset_features(h1), tl_dataset_features(h2), &res));
        above += res.p_value > 0.05;
        tl_dataset_free(h1);
        tl_dataset_free(h2);
    }
    CHECK_MSG(above >= 3, "only %d of 4 same-domain p-values above 0.05", above);
    tl_mmd_result res;
    CHECK_OK(tl_mmd(&p, tl_dataset_features(a), tl_dataset_features(c), &res));
    CHECK_MSG(res.p_value < 0.01, "amazon vs caltech p = %g", res.p_value);
    free(idx);
    tl_dataset_free(a);
    tl_dataset_free(c);
}

/* MMD over the six SURF pairs: DSLR-Webcam is the closest; the A-distance agrees on it. */
TEST(surf_pair_ranking) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "office_caltech10_surf");
    const char *names[4] = {"amazon", "caltech", "dslr", "webcam"};
    tl_dataset *ds[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++)
        if (!(ds[i] = surf(dir, names[i]))) {
            CHECK(0);
            goto out;
        }
    tl_mmd_params p = tl_mmd_params_default();
    double best = INFINITY, dw = 0;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) {
            tl_mmd_result r;
            CHECK_OK(tl_mmd(&p, tl_dataset_features(ds[i]), tl_dataset_features(ds[j]), &r));
            if (i == 2 && j == 3) dw = r.mmd2;
            else if (r.mmd2 < best) best = r.mmd2;
        }
    CHECK_MSG(dw < best, "MMD(D, W) = %g, closest other pair %g", dw, best);
    double pad_dw, pad_ac;
    CHECK_OK(tl_proxy_a_distance(tl_dataset_features(ds[2]), tl_dataset_features(ds[3]), 5, 1.0, 1,
                                 &pad_dw));
    CHECK_OK(tl_proxy_a_distance(tl_dataset_features(ds[0]), tl_dataset_features(ds[2]), 5, 1.0, 1,
                                 &pad_ac));
    CHECK_MSG(pad_dw < pad_ac, "A-distance D-W %g, A-D %g", pad_dw, pad_ac);
out:
    for (int i = 0; i < 4; i++) tl_dataset_free(ds[i]);
}

/* ---------------------------------------------------------------- A-distance */

TEST(proxy_a_distance_extremes) {
    tl_rng r;
    tl_rng_seed(&r, 11);
    tl_mat A = gauss(150, 3, 0.0, 1.0, &r), B = gauss(150, 3, 0.0, 1.0, &r),
           C = gauss(150, 3, 8.0, 1.0, &r);
    double same, far;
    CHECK_OK(tl_proxy_a_distance(xd(A), xd(B), 5, 1.0, 3, &same));
    CHECK_OK(tl_proxy_a_distance(xd(A), xd(C), 5, 1.0, 3, &far));
    CHECK_MSG(same < 0.5, "same distribution: %g", same);
    CHECK_MSG(far > 1.9, "separated: %g", far);
    CHECK(same >= 0 && far <= 2);
    CHECK_STATUS(tl_proxy_a_distance(xd(A), xd(B), 1, 1.0, 3, &same), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("folds");
    CHECK_STATUS(tl_proxy_a_distance(xd(A), xd(B), 5, -1.0, 3, &same), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("C =");
    CHECK_STATUS(tl_proxy_a_distance(xd(tl_mat_rows(A, 0, 3)), xd(B), 5, 1.0, 3, &same),
                 TL_ERR_EMPTY);
    CHECK_ERR_HAS("source domain has 3 samples");
    free(A.data);
    free(B.data);
    free(C.data);
}

/* ---------------------------------------------------------------- bad inputs */

TEST(bad_inputs) {
    tl_rng r;
    tl_rng_seed(&r, 3);
    tl_mat A = gauss(10, 3, 0, 1, &r), B = gauss(8, 4, 0, 1, &r);
    tl_mmd_params p = tl_mmd_params_default();
    tl_mmd_result res;
    double c;
    /* empty domain */
    CHECK_STATUS(tl_mmd(&p, xd(tl_mat_rows(A, 0, 0)), xd(A), &res), TL_ERR_EMPTY);
    CHECK_ERR_HAS("source domain has no samples");
    CHECK_STATUS(tl_coral_distance(xd(A), xd(tl_mat_rows(A, 0, 0)), &c), TL_ERR_EMPTY);
    CHECK_ERR_HAS("target domain has no samples");
    /* one sample: fine for the biased statistic, not for the U-statistic */
    CHECK_STATUS(tl_mmd(&p, xd(tl_mat_rows(A, 0, 1)), xd(A), &res), TL_ERR_EMPTY);
    CHECK_ERR_HAS("at least 2");
    p.unbiased = false;
    p.gamma = 1.0;
    CHECK_OK(tl_mmd(&p, xd(tl_mat_rows(A, 0, 1)), xd(A), &res));
    /* different feature counts */
    p = tl_mmd_params_default();
    CHECK_STATUS(tl_mmd(&p, xd(A), xd(B), &res), TL_ERR_SHAPE);
    CHECK_ERR_HAS("3 features but the target has 4");
    CHECK_STATUS(tl_coral_distance(xd(A), xd(B), &c), TL_ERR_SHAPE);
    CHECK_STATUS(tl_proxy_a_distance(xd(A), xd(B), 2, 1.0, 1, &c), TL_ERR_SHAPE);
    /* NaN */
    double keep = TL_AT(A, 2, 1);
    TL_AT(A, 2, 1) = NAN;
    CHECK_STATUS(tl_mmd(&p, xd(A), xd(A), &res), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("row 3 column 2");
    TL_AT(A, 2, 1) = keep;
    /* constant features: linear MMD and CORAL are fine, the median heuristic says what to do */
    tl_mat K1 = tl_mat_view(calloc(30, sizeof(double)), 10, 3), K2 = tl_mat_view(calloc(24, sizeof(double)), 8, 3);
    tl_mat_fill(K1, 2.0);
    tl_mat_fill(K2, 2.0);
    p.kernel = TL_KERNEL_LINEAR;
    CHECK_OK(tl_mmd(&p, xd(K1), xd(K2), &res));
    CHECK_NEAR(res.mmd2, 0.0, 1e-12);
    CHECK_OK(tl_coral_distance(xd(K1), xd(K2), &c));
    CHECK_NEAR(c, 0.0, 1e-15);
    p.kernel = TL_KERNEL_RBF;
    CHECK_STATUS(tl_mmd(&p, xd(K1), xd(K2), &res), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("set gamma explicitly");
    p.gamma = 0.5;
    CHECK_OK(tl_mmd(&p, xd(K1), xd(K2), &res));
    CHECK_NEAR(res.mmd2, 0.0, 1e-12);
    /* parameters */
    p = tl_mmd_params_default();
    p.n_bandwidths = 0;
    CHECK_STATUS(tl_mmd(&p, xd(A), xd(A), &res), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("n_bandwidths");
    p = tl_mmd_params_default();
    p.kernel = TL_KERNEL_POLY;
    CHECK_STATUS(tl_mmd(&p, xd(A), xd(A), &res), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("linear or rbf");
    CHECK_STATUS(tl_mmd(NULL, xd(A), xd(A), &res), TL_ERR_INVALID_ARG);
    /* malformed CSR */
    size_t ip[3] = {0, 2, 1};
    int32_t ix[2] = {0, 1};
    double v[2] = {1, 2};
    tl_csr bad = {2, 3, 2, ip, ix, v};
    CHECK_STATUS(tl_mmd(&p, tl_xmat_from_csr(bad), xd(A), &res), TL_ERR_INVALID_ARG);
    p = tl_mmd_params_default();
    CHECK_STATUS(tl_mmd(&p, tl_xmat_from_csr(bad), xd(A), &res), TL_ERR_FORMAT);
    free(A.data);
    free(B.data);
    free(K1.data);
    free(K2.data);
}

/* ---------------------------------------------------------------- out of memory */


TEST(out_of_memory) {
    tl_rng r;
    tl_rng_seed(&r, 9);
    tl_mat A = gauss(30, 3, 0, 1, &r), B = gauss(25, 3, 0.5, 1, &r);
    int ok_seen = 0, bad = 0;
    for (long k = 0; k < 200 && !ok_seen; k++) {
        tl_allocator_set(&oom_allocator);
        oom_left = k;
        tl_mmd_params p = tl_mmd_params_default();
        p.permutations = 20;
        tl_mmd_result res;
        double c, pad;
        tl_status s1 = tl_mmd(&p, xd(A), xd(B), &res);
        oom_left = k;
        tl_status s2 = tl_coral_distance(xd(A), xd(B), &c);
        oom_left = k;
        tl_status s3 = tl_proxy_a_distance(xd(A), xd(B), 3, 1.0, 1, &pad);
        tl_allocator_set(NULL);
        if (s1 == TL_OK && s2 == TL_OK && s3 == TL_OK) ok_seen = 1;
        if ((s1 != TL_OK && s1 != TL_ERR_NOMEM) || (s2 != TL_OK && s2 != TL_ERR_NOMEM) ||
            (s3 != TL_OK && s3 != TL_ERR_NOMEM))
            bad++;
    }
    CHECK(ok_seen);
    CHECK_MSG(bad == 0, "%d budgets failed with a status other than NOMEM", bad);
    free(A.data);
    free(B.data);
}

int main(void) {
    RUN(mmd_golden);
    RUN(coral_golden);
    RUN(mmd_rff_close_to_exact);
    RUN(mmd_pvalue_null_and_alternative);
    RUN(mmd_pvalue_surf);
    RUN(surf_pair_ranking);
    RUN(proxy_a_distance_extremes);
    RUN(bad_inputs);
    RUN(out_of_memory);
    return tl_test_summary();
}
