/* MATLAB .mat reader: v5/v7 numeric matrices natively, everything else (v4, v7.3 through HDF5, a
 * v5 data type whose conversion to its array class is not exact) through libmatio, which is
 * loaded (dlopen) the first time a file needs it rather than linked (see mat_log_init).
 *
 * Picks a features matrix and a labels vector out of the file - by name, or by the names the
 * domain-adaptation benchmarks use (fts/labels for Office+Caltech SURF, feas/labels for DeCAF,
 * X_src/Y_src for the JDA digit splits) - converts any real numeric class to double, and turns
 * MATLAB's column-major layout into libtl's row-major one sample per row. Files that store one
 * sample per column (MNIST_vs_USPS.mat: X_src is 256 x 2000, Y_src 2000 x 1) are recognised by
 * the label count and transposed.
 *
 * Why the extra checks around matio: matio reports most problems by returning NULL (and, left to
 * itself, by printing to stderr), and on a truncated v5 file it simply stops listing variables.
 * So before matio sees a v5 file we walk its top-level element tags ourselves (128-byte header,
 * then 8-byte type/size tags) and report truncation or a corrupted tag with a precise message;
 * afterwards we check that matio listed as many variables as there are tags, bound the element
 * count a variable may claim by the file size before matio allocates it, and check what matio
 * returns (class, rank, element size) before touching the data. matio's logger is replaced once
 * by a silent one (this also routes HDF5's error printing through it), and calls into matio are
 * serialised with a mutex because matio and HDF5 keep global state.
 *
 * Why v5 is read natively: the structure walk already inflates and checks every element, so it
 * also records each variable's name, class and shape and where its data are (keeping the
 * inflated payload of the variables the selection may pick); selection then runs on that list
 * with the same rules and messages as on matio's, and the data are converted by one typed loop.
 * A SURF file (958 x 800 uint8, compressed) took 31 ms through matio and takes 3. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <matio.h>

#include "data/dataset_internal.h"
#include "internal/check.h"
#include "tl/data.h"

static pthread_once_t mat_log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mat_lock = PTHREAD_MUTEX_INITIALIZER;

/* libmatio is loaded when a file first needs it (v4, v7.3, an inexact conversion), not linked:
 * linked, it brings HDF5 and through it curl, OpenSSL, LDAP, Kerberos ... - about 30 shared
 * objects whose loading and relocation took 30 of the 60 ms a `tl` process needed to start,
 * for every command, MATLAB file or not. The calls go through this table, typed from matio.h. */
static struct {
    __typeof__(Mat_LogInitFunc) *log_init;
    __typeof__(Mat_Open) *open;
    __typeof__(Mat_VarReadNextInfo) *read_next_info;
    __typeof__(Mat_VarRead) *var_read;
    __typeof__(Mat_VarFree) *var_free;
    __typeof__(Mat_Close) *close;
    char err[256]; /* why it could not be loaded */
} mio;

static void mat_silent_log(int level, char *message) {
    (void)level;
    (void)message;
}

static void mat_log_init(void) {
    /* the soname this build's matio.h belongs to (1.5.x: 11), then the development link */
    static const char *const names[] = {"libmatio.so.11", "libmatio.so", "libmatio.so.13",
                                        "libmatio.so.12", "libmatio.so.9", NULL};
    void *h = NULL;
    for (size_t i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(mio.err, sizeof mio.err, "%s", e ? e : "libmatio.so.11 not found");
        return;
    }
    /* POSIX: a function pointer travels through the void * that dlsym returns */
    *(void **)&mio.log_init = dlsym(h, "Mat_LogInitFunc");
    *(void **)&mio.open = dlsym(h, "Mat_Open");
    *(void **)&mio.read_next_info = dlsym(h, "Mat_VarReadNextInfo");
    *(void **)&mio.var_read = dlsym(h, "Mat_VarRead");
    *(void **)&mio.var_free = dlsym(h, "Mat_VarFree");
    *(void **)&mio.close = dlsym(h, "Mat_Close");
    if (!mio.log_init || !mio.open || !mio.read_next_info || !mio.var_read || !mio.var_free ||
        !mio.close) {
        snprintf(mio.err, sizeof mio.err, "a libmatio function is missing");
        mio.open = NULL;
        return;
    }
    mio.log_init("libtl", mat_silent_log);
}

/* A deflate stream expands at most ~1032:1; anything claiming more elements than that could
 * come from the file is corrupted (or hostile), and is refused before matio allocates it. */
#define MAT_MAX_EXPANSION 1100u

static const char *mat_class_name(enum matio_classes c) {
    switch (c) {
    case MAT_C_EMPTY: return "empty";
    case MAT_C_CELL: return "cell array";
    case MAT_C_STRUCT: return "struct";
    case MAT_C_OBJECT: return "object";
    case MAT_C_CHAR: return "char array";
    case MAT_C_SPARSE: return "sparse matrix";
    case MAT_C_DOUBLE: return "double";
    case MAT_C_SINGLE: return "single";
    case MAT_C_INT8: return "int8";
    case MAT_C_UINT8: return "uint8";
    case MAT_C_INT16: return "int16";
    case MAT_C_UINT16: return "uint16";
    case MAT_C_INT32: return "int32";
    case MAT_C_UINT32: return "uint32";
    case MAT_C_INT64: return "int64";
    case MAT_C_UINT64: return "uint64";
    case MAT_C_FUNCTION: return "function handle";
    case MAT_C_OPAQUE: return "opaque object";
    }
    return "unknown class";
}

/* Bytes per element of a numeric class as matio stores it in memory; 0 if not numeric. */
static size_t mat_class_size(enum matio_classes c) {
    switch (c) {
    case MAT_C_DOUBLE: case MAT_C_INT64: case MAT_C_UINT64: return 8;
    case MAT_C_SINGLE: case MAT_C_INT32: case MAT_C_UINT32: return 4;
    case MAT_C_INT16: case MAT_C_UINT16: return 2;
    case MAT_C_INT8: case MAT_C_UINT8: return 1;
    default: return 0;
    }
}

static double mat_elem(const matvar_t *v, size_t k) {
    switch (v->class_type) {
    case MAT_C_DOUBLE: return ((const double *)v->data)[k];
    case MAT_C_SINGLE: return (double)((const float *)v->data)[k];
    case MAT_C_INT8: return (double)((const int8_t *)v->data)[k];
    case MAT_C_UINT8: return (double)((const uint8_t *)v->data)[k];
    case MAT_C_INT16: return (double)((const int16_t *)v->data)[k];
    case MAT_C_UINT16: return (double)((const uint16_t *)v->data)[k];
    case MAT_C_INT32: return (double)((const int32_t *)v->data)[k];
    case MAT_C_UINT32: return (double)((const uint32_t *)v->data)[k];
    case MAT_C_INT64: return (double)((const int64_t *)v->data)[k];
    case MAT_C_UINT64: return (double)((const uint64_t *)v->data)[k];
    default: return 0.0;
    }
}

/* ---- pre-validation of the file before matio reads it ---- */

typedef enum { MAT_KIND_V4, MAT_KIND_V5, MAT_KIND_V73 } mat_kind;

