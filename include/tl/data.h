/* libtl data: the dataset type (dense or sparse CSR features, integer labels, optional sample
 * weights, a domain name), readers and writers for the standard formats (CSV, svmlight/libsvm,
 * MATLAB .mat through libmatio, NumPy .npy, IDX with or without gzip), data specs, and
 * preprocessing (per-sample sum / L2 normalisation, per-column z-score / min-max).
 *
 * A data spec names a file and, where needed, what to take from it:
 *   file.mat                      auto-detect: features fts|feas|X|X_src|data, labels labels|Y|y
 *   file.mat:X_src,Y_src          named features and labels variables (labels optional)
 *   file.csv                      label column from tl_load_opts (default: last column)
 *   file.svmlight / .svm / .libsvm / .txt
 *   X.npy  or  X.npy:y.npy        features, labels from a second file (default: X.labels.npy if it
 *                                 exists); a relative label path is relative to X's folder
 *   images.idx3-ubyte[.gz]:labels.idx1-ubyte[.gz]
 *   folder:train | folder:test    a folder with the four standard MNIST-style IDX files
 *   file.csv:label=class          per-file options for CSV and svmlight, comma-separated
 *   file.csv:label=none,header=no key=value pairs that override tl_load_opts for this file only:
 *                                 label=NAME | INDEX (0-based, negative from the end) | none
 *                                 header=yes | no | auto             (CSV)
 *                                 base=0 | 1 | auto                  (svmlight index base)
 *                                 format=csv | svmlight              (when the name does not say)
 *                                 A key for another format is an error naming the keys accepted.
 *   data.csv.gz, x.svmlight.gz    gzip-compressed text, format from the name before ".gz"
 *                                 (any CSV/svmlight file whose bytes are gzip is inflated)
 *   -  or  -:format=svmlight      standard input, read to its end (CSV unless a format is given
 *                                 in opts or the spec); messages call it <stdin>
 *   X.npy of shape (n, h, w) or (n, c, h, w): n rows of h*w (c*h*w) features, C order; the
 *                                 trailing shape is kept (tl_dataset_sample_shape)
 * If the whole spec names an existing file, it is taken as a path even if it contains ':';
 * otherwise it is split at the last ':' whose left part exists ("-" is always standard input).
 * Errors name the file, and the line (text formats) or variable (.mat) where the problem is.
 *
 * CSV header rows (header=auto): the first row is a header when it holds a name (a cell that
 * is neither a number nor a missing-value mark) above a number or an empty or missing cell in the
 * second row, or when there is no second row and no cell is a number. A numeric first row with a
 * missing value ("1,,0", "1,NA,0", "1,?,0") is therefore data, and an error naming file:1 and the
 * column, as a missing value anywhere is (file:line: column): missing values (empty, NA, N/A, ?,
 * NaN, null) are not supported. pandas-style numbered headers ("0,1,2,label") are headers. */
#ifndef TL_DATA_H
#define TL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl/core.h"
#include "tl/io.h"
#include "tl/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Non-owning CSR view: row i holds values[indptr[i] .. indptr[i+1]) at columns indices[...],
 * column indices strictly increasing within a row. */
typedef struct {
    size_t rows;            /* rows (samples) */
    size_t cols;            /* columns (features) */
    size_t nnz;             /* stored entries */
    const size_t *indptr;   /* (rows + 1) */
    const int32_t *indices; /* (nnz) */
    const double *values;   /* (nnz) */
} tl_csr;

/* Features of either storage, as learners and measures take them. */
typedef struct {
    bool sparse;  /* which of the two views holds the rows */
    tl_mat dense; /* valid when !sparse */
    tl_csr csr;   /* valid when sparse */
} tl_xmat;

