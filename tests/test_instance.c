/* instance: KMM against cvxopt (correlation and objective, including a case where the upper bound
 * and the sum constraint are active), the box-slab projection, KLIEP and uLSIF (fixed lambda and
 * leave-one-out choice) against numpy ports of the authors' reference code, and with kernel-width
 * selection (KLIEP.m's likelihood cross-validation, uLSIF.m's leave-one-out over widths x lambdas,
 * tests/golden/instance_cv.txt by make_instance_cv.py, same weights whatever the thread count);
 * the structure-exploiting kernels against their naive versions (KLIEP's fused pass in both
 * clones, the symmetric design, the squared-kernel chain over doubling widths); the discriminative
 * ratio against sklearn's logistic regression (tests/golden/instance_weights.txt, made by
 * make_measure.py, and tests/golden/instance_dclf.txt by make_dclf.py: count data, a separable
 * case and a strong penalty, dense and CSR), its binary model against the two-class softmax
 * logreg, its warm and cold starts, identical domains and its bad inputs; TrAdaBoost's
 * single-round identity and its gain on a synthetic concept shift;
 * KMM weights helping 1-NN on a SURF task; bad inputs with their messages; out-of-memory. */
#include <cblas.h>

#include "golden_fixture.h"
#include "harness.h"
#include "oom_alloc.h"
#include "sample_data.h"
#include "instance/instance_internal.h"
#include "tl.h"
#include "tl/instance.h"

/* ---------------------------------------------------------------- helpers */


static tl_xmat xd(tl_mat m) { return tl_xmat_from_dense(m); }

static double corr(const double *a, const double *b, size_t n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

static double maxdiff(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
    return m;
}


/* ---------------------------------------------------------------- KMM */

TEST(kmm_vs_cvxopt) {
    golden g;
    if (golden_load(&g, "instance_weights.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "Xs"), Xt = gmat(&g, "Xt");
    size_t ns = Xs.rows;
    double *w = malloc(ns * sizeof *w);
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_KMM);
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w)); /* median heuristic gamma */
    double c1 = corr(w, gmat(&g, "kmm_cvxopt").data, ns), c2 = corr(w, gmat(&g, "kmm_tight").data, ns);
    CHECK_MSG(c1 >= 0.999 && c2 >= 0.9999, "corr with cvxopt %g (default tol), %g (tight)", c1, c2);
    CHECK_MSG(maxdiff(w, gmat(&g, "kmm_tight").data, ns) < 1e-4, "max |w - w_cvxopt| = %g",
              maxdiff(w, gmat(&g, "kmm_tight").data, ns));
    double m = 0;
    for (size_t i = 0; i < ns; i++) m += w[i];
    CHECK_NEAR(m / (double)ns, 1.0, 1e-12);
    /* the raw QP through the solver: objective no worse than cvxopt's */
    tl_kernel k = tl_kernel_default(TL_KERNEL_RBF);
    k.gamma = gnum(&g, "gamma");
    tl_mat K, Kst;
    CHECK_OK(tl_mat_alloc(&K, ns, ns));
    CHECK_OK(tl_mat_alloc(&Kst, ns, Xt.rows));
    CHECK_OK(tl_kernel_matrix(&k, Xs, Xs, K));
    CHECK_OK(tl_kernel_matrix(&k, Xs, Xt, Kst));
    double *kappa = calloc(ns, sizeof *kappa), *b = malloc(ns * sizeof *b);
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < Xt.rows; j++) kappa[i] += TL_AT(Kst, i, j) * (double)ns / (double)Xt.rows;
    double eps = (sqrt((double)ns) - 1) / sqrt((double)ns);
    const char *cases[2] = {"kmm_tight_raw", "kmm_box_raw"};
    const char *objs[2] = {"kmm_obj", "kmm_box_obj"};
    double Bs[2] = {1000.0, 2.0}, epss[2] = {eps, 0.05};
    for (int c = 0; c < 2; c++) {
        tl_mat K2;
        CHECK_OK(tl_mat_clone(&K2, K));
        tli_qp q = {ns, K2.data, kappa, Bs[c], ns * (1 - epss[c]), ns * (1 + epss[c]), 1000, 1e-6, NULL};
        for (size_t i = 0; i < ns; i++) b[i] = 1.0;
        int it = 0;
        CHECK_OK(tli_kmm_solve(&q, b, &it));
        double f = 0, s = 0, lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < ns; i++) {
            double kb = 0;
            for (size_t j = 0; j < ns; j++) kb += TL_AT(K, i, j) * b[j];
            f += 0.5 * b[i] * kb - kappa[i] * b[i];
            s += b[i];
            lo = fmin(lo, b[i]);
            hi = fmax(hi, b[i]);
        }
        CHECK_MSG(f <= gnum(&g, objs[c]) + 1e-9 * fabs(f), "%s: objective %.12g, cvxopt %.12g", cases[c], f,
                  gnum(&g, objs[c]));
        CHECK(lo >= 0 && hi <= Bs[c]);
        CHECK(s >= ns * (1 - epss[c]) - 1e-9 && s <= ns * (1 + epss[c]) + 1e-9);
        CHECK_MSG(maxdiff(b, gmat(&g, cases[c]).data, ns) < 1e-4, "%s: max diff %g", cases[c],
                  maxdiff(b, gmat(&g, cases[c]).data, ns));
        if (c == 1) CHECK_MSG(hi == 2.0 && fabs(s - ns * 1.05) < 1e-6, "box case: max %g, sum %g", hi, s);
        tl_mat_free(&K2);
    }
    /* the same through the public API with B = 2, eps = 0.05 */
    p.B = 2.0;
    p.eps = 0.05;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    CHECK(corr(w, gmat(&g, "kmm_box_raw").data, ns) > 0.99999);
    tl_mat_free(&K);
    tl_mat_free(&Kst);
    free(kappa);
    free(b);
    free(w);
    golden_free(&g);
}

