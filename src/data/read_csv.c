/* CSV / TSV / whitespace-separated text to a dense dataset.
 *
 * One row per line, one sample per row; one column holds the class label (by default the last;
 * by index, negative from the end; by header name; or none). Labels are integers, or class
 * names ("cat", "dog"), which become classes 0..K-1 in sorted name order with the names kept on
 * the dataset (a column mixing numbers and names is an error). The header row is detected unless
 * forced (rule in tl/data.h: a name above a number; a numeric row with a missing value is data,
 * and an error), the delimiter is detected from the first row (the most frequent of , tab ;
 * outside quotes, else runs of whitespace). Cells may be quoted ("..." with "" for a quote) but
 * must not span lines.
 *
 * Why it is built this way: the file is mapped whole and parsed in a single pass over the buffer,
 * line by line, into a feature array that grows geometrically (initial size estimated from the
 * first row), so a 100 MB file costs one mmap and roughly one allocation. Every cell is checked
 * against a strict number grammar before strtod (C locale), so "1.5x", "0x10", "inf" or an
 * empty cell is an error naming file:line and column instead of a silent 0; missing-value marks
 * (empty, NA, N/A, ?, null, NaN) are named as such, never taken for a header. Class names are
 * interned in a small hash table of spans into the buffer during the pass and numbered in sorted
 * order at the end (one renumbering of y), so string labels cost no second pass. NaN/Inf cells
 * are refused here, not later, so the message can name the line. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "internal/check.h"
#include "internal/testing.h"

typedef struct {
    const char *p;
    size_t n;
} tl_span;

typedef struct {
    const char *name;
    char delim;   /* field delimiter; 0 = runs of spaces/tabs */
    tl_span *f;   /* fields of the current line (fcap) */
    size_t fcap;
} tl_csv;

static bool tl_is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Next line starting at *pos: [*ls, *ls + *ln) without '\n' and a trailing '\r'. */
static bool tl_next_line(const char *buf, size_t len, size_t *pos, const char **ls, size_t *ln) {
    if (*pos >= len) return false;
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - s) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r') n--;
    *ls = s;
    *ln = n;
    return true;
}

static bool tl_line_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!tl_is_blank(s[i])) return false;
    return true;
}

/* Count delimiters outside quotes on the first line and pick one. */
static char tl_detect_delim(const char *s, size_t n) {
    size_t comma = 0, tab = 0, semi = 0;
    bool inq = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') inq = !inq;
        else if (!inq && c == ',') comma++;
        else if (!inq && c == '\t') tab++;
        else if (!inq && c == ';') semi++;
    }
    if (comma == 0 && tab == 0 && semi == 0) return 0;
    if (comma >= tab && comma >= semi) return ',';
    if (tab >= semi) return '\t';
    return ';';
}

static tl_status tl_csv_push(tl_csv *c, size_t k, const char *p, size_t n) {
    tl_status st = TL_OK;
    if (k >= c->fcap) {
        size_t cap = c->fcap ? c->fcap * 2 : 64;
        size_t bytes;
        TL_CHECK(tl_size_mul(cap, sizeof(tl_span), &bytes) == 0, TL_ERR_NOMEM, "too many fields");
        tl_span *g = tl_realloc(c->f, bytes);
        TL_CHECK(g != NULL, TL_ERR_NOMEM, "out of memory splitting a line");
        c->f = g;
        c->fcap = cap;
    }
    c->f[k].p = p;
    c->f[k].n = n;
done:
    return st;
}

/* Split one line into c->f[0..*nf). Quoted fields lose their quotes (a doubled "" stays doubled:
 * it can only occur in header names, never in a number). */
