/* A transfer task (tl/pipeline.h): a list of domains, each with a role, its own data (and so its
 * own feature width), optional labelled rows and an optional held-out test set. The datasets are
 * borrowed; the only ones the task owns are those it draws itself (tl_task_draw_labelled). */
#include <stdlib.h>
#include <string.h>

#include "method_internal.h"

typedef struct {
    tl_role role;
    tl_dataset *data, *labelled, *test;
    tl_nn *net;       /* a domain known by a trained network rather than rows (a source) */
    const char *name; /* the network's name (its file) */
} tlx_domain;

struct tl_task {
    tlx_domain *d;
    size_t n, cap;
    tl_dataset **owned; /* drawn sets, freed with the task */
    size_t n_owned, cap_owned;
    const tl_nn_comm *comm; /* data-parallel job, or NULL */
};

void tl_task_set_comm(tl_task *t, const tl_nn_comm *comm) {
    if (t) t->comm = comm;
}

const tl_nn_comm *tl_task_comm(const tl_task *t) { return t ? t->comm : NULL; }

const char *tl_role_name(tl_role r) {
    static const char *const names[] = {"source", "target", "intermediate"};
    return (int)r >= 0 && (size_t)r < 3 ? names[r] : "unknown";
}

tl_status tl_task_create(tl_task **out) {
    tl_status st = TL_OK;
    tl_task *t = NULL;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "task_create: NULL output");
    TL_CALLOC(t, 1);
    *out = t;
done:
    return st;
}

void tl_task_free(tl_task *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_owned; i++) tl_dataset_free(t->owned[i]);
    tl_free(t->owned);
    tl_free(t->d);
    tl_free(t);
}

/* A zeroed domain of the given role at the end of the list (the array may move); what == the
 * caller's name, for messages. */
static tl_status add_domain(tl_task *t, tl_role role, const char *what, tlx_domain **out) {
    tl_status st = TL_OK;
    TL_CHECK(role == TL_ROLE_SOURCE || role == TL_ROLE_TARGET || role == TL_ROLE_INTERMEDIATE,
             TL_ERR_INVALID_ARG, "%s: unknown role %d", what, (int)role);
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4;
        tlx_domain *d = tl_realloc(t->d, cap * sizeof *d);
        TL_CHECK(d, TL_ERR_NOMEM, "%s: out of memory", what);
        t->d = d;
        t->cap = cap;
    }
    *out = &t->d[t->n++];
    memset(*out, 0, sizeof **out);
    (*out)->role = role;
done:
    return st;
}

tl_status tl_task_add(tl_task *t, tl_role role, tl_dataset *data, size_t *index) {
    tl_status st = TL_OK;
    tlx_domain *d;
    TL_CHECK(t && data, TL_ERR_INVALID_ARG, "task_add: NULL task or data");
    TL_TRY(add_domain(t, role, "task_add", &d));
    d->data = data;
    if (index) *index = t->n - 1;
done:
    return st;
}

/* A domain known by a trained network rather than by rows. */
tl_status tl_task_add_network(tl_task *t, tl_role role, tl_nn *net, const char *name,
                              size_t *index) {
    tl_status st = TL_OK;
    tlx_domain *d;
    TL_CHECK(t && net, TL_ERR_INVALID_ARG, "task_add_network: NULL task or network");
    TL_TRY(add_domain(t, role, "task_add_network", &d));
    d->net = net;
    d->name = name ? name : "network";
    if (index) *index = t->n - 1;
done:
    return st;
}

tl_nn *tl_task_network(const tl_task *t, size_t i) { return t && i < t->n ? t->d[i].net : NULL; }

const char *tl_task_name(const tl_task *t, size_t i) {
    if (!t || i >= t->n) return "";
    return t->d[i].data ? tl_dataset_name(t->d[i].data) : t->d[i].name;
}

static tl_status check_domain(const tl_task *t, size_t i, const char *what) {
    if (!t) return tl_fail(TL_ERR_INVALID_ARG, "%s: NULL task", what);
    if (i >= t->n)
        return tl_fail(TL_ERR_INVALID_ARG, "%s: domain %zu does not exist (the task has %zu)", what,
                       i, t->n);
    return TL_OK;
}

tl_status tl_task_set_labelled(tl_task *t, size_t domain, tl_dataset *rows) {
    tl_status st = check_domain(t, domain, "task_set_labelled");
    if (st == TL_OK) t->d[domain].labelled = rows;
    return st;
}

tl_status tl_task_set_test(tl_task *t, size_t domain, tl_dataset *rows) {
    tl_status st = check_domain(t, domain, "task_set_test");
    if (st == TL_OK) t->d[domain].test = rows;
    return st;
}

