/* RuLSIF and TrAdaBoost against references written from their papers
 * (tests/golden/rulsif_tab.txt, made by tests/golden/make_rulsif_tab.py with numpy and
 * scikit-learn): RuLSIF's source weights and its weights for new rows at alpha 0 (= uLSIF), 0.1
 * and 0.5 and two lambdas, fitted through the method registry as `tl weight` fits them; TrAdaBoost's
 * vote shares with a logistic-regression base learner against the same algorithm run with
 * sklearn's LogisticRegression, for two classes (the paper's setting) and three. The other
 * instance methods have their references in test_instance.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "golden_fixture.h"
#include "harness.h"
#include "tl.h"
#include "tl/instance.h"

static double maxdiff(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static int *labels(tl_mat y) {
    int *v = malloc(y.cols * sizeof *v);
    for (size_t i = 0; i < y.cols; i++) v[i] = (int)y.data[i];
    return v;
}

TEST(rulsif_against_numpy) {
    golden g;
    if (golden_load(&g, "rulsif_tab.txt") != 0) {
        CHECK(0);
        return;
    }
    tl_mat Xs = gmat(&g, "rXs"), Xt = gmat(&g, "rXt"), Xq = gmat(&g, "rXq");
    tl_dataset *src = NULL, *tgt = NULL;
    tl_task *task = NULL;
    CHECK_OK(tl_dataset_from_dense(Xs, NULL, &src));
    CHECK_OK(tl_dataset_from_dense(Xt, NULL, &tgt));
    CHECK_OK(tl_task_create(&task));
    CHECK_OK(tl_task_add(task, TL_ROLE_SOURCE, src, NULL));
    CHECK_OK(tl_task_add(task, TL_ROLE_TARGET, tgt, NULL));
    const char *tags[] = {"a0", "a01", "a05", "a05l"};
    double *wq = malloc(Xq.rows * sizeof *wq);
    tl_ctx ctx = tl_ctx_default();
    for (size_t c = 0; c < 4; c++) {
        char k[32];
        snprintf(k, sizeof k, "rp_%s", tags[c]);
        tl_mat ap = gmat(&g, k);
        tl_params *p = NULL;
        tl_model *m = NULL;
        CHECK_OK(tl_params_create(tl_method_find("rulsif", -1), &p));
        CHECK_OK(tl_params_set_num(p, "alpha", ap.data[0]));
        CHECK_OK(tl_params_set_num(p, "lambda", ap.data[1]));
        CHECK_OK(tl_params_set_num(p, "gamma", gnum(&g, "r_gamma")));
        CHECK_OK(tl_params_set(p, "centers", "1000")); /* >= nt: every target row, in order */
        CHECK_OK(tl_model_fit(p, NULL, task, &ctx, &m));
        size_t n = 0;
        const double *w = m ? tl_model_fit_weights(m, &n) : NULL;
        snprintf(k, sizeof k, "r_%s", tags[c]);
        CHECK(w && n == Xs.rows);
        double dw = w ? maxdiff(w, gmat(&g, k).data, Xs.rows) : 1;
        CHECK_MSG(dw < 1e-9, "rulsif %s: source weights differ from numpy by %g", tags[c], dw);
        if (m) CHECK_OK(tl_model_weights(m, tl_xmat_from_dense(Xq), wq));
        snprintf(k, sizeof k, "rq_%s", tags[c]);
        double dq = maxdiff(wq, gmat(&g, k).data, Xq.rows);
        CHECK_MSG(dq < 1e-9, "rulsif %s: new-row weights differ from numpy by %g", tags[c], dq);
        tl_model_free(m);
        tl_params_free(p);
    }
    /* the fixture's alphas give different weights: the check above can tell them apart */
    CHECK(maxdiff(gmat(&g, "r_a0").data, gmat(&g, "r_a05").data, Xs.rows) > 0.1);
    free(wq);
    tl_task_free(task);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    golden_free(&g);
}

TEST(tradaboost_against_sklearn) {
    golden g;
    if (golden_load(&g, "rulsif_tab.txt") != 0) {
        CHECK(0);
        return;
    }
    const char *tags[] = {"t2", "t3"};
    for (size_t c = 0; c < 2; c++) {
        char k[32];
#define G(name) (snprintf(k, sizeof k, "%s" name, tags[c]), gmat(&g, k))
        tl_mat Xs = G("Xs"), Xl = G("Xl"), Xq = G("Xq"), S = G("S"), set = G("set");
        int *ys = labels(G("ys")), *yl = labels(G("yl"));
#undef G
        tl_tradaboost_params p = tl_tradaboost_params_default();
        p.rounds = (size_t)set.data[1];
        p.base.C = set.data[0];
        p.base.tol = 1e-10; /* both sides near the optimum: rounds agree row by row */
        p.base.max_iter = 100000;
        tl_tradaboost *m = NULL;
        CHECK_OK(tl_tradaboost_fit(&p, tl_xmat_from_dense(Xs), ys, tl_xmat_from_dense(Xl), yl, &m));
        size_t nc = 0;
        if (m) tl_tradaboost_classes(m, &nc);
        CHECK(nc == S.cols);
        tl_mat out = {0, 0, 0, NULL};
        CHECK_OK(tl_mat_alloc(&out, Xq.rows, S.cols));
        if (m && nc == S.cols) {
            CHECK_OK(tl_tradaboost_scores(m, tl_xmat_from_dense(Xq), out));
            double d = maxdiff(out.data, S.data, Xq.rows * S.cols);
            CHECK_MSG(d < 1e-6, "tradaboost %s: vote shares differ from sklearn's by %g", tags[c], d);
        }
        tl_mat_free(&out);
        tl_tradaboost_free(m);
        free(ys);
        free(yl);
    }
    golden_free(&g);
}

int main(void) {
    RUN(rulsif_against_numpy);
    RUN(tradaboost_against_sklearn);
    return tl_test_summary();
}
