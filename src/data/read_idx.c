/* IDX reader (the MNIST / Fashion-MNIST file format), plain or gzip-compressed.
 *
 * Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): bytes 0x00 0x00, a type byte
 * (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
 * dimensions, then that many big-endian uint32 sizes, then the data, big-endian, C order.
 * An n x h x w image file becomes n samples of h*w raw values (no scaling: 0..255 for MNIST);
 * a 1-D file holds labels.
 *
 * Files are read whole and parsed from memory (so the fuzz target runs the same code). A gzip
 * stream (magic 1f 8b) is inflated with zlib in two steps: first just the header, then exactly
 * the number of bytes the header promises, into a buffer that grows as data actually arrives -
 * a tiny hostile file claiming terabytes cannot make us allocate more than it really inflates
 * to. The stream must end right after the data; anything else is reported as truncated,
 * corrupted or trailing data, naming the file.
 * A block of rows (tlp_read_idx_block, a process's share of an MPI job) is read instead through
 * zlib's gz reader, plain or gzip alike: the header, a seek to the block (a real seek in a plain
 * file; in a gzip stream, inflating and discarding what comes before), and the block's bytes
 * only, so no process holds the whole file; what follows the block is not checked. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "internal/check.h"
#include "internal/testing.h"
#include "tl/data.h"
#include "data/dataset_internal.h"

#define IDX_MAX_DIMS 4

typedef struct {
    unsigned type;
    size_t esize;
    size_t ndim;
    size_t dims[IDX_MAX_DIMS];
    size_t rows, cols; /* dims[0] and the product of the rest (1 for 1-D) */
    size_t bytes;      /* rows * cols * esize */
    const unsigned char *data;
    unsigned char *owned; /* inflated copy (tl_malloc) when the file was gzip'd */
} idx_array;

static uint64_t idx_be(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static double idx_value(const idx_array *a, const unsigned char *p) {
    uint64_t u = idx_be(p, a->esize);
    switch (a->type) {
    case 0x08: return (double)(uint8_t)u;
    case 0x09: return (double)(int8_t)(uint8_t)u;
    case 0x0B: return (double)(int16_t)(uint16_t)u;
    case 0x0C: return (double)(int32_t)(uint32_t)u;
    case 0x0D: {
        uint32_t b = (uint32_t)u;
        float f;
        memcpy(&f, &b, sizeof f);
        return (double)f;
    }
    default: {
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    }
}

static void idx_convert(const idx_array *a, tl_mat out /* (rows, cols) */) {
    const unsigned char *p = a->data;
    if (a->type == 0x08) { /* the common case, kept tight */
        for (size_t i = 0; i < a->rows; i++)
            for (size_t j = 0; j < a->cols; j++) TL_AT(out, i, j) = (double)*p++;
        return;
    }
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->cols; j++, p += a->esize) TL_AT(out, i, j) = idx_value(a, p);
}

/* The 4-byte magic: 0, 0, type, ndim. */
static tl_status idx_magic(const unsigned char m[4], const char *name, idx_array *a) {
    if (m[0] != 0 || m[1] != 0)
        return tl_fail(TL_ERR_FORMAT, "%s: not an IDX file (bad magic %02x %02x %02x %02x)", name,
                       m[0], m[1], m[2], m[3]);
    a->type = m[2];
    switch (a->type) {
    case 0x08: case 0x09: a->esize = 1; break;
    case 0x0B: a->esize = 2; break;
    case 0x0C: case 0x0D: a->esize = 4; break;
    case 0x0E: a->esize = 8; break;
    default:
        return tl_fail(TL_ERR_FORMAT, "%s: not an IDX file (unknown data type 0x%02x)", name,
                       a->type);
    }
    a->ndim = m[3];
    if (a->ndim == 0) return tl_fail(TL_ERR_FORMAT, "%s: IDX file with 0 dimensions", name);
    if (a->ndim > IDX_MAX_DIMS)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: IDX file with %zu dimensions (at most %d supported)", name, a->ndim,
                       IDX_MAX_DIMS);
    return TL_OK;
}