/* Views of a dense matrix or a CSR matrix as features (no copy), and their shape. */
tl_xmat tl_xmat_from_dense(tl_mat X);
tl_xmat tl_xmat_from_csr(tl_csr X);
size_t tl_xmat_rows(tl_xmat X);
size_t tl_xmat_cols(tl_xmat X);
/* Copy rows [row0, row0 + n) of X into the dense block out (n, cols(X)). */
tl_status tl_xmat_rows_dense(tl_xmat X, size_t row0, size_t n, tl_mat out);

/* A dataset: rows of features (dense or CSR), with class labels or regression targets, sample
 * weights, a name and, for images, the sample shape. Opaque; the functions below reach it. */
typedef struct tl_dataset tl_dataset;

#define TL_SAMPLE_SHAPE_MAX 3 /* trailing dimensions kept for an image stack (c, h, w) */

/* A dense n x d dataset, zero-filled; labels allocated (zeroed) when with_labels. */
tl_status tl_dataset_create_dense(size_t n, size_t d, bool with_labels, tl_dataset **out);
/* Copies X (n, d) and y (n, may be NULL). */
tl_status tl_dataset_from_dense(tl_mat X, const int *y, tl_dataset **out);
/* Reads X (n, d, rows contiguous: ld == d) where it is, without copying it (y, may be NULL, is
 * copied): for a host that already holds the rows, such as a numpy array. The caller keeps X
 * alive and unchanged until tl_dataset_free. libtl never writes to it: a change in place
 * (tl_scaler_apply, tl_preprocess_apply) copies the rows first; a program that writes through
 * tl_dataset_dense writes to X. */
tl_status tl_dataset_wrap_dense(tl_mat X, const int *y, tl_dataset **out);
/* Copies a CSR matrix and y (may be NULL). Validates indptr/indices (TL_ERR_FORMAT). */
tl_status tl_dataset_from_csr(tl_csr X, const int *y, tl_dataset **out);
/* A deep copy: rows, labels or targets, weights, name, class names, shape. */
tl_status tl_dataset_clone(const tl_dataset *ds, tl_dataset **out);
void tl_dataset_free(tl_dataset *ds); /* NULL-safe */

/* Its shape and storage. */
size_t tl_dataset_rows(const tl_dataset *ds);
size_t tl_dataset_cols(const tl_dataset *ds);
bool tl_dataset_is_sparse(const tl_dataset *ds);
size_t tl_dataset_nnz(const tl_dataset *ds);      /* stored entries (rows*cols when dense) */
tl_mat tl_dataset_dense(tl_dataset *ds);          /* writable; data NULL when sparse */
tl_csr tl_dataset_csr(const tl_dataset *ds);      /* all-zero view when dense */
tl_xmat tl_dataset_features(const tl_dataset *ds); /* the rows as a view, either storage */
int *tl_dataset_labels(tl_dataset *ds);           /* NULL when unlabelled */
const int *tl_dataset_labels_const(const tl_dataset *ds); /* the same, read-only */
bool tl_dataset_has_labels(const tl_dataset *ds); /* class labels (not targets) */
const double *tl_dataset_weights(const tl_dataset *ds); /* NULL = all ones */
/* Sample weights w (n), copied; NULL clears. */
tl_status tl_dataset_set_weights(tl_dataset *ds, const double *w);
/* Class labels y (n), copied (regression targets are cleared); NULL clears. */
tl_status tl_dataset_set_labels(tl_dataset *ds, const int *y);
const char *tl_dataset_name(const tl_dataset *ds); /* the spec or file it came from; never NULL */
/* Regression targets: one real value per row instead of an integer class (a dataset holds
 * labels or targets, never both; setting one clears the other). NULL when there are none. */
const double *tl_dataset_targets(const tl_dataset *ds);
bool tl_dataset_has_targets(const tl_dataset *ds);
/* t (n) copied; NaN/Inf refused (TL_ERR_NONFINITE naming the row); NULL clears. */
tl_status tl_dataset_set_targets(tl_dataset *ds, const double *t);

tl_status tl_dataset_set_name(tl_dataset *ds, const char *name); /* copied */

