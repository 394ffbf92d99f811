/* Relation-based transfer of a boosted RDN (TreeBoostler: Azevedo Santos, Paes, Zaverucha:
 * "Transfer learning by mapping and revising boosted relational dependency networks", Machine
 * Learning 2020). The source model's target predicate maps to the target domain's; each other
 * predicate its trees use - in the order they first appear, root first - is tried against every
 * target predicate of the same arity whose argument types agree with the type correspondence
 * built so far (one-to-one between predicates), and against dropping it; each candidate mapping is
 * scored by translating the trees, re-learning their leaf values on the target training examples
 * (the functional gradients, tree after tree) and taking the weighted variance of the gradients
 * left in the leaves; the best is kept (greedy, as TreeBoostler's search). The translated model is
 * then either only re-parameterised ("mapping + parameter learning") or revised: each tree, on
 * the gradients left by the revised trees before it, is pruned (a split that leaves fewer than
 * min_leaf examples on a side or lowers no squared error becomes a leaf; a node whose literals
 * were all dropped gives way to its yes branch) and expanded (its leaves grown best-first by the
 * learner with the target's modes, up to max_depth and max_clauses). */
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

/* The source model translated by dst[] (source model predicate -> store predicate, -1 dropped):
 * a model in the store's vocabulary (prior and trees kept, dropped literals removed). */
static tl_status translate(const tl_rel_model *src, const tl_rel_db *db, const int *dst,
                           tl_rel_model **out) {
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
                if (newid[nd->lits[l].pred] < 0) continue;
                nd->lits[j] = nd->lits[l];
                nd->lits[j].pred = newid[nd->lits[l].pred];
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


/* whether mapping source predicate sp to store predicate q agrees with the type map (source type
 * name index in the model -> store type), extending a copy of it */
static bool types_agree(const tl_rel_model *src, size_t sp, const tl_rel_db *db, int q,
                        char **stype, int *ttype, size_t *nt) {
    const rel_mpred *a = &src->preds[sp];
    const rel_pred *b = &db->preds[q];
    if (a->arity != b->arity) return false;
    for (size_t k = 0; k < a->arity; k++) {
        size_t j = 0;
        while (j < *nt && strcmp(stype[j], a->types[k]) != 0) j++;
        if (j < *nt) {
            if (ttype[j] != b->types[k]) return false;
        } else {
            stype[*nt] = a->types[k];
            ttype[*nt] = b->types[k];
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
    int *dst = NULL;
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
    TL_CALLOC(used, db->n_preds);
    TL_CALLOC(seen, ns);
    TL_ALLOC(order, ns);
    TL_ALLOC(stype, ns * TL_REL_MAX_ARITY + TL_REL_MAX_ARITY);
    TL_ALLOC(ttype, ns * TL_REL_MAX_ARITY + TL_REL_MAX_ARITY);
    for (size_t i = 0; i < ns; i++) dst[i] = -1;
    dst[0] = db->target;
    used[db->target] = true;
    /* the head fixes the first type correspondences (arity checked above; a source head with one
     * type on two arguments and a target head with two types fails here) */
    TL_CHECK(types_agree(source, 0, db, db->target, stype, ttype, &nt), TL_ERR_SHAPE,
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
    /* score of the head-only mapping (every body predicate dropped) */
    TL_TRY(translate(source, db, dst, &cand));
    TL_TRY(relearn(&ts, cand, false, &best_score));
    tl_rel_model_free(cand);
    cand = NULL;
    for (size_t o = 0; o < n_order; o++) {
        size_t sp = order[o];
        int best_q = -1;
        double best_q_score = -INFINITY;
        for (size_t q = 0; q < db->n_preds; q++) {
            if (used[q] || (int)q == db->target) continue;
            size_t nt2 = nt;
            if (!types_agree(source, sp, db, (int)q, stype, ttype, &nt2)) continue;
            dst[sp] = (int)q;
            double sc;
            TL_TRY(translate(source, db, dst, &cand));
            TL_TRY(relearn(&ts, cand, false, &sc));
            tl_rel_model_free(cand);
            cand = NULL;
            if (sc > best_q_score + 1e-12) {
                best_q_score = sc;
                best_q = (int)q;
            }
        }
        /* dropping it wins only when strictly better than every mapping */
        if (best_q >= 0 && best_q_score >= best_score - 1e-12) {
            dst[sp] = best_q;
            used[best_q] = true;
            size_t nt2 = nt;
            types_agree(source, sp, db, best_q, stype, ttype, &nt2);
            nt = nt2;
            best_score = best_q_score;
        } else {
            dst[sp] = -1;
        }
    }
    /* the final model */
    TL_TRY(translate(source, db, dst, &best));
    double sc;
    ts.resample = true; /* the final re-learning draws negatives per tree, as learning does */
    TL_TRY(relearn(&ts, best, kind == TL_REL_REVISION, &sc));
    tl_free(best->kind);
    best->kind = dupstr(kind == TL_REL_REVISION ? "revision" : "mapping");
    TL_CHECK(best->kind, TL_ERR_NOMEM, "out of memory");
    TL_CALLOC(best->map_src, 1 + n_order);
    TL_CALLOC(best->map_dst, 1 + n_order);
    best->map_score = best_score;
    for (size_t o = 0; o <= n_order; o++) {
        size_t sp = o == 0 ? 0 : order[o - 1];
        best->map_src[o] = dupstr(source->preds[sp].name);
        best->map_dst[o] = dst[sp] >= 0 ? dupstr(db->preds[dst[sp]].name) : NULL;
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
    tl_free(dst);
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
