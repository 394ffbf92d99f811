/* libtl relational module: relation-based transfer. Ground facts about entities, positive and
 * negative examples of a target predicate and typed mode declarations (the format of the shared
 * relational benchmarks: `pred(c1,c2).` one atom a line, modes `pred(+type,-type,#type).`), an
 * indexed fact store, a boosted relational dependency network learner (RDN-Boost: Natarajan et
 * al., Machine Learning 2012 - functional-gradient boosting of relational regression trees whose
 * nodes are conjunctions of literals chosen by the modes), and transfer of a learned model to a
 * domain with other predicates by a type-consistent predicate mapping, then parameter learning or
 * theory revision on the target (TreeBoostler: Azevedo Santos et al., Machine Learning 2020;
 * TAMAR: Mihalkova et al., AAAI 2007).
 *
 * A model names its predicates by name (not by the ids of one fact store), so it is evaluated on
 * any store that has those predicates, and a mapping is a renaming of its predicate table. */
#ifndef TL_RELATIONAL_H
#define TL_RELATIONAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_REL_MAX_ARITY 4 /* arguments a predicate has at most */

/* ---- data: schema (predicates, types, modes), constants, facts, examples ---- */
/* A store of one domain's schema, facts and examples of its target predicate. */
typedef struct tl_rel_db tl_rel_db;

/* An empty store for target predicate `target` whose predicates and argument types come from the
 * mode file (each line `pred(+t1,-t2).`; '#' comment lines and blank lines skipped). Errors name
 * the file and line: a malformed declaration, a type clash between two declarations of the same
 * predicate, an arity clash, the target absent from the modes (TL_ERR_FORMAT / TL_ERR_NOT_FOUND). */
tl_status tl_rel_db_create(const char *modes_path, const char *target, tl_rel_db **out);
/* Adds ground facts from a file (one `pred(c1,...,ck).` a line). A predicate the modes do not
 * declare, a wrong arity, a constant used with two types, a malformed atom: TL_ERR_FORMAT with
 * "file:line:". fold tags the facts (>= 0; only for the report). */
tl_status tl_rel_db_add_facts(tl_rel_db *db, const char *path, int fold);
/* Adds examples of the target predicate (label 1 positive, 0 negative) from a file; any other
 * predicate in it is an error naming the file and line. */
tl_status tl_rel_db_add_examples(tl_rel_db *db, const char *path, int label, int fold);
/* Loads a benchmark domain folder: target.txt, modes.txt, and fold<k>/{facts,pos,neg}.txt of
 * each fold listed (folds: n numbers >= 1). A fold folder without positive examples is an empty
 * fold (TL_ERR_EMPTY naming it). */
tl_status tl_rel_db_load(const char *dir, const int *folds, size_t n, tl_rel_db **out);
/* Number of fold<k> folders in a domain folder (k = 1, 2, ... without gaps); 0 if none. */
size_t tl_rel_domain_folds(const char *dir);
void tl_rel_db_free(tl_rel_db *db); /* NULL-safe */

/* What the store holds: facts, distinct constants, declared predicates. */
size_t tl_rel_db_n_facts(const tl_rel_db *db);
size_t tl_rel_db_n_constants(const tl_rel_db *db);
size_t tl_rel_db_n_preds(const tl_rel_db *db);
size_t tl_rel_db_n_examples(const tl_rel_db *db, int label); /* label -1: all */
const char *tl_rel_db_target(const tl_rel_db *db); /* the target predicate's name */
/* Example i (the store's order) as text, `pred(c1,...,ck)`, into buf (truncated to cap);
 * its label and fold through the optional pointers. The length it needs, 0 when i is out of range. */
size_t tl_rel_db_example(const tl_rel_db *db, size_t i, char *buf, size_t cap, int *label,
                         int *fold);
/* Whether the ground atom `pred(args...)` (constants by name) is a fact of the store. */
bool tl_rel_db_holds(const tl_rel_db *db, const char *pred, const char *const *args, size_t n);

/* ---- metrics over probabilities of examples (y in {0,1}) ---- */
/* Area under the ROC curve (tied scores count half: the Mann-Whitney statistic). NaN when one
 * class is absent. */
double tl_rel_auc_roc(const double *p, const int *y, size_t n);
/* Area under the precision-recall curve interpolated as Davis & Goadrich (ICML 2006) and their
 * AUCCalculator: between two thresholds' points precision is interpolated over each added true
 * positive, the curve starts at recall 0 with the first point's precision. NaN without positives. */
