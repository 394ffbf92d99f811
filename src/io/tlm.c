/* The .tlm model container (layout in tl/io.h): key/value metadata and named tensors, shared by
 * every fitted libtl model. Little-endian on disk whatever the host; CRC-32 (zlib) of every byte
 * before the trailing checksum.
 *
 * Why built this way: a model file is user input. The reader therefore bounds-checks every length
 * against the bytes that remain before trusting it (a 4-byte length can claim 4 GiB), checks that
 * products of dims do not overflow, rejects duplicate names and trailing bytes, and verifies the
 * checksum last, so a truncated file says "truncated" and a flipped bit says "checksum mismatch".
 * Every message names the file. The writer serialises into one buffer and writes it through
 * tl_wfile (a temporary file beside the model, fsync'ed and renamed into place), so an interrupted
 * save never leaves a half-written model behind. Tensor payloads live in their own tl_malloc'd blocks, so the
 * borrowed pointers handed out are aligned for their dtype. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "internal/check.h"
#include "internal/file.h"
#include "tl/io.h"

#define TLM_MAX_NDIM 8
#define TLM_MAX_NAME 4096u          /* keys and tensor names */
#define TLM_MAX_VALUE (16u << 20)   /* metadata values */
#define TLM_MAX_ENTRIES 1000000u    /* meta entries, tensors */

typedef struct {
    char *key, *val;
} tlm_meta;

typedef struct {
    char *name;
    tl_dtype dtype;
    size_t ndim;
    size_t dims[TLM_MAX_NDIM];
    size_t nbytes;
    void *data; /* nbytes, host byte order; NULL when nbytes == 0 */
} tlm_tensor;

struct tl_tlm {
    tlm_meta *meta;
    size_t n_meta, cap_meta;
    tlm_tensor *ten;
    size_t n_ten, cap_ten;
};

static size_t dtype_size(tl_dtype t) {
    switch (t) {
    case TL_DTYPE_F64: return 8;
    case TL_DTYPE_F32: return 4;
    case TL_DTYPE_I32: return 4;
    }
    return 0;
}

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static char *dup_str(const char *s, size_t len) {
    char *d = tl_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

tl_status tl_tlm_create(tl_tlm **out) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "tlm_create: out is NULL");
    *out = NULL;
    TL_CALLOC(m, 1);
    *out = m;
done:
    return st;
}

void tl_tlm_free(tl_tlm *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_meta; i++) {
        tl_free(m->meta[i].key);
        tl_free(m->meta[i].val);
    }
    for (size_t i = 0; i < m->n_ten; i++) {
        tl_free(m->ten[i].name);
        tl_free(m->ten[i].data);
    }
    tl_free(m->meta);
    tl_free(m->ten);
    tl_free(m);
}

static long find_meta(const tl_tlm *m, const char *key) {
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0) return (long)i;
    return -1;
}

static long find_tensor(const tl_tlm *m, const char *name) {
    for (size_t i = 0; i < m->n_ten; i++)
        if (strcmp(m->ten[i].name, name) == 0) return (long)i;
    return -1;
}

tl_status tl_tlm_set_meta(tl_tlm *m, const char *key, const char *value) {
    tl_status st = TL_OK;
    char *k = NULL, *v = NULL;
    TL_CHECK(m && key && value, TL_ERR_INVALID_ARG, "tlm_set_meta: NULL argument");
    size_t kl = strlen(key), vl = strlen(value);
    TL_CHECK(kl > 0 && kl <= TLM_MAX_NAME, TL_ERR_INVALID_ARG,
             "tlm_set_meta: key length %zu not in 1..%u", kl, TLM_MAX_NAME);
    TL_CHECK(vl <= TLM_MAX_VALUE, TL_ERR_INVALID_ARG,
             "tlm_set_meta: value of '%s' is %zu bytes (max %u)", key, vl, TLM_MAX_VALUE);
    v = dup_str(value, vl);
    TL_CHECK(v, TL_ERR_NOMEM, "tlm_set_meta: out of memory");
    long i = find_meta(m, key);
    if (i >= 0) {
        tl_free(m->meta[i].val);
        m->meta[i].val = v;
        v = NULL;
        goto done;
    }
    TL_CHECK(m->n_meta < TLM_MAX_ENTRIES, TL_ERR_INVALID_ARG, "tlm_set_meta: too many entries");
    k = dup_str(key, kl);
    TL_CHECK(k, TL_ERR_NOMEM, "tlm_set_meta: out of memory");
    if (m->n_meta == m->cap_meta) {
        size_t cap = m->cap_meta ? 2 * m->cap_meta : 8, bytes;
        TL_CHECK(tl_size_mul(cap, sizeof(tlm_meta), &bytes) == 0, TL_ERR_NOMEM,
                 "tlm_set_meta: size overflow");
        tlm_meta *nm = tl_realloc(m->meta, bytes);
        TL_CHECK(nm, TL_ERR_NOMEM, "tlm_set_meta: out of memory");
        m->meta = nm;
        m->cap_meta = cap;
    }
    m->meta[m->n_meta].key = k;
    m->meta[m->n_meta].val = v;
    m->n_meta++;
    k = v = NULL;
done:
    tl_free(k);
    tl_free(v);
    return st;
}

