/* Domain adaptation and the step-level trainer (src/nn/trainer.c, src/nn/da_loss.c): central
 * finite-difference checks of every loss (weighted cross-entropy, entropy, Deep CORAL, MK-MMD
 * quadratic and linear, CDAN's multilinear map and its entropy weights), of gradient reversal
 * through a head on a trunk layer (the trunk's gradient is that of L_y - lambda L_d, the head's
 * that of L_d), the DANN schedule, the contiguous blocks, and the errors (a tap or a head on a
 * layer that does not exist). PyTorch parity of GRL, MK-MMD, CORAL and CDAN is in
 * test_nn_torch_da.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tl/nn.h"

static void fill(float *x, size_t n, unsigned seed, float lo, float hi) {
    unsigned long s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = lo + (hi - lo) * (float)((s >> 33) & 0xFFFFFF) / (float)0xFFFFFF;
    }
}

/* The loss under test as a function of the buffers x (n floats), analytic gradient added to g. */
typedef double (*loss_fn)(void *ctx, float *x, float *g);

/* Central differences against the analytic gradient over every entry of x; mismatches. */
static int fd_check(const char *what, loss_fn f, void *ctx, float *x, size_t n, double eps,
                    double tol) {
    float g[4096];
    int bad = 0;
    if (n > 4096) return 1000;
    memset(g, 0, n * sizeof *g);
    f(ctx, x, g);
    double gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g[i]));
    for (size_t i = 0; i < n; i++) {
        const float keep = x[i];
        x[i] = keep + (float)eps;
        const double lp = f(ctx, x, NULL);
        x[i] = keep - (float)eps;
        const double lm = f(ctx, x, NULL);
        x[i] = keep;
        const double num = (lp - lm) / (2 * eps);
        if (fabs(num - g[i]) > tol * (0.05 * gmax + fmax(fabs(num), fabs(g[i])))) {
            if (bad < 5) printf("    %s: d/dx[%zu] analytic %.6g numeric %.6g\n", what, i, (double)g[i], num);
            bad++;
        }
    }
    return bad;
}

typedef struct {
    size_t ns, nt, d, K;
    bool linear;
    double width;
    const int *y;
    const float *w;
    const float *g; /* cdan: probabilities */
    const float *r; /* cdan: random projection of the map */
} lctx;

static double f_xent(void *v, float *x, float *g) {
    lctx *c = v;
    return tl_nn_loss_xent(x, c->y, c->w, c->ns, c->K, 1.7, g, NULL) * 1.7;
}
static double f_entropy(void *v, float *x, float *g) {
    lctx *c = v;
    return tl_nn_loss_entropy(x, c->w, c->ns, c->K, 0.6, g) * 0.6;
}
static double f_coral(void *v, float *x, float *g) {
    lctx *c = v;
    return tl_nn_loss_coral(x, c->ns, x + c->ns * c->d, c->nt, c->d, 1.0, g, g ? g + c->ns * c->d : NULL);
}
static double f_mmd(void *v, float *x, float *g) {
    lctx *c = v;
    return tl_nn_loss_mmd(x, c->ns, x + c->ns * c->d, c->nt, c->d, 5, 2.0, c->width, c->linear, 1.0,
                          g, g ? g + c->ns * c->d : NULL);
}
/* sum r . T(f, g) as a function of f */
static double f_cdan(void *v, float *x, float *gr) {
    lctx *c = v;
    const size_t B = c->ns, m = B * c->K * c->d;
    float out[4096];
    tl_nn_cdan_map(x, c->g, B, c->d, c->K, out);
    double L = 0;
    for (size_t i = 0; i < m; i++) L += (double)c->r[i] * out[i];
    if (gr) tl_nn_cdan_map_backward(x, c->g, c->r, B, c->d, c->K, gr, NULL);
    return L;
}

