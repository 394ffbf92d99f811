/* Element-wise activations and their derivatives, as PyTorch defines them:
 *   relu     max(0, x)                      dx = dy [x > 0]
 *   lrelu    x > 0 ? x : a x (a = 0.01)     dx = dy (x > 0 ? 1 : a)
 *   gelu     x Phi(x), exact erf form       dx = dy (Phi(x) + x phi(x))
 *   tanh     tanh(x)                        dx = dy (1 - y^2)
 *   sigmoid  1 / (1 + e^-x)                 dx = dy y (1 - y)
 * Memory-bound loops over the whole batch; the compiler vectorises the simple ones. */
#include <math.h>

#include "nn/nn_internal.h"

/* The build's -O2 leaves these loops scalar and branchy (GCC's -O2 cost model does not vectorise
 * loops that need an epilogue); they are memory-bound, so plain SSE from -O3 is all they need. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

void nn_act_forward(const nn_layer *L, const float *restrict x, float *restrict y, size_t n) {
    switch (L->kind) {
    case NN_RELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f; /* maxps */
        break;
    case NN_LRELU: {
        const float a = L->alpha;
        for (size_t i = 0; i < n; i++) {
            const float v = x[i], s = v > 0.0f ? 1.0f : a;
            y[i] = v * s;
        }
        break;
    }
    case NN_GELU:
        for (size_t i = 0; i < n; i++)
            y[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] * 0.70710678118654752440)));
        break;
    case NN_TANH:
        for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
        break;
    case NN_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
        break;
    default:
        break;
    }
}

void nn_act_backward(const nn_layer *L, const float *restrict x, const float *restrict y,
                     const float *restrict dy, float *restrict dx, size_t n) {
    switch (L->kind) {
    case NN_RELU:
        for (size_t i = 0; i < n; i++) {
            const float m = x[i] > 0.0f ? 1.0f : 0.0f;
            dx[i] = dy[i] * m;
        }
        break;
    case NN_LRELU: {
        const float a = L->alpha;
        for (size_t i = 0; i < n; i++) {
            const float m = x[i] > 0.0f ? 1.0f : a;
            dx[i] = dy[i] * m;
        }
        break;
    }
    case NN_GELU:
        for (size_t i = 0; i < n; i++) {
            const double v = x[i];
            const double cdf = 0.5 * (1.0 + erf(v * 0.70710678118654752440));
            const double pdf = 0.39894228040143267794 * exp(-0.5 * v * v);
            dx[i] = (float)(dy[i] * (cdf + v * pdf));
        }
        break;
    case NN_TANH:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case NN_SIGMOID:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    default:
        break;
    }
}
