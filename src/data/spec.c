/* Data specs and format dispatch: "file.mat:X_src,Y_src", "X.npy:y.npy", "mnist_dir:train",
 * "data.csv", "data.csv.gz:label=class,header=yes", "-" (standard input) ... (grammar at the top
 * of tl/data.h), per-file options, format names and guessing by extension.
 *
 * Why it is built this way: a spec is a path optionally followed by ':' and a format-specific
 * suffix, but paths may themselves contain ':' (and Windows-style or URL-like names do). So the
 * whole spec is tried as a path first; otherwise it is split at the LAST ':' whose left part
 * exists on disk, which is unambiguous for every spec whose file exists and never guesses at
 * names that do not. The loaded dataset is named after the spec so every later message (NaN
 * found, labels missing, shapes disagree) says which input it is about. Per-file options
 * ("key=value,..." after the text formats) are parsed into a copy of the caller's tl_load_opts,
 * so "--source a.csv --target b.csv:label=none" needs no new command-line option; a key that
 * does not apply to the file's format is an error, never silently ignored. */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

tl_load_opts tl_load_opts_default(void) {
    tl_load_opts o;
    memset(&o, 0, sizeof o);
    o.format = TL_FORMAT_AUTO;
    o.csv_header = -1;
    o.label_col = -1;
    o.label_name = NULL;
    o.delimiter = 0;
    o.index_base = -1;
    o.n_features = 0;
    o.densify = false;
    return o;
}

static int tl_lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

static bool tl_streq_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tl_lower((unsigned char)*a) != tl_lower((unsigned char)*b)) return false;
    return *a == *b;
}

/* s ends with suffix (case-insensitive) */
static bool tl_ends_ci(const char *s, size_t n, const char *suffix) {
    size_t m = strlen(suffix);
    if (m > n) return false;
    for (size_t i = 0; i < m; i++)
        if (tl_lower((unsigned char)s[n - m + i]) != tl_lower((unsigned char)suffix[i]))
            return false;
    return true;
}

tl_status tl_format_parse(const char *name, tl_format *out) {
    static const struct {
        const char *word;
        tl_format f;
    } table[] = {{"auto", TL_FORMAT_AUTO},         {"csv", TL_FORMAT_CSV},
                 {"tsv", TL_FORMAT_CSV},           {"txt", TL_FORMAT_SVMLIGHT},
                 {"svmlight", TL_FORMAT_SVMLIGHT}, {"libsvm", TL_FORMAT_SVMLIGHT},
                 {"svm", TL_FORMAT_SVMLIGHT},      {"mat", TL_FORMAT_MAT},
                 {"matlab", TL_FORMAT_MAT},        {"npy", TL_FORMAT_NPY},
                 {"numpy", TL_FORMAT_NPY},         {"idx", TL_FORMAT_IDX}};
    if (!name) return tl_fail(TL_ERR_INVALID_ARG, "format: no name given");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (tl_streq_ci(name, table[i].word)) {
            *out = table[i].f;
            return TL_OK;
        }
    return tl_fail(TL_ERR_INVALID_ARG,
                   "unknown data format \"%s\" (expected auto, csv, svmlight, mat, npy or idx)",
                   name);
}

const char *tl_format_name(tl_format f) {
    switch (f) {
    case TL_FORMAT_AUTO: return "auto";
    case TL_FORMAT_CSV: return "csv";
    case TL_FORMAT_SVMLIGHT: return "svmlight";
    case TL_FORMAT_MAT: return "mat";
    case TL_FORMAT_NPY: return "npy";
    case TL_FORMAT_IDX: return "idx";
    }
    return "unknown";
}

tl_format tl_format_guess(const char *path) {
    if (!path || !*path) return TL_FORMAT_AUTO;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return TL_FORMAT_IDX;
    size_t n = strlen(path);
    bool gz = tl_ends_ci(path, n, ".gz");
    size_t m = gz ? n - 3 : n;
    if (tl_ends_ci(path, m, "idx3-ubyte") || tl_ends_ci(path, m, "idx1-ubyte") ||
        tl_ends_ci(path, m, ".idx"))
        return TL_FORMAT_IDX;
    /* gzip-compressed text: the format of the name before ".gz" */
    if (tl_ends_ci(path, m, ".csv") || tl_ends_ci(path, m, ".tsv")) return TL_FORMAT_CSV;
    if (tl_ends_ci(path, m, ".svmlight") || tl_ends_ci(path, m, ".svm") ||
        tl_ends_ci(path, m, ".libsvm") || tl_ends_ci(path, m, ".txt"))
        return TL_FORMAT_SVMLIGHT;
    if (gz) return TL_FORMAT_AUTO;
    if (tl_ends_ci(path, n, ".mat")) return TL_FORMAT_MAT;
    if (tl_ends_ci(path, n, ".npy")) return TL_FORMAT_NPY;
    return TL_FORMAT_AUTO;
}

