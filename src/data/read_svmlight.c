/* svmlight / libsvm text to a CSR dataset (Joachims' SVM-light format, as libsvm and
 * sklearn.datasets.load_svmlight_file read it):
 *     <label> [qid:<n>] <index>:<value> <index>:<value> ... [# comment]
 * Labels are integers (-1/+1 or class numbers); indices strictly increase within a line; "qid"
 * is accepted and ignored. The index base is forced (opts->index_base 0 or 1) or detected: a file
 * in which index 0 occurs anywhere is 0-based, otherwise 1-based (the libsvm convention). The
 * Amazon DANN files are 0-based with every file using index 0, so detection gives 5000 columns.
 *
 * Why it is built this way: one pass over the mapped file appends entries to geometrically grown
 * indptr/indices/values arrays that become the dataset without a copy; the base is resolved at
 * the end (one subtraction over the indices) so detection costs no second parse. Every token is
 * validated (strict number grammar, no NaN/Inf, increasing non-negative indices) with a message
 * naming file:line, because a silently misread svmlight file shifts every feature by one. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "internal/check.h"
#include "internal/testing.h"

static bool tl_sv_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Realloc p to hold at least need elements of size es, doubling from *cap; NULL (with the
 * error recorded) on overflow or out of memory, p untouched then. */
static void *tl_grow(void *p, size_t *cap, size_t need, size_t es) {
    size_t nc = *cap ? *cap : 1024, bytes;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) {
            tl_fail(TL_ERR_NOMEM, "too many entries");
            return NULL;
        }
        nc *= 2;
    }
    if (tl_size_mul(nc, es, &bytes) != 0) {
        tl_fail(TL_ERR_NOMEM, "too many entries");
        return NULL;
    }
    void *g = tl_realloc(p, bytes);
    if (!g) {
        tl_fail(TL_ERR_NOMEM, "out of memory (%zu entries)", nc);
        return NULL;
    }
    *cap = nc;
    return g;
}

/* Grow array `arr` (capacity variable `cap`) to `need` elements or fail with TL_ERR_NOMEM. */
#define TL_GROW(arr, cap, need)                                                                    \
    do {                                                                                           \
        size_t tl_c_ = (cap);                                                                      \
        void *tl_g_ = tl_grow((arr), &tl_c_, (need), sizeof *(arr));                               \
        if (!tl_g_) {                                                                              \
            st = TL_ERR_NOMEM;                                                                     \
            goto done;                                                                             \
        }                                                                                          \
        (arr) = tl_g_;                                                                             \
        (cap) = tl_c_;                                                                             \
    } while (0)

tl_status tl_parse_svmlight(const char *buf, size_t len, const char *name,
                            const tl_load_opts *opts, tl_dataset **out) {
    return tlp_parse_svmlight(buf, len, name, opts, false, out);
}

static tl_status parse_svmlight(const char *buf, size_t len, const char *name,
                                const tl_load_opts *opts, bool targets, int part, int parts,
                                size_t *total, tl_dataset **out);

tl_status tlp_parse_svmlight(const char *buf, size_t len, const char *name,
                             const tl_load_opts *opts, bool targets, tl_dataset **out) {
    size_t total;
    return parse_svmlight(buf, len, name, opts, targets, 0, 1, &total, out);
}

tl_status tlp_parse_svmlight_block(const char *buf, size_t len, const char *name,
                                   const tl_load_opts *opts, int part, int parts, size_t *total,
                                   tl_dataset **out) {
    return parse_svmlight(buf, len, name, opts, false, part, parts, total, out);
}

/* The next line from *pos (false at the end; ++*lineno): s, its n bytes before a comment, and i,
 * where its first token starts (i == n: a blank or comment-only line). */
static bool row_line(const char *buf, size_t len, size_t *pos, size_t *lineno, const char **s,
                     size_t *n, size_t *i) {
    if (*pos >= len) return false;
    *s = buf + *pos;
    const char *nl = memchr(*s, '\n', len - *pos);
    *n = nl ? (size_t)(nl - *s) : len - *pos;
    *pos += *n + (nl ? 1 : 0);
    ++*lineno;
    const char *hash = memchr(*s, '#', *n);
    if (hash) *n = (size_t)(hash - *s);
    for (*i = 0; *i < *n && tl_sv_space((*s)[*i]);) ++*i;
    return true;
}

/* The line s (n bytes, its comment cut off) has a row: its last index:value token's index, or -1
 * when it has none or it is not a plain number (the block holding the line then says what is
 * wrong). Indices increase along a line, so the last is its largest. */
