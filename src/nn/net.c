/* The network object: construction from an architecture string, named tensors, the per-batch
 * workspace, the forward/backward drivers over the layer list, inference, and the transfer
 * controls (new head, freezing, lr multipliers, L2-SP anchor).
 *
 * Why built this way: a flat layer list with residual "add" layers is enough for the networks
 * libtl targets (small CNNs and ResNets on a CPU) and keeps the driver a pair of loops. The
 * workspace is planned in one pass and allocated as one block for a given batch capacity, so the
 * training loop never allocates. Backward stops at the lowest trainable layer: with frozen
 * lower layers (linear probe, fine-tuning the top) no gradient is computed below them, which is
 * where most of the time of a small fine-tuning run would go. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

#define NN_COL_BUDGET ((size_t)1 << 17) /* im2col floats per chunk (512 KiB: in L2) */
#define NN_ALIGN 64

/* ---- construction ---- */

static void tensor_free(nn_tensor *t, bool packed) {
    if (!packed) { /* values and gradients still in the parser's own allocations */
        tl_free(t->data);
        tl_free(t->grad);
    }
    tl_free(t->m);
    tl_free(t->v);
    tl_free(t->anchor);
}

void nn_layer_init(tl_nn *nn, size_t i, uint64_t seed) {
    nn_layer *L = &nn->layers[i];
    tl_rng r;
    tl_rng_seed(&r, seed + 0x632BE59BD9B4E019ULL * (uint64_t)(i + 1));
    if (L->kind == NN_CONV || L->kind == NN_DENSE) {
        size_t fan = L->kind == NN_DENSE ? nn_shape_size(L->in) : L->in.c * L->k * L->k;
        double bound = 1.0 / sqrt((double)fan);
        nn_tensor *w = &nn->t[L->w], *b = &nn->t[L->b];
        for (size_t k = 0; k < w->size; k++) w->data[k] = (float)((2 * tl_rng_uniform(&r) - 1) * bound);
        for (size_t k = 0; k < b->size; k++) b->data[k] = (float)((2 * tl_rng_uniform(&r) - 1) * bound);
    } else if (L->kind == NN_BN) {
        for (size_t k = 0; k < L->in.c; k++) {
            nn->t[L->w].data[k] = 1.0f;
            nn->t[L->b].data[k] = 0.0f;
            nn->t[L->rm].data[k] = 0.0f;
            nn->t[L->rv].data[k] = 1.0f;
        }
    }
}

static tl_status set_identity_labels(tl_nn *nn) {
    tl_status st = TL_OK;
    size_t k = tl_nn_output_dim(nn);
    int *lab = NULL;
    TL_CHECK(k <= 2147483647u, TL_ERR_INVALID_ARG, "nn: %zu outputs is too many classes", k);
    TL_ALLOC(lab, k);
    for (size_t i = 0; i < k; i++) lab[i] = (int)i;
    tl_free(nn->labels);
    nn->labels = lab;
done:
    return st;
}

tl_status tl_nn_create(const char *arch, size_t c, size_t h, size_t w, uint64_t seed, tl_nn **out) {
    tl_status st = TL_OK;
    tl_nn *nn = NULL;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "nn_create: out is NULL");
    *out = NULL;
    TL_CHECK(arch, TL_ERR_INVALID_ARG, "nn_create: architecture is NULL");
    TL_CHECK(c >= 1 && h >= 1 && w >= 1 && c <= (1u << 24) && h <= (1u << 24) && w <= (1u << 24),
             TL_ERR_INVALID_ARG, "nn_create: input shape %zux%zux%zu is not valid", c, h, w);
    TL_CHECK(c * h * w <= ((size_t)1 << 28), TL_ERR_INVALID_ARG,
             "nn_create: input %zux%zux%zu is over 2^28 values", c, h, w);
    TL_CALLOC(nn, 1);
    nn->in = (nn_shape){c, h, w};
    nn->in_scale = 1.0f;
    nn->infer_batch = 64;
    TL_TRY(nn_parse_arch(nn, arch));
    TL_TRY(nn_pack_into(nn, NULL, NULL));
    for (size_t i = 0; i < nn->nl; i++) nn_layer_init(nn, i, seed);
    TL_TRY(set_identity_labels(nn));
    *out = nn;
    nn = NULL;
done:
    tl_nn_free(nn);
    return st;
}

void tl_nn_free(tl_nn *nn) {
    if (!nn) return;
    for (size_t i = 0; i < nn->nt; i++) tensor_free(&nn->t[i], nn->packed);
    if (!nn->pextern) {
        tl_free(nn->pblock);
        tl_free(nn->gblock);
    }
    tl_free(nn->t);
    tl_free(nn->layers);
    tl_free(nn->arch);
    tl_free(nn->labels);
    tl_free(nn->label_names);
    tl_free(nn->sync_buf);
    nn_pool_free(nn->pool);
    tl_free(nn->ws);
    tl_free(nn);
}

tl_status tl_nn_clone(const tl_nn *nn, tl_nn **out) {
    tl_status st = TL_OK;
    tl_nn *c = NULL;
    TL_CHECK(nn && out, TL_ERR_INVALID_ARG, "nn_clone: NULL argument");
    *out = NULL;
    TL_TRY(tl_nn_create(nn->arch, nn->in.c, nn->in.h, nn->in.w, 0, &c));
    TL_CHECK(c->nt == nn->nt && c->nl == nn->nl, TL_ERR_STATE, "nn_clone: inconsistent network");
    for (size_t i = 0; i < nn->nt; i++) {
        memcpy(c->t[i].data, nn->t[i].data, nn->t[i].size * sizeof(float));
        if (nn->t[i].anchor) {
            TL_ALLOC(c->t[i].anchor, nn->t[i].size);
            memcpy(c->t[i].anchor, nn->t[i].anchor, nn->t[i].size * sizeof(float));
        }
    }
    for (size_t i = 0; i < nn->nl; i++) {
        c->layers[i].frozen = nn->layers[i].frozen;
        c->layers[i].lr_mult = nn->layers[i].lr_mult;
    }
    TL_TRY(tl_nn_set_labels(c, nn->labels, tl_nn_output_dim(nn)));
    if (nn->label_names) TL_TRY(tl_nn_set_label_names(c, nn->label_names));
    c->in_shift = nn->in_shift;
    c->in_scale = nn->in_scale;
    c->infer_batch = nn->infer_batch;
    *out = c;
    c = NULL;
done:
    tl_nn_free(c);
    return st;
}

tl_status nn_pack_into(tl_nn *nn, float *p, float *g) {
    tl_status st = TL_OK;
    float *op = NULL, *og = NULL;
    size_t pt = 0, gt = 0;
    for (size_t i = 0; i < nn->nt; i++) {
        pt += nn->t[i].size;
        if (nn->t[i].trainable) gt += nn->t[i].size;
    }
    if (!p) {
        TL_CALLOC(op, pt ? pt : 1);
        TL_CALLOC(og, gt ? gt : 1);
        p = op;
        g = og;
    }
    /* trainable tensors first, in tensor order (the layout of grad_off), then the statistics */
    size_t at = 0, ag = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nn->nt; i++) {
            nn_tensor *t = &nn->t[i];
            if (t->trainable != (pass == 0)) continue;
            memmove(p + at, t->data, t->size * sizeof(float));
            if (!nn->packed) tl_free(t->data);
            t->data = p + at;
            at += t->size;
            if (t->trainable) {
                memmove(g + ag, t->grad, t->size * sizeof(float));
                if (!nn->packed) tl_free(t->grad);
                t->grad = g + ag;
                ag += t->size;
            }
        }
    if (nn->packed && !nn->pextern) {
        tl_free(nn->pblock);
        tl_free(nn->gblock);
    }
    nn->pblock = p;
    nn->gblock = g;
    nn->p_total = pt;
    nn->g_total = gt;
    nn->packed = true;
    nn->pextern = op == NULL;
    op = og = NULL;
