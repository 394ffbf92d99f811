/* libtl neural networks: a small float32 engine (NCHW tensors, every dense product through CBLAS
 * sgemm) for model-based transfer — pre-train a network on a source task, then fine-tune it, probe
 * it, or use it as a feature extractor on a target task. In the spirit of llm.c and kann: a
 * sequential network with residual blocks, paired forward/backward per layer type, checked
 * against central finite differences and against PyTorch.
 *
 * Architecture strings (a file or a string; '#' starts a comment, whitespace is ignored):
 *   arch  := item (',' item)*
 *   item  := [NAME '='] layer  |  [NAME '='] '[' arch ['|' layers] ']'
 *            residual block: y = block(x) + x, or with a shortcut after '|' (a plain list of
 *            layers, no blocks or flatten) y = block(x) + shortcut(x), e.g. a ResNet downsampling
 *            block "[conv:64:3:2:1,bn,relu,conv:64:3:1:1,bn|conv:64:1:2:0,bn],relu"; both paths
 *            take the block's input and must give the same shape. The shortcut's layers come
 *            after the main path's in the layer list and are named like any others.
 *   layer := conv:OUT:K[:STRIDE[:PAD]]   2-D convolution, K x K kernel, PAD default (K-1)/2
 *          | dense:N                    fully connected (needs a flat input: C x 1 x 1)
 *          | maxpool:K[:S] | pool:K[:S] max pooling (stride S, default K; no padding, floor)
 *          | avgpool:K[:S]              average pooling
 *          | gap                        global average pooling -> C x 1 x 1
 *          | bn                         batch normalisation over channels (eps 1e-5, momentum 0.1)
 *          | dropout:P                  inverted dropout, P in [0, 1)
 *          | relu | lrelu[:SLOPE] | gelu | tanh | sigmoid     (lrelu slope default 0.01)
 *          | flatten                    C x H x W -> CHW x 1 x 1
 *          | grl                        gradient reversal (Ganin & Lempitsky 2015): identity
 *                                       forward, -lambda x the gradient backward; lambda 1 until
 *                                       tl_nn_set_grl / tl_nn_trainer_set_grl (not saved)
 *   e.g. "conv:32:3,bn,relu,pool:2,conv:64:3,bn,relu,pool:2,flatten,dense:128,relu,dense:10".
 * Layers are named by kind and running count ("conv1", "bn2", "dense2", "add1") unless named
 * explicitly ("stem=conv:32:3"). Parameters are named "<layer>.weight", "<layer>.bias",
 * "<layer>.running_mean", "<layer>.running_var", laid out as PyTorch's (conv weight (OUT, IN, K, K),
 * dense weight (N, IN)). Errors name the offending token and its position.
 *
 * Classes: the last layer's outputs are the classes, in the order of the model's labels (default
 * 0..K-1; set with tl_nn_set_labels). Training and evaluation take the data's own label values and
 * map them through the labels; a label the head does not have is TL_ERR_LABEL.
 *
 * A network owns a workspace sized for one batch (allocated once, reused every step: no
 * allocation in the training loop). A tl_nn is therefore not safe to use from two threads at once.
 *
 * Threads: a network splits every batch into one slice per thread (the OpenBLAS thread count, set
 * through tl_ctx.threads) and runs each layer on the slices in parallel on its own worker threads,
 * with OpenBLAS switched to one thread for the duration of the pass and restored afterwards. Two
 * networks should therefore not run passes concurrently in one process. Results are reproducible
 * for a given seed and thread count.
 */
#ifndef TL_NN_H
#define TL_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl/core.h"
#include "tl/data.h" /* tl_csr: sparse rows for tl_nn_da_train_csr */
#include "tl/io.h" /* model files are containers; tl_safetensors_* were declared here before */
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A network: its layers, their parameters (one contiguous block), input normalisation. */
typedef struct tl_nn tl_nn;

/* ---- construction ---- */
/* Build a network for inputs of shape (c, h, w) from an architecture string, parameters
 * initialised as PyTorch does by default (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * batch-norm weight 1, bias 0, running mean 0, var 1) from `seed`. TL_ERR_INVALID_ARG naming the
 * token for syntax errors, TL_ERR_SHAPE naming the token when shapes do not fit. */
tl_status tl_nn_create(const char *arch, size_t c, size_t h, size_t w, uint64_t seed, tl_nn **out);
void tl_nn_free(tl_nn *nn); /* NULL-safe */
/* Deep copy (parameters, labels, training controls; not the workspace). */
tl_status tl_nn_clone(const tl_nn *nn, tl_nn **out);
/* The canonical architecture string (explicit names only where they differ from the default). */
const char *tl_nn_arch(const tl_nn *nn);
void tl_nn_input_shape(const tl_nn *nn, size_t shape[3]);
size_t tl_nn_input_dim(const tl_nn *nn);  /* c * h * w */
size_t tl_nn_output_dim(const tl_nn *nn); /* number of outputs of the last layer */
/* Total number of trainable scalars. */
size_t tl_nn_param_scalars(const tl_nn *nn);
/* A readable table of layers, output shapes and parameter counts (one layer a line). */
void tl_nn_summary(const tl_nn *nn, char *buf, size_t cap);

