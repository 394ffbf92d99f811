/* libtl feature-based transfer: map source and target into a shared space where their
 * distributions match, then learn there. PCA (pooled, baseline), CORAL (Sun et al. 2016), Subspace
 * Alignment (Fernando et al. 2013), GFK (Gong et al. 2012), TCA (Pan et al. 2011), JDA (Long et al.
 * 2013), BDA (Wang et al. 2017) and feature augmentation (Daumé III 2007).
 *
 * Every method is a fitted model: fit on source (+ unlabelled or labelled target) data, then
 * transform any samples of either domain, including samples it never saw, and save/load it. */
#ifndef TL_FEATURE_H
#define TL_FEATURE_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/io.h"
#include "tl/learn.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The feature methods (docs/methods/NAME.md each). */
typedef enum {
    TL_ADAPT_PCA = 0,
    TL_ADAPT_CORAL = 1,
    TL_ADAPT_SA = 2,
    TL_ADAPT_GFK = 3,
    TL_ADAPT_TCA = 4,
    TL_ADAPT_JDA = 5,
    TL_ADAPT_BDA = 6,
    TL_ADAPT_AUGMENT = 7
} tl_adapt_method;

/* Where a method's map lives: on the features, or in a kernel's space. */
typedef enum {
    TL_ADAPT_PRIMAL = 0, /* linear map on the features: out = x A */
    TL_ADAPT_KERNEL = 1  /* kernel form (kernel below): out = k(x, .) A, exact or low-rank */
} tl_adapt_form;

/* How a kernel form approximates the n x n kernel. */
typedef enum {
    TL_LOWRANK_AUTO = 0,    /* exact when n <= exact_max, else Nystrom */
    TL_LOWRANK_NONE = 1,    /* exact n x n kernel */
    TL_LOWRANK_NYSTROM = 2, /* m landmarks (k-means++-seeded random subset) */
    TL_LOWRANK_RFF = 3      /* random Fourier features (RBF only) */
} tl_lowrank;

/* Domain indices of a source/target fit (a map keeps one stage per domain, indexed so). */
typedef enum { TL_DOMAIN_SOURCE = 0, TL_DOMAIN_TARGET = 1 } tl_domain;

/* A feature method's settings (tl_adapt_params_default, then change what you need). */
typedef struct tl_adapt_params tl_adapt_params;
#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* The settings of tl_adapt_fit. */
struct tl_adapt_params {
    tl_adapt_method method; /* which method */
    size_t dim;          /* subspace dimension k (default 100; SA 30, GFK 20: the published rows) */
    double lambda;       /* TCA/JDA/BDA regularisation (default 1) */
    tl_adapt_form form;  /* default PRIMAL */
    tl_kernel kernel;    /* kernel form only (default RBF, gamma by the median heuristic) */
    tl_lowrank lowrank;  /* kernel form only (default AUTO) */
    size_t landmarks;    /* Nystrom landmarks / random features (default 1000) */
    size_t exact_max;    /* AUTO: exact kernel up to this many samples (default 6000) */
    int iters;           /* JDA/BDA pseudo-label iterations (default 10) */
    double mu;           /* BDA balance in [0,1]; < 0 = estimate from the data (default 0.5) */
    double coral_eps;    /* CORAL covariance regulariser added to the diagonal (default 1) */
    bool coral_eps_relative; /* coral_eps in units of each domain's mean feature variance, so
                                that CORAL does the same on any scale of the data (default true;
                                false: absolute, as the authors' code on z-scored features) */
    bool l2_embed;       /* L2-normalise rows of the embedding (JDA protocol; default true for
                            TCA/JDA/BDA, false for the others) */
    tl_learner_params pseudo; /* learner for JDA/BDA pseudo-labels (default 1-NN) */
    uint64_t seed;       /* Nystrom landmarks, random features (default 42) */
    const tl_ctx *ctx;   /* logging / progress; may be NULL */
    /* Rows held by several processes (NULL: one process). Each process passes its block of the
     * source and its block of the target (the blocks of processes 0, 1, ... end to end are the
     * data, as tl_block_range cuts them) and gets the same map as a one-process fit on all the
     * rows, to rounding; the pseudo-labels it keeps are its target rows'. TCA, JDA and BDA
     * (fixed mu), primal or with a low-rank kernel map (Nystrom, random features; linear). */
    const tl_comm *comm;
};

tl_adapt_params tl_adapt_params_default(tl_adapt_method m); /* the published settings */
/* Words for what is wrong (dim 0 or larger than allowed, negative lambda, mu > 1, ...). n_features
 * and n_samples are the sizes fit will see (0 = unknown, skip those checks). */
tl_status tl_adapt_params_check(const tl_adapt_params *p, size_t n_features, size_t n_samples);
#endif
/* "pca", "coral", "sa", "gfk", "tca", "jda", "bda", "augment" and back. */
tl_status tl_adapt_method_parse(const char *name, tl_adapt_method *out);
const char *tl_adapt_method_name(tl_adapt_method m);

/* A fitted feature map: maps rows of each domain it was fitted on into the shared space. */
typedef struct tl_adapter tl_adapter;

#ifdef TL_STATIC_LINKING_ONLY /* the typed interface (see tl.h) */
/* Xs (ns, d) with labels ys (ns); Xt (nt, d) with labels yt (nt), or yt NULL for an unlabelled
 * target (transductive). AUGMENT needs a labelled target (yt non-NULL). Inputs are not modified. */