/* The ndim big-endian uint32 sizes; computes rows, cols, bytes with overflow checks. */
static tl_status idx_dims(const unsigned char *d, const char *name, idx_array *a) {
    size_t cols = 1, count, bytes;
    for (size_t k = 0; k < a->ndim; k++) a->dims[k] = (size_t)idx_be(d + 4 * k, 4);
    for (size_t k = 1; k < a->ndim; k++)
        if (tl_size_mul(cols, a->dims[k], &cols) != 0)
            return tl_fail(TL_ERR_FORMAT, "%s: IDX dimensions overflow", name);
    if (tl_size_mul(a->dims[0], cols, &count) != 0 || tl_size_mul(count, a->esize, &bytes) != 0)
        return tl_fail(TL_ERR_FORMAT, "%s: IDX dimensions overflow", name);
    if (count == 0) return tl_fail(TL_ERR_EMPTY, "%s: IDX file holds no values", name);
    a->rows = a->dims[0];
    a->cols = cols;
    a->bytes = bytes;
    return TL_OK;
}

/* ---- gzip ---- */

typedef struct {
    z_stream zs;
    const unsigned char *in; /* input not yet handed to zlib */
    size_t in_left;
    bool ended;
} idx_gz;

/* Inflate up to n bytes into dst; *got < n only when the gzip stream ended. */
static tl_status gz_read(idx_gz *g, const char *name, unsigned char *dst, size_t n, size_t *got) {
    *got = 0;
    while (*got < n && !g->ended) {
        if (g->zs.avail_in == 0 && g->in_left > 0) {
            size_t chunk = g->in_left < (1u << 30) ? g->in_left : (1u << 30);
            g->zs.next_in = (Bytef *)(uintptr_t)g->in;
            g->zs.avail_in = (uInt)chunk;
            g->in += chunk;
            g->in_left -= chunk;
        }
        size_t want = n - *got < (1u << 30) ? n - *got : (1u << 30);
        g->zs.next_out = dst + *got;
        g->zs.avail_out = (uInt)want;
        int r = inflate(&g->zs, Z_NO_FLUSH);
        *got += want - g->zs.avail_out;
        if (r == Z_STREAM_END) {
            g->ended = true;
        } else if (r == Z_MEM_ERROR) {
            return tl_fail(TL_ERR_NOMEM, "%s: out of memory inflating gzip data", name);
        } else if (r == Z_BUF_ERROR || (r == Z_OK && g->zs.avail_in == 0 && g->in_left == 0 &&
                                        g->zs.avail_out != 0)) {
            return tl_fail(TL_ERR_FORMAT, "%s: gzip data truncated (compressed stream ends early)",
                           name);
        } else if (r != Z_OK) {
            return tl_fail(TL_ERR_FORMAT, "%s: corrupted gzip data (%s)", name,
                           g->zs.msg ? g->zs.msg : "inflate failed");
        }
    }
    return TL_OK;
}

static tl_status idx_open_gz(const unsigned char *buf, size_t len, const char *name,
                             idx_array *a) {
    tl_status st = TL_OK;
    idx_gz g;
    bool init = false;
    unsigned char hdr[4 + 4 * IDX_MAX_DIMS], *raw = NULL;
    size_t got, have = 0, cap;
    memset(&g, 0, sizeof g);
    g.in = buf;
    g.in_left = len;
    TL_CHECK(inflateInit2(&g.zs, 16 + MAX_WBITS) == Z_OK, TL_ERR_NOMEM,
             "%s: cannot initialise zlib", name);
    init = true;

    TL_TRY(gz_read(&g, name, hdr, 4, &got));
    TL_CHECK(got == 4, TL_ERR_FORMAT, "%s: IDX header truncated (%zu bytes after inflating)", name,
             got);
    TL_TRY(idx_magic(hdr, name, a));
    TL_TRY(gz_read(&g, name, hdr + 4, 4 * a->ndim, &got));
    TL_CHECK(got == 4 * a->ndim, TL_ERR_FORMAT, "%s: IDX header truncated (%zu dimension bytes)",
             name, got);
    TL_TRY(idx_dims(hdr + 4, name, a));

    /* Grow towards a->bytes as data arrives, never beyond it. */
    cap = a->bytes < ((size_t)1 << 20) ? a->bytes : ((size_t)1 << 20);
    TL_ALLOC(raw, cap);
    for (;;) {
        TL_TRY(gz_read(&g, name, raw + have, cap - have, &got));
        have += got;
        if (have < cap) break; /* stream ended early */
        if (cap == a->bytes) break;
        size_t ncap = cap <= a->bytes / 2 ? cap * 2 : a->bytes;
        unsigned char *nr = tl_realloc(raw, ncap);
        TL_CHECK(nr, TL_ERR_NOMEM, "%s: out of memory inflating %zu bytes", name, ncap);
        raw = nr;
        cap = ncap;
    }
    TL_CHECK(have == a->bytes, TL_ERR_FORMAT,
             "%s: data truncated: expected %zu bytes, found %zu (after inflating)", name, a->bytes,
             have);
    if (!g.ended) {
        unsigned char extra;
        TL_TRY(gz_read(&g, name, &extra, 1, &got));
        TL_CHECK(got == 0, TL_ERR_FORMAT, "%s: unexpected data after the %zu data bytes", name,
                 a->bytes);
    }
    /* Anything after the gzip stream must be zero padding. */
    {
        const unsigned char *rest = g.zs.next_in;
        size_t nrest = g.zs.avail_in;
        for (size_t i = 0; i < nrest; i++)
            TL_CHECK(rest[i] == 0, TL_ERR_FORMAT, "%s: unexpected bytes after the gzip stream",
                     name);
        for (size_t i = 0; i < g.in_left; i++)
            TL_CHECK(g.in[i] == 0, TL_ERR_FORMAT, "%s: unexpected bytes after the gzip stream",
                     name);
    }
    a->owned = raw;
    a->data = raw;
    raw = NULL;
done:
    if (init) inflateEnd(&g.zs);
    tl_free(raw);
    return st;
}

