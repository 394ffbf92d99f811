/* What a dataset remembers about where its numbers came from, beyond the numbers: class names
 * (string labels read from a CSV: label v is class_names[v]), the svmlight index base a file was
 * read with (and whether it was guessed), and the trailing shape of an image stack (.npy / IDX).
 * Plus the two functions that put several separately loaded sets on common terms:
 * tl_datasets_unify_classes (one sorted name list, labels renumbered) and
 * tl_datasets_unify_index_base (one svmlight index base).
 *
 * Why it is built this way: a source and a target are loaded one file at a time, so each file can
 * only number the names it sees (sorted, 0..K-1) and guess the base from its own indices. Making
 * them agree is a separate, explicit step over all the sets of a task, done before any learner
 * sees them; the readers stay single-file and the rules stay in one place. Names are kept sorted
 * by byte order (strcmp) so the numbering depends only on the set of names, never on row order. */
#include <stdlib.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

void tl_dataset_clear_names(tl_dataset *ds) {
    if (!ds || !ds->class_names) return;
    for (size_t i = 0; i < ds->n_names; i++) tl_free(ds->class_names[i]);
    tl_free(ds->class_names);
    ds->class_names = NULL;
    ds->n_names = 0;
}

void tl_dataset_adopt_names(tl_dataset *ds, char **names, size_t k) {
    tl_dataset_clear_names(ds);
    ds->class_names = names;
    ds->n_names = names ? k : 0;
}

/* tl_malloc'd deep copy of names (k). */
static tl_status tl_names_copy(const char *const *names, size_t k, char ***out) {
    tl_status st = TL_OK;
    char **c = NULL;
    *out = NULL;
    TL_CALLOC(c, k ? k : 1);
    for (size_t i = 0; i < k; i++) {
        size_t n = strlen(names[i]);
        TL_ALLOC(c[i], n + 1);
        memcpy(c[i], names[i], n + 1);
    }
    *out = c;
    c = NULL;
done:
    if (c)
        for (size_t i = 0; i < k; i++) tl_free(c[i]);
    tl_free(c);
    return st;
}

static void tl_names_free(char **names, size_t k) {
    if (!names) return;
    for (size_t i = 0; i < k; i++) tl_free(names[i]);
    tl_free(names);
}

const char *const *tl_dataset_class_names(const tl_dataset *ds, size_t *k) {
    if (k) *k = ds && ds->class_names ? ds->n_names : 0;
    return ds && ds->class_names ? (const char *const *)ds->class_names : NULL;
}

long tl_dataset_class_index(const tl_dataset *ds, const char *name) {
    if (!ds || !ds->class_names || !name) return -1;
    for (size_t i = 0; i < ds->n_names; i++)
        if (strcmp(ds->class_names[i], name) == 0) return (long)i;
    return -1;
}

tl_status tl_dataset_set_class_names(tl_dataset *ds, const char *const *names, size_t k) {
    tl_status st = TL_OK;
    char **c = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "set class names: NULL dataset");
    if (!names || k == 0) {
        tl_dataset_clear_names(ds);
        goto done;
    }
    TL_CHECK(k <= (size_t)INT32_MAX, TL_ERR_INVALID_ARG, "%s: %zu class names is too many",
             tl_dataset_name(ds), k);
    for (size_t i = 0; i < k; i++) {
        TL_CHECK(names[i] && names[i][0], TL_ERR_INVALID_ARG, "%s: class name %zu is empty",
                 tl_dataset_name(ds), i);
        TL_CHECK(!strpbrk(names[i], "\n\r"), TL_ERR_INVALID_ARG,
                 "%s: class name %zu holds a line break", tl_dataset_name(ds), i);
        for (size_t j = 0; j < i; j++)
            TL_CHECK(strcmp(names[i], names[j]) != 0, TL_ERR_INVALID_ARG,
                     "%s: class name \"%s\" given twice (classes %zu and %zu)",
                     tl_dataset_name(ds), names[i], j, i);
    }
    if (ds->y)
        for (size_t i = 0; i < ds->rows; i++)
            TL_CHECK(ds->y[i] >= 0 && (size_t)ds->y[i] < k, TL_ERR_LABEL,
                     "%s: row %zu has label %d, which none of the %zu class names names",
                     tl_dataset_name(ds), i + 1, ds->y[i], k);
    TL_TRY(tl_names_copy(names, k, &c));
    tl_dataset_adopt_names(ds, c, k);
    c = NULL;