const char *tl_tlm_get_meta(const tl_tlm *m, const char *key) {
    if (!m || !key) return NULL;
    long i = find_meta(m, key);
    return i >= 0 ? m->meta[i].val : NULL;
}

/* Appends a tensor taking ownership of name and data (both freed on failure). */
static tl_status push_tensor(tl_tlm *m, char *name, tl_dtype dtype, size_t ndim,
                             const size_t *dims, size_t nbytes, void *data) {
    tl_status st = TL_OK;
    if (m->n_ten == m->cap_ten) {
        size_t cap = m->cap_ten ? 2 * m->cap_ten : 8, bytes;
        TL_CHECK(tl_size_mul(cap, sizeof(tlm_tensor), &bytes) == 0, TL_ERR_NOMEM,
                 "tlm: size overflow");
        tlm_tensor *nt = tl_realloc(m->ten, bytes);
        TL_CHECK(nt, TL_ERR_NOMEM, "tlm: out of memory");
        m->ten = nt;
        m->cap_ten = cap;
    }
    tlm_tensor *t = &m->ten[m->n_ten];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = dtype;
    t->ndim = ndim;
    for (size_t i = 0; i < ndim; i++) t->dims[i] = dims[i];
    t->nbytes = nbytes;
    t->data = data;
    m->n_ten++;
    return TL_OK;
done:
    tl_free(name);
    tl_free(data);
    return st;
}

/* Bytes of a tensor of this dtype and shape, overflow-checked. */
static tl_status tensor_bytes(tl_dtype dtype, size_t ndim, const size_t *dims, size_t *out) {
    size_t b = dtype_size(dtype);
    for (size_t i = 0; i < ndim; i++)
        if (tl_size_mul(b, dims[i], &b) != 0) return TL_ERR_NOMEM;
    *out = b;
    return TL_OK;
}

tl_status tl_tlm_add_tensor(tl_tlm *m, const char *name, tl_dtype dtype, size_t ndim,
                            const size_t *dims, const void *data) {
    tl_status st = TL_OK;
    char *nm = NULL;
    void *buf = NULL;
    TL_CHECK(m && name, TL_ERR_INVALID_ARG, "tlm_add_tensor: NULL argument");
    size_t nl = strlen(name);
    TL_CHECK(nl > 0 && nl <= TLM_MAX_NAME, TL_ERR_INVALID_ARG,
             "tlm_add_tensor: name length %zu not in 1..%u", nl, TLM_MAX_NAME);
    TL_CHECK(dtype_size(dtype) > 0, TL_ERR_INVALID_ARG, "tlm_add_tensor: '%s': unknown dtype %d",
             name, (int)dtype);
    TL_CHECK(ndim <= TLM_MAX_NDIM, TL_ERR_INVALID_ARG,
             "tlm_add_tensor: '%s' has %zu dims (max %d)", name, ndim, TLM_MAX_NDIM);
    TL_CHECK(ndim == 0 || dims, TL_ERR_INVALID_ARG, "tlm_add_tensor: '%s': dims is NULL", name);
    TL_CHECK(find_tensor(m, name) < 0, TL_ERR_INVALID_ARG,
             "tlm_add_tensor: a tensor named '%s' already exists", name);
    TL_CHECK(m->n_ten < TLM_MAX_ENTRIES, TL_ERR_INVALID_ARG, "tlm_add_tensor: too many tensors");
    size_t nbytes = 0;
    TL_CHECK(tensor_bytes(dtype, ndim, dims, &nbytes) == TL_OK, TL_ERR_NOMEM,
             "tlm_add_tensor: '%s': size overflow", name);
    TL_CHECK(nbytes == 0 || data, TL_ERR_INVALID_ARG, "tlm_add_tensor: '%s': data is NULL", name);
    nm = dup_str(name, nl);
    TL_CHECK(nm, TL_ERR_NOMEM, "tlm_add_tensor: out of memory");
    if (nbytes) {
        buf = tl_malloc(nbytes);
        TL_CHECK(buf, TL_ERR_NOMEM, "tlm_add_tensor: out of memory for '%s' (%zu bytes)", name,
                 nbytes);
        memcpy(buf, data, nbytes);
    }
    st = push_tensor(m, nm, dtype, ndim, dims, nbytes, buf);
    nm = NULL;
    buf = NULL;
done:
    tl_free(nm);
    tl_free(buf);
    return st;
}

