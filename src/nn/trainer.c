/* The step-level training interface (in the spirit of llm.c): a trainer holds a network (the
 * trunk), optional named heads that read one of the trunk's layers, the optimiser state and
 * one contiguous block of all their parameters and one of all their gradients. A step is
 *     forward (training mode)  ->  losses write/add output gradients and tap gradients
 *     ->  backward  ->  optimiser step,
 * each a call, so adversarial and statistical losses, extra heads and a later data-parallel
 * all-reduce (one call over the gradient block) plug in without a new training loop. tl_nn_train
 * is one such loop (train.c).
 *
 * Why built this way: a head is an ordinary network whose input is the trunk's activation at
 * the layer it is attached to; its backward runs with the input gradient on and the result is
 * added into the trunk's gradient at that layer (a tap), exactly where the engine adds the
 * gradients of residual branches, so no layer needs to know about heads. The trunk keeps the
 * joint parameter block (its own tensors first), so freeing the trainer leaves the trunk an
 * ordinary network and cannot fail. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"

#define TRAINER_MAX_HEADS 8

typedef struct {
    char name[NN_NAME_MAX];
    tl_nn *net;
    size_t at; /* the trunk activation it reads: layer index + 1; SIZE_MAX: its input is
                  given by the caller (tl_nn_trainer_head_forward) */
} trainer_head;

struct tl_nn_trainer {
    tl_nn *trunk;
    trainer_head head[TRAINER_MAX_HEADS];
    size_t nh;
    float **tap; /* (trunk->nl + 1): tap buffers (cap, activation size) or NULL */
    size_t cap, B;
    bool ran; /* a forward pass has run (B may be 0 on a process of a data-parallel job) */
    nn_opt o;
    size_t np, ng; /* floats in the joint blocks */
};

double tl_nn_dann_lambda(double progress) {
    if (!(progress > 0)) progress = 0;
    if (progress > 1) progress = 1;
    return 2.0 / (1.0 + exp(-10.0 * progress)) - 1.0;
}

void tl_nn_set_grl(tl_nn *nn, double lambda) {
    for (size_t i = 0; nn && i < nn->nl; i++)
        if (nn->layers[i].kind == NN_GRL) nn->layers[i].alpha = (float)lambda;
}

/* One block for the trunk's and every head's parameters (and one for the gradients), the trunk
 * first; the heads are moved before the trunk, whose old block they may live in. */
static tl_status repack(tl_nn_trainer *t) {
    tl_status st = TL_OK;
    float *p = NULL, *g = NULL;
    size_t np = t->trunk->p_total, ng = t->trunk->g_total;
    for (size_t h = 0; h < t->nh; h++) {
        np += t->head[h].net->p_total;
        ng += t->head[h].net->g_total;
    }
    TL_CALLOC(p, np ? np : 1);
    TL_CALLOC(g, ng ? ng : 1);
    size_t op = t->trunk->p_total, og = t->trunk->g_total;
    for (size_t h = 0; h < t->nh; h++) {
        tl_nn *n = t->head[h].net;
        TL_TRY(nn_pack_into(n, p + op, g + og)); /* cannot fail with blocks given */
        op += n->p_total;
        og += n->g_total;
    }
    TL_TRY(nn_pack_into(t->trunk, p, g));
    t->trunk->pextern = false; /* the trunk owns the joint block */
    p = g = NULL;
    t->np = np;
    t->ng = ng;
done:
    tl_free(p);
    tl_free(g);
    return st;
}