TEST(loss_gradients) {
    float x[512], w[16];
    int y[16];
    for (int i = 0; i < 16; i++) y[i] = (i * 7) % 3;
    fill(w, 16, 3, 0.2f, 2.0f);
    lctx c = {8, 0, 0, 3, false, 0, y, w, NULL, NULL};
    fill(x, 24, 1, -2, 2);
    CHECK(fd_check("xent", f_xent, &c, x, 24, 1e-3, 1e-2) == 0);
    fill(x, 24, 2, -2, 2);
    CHECK(fd_check("entropy", f_entropy, &c, x, 24, 1e-3, 1e-2) == 0);
    c = (lctx){7, 9, 5, 0, false, 0, NULL, NULL, NULL, NULL};
    fill(x, 16 * 5, 4, -1, 1);
    for (size_t i = 7 * 5; i < 16 * 5; i++) x[i] = 1.5f * x[i] + 0.3f; /* a shifted target */
    CHECK(fd_check("coral", f_coral, &c, x, 16 * 5, 1e-3, 1e-2) == 0);
    /* MK-MMD with a fixed width (the heuristic width is a constant to the gradient) */
    c = (lctx){6, 8, 4, 0, false, 1.3, NULL, NULL, NULL, NULL};
    fill(x, 14 * 4, 5, -1, 1);
    for (size_t i = 6 * 4; i < 14 * 4; i++) x[i] += 0.4f;
    CHECK(fd_check("mmd", f_mmd, &c, x, 14 * 4, 1e-3, 1e-2) == 0);
    c = (lctx){8, 8, 4, 0, true, 0.9, NULL, NULL, NULL, NULL};
    fill(x, 16 * 4, 6, -1, 1);
    for (size_t i = 8 * 4; i < 16 * 4; i++) x[i] += 0.5f;
    CHECK(fd_check("mmd-linear", f_mmd, &c, x, 16 * 4, 1e-3, 1e-2) == 0);
    /* CDAN's map: T(f, g) = g (x) f; gradient w.r.t. f and (through dg) w.r.t. g */
    float P[6 * 3], r[6 * 3 * 4];
    fill(P, 18, 7, 0.05f, 1);
    fill(r, 72, 8, -1, 1);
    c = (lctx){6, 0, 4, 3, false, 0, NULL, NULL, P, r};
    fill(x, 24, 9, -1, 1);
    CHECK(fd_check("cdan-map", f_cdan, &c, x, 24, 1e-3, 1e-2) == 0);
    float f[24], dg[18] = {0}, out[72];
    fill(f, 24, 10, -1, 1);
    tl_nn_cdan_map(f, P, 6, 4, 3, out);
    CHECK(fabsf(out[(2 * 3 + 1) * 4 + 3] - P[2 * 3 + 1] * f[2 * 4 + 3]) < 1e-7f);
    tl_nn_cdan_map_backward(f, P, r, 6, 4, 3, NULL, dg);
    double want = 0;
    for (int j = 0; j < 4; j++) want += (double)f[4 * 4 + j] * r[(4 * 3 + 2) * 4 + j];
    CHECK(fabs(dg[4 * 3 + 2] - want) < 1e-5);
}

