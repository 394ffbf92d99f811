/* Head surgery for model-based transfer: a new head on any layer of a pre-trained network, and
 * weight imprinting of a head's rows from a few labelled samples.
 *
 * New head at a layer: keep layers 0..L, drop the rest, and put a fresh dense layer (after a
 * flatten when L's output is not flat) on L's output. Why: the penultimate layer of a network
 * trained on a few source classes collapses toward those classes (one tight cluster per class,
 * Papyan et al. 2020) and transfers worst; the layers just below it keep far more that is useful
 * to new classes (Yosinski et al. 2014). In scripts/demo_nn.sh (Fashion-MNIST 0-4 -> 5-9, a
 * validation split) a linear classifier on the demo CNN's 32 global-average-pooled penultimate
 * features reaches ~77 % from 10 images per class, on its second conv block's 1568 pooled
 * features ~89 %. Built by rebuilding the architecture string of the kept layers
 * plus the head and copying the kept tensors over (as tl_nn_new_head does), so the result is an
 * ordinary network that saves, loads and exports like any other.
 *
 * Weight imprinting (Qi, Brown and Lowe, "Low-shot learning with imprinted weights", CVPR 2018):
 * initialise each class's row of the last dense layer from the few labelled examples of that
 * class instead of at random. With f_i the embedding of sample i (the head's input, eval mode),
 *     w_c = s / mean_i ||f_i|| * normalize( sum_{i in c} f_i / ||f_i|| ),   b_c = 0,
 * so that w_c . f = s * cos(f, w_c) for a feature of average norm: the layer starts as the
 * paper's cosine classifier with scale s (a nearest-class-mean rule on the unit sphere), which
 * is already a sensible classifier from one image per class, and fine-tuning starts from there
 * instead of from a random head. The head stays an ordinary dense layer (no separate cosine
 * layer to save, load or export), so the scale is folded into the row norms; classes with no
 * sample keep their rows, which is the paper's setting of adding novel classes beside trained
 * ones. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"

/* Whether a residual block opens at or before `last` and closes after it (then layers 0..last
 * are not a whole network); *block: the block's add layer. A projection shortcut's layers lie
 * between the main path and the add, so a cut in either path is inside its block. */
static bool cut_inside_block(const tl_nn *nn, size_t last, size_t *block) {
    for (size_t j = last + 1; j < nn->nl; j++)
        if (nn->layers[j].kind == NN_ADD && nn->layers[j].start <= last) {
            *block = j;
            return true;
        }
    return false;
}

tl_status tl_nn_new_head_at(tl_nn *nn, size_t last, size_t k, uint64_t seed) {
    tl_status st = TL_OK;
    tl_nn *fresh = NULL;
    char *arch = NULL;
    TL_CHECK(nn, TL_ERR_INVALID_ARG, "nn_new_head_at: NULL network");
    TL_CHECK(k >= 1 && k <= (1u << 24), TL_ERR_INVALID_ARG, "nn_new_head_at: %zu classes", k);
    TL_CHECK(last < nn->nl, TL_ERR_INVALID_ARG, "nn_new_head_at: layer %zu out of range (%zu "
             "layers)", last, nn->nl);
    size_t blk;
    TL_CHECK(!cut_inside_block(nn, last, &blk), TL_ERR_INVALID_ARG, "new head at %s: the layer "
             "is inside the residual block that ends at %s; put the head on the block's output",
             nn->layers[last].name, nn->layers[blk].name);
    /* the canonical string of layers 0..last, then the head */
    const size_t nl = nn->nl;
    nn->nl = last + 1;
    st = nn_rebuild_arch(nn);
    nn->nl = nl;
    if (st == TL_OK) {
        const size_t len = strlen(nn->arch) + 64;
        TL_ALLOC(arch, len);
        const nn_shape o = nn->layers[last].out;
        snprintf(arch, len, "%s%s,dense:%zu", nn->arch, o.h * o.w == 1 ? "" : ",flatten", k);
    }
    tl_status st2 = nn_rebuild_arch(nn); /* back to the whole network's string */
    if (st == TL_OK) st = st2;
    if (st != TL_OK) goto done;
    TL_TRY(tl_nn_create(arch, nn->in.c, nn->in.h, nn->in.w, seed, &fresh));
    /* the kept layers are the first last+1 of both networks, with the same names and tensors */
    for (size_t i = 0; i < fresh->nt; i++) {
        nn_tensor *t = &fresh->t[i];
        if (t->layer > last) continue;
        for (size_t j = 0; j < nn->nt; j++) {
            nn_tensor *s = &nn->t[j];
            if (s->layer != t->layer || strcmp(s->name, t->name) != 0) continue;
            TL_CHECK(s->size == t->size, TL_ERR_SHAPE, "nn_new_head_at: tensor %s changed size",
                     t->name); /* cannot happen: the kept layers are rebuilt from their string */
            memcpy(t->data, s->data, t->size * sizeof(float));
            if (s->anchor) {
                t->anchor = s->anchor;
                s->anchor = NULL;
            }
        }
    }
    for (size_t i = 0; i <= last; i++) {
        fresh->layers[i].frozen = nn->layers[i].frozen;
        fresh->layers[i].lr_mult = nn->layers[i].lr_mult;
    }
    fresh->in_shift = nn->in_shift;
    fresh->in_scale = nn->in_scale;
    fresh->infer_batch = nn->infer_batch;
    {
        tl_nn tmp = *nn;
        *nn = *fresh;
        *fresh = tmp;
    }
done:
    tl_free(arch);
    tl_nn_free(fresh);
    return st;
}

