/* Tests of the label-free validation criteria (tl/validate.h) against the numpy versions of their
 * papers' formulas (tests/golden/make_validate.py -> tests/golden/validate.txt), the collapse
 * flag on hand-made predictions, the refusals, and automatic transfer (tl/auto.h) on small
 * synthetic domains: the table, the choice, the fallback and the bad inputs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "golden_fixture.h"
#include "harness.h"
#include "tl.h"

static int close_rel(double a, double b, double tol) {
    return fabs(a - b) <= tol * (1 + fabs(b));
}

TEST(criteria_vs_numpy) {
    golden g;
    if (golden_load(&g, "validate.txt") != 0) {
        CHECK(0);
        return;
    }
    const char *tags[] = {"a", "b"};
    for (int t = 0; t < 2; t++) {
        char nm[32];
        snprintf(nm, sizeof nm, "P_%s", tags[t]);
        tl_mat P = gmat(&g, nm);
        tl_criterion c;
        CHECK_OK(tl_validate_entropy(P, NULL, &c));
        snprintf(nm, sizeof nm, "entropy_%s", tags[t]);
        CHECK_MSG(close_rel(c.value, gnum(&g, nm), 1e-12), "%s %.17g vs %.17g", nm, c.value,
                  gnum(&g, nm));
        snprintf(nm, sizeof nm, "top_%s", tags[t]);
        CHECK_NEAR(c.top_share, gnum(&g, nm), 1e-15);
        CHECK(!c.collapsed);
        CHECK_OK(tl_validate_snd(P, TL_SND_TEMPERATURE, NULL, &c));
        snprintf(nm, sizeof nm, "snd_%s", tags[t]);
        CHECK_MSG(close_rel(c.value, gnum(&g, nm), 1e-10), "%s %.17g vs %.17g", nm, c.value,
                  gnum(&g, nm));
        CHECK_OK(tl_validate_snd(P, 1.0, NULL, &c));
        snprintf(nm, sizeof nm, "snd1_%s", tags[t]);
        CHECK_MSG(close_rel(c.value, gnum(&g, nm), 1e-10), "%s %.17g vs %.17g", nm, c.value,
                  gnum(&g, nm));
    }
    tl_mat L = gmat(&g, "loss"), W = gmat(&g, "w");
    size_t m = L.cols * L.rows;
    int pred[4] = {1, 2, 3, 1};
    tl_criterion c;
    CHECK_OK(tl_validate_iwcv(L.data, W.data, m, pred, 4, &c));
    CHECK_MSG(close_rel(c.value, gnum(&g, "iwcv"), 1e-12), "iwcv %.17g vs %.17g", c.value,
              gnum(&g, "iwcv"));
    CHECK_NEAR(c.top_share, 0.5, 0);
    CHECK(!c.collapsed); /* exactly half is not "most" */
    CHECK_OK(tl_validate_dev(L.data, W.data, m, pred, 4, &c));
    CHECK_MSG(close_rel(c.value, gnum(&g, "dev"), 1e-10), "dev %.17g vs %.17g", c.value,
              gnum(&g, "dev"));
    golden_free(&g);
}

TEST(criteria_hand_cases) {
    /* uniform probabilities: entropy log k; one-hot rows of a single class: entropy 0, collapsed */
    double u[3 * 4], o[3 * 4] = {0};
    for (int i = 0; i < 12; i++) u[i] = 0.25;
    for (int i = 0; i < 3; i++) o[i * 4 + 2] = 1;
    tl_criterion c;
    CHECK_OK(tl_validate_entropy(tl_mat_view(u, 3, 4), NULL, &c));
    CHECK_NEAR(c.value, log(4.0), 1e-15);
    CHECK_OK(tl_validate_entropy(tl_mat_view(o, 3, 4), NULL, &c));
    CHECK_NEAR(c.value, 0, 0);
    CHECK(c.collapsed && c.top_share == 1);
    int pred[3] = {0, 1, 2}; /* the labels given decide the collapse, not P's argmax */
    CHECK_OK(tl_validate_entropy(tl_mat_view(o, 3, 4), pred, &c));
    CHECK(!c.collapsed);
    /* SND of identical rows: every other row equally near, entropy log(n - 1) */
    CHECK_OK(tl_validate_snd(tl_mat_view(o, 3, 4), 0.05, NULL, &c));
    CHECK_NEAR(c.value, log(2.0), 1e-12);
    /* DEV with constant weights: the control variate vanishes, DEV = IWCV = w * mean loss */
    double l[3] = {1, 2, 3}, w[3] = {2, 2, 2};
    CHECK_OK(tl_validate_dev(l, w, 3, NULL, 0, &c));
    CHECK_NEAR(c.value, 4, 1e-15);
    CHECK(!c.collapsed);
    /* refusals */
    double bad[2] = {0.5, NAN};
    CHECK(tl_validate_entropy(tl_mat_view(bad, 1, 2), NULL, &c) == TL_ERR_INVALID_ARG);
    CHECK(strstr(tl_error_message(), "entropy") != NULL);
    CHECK(tl_validate_snd(tl_mat_view(u, 1, 4), 0.05, NULL, &c) == TL_ERR_INVALID_ARG);
    CHECK(tl_validate_snd(tl_mat_view(u, 3, 4), 0, NULL, &c) == TL_ERR_INVALID_ARG);
    double wn[3] = {1, -1, 1};
    CHECK(tl_validate_iwcv(l, wn, 3, NULL, 0, &c) == TL_ERR_INVALID_ARG);
    CHECK(tl_validate_dev(l, w, 0, NULL, 0, &c) == TL_ERR_INVALID_ARG);
    CHECK_NEAR(tl_validate_top_share(NULL, 0), 0, 0);
}

int main(void) {
    RUN(criteria_vs_numpy);
    RUN(criteria_hand_cases);
    return tl_test_summary();
}
