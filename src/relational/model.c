/* The boosted RDN model: a predicate table (names, arities, argument types; entry 0 is the target
 * predicate) and regression trees whose internal nodes hold a conjunction of literals over
 * numbered variables (the head's arguments are variables 0..arity-1). An example goes down the
 * yes branch of a node when the literals on the path of yes branches above it, with the node's
 * own, have a substitution (TILDE's semantics: a no branch carries the parent's clause, not the
 * node's); its value is the leaf's, and the model's log-odds the prior plus the sum over trees.
 * Names, not store ids, make a model portable across stores and a mapping a renaming.
 * Also here: the readable rules, and the text file (saved through tl_wfile). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "internal/file.h"
#include "rel_internal.h"

double rel_sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static char *dupstr(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *c = tl_malloc(n + 1);
    if (c) memcpy(c, s, n + 1);
    return c;
}

tl_status rel_model_new(tl_rel_model **out) {
    tl_status st = TL_OK;
    tl_rel_model *m = NULL;
    TL_CALLOC(m, 1);
    m->kind = dupstr("learned");
    TL_CHECK(m->kind, TL_ERR_NOMEM, "out of memory creating a model");
    *out = m;
    m = NULL;
done:
    tl_rel_model_free(m);
    return st;
}

int rel_model_add_pred(tl_rel_model *m, const char *name, size_t arity, char *const *types) {
    for (size_t i = 0; i < m->n_preds; i++)
        if (strcmp(m->preds[i].name, name) == 0) return (int)i;
    rel_mpred *np = tl_realloc(m->preds, (m->n_preds + 1) * sizeof *np);
    if (!np) return -1;
    m->preds = np;
    rel_mpred *p = &m->preds[m->n_preds];
    memset(p, 0, sizeof *p);
    p->name = dupstr(name);
    p->arity = arity;
    bool ok = p->name != NULL;
    for (size_t a = 0; a < arity; a++) {
        p->types[a] = dupstr(types[a]);
        ok = ok && p->types[a];
    }
    if (!ok) {
        tl_free(p->name);
        for (size_t a = 0; a < arity; a++) tl_free(p->types[a]);
        return -1;
    }
    return (int)m->n_preds++;
}

void rel_tree_free(rel_tree *t) {
    tl_free(t->nodes);
    memset(t, 0, sizeof *t);
}

tl_status rel_tree_add_node(rel_tree *t, int *id) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        rel_node *nn = tl_realloc(t->nodes, cap * sizeof *nn);
        if (!nn) return tl_fail(TL_ERR_NOMEM, "out of memory growing a tree");
        t->nodes = nn;
        t->cap = cap;
    }
    memset(&t->nodes[t->n], 0, sizeof t->nodes[t->n]);
    t->nodes[t->n].yes = t->nodes[t->n].no = -1;
    *id = (int)t->n++;
    return TL_OK;
}

tl_status rel_tree_copy(const rel_tree *src, rel_tree *dst) {
    memset(dst, 0, sizeof *dst);
    if (!src->n) return TL_OK;
    dst->nodes = tl_malloc(src->n * sizeof *dst->nodes);
    if (!dst->nodes) return tl_fail(TL_ERR_NOMEM, "out of memory copying a tree");
    memcpy(dst->nodes, src->nodes, src->n * sizeof *dst->nodes);
    dst->n = dst->cap = src->n;
    return TL_OK;
}

void tl_rel_model_free(tl_rel_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_preds; i++) {
        tl_free(m->preds[i].name);
        for (size_t a = 0; a < m->preds[i].arity; a++) tl_free(m->preds[i].types[a]);
    }
    tl_free(m->preds);
    for (size_t t = 0; t < m->n_trees; t++) rel_tree_free(&m->trees[t]);
    tl_free(m->trees);
    for (size_t i = 0; i < m->n_map; i++) {
        tl_free(m->map_src[i]);
        tl_free(m->map_dst[i]);
    }
    tl_free(m->map_src);
    tl_free(m->map_dst);
    tl_free(m->kind);
    tl_free(m);
}

size_t tl_rel_model_n_trees(const tl_rel_model *m) { return m ? m->n_trees : 0; }
const char *tl_rel_model_target(const tl_rel_model *m) {
    return m && m->n_preds ? m->preds[0].name : NULL;
}

tl_status rel_model_bind(const tl_rel_model *m, const tl_rel_db *db, int *bind) {
    for (size_t i = 0; i < m->n_preds; i++) {
        int p = rel_db_find_pred(db, m->preds[i].name);
        if (p < 0)
            return tl_fail(TL_ERR_NOT_FOUND, "the model's predicate %s is not in the data",
                           m->preds[i].name);
        if (db->preds[p].arity != m->preds[i].arity)
            return tl_fail(TL_ERR_NOT_FOUND, "the model's %s/%zu has arity %zu in the data",
                           m->preds[i].name, m->preds[i].arity, db->preds[p].arity);
        bind[i] = p;
    }
    if (m->n_preds && bind[0] != db->target)
        return tl_fail(TL_ERR_NOT_FOUND, "the model predicts %s, the data's target is %s",
                       m->preds[0].name, db->preds[db->target].name);
    return TL_OK;
}

tl_status rel_model_cover_store(tl_rel_model *m, const tl_rel_db *db, int **bind, int **s2m) {
    tl_status st = TL_OK;
    int *b = NULL, *s = NULL;
    TL_ALLOC(s, db->n_preds);
    for (size_t p = 0; p < db->n_preds; p++) {
        char *types[TL_REL_MAX_ARITY];
        for (size_t a = 0; a < db->preds[p].arity; a++)
            types[a] = db->types.names[db->preds[p].types[a]];
        s[p] = rel_model_add_pred(m, db->preds[p].name, db->preds[p].arity, types);
        TL_CHECK(s[p] >= 0, TL_ERR_NOMEM, "out of memory adding a predicate to a model");
    }
    TL_ALLOC(b, m->n_preds);
    TL_TRY(rel_model_bind(m, db, b));
    tl_free(*bind);
    tl_free(*s2m);
    *bind = b;
    *s2m = s;
    b = s = NULL;
done:
    tl_free(b);
    tl_free(s);
    return st;
}

tl_status rel_model_compact(tl_rel_model *m) {
    tl_status st = TL_OK;
    int *newid = NULL;
    TL_ALLOC(newid, m->n_preds ? m->n_preds : 1);
    for (size_t i = 0; i < m->n_preds; i++) newid[i] = i == 0 ? 0 : -1;
    for (size_t t = 0; t < m->n_trees; t++)
        for (size_t k = 0; k < m->trees[t].n; k++)
            for (int l = 0; l < m->trees[t].nodes[k].nlits; l++)
                newid[m->trees[t].nodes[k].lits[l].pred] = 0;
    size_t j = 0;
    for (size_t i = 0; i < m->n_preds; i++) {
        if (newid[i] < 0) {
            tl_free(m->preds[i].name);
            for (size_t a = 0; a < m->preds[i].arity; a++) tl_free(m->preds[i].types[a]);
            continue;
        }
        m->preds[j] = m->preds[i];
        newid[i] = (int)j++;
    }
    m->n_preds = j;
    for (size_t t = 0; t < m->n_trees; t++)
        for (size_t k = 0; k < m->trees[t].n; k++)
            for (int l = 0; l < m->trees[t].nodes[k].nlits; l++)
                m->trees[t].nodes[k].lits[l].pred = newid[m->trees[t].nodes[k].lits[l].pred];
done:
    tl_free(newid);
    return st;
}

/* ---------------------------------------------------------------- evaluation */

