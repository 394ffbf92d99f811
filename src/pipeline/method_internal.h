/* Private side of the method interface (tl/method.h): the operations table each method family
 * implements, the descriptor layout the registry lists, and helpers the method files share.
 *
 * A method file (m_*.c) defines its descriptors (const tl_method) and one ops table; registry.c
 * lists the descriptors, one line each. Adding a method is one new file plus one registry line:
 * its parameters then reach the checks, `tl help`, the command options, the saved model's
 * metadata and the reports through the generic code in params.c, model.c and run.c. */
#ifndef TL_PIPELINE_METHOD_INTERNAL_H
#define TL_PIPELINE_METHOD_INTERNAL_H

#include "internal/check.h"
#include "tl/learn.h"
#include "tl/method.h"
#include "tl/nn.h"
#include "tl/pipeline.h"

/* What a fit sees: the task (preprocessed), the run's learner (the base learner of an ensemble;
 * NULL: the method's default) and the context. */
typedef struct {
    const tl_task *task;
    size_t source, target; /* the pair a single-source method uses (task positions) */
    const tl_params *learner;
    const tl_ctx *ctx;
} tlx_fit_args;

typedef struct {
    /* Optional: cross-parameter checks given the shape the fit will see (0 = unknown). */
    tl_status (*check)(const tl_params *p, size_t n_features, size_t n_samples);
    tl_status (*fit)(const tl_params *p, const tlx_fit_args *a, void **state);
    void (*free)(void *state);
    /* The width of a domain's rows the fitted state accepts (0: that domain is not its). */
    size_t (*input_dim)(const void *state, size_t domain);
    /* Feature family. */
    size_t (*dim)(const void *state);
    tl_status (*transform)(const void *state, size_t domain, tl_mat X, tl_mat *out);
    /* Instance family: the fitting rows' weights, and weights for any rows. */
    const double *(*fit_weights)(const void *state, size_t *n);
    tl_status (*weights)(const void *state, tl_xmat X, double *w);
    /* Learner and ensemble families. */
    tl_status (*predict)(const void *state, tl_xmat X, int *pred);
    /* Optional, with predict: class scores S (n, classes) in the order of classes(). */
    tl_status (*scores)(const void *state, tl_xmat X, tl_mat S);
    const int *(*classes)(const void *state, size_t *nclasses);
    /* Optional: named numbers for the report; returns how many were written (<= cap). */
    size_t (*info)(const void *state, const char **keys, double *values, size_t cap);
    /* The fitted state into / out of a container (entries prefixed). */
    tl_status (*write)(const void *state, tl_tlm *c, const char *prefix);
    tl_status (*read)(const tl_params *p, const tl_tlm *c, const char *prefix, const char *name,
                      void **state);
    /* Optional: the training's learning curve, n epochs of (train loss, train accuracy,
     * validation loss, validation accuracy, deep adaptation's domain loss; NaN where not
     * measured), NULL when none was kept. */
    const double *(*curve)(const void *state, size_t *n);
} tlx_ops;

struct tl_method {
    const char *name;
    const char *summary;
    const char *reference;
    tl_family family;
    int variant;         /* the family's own code for the method (e.g. its tl_adapt_method) */
    unsigned needs;
    const char *learner; /* the learner the commands default to with this method */
    const tl_param_desc *params;
    size_t nparams;
    const tlx_ops *ops;
};

#define TLX_NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

/* Typed reads of a parameter the descriptor guarantees exists (params.c). */
double tlx_num(const tl_params *p, const char *name);
long tlx_int(const tl_params *p, const char *name);
bool tlx_bool(const tl_params *p, const char *name);
/* Whether the caller set the parameter (else it holds its default). */
bool tlx_is_set(const tl_params *p, const char *name);
const char *tlx_str(const tl_params *p, const char *name);

/* The dataset of task position i as features, and its labels (NULL when unlabelled). */
tl_xmat tlx_features(const tl_task *t, size_t i);
const int *tlx_labels(const tl_task *t, size_t i);

/* Container helpers with a prefix: "<prefix><key>". */
tl_status tlx_put_meta(tl_tlm *c, const char *prefix, const char *key, const char *value);
tl_status tlx_put_num(tl_tlm *c, const char *prefix, const char *key, double v);
const char *tlx_get_meta(const tl_tlm *c, const char *prefix, const char *key);
tl_status tlx_get_num(const tl_tlm *c, const char *prefix, const char *key, const char *name,
                      double *out);
/* "<prefix><key>" into buf (cap); TL_ERR_INVALID_ARG when it does not fit. */
tl_status tlx_key(char *buf, size_t cap, const char *prefix, const char *key);

/* The seed of a call (ctx's, else 42). */
uint64_t tlx_seed(const tl_ctx *ctx);
/* A method's fitted state written into / read out of a sub-container under `prefix`: for the
 * algorithms whose own write/read take a whole container (tl_adapter_write, ...). */
typedef tl_status (*tlx_write_fn)(const void *obj, tl_tlm *c);
tl_status tlx_write_nested(const void *obj, tlx_write_fn fn, tl_tlm *c, const char *prefix);
typedef tl_status (*tlx_read_fn)(const tl_tlm *c, const char *name, void **obj);
tl_status tlx_read_nested(const tl_tlm *c, const char *prefix, const char *name, tlx_read_fn fn,
                          void **obj);