tl_status tl_nn_trainer_create(tl_nn *trunk, const tl_nn_train_params *p, size_t max_batch,
                               tl_nn_trainer **out) {
    tl_status st = TL_OK;
    tl_nn_trainer *t = NULL;
    TL_CHECK(trunk && out, TL_ERR_INVALID_ARG, "nn_trainer_create: NULL argument");
    *out = NULL;
    TL_TRY(tl_nn_train_params_check(p));
    TL_CHECK(max_batch >= 1 && max_batch <= ((size_t)1 << 24), TL_ERR_INVALID_ARG,
             "nn_trainer_create: batch %zu not in 1..2^24", max_batch);
    TL_CHECK(!trunk->tap, TL_ERR_STATE, "nn_trainer_create: the network already has a trainer");
    TL_CALLOC(t, 1);
    t->trunk = trunk;
    tl_ctx_apply_threads(p->ctx);
    TL_TRY(nn_workspace_reserve(trunk, max_batch > trunk->infer_batch ? max_batch : trunk->infer_batch));
    t->cap = max_batch; /* the workspace may hold more (inference batches) */
    TL_CALLOC(t->tap, trunk->nl + 1);
    t->o.kind = p->optimizer;
    t->o.lr = p->lr;
    t->o.momentum = p->momentum;
    t->o.nesterov = p->nesterov;
    t->o.beta1 = p->beta1;
    t->o.beta2 = p->beta2;
    t->o.eps = p->eps;
    t->o.weight_decay = p->weight_decay;
    t->o.l2sp_alpha = p->l2sp_alpha;
    t->o.l2sp_beta = p->l2sp_alpha > 0 ? p->l2sp_beta : 0;
    TL_TRY(nn_opt_prepare(trunk, &t->o));
    TL_TRY(repack(t));
    trunk->tap = t->tap;
    *out = t;
    t = NULL;
done:
    tl_nn_trainer_free(t);
    return st;
}

void tl_nn_trainer_free(tl_nn_trainer *t) {
    if (!t) return;
    if (t->trunk) {
        if (t->trunk->tap == t->tap) t->trunk->tap = NULL;
        t->trunk->train = false;
    }
    for (size_t h = 0; h < t->nh; h++) tl_nn_free(t->head[h].net);
    if (t->tap)
        for (size_t i = 0; t->trunk && i <= t->trunk->nl; i++) tl_free(t->tap[i]);
    tl_free(t->tap);
    tl_free(t);
}

static tl_status ensure_tap(tl_nn_trainer *t, size_t at) {
    tl_status st = TL_OK;
    if (!t->tap[at]) {
        const size_t dim = at ? nn_shape_size(t->trunk->layers[at - 1].out) : nn_shape_size(t->trunk->in);
        size_t n;
        TL_CHECK(tl_size_mul(t->cap, dim, &n) == 0, TL_ERR_NOMEM, "nn_trainer: tap too large");
        TL_CALLOC(t->tap[at], n);
    }
done:
    return st;
}

static tl_status add_head(tl_nn_trainer *t, const char *name, const char *layer, const size_t *shape,
                          const char *arch, uint64_t seed, tl_nn **head) {
    tl_status st = TL_OK;
    tl_nn *net = NULL;
    size_t li = (size_t)-1;
    TL_CHECK(t && name && (layer || shape) && arch, TL_ERR_INVALID_ARG,
             "nn_trainer_add_head: NULL argument");
    TL_CHECK(name[0] && strlen(name) < NN_NAME_MAX, TL_ERR_INVALID_ARG,
             "head name '%s': must be 1..%d characters", name, NN_NAME_MAX - 1);
    TL_CHECK(t->nh < TRAINER_MAX_HEADS, TL_ERR_INVALID_ARG, "head %s: at most %d heads", name,
             TRAINER_MAX_HEADS);
    for (size_t h = 0; h < t->nh; h++)
        TL_CHECK(strcmp(t->head[h].name, name) != 0, TL_ERR_INVALID_ARG,
                 "a head named '%s' is already attached", name);
    nn_shape s;
    if (layer) {
        st = tl_nn_layer_find(t->trunk, layer, &li);
        if (st != TL_OK) {
            tl_fail_prefix(st, "head %s: tap", name);
            goto done;
        }
        s = t->trunk->layers[li].out;
    } else {
        s = (nn_shape){shape[0], shape[1], shape[2]};
    }
    st = tl_nn_create(arch, s.c, s.h, s.w, seed, &net);
    if (st != TL_OK) {
        tl_fail_prefix(st, "head %s (on %s%s, %zux%zux%zu)", name, layer ? "layer " : "its own input",
                       layer ? t->trunk->layers[li].name : "", s.c, s.h, s.w);
        goto done;
    }
    net->want_input_grad = true;
    TL_TRY(nn_workspace_reserve(net, t->cap));
    TL_TRY(nn_opt_prepare(net, &t->o));
    if (layer) TL_TRY(ensure_tap(t, li + 1));
    trainer_head *hd = &t->head[t->nh];
    snprintf(hd->name, sizeof hd->name, "%s", name);
    hd->net = net;
    hd->at = layer ? li + 1 : (size_t)-1;
    t->nh++;
    net = NULL;
    st = repack(t);
    if (st != TL_OK) { /* the head stays out; nothing else moved */
        tl_nn_free(t->head[--t->nh].net);
        goto done;
    }
    if (head) *head = hd->net;
done:
    tl_nn_free(net);
    return st;
}