static bool tl_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static bool tl_is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && !S_ISDIR(sb.st_mode);
}

/* tl_malloc'd copy of s[0..n) */
static tl_status tl_strndup_(const char *s, size_t n, char **out) {
    tl_status st = TL_OK;
    char *p = NULL;
    TL_ALLOC(p, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    *out = p;
done:
    return st;
}

/* a + b, with a '/' between unless a is empty */
static tl_status tl_path_join(const char *a, size_t an, const char *b, char **out) {
    tl_status st = TL_OK;
    char *p = NULL;
    size_t bn = strlen(b);
    TL_CHECK(an < SIZE_MAX / 2 && bn < SIZE_MAX / 2, TL_ERR_NOMEM, "path too long");
    TL_ALLOC(p, an + bn + 2);
    memcpy(p, a, an);
    size_t o = an;
    if (an > 0 && a[an - 1] != '/') p[o++] = '/';
    memcpy(p + o, b, bn + 1);
    *out = p;
done:
    return st;
}

/* Length of the folder part of path (without the trailing '/'), 0 when there is none. */
static size_t tl_dir_len(const char *path) {
    const char *sl = strrchr(path, '/');
    return sl ? (size_t)(sl - path) + (sl == path ? 1 : 0) : 0;
}

/* A companion path named in the spec (NPY or IDX labels): absolute as given; relative to the
 * features file's folder when it exists there; else as given (relative to the working folder). */
static tl_status tl_resolve_companion(const char *main_path, const char *rel, char **out) {
    tl_status st = TL_OK;
    char *p = NULL;
    size_t dl = tl_dir_len(main_path);
    if (rel[0] == '/' || dl == 0) {
        TL_TRY(tl_strndup_(rel, strlen(rel), &p));
    } else {
        TL_TRY(tl_path_join(main_path, dl, rel, &p));
        if (!tl_exists(p) && tl_exists(rel)) {
            tl_free(p);
            p = NULL;
            TL_TRY(tl_strndup_(rel, strlen(rel), &p));
        }
    }
    *out = p;
    p = NULL;
done:
    tl_free(p);
    return st;
}

/* MNIST naming: "...images...idx3..." -> "...labels...idx1..." in the file name; NULL when the
 * name does not follow it or that file does not exist. */
static tl_status tl_idx_default_labels(const char *images, char **out) {
    tl_status st = TL_OK;
    char *p = NULL;
    *out = NULL;
    size_t dl = tl_dir_len(images);
    const char *base = images + dl + (images[dl] == '/' ? 1 : 0);
    char *im = strstr(base, "images"), *i3 = strstr(base, "idx3");
    if (!im || !i3) goto done;
    TL_TRY(tl_strndup_(images, strlen(images), &p));
    memcpy(p + (im - images), "labels", 6);
    memcpy(p + (i3 - images), "idx1", 4);
    if (tl_is_file(p)) {
        *out = p;
        p = NULL;
    }
done:
    tl_free(p);
    return st;
}

/* folder/<prefix>-images-idx3-ubyte[.gz] and the labels beside it. */
static tl_status tl_idx_folder_files(const char *dir, const char *which, char **images,
                                     char **labels) {
    tl_status st = TL_OK;
    char name[64];
    char *p = NULL;
    const char *kinds[2] = {"images-idx3-ubyte", "labels-idx1-ubyte"};
    char **outs[2] = {images, labels};
    const char *prefix = strcmp(which, "train") == 0 ? "train" : "t10k";
    *images = *labels = NULL;
    for (int k = 0; k < 2; k++) {
        for (int gz = 0; gz < 2 && !*outs[k]; gz++) {
            snprintf(name, sizeof name, "%s-%s%s", prefix, kinds[k], gz ? ".gz" : "");
            TL_TRY(tl_path_join(dir, strlen(dir), name, &p));
            if (tl_is_file(p)) {
                *outs[k] = p;
                p = NULL;
            } else {
                tl_free(p);
                p = NULL;
            }
        }
        TL_CHECK(*outs[k] != NULL, TL_ERR_IO, "%s: no %s-%s (or .gz) in this folder", dir, prefix,
                 kinds[k]);
    }
done:
    tl_free(p);
    if (st != TL_OK) {
        tl_free(*images);
        tl_free(*labels);
        *images = *labels = NULL;
    }
    return st;
}

/* A spec taken apart: the path ("-" for standard input), what followed the ':' (NULL when
 * nothing), the format, and the caller's options with the spec's own applied. */
typedef struct {
    char *path, *rest;
    tl_format fmt;
    tl_load_opts o;
    bool is_stdin;
} tl_spec_parts;

static void tl_spec_parts_free(tl_spec_parts *sp) {
    tl_free(sp->path);
    tl_free(sp->rest);
    sp->path = sp->rest = NULL;
}

/* "key=value,key=value" (rest, modified in place; label names point into it) into sp->o and
 * sp->fmt. */
static tl_status tl_spec_options(const char *spec, tl_spec_parts *sp) {
    tl_status st = TL_OK;
    bool csv_key = false, svm_key = false;
    const char *csv_word = NULL, *svm_word = NULL;
    static const char keys[] = "label, header (csv); base (svmlight); format";
    char *item = sp->rest;
    while (item) {
        char *next = strchr(item, ',');
        if (next) *next++ = '\0';
        char *eq = strchr(item, '=');
        TL_CHECK(eq && eq != item, TL_ERR_INVALID_ARG,
                 "%s: option \"%s\" is not key=value (keys: %s)", spec, item, keys);
        *eq = '\0';
        const char *k = item, *v = eq + 1;
        if (strcmp(k, "label") == 0) {
            TL_CHECK(v[0], TL_ERR_INVALID_ARG,
                     "%s: label= needs a column name, a 0-based index or none", spec);
            char *end;
            long L = strtol(v, &end, 10);
            sp->o.label_name = NULL;
            if (strcmp(v, "none") == 0)
                sp->o.label_col = TL_LABEL_COL_NONE;
            else if (*end == '\0')
                sp->o.label_col = L;
            else
                sp->o.label_name = v;
            csv_key = true;
            csv_word = "label";
        } else if (strcmp(k, "header") == 0) {
            if (strcmp(v, "yes") == 0) sp->o.csv_header = 1;
            else if (strcmp(v, "no") == 0) sp->o.csv_header = 0;
            else if (strcmp(v, "auto") == 0) sp->o.csv_header = -1;
            else TL_CHECK(false, TL_ERR_INVALID_ARG,
                          "%s: header=%s is not one of yes, no, auto", spec, v);
            csv_key = true;
            csv_word = "header";
        } else if (strcmp(k, "base") == 0) {
            if (strcmp(v, "0") == 0) sp->o.index_base = 0;
            else if (strcmp(v, "1") == 0) sp->o.index_base = 1;
            else if (strcmp(v, "auto") == 0) sp->o.index_base = -1;
            else TL_CHECK(false, TL_ERR_INVALID_ARG,
                          "%s: base=%s is not one of 0, 1, auto", spec, v);
            svm_key = true;
            svm_word = "base";
        } else if (strcmp(k, "format") == 0) {
            tl_format f;
            TL_TRY(tl_format_parse(v, &f));
            TL_CHECK(f == TL_FORMAT_CSV || f == TL_FORMAT_SVMLIGHT, TL_ERR_INVALID_ARG,
                     "%s: format=%s: options apply to csv and svmlight files only", spec, v);
            sp->fmt = f;
        } else {
            TL_CHECK(false, TL_ERR_INVALID_ARG, "%s: unknown option \"%s\" (keys: %s)", spec, k,
                     keys);
        }
        item = next;
    }
    if (sp->fmt == TL_FORMAT_AUTO && sp->is_stdin) sp->fmt = TL_FORMAT_CSV;
    TL_CHECK(!(csv_key && sp->fmt == TL_FORMAT_SVMLIGHT), TL_ERR_INVALID_ARG,
             "%s: %s= does not apply to svmlight files (the label is the first token of each "
             "line; svmlight keys: base, format)",
             spec, csv_word);
    TL_CHECK(!(svm_key && sp->fmt == TL_FORMAT_CSV), TL_ERR_INVALID_ARG,
             "%s: %s= applies to svmlight files only (csv keys: label, header, format)", spec,
             svm_word);
done:
    return st;
}

static tl_status tl_spec_split(const char *spec, const tl_load_opts *opts, tl_spec_parts *sp) {
    tl_status st = TL_OK;
    memset(sp, 0, sizeof *sp);
    sp->o = opts ? *opts : tl_load_opts_default();
    TL_CHECK(spec != NULL && spec[0] != '\0', TL_ERR_INVALID_ARG, "data spec is empty");

    if (strcmp(spec, "-") == 0 || strncmp(spec, "-:", 2) == 0) {
        /* "-" is standard input, even if a file of that name exists */
        sp->is_stdin = true;
        TL_TRY(tl_strndup_("-", 1, &sp->path));
        if (spec[1]) TL_TRY(tl_strndup_(spec + 2, strlen(spec + 2), &sp->rest));
    } else if (tl_exists(spec)) {
        /* split: the whole spec if it exists, else at the last ':' whose left part exists */
        TL_TRY(tl_strndup_(spec, strlen(spec), &sp->path));
    } else {
        for (size_t k = strlen(spec); k-- > 0;) {
            if (spec[k] != ':' || k == 0) continue;
            TL_TRY(tl_strndup_(spec, k, &sp->path));
            if (tl_exists(sp->path)) {
                TL_TRY(tl_strndup_(spec + k + 1, strlen(spec + k + 1), &sp->rest));
                break;
            }
            tl_free(sp->path);
            sp->path = NULL;
        }
        TL_CHECK(sp->path != NULL, TL_ERR_IO, "%s: no such file or folder%s", spec,
                 strchr(spec, ':') ? " (nor is any part before a ':' one)" : "");
    }
    if (sp->rest && sp->rest[0] == '\0') {
        tl_free(sp->rest);
        sp->rest = NULL;
    }

    sp->fmt = sp->o.format != TL_FORMAT_AUTO ? sp->o.format
                                               : sp->is_stdin ? TL_FORMAT_AUTO
                                                              : tl_format_guess(sp->path);
    bool text = sp->fmt == TL_FORMAT_CSV || sp->fmt == TL_FORMAT_SVMLIGHT ||
                sp->fmt == TL_FORMAT_AUTO;
    if (sp->rest && text) {
        TL_TRY(tl_spec_options(spec, sp));
    } else if (sp->rest) {
        TL_CHECK(sp->fmt != TL_FORMAT_MAT || !strchr(sp->rest, '='), TL_ERR_INVALID_ARG,
                 "%s: \"%s\": key=value options apply to csv and svmlight files; after a .mat "
                 "file give \"X\" or \"X,Y\" variable names",
                 spec, sp->rest);
    }
    if (sp->fmt == TL_FORMAT_AUTO && sp->is_stdin) sp->fmt = TL_FORMAT_CSV;
    TL_CHECK(!sp->is_stdin || sp->fmt == TL_FORMAT_CSV || sp->fmt == TL_FORMAT_SVMLIGHT,
             TL_ERR_UNSUPPORTED,
             "<stdin>: only csv and svmlight can be read from standard input (\"-\"), not %s",
             tl_format_name(sp->fmt));
    {
        size_t n = strlen(sp->path);
        TL_CHECK(sp->fmt != TL_FORMAT_AUTO || !tl_ends_ci(sp->path, n, ".gz"),
                 TL_ERR_UNSUPPORTED,
                 "%s: gzip-compressed files are read for csv and svmlight (.csv.gz, .tsv.gz, "
                 ".svm.gz, .svmlight.gz, .libsvm.gz, .txt.gz) and IDX; decompress other formats "
                 "first, or give the format",
                 sp->path);
    }
    TL_CHECK(sp->fmt != TL_FORMAT_AUTO, TL_ERR_INVALID_ARG,
             "%s: cannot tell the format from the name (expected .csv, .tsv, .svmlight, .svm, "
             ".libsvm, .txt, .mat, .npy, IDX files or a folder of them); give the format "
             "explicitly",
             sp->path);
done:
    if (st != TL_OK) tl_spec_parts_free(sp);
    return st;
}

tl_status tl_dataset_load(const char *spec, const tl_load_opts *opts, tl_dataset **out) {
    return tlp_dataset_load(spec, opts, false, out);
}

static tl_status load_spec(const char *spec, const tl_load_opts *opts, bool targets, int part,
                           int parts, size_t *total, tl_dataset **out);

tl_status tlp_dataset_load(const char *spec, const tl_load_opts *opts, bool targets,
                           tl_dataset **out) {
    size_t total;
    return load_spec(spec, opts, targets, 0, 1, &total, out);
}

tl_status tl_dataset_load_block(const char *spec, const tl_load_opts *opts, int part, int parts,
                                size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    size_t *idx = NULL;
    TL_CHECK(out && total && parts >= 1 && part >= 0 && part < parts, TL_ERR_INVALID_ARG,
             "%s: load_block: part %d of %d", spec ? spec : "(null)", part, parts);
    *out = NULL;
    TL_TRY(load_spec(spec, opts, false, part, parts, total, &ds));
    if (parts > 1 && tl_dataset_rows(ds) == *total) { /* a reader without blocks: keep ours */
        size_t lo, hi;
        tl_block_range(*total, part, parts, &lo, &hi);
        TL_CHECK(hi > lo, TL_ERR_EMPTY, "%s: %zu rows leave none to part %d of %d", spec, *total,
                 part + 1, parts);
        TL_ALLOC(idx, hi - lo);
        for (size_t i = lo; i < hi; i++) idx[i - lo] = i;
        tl_dataset *sub = NULL;
        TL_TRY(tl_dataset_subset(ds, idx, hi - lo, &sub));
        TL_TRY(tl_dataset_set_name(sub, spec));
        tl_dataset_free(ds);
        ds = sub;
    }
    *out = ds;
    ds = NULL;
done:
    tl_free(idx);
    tl_dataset_free(ds);
    return st;
}

/* The rows of spec (part 0 of 1), or block `part` of `parts` of them where the reader can read
 * only that block (.npy, IDX, CSV, svmlight); *total = the file's rows. */
static tl_status load_spec(const char *spec, const tl_load_opts *opts, bool targets, int part,
                           int parts, size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    bool block = parts > 1 && !targets;
    tl_spec_parts sp = {0};
    char *a = NULL, *b = NULL;
    tl_dataset *ds = NULL;
    TL_CHECK(out != NULL, TL_ERR_INVALID_ARG, "load: NULL output");
    *out = NULL;
    TL_TRY(tl_spec_split(spec, opts, &sp));
    const char *path = sp.path, *rest = sp.rest;
    tl_format fmt = sp.fmt;
    tl_load_opts o = sp.o;

    switch (fmt) {
    case TL_FORMAT_CSV:
        if (block)
            TL_TRY(tl_text_read_block(path, &o, tlp_parse_csv_block, part, parts, total,
                                      &ds));
        else
            TL_TRY(tlp_read_csv(path, &o, targets, &ds));
        break;
    case TL_FORMAT_SVMLIGHT:
        if (block)
            TL_TRY(tl_text_read_block(path, &o, tlp_parse_svmlight_block, part, parts, total,
                                      &ds));
        else
            TL_TRY(tlp_read_svmlight(path, &o, targets, &ds));
        break;
    case TL_FORMAT_MAT: {
        const char *xv = NULL, *yv = NULL;
        if (sp.rest) {
            char *rest_w = sp.rest;
            char *comma = strchr(rest_w, ',');
            if (comma) {
                *comma = '\0';
                TL_CHECK(strchr(comma + 1, ',') == NULL, TL_ERR_INVALID_ARG,
                         "%s: expected \"file.mat:X\" or \"file.mat:X,Y\"", spec);
                if (comma[1]) yv = comma + 1;
            }
            if (rest_w[0]) xv = rest_w;
        }
        TL_TRY(tlp_read_mat(path, xv, yv, targets, &ds));
        break;
    }
    case TL_FORMAT_NPY:
        if (rest) {
            TL_TRY(tl_resolve_companion(path, rest, &a));
            TL_CHECK(tl_exists(a) || !strchr(rest, '='), TL_ERR_INVALID_ARG,
                     "%s: \"%s\" is not a labels file: key=value options apply to csv and "
                     "svmlight files (an .npy is unlabelled unless a labels file is named or "
                     "sits beside it)",
                     spec, rest);
        } else {
            TL_TRY(tl_npy_labels_path(path, &a));
            if (!tl_is_file(a)) {
                tl_free(a);
                a = NULL;
            }
        }
        if (block)
            TL_TRY(tlp_read_npy_block(path, a, part, parts, total, &ds));
        else
            TL_TRY(tlp_read_npy(path, a, targets, &ds));
        break;
    case TL_FORMAT_IDX: {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            TL_CHECK(rest && (strcmp(rest, "train") == 0 || strcmp(rest, "test") == 0),
                     TL_ERR_INVALID_ARG,
                     "%s: a folder of IDX files needs \":train\" or \":test\" after it%s%s%s",
                     spec, rest ? " (got \":" : "", rest ? rest : "", rest ? "\")" : "");
            TL_TRY(tl_idx_folder_files(path, rest, &a, &b));
            if (block)
                TL_TRY(tlp_read_idx_block(a, b, part, parts, total, &ds));
            else
                TL_TRY(tl_read_idx(a, b, &ds));
        } else {
            if (rest)
                TL_TRY(tl_resolve_companion(path, rest, &b));
            else
                TL_TRY(tl_idx_default_labels(path, &b));
            if (block)
                TL_TRY(tlp_read_idx_block(path, b, part, parts, total, &ds));
            else
                TL_TRY(tl_read_idx(path, b, &ds));
        }
        break;
    }
    case TL_FORMAT_AUTO:
        break;
    }
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "%s: unknown format %d", spec, (int)fmt);
    if (!(block && fmt != TL_FORMAT_MAT)) *total = tl_dataset_rows(ds); /* a block reader sets it */
    if (targets && fmt == TL_FORMAT_IDX) TL_TRY(tlp_labels_to_targets(ds));
    TL_TRY(tl_dataset_set_name(ds, sp.is_stdin && !sp.rest ? "<stdin>" : spec));
    TL_TRY(tl_dataset_check_finite(ds));
    *out = ds;
    ds = NULL;
