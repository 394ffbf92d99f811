/* Relation-based transfer of a boosted RDN (TreeBoostler: Azevedo Santos, Paes, Zaverucha:
 * "Transfer learning by mapping and revising boosted relational dependency networks", Machine
 * Learning 2020). The source model's target predicate maps to the target domain's; the other
 * predicates are mapped as TreeBoostler's BoostSRL fork maps them while rebuilding the first tree
 * on the target (ILPouterLoop's transfer branch): node by node, trees in order and nodes in
 * preorder, the predicates of a node not mapped yet are mapped jointly - every assignment to
 * unused target predicates of the same arity, in every argument order whose types agree with the
 * type correspondence built so far (searchArgPermutation), or to nothing - scored by that node's
 * split of the target training examples (node_gain), the best kept. The mapping's reported score
 * is minus the weighted variance of the gradients left in the leaves after re-learning their
 * values (relearn). The translated model is
 * then either only re-parameterised ("mapping + parameter learning") or revised as TreeBoostler's
 * revision.py does: each tree, on the gradients left by the revised trees before it, is pruned
 * (a split no example passes on one side gives way to its other child; a split whose two leaves
 * both keep a gradient variance of BoostSRL's 0.0025 or more becomes a leaf; a node whose
 * literals were all dropped gives way to its yes branch) and expanded (its leaves grown
 * best-first by the learner with the target's modes, up to max_depth and max_clauses); the
 * revised theory is kept only when its conditional log-likelihood on the training fold beats
 * that of mapping + parameter learning, else the latter is returned. Where libtl differs from
 * TreeBoostler: the variances that decide the pruning are those of the gradients left by the
 * revised trees before (TreeBoostler's come from the parameter-learning run), and the search
 * is libtl's learner rather than BoostSRL's (see boost.c). */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "rel_internal.h"

void tl_rel_mapping_free(tl_rel_mapping *map) {
    if (!map) return;
    for (size_t i = 0; i < map->n; i++) {
        tl_free(map->source[i]);
        tl_free(map->target[i]);
    }
    tl_free(map->source);
    tl_free(map->target);
    memset(map, 0, sizeof *map);
}

static char *dupstr(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *c = tl_malloc(n + 1);
    if (c) memcpy(c, s, n + 1);
    return c;
}

/* where each argument of a source predicate goes in the target predicate it maps to: TreeBoostler
 * searches argument permutations too (transfer.py, searchArgPermutation=True), which is how Cora's
 * haswordvenue(venue,word) becomes IMDB's movie(movie,person) with its arguments swapped */
typedef struct {
    uint8_t to[TL_REL_MAX_ARITY];
} rel_perm;

static void perm_identity(rel_perm *p) {
    for (int a = 0; a < TL_REL_MAX_ARITY; a++) p->to[a] = (uint8_t)a;
}

/* the next permutation of p->to[0..n) in lexicographic order; false after the last */
static bool perm_next(rel_perm *p, size_t n) {
    if (n < 2) return false;
    size_t i = n - 1;
    while (i > 0 && p->to[i - 1] >= p->to[i]) i--;
    if (i == 0) return false;
    size_t j = n - 1;
    while (p->to[j] <= p->to[i - 1]) j--;
    uint8_t t = p->to[i - 1];
    p->to[i - 1] = p->to[j];
    p->to[j] = t;
    for (size_t a = i, b = n - 1; a < b; a++, b--) {
        t = p->to[a];
        p->to[a] = p->to[b];
        p->to[b] = t;
    }
    return true;
}

/* the mapped predicate's name as the mapping prints it: the name alone when the arguments keep
 * their order, else name(i,j,...) listing the source argument (1-based) that fills each target
 * argument: haswordvenue -> movie(2,1) reads haswordvenue(X,Y) as movie(Y,X) */
static char *map_name(const char *name, const rel_perm *pm, size_t arity) {
    bool id = true;
    for (size_t a = 0; a < arity; a++) id = id && pm->to[a] == a;
    if (id) return dupstr(name);
    size_t n = strlen(name);
    char *s = tl_malloc(n + 4 * arity + 3);
    if (!s) return NULL;
    memcpy(s, name, n);
    s[n++] = '(';
    for (size_t t = 0; t < arity; t++) {
        size_t a = 0;
        while (a < arity && pm->to[a] != t) a++;
        if (t) s[n++] = ',';
        s[n++] = (char)('1' + a);
    }
    s[n++] = ')';
    s[n] = '\0';
    return s;
}

