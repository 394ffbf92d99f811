/* guard (negative-transfer check): a transfer that changes nothing is "ok" with equal reverse
 * validation; a projection that keeps only a non-discriminative direction, or weights that drop
 * a whole class, is "harmful"; a transfer that removes a mean shift is "ok" and brings the domains closer; bad
 * inputs fail with their messages. */
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
    /* weights that all but drop class 1 */
    double w[200];
    for (int i = 0; i < 200; i++) w[i] = ys[i] ? 1e-6 : 1.0;
    CHECK_OK(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), w, xd(T), &g));
    CHECK_MSG(g.verdict == TL_GUARD_HARMFUL, "verdict %s: %s", tl_guard_verdict_name(g.verdict),
              g.reason);
    CHECK(strstr(g.reason, "fell") != NULL);
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
    CHECK_STATUS(tl_guard_check(&p, xd(S), NULL, xd(T), xd(S), NULL, xd(T), &g), TL_ERR_LABEL);
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(tl_mat_rows(T, 0, 1)), xd(S), NULL,
                                xd(tl_mat_rows(T, 0, 1)), &g),
                 TL_ERR_EMPTY);
    p.margin = -1;
    CHECK_STATUS(tl_guard_check(&p, xd(S), ys, xd(T), xd(S), NULL, xd(T), &g), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("margin");
    free(S.data);
    free(T.data);
}

int main(void) {
    RUN(identity_is_ok);
    RUN(harmful_transfers_are_flagged);
    RUN(mean_alignment_is_ok_and_closer);
    RUN(bad_inputs);
    return tl_test_summary();
}