/* The projection onto {0 <= x <= B, lo <= sum <= hi} against its optimality conditions. */
TEST(box_slab_projection) {
    tl_rng r;
    tl_rng_seed(&r, 4);
    double z[50], x[50];
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < 50; i++) z[i] = 3 * tl_rng_normal(&r) + (trial % 3 - 1) * 2.0;
        double B = 1 + trial % 4, lo = 10 + trial, hi = lo + (trial % 2 ? 0 : 5);
        tli_project_box_slab(z, 50, B, lo, hi, x);
        double s = 0;
        for (int i = 0; i < 50; i++) {
            CHECK(x[i] >= 0 && x[i] <= B);
            s += x[i];
        }
        CHECK(s >= lo - 1e-9 && s <= hi + 1e-9);
        /* KKT: x = clip(z - mu) for one mu shared by all free coordinates */
        double mu = NAN;
        for (int i = 0; i < 50; i++)
            if (x[i] > 1e-12 && x[i] < B - 1e-12) {
                if (isnan(mu)) mu = z[i] - x[i];
                CHECK_NEAR(z[i] - x[i], mu, 1e-9);
            }
        if (!isnan(mu))
            for (int i = 0; i < 50; i++) {
                if (x[i] == 0) CHECK(z[i] - mu <= 1e-9);
                if (x[i] == B) CHECK(z[i] - mu >= -1e-9);
            }
    }
}

/* ---------------------------------------------------------------- KLIEP, uLSIF, domain-clf */

TEST(ratio_methods_golden) {
    golden g;
    if (golden_load(&g, "instance_weights.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "Xs"), Xt = gmat(&g, "Xt");
    size_t ns = Xs.rows;
    double *w = malloc(ns * sizeof *w);
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_KLIEP);
    p.max_iter = 100; /* KLIEP.m's cap per step size; centres: all 30 target rows (100 > 30) */
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    CHECK_MSG(maxdiff(w, gmat(&g, "kliep").data, ns) < 1e-8, "kliep max diff %g",
              maxdiff(w, gmat(&g, "kliep").data, ns));
    p = tl_weight_params_default(TL_WEIGHT_ULSIF);
    p.lambda = 0.1;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    CHECK_MSG(maxdiff(w, gmat(&g, "ulsif_01").data, ns) < 1e-9, "ulsif max diff %g",
              maxdiff(w, gmat(&g, "ulsif_01").data, ns));
    p.lambda = -1; /* leave-one-out over logspace(-3, 1, 9) */
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    CHECK_MSG(maxdiff(w, gmat(&g, "ulsif_loo").data, ns) < 1e-9, "ulsif LOO max diff %g (numpy chose lambda %g)",
              maxdiff(w, gmat(&g, "ulsif_loo").data, ns), gnum(&g, "ulsif_loo_lambda"));
    p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.tol = 1e-10;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    CHECK_MSG(maxdiff(w, gmat(&g, "domain_clf").data, ns) < 1e-3, "domain-clf max diff %g",
              maxdiff(w, gmat(&g, "domain_clf").data, ns));
    CHECK(corr(w, gmat(&g, "domain_clf").data, ns) > 0.9999);
    free(w);
    golden_free(&g);
}

/* ---------------------------------------------------------------- width selection */

static char last_choice[256];
/* uLSIF's leave-one-out score per (width, lambda), from its DEBUG lines, in the order logged
 * (width-major, lambda-minor) */
static double loo_scores[64];
static size_t n_loo_scores;
static void keep_choice(void *u, tl_log_level l, const char *m) {
    (void)u;
    double gm, lm, sc;
    if (l == TL_LOG_INFO && strstr(m, "chosen")) snprintf(last_choice, sizeof last_choice, "%s", m);
    if (l == TL_LOG_DEBUG && n_loo_scores < 64 &&
        sscanf(m, "ulsif: gamma %lf lambda %lf LOO score %lf", &gm, &lm, &sc) == 3)
        loo_scores[n_loo_scores++] = sc;
}

TEST(width_selection_golden) {
    golden g;
    if (golden_load(&g, "instance_cv.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "Xs"), Xt = gmat(&g, "Xt"), ci = gmat(&g, "centres"),
           order = gmat(&g, "order");
    size_t ns = Xs.rows, nt = Xt.rows;
    /* the centres and the fold order come from tl_rng as the fixture's port of it says */
    tl_mat C = {0, 0, 0, NULL};
    CHECK_OK(tli_centres(xd(Xt), 20, 42, &C));
    CHECK(C.rows == 20 && ci.cols == 20);
    for (size_t i = 0; i < C.rows && i < ci.cols; i++)
        CHECK(memcmp(C.data + i * C.ld, Xt.data + (size_t)ci.data[i] * Xt.ld, 3 * sizeof(double)) == 0);
    tl_mat_free(&C);
    size_t perm[45];
    tli_cv_order(nt, 42, perm);
    CHECK(nt == 45 && order.cols == 45);
    for (size_t i = 0; i < 45 && i < order.cols; i++) CHECK(perm[i] == (size_t)order.data[i]);

    double *w = malloc(ns * sizeof *w), *w3 = malloc(ns * sizeof *w3), gm = 0, lm = 0;
    tl_ctx ctx = tl_ctx_default();
    ctx.log = keep_choice;
    ctx.log_level = TL_LOG_INFO;
    ctx.threads = 1;
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_KLIEP);
    p.kernel.gamma = 2.0;
    p.centers = 20;
    p.widths = 5;
    p.folds = 3;
    p.max_iter = 100; /* KLIEP_learning's max_iteration */
    p.ctx = &ctx;
    tl_weight_info kinfo = {0, 0};
    CHECK_OK(tl_weights_fit_info(&p, xd(Xs), xd(Xt), w, &kinfo));
    CHECK(sscanf(last_choice, "kliep: gamma %lf chosen", &gm) == 1);
    CHECK_NEAR(gm, gnum(&g, "kliep_gamma"), 1e-5);
    CHECK_NEAR(kinfo.gamma, gnum(&g, "kliep_gamma"), 1e-5 * gnum(&g, "kliep_gamma"));
    CHECK_MSG(maxdiff(w, gmat(&g, "kliep_cv").data, ns) < 1e-8, "kliep cv max diff %g",
              maxdiff(w, gmat(&g, "kliep_cv").data, ns));
    ctx.threads = 3; /* the (width, fold) fits on threads: the very same numbers */
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w3));
    CHECK(memcmp(w, w3, ns * sizeof *w) == 0);

    ctx.threads = 1;
    p = tl_weight_params_default(TL_WEIGHT_ULSIF);
    p.kernel.gamma = 2.0;
    p.centers = 20;
    p.widths = 5;
    p.lambda = -1;
    p.ctx = &ctx;
    tl_weight_info info = {0, 0};
    /* every leave-one-out score, not only the winner: the certified rows (exact), the clipped
     * ones in double, the full products in single precision (fused AVX-512, SGEMM + AVX2, SGEMM +
     * portable: each vector level the CPU has), against uLSIF.m in numpy */
    tl_mat gs = gmat(&g, "ulsif_scores");
    for (int level = 2; level >= 0; level--) {
        tli_simd_limit(level);
        ctx.log_level = TL_LOG_DEBUG;
        n_loo_scores = 0;
        CHECK_OK(tl_weights_fit_info(&p, xd(Xs), xd(Xt), w, &info));
        ctx.log_level = TL_LOG_INFO;
        CHECK(n_loo_scores == gs.rows * gs.cols && n_loo_scores == 45);
        for (size_t i = 0; i < n_loo_scores && i < gs.rows * gs.cols; i++)
            CHECK_MSG(fabs(loo_scores[i] - gs.data[i]) <= 1e-5 * fabs(gs.data[i]) + 1e-9,
                      "ulsif LOO score %zu (vector level %d): %.10g, numpy %.10g", i, level,
                      loo_scores[i], gs.data[i]);
    }
    tli_simd_limit(2);
    CHECK(sscanf(last_choice, "ulsif: gamma %lf, lambda %lf chosen", &gm, &lm) == 2);
    CHECK_NEAR(gm, gnum(&g, "ulsif_gamma"), 1e-5);
    CHECK_NEAR(lm, gnum(&g, "ulsif_lambda"), 1e-5);
    CHECK_NEAR(info.gamma, gnum(&g, "ulsif_gamma"), 1e-5 * gnum(&g, "ulsif_gamma"));
    CHECK_NEAR(info.lambda, gnum(&g, "ulsif_lambda"), 1e-9);
    CHECK_MSG(maxdiff(w, gmat(&g, "ulsif_cv").data, ns) < 1e-8, "ulsif cv max diff %g",
              maxdiff(w, gmat(&g, "ulsif_cv").data, ns));
    ctx.threads = 4;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w3));
    CHECK(memcmp(w, w3, ns * sizeof *w) == 0);
    p.lambda = 0.1; /* the width alone */
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    CHECK(sscanf(last_choice, "ulsif: gamma %lf, lambda %lf chosen", &gm, &lm) == 2);
    CHECK_NEAR(gm, gnum(&g, "ulsif_01_gamma"), 1e-5);
    CHECK_MSG(maxdiff(w, gmat(&g, "ulsif_cv_01").data, ns) < 1e-8, "ulsif cv (lambda 0.1) max diff %g",
              maxdiff(w, gmat(&g, "ulsif_cv_01").data, ns));
    /* widths = 1 is the single width of the defaults */
    double *w0 = malloc(ns * sizeof *w0);
    p = tl_weight_params_default(TL_WEIGHT_KLIEP);
    p.kernel.gamma = 2.0;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w0));
    p.widths = 1;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w3));
    CHECK(memcmp(w0, w3, ns * sizeof *w0) == 0);
    free(w);
    free(w3);
    free(w0);
    golden_free(&g);
}