TEST(loss_values) {
    /* CORAL of a sample with itself is 0; MMD of a sample with itself is 0 (quadratic) */
    float x[40];
    fill(x, 40, 11, -1, 1);
    CHECK(fabs(tl_nn_loss_coral(x, 10, x, 10, 4, 1, NULL, NULL)) < 1e-12);
    CHECK(fabs(tl_nn_loss_mmd(x, 10, x, 10, 4, 5, 2.0, 0, false, 1, NULL, NULL)) < 1e-9);
    /* hand case: d = 1, xs = {0, 2}, xt = {0, 4}: var 2 and 8, L = (2 - 8)^2 / 4 = 9 */
    const float s[2] = {0, 2}, t[2] = {0, 4};
    CHECK(fabs(tl_nn_loss_coral(s, 2, t, 2, 1, 1, NULL, NULL) - 9.0) < 1e-9);
    /* one RBF kernel of width 1 on xs = {0, 1}, xt = {0, 1} shifted by 1 -> {1, 2}:
     * mean Kss = (2 + 2e^-1) / 4, Ktt the same, mean Kst = (e^-1 + e^-4 + 1 + e^-1) / 4 */
    const float a[2] = {0, 1}, b[2] = {1, 2};
    const double e1 = exp(-1.0), e4 = exp(-4.0);
    const double want = 2 * (2 + 2 * e1) / 4 - 2 * (1 + 2 * e1 + e4) / 4;
    /* kernels = 1: the width is the base width itself */
    CHECK(fabs(tl_nn_loss_mmd(a, 2, b, 2, 1, 1, 2.0, 1.0, false, 1, NULL, NULL) - want) < 1e-9);
    /* bad sizes give NaN, not a crash */
    CHECK(isnan(tl_nn_loss_coral(x, 1, x, 10, 4, 1, NULL, NULL)));
    CHECK(isnan(tl_nn_loss_mmd(x, 10, x, 10, 4, 0, 2.0, 0, false, 1, NULL, NULL)));
    /* the DANN schedule */
    CHECK(tl_nn_dann_lambda(0) == 0);
    CHECK(fabs(tl_nn_dann_lambda(1) - (2 / (1 + exp(-10.0)) - 1)) < 1e-15);
    CHECK(fabs(tl_nn_dann_lambda(0.1) - (2 / (1 + exp(-1.0)) - 1)) < 1e-15);
    /* entropy weights: per domain they sum to B/2, and a confident row weighs more */
    const float P[8] = {0.99f, 0.01f, 0.5f, 0.5f, 0.9f, 0.1f, 0.6f, 0.4f};
    float w[4];
    tl_nn_cdan_entropy_weights(P, 2, 2, 2, w);
    CHECK(fabs(w[0] + w[1] - 2.0) < 1e-6 && fabs(w[2] + w[3] - 2.0) < 1e-6);
    CHECK(w[0] > w[1] && w[2] > w[3]);
    /* weighted cross-entropy: zero weights drop a sample */
    const float z[4] = {1, -1, 3, 0};
    const int yy[2] = {0, 1};
    const float w01[2] = {0, 2};
    const double l2 = tl_nn_loss_xent(z + 2, yy + 1, NULL, 1, 2, 1, NULL, NULL);
    CHECK(fabs(tl_nn_loss_xent(z, yy, w01, 2, 2, 1, NULL, NULL) - l2) < 1e-12);
}

/* The trainer: trunk "dense:6,tanh,dense:3" on 4 inputs, a head "grl,dense:2" on layer 1 (the
 * tanh). L_y on the trunk's output (first half of the batch), L_d on the head's. The trunk's
 * gradients must be those of L_y - lambda L_d, the head's those of L_d. */
typedef struct {
    tl_nn_trainer *t;
    float *x;
    const int *y, *dom;
    size_t B;
} gctx;

static double trainer_loss(gctx *c, double lambda, bool backward) {
    tl_nn_trainer_forward(c->t, c->x, c->B, 1);
    const float *out;
    float *dout;
    size_t k;
    tl_nn_trainer_output(c->t, NULL, &out, &dout, &k);
    double ly = tl_nn_loss_xent(out, c->y, NULL, c->B / 2, k, 1.0, dout, NULL);
    tl_nn_trainer_output(c->t, "domain", &out, &dout, &k);
    double ld = tl_nn_loss_xent(out, c->dom, NULL, c->B, k, 1.0, dout, NULL);
    if (backward) tl_nn_trainer_backward(c->t);
    return ly - lambda * ld;
}