/* ---- layers ---- */
size_t tl_nn_layer_count(const tl_nn *nn);               /* its layers */
const char *tl_nn_layer_name(const tl_nn *nn, size_t i); /* "conv1", "fc2", ... */
/* "conv", "dense", "maxpool", "avgpool", "gap", "bn", "dropout", "relu", "lrelu", "gelu", "tanh",
 * "sigmoid", "flatten", "add", "grl". */
const char *tl_nn_layer_kind(const tl_nn *nn, size_t i);
void tl_nn_layer_shape(const tl_nn *nn, size_t i, size_t shape[3]); /* output (c, h, w) */
/* A layer by name, or by index ("3"; negative counts from the end: "-1" is the last layer).
 * TL_ERR_NOT_FOUND naming the layer and listing the names. */
tl_status tl_nn_layer_find(const tl_nn *nn, const char *name, size_t *index);
/* The layer whose output is the default embedding: the input of the last dense layer (the
 * penultimate representation). TL_ERR_NOT_FOUND when there is no dense layer or it is first. */
tl_status tl_nn_embed_layer(const tl_nn *nn, size_t *index);

/* ---- named tensors (parameters and batch-norm running statistics) ---- */
size_t tl_nn_tensor_count(const tl_nn *nn); /* parameters and running statistics */
/* Borrowed: name, dims (ndim <= 4), data (writable; prod(dims) floats). `trainable` false for
 * running statistics. */
void tl_nn_tensor(tl_nn *nn, size_t i, const char **name, size_t *ndim, const size_t **dims,
                  float **data, bool *trainable);
tl_status tl_nn_tensor_find(const tl_nn *nn, const char *name, size_t *index);

/* ---- labels and input preprocessing (saved with the model) ---- */
/* labels (k) distinct, k == output dim. */
tl_status tl_nn_set_labels(tl_nn *nn, const int *labels, size_t k);
const int *tl_nn_labels(const tl_nn *nn); /* (output dim) */
/* Inputs are mapped x -> (x - shift) * scale before the first layer by tl_nn_input_from_mat
 * (default shift 0, scale 1). */
void tl_nn_set_input_norm(tl_nn *nn, float shift, float scale);
void tl_nn_input_norm(const tl_nn *nn, float *shift, float *scale);
/* X (n, c*h*w) doubles -> out (n, c*h*w) floats, normalised. TL_ERR_SHAPE naming both shapes
 * when X's column count differs from the model's input. */
tl_status tl_nn_input_from_mat(const tl_nn *nn, tl_mat X, float *out);

/* ---- inference (eval mode: batch norm uses running statistics, dropout is off) ---- */
/* out (n, output dim): the last layer's outputs (logits). x (n, input dim). */
tl_status tl_nn_forward(tl_nn *nn, const float *x, size_t n, float *out);
/* out (n, dim of layer): the output of layer `layer`. */
tl_status tl_nn_embed(tl_nn *nn, size_t layer, const float *x, size_t n, float *out);
/* P (n, output dim) softmax probabilities. */
tl_status tl_nn_predict_proba(tl_nn *nn, const float *x, size_t n, float *P);
/* pred (n): label values (through the labels). */
tl_status tl_nn_predict(tl_nn *nn, const float *x, size_t n, int *pred);
/* Accuracy and mean cross-entropy over (x, y); y are label values. Either output may be NULL. */
tl_status tl_nn_evaluate(tl_nn *nn, const float *x, const int *y, size_t n, double *accuracy,
                         double *loss);
/* Batch size used by inference (default 64); the workspace grows to the larger of this and
 * the training batch. */
tl_status tl_nn_set_batch(tl_nn *nn, size_t batch);

/* ---- transfer controls ---- */
/* Replace the last dense layer by a fresh one with k outputs (PyTorch's default init from seed);
 * labels reset to 0..k-1. */
tl_status tl_nn_new_head(tl_nn *nn, size_t k, uint64_t seed);
/* Keep layers 0..last, drop the rest and put a fresh dense head with k outputs (after a flatten
 * when layer last's output is not C x 1 x 1) on layer last's output; PyTorch's default init from
 * seed, labels reset to 0..k-1. For transfer from below the penultimate layer, which on a
 * network trained on few source classes is the least transferable. TL_ERR_INVALID_ARG when last
 * is inside a residual block. */
tl_status tl_nn_new_head_at(tl_nn *nn, size_t last, size_t k, uint64_t seed);
/* Weight imprinting (Qi, Brown and Lowe, CVPR 2018): set the row of the last dense layer of
 * every class that has samples in (x (n, input dim), y (n) label values, mapped through the
 * labels) to the normalised mean of its samples' normalised embeddings (the head's input, eval
 * mode), scaled so that a feature of average norm gets logits `scale` * cosine; its bias to 0.
 * Rows of classes without samples are kept. Call after tl_nn_new_head / tl_nn_set_labels.
 * *imprinted (may be NULL): the number of rows set. */
tl_status tl_nn_imprint_head(tl_nn *nn, const float *x, const int *y, size_t n, double scale,
                             size_t *imprinted);