done:
    tl_free(op);
    tl_free(og);
    return st;
}

/* ---- queries ---- */

const char *tl_nn_arch(const tl_nn *nn) { return nn->arch; }
void tl_nn_input_shape(const tl_nn *nn, size_t s[3]) {
    s[0] = nn->in.c;
    s[1] = nn->in.h;
    s[2] = nn->in.w;
}
size_t tl_nn_input_dim(const tl_nn *nn) { return nn_shape_size(nn->in); }
size_t tl_nn_output_dim(const tl_nn *nn) {
    return nn->nl ? nn_shape_size(nn->layers[nn->nl - 1].out) : nn_shape_size(nn->in);
}
size_t tl_nn_param_scalars(const tl_nn *nn) {
    size_t s = 0;
    for (size_t i = 0; i < nn->nt; i++)
        if (nn->t[i].trainable) s += nn->t[i].size;
    return s;
}
size_t tl_nn_layer_count(const tl_nn *nn) { return nn->nl; }
const char *tl_nn_layer_name(const tl_nn *nn, size_t i) { return i < nn->nl ? nn->layers[i].name : ""; }
const char *tl_nn_layer_kind(const tl_nn *nn, size_t i) {
    return i < nn->nl ? nn_kind_name(nn->layers[i].kind) : "";
}
void tl_nn_layer_shape(const tl_nn *nn, size_t i, size_t s[3]) {
    nn_shape o = i < nn->nl ? nn->layers[i].out : nn->in;
    s[0] = o.c;
    s[1] = o.h;
    s[2] = o.w;
}

bool nn_layer_trainable(const tl_nn *nn, size_t i) {
    const nn_layer *L = &nn->layers[i];
    return L->w >= 0 && !L->frozen && L->lr_mult != 0.0f;
}

void tl_nn_summary(const tl_nn *nn, char *buf, size_t cap) {
    size_t len = 0;
    if (!buf || !cap) return;
    buf[0] = '\0';
#define SUMMARY_ADD(...)                                                                           \
    do {                                                                                           \
        int w_ = snprintf(buf + len, cap - len, __VA_ARGS__);                                      \
        if (w_ < 0 || (size_t)w_ >= cap - len) return;                                             \
        len += (size_t)w_;                                                                         \
    } while (0)
    SUMMARY_ADD("%-4s %-14s %-8s %-16s %10s\n", "#", "layer", "kind", "output", "params");
    SUMMARY_ADD("%-4s %-14s %-8s %5zux%zux%-8zu %10s\n", "", "input", "", nn->in.c, nn->in.h,
                nn->in.w, "");
    size_t total = 0;
    for (size_t i = 0; i < nn->nl; i++) {
        const nn_layer *L = &nn->layers[i];
        size_t np = 0;
        for (size_t k = 0; k < nn->nt; k++)
            if (nn->t[k].layer == i && nn->t[k].trainable) np += nn->t[k].size;
        total += np;
        char shp[48];
        snprintf(shp, sizeof shp, "%zux%zux%zu", L->out.c, L->out.h, L->out.w);
        SUMMARY_ADD("%-4zu %-14s %-8s %-16s %10zu%s\n", i, L->name, nn_kind_name(L->kind), shp, np,
                    L->frozen ? "  frozen" : "");
    }
    SUMMARY_ADD("trainable parameters: %zu\n", total);
#undef SUMMARY_ADD
}

tl_status tl_nn_layer_find(const tl_nn *nn, const char *name, size_t *index) {
    tl_status st = TL_OK;
    TL_CHECK(nn && name && index, TL_ERR_INVALID_ARG, "nn_layer_find: NULL argument");
    for (size_t i = 0; i < nn->nl; i++)
        if (strcmp(nn->layers[i].name, name) == 0) {
            *index = i;
            return TL_OK;
        }
    {
        char *end;
        long v = strtol(name, &end, 10);
        if (end != name && !*end) {
            long n = (long)nn->nl;
            if (v < 0) v += n;
            TL_CHECK(v >= 0 && v < n, TL_ERR_NOT_FOUND,
                     "layer index %s is out of range (the network has %ld layers)", name, n);
            *index = (size_t)v;
            return TL_OK;
        }
    }
    {
        char list[1024];
        size_t len = 0;
        list[0] = '\0';
        for (size_t i = 0; i < nn->nl && len + 2 < sizeof list; i++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", nn->layers[i].name);
            if (w < 0) break;
            len += (size_t)w;
        }
        st = tl_fail(TL_ERR_NOT_FOUND, "no layer named '%s' (layers: %s)", name, list);
    }
done:
    return st;
}

static long last_dense(const tl_nn *nn) {
    for (size_t i = nn->nl; i-- > 0;)
        if (nn->layers[i].kind == NN_DENSE) return (long)i;
    return -1;
}

tl_status tl_nn_embed_layer(const tl_nn *nn, size_t *index) {
    long h = last_dense(nn);
    if (h <= 0)
        return tl_fail(TL_ERR_NOT_FOUND, "the network has no dense head with a layer before it to "
                       "take features from; name a layer");
    *index = (size_t)h - 1;
    return TL_OK;
}

size_t tl_nn_tensor_count(const tl_nn *nn) { return nn->nt; }
void tl_nn_tensor(tl_nn *nn, size_t i, const char **name, size_t *ndim, const size_t **dims,
                  float **data, bool *trainable) {
    nn_tensor *t = &nn->t[i];
    if (name) *name = t->name;
    if (ndim) *ndim = t->ndim;
    if (dims) *dims = t->dims;
    if (data) *data = t->data;
    if (trainable) *trainable = t->trainable;
}
tl_status tl_nn_tensor_find(const tl_nn *nn, const char *name, size_t *index) {
    for (size_t i = 0; i < nn->nt; i++)
        if (strcmp(nn->t[i].name, name) == 0) {
            *index = i;
            return TL_OK;
        }
    return tl_fail(TL_ERR_NOT_FOUND, "the network has no tensor '%s'", name);
}

/* ---- labels, input preprocessing ---- */

tl_status tl_nn_set_labels(tl_nn *nn, const int *labels, size_t k) {
    tl_status st = TL_OK;
    int *lab = NULL;
    TL_CHECK(nn && labels, TL_ERR_INVALID_ARG, "nn_set_labels: NULL argument");
    TL_CHECK(k == tl_nn_output_dim(nn), TL_ERR_SHAPE,
             "nn_set_labels: %zu labels for a head with %zu outputs", k, tl_nn_output_dim(nn));
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            TL_CHECK(labels[i] != labels[j], TL_ERR_LABEL,
                     "nn_set_labels: label %d appears twice (outputs %zu and %zu)", labels[i], i, j);
    TL_ALLOC(lab, k);
    memcpy(lab, labels, k * sizeof *lab);
    /* names belong to the classes they were given for: other classes (a new head) drop them */
    if (nn->label_names && nn->labels && memcmp(nn->labels, lab, k * sizeof *lab) != 0) {
        tl_free(nn->label_names);
        nn->label_names = NULL;
    }
    tl_free(nn->labels);
    nn->labels = lab;
done:
    return st;
}

