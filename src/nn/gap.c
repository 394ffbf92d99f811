/* Global average pooling (PyTorch's nn.AdaptiveAvgPool2d(1) followed by a flatten): each
 * channel's plane becomes its mean, x (B, C, H, W) -> y (B, C) (shape C x 1 x 1); backward
 * spreads dy / (H W) over the plane. The usual bridge from a convolutional trunk to a small head:
 * it makes the head independent of the input size. */
#include "nn/nn_internal.h"

void nn_gap_forward(const nn_layer *L, const float *x, float *y, size_t B) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    for (size_t nc = 0; nc < B * C; nc++) {
        const float *s = x + nc * HW;
        double acc = 0.0;
        for (size_t k = 0; k < HW; k++) acc += s[k];
        y[nc] = (float)(acc / (double)HW);
    }
}

void nn_gap_backward(const nn_layer *L, const float *dy, float *dx, size_t B) {
    const size_t C = L->in.c, HW = L->in.h * L->in.w;
    const float inv = 1.0f / (float)HW;
    for (size_t nc = 0; nc < B * C; nc++) {
        const float v = dy[nc] * inv;
        float *d = dx + nc * HW;
        for (size_t k = 0; k < HW; k++) d[k] = v;
    }
}
