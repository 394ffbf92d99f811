/* Private structures of the neural-network engine (src/nn): the layer record, the named tensors,
 * the per-batch workspace, and the paired forward/backward entry points of every layer type.
 *
 * Memory model: activations a[0..L] (a[0] the input batch) and gradients g[0..L] live in one
 * workspace sized for `cap` samples and allocated once (nn_workspace_reserve); flatten aliases its
 * input's buffers and the gradients share two ping-pong buffers, or, in a network without batch
 * norm where it costs little, have one each (grad_sep; see the planner in net.c).
 * Threads: every layer runs on contiguous slices of the batch, one per thread (parallel.c). Layer i maps a[i] -> a[i+1]; its backward reads a[i], a[i+1], g[i+1], adds its
 * parameter gradients and, when asked, writes g[i]. A residual "add" layer at i with source s
 * computes a[i+1] = a[i] + a[s]; its backward copies g[i+1] to g[i] and, once layer s has written
 * g[s], the driver adds g[i+1] into it.
 * Projection shortcuts "[main | shortcut]" (block input a[s], main layers s..m-1, shortcut layers
 * m..q-1, add at q): the shortcut's first layer m reads a[src = s] instead of a[m], and writes its
 * input gradient into a buffer of its own (s_dsrc), which the driver adds into g[s] once layer s
 * has written it; the add at q computes a[q+1] = a[q] + a[skip = m] (shortcut + main output), and
 * g[m], whose only consumer is the add, is the add's output gradient g[q+1] itself (the planner
 * makes them one buffer). Every consumer of an activation has a higher index than its producer,
 * so one backward sweep from the top still sees each gradient complete before it is used. */
#ifndef TL_NN_INTERNAL_H
#define TL_NN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/check.h"
#include "tl/nn.h"

typedef enum {
    NN_CONV = 0,
    NN_DENSE,
    NN_MAXPOOL,
    NN_AVGPOOL,
    NN_GAP,
    NN_BN,
    NN_DROPOUT,
    NN_RELU,
    NN_LRELU,
    NN_GELU,
    NN_TANH,
    NN_SIGMOID,
    NN_FLATTEN,
    NN_ADD,
    NN_GRL, /* gradient reversal: identity forward, -lambda (alpha) times the gradient backward */
    NN_KIND_COUNT
} nn_kind;

typedef struct {
    size_t c, h, w;
} nn_shape;

static inline size_t nn_shape_size(nn_shape s) { return s.c * s.h * s.w; }

#define NN_NAME_MAX 64
#define NN_MAX_DIMS 4
#define NN_MAX_THREADS 16

/* ---- thread pool (parallel.c) ---- */
typedef struct nn_pool nn_pool;
typedef void (*nn_part_fn)(void *ctx, size_t part);
/* nthreads <= 1 gives no pool (*out = NULL), which nn_pool_run accepts. */
tl_status nn_pool_create(size_t nthreads, nn_pool **out);
void nn_pool_free(nn_pool *p);
size_t nn_pool_threads(const nn_pool *p);
/* fn(ctx, k) for k in [0, parts), part 0 on the caller; returns when all are done. */
void nn_pool_run(nn_pool *p, size_t parts, nn_part_fn fn, void *ctx);
/* The thread count libtl runs with: OpenBLAS's setting (tl_ctx.threads). */
size_t nn_threads(void);