/* Convert sparse storage to dense in place (no-op when dense). */
tl_status tl_dataset_densify(tl_dataset *ds);
/* Sparse only: widen to d columns (d >= cols), used to align svmlight files whose largest
 * index differs. */
tl_status tl_dataset_set_cols(tl_dataset *ds, size_t d);
/* The rows of a and then of b as one new dataset (same width; labels when both have them,
 * weights when either has them, 1 for the other's rows; dense unless both are sparse). */
tl_status tl_dataset_concat(const tl_dataset *a, const tl_dataset *b, tl_dataset **out);
/* New dataset with the rows idx[0..n) (labels and weights follow). */
tl_status tl_dataset_subset(const tl_dataset *ds, const size_t *idx, size_t n, tl_dataset **out);
/* TL_ERR_NONFINITE naming the dataset, row and column of the first NaN/Inf. */
tl_status tl_dataset_check_finite(const tl_dataset *ds);

/* ---- class names (string labels) ----
 * A CSV label column of names ("cat", "dog") is read as classes 0..K-1 in sorted (strcmp) name
 * order, the names kept on the dataset; a column of numbers stays plain integer labels (no names).
 * clone, subset and concat keep the names; the CSV writer writes names back as labels (svmlight
 * and .npy hold integers: they get the class numbers, and the names are not written). */
/* The names, indexed by label (k of them in *k, may be NULL); NULL when labels are integers. */
const char *const *tl_dataset_class_names(const tl_dataset *ds, size_t *k);
/* Copy names (k, distinct, non-empty, no line breaks); every label must be in [0, k). NULL or
 * k == 0 clears (the labels become plain integers). */
tl_status tl_dataset_set_class_names(tl_dataset *ds, const char *const *names, size_t k);
/* The class number of name, or -1 (also when the dataset has no names). */
long tl_dataset_class_index(const tl_dataset *ds, const char *name);
/* Put separately loaded sets (NULL entries skipped) on one name list: the sorted union of their
 * names, labels renumbered to it; sets without labels get the list too. No-op when no set has
 * names. A set with names and another with integer labels is TL_ERR_LABEL naming both. On
 * failure no set is changed. */
tl_status tl_datasets_unify_classes(tl_dataset **sets, size_t n);

/* ---- provenance: svmlight index base, sample shape ----
 * svmlight index base rule: a file is 0-based if index 0 occurs in it anywhere, else 1-based,
 * unless the base is given (tl_load_opts.index_base, or ":base=0" / ":base=1" in the spec).
 * Files read together must share one base: tl_svmlight_common_base decides it from the files
 * before loading (0 if any of them uses index 0, else 1), tl_datasets_unify_index_base fixes
 * up sets already loaded with a guessed base (a set guessed 1-based is shifted to 0-based when
 * another set is 0-based: its indices move up by one and it gains an all-zero column 0). A
 * 0-based file whose column 0 is zero in every row cannot be told from a 1-based file on its
 * own: read it with others that use index 0, or give the base. */
/* The base the svmlight file was read with (0 or 1), -1 for other formats. */
int tl_dataset_index_base(const tl_dataset *ds);
/* True when that base was guessed from the indices rather than asked for. */
bool tl_dataset_index_base_guessed(const tl_dataset *ds);
/* One base for the svmlight sets among sets (others and NULLs ignored): see the rule above.
 * *base (may be NULL) gets 0 or 1, -1 when no set came from svmlight. TL_ERR_FORMAT naming both
 * when a set read 1-based on request meets a 0-based set. */
tl_status tl_datasets_unify_index_base(tl_dataset **sets, size_t n, int *base);
/* The trailing sample shape of an image stack (.npy of n x h x w or n x c x h x w, IDX images):
 * the number of dimensions (0 for plain rows), dims filled (may be NULL). */
size_t tl_dataset_sample_shape(const tl_dataset *ds, size_t dims[TL_SAMPLE_SHAPE_MAX]);

