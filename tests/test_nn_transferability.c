/* Transferability scores against numpy references (tests/golden/make_transferability.py, LogME
 * as in the authors' code), hand-checkable cases (a perfect source model gives LEEP = NCE = 0),
 * invariances, and bad inputs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tl/transferability.h"

#define MAXV 1024
typedef struct {
    char name[32];
    size_t n;
    double v[MAXV];
} gline;
static gline g[32];
static size_t ng;

static const gline *gold(const char *name) {
    for (size_t i = 0; i < ng; i++)
        if (strcmp(g[i].name, name) == 0) return &g[i];
    return NULL;
}

static bool load(void) {
    FILE *f = fopen("tests/golden/transferability.txt", "r");
    if (!f) return false;
    char line[256];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return false;
    }
    while (ng < 32 && fscanf(f, "%31s %zu", g[ng].name, &g[ng].n) == 2 && g[ng].n <= MAXV) {
        for (size_t i = 0; i < g[ng].n; i++)
            if (fscanf(f, "%lf", &g[ng].v[i]) != 1) {
                fclose(f);
                return false;
            }
        ng++;
    }
    fclose(f);
    return ng > 0;
}

static int yv[MAXV], ywv[MAXV];

TEST(scores_match_numpy) {
    CHECK(load());
    const gline *F = gold("F"), *P = gold("P"), *y = gold("y"), *Fw = gold("Fw"), *yw = gold("yw");
    CHECK(F && P && y && Fw && yw);
    if (!F || !P || !y || !Fw || !yw) return;
    const size_t n = y->n;
    for (size_t i = 0; i < n; i++) yv[i] = (int)y->v[i];
    for (size_t i = 0; i < yw->n; i++) ywv[i] = (int)yw->v[i];
    double Fd[MAXV], Pd[MAXV], F2[MAXV], Fwd[MAXV];
    memcpy(Fd, F->v, F->n * sizeof(double));
    memcpy(Pd, P->v, P->n * sizeof(double));
    memcpy(Fwd, Fw->v, Fw->n * sizeof(double));
    const size_t d = F->n / n, z = P->n / n;
    tl_mat Fm = tl_mat_view(Fd, n, d), Pm = tl_mat_view(Pd, n, z);
    double s;
    CHECK_OK(tl_logme(Fm, yv, &s));
    CHECK_NEAR(s, gold("logme")->v[0], 1e-8);
    CHECK_OK(tl_logme(tl_mat_view(Fwd, yw->n, Fw->n / yw->n), ywv, &s));
    CHECK_NEAR(s, gold("logme_wide")->v[0], 1e-8);
    CHECK_OK(tl_leep(Pm, yv, &s));
    CHECK_NEAR(s, gold("leep")->v[0], 1e-10);
    CHECK_OK(tl_nce(Pm, yv, &s));
    CHECK_NEAR(s, gold("nce")->v[0], 1e-10);
    CHECK_OK(tl_hscore(Fm, yv, &s));
    CHECK_NEAR(s, gold("hscore")->v[0], 1e-8);
    /* a duplicated column: the pseudo-inverse ignores the null direction */
    for (size_t i = 0; i < n; i++) {
        memcpy(F2 + i * (d + 1), Fd + i * d, d * sizeof(double));
        F2[i * (d + 1) + d] = Fd[i * d];
    }
    CHECK_OK(tl_hscore(tl_mat_view(F2, n, d + 1), yv, &s));
    CHECK_NEAR(s, gold("hscore_rankdef")->v[0], 1e-6);
    /* wide features (d > n): the n x n Gram path */
    const gline *hw = gold("hscore_wide");
    CHECK(hw != NULL);
    CHECK_OK(tl_hscore(tl_mat_view(Fwd, yw->n, Fw->n / yw->n), ywv, &s));
    if (hw) CHECK_NEAR(s, hw->v[0], 1e-6 * fabs(hw->v[0]));
    const gline *a = gold("a"), *b = gold("b");
    CHECK_OK(tl_kendall_tau(a->v, b->v, a->n, &s));
    CHECK_NEAR(s, gold("kendall")->v[0], 1e-12);
    /* label values do not matter, only the partition */
    int y2[MAXV];
    for (size_t i = 0; i < n; i++) y2[i] = 100 - yv[i];
    double s2;
    CHECK_OK(tl_logme(Fm, yv, &s));
    CHECK_OK(tl_logme(Fm, y2, &s2));
    CHECK_NEAR(s, s2, 1e-12);
    CHECK_OK(tl_leep(Pm, y2, &s2));
    CHECK_NEAR(s2, gold("leep")->v[0], 1e-10);
}