/* Layers 0..last are frozen (not trained; their batch norm and dropout run in eval mode) and
 * the rest trainable. last = SIZE_MAX unfreezes all. */
tl_status tl_nn_freeze_until(tl_nn *nn, size_t last);
/* Learning-rate multiplier of one layer (default 1; 0 freezes its parameters). */
tl_status tl_nn_set_lr_mult(tl_nn *nn, size_t layer, double mult);
/* Remember the current parameters as the L2-SP anchor w0 (Li et al. 2018, "Explicit inductive
 * bias for transfer learning"): training adds alpha/2 ||w - w0||^2 for anchored tensors and
 * beta/2 ||w||^2 for the others (a new head). Replaces any earlier anchor. */
tl_status tl_nn_l2sp_anchor(tl_nn *nn);

/* ---- training ---- */
/* The optimiser. */
typedef enum {
    TL_NN_SGD = 0,  /* SGD with momentum (PyTorch's) */
    TL_NN_ADAMW = 1 /* AdamW, decoupled weight decay */
} tl_nn_optimizer;
/* The learning-rate schedule. */
typedef enum {
    TL_NN_SCHED_CONSTANT = 0, /* lr throughout */
    TL_NN_SCHED_STEP = 1,     /* times step_gamma every step_epochs */
    TL_NN_SCHED_COSINE = 2    /* cosine decay to min_lr */
} tl_nn_schedule;
/* The training loss. */
typedef enum {
    TL_NN_LOSS_XENT = 0, /* softmax cross-entropy */
    TL_NN_LOSS_MSE = 1   /* mean squared error on one-hot targets */
} tl_nn_loss;

/* Per-epoch figures handed to the epoch callback (and written to the CSV log). */
typedef struct {
    size_t epoch;          /* 1-based */
    double lr;             /* at the end of the epoch */
    double train_loss;     /* mean training loss of the epoch */
    double train_acc;      /* training accuracy of the epoch */
    double val_loss;       /* NaN without a validation split */
    double val_acc;        /* NaN without a validation split */
    double seconds;        /* this epoch */
    double samples_per_s;  /* training samples per second this epoch */
    double domain_loss;    /* deep adaptation (tl_nn_da_train): the epoch's mean adaptation loss
                              before its lambda weight (DANN, CDAN: the domain discriminator's
                              cross-entropy; DAN: the MMD; Deep CORAL: the CORAL loss); NaN in
                              plain training, with lambda 0 and over several processes */
} tl_nn_epoch;

/* Data-parallel training (src/dist/ fills one from MPI; the network code knows only this):
 * `size` processes each hold a block of the rows (tl_nn_shard), run the same steps on the rows of
 * each global batch they hold, and sum through `allreduce`: the gradient block once a step, batch
 * norm's per-channel sums at each batch-norm layer, the metrics once an epoch. */
typedef struct tl_nn_comm {
    int rank; /* this process, 0..size-1 */
    int size; /* processes in the job */
    /* Sum buf (n values, double when dbl, else float) over all processes, in place. */
    tl_status (*allreduce)(void *user, void *buf, size_t n, bool dbl);
    void *user; /* passed to allreduce */
    /* Optional, the three together (NULL: the trainer sums its gradient block with allreduce
     * after backward): the block summed bucket by bucket. Each value is summed in the same order
     * whether its bucket went out during backward or at grad_finish: the same bits either way.
     * grad_start: a step's block (n floats) is about to be filled. */
    tl_status (*grad_start)(void *user, float *g, size_t n);
    /* Values [lo, hi) of the block are final (called while backward runs, the layers nearest the
     * output first; lo == hi only lets communication progress). */
    void (*grad_ready)(void *user, size_t lo, size_t hi);
    /* Every value of the block summed over the processes, in place. */
    tl_status (*grad_finish)(void *user);
} tl_nn_comm;
/* The rows [*lo, *hi) of n that process rank of size holds: contiguous blocks, floor(n r / size). */
void tl_nn_shard(size_t n, int rank, int size, size_t *lo, size_t *hi);

