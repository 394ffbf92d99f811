/* Tests of the head surgery for model-based transfer (src/nn/head.c): a new head on a chosen
 * layer (tl_nn_new_head_at: the kept layers' tensors, running statistics, freezing and L2-SP
 * anchors survive, the head is PyTorch-initialised from the seed like a fresh network's, cuts
 * inside a residual block are refused) and weight imprinting (tl_nn_imprint_head: rows
 * hand-computed on a 3-feature example, classes without samples keep their rows, bad arguments,
 * and on toy images an imprinted head with no training classifies like the nearest normalised
 * class mean). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nn/nn_internal.h"
#include "tl/nn.h"

/* n 1x6x6 "images" of two classes (labels l0, l1): a bright top or bottom half with noise */
static void toy(float *x, int *y, size_t n, int l0, int l1, uint64_t seed) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        const int c = (int)(i % 2);
        for (size_t p = 0; p < 36; p++)
            x[i * 36 + p] = (float)(((p < 18) == (c == 0) ? 0.8 : 0.1) + 0.3 * tl_rng_uniform(&r));
        y[i] = c ? l1 : l0;
    }
}

static long tensor_index(const tl_nn *nn, const char *name) {
    size_t i;
    return tl_nn_tensor_find(nn, name, &i) == TL_OK ? (long)i : -1;
}

TEST(new_head_at_keeps_the_trunk) {
    const char *arch = "conv:4:3,bn,relu,maxpool:2,conv:6:3,relu,gap,dense:8,relu,dense:3";
    tl_nn *nn = NULL, *ref = NULL, *same = NULL;
    CHECK_OK(tl_nn_create(arch, 1, 6, 6, 5, &nn));
    if (!nn) return;
    float x[40 * 36];
    int y[40];
    toy(x, y, 40, 0, 1, 3);
    tl_nn_train_params p = tl_nn_train_params_default();
    p.epochs = 2;
    p.batch_size = 8;
    CHECK_OK(tl_nn_train(nn, &p, x, y, 40, NULL)); /* running statistics move off their defaults */
    size_t mp;
    CHECK_OK(tl_nn_layer_find(nn, "maxpool1", &mp));
    CHECK_OK(tl_nn_freeze_until(nn, 1)); /* conv1, bn1 frozen */
    CHECK_OK(tl_nn_set_lr_mult(nn, 2, 0.5));
    CHECK_OK(tl_nn_l2sp_anchor(nn));
    /* what the kept layers compute, before the cut */
    float before[40 * 36];
    CHECK_OK(tl_nn_embed(nn, mp, x, 40, before));
    float rm[4];
    memcpy(rm, nn->t[tensor_index(nn, "bn1.running_mean")].data, sizeof rm);
    CHECK_OK(tl_nn_new_head_at(nn, mp, 5, 77));
    CHECK(strcmp(tl_nn_arch(nn), "conv:4:3,bn,relu,maxpool:2,flatten,dense:5") == 0);
    CHECK(tl_nn_layer_count(nn) == 6);
    CHECK(tl_nn_output_dim(nn) == 5);
    for (int k = 0; k < 5; k++) CHECK(tl_nn_labels(nn)[k] == k);
    CHECK(nn->layers[0].frozen && nn->layers[1].frozen && !nn->layers[2].frozen);
    CHECK(!nn->layers[5].frozen);
    CHECK_NEAR(nn->layers[2].lr_mult, 0.5, 0);
    CHECK(memcmp(rm, nn->t[tensor_index(nn, "bn1.running_mean")].data, sizeof rm) == 0);
    CHECK(nn->t[tensor_index(nn, "conv1.weight")].anchor != NULL);
    CHECK(nn->t[tensor_index(nn, "dense1.weight")].anchor == NULL); /* the new head: no anchor */
    float after[40 * 36];
    CHECK_OK(tl_nn_embed(nn, 3, x, 40, after));
    CHECK(memcmp(before, after, sizeof(float) * 40 * 4 * 3 * 3) == 0);
    /* the head is initialised as a fresh network of that architecture from the same seed */
    CHECK_OK(tl_nn_create("conv:4:3,bn,relu,maxpool:2,flatten,dense:5", 1, 6, 6, 77, &ref));
    if (ref) {
        const long a = tensor_index(nn, "dense1.weight"), b = tensor_index(ref, "dense1.weight");
        CHECK(a >= 0 && b >= 0);
        if (a >= 0 && b >= 0) {
            CHECK(nn->t[a].size == 5 * 36 && ref->t[b].size == 5 * 36);
            CHECK(memcmp(nn->t[a].data, ref->t[b].data, 5 * 36 * sizeof(float)) == 0);
        }
    }
    /* it trains, saves and loads like any network */
    int y5[40];
    for (size_t i = 0; i < 40; i++) y5[i] = y[i] + 3;
    int lab[5] = {0, 1, 2, 3, 4};
    CHECK_OK(tl_nn_set_labels(nn, lab, 5));
    CHECK_OK(tl_nn_train(nn, &p, x, y5, 40, NULL));
    char path[] = "/tmp/tl_test_head_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        close(fd);
        CHECK_OK(tl_nn_save(nn, path));
        CHECK_OK(tl_nn_load(path, &same));
        if (same) CHECK(strcmp(tl_nn_arch(same), tl_nn_arch(nn)) == 0);
        remove(path);
    }
    tl_nn_free(same);
    tl_nn_free(ref);
    tl_nn_free(nn);
}