int rel_tree_leaf(const tl_rel_db *db, const int *bind, const rel_tree *t, const uint32_t *head,
                  size_t arity) {
    uint32_t vars[REL_MAX_VARS];
    rel_lit path[REL_MAX_LITS];
    int np = 0, k = 0;
    for (size_t v = 0; v < REL_MAX_VARS; v++) vars[v] = REL_UNBOUND;
    for (size_t a = 0; a < arity; a++) vars[a] = head[a];
    if (!t->n) return -1;
    while (t->nodes[k].yes >= 0) {
        const rel_node *nd = &t->nodes[k];
        int n = np;
        for (int l = 0; l < nd->nlits && n < REL_MAX_LITS; l++) path[n++] = nd->lits[l];
        if (rel_prove(db, bind, path, n, vars)) {
            np = n;
            k = nd->yes;
        } else {
            k = nd->no;
        }
    }
    return k;
}

double rel_tree_value(const tl_rel_db *db, const int *bind, const rel_tree *t,
                      const uint32_t *head, size_t arity) {
    int k = rel_tree_leaf(db, bind, t, head, arity);
    return k < 0 ? 0.0 : t->nodes[k].value;
}

tl_status tl_rel_predict(const tl_rel_model *m, const tl_rel_db *db, double *p, int *y) {
    tl_status st = TL_OK;
    int *bind = NULL;
    TL_CHECK(m && db && p && y, TL_ERR_INVALID_ARG, "tl_rel_predict: NULL argument");
    TL_CHECK(db->indexed, TL_ERR_STATE, "tl_rel_predict: the store is not indexed");
    TL_ALLOC(bind, m->n_preds ? m->n_preds : 1);
    TL_TRY(rel_model_bind(m, db, bind));
    size_t ar = db->preds[db->target].arity;
    for (size_t i = 0; i < db->n_ex; i++) {
        double s = m->prior;
        for (size_t t = 0; t < m->n_trees; t++)
            s += rel_tree_value(db, bind, &m->trees[t], db->ex_args + i * ar, ar);
        p[i] = rel_sigmoid(s);
        y[i] = db->ex_label[i];
    }
done:
    tl_free(bind);
    return st;
}