tl_status tl_nn_imprint_head(tl_nn *nn, const float *x /* (n, input dim) */,
                             const int *y /* (n) label values */, size_t n, double scale,
                             size_t *imprinted) {
    tl_status st = TL_OK;
    float *F = NULL;
    int *idx = NULL;
    double *sum = NULL, *cnt = NULL;
    if (imprinted) *imprinted = 0;
    TL_CHECK(nn && (x || !n) && (y || !n), TL_ERR_INVALID_ARG, "nn_imprint_head: NULL argument");
    TL_CHECK(n >= 1, TL_ERR_INVALID_ARG, "nn_imprint_head: no samples to imprint from");
    TL_CHECK(isfinite(scale) && scale > 0 && scale <= 1e6, TL_ERR_INVALID_ARG,
             "nn_imprint_head: scale %g must be in (0, 1e6]", scale);
    size_t e;
    TL_TRY(tl_nn_embed_layer(nn, &e));
    const nn_layer *H = &nn->layers[e + 1];
    const size_t K = H->units, d = nn_shape_size(nn->layers[e].out);
    TL_CHECK(d == nn_shape_size(H->in), TL_ERR_SHAPE, "nn_imprint_head: the head takes %zu inputs, "
             "layer %s gives %zu", nn_shape_size(H->in), nn->layers[e].name, d);
    TL_ALLOC(idx, n);
    TL_TRY(nn_map_labels(nn, y, n, idx));
    size_t nd, kd;
    TL_CHECK(tl_size_mul(n, d, &nd) == 0 && tl_size_mul(K, d, &kd) == 0, TL_ERR_NOMEM,
             "nn_imprint_head: %zu samples x %zu features overflows", n, d);
    TL_ALLOC(F, nd);
    TL_TRY(tl_nn_embed(nn, e, x, n, F));
    TL_CALLOC(sum, kd);
    TL_CALLOC(cnt, K);
    double norm_sum = 0;
    size_t norm_n = 0;
    for (size_t i = 0; i < n; i++) {
        const float *f = F + i * d;
        double q = 0;
        for (size_t k = 0; k < d; k++) q += (double)f[k] * f[k];
        TL_CHECK(isfinite(q), TL_ERR_NONFINITE, "nn_imprint_head: the embedding of sample %zu is "
                 "not finite", i + 1);
        if (q <= 0) continue; /* an all-zero feature has no direction */
        const double r = sqrt(q);
        norm_sum += r;
        norm_n++;
        double *s = sum + (size_t)idx[i] * d;
        for (size_t k = 0; k < d; k++) s[k] += f[k] / r;
        cnt[idx[i]] += 1;
    }
    TL_CHECK(norm_n > 0, TL_ERR_INVALID_ARG, "nn_imprint_head: every sample's embedding (layer %s) "
             "is zero", nn->layers[e].name);
    const double row_norm = scale / (norm_sum / (double)norm_n);
    float *W = nn->t[H->w].data, *b = H->b >= 0 ? nn->t[H->b].data : NULL;
    size_t done_k = 0;
    for (size_t c = 0; c < K; c++) {
        if (cnt[c] == 0) continue;
        const double *s = sum + c * d;
        double q = 0;
        for (size_t k = 0; k < d; k++) q += s[k] * s[k];
        if (q <= 0) continue;
        const double g = row_norm / sqrt(q);
        for (size_t k = 0; k < d; k++) W[c * d + k] = (float)(g * s[k]);
        if (b) b[c] = 0.0f;
        done_k++;
    }
    if (imprinted) *imprinted = done_k;
done:
    tl_free(F);
    tl_free(idx);
    tl_free(sum);
    tl_free(cnt);
    return st;
}
