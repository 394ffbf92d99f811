/* The relational fact store: parsing of mode declarations, ground facts and examples (one atom a
 * line, `pred(c1,...,ck).`), interned constants and types, and per-predicate argument indexes
 * (for argument a and constant c, the facts whose a-th argument is c, as CSR arrays) that the
 * prover joins over. Built this way because clause coverage is the learner's inner loop: a
 * literal with a bound argument touches only the facts that share that constant, and a fully bound
 * literal is one lookup in the shortest of its argument lists. Every parse error names the file
 * and line. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/check.h"
#include "internal/file.h"
#include "rel_internal.h"

/* ---------------------------------------------------------------- string interner */

static uint64_t str_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void strtab_free(rel_strtab *t) {
    for (size_t i = 0; i < t->n; i++) tl_free(t->names[i]);
    tl_free(t->names);
    tl_free(t->slots);
    memset(t, 0, sizeof *t);
}

static long strtab_find(const rel_strtab *t, const char *s, size_t n) {
    if (!t->nslots) return -1;
    size_t mask = t->nslots - 1, i = (size_t)str_hash(s, n) & mask;
    while (t->slots[i]) {
        const char *c = t->names[t->slots[i] - 1];
        if (strncmp(c, s, n) == 0 && c[n] == '\0') return (long)t->slots[i] - 1;
        i = (i + 1) & mask;
    }
    return -1;
}

static tl_status strtab_rehash(rel_strtab *t, size_t nslots) {
    uint32_t *s = tl_calloc(nslots, sizeof *s);
    if (!s) return tl_fail(TL_ERR_NOMEM, "out of memory growing a string table");
    for (size_t k = 0; k < t->n; k++) {
        size_t i = (size_t)str_hash(t->names[k], strlen(t->names[k])) & (nslots - 1);
        while (s[i]) i = (i + 1) & (nslots - 1);
        s[i] = (uint32_t)k + 1;
    }
    tl_free(t->slots);
    t->slots = s;
    t->nslots = nslots;
    return TL_OK;
}

/* id of s[0..n), interned when new (*added set) */
static tl_status strtab_intern(rel_strtab *t, const char *s, size_t n, uint32_t *id, bool *added) {
    tl_status st = TL_OK;
    long f = strtab_find(t, s, n);
    if (added) *added = false;
    if (f >= 0) {
        *id = (uint32_t)f;
        return TL_OK;
    }
    if ((t->n + 1) * 2 > t->nslots) TL_TRY(strtab_rehash(t, t->nslots ? t->nslots * 2 : 64));
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **nn = tl_realloc(t->names, cap * sizeof *nn);
        TL_CHECK(nn, TL_ERR_NOMEM, "out of memory growing a string table");
        t->names = nn;
        t->cap = cap;
    }
    char *c = tl_malloc(n + 1);
    TL_CHECK(c, TL_ERR_NOMEM, "out of memory interning a name");
    memcpy(c, s, n);
    c[n] = '\0';
    t->names[t->n] = c;
    size_t mask = t->nslots - 1, i = (size_t)str_hash(s, n) & mask;
    while (t->slots[i]) i = (i + 1) & mask;
    t->slots[i] = (uint32_t)t->n + 1;
    *id = (uint32_t)t->n++;
    if (added) *added = true;
done:
    return st;
}

/* ---------------------------------------------------------------- atom parsing */

typedef struct {
    const char *name;
    size_t name_len;
    size_t n;
    const char *arg[TL_REL_MAX_ARITY];
    size_t arg_len[TL_REL_MAX_ARITY];
} atom;

static bool name_char(int c) { return isalnum(c) || c == '_' || c == '-' || c == '\'' || c == '.'; }

/* Parses `name(a1,...,ak).` (spaces allowed between tokens; the final '.' optional). Returns NULL
 * or a short reason. Argument text may begin with + - # (modes keep them). */
