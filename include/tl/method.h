/* libtl method interface: every transfer method and base learner described once, in a registry.
 *
 * A method is a descriptor: a name, a family (feature mapping, instance weighting, ensemble, base
 * learner, ...), what it needs from a transfer task (labelled source, unlabelled or labelled
 * target rows, several sources, domains of different widths), and its parameters, each with a
 * name, a type, a default, a range and a line of help. Everything that handles hyper-parameters
 * is generated from these descriptors: the checks and their messages, `tl help`, the command's
 * options, the metadata saved with a model, search grids, and (later) the Python keyword
 * arguments. A hyper-parameter is written down in one place: its descriptor.
 *
 * A fitted method is a tl_model: fit it on a task (tl/pipeline.h), then apply it: map samples of
 * any domain into the shared space (feature family), weight source samples (instance family:
 * also new ones where the method can, a clear TL_ERR_UNSUPPORTED where it cannot), or predict
 * (learners and ensembles); save and load it through the .tlm container.
 *
 * Parameter values live in an opaque tl_params set by name (from text or numbers), so a program
 * compiled against an older libtl keeps working when a method gains a parameter: the new one
 * simply keeps its default. */
#ifndef TL_METHOD_H
#define TL_METHOD_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/feature.h"
#include "tl/io.h"
#include "tl/learn.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kinds of transfer (and the base learners), as the registry sorts its methods. */
typedef enum {
    TL_FAMILY_LEARNER = 0,  /* a base learner: no transfer by itself (1-NN, logreg, ...) */
    TL_FAMILY_FEATURE = 1,  /* maps the domains into a shared space (PCA, CORAL, TCA, JDA, ...) */
    TL_FAMILY_INSTANCE = 2, /* weights the source samples (KMM, KLIEP, uLSIF, ...) */
    TL_FAMILY_ENSEMBLE = 3, /* a transferring classifier of its own (TrAdaBoost) */
    TL_FAMILY_MODEL = 4,    /* neural networks: pre-training, fine-tuning, deep adaptation */
    TL_FAMILY_RELATIONAL = 5 /* relational models carried by a predicate mapping */
} tl_family;
const char *tl_family_name(tl_family f); /* "learner", "feature", "instance", ... */

/* What a method needs from the task (bit flags of tl_method_needs). */
#define TL_NEEDS_SOURCE_LABELS 0x01u   /* the source rows must be labelled */
#define TL_NEEDS_TARGET 0x02u          /* unlabelled target rows at fit time */
#define TL_NEEDS_TARGET_LABELS 0x04u   /* a few labelled target rows */
#define TL_USES_TARGET_LABELS 0x08u    /* uses labelled target rows when the task has them */
#define TL_MULTI_SOURCE 0x10u          /* takes several source domains */
#define TL_HETEROGENEOUS 0x20u         /* domains may have different feature widths */
#define TL_DENSE_ONLY 0x40u            /* sparse inputs are densified first */
#define TL_WEIGHTS_NEW_SAMPLES 0x80u   /* instance family: weights samples it was not fitted on */

/* A parameter's kind of value. */
typedef enum {
    TL_PARAM_INT = 0,    /* integer within [lo, hi] */
    TL_PARAM_REAL = 1,   /* finite number within [lo, hi] */
    TL_PARAM_BOOL = 2,   /* "true"/"false" (also 1/0, yes/no) */
    TL_PARAM_CHOICE = 3, /* one word of `choices` */
    TL_PARAM_TEXT = 4    /* free text the method parses (a layer name, a list); at most 63 bytes */
} tl_param_type;
const char *tl_param_type_name(tl_param_type t); /* "int", "real", "bool", "choice" */

/* A parameter, described once: the CLI's options, help, checks, saved metadata, search grids and
 * Python keywords are all generated from it. */
typedef struct {
    const char *name;    /* "dim", "lambda", ... (the CLI option --name, the Python keyword) */
    tl_param_type type;  /* its kind of value */
    const char *def;     /* the default, as text */
    double lo;           /* INT/REAL: the smallest accepted value */
    double hi;           /* INT/REAL: the largest accepted value */
    const char *choices; /* CHOICE: the accepted words, comma-separated; INT/REAL: NULL, or
                            words accepted besides a number (e.g. "auto"), whose number is 0
                            (their range leaves 0 out, so 0 means the word) */
    const char *help;    /* one line */
    const char *grid;    /* a small search grid (comma-separated values), or NULL */
} tl_param_desc;

typedef struct tl_method tl_method; /* a registry entry; lives as long as the library */

/* ---- the registry ---- */
size_t tl_method_count(void); /* methods in the registry (learners included) */
const tl_method *tl_method_at(size_t i); /* NULL past the end */
/* By name (case-insensitive). NULL and an error message listing the known names when absent;
 * family >= 0 restricts the search (and the list) to that family. */
const tl_method *tl_method_find(const char *name, int family);
/* "pca, coral, sa, ..." - the names of a family (or of all, family < 0), for messages and help. */
void tl_method_names(int family, char *buf, size_t cap);

const char *tl_method_name(const tl_method *m); /* "coral", "kmm", ... */
const char *tl_method_summary(const tl_method *m);   /* one line */
const char *tl_method_reference(const tl_method *m); /* the paper, "" for none */
tl_family tl_method_family(const tl_method *m); /* its kind of transfer */
unsigned tl_method_needs(const tl_method *m); /* TL_NEEDS_* flags */
size_t tl_method_param_count(const tl_method *m); /* its parameters */
const tl_param_desc *tl_method_param(const tl_method *m, size_t i); /* NULL past the end */
const tl_param_desc *tl_method_param_find(const tl_method *m, const char *name); /* or NULL */

