/* Inverted dropout (Srivastava et al. 2014, scaled at training time as PyTorch's nn.Dropout):
 * in training mode each element is kept with probability 1 - p and scaled by 1 / (1 - p), so
 * eval mode is the identity. Each element's keep decision is a hash (splitmix64's finaliser) of
 * the step seed, the layer and the element's position in the batch: a step is reproducible, the
 * gradient check sees the same mask twice, and the mask does not depend on how the batch is split
 * over threads. The mask is kept as bytes in the workspace for backward. */
#include <string.h>

#include "nn/nn_internal.h"

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void nn_dropout_forward(const tl_nn *nn, size_t li, const float *x, float *y, size_t B,
                        size_t sample0, bool train) {
    const nn_layer *L = &nn->layers[li];
    const size_t sz = nn_shape_size(L->in), n = B * sz, first = sample0 * sz;
    if (!train || L->alpha <= 0.0f) {
        if (y != x) memcpy(y, x, n * sizeof *y);
        return;
    }
    const uint64_t key = mix64(nn->step_seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(li + 1)));
    const float scale = 1.0f / (1.0f - L->alpha);
    /* keep when the top 24 bits of the hash are >= p 2^24 */
    const uint64_t thr = (uint64_t)((double)L->alpha * 16777216.0 + 0.5);
    uint8_t *mask = L->s_mask + first;
    for (size_t i = 0; i < n; i++) {
        const uint8_t m = (mix64(key + (uint64_t)(first + i)) >> 40) >= thr;
        mask[i] = m;
        y[i] = m ? x[i] * scale : 0.0f;
    }
}

void nn_dropout_backward(const tl_nn *nn, size_t li, const float *dy, float *dx, size_t B,
                         size_t sample0, bool train) {
    const nn_layer *L = &nn->layers[li];
    const size_t sz = nn_shape_size(L->in), n = B * sz;
    if (!train || L->alpha <= 0.0f) {
        if (dx != dy) memcpy(dx, dy, n * sizeof *dx);
        return;
    }
    const float scale = 1.0f / (1.0f - L->alpha);
    const uint8_t *mask = L->s_mask + sample0 * sz;
    for (size_t i = 0; i < n; i++) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}
