/* Losses, averaged over the batch as PyTorch's default reduction does.
 *   softmax cross-entropy with label smoothing eps (PyTorch's CrossEntropyLoss(label_smoothing)):
 *     target t = (1 - eps) onehot(y) + eps / K,  loss_i = logsumexp(z_i) - sum_k t_k z_ik,
 *     dL/dz_i = (softmax(z_i) - t) / B
 *   MSE (PyTorch's MSELoss): mean over all B*K entries of (o - t)^2, dL/do = 2 (o - t) / (B K).
 * Computed in double per row with the max subtracted, so large logits neither overflow nor lose
 * the small probabilities. */
#include <math.h>

#include "nn/nn_internal.h"

double nn_xent_loss(const float *logits /* (B, K) */, const int *y /* (B) */, size_t B, size_t K,
                    double eps, float *dlogits /* (B, K) or NULL */, size_t *correct) {
    double total = 0.0;
    size_t hits = 0;
    const double off = eps / (double)K, on = 1.0 - eps + off;
    for (size_t i = 0; i < B; i++) {
        const float *z = logits + i * K;
        size_t am = 0;
        double mx = z[0];
        for (size_t k = 1; k < K; k++)
            if (z[k] > mx || (z[k] != z[k])) {
                mx = z[k];
                am = k;
            }
        if ((size_t)y[i] == am) hits++;
        double se = 0.0, tz = 0.0;
        for (size_t k = 0; k < K; k++) {
            se += exp((double)z[k] - mx);
            tz += ((size_t)y[i] == k ? on : off) * ((double)z[k] - mx);
        }
        const double lse = log(se);
        total += lse - tz;
        if (dlogits) {
            float *d = dlogits + i * K;
            for (size_t k = 0; k < K; k++) {
                const double p = exp((double)z[k] - mx - lse);
                d[k] = (float)((p - ((size_t)y[i] == k ? on : off)) / (double)B);
            }
        }
    }
    if (correct) *correct = hits;
    return total / (double)B;
}

double nn_mse_loss(const float *out /* (B, K) */, const float *target /* (B, K) */, size_t B,
                   size_t K, float *dout /* (B, K) or NULL */) {
    double total = 0.0;
    const double inv = 1.0 / (double)(B * K);
    for (size_t i = 0; i < B * K; i++) {
        const double d = (double)out[i] - target[i];
        total += d * d;
        if (dout) dout[i] = (float)(2.0 * d * inv);
    }
    return total * inv;
}

double nn_mse_onehot_loss(const float *out, const int *y, size_t B, size_t K, float *dout,
                          size_t *correct) {
    double total = 0.0;
    size_t hits = 0;
    const double inv = 1.0 / (double)(B * K);
    for (size_t i = 0; i < B; i++) {
        const float *o = out + i * K;
        size_t am = 0;
        for (size_t k = 1; k < K; k++)
            if (o[k] > o[am]) am = k;
        if ((size_t)y[i] == am) hits++;
        for (size_t k = 0; k < K; k++) {
            const double d = (double)o[k] - ((size_t)y[i] == k ? 1.0 : 0.0);
            total += d * d;
            if (dout) dout[i * K + k] = (float)(2.0 * d * inv);
        }
    }
    if (correct) *correct = hits;
    return total * inv;
}