/* Training settings (tl_nn_train_params_default, then change what you need). */
typedef struct tl_nn_train_params tl_nn_train_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* The settings of tl_nn_train. */
struct tl_nn_train_params {
    size_t epochs;          /* default 10 */
    size_t batch_size;      /* default 64 */
    tl_nn_optimizer optimizer; /* default SGD */
    double lr;              /* default 0.01 */
    double momentum;        /* SGD, default 0.9 (PyTorch semantics, dampening 0) */
    bool nesterov;          /* SGD, default false */
    double beta1;           /* AdamW, default 0.9 */
    double beta2;           /* AdamW, default 0.999 */
    double eps;             /* AdamW, default 1e-8 */
    double weight_decay;    /* SGD: added to the gradient; AdamW: decoupled. default 0 */
    tl_nn_schedule schedule; /* default constant */
    size_t step_epochs;     /* step: multiply by step_gamma every step_epochs (default 10) */
    double step_gamma;      /* default 0.1 */
    double min_lr;          /* cosine floor, default 0 */
    double warmup_epochs;   /* linear warm-up from 0 over this many epochs (per step), default 0 */
    tl_nn_loss loss;        /* default cross-entropy */
    double label_smoothing; /* cross-entropy, in [0, 1), default 0 */
    double val_fraction;    /* held out for early stopping / reporting, in [0, 1), default 0 */
    size_t patience;        /* stop after this many epochs without a better validation loss and
                               restore the best parameters; 0 = never stop early (default 0) */
    size_t crop_pad;        /* augmentation: zero-pad by this many pixels, crop back at random
                               (default 0 = off) */
    bool flip;              /* augmentation: horizontal flip with probability 1/2 (default off) */
    double l2sp_alpha;      /* L2-SP pull toward the anchor (needs tl_nn_l2sp_anchor), default 0 */
    double l2sp_beta;       /* L2 on tensors without an anchor when l2sp_alpha > 0, default 0 */
    bool shuffle;           /* reshuffle every epoch (default true) */
    uint64_t seed;          /* shuffling, split, augmentation, dropout; default 42 */
    const char *log_csv;    /* per-epoch CSV log (rewritten atomically each epoch), NULL = none */
    void (*on_epoch)(void *user, const tl_nn_epoch *e); /* may be NULL */
    void *user;             /* passed to on_epoch */
    const tl_ctx *ctx;      /* threads, log, progress ("epoch 3/10 loss 0.4312 acc 84.1% ..."),
                               may be NULL */
    /* data-parallel (NULL: one process). With comm, tl_nn_train's x, y, n are this process's
     * block of the rows: the blocks of processes 0, 1, ... end to end are the data (tl_nn_shard
     * cuts such blocks); every process takes the same steps on the same
     * global batches and ends with the same parameters. Not with crop/flip or dropout masks that
     * must match a one-process run (dropout is seeded by the row's place in the local batch). */
    const tl_nn_comm *comm;
    size_t rows_total;      /* with comm: the rows of all processes together, checked when not
                               0 */
    const char *step_log;   /* CSV "step,loss" of every optimiser step (rewritten atomically each
                               epoch; with comm, the global batch's loss), NULL = none */
    const char *checkpoint; /* written atomically at the end of every epoch (parameters, optimiser
                               state, shuffling state, the figures so far; with comm by rank 0);
                               when the file exists at the start, training resumes from it.
                               NULL = none */
};
#endif

/* What a training run did. */
typedef struct {
    size_t epochs_run;      /* epochs trained */
    size_t best_epoch;      /* epoch whose parameters the model holds (early stopping) */
    double train_loss;      /* last epoch */
    double train_acc;       /* last epoch */
    double val_loss;        /* of best_epoch; NaN without validation */
    double val_acc;         /* of best_epoch; NaN without validation */
    double seconds;         /* training loop wall time */
    double samples_per_s;   /* training samples per second over the run */
    size_t steps;           /* optimiser steps */
    bool stopped_early;     /* patience ran out */
    bool nonfinite;         /* the loss became NaN/Inf; the model holds the last good epoch */
    size_t resumed_after;   /* epochs a checkpoint had done when this run resumed from it (0:
                               started afresh) */
} tl_nn_train_result;

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
tl_nn_train_params tl_nn_train_params_default(void); /* the defaults above */
/* Says in words which field is wrong (TL_ERR_INVALID_ARG). */
tl_status tl_nn_train_params_check(const tl_nn_train_params *p);
#endif
/* Parse "sgd" / "adamw", "constant" / "step" / "cosine", "xent" / "mse". */
tl_status tl_nn_optimizer_parse(const char *s, tl_nn_optimizer *out);
tl_status tl_nn_schedule_parse(const char *s, tl_nn_schedule *out);
tl_status tl_nn_loss_parse(const char *s, tl_nn_loss *out);

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Train on x (n, input dim), y (n) label values. On a NaN/Inf loss training stops, the model
 * gets back the parameters of the last epoch that ended finite (or its starting parameters),
 * res->nonfinite is set and TL_ERR_NONFINITE is returned with the epoch and step in the message.
 * res may be NULL. */
tl_status tl_nn_train(tl_nn *nn, const tl_nn_train_params *p, const float *x, const int *y,
                      size_t n, tl_nn_train_result *res);
/* The rows tl_nn_train holds out for validation with these parameters and n samples: *nval of
 * them (val_fraction * n, rounded down) into val_rows (at least that many; may be NULL to ask
 * only the count), in the order drawn. */
tl_status tl_nn_train_split(const tl_nn_train_params *p, size_t n, size_t *val_rows, size_t *nval);
#endif

