/* Tests of the neural-network engine: architecture strings (good ones and errors that name the
 * token), central finite-difference gradient checks of every layer type and loss (input and
 * parameter gradients), im2col convolution against the naive direct loop, optimiser steps and
 * schedules against hand-computed values, and the training loop (learning a small problem,
 * determinism, early stopping, the CSV log, NaN stop keeping the last good model, bad labels and
 * inputs, freezing and new heads). Residual blocks with a projection shortcut ("[main | shortcut]"):
 * layer order, names, sources and the canonical string, grammar errors naming the token ('|'
 * outside a block, missing ']', shapes that differ), gradient checks on one and three threads,
 * and freezing through the main path. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nn/nn_internal.h"
#include "tl/nn.h"

/* ---- helpers ---- */

/* Distinct values spread over [-1, 1], none within 1/n of 0 or of each other: safe around the
 * kinks of relu and max pooling for finite differences with eps < 1/(2n). */
static void fill_distinct(float *x, size_t n, uint64_t seed) {
    size_t idx[4096];
    tl_rng r;
    tl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    tl_rng_shuffle(&r, idx, n);
    for (size_t i = 0; i < n; i++) x[i] = (float)(-1.0 + 2.0 * ((double)idx[i] + 0.5) / (double)n);
}

static void fill_uniform(float *x, size_t n, double lo, double hi, uint64_t seed) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * tl_rng_uniform(&r));
}

/* L = sum_k r_k y_k over the network's output after a forward pass of x. */
static double lin_loss(tl_nn *nn, const float *x, size_t B, const float *r) {
    const size_t din = tl_nn_input_dim(nn), dout = tl_nn_output_dim(nn);
    memcpy(nn->a[0], x, B * din * sizeof(float));
    nn_forward_batch(nn, B);
    double L = 0.0;
    for (size_t k = 0; k < B * dout; k++) L += (double)r[k] * nn->a[nn->nl][k];
    return L;
}

/* Central finite differences of L w.r.t. every input value and every parameter (up to 60 of
 * each tensor, spread out), against backward. Returns the number of mismatches. */
static int gradcheck_net(tl_nn *nn, size_t B, bool train, double eps, double tol, bool distinct) {
    const size_t din = tl_nn_input_dim(nn), dout = tl_nn_output_dim(nn);
    float x[4096], r[4096], gx[4096];
    int bad = 0;
    if (B * din > 4096 || B * dout > 4096) return 1000;
    if (distinct) fill_distinct(x, B * din, 7);
    else fill_uniform(x, B * din, -1.5, 1.5, 7);
    fill_uniform(r, B * dout, -1, 1, 11);
    if (nn_workspace_reserve(nn, B) != TL_OK) return 1000;
    nn->train = train;
    nn->step_seed = 1234;
    nn->want_input_grad = true;
    lin_loss(nn, x, B, r);
    memcpy(nn->g[nn->nl], r, B * dout * sizeof(float));
    nn_zero_grads(nn);
    nn_backward_batch(nn, B);
    memcpy(gx, nn->g[0], B * din * sizeof(float));
    for (size_t i = 0; i < B * din; i++) {
        float keep = x[i];
        x[i] = keep + (float)eps;
        double lp = lin_loss(nn, x, B, r);
        x[i] = keep - (float)eps;
        double lm = lin_loss(nn, x, B, r);
        x[i] = keep;
        double num = (lp - lm) / (2 * eps), ana = gx[i];
        if (fabs(num - ana) > tol * (1e-1 + fmax(fabs(num), fabs(ana)))) {
            if (bad < 5) printf("    %s: d/dx[%zu] analytic %.6g numeric %.6g\n", nn->arch, i, ana, num);
            bad++;
        }
    }
    for (size_t t = 0; t < nn->nt; t++) {
        nn_tensor *T = &nn->t[t];
        if (!T->trainable || !nn_layer_trainable(nn, T->layer)) continue;
        size_t stride = T->size > 60 ? T->size / 60 : 1;
        for (size_t i = 0; i < T->size; i += stride) {
            float keep = T->data[i];
            float ana = T->grad[i];
            T->data[i] = keep + (float)eps;
            double lp = lin_loss(nn, x, B, r);
            T->data[i] = keep - (float)eps;
            double lm = lin_loss(nn, x, B, r);
            T->data[i] = keep;
            double num = (lp - lm) / (2 * eps);
            if (fabs(num - ana) > tol * (1e-1 + fmax(fabs(num), fabs(ana)))) {
                if (bad < 5)
                    printf("    %s: d/d%s[%zu] analytic %.6g numeric %.6g\n", nn->arch, T->name, i,
                           (double)ana, num);
                bad++;
            }
        }
    }
    nn->want_input_grad = false;
    return bad;
}

static int gradcheck(const char *arch, size_t c, size_t h, size_t w, size_t B, bool train,
                     bool distinct) {
    tl_nn *nn = NULL;
    tl_status st = tl_nn_create(arch, c, h, w, 3, &nn);
    if (st != TL_OK) {
        printf("    create '%s' failed: %s\n", arch, tl_error_message());
        return 1000;
    }
    /* give batch-norm affine parameters non-trivial values */
    for (size_t t = 0; t < nn->nt; t++)
        if (nn->layers[nn->t[t].layer].kind == NN_BN)
            fill_uniform(nn->t[t].data, nn->t[t].size, 0.5, 1.5, 100 + t);
    int bad = gradcheck_net(nn, B, train, 2e-3, 2e-2, distinct);
    tl_nn_free(nn);
    return bad;
}

/* ---- architecture strings ---- */

TEST(arch_parse_and_shapes) {
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("conv:32:3,bn,relu,pool:2,conv:64:3,bn,relu,pool:2,flatten,dense:128,relu,"
                          "dense:10", 1, 28, 28, 1, &nn));
    if (!nn) return;
    CHECK(tl_nn_layer_count(nn) == 12);
    CHECK(tl_nn_output_dim(nn) == 10);
    size_t s[3];
    tl_nn_layer_shape(nn, 3, s);
    CHECK(s[0] == 32 && s[1] == 14 && s[2] == 14);
    tl_nn_layer_shape(nn, 8, s);
    CHECK(s[0] == 64 * 7 * 7 && s[1] == 1);
    CHECK(strcmp(tl_nn_layer_name(nn, 0), "conv1") == 0);
    CHECK(strcmp(tl_nn_layer_name(nn, 4), "conv2") == 0);
    CHECK(strcmp(tl_nn_layer_name(nn, 11), "dense2") == 0);
    CHECK(strcmp(tl_nn_layer_kind(nn, 3), "maxpool") == 0);
    /* 32*9+32 + 64 + 64*32*9+64 + 128 + 3136*128+128 + 1280+10 */
    CHECK(tl_nn_param_scalars(nn) == 320 + 64 + 18496 + 128 + 401536 + 1290);
    CHECK(strcmp(tl_nn_arch(nn), "conv:32:3,bn,relu,maxpool:2,conv:64:3,bn,relu,maxpool:2,flatten,"
                                 "dense:128,relu,dense:10") == 0);
    size_t i;
    CHECK_OK(tl_nn_layer_find(nn, "dense1", &i));
    CHECK(i == 9);
    CHECK_OK(tl_nn_layer_find(nn, "-1", &i));
    CHECK(i == 11);
    CHECK_STATUS(tl_nn_layer_find(nn, "nope", &i), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("conv1");
    CHECK_OK(tl_nn_embed_layer(nn, &i));
    CHECK(i == 10);
    CHECK_OK(tl_nn_tensor_find(nn, "bn2.running_var", &i));
    char buf[2048];
    tl_nn_summary(nn, buf, sizeof buf);
    CHECK_MSG(strstr(buf, "dense2") && strstr(buf, "trainable parameters: 421834"), "%s", buf);
    CHECK(strstr(buf, "dense2") && strstr(buf, "trainable parameters: 421834"));
    tl_nn_free(nn);

    /* names, residual blocks, strides, comments and whitespace */
    CHECK_OK(tl_nn_create("# a small resnet\n stem = conv:8:3:2 , bn,relu,\n"
                          "blk=[conv:8:3,bn,relu,conv:8:3,bn],relu,[conv:8:1],gap,head=dense:3",
                          3, 16, 16, 1, &nn));
    if (!nn) return;
    CHECK(strcmp(tl_nn_layer_name(nn, 0), "stem") == 0);
    tl_nn_layer_shape(nn, 0, s);
    CHECK(s[0] == 8 && s[1] == 8 && s[2] == 8);
    CHECK_OK(tl_nn_layer_find(nn, "blk", &i));
    CHECK(i == 8 && strcmp(tl_nn_layer_kind(nn, i), "add") == 0);
    CHECK_OK(tl_nn_layer_find(nn, "add2", &i));
    CHECK(strcmp(tl_nn_arch(nn), "stem=conv:8:3:2,bn,relu,blk=[conv:8:3,bn,relu,conv:8:3,bn],relu,"
                                 "[conv:8:1],gap,head=dense:3") == 0);
    /* the canonical string builds the same network */
    tl_nn *again = NULL;
    CHECK_OK(tl_nn_create(tl_nn_arch(nn), 3, 16, 16, 1, &again));
    if (again) CHECK(strcmp(tl_nn_arch(again), tl_nn_arch(nn)) == 0 && again->nt == nn->nt);
    tl_nn_free(again);
    tl_nn_free(nn);
}