TEST(trainer_grl_gradients) {
    tl_nn *nn = NULL;
    tl_nn_trainer *t = NULL;
    tl_nn *head = NULL;
    tl_nn_train_params p = tl_nn_train_params_default();
    CHECK(tl_nn_create("dense:6,tanh,dense:3", 4, 1, 1, 5, &nn) == TL_OK);
    CHECK(tl_nn_trainer_create(nn, &p, 8, &t) == TL_OK);
    CHECK(tl_nn_trainer_add_head(t, "domain", "1", "grl,dense:2", 9, &head) == TL_OK);
    if (!t || !head) goto done;
    const double lambda = 0.7;
    tl_nn_trainer_set_grl(t, lambda);
    float x[32];
    fill(x, 32, 12, -1, 1);
    const int y[4] = {0, 2, 1, 2}, dom[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    gctx c = {t, x, y, dom, 8};
    trainer_loss(&c, lambda, true);
    size_t np, ng;
    float *P = tl_nn_trainer_params(t, &np), *G = tl_nn_trainer_grads(t, &ng);
    /* one block: trunk 4*6+6+6*3+3 = 51, head 6*2+2 = 14 */
    CHECK(ng == 65 && np == 65);
    float g0[65];
    memcpy(g0, G, sizeof g0);
    const size_t ntr = tl_nn_param_scalars(nn);
    CHECK(ntr == 51);
    int bad = 0;
    for (size_t i = 0; i < ng; i++) {
        const float keep = P[i];
        const double eps = 1e-3;
        /* the head's parameters descend L_d (no reversal after the grl), the trunk's L_y - l L_d */
        P[i] = keep + (float)eps;
        double lp = trainer_loss(&c, lambda, false);
        double lpd = i >= ntr ? (lp - trainer_loss(&c, 0, false)) / -lambda : 0;
        P[i] = keep - (float)eps;
        double lm = trainer_loss(&c, lambda, false);
        double lmd = i >= ntr ? (lm - trainer_loss(&c, 0, false)) / -lambda : 0;
        P[i] = keep;
        double num = i >= ntr ? (lpd - lmd) / (2 * eps) : (lp - lm) / (2 * eps);
        if (fabs(num - g0[i]) > 1e-2 * (1e-2 + fmax(fabs(num), fabs(g0[i])))) {
            if (bad < 5) printf("    trainer grad[%zu] analytic %.6g numeric %.6g\n", i, (double)g0[i], num);
            bad++;
        }
    }
    CHECK(bad == 0);
    /* the tensors live in the block */
    float *w0;
    tl_nn_tensor(nn, 0, NULL, NULL, NULL, &w0, NULL);
    CHECK(w0 == P);
    /* a step moves every parameter with a gradient by -lr g (plain SGD, first step) */
    float before[65];
    memcpy(before, P, sizeof before);
    trainer_loss(&c, lambda, true);
    memcpy(g0, G, sizeof g0);
    CHECK(tl_nn_trainer_step(t, 0.5) == TL_OK);
    double err = 0;
    for (size_t i = 0; i < np; i++) err = fmax(err, fabs(P[i] - (before[i] - 0.5f * g0[i])));
    CHECK(err < 1e-6);
done:
    tl_nn_trainer_free(t);
    /* the trunk is an ordinary network again: it runs, and a second trainer can be made */
    if (nn) {
        float out[3];
        CHECK(tl_nn_forward(nn, x, 1, out) == TL_OK);
        CHECK(tl_nn_trainer_create(nn, &p, 4, &t) == TL_OK);
        tl_nn_trainer_free(t);
    }
    tl_nn_free(nn);
}

TEST(trainer_taps_and_errors) {
    tl_nn *nn = NULL;
    tl_nn_trainer *t = NULL;
    tl_nn_train_params p = tl_nn_train_params_default();
    CHECK(tl_nn_create("dense:5,relu,dense:2", 3, 1, 1, 1, &nn) == TL_OK);
    CHECK(tl_nn_trainer_create(nn, &p, 6, &t) == TL_OK);
    if (!t) goto done;
    const float *act;
    float *g;
    size_t dim;
    CHECK(tl_nn_trainer_tap(t, "nosuch", &act, &g, &dim) == TL_ERR_NOT_FOUND);
    CHECK(strstr(tl_error_message(), "nosuch") != NULL && strstr(tl_error_message(), "relu1") != NULL);
    CHECK(tl_nn_trainer_add_head(t, "d", "dense9", "dense:2", 1, NULL) == TL_ERR_NOT_FOUND);
    CHECK(tl_nn_trainer_add_head(t, "d", "1", "maxpool:2", 1, NULL) == TL_ERR_SHAPE); /* 5x1x1 input */
    CHECK(tl_nn_trainer_backward(t) == TL_ERR_STATE); /* no forward yet */
    float x[18];
    fill(x, 18, 3, -1, 1);
    CHECK(tl_nn_trainer_forward(t, x, 7, 0) == TL_ERR_INVALID_ARG); /* over the capacity */
    /* a tap's gradient reaches the layers below it like an output gradient would: a tap on
     * the last layer gives the same gradients as writing dout */
    CHECK(tl_nn_trainer_forward(t, x, 6, 0) == TL_OK);
    CHECK(tl_nn_trainer_tap(t, "dense2", &act, &g, &dim) == TL_OK && dim == 2);
    for (size_t i = 0; i < 12; i++) g[i] = (float)i / 10 - 0.5f;
    CHECK(tl_nn_trainer_backward(t) == TL_OK);
    size_t ng;
    float a1[64], *G = tl_nn_trainer_grads(t, &ng);
    CHECK_MSG(ng == 32, "ng %zu", ng);
    if (ng != 32) goto done;
    memcpy(a1, G, ng * sizeof *G);
    float *dout;
    CHECK(tl_nn_trainer_forward(t, x, 6, 0) == TL_OK);
    tl_nn_trainer_output(t, NULL, NULL, &dout, NULL);
    for (size_t i = 0; i < 12; i++) dout[i] = (float)i / 10 - 0.5f;
    CHECK(tl_nn_trainer_backward(t) == TL_OK);
    double err = 0, mag = 0;
    for (size_t i = 0; i < ng; i++) {
        err = fmax(err, fabs(G[i] - a1[i]));
        mag = fmax(mag, fabs(a1[i]));
    }
    CHECK(err < 1e-6 && mag > 1e-3);
done:
    tl_nn_trainer_free(t);
    tl_nn_free(nn);
}

/* Two Gaussian classes in 6-d; the target is the source shifted. */
static void toy(float *x, int *y, size_t n, float shift, unsigned seed) {
    fill(x, n * 6, seed, -1, 1);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % 2);
        for (size_t j = 0; j < 6; j++) x[i * 6 + j] += (y[i] ? 1.2f : -1.2f) * (j < 3) + shift;
    }
}