static const char *parse_atom(const char *s, atom *a) {
    memset(a, 0, sizeof *a);
    while (*s == ' ' || *s == '\t') s++;
    const char *p = s;
    while (isalnum((unsigned char)*p) || *p == '_') p++;
    if (p == s) return "expected a predicate name";
    if (!islower((unsigned char)*s)) return "a predicate name starts with a lower-case letter";
    a->name = s;
    a->name_len = (size_t)(p - s);
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '(') return "expected '(' after the predicate name";
    p++;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        const char *b = p;
        while (*p && *p != ',' && *p != ')' && *p != ' ' && *p != '\t') {
            if (!name_char((unsigned char)*p) && *p != '+' && *p != '#') return "bad character in an argument";
            p++;
        }
        if (p == b) return "empty argument";
        if (a->n == TL_REL_MAX_ARITY) return "more than 4 arguments";
        a->arg[a->n] = b;
        a->arg_len[a->n] = (size_t)(p - b);
        a->n++;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ')') break;
        return "expected ',' or ')'";
    }
    p++;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '.') p++;
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    if (*p) return "unexpected text after the atom";
    return NULL;
}

/* Calls fn(line, lineno) for each non-blank, non-comment line of a file. */
typedef tl_status (*line_fn)(tl_rel_db *db, const char *path, size_t lineno, const char *line,
                             void *u);
static tl_status each_line(tl_rel_db *db, const char *path, line_fn fn, void *u) {
    tl_status st = TL_OK;
    unsigned char *buf = NULL;
    size_t len = 0;
    TL_TRY(tli_file_read_all(path, &buf, &len));
    TL_CHECK(!memchr(buf, '\0', len), TL_ERR_FORMAT, "%s: holds a NUL byte (not a text file)", path);
    char *s = (char *)buf;
    size_t lineno = 0;
    while (s && *s) {
        char *e = strchr(s, '\n');
        if (e) *e = '\0';
        lineno++;
        size_t l = strlen(s);
        if (l && s[l - 1] == '\r') s[--l] = '\0';
        const char *t = s;
        while (*t == ' ' || *t == '\t') t++;
        if (*t && *t != '#' && *t != '%' && !(t[0] == '/' && t[1] == '/'))
            TL_TRY(fn(db, path, lineno, t, u));
        s = e ? e + 1 : NULL;
    }
done:
    tl_free(buf);
    return st;
}

int rel_db_find_pred(const tl_rel_db *db, const char *name) {
    for (size_t i = 0; i < db->n_preds; i++)
        if (strcmp(db->preds[i].name, name) == 0) return (int)i;
    return -1;
}

static int find_pred_n(const tl_rel_db *db, const char *name, size_t n) {
    for (size_t i = 0; i < db->n_preds; i++)
        if (strncmp(db->preds[i].name, name, n) == 0 && db->preds[i].name[n] == '\0') return (int)i;
    return -1;
}

int rel_db_find_type(const tl_rel_db *db, const char *name) {
    return (int)strtab_find(&db->types, name, strlen(name));
}

/* ---------------------------------------------------------------- modes */