static long long last_index(const char *s, size_t n) {
    while (n > 0 && tl_sv_space(s[n - 1])) n--;
    size_t a = n;
    while (a > 0 && !tl_sv_space(s[a - 1])) a--;
    const char *colon = memchr(s + a, ':', n - a);
    if (!colon || colon == s + a || a == 0) return -1; /* no pair, or the label alone */
    long long idx = 0;
    for (const char *t = s + a; t < colon; t++) {
        if (*t < '0' || *t > '9') return -1;
        if (idx <= INT32_MAX) idx = idx * 10 + (*t - '0');
    }
    return idx;
}

/* The rows of the text (parts = 1), or block `part` of `parts` of its rows (tl_block_range's cut):
 * then a first pass counts the rows and finds the largest index (the last token of each line)
 * and whether any index is 0, so every block gets the whole file's width and index base; only
 * the block's lines are parsed; line numbers stay the file's. *total: the rows of the whole text. */
static tl_status parse_svmlight(const char *buf, size_t len, const char *name,
                                const tl_load_opts *opts, bool targets, int part, int parts,
                                size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_load_opts o = opts ? *opts : tl_load_opts_default();
    const char *nm = name ? name : "<svmlight>";
    size_t *indptr = NULL;
    int32_t *indices = NULL;
    double *values = NULL;
    int *y = NULL;
    double *tv = NULL; /* targets: the labels as real numbers (same capacity as y) */
    tl_dataset *ds = NULL;
    size_t cap_rows = 0, cap_nnz = 0, rows = 0, nnz = 0, lineno = 0, pos = 0;
    size_t zero_line = 0, max_line = 0;
    long long max_idx = -1;
    char q[64];
    *out = NULL;
    if (!buf) len = 0;
    TL_CHECK(o.index_base >= -1 && o.index_base <= 1, TL_ERR_INVALID_ARG,
             "%s: index base must be 0, 1 or -1 (auto), not %d", nm, o.index_base);

    /* indptr and y share cap_rows (indptr holds cap_rows + 1), indices and values cap_nnz */
    {
        size_t c1 = 0, c2 = 0;
        TL_GROW(indptr, c1, 1025);
        TL_GROW(y, c2, 1024);
        if (targets) {
            c2 = 0;
            TL_GROW(tv, c2, 1024);
        }
        cap_rows = 1024;
        size_t est = len / 8 + 16;
        c1 = c2 = 0;
        TL_GROW(indices, c1, est);
        TL_GROW(values, c2, est);
        cap_nnz = c1 < c2 ? c1 : c2;
    }
    indptr[0] = 0;

    size_t lo = 0, hi = SIZE_MAX, drow = 0;
    bool zero_all = false;
    if (parts > 1) { /* a block: count the rows, find the width and the base of the whole file */
        size_t N = 0, p2 = 0, l2 = 0, n, i;
        const char *s;
        while (row_line(buf, len, &p2, &l2, &s, &n, &i)) {
            if (i >= n) continue;
            N++;
            long long k = last_index(s, n);
            if (k > max_idx) max_idx = k, max_line = l2;
        }
        zero_all = o.index_base < 0 && tl_svmlight_has_index0(buf, len);
        tl_block_range(N, part, parts, &lo, &hi);
        TL_CHECK(hi > lo, TL_ERR_EMPTY, "%s: %zu rows leave none to part %d of %d", nm, N,
                 part + 1, parts);
        *total = N;
    }

    const char *s;
    size_t n, i;
    while (row_line(buf, len, &pos, &lineno, &s, &n, &i)) {
        if (i >= n) continue; /* blank or comment-only line */
        if (drow < lo) { /* another block's row */
            drow++;
            continue;
        }
        if (drow >= hi) break;
        drow++;

        /* label */
        size_t a = i;
        while (i < n && !tl_sv_space(s[i])) i++;
        {
            const char *t = s + a;
            size_t tn = i - a;
            TL_CHECK(memchr(t, ':', tn) == NULL, TL_ERR_FORMAT,
                     "%s:%zu: the line starts with \"%s\", expected a label before the "
                     "index:value pairs",
                     nm, lineno, tl_text_quote(t, tn, q, sizeof q));
            double v = 0;
            bool num = tl_text_is_number(t, tn);
            if (targets)
                TL_CHECK(num && tl_text_to_double(t, tn, &v) && isfinite(v), TL_ERR_LABEL,
                         "%s:%zu: target \"%s\" is not a finite number (regression targets are "
                         "real numbers)",
                         nm, lineno, tl_text_quote(t, tn, q, sizeof q));
            else
                TL_CHECK(num && tl_text_to_double(t, tn, &v) && v == floor(v) &&
                             v >= (double)INT_MIN && v <= (double)INT_MAX,
                         TL_ERR_LABEL,
                         "%s:%zu: label \"%s\" is not an integer%s", nm, lineno,
                         tl_text_quote(t, tn, q, sizeof q),
                         !num ? (memchr(t, ',', tn) ? " (multi-label files are not supported)"
                                                   : " (string class labels are not supported)")
                              : " (real-valued targets are read as regression targets: --task "
                                "regression)");
            if (rows == cap_rows) {
                size_t c1 = cap_rows + 1, c2 = cap_rows, c3 = cap_rows;
                TL_GROW(indptr, c1, cap_rows * 2 + 1);
                TL_GROW(y, c2, cap_rows * 2);
                if (targets) {
                    TL_GROW(tv, c3, cap_rows * 2);
                    if (c3 < c2) c2 = c3;
                }
                cap_rows = c2 < c1 - 1 ? c2 : c1 - 1;
            }
            if (targets)
                tv[rows] = v, y[rows] = 0;
            else
                y[rows] = (int)v;
        }

        long long prev = -1;
        size_t prev_tok_is_label = 1;
        for (;;) {
            while (i < n && tl_sv_space(s[i])) i++;
            if (i >= n) break;
            a = i;
            while (i < n && !tl_sv_space(s[i])) i++;
            const char *t = s + a;
            size_t tn = i - a;
            const char *colon = memchr(t, ':', tn);
            TL_CHECK(colon != NULL, TL_ERR_FORMAT,
                     "%s:%zu: bad token \"%s\" (expected index:value)", nm, lineno,
                     tl_text_quote(t, tn, q, sizeof q));
            size_t kn = (size_t)(colon - t);
            const char *vp = colon + 1;
            size_t vn = tn - kn - 1;
            if (kn == 3 && memcmp(t, "qid", 3) == 0) {
                TL_CHECK(prev_tok_is_label, TL_ERR_FORMAT,
                         "%s:%zu: \"qid\" must come right after the label", nm, lineno);
                prev_tok_is_label = 0;
                continue;
            }
            prev_tok_is_label = 0;
            TL_CHECK(kn > 0, TL_ERR_FORMAT, "%s:%zu: bad token \"%s\" (missing index)", nm,
                     lineno, tl_text_quote(t, tn, q, sizeof q));
            bool neg = t[0] == '-';
            long long idx = 0;
            size_t k = neg ? 1 : 0;
            bool digits = k < kn;
            for (; k < kn; k++) {
                if (t[k] < '0' || t[k] > '9') {
                    digits = false;
                    break;
                }
                if (idx <= INT32_MAX) idx = idx * 10 + (t[k] - '0');
            }
            TL_CHECK(digits, TL_ERR_FORMAT, "%s:%zu: bad index \"%s\" in \"%s\"", nm, lineno,
                     tl_text_quote(t, kn, q, sizeof q), tl_text_quote(t, tn, q, sizeof q));
            TL_CHECK(!neg, TL_ERR_FORMAT, "%s:%zu: negative index -%lld", nm, lineno, idx);
            TL_CHECK(idx <= INT32_MAX, TL_ERR_FORMAT, "%s:%zu: index \"%s\" is too large", nm,
                     lineno, tl_text_quote(t, kn, q, sizeof q));
            TL_CHECK(idx > prev, TL_ERR_FORMAT,
                     "%s:%zu: index %lld after %lld (indices must be strictly increasing)", nm,
                     lineno, idx, prev);
            if (idx == 0) {
                TL_CHECK(o.index_base != 1, TL_ERR_FORMAT,
                         "%s:%zu: index 0 in a 1-based file", nm, lineno);
                if (!zero_line) zero_line = lineno;
            }
            prev = idx;
            double v;
            if (tl_text_is_number(vp, vn)) {
                TL_CHECK(tl_text_to_double(vp, vn, &v), TL_ERR_NONFINITE,
                         "%s:%zu: index %lld: value \"%s\" overflows to Inf", nm, lineno, idx,
                         tl_text_quote(vp, vn, q, sizeof q));
            } else {
                TL_CHECK(vn > 0, TL_ERR_FORMAT, "%s:%zu: index %lld: missing value", nm, lineno,
                         idx);
                TL_CHECK(!tl_text_is_nonfinite_word(vp, vn), TL_ERR_NONFINITE,
                         "%s:%zu: index %lld: NaN/Inf value \"%s\"", nm, lineno, idx,
                         tl_text_quote(vp, vn, q, sizeof q));
                TL_CHECK(false, TL_ERR_FORMAT, "%s:%zu: index %lld: non-numeric value \"%s\"", nm,
                         lineno, idx, tl_text_quote(vp, vn, q, sizeof q));
            }
            if (nnz == cap_nnz) {
                size_t c1 = cap_nnz, c2 = cap_nnz;
                TL_GROW(indices, c1, cap_nnz + 1);
                TL_GROW(values, c2, cap_nnz + 1);
                cap_nnz = c1 < c2 ? c1 : c2;
            }
            indices[nnz] = (int32_t)idx;
            values[nnz] = v;
            nnz++;
            if (idx > max_idx && parts <= 1) {
                max_idx = idx;
                max_line = lineno;
            }
        }
        rows++;
        indptr[rows] = nnz;
    }
    TL_CHECK(rows > 0, TL_ERR_EMPTY, "%s:%zu: empty file (no rows)", nm, lineno ? lineno : 1);

    if (parts <= 1) *total = rows;
    int base = o.index_base >= 0 ? o.index_base : (zero_line || zero_all ? 0 : 1);
    if (base == 1)
        for (size_t k = 0; k < nnz; k++) indices[k]--;
    size_t need = max_idx < 0 ? 0 : (size_t)(max_idx + 1 - base);
    size_t cols = need;
    if (o.n_features > 0) {
        TL_CHECK(need <= o.n_features, TL_ERR_FORMAT,
                 "%s:%zu: index %lld is beyond the %zu features asked for (%d-based)", nm,
                 max_line, max_idx, o.n_features, base);
        TL_CHECK(o.n_features <= (size_t)INT32_MAX + 1, TL_ERR_INVALID_ARG,
                 "%s: %zu features exceed the int32 index range", nm, o.n_features);
        cols = o.n_features;
    }
    {
        size_t *si = tl_realloc(indptr, (rows + 1) * sizeof *indptr);
        if (si) indptr = si;
        int *sy = tl_realloc(y, rows * sizeof *y);
        if (sy) y = sy;
        if (nnz) {
            int32_t *sn = tl_realloc(indices, nnz * sizeof *indices);
            if (sn) indices = sn;
            double *sv = tl_realloc(values, nnz * sizeof *values);
            if (sv) values = sv;
        }
    }
    if (targets) { /* the classes' array was only a placeholder */
        tl_free(y);
        y = NULL;
    }
    st = tl_dataset_adopt_csr(rows, cols, indptr, indices, values, y, &ds);
    indptr = NULL;
    indices = NULL;
    values = NULL;
    y = NULL;
    if (st != TL_OK) goto done;
    if (tv) {
        tlp_dataset_adopt_targets(ds, tv);
        tv = NULL;
    }
    if (name) TL_TRY(tl_dataset_set_name(ds, name));
    ds->index_base = base;
    ds->base_guessed = o.index_base < 0;
    if (o.densify) TL_TRY(tl_dataset_densify(ds));
    *out = ds;
    ds = NULL;
done:
    tl_free(indptr);
    tl_free(indices);
    tl_free(values);
    tl_free(y);
    tl_free(tv);
    tl_dataset_free(ds);
    return st;
}