/* The structure-exploiting kernels agree with the plain computations. */
TEST(ratio_kernels_structure) {
    tl_rng r;
    tl_rng_seed(&r, 77);
    /* KLIEP's fused pass: rows [3, 34) of a 37 x 13 matrix with ld 15 (odd sizes, tails) */
    size_t m = 37, b = 13, ld = 15;
    double P[37 * 15], a[13], u0[13], u1[13], y[37];
    for (size_t i = 0; i < m * ld; i++) P[i] = tl_rng_uniform(&r);
    for (size_t l = 0; l < b; l++) a[l] = tl_rng_uniform(&r);
    P[5 * ld + 0] = 0; /* a row whose ratio underflows to the clamp */
    for (size_t l = 0; l < b; l++) P[5 * ld + l] = 0;
    memset(u0, 0, sizeof u0);
    memset(u1, 0, sizeof u1);
    double s0 = tli_kliep_pass(P, ld, 3, 34, b, a, u0, 0), s1 = tli_kliep_pass(P, ld, 3, 34, b, a, u1, 1);
    CHECK(s0 == s1 && memcmp(u0, u1, sizeof u0) == 0); /* both clones round identically */
    tl_mat Pm = {34 - 3, b, ld, P + 3 * ld};
    CHECK_OK(tl_gemv(TL_NOTRANS, 1.0, Pm, a, 0.0, y));
    double ls = 0, un[13] = {0};
    for (size_t j = 0; j < Pm.rows; j++) {
        y[j] = y[j] > 1e-300 ? y[j] : 1e-300;
        ls += log(y[j]);
        y[j] = 1.0 / y[j];
    }
    CHECK_OK(tl_gemv(TL_TRANS, 1.0, Pm, y, 0.0, un));
    CHECK_NEAR(s0, ls, 1e-13);
    CHECK(ls < -600); /* the clamped row counts log(1e-300) */
    for (size_t l = 0; l < b; l++) CHECK_NEAR(u0[l], un[l], 1e-12);

    /* the symmetric design equals the general one; exact unit diagonal */
    tl_mat X = gauss(30, 4, 0, 1, &r), K1 = {0, 0, 0, NULL}, K2 = {0, 0, 0, NULL};
    tl_kernel k = tl_kernel_default(TL_KERNEL_RBF);
    k.gamma = 0.3;
    CHECK_OK(tl_mat_alloc(&K1, 30, 30));
    CHECK_OK(tl_mat_alloc(&K2, 30, 30));
    CHECK_OK(tli_kernel_design(&k, xd(X), X, K1));
    CHECK_OK(tli_kernel_design_self(&k, X, K2));
    double md = 0;
    int sym = 1;
    for (size_t i = 0; i < 30; i++)
        for (size_t j = 0; j < 30; j++) {
            md = fmax(md, fabs(TL_AT(K1, i, j) - TL_AT(K2, i, j)));
            sym &= TL_AT(K2, i, j) == TL_AT(K2, j, i);
        }
    CHECK_MSG(md < 1e-13, "symmetric design differs by %g", md);
    CHECK(sym && TL_AT(K2, 7, 7) == 1.0);

    /* distances once, then squaring along doubling widths = the exponential at each width */
    double g[5];
    tli_width_grid(0.05, 5, g);
    CHECK(g[2] == 0.05 && g[3] == 2 * g[2] && g[4] == 2 * g[3] && g[0] == 0.0125);
    tli_width_grid(1.0, 4, g);
    CHECK_NEAR(g[1] * g[2], 1.0, 1e-15); /* even count: centred between two candidates */
    tl_mat D = {0, 0, 0, NULL}, C = tl_mat_rows(X, 0, 7);
    tl_mat D2 = {0, 0, 0, NULL};
    CHECK_OK(tl_mat_alloc(&D, 30, 7));
    CHECK_OK(tl_mat_alloc(&D2, 7, 7));
    CHECK_OK(tli_sqdist_designs(2, xd(X), xd(C), C, D, D2)); /* both domains, row blocks on 2 threads */
    for (size_t i = 0; i < 7; i++) /* the second domain is the first's first 7 rows */
        CHECK(memcmp(D2.data + i * D2.ld, D.data + i * D.ld, 7 * sizeof(double)) == 0);
    tl_mat_free(&D2);
    tl_mat K3 = tl_mat_rows(K1, 0, 30);
    K3.cols = 7;
    tli_rbf_from_sqdist(D, 0.05, K3);
    for (int t = 0; t < 3; t++) tli_square(K3);
    k.gamma = 0.4;
    tl_mat K4 = {0, 0, 0, NULL};
    CHECK_OK(tl_mat_alloc(&K4, 30, 7));
    CHECK_OK(tli_kernel_design(&k, xd(X), C, K4));
    md = 0;
    for (size_t i = 0; i < 30; i++)
        for (size_t j = 0; j < 7; j++)
            md = fmax(md, fabs(TL_AT(K3, i, j) - TL_AT(K4, i, j)) / fmax(TL_AT(K4, i, j), 1e-300));
    CHECK_MSG(md < 1e-12, "squared chain differs from exp by %g (relative)", md);

    /* folds: position p is in fold floor(p F / n) */
    for (size_t n = 5; n < 40; n += 7)
        for (size_t F = 2; F <= 5 && F <= n; F++)
            for (size_t f = 0; f < F; f++)
                for (size_t q = tli_fold_start(f, F, n); q < tli_fold_start(f + 1, F, n); q++)
                    CHECK(q * F / n == f);
    CHECK(tli_fold_start(0, 3, 10) == 0 && tli_fold_start(3, 3, 10) == 10);
    tl_mat_free(&K1);
    tl_mat_free(&K2);
    tl_mat_free(&K4);
    tl_mat_free(&D);
    free(X.data);
}