static void arch_error(const char *arch, size_t c, size_t h, size_t w, tl_status want,
                       const char *has1, const char *has2) {
    tl_nn *nn = NULL;
    tl_status st = tl_nn_create(arch, c, h, w, 1, &nn);
    CHECK_MSG(st == want, "'%s': status %d, expected %d (%s)", arch, (int)st, (int)want,
              tl_error_message());
    CHECK(nn == NULL);
    if (has1) CHECK_MSG(strstr(tl_error_message(), has1), "'%s': \"%s\" lacks \"%s\"", arch,
                        tl_error_message(), has1);
    if (has2) CHECK_MSG(strstr(tl_error_message(), has2), "'%s': \"%s\" lacks \"%s\"", arch,
                        tl_error_message(), has2);
    tl_nn_free(nn);
}

TEST(arch_errors_name_the_token) {
    arch_error("conv:32:3,bn,relu,pool:0,flatten,dense:10", 1, 28, 28, TL_ERR_INVALID_ARG,
               "'pool:0'", "token 4");
    arch_error("conv:32:3,bnn,relu", 1, 28, 28, TL_ERR_INVALID_ARG, "'bnn'", "unknown layer");
    arch_error("conv:32,relu", 1, 28, 28, TL_ERR_INVALID_ARG, "'conv:32'", "conv:OUT:K");
    arch_error("conv:x:3", 1, 28, 28, TL_ERR_INVALID_ARG, "'conv:x:3'", "output channels");
    arch_error("conv:8:3,dense:10", 1, 28, 28, TL_ERR_SHAPE, "'dense:10'", "flatten");
    arch_error("conv:8:9:1:0", 1, 5, 5, TL_ERR_SHAPE, "'conv:8:9:1:0'", "does not fit");
    arch_error("conv:8:3,,relu", 1, 8, 8, TL_ERR_INVALID_ARG, "token 2", "missing");
    arch_error("conv:8:3,relu,", 1, 8, 8, TL_ERR_INVALID_ARG, "ends after", NULL);
    arch_error("[conv:8:3,relu", 1, 8, 8, TL_ERR_INVALID_ARG, "never closed", NULL);
    arch_error("conv:8:3],relu", 1, 8, 8, TL_ERR_INVALID_ARG, "']'", "closes no block");
    arch_error("[conv:8:3,relu]", 1, 8, 8, TL_ERR_SHAPE, "']'", "same shape");
    arch_error("[]", 1, 8, 8, TL_ERR_INVALID_ARG, "empty residual block", NULL);
    arch_error("dropout:1.5", 4, 1, 1, TL_ERR_INVALID_ARG, "'dropout:1.5'", "[0, 1)");
    arch_error("relu:3", 4, 1, 1, TL_ERR_INVALID_ARG, "'relu:3'", "no arguments");
    arch_error("a=relu,a=tanh", 4, 1, 1, TL_ERR_INVALID_ARG, "named 'a'", NULL);
    arch_error("12=relu", 4, 1, 1, TL_ERR_INVALID_ARG, "'12=relu'", "name");
    arch_error("relu tanh", 4, 1, 1, TL_ERR_INVALID_ARG, "'relu tanh'", NULL);
    arch_error("", 4, 1, 1, TL_ERR_INVALID_ARG, "empty architecture", NULL);
    arch_error("  # only a comment\n", 4, 1, 1, TL_ERR_INVALID_ARG, "empty", NULL);
    arch_error("maxpool:3", 1, 2, 2, TL_ERR_SHAPE, "'maxpool:3'", "window");
    arch_error("dense:99999999999999999999", 4, 1, 1, TL_ERR_INVALID_ARG, "units", NULL);
    arch_error("dense:20000,dense:20000", 20000, 1, 1, TL_ERR_INVALID_ARG, "too many weights", NULL);
    tl_nn *nn = NULL;
    CHECK_STATUS(tl_nn_create("relu", 0, 1, 1, 1, &nn), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_create(NULL, 1, 1, 1, 1, &nn), TL_ERR_INVALID_ARG);
}

/* ---- gradient checks ---- */

TEST(grad_dense) {
    CHECK(gradcheck("dense:4", 6, 1, 1, 3, true, false) == 0);
    CHECK(gradcheck("flatten,dense:3", 2, 3, 3, 2, true, false) == 0);
}

TEST(grad_conv) {
    CHECK(gradcheck("conv:3:3", 2, 5, 5, 2, true, false) == 0);
    CHECK(gradcheck("conv:2:3:2:1", 2, 6, 7, 2, true, false) == 0);
    CHECK(gradcheck("conv:3:1", 3, 4, 4, 2, true, false) == 0);
    CHECK(gradcheck("conv:2:5:1:0", 1, 6, 6, 2, true, false) == 0);
    CHECK(gradcheck("conv:2:4:3:2", 2, 7, 6, 1, true, false) == 0);
}

TEST(grad_pools) {
    CHECK(gradcheck("maxpool:2", 2, 4, 4, 2, true, true) == 0);
    CHECK(gradcheck("maxpool:3:2", 1, 7, 7, 2, true, true) == 0);
    CHECK(gradcheck("avgpool:2", 2, 4, 5, 2, true, false) == 0);
    CHECK(gradcheck("avgpool:3:1", 1, 5, 5, 2, true, false) == 0);
    CHECK(gradcheck("gap", 3, 3, 4, 2, true, false) == 0);
}

TEST(grad_batchnorm) {
    CHECK(gradcheck("bn", 3, 4, 4, 3, true, false) == 0);  /* batch statistics */
    CHECK(gradcheck("bn", 5, 1, 1, 6, true, false) == 0);  /* BatchNorm1d */
    CHECK(gradcheck("bn", 3, 2, 2, 2, false, false) == 0); /* running statistics */
}