/* The source model translated by dst[] (source model predicate -> store predicate, -1 dropped)
 * and perm[] (argument a of source predicate sp -> argument perm[sp].to[a]): a model in the
 * store's vocabulary (prior and trees kept, dropped literals removed). */
static tl_status translate(const tl_rel_model *src, const tl_rel_db *db, const int *dst,
                           const rel_perm *perm, tl_rel_model **out) {
    tl_status st = TL_OK;
    tl_rel_model *m = NULL;
    int *newid = NULL;
    TL_TRY(rel_model_new(&m));
    TL_ALLOC(newid, src->n_preds);
    for (size_t i = 0; i < src->n_preds; i++) {
        newid[i] = -1;
        if (dst[i] < 0) continue;
        const rel_pred *pr = &db->preds[dst[i]];
        char *types[TL_REL_MAX_ARITY];
        for (size_t a = 0; a < pr->arity; a++) types[a] = db->types.names[pr->types[a]];
        newid[i] = rel_model_add_pred(m, pr->name, pr->arity, types);
        TL_CHECK(newid[i] >= 0, TL_ERR_NOMEM, "out of memory translating a model");
    }
    m->prior = src->prior;
    TL_CALLOC(m->trees, src->n_trees);
    for (size_t t = 0; t < src->n_trees; t++) {
        TL_TRY(rel_tree_copy(&src->trees[t], &m->trees[t]));
        m->n_trees = t + 1;
        for (size_t k = 0; k < m->trees[t].n; k++) {
            rel_node *nd = &m->trees[t].nodes[k];
            int j = 0;
            for (int l = 0; l < nd->nlits; l++) {
                int sp = nd->lits[l].pred;
                if (newid[sp] < 0) continue;
                rel_lit in = nd->lits[l];
                nd->lits[j] = in;
                nd->lits[j].pred = newid[sp];
                /* source argument a becomes the target literal's argument perm[sp].to[a] */
                for (size_t a = 0; a < src->preds[sp].arity; a++)
                    nd->lits[j].args[perm[sp].to[a]] = in.args[a];
                j++;
            }
            nd->nlits = j;
        }
    }
    *out = m;
    m = NULL;
done:
    tl_rel_model_free(m);
    tl_free(newid);
    return st;
}

typedef struct {
    const tl_rel_params *p;
    const tl_rel_db *db;
    tl_rng rng;    /* negative draws: the first for the mapping search, then per tree */
    bool resample; /* draw the negatives afresh for every tree (the final re-learning) */
    size_t n;
    uint32_t *heads;
    int *y;
    double *grad, *F;
} target_set;

/* Re-learns m on the target examples: leaf values only (revise false) or prune + expand. *score
 * is minus the weighted variance the trees leave: the squared error of each tree's leaves against
 * the gradients it was fitted to, summed over the trees, per example and tree (0 is a perfect
 * fit) - the regression trees' own criterion, as TreeBoostler scores a mapping. */
static tl_status relearn(const target_set *ts, tl_rel_model *m, bool revise, double *score) {
    tl_status st = TL_OK;
    double wvar = 0;
    int *bind = NULL, *s2m = NULL;
    const tl_rel_db *db = ts->db;
    size_t ar = db->preds[db->target].arity;
    if (revise) {
        TL_TRY(rel_model_cover_store(m, db, &bind, &s2m));
    } else {
        TL_ALLOC(bind, m->n_preds);
        TL_TRY(rel_model_bind(m, db, bind));
    }
    rel_fit f = {ts->p, db, m, bind, s2m, ts->n, ts->heads, ts->y, ts->grad};
    for (size_t i = 0; i < ts->n; i++) ts->F[i] = 0;
    for (size_t t = 0; t < m->n_trees; t++) {
        if (ts->resample && t > 0) {
            size_t *idx = NULL, n = 0;
            TL_TRY(rel_sample(ts->p, db, (tl_rng *)&ts->rng, &idx, &n));
            for (size_t i = 0; i < n && i < ts->n; i++) {
                memcpy(ts->heads + i * ar, db->ex_args + idx[i] * ar, ar * sizeof *ts->heads);
                ts->y[i] = db->ex_label[idx[i]];
                ts->F[i] = 0;
                for (size_t u = 0; u < t; u++)
                    ts->F[i] += rel_tree_value(db, bind, &m->trees[u], ts->heads + i * ar, ar);
            }
            tl_free(idx);
        }
        for (size_t i = 0; i < ts->n; i++)
            ts->grad[i] = (double)ts->y[i] - rel_sigmoid(m->prior + ts->F[i]);
        if (revise) {
            TL_TRY(rel_prune_tree(&f, &m->trees[t]));
            TL_TRY(rel_grow_tree(&f, &m->trees[t]));
        } else {
            TL_TRY(rel_refit_leaves(&f, &m->trees[t]));
        }
        for (size_t i = 0; i < ts->n; i++) {
            double v = rel_tree_value(db, bind, &m->trees[t], ts->heads + i * ar, ar);
            ts->F[i] += v;
            wvar += (ts->grad[i] - v) * (ts->grad[i] - v);
        }
    }
    *score = -wvar / (double)(ts->n * m->n_trees);
    if (revise) TL_TRY(rel_model_compact(m));
done:
    tl_free(bind);
    tl_free(s2m);
    return st;
}