static tl_status mode_line(tl_rel_db *db, const char *path, size_t ln, const char *line, void *u) {
    (void)u;
    tl_status st = TL_OK;
    atom a;
    const char *why = parse_atom(line, &a);
    TL_CHECK(!why, TL_ERR_FORMAT, "%s:%zu: malformed mode declaration: %s", path, ln, why);
    rel_mode md;
    memset(&md, 0, sizeof md);
    int types[TL_REL_MAX_ARITY];
    for (size_t i = 0; i < a.n; i++) {
        char c = a.arg[i][0];
        TL_CHECK((c == '+' || c == '-' || c == '#') && a.arg_len[i] > 1, TL_ERR_FORMAT,
                 "%s:%zu: argument %zu of %.*s: a mode argument is +type, -type or #type", path,
                 ln, i + 1, (int)a.name_len, a.name);
        md.mode[i] = c;
        uint32_t t;
        TL_TRY(strtab_intern(&db->types, a.arg[i] + 1, a.arg_len[i] - 1, &t, NULL));
        types[i] = (int)t;
    }
    int p = find_pred_n(db, a.name, a.name_len);
    if (p >= 0) {
        rel_pred *pr = &db->preds[p];
        TL_CHECK(pr->arity == a.n, TL_ERR_FORMAT,
                 "%s:%zu: %s declared with %zu arguments here and %zu before (arity clash)", path,
                 ln, pr->name, a.n, pr->arity);
        for (size_t i = 0; i < a.n; i++)
            TL_CHECK(pr->types[i] == types[i], TL_ERR_FORMAT,
                     "%s:%zu: argument %zu of %s has type %s here and %s before (type clash)",
                     path, ln, i + 1, pr->name, db->types.names[types[i]],
                     db->types.names[pr->types[i]]);
    } else {
        rel_pred *np = tl_realloc(db->preds, (db->n_preds + 1) * sizeof *np);
        TL_CHECK(np, TL_ERR_NOMEM, "out of memory adding a predicate");
        db->preds = np;
        rel_facts *nf = tl_realloc(db->facts, (db->n_preds + 1) * sizeof *nf);
        TL_CHECK(nf, TL_ERR_NOMEM, "out of memory adding a predicate");
        db->facts = nf;
        memset(&db->facts[db->n_preds], 0, sizeof *nf);
        rel_pred *pr = &db->preds[db->n_preds];
        memset(pr, 0, sizeof *pr);
        pr->name = tl_malloc(a.name_len + 1);
        TL_CHECK(pr->name, TL_ERR_NOMEM, "out of memory adding a predicate");
        memcpy(pr->name, a.name, a.name_len);
        pr->name[a.name_len] = '\0';
        pr->arity = a.n;
        for (size_t i = 0; i < a.n; i++) pr->types[i] = types[i];
        p = (int)db->n_preds++;
    }
    md.pred = p;
    rel_mode *nm = tl_realloc(db->modes, (db->n_modes + 1) * sizeof *nm);
    TL_CHECK(nm, TL_ERR_NOMEM, "out of memory adding a mode");
    db->modes = nm;
    db->modes[db->n_modes++] = md;
done:
    return st;
}

tl_status tl_rel_db_create(const char *modes_path, const char *target, tl_rel_db **out) {
    tl_status st = TL_OK;
    tl_rel_db *db = NULL;
    TL_CHECK(modes_path && target && out, TL_ERR_INVALID_ARG, "tl_rel_db_create: NULL argument");
    *out = NULL;
    TL_CALLOC(db, 1);
    db->target = -1;
    TL_TRY(each_line(db, modes_path, mode_line, NULL));
    TL_CHECK(db->n_preds > 0, TL_ERR_EMPTY, "%s: no mode declarations", modes_path);
    db->target = rel_db_find_pred(db, target);
    TL_CHECK(db->target >= 0, TL_ERR_NOT_FOUND,
             "%s: the target predicate '%s' has no mode declaration", modes_path, target);
    *out = db;
    db = NULL;
done:
    tl_rel_db_free(db);
    return st;
}

void tl_rel_db_free(tl_rel_db *db) {
    if (!db) return;
    strtab_free(&db->types);
    strtab_free(&db->consts);
    tl_free(db->const_type);
    for (size_t i = 0; i < db->n_preds; i++) {
        tl_free(db->preds[i].name);
        tl_free(db->facts[i].args);
        for (size_t a = 0; a < TL_REL_MAX_ARITY; a++) {
            tl_free(db->facts[i].off[a]);
            tl_free(db->facts[i].idx[a]);
        }
    }
    tl_free(db->preds);
    tl_free(db->facts);
    tl_free(db->modes);
    tl_free(db->ex_args);
    tl_free(db->ex_label);
    tl_free(db->ex_fold);
    tl_free(db);
}

/* ---------------------------------------------------------------- facts and examples */

