/* Residual add (He et al. 2016): the end of a block "[ ... ]" computes y = f(x) + x, with x the
 * activation that entered the block (same shape, checked when the architecture is parsed).
 * Forward is a sum; backward passes dy to the block's last layer unchanged, and the driver adds
 * the same dy into the gradient of the block's input once the block's own backward has reached
 * it (see nn_backward_batch). With a projection shortcut "[main | shortcut]" the add sits after
 * the shortcut's layers and computes y = shortcut(x) + main(x): its input is the shortcut's
 * output and its skip the main path's output, whose gradient buffer is dy itself (the workspace
 * planner aliases them), so the same two functions serve both kinds of block. */
#include "nn/nn_internal.h"

void nn_add_forward(const float *x, const float *skip, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] + skip[i];
}

void nn_add_backward(const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i];
}