tl_status tl_nn_trainer_add_head(tl_nn_trainer *t, const char *name, const char *layer,
                                 const char *arch, uint64_t seed, tl_nn **head) {
    if (!layer) return tl_fail(TL_ERR_INVALID_ARG, "nn_trainer_add_head: NULL layer");
    return add_head(t, name, layer, NULL, arch, seed, head);
}

tl_status tl_nn_trainer_add_input_head(tl_nn_trainer *t, const char *name, size_t c, size_t h,
                                       size_t w, const char *arch, uint64_t seed, tl_nn **head) {
    const size_t shape[3] = {c, h, w};
    return add_head(t, name, NULL, shape, arch, seed, head);
}

static trainer_head *find_rec(tl_nn_trainer *t, const char *name) {
    for (size_t h = 0; name && h < t->nh; h++)
        if (strcmp(t->head[h].name, name) == 0) return &t->head[h];
    return NULL;
}

tl_status tl_nn_trainer_head_forward(tl_nn_trainer *t, const char *name, const float *x) {
    trainer_head *hd = t ? find_rec(t, name) : NULL;
    if (!hd || hd->at != (size_t)-1)
        return tl_fail(TL_ERR_NOT_FOUND, "no head named '%s' with an input of its own", name ? name : "(null)");
    if (!t->ran) return tl_fail(TL_ERR_STATE, "head %s: run the trainer's forward first", name);
    tl_nn *n = hd->net;
    memcpy(n->a[0], x, t->B * nn_shape_size(n->in) * sizeof(float));
    n->train = true;
    n->step_seed = t->trunk->step_seed ^ 0xA0761D6478BD642FULL;
    nn_forward_batch(n, t->B);
    memset(n->g[n->nl], 0, t->B * tl_nn_output_dim(n) * sizeof(float));
    return TL_OK;
}

tl_status tl_nn_trainer_head_backward(tl_nn_trainer *t, const char *name, const float **dx) {
    trainer_head *hd = t ? find_rec(t, name) : NULL;
    if (!hd || hd->at != (size_t)-1)
        return tl_fail(TL_ERR_NOT_FOUND, "no head named '%s' with an input of its own", name ? name : "(null)");
    if (!t->ran) return tl_fail(TL_ERR_STATE, "head %s: run the trainer's forward first", name);
    nn_zero_grads(hd->net);
    nn_backward_batch(hd->net, t->B);
    if (dx) *dx = hd->net->g[0];
    return TL_OK;
}

static tl_nn *find_head(const tl_nn_trainer *t, const char *name) {
    if (!name || !name[0]) return t->trunk;
    for (size_t h = 0; h < t->nh; h++)
        if (strcmp(t->head[h].name, name) == 0) return t->head[h].net;
    return NULL;
}

float *tl_nn_trainer_input(tl_nn_trainer *t) { return t->trunk->a[0]; }
size_t tl_nn_trainer_capacity(const tl_nn_trainer *t) { return t->cap; }