TEST(da_train) {
    enum { N = 80 };
    float xs[N * 6], xt[N * 6];
    int ys[N], yt[N];
    toy(xs, ys, N, 0, 21);
    toy(xt, yt, N, 0.8f, 22);
    tl_nn_da_params p = tl_nn_da_params_default();
    p.train.epochs = 3;
    p.train.batch_size = 16;
    p.train.val_fraction = 0.2;
    p.train.patience = 2;
    p.lambda = 0.5;
    const tl_nn_da_method ms[] = {TL_NN_DA_NONE, TL_NN_DA_DANN, TL_NN_DA_DAN, TL_NN_DA_CORAL,
                                  TL_NN_DA_CDAN, TL_NN_DA_CDAN_E};
    for (size_t k = 0; k < sizeof ms / sizeof *ms; k++) {
        tl_nn *nn = NULL;
        tl_nn_train_result r;
        p.method = ms[k];
        CHECK(tl_nn_create("dense:8,relu,dense:2", 6, 1, 1, 3, &nn) == TL_OK);
        CHECK_MSG(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, &r) == TL_OK, "%s: %s", tl_nn_da_name(ms[k]),
                  tl_error_message());
        double acc = 0;
        CHECK(tl_nn_evaluate(nn, xt, yt, N, &acc, NULL) == TL_OK);
        CHECK_MSG(acc > 0.75, "%s: target accuracy %.3f", tl_nn_da_name(ms[k]), acc);
        CHECK(r.epochs_run >= 1 && !r.nonfinite);
        tl_nn_free(nn);
    }
    /* a feature layer that does not exist, a discriminator without 2 outputs */
    tl_nn *nn = NULL;
    CHECK(tl_nn_create("dense:8,relu,dense:2", 6, 1, 1, 3, &nn) == TL_OK);
    p.method = TL_NN_DA_CORAL;
    p.layer = "nosuch";
    CHECK(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_ERR_NOT_FOUND);
    CHECK(strstr(tl_error_message(), "nosuch") != NULL);
    /* a list of layers: DAN and CORAL add up their losses, DANN reads one, the source alone
     * (the baseline of the same settings) ignores it */
    p.layer = "relu1,dense2";
    p.method = TL_NN_DA_DAN;
    CHECK_MSG(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_OK, "%s", tl_error_message());
    p.method = TL_NN_DA_NONE;
    CHECK_MSG(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_OK, "%s", tl_error_message());
    p.method = TL_NN_DA_DANN;
    CHECK(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_ERR_INVALID_ARG);
    p.layer = NULL;
    p.method = TL_NN_DA_DANN;
    p.disc = "dense:3";
    CHECK(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_ERR_SHAPE);
    p.disc = "dense:2";
    /* a run that diverges keeps the last good (finite) parameters */
    p.train.lr = 1e6;
    p.train.patience = 0;
    p.train.val_fraction = 0;
    p.train.epochs = 20;
    tl_nn_train_result r;
    const tl_status st = tl_nn_da_train(nn, &p, xs, ys, N, xt, N, &r);
    CHECK(st == TL_ERR_NONFINITE && r.nonfinite);
    CHECK(strstr(tl_error_message(), "last good") || strstr(tl_error_message(), "keeps the parameters"));
    bool finite = true;
    for (size_t t = 0; t < tl_nn_tensor_count(nn); t++) {
        float *d;
        const size_t *dims;
        size_t nd, sz = 1;
        tl_nn_tensor(nn, t, NULL, &nd, &dims, &d, NULL);
        for (size_t q = 0; q < nd; q++) sz *= dims[q];
        for (size_t e = 0; e < sz; e++) finite = finite && isfinite(d[e]);
    }
    CHECK(finite);
    /* reverse validation: a risk in [0, 1], and the selection returns a grid value */
    tl_nn *init = NULL;
    CHECK(tl_nn_create("dense:8,relu,dense:2", 6, 1, 1, 4, &init) == TL_OK);
    p.train.lr = 0.05;
    p.train.epochs = 2;
    double risk = -1, lam = -1, lr = -1;
    const double grid[2] = {0.1, 1.0};
    CHECK(tl_nn_da_reverse_risk(init, &p, xs, ys, N, xt, N, &risk) == TL_OK);
    CHECK(risk >= 0 && risk <= 1);
    CHECK(tl_nn_da_select(init, &p, grid, 2, NULL, 0, xs, ys, N, xt, N, &lam, &lr, &risk) == TL_OK);
    CHECK((lam == 0.1 || lam == 1.0) && lr == 0.05);
    tl_nn_free(init);
    tl_nn_free(nn);
}

