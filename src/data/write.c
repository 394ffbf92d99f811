/* Writing datasets: CSV (features then the label - the class name when the dataset has class
 * names, quoted when it needs to be - no header), svmlight (label idx:val ..., zeros
 * skipped, 1-based unless index_base == 0) and NPY (features '<f8' C-order to path, labels '<i4'
 * to "<stem>.labels.npy" - regression targets as the last CSV column, the svmlight label and an
 * "<f8" labels file -, NumPy format version 1.0 as numpy.save writes it).
 *
 * Why it is built this way: every file goes through tl_wfile (src/core/wfile.c): a temporary file
 * beside it, fsync'ed and renamed into place, so an interrupted or failed save never leaves a
 * half-written file under the final name; streams (/dev/stdout, pipes, FIFOs) are written
 * through. An NPY and its labels are both finished - every write error known - before either is
 * renamed. Numbers are written as the shortest of %.15g/%.16g/%.17g that reads back to the same
 * double (exact round trip, smaller and more readable than always %.17g), in the C locale. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

/* A write through the stdio stream f of w that failed: TL_ERR_IO naming the path. */
#define TL_WCHECK(w, cond)                                                                         \
    TL_CHECK((cond), TL_ERR_IO, "%s: write failed: %s", tl_wfile_path(w), strerror(errno))

/* Row i of ds into buf (cols) as dense values. */
static void tl_row_dense(const tl_dataset *ds, size_t i, double *buf) {
    if (!ds->sparse) {
        memcpy(buf, ds->X.data + i * ds->X.ld, ds->cols * sizeof *buf);
        return;
    }
    memset(buf, 0, ds->cols * sizeof *buf);
    for (size_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++) buf[ds->indices[k]] = ds->values[k];
}

/* A class name as a CSV cell: quoted (with "" for ") when it holds a delimiter, a quote or
 * outer spaces, so the reader gives back the same name. */
static tl_status tl_write_name(tl_wfile *w, FILE *f, const char *nm) {
    tl_status st = TL_OK;
    size_t n = strlen(nm);
    bool quote = strpbrk(nm, ",;\t\"") != NULL || (n && (nm[0] == ' ' || nm[n - 1] == ' '));
    if (!quote) {
        TL_WCHECK(w, fputs(nm, f) != EOF);
        goto done;
    }
    TL_WCHECK(w, putc('"', f) != EOF);
    for (const char *p = nm; *p; p++) {
        if (*p == '"') TL_WCHECK(w, putc('"', f) != EOF);
        TL_WCHECK(w, putc(*p, f) != EOF);
    }
    TL_WCHECK(w, putc('"', f) != EOF);
done:
    return st;
}

static tl_status tl_write_csv(const tl_dataset *ds, tl_wfile *w) {
    FILE *f = tl_wfile_stream(w);
    tl_status st = TL_OK;
    double *row = NULL;
    char num[40];
    TL_ALLOC(row, ds->cols);
    for (size_t i = 0; i < ds->rows; i++) {
        tl_row_dense(ds, i, row);
        for (size_t j = 0; j < ds->cols; j++) {
            int len = tl_text_format_double(row[j], num, sizeof num);
            if (j) TL_WCHECK(w, putc(',', f) != EOF);
            TL_WCHECK(w, fwrite(num, 1, (size_t)len, f) == (size_t)len);
        }
        if (ds->y && ds->class_names) {
            TL_CHECK(ds->y[i] >= 0 && (size_t)ds->y[i] < ds->n_names, TL_ERR_LABEL,
                     "%s: row %zu has label %d, beyond its %zu class names",
                     tl_dataset_name(ds), i + 1, ds->y[i], ds->n_names);
            if (ds->cols) TL_WCHECK(w, putc(',', f) != EOF);
            TL_TRY(tl_write_name(w, f, ds->class_names[ds->y[i]]));
        } else if (ds->y) {
            TL_WCHECK(w, fprintf(f, "%s%d", ds->cols ? "," : "", ds->y[i]) > 0);
        } else if (ds->t) {
            int len = tl_text_format_double(ds->t[i], num, sizeof num);
            if (ds->cols) TL_WCHECK(w, putc(',', f) != EOF);
            TL_WCHECK(w, fwrite(num, 1, (size_t)len, f) == (size_t)len);
        }
        TL_WCHECK(w, putc('\n', f) != EOF);
    }
done:
    tl_free(row);
    return st;
}