static uint32_t mat_u32(const unsigned char *p, bool little) {
    return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24
                  : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
                        (uint32_t)p[0] << 24;
}

/* ---- v5 structure check ----
 * matio 1.5 trusts the sizes inside a variable's header: a dimensions or name element claiming
 * gigabytes makes it allocate (and clear) that much, and it parses the headers of every cell and
 * struct field while merely listing the file. So each top-level element is checked here first,
 * recursively: array flags, dimensions (2..32 of them), name, then per class the real/imaginary
 * data (numeric: at least dims-product elements of a numeric type), the cells, struct fields
 * or function-handle parts (each a nested miMATRIX that must fit in its parent), or, for
 * sparse matrices and opaque objects (never read by libtl), that every sub-element fits.
 * Compressed variables are inflated (bounded by their own header and by MAT_MAX_EXPANSION)
 * for the check. */

/* A top-level v5 variable as the walk found it: what the selection needs (name, class, shape)
 * and where its real data are, for the native read (tl_read_mat reads v5 numeric matrices
 * itself; see there). */
typedef struct {
    char *name;           /* NUL-terminated copy of the name element */
    unsigned cls;         /* MATLAB array class (matio's enum matio_classes values) */
    bool cplx;
    int rank;
    size_t dims[2];       /* the first two dimensions */
    size_t nelem;         /* product of every dimension (no overflow: checked by the walk) */
    uint32_t dtype;       /* numeric classes: the real part's element type (miINT8 ...) */
    size_t data;          /* offset of the real part's bytes in the payload (after its tag) */
    unsigned char *buf;   /* compressed: the inflated miMATRIX payload (kept for wanted names) */
    size_t file_pos;      /* plain: file offset of the payload */
} v5_var;

typedef struct {
    const char *path;
    bool little;
    size_t var;   /* 1-based top-level variable number, for messages */
    v5_var *info; /* filled for the top-level element, or NULL */
    const char *x_var, *y_var; /* the names asked for (NULL: detection), see v5_wanted */
} v5_ctx;

static const char *const mat_x_names[] = {"fts", "feas", "X", "X_src", "data", "x", NULL};
static const char *const mat_y_names[] = {"labels", "Y", "y", "Y_src", "label", "gnd", NULL};
static bool mat_paired_name(const char *x, char *buf, size_t cap);

/* Whether a compressed variable's inflated payload is kept for the native read: a real numeric
 * matrix the selection may pick (the names asked for, their pairs, or the conventional names). */
static bool v5_wanted(const v5_ctx *c, const v5_var *v) {
    if (!v->name || v->cplx || v->cls < MAT_C_DOUBLE || v->cls > MAT_C_UINT64) return false;
    char pr[256];
    if (c->x_var && (strcmp(v->name, c->x_var) == 0 ||
                     (mat_paired_name(c->x_var, pr, sizeof pr) && strcmp(v->name, pr) == 0)))
        return true;
    if (c->y_var) return strcmp(v->name, c->y_var) == 0;
    for (size_t k = 0; mat_y_names[k]; k++)
        if (strcmp(v->name, mat_y_names[k]) == 0) return true;
    if (!c->x_var)
        for (size_t k = 0; mat_x_names[k]; k++)
            if (strcmp(v->name, mat_x_names[k]) == 0) return true;
    return false;
}

#define V5_MAX_DEPTH 16
#define V5_PREFIX 65536 /* bytes of a plain numeric variable read for its header */

static size_t v5_type_size(uint32_t t) {
    switch (t) {
    case 1: case 2: case 16: return 1;   /* int8 uint8 utf8 */
    case 3: case 4: case 17: return 2;   /* int16 uint16 utf16 */
    case 5: case 6: case 7: case 18: return 4; /* int32 uint32 single utf32 */
    case 9: case 12: case 13: return 8;  /* double int64 uint64 */
    default: return 0;
    }
}

/* One sub-element at p[off..]: p holds avail bytes of an element payload of n bytes. */
typedef struct {
    uint32_t type;
    size_t nbytes, data, next;
} v5_tag;

static bool v5_read_tag(const unsigned char *p, size_t avail, size_t n, size_t off, bool little,
                        v5_tag *t) {
    if (off > n || n - off < 8 || off > avail || avail - off < 8) return false;
    uint32_t w = mat_u32(p + off, little);
    if (w >> 16) { /* small data element: type and size in one word, data in the next 4 bytes */
        t->type = w & 0xffff;
        t->nbytes = w >> 16;
        t->data = off + 4;
        t->next = off + 8;
        return t->nbytes <= 4;
    }
    uint32_t nb = mat_u32(p + off + 4, little);
    if (nb > n - off - 8) return false;
    t->type = w;
    t->nbytes = nb;
    t->data = off + 8;
    size_t end = off + 8 + nb, pad = (8 - end % 8) % 8;
    t->next = pad <= n - end ? end + pad : n;
    return true;
}

static tl_status v5_bad(const v5_ctx *c, const char *what) {
    return tl_fail(TL_ERR_FORMAT, "%s: corrupted: variable %zu: %s", c->path, c->var, what);
}

/* Every remaining sub-element fits. */
static tl_status v5_walk(const v5_ctx *c, const unsigned char *p, size_t n, size_t off) {
    v5_tag t;
    while (off < n) {
        if (!v5_read_tag(p, n, n, off, c->little, &t)) return v5_bad(c, "element overruns");
        off = t.next;
    }
    return TL_OK;
}

static tl_status v5_matrix(const v5_ctx *c, const unsigned char *p, size_t avail, size_t n,
                           int depth);

/* A nested miMATRIX element (cell or struct field) at p[off..]. */
static tl_status v5_nested(const v5_ctx *c, const unsigned char *p, size_t n, size_t *off,
                           int depth) {
    v5_tag t;
    if (!v5_read_tag(p, n, n, *off, c->little, &t) || t.type != 14 || t.data != *off + 8)
        return v5_bad(c, "bad cell or field element");
    tl_status st = v5_matrix(c, p + t.data, t.nbytes, t.nbytes, depth + 1);
    *off = t.next;
    return st;
}