/* ---- parameter values ---- */
/* A method with its parameter values (defaults until set). */
typedef struct tl_params tl_params;
/* The method's defaults. */
tl_status tl_params_create(const tl_method *m, tl_params **out);
tl_status tl_params_clone(const tl_params *p, tl_params **out);
void tl_params_free(tl_params *p);
const tl_method *tl_params_method(const tl_params *p);
/* Parses and range-checks one value; TL_ERR_INVALID_ARG with a message naming the method, the
 * parameter, the value and what is accepted (also for a parameter the method does not have). */
tl_status tl_params_set(tl_params *p, const char *name, const char *value);
tl_status tl_params_set_num(tl_params *p, const char *name, double value);
/* The value as canonical text (never NULL for a known name; NULL for an unknown one). */
const char *tl_params_get(const tl_params *p, const char *name);
/* The value as a number (INT, REAL, BOOL 0/1; CHOICE: the word's index). NaN when unknown. */
double tl_params_num(const tl_params *p, const char *name);
/* True when the value was set explicitly (not the default). */
bool tl_params_is_set(const tl_params *p, const char *name);
/* The method's own cross-parameter checks, given the shape the fit will see (0 = unknown). */
tl_status tl_params_check(const tl_params *p, size_t n_features, size_t n_samples);

/* A learner-family method's values as the typed tl_learner_params of tl/learn.h (seed set). */
tl_status tl_learner_params_from(const tl_params *p, uint64_t seed, tl_learner_params *out);
/* A feature-family method's values as the typed tl_adapt_params of tl/feature.h, for a fit on
 * n_features columns and n_samples rows (the dimension defaulted as the registry's fit does);
 * TL_ERR_INVALID_ARG for a method of another family. */
tl_status tl_adapt_params_from(const tl_params *p, size_t n_features, size_t n_samples,
                               uint64_t seed, const tl_ctx *ctx, tl_adapt_params *out);
/* The learner as reports name it: "1nn", "5nn", "logreg", ... */
void tl_learner_label(const tl_params *p, char *buf, size_t cap);

/* ---- fitted methods ---- */
/* A fitted method: maps, weights or predicts; saves and loads. */
typedef struct tl_model tl_model;
typedef struct tl_task tl_task; /* tl/pipeline.h */
typedef struct tl_nn tl_nn;     /* tl/nn.h */

/* Fits the method on the task (the preprocessed data; tl_transfer_run does the preprocessing).
 * learner: the base learner an ensemble method boosts (a learner-family tl_params; NULL: the
 * method's default); the other families ignore it. ctx may be NULL (defaults); its thread count
 * is used for the call and OpenBLAS's own setting is restored afterwards. */
tl_status tl_model_fit(const tl_params *p, const tl_params *learner, const tl_task *task,
                       const tl_ctx *ctx, tl_model **out);
void tl_model_free(tl_model *m);
const tl_method *tl_model_method(const tl_model *m);
const tl_params *tl_model_params(const tl_model *m);
/* The width of domain `domain`'s rows the fitted model takes (0 when the domain is not one it
 * was fitted on). */
size_t tl_model_input_dim(const tl_model *m, size_t domain);
/* Feature family: output width of the shared space (0 for the other families). */
size_t tl_model_dim(const tl_model *m);
/* Feature family: maps X (n, d_domain) of task domain `domain` into out (n, tl_model_dim),
 * allocated with tl_mat_alloc. */
tl_status tl_model_transform(const tl_model *m, size_t domain, tl_mat X, tl_mat *out);
/* Instance family: the weights of the source rows it was fitted on (mean 1); n receives their
 * count. NULL for the other families. */
const double *tl_model_fit_weights(const tl_model *m, size_t *n);
/* Instance family: weights w (rows(X)) for source samples, on the fitted scale (the fitting
 * rows get tl_model_fit_weights). TL_ERR_UNSUPPORTED, saying why, for a method that only
 * weights the samples it was fitted on (KMM). */
tl_status tl_model_weights(const tl_model *m, tl_xmat X, double *w);
/* Model family: the trained network (owned by the model; NULL for the other families). */
const tl_nn *tl_model_network(const tl_model *m);
/* Learner and ensemble families: predicted labels pred (rows(X)). */
tl_status tl_model_predict(const tl_model *m, tl_xmat X, int *pred);
/* Class scores of the models that predict: S (rows, classes) in the order of
 * tl_model_classes - vote shares (ensembles), probabilities (networks). */
tl_status tl_model_scores(const tl_model *m, tl_xmat X, tl_mat S);
const int *tl_model_classes(const tl_model *m, size_t *nclasses); /* NULL when it does not predict */
/* What the fit settled on, as named numbers for reports ("gamma", "lambda", "dim", ...).
 * Returns false past the end. */
bool tl_model_info(const tl_model *m, size_t i, const char **key, double *value);

/* Save to / load from a .tlm file (metadata: the method name and every parameter value). */
tl_status tl_model_save(const tl_model *m, const char *path);
tl_status tl_model_load(const char *path, tl_model **out);
/* The same inside a container another model owns: entries are prefixed (e.g. "model."). `name`
 * is the file name used in error messages. */
tl_status tl_model_write(const tl_model *m, tl_tlm *c, const char *prefix);
tl_status tl_model_read(const tl_tlm *c, const char *prefix, const char *name, tl_model **out);

#ifdef __cplusplus
}
#endif
#endif