/* Sorted distinct labels of y (n). *classes allocated with tl_malloc; counts (optional, may be
 * NULL) receives per-class counts, allocated the same way. */
tl_status tl_labels_unique(const int *y, size_t n, int **classes, size_t **counts, size_t *nclasses);
/* Index of label v in sorted classes (c), or -1. */
long tl_labels_index(const int *classes, size_t c, int v);

/* ---- reading and writing ---- */
/* A file format. */
typedef enum {
    TL_FORMAT_AUTO = 0, /* from the extension (and, for folders, IDX) */
    TL_FORMAT_CSV = 1,
    TL_FORMAT_SVMLIGHT = 2,
    TL_FORMAT_MAT = 3,
    TL_FORMAT_NPY = 4,
    TL_FORMAT_IDX = 5
} tl_format;

#define TL_LABEL_COL_NONE (-1000000L) /* CSV: the file has no label column */

/* How to read a file (the data spec's own options override it for that file). */
typedef struct {
    tl_format format;       /* default AUTO */
    int csv_header;         /* -1 auto-detect (the rule at the top of this file), 0 none,
                               1 present */
    long label_col;         /* CSV: 0-based label column, negative from the end (-1 = last,
                               default), or TL_LABEL_COL_NONE; integers or class names */
    const char *label_name; /* CSV: label column by header name (overrides label_col) */
    char delimiter;         /* CSV: 0 = detect among , ; tab space */
    int index_base;         /* svmlight: -1 auto (0-based if index 0 occurs), 0, or 1; see
                               tl_svmlight_common_base for several files */
    size_t n_features;      /* svmlight: 0 = largest index seen + 1 */
    bool densify;           /* svmlight: return dense storage (default false: CSR) */
} tl_load_opts;

tl_load_opts tl_load_opts_default(void); /* the defaults above */
tl_status tl_format_parse(const char *name, tl_format *out); /* "csv", "svmlight", "mat", ... */
const char *tl_format_name(tl_format f); /* "csv", "svmlight", ... */
/* Format a path would be read/written as (by extension). TL_FORMAT_AUTO if unknown. */
tl_format tl_format_guess(const char *path);

/* Load a data spec (see the top of this file). opts may be NULL; options in the spec override
 * it for that file. NaN/Inf in features is an error (TL_ERR_NONFINITE naming file and row). */
tl_status tl_dataset_load(const char *spec, const tl_load_opts *opts, tl_dataset **out);
/* Block `part` of `parts` of the spec's rows (tl_block_range's cut; a process's share in an MPI
 * job), *total = the rows of the whole file. .npy (C order) and IDX (plain or gzip) read only
 * the block's bytes (a seek; in a gzip stream, inflating past what comes before), so memory
 * holds the block alone. CSV and svmlight: every line is scanned for its end (and, svmlight, its
 * last index, so each block has the file's width and index base), only the block's lines are
 * parsed and stored, and messages give the file's line numbers; a CSV whose labels are class
 * names is parsed whole (the names are numbered over every row) and the block kept, as are
 * .mat files. Labels, not regression targets. */
tl_status tl_dataset_load_block(const char *spec, const tl_load_opts *opts, int part, int parts,
                                size_t *total, tl_dataset **out);
/* The same with the label column (CSV, svmlight), the labels file (.npy), the labels variable
 * (.mat) or the IDX labels read as real-valued regression targets (tl_dataset_targets): a cell
 * that is not a finite number is an error naming the file and line. */
tl_status tl_dataset_load_targets(const char *spec, const tl_load_opts *opts, tl_dataset **out);
/* The svmlight index base to read all of specs (n) with: 0 if any svmlight file among them
 * uses index 0, else 1 (-1 when none is svmlight). A spec giving ":base=" counts as that base;
 * other formats are skipped; standard input cannot be scanned twice and is an error. */