done:
    tl_names_free(c, k);
    return st;
}

tl_status tl_dataset_copy_extras(const tl_dataset *src, tl_dataset *dst) {
    tl_status st = TL_OK;
    char **c = NULL;
    if (src->class_names) TL_TRY(tl_names_copy((const char *const *)src->class_names,
                                               src->n_names, &c));
    tl_dataset_adopt_names(dst, c, src->n_names);
    c = NULL;
    dst->index_base = src->index_base;
    dst->base_guessed = src->base_guessed;
    dst->shape_nd = src->shape_nd;
    memcpy(dst->shape, src->shape, sizeof dst->shape);
done:
    return st;
}

static bool tl_names_equal(const tl_dataset *a, const tl_dataset *b) {
    if (a->n_names != b->n_names) return false;
    for (size_t i = 0; i < a->n_names; i++)
        if (strcmp(a->class_names[i], b->class_names[i]) != 0) return false;
    return true;
}

tl_status tl_classes_compatible(const tl_dataset *a, const tl_dataset *b) {
    if (a->class_names && b->class_names) {
        if (tl_names_equal(a, b)) return TL_OK;
        return tl_fail(TL_ERR_LABEL,
                       "'%s' and '%s' have different class name lists (%zu and %zu names): put "
                       "them on one list first (tl_datasets_unify_classes)",
                       tl_dataset_name(a), tl_dataset_name(b), a->n_names, b->n_names);
    }
    const tl_dataset *named = a->class_names ? a : b->class_names ? b : NULL;
    const tl_dataset *other = named == a ? b : a;
    if (named && other->y)
        return tl_fail(TL_ERR_LABEL,
                       "'%s' has class names (e.g. \"%s\") but '%s' has integer labels",
                       tl_dataset_name(named), named->class_names[0], tl_dataset_name(other));
    return TL_OK;
}

int tl_dataset_index_base(const tl_dataset *ds) { return ds ? ds->index_base : -1; }
bool tl_dataset_index_base_guessed(const tl_dataset *ds) { return ds && ds->base_guessed; }

size_t tl_dataset_sample_shape(const tl_dataset *ds, size_t dims[TL_SAMPLE_SHAPE_MAX]) {
    if (!ds) return 0;
    if (dims)
        for (size_t k = 0; k < TL_SAMPLE_SHAPE_MAX; k++) dims[k] = k < ds->shape_nd ? ds->shape[k] : 0;
    return ds->shape_nd;
}

static int tl_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

tl_status tl_datasets_unify_classes(tl_dataset **sets, size_t n) {
    tl_status st = TL_OK;
    const tl_dataset *named = NULL, *plain = NULL;
    const char **all = NULL;
    char ***copies = NULL;
    int **maps = NULL;
    size_t total = 0, k = 0;
    TL_CHECK(sets != NULL || n == 0, TL_ERR_INVALID_ARG, "unify classes: NULL set list");
    for (size_t i = 0; i < n; i++) {
        const tl_dataset *s = sets[i];
        if (!s) continue;
        if (s->class_names) {
            if (!named) named = s;
            TL_CHECK(total + s->n_names >= total, TL_ERR_NOMEM, "unify classes: too many names");
            total += s->n_names;
        } else if (s->y && !plain) {
            plain = s;
        }
    }
    if (!named) goto done; /* integer labels everywhere: nothing to do */
    TL_CHECK(!plain, TL_ERR_LABEL,
             "'%s' has class names (e.g. \"%s\") but '%s' has integer labels: give both files "
             "their classes the same way (names in both, or integers in both)",
             tl_dataset_name(named), named->class_names[0], tl_dataset_name(plain));

    /* the union, sorted */
    TL_ALLOC(all, total ? total : 1);
    for (size_t i = 0, o = 0; i < n; i++)
        if (sets[i] && sets[i]->class_names)
            for (size_t j = 0; j < sets[i]->n_names; j++) all[o++] = sets[i]->class_names[j];
    qsort(all, total, sizeof *all, tl_cmp_str);
    for (size_t i = 0; i < total; i++)
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0) all[k++] = all[i];
    TL_CHECK(k <= (size_t)INT32_MAX, TL_ERR_LABEL, "unify classes: %zu class names is too many", k);

    /* everything allocated before any set changes, so a failure leaves them as they were */
    TL_CALLOC(copies, n);
    TL_CALLOC(maps, n);
    for (size_t i = 0; i < n; i++) {
        tl_dataset *s = sets[i];
        if (!s) continue;
        TL_TRY(tl_names_copy(all, k, &copies[i]));
        if (!s->class_names) continue;
        TL_ALLOC(maps[i], s->n_names);
        for (size_t j = 0; j < s->n_names; j++) {
            const char *key = s->class_names[j];
            const char **hit = bsearch(&key, all, k, sizeof *all, tl_cmp_str);
            maps[i][j] = (int)(hit - all);
        }
        if (s->y)
            for (size_t r = 0; r < s->rows; r++)
                TL_CHECK(s->y[r] >= 0 && (size_t)s->y[r] < s->n_names, TL_ERR_LABEL,
                         "%s: row %zu has label %d outside its %zu class names",
                         tl_dataset_name(s), r + 1, s->y[r], s->n_names);
    }
    for (size_t i = 0; i < n; i++) {
        tl_dataset *s = sets[i];
        if (!s) continue;
        if (maps[i] && s->y)
            for (size_t r = 0; r < s->rows; r++) s->y[r] = maps[i][s->y[r]];
        /* `all` points into the sets' own names: replace only after every map is applied */
    }
    for (size_t i = 0; i < n; i++) {
        if (!sets[i]) continue;
        tl_dataset_adopt_names(sets[i], copies[i], k);
        copies[i] = NULL;
    }