/* p: payload of a miMATRIX element (n bytes, the first avail of them present). */
static tl_status v5_matrix(const v5_ctx *c, const unsigned char *p, size_t avail, size_t n,
                           int depth) {
    v5_tag t;
    if (depth > V5_MAX_DEPTH) return v5_bad(c, "nested too deeply");
    if (n == 0) return depth > 0 ? TL_OK : v5_bad(c, "empty element");
    /* array flags: miUINT32, 8 bytes; class in the low byte, complex bit 0x0800 */
    if (!v5_read_tag(p, avail, n, 0, c->little, &t) || t.type != 6 || t.nbytes != 8)
        return v5_bad(c, "bad array flags");
    uint32_t flags = mat_u32(p + t.data, c->little);
    unsigned cls = flags & 0xff;
    bool cplx = (flags & 0x0800) != 0;
    size_t off = t.next;
    v5_var *info = depth == 0 ? c->info : NULL;
    if (info) {
        info->cls = cls;
        info->cplx = cplx;
    }
    if (cls == MAT_C_OPAQUE) return v5_walk(c, p, n, off); /* no dimensions: name, type, ... */
    if (cls < MAT_C_CELL || cls > MAT_C_FUNCTION) return v5_bad(c, "unknown class");
    /* dimensions: miINT32, 2..32 of them, none negative */
    if (!v5_read_tag(p, avail, n, off, c->little, &t) || t.type != 5 || t.nbytes % 4 ||
        t.nbytes < 8 || t.nbytes > 128)
        return v5_bad(c, "bad dimensions");
    size_t nelem = 1;
    bool ovf = false;
    for (size_t k = 0; k < t.nbytes / 4; k++) {
        uint32_t d = mat_u32(p + t.data + 4 * k, c->little);
        if (d > 0x7fffffffu) return v5_bad(c, "negative dimension");
        if (tl_size_mul(nelem, d, &nelem) != 0) ovf = true;
        if (info && k < 2) info->dims[k] = d;
    }
    if (ovf) return v5_bad(c, "dimensions overflow");
    if (info) {
        info->rank = (int)(t.nbytes / 4);
        info->nelem = nelem;
    }
    off = t.next;
    /* name: miINT8 */
    if (!v5_read_tag(p, avail, n, off, c->little, &t) || t.type != 1 || t.nbytes > 4096)
        return v5_bad(c, "bad name");
    if (info) {
        info->name = tl_malloc(t.nbytes + 1);
        if (!info->name) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->path);
        memcpy(info->name, p + t.data, t.nbytes);
        info->name[t.nbytes] = '\0';
    }
    off = t.next;

    /* numeric: real (and imaginary) part of nelem elements */
    if (cls >= MAT_C_DOUBLE && cls <= MAT_C_UINT64) {
        for (int part = 0; part < (cplx ? 2 : 1); part++) {
            if (!v5_read_tag(p, avail, n, off, c->little, &t)) return v5_bad(c, "data overruns");
            size_t ts = v5_type_size(t.type), need;
            if (ts == 0 || t.type >= 16) return v5_bad(c, "bad data type");
            if (tl_size_mul(nelem, ts, &need) != 0 || t.nbytes < need)
                return v5_bad(c, "fewer data bytes than its dimensions need");
            if (info && part == 0) {
                info->dtype = t.type;
                info->data = t.data;
            }
            off = t.next;
        }
        return TL_OK;
    }
    if (cls == MAT_C_CHAR) {
        if (!v5_read_tag(p, avail, n, off, c->little, &t) || v5_type_size(t.type) == 0)
            return v5_bad(c, "bad character data");
        return TL_OK;
    }
    if (cls == MAT_C_SPARSE) return v5_walk(c, p, n, off); /* ir, jc, pr [, pi] */
    if (cls == MAT_C_CELL || cls == MAT_C_FUNCTION) { /* matio reads a handle like a cell */
        if (nelem > (n - off) / 8) return v5_bad(c, "more cells than the element can hold");
        for (size_t k = 0; k < nelem; k++) {
            tl_status st = v5_nested(c, p, n, &off, depth);
            if (st != TL_OK) return st;
        }
        return TL_OK;
    }
    /* struct / object: [class name], field name length, field names, nelem * nfields fields */
    if (cls == MAT_C_OBJECT) {
        if (!v5_read_tag(p, avail, n, off, c->little, &t) || t.type != 1)
            return v5_bad(c, "bad class name");
        off = t.next;
    }
    if (!v5_read_tag(p, avail, n, off, c->little, &t) || t.type != 5 || t.nbytes != 4)
        return v5_bad(c, "bad field name length");
    uint32_t flen = mat_u32(p + t.data, c->little);
    if (flen == 0 || flen > 4096) return v5_bad(c, "bad field name length");
    off = t.next;
    if (!v5_read_tag(p, avail, n, off, c->little, &t) || t.type != 1 || t.nbytes % flen)
        return v5_bad(c, "bad field names");
    size_t nfields = t.nbytes / flen, nf;
    off = t.next;
    if (tl_size_mul(nelem, nfields, &nf) != 0 || nf > (n - off) / 8)
        return v5_bad(c, "more fields than the element can hold");
    for (size_t k = 0; k < nf; k++) {
        tl_status st = v5_nested(c, p, n, &off, depth);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

/* Inflate a miCOMPRESSED payload (zlib stream holding one miMATRIX element) and check it. */
static tl_status v5_compressed(const v5_ctx *c, const unsigned char *z, size_t zlen,
                               size_t fsize) {
    tl_status st = TL_OK;
    z_stream zs;
    unsigned char *buf = NULL;
    size_t cap = 0, have = 0, limit;
    bool init = false;
    memset(&zs, 0, sizeof zs);
    if (tl_size_mul(fsize, MAT_MAX_EXPANSION, &limit) != 0) limit = (size_t)-1;
    TL_CHECK(inflateInit(&zs) == Z_OK, TL_ERR_NOMEM, "%s: cannot initialise zlib", c->path);
    init = true;
    zs.next_in = (Bytef *)(uintptr_t)z;
    zs.avail_in = (uInt)zlen; /* zlen < 4 GiB: it came from a 32-bit size */
    size_t want = 8;          /* first the miMATRIX tag, then exactly its payload */
    for (;;) {
        if (cap < want) {
            size_t ncap = cap ? cap : 4096;
            while (ncap < want) ncap = ncap <= want / 2 ? ncap * 2 : want;
            unsigned char *nb = tl_realloc(buf, ncap);
            TL_CHECK(nb, TL_ERR_NOMEM, "%s: out of memory checking variable %zu", c->path,
                     c->var);
            buf = nb;
            cap = ncap;
        }
        zs.next_out = buf + have;
        size_t room = (cap < want ? cap : want) - have;
        if (room > (1u << 30)) room = 1u << 30;
        zs.avail_out = (uInt)room;
        int r = inflate(&zs, Z_NO_FLUSH);
        have += room - zs.avail_out;
        if (have >= 8 && want == 8) {
            if (mat_u32(buf, c->little) != 14) {
                st = v5_bad(c, "compressed data is not a matrix");
                goto done;
            }
            size_t nb = mat_u32(buf + 4, c->little);
            TL_CHECK(nb <= limit, TL_ERR_FORMAT,
                     "%s: corrupted: variable %zu claims %zu bytes uncompressed", c->path, c->var,
                     nb);
            want = 8 + nb;
        }
        if (have >= want) break;
        if (r == Z_STREAM_END || (r == Z_BUF_ERROR && zs.avail_in == 0) ||
            (r == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
            st = tl_fail(TL_ERR_FORMAT, "%s: truncated: compressed variable %zu ends early",
                         c->path, c->var);
            goto done;
        }
        if (r != Z_OK) {
            st = tl_fail(r == Z_MEM_ERROR ? TL_ERR_NOMEM : TL_ERR_FORMAT,
                         "%s: corrupted: variable %zu: bad compressed data (%s)", c->path, c->var,
                         zs.msg ? zs.msg : "inflate failed");
            goto done;
        }
    }
    st = v5_matrix(c, buf + 8, want - 8, want - 8, 0);
    if (st == TL_OK && c->info && v5_wanted(c, c->info)) {
        c->info->buf = buf; /* the native read takes its data from here */
        buf = NULL;
    }
done:
    if (init) inflateEnd(&zs);
    tl_free(buf);
    return st;
}

/* Read len bytes at pos of f into a fresh buffer. */
static tl_status v5_load(FILE *f, const char *path, size_t pos, size_t len,
                         unsigned char **out) {
    tl_status st = TL_OK;
    unsigned char *b = NULL;
    *out = NULL;
    TL_ALLOC(b, len ? len : 1);
    TL_CHECK(fseek(f, (long)pos, SEEK_SET) == 0 && fread(b, 1, len, f) == len, TL_ERR_IO,
             "%s: read error at byte %zu", path, pos);
    *out = b;
    b = NULL;
done:
    tl_free(b);
    return st;
}

/* Check one top-level element (type 14 or 15, payload of nbytes at pos + 8). */
static tl_status v5_check_var(const v5_ctx *c, FILE *f, size_t pos, uint32_t type, size_t nbytes,
                              size_t fsize) {
    tl_status st = TL_OK;
    unsigned char *b = NULL;
    if (type == 15) {
        TL_TRY(v5_load(f, c->path, pos + 8, nbytes, &b));
        TL_TRY(v5_compressed(c, b, nbytes, fsize));
        goto done;
    }
    size_t avail = nbytes < V5_PREFIX ? nbytes : V5_PREFIX;
    TL_TRY(v5_load(f, c->path, pos + 8, avail, &b));
    if (avail < nbytes && avail >= 16) {
        unsigned cls = mat_u32(b + 8, c->little) & 0xff;
        if (cls < MAT_C_CHAR || cls == MAT_C_SPARSE || cls > MAT_C_UINT64) {
            tl_free(b); /* containers: the whole payload is needed */
            b = NULL;
            avail = nbytes;
            TL_TRY(v5_load(f, c->path, pos + 8, avail, &b));
        }
    }
    TL_TRY(v5_matrix(c, b, avail, nbytes, 0));
    if (c->info) c->info->file_pos = pos + 8;
done:
    tl_free(b);
    return st;
}

/* MATLAB v4: a sequence of variables, each a 20-byte header (type MOPT, mrows, ncols, imagf,
 * namlen as int32 in the file's byte order), the name, then mrows*ncols elements (twice for
 * complex), no padding. matio trusts namlen and the sizes (a hostile header makes it allocate
 * and clear gigabytes), so the whole chain is checked against the file size first. */
static tl_status mat_prevalidate_v4(FILE *f, const char *path, size_t size, size_t *nvars) {
    static const size_t psize[6] = {8, 4, 4, 2, 2, 1}; /* double single int32 int16 uint16 uint8 */
    size_t pos = 0, n = 0;
    unsigned char h[20];
    while (pos < size) {
        bool first = n == 0;
        if (size - pos < 20 || fseek(f, (long)pos, SEEK_SET) != 0 || fread(h, 1, 20, f) != 20)
            return first ? tl_fail(TL_ERR_FORMAT, "%s: not a MATLAB .mat file", path)
                         : tl_fail(TL_ERR_FORMAT, "%s: truncated: variable %zu at byte %zu has "
                                                  "an incomplete header",
                                   path, n + 1, pos);
        /* M (byte order) is the thousands digit of the type: 0 little-endian (type < 1000
         * read little-endian), 1 big-endian (1000..1999 read big-endian). */
        uint32_t le = mat_u32(h, true), be = mat_u32(h, false), v[4];
        bool little = le < 1000, ok = little || (be >= 1000 && be < 2000);
        uint32_t type = little ? le : be;
        for (int k = 0; k < 4; k++) v[k] = mat_u32(h + 4 + 4 * k, little);
        unsigned O = type / 100 % 10, P = type / 10 % 10, T = type % 10;
        ok = ok && O == 0 && P <= 5 && T <= 2 && v[2] <= 1 && v[3] >= 1 && v[3] <= 4096 &&
             v[0] < 0x80000000u && v[1] < 0x80000000u;
        size_t elems = 0, bytes = 0;
        if (ok)
            ok = tl_size_mul(v[0], v[1], &elems) == 0 &&
                 tl_size_mul(elems, psize[P] * (v[2] ? 2u : 1u), &bytes) == 0;
        if (!ok)
            return first ? tl_fail(TL_ERR_FORMAT, "%s: not a MATLAB .mat file", path)
                         : tl_fail(TL_ERR_FORMAT,
                                   "%s: corrupted: bad header for variable %zu at byte %zu", path,
                                   n + 1, pos);
        size_t rest = size - pos - 20;
        if (v[3] > rest || bytes > rest - v[3])
            return tl_fail(TL_ERR_FORMAT,
                           "%s: truncated: variable %zu at byte %zu needs %zu bytes, only %zu "
                           "remain",
                           path, n + 1, pos, (size_t)v[3] + bytes, rest);
        /* the name must be NUL-terminated within namlen (matio uses it as a C string) */
        unsigned char last;
        if (fseek(f, (long)(pos + 20 + v[3] - 1), SEEK_SET) != 0 || fread(&last, 1, 1, f) != 1 ||
            last != 0)
            return first ? tl_fail(TL_ERR_FORMAT, "%s: not a MATLAB .mat file", path)
                         : tl_fail(TL_ERR_FORMAT,
                                   "%s: corrupted: bad name for variable %zu at byte %zu", path,
                                   n + 1, pos);
        pos += 20 + (size_t)v[3] + bytes;
        n++;
    }
    *nvars = n;
    return TL_OK;
}

/* Identify the file and, for v5, walk the top-level tags: each is miMATRIX (14) or
 * miCOMPRESSED (15) and must fit in the file. *nvars gets the number of variables (v5 only). */
static tl_status mat_prevalidate(const char *path, const char *x_var, const char *y_var,
                                 mat_kind *kind, size_t *nvars, size_t *fsize, v5_var **vars,
                                 bool *big_endian) {
    tl_status st = TL_OK;
    unsigned char hdr[128], tag[8];
    FILE *f = fopen(path, "rb");
    *nvars = 0;
    *vars = NULL;
    TL_CHECK(f, TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    TL_CHECK(fstat(fileno(f), &sb) == 0, TL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    TL_CHECK(S_ISREG(sb.st_mode), TL_ERR_IO, "%s: not a regular file", path);
    size_t size = (size_t)sb.st_size;
    *fsize = size;
    TL_CHECK(size > 0, TL_ERR_FORMAT, "%s: not a MATLAB .mat file (empty)", path);
    size_t got = fread(hdr, 1, sizeof hdr, f);
    TL_CHECK(!ferror(f), TL_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (got < sizeof hdr || !((hdr[126] == 'I' && hdr[127] == 'M') ||
                              (hdr[126] == 'M' && hdr[127] == 'I'))) {
        /* No v5 header: only a v4 file can still be valid. */
        *kind = MAT_KIND_V4;
        TL_TRY(mat_prevalidate_v4(f, path, size, nvars));
        goto done;
    }
    bool little = hdr[126] == 'I';
    *big_endian = !little;
    unsigned version = little ? (unsigned)hdr[124] | (unsigned)hdr[125] << 8
                              : (unsigned)hdr[125] | (unsigned)hdr[124] << 8;
    if (version == 0x0200) {
        /* v7.3: an HDF5 file behind a 512-byte user block. matio 1.5 returns an open handle
         * even when HDF5 cannot open the file, so check the superblock's end-of-file address
         * against the real size here (the same test HDF5 applies) to name truncation. */
        static const unsigned char h5sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
        unsigned char sb5[64];
        size_t n5 = 0;
        if (fseek(f, 512, SEEK_SET) == 0) n5 = fread(sb5, 1, sizeof sb5, f);
        TL_CHECK(n5 >= 16 && memcmp(sb5, h5sig, 8) == 0, TL_ERR_FORMAT,
                 "%s: corrupted MATLAB v7.3 file (no HDF5 signature at byte 512)", path);
        unsigned sver = sb5[8];
        size_t osz = sver <= 1 ? sb5[13] : sb5[9];
        size_t eof_at = sver == 0 ? 24 + 2 * osz : sver == 1 ? 28 + 2 * osz : 12 + 2 * osz;
        TL_CHECK(sver <= 3 && (osz == 2 || osz == 4 || osz == 8), TL_ERR_FORMAT,
                 "%s: corrupted MATLAB v7.3 file (HDF5 superblock version %u, offset size %zu)",
                 path, sver, osz);
        TL_CHECK(n5 >= eof_at + osz, TL_ERR_FORMAT,
                 "%s: truncated MATLAB v7.3 file (HDF5 superblock cut)", path);
        uint64_t eof = 0;
        bool undef = true;
        for (size_t k = osz; k-- > 0;) {
            eof = (eof << 8) | sb5[eof_at + k];
            undef = undef && sb5[eof_at + k] == 0xff;
        }
        TL_CHECK(undef || eof <= (uint64_t)size, TL_ERR_FORMAT,
                 "%s: truncated MATLAB v7.3 file: %zu bytes, the HDF5 superblock says %llu",
                 path, size, (unsigned long long)eof);
        *kind = MAT_KIND_V73;
        goto done;
    }
    TL_CHECK(version == 0x0100, TL_ERR_FORMAT,
             "%s: not a MATLAB .mat file (unknown version 0x%04x in the header)", path, version);
    *kind = MAT_KIND_V5;
    size_t pos = 128, n = 0, vcap = 0;
    while (size - pos >= 8) {
        TL_CHECK(fseek(f, (long)pos, SEEK_SET) == 0 && fread(tag, 1, 8, f) == 8, TL_ERR_IO,
                 "%s: read error at byte %zu", path, pos);
        uint32_t type = mat_u32(tag, little), nbytes = mat_u32(tag + 4, little);
        TL_CHECK(type == 14 || type == 15, TL_ERR_FORMAT,
                 "%s: corrupted: unexpected element type %u at byte %zu", path, (unsigned)type,
                 pos);
        TL_CHECK(nbytes <= size - pos - 8, TL_ERR_FORMAT,
                 "%s: truncated: variable %zu at byte %zu needs %u bytes, only %zu remain", path,
                 n + 1, pos, (unsigned)nbytes, size - pos - 8);
        if (n == vcap) {
            vcap = vcap ? 2 * vcap : 16;
            v5_var *nv = tl_realloc(*vars, vcap * sizeof *nv);
            TL_CHECK(nv, TL_ERR_NOMEM, "%s: out of memory listing variables", path);
            *vars = nv;
        }
        memset(&(*vars)[n], 0, sizeof **vars);
        *nvars = n + 1; /* the entry is the caller's to free from here on */
        v5_ctx ctx = {path, little, n + 1, &(*vars)[n], x_var, y_var};
        TL_TRY(v5_check_var(&ctx, f, pos, type, nbytes, size));
        pos += 8 + (size_t)nbytes;
        if (type == 14 && pos % 8 && size - pos >= 8 - pos % 8) pos += 8 - pos % 8;
        n++;
    }
    if (pos < size) { /* a few bytes left: padding must be zeros, anything else is a cut tag */
        unsigned char rest[8];
        size_t k = size - pos;
        TL_CHECK(fseek(f, (long)pos, SEEK_SET) == 0 && fread(rest, 1, k, f) == k, TL_ERR_IO,
                 "%s: read error at byte %zu", path, pos);
        for (size_t i = 0; i < k; i++)
            TL_CHECK(rest[i] == 0, TL_ERR_FORMAT, "%s: truncated: %zu stray bytes at the end",
                     path, k);
    }
    *nvars = n;
done:
    if (f) fclose(f);
    return st;
}

/* ---- variable listing and selection ---- */

/* What the selection needs to know of a variable, whichever reader listed it. */
typedef struct {
    const char *name;
    unsigned cls; /* enum matio_classes */
    bool cplx;
    int rank;
    size_t d0, d1; /* the first two dimensions */
    size_t nelem;  /* product of the dimensions */
    bool ovf;      /* that product overflowed */
} mat_desc;

static long mat_find(const mat_desc *v, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (v[i].name && strcmp(v[i].name, name) == 0) return (long)i;
    return -1;
}

/* "a, b, c" (cut with "..." when long) */
static const char *mat_names(const mat_desc *v, size_t n, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    if (n == 0) return "none";
    for (size_t i = 0; i < n; i++) {
        const char *nm = v[i].name ? v[i].name : "?";
        size_t need = strlen(nm) + 2;
        if (len + need + 4 >= cap) {
            snprintf(buf + len, cap - len, "...");
            break;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", nm);
    }
    return buf;
}

static size_t mat_nelem(const matvar_t *v, bool *overflow) {
    size_t n = 1;
    *overflow = false;
    if (v->rank <= 0 || !v->dims) return 0;
    for (int k = 0; k < v->rank; k++)
        if (tl_size_mul(n, v->dims[k], &n) != 0) *overflow = true;
    return n;
}

static mat_desc mat_desc_of(const matvar_t *v) {
    mat_desc d = {v->name, (unsigned)v->class_type, v->isComplex != 0, v->rank, 0, 0, 0, false};
    if (v->rank >= 1 && v->dims) d.d0 = v->dims[0];
    if (v->rank >= 2 && v->dims) d.d1 = v->dims[1];
    d.nelem = mat_nelem(v, &d.ovf);
    return d;
}

/* A variable libtl can read as a real numeric matrix (rank 2, not sparse/complex/empty). */
static tl_status mat_check_numeric(const mat_desc *v, const char *path, size_t fsize) {
    const char *nm = v->name ? v->name : "?";
    if (v->cls == MAT_C_SPARSE)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: variable '%s' is a sparse matrix; sparse .mat variables are not "
                       "supported (save it with full(...))",
                       path, nm);
    if (v->cls == MAT_C_EMPTY)
        return tl_fail(TL_ERR_EMPTY, "%s: variable '%s' is empty", path, nm);
    if (mat_class_size((enum matio_classes)v->cls) == 0)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: variable '%s' is a %s; only numeric matrices are supported", path, nm,
                       mat_class_name((enum matio_classes)v->cls));
    if (v->cplx)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: variable '%s' is complex; only real data is "
                                           "supported",
                       path, nm);
    if (v->rank != 2)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: variable '%s' has %d dimensions; only 2-D matrices are supported",
                       path, nm, v->rank);
    size_t n = v->nelem;
    if (n == 0 && !v->ovf) return tl_fail(TL_ERR_EMPTY, "%s: variable '%s' is empty", path, nm);
    size_t bound;
    if (tl_size_mul(fsize, MAT_MAX_EXPANSION, &bound) != 0) bound = (size_t)-1;
    if (v->ovf || n > bound + 4096)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: corrupted: variable '%s' claims %zu x %zu elements, more than a "
                       "file of %zu bytes can hold",
                       path, nm, v->d0, v->d1, fsize);
    return TL_OK;
}

/* The conventional label name paired with a features name: X_src -> Y_src, Xs -> Ys, x -> y,
 * fts / feas -> labels. Returns false when there is none. */
static bool mat_paired_name(const char *x, char *buf, size_t cap) {
    if (strcmp(x, "fts") == 0 || strcmp(x, "feas") == 0) {
        snprintf(buf, cap, "labels");
        return true;
    }
    if ((x[0] == 'X' || x[0] == 'x') && strlen(x) < cap) {
        memcpy(buf, x, strlen(x) + 1);
        buf[0] = x[0] == 'X' ? 'Y' : 'y';
        return true;
    }
    return false;
}

/* Picks the features (*xi) and labels (*yi, -1 for none) among the n variables v, and whether
 * samples are columns (*transpose). */
static tl_status mat_select(const mat_desc *v, size_t n, const char *path, const char *x_var,
                            const char *y_var, size_t fsize, long *xi_out, long *yi_out,
                            bool *transpose) {
    tl_status st = TL_OK;
    char names[512], paired[256];
    /* Features. */
    long xi = -1;
    bool x_auto = x_var == NULL;
    if (x_var) {
        xi = mat_find(v, n, x_var);
        TL_CHECK(xi >= 0, TL_ERR_NOT_FOUND, "%s: no variable '%s' (variables: %s)", path, x_var,
                 mat_names(v, n, names, sizeof names));
    } else {
        for (size_t k = 0; mat_x_names[k] && xi < 0; k++) xi = mat_find(v, n, mat_x_names[k]);
        TL_CHECK(xi >= 0, TL_ERR_NOT_FOUND,
                 "%s: no features variable found (looked for fts, feas, X, X_src, data, x; "
                 "variables: %s); name one as %s:VAR",
                 path, mat_names(v, n, names, sizeof names), path);
    }
    const mat_desc *xinfo = &v[xi];
    TL_TRY(mat_check_numeric(xinfo, path, fsize));
    const size_t r = xinfo->d0, c = xinfo->d1;

    /* Labels: the named variable, else the paired name (X_tar -> Y_tar), else a conventional
     * name. A conventional name found while the features were named explicitly is used only if
     * its length fits them (so "file.mat:X_tar" does not grab Y_src); otherwise a count
     * mismatch is an error. */
    long yi = -1;
    if (y_var) {
        yi = mat_find(v, n, y_var);
        TL_CHECK(yi >= 0, TL_ERR_NOT_FOUND, "%s: no variable '%s' (variables: %s)", path, y_var,
                 mat_names(v, n, names, sizeof names));
    } else {
        if (mat_paired_name(xinfo->name, paired, sizeof paired)) yi = mat_find(v, n, paired);
        for (size_t k = 0; mat_y_names[k] && yi < 0; k++) {
            long j = mat_find(v, n, mat_y_names[k]);
            if (j < 0) continue;
            const mat_desc *cand = &v[j];
            if (!x_auto) {
                size_t len = cand->nelem;
                if (cand->rank != 2 || cand->ovf || (len != r && len != c)) continue;
            }
            yi = j;
        }
    }
    *transpose = false;
    if (yi >= 0) {
        const mat_desc *yinfo = &v[yi];
        TL_TRY(mat_check_numeric(yinfo, path, fsize));
        TL_CHECK(yinfo->d0 == 1 || yinfo->d1 == 1, TL_ERR_LABEL,
                 "%s: labels variable '%s' is %zu x %zu; expected a vector", path, yinfo->name,
                 yinfo->d0, yinfo->d1);
        size_t L = yinfo->d0 * yinfo->d1;
        /* One sample per row (r x c) unless the labels say samples are columns. */
        if (r != L && c == L)
            *transpose = true;
        else
            TL_CHECK(r == L, TL_ERR_SHAPE,
                     "%s: features '%s' are %zu x %zu but labels '%s' have %zu entries", path,
                     xinfo->name, r, c, yinfo->name, L);
    }
    *xi_out = xi;
    *yi_out = yi;
done:
    return st;
}

/* ---- reading the data: libmatio ---- */

/* Read the data of a variable listed as info; checks matio gave what the info promised. */
static tl_status mat_read_var(mat_t *mat, const matvar_t *info, const char *path,
                              matvar_t **out) {
    matvar_t *v = mio.var_read(mat, info->name);
    *out = NULL;
    if (!v)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: variable '%s': cannot read its data (truncated or corrupted file)",
                       path, info->name);
    bool ovf;
    size_t n = mat_nelem(v, &ovf);
    if (v->class_type != info->class_type || v->rank != 2 || !v->dims ||
        v->dims[0] != info->dims[0] || v->dims[1] != info->dims[1] || v->isComplex || ovf ||
        !v->data || (size_t)v->data_size != mat_class_size(v->class_type) ||
        v->nbytes / mat_class_size(v->class_type) < n) {
        mio.var_free(v);
        return tl_fail(TL_ERR_FORMAT, "%s: variable '%s': corrupted data", path, info->name);
    }
    *out = v;
    return TL_OK;
}