/* the nodes from the root of t to node k and the branch taken at each (1 yes, 0 no); the depth */
static int path_to(const rel_tree *t, int cur, int k, int *nodes, int *dirs, int depth) {
    if (cur == k) return depth;
    const rel_node *nd = &t->nodes[cur];
    if (nd->yes < 0 || depth >= REL_MAX_LITS) return -1;
    nodes[depth] = cur;
    dirs[depth] = 1;
    int d = path_to(t, nd->yes, k, nodes, dirs, depth + 1);
    if (d >= 0) return d;
    dirs[depth] = 0;
    return path_to(t, nd->no, k, nodes, dirs, depth + 1);
}

/* TreeBoostler's score of a mapping (its BoostSRL fork, ILPouterLoop with a transfer file: when a
 * source node has unmapped predicates, every legal mapping of them is tried on that node and the
 * one whose split scores best is fixed): the squared error of the functional gradients that the
 * split at node k of tree t of the translated model m removes, on the target training examples
 * that reach node k (a node whose literals were all dropped passes its examples to its yes side).
 * The gradients are those of the first tree, y - sigmoid(prior): TreeBoostler maps while it
 * learns the first tree that uses a predicate; libtl takes the prior's gradients for every node. */
static tl_status node_gain(const target_set *ts, const tl_rel_model *m, size_t t, int k,
                           double *gain) {
    tl_status st = TL_OK;
    int *bind = NULL;
    const tl_rel_db *db = ts->db;
    const rel_tree *tr = &m->trees[t];
    size_t ar = db->preds[db->target].arity;
    int anc[REL_MAX_LITS], dir[REL_MAX_LITS];
    int depth = path_to(tr, 0, k, anc, dir, 0);
    *gain = 0;
    if (depth < 0 || tr->nodes[k].yes < 0 || tr->nodes[k].nlits == 0) goto done;
    TL_ALLOC(bind, m->n_preds);
    TL_TRY(rel_model_bind(m, db, bind));
    double n1 = 0, s1 = 0, q1 = 0, n0 = 0, s0 = 0, q0 = 0;
    double p0 = rel_sigmoid(m->prior);
    uint32_t vars[REL_MAX_VARS];
    rel_lit path[REL_MAX_LITS + REL_NODE_LITS];
    for (size_t v = 0; v < REL_MAX_VARS; v++) vars[v] = REL_UNBOUND;
    for (size_t i = 0; i < ts->n; i++) {
        for (size_t a = 0; a < ar; a++) vars[a] = ts->heads[i * ar + a];
        int np = 0;
        bool reach = true;
        for (int d = 0; d < depth && reach; d++) {
            const rel_node *nd = &tr->nodes[anc[d]];
            if (nd->nlits == 0) {
                reach = dir[d] == 1;
                continue;
            }
            int n = np;
            for (int l = 0; l < nd->nlits && n < REL_MAX_LITS; l++) path[n++] = nd->lits[l];
            bool c = rel_prove(db, bind, path, n, vars);
            if (c != (dir[d] == 1)) reach = false;
            else if (c) np = n;
        }
        if (!reach) continue;
        const rel_node *nk = &tr->nodes[k];
        int n = np;
        for (int l = 0; l < nk->nlits; l++) path[n++] = nk->lits[l];
        double g = (double)ts->y[i] - p0;
        if (rel_prove(db, bind, path, n, vars)) {
            n1++;
            s1 += g;
            q1 += g * g;
        } else {
            n0++;
            s0 += g;
            q0 += g * g;
        }
    }
    if (n1 > 0 && n0 > 0) {
        double all = q0 + q1 - (s0 + s1) * (s0 + s1) / (n0 + n1);
        *gain = all - (q1 - s1 * s1 / n1) - (q0 - s0 * s0 / n0);
    }
done:
    tl_free(bind);
    return st;
}