/* Every method up-weights the source samples that look like the target. */
TEST(weights_follow_the_shift) {
    tl_rng r;
    tl_rng_seed(&r, 21);
    tl_mat S = gauss(200, 2, 0.0, 1.0, &r), T = gauss(150, 2, 1.0, 0.5, &r);
    double *w = malloc(200 * sizeof *w);
    for (int m = 0; m < 4; m++) {
        tl_weight_params p = tl_weight_params_default((tl_weight_method)m);
        CHECK_OK(tl_weights_fit(&p, xd(S), xd(T), w));
        /* mean weight of source rows with x0 > 0.5 vs x0 < -0.5 */
        double hi = 0, lo = 0;
        int nh = 0, nl = 0;
        for (int i = 0; i < 200; i++) {
            if (TL_AT(S, i, 0) > 0.5) hi += w[i], nh++;
            if (TL_AT(S, i, 0) < -0.5) lo += w[i], nl++;
        }
        CHECK_MSG(hi / nh > 3 * (lo / nl), "%s: mean weight near the target %g, far %g",
                  tl_weight_method_name((tl_weight_method)m), hi / nh, lo / nl);
    }
    free(w);
    free(S.data);
    free(T.data);
}

/* ---------------------------------------------------------------- TrAdaBoost */

TEST(tradaboost_one_round_is_the_base_learner) {
    tl_rng r;
    tl_rng_seed(&r, 8);
    tl_mat S = gauss(80, 3, 0, 1, &r), L = gauss(10, 3, 0.5, 1, &r), Q = gauss(40, 3, 0.2, 1, &r);
    int ys[80], yl[10], y[90], p1[40], p2[40];
    for (int i = 0; i < 80; i++) ys[i] = TL_AT(S, i, 1) > 0 ? 2 : -1;
    for (int i = 0; i < 10; i++) yl[i] = TL_AT(L, i, 2) > 0 ? 2 : -1;
    tl_tradaboost_params p = tl_tradaboost_params_default();
    CHECK(p.rounds == 20 && p.base.type == TL_LEARNER_LOGREG);
    p.rounds = 1;
    tl_tradaboost *m = NULL;
    CHECK_OK(tl_tradaboost_fit(&p, xd(S), ys, xd(L), yl, &m));
    CHECK_OK(tl_tradaboost_predict(m, xd(Q), p1));
    /* the same learner on the union with unit weights */
    double *u = malloc(90 * 3 * sizeof(double));
    memcpy(u, S.data, 80 * 3 * sizeof(double));
    memcpy(u + 240, L.data, 10 * 3 * sizeof(double));
    memcpy(y, ys, sizeof ys);
    memcpy(y + 80, yl, sizeof yl);
    tl_learner *l = NULL;
    CHECK_OK(tl_learner_create(&p.base, &l));
    CHECK_OK(tl_learner_fit(l, xd(tl_mat_view(u, 90, 3)), y, NULL));
    CHECK_OK(tl_learner_predict(l, xd(Q), p2));
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    CHECK_STATUS(tl_tradaboost_predict(m, xd(tl_mat_view(u, 45, 6)), p1), TL_ERR_SHAPE);
    CHECK_ERR_HAS("6 features");
    tl_learner_free(l);
    tl_tradaboost_free(m);
    free(u);
    free(S.data);
    free(L.data);
    free(Q.data);
}

/* Concept shift: the source labels by x1 > 0, the target by x1 + x2 > 0; 20 labelled target rows.
 * TrAdaBoost must beat the source-only learner on held-out target rows. */
TEST(tradaboost_beats_source_only) {
    tl_rng r;
    tl_rng_seed(&r, 12);
    size_t ns = 400, nl = 20, nq = 600;
    tl_mat S = gauss(ns, 2, 0, 1, &r), L = gauss(nl, 2, 0, 1, &r), Q = gauss(nq, 2, 0, 1, &r);
    int *ys = malloc(ns * sizeof(int)), *yl = malloc(nl * sizeof(int)), *yq = malloc(nq * sizeof(int)),
        *pr = malloc(nq * sizeof(int));
    for (size_t i = 0; i < ns; i++) ys[i] = TL_AT(S, i, 0) > 0;
    for (size_t i = 0; i < nl; i++) yl[i] = TL_AT(L, i, 0) + 1.5 * TL_AT(L, i, 1) > 0;
    for (size_t i = 0; i < nq; i++) yq[i] = TL_AT(Q, i, 0) + 1.5 * TL_AT(Q, i, 1) > 0;
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    tl_learner *l = NULL;
    CHECK_OK(tl_learner_create(&lp, &l));
    CHECK_OK(tl_learner_fit(l, xd(S), ys, NULL));
    CHECK_OK(tl_learner_predict(l, xd(Q), pr));
    double base = tl_accuracy(yq, pr, nq);
    tl_tradaboost_params p = tl_tradaboost_params_default();
    tl_tradaboost *m = NULL;
    CHECK_OK(tl_tradaboost_fit(&p, xd(S), ys, xd(L), yl, &m));
    CHECK_OK(tl_tradaboost_predict(m, xd(Q), pr));
    double acc = tl_accuracy(yq, pr, nq);
    CHECK_MSG(acc > base + 0.03, "tradaboost %.3f vs source-only %.3f", acc, base);
    tl_tradaboost_free(m);
    tl_learner_free(l);
    free(ys);
    free(yl);
    free(yq);
    free(pr);
    free(S.data);
    free(L.data);
    free(Q.data);
}