tl_status tl_nn_trainer_forward(tl_nn_trainer *t, const float *x, size_t B, uint64_t step_seed) {
    tl_status st = TL_OK;
    TL_CHECK(t && x, TL_ERR_INVALID_ARG, "nn_trainer_forward: NULL argument");
    TL_CHECK((B >= 1 || t->trunk->comm) && B <= t->cap, TL_ERR_INVALID_ARG, /* data-parallel: a
                                                   process may hold none of a batch */
             "nn_trainer_forward: batch %zu not in 1..%zu (the trainer's capacity)", B, t->cap);
    tl_nn *nn = t->trunk;
    if (x != nn->a[0]) memcpy(nn->a[0], x, B * nn_shape_size(nn->in) * sizeof(float));
    nn->train = true;
    nn->step_seed = step_seed;
    nn_forward_batch(nn, B);
    memset(nn->g[nn->nl], 0, B * tl_nn_output_dim(nn) * sizeof(float));
    for (size_t i = 0; i <= nn->nl; i++)
        if (t->tap[i]) {
            const size_t dim = i ? nn_shape_size(nn->layers[i - 1].out) : nn_shape_size(nn->in);
            memset(t->tap[i], 0, B * dim * sizeof(float));
        }
    for (size_t h = 0; h < t->nh; h++) {
        tl_nn *n = t->head[h].net;
        if (t->head[h].at == (size_t)-1) continue; /* the caller runs it */
        memcpy(n->a[0], nn->a[t->head[h].at], B * nn_shape_size(n->in) * sizeof(float));
        n->train = true;
        n->step_seed = step_seed ^ (0x9E3779B97F4A7C15ULL * (h + 1));
        nn_forward_batch(n, B);
        memset(n->g[n->nl], 0, B * tl_nn_output_dim(n) * sizeof(float));
    }
    t->B = B;
    t->ran = true;
done:
    return st;
}

tl_status tl_nn_trainer_output(tl_nn_trainer *t, const char *head, const float **out, float **dout,
                               size_t *k) {
    tl_nn *n = t ? find_head(t, head) : NULL;
    if (!n) return tl_fail(TL_ERR_NOT_FOUND, "no head named '%s'", head ? head : "(null)");
    if (out) *out = n->a[n->nl];
    if (dout) *dout = n->g[n->nl];
    if (k) *k = tl_nn_output_dim(n);
    return TL_OK;
}

tl_status tl_nn_trainer_tap(tl_nn_trainer *t, const char *layer, const float **act, float **grad,
                            size_t *dim) {
    tl_status st = TL_OK;
    size_t li;
    TL_CHECK(t && layer, TL_ERR_INVALID_ARG, "nn_trainer_tap: NULL argument");
    st = tl_nn_layer_find(t->trunk, layer, &li);
    if (st != TL_OK) {
        tl_fail_prefix(st, "tap");
        goto done;
    }
    TL_TRY(ensure_tap(t, li + 1));
    if (act) *act = t->trunk->a[li + 1];
    if (grad) *grad = t->tap[li + 1];
    if (dim) *dim = nn_shape_size(t->trunk->layers[li].out);
done:
    return st;
}

tl_status tl_nn_trainer_backward(tl_nn_trainer *t) {
    if (!t || !t->ran) return tl_fail(TL_ERR_STATE, "nn_trainer_backward: no forward pass to go back through");
    tl_nn *nn = t->trunk;
    const size_t B = t->B;
    for (size_t h = 0; h < t->nh; h++) {
        tl_nn *n = t->head[h].net;
        if (t->head[h].at == (size_t)-1) continue; /* done by tl_nn_trainer_head_backward */
        nn_zero_grads(n);
        nn_backward_batch(n, B);
        float *tp = t->tap[t->head[h].at];
        const float *gi = n->g[0];
        const size_t m = B * nn_shape_size(n->in);
        for (size_t e = 0; e < m; e++) tp[e] += gi[e];
    }
    nn_zero_grads(nn);
    nn_backward_batch(nn, B);
    return TL_OK;
}

/* grad_hook of the trunk and heads during nn_trainer_backward_sum: layer i's trainable tensors
 * are final, so their stretches of the joint gradient block are handed to the communicator. */
typedef struct {
    const tl_nn_comm *cm;
    const float *g0; /* the joint gradient block */
} grad_sink;

static void grads_ready(void *user, tl_nn *nn, size_t i) {
    const grad_sink *gs = user;
    size_t lo = 0, hi = 0;
    for (size_t t = 0; t < nn->nt; t++) {
        const nn_tensor *T = &nn->t[t];
        if (T->layer != i || !T->trainable) continue;
        const size_t a = (size_t)(T->grad - gs->g0), b = a + T->size;
        if (hi > lo && a == hi) { /* one stretch with the previous tensor */
            hi = b;
            continue;
        }
        if (hi > lo) gs->cm->grad_ready(gs->cm->user, lo, hi);
        lo = a;
        hi = b;
    }
    gs->cm->grad_ready(gs->cm->user, lo, hi); /* lo == hi: a chance to progress */
}