/* The dataset from the selected variables' data: x (r, c) column-major as element k -> xval(k),
 * labels from yval (NULL: none). The element readers keep the matio and native paths on one
 * conversion loop. */
typedef double (*mat_elem_fn)(const void *src, size_t k);

/* Fills X from a column-major r x c source, (i, j) at k = j * r + i, into X (i, j) or, transposed,
 * X (j, i); false when there is no typed loop for it (the caller converts element by element). */
typedef struct {
    uint32_t dtype;         /* v5 data type; 0: none */
    const unsigned char *p; /* its bytes, little-endian */
} mat_typed;

#define MAT_FILL(CT)                                                                                   do {                                                                                                   const unsigned char *b_ = src.p;                                                                   for (size_t j = 0; j < c; j++)                                                                         for (size_t i = 0; i < r; i++) {                                                                       CT x_;                                                                                             memcpy(&x_, b_ + (j * r + i) * sizeof x_, sizeof x_);                                              if (transpose)                                                                                         TL_AT(X, j, i) = (double)x_;                                                                   else                                                                                                   TL_AT(X, i, j) = (double)x_;                                                               }                                                                                          } while (0)

static bool mat_fill_typed(mat_typed src, size_t r, size_t c, bool transpose, tl_mat X) {
    switch (src.dtype) {
    case 1: MAT_FILL(int8_t); return true;
    case 2: MAT_FILL(uint8_t); return true;
    case 3: MAT_FILL(int16_t); return true;
    case 4: MAT_FILL(uint16_t); return true;
    case 5: MAT_FILL(int32_t); return true;
    case 6: MAT_FILL(uint32_t); return true;
    case 7: MAT_FILL(float); return true;
    case 9: MAT_FILL(double); return true;
    case 12: MAT_FILL(int64_t); return true;
    case 13: MAT_FILL(uint64_t); return true;
    default: return false;
    }
}