tl_status tl_tlm_get_tensor(const tl_tlm *m, const char *name, tl_dtype *dtype, size_t *ndim,
                            const size_t **dims, const void **data) {
    if (!m || !name) return tl_fail(TL_ERR_INVALID_ARG, "tlm_get_tensor: NULL argument");
    long i = find_tensor(m, name);
    if (i < 0) return tl_fail(TL_ERR_NOT_FOUND, "tensor '%s' not found in the model", name);
    const tlm_tensor *t = &m->ten[i];
    if (dtype) *dtype = t->dtype;
    if (ndim) *ndim = t->ndim;
    if (dims) *dims = t->dims;
    if (data) *data = t->data;
    return TL_OK;
}

size_t tl_tlm_tensor_count(const tl_tlm *m) { return m ? m->n_ten : 0; }

const char *tl_tlm_tensor_name(const tl_tlm *m, size_t i) {
    return (m && i < m->n_ten) ? m->ten[i].name : NULL;
}

/* ---- serialisation ---- */

typedef struct {
    unsigned char *p;
    size_t len, cap;
} wbuf;

static void put_bytes(wbuf *w, const void *src, size_t n) {
    memcpy(w->p + w->len, src, n); /* capacity computed exactly beforehand */
    w->len += n;
}
static void put_u8(wbuf *w, unsigned v) {
    unsigned char b = (unsigned char)v;
    put_bytes(w, &b, 1);
}
static void put_u32(wbuf *w, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put_bytes(w, b, 4);
}
static void put_u64(wbuf *w, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    put_bytes(w, b, 8);
}
/* Tensor payload in little-endian order. */
static void put_payload(wbuf *w, const tlm_tensor *t) {
    if (!t->nbytes) return;
    size_t es = dtype_size(t->dtype);
    if (host_is_le() || es == 1) {
        put_bytes(w, t->data, t->nbytes);
        return;
    }
    const unsigned char *s = t->data;
    for (size_t i = 0; i < t->nbytes; i += es)
        for (size_t j = 0; j < es; j++) w->p[w->len + i + j] = s[i + es - 1 - j];
    w->len += t->nbytes;
}

/* Add b to *acc with overflow check. */
static int add_sz(size_t *acc, size_t b) {
    if (*acc > (size_t)-1 - b) return -1;
    *acc += b;
    return 0;
}

