/* NumPy .npy reader: features (and optionally labels from a second file) as a dense dataset.
 *
 * Format (numpy/lib/format.py, NEP 1): "\x93NUMPY", major, minor, a little-endian header length
 * (uint16 for v1.0, uint32 for v2.0/v3.0), then an ASCII (v3: UTF-8) Python dict literal
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and a newline, then the raw array in C or Fortran order.
 *
 * Files are read whole and parsed from memory (tl_parse_npy, the fuzz target, is that path),
 * except a native float64 C-order array, whose header goes through the same parser and whose
 * payload is then read with pread straight into the matrix (npy_try_direct). The header is parsed by a small strict recogniser for that dict literal
 * (never an evaluator): every key exactly once, no unknown keys, shape entries overflow-checked,
 * and the data length must match shape x itemsize exactly before anything is allocated. Only
 * plain numeric dtypes (bool, int, uint, float16/32/64, either byte order) are accepted; 1-D
 * arrays become n x 1, 2-D arrays n x d, 3-D and 4-D arrays (image stacks n x h x w,
 * n x c x h x w) n rows of h*w (c*h*w) features in C order (the trailing shape is kept on the
 * dataset), anything else is refused with TL_ERR_UNSUPPORTED.
 * Values are converted to double straight into the destination matrix (no intermediate copy). */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/check.h"
#include "internal/testing.h"
#include "tl/data.h"
#include "dataset_internal.h"

typedef enum { NPY_BOOL, NPY_INT, NPY_UINT, NPY_FLOAT } npy_kind;

typedef struct {
    npy_kind kind;
    size_t esize;   /* bytes per element: 1, 2, 4 or 8 */
    bool big;       /* big-endian elements */
    bool fortran;   /* column-major data */
    size_t ndim;    /* 1 to 4 */
    size_t dims[4]; /* the shape */
    size_t rows, cols; /* dims[0] and the product of the rest (1 for 1-D) */
    const unsigned char *data; /* rows * cols * esize bytes inside the caller's buffer */
    size_t offset;             /* where the data starts in the file */
} npy_array;

/* ---- byte helpers ---- */