/* ---- step-level training (experimental: TL_STATIC_LINKING_ONLY) ----
 * A trainer holds a network (the trunk), named heads attached to its layers, the optimiser state,
 * all their parameters in one contiguous block and all their gradients in another. One step:
 *   in = tl_nn_trainer_input(t); fill (B, input dim);  tl_nn_trainer_forward(t, in, B, seed);
 *   losses: write or add dLoss/dOutput into each head's dout (tl_nn_trainer_output; zeroed by the
 *   forward) and extra gradients dLoss/dActivation into taps (tl_nn_trainer_tap; zeroed too);
 *   tl_nn_trainer_backward(t);  tl_nn_trainer_step(t, lr).
 * Backward zeroes the gradients first, runs each head backward to its input and adds that into
 * the trunk's gradient at the head's layer, then the trunk from its output down, adding each tap
 * where the sweep reaches its layer. The trunk's own output is the head named "" (or NULL). A
 * "grl" layer (gradient reversal, Ganin & Lempitsky 2015) in the trunk or a head multiplies the
 * gradient by -lambda (tl_nn_trainer_set_grl). tl_nn_train is a loop over these calls. While a
 * trainer exists the network must not get another one; freeing it leaves the trunk an ordinary
 * network with the trained parameters (the heads are freed with the trainer). */
#ifdef TL_STATIC_LINKING_ONLY
/* A network being trained step by step, with its heads and optimiser state. */
typedef struct tl_nn_trainer tl_nn_trainer;
/* p: the optimiser fields (optimizer, lr, momentum, nesterov, betas, eps, weight decay, L2-SP)
 * and ctx (threads); max_batch: the largest batch a forward will take. */
tl_status tl_nn_trainer_create(tl_nn *trunk, const tl_nn_train_params *p, size_t max_batch,
                               tl_nn_trainer **out);
void tl_nn_trainer_free(tl_nn_trainer *t); /* NULL-safe */
/* A head network built from arch on the output of trunk layer `layer` (name or index);
 * *head (may be NULL): borrowed. TL_ERR_NOT_FOUND naming the layer and listing the layers. */
tl_status tl_nn_trainer_add_head(tl_nn_trainer *t, const char *name, const char *layer,
                                 const char *arch, uint64_t seed, tl_nn **head);
/* A head whose input (c, h, w) the caller computes each step (CDAN's multilinear map):
 * after tl_nn_trainer_forward, tl_nn_trainer_head_forward(x (B, c*h*w)); after its loss,
 * tl_nn_trainer_head_backward, whose *dx (B, c*h*w) the caller routes into a tap before
 * tl_nn_trainer_backward (which leaves such a head alone; its step is taken with the others). */
tl_status tl_nn_trainer_add_input_head(tl_nn_trainer *t, const char *name, size_t c, size_t h,
                                       size_t w, const char *arch, uint64_t seed, tl_nn **head);
tl_status tl_nn_trainer_head_forward(tl_nn_trainer *t, const char *name, const float *x);
tl_status tl_nn_trainer_head_backward(tl_nn_trainer *t, const char *name, const float **dx);
tl_status tl_nn_trainer_head(tl_nn_trainer *t, const char *name, tl_nn **net);
/* The trunk's input buffer ((capacity, input dim) floats): fill it and pass it to forward to
 * avoid a copy. */
float *tl_nn_trainer_input(tl_nn_trainer *t);
size_t tl_nn_trainer_capacity(const tl_nn_trainer *t);
/* Forward in training mode (batch statistics, dropout; step_seed seeds the dropout masks) of
 * x (B, input dim) through the trunk and every head. */
tl_status tl_nn_trainer_forward(tl_nn_trainer *t, const float *x, size_t B, uint64_t step_seed);
/* After forward: out (B, k) the head's outputs, dout (B, k) its output gradient to fill. */
tl_status tl_nn_trainer_output(tl_nn_trainer *t, const char *head, const float **out, float **dout,
                               size_t *k);
/* After forward: act (B, dim) trunk layer `layer`'s output, grad (B, dim) an extra gradient
 * added there by backward. TL_ERR_NOT_FOUND naming the layer when it does not exist. */
tl_status tl_nn_trainer_tap(tl_nn_trainer *t, const char *layer, const float **act, float **grad,
                            size_t *dim);
tl_status tl_nn_trainer_backward(tl_nn_trainer *t);
/* One optimiser update of the trunk's and the heads' trainable tensors at learning rate lr. */
tl_status tl_nn_trainer_step(tl_nn_trainer *t, double lr);
/* The gradient-reversal coefficient of every grl layer of the trunk and the heads. */
void tl_nn_trainer_set_grl(tl_nn_trainer *t, double lambda);
/* The contiguous blocks: *n floats each (parameters include batch-norm running statistics). */
float *tl_nn_trainer_params(tl_nn_trainer *t, size_t *n);
float *tl_nn_trainer_grads(tl_nn_trainer *t, size_t *n);
/* Whether every parameter is finite. */
bool tl_nn_trainer_finite(const tl_nn_trainer *t);
#endif
/* The coefficient of every grl layer of nn. */
void tl_nn_set_grl(tl_nn *nn, double lambda);
/* DANN's schedule (Ganin et al., JMLR 2016): lambda_p = 2 / (1 + exp(-10 p)) - 1, p in [0, 1]
 * the training progress. */
double tl_nn_dann_lambda(double progress);

/* ---- losses for trainer steps (domain adaptation, multi-task) ----
 * Each returns the loss (NaN on invalid sizes or no memory) and ADDS scale x its gradient into
 * the buffers given (NULL: not wanted), so that several losses sum into one output gradient or
 * one tap. Formulas and references in src/nn/da_loss.c. */