/* The joint search of one node: every assignment of the node's unmapped source predicates U to
 * unused store predicates of their arity (every argument order whose types agree with the
 * correspondence so far, one store predicate at most once) or to nothing, scored by node_gain;
 * the best (the first enumerated on ties, mappings before dropping) is kept in best_*. */
typedef struct {
    const tl_rel_model *src;
    const target_set *ts;
    int *dst;
    rel_perm *perm;
    bool *used;
    char **stype;
    int *ttype;
    size_t t;
    int k;
    size_t U[REL_NODE_LITS];
    int nU;
    bool any;
    double best;
    int best_dst[REL_NODE_LITS];
    rel_perm best_perm[REL_NODE_LITS];
} jointctx;

static bool types_agree(const tl_rel_model *src, size_t sp, const tl_rel_db *db, int q,
                        const rel_perm *pm, char **stype, int *ttype, size_t *nt);

static tl_status joint_rec(jointctx *c, int i, size_t nt) {
    tl_status st = TL_OK;
    const tl_rel_db *db = c->ts->db;
    if (i == c->nU) {
        tl_rel_model *m = NULL;
        double g = 0;
        st = translate(c->src, db, c->dst, c->perm, &m);
        if (st == TL_OK) st = node_gain(c->ts, m, c->t, c->k, &g);
        tl_rel_model_free(m);
        if (st == TL_OK && (!c->any || g > c->best + 1e-12)) {
            c->any = true;
            c->best = g;
            for (int u = 0; u < c->nU; u++) {
                c->best_dst[u] = c->dst[c->U[u]];
                c->best_perm[u] = c->perm[c->U[u]];
            }
        }
        return st;
    }
    size_t sp = c->U[i];
    for (size_t q = 0; q < db->n_preds; q++) {
        if (c->used[q] || (int)q == db->target || c->src->preds[sp].arity != db->preds[q].arity)
            continue;
        perm_identity(&c->perm[sp]);
        do {
            size_t nt2 = nt;
            if (!types_agree(c->src, sp, db, (int)q, &c->perm[sp], c->stype, c->ttype, &nt2))
                continue;
            c->dst[sp] = (int)q;
            c->used[q] = true;
            st = joint_rec(c, i + 1, nt2);
            c->used[q] = false;
            if (st != TL_OK) return st;
        } while (perm_next(&c->perm[sp], c->src->preds[sp].arity));
    }
    c->dst[sp] = -1;
    perm_identity(&c->perm[sp]);
    return joint_rec(c, i + 1, nt);
}

/* the conditional log-likelihood of m over every example of the store (the training fold: BoostSRL
 * scores all the examples it is given, no negative sampling at inference) */
static tl_status store_cll(const tl_rel_model *m, const tl_rel_db *db, double *cll) {
    tl_status st = TL_OK;
    double *p = NULL;
    int *y = NULL;
    TL_CHECK(db->n_ex > 0, TL_ERR_EMPTY, "no training example to score a revision on");
    TL_ALLOC(p, db->n_ex);
    TL_ALLOC(y, db->n_ex);
    TL_TRY(tl_rel_predict(m, db, p, y));
    *cll = tl_rel_cll(p, y, db->n_ex);
done:
    tl_free(p);
    tl_free(y);
    return st;
}

/* whether mapping source predicate sp to store predicate q agrees with the type map (source type
 * name index in the model -> store type), extending a copy of it */
static bool types_agree(const tl_rel_model *src, size_t sp, const tl_rel_db *db, int q,
                        const rel_perm *pm, char **stype, int *ttype, size_t *nt) {
    const rel_mpred *a = &src->preds[sp];
    const rel_pred *b = &db->preds[q];
    if (a->arity != b->arity) return false;
    for (size_t k = 0; k < a->arity; k++) {
        size_t j = 0;
        while (j < *nt && strcmp(stype[j], a->types[k]) != 0) j++;
        if (j < *nt) {
            if (ttype[j] != b->types[pm->to[k]]) return false;
        } else {
            stype[*nt] = a->types[k];
            ttype[*nt] = b->types[pm->to[k]];
            (*nt)++;
        }
    }
    return true;
}

