/* Private shapes of the relational module: the fact store (interned constants and types, facts per
 * predicate with one index per argument: for argument a and constant c, the facts whose argument
 * a is c, as CSR), the examples, the model (a predicate table of names and types, trees of
 * literals over numbered variables) and the prover shared by learning, inference and transfer. */
#ifndef TL_REL_INTERNAL_H
#define TL_REL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "tl/relational.h"

#define REL_MAX_VARS 64
#define REL_MAX_LITS 24
#define REL_UNBOUND UINT32_MAX
/* BoostSRL's psi_0 (ConditionalModelPerPredicate.log_prior) for RDN learning */
#define REL_LOG_PRIOR (-1.8)
/* BoostSRL's maxScoreToStop (WILLSetup: setMaxAcceptableNodeScoreToStop(0.0025)): a side whose
 * gradients vary less than this per example is a good leaf; TreeBoostler's revision prunes a
 * split whose two leaves both vary by this or more */
#define REL_MIN_VAR 0.0025
#define REL_NODE_LITS 4 /* literals a node holds at most (node_size's upper bound) */

typedef struct {
    char *name;
    size_t arity;
    int types[TL_REL_MAX_ARITY];  /* store type ids */
} rel_pred;

typedef struct {
    int pred;
    char mode[TL_REL_MAX_ARITY]; /* '+', '-', '#' */
} rel_mode;

typedef struct {
    size_t n, cap;
    uint32_t *args;       /* (n, arity) */
    uint32_t *off[TL_REL_MAX_ARITY]; /* (n_constants + 1) per argument, after finish */
    uint32_t *idx[TL_REL_MAX_ARITY]; /* (n) fact ids sorted by that argument's constant */
} rel_facts;

/* a string interner: open addressing over ids */
typedef struct {
    char **names;
    size_t n, cap;
    uint32_t *slots; /* (nslots) id + 1, 0 empty */
    size_t nslots;
} rel_strtab;

struct tl_rel_db {
    rel_strtab types, consts;
    int *const_type;         /* (consts.n) */
    size_t const_type_cap;
    rel_pred *preds;
    size_t n_preds;
    rel_mode *modes;
    size_t n_modes;
    rel_facts *facts;        /* (n_preds) */
    int target;              /* predicate id */
    /* examples */
    size_t n_ex, ex_cap;
    uint32_t *ex_args;       /* (n_ex, arity of target) */
    int *ex_label;
    int *ex_fold;
    bool indexed;
};

/* ---- model ---- */
typedef struct {
    int pred;                        /* model predicate index */
    uint8_t args[TL_REL_MAX_ARITY];  /* variable ids */
} rel_lit;

typedef struct {
    int nlits;
    rel_lit lits[REL_NODE_LITS];
    int yes, no;                     /* child node ids; -1 at a leaf */
    double value;                    /* leaf value */
} rel_node;

typedef struct {
    rel_node *nodes;
    size_t n, cap;
} rel_tree;

typedef struct {
    char *name;
    size_t arity;
    char *types[TL_REL_MAX_ARITY];
} rel_mpred;

struct tl_rel_model {
    rel_mpred *preds;     /* [0] is the target predicate */
    size_t n_preds;
    rel_tree *trees;
    size_t n_trees;
    double prior;
    /* provenance of a transferred model: the mapping, its score; n_map 0 when learned */
    size_t n_map;
    char **map_src, **map_dst;
    double map_score;
    char *kind;           /* "learned", "mapping", "revision" */
};

/* db */
tl_status rel_db_finish(tl_rel_db *db); /* builds the per-argument indexes */
int rel_db_find_pred(const tl_rel_db *db, const char *name);
int rel_db_find_type(const tl_rel_db *db, const char *name);

/* Whether lits[0..n) (model predicates bound to store predicates by bind[]; -1: the literal is
 * dropped and holds) has a substitution extending `vars` (var -> constant or REL_UNBOUND).
 * vars is restored before returning. */