done:
    tl_spec_parts_free(&sp);
    tl_free(a);
    tl_free(b);
    tl_dataset_free(ds);
    return st;
}

tl_status tl_svmlight_common_base(const char *const *specs, size_t n, const tl_load_opts *opts,
                                  int *base) {
    tl_status st = TL_OK;
    tl_spec_parts sp = {0};
    tl_filebuf fb = {0};
    const char *zero = NULL, *forced_one = NULL;
    bool any = false;
    TL_CHECK(base != NULL && (specs != NULL || n == 0), TL_ERR_INVALID_ARG,
             "svmlight common base: NULL argument");
    *base = -1;
    for (size_t i = 0; i < n; i++) {
        if (!specs[i]) continue;
        TL_TRY(tl_spec_split(specs[i], opts, &sp));
        if (sp.fmt == TL_FORMAT_SVMLIGHT) {
            any = true;
            TL_CHECK(!sp.is_stdin, TL_ERR_UNSUPPORTED,
                     "<stdin>: standard input cannot be scanned for its index base before it is "
                     "read; give the base (\"-:format=svmlight,base=0\")");
            if (sp.o.index_base == 1) {
                if (!forced_one) forced_one = specs[i];
            } else if (sp.o.index_base == 0) {
                if (!zero) zero = specs[i];
            } else {
                const char *shown;
                TL_TRY(tl_textbuf_open(sp.path, &fb, &shown));
                if (tl_svmlight_has_index0(fb.data, fb.len) && !zero) zero = specs[i];
                tl_filebuf_close(&fb);
            }
        }
        tl_spec_parts_free(&sp);
    }
    TL_CHECK(!(zero && forced_one), TL_ERR_FORMAT,
             "'%s' is to be read 1-based, but '%s' is 0-based (it uses index 0): read them with "
             "one index base",
             forced_one, zero);
    if (any) *base = zero ? 0 : 1;
done:
    tl_spec_parts_free(&sp);
    tl_filebuf_close(&fb);
    return st;
}