/* Per-thread scratch of the workspace. */
typedef struct {
    float *col;   /* conv: im2col of a chunk of this thread's samples */
    float *tmp;   /* conv: (OUT, chunk*HW) channel-major output / gradient */
    float *pad;   /* conv: one zero-padded input plane, (H + 2P) x (W + 2P) */
    int32_t *sp_idx; /* dense on sparse input: the nonzeros of a slice, by row (CSR) */
    float *sp_val;
    size_t *sp_ptr;  /* (slice + 1) row starts */
    size_t sp_cap;   /* entries sp_idx / sp_val hold (0: no sparse path) */
    const void *sp_of;     /* the layer (nn_layer), input and rows the CSR was built from, so */
    const float *sp_x;     /* that backward reuses it (forward's); sp_of NULL: none */
    size_t sp_B;
    int32_t *sp_map;  /* (IN) -1 outside nn_sparse_compact */
    int32_t *sp_key;  /* the slice's distinct columns, increasing (sp_U of them) */
    int32_t *sp_uid;  /* (sp_cap) each nonzero's position in sp_key */
    size_t sp_U;
    float *sp_wc;     /* (IN + 1, Np): W's or dW's columns sp_key, transposed (sparse_dense.c) */
    const float *sp_given; /* nn_sparse_give: the CSR was set by the caller for input sp_given */
    double *red;  /* batch norm: 2 x channels partial sums */
    float *grad;  /* gradients of this thread's slice (threads >= 1; thread 0 writes the
                     tensors' own grad), all trainable tensors concatenated */
} nn_scratch;

/* A named tensor: a trainable parameter (grad != NULL) or a running statistic. */
typedef struct {
    char name[NN_NAME_MAX + 16];
    size_t ndim, dims[NN_MAX_DIMS], size;
    float *data;
    float *grad;   /* NULL for running statistics */
    float *m, *v;  /* optimiser state (SGD momentum buffer / Adam moments), allocated on demand */
    float *anchor; /* L2-SP reference w0, NULL when none */
    size_t layer;
    bool trainable;
} nn_tensor;

typedef struct {
    nn_kind kind;
    char name[NN_NAME_MAX];
    bool named;        /* explicit name given in the architecture string */
    nn_shape in, out;
    /* hyper-parameters */
    size_t units;      /* dense: outputs; conv: output channels */
    size_t k, stride, pad; /* conv / pools */
    float alpha;       /* lrelu slope; dropout probability */
    size_t skip;       /* add: index of the activation added (the block's input, or with a
                          projection shortcut the main path's output) */
    size_t start;      /* add: index of the activation entering the block */
    bool proj;         /* add: the block has a shortcut path ("[main | shortcut]") */
    size_t src;        /* index of the activation this layer reads: its own index, except for
                          the first layer of a shortcut, which reads the block's input */
    /* tensors: indices into nn->t, or -1 */
    long w, b, rm, rv;
    /* training controls */
    bool frozen;
    float lr_mult;
    /* per-batch scratch (inside the workspace) */
    float *s_mean, *s_invstd; /* bn: batch mean and 1/sqrt(var + eps) per channel */
    int32_t *s_idx;           /* maxpool: flat input index of each output's maximum */
    uint8_t *s_mask;          /* dropout: kept elements */
    float *s_dsrc;            /* shortcut's first layer: gradient of its input (B, in) */
} nn_layer;