double tl_rel_auc_pr(const double *p, const int *y, size_t n);
/* Mean conditional log-likelihood, probabilities clipped to [1e-6, 1 - 1e-6]. */
double tl_rel_cll(const double *p, const int *y, size_t n);

/* ---- the learner ---- */
/* RDN-Boost's settings (TreeBoostler's defaults). */
typedef struct {
    size_t n_trees;     /* boosting rounds; default 10 */
    size_t max_depth;   /* maximum tree depth; default 3 */
    size_t node_size;   /* literals per node at most; default 2 */
    size_t max_clauses; /* leaves (clauses) per tree at most; default 8 */
    size_t min_leaf;    /* examples a leaf needs at least; default 2 */
    size_t lookahead;   /* one-literal candidates extended to two literals; default 10 */
    double neg_ratio;   /* training negatives sampled per positive (0: all); default 2 */
    uint64_t seed;      /* the negative sample; default 42 */
    size_t threads;     /* threads scoring a node's candidate tests (0 or 1: the caller's only);
                           default 1. The result does not depend on it. */
} tl_rel_params;
tl_rel_params tl_rel_params_default(void); /* the defaults above */
/* TL_ERR_INVALID_ARG naming the parameter that is out of range. */
tl_status tl_rel_params_check(const tl_rel_params *p);

/* A boosted relational dependency network: regression trees over literals, and the mapping when
 * it was transferred. */
typedef struct tl_rel_model tl_rel_model;

/* Learns a boosted RDN for the store's target predicate on every example of the store (the
 * negatives subsampled as params say). TL_ERR_EMPTY without positive examples. */
tl_status tl_rel_learn(const tl_rel_params *p, const tl_rel_db *db, tl_rel_model **out);
/* Probability of each example of the store (the store's example order), and their labels. The
 * model's predicates must exist in the store with the same arity (TL_ERR_NOT_FOUND naming one).
 * p and y: (n_examples) caller-allocated. */
tl_status tl_rel_predict(const tl_rel_model *m, const tl_rel_db *db, double *p, int *y);
void tl_rel_model_free(tl_rel_model *m);
size_t tl_rel_model_n_trees(const tl_rel_model *m);
const char *tl_rel_model_target(const tl_rel_model *m);

/* Readable rules: each tree as nested if/else clauses over literals with variables A, B, ...,
 * the head first, the leaf values, and the predicate mapping when the model was transferred. */
tl_status tl_rel_model_print(const tl_rel_model *m, FILE *f);
/* Text model file (tl_wfile: written whole or not at all); load checks every line and names the
 * line it refuses. */
tl_status tl_rel_model_save(const tl_rel_model *m, const char *path);
tl_status tl_rel_model_load(const char *path, tl_rel_model **out);

/* ---- transfer ---- */
/* What a transfer does after translating the source model's trees. */
typedef enum {
    TL_REL_MAPPING_ONLY = 0, /* translate the trees, re-learn the leaf values on the target */
    TL_REL_REVISION = 1      /* translate, then prune and expand the trees on the target (kept
                                when its training CLL beats mapping + parameter learning) */
} tl_rel_transfer_kind;

/* The predicate mapping found from a source model to a target store: for each source predicate
 * of the model (pred 0 is the target predicate) the target predicate it maps to (NULL: dropped),
 * and the score the search gave it: minus the weighted variance of the functional gradients left
 * in the translated trees' leaves after re-learning their values on the target training data
 * (per example and tree; 0 is a perfect fit, higher is better). */
typedef struct {
    size_t n;      /* source predicates */
    char **source; /* (n) */
    char **target; /* (n), entries may be NULL */
    double score;  /* the search's score of the mapping (higher is better, 0 at most) */
} tl_rel_mapping;
void tl_rel_mapping_free(tl_rel_mapping *map); /* NULL-safe */

/* Finds the mapping as TreeBoostler does (node by node through the source trees, the node's
 * unmapped predicates mapped jointly to unused target predicates of the same arity - any argument
 * order whose types agree with the types mapped so far - or dropped, scored by that node's split
 * on the store's examples; the target predicate of the model maps to the store's target),
 * translates the model and re-learns it on the store's examples as `kind` says (revision keeps the
 * revised theory only when its CLL on the store's examples beats mapping + parameter learning's).
 * A mapped target name with its arguments permuted reads name(i,j,...): the source argument
 * (1-based) that fills each target argument. *map and *out are set on success (map may be NULL). */
tl_status tl_rel_transfer(const tl_rel_params *p, const tl_rel_model *source, const tl_rel_db *db,
                          tl_rel_transfer_kind kind, tl_rel_mapping *map, tl_rel_model **out);

#ifdef __cplusplus
}
#endif
#endif
