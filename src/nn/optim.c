/* Optimisers and learning-rate schedules, with PyTorch's exact update rules so that one step
 * matches torch.optim to float precision:
 *   SGD (momentum mu, dampening 0, weight decay wd, optional Nesterov):
 *     g = grad + wd p;  buf = g on the first step, else mu buf + g;
 *     g = nesterov ? g + mu buf : buf;  p -= lr g
 *   AdamW (Loshchilov & Hutter 2019): p *= 1 - lr wd;  m = b1 m + (1 - b1) g;
 *     v = b2 v + (1 - b2) g^2;  p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * L2-SP (Li et al. 2018) enters as a gradient term before either rule: alpha (p - p0) for tensors
 * with an anchor p0, beta p for the others. Each layer's lr multiplier scales lr; frozen layers
 * and multiplier 0 are skipped.
 * Schedules (per step, warm-up first): linear warm-up lr * (s + 1) / warm over the first warm
 * steps; then constant, step (lr * gamma^floor(epoch / step_epochs)) or cosine
 * (min + (lr - min) (1 + cos(pi s' / S')) / 2 over the remaining steps). */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the element-wise updates vectorise (same values: no contraction) */
#endif

tl_status nn_opt_prepare(tl_nn *nn, const nn_opt *o) {
    tl_status st = TL_OK;
    for (size_t i = 0; i < nn->nt; i++) {
        nn_tensor *t = &nn->t[i];
        if (!t->trainable) continue;
        if (o->kind == TL_NN_SGD && o->momentum > 0 && !t->m) TL_CALLOC(t->m, t->size);
        if (o->kind == TL_NN_ADAMW) {
            if (!t->m) TL_CALLOC(t->m, t->size);
            if (!t->v) TL_CALLOC(t->v, t->size);
        }
        if (t->m) memset(t->m, 0, t->size * sizeof(float));
        if (t->v) memset(t->v, 0, t->size * sizeof(float));
    }
done:
    return st;
}

void nn_opt_step(tl_nn *nn, nn_opt *o, double lr) {
    o->t++;
    nn_opt_apply(nn, o, lr);
}

/* The update of elements [size * part / parts, size * (part + 1) / parts) of every tensor: the
 * rules are element-wise, so the parts may run on the threads in any order with the same floats. */
typedef struct {
    tl_nn *nn;
    const nn_opt *o;
    double lr;
    size_t parts;
} opt_job;

static void opt_part(void *ctx, size_t part) {
    const opt_job *j = ctx;
    tl_nn *nn = j->nn;
    const nn_opt *o = j->o;
    const double lr = j->lr;
    const double bc1 = 1.0 - pow(o->beta1, (double)o->t), bc2 = 1.0 - pow(o->beta2, (double)o->t);
    for (size_t i = 0; i < nn->nt; i++) {
        nn_tensor *t = &nn->t[i];
        if (!t->trainable || !nn_layer_trainable(nn, t->layer)) continue;
        const double lrl = lr * nn->layers[t->layer].lr_mult;
        const size_t e0 = t->size * part / j->parts, n = t->size * (part + 1) / j->parts - e0;
        float *p = t->data + e0, *g = t->grad + e0;
        float *const t_m = t->m ? t->m + e0 : NULL, *const t_v = t->v ? t->v + e0 : NULL;
        const float *const t_anchor = t->anchor ? t->anchor + e0 : NULL;
        if (o->l2sp_alpha > 0 || o->l2sp_beta > 0) {
            if (t_anchor) {
                const float a = (float)o->l2sp_alpha;
                for (size_t k = 0; k < n; k++) g[k] += a * (p[k] - t_anchor[k]);
            } else if (o->l2sp_beta > 0) {
                const float b = (float)o->l2sp_beta;
                for (size_t k = 0; k < n; k++) g[k] += b * p[k];
            }
        }
        if (o->kind == TL_NN_SGD) {
            const float wd = (float)o->weight_decay, mu = (float)o->momentum, lf = (float)lrl;
            float *restrict pr = p, *restrict mr = t_m;
            const float *restrict gr = g;
            const bool first = o->t == 1, nest = o->nesterov;
            if (mu > 0.0f)
                for (size_t k = 0; k < n; k++) {
                    const float d = gr[k] + wd * pr[k];
                    const float b = first ? d : mu * mr[k] + d;
                    mr[k] = b;
                    pr[k] -= lf * (nest ? d + mu * b : b);
                }
            else
                for (size_t k = 0; k < n; k++) pr[k] -= lf * (gr[k] + wd * pr[k]);
        } else {
            const float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
            const float decay = (float)(1.0 - lrl * o->weight_decay);
            const float step = (float)(lrl / bc1), sbc2 = (float)sqrt(bc2);
            for (size_t k = 0; k < n; k++) {
                p[k] *= decay;
                const float gk = g[k];
                const float m = t_m[k] = b1 * t_m[k] + (1.0f - b1) * gk;
                const float v = t_v[k] = b2 * t_v[k] + (1.0f - b2) * gk * gk;
                p[k] -= step * m / (sqrtf(v) / sbc2 + eps);
            }
        }
    }
}

void nn_opt_apply(tl_nn *nn, const nn_opt *o, double lr) {
    size_t total = 0;
    for (size_t i = 0; i < nn->nt; i++) total += nn->t[i].trainable ? nn->t[i].size : 0;
    /* a large network's update on the batch's threads (it reads and writes every parameter: on
     * the Amazon DANN, 2 MB of weights and their momentum each step) */
    opt_job j = {nn, o, lr, nn->pool && nn->nthreads > 1 && total >= ((size_t)1 << 16) ? nn->nthreads : 1};
    nn_pool_run(nn->pool, j.parts, opt_part, &j);
}

double nn_schedule_lr(const tl_nn_train_params *p, size_t step, size_t spe) {
    const double warm = p->warmup_epochs * (double)spe;
    if (warm > 0 && (double)step < warm) return p->lr * ((double)step + 1.0) / warm;
    const double epoch = (double)step / (double)spe;
    switch (p->schedule) {
    case TL_NN_SCHED_STEP:
        return p->lr * pow(p->step_gamma, floor(epoch / (double)p->step_epochs));
    case TL_NN_SCHED_COSINE: {
        const double total = (double)(p->epochs * spe) - warm;
        const double s = (double)step - warm;
        const double f = total > 0 ? s / total : 1.0;
        return p->min_lr + (p->lr - p->min_lr) * 0.5 * (1.0 + cos(M_PI * (f > 1 ? 1 : f)));
    }
    default:
        return p->lr;
    }
}