static tl_status tl_csv_split(tl_csv *c, const char *s, size_t n, size_t lineno, size_t *nf) {
    tl_status st = TL_OK;
    size_t i = 0, k = 0;
    bool ws = c->delim == 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || (s[i] == '\t' && c->delim != '\t'))) i++;
        if (ws && i >= n) break;
        const char *fp;
        size_t fn;
        if (i < n && s[i] == '"') {
            size_t a = ++i;
            for (;;) {
                TL_CHECK(i < n, TL_ERR_FORMAT, "%s:%zu: field %zu: unterminated quoted field",
                         c->name, lineno, k + 1);
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            fp = s + a;
            fn = i - a;
            i++; /* closing quote */
            size_t after = i;
            while (i < n && (s[i] == ' ' || (s[i] == '\t' && c->delim != '\t'))) i++;
            bool sep_ok = i >= n || (ws ? i > after : s[i] == c->delim);
            TL_CHECK(sep_ok, TL_ERR_FORMAT,
                     "%s:%zu: field %zu: unexpected text after a closing quote", c->name, lineno,
                     k + 1);
        } else {
            size_t a = i;
            if (ws) {
                while (i < n && s[i] != ' ' && s[i] != '\t') i++;
                fn = i - a;
            } else {
                while (i < n && s[i] != c->delim) i++;
                fn = i - a;
                while (fn > 0 && (s[a + fn - 1] == ' ' ||
                                  (s[a + fn - 1] == '\t' && c->delim != '\t')))
                    fn--;
            }
            fp = s + a;
        }
        TL_TRY(tl_csv_push(c, k, fp, fn));
        k++;
        if (ws) continue;
        if (i >= n) break;
        i++; /* the delimiter */
    }
    *nf = k;
done:
    return st;
}

static bool tl_cell_numeric(tl_span f) {
    return tl_text_is_number(f.p, f.n) || tl_text_is_nonfinite_word(f.p, f.n);
}

static bool tl_ieq_n(const char *s, size_t n, const char *w) {
    size_t m = strlen(w);
    if (n != m) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return false;
    }
    return true;
}

/* A missing-value mark as spreadsheets, R and pandas write them (empty is checked apart). */
static bool tl_cell_missing_mark(tl_span f) {
    static const char *const marks[] = {"na", "n/a", "?", "null", "none", "nan", "#n/a", NULL};
    for (size_t k = 0; marks[k]; k++)
        if (tl_ieq_n(f.p, f.n, marks[k])) return true;
    return false;
}

typedef enum { CELL_NUM, CELL_EMPTY, CELL_MISSING, CELL_TEXT } tl_cell_kind;

static tl_cell_kind tl_cell_kind_of(tl_span f) {
    if (f.n == 0) return CELL_EMPTY;
    if (tl_cell_missing_mark(f)) return CELL_MISSING;
    if (tl_cell_numeric(f)) return CELL_NUM;
    return CELL_TEXT;
}

/* pandas' numbered columns: the number cells of the row, in order, read exactly 0, 1, 2, ...
 * (at least two of them), an empty cell allowed only first (the index column's header). */
static bool tl_row_numbered(const tl_span *f, size_t nf) {
    size_t next = 0;
    for (size_t j = 0; j < nf; j++) {
        tl_cell_kind k = tl_cell_kind_of(f[j]);
        if (k == CELL_TEXT) continue;
        if (k == CELL_EMPTY && j == 0) continue;
        if (k != CELL_NUM) return false;
        char want[24];
        int w = snprintf(want, sizeof want, "%zu", next);
        if (w < 0 || (size_t)w != f[j].n || memcmp(want, f[j].p, f[j].n) != 0) return false;
        next++;
    }
    return next >= 2;
}

/* header=auto: the rule in tl/data.h. f1 (n1) the first row, f2 (n2) the second (NULL: none). */
static bool tl_header_auto(const tl_span *f1, size_t n1, const tl_span *f2, size_t n2) {
    bool text = false, num = false;
    for (size_t j = 0; j < n1; j++) {
        tl_cell_kind k = tl_cell_kind_of(f1[j]);
        text |= k == CELL_TEXT;
        num |= k == CELL_NUM;
    }
    if (!text) return false;
    if (tl_row_numbered(f1, n1)) return true;
    if (!f2) return !num;
    for (size_t j = 0; j < n1 && j < n2; j++)
        if (tl_cell_kind_of(f1[j]) == CELL_TEXT && tl_cell_kind_of(f2[j]) != CELL_TEXT)
            return true;
    return false;
}

/* ---- class names met in the label column: spans into the buffer, numbered as first seen ---- */
typedef struct {
    tl_span *names; /* (count) in order of first appearance */
    size_t count, ncap;
    size_t *slots;  /* (cap) open addressing: index + 1, 0 = empty */
    size_t cap;
} tl_names;