static tl_status serialise(const tl_tlm *m, const char *path, wbuf *w) {
    tl_status st = TL_OK;
    size_t total = 16 + 4;
    int ovf = 0;
    for (size_t i = 0; i < m->n_meta; i++)
        ovf |= add_sz(&total, 8 + strlen(m->meta[i].key)) | add_sz(&total, strlen(m->meta[i].val));
    for (size_t i = 0; i < m->n_ten; i++)
        ovf |= add_sz(&total, 4 + strlen(m->ten[i].name) + 2 + 8 * m->ten[i].ndim) |
               add_sz(&total, m->ten[i].nbytes);
    TL_CHECK(!ovf, TL_ERR_NOMEM, "%s: model too large to serialise", path);
    TL_CHECK(m->n_meta <= UINT32_MAX && m->n_ten <= UINT32_MAX, TL_ERR_INVALID_ARG,
             "%s: too many entries", path);
    w->p = tl_malloc(total);
    TL_CHECK(w->p, TL_ERR_NOMEM, "%s: out of memory serialising %zu bytes", path, total);
    w->cap = total;
    w->len = 0;
    put_bytes(w, "TLM1", 4);
    put_u32(w, TL_TLM_VERSION);
    put_u32(w, (uint32_t)m->n_meta);
    put_u32(w, (uint32_t)m->n_ten);
    for (size_t i = 0; i < m->n_meta; i++) {
        size_t kl = strlen(m->meta[i].key), vl = strlen(m->meta[i].val);
        put_u32(w, (uint32_t)kl);
        put_bytes(w, m->meta[i].key, kl);
        put_u32(w, (uint32_t)vl);
        put_bytes(w, m->meta[i].val, vl);
    }
    for (size_t i = 0; i < m->n_ten; i++) {
        const tlm_tensor *t = &m->ten[i];
        size_t nl = strlen(t->name);
        put_u32(w, (uint32_t)nl);
        put_bytes(w, t->name, nl);
        put_u8(w, (unsigned)t->dtype);
        put_u8(w, (unsigned)t->ndim);
        for (size_t j = 0; j < t->ndim; j++) put_u64(w, (uint64_t)t->dims[j]);
        put_payload(w, t);
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t off = 0;
    while (off < w->len) { /* zlib takes uInt lengths */
        size_t chunk = w->len - off;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        crc = crc32(crc, w->p + off, (uInt)chunk);
        off += chunk;
    }
    put_u32(w, (uint32_t)crc);
done:
    return st;
}

tl_status tl_tlm_save(const tl_tlm *m, const char *path) {
    tl_status st = TL_OK;
    wbuf w = {0};
    tl_wfile *f = NULL;
    TL_CHECK(m && path && *path, TL_ERR_INVALID_ARG, "tlm_save: NULL model or empty path");
    TL_TRY(serialise(m, path, &w));
    TL_TRY(tl_wfile_open(path, &f));
    TL_TRY(tl_wfile_write(f, w.p, w.len));
    st = tl_wfile_commit(f);
    f = NULL;
done:
    tl_wfile_abort(f);
    tl_free(w.p);
    return st;
}

/* ---- parsing ---- */

typedef struct {
    const unsigned char *p;
    size_t len, off;
    const char *name;
} rbuf;

static tl_status need(rbuf *r, size_t n, const char *what) {
    if (r->len - r->off < n)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: truncated model file: %s needs %zu bytes at offset %zu, %zu left",
                       r->name, what, n, r->off, r->len - r->off);
    return TL_OK;
}
static uint32_t get_u32(rbuf *r) {
    const unsigned char *b = r->p + r->off;
    r->off += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t get_u64(rbuf *r) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | r->p[r->off + (size_t)i];
    r->off += 8;
    return v;
}

/* Reads a u32 length then that many bytes as a NUL-free string (allocated). */
static tl_status get_str(rbuf *r, size_t maxlen, const char *what, size_t idx, char **out) {
    tl_status st = TL_OK;
    char lenwhat[64];
    snprintf(lenwhat, sizeof lenwhat, "length of %s %zu", what, idx);
    TL_TRY(need(r, 4, lenwhat));
    uint32_t l = get_u32(r);
    TL_CHECK(l <= maxlen, TL_ERR_FORMAT, "%s: %s %zu has length %u (max %zu) at offset %zu",
             r->name, what, idx, (unsigned)l, maxlen, r->off - 4);
    TL_TRY(need(r, l, what));
    TL_CHECK(memchr(r->p + r->off, '\0', l) == NULL, TL_ERR_FORMAT,
             "%s: %s %zu contains a NUL byte", r->name, what, idx);
    *out = dup_str((const char *)r->p + r->off, l);
    TL_CHECK(*out, TL_ERR_NOMEM, "%s: out of memory", r->name);
    r->off += l;
done:
    return st;
}