tl_status tl_read_svmlight(const char *path, const tl_load_opts *opts, tl_dataset **out) {
    return tlp_read_svmlight(path, opts, false, out);
}

tl_status tlp_read_svmlight(const char *path, const tl_load_opts *opts, bool targets,
                            tl_dataset **out) {
    tl_status st = TL_OK;
    tl_filebuf fb;
    const char *shown = path;
    *out = NULL;
    TL_TRY(tl_textbuf_open(path, &fb, &shown));
    st = tlp_parse_svmlight(fb.data, fb.len, shown, opts, targets, out);
    tl_filebuf_close(&fb);
done:
    return st;
}

bool tl_svmlight_has_index0(const char *buf, size_t len) {
    size_t pos = 0;
    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        const char *hash = memchr(s, '#', n);
        if (hash) n = (size_t)(hash - s);
        size_t i = 0;
        while (i < n && tl_sv_space(s[i])) i++;
        while (i < n && !tl_sv_space(s[i])) i++; /* the label */
        for (;;) {
            while (i < n && tl_sv_space(s[i])) i++;
            if (i >= n) break;
            size_t a = i, zeros = 0;
            while (i < n && s[i] == '0') i++, zeros++;
            if (zeros > 0 && i < n && s[i] == ':' && i > a) return true;
            while (i < n && !tl_sv_space(s[i])) i++;
        }
    }
    return false;
}