static uint64_t tl_span_hash(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static tl_status tl_names_grow(tl_names *t) {
    tl_status st = TL_OK;
    size_t nc = t->cap ? t->cap * 2 : 64;
    size_t *slots = NULL;
    TL_CHECK(nc < SIZE_MAX / sizeof *slots / 2, TL_ERR_NOMEM, "too many class names");
    TL_CALLOC(slots, nc);
    for (size_t i = 0; i < t->count; i++) {
        size_t h = (size_t)tl_span_hash(t->names[i].p, t->names[i].n) & (nc - 1);
        while (slots[h]) h = (h + 1) & (nc - 1);
        slots[h] = i + 1;
    }
    tl_free(t->slots);
    t->slots = slots;
    t->cap = nc;
done:
    return st;
}

/* The class id of name f, adding it when new. */
static tl_status tl_names_id(tl_names *t, tl_span f, int *id) {
    tl_status st = TL_OK;
    if ((t->count + 1) * 2 > t->cap) TL_TRY(tl_names_grow(t));
    size_t h = (size_t)tl_span_hash(f.p, f.n) & (t->cap - 1);
    while (t->slots[h]) {
        tl_span g = t->names[t->slots[h] - 1];
        if (g.n == f.n && memcmp(g.p, f.p, f.n) == 0) {
            *id = (int)(t->slots[h] - 1);
            goto done;
        }
        h = (h + 1) & (t->cap - 1);
    }
    TL_CHECK(t->count < (size_t)INT_MAX, TL_ERR_LABEL, "too many class names");
    if (t->count == t->ncap) {
        size_t nc = t->ncap ? t->ncap * 2 : 16;
        tl_span *g = tl_realloc(t->names, nc * sizeof *g);
        TL_CHECK(g != NULL, TL_ERR_NOMEM, "out of memory collecting class names");
        t->names = g;
        t->ncap = nc;
    }
    t->names[t->count] = f;
    t->slots[h] = t->count + 1;
    *id = (int)t->count++;
done:
    return st;
}

static int tl_cmp_cstr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Number the names in sorted order: y (n) renumbered, the sorted distinct names (quotes
 * undoubled) handed to ds. */
static tl_status tl_names_finish(const tl_names *t, int *y, size_t n, tl_dataset *ds) {
    tl_status st = TL_OK;
    char **str = NULL, **sorted = NULL;
    int *map = NULL;
    size_t m = t->count, k = 0;
    TL_CALLOC(str, m ? m : 1);
    for (size_t i = 0; i < m; i++) {
        tl_span f = t->names[i];
        TL_ALLOC(str[i], f.n + 1);
        size_t o = 0;
        for (size_t q = 0; q < f.n; q++) {
            str[i][o++] = f.p[q];
            if (f.p[q] == '"' && q + 1 < f.n && f.p[q + 1] == '"') q++;
        }
        str[i][o] = '\0';
    }
    TL_ALLOC(sorted, m ? m : 1);
    memcpy(sorted, str, m * sizeof *sorted);
    qsort(sorted, m, sizeof *sorted, tl_cmp_cstr);
    for (size_t i = 0; i < m; i++)
        if (k == 0 || strcmp(sorted[k - 1], sorted[i]) != 0) sorted[k++] = sorted[i];
    TL_ALLOC(map, m ? m : 1);
    for (size_t i = 0; i < m; i++) {
        char **hit = bsearch(&str[i], sorted, k, sizeof *sorted, tl_cmp_cstr);
        map[i] = (int)(hit - sorted);
    }
    for (size_t r = 0; r < n; r++) y[r] = map[y[r]];
    TL_TRY(tl_dataset_set_class_names(ds, (const char *const *)sorted, k));
done:
    if (str)
        for (size_t i = 0; i < m; i++) tl_free(str[i]);
    tl_free(str);
    tl_free(sorted);
    tl_free(map);
    return st;
}

/* "column 3" or "column 3 (\"age\")" when there is a header. */
static const char *tl_colname(const tl_span *hdr, size_t j, char *buf, size_t cap) {
    if (hdr && hdr[j].n > 0) {
        char q[64];
        snprintf(buf, cap, "column %zu (\"%s\")", j + 1,
                 tl_text_quote(hdr[j].p, hdr[j].n, q, sizeof q));
    } else {
        snprintf(buf, cap, "column %zu", j + 1);
    }
    return buf;
}

tl_status tl_parse_csv(const char *buf, size_t len, const char *name, const tl_load_opts *opts,
                       tl_dataset **out) {
    return tlp_parse_csv(buf, len, name, opts, false, out);
}

static tl_status parse_csv(const char *buf, size_t len, const char *name, const tl_load_opts *opts,
                          bool targets, int part, int parts, size_t *total, tl_dataset **out);

tl_status tlp_parse_csv(const char *buf, size_t len, const char *name, const tl_load_opts *opts,
                        bool targets, tl_dataset **out) {
    size_t total;
    return parse_csv(buf, len, name, opts, targets, 0, 1, &total, out);
}

tl_status tlp_parse_csv_block(const char *buf, size_t len, const char *name,
                              const tl_load_opts *opts, int part, int parts, size_t *total,
                              tl_dataset **out) {
    tl_status st = parse_csv(buf, len, name, opts, false, part, parts, total, out);
    if (st == TL_OK && *total == SIZE_MAX) /* class names: their numbers need every row */
        st = parse_csv(buf, len, name, opts, false, 0, 1, total, out);
    return st;
}

/* The rows of the text (parts = 1), or block `part` of `parts` of its data rows (tl_block_range's
 * cut): then the lines are first counted (line ends and blank lines only: no field is split or
 * converted), and the lines of other blocks are skipped unparsed; line numbers stay the file's.
 * *total: the data rows of the whole text; SIZE_MAX (and *out NULL) when a block meets a class
 * name in the label column (the names are numbered in sorted order over every row, so the caller
 * reads the whole text). */
static tl_status parse_csv(const char *buf, size_t len, const char *name, const tl_load_opts *opts,
                          bool targets, int part, int parts, size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_load_opts o = opts ? *opts : tl_load_opts_default();
    tl_csv c = {name ? name : "<csv>", 0, NULL, 0};
    tl_span *hdr = NULL, *row1 = NULL;
    tl_names names = {NULL, 0, 0, NULL, 0};
    size_t num_line = 0, name_line = 0; /* first label that is a number / a name */
    tl_span num_cell = {NULL, 0}, name_cell = {NULL, 0};
    double *X = NULL;
    int *y = NULL;
    double *tv = NULL; /* targets: the label column's values */
    tl_dataset *ds = NULL;
    size_t pos = 0, lineno = 0, nf = 0, nfields = 0, rows = 0, cap_rows = 0, d = 0;
    const char *ls = NULL;
    size_t ln = 0;
    long lab = -1;
    char q[64], cn[128];
    *out = NULL;
    if (parts <= 1) *total = 0;
    if (!buf) len = 0;

    /* UTF-8 byte order mark (spreadsheet exports) */
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        pos = 3;

    /* first non-blank line */
    bool got = false;
    while (tl_next_line(buf, len, &pos, &ls, &ln)) {
        lineno++;
        if (!tl_line_blank(ls, ln)) {
            got = true;
            break;
        }
    }
    TL_CHECK(got, TL_ERR_EMPTY, "%s:%zu: empty file (no rows)", c.name, lineno ? lineno : 1);
    size_t first_line = lineno;
    size_t first_len = ln;

    if (o.delimiter == ' ')
        c.delim = 0;
    else if (o.delimiter)
        c.delim = o.delimiter;
    else
        c.delim = tl_detect_delim(ls, ln);
    TL_CHECK(c.delim != '"' && c.delim != '\n' && c.delim != '\r', TL_ERR_INVALID_ARG,
             "%s: the delimiter cannot be a quote or a line break", c.name);

    TL_TRY(tl_csv_split(&c, ls, ln, lineno, &nf));
    nfields = nf;
    bool header;
    if (o.csv_header < 0) {
        /* look at the second row too, then put the first back in c.f */
        TL_ALLOC(row1, nfields);
        memcpy(row1, c.f, nfields * sizeof *row1);
        size_t pos2 = pos, line2 = lineno, nf2 = 0;
        const char *l2 = NULL;
        size_t n2 = 0;
        bool second = false;
        while (tl_next_line(buf, len, &pos2, &l2, &n2)) {
            line2++;
            if (!tl_line_blank(l2, n2)) {
                second = true;
                break;
            }
        }
        if (second) TL_TRY(tl_csv_split(&c, l2, n2, line2, &nf2));
        header = tl_header_auto(row1, nfields, second ? c.f : NULL, nf2);
        memcpy(c.f, row1, nfields * sizeof *row1);
        nf = nfields;
    } else {
        header = o.csv_header != 0;
    }

    /* label column */
    if (o.label_name) {
        TL_CHECK(header, TL_ERR_NOT_FOUND,
                 "%s:%zu: label column \"%s\" asked for by name, but the file has no header row%s",
                 c.name, first_line, o.label_name,
                 o.csv_header < 0 ? " (the first row is all numbers)" : "");
        lab = -1;
        for (size_t j = 0; j < nf; j++)
            if (strlen(o.label_name) == c.f[j].n && memcmp(o.label_name, c.f[j].p, c.f[j].n) == 0) {
                lab = (long)j;
                break;
            }
        if (lab < 0) {
            char cols[256];
            size_t o2 = 0;
            cols[0] = '\0';
            for (size_t j = 0; j < nf && j < 8; j++) {
                int w = snprintf(cols + o2, sizeof cols - o2, "%s\"%s\"", j ? ", " : "",
                                 tl_text_quote(c.f[j].p, c.f[j].n, q, sizeof q));
                if (w < 0 || (size_t)w >= sizeof cols - o2) break;
                o2 += (size_t)w;
            }
            TL_CHECK(false, TL_ERR_NOT_FOUND,
                     "%s:%zu: no column named \"%s\" in the header (columns: %s%s)", c.name,
                     first_line, o.label_name, cols, nf > 8 ? ", ..." : "");
        }
    } else if (o.label_col == TL_LABEL_COL_NONE) {
        lab = -1;
    } else {
        long L = o.label_col;
        long eff = L < 0 ? (long)nfields + L : L;
        TL_CHECK(eff >= 0 && (size_t)eff < nfields, TL_ERR_INVALID_ARG,
                 "%s:%zu: label column %ld is out of range: the file has %zu column%s", c.name,
                 first_line, L, nfields, nfields == 1 ? "" : "s");
        lab = eff;
    }
    d = nfields - (lab >= 0 ? 1 : 0);
    TL_CHECK(d > 0, TL_ERR_FORMAT, "%s:%zu: no feature columns (only the label column)", c.name,
             first_line);

    if (header) {
        TL_ALLOC(hdr, nfields);
        memcpy(hdr, c.f, nfields * sizeof *hdr);
    }

    /* a block: count the data rows (the first line is one unless it is the header) */
    size_t lo = 0, hi = SIZE_MAX, drow = 0;
    if (parts > 1) {
        size_t p2 = pos, N = header ? 0 : 1;
        const char *l2;
        size_t n2;
        while (tl_next_line(buf, len, &p2, &l2, &n2))
            if (!tl_line_blank(l2, n2)) N++;
        tl_block_range(N, part, parts, &lo, &hi);
        TL_CHECK(hi > lo, TL_ERR_EMPTY, "%s: %zu rows leave none to part %d of %d", c.name, N,
                 part + 1, parts);
        *total = N;
    }

    /* initial capacity from the first row's length (a block: its rows) */
    cap_rows = parts > 1 ? hi - lo + 16 : len / (first_len + 1) + 16;
    {
        size_t lim = ((size_t)1 << 26) / d + 16; /* do not start beyond ~512 MB */
        if (cap_rows > lim) cap_rows = lim;
    }
    {
        size_t n0;
        TL_CHECK(tl_size_mul(cap_rows, d, &n0) == 0, TL_ERR_NOMEM, "%s: too many columns", c.name);
        TL_ALLOC(X, n0);
    }
    if (lab >= 0 && targets)
        TL_ALLOC(tv, cap_rows);
    else if (lab >= 0)
        TL_ALLOC(y, cap_rows);

    bool have_line = !header; /* the first line is data unless it was the header */
    for (;;) {
        bool first = have_line;
        have_line = false;
        if (!first) {
            if (!tl_next_line(buf, len, &pos, &ls, &ln)) break;
            lineno++;
            if (tl_line_blank(ls, ln)) continue;
        }
        if (drow < lo) { /* another block's row */
            drow++;
            continue;
        }
        if (drow >= hi) break;
        drow++;
        if (!first) TL_TRY(tl_csv_split(&c, ls, ln, lineno, &nf));
        TL_CHECK(nf == nfields, TL_ERR_FORMAT, "%s:%zu: expected %zu fields, found %zu", c.name,
                 lineno, nfields, nf);
        if (rows == cap_rows) {
            size_t nc = cap_rows + cap_rows / 2 + 16, bytes;
            TL_CHECK(tl_size_mul(nc, d * sizeof(double), &bytes) == 0 && nc > cap_rows,
                     TL_ERR_NOMEM, "%s:%zu: too many rows", c.name, lineno);
            double *gx = tl_realloc(X, bytes);
            TL_CHECK(gx != NULL, TL_ERR_NOMEM, "%s:%zu: out of memory (%zu rows)", c.name, lineno,
                     nc);
            X = gx;
            if (y) {
                int *gy = tl_realloc(y, nc * sizeof *y);
                TL_CHECK(gy != NULL, TL_ERR_NOMEM, "%s:%zu: out of memory", c.name, lineno);
                y = gy;
            }
            if (tv) {
                double *gt = tl_realloc(tv, nc * sizeof *tv);
                TL_CHECK(gt != NULL, TL_ERR_NOMEM, "%s:%zu: out of memory", c.name, lineno);
                tv = gt;
            }
            cap_rows = nc;
        }
        double *row = X + rows * d;
        size_t o2 = 0;
        for (size_t j = 0; j < nf; j++) {
            tl_span f = c.f[j];
            if ((long)j == lab && tv) { /* a regression target: any finite number */
                double v = 0;
                TL_CHECK(f.n > 0 && !tl_cell_missing_mark(f), TL_ERR_LABEL,
                         "%s:%zu: %s: missing target \"%s\" (missing values are not supported)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                TL_CHECK(tl_text_is_number(f.p, f.n) && tl_text_to_double(f.p, f.n, &v) &&
                             isfinite(v),
                         TL_ERR_LABEL,
                         "%s:%zu: %s: target \"%s\" is not a finite number (regression targets "
                         "are real numbers)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                tv[rows] = v;
                continue;
            }
            if ((long)j == lab) {
                double v = 0;
                bool num = tl_text_is_number(f.p, f.n);
                TL_CHECK(f.n > 0, TL_ERR_LABEL,
                         "%s:%zu: %s: empty label (missing values are not supported)", c.name,
                         lineno, tl_colname(hdr, j, cn, sizeof cn));
                TL_CHECK(!tl_cell_missing_mark(f), TL_ERR_LABEL,
                         "%s:%zu: %s: missing label \"%s\" (missing values are not supported)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                if (!num && !tl_text_is_nonfinite_word(f.p, f.n)) {
                    /* a class name */
                    char q2[64];
                    if (parts > 1) { /* numbered over every row: the caller reads them all */
                        *total = SIZE_MAX;
                        goto done;
                    }
                    TL_CHECK(num_line == 0, TL_ERR_LABEL,
                             "%s:%zu: %s: label \"%s\" is a name, but line %zu's label \"%s\" is "
                             "a number: a label column holds integer classes or class names, "
                             "not both",
                             c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                             tl_text_quote(f.p, f.n, q, sizeof q), num_line,
                             tl_text_quote(num_cell.p, num_cell.n, q2, sizeof q2));
                    if (name_line == 0) name_line = lineno, name_cell = f;
                    TL_TRY(tl_names_id(&names, f, &y[rows]));
                    continue;
                }
                {
                    char q2[64];
                    TL_CHECK(name_line == 0, TL_ERR_LABEL,
                             "%s:%zu: %s: label \"%s\" is a number, but line %zu's label \"%s\" is "
                             "a name: a label column holds integer classes or class names, "
                             "not both",
                             c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                             tl_text_quote(f.p, f.n, q, sizeof q), name_line,
                             tl_text_quote(name_cell.p, name_cell.n, q2, sizeof q2));
                }
                if (num_line == 0) num_line = lineno, num_cell = f;
                bool fin = num && tl_text_to_double(f.p, f.n, &v);
                TL_CHECK(fin && v == floor(v) && v >= (double)INT_MIN && v <= (double)INT_MAX,
                         TL_ERR_LABEL,
                         "%s:%zu: %s: label \"%s\" is not an integer (class labels are integers "
                         "or names; a file without a label column says so: ':label=none' after "
                         "its name, or --label-col none; real-valued targets are read as "
                         "regression targets: --task regression)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                y[rows] = (int)v;
                continue;
            }
            double v;
            if (tl_text_is_number(f.p, f.n)) {
                TL_CHECK(tl_text_to_double(f.p, f.n, &v), TL_ERR_NONFINITE,
                         "%s:%zu: %s: value \"%s\" overflows to Inf", c.name, lineno,
                         tl_colname(hdr, j, cn, sizeof cn), tl_text_quote(f.p, f.n, q, sizeof q));
            } else {
                TL_CHECK(f.n > 0, TL_ERR_FORMAT,
                         "%s:%zu: %s: empty field (missing values are not supported)", c.name,
                         lineno, tl_colname(hdr, j, cn, sizeof cn));
                TL_CHECK(!tl_cell_missing_mark(f) || tl_text_is_nonfinite_word(f.p, f.n),
                         TL_ERR_FORMAT,
                         "%s:%zu: %s: missing value \"%s\" (missing values are not supported)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                TL_CHECK(!tl_text_is_nonfinite_word(f.p, f.n), TL_ERR_NONFINITE,
                         "%s:%zu: %s: NaN/Inf value \"%s\" (missing or infinite values are not "
                         "supported)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                /* a carriage return inside a line (a pasted or half-converted file) reads as
                   one field running into the next: say that, not "is it a header?" */
                TL_CHECK(!memchr(f.p, '\r', f.n), TL_ERR_FORMAT,
                         "%s:%zu: %s: value \"%s\" holds a carriage return (\\r) inside the line "
                         "(a stray \\r, e.g. from pasting or mixed line endings; lines may end in "
                         "\\n or \\r\\n)",
                         c.name, lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q));
                TL_CHECK(false, TL_ERR_FORMAT, "%s:%zu: %s: non-numeric value \"%s\"%s", c.name,
                         lineno, tl_colname(hdr, j, cn, sizeof cn),
                         tl_text_quote(f.p, f.n, q, sizeof q),
                         (drow == 1 && o.csv_header == 0) ? " (is the first row a header?)"
                         : (drow == 1 && o.csv_header < 0 && !header)
                             ? " (if the first row is a header, say so: header=yes)"
                             : "");
            }
            row[o2++] = v;
        }
        rows++;
    }
    TL_CHECK(rows > 0, TL_ERR_EMPTY, "%s:%zu: a header row but no data rows", c.name,
             first_line);

    /* shrink to fit */
    {
        double *sx = tl_realloc(X, rows * d * sizeof *X);
        if (sx) X = sx;
        if (y) {
            int *sy = tl_realloc(y, rows * sizeof *y);
            if (sy) y = sy;
        }
        if (tv) {
            double *st2 = tl_realloc(tv, rows * sizeof *tv);
            if (st2) tv = st2;
        }
    }
    tl_mat M = tl_mat_view(X, rows, d);
    X = NULL;
    int *yy = y;
    y = NULL;
    if (parts <= 1) *total = rows;
    TL_TRY(tl_dataset_adopt_dense(M, yy, &ds));
    if (name) TL_TRY(tl_dataset_set_name(ds, name));
    if (name_line) TL_TRY(tl_names_finish(&names, tl_dataset_labels(ds), rows, ds));
    if (tv) {
        tlp_dataset_adopt_targets(ds, tv);
        tv = NULL;
    }
    *out = ds;
    ds = NULL;
done:
    tl_free(c.f);
    tl_free(hdr);
    tl_free(row1);
    tl_free(names.names);
    tl_free(names.slots);
    tl_free(X);
    tl_free(y);
    tl_free(tv);
    tl_dataset_free(ds);
    return st;
}

tl_status tl_read_csv(const char *path, const tl_load_opts *opts, tl_dataset **out) {
    return tlp_read_csv(path, opts, false, out);
}

tl_status tlp_read_csv(const char *path, const tl_load_opts *opts, bool targets, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_filebuf fb;
    const char *shown = path;
    *out = NULL;
    TL_TRY(tl_textbuf_open(path, &fb, &shown));
    st = tlp_parse_csv(fb.data, fb.len, shown, opts, targets, out);
    tl_filebuf_close(&fb);
done:
    return st;
}