/* Cross-entropy of logits (B, K) against class indices y (B) in [0, K) with per-sample weights
 * w (B) (NULL: 1): (1/B) sum_i w_i l_i. *correct (may be NULL): argmax hits. */
double tl_nn_loss_xent(const float *logits, const int *y, const float *w, size_t B, size_t K,
                       double scale, float *dlogits, size_t *correct);
/* Mean (weighted) entropy of softmax(logits) (B, K), K <= 256 without an allocation. */
double tl_nn_loss_entropy(const float *logits, const float *w, size_t B, size_t K, double scale,
                          float *dlogits);
/* Deep CORAL: ||C_s - C_t||_F^2 / (4 d^2) of xs (ns, d) and xt (nt, d); ns, nt >= 2. */
double tl_nn_loss_coral(const float *xs, size_t ns, const float *xt, size_t nt, size_t d,
                        double scale, float *gs, float *gt);
/* MK-MMD^2 of xs (ns, d) and xt (nt, d) with `kernels` RBF widths spaced by factor mul (> 1)
 * around a base width: `width` when > 0, else the mean squared distance of the pairs used (a
 * constant to the gradient; DAN: 5 kernels, mul 2); linear: DAN's linear-time unbiased estimate
 * over min(ns, nt) rows, else the quadratic (biased, all pairs) one. */
double tl_nn_loss_mmd(const float *xs, size_t ns, const float *xt, size_t nt, size_t d,
                      size_t kernels, double mul, double width, bool linear, double scale,
                      float *gs, float *gt);
/* CDAN's multilinear map: out (B, K*d), out[i, k*d + j] = g[i, k] f[i, j], of features f (B, d)
 * and class probabilities g (B, K); its backward adds into df (B, d) and dg (B, K) (either NULL). */
void tl_nn_cdan_map(const float *f, const float *g, size_t B, size_t d, size_t K, float *out);
void tl_nn_cdan_map_backward(const float *f, const float *g, const float *dout, size_t B, size_t d,
                             size_t K, float *df, float *dg);
/* CDAN+E weights w (ns + nt) from probabilities (ns + nt, K), source rows first:
 * 1 + exp(-H(p)), normalised so each domain's weights sum to (ns + nt) / 2. */
void tl_nn_cdan_entropy_weights(const float *probs, size_t ns, size_t nt, size_t K, float *w);

/* ---- deep domain adaptation (src/nn/da.c) ---- */
/* The adaptation loss. */
typedef enum {
    TL_NN_DA_NONE = 0, /* the source alone (the source-only baseline) */
    TL_NN_DA_DANN = 1,   /* domain-adversarial (gradient reversal) */
    TL_NN_DA_DAN = 2,    /* multi-kernel MMD */
    TL_NN_DA_CORAL = 3,  /* Deep CORAL */
    TL_NN_DA_CDAN = 4,   /* conditional adversarial */
    TL_NN_DA_CDAN_E = 5  /* CDAN with entropy weighting */
} tl_nn_da_method;
/* "none", "dann", "dan", "coral", "cdan", "cdan-e" */
tl_status tl_nn_da_parse(const char *s, tl_nn_da_method *out);
const char *tl_nn_da_name(tl_nn_da_method m);
#ifdef TL_STATIC_LINKING_ONLY
/* Deep adaptation settings (tl_nn_da_params_default, then change what you need). */
typedef struct {
    tl_nn_da_method method;    /* default DANN */
    double lambda;             /* weight of the adaptation loss (DANN, CDAN: the gradient
                                  reversal's coefficient), default 1 */
    bool lambda_schedule;      /* lambda (2 / (1 + exp(-10 p)) - 1) over the progress p (DANN's
                                  schedule), else lambda throughout; default true */
    const char *layer;         /* the feature layer (name or index); NULL: the embedding layer
                                  (the input of the last dense layer); DAN and CORAL take a
                                  comma list of up to 4 and add up their losses (DAN adapts
                                  AlexNet's fc6-fc8, Deep CORAL its output fc8: "-1") */
    const char *disc;          /* DANN / CDAN discriminator after the grl, 2 outputs; default
                                  "dense:2" (logistic regression, the shallow DANN's) */
    size_t mmd_kernels;        /* DAN: RBF widths, default 5 */
    double mmd_mul;            /* DAN: width multiplier, default 2 */
    bool mmd_linear;           /* DAN: linear-time estimate (default) or the quadratic one */
    double entropy;            /* weight of target entropy minimisation, default 0 */
    tl_nn_train_params train;  /* epochs, batch size (per domain), optimiser, lr, schedule,
                                  val_fraction (of the source) + patience, seed, ctx; comm
                                  (every method: each process passes its block of the source
                                  and of the target rows), step_log, checkpoint (the
                                  discriminator and the target order too) */
} tl_nn_da_params;
tl_nn_da_params tl_nn_da_params_default(void); /* the defaults above */
/* Says in words which field is wrong (TL_ERR_INVALID_ARG). */
tl_status tl_nn_da_params_check(const tl_nn_da_params *p);
/* Train nn on labelled source rows xs (ns, input dim), ys (ns) label values, and unlabelled
 * target rows xt (nt, input dim). A NaN/Inf loss or parameter stops it with the parameters of the
 * last epoch that ended finite, res->nonfinite set and TL_ERR_NONFINITE. res may be NULL. */