TEST(scores_by_hand) {
    /* a source model that is certain and right: P(y | z) = 1, so LEEP = 0 and NCE = 0 */
    double P[6 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    int y[6] = {4, 5, 6, 4, 5, 6};
    double s;
    CHECK_OK(tl_leep(tl_mat_view(P, 6, 3), y, &s));
    CHECK_NEAR(s, 0.0, 1e-12);
    CHECK_OK(tl_nce(tl_mat_view(P, 6, 3), y, &s));
    CHECK_NEAR(s, 0.0, 1e-12);
    /* a useless model (one source class for everything): NCE = -H(Y) = -log 3 */
    double U[6 * 2] = {0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1};
    CHECK_OK(tl_nce(tl_mat_view(U, 6, 2), y, &s));
    CHECK_NEAR(s, -log(3.0), 1e-12);
    CHECK_OK(tl_leep(tl_mat_view(U, 6, 2), y, &s));
    CHECK_NEAR(s, -log(3.0), 1e-12);
    /* H-score of 1-D features x = class index (0, 1), 2 + 2 samples: cov f = 1/3, cov g = 1/3 */
    double f[4] = {0, 0, 1, 1};
    int yy[4] = {0, 0, 1, 1};
    CHECK_OK(tl_hscore(tl_mat_view(f, 4, 1), yy, &s));
    CHECK_NEAR(s, 1.0, 1e-12);
    /* Kendall: identical order 1, reversed -1 */
    double a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40}, c[4] = {4, 3, 2, 1};
    CHECK_OK(tl_kendall_tau(a, b, 4, &s));
    CHECK_NEAR(s, 1.0, 1e-15);
    CHECK_OK(tl_kendall_tau(a, c, 4, &s));
    CHECK_NEAR(s, -1.0, 1e-15);
    /* LogME prefers features that separate the classes */
    double good[40], noise[40];
    int yl[40];
    tl_rng r;
    tl_rng_seed(&r, 1);
    for (size_t i = 0; i < 40; i++) {
        yl[i] = (int)(i % 2);
        good[i] = yl[i] + 0.1 * tl_rng_normal(&r);
        noise[i] = tl_rng_normal(&r);
    }
    double sg, sn;
    CHECK_OK(tl_logme(tl_mat_view(good, 40, 1), yl, &sg));
    CHECK_OK(tl_logme(tl_mat_view(noise, 40, 1), yl, &sn));
    CHECK(sg > sn);
    CHECK_OK(tl_hscore(tl_mat_view(good, 40, 1), yl, &sg));
    CHECK_OK(tl_hscore(tl_mat_view(noise, 40, 1), yl, &sn));
    CHECK(sg > sn);
}

TEST(bad_inputs) {
    double P[4] = {0.5, 0.5, 0.2, 0.8}, s;
    int one[2] = {3, 3}, two[2] = {0, 1};
    CHECK_STATUS(tl_leep(tl_mat_view(P, 2, 2), one, &s), TL_ERR_LABEL);
    CHECK_ERR_HAS("1 class");
    CHECK_STATUS(tl_logme(tl_mat_view(P, 1, 2), two, &s), TL_ERR_EMPTY);
    double Q[4] = {0.5, 0.6, 0.2, 0.8};
    CHECK_STATUS(tl_leep(tl_mat_view(Q, 2, 2), two, &s), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("row 1");
    Q[1] = NAN;
    CHECK_STATUS(tl_hscore(tl_mat_view(Q, 2, 2), two, &s), TL_ERR_NONFINITE);
    CHECK_STATUS(tl_nce(tl_mat_view(Q, 2, 2), NULL, &s), TL_ERR_INVALID_ARG);
    double k[2] = {1, 1};
    CHECK_STATUS(tl_kendall_tau(k, k, 1, &s), TL_ERR_EMPTY);
    CHECK_STATUS(tl_kendall_tau(k, k, 2, &s), TL_ERR_INVALID_ARG);
    double cst[4] = {2, 2, 2, 2};
    int yy[4] = {0, 1, 0, 1};
    CHECK_STATUS(tl_hscore(tl_mat_view(cst, 4, 1), yy, &s), TL_ERR_LINALG);
}

int main(void) {
    RUN(scores_match_numpy);
    RUN(scores_by_hand);
    RUN(bad_inputs);
    return tl_test_summary();
}