/* Parse and validate; a->data points into buf (plain) or a->owned (gzip). */
static tl_status idx_open(const unsigned char *buf, size_t len, const char *name, idx_array *a) {
    memset(a, 0, sizeof *a);
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) return idx_open_gz(buf, len, name, a);
    if (len < 4)
        return tl_fail(TL_ERR_FORMAT, "%s: not an IDX file (only %zu bytes)", name, len);
    tl_status st = idx_magic(buf, name, a);
    if (st != TL_OK) return st;
    size_t hdr = 4 + 4 * a->ndim;
    if (len < hdr)
        return tl_fail(TL_ERR_FORMAT, "%s: IDX header truncated (%zu of %zu bytes)", name, len,
                       hdr);
    st = idx_dims(buf + 4, name, a);
    if (st != TL_OK) return st;
    if (len - hdr < a->bytes)
        return tl_fail(TL_ERR_FORMAT, "%s: data truncated: expected %zu bytes, found %zu", name,
                       a->bytes, len - hdr);
    if (len - hdr > a->bytes)
        return tl_fail(TL_ERR_FORMAT, "%s: %zu unexpected bytes after the data", name,
                       len - hdr - a->bytes);
    a->data = buf + hdr;
    return TL_OK;
}

static void idx_close(idx_array *a) {
    tl_free(a->owned);
    a->owned = NULL;
    a->data = NULL;
}

tl_status tl_parse_idx(const unsigned char *buf, size_t len, const char *name, tl_mat *X_out,
                       size_t dims_out[4], size_t *ndim_out) {
    tl_status st = TL_OK;
    idx_array a;
    tl_mat X = {0, 0, 0, NULL};
    memset(&a, 0, sizeof a);
    if (!name) name = "<idx>";
    TL_CHECK(X_out && (buf || len == 0), TL_ERR_INVALID_ARG, "%s: tl_parse_idx: NULL argument",
             name);
    X_out->rows = X_out->cols = X_out->ld = 0;
    X_out->data = NULL;
    TL_TRY(idx_open(buf, len, name, &a));
    TL_TRY(tl_mat_alloc(&X, a.rows, a.cols));
    idx_convert(&a, X);
    if (dims_out)
        for (size_t k = 0; k < IDX_MAX_DIMS; k++) dims_out[k] = k < a.ndim ? a.dims[k] : 0;
    if (ndim_out) *ndim_out = a.ndim;
    *X_out = X;
    X.data = NULL;
done:
    idx_close(&a);
    tl_mat_free(&X);
    return st;
}

/* ---- files ---- */