/* ---------------------------------------------------------------- data: KMM + 1-NN on SURF */

TEST(kmm_surf_dslr_to_webcam) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "office_caltech10_surf");
    char ps[512], pt[512];
    snprintf(ps, sizeof ps, "%s/office_caltech10_surf/dslr_SURF_L10.mat", dir);
    snprintf(pt, sizeof pt, "%s/office_caltech10_surf/webcam_SURF_L10.mat", dir);
    tl_dataset *s = NULL, *t = NULL;
    tl_preprocess pp;
    CHECK_OK(tl_preprocess_parse("rowsum,zscore", &pp));
    if (tl_dataset_load(ps, NULL, &s) != TL_OK || tl_dataset_load(pt, NULL, &t) != TL_OK) {
        printf("  %s\n", tl_error_message());
        CHECK(0);
        goto out;
    }
    CHECK_OK(tl_preprocess_apply(&pp, s));
    CHECK_OK(tl_preprocess_apply(&pp, t));
    size_t ns = tl_dataset_rows(s), nt = tl_dataset_rows(t);
    double *w = malloc(ns * sizeof *w);
    int *pred = malloc(nt * sizeof *pred);
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_KMM);
    CHECK_OK(tl_weights_fit(&p, tl_dataset_features(s), tl_dataset_features(t), w));
    size_t zeros = 0;
    double wmin = INFINITY, wsum = 0;
    for (size_t i = 0; i < ns; i++) zeros += w[i] == 0, wmin = fmin(wmin, w[i]), wsum += w[i];
    CHECK(wmin >= 0);
    CHECK_NEAR(wsum, (double)ns, 1e-9);
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_KNN);
    tl_learner *l = NULL;
    CHECK_OK(tl_learner_create(&lp, &l));
    CHECK_OK(tl_learner_fit(l, tl_dataset_features(s), tl_dataset_labels_const(s), NULL));
    CHECK_OK(tl_learner_predict(l, tl_dataset_features(t), pred));
    double base = tl_accuracy(tl_dataset_labels_const(t), pred, nt);
    CHECK_OK(tl_learner_fit(l, tl_dataset_features(s), tl_dataset_labels_const(s), w));
    CHECK_OK(tl_learner_predict(l, tl_dataset_features(t), pred));
    double acc = tl_accuracy(tl_dataset_labels_const(t), pred, nt);
    CHECK_NEAR(base, 0.6339, 1e-3); /* the published 1-NN D->W */
    /* 1-NN only sees which weights are zero (those samples are dropped); on D->W KMM's optimum
     * is interior (every weight in [0.68, 1.52]), so the prediction is the plain 1-NN one */
    CHECK_MSG(zeros > 0 ? acc >= base - 0.03 : acc == base, "kmm+1nn %.4f vs 1nn %.4f, %zu zero weights",
              acc, base, zeros);
    tl_learner_free(l);
    free(w);
    free(pred);
out:
    tl_dataset_free(s);
    tl_dataset_free(t);
}

/* ---------------------------------------------------------------- bad inputs */