static uint64_t npy_load(const unsigned char *p, size_t n, bool big) {
    uint64_t v = 0;
    if (big)
        for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    else
        for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static double npy_half_to_double(uint16_t h) {
    int sign = (h >> 15) & 1, ex = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (ex == 0)
        v = ldexp((double)man, -24); /* subnormal */
    else if (ex == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp((double)(man | 0x400), ex - 25);
    return sign ? -v : v;
}

static double npy_value(const npy_array *a, const unsigned char *p) {
    uint64_t u = npy_load(p, a->esize, a->big);
    switch (a->kind) {
    case NPY_BOOL: return u ? 1.0 : 0.0;
    case NPY_UINT: return (double)u;
    case NPY_INT:
        switch (a->esize) {
        case 1: return (double)(int8_t)(uint8_t)u;
        case 2: return (double)(int16_t)(uint16_t)u;
        case 4: return (double)(int32_t)(uint32_t)u;
        default: return (double)(int64_t)u;
        }
    case NPY_FLOAT:
        if (a->esize == 2) return npy_half_to_double((uint16_t)u);
        if (a->esize == 4) {
            uint32_t b = (uint32_t)u;
            float f;
            memcpy(&f, &b, sizeof f);
            return (double)f;
        } else {
            double d;
            memcpy(&d, &u, sizeof d);
            return d;
        }
    }
    return 0.0;
}

/* A native float64 array in C order: its rows are already our layout. */
static bool npy_native_f8(const npy_array *a) {
    const uint16_t probe = 1;
    const bool host_little = *(const unsigned char *)&probe == 1;
    return !a->fortran && a->kind == NPY_FLOAT && a->esize == 8 && a->big != host_little;
}

/* Convert the array into out (rows, cols), row-major. */
static void npy_convert(const npy_array *a, tl_mat out) {
    const size_t es = a->esize;
    if (npy_native_f8(a)) {
        /* native float64, C order: the rows are already our layout */
        for (size_t i = 0; i < a->rows; i++)
            memcpy(out.data + i * out.ld, a->data + i * a->cols * 8, a->cols * 8);
        return;
    }
    if (!a->fortran) {
        const unsigned char *p = a->data;
        for (size_t i = 0; i < a->rows; i++)
            for (size_t j = 0; j < a->cols; j++, p += es) TL_AT(out, i, j) = npy_value(a, p);
    } else if (a->ndim <= 2) {
        /* column-major: element (i, j) at (j * rows + i) * esize */
        const unsigned char *p = a->data;
        for (size_t j = 0; j < a->cols; j++)
            for (size_t i = 0; i < a->rows; i++, p += es) TL_AT(out, i, j) = npy_value(a, p);
    } else {
        /* column-major N-D: the trailing index (j1, j2, j3) runs with j1 fastest in memory, and
           lands at row-major column ((j1 * d2) + j2) * d3 + j3 */
        size_t t[3] = {0, 0, 0}, m = a->ndim - 1;
        const size_t *d = a->dims + 1;
        const unsigned char *p = a->data;
        for (size_t q = 0; q < a->cols; q++) {
            size_t col = 0;
            for (size_t k = 0; k < m; k++) col = col * d[k] + t[k];
            for (size_t i = 0; i < a->rows; i++, p += es) TL_AT(out, i, col) = npy_value(a, p);
            for (size_t k = 0; k < m; k++) {
                if (++t[k] < d[k]) break;
                t[k] = 0;
            }
        }
    }
}

/* ---- header dict recogniser ---- */

typedef struct {
    const char *s, *end;
    const char *name;
} npy_lex;

static void npy_ws(npy_lex *lx) {
    while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t' || *lx->s == '\n' || *lx->s == '\r'))
        lx->s++;
}

/* A quoted Python string without escapes; returns a pointer/length into the header. */
static tl_status npy_string(npy_lex *lx, const char **str, size_t *n) {
    if (lx->s >= lx->end || (*lx->s != '\'' && *lx->s != '"'))
        return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: expected a quoted string", lx->name);
    char q = *lx->s++;
    const char *b = lx->s;
    while (lx->s < lx->end && *lx->s != q) {
        if (*lx->s == '\\' || *lx->s == '\n' || *lx->s == '\0')
            return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: unexpected character in string",
                           lx->name);
        lx->s++;
    }
    if (lx->s >= lx->end)
        return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: unterminated string", lx->name);
    *str = b;
    *n = (size_t)(lx->s - b);
    lx->s++;
    return TL_OK;
}

static bool npy_word(npy_lex *lx, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(lx->end - lx->s) < n || memcmp(lx->s, w, n) != 0) return false;
    lx->s += n;
    return true;
}

/* Parse descr, e.g. "<f8", "|u1", ">i4". */
static tl_status npy_descr(const char *name, const char *d, size_t n, npy_array *a) {
    char shown[32];
    size_t k = n < sizeof shown - 1 ? n : sizeof shown - 1;
    for (size_t i = 0; i < k; i++) shown[i] = (d[i] >= 32 && d[i] < 127) ? d[i] : '?';
    shown[k] = '\0';

    size_t i = 0;
    char order = '=';
    if (i < n && (d[i] == '<' || d[i] == '>' || d[i] == '|' || d[i] == '=')) order = d[i++];
    if (i >= n)
        return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: empty dtype '%s'", name, shown);
    char kind = d[i++];
    size_t size = 0;
    if (i >= n || n - i > 2)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: unsupported dtype '%s' (numeric dtypes only)", name,
                       shown);
    for (; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return tl_fail(TL_ERR_UNSUPPORTED, "%s: unsupported dtype '%s' (numeric dtypes only)",
                           name, shown);
        size = size * 10 + (size_t)(d[i] - '0');
    }
    bool ok;
    switch (kind) {
    case 'b': a->kind = NPY_BOOL; ok = size == 1; break;
    case 'i': a->kind = NPY_INT; ok = size == 1 || size == 2 || size == 4 || size == 8; break;
    case 'u': a->kind = NPY_UINT; ok = size == 1 || size == 2 || size == 4 || size == 8; break;
    case 'f': a->kind = NPY_FLOAT; ok = size == 2 || size == 4 || size == 8; break;
    default: ok = false; break;
    }
    if (!ok)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: unsupported dtype '%s' (supported: bool, int8-64, uint8-64, "
                       "float16/32/64)",
                       name, shown);
    a->esize = size;
    /* '=' is native order; numpy writes '<' or '>' explicitly, so this only matters for
     * hand-made files. '|' (not applicable) is only legal for one-byte types. */
    if (order == '|' && size != 1)
        return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: dtype '%s' needs a byte order", name,
                       shown);
    if (order == '=') {
        const uint16_t one = 1;
        unsigned char b0;
        memcpy(&b0, &one, 1);
        a->big = b0 == 0;
    } else {
        a->big = order == '>';
    }
    return TL_OK;
}