tl_status tl_svmlight_common_base(const char *const *specs, size_t n, const tl_load_opts *opts,
                                  int *base);
/* Format-specific readers (path without spec suffix; vars/labels as in the spec): for .mat, x_var
 * and y_var NULL pick the variables by their usual names; for .npy and IDX, a NULL labels path
 * reads no labels. */
tl_status tl_read_csv(const char *path, const tl_load_opts *opts, tl_dataset **out);
tl_status tl_read_svmlight(const char *path, const tl_load_opts *opts, tl_dataset **out);
tl_status tl_read_mat(const char *path, const char *x_var, const char *y_var, tl_dataset **out);
tl_status tl_read_npy(const char *x_path, const char *y_path, tl_dataset **out);
tl_status tl_read_idx(const char *images_path, const char *labels_path, tl_dataset **out);

/* Write a dataset. CSV: features then the label as last column, no header. svmlight: 1-based
 * indices unless index_base == 0 (a zero-based file). NPY: features to path, labels (int32) to
 * the sibling "<stem>.labels.npy". Written to a temporary name and renamed: an interrupted or
 * failed write leaves nothing at path. fmt AUTO picks by extension. */
tl_status tl_dataset_save(const tl_dataset *ds, const char *path, tl_format fmt, int index_base);

/* ---- preprocessing ---- */
/* One scaling step. */
typedef enum {
    TL_PRE_ROWSUM = 1, /* divide each sample by its sum (histograms) */
    TL_PRE_L2 = 2,     /* scale each sample to unit L2 norm */
    TL_PRE_ZSCORE = 3, /* per column: (x - mean) / std, population std; constant columns -> 0 */
    TL_PRE_MINMAX = 4  /* per column to [0, 1]; constant columns -> 0 */
} tl_pre_step;

#define TL_PRE_MAX_STEPS 8 /* steps a preprocessing holds at most */
/* Scaling steps, applied in order. */
typedef struct {
    tl_pre_step steps[TL_PRE_MAX_STEPS]; /* the first nsteps are used */
    size_t nsteps; /* 0 = none */
} tl_preprocess;

/* "none", "l2", "rowsum,zscore", "minmax", ... (TL_ERR_INVALID_ARG naming an unknown word). */
tl_status tl_preprocess_parse(const char *spec, tl_preprocess *out);
/* Writes e.g. "rowsum,zscore" (or "none") into buf. */
void tl_preprocess_format(const tl_preprocess *p, char *buf, size_t cap);

/* Fitted preprocessing: column statistics learned on one set, applied to others. Row-wise steps
 * (rowsum, l2) carry no state. Sparse data accepts rowsum and l2; zscore/minmax on sparse data
 * are refused (TL_ERR_UNSUPPORTED) since centring would densify it. */
typedef struct tl_scaler tl_scaler;
/* The statistics of p's steps fitted on ds. */
tl_status tl_scaler_fit(const tl_preprocess *p, const tl_dataset *ds, tl_scaler **out);
tl_status tl_scaler_apply(const tl_scaler *s, tl_dataset *ds); /* in place */
void tl_scaler_free(tl_scaler *s); /* NULL-safe */
/* The fitted statistics into / out of a .tlm container (tl/io.h); name: the file, for messages. */
tl_status tl_scaler_write(const tl_scaler *s, tl_tlm *c);
tl_status tl_scaler_read(const tl_tlm *c, const char *name, tl_scaler **out);
/* Fit on ds and apply to ds itself ("per domain", the Office+Caltech protocol). */
tl_status tl_preprocess_apply(const tl_preprocess *p, tl_dataset *ds);

/* Dense building blocks (also used by the feature-based methods). */
void tl_rows_l2_normalize(tl_mat X);
void tl_rows_sum_normalize(tl_mat X);
/* Column mean and population std of X (n, d) into mean (d), std (d). */
void tl_cols_mean_std(tl_mat X, double *mean, double *std);

#ifdef __cplusplus
}
#endif
#endif