/* The constants of a ground atom, interned with their types checked against the predicate's. */
static tl_status ground_args(tl_rel_db *db, const char *path, size_t ln, const atom *a, int p,
                             uint32_t *args) {
    tl_status st = TL_OK;
    const rel_pred *pr = &db->preds[p];
    TL_CHECK(a->n == pr->arity, TL_ERR_FORMAT,
             "%s:%zu: %s has %zu arguments, its mode declaration %zu (arity clash)", path, ln,
             pr->name, a->n, pr->arity);
    for (size_t i = 0; i < a->n; i++) {
        const char *c = a->arg[i];
        TL_CHECK(name_char((unsigned char)c[0]) && c[0] != '-' && c[0] != '.' &&
                     !isupper((unsigned char)c[0]),
                 TL_ERR_FORMAT,
                 "%s:%zu: argument %zu of %s is '%.*s', not a constant (constants start with a "
                 "lower-case letter or a digit)",
                 path, ln, i + 1, pr->name, (int)a->arg_len[i], c);
        for (size_t k = 0; k < a->arg_len[i]; k++)
            TL_CHECK(c[k] != '+' && c[k] != '#', TL_ERR_FORMAT,
                     "%s:%zu: bad character '%c' in constant %.*s", path, ln, c[k],
                     (int)a->arg_len[i], c);
        uint32_t id;
        bool added;
        TL_TRY(strtab_intern(&db->consts, c, a->arg_len[i], &id, &added));
        if (added) {
            if (id >= db->const_type_cap) {
                size_t cap = db->const_type_cap ? db->const_type_cap * 2 : 256;
                int *nt = tl_realloc(db->const_type, cap * sizeof *nt);
                TL_CHECK(nt, TL_ERR_NOMEM, "out of memory adding a constant");
                db->const_type = nt;
                db->const_type_cap = cap;
            }
            db->const_type[id] = pr->types[i];
        } else {
            TL_CHECK(db->const_type[id] == pr->types[i], TL_ERR_FORMAT,
                     "%s:%zu: constant %s is a %s here (argument %zu of %s) and a %s elsewhere "
                     "(type clash)",
                     path, ln, db->consts.names[id], db->types.names[pr->types[i]], i + 1,
                     pr->name, db->types.names[db->const_type[id]]);
        }
        args[i] = id;
    }
done:
    return st;
}

static tl_status fact_line(tl_rel_db *db, const char *path, size_t ln, const char *line, void *u) {
    (void)u;
    tl_status st = TL_OK;
    atom a;
    const char *why = parse_atom(line, &a);
    TL_CHECK(!why, TL_ERR_FORMAT, "%s:%zu: malformed atom: %s", path, ln, why);
    int p = find_pred_n(db, a.name, a.name_len);
    TL_CHECK(p >= 0, TL_ERR_FORMAT, "%s:%zu: unknown predicate %.*s (no mode declaration)", path,
             ln, (int)a.name_len, a.name);
    TL_CHECK(p != db->target, TL_ERR_FORMAT,
             "%s:%zu: a fact of the target predicate %s (examples go to pos/neg files)", path, ln,
             db->preds[p].name);
    rel_facts *f = &db->facts[p];
    size_t ar = db->preds[p].arity;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        uint32_t *na = tl_realloc(f->args, cap * ar * sizeof *na);
        TL_CHECK(na, TL_ERR_NOMEM, "out of memory adding facts");
        f->args = na;
        f->cap = cap;
    }
    TL_TRY(ground_args(db, path, ln, &a, p, f->args + f->n * ar));
    f->n++;
    db->indexed = false;
done:
    return st;
}

tl_status tl_rel_db_add_facts(tl_rel_db *db, const char *path, int fold) {
    (void)fold;
    if (!db || !path) return tl_fail(TL_ERR_INVALID_ARG, "tl_rel_db_add_facts: NULL argument");
    return each_line(db, path, fact_line, NULL);
}

typedef struct {
    int label, fold;
} ex_ctx;

static tl_status example_line(tl_rel_db *db, const char *path, size_t ln, const char *line,
                              void *u) {
    tl_status st = TL_OK;
    const ex_ctx *c = u;
    atom a;
    const char *why = parse_atom(line, &a);
    TL_CHECK(!why, TL_ERR_FORMAT, "%s:%zu: malformed atom: %s", path, ln, why);
    int p = find_pred_n(db, a.name, a.name_len);
    TL_CHECK(p == db->target, TL_ERR_FORMAT,
             "%s:%zu: an example of %.*s, not of the target predicate %s", path, ln,
             (int)a.name_len, a.name, db->preds[db->target].name);
    size_t ar = db->preds[p].arity;
    if (db->n_ex == db->ex_cap) {
        size_t cap = db->ex_cap ? db->ex_cap * 2 : 256;
        uint32_t *na = tl_realloc(db->ex_args, cap * ar * sizeof *na);
        TL_CHECK(na, TL_ERR_NOMEM, "out of memory adding examples");
        db->ex_args = na;
        int *nl = tl_realloc(db->ex_label, cap * sizeof *nl);
        TL_CHECK(nl, TL_ERR_NOMEM, "out of memory adding examples");
        db->ex_label = nl;
        int *nf = tl_realloc(db->ex_fold, cap * sizeof *nf);
        TL_CHECK(nf, TL_ERR_NOMEM, "out of memory adding examples");
        db->ex_fold = nf;
        db->ex_cap = cap;
    }
    TL_TRY(ground_args(db, path, ln, &a, p, db->ex_args + db->n_ex * ar));
    db->ex_label[db->n_ex] = c->label;
    db->ex_fold[db->n_ex] = c->fold;
    db->n_ex++;
done:
    return st;
}