/* Parse the shape tuple: "(3, 4)", "(5,)", "()"; ints may carry a Python 2 'L' suffix. */
static tl_status npy_shape(npy_lex *lx, npy_array *a) {
    size_t dims[5], nd = 0, total = 0;
    char shown[96];
    int shown_len = 0;
    if (lx->s >= lx->end || *lx->s != '(')
        return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: shape is not a tuple", lx->name);
    lx->s++;
    for (;;) {
        npy_ws(lx);
        if (lx->s < lx->end && *lx->s == ')') {
            lx->s++;
            break;
        }
        if (lx->s >= lx->end || *lx->s < '0' || *lx->s > '9')
            return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: shape entry is not an integer",
                           lx->name);
        size_t v = 0;
        while (lx->s < lx->end && *lx->s >= '0' && *lx->s <= '9') {
            size_t dgt = (size_t)(*lx->s - '0');
            if (v > ((size_t)-1 - dgt) / 10)
                return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: shape entry overflows",
                               lx->name);
            v = v * 10 + dgt;
            lx->s++;
        }
        if (lx->s < lx->end && *lx->s == 'L') lx->s++;
        if (nd < 5) dims[nd] = v;
        if (shown_len < (int)sizeof shown - 24)
            shown_len += snprintf(shown + shown_len, sizeof shown - (size_t)shown_len, "%s%zu",
                                  nd ? ", " : "", v);
        nd++;
        if (nd == 1)
            total = v;
        else if (tl_size_mul(total, v, &total) != 0)
            return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: shape (%s...) overflows", lx->name,
                           shown);
        npy_ws(lx);
        if (lx->s < lx->end && *lx->s == ',') {
            lx->s++;
            continue;
        }
        if (lx->s < lx->end && *lx->s == ')') {
            lx->s++;
            break;
        }
        return tl_fail(TL_ERR_FORMAT, "%s: bad .npy header: malformed shape tuple", lx->name);
    }
    if (nd == 0)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: 0-d (scalar) array: only 1-D and 2-D arrays are supported", lx->name);
    if (nd > 4)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: %zu-D array of shape (%s): only 1-D to 4-D arrays are supported (n "
                       "samples, then up to 3 dimensions per sample)",
                       lx->name, nd, shown);
    (void)total;
    a->ndim = nd;
    memset(a->dims, 0, sizeof a->dims);
    for (size_t k = 0; k < nd; k++) a->dims[k] = dims[k];
    a->rows = dims[0];
    a->cols = 1;
    for (size_t k = 1; k < nd; k++) a->cols *= dims[k]; /* no overflow: total was checked */
    return TL_OK;
}

/* Parse and validate the whole file; a->data points into buf on success. */
/* Parses the header in buf (len bytes available) of a file of `total` bytes and checks the data
 * length against it; a->data points into buf when the whole file is there (len == total), else
 * it is NULL and a->offset says where the data starts. */