struct tl_nn {
    nn_layer *layers;
    size_t nl, cap_layers;
    nn_tensor *t;
    size_t nt, cap_t;
    nn_shape in;
    char *arch;         /* canonical string */
    int *labels;        /* (output dim) */
    char *label_names;  /* NULL when unset */
    float in_shift, in_scale;
    size_t infer_batch;
    /* workspace */
    size_t cap;         /* samples the workspace holds, 0 = none yet */
    void *ws;           /* one block holding everything below */
    float **a, **g;     /* (nl + 1) pointers each */
    size_t col_cap, tmp_cap; /* floats per thread */
    size_t conv_chunk;  /* samples per im2col chunk */
    size_t nthreads;    /* slices per batch */
    size_t threads_want; /* the thread count the workspace was planned for */
    bool grad_sep;      /* every gradient has its own buffer (no ping-pong), so that backward can
                           run each thread's slice through all layers without a barrier */
    nn_pool *pool;
    nn_scratch scr[NN_MAX_THREADS];
    size_t *grad_off;   /* (nt) offset of each trainable tensor in scr[k].grad */
    size_t grad_total;  /* floats of one full set of gradients */
    double *bn_red;     /* batch norm: reduced sums, 2 x largest channel count */
    /* state of the training step */
    bool train;         /* forward in training mode (bn batch statistics, dropout on) */
    bool inference;     /* forward for outputs only (run_eval): no backward will follow, so
                           argmax indices and fused-away activations need not be kept */
    uint64_t step_seed; /* dropout masks: seeded per step and layer */
    bool want_input_grad; /* backward also writes g[0] (gradient checks, a head of a trainer) */
    /* parameter storage: every tensor's values in one block (trainable tensors first, in tensor
     * order, then the running statistics) and every trainable tensor's gradient in another, laid
     * out as grad_off says; owned by the network, or by a trainer that holds several networks'
     * blocks end to end (pextern) */
    float *pblock, *gblock;
    size_t p_total;     /* floats in pblock */
    size_t g_total;     /* floats in gblock */
    bool packed, pextern;
    /* extra gradients added at named layers: tap[i] (cap, size of activation i), added into
     * g[i] when the backward sweep reaches it; NULL = none (owned by the trainer) */
    float **tap;
    /* data-parallel training (bn_sync.c): batch norm's sums are summed over the processes of
     * comm (NULL: one process); sync_buf (2 x largest channel count + 1) doubles, sync_B the
     * global batch of the last synchronised forward */
    const tl_nn_comm *comm;
    double *sync_buf;
    size_t sync_B;
    /* backward calls grad_hook(grad_user, nn, i) as soon as layer i's weight gradients are final
     * (in nn->t[].grad), top layer first - so that a data-parallel step can start summing them
     * while the layers below still run (trainer.c); NULL: none */
    void (*grad_hook)(void *user, tl_nn *nn, size_t layer);
    void *grad_user;
};

/* ---- training checkpoints (checkpoint.c) ---- */
/* The loop's state at the end of an epoch (fixed fields first, then the two texts). */
typedef struct {
    uint64_t rows, seed, epochs_done, step, opt_t, since_best;
    tl_rng rng;
    double best_val;
    tl_nn_train_result r;
    char *log, *slog; /* the CSV logs so far (may be NULL when writing; owned when read) */
    size_t *perm;     /* (rows) the sample order, shuffled in place epoch after epoch (read into
                         the caller's array of rows entries) */
} nn_ckpt;
/* Write atomically: c, every tensor of nn and its optimiser buffers, best (nbest floats, or NULL). */
tl_status nn_ckpt_write(const char *path, const tl_nn *nn, const float *best, size_t nbest,
                        const nn_ckpt *c);
/* Read into nn's tensors and optimiser buffers (allocated as this run's optimiser has them),
 * best and c; TL_ERR_FORMAT naming the file for a damaged one or one of another network. */
tl_status nn_ckpt_read(const char *path, tl_nn *nn, float *best, size_t nbest, nn_ckpt *c);
/* A checkpoint's loop state into a training loop's variables (the trainer's optimiser step
 * count among them; r->resumed_after set); returns the first epoch still to run. */
size_t nn_ckpt_resume(const nn_ckpt *c, tl_nn_trainer *tr, tl_rng *rng, size_t *step, size_t *since,
                      double *best_val, tl_nn_train_result *r);
/* The same for several networks' tensors one after the other (a trunk and its heads). */
tl_status nn_ckpt_write_nets(const char *path, const tl_nn *const *nets, size_t nnets,
                             const float *best, size_t nbest, const nn_ckpt *c);
tl_status nn_ckpt_read_nets(const char *path, tl_nn *const *nets, size_t nnets, float *best,
                            size_t nbest, nn_ckpt *c);

/* Write the whole text of a CSV log to path (atomically; a stream gets the new part: *sent
 * bytes already written, *stream kept open for the run). train.c. */
tl_status nn_write_log(const char *path, const char *text, size_t *sent, tl_wfile **stream);

/* The optimiser's step count of a trainer (Adam's bias correction, SGD's first step), for
 * checkpoints. */
size_t *nn_trainer_opt_steps(tl_nn_trainer *t);
/* Backward, then (cm not NULL) the gradient block summed over the processes of cm: the step's
 * one all-reduce. */