bool rel_prove(const tl_rel_db *db, const int *bind, const rel_lit *lits, int n, uint32_t *vars);
/* Pairs (i, j) of literals (bound in the store, not dropped) that a proof must ground
 * differently: some argument of lits[i] takes another constant than the same argument of lits[j]. */
typedef struct {
    int n;
    int pairs[REL_MAX_LITS + REL_NODE_LITS][2];
} rel_distinct;
/* rel_prove, with only the substitutions that satisfy dc counted as proofs */
bool rel_prove_distinct(const tl_rel_db *db, const int *bind, const rel_lit *lits, int n,
                        uint32_t *vars, const rel_distinct *dc);

/* model */
tl_status rel_model_new(tl_rel_model **out);
/* index of predicate `name` in the model's table, added (with its types) if absent; -1 on OOM */
int rel_model_add_pred(tl_rel_model *m, const char *name, size_t arity, char *const *types);
tl_status rel_tree_add_node(rel_tree *t, int *id);
void rel_tree_free(rel_tree *t);
tl_status rel_tree_copy(const rel_tree *src, rel_tree *dst);
/* bind[] for a model on a store: store predicate of each model predicate (TL_ERR_NOT_FOUND) */
tl_status rel_model_bind(const tl_rel_model *m, const tl_rel_db *db, int *bind);
/* the value a tree gives the example with head constants `head` */
double rel_tree_value(const tl_rel_db *db, const int *bind, const rel_tree *t,
                      const uint32_t *head, size_t arity);
/* the leaf an example reaches */
int rel_tree_leaf(const tl_rel_db *db, const int *bind, const rel_tree *t, const uint32_t *head,
                  size_t arity);

/* learner internals shared with transfer */
typedef struct {
    const tl_rel_params *p;
    const tl_rel_db *db;
    const tl_rel_model *m; /* predicate table (for store predicate ids: bind) */
    const int *bind;       /* (m->n_preds) store predicate of each model predicate */
    const int *store2model;/* (db->n_preds) model predicate of each store predicate */
    size_t n;              /* training examples */
    const uint32_t *heads; /* (n, arity) */
    const int *y;          /* (n) */
    double *grad;          /* (n) */
} rel_fit;

/* Grows `t` from its leaves (best-first, up to max_clauses leaves and max_depth) on the
 * examples; the model's predicate table gains the predicates used. Leaves are set to the mean
 * gradient of their examples. t may hold a translated tree (revision) or a single leaf. */
tl_status rel_grow_tree(rel_fit *f, rel_tree *t);
/* Prunes t bottom-up on the examples as TreeBoostler's revision does: a split that no example
 * passes on one side is replaced by its other child; a split whose two leaves' gradients both
 * vary by REL_MIN_VAR or more becomes a leaf; a node without literals (all dropped by a mapping)
 * is replaced by its yes subtree. */
tl_status rel_prune_tree(rel_fit *f, rel_tree *t);
/* Adds every store predicate to the model's table; *bind (m->n_preds) and *s2m (db->n_preds),
 * tl_malloc'd, replace the old arrays. */
tl_status rel_model_cover_store(tl_rel_model *m, const tl_rel_db *db, int **bind, int **s2m);
/* Drops the predicates no literal uses (the target, [0], stays). */
tl_status rel_model_compact(tl_rel_model *m);
/* Re-sets every leaf of t to the mean gradient of the examples reaching it (0 if none). */
tl_status rel_refit_leaves(rel_fit *f, rel_tree *t);
/* Picks training examples of a store: all positives, ceil(neg_ratio * positives) negatives drawn
 * with rng (all when fewer), in store order. *idx (tl_malloc); every draw has the same size. */
tl_status rel_sample(const tl_rel_params *p, const tl_rel_db *db, tl_rng *rng, size_t **idx,
                     size_t *n);

double rel_sigmoid(double x);

#endif
