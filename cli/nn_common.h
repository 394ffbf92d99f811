/* Shared pieces of the neural-network subcommands (train, finetune, embed, predict, evaluate,
 * transferability): the image/label data options (--data with --classes, --per-class, the reader
 * options), conversion of a loaded data set to the float32 input of a model, the training options
 * and their parsing into tl_nn_train_params, and the terminal progress bar. */
#ifndef TL_CLI_NN_COMMON_H
#define TL_CLI_NN_COMMON_H

#include "cli.h"
#include "dist_common.h"
#include "tl/nn.h"

/* --data and what is taken from it */
#define CLI_NN_DATA_OPTS                                                                           \
    {"data", "SPEC", NULL, "data spec (an MNIST-style folder with :train or :test, a file, ...)"},    \
        {"classes", "LIST", NULL, "keep only these labels, e.g. 5-9 or 0,2,4"},                   \
        {"per-class", "K", NULL, "keep K randomly chosen samples of each class (seeded by --seed)"}, \
        {"format", "FMT", "auto", "input format: auto, csv, svmlight, mat, npy, idx"},             \
        {"label-col", "N", "-1", "CSV label column (0-based; negative from the end; 'none')"},     \
        {"header", "MODE", "auto", "CSV header row: auto, yes, no"},                               \
        {"index-base", "B", "auto", "svmlight feature index base: auto, 0, 1"}

/* training loop options (train and finetune) */
#define CLI_NN_TRAIN_OPTS                                                                          \
    {"epochs", "N", "10", "passes over the training data"},                                       \
        {"batch", "N", "64", "mini-batch size"},                                                   \
        {"optimizer", "NAME", "sgd", "sgd or adamw"},                                              \
        {"lr", "X", "0.01", "learning rate"},                                                      \
        {"momentum", "X", "0.9", "SGD momentum"},                                                  \
        {"nesterov", NULL, NULL, "Nesterov momentum (SGD)"},                                       \
        {"wd", "X", "0", "weight decay (SGD: L2 in the gradient; AdamW: decoupled)"},             \
        {"schedule", "NAME", "constant", "learning-rate schedule: constant, step, cosine"},        \
        {"step-epochs", "N", "10", "step schedule: multiply the rate by --gamma every N epochs"},  \
        {"gamma", "X", "0.1", "step schedule factor"},                                             \
        {"warmup", "EPOCHS", "0", "linear warm-up over this many epochs"},                         \
        {"loss", "NAME", "xent", "xent (softmax cross-entropy) or mse"},                           \
        {"label-smoothing", "X", "0", "cross-entropy label smoothing in [0, 1)"},                  \
        {"val-split", "F", "0", "fraction held out for validation (and early stopping)"},          \
        {"patience", "N", "0", "stop after N epochs without a better validation loss (0: never)"}, \
        {"augment", "LIST", "none", "image augmentation: crop:PAD, flip (e.g. crop:2,flip)"},      \
        {"log", "FILE.csv", NULL, "write per-epoch metrics to this CSV"},                          \
        {"step-log", "FILE.csv", NULL, "write every optimiser step's loss (step,loss) to this CSV"}, \
        {"checkpoint", "FILE", NULL,                                                               \
         "save the training state here after every epoch; resume from it when it exists"},        \
        {"test", "SPEC", NULL, "evaluate on this data after training (same --classes)"},           \
        {"export-safetensors", "FILE", NULL, "also write the weights as .safetensors"}

/* The training result's figures in a command's --json, in this order: train_loss,
 * train_accuracy, val_accuracy (when a validation split was used), accuracy, test_loss and n_eval
 * (when tacc is not NaN: a --test set was scored), seconds. */
void cli_nn_json_result(tl_json *j, const tl_nn_train_result *r, double tacc, double tloss,
                        size_t n_test);

/* A data set as a model sees it: x (n, input dim) float32, y (n) labels (NULL when unlabelled). */
typedef struct {
    float *x;
    int *y;
    size_t n, d;
    char *name;
} cli_nn_data;
void cli_nn_data_free(cli_nn_data *d);

/* Load spec with the reader options, keep --classes (and --per-class when per_class), and convert
 * it for `nn` (its input shape and normalisation). Prints the reason and returns non-zero on
 * failure. */
int cli_nn_load(const cli_args *a, const char *spec, tl_nn *nn, bool need_labels, bool per_class,
                cli_nn_data *out);
/* Load spec (with --classes, and --per-class when per_class) as a raw data set. */
int cli_nn_load_raw(const cli_args *a, const char *spec, bool per_class, tl_dataset **out);
/* This process's block of cli_nn_load_raw's rows (dist_common.h); *total: the rows of all. Read
 * alone from the file (.npy, IDX) when no --classes/--per-class selection comes first. */
int cli_nn_load_shard(const cli_args *a, const char *spec, bool per_class, const cli_dist *dist,
                      tl_dataset **out, size_t *total);
/* Parse "5-9", "0,2,4", "0-2,7" into a sorted list (max cap). Returns count, or -1. */
long cli_nn_parse_classes(const char *s, int *out, size_t cap);
/* --epochs ... --augment, --seed, --threads into p (ctx set by the caller). false on a bad value. */
bool cli_nn_train_params(const cli_args *a, tl_nn_train_params *p);
/* Progress on stderr unless -q: a bar when stderr is a terminal, else a plain line every few
 * seconds; epoch lines through the log callback unless -q. Fills ctx. */
void cli_nn_ctx(const cli_args *a, tl_ctx *ctx);
/* Ends a progress bar line if one was drawn. */
void cli_nn_progress_end(void);
/* Read an architecture: the text of FILE if the argument names a file, else the argument. The
 * result is malloc'd. */
char *cli_nn_read_arch(const char *arg);
/* Distinct sorted labels of y (n) into *cls (malloc'd); count in *k. */
int cli_nn_classes_of(const int *y, size_t n, int **cls, size_t *k);
/* Evaluate nn on data (labels must be known to the model). Returns 0 or prints and returns 1. */
int cli_nn_eval(tl_nn *nn, const cli_nn_data *d, double *acc, double *loss, cli_eval *e);

/* Shared by tl train and its multi-task form (cmd_train.c): "auto" or CxHxW for d features;
 * --input-norm over the rows of X[0..nX) (false after a message); the multi-task form itself
 * (train_tasks.c), run when --tasks is given. */
bool cli_nn_parse_shape(const char *s, size_t d, size_t shape[3]);
/* dist (NULL: one process): under mpirun, auto's sums run over every process's rows. Returns 0, or
 * the exit code after a message (2: a bad MODE; 1: the job failed). */
int cli_nn_input_norm(const char *norm, const tl_mat *X, size_t nX, const cli_dist *dist,
                      float *shift, float *scale);
int cli_train_tasks(cli_args *a);
/* Load --model FILE (path); with a "model-task" option given, task NAME of a multi-task model. Prints
 * the reason and returns non-zero on failure. */
int cli_nn_load_model(const cli_args *a, const char *path, tl_nn **out);
#define CLI_NN_TASK_OPT {"model-task", "NAME", NULL, "with a multi-task model (tl train --tasks): the task to use"}

#endif