tl_status tl_rel_db_add_examples(tl_rel_db *db, const char *path, int label, int fold) {
    if (!db || !path) return tl_fail(TL_ERR_INVALID_ARG, "tl_rel_db_add_examples: NULL argument");
    if (label != 0 && label != 1)
        return tl_fail(TL_ERR_INVALID_ARG, "tl_rel_db_add_examples: label %d is not 0 or 1", label);
    ex_ctx c = {label, fold};
    return each_line(db, path, example_line, &c);
}

/* ---------------------------------------------------------------- indexes */

tl_status rel_db_finish(tl_rel_db *db) {
    tl_status st = TL_OK;
    size_t nc = db->consts.n;
    for (size_t p = 0; p < db->n_preds; p++) {
        rel_facts *f = &db->facts[p];
        size_t ar = db->preds[p].arity;
        for (size_t a = 0; a < ar; a++) {
            tl_free(f->off[a]);
            tl_free(f->idx[a]);
            f->off[a] = NULL;
            f->idx[a] = NULL;
            TL_CALLOC(f->off[a], nc + 1);
            TL_CALLOC(f->idx[a], f->n);
            for (size_t i = 0; i < f->n; i++) f->off[a][f->args[i * ar + a] + 1]++;
            for (size_t c = 0; c < nc; c++) f->off[a][c + 1] += f->off[a][c];
            for (size_t i = 0; i < f->n; i++) {
                uint32_t c = f->args[i * ar + a];
                /* fill position: count facts placed so far with the same constant */
                f->idx[a][f->off[a][c]++] = (uint32_t)i;
            }
            /* off[c] now holds the end of c's run: shift back */
            for (size_t c = nc; c > 0; c--) f->off[a][c] = f->off[a][c - 1];
            f->off[a][0] = 0;
        }
    }
    db->indexed = true;
done:
    return st;
}

/* ---------------------------------------------------------------- loading a domain folder */

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

size_t tl_rel_domain_folds(const char *dir) {
    char path[4096];
    size_t k = 0;
    for (;;) {
        snprintf(path, sizeof path, "%s/fold%zu", dir, k + 1);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return k;
        k++;
    }
}

tl_status tl_rel_db_load(const char *dir, const int *folds, size_t n, tl_rel_db **out) {
    tl_status st = TL_OK;
    tl_rel_db *db = NULL;
    char path[4096], target[256];
    unsigned char *tbuf = NULL;
    size_t tlen = 0;
    TL_CHECK(dir && out && (folds || !n), TL_ERR_INVALID_ARG, "tl_rel_db_load: NULL argument");
    *out = NULL;
    TL_CHECK(n > 0, TL_ERR_EMPTY, "%s: no fold to load", dir);
    snprintf(path, sizeof path, "%s/target.txt", dir);
    TL_TRY(tli_file_read_all(path, &tbuf, &tlen));
    {
        size_t i = 0, j = 0;
        while (i < tlen && isspace(tbuf[i])) i++;
        while (i < tlen && !isspace(tbuf[i]) && tbuf[i] != '(' && j + 1 < sizeof target)
            target[j++] = (char)tbuf[i++];
        target[j] = '\0';
        TL_CHECK(j > 0, TL_ERR_FORMAT, "%s:1: no target predicate name", path);
    }
    snprintf(path, sizeof path, "%s/modes.txt", dir);
    TL_TRY(tl_rel_db_create(path, target, &db));
    for (size_t k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/fold%d", dir, folds[k]);
        struct stat sb;
        TL_CHECK(folds[k] >= 1 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode), TL_ERR_NOT_FOUND,
                 "%s: no such fold folder (the domain has %zu folds)", path,
                 tl_rel_domain_folds(dir));
        size_t before = db->n_ex, pos_before = tl_rel_db_n_examples(db, 1);
        snprintf(path, sizeof path, "%s/fold%d/facts.txt", dir, folds[k]);
        if (is_file(path)) TL_TRY(tl_rel_db_add_facts(db, path, folds[k]));
        snprintf(path, sizeof path, "%s/fold%d/pos.txt", dir, folds[k]);
        TL_TRY(tl_rel_db_add_examples(db, path, 1, folds[k]));
        TL_CHECK(tl_rel_db_n_examples(db, 1) > pos_before, TL_ERR_EMPTY,
                 "%s: empty fold: no positive example of %s", path, target);
        snprintf(path, sizeof path, "%s/fold%d/neg.txt", dir, folds[k]);
        if (is_file(path)) TL_TRY(tl_rel_db_add_examples(db, path, 0, folds[k]));
        (void)before;
    }
    TL_TRY(rel_db_finish(db));
    *out = db;
    db = NULL;