tl_status nn_trainer_backward_sum(tl_nn_trainer *t, const tl_nn_comm *cm);

/* ---- deep adaptation over processes and its checkpoints (da_dist.c) ---- */
/* lam x DAN's or CORAL's loss (p->method) of the global batch into *loss, its gradient (x lam)
 * added into gf. f, gf (nls + nlt, m): this process's rows of the batch, source first, row i
 * at place pos[i] of its domain's nb rows. cm NULL: one process, nls = nlt = nb, pos unused.
 * Over processes every process computes the whole batch's loss; *loss is 0 except on process
 * 0, so the step's sums count it once. */
tl_status nn_da_stat_loss(const tl_nn_comm *cm, const tl_nn_da_params *p, double lam, const float *f,
                          float *gf, size_t m, size_t nls, size_t nlt, size_t nb, const size_t *pos,
                          double *loss);
/* CDAN+E's weights w (nls + nlt) from the class probabilities P (nls + nlt, K), each domain's
 * summing to nb over the global batch (tl_nn_cdan_entropy_weights over processes). */
tl_status nn_da_cdan_weights(const tl_nn_comm *cm, const float *P, size_t nls, size_t nlt, size_t nb,
                             size_t K, float *w);
/* CDAN+E's unnormalised weights 1 + exp(-H(p_i)) into w (ns + nt) and their sums per domain
 * (da_loss.c). */
void nn_cdan_entropy_raw(const float *probs, size_t ns, size_t nt, size_t K, float *w, double sum[2]);
/* A deep-adaptation checkpoint of method: c's fields (c->perm: the source order of NS rows), nn and the
 * discriminator head (or NULL) with their optimiser state, best (nn->p_total floats, or NULL),
 * the target order tperm (NT) and its cursor. Written atomically. */
tl_status nn_da_ckpt_write(const char *path, tl_nn *nn, tl_nn *head, const float *best, nn_ckpt *c,
                           tl_nn_da_method method, size_t NS, const size_t *tperm, size_t NT,
                           size_t tcur);
/* Read what nn_da_ckpt_write wrote into nn, head, best, c, perm (NS), tperm (NT), *tcur;
 * TL_ERR_FORMAT naming the file for a damaged one or one of another run's shape, TL_ERR_STATE
 * for one of another method. */
tl_status nn_da_ckpt_read(const char *path, tl_nn *nn, tl_nn *head, float *best, nn_ckpt *c,
                          tl_nn_da_method method, size_t *perm, size_t NS, size_t *tperm, size_t NT,
                          size_t *tcur);
/* Whether path names an existing file (a checkpoint to resume from). */
bool nn_da_ckpt_exists(const char *path);

/* ---- batch norm across processes (bn_sync.c) ---- */
/* Attach comm to nn (allocating its buffer; NULL detaches and frees it). */
tl_status nn_sync_attach(tl_nn *nn, const tl_nn_comm *comm);
/* Forward: the statistics of layer L from this process's reduced sums tot (2C, about the pilot
 * x0[c*HW] of its B local samples) and every other process's; sets the batch mean, 1/std and
 * the running statistics exactly as nn_bn_finish would for the whole global batch, and
 * nn->sync_B. */
void nn_bn_sync_finish(tl_nn *nn, nn_layer *L, const float *x0, double *tot, size_t B);
/* Data-parallel rows: this process holds n rows; *lo := the rows of the processes before it,
 * *total := all of them (the rows of process r are global rows lo .. lo + n - 1). */
tl_status nn_comm_rows(const tl_nn_comm *cm, size_t n, size_t *lo, size_t *total);
/* Backward: tot (2C) summed over the processes in place (B: this process's samples). */
void nn_bn_sync_grad(tl_nn *nn, const nn_layer *L, double *tot, size_t B);

/* ---- network driver (net.c) ---- */
/* Ensure the workspace holds `batch` samples (reallocates only when it must grow). */
tl_status nn_workspace_reserve(tl_nn *nn, size_t batch);
/* a[0] must hold the batch; computes a[1..L]. */
void nn_forward_batch(tl_nn *nn, size_t B);
/* g[L] must hold dLoss/dLogits; computes parameter gradients (added into zeroed grads) of the
 * trainable layers and g[] as far down as needed. */
