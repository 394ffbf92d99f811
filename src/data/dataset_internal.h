/* Private to src/data: the definition of the opaque tl_dataset and a few helpers the readers and
 * writers share (taking ownership of freshly parsed arrays without a copy, mapping a whole file
 * into memory, the NPY label-file naming rule, locale-independent number parsing).
 *
 * Storage is either dense (an owned tl_mat from tl_mat_alloc, ld == cols) or CSR (three owned
 * arrays), never both. Readers in other files should prefer the public constructors
 * (tl_dataset_create_dense, tl_dataset_labels, tl_dataset_set_name); the adopt functions exist so
 * the text parsers can hand over arrays they grew themselves. */
#ifndef TL_DATA_DATASET_INTERNAL_H
#define TL_DATA_DATASET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/numtext.h"
#include "tl/data.h"

struct tl_dataset {
    size_t rows, cols;
    bool sparse;
    tl_mat X;         /* dense: (rows, cols), owned, ld == cols; data NULL when sparse */
    size_t *indptr;   /* sparse: (rows + 1), owned */
    int32_t *indices; /* sparse: (nnz), owned */
    double *values;   /* sparse: (nnz), owned */
    size_t nnz;
    int *y;           /* (rows) or NULL */
    double *t;        /* (rows) real-valued regression targets, or NULL; never with y (targets.c) */
    double *w;        /* (rows) or NULL */
    char *name;       /* owned, NULL means "" */
    char **class_names; /* (n_names) owned strings, label v names class_names[v]; NULL when the
                           labels are plain integers (classes.c) */
    size_t n_names;
    int index_base;     /* svmlight: the index base the file was read with; -1 otherwise */
    bool base_guessed;  /* index_base was detected, not asked for (tl_datasets_unify_index_base
                           may shift such a set to 0-based) */
    size_t shape[TL_SAMPLE_SHAPE_MAX]; /* trailing sample shape (npy/IDX image stacks) */
    size_t shape_nd;                   /* 0: flat rows */
    bool borrowed;      /* dense X is the caller's memory (tl_dataset_wrap_dense): never written,
                           never freed; tl_dataset_own_rows copies it before a change in place */
};

/* Makes a borrowed dataset's rows its own (a copy) before they are changed in place; a no-op
 * for a dataset that owns them. */
tl_status tl_dataset_own_rows(tl_dataset *ds);

/* Copy the class names, index base and sample shape of src into dst (class_names replaced). */
tl_status tl_dataset_copy_extras(const tl_dataset *src, tl_dataset *dst);
/* TL_OK when a and b may be put together: both with the same class names, or neither named, or
 * one named and the other unlabelled; TL_ERR_LABEL naming both otherwise. */
tl_status tl_classes_compatible(const tl_dataset *a, const tl_dataset *b);
/* Free the class names of ds (labels untouched). */
void tl_dataset_clear_names(tl_dataset *ds);
/* Take ownership of names (k tl_malloc'd strings in a tl_malloc'd array), replacing any. */
void tl_dataset_adopt_names(tl_dataset *ds, char **names, size_t k);

/* Read the label column / labels file as real-valued regression targets instead of integer
 * classes: the internal entry points behind tl_dataset_load_targets (targets = false is
 * tl_dataset_load). */
tl_status tlp_dataset_load(const char *spec, const tl_load_opts *opts, bool targets,
                           tl_dataset **out);
tl_status tlp_parse_csv(const char *buf, size_t len, const char *name, const tl_load_opts *opts,
                        bool targets, tl_dataset **out);
tl_status tlp_read_csv(const char *path, const tl_load_opts *opts, bool targets, tl_dataset **out);
/* Block `part` of `parts` of the data rows (tl_block_range) of a CSV text or file: every line is
 * scanned for its end, only the block's lines are parsed; line numbers in messages are the
 * file's; *total = the data rows of the whole file. Class names in the label column: the whole
 * file is parsed (their numbers need every row) and *total = its rows (the caller keeps the
 * block). */
tl_status tlp_parse_csv_block(const char *buf, size_t len, const char *name,
                              const tl_load_opts *opts, int part, int parts, size_t *total,
                              tl_dataset **out);
tl_status tlp_parse_svmlight(const char *buf, size_t len, const char *name,
                             const tl_load_opts *opts, bool targets, tl_dataset **out);
tl_status tlp_read_svmlight(const char *path, const tl_load_opts *opts, bool targets,
                            tl_dataset **out);
/* Block `part` of `parts` of the rows of an svmlight text or file: a first pass counts the rows
 * and finds the whole file's width and index base, only the block's lines are parsed (line
 * numbers are the file's); *total = the rows of the whole file. */
tl_status tlp_parse_svmlight_block(const char *buf, size_t len, const char *name,
                                   const tl_load_opts *opts, int part, int parts, size_t *total,
                                   tl_dataset **out);