static tl_status tl_write_svmlight(const tl_dataset *ds, int index_base, tl_wfile *w) {
    FILE *f = tl_wfile_stream(w);
    tl_status st = TL_OK;
    char num[40];
    long off = index_base == 0 ? 0 : 1;
    for (size_t i = 0; i < ds->rows; i++) {
        if (ds->t) {
            int len = tl_text_format_double(ds->t[i], num, sizeof num);
            TL_WCHECK(w, fwrite(num, 1, (size_t)len, f) == (size_t)len);
        } else {
            TL_WCHECK(w, fprintf(f, "%d", ds->y[i]) > 0);
        }
        if (ds->sparse) {
            for (size_t k = ds->indptr[i]; k < ds->indptr[i + 1]; k++) {
                if (ds->values[k] == 0) continue;
                tl_text_format_double(ds->values[k], num, sizeof num);
                TL_WCHECK(w, fprintf(f, " %ld:%s", (long)ds->indices[k] + off, num) > 0);
            }
        } else {
            const double *r = ds->X.data + i * ds->X.ld;
            for (size_t j = 0; j < ds->cols; j++) {
                if (r[j] == 0) continue;
                tl_text_format_double(r[j], num, sizeof num);
                TL_WCHECK(w, fprintf(f, " %zu:%s", j + (size_t)off, num) > 0);
            }
        }
        TL_WCHECK(w, putc('\n', f) != EOF);
    }
done:
    return st;
}

static bool tl_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* NPY v1.0 header: magic, version, little-endian u16 header length, then the dict padded with
 * spaces and a final '\n' so that the data starts at a multiple of 64 bytes. */
static tl_status tl_npy_header(tl_wfile *w, const char *descr, const char *shape) {
    FILE *f = tl_wfile_stream(w);
    tl_status st = TL_OK;
    char dict[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, shape);
    TL_CHECK(dl > 0 && (size_t)dl < sizeof dict - 1, TL_ERR_INVALID_ARG, "%s: npy header too long",
             tl_wfile_path(w));
    size_t total = 10 + (size_t)dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)dl + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    TL_WCHECK(w, fwrite(pre, 1, sizeof pre, f) == sizeof pre);
    TL_WCHECK(w, fwrite(dict, 1, (size_t)dl, f) == (size_t)dl);
    for (size_t k = 0; k < pad; k++) TL_WCHECK(w, putc(' ', f) != EOF);
    TL_WCHECK(w, putc('\n', f) != EOF);
done:
    return st;
}

static void tl_bswap8(unsigned char *p) {
    for (int k = 0; k < 4; k++) {
        unsigned char t = p[k];
        p[k] = p[7 - k];
        p[7 - k] = t;
    }
}

static tl_status tl_write_npy_x(const tl_dataset *ds, tl_wfile *w) {
    FILE *f = tl_wfile_stream(w);
    tl_status st = TL_OK;
    double *row = NULL;
    char shape[64];
    snprintf(shape, sizeof shape, "(%zu, %zu)", ds->rows, ds->cols);
    TL_TRY(tl_npy_header(w, "<f8", shape));
    TL_ALLOC(row, ds->cols);
    bool le = tl_little_endian();
    for (size_t i = 0; i < ds->rows; i++) {
        tl_row_dense(ds, i, row);
        if (!le)
            for (size_t j = 0; j < ds->cols; j++) tl_bswap8((unsigned char *)(row + j));
        TL_WCHECK(w, fwrite(row, sizeof *row, ds->cols, f) == ds->cols);
    }
done:
    tl_free(row);
    return st;
}