void nn_backward_batch(tl_nn *nn, size_t B);
void nn_zero_grads(tl_nn *nn);
/* Move every tensor's values into p (p_total floats) and gradients into g (g_total floats), or
 * into blocks of the network's own when p is NULL; values are copied over. */
tl_status nn_pack_into(tl_nn *nn, float *p, float *g);
/* Whether layer i's parameters are updated. */
bool nn_layer_trainable(const tl_nn *nn, size_t i);
/* Initialise a layer's tensors the PyTorch way. */
void nn_layer_init(tl_nn *nn, size_t i, uint64_t seed);
/* Rebuild nn->arch from the layers. */
tl_status nn_rebuild_arch(tl_nn *nn);
/* Early stopping, written once for tl_nn_train, the deep-DA and the multi-task loops: epoch ep's
 * validation loss vl and accuracy va (has_val: the run holds validation rows) go into r; returns
 * true for a new best (the caller keeps its parameters), and sets *stop once `patience` epochs
 * have passed without one. Without validation rows or without patience every epoch is the best. */
bool nn_early_epoch(tl_nn_train_result *r, size_t ep, bool has_val, double vl, double va,
                    size_t patience, double *best_val, size_t *since, bool *stop);
/* Parse the architecture string and append its layers and their tensors (arch.c: the only
 * place that builds the layer table). */
tl_status nn_parse_arch(tl_nn *nn, const char *arch);
const char *nn_kind_name(nn_kind k);
/* y label values (n) -> output indices idx (n); TL_ERR_LABEL naming the first unknown label. */
tl_status nn_map_labels(const tl_nn *nn, const int *y, size_t n, int *idx);

/* ---- layers: forward y = f(x) over B samples; backward adds parameter gradients and writes dx
 * when dx != NULL ---- */
/* Gradient buffer of tensor ti for thread k (k = 0: the tensor's own). */
float *nn_grad_of(const tl_nn *nn, long ti, size_t k);
/* Dense on sparse input (dense.c): a slice of a layer at least NN_SPARSE_MIN_IN wide with at most
 * one value in NN_SPARSE_DIV nonzero takes the sparse path; _gemm are the product-only
 * reference; nn_dense_sparse_cap is the CSR room a thread's slice needs (0: none). */
#define NN_SPARSE_MIN_IN 256
#define NN_SPARSE_DIV 8
/* sparse_dense.c: the CSR slice's distinct columns, and the products through them */
size_t nn_sparse_np(size_t N);
/* Rows as CSR (sparse_dense.c), for a network whose input only its first, wide dense layer reads:
 * nn_rows_from_dense lists x's nonzeros (out->n = 0, nothing allocated, when the network or the
 * density does not qualify); a batch is reserved for rows of up to maxrow nonzeros, filled by
 * nn_rows_append (batch->n = 0 to restart), and nn_rows_give hands it to the network's slices in
 * place of the dense rows of x = nn->a[0] (writing those instead when a slice is too dense). */
typedef struct {
    size_t n, d, maxrow; /* rows, columns, most nonzeros in a row */
    size_t *ptr;
    int32_t *idx;
    float *val;
} nn_rows;
tl_status nn_rows_from_dense(const tl_nn *nn, const float *x, size_t n, size_t d, nn_rows *out);
tl_status nn_rows_reserve(nn_rows *batch, size_t rows, size_t maxrow, size_t d);
void nn_rows_append(nn_rows *batch, const nn_rows *from, size_t i);
void nn_rows_give(tl_nn *nn, const nn_rows *batch, float *x);
void nn_rows_free(nn_rows *r);
/* How many of T threads a training on rows r (batch rows a step) is worth: every thread beyond
 * the first clears and adds its own copy of the gradient block each step, while sparse rows give
 * the first layer only nnz x units of work; when a step's work per thread is under
 * NN_WORK_PER_GRAD flops per gradient float, one thread is faster (Amazon reviews, 92 of 5000
 * words a row into 100 units: 100 000 samples/s on one thread against 45 000 on two). */