/* ---------------------------------------------------------------- readable rules */

static void var_name(char *buf, int v) {
    if (v < 26) snprintf(buf, 16, "%c", 'A' + v);
    else snprintf(buf, 16, "%c%d", 'A' + v % 26, v / 26);
}

static void print_lits(const tl_rel_model *m, const rel_lit *l, int n, FILE *f) {
    for (int i = 0; i < n; i++) {
        const rel_mpred *p = &m->preds[l[i].pred];
        fprintf(f, "%s%s(", i ? ", " : "", p->name);
        for (size_t a = 0; a < p->arity; a++) {
            char vn[16];
            var_name(vn, l[i].args[a]);
            fprintf(f, "%s%s", a ? "," : "", vn);
        }
        fprintf(f, ")");
    }
}

static void print_node(const tl_rel_model *m, const rel_tree *t, int k, int depth, FILE *f) {
    const rel_node *nd = &t->nodes[k];
    if (nd->yes < 0) {
        fprintf(f, "%*s%.6f\n", 2 * depth + 2, "", nd->value);
        return;
    }
    fprintf(f, "%*sif ", 2 * depth + 2, "");
    if (nd->nlits) print_lits(m, nd->lits, nd->nlits, f);
    else fprintf(f, "true");
    fprintf(f, " then\n");
    print_node(m, t, nd->yes, depth + 1, f);
    fprintf(f, "%*selse\n", 2 * depth + 2, "");
    print_node(m, t, nd->no, depth + 1, f);
}

tl_status tl_rel_model_print(const tl_rel_model *m, FILE *f) {
    if (!m || !f) return tl_fail(TL_ERR_INVALID_ARG, "tl_rel_model_print: NULL argument");
    const rel_mpred *h = &m->preds[0];
    fprintf(f, "boosted RDN for %s (%zu trees, %s)\n", h->name, m->n_trees, m->kind);
    if (m->n_map) {
        fprintf(f, "predicate mapping (score %.6f):\n", m->map_score);
        for (size_t i = 0; i < m->n_map; i++)
            fprintf(f, "  %s -> %s\n", m->map_src[i], m->map_dst[i] ? m->map_dst[i] : "(dropped)");
    }
    for (size_t t = 0; t < m->n_trees; t++) {
        fprintf(f, "tree %zu: %s(", t + 1, h->name);
        for (size_t a = 0; a < h->arity; a++) {
            char vn[16];
            var_name(vn, (int)a);
            fprintf(f, "%s%s", a ? "," : "", vn);
        }
        fprintf(f, ") =\n");
        if (m->trees[t].n) print_node(m, &m->trees[t], 0, 0, f);
    }
    return ferror(f) ? tl_fail(TL_ERR_IO, "writing the rules failed") : TL_OK;
}