tl_status tl_tlm_parse(const unsigned char *buf, size_t len, const char *name, tl_tlm **out) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    char *key = NULL, *val = NULL, *tname = NULL;
    void *data = NULL;
    if (!name) name = "<memory>";
    TL_CHECK(out && (buf || len == 0), TL_ERR_INVALID_ARG, "tlm_parse: NULL argument");
    *out = NULL;
    rbuf r = {buf, len, 0, name};
    TL_CHECK(len >= 4, TL_ERR_FORMAT, "%s: truncated model file (%zu bytes, no magic)", name, len);
    TL_CHECK(memcmp(buf, "TLM1", 4) == 0, TL_ERR_FORMAT,
             "%s: bad magic: not a libtl model file (expected \"TLM1\")", name);
    r.off = 4;
    TL_TRY(need(&r, 12, "header"));
    uint32_t ver = get_u32(&r);
    TL_CHECK(ver == TL_TLM_VERSION, TL_ERR_UNSUPPORTED,
             "%s: wrong version %u (this build reads version %u)", name, (unsigned)ver,
             TL_TLM_VERSION);
    uint32_t n_meta = get_u32(&r), n_ten = get_u32(&r);
    /* each entry takes at least 8 (meta) or 6 (tensor) bytes: cheap bound before any loop */
    TL_CHECK(n_meta <= TLM_MAX_ENTRIES && (uint64_t)n_meta * 8 <= len - r.off, TL_ERR_FORMAT,
             "%s: header claims %u metadata entries, more than the file can hold", name,
             (unsigned)n_meta);
    TL_CHECK(n_ten <= TLM_MAX_ENTRIES && (uint64_t)n_ten * 6 <= len - r.off, TL_ERR_FORMAT,
             "%s: header claims %u tensors, more than the file can hold", name, (unsigned)n_ten);
    TL_TRY(tl_tlm_create(&m));
    for (size_t i = 0; i < n_meta; i++) {
        TL_TRY(get_str(&r, TLM_MAX_NAME, "metadata key", i, &key));
        TL_CHECK(key[0], TL_ERR_FORMAT, "%s: metadata key %zu is empty", name, i);
        TL_TRY(get_str(&r, TLM_MAX_VALUE, "metadata value", i, &val));
        TL_CHECK(find_meta(m, key) < 0, TL_ERR_FORMAT, "%s: duplicate metadata key '%s'", name,
                 key);
        TL_TRY(tl_tlm_set_meta(m, key, val));
        tl_free(key);
        tl_free(val);
        key = val = NULL;
    }
    for (size_t i = 0; i < n_ten; i++) {
        TL_TRY(get_str(&r, TLM_MAX_NAME, "tensor name", i, &tname));
        TL_CHECK(tname[0], TL_ERR_FORMAT, "%s: tensor %zu has an empty name", name, i);
        TL_CHECK(find_tensor(m, tname) < 0, TL_ERR_FORMAT, "%s: duplicate tensor '%s'", name,
                 tname);
        TL_TRY(need(&r, 2, "tensor header"));
        unsigned dt = r.p[r.off], nd = r.p[r.off + 1];
        r.off += 2;
        TL_CHECK(dt <= 2, TL_ERR_FORMAT, "%s: tensor '%s' has unknown dtype %u", name, tname, dt);
        TL_CHECK(nd <= TLM_MAX_NDIM, TL_ERR_FORMAT, "%s: tensor '%s' has %u dims (max %d)", name,
                 tname, nd, TLM_MAX_NDIM);
        TL_TRY(need(&r, 8 * (size_t)nd, "tensor dims"));
        size_t dims[TLM_MAX_NDIM] = {0};
        for (unsigned j = 0; j < nd; j++) {
            uint64_t d = get_u64(&r);
            TL_CHECK(d <= (uint64_t)(size_t)-1, TL_ERR_FORMAT, "%s: tensor '%s' dim %u too large",
                     name, tname, j);
            dims[j] = (size_t)d;
        }
        size_t nbytes = 0;
        TL_CHECK(tensor_bytes((tl_dtype)dt, nd, dims, &nbytes) == TL_OK, TL_ERR_FORMAT,
                 "%s: tensor '%s' size overflows", name, tname);
        TL_TRY(need(&r, nbytes, "tensor data"));
        if (nbytes) {
            data = tl_malloc(nbytes);
            TL_CHECK(data, TL_ERR_NOMEM, "%s: out of memory for tensor '%s' (%zu bytes)", name,
                     tname, nbytes);
            size_t es = dtype_size((tl_dtype)dt);
            if (host_is_le()) {
                memcpy(data, r.p + r.off, nbytes);
            } else {
                unsigned char *d = data;
                for (size_t k = 0; k < nbytes; k += es)
                    for (size_t j = 0; j < es; j++) d[k + j] = r.p[r.off + k + es - 1 - j];
            }
            r.off += nbytes;
        }
        st = push_tensor(m, tname, (tl_dtype)dt, nd, dims, nbytes, data);
        tname = NULL;
        data = NULL;
        if (st != TL_OK) goto done;
    }
    TL_TRY(need(&r, 4, "checksum"));
    TL_CHECK(r.len - r.off == 4, TL_ERR_FORMAT, "%s: %zu unexpected bytes after the last tensor",
             name, r.len - r.off - 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t off = 0;
    while (off < r.off) {
        size_t chunk = r.off - off;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        crc = crc32(crc, buf + off, (uInt)chunk);
        off += chunk;
    }
    uint32_t stored = get_u32(&r);
    TL_CHECK(stored == (uint32_t)crc, TL_ERR_FORMAT,
             "%s: checksum mismatch (stored %08x, computed %08x): the file is corrupted", name,
             (unsigned)stored, (unsigned)(uint32_t)crc);
    *out = m;
    m = NULL;
done:
    tl_free(key);
    tl_free(val);
    tl_free(tname);
    tl_free(data);
    tl_tlm_free(m);
    return st;
}