#define NN_WORK_PER_GRAD 8
size_t nn_rows_threads(const tl_nn *nn, const nn_rows *r, size_t batch, size_t T);
/* X's rows as floats, checked (d columns, indices in range and increasing, values finite; `what`
 * names the rows in the messages); row i of r written densely into x (r->d floats). */
tl_status nn_rows_from_csr(tl_csr X, size_t d, const char *what, nn_rows *out);
void nn_rows_dense_row(const nn_rows *r, size_t i, float *x);
/* dense.c: sets sc's CSR for the slice x (B rows) of layer L from the caller's rows ptr[0..B]
 * (ptr[0] need not be 0) so that the next forward of L on x uses it and x is never read; false
 * (nothing set) when the rows are denser than the sparse path takes: then x must hold them. */
bool nn_dense_sparse_give(const nn_layer *L, const float *x, size_t B, nn_scratch *sc, const size_t *ptr,
                          const int32_t *idx, const float *val);
size_t nn_sparse_compact(const int32_t *idx, size_t nnz, size_t in, int32_t *map, int32_t *key,
                         int32_t *uid);
void nn_sparse_forward(const float *W, const float *b, size_t N, size_t in, const size_t *ptr,
                       const int32_t *uid, const float *val, size_t B, const int32_t *key, size_t U,
                       float *Wc, float *y);
void nn_sparse_backward_dw(size_t N, size_t in, const size_t *ptr, const int32_t *uid, const float *val,
                           const float *dy, size_t B, const int32_t *key, size_t U, float *dWc, float *dW);
size_t nn_dense_sparse_cap(const nn_layer *L, size_t slice);
void nn_dense_forward_gemm(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B);
void nn_dense_backward_gemm(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy,
                            float *dx, size_t B, float *dW, float *db);
void nn_dense_forward(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B,
                      nn_scratch *sc);
/* dW, db: this thread's gradient buffers, NULL when the layer is not trained. */
void nn_dense_backward(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy,
                       float *dx, size_t B, float *dW, float *db, nn_scratch *sc);
void nn_conv_forward(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B,
                     const nn_scratch *s);
/* Evaluation only: the convolution followed by a batch norm in evaluation mode (its per-channel
 * affine, scale/shift (O)) and, when relu, a ReLU, written straight to y - one pass over the
 * output instead of three. */
void nn_conv_bn_forward(const tl_nn *nn, const nn_layer *L, const float *scale, const float *shift,
                        bool relu, const float *x, float *y, size_t B, const nn_scratch *s);
void nn_conv_backward(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy,
                      float *dx, size_t B, const nn_scratch *s, float *dW, float *db);
/* Naive direct convolution (reference for tests): y (B, OUT, HO, WO). */
void nn_conv_forward_naive(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B);
/* L->s_idx NULL (evaluation): no argmax indices are recorded. */
void nn_maxpool_forward(const nn_layer *L, const float *x, float *y, size_t B);
void nn_maxpool_backward(const nn_layer *L, const float *dy, float *dx, size_t B);
void nn_avgpool_forward(const nn_layer *L, const float *x, float *y, size_t B);
void nn_avgpool_backward(const nn_layer *L, const float *dy, float *dx, size_t B);
void nn_gap_forward(const nn_layer *L, const float *x, float *y, size_t B);
void nn_gap_backward(const nn_layer *L, const float *dy, float *dx, size_t B);
/* Batch norm in phases around a cross-thread reduction. Training forward: bn_stats on each slice
 * (red: 2C partial sums about the pilots x0[c], the first sample's first value per channel), then
 * bn_finish (sums of all slices -> batch mean and 1/std, running statistics), then bn_apply on
 * each slice. Backward: bn_grad_sums on each slice (red: sum dy, sum dy (x - mean) per channel),
 * bn_grad_finish (parameter gradients from the totals, kept in tot; the driver calls it only for
 * a trained layer, as it passes dW = NULL to the other layers), then bn_dx on each slice. */