TEST(grad_dropout_and_activations) {
    CHECK(gradcheck("dropout:0.3", 4, 3, 3, 2, true, false) == 0);
    CHECK(gradcheck("dropout:0.3", 4, 3, 3, 2, false, false) == 0);
    CHECK(gradcheck("relu", 4, 3, 3, 2, true, true) == 0);
    CHECK(gradcheck("lrelu:0.1", 4, 3, 3, 2, true, true) == 0);
    CHECK(gradcheck("gelu", 4, 3, 3, 2, true, false) == 0);
    CHECK(gradcheck("tanh", 4, 3, 3, 2, true, false) == 0);
    CHECK(gradcheck("sigmoid", 4, 3, 3, 2, true, false) == 0);
    CHECK(gradcheck("flatten", 2, 3, 3, 2, true, false) == 0);
}

TEST(grad_residual_and_whole_network) {
    CHECK(gradcheck("[conv:2:3,tanh]", 2, 4, 4, 2, true, false) == 0);
    CHECK(gradcheck("[[dense:5,tanh],dense:5],sigmoid", 5, 1, 1, 3, true, false) == 0);
    CHECK(gradcheck("conv:3:3,bn,tanh,avgpool:2,[conv:3:3,bn,gelu],flatten,dropout:0.2,dense:4,"
                    "tanh,dense:3",
                    2, 6, 6, 3, true, false) == 0);
}

/* ---- projection shortcuts: "[main | shortcut]", y = main(x) + shortcut(x) ---- */

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

TEST(arch_projection_shortcut) {
    tl_nn *nn = NULL, *again = NULL;
    CHECK_OK(tl_nn_create("stem=conv:4:3,bn,relu,\n"
                          "down = [conv:8:3:2:1,bn,relu,conv:8:3:1:1,bn | conv:8:1:2:0,bn],relu,"
                          "gap,dense:3",
                          3, 8, 8, 1, &nn));
    if (!nn) return;
    /* main path 3..7, shortcut 8..9 (reading activation 3, the block's input), add 10 */
    CHECK(tl_nn_layer_count(nn) == 14);
    CHECK(nn->layers[3].src == 3 && nn->layers[7].src == 7);
    CHECK(nn->layers[8].src == 3 && nn->layers[9].src == 9);
    CHECK(strcmp(tl_nn_layer_name(nn, 8), "conv4") == 0 && strcmp(tl_nn_layer_name(nn, 9), "bn4") == 0);
    CHECK(nn->layers[10].kind == NN_ADD && nn->layers[10].proj && nn->layers[10].skip == 8 &&
          nn->layers[10].start == 3);
    CHECK(strcmp(tl_nn_layer_name(nn, 10), "down") == 0);
    size_t s[3], i;
    tl_nn_layer_shape(nn, 9, s);
    CHECK(s[0] == 8 && s[1] == 4 && s[2] == 4);
    tl_nn_layer_shape(nn, 10, s);
    CHECK(s[0] == 8 && s[1] == 4 && s[2] == 4);
    CHECK_OK(tl_nn_tensor_find(nn, "conv4.weight", &i));
    CHECK(nn->t[i].ndim == 4 && nn->t[i].dims[0] == 8 && nn->t[i].dims[1] == 4 &&
          nn->t[i].dims[2] == 1 && nn->t[i].dims[3] == 1);
    CHECK_OK(tl_nn_tensor_find(nn, "bn4.running_var", &i));
    CHECK_MSG(strcmp(tl_nn_arch(nn), "stem=conv:4:3,bn,relu,down=[conv:8:3:2,bn,relu,conv:8:3,bn|"
                                     "conv:8:1:2,bn],relu,gap,dense:3") == 0, "%s", tl_nn_arch(nn));
    CHECK_OK(tl_nn_create(tl_nn_arch(nn), 3, 8, 8, 1, &again));
    if (again) {
        CHECK(strcmp(tl_nn_arch(again), tl_nn_arch(nn)) == 0 && again->nt == nn->nt);
        for (size_t l = 0; l < nn->nl; l++)
            CHECK(again->layers[l].src == nn->layers[l].src && again->layers[l].kind == nn->layers[l].kind);
    }
    tl_nn_free(again);
    tl_nn_free(nn);
    /* nested: an identity block ending the main path, blocks one after the other */
    const char *canon[] = {"[[conv:4:3,bn],conv:4:3|conv:4:1],relu",
                           "[conv:4:3|bn],[conv:4:3,tanh|conv:4:1,bn,tanh],[conv:4:3]",
                           "a=[b=[conv:4:3,bn|conv:4:1],relu|sc=conv:4:1]"};
    for (size_t k = 0; k < sizeof canon / sizeof *canon; k++) {
        nn = NULL;
        CHECK_OK(tl_nn_create(canon[k], 4, 5, 5, 1, &nn));
        if (!nn) continue;
        CHECK_MSG(strcmp(tl_nn_arch(nn), canon[k]) == 0, "%s -> %s", canon[k], tl_nn_arch(nn));
        tl_nn_free(nn);
    }
}

TEST(arch_projection_errors_name_the_token) {
    arch_error("[conv:8:3,relu|conv:8:1", 8, 8, 8, TL_ERR_INVALID_ARG, "'['", "never closed");
    arch_error("conv:8:3|conv:8:1", 8, 8, 8, TL_ERR_INVALID_ARG, "'|' (token 2, column 9)",
               "inside a block");
    arch_error("[conv:8:3:2|conv:8:1]", 4, 8, 8, TL_ERR_SHAPE, "']'", "8x4x4");
    arch_error("[conv:8:3:2|conv:8:1]", 4, 8, 8, TL_ERR_SHAPE, "shortcut after '|' (column 12) "
               "gives 8x8x8", "same shape");
    arch_error("[conv:8:3,bn|conv:6:1,bn],relu", 4, 8, 8, TL_ERR_SHAPE, "']' (token", "6x8x8");
    arch_error("[conv:8:3|]", 4, 8, 8, TL_ERR_INVALID_ARG, "']'", "shortcut after '|' is empty");
    arch_error("[|conv:8:3]", 4, 8, 8, TL_ERR_INVALID_ARG, "'|'", "main path");
    arch_error("[conv:8:3|conv:8:1|conv:8:1]", 4, 8, 8, TL_ERR_INVALID_ARG, "'|'", "at most one");
    arch_error("[conv:8:3|[conv:8:1]]", 4, 8, 8, TL_ERR_INVALID_ARG, "'['", "without blocks");
    arch_error("[flatten|flatten]", 4, 1, 1, TL_ERR_INVALID_ARG, "'flatten' (token 4", "cannot flatten");
    arch_error("[conv:8:3,|conv:8:1]", 8, 8, 8, TL_ERR_INVALID_ARG, "'|'", "missing");
}