static tl_status mat_build(const char *path, const char *xname, size_t r, size_t c,
                           bool transpose, mat_elem_fn xf, const void *xsrc, mat_typed xt,
                           bool x_finite, const char *yname, mat_elem_fn yf, const void *ysrc,
                           bool targets, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_dataset *ds = NULL;
    double *tv = NULL;
    const size_t n = transpose ? c : r, d = transpose ? r : c;
    TL_TRY(tl_dataset_create_dense(n, d, yf != NULL && !targets, &ds));
    tl_mat X = tl_dataset_dense(ds);
    /* column-major r x c: element (i, j) at data[j * r + i]; the source is read in order */
    if (!mat_fill_typed(xt, r, c, transpose, X))
        for (size_t j = 0; j < c; j++)
            for (size_t i = 0; i < r; i++) {
                double v = xf(xsrc, j * r + i);
                if (transpose)
                    TL_AT(X, j, i) = v;
                else
                    TL_AT(X, i, j) = v;
            }
    if (!x_finite) /* the first non-finite value in row order, as the message names it */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                double v = TL_AT(X, i, j);
                TL_CHECK(isfinite(v), TL_ERR_NONFINITE,
                         "%s: variable '%s': %s at row %zu, column %zu", path, xname,
                         isnan(v) ? "NaN" : "Inf", i + 1, j + 1);
            }
    if (yf && targets) {
        TL_ALLOC(tv, n ? n : 1);
        for (size_t i = 0; i < n; i++) {
            tv[i] = yf(ysrc, i);
            TL_CHECK(isfinite(tv[i]), TL_ERR_NONFINITE, "%s: variable '%s': target %zu is %s",
                     path, yname, i + 1, isnan(tv[i]) ? "NaN" : "Inf");
        }
        tlp_dataset_adopt_targets(ds, tv);
        tv = NULL;
    } else if (yf) {
        int *y = tl_dataset_labels(ds);
        for (size_t i = 0; i < n; i++) {
            double v = yf(ysrc, i);
            TL_CHECK(v == floor(v) && v >= (double)INT_MIN && v <= (double)INT_MAX, TL_ERR_LABEL,
                     "%s: variable '%s': label %g at index %zu is not an integer", path, yname, v,
                     i + 1);
            y[i] = (int)v;
        }
    }
    TL_TRY(tl_dataset_set_name(ds, path));
    *out = ds;
    ds = NULL;