done:
    tl_free(tbuf);
    tl_rel_db_free(db);
    return st;
}

/* ---------------------------------------------------------------- queries */

size_t tl_rel_db_n_facts(const tl_rel_db *db) {
    size_t n = 0;
    for (size_t p = 0; p < db->n_preds; p++) n += db->facts[p].n;
    return n;
}
size_t tl_rel_db_n_constants(const tl_rel_db *db) { return db->consts.n; }
size_t tl_rel_db_n_preds(const tl_rel_db *db) { return db->n_preds; }
size_t tl_rel_db_n_examples(const tl_rel_db *db, int label) {
    if (label < 0) return db->n_ex;
    size_t n = 0;
    for (size_t i = 0; i < db->n_ex; i++) n += db->ex_label[i] == label;
    return n;
}
const char *tl_rel_db_target(const tl_rel_db *db) { return db->preds[db->target].name; }

/* fully bound check of store predicate p */
static bool holds_ids(const tl_rel_db *db, int p, const uint32_t *args) {
    const rel_facts *f = &db->facts[p];
    size_t ar = db->preds[p].arity, best = 0, bn = SIZE_MAX;
    if (!f->n) return false;
    for (size_t a = 0; a < ar; a++) {
        size_t len = f->off[a][args[a] + 1] - f->off[a][args[a]];
        if (len < bn) {
            bn = len;
            best = a;
        }
    }
    for (uint32_t k = f->off[best][args[best]]; k < f->off[best][args[best] + 1]; k++) {
        const uint32_t *t = f->args + (size_t)f->idx[best][k] * ar;
        size_t a = 0;
        while (a < ar && t[a] == args[a]) a++;
        if (a == ar) return true;
    }
    return false;
}

bool tl_rel_db_holds(const tl_rel_db *db, const char *pred, const char *const *args, size_t n) {
    if (!db || !pred || !db->indexed) return false;
    int p = rel_db_find_pred(db, pred);
    if (p < 0 || db->preds[p].arity != n) return false;
    uint32_t ids[TL_REL_MAX_ARITY];
    for (size_t i = 0; i < n; i++) {
        long c = strtab_find(&db->consts, args[i], strlen(args[i]));
        if (c < 0) return false;
        ids[i] = (uint32_t)c;
    }
    return holds_ids(db, p, ids);
}

/* ---------------------------------------------------------------- the prover */

/* Depth-first join: picks the remaining literal with the fewest candidate facts given the bound
 * variables (a fully bound one is a lookup), enumerates its matching facts, binds its free
 * variables and recurses; stops at the first complete substitution. */
/* Whether the complete substitution in vars grounds each pair's two literals differently (dc
 * NULL: no constraint). */
static bool distinct_ok(const tl_rel_db *db, const int *bind, const rel_lit *lits,
                        const rel_distinct *dc, const uint32_t *vars) {
    if (!dc) return true;
    for (int k = 0; k < dc->n; k++) {
        const rel_lit *x = &lits[dc->pairs[k][0]], *y = &lits[dc->pairs[k][1]];
        size_t ar = db->preds[bind[x->pred]].arity;
        bool same = true;
        for (size_t a = 0; a < ar && same; a++) same = vars[x->args[a]] == vars[y->args[a]];
        if (same) return false;
    }
    return true;
}