TEST(grad_projection_shortcut) {
    /* stride-2 main path + 1x1 stride-2 projection */
    CHECK(gradcheck("[conv:3:3:2:1,tanh,conv:3:3|conv:3:1:2:0]", 2, 5, 5, 2, true, false) == 0);
    /* the ResNet block with batch norm on both paths, batch statistics and running statistics */
    const char *rb = "conv:2:3,[conv:3:3:2:1,bn,tanh,conv:3:3,bn|conv:3:1:2:0,bn],tanh,gap,dense:2";
    CHECK(gradcheck(rb, 2, 6, 6, 3, true, false) == 0);
    CHECK(gradcheck(rb, 2, 6, 6, 3, false, false) == 0);
    /* dense paths, an identity block inside the main path, a block right after the block */
    CHECK(gradcheck("[dense:4,tanh|dense:4],[dense:4,sigmoid|tanh]", 3, 1, 1, 3, true, false) == 0);
    CHECK(gradcheck("[[conv:2:3,tanh],conv:3:3:2|conv:3:1:2:0,bn],sigmoid,[conv:3:3]", 2, 5, 5, 2,
                    true, false) == 0);
    /* on three threads (one slice each) */
    const int saved = openblas_get_num_threads();
    openblas_set_num_threads(3);
    CHECK(gradcheck(rb, 2, 6, 6, 3, true, false) == 0);
    openblas_set_num_threads(saved);
}

TEST(projection_shortcut_frozen_parts) {
    /* freezing through the main path leaves the shortcut (later in the layer list) trainable:
     * backward then starts at the shortcut and the frozen layers do not move */
    float x[48 * 36];
    int y[48];
    tl_rng r;
    tl_rng_seed(&r, 9);
    for (size_t k = 0; k < 48 * 36; k++) x[k] = (float)tl_rng_normal(&r);
    for (size_t k = 0; k < 48; k++) y[k] = (int)(k % 3);
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("conv:4:3,bn,relu,[conv:6:3:2:1,bn,relu,conv:6:3,bn|conv:6:1:2:0,bn],"
                          "relu,gap,dense:3", 1, 6, 6, 2, &nn));
    if (!nn) return;
    size_t last_main, i_sc;
    CHECK_OK(tl_nn_layer_find(nn, "bn3", &last_main));
    CHECK_OK(tl_nn_layer_find(nn, "conv4", &i_sc));
    CHECK(i_sc == last_main + 1 && nn->layers[i_sc].src == 3);
    CHECK_OK(tl_nn_freeze_until(nn, last_main));
    float w1[4 * 9], w3[6 * 6 * 9], wsc[6 * 4];
    memcpy(w1, nn->t[nn->layers[0].w].data, sizeof w1);
    memcpy(w3, nn->t[nn->layers[6].w].data, sizeof w3);
    memcpy(wsc, nn->t[nn->layers[i_sc].w].data, sizeof wsc);
    tl_nn_train_params p = tl_nn_train_params_default();
    p.epochs = 1;
    p.batch_size = 16;
    CHECK_OK(tl_nn_train(nn, &p, x, y, 48, NULL));
    CHECK(memcmp(w1, nn->t[nn->layers[0].w].data, sizeof w1) == 0);
    CHECK(memcmp(w3, nn->t[nn->layers[6].w].data, sizeof w3) == 0);
    CHECK(memcmp(wsc, nn->t[nn->layers[i_sc].w].data, sizeof wsc) != 0);
    /* the embedding layer is the one before the head; embed() of the add is the block output */
    size_t e;
    CHECK_OK(tl_nn_embed_layer(nn, &e));
    CHECK(strcmp(tl_nn_layer_kind(nn, e), "gap") == 0);
    tl_nn_free(nn);
}

static double xent_at(const float *z, const int *y, size_t B, size_t K, double eps) {
    return nn_xent_loss(z, y, B, K, eps, NULL, NULL);
}

TEST(grad_losses) {
    float z[12], d[12], t[12];
    int y[3] = {2, 0, 3};
    fill_uniform(z, 12, -3, 3, 5);
    fill_uniform(t, 12, -1, 1, 6);
    for (int sm = 0; sm < 2; sm++) {
        double eps = sm ? 0.1 : 0.0;
        nn_xent_loss(z, y, 3, 4, eps, d, NULL);
        for (size_t i = 0; i < 12; i++) {
            float k = z[i];
            z[i] = k + 1e-2f;
            double lp = xent_at(z, y, 3, 4, eps);
            z[i] = k - 1e-2f;
            double lm = xent_at(z, y, 3, 4, eps);
            z[i] = k;
            CHECK_NEAR(d[i], (lp - lm) / 2e-2, 1e-3);
        }
    }
    nn_mse_loss(z, t, 3, 4, d);
    for (size_t i = 0; i < 12; i++) {
        float k = z[i];
        z[i] = k + 1e-2f;
        double lp = nn_mse_loss(z, t, 3, 4, NULL);
        z[i] = k - 1e-2f;
        double lm = nn_mse_loss(z, t, 3, 4, NULL);
        z[i] = k;
        CHECK_NEAR(d[i], (lp - lm) / 2e-2, 1e-3);
    }
    nn_mse_onehot_loss(z, y, 3, 4, d, NULL);
    for (size_t i = 0; i < 12; i++) {
        float k = z[i];
        z[i] = k + 1e-2f;
        double lp = nn_mse_onehot_loss(z, y, 3, 4, NULL, NULL);
        z[i] = k - 1e-2f;
        double lm = nn_mse_onehot_loss(z, y, 3, 4, NULL, NULL);
        z[i] = k;
        CHECK_NEAR(d[i], (lp - lm) / 2e-2, 1e-3);
    }
    /* hand values: uniform logits, K = 4: loss log 4 whatever the smoothing */
    float u[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    int y0 = 1;
    size_t hits;
    CHECK_NEAR(nn_xent_loss(u, &y0, 1, 4, 0.0, NULL, &hits), log(4.0), 1e-12);
    CHECK_NEAR(nn_xent_loss(u, &y0, 1, 4, 0.3, NULL, NULL), log(4.0), 1e-12);
    /* smoothing: z = (0, ln 3): p = (1/4, 3/4); y = 1, eps 0.2: t = (0.1, 0.9) */
    float z2[2] = {0.0f, (float)log(3.0)};
    double want = -(0.1 * log(0.25) + 0.9 * log(0.75));
    CHECK_NEAR(nn_xent_loss(z2, &y0, 1, 2, 0.2, NULL, NULL), want, 1e-6);
    /* huge logits do not overflow */
    float big[2] = {1e30f, -1e30f};
    int y1 = 0;
    CHECK(isfinite(nn_xent_loss(big, &y1, 1, 2, 0.0, NULL, NULL)));
}

TEST(conv_im2col_matches_naive) {
    const char *archs[] = {"conv:5:3", "conv:4:3:2:1", "conv:3:5:2:2", "conv:6:1", "conv:2:2:1:0"};
    for (size_t a = 0; a < sizeof archs / sizeof *archs; a++) {
        tl_nn *nn = NULL;
        CHECK_OK(tl_nn_create(archs[a], 3, 9, 8, 5, &nn));
        if (!nn) continue;
        const size_t B = 3, din = tl_nn_input_dim(nn), dout = tl_nn_output_dim(nn);
        float x[3 * 3 * 9 * 8], y1[3 * 6 * 9 * 8], y2[3 * 6 * 9 * 8];
        fill_uniform(x, B * din, -1, 1, 9);
        CHECK_OK(tl_nn_forward(nn, x, B, y1));
        nn_conv_forward_naive(nn, &nn->layers[0], x, y2, B);
        double md = 0;
        for (size_t i = 0; i < B * dout; i++) md = fmax(md, fabs(y1[i] - y2[i]));
        CHECK_MSG(md < 1e-5, "%s: max diff %g", archs[a], md);
        tl_nn_free(nn);
    }
    /* a convolution whose im2col of one sample exceeds the chunk budget: one sample per chunk */
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("conv:2:5", 64, 34, 34, 5, &nn));
    if (!nn) return;
    static float xb[3 * 64 * 34 * 34], y1[3 * 2 * 34 * 34], y2[3 * 2 * 34 * 34];
    fill_uniform(xb, 3 * 64 * 34 * 34, -1, 1, 10);
    CHECK_OK(tl_nn_forward(nn, xb, 3, y1));
    CHECK(nn->conv_chunk == 1);
    nn_conv_forward_naive(nn, &nn->layers[0], xb, y2, 3);
    double md = 0;
    for (size_t i = 0; i < 3 * 2 * 34 * 34; i++) md = fmax(md, fabs(y1[i] - y2[i]));
    CHECK_MSG(md < 1e-4, "chunked conv: max diff %g", md);
    tl_nn_free(nn);
}