static tl_status npy_open(const unsigned char *buf, size_t len, size_t total, const char *name,
                          npy_array *a) {
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    tl_status st = TL_OK;
    memset(a, 0, sizeof *a);
    if (len < 10 || memcmp(buf, magic, 6) != 0)
        return tl_fail(TL_ERR_FORMAT, "%s: not a .npy file (bad magic)", name);
    unsigned major = buf[6], minor = buf[7];
    if (major < 1 || major > 3 || minor != 0)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: unsupported .npy format version %u.%u", name,
                       major, minor);
    size_t pre = major == 1 ? 10 : 12;
    if (len < pre) return tl_fail(TL_ERR_FORMAT, "%s: .npy header truncated", name);
    size_t hlen = (size_t)npy_load(buf + 8, major == 1 ? 2 : 4, false);
    if (hlen > len - pre)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: .npy header truncated: header says %zu bytes, file has %zu", name,
                       hlen, len - pre);

    npy_lex lx = {(const char *)buf + pre, (const char *)buf + pre + hlen, name};
    bool have_descr = false, have_fortran = false, have_shape = false;
    npy_ws(&lx);
    TL_CHECK(lx.s < lx.end && *lx.s == '{', TL_ERR_FORMAT,
             "%s: bad .npy header: expected a dictionary", name);
    lx.s++;
    for (;;) {
        npy_ws(&lx);
        if (lx.s < lx.end && *lx.s == '}') break;
        const char *key;
        size_t klen;
        TL_TRY(npy_string(&lx, &key, &klen));
        npy_ws(&lx);
        TL_CHECK(lx.s < lx.end && *lx.s == ':', TL_ERR_FORMAT,
                 "%s: bad .npy header: expected ':' after a key", name);
        lx.s++;
        npy_ws(&lx);
        if (klen == 5 && memcmp(key, "descr", 5) == 0) {
            TL_CHECK(!have_descr, TL_ERR_FORMAT, "%s: bad .npy header: duplicate 'descr'", name);
            TL_CHECK(lx.s < lx.end && *lx.s != '[', TL_ERR_UNSUPPORTED,
                     "%s: structured dtypes are not supported (plain numeric arrays only)", name);
            const char *d;
            size_t dlen;
            TL_TRY(npy_string(&lx, &d, &dlen));
            TL_TRY(npy_descr(name, d, dlen, a));
            have_descr = true;
        } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
            TL_CHECK(!have_fortran, TL_ERR_FORMAT, "%s: bad .npy header: duplicate 'fortran_order'",
                     name);
            if (npy_word(&lx, "True"))
                a->fortran = true;
            else if (npy_word(&lx, "False"))
                a->fortran = false;
            else
                TL_CHECK(0, TL_ERR_FORMAT, "%s: bad .npy header: fortran_order is not True/False",
                         name);
            have_fortran = true;
        } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
            TL_CHECK(!have_shape, TL_ERR_FORMAT, "%s: bad .npy header: duplicate 'shape'", name);
            TL_TRY(npy_shape(&lx, a));
            have_shape = true;
        } else {
            TL_CHECK(0, TL_ERR_FORMAT, "%s: bad .npy header: unexpected key", name);
        }
        npy_ws(&lx);
        if (lx.s < lx.end && *lx.s == ',') {
            lx.s++;
            continue;
        }
        TL_CHECK(lx.s < lx.end && *lx.s == '}', TL_ERR_FORMAT,
                 "%s: bad .npy header: expected ',' or '}'", name);
        break;
    }
    lx.s++; /* the closing brace */
    npy_ws(&lx);
    TL_CHECK(lx.s == lx.end, TL_ERR_FORMAT, "%s: bad .npy header: text after the dictionary",
             name);
    TL_CHECK(have_descr && have_fortran && have_shape, TL_ERR_FORMAT,
             "%s: bad .npy header: missing '%s'", name,
             !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");

    size_t count, bytes;
    TL_CHECK(tl_size_mul(a->rows, a->cols, &count) == 0 &&
                 tl_size_mul(count, a->esize, &bytes) == 0,
             TL_ERR_FORMAT, "%s: bad .npy header: array size overflows", name);
    TL_CHECK(total >= len, TL_ERR_INVALID_ARG, "%s: npy_open: %zu of %zu bytes", name, len, total);
    size_t avail = total - pre - hlen;
    TL_CHECK(avail >= bytes, TL_ERR_FORMAT, "%s: data truncated: expected %zu bytes, found %zu",
             name, bytes, avail);
    TL_CHECK(avail == bytes, TL_ERR_FORMAT,
             "%s: %zu unexpected bytes after the data (expected %zu bytes)", name, avail - bytes,
             bytes);
    TL_CHECK(count > 0, TL_ERR_EMPTY, "%s: the array is empty (shape %zu x %zu)", name, a->rows,
             a->cols);
    a->offset = pre + hlen;
    a->data = total == len ? buf + pre + hlen : NULL;
done:
    return st;
}