/* A learner-family tl_params as tl_learner_params (seed from ctx); its name as the reports
 * print it ("1nn", "5nn", "logreg", ...). m_learner.c. */
tl_status tlx_learner_params(const tl_params *lp, const tl_ctx *ctx, tl_learner_params *out);
void tlx_learner_label(const tl_params *lp, char *buf, size_t cap);

/* The training loop's parameters (tl_nn_train_params), shared by every method that trains a
 * network; descriptors here, parsing in nn_params.c. */
#define TLX_NN_TRAIN_PARAMS                                                                        \
    {"epochs", TL_PARAM_INT, "10", 1, 1e6, NULL, "passes over the training data", "5,10,20"},      \
        {"batch", TL_PARAM_INT, "64", 1, 65536, NULL, "mini-batch size", NULL},                    \
        {"optimizer", TL_PARAM_CHOICE, "sgd", 0, 0, "sgd,adamw", "the optimiser", NULL},           \
        {"lr", TL_PARAM_REAL, "0.01", 1e-12, 1e6, NULL, "learning rate", "0.001,0.005,0.01,0.05"}, \
        {"momentum", TL_PARAM_REAL, "0.9", 0, 0.999999, NULL, "SGD momentum", NULL},               \
        {"nesterov", TL_PARAM_BOOL, "false", 0, 0, NULL, "Nesterov momentum (SGD)", NULL},         \
        {"wd", TL_PARAM_REAL, "0", 0, 1000, NULL,                                                  \
         "weight decay (SGD: L2 in the gradient; AdamW: decoupled)", NULL},                        \
        {"schedule", TL_PARAM_CHOICE, "constant", 0, 0, "constant,step,cosine",                    \
         "learning-rate schedule", NULL},                                                          \
        {"step-epochs", TL_PARAM_INT, "10", 1, 1e6, NULL,                                          \
         "step schedule: multiply the rate by gamma every N epochs", NULL},                        \
        {"gamma", TL_PARAM_REAL, "0.1", 1e-12, 1, NULL, "step schedule factor", NULL},             \
        {"warmup", TL_PARAM_REAL, "0", 0, 1e6, NULL, "linear warm-up over this many epochs",       \
         NULL},                                                                                    \
        {"loss", TL_PARAM_CHOICE, "xent", 0, 0, "xent,mse",                                        \
         "softmax cross-entropy or mean squared error", NULL},                                     \
        {"label-smoothing", TL_PARAM_REAL, "0", 0, 0.999999, NULL,                                 \
         "cross-entropy label smoothing", NULL},                                                   \
        {"val-split", TL_PARAM_REAL, "0", 0, 0.999999, NULL,                                       \
         "fraction held out for validation (early stopping, and the guard's evidence)", NULL},     \
        {"patience", TL_PARAM_INT, "0", 0, 1e6, NULL,                                              \
         "stop after N epochs without a better validation loss (0: never)", NULL},                 \
        {"augment", TL_PARAM_TEXT, "none", 0, 0, NULL,                                             \
         "image augmentation: crop:PAD, flip (e.g. crop:2,flip)", NULL},                           \
        {"log", TL_PARAM_TEXT, "", 0, 0, NULL, "write per-epoch metrics to this CSV", NULL},        \
        {"step-log", TL_PARAM_TEXT, "", 0, 0, NULL,                                                \
         "write every optimiser step's loss (step,loss) to this CSV", NULL},                       \
        {"checkpoint", TL_PARAM_TEXT, "", 0, 0, NULL,                                              \
         "save the training state here after every epoch; resume from it when it exists", NULL}
/* The loop's settings from those parameters (seed, log and progress from ctx; ctx may be NULL).
 * TL_ERR_INVALID_ARG naming what is wrong. */
tl_status tlx_nn_train_params(const tl_params *p, const tl_ctx *ctx, tl_nn_train_params *out);
/* A fitted model's state (for the family's protocol, which needs more than the ops give). */
const void *tlx_model_state(const tl_model *m);
/* The fitted model's learning curve (tlx_ops.curve), NULL (and *n 0) when it kept none. */
const double *tlx_model_curve(const tl_model *m, size_t *n);
/* Model family: the rows a fine-tuning trains on (the target's labelled rows, else its rows);
 * rows as the network's float32 input (allocated); the fine-tuned network of a model. */
const tl_dataset *tlx_model_train_rows(const tl_task *t, size_t target);
tl_status tlx_nn_rows(const tl_nn *nn, const tl_dataset *ds, float **x);
const tl_nn *tlx_finetuned_network(const tl_model *m);
/* deep-da: the source and target rows of a task as the network's input (float32), with the
 * width / image-shape checks (TL_ERR_SHAPE naming both domains). */
tl_status tlx_deep_da_rows(const tl_nn *nn, const tl_task *t, size_t src, size_t tgt, float **xs,
                           float **xt);
/* deep-da: the lambda and lr a fitted model trained with. */
void tlx_deep_da_choice(const tl_model *m, double *lambda, double *lr);
/* deep-da: what reverse validation tried and chose (criterion NULL when lambda was given). */
void tlx_deep_da_selection(const tl_model *m, tl_report_search *out);

/* The registry (registry.c). */
extern const tl_method *const tlx_registry[];
extern const size_t tlx_registry_count;

#endif