static tl_status idx_slurp(const char *path, unsigned char **buf_out, size_t *len_out) {
    tl_status st = TL_OK;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    *buf_out = NULL;
    *len_out = 0;
    TL_CHECK(f, TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        cap = (size_t)sb.st_size + 1;
    if (cap < 4096) cap = 4096;
    TL_ALLOC(buf, cap);
    for (;;) {
        if (len == cap) {
            TL_CHECK(cap <= (size_t)-1 / 2, TL_ERR_NOMEM, "%s: file too large", path);
            unsigned char *nb = tl_realloc(buf, cap * 2);
            TL_CHECK(nb, TL_ERR_NOMEM, "%s: out of memory reading the file", path);
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    TL_CHECK(!ferror(f), TL_ERR_IO, "%s: read error: %s", path, strerror(errno));
    *buf_out = buf;
    *len_out = len;
    buf = NULL;
done:
    if (f) fclose(f);
    tl_free(buf);
    return st;
}

/* Read and decode one file; the file buffer is released as soon as the data is inflated. */
static tl_status idx_load(const char *path, unsigned char **file, idx_array *a) {
    size_t len;
    tl_status st = idx_slurp(path, file, &len);
    if (st != TL_OK) return st;
    st = idx_open(*file, len, path, a);
    if (st == TL_OK && a->owned) {
        tl_free(*file);
        *file = NULL;
    }
    return st;
}

/* The dataset of the images xa and the labels ya (NULL: none), rows numbered from row0 + 1 in
 * messages. */
static tl_status idx_dataset(const idx_array *xa, const idx_array *ya, const char *images_path,
                             const char *labels_path, size_t row0, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    TL_TRY(tl_dataset_create_dense(xa->rows, xa->cols, ya != NULL, &ds));
    tl_mat X = tl_dataset_dense(ds);
    idx_convert(xa, X);
    if (xa->type == 0x0D || xa->type == 0x0E)
        for (size_t i = 0; i < X.rows; i++)
            for (size_t j = 0; j < X.cols; j++)
                TL_CHECK(isfinite(TL_AT(X, i, j)), TL_ERR_NONFINITE,
                         "%s: %s at row %zu, column %zu", images_path,
                         isnan(TL_AT(X, i, j)) ? "NaN" : "Inf", row0 + i + 1, j + 1);
    if (ya) {
        int *y = tl_dataset_labels(ds);
        for (size_t i = 0; i < ya->rows; i++) {
            double v = idx_value(ya, ya->data + i * ya->esize);
            TL_CHECK(v == floor(v) && v >= (double)INT_MIN && v <= (double)INT_MAX, TL_ERR_LABEL,
                     "%s: label %g at index %zu is not an integer (in the int range)",
                     labels_path, v, row0 + i);
            y[i] = (int)v;
        }
    }
    TL_TRY(tl_dataset_set_name(ds, images_path));
    if (xa->ndim >= 3 && xa->ndim - 1 <= TL_SAMPLE_SHAPE_MAX) {
        ds->shape_nd = xa->ndim - 1;
        for (size_t k = 1; k < xa->ndim; k++) ds->shape[k - 1] = xa->dims[k];
    }
    *out = ds;
    ds = NULL;
done:
    tl_dataset_free(ds);
    return st;
}

tl_status tl_read_idx(const char *images_path, const char *labels_path, tl_dataset **out) {
    tl_status st = TL_OK;
    unsigned char *xf = NULL, *yf = NULL;
    idx_array xa, ya;
    tl_dataset *ds = NULL;
    memset(&xa, 0, sizeof xa);
    memset(&ya, 0, sizeof ya);
    TL_CHECK(images_path && out, TL_ERR_INVALID_ARG, "tl_read_idx: NULL argument");
    *out = NULL;

    TL_TRY(idx_load(images_path, &xf, &xa));
    if (labels_path) {
        TL_TRY(idx_load(labels_path, &yf, &ya));
        TL_CHECK(ya.ndim == 1, TL_ERR_SHAPE,
                 "%s: a labels file must be 1-D, this one has %zu dimensions", labels_path,
                 ya.ndim);
        TL_CHECK(ya.rows == xa.rows, TL_ERR_SHAPE, "%s: %zu labels for %zu images in %s",
                 labels_path, ya.rows, xa.rows, images_path);
    }
    TL_TRY(idx_dataset(&xa, labels_path ? &ya : NULL, images_path, labels_path, 0, &ds));
    *out = ds;
    ds = NULL;
done:
    idx_close(&xa);
    idx_close(&ya);
    tl_free(xf);
    tl_free(yf);
    tl_dataset_free(ds);
    return st;
}

/* ---- a block of rows ---- */

/* Reads exactly n bytes (or fails naming the file). */
static tl_status gzf_read(gzFile f, const char *path, void *dst, size_t n, const char *what) {
    unsigned char *p = dst;
    while (n > 0) {
        unsigned chunk = n < (1u << 30) ? (unsigned)n : (1u << 30);
        int r = gzread(f, p, chunk);
        if (r <= 0) {
            int e;
            const char *msg = gzerror(f, &e);
            return tl_fail(TL_ERR_FORMAT, "%s: %s truncated or unreadable (%s)", path, what,
                           r < 0 && msg ? msg : "end of data");
        }
        p += r;
        n -= (size_t)r;
    }
    return TL_OK;
}

/* Opens path and reads its header into a; the data of row i starts at byte *data0 + i * row
 * bytes of the (inflated) stream. */
static tl_status idx_block_open(const char *path, gzFile *f, idx_array *a, size_t *data0) {
    tl_status st = TL_OK;
    unsigned char hdr[4 + 4 * IDX_MAX_DIMS];
    memset(a, 0, sizeof *a);
    *f = gzopen(path, "rb");
    TL_CHECK(*f, TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(*f, 1u << 17);
    TL_TRY(gzf_read(*f, path, hdr, 4, "IDX header"));
    TL_TRY(idx_magic(hdr, path, a));
    TL_TRY(gzf_read(*f, path, hdr + 4, 4 * a->ndim, "IDX header"));
    TL_TRY(idx_dims(hdr + 4, path, a));
    *data0 = 4 + 4 * a->ndim;
done:
    return st;
}

/* a->data := rows [lo, hi) of the open file (owned). */
static tl_status idx_block_rows(gzFile f, const char *path, size_t data0, size_t lo, size_t hi,
                                idx_array *a) {
    tl_status st = TL_OK;
    size_t row = a->cols * a->esize, off = data0 + lo * row, n = (hi - lo) * row;
    TL_CHECK(off <= (size_t)LONG_MAX, TL_ERR_UNSUPPORTED, "%s: offset %zu is too large to seek",
             path, off);
    TL_CHECK(gzseek(f, (z_off_t)off, SEEK_SET) == (z_off_t)off, TL_ERR_FORMAT,
             "%s: data truncated: cannot reach row %zu", path, lo + 1);
    TL_ALLOC(a->owned, n ? n : 1);
    TL_TRY(gzf_read(f, path, a->owned, n, "data"));
    a->data = a->owned;
    a->rows = hi - lo;
done:
    return st;
}

tl_status tlp_read_idx_block(const char *images_path, const char *labels_path, int part,
                             int parts, size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    gzFile xf = NULL, yf = NULL;
    idx_array xa, ya;
    size_t x0 = 0, y0 = 0, lo, hi;
    memset(&xa, 0, sizeof xa);
    memset(&ya, 0, sizeof ya);
    TL_CHECK(images_path && out && total, TL_ERR_INVALID_ARG, "read_idx_block: NULL argument");
    *out = NULL;
    TL_TRY(idx_block_open(images_path, &xf, &xa, &x0));
    *total = xa.rows;
    if (labels_path) {
        TL_TRY(idx_block_open(labels_path, &yf, &ya, &y0));
        TL_CHECK(ya.ndim == 1, TL_ERR_SHAPE,
                 "%s: a labels file must be 1-D, this one has %zu dimensions", labels_path,
                 ya.ndim);
        TL_CHECK(ya.rows == xa.rows, TL_ERR_SHAPE, "%s: %zu labels for %zu images in %s",
                 labels_path, ya.rows, xa.rows, images_path);
    }
    tl_block_range(xa.rows, part, parts, &lo, &hi);
    TL_CHECK(hi > lo, TL_ERR_EMPTY, "%s: %zu rows leave none to part %d of %d", images_path,
             xa.rows, part + 1, parts);
    TL_TRY(idx_block_rows(xf, images_path, x0, lo, hi, &xa));
    if (labels_path) TL_TRY(idx_block_rows(yf, labels_path, y0, lo, hi, &ya));
    TL_TRY(idx_dataset(&xa, labels_path ? &ya : NULL, images_path, labels_path, lo, out));
done:
    if (xf) gzclose(xf);
    if (yf) gzclose(yf);
    idx_close(&xa);
    idx_close(&ya);
    return st;
}