size_t tl_task_count(const tl_task *t) { return t ? t->n : 0; }
tl_role tl_task_role(const tl_task *t, size_t i) {
    return t && i < t->n ? t->d[i].role : TL_ROLE_SOURCE;
}
tl_dataset *tl_task_data(const tl_task *t, size_t i) { return t && i < t->n ? t->d[i].data : NULL; }
tl_dataset *tl_task_labelled(const tl_task *t, size_t i) {
    return t && i < t->n ? t->d[i].labelled : NULL;
}
tl_dataset *tl_task_test(const tl_task *t, size_t i) { return t && i < t->n ? t->d[i].test : NULL; }

long tl_task_find(const tl_task *t, tl_role role, size_t k) {
    for (size_t i = 0; t && i < t->n; i++)
        if (t->d[i].role == role && k-- == 0) return (long)i;
    return -1;
}

size_t tl_task_count_role(const tl_task *t, tl_role role) {
    size_t c = 0;
    for (size_t i = 0; t && i < t->n; i++) c += t->d[i].role == role;
    return c;
}

static tl_status own(tl_task *t, tl_dataset *ds) {
    if (t->n_owned == t->cap_owned) {
        size_t cap = t->cap_owned ? 2 * t->cap_owned : 4;
        tl_dataset **o = tl_realloc(t->owned, cap * sizeof *o);
        if (!o) {
            tl_dataset_free(ds);
            return tl_fail(TL_ERR_NOMEM, "task: out of memory");
        }
        t->owned = o;
        t->cap_owned = cap;
    }
    t->owned[t->n_owned++] = ds;
    return TL_OK;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

tl_status tl_task_draw_labelled(tl_task *t, size_t domain, size_t per_class, size_t count,
                                uint64_t seed) {
    tl_status st = TL_OK;
    size_t *idx = NULL, *li = NULL, *ri = NULL, *taken = NULL, c = 0, nl = 0, nr = 0;
    int *cls = NULL;
    tl_dataset *lab = NULL, *rest = NULL;
    TL_TRY(check_domain(t, domain, "task_draw_labelled"));
    tl_dataset *ds = t->d[domain].data;
    size_t n = tl_dataset_rows(ds);
    const int *y = tl_dataset_labels_const(ds);
    TL_CHECK(y || (tl_dataset_has_targets(ds) && per_class == 0), TL_ERR_LABEL,
             "drawing labelled rows needs a labelled domain ('%s' has %s)", tl_dataset_name(ds),
             tl_dataset_has_targets(ds) ? "regression targets: draw a count of rows, not a count "
                                          "per class"
                                        : "no labels");
    TL_CHECK(per_class > 0 || count > 0, TL_ERR_INVALID_ARG,
             "drawing labelled rows: give a count or a count per class");
    TL_ALLOC(idx, n ? n : 1);
    TL_ALLOC(li, n ? n : 1);
    TL_ALLOC(ri, n ? n : 1);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    tl_rng r;
    tl_rng_seed(&r, seed);
    tl_rng_shuffle(&r, idx, n);
    if (per_class > 0) {
        TL_TRY(tl_labels_unique(y, n, &cls, NULL, &c));
        TL_CALLOC(taken, c);
        for (size_t i = 0; i < n; i++) {
            long q = tl_labels_index(cls, c, y[idx[i]]);
            if (taken[q] < per_class) taken[q]++, li[nl++] = idx[i];
            else ri[nr++] = idx[i];
        }
        qsort(li, nl, sizeof *li, cmp_size);
        qsort(ri, nr, sizeof *ri, cmp_size);
    } else {
        /* `count` rows in shuffled order, the rest in shuffled order (TrAdaBoost's draw) */
        TL_CHECK(count < n, TL_ERR_INVALID_ARG,
                 "drawing %zu labelled rows leaves no rows of '%s' to score (it has %zu)", count,
                 tl_dataset_name(ds), n);
        nl = count;
        nr = n - count;
        memcpy(li, idx, nl * sizeof *li);
        memcpy(ri, idx + nl, nr * sizeof *ri);
    }
    TL_CHECK(nr > 0 || t->d[domain].test, TL_ERR_INVALID_ARG,
             "drawing %zu labelled rows per class takes every row of '%s': none is left to score",
             per_class, tl_dataset_name(ds));
    TL_TRY(tl_dataset_subset(ds, li, nl, &lab));
    TL_TRY(own(t, lab));
    t->d[domain].labelled = lab;
    lab = NULL;
    if (!t->d[domain].test) { /* the rest is what gets scored */
        TL_TRY(tl_dataset_subset(ds, ri, nr, &rest));
        TL_TRY(own(t, rest));
        t->d[domain].test = rest;
        rest = NULL;
    }
done:
    tl_dataset_free(lab);
    tl_dataset_free(rest);
    tl_free(idx);
    tl_free(li);
    tl_free(ri);
    tl_free(cls);
    tl_free(taken);
    return st;
}