tl_status tl_nn_da_train(tl_nn *nn, const tl_nn_da_params *p, const float *xs, const int *ys,
                         size_t ns, const float *xt, size_t nt, tl_nn_train_result *res);
/* The same from sparse rows (bag-of-words features, such as the Amazon reviews' 5000 counts):
 * xs (ns = xs.rows) and xt as CSR views, with as many columns as the network's input. When the
 * network's first layer is a wide dense layer that alone reads the input, each batch goes to it as
 * CSR (no dense rows are built; the same floats as tl_nn_da_train on the dense rows); otherwise
 * the batch's rows are written densely. Values are taken as float; a NaN/Inf value, a column out
 * of range or out of order, or another column count is refused with a message. */
tl_status tl_nn_da_train_csr(tl_nn *nn, const tl_nn_da_params *p, tl_csr xs, const int *ys, tl_csr xt,
                             tl_nn_train_result *res);
/* Reverse validation risk (no target label): train a copy of init on 90 % of the source and the
 * target, pseudo-label the target, train another copy of init from the pseudo-labelled target
 * to the remaining source rows, *risk = its error on the 10 % of source rows held out. */
tl_status tl_nn_da_reverse_risk(const tl_nn *init, const tl_nn_da_params *p, const float *xs,
                                const int *ys, size_t ns, const float *xt, size_t nt, double *risk);
/* The (lambda, lr) of the grids with the lowest reverse-validation risk (lrs NULL: p's lr);
 * settings that diverge are skipped. */
tl_status tl_nn_da_select(const tl_nn *init, const tl_nn_da_params *p, const double *lambdas,
                          size_t nl, const double *lrs, size_t nlr, const float *xs, const int *ys,
                          size_t ns, const float *xt, size_t nt, double *lambda, double *lr,
                          double *risk);
/* The lambda values reverse validation tries for adaptation m when the caller gives none (*n of
 * them): each loss on its own scale - the DANN paper's grid (0.01 .. 1) for dann; around the
 * CDAN paper's 1 for cdan and cdan-e; 0.0316 .. 1 for dan (below the DAN paper's 1, where
 * reverse validation chose on Amazon); for coral, whose loss carries 1 / (4 d^2), values that
 * bring it to the classification loss's size on a 100-unit sigmoid layer (other layers: give a
 * grid). */
const double *tl_nn_da_lambda_grid(tl_nn_da_method m, size_t *n);
#endif

/* ---- multi-task learning (src/nn/multitask.c) ----
 * Several related tasks trained together through a shared representation (Caruana 1997): one
 * trunk network, and on its last layer one head network per task; each step takes a batch of
 * every task, and the loss is the weighted sum of the tasks' mean cross-entropies, each on its
 * own head. A model saves and loads as one .tlm file (kind "nn-multitask"), and each task's
 * trunk + head can be taken out as an ordinary network (tl_nn_mtl_task_network) that `tl
 * predict`, `tl evaluate` and `tl finetune` read. One task trained the same way is the
 * single-task network it is compared against. */
/* A multi-task network: a shared trunk and one named head per task. */
typedef struct tl_nn_mtl tl_nn_mtl;
/* ntasks (1..8) tasks named names[k] (distinct, 1..31 characters of [A-Za-z0-9_.-]), task k's
 * head built from heads[k] on the output of the trunk built from trunk_arch for inputs (c, h, w);
 * parameters initialised from seed (PyTorch's default init). Errors name the task and the token. */
tl_status tl_nn_mtl_create(const char *trunk_arch, size_t c, size_t h, size_t w, size_t ntasks,
                           const char *const *names, const char *const *heads, uint64_t seed,
                           tl_nn_mtl **out);
void tl_nn_mtl_free(tl_nn_mtl *m); /* NULL-safe */
size_t tl_nn_mtl_tasks(const tl_nn_mtl *m);
const char *tl_nn_mtl_task_name(const tl_nn_mtl *m, size_t k);
/* TL_ERR_NOT_FOUND naming the task and listing the tasks. */
tl_status tl_nn_mtl_task_find(const tl_nn_mtl *m, const char *name, size_t *k);
/* Borrowed: the trunk (input shape and normalisation live here) and task k's head (its labels:
 * tl_nn_set_labels, label names). */
tl_nn *tl_nn_mtl_trunk(tl_nn_mtl *m);
tl_nn *tl_nn_mtl_head(tl_nn_mtl *m, size_t k);
/* Task k as one ordinary network: the trunk's layers then the head's, their tensors copied, the
 * trunk's input normalisation and the head's labels. */
tl_status tl_nn_mtl_task_network(const tl_nn_mtl *m, size_t k, tl_nn **out);
/* Accuracy and mean cross-entropy of task k over x (n, input dim), y (n) label values (eval
 * mode); either output may be NULL. */
tl_status tl_nn_mtl_evaluate(tl_nn_mtl *m, size_t k, const float *x, const int *y, size_t n,
                             double *accuracy, double *loss);
