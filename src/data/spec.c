/* Data specs and format dispatch: "file.mat:X_src,Y_src", "X.npy:y.npy", "mnist_dir:train",
 * "data.csv" ... (grammar at the top of tl/data.h), format names and guessing by extension.
 *
 * Why it is built this way: a spec is a path optionally followed by ':' and a format-specific
 * suffix, but paths may themselves contain ':' (and Windows-style or URL-like names do). So the
 * whole spec is tried as a path first; otherwise it is split at the LAST ':' whose left part
 * exists on disk, which is unambiguous for every spec whose file exists and never guesses at
 * names that do not. The loaded dataset is named after the spec so every later message (NaN
 * found, labels missing, shapes disagree) says which input it is about. */
#include <string.h>
#include <stdio.h>
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
    if (gz) return TL_FORMAT_AUTO;
    if (tl_ends_ci(path, n, ".csv") || tl_ends_ci(path, n, ".tsv")) return TL_FORMAT_CSV;
    if (tl_ends_ci(path, n, ".svmlight") || tl_ends_ci(path, n, ".svm") ||
        tl_ends_ci(path, n, ".libsvm") || tl_ends_ci(path, n, ".txt"))
        return TL_FORMAT_SVMLIGHT;
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

tl_status tl_dataset_load(const char *spec, const tl_load_opts *opts, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_load_opts o = opts ? *opts : tl_load_opts_default();
    char *path = NULL, *rest = NULL, *a = NULL, *b = NULL;
    tl_dataset *ds = NULL;
    *out = NULL;
    TL_CHECK(spec != NULL && spec[0] != '\0', TL_ERR_INVALID_ARG, "data spec is empty");

    /* split: the whole spec if it exists, else at the last ':' whose left part exists */
    if (tl_exists(spec)) {
        TL_TRY(tl_strndup_(spec, strlen(spec), &path));
    } else {
        for (size_t k = strlen(spec); k-- > 0;) {
            if (spec[k] != ':' || k == 0) continue;
            TL_TRY(tl_strndup_(spec, k, &path));
            if (tl_exists(path)) {
                TL_TRY(tl_strndup_(spec + k + 1, strlen(spec + k + 1), &rest));
                break;
            }
            tl_free(path);
            path = NULL;
        }
        TL_CHECK(path != NULL, TL_ERR_IO, "%s: no such file or folder%s", spec,
                 strchr(spec, ':') ? " (nor is any part before a ':' one)" : "");
    }
    if (rest && rest[0] == '\0') {
        tl_free(rest);
        rest = NULL;
    }

    tl_format fmt = o.format != TL_FORMAT_AUTO ? o.format : tl_format_guess(path);
    TL_CHECK(fmt != TL_FORMAT_AUTO, TL_ERR_INVALID_ARG,
             "%s: cannot tell the format from the name (expected .csv, .tsv, .svmlight, .svm, "
             ".libsvm, .txt, .mat, .npy, IDX files or a folder of them); give the format "
             "explicitly",
             path);

    switch (fmt) {
    case TL_FORMAT_CSV:
    case TL_FORMAT_SVMLIGHT:
        TL_CHECK(rest == NULL, TL_ERR_INVALID_ARG,
                 "%s: unexpected \":%s\" after a %s file (%s options are not part of the spec)",
                 spec, rest, tl_format_name(fmt),
                 fmt == TL_FORMAT_CSV ? "label column and header" : "index base");
        if (fmt == TL_FORMAT_CSV)
            TL_TRY(tl_read_csv(path, &o, &ds));
        else
            TL_TRY(tl_read_svmlight(path, &o, &ds));
        break;
    case TL_FORMAT_MAT: {
        const char *xv = NULL, *yv = NULL;
        if (rest) {
            char *comma = strchr(rest, ',');
            if (comma) {
                *comma = '\0';
                TL_CHECK(strchr(comma + 1, ',') == NULL, TL_ERR_INVALID_ARG,
                         "%s: expected \"file.mat:X\" or \"file.mat:X,Y\"", spec);
                if (comma[1]) yv = comma + 1;
            }
            if (rest[0]) xv = rest;
        }
        TL_TRY(tl_read_mat(path, xv, yv, &ds));
        break;
    }
    case TL_FORMAT_NPY:
        if (rest) {
            TL_TRY(tl_resolve_companion(path, rest, &a));
        } else {
            TL_TRY(tl_npy_labels_path(path, &a));
            if (!tl_is_file(a)) {
                tl_free(a);
                a = NULL;
            }
        }
        TL_TRY(tl_read_npy(path, a, &ds));
        break;
    case TL_FORMAT_IDX: {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            TL_CHECK(rest && (strcmp(rest, "train") == 0 || strcmp(rest, "test") == 0),
                     TL_ERR_INVALID_ARG,
                     "%s: a folder of IDX files needs \":train\" or \":test\" after it%s%s%s",
                     spec, rest ? " (got \":" : "", rest ? rest : "", rest ? "\")" : "");
            TL_TRY(tl_idx_folder_files(path, rest, &a, &b));
            TL_TRY(tl_read_idx(a, b, &ds));
        } else {
            if (rest)
                TL_TRY(tl_resolve_companion(path, rest, &b));
            else
                TL_TRY(tl_idx_default_labels(path, &b));
            TL_TRY(tl_read_idx(path, b, &ds));
        }
        break;
    }
    case TL_FORMAT_AUTO:
        break;
    }
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "%s: unknown format %d", spec, (int)fmt);
    TL_TRY(tl_dataset_set_name(ds, spec));
    TL_TRY(tl_dataset_check_finite(ds));
    *out = ds;
    ds = NULL;
done:
    tl_free(path);
    tl_free(rest);
    tl_free(a);
    tl_free(b);
    tl_dataset_free(ds);
    return st;
}