static void set_hooks(tl_nn_trainer *t, grad_sink *gs) {
    t->trunk->grad_hook = gs ? grads_ready : NULL;
    t->trunk->grad_user = gs;
    for (size_t h = 0; h < t->nh; h++) {
        t->head[h].net->grad_hook = gs ? grads_ready : NULL;
        t->head[h].net->grad_user = gs;
    }
}

tl_status nn_trainer_backward_sum(tl_nn_trainer *t, const tl_nn_comm *cm) {
    if (!cm || !cm->grad_start) {
        tl_status st = tl_nn_trainer_backward(t);
        if (st != TL_OK || !cm) return st;
        return cm->allreduce(cm->user, t->trunk->gblock, t->ng, false); /* the one all-reduce */
    }
    if (!t || !t->ran) return tl_fail(TL_ERR_STATE, "nn_trainer_backward: no forward pass to go back through");
    grad_sink gs = {cm, t->trunk->gblock};
    tl_status st = cm->grad_start(cm->user, t->trunk->gblock, t->ng);
    if (st != TL_OK) return st;
    set_hooks(t, &gs);
    st = tl_nn_trainer_backward(t); /* buckets go out as the layers finish */
    set_hooks(t, NULL);
    tl_status s2 = cm->grad_finish(cm->user); /* always: every process takes part */
    return st != TL_OK ? st : s2;
}

tl_status tl_nn_trainer_step(tl_nn_trainer *t, double lr) {
    if (!t) return tl_fail(TL_ERR_INVALID_ARG, "nn_trainer_step: NULL trainer");
    if (!(lr >= 0 && lr <= 1e6)) return tl_fail(TL_ERR_INVALID_ARG, "learning rate %g not in [0, 1e6]", lr);
    t->o.t++;
    nn_opt_apply(t->trunk, &t->o, lr);
    for (size_t h = 0; h < t->nh; h++) nn_opt_apply(t->head[h].net, &t->o, lr);
    return TL_OK;
}

void tl_nn_trainer_set_grl(tl_nn_trainer *t, double lambda) {
    if (!t) return;
    tl_nn_set_grl(t->trunk, lambda);
    for (size_t h = 0; h < t->nh; h++) tl_nn_set_grl(t->head[h].net, lambda);
}

tl_status tl_nn_trainer_head(tl_nn_trainer *t, const char *name, tl_nn **net) {
    tl_nn *n = t ? find_head(t, name) : NULL;
    if (!n) return tl_fail(TL_ERR_NOT_FOUND, "no head named '%s'", name ? name : "(null)");
    *net = n;
    return TL_OK;
}

float *tl_nn_trainer_params(tl_nn_trainer *t, size_t *n) {
    if (n) *n = t->np;
    return t->trunk->pblock;
}

float *tl_nn_trainer_grads(tl_nn_trainer *t, size_t *n) {
    if (n) *n = t->ng;
    return t->trunk->gblock;
}

bool tl_nn_trainer_finite(const tl_nn_trainer *t) {
    const float *p = t->trunk->pblock;
    for (size_t i = 0; i < t->np; i++)
        if (!isfinite(p[i])) return false;
    return true;
}

size_t *nn_trainer_opt_steps(tl_nn_trainer *t) { return &t->o.t; }

bool nn_early_epoch(tl_nn_train_result *r, size_t ep, bool has_val, double vl, double va,
                    size_t patience, double *best_val, size_t *since, bool *stop) {
    bool improved = false;
    *stop = false;
    if (has_val) {
        if (vl < *best_val) {
            *best_val = vl;
            *since = 0;
            improved = true;
        } else if (patience && ++*since >= patience) {
            *stop = true;
        }
    }
    if (improved || !has_val || !patience) {
        r->best_epoch = ep;
        if (has_val) {
            r->val_loss = vl;
            r->val_acc = va;
        }
    }
    return improved;
}