static tl_status tl_write_npy_y(const tl_dataset *ds, tl_wfile *w) {
    FILE *f = tl_wfile_stream(w);
    tl_status st = TL_OK;
    char shape[64];
    snprintf(shape, sizeof shape, "(%zu,)", ds->rows);
    TL_TRY(tl_npy_header(w, ds->t ? "<f8" : "<i4", shape));
    bool le = tl_little_endian();
    for (size_t i = 0; ds->t && i < ds->rows; i++) { /* regression targets: float64 */
        double v = ds->t[i];
        if (!le) tl_bswap8((unsigned char *)&v);
        TL_WCHECK(w, fwrite(&v, sizeof v, 1, f) == 1);
    }
    for (size_t i = 0; !ds->t && i < ds->rows; i++) {
        uint32_t v = (uint32_t)(int32_t)ds->y[i];
        unsigned char b[4] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff),
                              (unsigned char)((v >> 16) & 0xff), (unsigned char)(v >> 24)};
        TL_WCHECK(w, fwrite(b, 1, 4, f) == 4);
    }
done:
    return st;
}

tl_status tl_dataset_save(const tl_dataset *ds, const char *path, tl_format fmt, int index_base) {
    tl_status st = TL_OK;
    tl_wfile *w = NULL, *wy = NULL;
    char *ypath = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "save: NULL dataset");
    TL_CHECK(path != NULL && path[0] != '\0', TL_ERR_INVALID_ARG, "save: empty output path");
    {
        size_t n = strlen(path);
        TL_CHECK(!(n >= 3 && strcmp(path + n - 3, ".gz") == 0), TL_ERR_UNSUPPORTED,
                 "%s: writing compressed files is not supported (write the plain file and gzip "
                 "it)",
                 path);
    }
    if (fmt == TL_FORMAT_AUTO) fmt = tl_format_guess(path);
    TL_CHECK(fmt != TL_FORMAT_AUTO, TL_ERR_INVALID_ARG,
             "%s: cannot tell the output format from the name (use .csv, .svmlight or .npy, or "
             "give the format)",
             path);
    TL_CHECK(fmt == TL_FORMAT_CSV || fmt == TL_FORMAT_SVMLIGHT || fmt == TL_FORMAT_NPY,
             TL_ERR_UNSUPPORTED, "%s: writing %s files is not supported (use csv, svmlight or npy)",
             path, tl_format_name(fmt));
    bool labelled = ds->y != NULL || ds->t != NULL; /* classes or regression targets */
    TL_CHECK(fmt != TL_FORMAT_SVMLIGHT || labelled, TL_ERR_LABEL,
             "%s: svmlight needs a label on every line but the dataset %s has no labels (save "
             "as .csv or .npy instead)",
             path, tl_dataset_name(ds));

    TL_TRY(tl_wfile_open(path, &w));
    /* An NPY's labels go to a second file beside it, which a stream does not have. */
    TL_CHECK(fmt != TL_FORMAT_NPY || !labelled || !tl_wfile_is_stream(w), TL_ERR_UNSUPPORTED,
             "%s: a labelled .npy is two files (the labels go beside it), and this is a stream; "
             "write csv or svmlight to a stream",
             path);
    switch (fmt) {
    case TL_FORMAT_CSV: st = tl_write_csv(ds, w); break;
    case TL_FORMAT_SVMLIGHT: st = tl_write_svmlight(ds, index_base, w); break;
    default: st = tl_write_npy_x(ds, w); break;
    }
    if (st != TL_OK) goto done;
    TL_TRY(tl_wfile_finish(w));
    if (fmt == TL_FORMAT_NPY && !tl_wfile_is_stream(w)) {
        TL_TRY(tl_npy_labels_path(path, &ypath));
        if (labelled) {
            TL_TRY(tl_wfile_open(ypath, &wy));
            TL_TRY(tl_write_npy_y(ds, wy));
            TL_TRY(tl_wfile_finish(wy));
            st = tl_wfile_commit(wy);
            wy = NULL;
            if (st != TL_OK) goto done;
        }
    }
    st = tl_wfile_commit(w);
    w = NULL;
    if (st != TL_OK) goto done;
    /* An unlabelled NPY save must not leave an older labels file that the loader would pick up
     * as this file's default labels. */
    if (ypath && !labelled) unlink(ypath);
done:
    tl_wfile_abort(w);
    tl_wfile_abort(wy);
    tl_free(ypath);
    return st;
}