TEST(new_head_at_flat_layer_and_errors) {
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("conv:4:3,relu,gap,dense:8,relu,dense:3", 1, 6, 6, 5, &nn));
    if (!nn) return;
    CHECK_OK(tl_nn_new_head_at(nn, 2, 2, 1)); /* gap gives 4 x 1 x 1: no flatten */
    CHECK(strcmp(tl_nn_arch(nn), "conv:4:3,relu,gap,dense:2") == 0);
    CHECK_STATUS(tl_nn_new_head_at(nn, 4, 2, 1), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("out of range");
    CHECK_STATUS(tl_nn_new_head_at(nn, 1, 0, 1), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_new_head_at(NULL, 1, 2, 1), TL_ERR_INVALID_ARG);
    tl_nn_free(nn);
    /* a cut inside a residual block is refused and changes nothing */
    CHECK_OK(tl_nn_create("conv:4:3,relu,[conv:4:3,relu],gap,dense:2", 1, 6, 6, 5, &nn));
    if (!nn) return;
    const char *before = "conv:4:3,relu,[conv:4:3,relu],gap,dense:2";
    CHECK(strcmp(tl_nn_arch(nn), before) == 0);
    CHECK_STATUS(tl_nn_new_head_at(nn, 2, 3, 1), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("residual block");
    CHECK(strcmp(tl_nn_arch(nn), before) == 0);
    CHECK(tl_nn_output_dim(nn) == 2);
    CHECK_OK(tl_nn_new_head_at(nn, 4, 3, 1)); /* on the block's output (the add layer) */
    CHECK(strcmp(tl_nn_arch(nn), "conv:4:3,relu,[conv:4:3,relu],flatten,dense:3") == 0);
    tl_nn_free(nn);
    /* with a projection shortcut: cuts in the main path (whose last layer is below the
     * shortcut's in the layer list) and in the shortcut are refused; on the add the block,
     * shortcut included, is kept with its weights */
    const char *proj = "conv:4:3,relu,[conv:6:3:2,relu,conv:6:3|conv:6:1:2],gap,dense:2";
    CHECK_OK(tl_nn_create(proj, 1, 6, 6, 5, &nn));
    if (!nn) return;
    for (size_t cut = 2; cut <= 5; cut++) { /* conv2, relu2, conv3 (main), conv4 (shortcut) */
        CHECK_STATUS(tl_nn_new_head_at(nn, cut, 3, 1), TL_ERR_INVALID_ARG);
        CHECK_ERR_HAS("residual block");
        CHECK(strcmp(tl_nn_arch(nn), proj) == 0);
    }
    float x[3 * 36], f[3 * 6 * 9], g[3 * 6 * 9];
    for (size_t i = 0; i < 3 * 36; i++) x[i] = (float)sin(0.7 * (double)i);
    CHECK_OK(tl_nn_embed(nn, 6, x, 3, f));
    CHECK_OK(tl_nn_new_head_at(nn, 6, 3, 1));
    CHECK(strcmp(tl_nn_arch(nn), "conv:4:3,relu,[conv:6:3:2,relu,conv:6:3|conv:6:1:2],flatten,"
                                 "dense:3") == 0);
    CHECK_OK(tl_nn_embed(nn, 6, x, 3, g));
    CHECK(memcmp(f, g, sizeof f) == 0);
    tl_nn_free(nn);
}

TEST(imprint_hand_computed) {
    /* features = the 3 input values (flatten is the head's input); head rows for labels 5, 9, 2 */
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("flatten,dense:3", 1, 1, 3, 4, &nn));
    if (!nn) return;
    int lab[3] = {5, 9, 2};
    CHECK_OK(tl_nn_set_labels(nn, lab, 3));
    const float x[] = {3, 4, 0,  /* label 5, norm 5 */
                       0, 0, 2,  /* label 5, norm 2 */
                       0, 1, 0}; /* label 9, norm 1 */
    const int y[] = {5, 5, 9};
    float *W = nn->t[nn->layers[1].w].data, *b = nn->t[nn->layers[1].b].data;
    float row2[3], b2 = b[2];
    memcpy(row2, W + 6, sizeof row2);
    size_t rows = 99;
    CHECK_OK(tl_nn_imprint_head(nn, x, y, 3, 4.0, &rows));
    CHECK(rows == 2);
    /* mean norm 8/3, so rows have norm 4 / (8/3) = 1.5; label 5: (0.6, 0.8, 1) / sqrt(2) */
    const double g = 1.5 / sqrt(2.0);
    CHECK_NEAR(W[0], 0.6 * g, 1e-6);
    CHECK_NEAR(W[1], 0.8 * g, 1e-6);
    CHECK_NEAR(W[2], 1.0 * g, 1e-6);
    CHECK_NEAR(W[3], 0.0, 1e-6);
    CHECK_NEAR(W[4], 1.5, 1e-6);
    CHECK_NEAR(W[5], 0.0, 1e-6);
    CHECK(b[0] == 0.0f && b[1] == 0.0f);
    CHECK(memcmp(row2, W + 6, sizeof row2) == 0 && b[2] == b2); /* label 2: no sample, kept */
    /* bad arguments */
    const int y_bad[] = {5, 7, 9};
    CHECK_STATUS(tl_nn_imprint_head(nn, x, y_bad, 3, 4.0, NULL), TL_ERR_LABEL);
    CHECK_ERR_HAS("label 7");
    CHECK_STATUS(tl_nn_imprint_head(nn, x, y, 3, 0.0, NULL), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_imprint_head(nn, x, y, 3, NAN, NULL), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_imprint_head(nn, x, y, 0, 4.0, NULL), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_imprint_head(nn, NULL, y, 3, 4.0, NULL), TL_ERR_INVALID_ARG);
    const float zeros[9] = {0};
    CHECK_STATUS(tl_nn_imprint_head(nn, zeros, y, 3, 4.0, NULL), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("zero");
    tl_nn_free(nn);
    /* a network whose first layer is the head has no embedding to imprint from */
    CHECK_OK(tl_nn_create("dense:2", 3, 1, 1, 4, &nn));
    if (!nn) return;
    const int y01[] = {0, 1, 1};
    CHECK_STATUS(tl_nn_imprint_head(nn, x, y01, 3, 4.0, NULL), TL_ERR_NOT_FOUND);
    tl_nn_free(nn);
}

TEST(imprint_is_nearest_normalised_mean) {
    /* an untrained conv trunk cut below its head, imprinted from 3 images per class */
    tl_nn *nn = NULL;
    CHECK_OK(tl_nn_create("conv:6:3,relu,maxpool:2,conv:4:3,relu,gap,dense:8,relu,dense:2", 1, 6, 6,
                          9, &nn));
    if (!nn) return;
    CHECK_OK(tl_nn_new_head_at(nn, 2, 2, 3)); /* head on maxpool1: 6 x 3 x 3 features */
    int lab[2] = {7, 8};
    CHECK_OK(tl_nn_set_labels(nn, lab, 2));
    float xs[6 * 36], xt[200 * 36];
    int ys[6], yt[200];
    toy(xs, ys, 6, 7, 8, 21);
    toy(xt, yt, 200, 7, 8, 22);
    CHECK_OK(tl_nn_imprint_head(nn, xs, ys, 6, 10.0, NULL));
    /* predictions = argmax cosine to the normalised mean of the normalised embeddings */
    enum { D = 54 };
    float Fs[6 * D], Ft[200 * D];
    CHECK_OK(tl_nn_embed(nn, 3, xs, 6, Fs));
    CHECK_OK(tl_nn_embed(nn, 3, xt, 200, Ft));
    double mu[2][D] = {{0}};
    for (size_t i = 0; i < 6; i++) {
        double q = 0;
        for (size_t k = 0; k < D; k++) q += (double)Fs[i * D + k] * Fs[i * D + k];
        for (size_t k = 0; k < D; k++) mu[ys[i] - 7][k] += Fs[i * D + k] / sqrt(q);
    }
    int pred[200];
    CHECK_OK(tl_nn_predict(nn, xt, 200, pred));
    size_t agree = 0, hits = 0;
    for (size_t i = 0; i < 200; i++) {
        double c[2];
        for (int j = 0; j < 2; j++) {
            double dot = 0, q = 0;
            for (size_t k = 0; k < D; k++) {
                dot += mu[j][k] * Ft[i * D + k];
                q += mu[j][k] * mu[j][k];
            }
            c[j] = dot / sqrt(q);
        }
        agree += pred[i] == (c[1] > c[0] ? 8 : 7);
        hits += pred[i] == yt[i];
    }
    CHECK_MSG(agree == 200, "%zu of 200 agree", agree);
    CHECK_MSG(hits >= 180, "imprinted head without training: %zu of 200 right", hits);
    tl_nn_free(nn);
}

int main(void) {
    RUN(new_head_at_keeps_the_trunk);
    RUN(new_head_at_flat_layer_and_errors);
    RUN(imprint_hand_computed);
    RUN(imprint_is_nearest_normalised_mean);
    return tl_test_summary();
}