tl_status tl_parse_npy(const unsigned char *buf, size_t len, const char *name, tl_mat *X_out,
                       size_t *ndim_out) {
    tl_status st = TL_OK;
    npy_array a;
    tl_mat X = {0, 0, 0, NULL};
    if (!name) name = "<npy>";
    TL_CHECK(X_out && (buf || len == 0), TL_ERR_INVALID_ARG, "%s: tl_parse_npy: NULL argument",
             name);
    X_out->rows = X_out->cols = X_out->ld = 0;
    X_out->data = NULL;
    TL_TRY(npy_open(buf, len, len, name, &a));
    TL_TRY(tl_mat_alloc(&X, a.rows, a.cols));
    npy_convert(&a, X);
    *X_out = X;
    X.data = NULL;
    if (ndim_out) *ndim_out = a.ndim;
done:
    tl_mat_free(&X);
    return st;
}

/* ---- files ---- */

/* 1 when r (n) holds a NaN or an infinity: x * 0 is 0 for every finite x and NaN otherwise, so
 * the sum of the products stays 0 unless one is not finite. Two 2-lane vectors (no comparison and
 * no reassociation, which kept the compiler's loop scalar). */
static int row_nonfinite(const double *r, size_t n) {
    size_t j = 0;
    double acc = 0.0;
#if defined(__GNUC__) || defined(__clang__)
    typedef double d2 __attribute__((vector_size(16))); /* native on every x86-64 (SSE2) */
    d2 a = {0.0, 0.0}, b = a, u, v;
    for (; j + 4 <= n; j += 4) {
        memcpy(&u, r + j, sizeof u);
        memcpy(&v, r + j + 2, sizeof v);
        a += u * 0.0;
        b += v * 0.0;
    }
    a += b;
    acc = a[0] + a[1];
#endif
    for (; j < n; j++) acc += r[j] * 0.0;
    return acc != acc;
}

/* Every value finite, or an error naming the first that is not. A row is screened branch-free
 * (row_nonfinite) and searched only when it fails. */
static tl_status npy_check_finite(tl_mat X, const char *path) {
    for (size_t i = 0; i < X.rows; i++) {
        const double *r = X.data + i * X.ld;
        if (!row_nonfinite(r, X.cols)) continue;
        for (size_t j = 0; j < X.cols; j++)
            if (!isfinite(r[j]))
                return tl_fail(TL_ERR_NONFINITE, "%s: %s at row %zu, column %zu", path,
                               isnan(r[j]) ? "NaN" : "Inf", i + 1, j + 1);
    }
    return TL_OK;
}

/* Reads exactly n bytes at offset off, or fails naming the file (it may have changed since the
 * header was checked against its size). */
static tl_status npy_pread(int fd, void *dst, size_t n, size_t off, const char *path) {
    unsigned char *p = dst;
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t r = pread(fd, p, chunk, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return tl_fail(TL_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0) return tl_fail(TL_ERR_FORMAT, "%s: data truncated (the file shrank while read)", path);
        p += r;
        off += (size_t)r;
        n -= (size_t)r;
    }
    return TL_OK;
}

/* The common case, a native float64 array in C order (numpy.save of a float array): the header
 * is parsed from the file's first bytes by the same npy_open and the payload is read with pread
 * straight into the matrix, with no mapping and no copy (a 63 MB file: 61 -> 30 ms; numpy.load
 * takes 20 without a finite check, which is ~6 ms of ours). *fd_out >= 0 (and *a filled) when the
 * file is of that kind; -1 sends the caller to the whole-file path, which also reports every
 * malformed header. With `any`, every C-order array is accepted (a block of rows). */
static tl_status npy_probe(const char *path, bool any, npy_array *a, int *fd_out) {
    tl_status st = TL_OK;
    unsigned char *hdr = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    unsigned char pre[12];
    *fd_out = -1;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 12) goto done;
    if (npy_pread(fd, pre, 12, 0, path) != TL_OK) goto done;
    size_t hl = pre[6] == 1 ? 10 + (size_t)npy_load(pre + 8, 2, false)
                            : 12 + (size_t)npy_load(pre + 8, 4, false);
    if (hl > ((size_t)1 << 20) || hl > (size_t)sb.st_size) goto done;
    TL_ALLOC(hdr, hl);
    if (npy_pread(fd, hdr, hl, 0, path) != TL_OK ||
        npy_open(hdr, hl, (size_t)sb.st_size, path, a) != TL_OK ||
        (any ? a->fortran && a->ndim > 1 : !npy_native_f8(a)))
        goto done;
    *fd_out = fd;
    fd = -1;