tl_status tl_rel_transfer(const tl_rel_params *p, const tl_rel_model *source, const tl_rel_db *db,
                          tl_rel_transfer_kind kind, tl_rel_mapping *map, tl_rel_model **out) {
    tl_status st = TL_OK;
    target_set ts;
    memset(&ts, 0, sizeof ts);
    size_t *idx = NULL, *order = NULL, n_order = 0;
    bool *decided = NULL;
    int *dst = NULL;
    rel_perm *perm = NULL;
    bool *used = NULL, *seen = NULL;
    char **stype = NULL;
    int *ttype = NULL;
    size_t nt = 0;
    tl_rel_model *cand = NULL, *best = NULL;
    double best_score = -INFINITY;
    TL_CHECK(p && source && db && out, TL_ERR_INVALID_ARG, "tl_rel_transfer: NULL argument");
    *out = NULL;
    if (map) memset(map, 0, sizeof *map);
    TL_TRY(tl_rel_params_check(p));
    TL_CHECK(db->indexed, TL_ERR_STATE, "tl_rel_transfer: the store is not indexed");
    TL_CHECK(kind == TL_REL_MAPPING_ONLY || kind == TL_REL_REVISION, TL_ERR_INVALID_ARG,
             "tl_rel_transfer: unknown kind %d", (int)kind);
    TL_CHECK(source->n_preds > 0 && source->n_trees > 0, TL_ERR_EMPTY, "the source model is empty");
    const rel_pred *tp = &db->preds[db->target];
    TL_CHECK(source->preds[0].arity == tp->arity, TL_ERR_SHAPE,
             "the source model predicts %s/%zu, the target domain's %s has arity %zu",
             source->preds[0].name, source->preds[0].arity, tp->name, tp->arity);
    /* the target examples */
    tl_rng_seed(&ts.rng, p->seed);
    TL_TRY(rel_sample(p, db, &ts.rng, &idx, &ts.n));
    size_t ar = tp->arity;
    ts.p = p;
    ts.db = db;
    TL_ALLOC(ts.heads, ts.n * ar);
    TL_ALLOC(ts.y, ts.n);
    TL_ALLOC(ts.grad, ts.n);
    TL_ALLOC(ts.F, ts.n);
    for (size_t i = 0; i < ts.n; i++) {
        memcpy(ts.heads + i * ar, db->ex_args + idx[i] * ar, ar * sizeof *ts.heads);
        ts.y[i] = db->ex_label[idx[i]];
    }
    size_t ns = source->n_preds;
    TL_ALLOC(dst, ns);
    TL_ALLOC(perm, ns);
    for (size_t i = 0; i < ns; i++) perm_identity(&perm[i]);
    TL_CALLOC(used, db->n_preds);
    TL_CALLOC(seen, ns);
    TL_ALLOC(order, ns);
    TL_CALLOC(decided, ns);
    TL_ALLOC(stype, ns * TL_REL_MAX_ARITY + TL_REL_MAX_ARITY);
    TL_ALLOC(ttype, ns * TL_REL_MAX_ARITY + TL_REL_MAX_ARITY);
    for (size_t i = 0; i < ns; i++) dst[i] = -1;
    dst[0] = db->target;
    used[db->target] = true;
    /* the head fixes the first type correspondences (arity checked above; a source head with one
     * type on two arguments and a target head with two types fails here) */
    TL_CHECK(types_agree(source, 0, db, db->target, &perm[0], stype, ttype, &nt), TL_ERR_SHAPE,
             "the argument types of %s do not correspond to those of %s", source->preds[0].name,
             tp->name);
    /* source predicates in order of first use (trees in order, nodes in preorder = storage) */
    for (size_t t = 0; t < source->n_trees; t++)
        for (size_t k = 0; k < source->trees[t].n; k++)
            for (int l = 0; l < source->trees[t].nodes[k].nlits; l++) {
                int sp = source->trees[t].nodes[k].lits[l].pred;
                if (sp > 0 && !seen[sp]) {
                    seen[sp] = true;
                    order[n_order++] = (size_t)sp;
                }
            }
    /* the nodes in order (trees in order, nodes in preorder): the source predicates a node uses
     * that no earlier node fixed are mapped jointly, every legal assignment tried on the node */
    for (size_t t = 0; t < source->n_trees; t++)
        for (size_t k = 0; k < source->trees[t].n; k++) {
            const rel_node *nd = &source->trees[t].nodes[k];
            jointctx jc;
            memset(&jc, 0, sizeof jc);
            for (int l = 0; l < nd->nlits; l++) {
                int sp = nd->lits[l].pred;
                bool dup = false;
                for (int u = 0; u < jc.nU; u++) dup = dup || jc.U[u] == (size_t)sp;
                if (sp > 0 && !decided[sp] && !dup) jc.U[jc.nU++] = (size_t)sp;
            }
            if (jc.nU == 0) continue;
            jc.src = source;
            jc.ts = &ts;
            jc.dst = dst;
            jc.perm = perm;
            jc.used = used;
            jc.stype = stype;
            jc.ttype = ttype;
            jc.t = t;
            jc.k = (int)k;
            TL_TRY(joint_rec(&jc, 0, nt));
            for (int u = 0; u < jc.nU; u++) {
                size_t sp = jc.U[u];
                decided[sp] = true;
                dst[sp] = jc.best_dst[u];
                perm[sp] = jc.best_perm[u];
                if (dst[sp] >= 0) {
                    used[dst[sp]] = true;
                    size_t nt2 = nt;
                    types_agree(source, sp, db, dst[sp], &perm[sp], stype, ttype, &nt2);
                    nt = nt2;
                }
            }
        }
    /* the mapping's reported score: minus the weighted variance the translated trees leave after
     * parameter learning on the target training examples */
    TL_TRY(translate(source, db, dst, perm, &cand));
    TL_TRY(relearn(&ts, cand, false, &best_score));
    tl_rel_model_free(cand);
    cand = NULL;
    /* the final model */
    TL_TRY(translate(source, db, dst, perm, &best));
    double sc;
    ts.resample = true; /* the final re-learning draws negatives per tree, as learning does */
    TL_TRY(relearn(&ts, best, kind == TL_REL_REVISION, &sc));
    if (kind == TL_REL_REVISION) {
        /* TreeBoostler (revision.py, theory_revision) keeps the revised theory only when its
         * conditional log-likelihood on the training fold beats that of mapping + parameter
         * learning; otherwise the revision returns the parameter-learned theory */
        double cll_rev, cll_pl;
        TL_TRY(translate(source, db, dst, perm, &cand));
        TL_TRY(relearn(&ts, cand, false, &sc));
        TL_TRY(store_cll(best, db, &cll_rev));
        TL_TRY(store_cll(cand, db, &cll_pl));
        if (!(cll_rev > cll_pl)) {
            tl_rel_model *t = best;
            best = cand;
            cand = t;
        }
        tl_rel_model_free(cand);
        cand = NULL;
    }
    tl_free(best->kind);
    best->kind = dupstr(kind == TL_REL_REVISION ? "revision" : "mapping");
    TL_CHECK(best->kind, TL_ERR_NOMEM, "out of memory");
    TL_CALLOC(best->map_src, 1 + n_order);
    TL_CALLOC(best->map_dst, 1 + n_order);
    best->map_score = best_score;
    for (size_t o = 0; o <= n_order; o++) {
        size_t sp = o == 0 ? 0 : order[o - 1];
        best->map_src[o] = dupstr(source->preds[sp].name);
        best->map_dst[o] = dst[sp] >= 0 ? map_name(db->preds[dst[sp]].name, &perm[sp],
                                                   source->preds[sp].arity)
                                        : NULL;
        best->n_map = o + 1;
        TL_CHECK(best->map_src[o] && (dst[sp] < 0 || best->map_dst[o]), TL_ERR_NOMEM,
                 "out of memory");
    }
    if (map) {
        TL_CALLOC(map->source, best->n_map);
        TL_CALLOC(map->target, best->n_map);
        map->n = best->n_map;
        map->score = best_score;
        for (size_t o = 0; o < best->n_map; o++) {
            map->source[o] = dupstr(best->map_src[o]);
            map->target[o] = dupstr(best->map_dst[o]);
            TL_CHECK(map->source[o] && (!best->map_dst[o] || map->target[o]), TL_ERR_NOMEM,
                     "out of memory");
        }
    }
    *out = best;
    best = NULL;
done:
    if (st != TL_OK && map) tl_rel_mapping_free(map);
    tl_rel_model_free(cand);
    tl_rel_model_free(best);
    tl_free(idx);
    tl_free(order);
    tl_free(decided);
    tl_free(dst);
    tl_free(perm);
    tl_free(used);
    tl_free(seen);
    tl_free(stype);
    tl_free(ttype);
    tl_free(ts.heads);
    tl_free(ts.y);
    tl_free(ts.grad);
    tl_free(ts.F);
    return st;
}