/* One task's training rows: x (n, input dim), y (n) label values of its head. */
typedef struct {
    const float *x; /* (n, input dim) the task's rows, normalised as the trunk expects */
    const int *y;   /* (n) their label values (the task's head's labels) */
    size_t n;       /* rows */
} tl_nn_task_data;
#ifdef TL_STATIC_LINKING_ONLY
/* Multi-task settings (tl_nn_mtl_params_default, then change what you need). */
typedef struct {
    tl_nn_train_params train; /* epochs, batch size (per task), optimiser, lr, schedule,
                                 val_fraction (of each task) + patience on the weighted sum of
                                 the tasks' validation losses, seed, ctx; cross-entropy only */
    const double *weights;    /* (ntasks) task loss weights >= 0, not all 0; NULL: 1 each */
} tl_nn_mtl_params;
/* The defaults above (tl_nn_train_params_default, weights NULL). */
tl_nn_mtl_params tl_nn_mtl_params_default(void);
/* Train every task together: data (ntasks) in task order. An epoch is as many steps as the
 * largest task needs to see its rows once (smaller tasks cycle through theirs, reshuffled each
 * pass). res: train_loss the weighted sum, train_acc / val_acc over all tasks' rows, val_loss
 * the weighted sum. A NaN/Inf loss or parameter stops it with the parameters of the last epoch
 * that ended finite, res->nonfinite set and TL_ERR_NONFINITE. res may be NULL. */
tl_status tl_nn_mtl_train(tl_nn_mtl *m, const tl_nn_mtl_params *p, const tl_nn_task_data *data,
                          tl_nn_train_result *res);
#endif
/* A .tlm container: metadata kind "nn-multitask", "tasks" (the names, comma-separated), the
 * trunk's entries under "trunk." and task k's head's under "head.<name>.". save -> load is
 * bit-exact; load refuses another kind, a missing head or tensor, naming the file. */
tl_status tl_nn_mtl_save(const tl_nn_mtl *m, const char *path);
tl_status tl_nn_mtl_load(const char *path, tl_nn_mtl **out);

/* ---- model files ---- */
/* Save to a .tlm container: metadata (kind "nn", arch, input shape, input norm, labels, label
 * names when set) and every named tensor as f32. save -> load is bit-exact. */
tl_status tl_nn_save(const tl_nn *nn, const char *path);
/* Refuses truncated, corrupted, wrong-version files and files of another kind, naming the file. */
tl_status tl_nn_load(const char *path, tl_nn **out);
/* The same into / out of a container (another model's file holds the network; name: for
 * messages). */
tl_status tl_nn_write(const tl_nn *nn, tl_tlm *c);
tl_status tl_nn_read(const tl_tlm *c, const char *name, tl_nn **out);
/* Optional free-text label names, comma-separated ("sandal,shirt,..."), saved with the model. */
tl_status tl_nn_set_label_names(tl_nn *nn, const char *names);
const char *tl_nn_label_names(const tl_nn *nn); /* NULL when unset */

/* ---- PyTorch interop (safetensors) ---- */
/* The file itself is read through the container's tl_safetensors reader (tl/io.h). */
/* What an import matched. Strings are newline-separated lists (empty when none). */
typedef struct {
    size_t loaded;       /* tensors loaded */
    size_t n_missing;    /* lines of missing */
    size_t n_unexpected; /* lines of unexpected */
    char *missing;     /* libtl tensors the file did not provide */
    char *unexpected;  /* file tensors that mapped to no libtl tensor */
} tl_nn_import_report;
void tl_nn_import_report_free(tl_nn_import_report *r); /* its strings; NULL-safe */

/* Name map: comma- or newline-separated rules "FROM=TO" applied to each file tensor name, first
 * matching prefix wins (e.g. "features.0.=conv1.,fc.=dense2."); the special rule "@index" maps
 * PyTorch nn.Sequential names "I.SUFFIX" to the tensors of libtl layer I (0-based), which fits a
 * Sequential built layer for layer like the architecture string. NULL or "" = names as they are.
 * Shapes must match exactly (TL_ERR_SHAPE naming the tensor). Missing tensors are an error
 * (TL_ERR_NOT_FOUND listing them) unless allow_missing; unexpected ones are only reported.
 * Nothing is changed in nn unless the import succeeds. report may be NULL. */
tl_status tl_nn_import_safetensors(tl_nn *nn, const char *path, const char *name_map,
                                   bool allow_missing, tl_nn_import_report *report);
/* Write every tensor (F32) under its libtl name, or mapped back through "@index" (layer I ->
 * "I.SUFFIX") when name_map is "@index"; __metadata__ holds the arch and input shape. */
tl_status tl_nn_export_safetensors(const tl_nn *nn, const char *path, const char *name_map);
/* The architecture and input shape a libtl export records in its __metadata__ (libtl_arch,
 * input_shape "C,H,W"), so that it imports without them being given again: *arch allocated with
 * tl_malloc. TL_ERR_FORMAT naming the file when they are absent (a PyTorch export) or malformed. */
tl_status tl_nn_safetensors_arch(const char *path, char **arch, size_t *c, size_t *h, size_t *w);

#ifdef __cplusplus
}
#endif
#endif