done:
    /* a failed probe is not an error: the whole-file path decides and reports */
    if (fd >= 0) close(fd);
    tl_free(hdr);
    return st;
}

/* The labels ya (y_path NULL: none; indices from row0 in messages), the name and the image shape
 * of a dataset read from x_path. */
static tl_status npy_finish(tl_dataset *ds, const npy_array *xa, const char *x_path,
                            const npy_array *ya, const char *y_path, size_t row0) {
    tl_status st = TL_OK;
    if (y_path && ya) {
        int *y = tl_dataset_labels(ds);
        for (size_t i = 0; i < ya->rows; i++) {
            double v = npy_value(ya, ya->data + i * ya->esize);
            TL_CHECK(v == floor(v) && v >= (double)INT_MIN && v <= (double)INT_MAX, TL_ERR_LABEL,
                     "%s: label %g at index %zu is not an integer (in the int range; real-valued "
                     "targets are read as regression targets: --task regression)", y_path,
                     v, row0 + i);
            y[i] = (int)v;
        }
    }
    TL_TRY(tl_dataset_set_name(ds, x_path));
    if (xa->ndim >= 3) {
        ds->shape_nd = xa->ndim - 1;
        for (size_t k = 1; k < xa->ndim; k++) ds->shape[k - 1] = xa->dims[k];
    }
done:
    return st;
}

tl_status tl_read_npy(const char *x_path, const char *y_path, tl_dataset **out) {
    return tlp_read_npy(x_path, y_path, false, out);
}

tl_status tlp_read_npy(const char *x_path, const char *y_path, bool targets, tl_dataset **out) {
    tl_status st = TL_OK;
    double *tv = NULL;
    tl_filebuf xf = {0}, yf = {0};
    tl_dataset *ds = NULL;
    npy_array xa, ya;
    int xfd = -1;
    TL_CHECK(x_path && out, TL_ERR_INVALID_ARG, "tl_read_npy: NULL argument");
    *out = NULL;

    TL_TRY(npy_probe(x_path, false, &xa, &xfd));
    if (xfd < 0) {
        TL_TRY(tl_filebuf_open(x_path, &xf));
        TL_TRY(npy_open((const unsigned char *)xf.data, xf.len, xf.len, x_path, &xa));
    }
    if (y_path) {
        TL_TRY(tl_filebuf_open(y_path, &yf));
        TL_TRY(npy_open((const unsigned char *)yf.data, yf.len, yf.len, y_path, &ya));
        TL_CHECK(ya.ndim == 1 || ya.cols == 1, TL_ERR_SHAPE,
                 "%s: labels must be a 1-D array (or n x 1), found %zu x %zu", y_path, ya.rows,
                 ya.cols);
        TL_CHECK(ya.rows == xa.rows, TL_ERR_SHAPE, "%s: %zu labels for %zu samples in %s", y_path,
                 ya.rows, xa.rows, x_path);
    }

    TL_TRY(tl_dataset_create_dense(xa.rows, xa.cols, y_path != NULL && !targets, &ds));
    tl_mat X = tl_dataset_dense(ds);
    if (xfd >= 0) {
        if (X.ld == X.cols) {
            TL_TRY(npy_pread(xfd, X.data, xa.rows * xa.cols * 8, xa.offset, x_path));
        } else {
            for (size_t i = 0; i < xa.rows; i++)
                TL_TRY(npy_pread(xfd, X.data + i * X.ld, xa.cols * 8, xa.offset + i * xa.cols * 8,
                                 x_path));
        }
    } else {
        npy_convert(&xa, X);
    }
    TL_TRY(npy_check_finite(X, x_path));
    if (y_path && targets) {
        TL_ALLOC(tv, ya.rows ? ya.rows : 1);
        for (size_t i = 0; i < ya.rows; i++) {
            tv[i] = npy_value(&ya, ya.data + i * ya.esize);
            TL_CHECK(isfinite(tv[i]), TL_ERR_NONFINITE, "%s: target at index %zu is %s", y_path,
                     i, isnan(tv[i]) ? "NaN" : "Inf");
        }
        tlp_dataset_adopt_targets(ds, tv);
        tv = NULL;
    }
    TL_TRY(npy_finish(ds, &xa, x_path, targets ? NULL : &ya, y_path, 0));
    *out = ds;
    ds = NULL;
done:
    if (xfd >= 0) close(xfd);
    tl_free(tv);
    tl_dataset_free(ds);
    tl_filebuf_close(&xf);
    tl_filebuf_close(&yf);
    return st;
}