/* ---- optimisers and schedules ---- */

/* A wide dense layer on sparse rows takes the CSR path (dense.c); its outputs and gradients match
 * the product-only reference, and a dense batch falls back to the products. */
TEST(dense_sparse_matches_gemm) {
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("dense:7", 300, 1, 1, 5, &nn));
    if (!nn) return;
    const size_t B = 5, IN = 300, N = 7;
    static float x[5 * 300], r[5 * 7], y2[5 * 7], dx2[5 * 300], dW2[7 * 300], db2[7];
    for (int dense = 0; dense < 2; dense++) {
        fill_uniform(x, B * IN, -1, 1, 21 + (uint64_t)dense);
        if (!dense) /* about 4% nonzeros; one -0.0f, a zero with its sign bit set */
            for (size_t e = 0; e < B * IN; e++) x[e] = e % 25 == 3 ? x[e] : e == 8 ? -0.0f : 0.0f;
        fill_uniform(r, B * N, -1, 1, 23);
        CHECK_OK(nn_workspace_reserve(nn, B));
        nn->train = true;
        nn->want_input_grad = true;
        memcpy(nn->a[0], x, sizeof x);
        nn_forward_batch(nn, B);
        CHECK(dense ? nn->scr[0].sp_of == NULL : nn->scr[0].sp_of == &nn->layers[0]);
        memcpy(nn->g[1], r, sizeof r);
        nn_zero_grads(nn);
        nn_backward_batch(nn, B);
        nn_dense_forward_gemm(nn, &nn->layers[0], x, y2, B);
        memset(dW2, 0, sizeof dW2);
        memset(db2, 0, sizeof db2);
        nn_dense_backward_gemm(nn, &nn->layers[0], x, r, dx2, B, dW2, db2);
        double md = 0;
        for (size_t e = 0; e < B * N; e++) md = fmax(md, fabs(nn->a[1][e] - y2[e]));
        for (size_t e = 0; e < B * IN; e++) md = fmax(md, fabs(nn->g[0][e] - dx2[e]));
        for (size_t e = 0; e < N * IN; e++) md = fmax(md, fabs(nn->t[nn->layers[0].w].grad[e] - dW2[e]));
        for (size_t e = 0; e < N; e++) md = fmax(md, fabs(nn->t[nn->layers[0].b].grad[e] - db2[e]));
        CHECK_MSG(md < 1e-5, "%s batch: sparse path against the products, max diff %g",
                  dense ? "dense" : "sparse", md);
        nn->want_input_grad = false;
    }
    tl_nn_free(nn);
}

/* A batch handed to the first layer as CSR rows (nn_rows_give, the deep-DA batches) gives the
 * same floats as the dense rows, without reading a[0] (filled with NaN here); rows too dense for
 * the sparse path are written into a[0] instead. 37 units: blocks of 16, a tail and an odd unit. */
TEST(dense_rows_given_match) {
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("dense:37,sigmoid,dense:3", 600, 1, 1, 9, &nn));
    if (!nn) return;
    enum { B = 9, IN = 600, K = 3 };
    static float x[B * IN], r[B * K], y0[B * K], dW0[37 * IN], vd[B * IN];
    static size_t pd[B + 1];
    static int32_t id[B * IN];
    for (int dense = 0; dense < 2; dense++) {
        fill_uniform(x, B * IN, -1, 1, 31 + (uint64_t)dense);
        if (!dense)
            for (size_t e = 0; e < B * IN; e++) x[e] = e % 29 == 5 || e % 31 == 2 ? x[e] : 0.0f;
        fill_uniform(r, B * K, -1, 1, 33);
        const nn_tensor *W = &nn->t[nn->layers[0].w];
        for (int given = 0; given < 2; given++) {
            CHECK_OK(nn_workspace_reserve(nn, B));
            nn->train = true;
            nn_rows rows = {0}, batch = {0};
            if (!given) {
                memcpy(nn->a[0], x, sizeof x);
            } else {
                if (!dense) {
                    CHECK_OK(nn_rows_from_dense(nn, x, B, IN, &rows));
                    CHECK(rows.n == B);
                } else { /* every value nonzero: nn_rows_from_dense refuses it, so by hand */
                    CHECK_OK(nn_rows_from_dense(nn, x, B, IN, &rows));
                    CHECK(rows.n == 0);
                    pd[0] = 0;
                    for (size_t i = 0; i < B; i++) {
                        for (size_t k = 0; k < IN; k++) {
                            id[i * IN + k] = (int32_t)k;
                            vd[i * IN + k] = x[i * IN + k];
                        }
                        pd[i + 1] = (i + 1) * IN;
                    }
                    rows = (nn_rows){B, IN, IN, pd, id, vd};
                }
                CHECK_OK(nn_rows_reserve(&batch, B, rows.maxrow, IN));
                for (size_t i = 0; i < B; i++) nn_rows_append(&batch, &rows, i);
                for (size_t e = 0; e < B * IN; e++) nn->a[0][e] = NAN;
                nn_rows_give(nn, &batch, nn->a[0]);
            }
            nn_forward_batch(nn, B);
            CHECK(nn->scr[0].sp_given == NULL);
            memcpy(nn->g[nn->nl], r, sizeof r);
            nn_zero_grads(nn);
            nn_backward_batch(nn, B);
            if (!given) {
                memcpy(y0, nn->a[nn->nl], sizeof y0);
                memcpy(dW0, W->grad, sizeof dW0);
            } else {
                CHECK_MSG(memcmp(y0, nn->a[nn->nl], sizeof y0) == 0 && memcmp(dW0, W->grad, sizeof dW0) == 0,
                          "%s rows given as CSR: outputs or weight gradient differ from the dense rows",
                          dense ? "dense" : "sparse");
            }
            if (given && dense) memset(&rows, 0, sizeof rows); /* static arrays, not ours to free */
            nn_rows_free(&rows);
            nn_rows_free(&batch);
        }
        if (!dense) { /* and the sparse path itself against the products */
            static float y2[B * 37], dW2[37 * IN], db2[37];
            memcpy(nn->a[0], x, sizeof x);
            nn_forward_batch(nn, B);
            nn_dense_forward_gemm(nn, &nn->layers[0], x, y2, B);
            memset(dW2, 0, sizeof dW2);
            nn_dense_backward_gemm(nn, &nn->layers[0], x, nn->g[1], NULL, B, dW2, db2);
            double md = 0;
            for (size_t e = 0; e < B * 37; e++) md = fmax(md, fabs(nn->a[1][e] - y2[e]));
            for (size_t e = 0; e < 37 * IN; e++) md = fmax(md, fabs(dW0[e] - dW2[e]));
            CHECK_MSG(md < 1e-5, "37 units: sparse path against the products, max diff %g", md);
        }
    }
    tl_nn_free(nn);
}