tl_status tlp_read_npy(const char *x_path, const char *y_path, bool targets, tl_dataset **out);
/* Block `part` of `parts` of the rows (tl_block_range) of an .npy (C order) or IDX file and its
 * labels, reading only those rows' bytes; *total = the file's rows. */
tl_status tlp_read_npy_block(const char *x_path, const char *y_path, int part, int parts,
                             size_t *total, tl_dataset **out);
tl_status tlp_read_idx_block(const char *images_path, const char *labels_path, int part,
                             int parts, size_t *total, tl_dataset **out);
tl_status tlp_read_mat(const char *path, const char *x_var, const char *y_var, bool targets,
                       tl_dataset **out);
/* Hand the integer labels over as targets (IDX class numbers read as regression values). */
tl_status tlp_labels_to_targets(tl_dataset *ds);
/* Take ownership of t (tl_malloc'd, rows entries), clearing any labels and class names. */
void tlp_dataset_adopt_targets(tl_dataset *ds, double *t);

/* Take ownership of X (allocated through tl_malloc/tl_mat_alloc, ld == cols) and y (tl_malloc'd,
 * may be NULL). On failure both are freed, so the caller never frees them after this call. */
tl_status tl_dataset_adopt_dense(tl_mat X, int *y, tl_dataset **out);
/* Take ownership of a CSR triple (all tl_malloc'd; assumed valid: the parsers build them in
 * order) and y (may be NULL). Freed on failure. */
tl_status tl_dataset_adopt_csr(size_t rows, size_t cols, size_t *indptr, int32_t *indices,
                               double *values, int *y, tl_dataset **out);

/* Validate a CSR view: indptr monotone from 0 to nnz, indices in [0, cols) and strictly
 * increasing within each row. TL_ERR_FORMAT naming the row otherwise. */
tl_status tl_csr_validate(tl_csr X);

/* A whole file in memory: mmap'd when it is a regular file, read otherwise. */
typedef struct {
    const char *data;
    size_t len;
    void *map;     /* mmap base (len bytes) or NULL */
    char *heap;    /* tl_malloc'd copy or NULL */
} tl_filebuf;
/* TL_ERR_IO naming the path on failure. An empty file gives len 0. */
tl_status tl_filebuf_open(const char *path, tl_filebuf *fb);
/* The same from an open descriptor (left open; path names it in messages): standard input. */
tl_status tl_filebuf_from_fd(int fd, const char *path, tl_filebuf *fb);
void tl_filebuf_close(tl_filebuf *fb);
/* A text file's bytes for the CSV and svmlight parsers: "-" reads standard input to its end;
 * gzip data (magic 1f 8b, whatever the name) is inflated whole (textsrc.c). *shown is the name
 * messages use ("<stdin>" for "-", else path). */
tl_status tl_textbuf_open(const char *path, tl_filebuf *fb, const char **shown);
/* A text reader's block parser (tlp_parse_csv_block, tlp_parse_svmlight_block) run on path's
 * bytes (tl_textbuf_open: a file, "-", gzip or not). */
typedef tl_status (*tl_text_block_fn)(const char *buf, size_t len, const char *name,
                                      const tl_load_opts *opts, int part, int parts,
                                      size_t *total, tl_dataset **out);
tl_status tl_text_read_block(const char *path, const tl_load_opts *opts, tl_text_block_fn parse,
                             int part, int parts, size_t *total, tl_dataset **out);
/* Inflate a whole gzip stream (members concatenated allowed) into a tl_malloc'd buffer. */
tl_status tl_gunzip(const unsigned char *in, size_t len, const char *name, char **out,
                    size_t *out_len);
/* True when some svmlight line of buf (len) uses feature index 0 (a quick scan, no parse). */
bool tl_svmlight_has_index0(const char *buf, size_t len);
/* True for the data spec that names standard input. */
bool tl_spec_is_stdin(const char *path);

/* "<stem>.labels.npy" for an NPY features path "<stem>.npy" (or "<path>.labels.npy" when the
 * path does not end in .npy). Allocated with tl_malloc. */
tl_status tl_npy_labels_path(const char *x_path, char **out);

/* "nan", "inf", "infinity" in any case, optionally signed (as strtod and numpy write them). */
bool tl_text_is_nonfinite_word(const char *s, size_t n);
/* Switch the calling thread to the "C" locale for a block of stdio number formatting and
 * parsing; returns a token for tl_text_locale_pop (per thread, so other threads are unaffected). */
void *tl_text_locale_push(void);
void tl_text_locale_pop(void *token);
/* Copy s[0..n) into buf (cap bytes) for an error message: at most 40 characters, non-printable
 * bytes shown as '?', "..." appended when cut. Returns buf. */
const char *tl_text_quote(const char *s, size_t n, char *buf, size_t cap);

#endif