done:
    tl_free(tv);
    tl_dataset_free(ds);
    return st;
}

static double matio_elem(const void *src, size_t k) { return mat_elem(src, k); }

/* ---- reading the data: v5 numeric matrices natively ----
 * libmatio's read of the SURF files (uint8 features, 750 KB inflated) took 30 ms: the walk
 * above has already inflated and checked every element, so for a v5 variable whose data element
 * converts exactly (its type's values all fit the array class, so matio's cast to the class is
 * the identity) the values are taken from there: the same doubles matio would give, in a few
 * milliseconds. Anything else (v4, v7.3, other conversions) goes through matio as before. */

typedef struct {
    const unsigned char *p; /* the data bytes */
    bool swap;              /* big-endian file */
} v5_src;

static inline uint64_t v5_ld(const unsigned char *p, size_t nb, bool swap) {
    uint64_t v = 0;
    if (!swap) {
        memcpy(&v, p, nb); /* x86-64 and every platform libtl builds on are little-endian */
    } else {
        for (size_t b = 0; b < nb; b++) v = (v << 8) | p[b];
    }
    return v;
}

#define V5_ELEM(NAME, CT, NB)                                                                     \
    static double NAME(const void *src, size_t k) {                                               \
        const v5_src *s = src;                                                                     \
        uint64_t u = v5_ld(s->p + (NB) * k, (NB), s->swap);                                        \
        CT x;                                                                                      \
        memcpy(&x, (const unsigned char *)&u, sizeof x);                                           \
        return (double)x;                                                                          \
    }