/* ---------------------------------------------------------------- the model file
 * tl-rel-model 1
 * kind learned|mapping|revision
 * prior P                          (log-odds before the first tree)
 * pred NAME ARITY TYPE...            (the first is the target predicate)
 * map SOURCE TARGET|-                (transferred models), then `mapscore S`
 * tree NNODES
 * node YES NO VALUE NLITS [PRED ARG...]...   (PRED: index in the table; ARG: variable ids)
 */
tl_status tl_rel_model_save(const tl_rel_model *m, const char *path) {
    tl_status st = TL_OK;
    tl_wfile *w = NULL;
    TL_CHECK(m && path, TL_ERR_INVALID_ARG, "tl_rel_model_save: NULL argument");
    TL_TRY(tl_wfile_open(path, &w));
    FILE *f = tl_wfile_stream(w);
    fprintf(f, "tl-rel-model 1\nkind %s\nprior %.17g\n", m->kind, m->prior);
    for (size_t i = 0; i < m->n_preds; i++) {
        fprintf(f, "pred %s %zu", m->preds[i].name, m->preds[i].arity);
        for (size_t a = 0; a < m->preds[i].arity; a++) fprintf(f, " %s", m->preds[i].types[a]);
        fprintf(f, "\n");
    }
    for (size_t i = 0; i < m->n_map; i++)
        fprintf(f, "map %s %s\n", m->map_src[i], m->map_dst[i] ? m->map_dst[i] : "-");
    if (m->n_map) fprintf(f, "mapscore %.17g\n", m->map_score);
    for (size_t t = 0; t < m->n_trees; t++) {
        fprintf(f, "tree %zu\n", m->trees[t].n);
        for (size_t k = 0; k < m->trees[t].n; k++) {
            const rel_node *nd = &m->trees[t].nodes[k];
            fprintf(f, "node %d %d %.17g %d", nd->yes, nd->no, nd->value, nd->nlits);
            for (int l = 0; l < nd->nlits; l++) {
                fprintf(f, " %d", nd->lits[l].pred);
                for (size_t a = 0; a < m->preds[nd->lits[l].pred].arity; a++)
                    fprintf(f, " %d", nd->lits[l].args[a]);
            }
            fprintf(f, "\n");
        }
    }
    st = tl_wfile_commit(w);
    w = NULL;
done:
    tl_wfile_abort(w);
    return st;
}

/* next whitespace-separated token of *s into tok (NUL-terminated in place) */
static char *next_tok(char **s) {
    char *p = *s;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) return NULL;
    char *b = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = '\0';
    *s = p;
    return b;
}

static bool tok_long(char **s, long lo, long hi, long *v) {
    char *t = next_tok(s), *e;
    if (!t) return false;
    long x = strtol(t, &e, 10);
    if (*e || x < lo || x > hi) return false;
    *v = x;
    return true;
}