TEST(optimizer_steps_by_hand) {
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("dense:1", 1, 1, 1, 1, &nn));
    if (!nn) return;
    nn_tensor *w = &nn->t[0], *b = &nn->t[1];
    nn_opt o;
    memset(&o, 0, sizeof o);
    /* SGD momentum 0.9, wd 0.1, lr 0.5: two steps with grad 1 */
    o.kind = TL_NN_SGD;
    o.momentum = 0.9;
    o.weight_decay = 0.1;
    CHECK_OK(nn_opt_prepare(nn, &o));
    w->data[0] = 1.0f;
    b->data[0] = 0.0f;
    w->grad[0] = 1.0f;
    b->grad[0] = 0.0f;
    nn_opt_step(nn, &o, 0.5);
    /* d = 1 + 0.1 = 1.1; buf = 1.1; w = 1 - 0.55 = 0.45 */
    CHECK_NEAR(w->data[0], 0.45, 1e-6);
    w->grad[0] = 1.0f;
    nn_opt_step(nn, &o, 0.5);
    /* d = 1 + 0.045 = 1.045; buf = 0.99 + 1.045 = 2.035; w = 0.45 - 1.0175 */
    CHECK_NEAR(w->data[0], 0.45 - 0.5 * 2.035, 1e-6);
    /* Nesterov from scratch: d = 1.1, buf = 1.1, step = d + 0.9 buf = 2.09 */
    nn_tensor *t0 = w;
    memset(t0->m, 0, sizeof(float));
    memset(&o, 0, sizeof o);
    o.kind = TL_NN_SGD;
    o.momentum = 0.9;
    o.nesterov = true;
    o.weight_decay = 0.1;
    w->data[0] = 1.0f;
    w->grad[0] = 1.0f;
    nn_opt_step(nn, &o, 0.5);
    CHECK_NEAR(w->data[0], 1.0 - 0.5 * 2.09, 1e-6);
    /* AdamW: first step moves by lr (sign of grad) after the decoupled decay */
    memset(&o, 0, sizeof o);
    o.kind = TL_NN_ADAMW;
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    o.weight_decay = 0.01;
    CHECK_OK(nn_opt_prepare(nn, &o));
    w->data[0] = 2.0f;
    w->grad[0] = 3.0f;
    nn_opt_step(nn, &o, 0.1);
    CHECK_NEAR(w->data[0], 2.0 * (1 - 0.1 * 0.01) - 0.1 * 3.0 / (3.0 + 1e-8), 1e-6);
    /* second step, grad -1: m = 0.9*0.3 - 0.1 = 0.17, v = 0.999*0.009 + 0.001 */
    double p = w->data[0];
    w->grad[0] = -1.0f;
    nn_opt_step(nn, &o, 0.1);
    double m = 0.17 / (1 - 0.81), v = (0.999 * 0.009 + 0.001) / (1 - 0.999 * 0.999);
    CHECK_NEAR(w->data[0], p * (1 - 0.001) - 0.1 * m / (sqrt(v) + 1e-8), 1e-5);
    /* L2-SP: grad 0, anchor 1, alpha 2: g = 2 (w - 1) */
    CHECK_OK(tl_nn_l2sp_anchor(nn));
    w->anchor[0] = 1.0f;
    w->data[0] = 3.0f;
    w->grad[0] = 0.0f;
    memset(&o, 0, sizeof o);
    o.kind = TL_NN_SGD;
    o.l2sp_alpha = 2.0;
    nn_opt_step(nn, &o, 0.1);
    CHECK_NEAR(w->data[0], 3.0 - 0.1 * 2.0 * 2.0, 1e-6);
    /* lr multiplier 0 freezes; 0.5 halves */
    CHECK_OK(tl_nn_set_lr_mult(nn, 0, 0.5));
    w->data[0] = 1.0f;
    w->grad[0] = 1.0f;
    o.l2sp_alpha = 0;
    nn_opt_step(nn, &o, 0.1);
    CHECK_NEAR(w->data[0], 0.95, 1e-6);
    CHECK_OK(tl_nn_set_lr_mult(nn, 0, 0.0));
    w->grad[0] = 1.0f;
    nn_opt_step(nn, &o, 0.1);
    CHECK_NEAR(w->data[0], 0.95, 1e-7);
    CHECK_STATUS(tl_nn_set_lr_mult(nn, 0, -1), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_set_lr_mult(nn, 5, 1), TL_ERR_INVALID_ARG);
    tl_nn_free(nn);
}

TEST(schedules) {
    tl_nn_train_params p = tl_nn_train_params_default();
    p.lr = 1.0;
    p.epochs = 10;
    CHECK_NEAR(nn_schedule_lr(&p, 57, 10), 1.0, 1e-12);
    p.schedule = TL_NN_SCHED_STEP;
    p.step_epochs = 3;
    p.step_gamma = 0.5;
    CHECK_NEAR(nn_schedule_lr(&p, 29, 10), 1.0, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 30, 10), 0.5, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 65, 10), 0.25, 1e-12);
    p.schedule = TL_NN_SCHED_COSINE;
    p.min_lr = 0.1;
    CHECK_NEAR(nn_schedule_lr(&p, 0, 10), 1.0, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 50, 10), 0.55, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 100, 10), 0.1, 1e-12);
    p.warmup_epochs = 2; /* 20 warm-up steps, then cosine over 80 */
    CHECK_NEAR(nn_schedule_lr(&p, 0, 10), 1.0 / 20, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 9, 10), 0.5, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 20, 10), 1.0, 1e-12);
    CHECK_NEAR(nn_schedule_lr(&p, 60, 10), 0.55, 1e-12);
    tl_nn_schedule s;
    CHECK_OK(tl_nn_schedule_parse("cosine", &s));
    CHECK(s == TL_NN_SCHED_COSINE);
    CHECK_STATUS(tl_nn_schedule_parse("linear", &s), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("linear");
    tl_nn_optimizer op;
    CHECK_OK(tl_nn_optimizer_parse("adamw", &op));
    CHECK(op == TL_NN_ADAMW);
    tl_nn_loss lo;
    CHECK_OK(tl_nn_loss_parse("mse", &lo));
    CHECK(lo == TL_NN_LOSS_MSE);
}

