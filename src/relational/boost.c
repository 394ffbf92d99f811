/* RDN-Boost (Natarajan, Khot, Kersting, Gutmann, Shavlik: "Gradient-based boosting for
 * statistical relational learning: the relational dependency network case", Machine Learning
 * 2012), as BoostSRL implements it: the log-odds of the target is a prior (BoostSRL's log_prior,
 * -1.8: P = 0.14 before the first tree; its first tree's leaves read 0.858 and -0.142) plus a
 * sum of relational regression trees; tree m is fitted to the functional gradients
 * y - P(y = 1 | psi_{m-1}) of the training examples (all positives, negatives subsampled to neg_ratio per positive - drawn afresh
 * for every tree, as BoostSRL's resampleExamples does - from one seeded generator);
 * a node's test is a conjunction of up to node_size literals generated from the mode declarations
 * (a '+' argument takes a variable of its type already on the clause, a '-' argument a new one),
 * chosen to minimise the squared error of the gradients on its two sides; leaves hold the mean
 * gradient; trees grow best-first up to max_clauses leaves and max_depth. Two-literal tests
 * extend the `lookahead` best one-literal tests that introduce a variable (so that `movie(C,A),
 * movie(C,B)` is found although `movie(C,A)` alone splits nothing); a literal repeating a
 * predicate of the clause must be groundable otherwise on some positive (differently_bound,
 * BoostSRL's rule). Coverage is the prover's indexed join (db.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "internal/parallel.h"
#include "rel_internal.h"

tl_rel_params tl_rel_params_default(void) {
    tl_rel_params p;
    memset(&p, 0, sizeof p);
    p.n_trees = 10;
    p.max_depth = 3;
    p.node_size = 2;
    p.max_clauses = 8;
    p.min_leaf = 2;
    p.lookahead = 10;
    p.neg_ratio = 2.0;
    p.seed = 42;
    p.threads = 1;
    return p;
}

tl_status tl_rel_params_check(const tl_rel_params *p) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "NULL relational parameters");
    if (p->n_trees < 1 || p->n_trees > 1000)
        return tl_fail(TL_ERR_INVALID_ARG, "trees = %zu is outside 1..1000", p->n_trees);
    if (p->max_depth < 1 || p->max_depth > 5)
        return tl_fail(TL_ERR_INVALID_ARG, "max-depth = %zu is outside 1..5", p->max_depth);
    if (p->node_size < 1 || p->node_size > 2)
        return tl_fail(TL_ERR_INVALID_ARG, "node-size = %zu is outside 1..2", p->node_size);
    if (p->max_clauses < 2 || p->max_clauses > 64)
        return tl_fail(TL_ERR_INVALID_ARG, "max-clauses = %zu is outside 2..64", p->max_clauses);
    if (p->min_leaf < 1)
        return tl_fail(TL_ERR_INVALID_ARG, "min-leaf = %zu must be at least 1", p->min_leaf);
    if (p->lookahead > 1000)
        return tl_fail(TL_ERR_INVALID_ARG, "lookahead = %zu is above 1000", p->lookahead);
    if (p->threads > 4096)
        return tl_fail(TL_ERR_INVALID_ARG, "threads = %zu is above 4096", p->threads);
    if (!(p->neg_ratio >= 0) || p->neg_ratio > 1e6)
        return tl_fail(TL_ERR_INVALID_ARG, "neg-ratio = %g is outside 0..1e6 (0: all)",
                       p->neg_ratio);
    return TL_OK;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

tl_status rel_sample(const tl_rel_params *p, const tl_rel_db *db, tl_rng *rng, size_t **idx,
                     size_t *n) {
    tl_status st = TL_OK;
    size_t *out = NULL, *neg = NULL, npos = 0, nneg = 0, k = 0;
    for (size_t i = 0; i < db->n_ex; i++) {
        if (db->ex_label[i]) npos++;
        else nneg++;
    }
    TL_CHECK(npos > 0, TL_ERR_EMPTY, "no positive example of %s to learn from",
             db->preds[db->target].name);
    size_t keep = nneg;
    if (p->neg_ratio > 0 && (double)npos * p->neg_ratio < (double)nneg)
        keep = (size_t)ceil((double)npos * p->neg_ratio);
    TL_ALLOC(out, npos + keep);
    TL_ALLOC(neg, nneg ? nneg : 1);
    size_t j = 0;
    for (size_t i = 0; i < db->n_ex; i++) {
        if (db->ex_label[i]) out[k++] = i;
        else neg[j++] = i;
    }
    if (keep < nneg) {
        /* a partial Fisher-Yates draw of `keep` negatives, then back in the store's order */
        for (size_t i = 0; i < keep; i++) {
            size_t r = i + tl_rng_below(rng, nneg - i), tmp = neg[i];
            neg[i] = neg[r];
            neg[r] = tmp;
        }
        qsort(neg, keep, sizeof *neg, cmp_size);
    }
    for (size_t i = 0; i < keep; i++) out[k++] = neg[i];
    *idx = out;
    *n = k;
    out = NULL;