TEST(bad_inputs) {
    tl_rng r;
    tl_rng_seed(&r, 2);
    tl_mat A = gauss(12, 3, 0, 1, &r), B = gauss(9, 4, 0, 1, &r);
    double w[12];
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_KMM);
    tl_weight_method m;
    CHECK_OK(tl_weight_method_parse("domain-clf", &m));
    CHECK(m == TL_WEIGHT_DOMAIN_CLF);
    CHECK_STATUS(tl_weight_method_parse("kmeans", &m), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("kmeans");
    CHECK(strcmp(tl_weight_method_name(TL_WEIGHT_ULSIF), "ulsif") == 0);
    /* empty target, different feature counts */
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(tl_mat_rows(A, 0, 0)), w), TL_ERR_EMPTY);
    CHECK_ERR_HAS("target domain has no samples");
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(B), w), TL_ERR_SHAPE);
    CHECK_ERR_HAS("3 features but the target has 4");
    /* parameters */
    p.B = 0;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(A), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("B = 0");
    p = tl_weight_params_default(TL_WEIGHT_KMM);
    p.B = 0.5;
    p.eps = 0.1;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(A), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("below 1 - eps");
    p = tl_weight_params_default(TL_WEIGHT_KLIEP);
    p.kernel.type = TL_KERNEL_LINEAR;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(A), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("must be rbf");
    p = tl_weight_params_default(TL_WEIGHT_ULSIF);
    p.tol = 0;
    CHECK_STATUS(tl_weight_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("tol");
    p = tl_weight_params_default(TL_WEIGHT_ULSIF);
    p.lambda = -1;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(tl_mat_rows(A, 0, 1)), w), TL_ERR_EMPTY);
    CHECK_ERR_HAS("leave-one-out");
    p.lambda = 0.1;
    p.widths = 4; /* width selection needs held-out pairs too */
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(tl_mat_rows(A, 0, 1)), w), TL_ERR_EMPTY);
    CHECK_ERR_HAS("kernel width");
    p.widths = 33;
    CHECK_STATUS(tl_weight_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("widths = 33");
    p = tl_weight_params_default(TL_WEIGHT_KLIEP);
    p.folds = 1;
    CHECK_STATUS(tl_weight_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("folds = 1");
    p.folds = 5;
    p.widths = 3;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(tl_mat_rows(A, 0, 4)), w), TL_ERR_EMPTY);
    CHECK_ERR_HAS("5-fold cross-validation");
    p.kernel.gamma = 1e300; /* every candidate width underflows */
    p.folds = 2;
    CHECK_STATUS(tl_weights_fit(&p, xd(tl_mat_rows(A, 6, 6)), xd(tl_mat_rows(A, 0, 6)), w),
                 TL_ERR_LINALG);
    CHECK_ERR_HAS("underflows");
    /* constant features: the median heuristic cannot pick a bandwidth, and says so */
    tl_mat K1 = tl_mat_view(calloc(36, sizeof(double)), 12, 3);
    p = tl_weight_params_default(TL_WEIGHT_KMM);
    CHECK_STATUS(tl_weights_fit(&p, xd(K1), xd(K1), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("set gamma explicitly");
    p.kernel.gamma = 1.0; /* K = 11^T: any weights summing to ns are optimal */
    CHECK_OK(tl_weights_fit(&p, xd(K1), xd(K1), w));
    double sw = 0, wmin = INFINITY;
    for (int i = 0; i < 12; i++) sw += w[i], wmin = fmin(wmin, w[i]);
    CHECK_NEAR(sw, 12.0, 1e-9);
    CHECK(wmin >= 0);
    /* one class only: weighting never looks at labels; TrAdaBoost predicts that class */
    int ys[12], yl[3], pred[12];
    for (int i = 0; i < 12; i++) ys[i] = 7;
    for (int i = 0; i < 3; i++) yl[i] = 7;
    tl_tradaboost_params tp = tl_tradaboost_params_default();
    tl_tradaboost *tb = NULL;
    CHECK_OK(tl_tradaboost_fit(&tp, xd(A), ys, xd(tl_mat_rows(A, 0, 3)), yl, &tb));
    CHECK_OK(tl_tradaboost_predict(tb, xd(A), pred));
    CHECK(pred[0] == 7 && pred[11] == 7);
    tl_tradaboost_free(tb);
    tb = NULL;
    CHECK_STATUS(tl_tradaboost_fit(&tp, xd(A), ys, xd(tl_mat_rows(A, 0, 0)), yl, &tb), TL_ERR_EMPTY);
    CHECK_ERR_HAS("no labelled target");
    CHECK_STATUS(tl_tradaboost_fit(&tp, xd(A), ys, xd(B), yl, &tb), TL_ERR_SHAPE);
    CHECK_STATUS(tl_tradaboost_fit(&tp, xd(A), NULL, xd(A), yl, &tb), TL_ERR_LABEL);
    tp.rounds = 0;
    CHECK_STATUS(tl_tradaboost_fit(&tp, xd(A), ys, xd(A), yl, &tb), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("rounds");
    CHECK(tb == NULL);
    CHECK_STATUS(tl_tradaboost_predict(NULL, xd(A), pred), TL_ERR_STATE);
    tl_tradaboost_free(NULL);
    free(A.data);
    free(B.data);
    free(K1.data);
}

/* ---------------------------------------------------------------- out of memory */


TEST(out_of_memory) {
    tl_rng r;
    tl_rng_seed(&r, 9);
    tl_mat A = gauss(30, 3, 0, 1, &r), B = gauss(25, 3, 0.5, 1, &r);
    int ys[30], yl[5];
    for (int i = 0; i < 30; i++) ys[i] = i % 2;
    for (int i = 0; i < 5; i++) yl[i] = i % 2;
    double w[30];
    int bad = 0;
    tl_ctx one = tl_ctx_default();
    one.threads = 1; /* the allocator above counts without a lock */
    for (int m = 0; m <= 6; m++) {
        int ok_seen = 0;
        for (long k = 0; k < 400 && !ok_seen; k++) {
            tl_status s;
            tl_allocator_set(&oom_allocator);
            oom_left = k;
            if (m >= 5) { /* KLIEP and uLSIF with width selection */
                tl_weight_params p = tl_weight_params_default(m == 5 ? TL_WEIGHT_KLIEP : TL_WEIGHT_ULSIF);
                p.widths = 3;
                p.folds = 2;
                p.lambda = -1;
                p.centers = 10;
                p.ctx = &one;
                s = tl_weights_fit(&p, xd(A), xd(B), w);
            } else if (m < 4) {
                tl_weight_params p = tl_weight_params_default((tl_weight_method)m);
                s = tl_weights_fit(&p, xd(A), xd(B), w);
            } else {
                tl_tradaboost_params p = tl_tradaboost_params_default();
                p.rounds = 3;
                tl_tradaboost *tb = NULL;
                s = tl_tradaboost_fit(&p, xd(A), ys, xd(tl_mat_rows(B, 0, 5)), yl, &tb);
                if (s == TL_OK) s = tl_tradaboost_predict(tb, xd(B), ys + 0);
                tl_tradaboost_free(tb);
                for (int i = 0; i < 30; i++) ys[i] = i % 2;
            }
            tl_allocator_set(NULL);
            if (s == TL_OK) ok_seen = 1;
            else if (s != TL_ERR_NOMEM) bad++;
        }
        CHECK_MSG(ok_seen, "method %d never succeeded", m);
    }
    CHECK_MSG(bad == 0, "%d budgets failed with a status other than NOMEM", bad);
    free(A.data);
    free(B.data);
}

/* ---------------------------------------------------------------- domain classifier */

/* A CSR copy of a dense matrix (zeros dropped), for running the same case in both storages. */
typedef struct {
    size_t *ip;
    int32_t *ix;
    double *v;
} csr_buf;

static tl_xmat to_csr(tl_mat A, csr_buf *b) {
    size_t nnz = 0;
    b->ip = malloc((A.rows + 1) * sizeof(size_t));
    b->ix = malloc((A.rows * A.cols + 1) * sizeof(int32_t));
    b->v = malloc((A.rows * A.cols + 1) * sizeof(double));
    b->ip[0] = 0;
    for (size_t i = 0; i < A.rows; i++) {
        for (size_t j = 0; j < A.cols; j++)
            if (TL_AT(A, i, j) != 0.0) {
                b->ix[nnz] = (int32_t)j;
                b->v[nnz++] = TL_AT(A, i, j);
            }
        b->ip[i + 1] = nnz;
    }
    tl_csr c = {A.rows, A.cols, nnz, b->ip, b->ix, b->v};
    return tl_xmat_from_csr(c);
}

static void csr_buf_free(csr_buf *b) {
    free(b->ip);
    free(b->ix);
    free(b->v);
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* tests/golden/instance_dclf.txt (make_dclf.py): sklearn LogisticRegression(C, multinomial) at
 * tol 1e-12 on count data, a separable case (d > n) and a strongly penalised one; dense and CSR
 * inputs (the CSR path starts from dual coordinate descent, the dense one from v = 0). */
TEST(dclf_golden_sklearn) {
    golden g;
    if (golden_load(&g, "instance_dclf.txt") != 0) {
        CHECK(0);
        return;
    }
    const char *cases[] = {"cnt", "sep", "reg"};
    char nm[32];
    for (int c = 0; c < 3; c++) {
#define GM(suffix) (snprintf(nm, sizeof nm, "%s_%s", cases[c], suffix), gmat(&g, nm))
        tl_mat Xs = GM("Xs"), Xt = GM("Xt"), wref = GM("w"), vref = GM("v");
        double C = GM("C").data[0];
#undef GM
        size_t ns = Xs.rows, nt = Xt.rows, d = Xs.cols;
        double *w = malloc(ns * sizeof *w), *v = malloc((d + 1) * sizeof *v),
               *z = malloc((ns + nt) * sizeof *z);
        csr_buf bs, bt;
        tl_xmat Ss = to_csr(Xs, &bs), St = to_csr(Xt, &bt);
        for (int sparse = 0; sparse < 2; sparse++) {
            tl_xmat A = sparse ? Ss : xd(Xs), B = sparse ? St : xd(Xt);
            tl_weight_params p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
            p.C = C;
            p.tol = 1e-10;
            CHECK_OK(tl_weights_fit(&p, A, B, w));
            CHECK_MSG(maxdiff(w, wref.data, ns) < 1e-6, "%s %s: max diff %g", cases[c],
                      sparse ? "csr" : "dense", maxdiff(w, wref.data, ns));
            CHECK(corr(w, wref.data, ns) > 1 - 1e-10);
            p.tol = 1e-6; /* the default: the weights to ~1e-3 by design, ~1e-4 here */
            CHECK_OK(tl_weights_fit(&p, A, B, w));
            CHECK_MSG(maxdiff(w, wref.data, ns) < 2e-3, "%s %s default tol: max diff %g",
                      cases[c], sparse ? "csr" : "dense", maxdiff(w, wref.data, ns));
            /* the model itself: v = 2 coef_, b = 2 intercept_ */
            tli_dclf_opts o = tli_dclf_opts_default();
            o.C = C;
            o.tol = 1e-10;
            tli_dclf_info info;
            CHECK_OK(tli_dclf_fit(A, B, &o, v, z, &info));
            CHECK(info.converged && info.gmax <= 1e-10 && info.newton >= 1);
            double vs = 1, dv = 0;
            for (size_t j = 0; j <= d; j++) vs = fmax(vs, fabs(vref.data[j]));
            for (size_t j = 0; j <= d; j++) dv = fmax(dv, fabs(v[j] - vref.data[j]));
            CHECK_MSG(dv <= 1e-6 * vs, "%s: |v - v_sklearn| = %g", cases[c], dv);
            /* the margins are X v + b */
            CHECK_NEAR(z[0], cblas_ddot((int)d, Xs.data, 1, v, 1) + v[d], 1e-12);
            CHECK_NEAR(z[ns], cblas_ddot((int)d, Xt.data, 1, v, 1) + v[d], 1e-12);
        }
        csr_buf_free(&bs);
        csr_buf_free(&bt);
        free(w);
        free(v);
        free(z);
    }
    golden_free(&g);
}

/* The binary model is the two-class softmax model: libtl's multinomial logreg (the previous
 * solver) fitted on the pooled rows gives the same probabilities, for two penalties. */
TEST(dclf_binary_equals_multinomial) {
    golden g;
    if (golden_load(&g, "instance_dclf.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "cnt_Xs"), Xt = gmat(&g, "cnt_Xt");
    size_t ns = Xs.rows, nt = Xt.rows, n = ns + nt, d = Xs.cols;
    tl_mat X = tl_mat_view(malloc(n * d * sizeof(double)), n, d);
    int *y = malloc(n * sizeof *y);
    double *S = malloc(2 * n * sizeof *S), *v = malloc((d + 1) * sizeof *v),
           *z = malloc(n * sizeof *z);
    memcpy(X.data, Xs.data, ns * d * sizeof(double));
    memcpy(X.data + ns * d, Xt.data, nt * d * sizeof(double));
    for (size_t i = 0; i < n; i++) y[i] = i >= ns;
    const double Cs[] = {1.0, 0.05};
    for (int k = 0; k < 2; k++) {
        tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
        lp.C = Cs[k];
        lp.tol = 1e-12;
        lp.max_iter = 100000;
        tl_learner *l = NULL;
        CHECK_OK(tl_learner_create(&lp, &l));
        CHECK_OK(tl_learner_fit(l, xd(X), y, NULL));
        CHECK_OK(tl_learner_scores(l, xd(X), tl_mat_view(S, n, 2)));
        tl_learner_free(l);
        tli_dclf_opts o = tli_dclf_opts_default();
        o.C = Cs[k];
        o.tol = 1e-11;
        CHECK_OK(tli_dclf_fit(xd(Xs), xd(Xt), &o, v, z, NULL));
        double dp = 0;
        for (size_t i = 0; i < n; i++) dp = fmax(dp, fabs(S[2 * i + 1] - sigmoid(z[i])));
        /* the softmax L-BFGS stops at its relative-decrease test, ~4e-7 from the optimum here */
        CHECK_MSG(dp < 1e-6, "C = %g: max |p_softmax - p_binary| = %g", Cs[k], dp);
    }
    free(X.data);
    free(y);
    free(S);
    free(v);
    free(z);
    golden_free(&g);
}

/* Same optimum from either start (dual CD warm start or v = 0) and either storage; identical
 * domains give v = 0 and uniform weights; a few Newton steps still give finite weights. */
TEST(dclf_starts_and_edge_cases) {
    golden g;
    if (golden_load(&g, "instance_dclf.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "cnt_Xs"), Xt = gmat(&g, "cnt_Xt");
    size_t ns = Xs.rows, nt = Xt.rows, n = ns + nt, d = Xs.cols;
    double *v = malloc((d + 1) * sizeof *v), *z0 = malloc(n * sizeof *z0),
           *z = malloc((3 * ns + n) * sizeof *z), *w = malloc(ns * sizeof *w);
    csr_buf bs, bt;
    tl_xmat Ss = to_csr(Xs, &bs), St = to_csr(Xt, &bt);
    tli_dclf_opts o = tli_dclf_opts_default();
    o.tol = 1e-11;
    o.warm_epochs = 0;
    CHECK_OK(tli_dclf_fit(xd(Xs), xd(Xt), &o, v, z0, NULL));
    const int epochs[] = {0, 1, 10, 50};
    for (int k = 0; k < 4; k++) {
        o.warm_epochs = epochs[k];
        for (int sparse = 0; sparse < 2; sparse++) {
            tli_dclf_info info;
            CHECK_OK(tli_dclf_fit(sparse ? Ss : xd(Xs), sparse ? St : xd(Xt), &o, v, z, &info));
            CHECK(info.converged);
            CHECK_MSG(maxdiff(z, z0, n) < 1e-7, "%d epochs, %s: margins differ by %g", epochs[k],
                      sparse ? "csr" : "dense", maxdiff(z, z0, n));
        }
    }
    /* the dense passes split over threads (rows in ranges, partial sums added in range order):
     * the same iterates up to rounding, whatever the count */
    o.warm_epochs = 0;
    const size_t threads[] = {2, 3, 7};
    for (int k = 0; k < 3; k++) {
        o.threads = threads[k];
        tli_dclf_info info;
        CHECK_OK(tli_dclf_fit(xd(Xs), xd(Xt), &o, v, z, &info));
        CHECK(info.converged);
        CHECK_MSG(maxdiff(z, z0, n) < 1e-9, "%zu threads: margins differ by %g", threads[k],
                  maxdiff(z, z0, n));
    }
    o.threads = 0;
    /* identical domains (the target = the source twice): v = 0, b = log 2, weights 1 */
    tl_mat T2 = tl_mat_view(malloc(2 * ns * d * sizeof(double)), 2 * ns, d);
    memcpy(T2.data, Xs.data, ns * d * sizeof(double));
    memcpy(T2.data + ns * d, Xs.data, ns * d * sizeof(double));
    csr_buf b2;
    tl_xmat S2 = to_csr(T2, &b2);
    for (int sparse = 0; sparse < 2; sparse++) {
        tl_weight_params p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
        p.tol = 1e-10;
        CHECK_OK(tl_weights_fit(&p, sparse ? Ss : xd(Xs), sparse ? S2 : xd(T2), w));
        double dw = 0;
        for (size_t i = 0; i < ns; i++) dw = fmax(dw, fabs(w[i] - 1.0));
        CHECK_MSG(dw < 1e-6, "identical domains: weights off 1 by %g", dw);
        o = tli_dclf_opts_default();
        o.tol = 1e-12;
        CHECK_OK(tli_dclf_fit(sparse ? Ss : xd(Xs), sparse ? S2 : xd(T2), &o, v, z, NULL));
        double vmax = 0;
        for (size_t j = 0; j < d; j++) vmax = fmax(vmax, fabs(v[j]));
        CHECK(vmax < 1e-8);
        CHECK_NEAR(v[d], log(2.0), 1e-8);
    }
    /* one Newton step (no convergence): still finite, non-negative weights of mean 1 */
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.max_iter = 1;
    CHECK_OK(tl_weights_fit(&p, xd(Xs), xd(Xt), w));
    double sw = 0;
    for (size_t i = 0; i < ns; i++) {
        CHECK(isfinite(w[i]) && w[i] >= 0);
        sw += w[i];
    }
    CHECK_NEAR(sw / (double)ns, 1.0, 1e-12);
    /* far-apart domains: saturated probabilities stay finite (p(s|x) floored at 1e-12) */
    tl_rng r;
    tl_rng_seed(&r, 5);
    tl_mat A = gauss(20, 2, -40, 1, &r), B = gauss(20, 2, 40, 1, &r);
    p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.C = 1e6;
    tl_status st = tl_weights_fit(&p, xd(A), xd(B), w);
    CHECK_MSG(st == TL_OK || st == TL_ERR_LINALG, "status %d (%s)", (int)st, tl_error_message());
    if (st == TL_OK)
        for (size_t i = 0; i < 20; i++) CHECK(isfinite(w[i]) && w[i] >= 0);
    free(A.data);
    free(B.data);
    free(T2.data);
    csr_buf_free(&b2);
    csr_buf_free(&bs);
    csr_buf_free(&bt);
    free(v);
    free(z0);
    free(z);
    free(w);
    golden_free(&g);
}

TEST(dclf_bad_inputs) {
    tl_rng r;
    tl_rng_seed(&r, 3);
    tl_mat A = gauss(12, 3, 0, 1, &r), B = gauss(9, 4, 0, 1, &r);
    double w[12], v[5], z[24];
    tl_weight_params p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.C = 0;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(A), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("C = 0");
    p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.max_iter = 0;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(A), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("max_iter = 0");
    p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    p.C = 1e308; /* 2 C overflows */
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(A), w), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("domain-clf");
    p = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(B), w), TL_ERR_SHAPE);
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(tl_mat_rows(A, 0, 0)), w), TL_ERR_EMPTY);
    TL_AT(A, 3, 1) = NAN;
    CHECK_STATUS(tl_weights_fit(&p, xd(A), xd(tl_mat_rows(A, 4, 8)), w), TL_ERR_NONFINITE);
    TL_AT(A, 3, 1) = 0.5;
    /* the solver's own checks */
    tli_dclf_opts o = tli_dclf_opts_default();
    CHECK_STATUS(tli_dclf_fit(xd(A), xd(B), &o, v, z, NULL), TL_ERR_SHAPE);
    o.tol = NAN;
    CHECK_STATUS(tli_dclf_fit(xd(A), xd(A), &o, v, z, NULL), TL_ERR_INVALID_ARG);
    o = tli_dclf_opts_default();
    o.warm_epochs = -2;
    CHECK_STATUS(tli_dclf_fit(xd(A), xd(A), &o, v, z, NULL), TL_ERR_INVALID_ARG);
    /* out of memory on the sparse path (dual coordinate descent) */
    csr_buf bs;
    tl_xmat S = to_csr(A, &bs);
    int ok_seen = 0, bad = 0;
    for (long k = 0; k < 100 && !ok_seen; k++) {
        tl_allocator_set(&oom_allocator);
        oom_left = k;
        tl_status s = tl_weights_fit(&p, S, xd(tl_mat_rows(A, 0, 6)), w);
        tl_allocator_set(NULL);
        if (s == TL_OK) ok_seen = 1;
        else if (s != TL_ERR_NOMEM) bad++;
    }
    CHECK(ok_seen && bad == 0);
    csr_buf_free(&bs);
    free(A.data);
    free(B.data);
}

int main(void) {
    RUN(kmm_vs_cvxopt);
    RUN(box_slab_projection);
    RUN(ratio_methods_golden);
    RUN(width_selection_golden);
    RUN(ratio_kernels_structure);
    RUN(weights_follow_the_shift);
    RUN(tradaboost_one_round_is_the_base_learner);
    RUN(tradaboost_beats_source_only);
    RUN(kmm_surf_dslr_to_webcam);
    RUN(bad_inputs);
    RUN(out_of_memory);
    RUN(dclf_golden_sklearn);
    RUN(dclf_binary_equals_multinomial);
    RUN(dclf_starts_and_edge_cases);
    RUN(dclf_bad_inputs);
    return tl_test_summary();
}