/* ---- a block of rows ---- */

/* a->data := rows [lo, hi) of the probed file fd (into *buf), a->rows := hi - lo; a file the
 * probe refused is read whole to say what is wrong with it. */
static tl_status npy_block_rows(const char *path, int fd, size_t lo, size_t hi, npy_array *a,
                                unsigned char **buf) {
    tl_status st = TL_OK;
    size_t row = a->cols * a->esize, n = (hi - lo) * row;
    TL_ALLOC(*buf, n ? n : 1);
    TL_TRY(npy_pread(fd, *buf, n, a->offset + lo * row, path));
    a->data = *buf;
    a->rows = hi - lo;
done:
    return st;
}

/* The probe for a block read, or the whole-file path's error for a file it refuses. */
static tl_status npy_block_probe(const char *path, npy_array *a, int *fd) {
    tl_status st = npy_probe(path, true, a, fd);
    if (st != TL_OK || *fd >= 0) return st;
    tl_filebuf f = {0};
    st = tl_filebuf_open(path, &f);
    if (st == TL_OK) st = npy_open((const unsigned char *)f.data, f.len, f.len, path, a);
    tl_filebuf_close(&f);
    if (st == TL_OK) /* a valid file the probe refused: Fortran order */
        st = tl_fail(TL_ERR_UNSUPPORTED,
                     "%s: a block of rows is read from C-order arrays only (this one is "
                     "Fortran-order: numpy.ascontiguousarray it first)", path);
    return st;
}

tl_status tlp_read_npy_block(const char *x_path, const char *y_path, int part, int parts,
                             size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    unsigned char *xb = NULL, *yb = NULL;
    tl_dataset *ds = NULL;
    npy_array xa, ya;
    int xfd = -1, yfd = -1;
    size_t lo, hi;
    TL_CHECK(x_path && out && total, TL_ERR_INVALID_ARG, "read_npy_block: NULL argument");
    *out = NULL;
    TL_TRY(npy_block_probe(x_path, &xa, &xfd));
    *total = xa.rows;
    if (y_path) {
        TL_TRY(npy_block_probe(y_path, &ya, &yfd));
        TL_CHECK(ya.ndim == 1 || ya.cols == 1, TL_ERR_SHAPE,
                 "%s: labels must be a 1-D array (or n x 1), found %zu x %zu", y_path, ya.rows,
                 ya.cols);
        TL_CHECK(ya.rows == xa.rows, TL_ERR_SHAPE, "%s: %zu labels for %zu samples in %s", y_path,
                 ya.rows, xa.rows, x_path);
    }
    tl_block_range(xa.rows, part, parts, &lo, &hi);
    TL_CHECK(hi > lo, TL_ERR_EMPTY, "%s: %zu rows leave none to part %d of %d", x_path, xa.rows,
             part + 1, parts);
    TL_TRY(npy_block_rows(x_path, xfd, lo, hi, &xa, &xb));
    if (y_path) TL_TRY(npy_block_rows(y_path, yfd, lo, hi, &ya, &yb));
    TL_TRY(tl_dataset_create_dense(xa.rows, xa.cols, y_path != NULL, &ds));
    tl_mat X = tl_dataset_dense(ds);
    npy_convert(&xa, X);
    st = npy_check_finite(X, x_path);
    if (st != TL_OK) {
        tl_fail_prefix(st, "rows from %zu", lo + 1);
        goto done;
    }
    TL_TRY(npy_finish(ds, &xa, x_path, &ya, y_path, lo));
    *out = ds;
    ds = NULL;
done:
    if (xfd >= 0) close(xfd);
    if (yfd >= 0) close(yfd);
    tl_free(xb);
    tl_free(yb);
    tl_dataset_free(ds);
    return st;
}