/* CSR of n x d dense rows into the arrays given (values as double). */
static tl_csr csr_of(const float *x, size_t n, size_t d, size_t *ptr, int32_t *idx, double *val) {
    size_t t = 0;
    ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d; k++)
            if (x[i * d + k] != 0.0f) {
                idx[t] = (int32_t)k;
                val[t++] = x[i * d + k];
            }
        ptr[i + 1] = t;
    }
    return (tl_csr){n, d, t, ptr, idx, val};
}

/* tl_nn_da_train_csr gives the parameters tl_nn_da_train gives on the same rows densely, both
 * when the batches go to the first layer as CSR (a wide dense first layer) and when they are
 * written densely (a first layer that is not dense); bad CSR input is refused with a message. */
TEST(da_train_csr) {
    enum { N = 60, D = 400 };
    static float xs[N * D], xt[N * D];
    static size_t ps[N + 1], pt[N + 1];
    static int32_t is_[N * D], it[N * D];
    static double vs[N * D], vt[N * D];
    int ys[N];
    fill(xs, N * D, 41, 0, 1);
    fill(xt, N * D, 42, 0, 1);
    for (size_t i = 0; i < N; i++) { /* about 4 % nonzero counts; class 1 uses the first 40 words more */
        ys[i] = (int)(i % 2);
        for (size_t k = 0; k < D; k++) {
            const float u = xs[i * D + k], w = xt[i * D + k];
            const float cut = ys[i] && k < 40 ? 0.7f : 0.97f;
            xs[i * D + k] = u > cut ? (float)(1 + (k + i) % 3) : 0.0f;
            xt[i * D + k] = w > 0.96f ? (float)(1 + (k * i) % 2) : 0.0f;
        }
    }
    const tl_csr cs = csr_of(xs, N, D, ps, is_, vs), ct = csr_of(xt, N, D, pt, it, vt);
    tl_nn_da_params p = tl_nn_da_params_default();
    p.train.epochs = 2;
    p.train.batch_size = 8;
    p.train.val_fraction = 0.2;
    p.lambda = 0.3;
    const char *arch[2] = {"dense:20,sigmoid,dense:2", "relu,dense:20,sigmoid,dense:2"};
    const tl_nn_da_method ms[2] = {TL_NN_DA_DANN, TL_NN_DA_NONE};
    for (size_t a = 0; a < 2; a++)
        for (size_t m = 0; m < 2; m++) {
            tl_nn *n1 = NULL, *n2 = NULL;
            tl_nn_train_result r1, r2;
            p.method = ms[m];
            CHECK(tl_nn_create(arch[a], D, 1, 1, 5, &n1) == TL_OK && tl_nn_create(arch[a], D, 1, 1, 5, &n2) == TL_OK);
            if (!n1 || !n2) return;
            CHECK_MSG(tl_nn_da_train(n1, &p, xs, ys, N, xt, N, &r1) == TL_OK, "%s", tl_error_message());
            CHECK_MSG(tl_nn_da_train_csr(n2, &p, cs, ys, ct, &r2) == TL_OK, "%s", tl_error_message());
            bool same = r1.train_loss == r2.train_loss && r1.steps == r2.steps && r1.steps > 0;
            for (size_t t = 0; t < tl_nn_tensor_count(n1); t++) {
                float *d1, *d2;
                const size_t *dims;
                size_t nd, sz = 1;
                tl_nn_tensor(n1, t, NULL, &nd, &dims, &d1, NULL);
                tl_nn_tensor(n2, t, NULL, NULL, NULL, &d2, NULL);
                for (size_t q = 0; q < nd; q++) sz *= dims[q];
                same = same && memcmp(d1, d2, sz * sizeof *d1) == 0;
            }
            CHECK_MSG(same, "%s, %s: CSR rows train other parameters than the dense rows (loss %.9g vs %.9g)",
                      arch[a], tl_nn_da_name(ms[m]), r2.train_loss, r1.train_loss);
            tl_nn_free(n1);
            tl_nn_free(n2);
        }
    tl_nn *nn = NULL;
    CHECK(tl_nn_create(arch[0], D, 1, 1, 5, &nn) == TL_OK);
    p.method = TL_NN_DA_DANN;
    tl_csr bad = ct;
    bad.cols = D - 1; /* another feature width */
    CHECK(tl_nn_da_train_csr(nn, &p, cs, ys, bad, NULL) == TL_ERR_SHAPE);
    CHECK(strstr(tl_error_message(), "target") && strstr(tl_error_message(), "399"));
    const int32_t keep = it[1];
    it[1] = it[0]; /* a repeated column */
    CHECK(tl_nn_da_train_csr(nn, &p, cs, ys, ct, NULL) == TL_ERR_INVALID_ARG);
    it[1] = keep;
    const double v0 = vs[0];
    vs[0] = NAN;
    CHECK(tl_nn_da_train_csr(nn, &p, cs, ys, ct, NULL) == TL_ERR_NONFINITE);
    CHECK(strstr(tl_error_message(), "source") != NULL);
    vs[0] = v0;
    tl_nn_free(nn);
}

int main(void) {
    RUN(loss_gradients);
    RUN(loss_values);
    RUN(trainer_grl_gradients);
    RUN(trainer_taps_and_errors);
    RUN(da_train);
    RUN(da_train_csr);
    return tl_test_summary();
}