done:
    tl_free(out);
    tl_free(neg);
    return st;
}

/* ---------------------------------------------------------------- growing a tree */

typedef struct {
    int node, depth, npath;
    rel_lit path[REL_MAX_LITS];
    size_t *ex, nex;
    bool has;
    double gain;
    int nlits;
    rel_lit lits[REL_NODE_LITS];
} leafw;

typedef struct {
    rel_fit *f;
    int nvars;
    int vtype[REL_MAX_VARS];
} growctx;

static double sse(double n, double s, double ss) { return n > 0 ? ss - s * s / n : 0.0; }

/* the clause of leaf L extended by lits: all (L->npath + nlits literals) and every variable unbound */
static void leaf_clause(const leafw *L, const rel_lit *lits, int nlits, rel_lit *all,
                        uint32_t *vars) {
    memcpy(all, L->path, (size_t)L->npath * sizeof *all);
    memcpy(all + L->npath, lits, (size_t)nlits * sizeof *all);
    for (size_t v = 0; v < REL_MAX_VARS; v++) vars[v] = REL_UNBOUND;
}

/* the split of leaf L by lits: gain in squared error, sides' counts; covered[i] (optional) */
static void eval_split(const growctx *g, const leafw *L, const rel_lit *lits, int nlits,
                       double *gain, size_t *nyes, size_t *nno, unsigned char *covered) {
    const rel_fit *f = g->f;
    size_t ar = f->db->preds[f->db->target].arity;
    rel_lit all[REL_MAX_LITS + REL_NODE_LITS];
    uint32_t vars[REL_MAX_VARS];
    leaf_clause(L, lits, nlits, all, vars);
    double n1 = 0, s1 = 0, q1 = 0, n0 = 0, s0 = 0, q0 = 0;
    for (size_t k = 0; k < L->nex; k++) {
        size_t i = L->ex[k];
        for (size_t a = 0; a < ar; a++) vars[a] = f->heads[i * ar + a];
        bool c = rel_prove(f->db, f->bind, all, L->npath + nlits, vars);
        double gi = f->grad[i];
        if (c) {
            n1++;
            s1 += gi;
            q1 += gi * gi;
        } else {
            n0++;
            s0 += gi;
            q0 += gi * gi;
        }
        if (covered) covered[k] = c;
    }
    *gain = sse(n0 + n1, s0 + s1, q0 + q1) - sse(n1, s1, q1) - sse(n0, s0, q0);
    *nyes = (size_t)n1;
    *nno = (size_t)n0;
}

/* BoostSRL's rule for a literal whose predicate is already on the clause (WILL's
 * ChildrenClausesGenerator, "differentlyBoundOutputVars": it "prevents creating clauses like
 * p(x) :- q(x,y), q(x,z) unless the two q's can be differently instantiated for some POS seeds"):
 * each literal of the test that repeats a predicate of the path or of the test's earlier literal
 * must, on some positive example at the leaf, have a proof of the clause up to it in which it is
 * grounded otherwise than every earlier literal of its predicate. WILL asks it of a sample of 10
 * positive seeds, libtl of every positive at the leaf (no draw, so no seed to carry). On Cora it
 * is what keeps `venue(C,A), venue(C,B)` out of samevenue's trees: that test holds only for the
 * reflexive positives samevenue(v,v), where both literals are the same fact. */
static bool differently_bound(const growctx *g, const leafw *L, const rel_lit *lits, int nlits) {
    const rel_fit *f = g->f;
    size_t ar = f->db->preds[f->db->target].arity;
    rel_lit all[REL_MAX_LITS + REL_NODE_LITS];
    uint32_t vars[REL_MAX_VARS];
    leaf_clause(L, lits, nlits, all, vars);
    for (int k = L->npath; k < L->npath + nlits; k++) {
        rel_distinct dc;
        dc.n = 0;
        for (int j = 0; j < k; j++)
            if (all[j].pred == all[k].pred && f->bind[all[j].pred] >= 0) {
                dc.pairs[dc.n][0] = k;
                dc.pairs[dc.n][1] = j;
                dc.n++;
            }
        if (dc.n == 0 || f->bind[all[k].pred] < 0) continue;
        bool found = false;
        for (size_t e = 0; e < L->nex && !found; e++) {
            size_t i = L->ex[e];
            if (!f->y[i]) continue;
            for (size_t a = 0; a < ar; a++) vars[a] = f->heads[i * ar + a];
            found = rel_prove_distinct(f->db, f->bind, all, k + 1, vars, &dc);
        }
        if (!found) return false;
    }
    return true;
}

