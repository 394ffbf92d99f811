/* Average pooling, as PyTorch's nn.AvgPool2d(K, S) (no padding, floor mode): each output is the
 * mean of its K x K window; backward spreads dy / K^2 over the window. x (B, C, H, W),
 * y (B, C, HO, WO). */
#include <string.h>

#include "nn/nn_internal.h"

void nn_avgpool_forward(const nn_layer *L, const float *x, float *y, size_t B) {
    const size_t C = L->in.c, H = L->in.h, W = L->in.w, K = L->k, S = L->stride;
    const size_t HO = L->out.h, WO = L->out.w;
    const float inv = 1.0f / (float)(K * K);
    for (size_t nc = 0; nc < B * C; nc++) {
        const float *src = x + nc * H * W;
        float *dst = y + nc * HO * WO;
        for (size_t i = 0; i < HO; i++)
            for (size_t j = 0; j < WO; j++) {
                float acc = 0.0f;
                for (size_t p = 0; p < K; p++)
                    for (size_t q = 0; q < K; q++) acc += src[(i * S + p) * W + j * S + q];
                dst[i * WO + j] = acc * inv;
            }
    }
}

void nn_avgpool_backward(const nn_layer *L, const float *dy, float *dx, size_t B) {
    const size_t C = L->in.c, H = L->in.h, W = L->in.w, K = L->k, S = L->stride;
    const size_t HO = L->out.h, WO = L->out.w;
    const float inv = 1.0f / (float)(K * K);
    memset(dx, 0, B * C * H * W * sizeof *dx);
    for (size_t nc = 0; nc < B * C; nc++) {
        const float *g = dy + nc * HO * WO;
        float *d = dx + nc * H * W;
        for (size_t i = 0; i < HO; i++)
            for (size_t j = 0; j < WO; j++) {
                const float v = g[i * WO + j] * inv;
                for (size_t p = 0; p < K; p++)
                    for (size_t q = 0; q < K; q++) d[(i * S + p) * W + j * S + q] += v;
            }
    }
}