done:
    if (copies)
        for (size_t i = 0; i < n; i++) tl_names_free(copies[i], k);
    if (maps)
        for (size_t i = 0; i < n; i++) tl_free(maps[i]);
    tl_free(copies);
    tl_free(maps);
    tl_free(all);
    return st;
}

/* Shift a set read 1-based to 0-based reading: every index + 1, one more column (the column 0
 * the file never mentioned). */
static tl_status tl_shift_to_zero_based(tl_dataset *ds) {
    tl_status st = TL_OK;
    tl_mat X = {0, 0, 0, NULL};
    TL_CHECK(ds->cols <= (size_t)INT32_MAX, TL_ERR_INVALID_ARG,
             "%s: %zu columns exceed the int32 index range", tl_dataset_name(ds), ds->cols + 1);
    if (ds->sparse) {
        for (size_t k = 0; k < ds->nnz; k++) ds->indices[k]++;
    } else {
        TL_TRY(tl_mat_alloc(&X, ds->rows, ds->cols + 1));
        for (size_t i = 0; i < ds->rows; i++) {
            TL_AT(X, i, 0) = 0.0;
            memcpy(&TL_AT(X, i, 1), ds->X.data + i * ds->X.ld, ds->cols * sizeof(double));
        }
        if (!ds->borrowed) tl_mat_free(&ds->X);
        ds->borrowed = false;
        ds->X = X;
        X.data = NULL;
    }
    ds->cols++;
    ds->index_base = 0;
done:
    tl_mat_free(&X);
    return st;
}

tl_status tl_datasets_unify_index_base(tl_dataset **sets, size_t n, int *base_out) {
    tl_status st = TL_OK;
    const tl_dataset *zero = NULL, *forced_one = NULL;
    if (base_out) *base_out = -1;
    TL_CHECK(sets != NULL || n == 0, TL_ERR_INVALID_ARG, "unify index base: NULL set list");
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const tl_dataset *s = sets[i];
        if (!s || s->index_base < 0) continue;
        any = true;
        if (s->index_base == 0 && !zero) zero = s;
        if (s->index_base == 1 && !s->base_guessed && !forced_one) forced_one = s;
    }
    if (!any) goto done;
    if (!zero) {
        if (base_out) *base_out = 1;
        goto done;
    }
    TL_CHECK(!forced_one, TL_ERR_FORMAT,
             "'%s' was read 1-based as asked, but '%s' is 0-based (it uses index 0): read them "
             "with one index base",
             tl_dataset_name(forced_one), tl_dataset_name(zero));
    for (size_t i = 0; i < n; i++)
        if (sets[i] && sets[i]->index_base == 1) TL_TRY(tl_shift_to_zero_based(sets[i]));
    if (base_out) *base_out = 0;
done:
    return st;
}