TEST(params_check) {
    tl_nn_train_params p = tl_nn_train_params_default();
    CHECK_OK(tl_nn_train_params_check(&p));
    p.lr = 0;
    CHECK_STATUS(tl_nn_train_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("learning rate");
    p = tl_nn_train_params_default();
    p.patience = 3;
    CHECK_STATUS(tl_nn_train_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("validation");
    p = tl_nn_train_params_default();
    p.label_smoothing = 1.0;
    CHECK_STATUS(tl_nn_train_params_check(&p), TL_ERR_INVALID_ARG);
    p = tl_nn_train_params_default();
    p.momentum = 0;
    p.nesterov = true;
    CHECK_STATUS(tl_nn_train_params_check(&p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("Nesterov");
}

/* ---- training ---- */

/* Two classes of 4x4 images: a bright top half or a bright bottom half, plus noise (a
 * horizontal flip keeps the class). */
static const tl_nn_train_params *dflt_p(void) {
    static tl_nn_train_params d;
    d = tl_nn_train_params_default();
    return &d;
}
#define dflt (*dflt_p())

static void toy_images(float *x, int *y, size_t n, uint64_t seed, int label0) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 2);
        y[i] = label0 + c;
        for (size_t p = 0; p < 16; p++) {
            bool top = p < 8;
            x[i * 16 + p] = (float)(((top == (c == 0)) ? 1.0 : 0.0) + 0.3 * tl_rng_normal(&r));
        }
    }
}

typedef struct {
    size_t calls;
    double last_loss;
} epoch_seen;

static void on_epoch(void *u, const tl_nn_epoch *e) {
    epoch_seen *s = u;
    s->calls++;
    s->last_loss = e->train_loss;
}

TEST(train_learns_and_is_deterministic) {
    float x[200 * 16];
    int y[200];
    toy_images(x, y, 200, 1, 0);
    const char *arch = "conv:4:3,bn,relu,maxpool:2,flatten,dropout:0.1,dense:2";
    tl_nn *a = NULL, *b = NULL;
    CHECK_OK(tl_nn_create(arch, 1, 4, 4, 9, &a));
    CHECK_OK(tl_nn_create(arch, 1, 4, 4, 9, &b));
    if (!a || !b) goto out;
    tl_nn_train_params p = tl_nn_train_params_default();
    p.epochs = 5;
    p.batch_size = 16;
    p.lr = 0.05;
    p.val_fraction = 0.2;
    p.crop_pad = 1;
    p.flip = false;
    epoch_seen seen = {0, 0};
    p.on_epoch = on_epoch;
    p.user = &seen;
    tl_nn_train_result r;
    CHECK_OK(tl_nn_train(a, &p, x, y, 200, &r));
    CHECK(r.epochs_run == 5 && seen.calls == 5);
    CHECK(r.val_acc > 0.9);
    CHECK(r.train_loss < 0.5);
    CHECK(r.steps == 5 * 10);
    CHECK_OK(tl_nn_train(b, &p, x, y, 200, NULL));
    bool same = true;
    for (size_t t = 0; t < a->nt; t++)
        same = same && memcmp(a->t[t].data, b->t[t].data, a->t[t].size * sizeof(float)) == 0;
    CHECK_MSG(same, "two runs with the same seed differ");
    double acc, loss;
    float xt[100 * 16];
    int yt[100], pred[100];
    toy_images(xt, yt, 100, 2, 0);
    CHECK_OK(tl_nn_evaluate(a, xt, yt, 100, &acc, &loss));
    CHECK(acc > 0.9 && loss < 0.5);
    CHECK_OK(tl_nn_predict(a, xt, 100, pred));
    size_t hits = 0;
    for (size_t i = 0; i < 100; i++) hits += pred[i] == yt[i];
    CHECK_NEAR((double)hits / 100, acc, 1e-12);
    float P[200];
    CHECK_OK(tl_nn_predict_proba(a, xt, 100, P));
    CHECK_NEAR(P[0] + P[1], 1.0, 1e-6);
    /* AdamW with cosine + warm-up, label smoothing and Nesterov SGD also learn */
    tl_nn_free(b);
    b = NULL;
    CHECK_OK(tl_nn_create(arch, 1, 4, 4, 3, &b));
    p = tl_nn_train_params_default();
    p.optimizer = TL_NN_ADAMW;
    p.lr = 0.01;
    p.weight_decay = 0.01;
    p.schedule = TL_NN_SCHED_COSINE;
    p.warmup_epochs = 1;
    p.label_smoothing = 0.1;
    p.epochs = 4;
    p.flip = true;
    if (b) CHECK_OK(tl_nn_train(b, &p, x, y, 200, &r));
    if (b) CHECK_OK(tl_nn_evaluate(b, xt, yt, 100, &acc, NULL));
    CHECK(acc > 0.9);
    tl_nn_free(b);
    b = NULL;
    CHECK_OK(tl_nn_create("flatten,dense:8,tanh,dense:2", 1, 4, 4, 3, &b));
    p = tl_nn_train_params_default();
    p.nesterov = true;
    p.loss = TL_NN_LOSS_MSE;
    p.lr = 0.1;
    p.schedule = TL_NN_SCHED_STEP;
    p.step_epochs = 2;
    if (b) CHECK_OK(tl_nn_train(b, &p, x, y, 200, &r));
    if (b) CHECK_OK(tl_nn_evaluate(b, xt, yt, 100, &acc, NULL));
    CHECK(acc > 0.9);
out:
    tl_nn_free(a);
    tl_nn_free(b);
}

TEST(train_early_stopping_and_csv_log) {
    float x[100 * 16];
    int y[100];
    toy_images(x, y, 100, 4, 0);
    /* noisy labels: validation loss stops improving early */
    for (size_t i = 0; i < 100; i += 3) y[i] = 1 - y[i];
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("flatten,dense:64,relu,dense:2", 1, 4, 4, 1, &nn));
    if (!nn) return;
    char path[] = "/tmp/tl_nn_log_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    tl_nn_train_params p = tl_nn_train_params_default();
    p.epochs = 200;
    p.lr = 0.1;
    p.batch_size = 8;
    p.val_fraction = 0.3;
    p.patience = 3;
    p.log_csv = path;
    tl_nn_train_result r;
    CHECK_OK(tl_nn_train(nn, &p, x, y, 100, &r));
    CHECK(r.stopped_early);
    CHECK(r.epochs_run < 200 && r.best_epoch + 3 == r.epochs_run);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        char line[256];
        size_t lines = 0;
        bool header = fgets(line, sizeof line, f) && strncmp(line, "epoch,lr,train_loss", 19) == 0;
        CHECK(header);
        while (fgets(line, sizeof line, f)) lines++;
        CHECK(lines == r.epochs_run);
        fclose(f);
    }
    /* the model holds the best epoch: its validation loss is what was reported */
    remove(path);
    tl_nn_free(nn);
}