const int *tl_nn_labels(const tl_nn *nn) { return nn->labels; }

tl_status tl_nn_set_label_names(tl_nn *nn, const char *names) {
    tl_status st = TL_OK;
    char *d = NULL;
    TL_CHECK(nn, TL_ERR_INVALID_ARG, "nn_set_label_names: NULL network");
    if (names) {
        size_t n = strlen(names), count = 1, k = tl_nn_output_dim(nn);
        for (size_t i = 0; i < n; i++) count += names[i] == ',';
        TL_CHECK(count == k, TL_ERR_LABEL,
                 "label names \"%s\": %zu names for a head of %zu classes (one name per class, "
                 "in the order of the labels)",
                 names, count, k);
        for (size_t i = 0; i <= n; i++)
            TL_CHECK(!((i == 0 || names[i - 1] == ',') && (names[i] == ',' || names[i] == '\0')),
                     TL_ERR_LABEL, "label names \"%s\": a name is empty", names);
        TL_ALLOC(d, n + 1);
        memcpy(d, names, n + 1);
    }
    tl_free(nn->label_names);
    tl_free(nn->sync_buf);
    nn->label_names = d;
done:
    return st;
}

const char *tl_nn_label_names(const tl_nn *nn) { return nn->label_names; }

void tl_nn_set_input_norm(tl_nn *nn, float shift, float scale) {
    nn->in_shift = shift;
    nn->in_scale = scale;
}

void tl_nn_input_norm(const tl_nn *nn, float *shift, float *scale) {
    if (shift) *shift = nn->in_shift;
    if (scale) *scale = nn->in_scale;
}

tl_status tl_nn_input_from_mat(const tl_nn *nn, tl_mat X, float *out) {
    tl_status st = TL_OK;
    const size_t d = nn_shape_size(nn->in);
    TL_CHECK(out && (X.data || X.rows == 0), TL_ERR_INVALID_ARG, "nn_input_from_mat: NULL argument");
    TL_CHECK(X.cols == d, TL_ERR_SHAPE,
             "the data has %zu features per sample but the model expects %zux%zux%zu = %zu",
             X.cols, nn->in.c, nn->in.h, nn->in.w, d);
    for (size_t i = 0; i < X.rows; i++) {
        const double *r = X.data + i * X.ld;
        float *o = out + i * d;
        for (size_t j = 0; j < d; j++) o[j] = (float)((r[j] - nn->in_shift) * nn->in_scale);
    }
done:
    return st;
}

/* ---- workspace ---- */

typedef struct {
    size_t off;
    bool overflow;
} planner;