/* variables available on a leaf's clause: the head's and those of its path */
static int avail_vars(const growctx *g, const leafw *L, int *out) {
    size_t ar = g->f->db->preds[g->f->db->target].arity;
    bool seen[REL_MAX_VARS] = {false};
    int n = 0;
    for (size_t a = 0; a < ar; a++) seen[a] = true;
    for (int l = 0; l < L->npath; l++) {
        size_t par = g->f->m->preds[L->path[l].pred].arity;
        for (size_t a = 0; a < par; a++) seen[L->path[l].args[a]] = true;
    }
    for (int v = 0; v < REL_MAX_VARS; v++)
        if (seen[v]) out[n++] = v;
    return n;
}

/* Candidate literals over the available variables (new variables numbered from first_new).
 * Appends to *c (growing), skipping duplicates and literals already on `path`. */
typedef struct {
    rel_lit *v;
    size_t n, cap;
} litvec;

static tl_status litvec_push(litvec *c, const rel_lit *l) {
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(&c->v[i], l, sizeof *l) == 0) return TL_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        rel_lit *nv = tl_realloc(c->v, cap * sizeof *nv);
        if (!nv) return tl_fail(TL_ERR_NOMEM, "out of memory listing candidate literals");
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = *l;
    return TL_OK;
}