tl_status tl_rel_model_load(const char *path, tl_rel_model **out) {
    tl_status st = TL_OK;
    unsigned char *buf = NULL;
    size_t len = 0, ln = 0, cur_node = 0;
    tl_rel_model *m = NULL;
    rel_tree *cur = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "tl_rel_model_load: NULL argument");
    *out = NULL;
    TL_TRY(tli_file_read_all(path, &buf, &len));
    TL_CHECK(!memchr(buf, '\0', len), TL_ERR_FORMAT, "%s: not a text model file", path);
    TL_TRY(rel_model_new(&m));
    char *s = (char *)buf;
    bool header = false;
    while (s && *s) {
        char *e = strchr(s, '\n');
        if (e) *e = '\0';
        ln++;
        char *line = s, *kw = next_tok(&line);
        s = e ? e + 1 : NULL;
        if (!kw) continue;
        if (!header) {
            char *v = next_tok(&line);
            TL_CHECK(strcmp(kw, "tl-rel-model") == 0 && v && strcmp(v, "1") == 0, TL_ERR_FORMAT,
                     "%s:%zu: not a libtl relational model (expected 'tl-rel-model 1')", path, ln);
            header = true;
            continue;
        }
        if (strcmp(kw, "kind") == 0) {
            char *v = next_tok(&line);
            TL_CHECK(v && (!strcmp(v, "learned") || !strcmp(v, "mapping") || !strcmp(v, "revision")),
                     TL_ERR_FORMAT, "%s:%zu: kind is learned, mapping or revision", path, ln);
            tl_free(m->kind);
            m->kind = dupstr(v);
            TL_CHECK(m->kind, TL_ERR_NOMEM, "out of memory loading a model");
        } else if (strcmp(kw, "prior") == 0 || strcmp(kw, "mapscore") == 0) {
            char *v = next_tok(&line), *end;
            TL_CHECK(v, TL_ERR_FORMAT, "%s:%zu: %s needs a number", path, ln, kw);
            double x = strtod(v, &end);
            TL_CHECK(!*end && isfinite(x), TL_ERR_FORMAT, "%s:%zu: bad number '%s'", path, ln, v);
            if (kw[0] == 'p') m->prior = x;
            else m->map_score = x;
        } else if (strcmp(kw, "pred") == 0) {
            TL_CHECK(m->n_trees == 0, TL_ERR_FORMAT, "%s:%zu: pred after the trees", path, ln);
            char *name = next_tok(&line);
            long ar;
            TL_CHECK(name && tok_long(&line, 1, TL_REL_MAX_ARITY, &ar), TL_ERR_FORMAT,
                     "%s:%zu: expected 'pred NAME ARITY TYPE...' (arity 1..%d)", path, ln,
                     TL_REL_MAX_ARITY);
            char *types[TL_REL_MAX_ARITY];
            for (long a = 0; a < ar; a++) {
                types[a] = next_tok(&line);
                TL_CHECK(types[a], TL_ERR_FORMAT, "%s:%zu: %s needs %ld types", path, ln, name, ar);
            }
            for (size_t i = 0; i < m->n_preds; i++)
                TL_CHECK(strcmp(m->preds[i].name, name) != 0, TL_ERR_FORMAT,
                         "%s:%zu: predicate %s listed twice", path, ln, name);
            TL_CHECK(rel_model_add_pred(m, name, (size_t)ar, types) >= 0, TL_ERR_NOMEM,
                     "out of memory loading a model");
        } else if (strcmp(kw, "map") == 0) {
            char *a = next_tok(&line), *b = next_tok(&line);
            TL_CHECK(a && b, TL_ERR_FORMAT, "%s:%zu: expected 'map SOURCE TARGET'", path, ln);
            char **ns = tl_realloc(m->map_src, (m->n_map + 1) * sizeof *ns);
            TL_CHECK(ns, TL_ERR_NOMEM, "out of memory loading a model");
            m->map_src = ns;
            char **nd = tl_realloc(m->map_dst, (m->n_map + 1) * sizeof *nd);
            TL_CHECK(nd, TL_ERR_NOMEM, "out of memory loading a model");
            m->map_dst = nd;
            m->map_src[m->n_map] = dupstr(a);
            m->map_dst[m->n_map] = strcmp(b, "-") ? dupstr(b) : NULL;
            m->n_map++;
            TL_CHECK(m->map_src[m->n_map - 1], TL_ERR_NOMEM, "out of memory loading a model");
        } else if (strcmp(kw, "tree") == 0) {
            TL_CHECK(m->n_preds > 0, TL_ERR_FORMAT, "%s:%zu: a tree before any pred", path, ln);
            TL_CHECK(!cur || cur_node == cur->cap, TL_ERR_FORMAT,
                     "%s:%zu: the previous tree has %zu of its %zu nodes", path, ln, cur_node,
                     cur ? cur->cap : 0);
            long nn;
            TL_CHECK(tok_long(&line, 1, 1 << 20, &nn), TL_ERR_FORMAT,
                     "%s:%zu: expected 'tree NNODES'", path, ln);
            rel_tree *nt = tl_realloc(m->trees, (m->n_trees + 1) * sizeof *nt);
            TL_CHECK(nt, TL_ERR_NOMEM, "out of memory loading a model");
            m->trees = nt;
            cur = &m->trees[m->n_trees++];
            memset(cur, 0, sizeof *cur);
            TL_CALLOC(cur->nodes, (size_t)nn);
            cur->cap = (size_t)nn;
            cur_node = 0;
        } else if (strcmp(kw, "node") == 0) {
            TL_CHECK(cur && cur_node < cur->cap, TL_ERR_FORMAT,
                     "%s:%zu: a node outside a tree or beyond its count", path, ln);
            rel_node *nd = &cur->nodes[cur_node];
            long yes, no, nl;
            TL_CHECK(tok_long(&line, -1, (long)cur->cap - 1, &yes) &&
                         tok_long(&line, -1, (long)cur->cap - 1, &no),
                     TL_ERR_FORMAT, "%s:%zu: bad child index", path, ln);
            TL_CHECK((yes < 0) == (no < 0) && (yes < 0 || (yes > (long)cur_node && no > (long)cur_node)),
                     TL_ERR_FORMAT, "%s:%zu: children must both be later nodes or both -1", path, ln);
            char *v = next_tok(&line), *end;
            TL_CHECK(v, TL_ERR_FORMAT, "%s:%zu: missing the node value", path, ln);
            nd->value = strtod(v, &end);
            TL_CHECK(!*end && isfinite(nd->value), TL_ERR_FORMAT, "%s:%zu: bad value '%s'", path,
                     ln, v);
            TL_CHECK(tok_long(&line, 0, REL_NODE_LITS, &nl), TL_ERR_FORMAT,
                     "%s:%zu: bad literal count (0..%d)", path, ln, REL_NODE_LITS);
            TL_CHECK(yes >= 0 || nl == 0, TL_ERR_FORMAT, "%s:%zu: a leaf holds no literal", path, ln);
            nd->yes = (int)yes;
            nd->no = (int)no;
            nd->nlits = (int)nl;
            for (long l = 0; l < nl; l++) {
                long p;
                TL_CHECK(tok_long(&line, 1, (long)m->n_preds - 1, &p), TL_ERR_FORMAT,
                         "%s:%zu: literal %ld: bad predicate index", path, ln, l + 1);
                nd->lits[l].pred = (int)p;
                for (size_t a = 0; a < m->preds[p].arity; a++) {
                    long vv;
                    TL_CHECK(tok_long(&line, 0, REL_MAX_VARS - 1, &vv), TL_ERR_FORMAT,
                             "%s:%zu: literal %ld: bad variable", path, ln, l + 1);
                    nd->lits[l].args[a] = (uint8_t)vv;
                }
            }
            TL_CHECK(!next_tok(&line), TL_ERR_FORMAT, "%s:%zu: extra text after the node", path, ln);
            cur_node++;
            cur->n = cur_node;
        } else {
            TL_CHECK(0, TL_ERR_FORMAT, "%s:%zu: unknown line '%s'", path, ln, kw);
        }
    }
    TL_CHECK(header, TL_ERR_FORMAT, "%s: empty model file", path);
    TL_CHECK(m->n_preds > 0 && m->n_trees > 0, TL_ERR_FORMAT, "%s: no predicate or no tree", path);
    TL_CHECK(cur_node == cur->cap, TL_ERR_FORMAT, "%s: truncated: the last tree has %zu of %zu nodes",
             path, cur_node, cur->cap);
    *out = m;
    m = NULL;
done:
    tl_free(buf);
    tl_rel_model_free(m);
    return st;
}