static size_t plan(planner *p, size_t count, size_t esize) {
    size_t bytes, at = p->off;
    if (tl_size_mul(count, esize, &bytes) != 0 || at > (size_t)-1 - bytes - NN_ALIGN) {
        p->overflow = true;
        return 0;
    }
    p->off = (at + bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
    return at;
}

static void workspace_release(tl_nn *nn) {
    nn_pool_free(nn->pool);
    nn->pool = NULL;
    tl_free(nn->ws);
    nn->ws = NULL;
    nn->cap = 0;
    nn->nthreads = 0;
}

tl_status nn_workspace_reserve(tl_nn *nn, size_t batch) {
    tl_status st = TL_OK;
    size_t *offs = NULL;
    size_t T = nn_threads();
    if (T > NN_MAX_THREADS) T = NN_MAX_THREADS;
    if (batch <= nn->cap && nn->ws && T == nn->threads_want) return TL_OK;
    if (batch < nn->cap) batch = nn->cap;
    TL_CHECK(batch >= 1 && batch <= ((size_t)1 << 24), TL_ERR_INVALID_ARG,
             "nn: batch size %zu not in 1..2^24", batch);
    workspace_release(nn);
    const size_t L = nn->nl;
    const size_t slice = (batch + T - 1) / T; /* largest slice a thread gets */
    /* conv chunk: the largest number of samples whose im2col fits the budget, for every conv */
    size_t chunk = slice, col_cap = 1, tmp_cap = 1, cmax = 1, pad_cap = 1, sp_cap = 0;
    size_t sp_in = 0, sp_wc = 0, c_wc = 0;
    for (size_t i = 0; i < L; i++) {
        const nn_layer *ly = &nn->layers[i];
        const size_t spc = nn_dense_sparse_cap(ly, slice);
        if (spc > sp_cap) sp_cap = spc;
        if (spc) { /* sparse_dense.c's columns: (IN + 1) x Np floats, and IN of map and keys */
            const size_t in = nn_shape_size(ly->in), np = nn_sparse_np(ly->units);
            if (in > sp_in) sp_in = in;
            if (tl_size_mul(in + 1, np, &c_wc) != 0) c_wc = (size_t)-1; /* plan() flags it */
            if (c_wc > sp_wc) sp_wc = c_wc;
        }
        if (ly->kind == NN_BN && ly->in.c > cmax) cmax = ly->in.c;
        if (ly->kind != NN_CONV) continue;
        size_t per = ly->in.c * ly->k * ly->k * ly->out.h * ly->out.w;
        size_t fit = per ? NN_COL_BUDGET / per : slice;
        if (fit < 1) fit = 1;
        if (fit < chunk) chunk = fit;
    }
    for (size_t i = 0; i < L; i++) {
        const nn_layer *ly = &nn->layers[i];
        if (ly->kind != NN_CONV) continue;
        size_t hw = ly->out.h * ly->out.w, ncol, c1, c2;
        TL_CHECK(tl_size_mul(chunk, hw, &ncol) == 0 && ncol <= TL_INT_MAX_DIM, TL_ERR_INVALID_ARG,
                 "nn: layer %s: %zu x %zu columns exceed the BLAS int range", ly->name, chunk, hw);
        TL_CHECK(tl_size_mul(ncol, ly->in.c * ly->k * ly->k, &c1) == 0 &&
                     tl_size_mul(ncol, ly->units, &c2) == 0,
                 TL_ERR_NOMEM, "nn: layer %s: workspace size overflows", ly->name);
        if (c1 > col_cap) col_cap = c1;
        if (c2 > tmp_cap) tmp_cap = c2;
        const size_t hp = ly->in.h + 2 * ly->pad, wp = ly->in.w + 2 * ly->pad;
        TL_CHECK(tl_size_mul(hp, wp, &c1) == 0, TL_ERR_NOMEM, "nn: layer %s: workspace size overflows",
                 ly->name);
        if (c1 > pad_cap) pad_cap = c1;
    }
    /* plan: activations a[0..L] each their own (flatten aliases its input); gradients in two
     * ping-pong buffers of the largest activation, since layer i's backward reads g[i+1] and
     * writes g[i] and nothing older is needed - except the output gradient of each residual add,
     * which waits until the block's input gradient exists, and so gets a buffer of its own */
    planner p = {0, false};
    size_t o_a = plan(&p, L + 1, sizeof(float *)), o_g = plan(&p, L + 1, sizeof(float *));
    TL_ALLOC(offs, 6 * (L + 1) + nn->nt);
    size_t *o_act = offs, *o_grad = offs + (L + 1), *o_s1 = offs + 2 * (L + 1),
           *o_s2 = offs + 3 * (L + 1), *gid = offs + 4 * (L + 1), *o_sc = offs + 5 * (L + 1),
           *goff = offs + 6 * (L + 1);
    const size_t in_sz = nn_shape_size(nn->in), NONE = (size_t)-1, DED = (size_t)-2;
    size_t gmax = in_sz;
    o_act[0] = plan(&p, batch * in_sz, sizeof(float));
    for (size_t i = 0; i <= L; i++) gid[i] = NONE;
    for (size_t i = 0; i < L; i++) {
        const nn_layer *ly = &nn->layers[i];
        size_t osz = nn_shape_size(ly->out), n;
        if (osz > gmax) gmax = osz;
        if (tl_size_mul(batch, osz, &n) != 0) p.overflow = true;
        o_s1[i] = o_s2[i] = o_sc[i] = 0;
        if (ly->src != i) { /* a shortcut's first layer (never a flatten: the parser refuses) */
            size_t ni;
            if (tl_size_mul(batch, nn_shape_size(ly->in), &ni) != 0) p.overflow = true;
            o_sc[i] = plan(&p, ni, sizeof(float));
        }
        if (ly->kind == NN_FLATTEN) {
            o_act[i + 1] = o_act[i];
            if (gid[i] == DED) {
                o_grad[i + 1] = o_grad[i];
                gid[i + 1] = DED;
            }
        } else {
            o_act[i + 1] = plan(&p, n, sizeof(float));
        }
        if (ly->kind == NN_ADD) {
            o_grad[i + 1] = plan(&p, n, sizeof(float));
            gid[i + 1] = DED;
            if (ly->proj) { /* the main path's output gradient is the add's output gradient */
                o_grad[ly->skip] = o_grad[i + 1];
                gid[ly->skip] = DED;
            }
        }
        if (ly->kind == NN_BN) {
            o_s1[i] = plan(&p, ly->in.c, sizeof(float));
            o_s2[i] = plan(&p, ly->in.c, sizeof(float));
        } else if (ly->kind == NN_MAXPOOL) {
            o_s1[i] = plan(&p, n, sizeof(int32_t));
        } else if (ly->kind == NN_DROPOUT) {
            o_s1[i] = plan(&p, n, 1);
        }
    }
    /* Without batch norm, and when it costs at most twice the ping-pong pair, every gradient
     * gets its own buffer: then backward needs no barrier between layers (two slices of
     * differently sized gradients in one shared buffer would overlap). */
    bool has_bn = false;
    size_t sum_act = in_sz;
    for (size_t i = 0; i < L; i++) {
        has_bn |= nn->layers[i].kind == NN_BN;
        if (nn->layers[i].kind != NN_FLATTEN) sum_act += nn_shape_size(nn->layers[i].out);
    }
    const bool sep = !has_bn && sum_act <= 4 * gmax;
    size_t gm, pool[2] = {0, 0};
    if (tl_size_mul(batch, gmax, &gm) != 0) p.overflow = true;
    if (!sep) {
        pool[0] = plan(&p, gm, sizeof(float));
        pool[1] = plan(&p, gm, sizeof(float));
    }
    for (size_t i = L + 1; i-- > 0;) {
        if (gid[i] == DED) continue;
        if (i < L && nn->layers[i].kind == NN_FLATTEN) {
            gid[i] = gid[i + 1];
            o_grad[i] = o_grad[i + 1];
            continue;
        }
        gid[i] = (i == L || gid[i + 1] != 0) ? 0 : 1;
        o_grad[i] = sep ? plan(&p, batch * (i ? nn_shape_size(nn->layers[i - 1].out) : in_sz),
                               sizeof(float))
                        : pool[gid[i]];
    }
    /* per-thread scratch and gradient blocks, the grad offsets, the bn reduction */
    size_t gtotal = 0;
    for (size_t i = 0; i < nn->nt; i++) {
        goff[i] = gtotal;
        if (nn->t[i].trainable) gtotal += nn->t[i].size;
    }
    size_t o_col[NN_MAX_THREADS], o_tmp[NN_MAX_THREADS], o_pad[NN_MAX_THREADS],
        o_red[NN_MAX_THREADS], o_gr[NN_MAX_THREADS], o_spi[NN_MAX_THREADS], o_spv[NN_MAX_THREADS],
        o_spp[NN_MAX_THREADS], o_spm[NN_MAX_THREADS], o_spk[NN_MAX_THREADS], o_spu[NN_MAX_THREADS],
        o_spw[NN_MAX_THREADS];
    for (size_t k = 0; k < T; k++) {
        o_col[k] = plan(&p, col_cap, sizeof(float));
        o_tmp[k] = plan(&p, tmp_cap, sizeof(float));
        o_pad[k] = plan(&p, pad_cap, sizeof(float));
        o_spi[k] = plan(&p, sp_cap, sizeof(int32_t));
        o_spv[k] = plan(&p, sp_cap, sizeof(float));
        o_spp[k] = plan(&p, sp_cap ? slice + 1 : 0, sizeof(size_t));
        o_spm[k] = plan(&p, sp_in, sizeof(int32_t));
        o_spk[k] = plan(&p, sp_in, sizeof(int32_t));
        o_spu[k] = plan(&p, sp_cap, sizeof(int32_t));
        o_spw[k] = plan(&p, sp_wc, sizeof(float));
        o_red[k] = plan(&p, 2 * cmax, sizeof(double));
        o_gr[k] = k ? plan(&p, gtotal, sizeof(float)) : 0;
    }
    size_t o_bnr = plan(&p, 2 * cmax, sizeof(double)), o_goff = plan(&p, nn->nt + 1, sizeof(size_t));
    TL_CHECK(!p.overflow, TL_ERR_NOMEM, "nn: workspace for batch %zu overflows", batch);
    TL_CHECK(batch <= TL_INT_MAX_DIM, TL_ERR_INVALID_ARG, "nn: batch %zu too large", batch);
    {
        unsigned char *base = tl_malloc(p.off + NN_ALIGN);
        TL_CHECK(base, TL_ERR_NOMEM, "nn: out of memory for a %zu-byte workspace (batch %zu)",
                 p.off, batch);
        nn->ws = base;
        unsigned char *al = (unsigned char *)(((uintptr_t)base + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN);
        nn->a = (float **)(void *)(al + o_a);
        nn->g = (float **)(void *)(al + o_g);
        for (size_t i = 0; i <= L; i++) {
            nn->a[i] = (float *)(void *)(al + o_act[i]);
            nn->g[i] = (float *)(void *)(al + o_grad[i]);
        }
        for (size_t i = 0; i < L; i++) {
            nn_layer *ly = &nn->layers[i];
            ly->s_mean = ly->s_invstd = NULL;
            ly->s_idx = NULL;
            ly->s_mask = NULL;
            ly->s_dsrc = ly->src != i ? (float *)(void *)(al + o_sc[i]) : NULL;
            if (ly->kind == NN_BN) {
                ly->s_mean = (float *)(void *)(al + o_s1[i]);
                ly->s_invstd = (float *)(void *)(al + o_s2[i]);
            } else if (ly->kind == NN_MAXPOOL) {
                ly->s_idx = (int32_t *)(void *)(al + o_s1[i]);
            } else if (ly->kind == NN_DROPOUT) {
                ly->s_mask = al + o_s1[i];
            }
        }
        memset(nn->scr, 0, sizeof nn->scr);
        for (size_t k = 0; k < T; k++) {
            nn->scr[k].col = (float *)(void *)(al + o_col[k]);
            nn->scr[k].tmp = (float *)(void *)(al + o_tmp[k]);
            nn->scr[k].pad = (float *)(void *)(al + o_pad[k]);
            nn->scr[k].sp_idx = (int32_t *)(void *)(al + o_spi[k]);
            nn->scr[k].sp_val = (float *)(void *)(al + o_spv[k]);
            nn->scr[k].sp_ptr = (size_t *)(void *)(al + o_spp[k]);
            nn->scr[k].sp_cap = sp_cap;
            nn->scr[k].sp_map = (int32_t *)(void *)(al + o_spm[k]);
            nn->scr[k].sp_key = (int32_t *)(void *)(al + o_spk[k]);
            nn->scr[k].sp_uid = (int32_t *)(void *)(al + o_spu[k]);
            nn->scr[k].sp_wc = (float *)(void *)(al + o_spw[k]);
            if (sp_in) memset(nn->scr[k].sp_map, 0xff, sp_in * sizeof(int32_t)); /* all -1 */
            nn->scr[k].red = (double *)(void *)(al + o_red[k]);
            nn->scr[k].grad = k ? (float *)(void *)(al + o_gr[k]) : NULL;
            if (k) memset(nn->scr[k].grad, 0, gtotal * sizeof(float));
        }
        nn->bn_red = (double *)(void *)(al + o_bnr);
        nn->grad_off = (size_t *)(void *)(al + o_goff);
        memcpy(nn->grad_off, goff, nn->nt * sizeof(size_t));
        nn->grad_total = gtotal;
        nn->col_cap = col_cap;
        nn->tmp_cap = tmp_cap;
        nn->conv_chunk = chunk;
        nn->grad_sep = sep;
        nn->cap = batch;
        nn->nthreads = T;
        nn->threads_want = T;
    }
    if (T > 1) {
        TL_TRY(nn_pool_create(T, &nn->pool));
        if (nn_pool_threads(nn->pool) < T) nn->nthreads = nn_pool_threads(nn->pool);
    }
done:
    if (st != TL_OK) workspace_release(nn);
    tl_free(offs);
    return st;
}

tl_status tl_nn_set_batch(tl_nn *nn, size_t batch) {
    if (!nn || batch < 1 || batch > ((size_t)1 << 24))
        return tl_fail(TL_ERR_INVALID_ARG, "nn_set_batch: batch %zu not in 1..2^24", batch);
    nn->infer_batch = batch;
    return TL_OK;
}

float *nn_grad_of(const tl_nn *nn, long ti, size_t k) {
    if (ti < 0) return NULL;
    return k == 0 ? nn->t[ti].grad : nn->scr[k].grad + nn->grad_off[ti];
}

/* ---- drivers: each layer runs on nthreads slices of the batch ---- */

void openblas_set_num_threads(int num_threads);

typedef struct {
    tl_nn *nn;
    size_t li, B;
    int phase;
    bool train, need_dx, upd;
    size_t Bg; /* batch norm's count: the global batch when synchronised (bn_sync.c), else 0 */
} job;

static void slice_of(const job *j, size_t k, size_t *b0, size_t *nb) {
    const size_t T = j->nn->nthreads;
    *b0 = j->B * k / T;
    *nb = j->B * (k + 1) / T - *b0;
}

static void fwd_part(void *v, size_t k) {
    const job *j = v;
    tl_nn *nn = j->nn;
    nn_layer *L = &nn->layers[j->li];
    size_t b0, nb;
    slice_of(j, k, &b0, &nb);
    if (!nb) return;
    const size_t is = nn_shape_size(L->in), os = nn_shape_size(L->out);
    const float *x = nn->a[L->src] + b0 * is;
    float *y = nn->a[j->li + 1] + b0 * os;
    switch (L->kind) {
    case NN_CONV: nn_conv_forward(nn, L, x, y, nb, &nn->scr[k]); break;
    case NN_DENSE: nn_dense_forward(nn, L, x, y, nb, &nn->scr[k]); break;
    case NN_MAXPOOL: {
        /* the argmax indices of this slice start at its first output */
        nn_layer Ls = *L;
        Ls.s_idx = nn->inference ? NULL : L->s_idx + b0 * os; /* outputs only: no backward */
        nn_maxpool_forward(&Ls, x, y, nb);
        break;
    }
    case NN_AVGPOOL: nn_avgpool_forward(L, x, y, nb); break;
    case NN_GAP: nn_gap_forward(L, x, y, nb); break;
    case NN_BN:
        if (j->phase == 0) nn_bn_stats(L, x, nn->a[L->src], nb, nn->scr[k].red);
        else nn_bn_apply(nn, L, x, y, nb, j->train);
        break;
    case NN_DROPOUT: nn_dropout_forward(nn, j->li, x, y, nb, b0, j->train); break;
    case NN_FLATTEN: nn_flatten_forward(x, y, nb * is); break;
    case NN_ADD: nn_add_forward(x, nn->a[L->skip] + b0 * is, y, nb * is); break;
    case NN_GRL: memcpy(y, x, nb * is * sizeof(float)); break;
    default: nn_act_forward(L, x, y, nb * is); break;
    }
}

/* Sum the threads' partial batch-norm sums (2C each) into nn->bn_red, in thread order. */
static void reduce_bn(tl_nn *nn, size_t C) {
    for (size_t c = 0; c < 2 * C; c++) {
        double s = 0.0;
        for (size_t k = 0; k < nn->nthreads; k++) s += nn->scr[k].red[c];
        nn->bn_red[c] = s;
    }
}

/* Every layer [0, upto) on one thread's slice, one after the other: with no batch statistics to
 * gather (evaluation, or every batch norm frozen), no layer needs the other slices, so the
 * threads run the whole forward pass without a barrier between layers. */
typedef struct {
    tl_nn *nn;
    size_t B, upto;
} fwd_all_job;

#define NN_FUSE_MAXC 4096 /* channels of a fused batch norm (stack arrays) */

/* Whether activation a[idx] is read by a layer after `after` other than the next one (a residual
 * skip or a shortcut's source), so that a fused pass may not skip writing it. */
static bool read_later(const tl_nn *nn, size_t idx, size_t after, size_t upto) {
    for (size_t i = after + 1; i < upto; i++) {
        const nn_layer *L = &nn->layers[i];
        if ((L->src == idx && i != idx) || (L->kind == NN_ADD && L->skip == idx)) return true;
    }
    return false;
}

/* In evaluation, conv -> batch norm [-> ReLU] runs as one pass (nn_conv_bn_forward) when the
 * intermediate activations are not needed (not the requested output, not read by a residual
 * skip or shortcut); returns the number of layers done (0: not fused). */
static size_t fwd_fused(tl_nn *nn, size_t i, size_t upto, size_t B, size_t k) {
    if (!nn->inference || nn->train || i + 1 >= upto) return 0;
    const nn_layer *L = &nn->layers[i], *N = &nn->layers[i + 1];
    if (L->kind != NN_CONV || N->kind != NN_BN || N->src != i + 1 || N->in.c > NN_FUSE_MAXC)
        return 0;
    if (read_later(nn, i + 1, i + 1, upto)) return 0;
    bool relu = i + 2 < upto && nn->layers[i + 2].kind == NN_RELU && nn->layers[i + 2].src == i + 2 &&
                !read_later(nn, i + 2, i + 2, upto);
    const size_t last = i + (relu ? 2 : 1);
    job j = {nn, i, B, 1, false, false, false, 0};
    size_t b0, nb;
    slice_of(&j, k, &b0, &nb);
    if (!nb) return last - i + 1;
    float scale[NN_FUSE_MAXC], shift[NN_FUSE_MAXC];
    for (size_t c = 0; c < N->in.c; c++) nn_bn_eval_affine(nn, N, c, &scale[c], &shift[c]);
    const size_t is = nn_shape_size(L->in), os = nn_shape_size(nn->layers[last].out);
    nn_conv_bn_forward(nn, L, scale, shift, relu, nn->a[L->src] + b0 * is, nn->a[last + 1] + b0 * os,
                       nb, &nn->scr[k]);
    return last - i + 1;
}

static void fwd_all_part(void *v, size_t k) {
    const fwd_all_job *fa = v;
    for (size_t i = 0; i < fa->upto;) {
        const size_t done = fwd_fused(fa->nn, i, fa->upto, fa->B, k);
        if (done) {
            i += done;
            continue;
        }
        const nn_layer *L = &fa->nn->layers[i];
        job j = {fa->nn, i, fa->B, 1, fa->nn->train && !L->frozen, false, false, 0};
        fwd_part(&j, k);
        i++;
    }
}

/* Runs layers [0, upto) on a[0] (B samples). */
static void forward_range(tl_nn *nn, size_t B, size_t upto) {
    const int saved = (int)nn_threads();
    if (nn->nthreads > 1) openblas_set_num_threads(1);
    bool batch_stats = false;
    for (size_t i = 0; i < upto; i++)
        if (nn->layers[i].kind == NN_BN && nn->train && !nn->layers[i].frozen) batch_stats = true;
    if (!batch_stats) {
        fwd_all_job fa = {nn, B, upto};
        nn_pool_run(nn->pool, nn->nthreads, fwd_all_part, &fa);
        if (nn->nthreads > 1) openblas_set_num_threads(saved);
        return;
    }
    for (size_t i = 0; i < upto; i++) {
        nn_layer *L = &nn->layers[i];
        job j = {nn, i, B, 1, nn->train && !L->frozen, false, false, 0};
        if (L->kind == NN_BN && j.train) {
            j.phase = 0;
            nn_pool_run(nn->pool, nn->nthreads, fwd_part, &j);
            reduce_bn(nn, L->in.c);
            if (nn->comm) nn_bn_sync_finish(nn, L, nn->a[L->src], nn->bn_red, B);
            else nn_bn_finish(nn, L, nn->a[L->src], nn->bn_red, B);
            j.phase = 1;
        }
        nn_pool_run(nn->pool, nn->nthreads, fwd_part, &j);
    }
    if (nn->nthreads > 1) openblas_set_num_threads(saved);
}

void nn_forward_batch(tl_nn *nn, size_t B) { forward_range(nn, B, nn->nl); }

/* Gradient upkeep of a large network split over the batch's threads by element ranges (each
 * element is zeroed, or summed in thread order, by one part: the same floats in any order). */
static size_t grad_parts(const tl_nn *nn) {
    return nn->pool && nn->nthreads > 1 && nn->grad_total >= ((size_t)1 << 16) ? nn->nthreads : 1;
}

static void zero_part(void *v, size_t part) {
    tl_nn *nn = v;
    const size_t P = grad_parts(nn);
    const size_t a = nn->g_total * part / P, b = nn->g_total * (part + 1) / P;
    if (b > a) memset(nn->gblock + a, 0, (b - a) * sizeof(float));
    const size_t c = nn->grad_total * part / P, e = nn->grad_total * (part + 1) / P;
    for (size_t k = 1; k < nn->nthreads; k++)
        if (nn->scr[k].grad && e > c) memset(nn->scr[k].grad + c, 0, (e - c) * sizeof(float));
}

void nn_zero_grads(tl_nn *nn) { nn_pool_run(nn->pool, grad_parts(nn), zero_part, nn); }

static void sum_part(void *v, size_t part) { /* the threads' weight gradients, in thread order */
    tl_nn *nn = v;
    const size_t P = grad_parts(nn);
    for (size_t t = 0; t < nn->nt; t++) {
        nn_tensor *T = &nn->t[t];
        if (!T->trainable || !nn_layer_trainable(nn, T->layer)) continue;
        const size_t a = T->size * part / P, b = T->size * (part + 1) / P;
        for (size_t k = 1; k < nn->nthreads; k++) {
            const float *s = nn->scr[k].grad + nn->grad_off[t];
            for (size_t e = a; e < b; e++) T->grad[e] += s[e];
        }
    }
}

static void bwd_part(void *v, size_t k) {
    const job *j = v;
    tl_nn *nn = j->nn;
    const size_t i = j->li;
    nn_layer *L = &nn->layers[i];
    size_t b0, nb;
    slice_of(j, k, &b0, &nb);
    if (!nb) return;
    const size_t is = nn_shape_size(L->in), os = nn_shape_size(L->out), n = nb * is;
    const float *x = nn->a[L->src] + b0 * is, *y = nn->a[i + 1] + b0 * os,
                *dy = nn->g[i + 1] + b0 * os;
    /* a shortcut's first layer writes its input gradient aside (added into g[src] later) */
    float *dx = j->need_dx ? (L->src == i ? nn->g[i] : L->s_dsrc) + b0 * is : NULL;
    float *dW = j->upd ? nn_grad_of(nn, L->w, k) : NULL, *db = j->upd ? nn_grad_of(nn, L->b, k) : NULL;
    switch (L->kind) {
    case NN_CONV: nn_conv_backward(nn, L, x, dy, dx, nb, &nn->scr[k], dW, db); break;
    case NN_DENSE: nn_dense_backward(nn, L, x, dy, dx, nb, dW, db, &nn->scr[k]); break;
    case NN_MAXPOOL:
        if (dx) {
            nn_layer Ls = *L;
            Ls.s_idx = L->s_idx + b0 * os;
            nn_maxpool_backward(&Ls, dy, dx, nb);
        }
        break;
    case NN_AVGPOOL:
        if (dx) nn_avgpool_backward(L, dy, dx, nb);
        break;
    case NN_GAP:
        if (dx) nn_gap_backward(L, dy, dx, nb);
        break;
    case NN_BN:
        if (j->phase == 0) nn_bn_grad_sums(nn, L, x, dy, nb, j->train, nn->scr[k].red);
        else if (dx) nn_bn_dx(nn, L, x, dy, dx, nb, j->train, nn->bn_red, j->Bg ? j->Bg : j->B);
        break;
    case NN_DROPOUT:
        if (dx) nn_dropout_backward(nn, i, dy, dx, nb, b0, j->train);
        break;
    case NN_FLATTEN:
        if (dx) nn_flatten_backward(dy, dx, n);
        break;
    case NN_ADD:
        if (dx) nn_add_backward(dy, dx, n);
        break;
    case NN_GRL:
        if (dx)
            for (size_t e = 0; e < n; e++) dx[e] = -L->alpha * dy[e];
        break;
    default:
        if (dx) nn_act_backward(L, x, y, dy, dx, n);
        break;
    }
    if (!dx || (L->kind == NN_BN && j->phase == 0) || L->src != i) return;
    /* the other consumers of activation i: identity blocks that start there (their output
     * gradient) and shortcuts that read it (their first layer's input gradient) */
    for (size_t q = i + 1; q < nn->nl; q++) {
        const nn_layer *A = &nn->layers[q];
        const float *s = NULL;
        if (A->kind == NN_ADD && !A->proj && A->skip == i) s = nn->g[q + 1] + b0 * is;
        else if (A->src == i) s = A->s_dsrc + b0 * is;
        if (s)
            for (size_t e = 0; e < n; e++) dx[e] += s[e];
    }
}

/* Every layer from the top down to `lo` on one thread's slice: with no batch norm (whose
 * gradient sums need every slice) and a buffer per gradient (nn->grad_sep), nothing in backward
 * touches another slice - the taps, the residual adds and each thread's weight gradients are
 * all per slice - so the threads run the whole sweep without a barrier between layers (on a
 * loaded machine each barrier can cost a wake-up of the other thread). */
typedef struct {
    tl_nn *nn;
    size_t B;
    long lo, first;
} bwd_all_job;

static void bwd_all_part(void *v, size_t k) {
    const bwd_all_job *ba = v;
    tl_nn *nn = ba->nn;
    for (long ii = (long)nn->nl - 1; ii >= ba->lo; ii--) {
        const size_t i = (size_t)ii;
        nn_layer *L = &nn->layers[i];
        job j = {nn, i, ba->B, 1, nn->train && !L->frozen, nn->want_input_grad || ii > ba->first,
                 nn_layer_trainable(nn, i), 0};
        if (nn->tap && nn->tap[i + 1]) {
            size_t b0, nb;
            slice_of(&j, k, &b0, &nb);
            const size_t os = nn_shape_size(L->out);
            float *gd = nn->g[i + 1] + b0 * os;
            const float *tp = nn->tap[i + 1] + b0 * os;
            for (size_t e = 0; e < nb * os; e++) gd[e] += tp[e];
        }
        bwd_part(&j, k);
        if (nn->grad_hook && nn->nthreads == 1) nn->grad_hook(nn->grad_user, nn, i); /* on this thread */
    }
}

/* Layer i's weight gradients of threads 1.. added into thread 0's (nn->t[].grad), in thread
 * order: per value the same sums in the same order as one sweep over every layer at the end. */
static void sum_thread_grads(tl_nn *nn, size_t i) {
    for (size_t k = 1; k < nn->nthreads; k++)
        for (size_t t = 0; t < nn->nt; t++) {
            nn_tensor *T = &nn->t[t];
            if (T->layer != i || !T->trainable || !nn_layer_trainable(nn, T->layer)) continue;
            const float *s = nn->scr[k].grad + nn->grad_off[t];
            for (size_t e = 0; e < T->size; e++) T->grad[e] += s[e];
        }
}

void nn_backward_batch(tl_nn *nn, size_t B) {
    long first = -1;
    for (size_t i = 0; i < nn->nl; i++)
        if (nn_layer_trainable(nn, i)) {
            first = (long)i;
            break;
        }
    if (first < 0 && !nn->want_input_grad) return;
    const int saved = (int)nn_threads();
    if (nn->nthreads > 1) openblas_set_num_threads(1);
    const long lo = nn->want_input_grad ? 0 : first;
    if (nn->grad_sep) { /* no batch norm: one pass per slice (bwd_all_part) */
        bwd_all_job ba = {nn, B, lo, first};
        nn_pool_run(nn->pool, nn->nthreads, bwd_all_part, &ba);
    }
    for (long ii = nn->grad_sep ? lo - 1 : (long)nn->nl - 1; ii >= lo; ii--) {
        const size_t i = (size_t)ii;
        nn_layer *L = &nn->layers[i];
        if (nn->tap && nn->tap[i + 1]) { /* g[i+1] is complete here: add the extra gradient */
            float *gd = nn->g[i + 1];
            const float *tp = nn->tap[i + 1];
            const size_t m = B * nn_shape_size(L->out);
            for (size_t e = 0; e < m; e++) gd[e] += tp[e];
        }
        job j = {nn, i, B, 1, nn->train && !L->frozen, nn->want_input_grad || ii > first,
                 nn_layer_trainable(nn, i), 0};
        if (L->kind == NN_BN) {
            j.phase = 0;
            nn_pool_run(nn->pool, nn->nthreads, bwd_part, &j);
            reduce_bn(nn, L->in.c);
            if (!B) memset(nn->bn_red, 0, 2 * L->in.c * sizeof *nn->bn_red);
            if (j.upd) nn_bn_grad_finish(nn, L, nn->bn_red, j.train); /* this process's share */
            if (nn->comm && j.train) { /* dx needs the sums of the whole global batch */
                nn_bn_sync_grad(nn, L, nn->bn_red, B);
                j.Bg = nn->sync_B;
            }
            j.phase = 1;
        }
        nn_pool_run(nn->pool, nn->nthreads, bwd_part, &j);
        if (nn->grad_hook) { /* this layer's gradients final now: summed over threads, handed on */
            if (nn->nthreads > 1) sum_thread_grads(nn, i);
            nn->grad_hook(nn->grad_user, nn, i);
        }
    }
    if (nn->nthreads > 1) openblas_set_num_threads(saved);
    if (nn->nthreads > 1 && !nn->grad_hook) /* every layer's at once, split over the threads */
        nn_pool_run(nn->pool, grad_parts(nn), sum_part, nn);
    else if (nn->grad_sep && nn->nthreads > 1) /* layer by layer, top first, for the hook */
        for (long ii = (long)nn->nl - 1; ii >= lo; ii--) {
            sum_thread_grads(nn, (size_t)ii);
            nn->grad_hook(nn->grad_user, nn, (size_t)ii);
        }
}

/* ---- inference ---- */

static tl_status check_input(const tl_nn *nn, const float *x, size_t n, const void *out) {
    if (!nn || (n && (!x || !out))) return tl_fail(TL_ERR_INVALID_ARG, "nn: NULL argument");
    return TL_OK;
}

/* Run rows [0, n) of x through layers [0, upto) in eval mode; copy layer upto-1's output. */
static tl_status run_eval(tl_nn *nn, const float *x, size_t n, size_t upto, float *out) {
    tl_status st = TL_OK;
    const size_t din = nn_shape_size(nn->in);
    const size_t dout = upto ? nn_shape_size(nn->layers[upto - 1].out) : din;
    TL_TRY(nn_workspace_reserve(nn, nn->infer_batch));
    nn->train = false;
    nn->inference = true;
    for (size_t i0 = 0; i0 < n; i0 += nn->cap) {
        const size_t B = n - i0 < nn->cap ? n - i0 : nn->cap;
        memcpy(nn->a[0], x + i0 * din, B * din * sizeof(float));
        forward_range(nn, B, upto);
        memcpy(out + i0 * dout, nn->a[upto], B * dout * sizeof(float));
    }
    nn->inference = false;
done:
    return st;
}

tl_status tl_nn_forward(tl_nn *nn, const float *x, size_t n, float *out) {
    tl_status st = check_input(nn, x, n, out);
    if (st != TL_OK) return st;
    return run_eval(nn, x, n, nn->nl, out);
}

tl_status tl_nn_embed(tl_nn *nn, size_t layer, const float *x, size_t n, float *out) {
    tl_status st = check_input(nn, x, n, out);
    if (st != TL_OK) return st;
    if (layer >= nn->nl)
        return tl_fail(TL_ERR_NOT_FOUND, "nn_embed: layer %zu out of range (%zu layers)", layer, nn->nl);
    return run_eval(nn, x, n, layer + 1, out);
}

static void softmax_rows(float *P, size_t n, size_t K) {
    for (size_t i = 0; i < n; i++) {
        float *z = P + i * K;
        float mx = z[0];
        for (size_t k = 1; k < K; k++)
            if (z[k] > mx) mx = z[k];
        double s = 0.0;
        for (size_t k = 0; k < K; k++) s += exp((double)z[k] - mx);
        for (size_t k = 0; k < K; k++) z[k] = (float)(exp((double)z[k] - mx) / s);
    }
}

tl_status tl_nn_predict_proba(tl_nn *nn, const float *x, size_t n, float *P) {
    tl_status st = tl_nn_forward(nn, x, n, P);
    if (st == TL_OK) softmax_rows(P, n, tl_nn_output_dim(nn));
    return st;
}

tl_status tl_nn_predict(tl_nn *nn, const float *x, size_t n, int *pred) {
    tl_status st = TL_OK;
    float *Z = NULL;
    TL_TRY(check_input(nn, x, n, pred));
    const size_t K = tl_nn_output_dim(nn);
    TL_ALLOC(Z, n * K);
    TL_TRY(tl_nn_forward(nn, x, n, Z));
    for (size_t i = 0; i < n; i++) {
        const float *z = Z + i * K;
        size_t am = 0;
        for (size_t k = 1; k < K; k++)
            if (z[k] > z[am]) am = k;
        pred[i] = nn->labels[am];
    }
done:
    tl_free(Z);
    return st;
}

tl_status nn_map_labels(const tl_nn *nn, const int *y, size_t n, int *idx) {
    const size_t K = tl_nn_output_dim(nn);
    for (size_t i = 0; i < n; i++) {
        long f = -1;
        for (size_t k = 0; k < K; k++)
            if (nn->labels[k] == y[i]) {
                f = (long)k;
                break;
            }
        if (f < 0) {
            char list[256];
            size_t len = 0;
            list[0] = '\0';
            for (size_t k = 0; k < K && len + 16 < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", k ? "," : "", nn->labels[k]);
            return tl_fail(TL_ERR_LABEL,
                           "label %d (sample %zu) is not one of the model's %zu classes (%s%s); "
                           "give the model a new head for these classes",
                           y[i], i + 1, K, list, K > 40 ? ",..." : "");
        }
        idx[i] = (int)f;
    }
    return TL_OK;
}

tl_status tl_nn_evaluate(tl_nn *nn, const float *x, const int *y, size_t n, double *accuracy,
                         double *loss) {
    tl_status st = TL_OK;
    float *Z = NULL;
    int *idx = NULL;
    TL_TRY(check_input(nn, x, n, y));
    TL_CHECK(n > 0, TL_ERR_EMPTY, "nn_evaluate: no samples");
    const size_t K = tl_nn_output_dim(nn);
    TL_ALLOC(idx, n);
    TL_TRY(nn_map_labels(nn, y, n, idx));
    TL_ALLOC(Z, n * K);
    TL_TRY(tl_nn_forward(nn, x, n, Z));
    size_t hits = 0;
    double l = nn_xent_loss(Z, idx, n, K, 0.0, NULL, &hits);
    if (accuracy) *accuracy = (double)hits / (double)n;
    if (loss) *loss = l;
done:
    tl_free(Z);
    tl_free(idx);
    return st;
}

/* ---- transfer controls ---- */

tl_status tl_nn_new_head(tl_nn *nn, size_t k, uint64_t seed) {
    tl_status st = TL_OK;
    tl_nn *fresh = NULL;
    TL_CHECK(nn, TL_ERR_INVALID_ARG, "nn_new_head: NULL network");
    TL_CHECK(k >= 1 && k <= (1u << 24), TL_ERR_INVALID_ARG, "nn_new_head: %zu classes", k);
    long h = last_dense(nn);
    TL_CHECK(h >= 0, TL_ERR_NOT_FOUND, "nn_new_head: the network has no dense layer to replace");
    size_t old = nn->layers[h].units;
    nn->layers[h].units = k;
    st = nn_rebuild_arch(nn);
    nn->layers[h].units = old;
    if (st != TL_OK) goto done;
    st = tl_nn_create(nn->arch, nn->in.c, nn->in.h, nn->in.w, seed, &fresh);
    if (st != TL_OK) {
        nn_rebuild_arch(nn);
        goto done;
    }
    /* keep every tensor whose shape survived, except the head's */
    for (size_t i = 0; i < fresh->nt; i++) {
        nn_tensor *t = &fresh->t[i];
        if ((long)t->layer == h) continue;
        for (size_t j = 0; j < nn->nt; j++) {
            nn_tensor *s = &nn->t[j];
            if (strcmp(s->name, t->name) != 0 || s->size != t->size) continue;
            memcpy(t->data, s->data, t->size * sizeof(float));
            if (s->anchor) {
                t->anchor = s->anchor;
                s->anchor = NULL;
            }
        }
    }
    for (size_t i = 0; i < fresh->nl; i++) {
        fresh->layers[i].frozen = nn->layers[i].frozen;
        fresh->layers[i].lr_mult = nn->layers[i].lr_mult;
    }
    fresh->layers[h].frozen = false;
    fresh->in_shift = nn->in_shift;
    fresh->in_scale = nn->in_scale;
    fresh->infer_batch = nn->infer_batch;
    {
        tl_nn tmp = *nn;
        *nn = *fresh;
        *fresh = tmp;
    }
done:
    tl_nn_free(fresh);
    return st;
}

tl_status tl_nn_freeze_until(tl_nn *nn, size_t last) {
    if (!nn) return tl_fail(TL_ERR_INVALID_ARG, "nn_freeze_until: NULL network");
    if (last != (size_t)-1 && last >= nn->nl)
        return tl_fail(TL_ERR_INVALID_ARG, "freeze: layer %zu out of range (%zu layers)", last, nn->nl);
    for (size_t i = 0; i < nn->nl; i++) nn->layers[i].frozen = last != (size_t)-1 && i <= last;
    return TL_OK;
}

tl_status tl_nn_set_lr_mult(tl_nn *nn, size_t layer, double mult) {
    if (!nn || layer >= nn->nl)
        return tl_fail(TL_ERR_INVALID_ARG, "lr multiplier: layer %zu out of range", layer);
    if (!(mult >= 0 && mult <= 1e6))
        return tl_fail(TL_ERR_INVALID_ARG, "lr multiplier %g for layer %s not in [0, 1e6]", mult,
                       nn->layers[layer].name);
    nn->layers[layer].lr_mult = (float)mult;
    return TL_OK;
}

tl_status tl_nn_l2sp_anchor(tl_nn *nn) {
    tl_status st = TL_OK;
    TL_CHECK(nn, TL_ERR_INVALID_ARG, "nn_l2sp_anchor: NULL network");
    for (size_t i = 0; i < nn->nt; i++) {
        nn_tensor *t = &nn->t[i];
        if (!t->trainable) continue;
        if (!t->anchor) TL_ALLOC(t->anchor, t->size);
        memcpy(t->anchor, t->data, t->size * sizeof(float));
    }
done:
    return st;
}
