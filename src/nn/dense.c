/* Fully connected layer y = x W^T + b, as PyTorch's nn.Linear: x (B, IN), W (N, IN), b (N).
 * Forward and backward are one sgemm each (plus the bias):
 *   y  = x W^T + 1 b^T          dW += dy^T x          db += 1^T dy          dx = dy W
 * Row-major CBLAS calls on one thread's slice of the batch; each thread adds its weight
 * gradients into its own buffers (summed after the backward pass). */
#include <cblas.h>
#include <string.h>

#include "nn/nn_internal.h"

void nn_dense_forward(const tl_nn *nn, const nn_layer *L, const float *x /* (B, IN) */,
                      float *y /* (B, N) */, size_t B) {
    const size_t in = nn_shape_size(L->in), N = L->units;
    const float *W = nn->t[L->w].data, *b = nn->t[L->b].data;
    for (size_t i = 0; i < B; i++) memcpy(y + i * N, b, N * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)N, (int)in, 1.0f, x, (int)in,
                W, (int)in, 1.0f, y, (int)N);
}

void nn_dense_backward(const tl_nn *nn, const nn_layer *L, const float *x /* (B, IN) */,
                       const float *dy /* (B, N) */, float *dx /* (B, IN) or NULL */, size_t B,
                       float *dW /* (N, IN) or NULL */, float *db /* (N) */) {
    const size_t in = nn_shape_size(L->in), N = L->units;
    const nn_tensor *W = &nn->t[L->w];
    if (dW) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)in, (int)B, 1.0f, dy,
                    (int)N, x, (int)in, 1.0f, dW, (int)in);
        for (size_t i = 0; i < B; i++) {
            const float *r = dy + i * N;
            for (size_t j = 0; j < N; j++) db[j] += r[j];
        }
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)N, 1.0f, dy,
                    (int)N, W->data, (int)in, 0.0f, dx, (int)in);
}