tl_status tl_adapt_fit(const tl_adapt_params *p, tl_mat Xs, const int *ys, tl_mat Xt,
                       const int *yt, tl_adapter **out);
#endif
/* Output dimension of transform. */
size_t tl_adapter_dim(const tl_adapter *a);
size_t tl_adapter_input_dim(const tl_adapter *a);
tl_adapt_method tl_adapter_method(const tl_adapter *a);
/* Map new samples X (n, d) of domain `dom` (TL_DOMAIN_SOURCE, TL_DOMAIN_TARGET, or a further
 * domain's index) into the shared space: out (n, tl_adapter_dim), allocated with tl_mat_alloc. */
tl_status tl_adapter_transform(const tl_adapter *a, size_t dom, tl_mat X, tl_mat *out);
/* Pseudo-labels JDA/BDA assigned to the fitting target in the last iteration (NULL otherwise). */
const int *tl_adapter_pseudo_labels(const tl_adapter *a);
void tl_adapter_free(tl_adapter *a);

/* Versioned model file (the .tlm container, see tl/io.h). */
tl_status tl_adapter_save(const tl_adapter *a, const char *path);
tl_status tl_adapter_load(const char *path, tl_adapter **out);
/* The same into / out of a container (name: the file, for messages). */
tl_status tl_adapter_write(const tl_adapter *a, tl_tlm *c);
tl_status tl_adapter_read(const tl_tlm *c, const char *name, tl_adapter **out);

/* ---- heterogeneous mappings: source and target with different feature widths ----
 * Fitted on labelled source rows Xs (ns, ds), a few labelled target rows Xl (nl, dt) and the
 * unlabelled target rows Xu (nu, dt; may be empty), ds != dt allowed. Each domain gets its own
 * linear map into one shared space: z = x W[dom] - offset, then optionally L2-normalised.
 *   CDSPP (Wang & Breckon, Pattern Recognition 2022): the projections that keep same-class rows
 *     close within and across domains - a generalised eigenproblem, solved in closed form - with
 *     the unlabelled target rows pseudo-labelled (nearest class mean, most confident first) over
 *     `iters` rounds.
 *   CDLS (Tsai, Yeh & Wang, CVPR 2016): the target's PCA space is the shared space; the source
 *     is mapped into it by the ridge regression that matches the domains' means and class means
 *     (closed form), with pseudo-labelled target rows; `delta` < 1 also selects landmarks: the
 *     weights (in [0, 1], a share delta of each class) of the source and unlabelled target rows
 *     that best match the labelled target distribution, a QP solved by projected gradient. */
/* The heterogeneous methods. */
typedef enum {
    TL_HETERO_CDSPP = 0, /* cross-domain structure-preserving projection */
    TL_HETERO_CDLS = 1   /* cross-domain landmark selection */
} tl_hetero_method;
const char *tl_hetero_method_name(tl_hetero_method m); /* "cdspp", "cdls" */

/* A heterogeneous method's settings (tl_hetero_params_default, then change what you need). */
typedef struct {
    tl_hetero_method method; /* which method */
    size_t dim;      /* CDSPP: shared dimension (at most the number of classes); CDLS: the
                        target PCA dimension */
    double alpha;    /* CDSPP: ridge on the projections (the authors' 10); CDLS: on the
                        source map (the authors' 0.5) */
    double lambda;   /* CDSPP: weight of the within-domain term against the cross-domain one */
    int iters;       /* pseudo-labelling rounds (1: labelled rows only) */
    double delta;    /* CDLS: share of landmarks per class (1: every row, weight 1) */
    bool l2_embed;   /* L2-normalise each embedded row */
} tl_hetero_params;
tl_hetero_params tl_hetero_params_default(tl_hetero_method m); /* the authors' settings */
/* Says in words what is wrong (TL_ERR_INVALID_ARG). */
tl_status tl_hetero_params_check(const tl_hetero_params *p);

/* A fitted heterogeneous map: source and target rows, each in its own width, into one space. */
typedef struct tl_hetero tl_hetero;
/* ys (ns), yl (nl): labels; every target label must be a source class. */
tl_status tl_hetero_fit(const tl_hetero_params *p, tl_mat Xs, const int *ys, tl_mat Xl,
                        const int *yl, tl_mat Xu, tl_hetero **out);
size_t tl_hetero_dim(const tl_hetero *h);
size_t tl_hetero_input_dim(const tl_hetero *h, size_t dom); /* dom 0 source, 1 target */
tl_hetero_method tl_hetero_get_method(const tl_hetero *h);
/* Pseudo-labels of the unlabelled rows after the last round (n receives their count). */
const int *tl_hetero_pseudo_labels(const tl_hetero *h, size_t *n);
/* out (n, tl_hetero_dim) allocated with tl_mat_alloc; X (n, input_dim(dom)). */
tl_status tl_hetero_transform(const tl_hetero *h, size_t dom, tl_mat X, tl_mat *out);
void tl_hetero_free(tl_hetero *h);
tl_status tl_hetero_write(const tl_hetero *h, tl_tlm *c);
tl_status tl_hetero_read(const tl_tlm *c, const char *name, tl_hetero **out);

#ifdef __cplusplus
}
#endif
#endif