TEST(train_nan_stop_keeps_last_good_model) {
    float x[64 * 16];
    int y[64];
    toy_images(x, y, 64, 5, 0);
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("flatten,dense:2", 1, 4, 4, 1, &nn));
    if (!nn) return;
    /* weights 1 and inputs 3e38: the first forward pass overflows to (Inf, Inf), the loss is NaN
     * at epoch 1, step 1, and the model keeps its starting parameters */
    for (size_t k = 0; k < 32; k++) nn->t[0].data[k] = 1.0f;
    float huge[64 * 16];
    for (size_t i = 0; i < 64 * 16; i++) huge[i] = 3e38f;
    tl_nn_train_params p = tl_nn_train_params_default();
    tl_nn_train_result r;
    CHECK_STATUS(tl_nn_train(nn, &p, huge, y, 64, &r), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("epoch 1, step 1");
    CHECK_ERR_HAS("before training");
    CHECK(r.nonfinite && r.best_epoch == 0);
    bool ones = true;
    for (size_t k = 0; k < 32; k++) ones = ones && nn->t[0].data[k] == 1.0f;
    CHECK(ones);
    tl_nn_free(nn);
    nn = NULL;
    /* an absurd learning rate diverges after a while: the model keeps the last finite epoch */
    CHECK_OK(tl_nn_create("flatten,dense:16,relu,dense:2", 1, 4, 4, 1, &nn));
    if (!nn) return;
    p.lr = 1e6;
    p.momentum = 0;
    p.epochs = 50;
    CHECK_STATUS(tl_nn_train(nn, &p, x, y, 64, &r), TL_ERR_NONFINITE);
    CHECK(r.nonfinite && r.best_epoch + 1 == r.epochs_run);
    bool finite = true;
    for (size_t t = 0; t < nn->nt; t++)
        for (size_t k = 0; k < nn->t[t].size; k++) finite = finite && isfinite(nn->t[t].data[k]);
    CHECK(finite);
    double acc;
    CHECK_OK(tl_nn_evaluate(nn, x, y, 64, &acc, NULL));
    /* NaN in the input is refused before training */
    x[17] = NAN;
    CHECK_STATUS(tl_nn_train(nn, &dflt, x, y, 64, NULL), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("sample 2");
    tl_nn_free(nn);
}

TEST(bad_inputs) {
    float x[8 * 16];
    int y[8];
    toy_images(x, y, 8, 6, 0);
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("flatten,dense:2", 1, 4, 4, 1, &nn));
    if (!nn) return;
    y[3] = 7;
    CHECK_STATUS(tl_nn_train(nn, &dflt, x, y, 8, NULL), TL_ERR_LABEL);
    CHECK_ERR_HAS("label 7");
    CHECK_ERR_HAS("sample 4");
    CHECK_STATUS(tl_nn_evaluate(nn, x, y, 8, NULL, NULL), TL_ERR_LABEL);
    /* wrong input shape */
    double X[2 * 15] = {0};
    float xf[32];
    CHECK_STATUS(tl_nn_input_from_mat(nn, tl_mat_view(X, 2, 15), xf), TL_ERR_SHAPE);
    CHECK_ERR_HAS("15 features");
    CHECK_ERR_HAS("1x4x4");
    /* labels: wrong count, duplicates */
    int lab[3] = {4, 5, 6};
    CHECK_STATUS(tl_nn_set_labels(nn, lab, 3), TL_ERR_SHAPE);
    lab[1] = 4;
    CHECK_STATUS(tl_nn_set_labels(nn, lab, 2), TL_ERR_LABEL);
    lab[1] = 9;
    CHECK_OK(tl_nn_set_labels(nn, lab, 2));
    y[3] = 4;
    for (size_t i = 0; i < 8; i++) y[i] = y[i] ? 9 : 4;
    CHECK_OK(tl_nn_train(nn, &dflt, x, y, 8, NULL));
    /* augmentation on flat inputs */
    tl_nn *flat = NULL;
    CHECK_OK(tl_nn_create("dense:2", 16, 1, 1, 1, &flat));
    tl_nn_train_params p = tl_nn_train_params_default();
    p.flip = true;
    for (size_t i = 0; i < 8; i++) y[i] = (int)(i % 2);
    if (flat) CHECK_STATUS(tl_nn_train(flat, &p, x, y, 8, NULL), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("image");
    tl_nn_free(flat);
    tl_nn_free(nn);
}

TEST(freeze_new_head_and_embed) {
    float x[120 * 16];
    int y[120];
    toy_images(x, y, 120, 7, 0);
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("conv:4:3,bn,relu,maxpool:2,flatten,dense:8,relu,dense:2", 1, 4, 4, 1, &nn));
    if (!nn) return;
    tl_nn_train_params p = tl_nn_train_params_default();
    p.batch_size = 16;
    p.lr = 0.05;
    CHECK_OK(tl_nn_train(nn, &p, x, y, 120, NULL));
    /* target task: labels 5 and 6, reversed meaning, new head */
    for (size_t i = 0; i < 120; i++) y[i] = y[i] ? 5 : 6;
    CHECK_OK(tl_nn_new_head(nn, 2, 77));
    CHECK(tl_nn_labels(nn)[0] == 0 && tl_nn_labels(nn)[1] == 1);
    int lab[2] = {5, 6};
    CHECK_OK(tl_nn_set_labels(nn, lab, 2));
    size_t i7;
    CHECK_OK(tl_nn_layer_find(nn, "relu2", &i7));
    CHECK_OK(tl_nn_freeze_until(nn, i7));
    float before[4 * 9], bn_rm[4];
    memcpy(before, nn->t[0].data, sizeof before);
    memcpy(bn_rm, nn->t[4].data, sizeof bn_rm); /* bn1.running_mean */
    CHECK(strcmp(nn->t[4].name, "bn1.running_mean") == 0);
    p.epochs = 5;
    CHECK_OK(tl_nn_train(nn, &p, x, y, 120, NULL));
    CHECK(memcmp(before, nn->t[0].data, sizeof before) == 0);
    CHECK(memcmp(bn_rm, nn->t[4].data, sizeof bn_rm) == 0); /* frozen bn: eval mode */
    double acc;
    CHECK_OK(tl_nn_evaluate(nn, x, y, 120, &acc, NULL));
    CHECK_MSG(acc > 0.9, "acc %g", acc);
    /* embedding = the head's input */
    size_t e;
    CHECK_OK(tl_nn_embed_layer(nn, &e));
    CHECK(e == i7);
    float F[120 * 8];
    CHECK_OK(tl_nn_embed(nn, e, x, 120, F));
    float Z[120 * 2];
    CHECK_OK(tl_nn_forward(nn, x, 120, Z));
    const float *W = nn->t[nn->layers[e + 1].w].data, *b = nn->t[nn->layers[e + 1].b].data;
    double z = b[1];
    for (size_t k = 0; k < 8; k++) z += (double)W[8 + k] * F[5 * 8 + k];
    CHECK_NEAR(Z[5 * 2 + 1], z, 1e-5);
    /* unfreeze all; L2-SP with a huge alpha keeps the anchored weights in place */
    CHECK_OK(tl_nn_freeze_until(nn, (size_t)-1));
    CHECK_OK(tl_nn_l2sp_anchor(nn));
    memcpy(before, nn->t[0].data, sizeof before);
    p.l2sp_alpha = 1e3;
    p.lr = 1e-3;
    p.momentum = 0;
    CHECK_OK(tl_nn_train(nn, &p, x, y, 120, NULL));
    double md = 0;
    for (size_t k = 0; k < 36; k++) md = fmax(md, fabs(before[k] - nn->t[0].data[k]));
    CHECK(md < 1e-3);
    CHECK_STATUS(tl_nn_freeze_until(nn, 99), TL_ERR_INVALID_ARG);
    tl_nn *c = NULL;
    CHECK_OK(tl_nn_clone(nn, &c));
    if (c) {
        float Z2[120 * 2];
        CHECK_OK(tl_nn_forward(nn, x, 120, Z));
        CHECK_OK(tl_nn_forward(c, x, 120, Z2));
        double mdz = 0;
        for (size_t k = 0; k < 240; k++) mdz = fmax(mdz, fabs(Z[k] - Z2[k]));
        CHECK_MSG(mdz < 1e-6, "clone output differs by %g", mdz);
        if (getenv("TL_NN_VERBOSE")) printf("clone diff %g\n", mdz);
        CHECK(tl_nn_labels(c)[1] == 6);
        tl_nn_free(c);
    }
    tl_nn_free(nn);
}

int main(void) {
    RUN(arch_parse_and_shapes);
    RUN(arch_errors_name_the_token);
    RUN(grad_dense);
    RUN(grad_conv);
    RUN(grad_pools);
    RUN(grad_batchnorm);
    RUN(grad_dropout_and_activations);
    RUN(grad_residual_and_whole_network);
    RUN(arch_projection_shortcut);
    RUN(arch_projection_errors_name_the_token);
    RUN(grad_projection_shortcut);
    RUN(projection_shortcut_frozen_parts);
    RUN(grad_losses);
    RUN(conv_im2col_matches_naive);
    RUN(dense_sparse_matches_gemm);
    RUN(dense_rows_given_match);
    RUN(optimizer_steps_by_hand);
    RUN(schedules);
    RUN(params_check);
    RUN(train_learns_and_is_deterministic);
    RUN(train_early_stopping_and_csv_log);
    RUN(train_nan_stop_keeps_last_good_model);
    RUN(bad_inputs);
    RUN(freeze_new_head_and_embed);
    return tl_test_summary();
}