static bool prove_rec(const tl_rel_db *db, const int *bind, const rel_lit *lits, int n,
                      uint32_t done_mask, uint32_t *vars, const rel_distinct *dc) {
    int best = -1, best_arg = -1;
    size_t best_len = SIZE_MAX;
    bool all = true;
    for (int i = 0; i < n; i++) {
        if (done_mask & (1u << i)) continue;
        all = false;
        int p = bind[lits[i].pred];
        if (p < 0) continue;
        const rel_facts *f = &db->facts[p];
        size_t ar = db->preds[p].arity, len = f->n;
        int arg = -1;
        for (size_t a = 0; a < ar; a++) {
            uint32_t v = vars[lits[i].args[a]];
            if (v == REL_UNBOUND) continue;
            size_t l = f->off[a][v + 1] - f->off[a][v];
            if (l < len || arg < 0) {
                len = l;
                arg = (int)a;
            }
        }
        if (len < best_len) {
            best_len = len;
            best = i;
            best_arg = arg;
        }
    }
    if (all) return distinct_ok(db, bind, lits, dc, vars);
    if (best < 0) {
        /* only dropped literals remain: they hold */
        return distinct_ok(db, bind, lits, dc, vars);
    }
    if (best_len == 0) return false;
    const rel_lit *L = &lits[best];
    int p = bind[L->pred];
    const rel_facts *f = &db->facts[p];
    size_t ar = db->preds[p].arity;
    uint32_t mask = done_mask | (1u << best);
    /* skip dropped literals from the mask as well */
    for (int i = 0; i < n; i++)
        if (bind[lits[i].pred] < 0) mask |= 1u << i;
    uint32_t k0 = 0, k1 = (uint32_t)f->n;
    if (best_arg >= 0) {
        uint32_t v = vars[L->args[best_arg]];
        k0 = f->off[best_arg][v];
        k1 = f->off[best_arg][v + 1];
    }
    for (uint32_t k = k0; k < k1; k++) {
        uint32_t fid = best_arg >= 0 ? f->idx[best_arg][k] : k;
        const uint32_t *t = f->args + (size_t)fid * ar;
        uint8_t newly[TL_REL_MAX_ARITY];
        int nn = 0;
        bool ok = true;
        for (size_t a = 0; a < ar && ok; a++) {
            uint32_t *v = &vars[L->args[a]];
            if (*v == REL_UNBOUND) {
                *v = t[a];
                newly[nn++] = L->args[a];
            } else if (*v != t[a]) {
                ok = false;
            }
        }
        if (ok && prove_rec(db, bind, lits, n, mask, vars, dc)) {
            for (int i = 0; i < nn; i++) vars[newly[i]] = REL_UNBOUND;
            return true;
        }
        for (int i = 0; i < nn; i++) vars[newly[i]] = REL_UNBOUND;
    }
    return false;
}

bool rel_prove(const tl_rel_db *db, const int *bind, const rel_lit *lits, int n, uint32_t *vars) {
    if (n <= 0) return true;
    return prove_rec(db, bind, lits, n, 0, vars, NULL);
}

bool rel_prove_distinct(const tl_rel_db *db, const int *bind, const rel_lit *lits, int n,
                        uint32_t *vars, const rel_distinct *dc) {
    if (n <= 0) return true;
    return prove_rec(db, bind, lits, n, 0, vars, dc);
}

size_t tl_rel_db_example(const tl_rel_db *db, size_t i, char *buf, size_t cap, int *label,
                         int *fold) {
    if (!db || i >= db->n_ex) return 0;
    const rel_pred *pr = &db->preds[db->target];
    size_t need = 0;
    int w = snprintf(buf, cap, "%s(", pr->name);
    need += (size_t)w;
    for (size_t a = 0; a < pr->arity; a++) {
        w = snprintf(buf && need < cap ? buf + need : NULL, need < cap ? cap - need : 0, "%s%s",
                     a ? "," : "", db->consts.names[db->ex_args[i * pr->arity + a]]);
        need += (size_t)w;
    }
    w = snprintf(buf && need < cap ? buf + need : NULL, need < cap ? cap - need : 0, ")");
    need += (size_t)w;
    if (label) *label = db->ex_label[i];
    if (fold) *fold = db->ex_fold[i];
    return need;
}