tl_status tl_tlm_load(const char *path, tl_tlm **out) {
    tl_status st = TL_OK;
    unsigned char *buf = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "tlm_load: NULL argument");
    *out = NULL;
    /* a folder is refused by name, a stream read to its end (internal/file.h) */
    size_t n = 0;
    TL_TRY(tli_file_read_all(path, &buf, &n));
    TL_TRY(tl_tlm_parse(buf, n, path, out));
done:
    tl_free(buf);
    return st;
}

/* ---- nesting: one model's entries inside another's container, under a prefix ---- */

/* "<prefix><name>" in a new tl_malloc'd string (NULL on OOM). */
static char *prefixed(const char *prefix, const char *name) {
    size_t pl = strlen(prefix), nl = strlen(name);
    char *s = tl_malloc(pl + nl + 1);
    if (!s) return NULL;
    memcpy(s, prefix, pl);
    memcpy(s + pl, name, nl + 1);
    return s;
}

tl_status tl_tlm_merge(tl_tlm *dst, const tl_tlm *src, const char *prefix) {
    tl_status st = TL_OK;
    char *k = NULL;
    TL_CHECK(dst && src, TL_ERR_INVALID_ARG, "tlm_merge: NULL container");
    if (!prefix) prefix = "";
    for (size_t i = 0; i < src->n_meta; i++) {
        k = prefixed(prefix, src->meta[i].key);
        TL_CHECK(k, TL_ERR_NOMEM, "tlm_merge: out of memory");
        TL_TRY(tl_tlm_set_meta(dst, k, src->meta[i].val));
        tl_free(k);
        k = NULL;
    }
    for (size_t i = 0; i < src->n_ten; i++) {
        const tlm_tensor *t = &src->ten[i];
        k = prefixed(prefix, t->name);
        TL_CHECK(k, TL_ERR_NOMEM, "tlm_merge: out of memory");
        TL_CHECK(find_tensor(dst, k) < 0, TL_ERR_INVALID_ARG, "tlm_merge: tensor '%s' exists", k);
        TL_TRY(tl_tlm_add_tensor(dst, k, t->dtype, t->ndim, t->dims, t->data));
        tl_free(k);
        k = NULL;
    }
done:
    tl_free(k);
    return st;
}

tl_status tl_tlm_extract(const tl_tlm *src, const char *prefix, tl_tlm **out) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    TL_CHECK(src && out, TL_ERR_INVALID_ARG, "tlm_extract: NULL container or output");
    *out = NULL;
    if (!prefix) prefix = "";
    size_t pl = strlen(prefix);
    TL_TRY(tl_tlm_create(&m));
    for (size_t i = 0; i < src->n_meta; i++)
        if (strncmp(src->meta[i].key, prefix, pl) == 0 && src->meta[i].key[pl])
            TL_TRY(tl_tlm_set_meta(m, src->meta[i].key + pl, src->meta[i].val));
    for (size_t i = 0; i < src->n_ten; i++) {
        const tlm_tensor *t = &src->ten[i];
        if (strncmp(t->name, prefix, pl) == 0 && t->name[pl])
            TL_TRY(tl_tlm_add_tensor(m, t->name + pl, t->dtype, t->ndim, t->dims, t->data));
    }
    *out = m;
    m = NULL;
done:
    tl_tlm_free(m);
    return st;
}