static tl_status gen_rec(const growctx *g, const rel_mode *md, size_t a, rel_lit *lit,
                         const int *avail, int navail, int first_new, int nnew,
                         const int *vtype_extra, litvec *out) {
    const tl_rel_db *db = g->f->db;
    const rel_pred *pr = &db->preds[md->pred];
    if (a == pr->arity) return litvec_push(out, lit);
    int t = pr->types[a];
    if (md->mode[a] == '-') {
        if (first_new + nnew >= REL_MAX_VARS) return TL_OK;
        lit->args[a] = (uint8_t)(first_new + nnew);
        return gen_rec(g, md, a + 1, lit, avail, navail, first_new, nnew + 1, vtype_extra, out);
    }
    if (md->mode[a] != '+') return TL_OK; /* '#' constants: not generated */
    for (int k = 0; k < navail; k++) {
        int v = avail[k];
        int vt = vtype_extra && vtype_extra[v] >= 0 ? vtype_extra[v] : g->vtype[v];
        if (vt != t) continue;
        lit->args[a] = (uint8_t)v;
        tl_status st = gen_rec(g, md, a + 1, lit, avail, navail, first_new, nnew, vtype_extra, out);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

static tl_status gen_lits(const growctx *g, const int *avail, int navail, int first_new,
                          const int *vtype_extra, const leafw *L, litvec *out) {
    tl_status st = TL_OK;
    const tl_rel_db *db = g->f->db;
    size_t before = out->n;
    for (size_t k = 0; k < db->n_modes; k++) {
        const rel_mode *md = &db->modes[k];
        if (md->pred == db->target) continue; /* no recursion on the target */
        rel_lit lit;
        memset(&lit, 0, sizeof lit);
        lit.pred = g->f->store2model[md->pred];
        TL_TRY(gen_rec(g, md, 0, &lit, avail, navail, first_new, 0, vtype_extra, out));
    }
    /* drop literals already on the path */
    size_t j = before;
    for (size_t i = before; i < out->n; i++) {
        bool dup = false;
        for (int l = 0; l < L->npath && !dup; l++) dup = memcmp(&L->path[l], &out->v[i], sizeof out->v[i]) == 0;
        if (!dup) out->v[j++] = out->v[i];
    }
    out->n = j;
done:
    return st;
}

static int lit_max_var(const rel_fit *f, const rel_lit *l) {
    int mx = -1;
    for (size_t a = 0; a < f->m->preds[l->pred].arity; a++)
        if (l->args[a] > mx) mx = l->args[a];
    return mx;
}

typedef struct {
    size_t i;
    double gain;
} ranked;

static int cmp_ranked(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->gain != y->gain) return x->gain > y->gain ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Candidate tests of one leaf scored on its examples, one task per test (the tests are
 * independent and the prover only reads the store), so the threads change the time, never the
 * result: the best is then picked in candidate order on the caller's thread. */
typedef struct {
    const growctx *g;
    const leafw *L;
    const rel_lit *lits; /* (n, per) */
    int per;
    double *gain;
    size_t *ny, *nn;
} eval_batch;

static tl_status eval_task(void *ctx, size_t task, size_t thread) {
    (void)thread;
    const eval_batch *b = ctx;
    eval_split(b->g, b->L, b->lits + task * (size_t)b->per, b->per, &b->gain[task], &b->ny[task],
               &b->nn[task], NULL);
    return TL_OK;
}

static tl_status eval_all(const growctx *g, const leafw *L, const rel_lit *lits, size_t n, int per,
                          double *gain, size_t *ny, size_t *nn) {
    eval_batch b = {g, L, lits, per, gain, ny, nn};
    size_t threads = g->f->p->threads ? g->f->p->threads : 1;
    return tl_parallel_tasks(n, threads, eval_task, &b);
}

/* the best split of leaf L (L->has false when no split helps) */
static tl_status best_split(growctx *g, leafw *L) {
    tl_status st = TL_OK;
    const tl_rel_params *p = g->f->p;
    litvec c1 = {0}, c2 = {0}, pairs = {0};
    ranked *rk = NULL, *ra = NULL;
    size_t *ext = NULL, *ny = NULL, *nn = NULL;
    signed char *adm = NULL;
    double *gain = NULL;
    int avail[REL_MAX_VARS], navail = avail_vars(g, L, avail);
    L->has = false;
    L->gain = 0;
    if (L->nex < 2 * p->min_leaf) goto done;
    TL_TRY(gen_lits(g, avail, navail, g->nvars, NULL, L, &c1));
    TL_ALLOC(rk, c1.n ? c1.n : 1);
    TL_ALLOC(ra, c1.n ? c1.n : 1);
    TL_ALLOC(ext, 2 * c1.n + 1);
    TL_ALLOC(gain, c1.n ? c1.n : 1);
    TL_ALLOC(ny, c1.n ? c1.n : 1);
    TL_ALLOC(nn, c1.n ? c1.n : 1);
    TL_TRY(eval_all(g, L, c1.v, c1.n, 1, gain, ny, nn));
    size_t nr = 0, na = 0, ne = 0;
    /* admissibility (differently_bound) of each one-literal test, asked only where it matters -
     * for a test that would be the best so far and down the lookahead rankings - and kept */
    TL_ALLOC(adm, c1.n ? c1.n : 1);
    memset(adm, -1, c1.n ? c1.n : 1);
#define ADMISSIBLE(i)                                                                              \
    (adm[i] < 0 ? (adm[i] = (signed char)differently_bound(g, L, &c1.v[i], 1)) : adm[i])
    for (size_t i = 0; i < c1.n; i++) {
        bool valid = ny[i] >= p->min_leaf && nn[i] >= p->min_leaf;
        if (valid && gain[i] > L->gain + 1e-12 && ADMISSIBLE(i)) {
            L->has = true;
            L->gain = gain[i];
            L->nlits = 1;
            L->lits[0] = c1.v[i];
        }
        /* a literal that introduces a variable may split nothing alone and much with a second
         * one on that variable; one that keeps enough examples may be narrowed by a second */
        if (lit_max_var(g->f, &c1.v[i]) >= g->nvars && ny[i] > 0) {
            rk[nr].i = i;
            rk[nr].gain = valid ? gain[i] : -1e300 + (double)ny[i];
            nr++;
        }
        if (ny[i] >= p->min_leaf) {
            ra[na].i = i;
            ra[na].gain = gain[i];
            na++;
        }
    }
    if (p->node_size >= 2 && p->lookahead > 0) {
        qsort(rk, nr, sizeof *rk, cmp_ranked);
        qsort(ra, na, sizeof *ra, cmp_ranked);
        /* the first `lookahead` admissible tests of each ranking */
        for (size_t r = 0, taken = 0; r < nr && taken < p->lookahead; r++)
            if (ADMISSIBLE(rk[r].i)) {
                ext[ne++] = rk[r].i;
                taken++;
            }
        for (size_t r = 0, taken = 0; r < na && taken < p->lookahead; r++) {
            if (!ADMISSIBLE(ra[r].i)) continue;
            taken++;
            bool in = false;
            for (size_t k = 0; k < ne && !in; k++) in = ext[k] == ra[r].i;
            if (!in) ext[ne++] = ra[r].i;
        }
#undef ADMISSIBLE
    }
    /* the two-literal tests: each extended literal with every literal over the variables it
     * adds to the clause's (stored flat, two literals a test) */
    for (size_t r = 0; r < ne; r++) {
        const rel_lit *first = &c1.v[ext[r]];
        int av2[REL_MAX_VARS], n2 = 0, vt2[REL_MAX_VARS];
        for (int k = 0; k < REL_MAX_VARS; k++) vt2[k] = -1;
        for (int k = 0; k < navail; k++) av2[n2++] = avail[k];
        int nv = g->nvars;
        const rel_pred *pr = &g->f->db->preds[g->f->bind[first->pred]];
        for (size_t a = 0; a < pr->arity; a++) {
            int v = first->args[a];
            if (v >= g->nvars) {
                bool in = false;
                for (int k = 0; k < n2; k++) in = in || av2[k] == v;
                if (!in) av2[n2++] = v;
                vt2[v] = pr->types[a];
                if (v + 1 > nv) nv = v + 1;
            }
        }
        c2.n = 0;
        leafw L2 = *L;
        if (L2.npath < REL_MAX_LITS) L2.path[L2.npath++] = *first;
        TL_TRY(gen_lits(g, av2, n2, nv, vt2, &L2, &c2));
        for (size_t j = 0; j < c2.n; j++) {
            /* appended raw: litvec_push would drop a repeated literal, and pairs repeat firsts */
            if (pairs.n + 2 > pairs.cap) {
                size_t cap = pairs.cap ? pairs.cap * 2 : 256;
                rel_lit *nv2 = tl_realloc(pairs.v, cap * sizeof *nv2);
                TL_CHECK(nv2, TL_ERR_NOMEM, "out of memory listing two-literal tests");
                pairs.v = nv2;
                pairs.cap = cap;
            }
            pairs.v[pairs.n++] = *first;
            pairs.v[pairs.n++] = c2.v[j];
        }
    }
    if (pairs.n) {
        size_t np = pairs.n / 2;
        tl_free(gain);
        tl_free(ny);
        tl_free(nn);
        gain = NULL;
        ny = nn = NULL;
        TL_ALLOC(gain, np);
        TL_ALLOC(ny, np);
        TL_ALLOC(nn, np);
        TL_TRY(eval_all(g, L, pairs.v, np, 2, gain, ny, nn));
        for (size_t j = 0; j < np; j++)
            if (ny[j] >= p->min_leaf && nn[j] >= p->min_leaf && gain[j] > L->gain + 1e-12 &&
                differently_bound(g, L, &pairs.v[2 * j], 2)) {
                L->has = true;
                L->gain = gain[j];
                L->nlits = 2;
                L->lits[0] = pairs.v[2 * j];
                L->lits[1] = pairs.v[2 * j + 1];
            }
    }
done:
    tl_free(c1.v);
    tl_free(c2.v);
    tl_free(pairs.v);
    tl_free(rk);
    tl_free(ra);
    tl_free(ext);
    tl_free(adm);
    tl_free(gain);
    tl_free(ny);
    tl_free(nn);
    return st;
}

static void note_vars(growctx *g, const rel_lit *l) {
    const rel_pred *pr = &g->f->db->preds[g->f->bind[l->pred]];
    for (size_t a = 0; a < pr->arity; a++) {
        int v = l->args[a];
        if (v >= g->nvars) g->nvars = v + 1;
        if (g->vtype[v] < 0) g->vtype[v] = pr->types[a];
    }
}

/* the leaves of t with their paths and depths, in preorder */
typedef struct {
    leafw *v;
    size_t n, cap;
} leafvec;

static tl_status leafvec_push(leafvec *lv, const leafw *L) {
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 16;
        leafw *nv = tl_realloc(lv->v, cap * sizeof *nv);
        if (!nv) return tl_fail(TL_ERR_NOMEM, "out of memory growing a tree");
        lv->v = nv;
        lv->cap = cap;
    }
    lv->v[lv->n++] = *L;
    return TL_OK;
}

static tl_status collect_leaves(const rel_tree *t, int k, int depth, const rel_lit *path, int np,
                                leafvec *lv) {
    const rel_node *nd = &t->nodes[k];
    if (nd->yes < 0) {
        leafw L;
        memset(&L, 0, sizeof L);
        L.node = k;
        L.depth = depth;
        L.npath = np;
        if (np) memcpy(L.path, path, (size_t)np * sizeof *path);
        return leafvec_push(lv, &L);
    }
    rel_lit p2[REL_MAX_LITS];
    if (np) memcpy(p2, path, (size_t)np * sizeof *path);
    int n2 = np;
    for (int l = 0; l < nd->nlits && n2 < REL_MAX_LITS; l++) p2[n2++] = nd->lits[l];
    tl_status st = collect_leaves(t, nd->yes, depth + 1, p2, n2, lv);
    if (st != TL_OK) return st;
    return collect_leaves(t, nd->no, depth + 1, path, np, lv);
}

/* examples of fit f routed to the leaves of lv (each leaf's ex list allocated) */
static tl_status route_to_leaves(rel_fit *f, const rel_tree *t, leafvec *lv) {
    tl_status st = TL_OK;
    size_t ar = f->db->preds[f->db->target].arity;
    int *leaf_of = NULL, *slot = NULL;
    TL_ALLOC(leaf_of, f->n ? f->n : 1);
    TL_ALLOC(slot, t->n ? t->n : 1);
    for (size_t k = 0; k < t->n; k++) slot[k] = -1;
    for (size_t j = 0; j < lv->n; j++) slot[lv->v[j].node] = (int)j;
    for (size_t j = 0; j < lv->n; j++) lv->v[j].nex = 0;
    for (size_t i = 0; i < f->n; i++) {
        int k = rel_tree_leaf(f->db, f->bind, t, f->heads + i * ar, ar);
        leaf_of[i] = slot[k];
        lv->v[slot[k]].nex++;
    }
    for (size_t j = 0; j < lv->n; j++) {
        TL_ALLOC(lv->v[j].ex, lv->v[j].nex ? lv->v[j].nex : 1);
        lv->v[j].nex = 0;
    }
    for (size_t i = 0; i < f->n; i++) {
        leafw *L = &lv->v[leaf_of[i]];
        L->ex[L->nex++] = i;
    }
done:
    tl_free(leaf_of);
    tl_free(slot);
    return st;
}

static void free_leaves(leafvec *lv) {
    for (size_t j = 0; j < lv->n; j++) tl_free(lv->v[j].ex);
    tl_free(lv->v);
    memset(lv, 0, sizeof *lv);
}

static void set_leaf_values(const rel_fit *f, rel_tree *t, const leafvec *lv) {
    for (size_t j = 0; j < lv->n; j++) {
        double s = 0;
        for (size_t k = 0; k < lv->v[j].nex; k++) s += f->grad[lv->v[j].ex[k]];
        t->nodes[lv->v[j].node].value = lv->v[j].nex ? s / (double)lv->v[j].nex : 0.0;
    }
}

tl_status rel_grow_tree(rel_fit *f, rel_tree *t) {
    tl_status st = TL_OK;
    leafvec lv = {0};
    unsigned char *cov = NULL;
    size_t *ey = NULL, *en = NULL;
    growctx g;
    memset(&g, 0, sizeof g);
    g.f = f;
    size_t ar = f->db->preds[f->db->target].arity;
    for (int v = 0; v < REL_MAX_VARS; v++) g.vtype[v] = -1;
    for (size_t a = 0; a < ar; a++) g.vtype[a] = f->db->preds[f->db->target].types[a];
    g.nvars = (int)ar;
    if (!t->n) {
        int id;
        TL_TRY(rel_tree_add_node(t, &id));
    }
    for (size_t k = 0; k < t->n; k++)
        for (int l = 0; l < t->nodes[k].nlits; l++) note_vars(&g, &t->nodes[k].lits[l]);
    TL_TRY(collect_leaves(t, 0, 0, NULL, 0, &lv));
    TL_TRY(route_to_leaves(f, t, &lv));
    for (size_t j = 0; j < lv.n; j++)
        if ((size_t)lv.v[j].depth < f->p->max_depth) TL_TRY(best_split(&g, &lv.v[j]));
    while (lv.n < f->p->max_clauses) {
        size_t bj = SIZE_MAX;
        for (size_t j = 0; j < lv.n; j++)
            if (lv.v[j].has && (bj == SIZE_MAX || lv.v[j].gain > lv.v[bj].gain)) bj = j;
        if (bj == SIZE_MAX) break;
        leafw L = lv.v[bj];
        TL_ALLOC(cov, L.nex);
        double gain;
        size_t ny, nn;
        eval_split(&g, &L, L.lits, L.nlits, &gain, &ny, &nn, cov);
        TL_ALLOC(ey, ny ? ny : 1);
        TL_ALLOC(en, nn ? nn : 1);
        size_t a1 = 0, a0 = 0;
        for (size_t k = 0; k < L.nex; k++) {
            if (cov[k]) ey[a1++] = L.ex[k];
            else en[a0++] = L.ex[k];
        }
        int yes, no;
        TL_TRY(rel_tree_add_node(t, &yes));
        TL_TRY(rel_tree_add_node(t, &no));
        rel_node *nd = &t->nodes[L.node];
        nd->yes = yes;
        nd->no = no;
        nd->nlits = L.nlits;
        memcpy(nd->lits, L.lits, (size_t)L.nlits * sizeof *L.lits);
        for (int l = 0; l < L.nlits; l++) note_vars(&g, &L.lits[l]);
        leafw Y = L, N = L;
        Y.node = yes;
        N.node = no;
        Y.depth = N.depth = L.depth + 1;
        for (int l = 0; l < L.nlits && Y.npath < REL_MAX_LITS; l++) Y.path[Y.npath++] = L.lits[l];
        Y.ex = ey;
        Y.nex = ny;
        N.ex = en;
        N.nex = nn;
        Y.has = N.has = false;
        ey = en = NULL;
        tl_free(lv.v[bj].ex);
        lv.v[bj] = Y;
        if ((st = leafvec_push(&lv, &N)) != TL_OK) {
            tl_free(N.ex);
            goto done;
        }
        tl_free(cov);
        cov = NULL;
        if ((size_t)Y.depth < f->p->max_depth) {
            TL_TRY(best_split(&g, &lv.v[bj]));
            TL_TRY(best_split(&g, &lv.v[lv.n - 1]));
        }
    }
    set_leaf_values(f, t, &lv);
done:
    free_leaves(&lv);
    tl_free(cov);
    tl_free(ey);
    tl_free(en);
    return st;
}

tl_status rel_refit_leaves(rel_fit *f, rel_tree *t) {
    tl_status st = TL_OK;
    leafvec lv = {0};
    TL_TRY(collect_leaves(t, 0, 0, NULL, 0, &lv));
    TL_TRY(route_to_leaves(f, t, &lv));
    set_leaf_values(f, t, &lv);
done:
    free_leaves(&lv);
    return st;
}

/* ---------------------------------------------------------------- pruning (revision) */

/* preorder copy of the subtree at k of src into dst, splicing out literal-less nodes */
static tl_status copy_splice(const rel_tree *src, int k, rel_tree *dst, int *out) {
    const rel_node *nd = &src->nodes[k];
    while (nd->yes >= 0 && nd->nlits == 0) {
        k = nd->yes;
        nd = &src->nodes[k];
    }
    int id;
    tl_status st = rel_tree_add_node(dst, &id);
    if (st != TL_OK) return st;
    dst->nodes[id] = *nd;
    if (nd->yes >= 0) {
        int y, n;
        if ((st = copy_splice(src, nd->yes, dst, &y)) != TL_OK) return st;
        if ((st = copy_splice(src, nd->no, dst, &n)) != TL_OK) return st;
        dst->nodes[id].yes = y;
        dst->nodes[id].no = n;
    }
    *out = id;
    return TL_OK;
}

/* per-node example statistics of a tree: count, sum and sum of squares of the gradients */
static void node_stats(rel_fit *f, const rel_tree *t, double *cnt, double *sum, double *sq) {
    size_t ar = f->db->preds[f->db->target].arity;
    for (size_t k = 0; k < t->n; k++) cnt[k] = sum[k] = sq[k] = 0;
    uint32_t vars[REL_MAX_VARS];
    rel_lit path[REL_MAX_LITS];
    for (size_t i = 0; i < f->n; i++) {
        for (size_t v = 0; v < REL_MAX_VARS; v++) vars[v] = REL_UNBOUND;
        for (size_t a = 0; a < ar; a++) vars[a] = f->heads[i * ar + a];
        int k = 0, np = 0;
        double gi = f->grad[i];
        for (;;) {
            cnt[k]++;
            sum[k] += gi;
            sq[k] += gi * gi;
            const rel_node *nd = &t->nodes[k];
            if (nd->yes < 0) break;
            int n = np;
            for (int l = 0; l < nd->nlits && n < REL_MAX_LITS; l++) path[n++] = nd->lits[l];
            if (rel_prove(f->db, f->bind, path, n, vars)) {
                np = n;
                k = nd->yes;
            } else {
                k = nd->no;
            }
        }
    }
}

/* the variance (per example) of the gradients reaching node k; NAN when none does */
static double node_var(const double *cnt, const double *sum, const double *sq, int k) {
    if (cnt[k] <= 0) return NAN;
    double m = sum[k] / cnt[k], v = sq[k] / cnt[k] - m * m;
    return v > 0 ? v : 0;
}

/* TreeBoostler's generalisation (revision.py, generalize_tree), bottom-up: a split that no
 * example passes on one side gives way to its other child; a split whose two children are leaves
 * whose gradients both vary by REL_MIN_VAR or more (neither is a "good" leaf by BoostSRL's
 * maxScoreToStop) becomes a leaf, to be grown again. */
static void prune_rec(const rel_fit *f, rel_tree *t, int k, const double *cnt, const double *sum,
                      const double *sq) {
    rel_node *nd = &t->nodes[k];
    if (nd->yes < 0) return;
    prune_rec(f, t, nd->yes, cnt, sum, sq);
    prune_rec(f, t, nd->no, cnt, sum, sq);
    nd = &t->nodes[k];
    double vy = node_var(cnt, sum, sq, nd->yes), vn = node_var(cnt, sum, sq, nd->no);
    if (isnan(vy) || isnan(vn)) {
        /* the child keeps its own subtree (indices stay valid until the splice) */
        *nd = t->nodes[isnan(vy) ? nd->no : nd->yes];
        return;
    }
    const rel_node *y = &t->nodes[nd->yes], *n = &t->nodes[nd->no];
    if (y->yes >= 0 || n->yes >= 0) return;
    if (vy >= REL_MIN_VAR && vn >= REL_MIN_VAR) {
        nd->yes = nd->no = -1;
        nd->nlits = 0;
    }
}

tl_status rel_prune_tree(rel_fit *f, rel_tree *t) {
    tl_status st = TL_OK;
    rel_tree a = {0}, b = {0};
    double *cnt = NULL, *sum = NULL, *sq = NULL;
    int root;
    if (!t->n) return TL_OK;
    TL_TRY(copy_splice(t, 0, &a, &root));
    TL_ALLOC(cnt, a.n);
    TL_ALLOC(sum, a.n);
    TL_ALLOC(sq, a.n);
    node_stats(f, &a, cnt, sum, sq);
    prune_rec(f, &a, 0, cnt, sum, sq);
    TL_TRY(copy_splice(&a, 0, &b, &root));
    rel_tree_free(t);
    *t = b;
    memset(&b, 0, sizeof b);
done:
    rel_tree_free(&a);
    rel_tree_free(&b);
    tl_free(cnt);
    tl_free(sum);
    tl_free(sq);
    return st;
}

/* ---------------------------------------------------------------- boosting */

tl_status tl_rel_learn(const tl_rel_params *p, const tl_rel_db *db, tl_rel_model **out) {
    tl_status st = TL_OK;
    tl_rel_model *m = NULL;
    size_t *idx = NULL, n = 0;
    uint32_t *heads = NULL;
    int *y = NULL, *bind = NULL, *s2m = NULL;
    double *grad = NULL;
    tl_rng rng;
    TL_CHECK(p && db && out, TL_ERR_INVALID_ARG, "tl_rel_learn: NULL argument");
    *out = NULL;
    TL_TRY(tl_rel_params_check(p));
    TL_CHECK(db->indexed, TL_ERR_STATE, "tl_rel_learn: the store is not indexed");
    tl_rng_seed(&rng, p->seed);
    TL_TRY(rel_sample(p, db, &rng, &idx, &n)); /* sizes the buffers: every draw has n examples */
    size_t ar = db->preds[db->target].arity;
    TL_ALLOC(heads, n * ar);
    TL_ALLOC(y, n);
    TL_ALLOC(grad, n);
    TL_TRY(rel_model_new(&m));
    m->prior = REL_LOG_PRIOR;
    {
        char *types[TL_REL_MAX_ARITY];
        for (size_t a = 0; a < ar; a++) types[a] = db->types.names[db->preds[db->target].types[a]];
        TL_CHECK(rel_model_add_pred(m, db->preds[db->target].name, ar, types) == 0, TL_ERR_NOMEM,
                 "out of memory creating a model");
    }
    TL_TRY(rel_model_cover_store(m, db, &bind, &s2m));
    TL_CALLOC(m->trees, p->n_trees);
    rel_fit f = {p, db, m, bind, s2m, n, heads, y, grad};
    for (size_t t = 0; t < p->n_trees; t++) {
        if (t > 0) {
            /* BoostSRL resamples the negatives for every tree (resampleExamples) */
            tl_free(idx);
            idx = NULL;
            TL_TRY(rel_sample(p, db, &rng, &idx, &n));
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(heads + i * ar, db->ex_args + idx[i] * ar, ar * sizeof *heads);
            y[i] = db->ex_label[idx[i]];
            double F = m->prior;
            for (size_t u = 0; u < t; u++) F += rel_tree_value(db, bind, &m->trees[u], heads + i * ar, ar);
            grad[i] = (double)y[i] - rel_sigmoid(F);
        }
        m->n_trees = t + 1; /* counted before growing: a failure midway frees it too */
        TL_TRY(rel_grow_tree(&f, &m->trees[t]));
    }
    TL_TRY(rel_model_compact(m));
    *out = m;
    m = NULL;
done:
    tl_rel_model_free(m);
    tl_free(idx);
    tl_free(heads);
    tl_free(y);
    tl_free(bind);
    tl_free(s2m);
    tl_free(grad);
    return st;
}