void nn_bn_stats(const nn_layer *L, const float *x, const float *x0, size_t B, double *red);
void nn_bn_finish(tl_nn *nn, nn_layer *L, const float *x0, const double *tot, size_t B);
/* Channel c's batch mean and biased variance over m values: the batch scratch and the running
 * statistics (PyTorch's update, unbiased variance). */
void nn_bn_set_stats(tl_nn *nn, nn_layer *L, size_t c, double mean, double var, double m);
void nn_bn_apply(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B, bool train);
/* Evaluation-mode affine of channel c: y = x * scale + shift, exactly as nn_bn_apply computes it. */
void nn_bn_eval_affine(const tl_nn *nn, const nn_layer *L, size_t c, float *scale, float *shift);
void nn_bn_grad_sums(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy, size_t B,
                     bool train, double *red);
void nn_bn_grad_finish(tl_nn *nn, const nn_layer *L, double *tot, bool train);
void nn_bn_dx(const tl_nn *nn, const nn_layer *L, const float *x, const float *dy, float *dx,
              size_t B, bool train, const double *tot, size_t Btotal);
/* Dropout: sample0 is the index of the slice's first sample in the batch, so each element's keep
 * decision (a hash of the step seed, the layer and the element's position) does not depend on
 * how the batch was sliced. */
void nn_dropout_forward(const tl_nn *nn, size_t li, const float *x, float *y, size_t B,
                        size_t sample0, bool train);
void nn_dropout_backward(const tl_nn *nn, size_t li, const float *dy, float *dx, size_t B,
                         size_t sample0, bool train);
void nn_act_forward(const nn_layer *L, const float *restrict x, float *restrict y, size_t n);
void nn_act_backward(const nn_layer *L, const float *restrict x, const float *restrict y,
                     const float *restrict dy, float *restrict dx, size_t n);
void nn_add_forward(const float *x, const float *skip, float *y, size_t n);
void nn_add_backward(const float *dy, float *dx, size_t n);
void nn_flatten_forward(const float *x, float *y, size_t n);
void nn_flatten_backward(const float *dy, float *dx, size_t n);

/* ---- losses (loss.c): mean over the batch; write dlogits (B, K) when non-NULL ---- */
/* Softmax cross-entropy with label smoothing eps: target (1 - eps) onehot + eps / K.
 * y (B) class indices in [0, K). Returns the mean loss; *correct counts argmax hits. */
double nn_xent_loss(const float *logits, const int *y, size_t B, size_t K, double eps,
                    float *dlogits, size_t *correct);
/* Mean squared error over all B*K entries against target (B, K). */
double nn_mse_loss(const float *out, const float *target, size_t B, size_t K, float *dout);
/* MSE against one-hot targets of y. */
double nn_mse_onehot_loss(const float *out, const int *y, size_t B, size_t K, float *dout,
                          size_t *correct);

/* ---- optimisers (optim.c) ---- */
typedef struct {
    tl_nn_optimizer kind;
    double lr, momentum, beta1, beta2, eps, weight_decay, l2sp_alpha, l2sp_beta;
    bool nesterov;
    size_t t; /* steps taken (Adam bias correction) */
} nn_opt;
/* Allocate and zero the optimiser state (a fresh optimiser). */
tl_status nn_opt_prepare(tl_nn *nn, const nn_opt *o);
/* One update of every trainable tensor with its layer's lr multiplier (o->t counts it). */
void nn_opt_step(tl_nn *nn, nn_opt *o, double lr);
/* The same update for step o->t, already counted (several networks stepped as one). */
void nn_opt_apply(tl_nn *nn, const nn_opt *o, double lr);
/* Learning rate at step `step` (0-based) of `steps_per_epoch`-step epochs. */
double nn_schedule_lr(const tl_nn_train_params *p, size_t step, size_t steps_per_epoch);

#endif