V5_ELEM(v5_i8, int8_t, 1)
V5_ELEM(v5_u8, uint8_t, 1)
V5_ELEM(v5_i16, int16_t, 2)
V5_ELEM(v5_u16, uint16_t, 2)
V5_ELEM(v5_i32, int32_t, 4)
V5_ELEM(v5_u32, uint32_t, 4)
V5_ELEM(v5_f32, float, 4)
V5_ELEM(v5_f64, double, 8)
V5_ELEM(v5_i64, int64_t, 8)
V5_ELEM(v5_u64, uint64_t, 8)

/* The element reader of data type t stored in an array of class cls, or NULL when matio's
 * conversion to the class is not the identity on every value of t (then matio reads it). */
static mat_elem_fn v5_elem_fn(uint32_t t, unsigned cls) {
    /* bit t set: data type t converts exactly into the class */
    static const uint32_t ok[16] = {
        [MAT_C_DOUBLE] = 0x32fe, /* every numeric type: 1-7, 9, 12, 13 */
        [MAT_C_SINGLE] = 0x009e, /* int8 uint8 int16 uint16 single */
        [MAT_C_INT8] = 1u << 1,
        [MAT_C_UINT8] = 1u << 2,
        [MAT_C_INT16] = (1u << 1) | (1u << 2) | (1u << 3),
        [MAT_C_UINT16] = (1u << 2) | (1u << 4),
        [MAT_C_INT32] = 0x3e,
        [MAT_C_UINT32] = (1u << 2) | (1u << 4) | (1u << 6),
        [MAT_C_INT64] = 0x107e,
        [MAT_C_UINT64] = (1u << 2) | (1u << 4) | (1u << 6) | (1u << 13),
    };
    if (cls >= 16 || t >= 16 || !(ok[cls] >> t & 1)) return NULL;
    switch (t) {
    case 1: return v5_i8;
    case 2: return v5_u8;
    case 3: return v5_i16;
    case 4: return v5_u16;
    case 5: return v5_i32;
    case 6: return v5_u32;
    case 7: return v5_f32;
    case 9: return v5_f64;
    case 12: return v5_i64;
    case 13: return v5_u64;
    default: return NULL;
    }
}

/* The data bytes of v (nbytes of them) into *mem (owned, for a plain variable read from the
 * file) or as a pointer into v's kept payload. */
static tl_status v5_data(const char *path, const v5_var *v, size_t nbytes,
                         const unsigned char **p, unsigned char **mem) {
    tl_status st = TL_OK;
    *mem = NULL;
    if (v->buf) {
        *p = v->buf + 8 + v->data;
        goto done;
    }
    FILE *f = fopen(path, "rb");
    TL_CHECK(f, TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *b = tl_malloc(nbytes ? nbytes : 1);
    bool ok = b && fseek(f, (long)(v->file_pos + v->data), SEEK_SET) == 0 &&
              fread(b, 1, nbytes, f) == nbytes;
    fclose(f);
    if (!ok) {
        tl_free(b);
        TL_CHECK(0, b ? TL_ERR_IO : TL_ERR_NOMEM, "%s: read error in variable '%s'", path,
                 v->name);
    }
    *p = b;
    *mem = b;
done:
    return st;
}

/* The native read of the selected v5 variables; *declined when a data type needs matio's
 * conversion (nothing reported then). */
static tl_status v5_native(const char *path, const v5_var *vars, long xi, long yi,
                           bool transpose, bool big_endian, bool targets, tl_dataset **out,
                           bool *declined) {
    tl_status st = TL_OK;
    unsigned char *xm = NULL, *ym = NULL;
    const v5_var *xv = &vars[xi], *yv = yi >= 0 ? &vars[yi] : NULL;
    mat_elem_fn xf = v5_elem_fn(xv->dtype, xv->cls), yf = yv ? v5_elem_fn(yv->dtype, yv->cls) : NULL;
    *declined = !xf || (yv && !yf) || (!xv->buf && !xv->file_pos) || (yv && !yv->buf && !yv->file_pos);
    if (*declined) goto done;
    v5_src xs = {NULL, big_endian}, ys = {NULL, big_endian};
    TL_TRY(v5_data(path, xv, xv->nelem * v5_type_size(xv->dtype), &xs.p, &xm));
    if (yv) TL_TRY(v5_data(path, yv, yv->nelem * v5_type_size(yv->dtype), &ys.p, &ym));
    mat_typed xt = {big_endian ? 0 : xv->dtype, xs.p}; /* typed loops read little-endian */
    TL_TRY(mat_build(path, xv->name, xv->dims[0], xv->dims[1], transpose, xf, &xs, xt,
                     xv->dtype != 7 && xv->dtype != 9, yv ? yv->name : NULL, yf, &ys, targets,
                     out));
done:
    tl_free(xm);
    tl_free(ym);
    return st;
}

static void v5_vars_free(v5_var *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        tl_free(v[i].name);
        tl_free(v[i].buf);
    }
    tl_free(v);
}

typedef struct {
    matvar_t **v;
    size_t n;
} mat_list;

static void mat_list_free(mat_list *l) {
    for (size_t i = 0; i < l->n; i++) mio.var_free(l->v[i]);
    tl_free(l->v);
    l->v = NULL;
    l->n = 0;
}

tl_status tl_read_mat(const char *path, const char *x_var, const char *y_var, tl_dataset **out) {
    return tlp_read_mat(path, x_var, y_var, false, out);
}

tl_status tlp_read_mat(const char *path, const char *x_var, const char *y_var, bool targets,
                       tl_dataset **out) {
    tl_status st = TL_OK;
    mat_t *mat = NULL;
    mat_list list = {NULL, 0};
    matvar_t *xv = NULL, *yv = NULL;
    mat_desc *desc = NULL;
    v5_var *vars = NULL;
    bool locked = false, big_endian = false;
    char names[512];
    mat_kind kind = MAT_KIND_V4;
    size_t ntags = 0, fsize = 0;
    long xi = -1, yi = -1;
    bool transpose = false;

    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "tl_read_mat: NULL argument");
    *out = NULL;
    TL_TRY(mat_prevalidate(path, x_var, y_var, &kind, &ntags, &fsize, &vars, &big_endian));

    if (kind == MAT_KIND_V5) { /* the walk listed every variable: select, and read natively */
        TL_ALLOC(desc, ntags ? ntags : 1);
        for (size_t i = 0; i < ntags; i++) {
            const v5_var *v = &vars[i];
            desc[i] = (mat_desc){v->name, v->cls, v->cplx, v->rank, v->dims[0], v->dims[1],
                                 v->nelem, false};
        }
        TL_TRY(mat_select(desc, ntags, path, x_var, y_var, fsize, &xi, &yi, &transpose));
        bool declined = true;
        TL_TRY(v5_native(path, vars, xi, yi, transpose, big_endian, targets, out, &declined));
        if (!declined) goto done;
        tl_free(desc); /* matio reads it below */
        desc = NULL;
    }

    pthread_once(&mat_log_once, mat_log_init);
    TL_CHECK(mio.open, TL_ERR_UNSUPPORTED,
             "%s: reading this MATLAB file (v4, v7.3 or an unusual data type) needs libmatio, "
             "which could not be loaded: %s", path, mio.err);
    pthread_mutex_lock(&mat_lock);
    locked = true;

    mat = mio.open(path, MAT_ACC_RDONLY);
    TL_CHECK(mat, TL_ERR_FORMAT, "%s: not a MATLAB .mat file (or it is corrupted)", path);

    /* List every variable (header only, no data). */
    for (;;) {
        matvar_t *info = mio.read_next_info(mat);
        if (!info) break;
        if (list.n % 16 == 0) {
            matvar_t **nv = tl_realloc(list.v, (list.n + 16) * sizeof *nv);
            if (!nv) {
                mio.var_free(info);
                TL_CHECK(0, TL_ERR_NOMEM, "%s: out of memory listing variables", path);
            }
            list.v = nv;
        }
        list.v[list.n++] = info;
        TL_CHECK(list.n <= 1000000, TL_ERR_FORMAT, "%s: corrupted: too many variables", path);
    }
    TL_ALLOC(desc, list.n ? list.n : 1);
    for (size_t i = 0; i < list.n; i++) desc[i] = mat_desc_of(list.v[i]);
    if (kind == MAT_KIND_V5 || kind == MAT_KIND_V4)
        TL_CHECK(list.n == ntags, TL_ERR_FORMAT,
                 "%s: corrupted: variable %zu of %zu cannot be read (variables before it: %s)",
                 path, list.n + 1, ntags, mat_names(desc, list.n, names, sizeof names));
    /* v7.3: an HDF5 file matio could not open looks like a file without variables */
    if (kind == MAT_KIND_V73)
        TL_CHECK(list.n > 0, TL_ERR_FORMAT,
                 "%s: no readable variables in this MATLAB v7.3 (HDF5) file; it is corrupted "
                 "or empty",
                 path);
    TL_TRY(mat_select(desc, list.n, path, x_var, y_var, fsize, &xi, &yi, &transpose));
    const matvar_t *xinfo = list.v[xi], *yinfo = yi >= 0 ? list.v[yi] : NULL;
    TL_TRY(mat_read_var(mat, xinfo, path, &xv));
    if (yinfo) TL_TRY(mat_read_var(mat, yinfo, path, &yv));
    bool xfin = xv->class_type != MAT_C_DOUBLE && xv->class_type != MAT_C_SINGLE;
    mat_typed none = {0, NULL};
    TL_TRY(mat_build(path, xinfo->name, xinfo->dims[0], xinfo->dims[1], transpose, matio_elem, xv,
                     none, xfin, yinfo ? yinfo->name : NULL, yv ? matio_elem : NULL, yv, targets,
                     out));
done:
    if (xv) mio.var_free(xv);
    if (yv) mio.var_free(yv);
    mat_list_free(&list);
    if (mat) mio.close(mat);
    if (locked) pthread_mutex_unlock(&mat_lock); /* held while any matio object is alive */
    tl_free(desc);
    v5_vars_free(vars, ntags);
    return st;
}
