/* The safetensors format (https://github.com/huggingface/safetensors, what PyTorch users export
 * with safetensors.torch.save_file): an 8-byte little-endian header length N, N bytes of JSON
 *   {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...,
 *    "__metadata__": {"key": "value", ...}}
 * (possibly padded with spaces), then the tensor bytes, little-endian, C order, offsets relative
 * to the start of the data. This file is the reader of that container (declared in tl/io.h); it
 * knows no model: mapping a file onto a network, and writing one, is src/nn/interop.c.
 *
 * Why a hand-written parser: the file is user input and the header is the attack surface, so the
 * reader is strict and small rather than general. It accepts exactly that JSON shape (objects,
 * strings with escapes, non-negative integers), bounds every read by the header length, caps the
 * header at 100 MB and names at 4 KiB, refuses duplicate names and unknown fields, checks that
 * each tensor's byte range equals dtype size x shape (overflow-checked) and that the ranges tile
 * the data section exactly - no overlaps, no holes, nothing after - as the reference
 * implementation requires. Every error names the file and, where it can, the byte offset. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "internal/file.h"
#include "tl/io.h"

#define ST_MAX_HEADER ((size_t)100 << 20)
#define ST_MAX_NAME 4096
#define ST_MAX_DIMS 8
#define ST_MAX_TENSORS 1000000

typedef struct {
    char *name;
    char dtype[12];
    size_t esize; /* bytes per element */
    size_t ndim, dims[ST_MAX_DIMS];
    size_t begin, end;
} st_tensor;

typedef struct {
    char *key, *val;
} st_meta;

struct tl_safetensors {
    st_tensor *t;
    size_t nt, cap;
    st_meta *meta;
    size_t nm, cap_m;
    unsigned char *data; /* copy of the data section */
    size_t data_len;
};

/* ---- JSON scanner ---- */
typedef struct {
    const char *s;
    size_t pos, len;
    const char *file;
} js;

#define JS_FAIL(j, ...) tl_fail(TL_ERR_FORMAT, "%s: safetensors header, byte %zu: %s", (j)->file, (j)->pos + 8, __VA_ARGS__)

static void js_ws(js *j) {
    while (j->pos < j->len && strchr(" \t\r\n", j->s[j->pos]) && j->s[j->pos]) j->pos++;
}

static tl_status js_expect(js *j, char c) {
    js_ws(j);
    if (j->pos >= j->len || j->s[j->pos] != c) {
        char m[64];
        snprintf(m, sizeof m, "expected '%c'", c);
        return JS_FAIL(j, m);
    }
    j->pos++;
    return TL_OK;
}

static bool js_peek(js *j, char c) {
    js_ws(j);
    return j->pos < j->len && j->s[j->pos] == c;
}

static void put_utf8(char *o, size_t *n, unsigned long cp) {
    if (cp < 0x80) {
        o[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        o[(*n)++] = (char)(0xC0 | (cp >> 6));
        o[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        o[(*n)++] = (char)(0xE0 | (cp >> 12));
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o[(*n)++] = (char)(0xF0 | (cp >> 18));
        o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(js *j, unsigned long *v) {
    if (j->len - j->pos < 4) return false;
    *v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(j->s[j->pos + (size_t)k]);
        if (h < 0) return false;
        *v = *v * 16 + (unsigned long)h;
    }
    j->pos += 4;
    return true;
}

/* A JSON string into a fresh tl_malloc'd, NUL-terminated buffer (at most max bytes). */
static tl_status js_string(js *j, size_t max, char **out) {
    tl_status st = TL_OK;
    char *o = NULL;
    *out = NULL;
    TL_TRY(js_expect(j, '"'));
    size_t start = j->pos, cap = 0;
    /* the decoded string is never longer than the raw one */
    while (j->pos < j->len && j->s[j->pos] != '"') {
        if (j->s[j->pos] == '\\') j->pos++;
        j->pos++;
    }
    if (j->pos >= j->len) {
        j->pos = start;
        return JS_FAIL(j, "unterminated string");
    }
    cap = j->pos - start;
    if (cap > max) {
        j->pos = start;
        return JS_FAIL(j, "string too long");
    }
    TL_ALLOC(o, cap + 1);
    size_t n = 0;
    j->pos = start;
    while (j->s[j->pos] != '"') {
        unsigned char c = (unsigned char)j->s[j->pos++];
        if (c < 0x20) {
            st = JS_FAIL(j, "control character in a string");
            goto done;
        }
        if (c != '\\') {
            o[n++] = (char)c;
            continue;
        }
        char e = j->s[j->pos++];
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned long cp, lo;
            if (!read_hex4(j, &cp)) {
                st = JS_FAIL(j, "bad \\u escape");
                goto done;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->len - j->pos < 6 || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u') {
                    st = JS_FAIL(j, "unpaired surrogate");
                    goto done;
                }
                j->pos += 2;
                if (!read_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    st = JS_FAIL(j, "unpaired surrogate");
                    goto done;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                st = JS_FAIL(j, "unpaired surrogate");
                goto done;
            }
            if (cp == 0) {
                st = JS_FAIL(j, "NUL character in a string");
                goto done;
            }
            /* 6 raw bytes (\uXXXX) become at most 3 UTF-8 bytes, 12 at most 4: fits */
            put_utf8(o, &n, cp);
            break;
        }
        default:
            st = JS_FAIL(j, "bad escape");
            goto done;
        }
    }
    j->pos++; /* closing quote */
    o[n] = '\0';
    *out = o;
    o = NULL;
done:
    tl_free(o);
    return st;
}

/* A non-negative integer below 2^53. */
static tl_status js_uint(js *j, size_t *out) {
    js_ws(j);
    size_t start = j->pos;
    uint64_t v = 0;
    while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
        if (v > (UINT64_C(1) << 53) / 10) return JS_FAIL(j, "number too large");
        v = v * 10 + (uint64_t)(j->s[j->pos++] - '0');
    }
    if (j->pos == start) return JS_FAIL(j, "expected a non-negative integer");
    if (j->pos - start > 1 && j->s[start] == '0') {
        j->pos = start;
        return JS_FAIL(j, "leading zero in a number");
    }
    if (j->pos < j->len && strchr(".eE-+", j->s[j->pos]) && j->s[j->pos])
        return JS_FAIL(j, "expected an integer");
    if (v > SIZE_MAX) return JS_FAIL(j, "number too large");
    *out = (size_t)v;
    return TL_OK;
}

/* [n, n, ...] into v (at most max). */
static tl_status js_uint_array(js *j, size_t *v, size_t max, size_t *n) {
    tl_status st = TL_OK;
    *n = 0;
    TL_TRY(js_expect(j, '['));
    if (js_peek(j, ']')) {
        j->pos++;
        return TL_OK;
    }
    for (;;) {
        if (*n == max) return JS_FAIL(j, "too many numbers in an array");
        TL_TRY(js_uint(j, &v[(*n)++]));
        if (js_peek(j, ',')) {
            j->pos++;
            continue;
        }
        TL_TRY(js_expect(j, ']'));
        break;
    }
done:
    return st;
}

static size_t dtype_bytes(const char *d) {
    static const struct {
        const char *n;
        size_t b;
    } tab[] = {{"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2}, {"I64", 8},     {"I32", 4},
               {"I16", 2}, {"I8", 1},  {"U64", 8},  {"U32", 4},  {"U16", 2},     {"U8", 1},
               {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
        if (strcmp(d, tab[i].n) == 0) return tab[i].b;
    return 0;
}

void tl_safetensors_free(tl_safetensors *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nt; i++) tl_free(s->t[i].name);
    for (size_t i = 0; i < s->nm; i++) {
        tl_free(s->meta[i].key);
        tl_free(s->meta[i].val);
    }
    tl_free(s->t);
    tl_free(s->meta);
    tl_free(s->data);
    tl_free(s);
}

static tl_status parse_meta(js *j, tl_safetensors *s) {
    tl_status st = TL_OK;
    char *k = NULL, *v = NULL;
    TL_TRY(js_expect(j, '{'));
    if (js_peek(j, '}')) {
        j->pos++;
        return TL_OK;
    }
    for (;;) {
        TL_TRY(js_string(j, ST_MAX_NAME, &k));
        TL_TRY(js_expect(j, ':'));
        TL_TRY(js_string(j, ST_MAX_HEADER, &v));
        if (s->nm == s->cap_m) {
            size_t nc = s->cap_m ? 2 * s->cap_m : 8;
            st_meta *p = tl_realloc(s->meta, nc * sizeof *p);
            TL_CHECK(p, TL_ERR_NOMEM, "safetensors: out of memory");
            s->meta = p;
            s->cap_m = nc;
        }
        s->meta[s->nm].key = k;
        s->meta[s->nm].val = v;
        s->nm++;
        k = v = NULL;
        if (js_peek(j, ',')) {
            j->pos++;
            continue;
        }
        TL_TRY(js_expect(j, '}'));
        break;
    }
done:
    tl_free(k);
    tl_free(v);
    return st;
}

static tl_status parse_tensor(js *j, st_tensor *t) {
    tl_status st = TL_OK;
    char *key = NULL, *dt = NULL;
    bool have_dtype = false, have_shape = false, have_off = false;
    TL_TRY(js_expect(j, '{'));
    for (;;) {
        TL_TRY(js_string(j, 64, &key));
        TL_TRY(js_expect(j, ':'));
        if (strcmp(key, "dtype") == 0 && !have_dtype) {
            TL_TRY(js_string(j, 16, &dt));
            t->esize = dtype_bytes(dt);
            if (!t->esize) {
                st = JS_FAIL(j, "unknown dtype");
                goto done;
            }
            strcpy(t->dtype, dt);
            have_dtype = true;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            TL_TRY(js_uint_array(j, t->dims, ST_MAX_DIMS, &t->ndim));
            have_shape = true;
        } else if (strcmp(key, "data_offsets") == 0 && !have_off) {
            size_t v[2], n;
            TL_TRY(js_uint_array(j, v, 2, &n));
            if (n != 2) {
                st = JS_FAIL(j, "data_offsets needs two numbers");
                goto done;
            }
            t->begin = v[0];
            t->end = v[1];
            have_off = true;
        } else {
            st = JS_FAIL(j, "unknown or repeated field in a tensor entry");
            goto done;
        }
        tl_free(key);
        key = NULL;
        if (js_peek(j, ',')) {
            j->pos++;
            continue;
        }
        TL_TRY(js_expect(j, '}'));
        break;
    }
    if (!have_dtype || !have_shape || !have_off) {
        st = JS_FAIL(j, "a tensor entry needs dtype, shape and data_offsets");
        goto done;
    }
done:
    tl_free(key);
    tl_free(dt);
    return st;
}

static int cmp_begin(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

tl_status tl_safetensors_parse(const unsigned char *buf, size_t len, const char *name,
                               tl_safetensors **out) {
    tl_status st = TL_OK;
    tl_safetensors *s = NULL;
    char *key = NULL;
    const st_tensor **order = NULL;
    const char *file = name ? name : "safetensors";
    TL_CHECK(out && (buf || len == 0), TL_ERR_INVALID_ARG, "safetensors_parse: NULL argument");
    *out = NULL;
    TL_CHECK(len >= 8, TL_ERR_FORMAT, "%s: truncated (%zu bytes; a safetensors file starts with an "
             "8-byte header length)", file, len);
    uint64_t hl = 0;
    for (int k = 7; k >= 0; k--) hl = (hl << 8) | buf[k];
    TL_CHECK(hl >= 2 && hl <= ST_MAX_HEADER, TL_ERR_FORMAT,
             "%s: header length %llu is not in 2..%zu (not a safetensors file?)", file,
             (unsigned long long)hl, ST_MAX_HEADER);
    TL_CHECK(hl <= len - 8, TL_ERR_FORMAT, "%s: truncated: the header claims %llu bytes, %zu remain",
             file, (unsigned long long)hl, len - 8);
    TL_CALLOC(s, 1);
    js j = {(const char *)buf + 8, 0, (size_t)hl, file};
    TL_TRY(js_expect(&j, '{'));
    if (!js_peek(&j, '}')) {
        for (;;) {
            TL_TRY(js_string(&j, ST_MAX_NAME, &key));
            TL_TRY(js_expect(&j, ':'));
            if (strcmp(key, "__metadata__") == 0) {
                TL_CHECK(s->nm == 0, TL_ERR_FORMAT, "%s: __metadata__ appears twice", file);
                TL_TRY(parse_meta(&j, s));
                tl_free(key);
            } else {
                TL_CHECK(key[0], TL_ERR_FORMAT, "%s: a tensor has an empty name", file);
                for (size_t i = 0; i < s->nt; i++)
                    TL_CHECK(strcmp(s->t[i].name, key) != 0, TL_ERR_FORMAT,
                             "%s: tensor '%s' appears twice", file, key);
                TL_CHECK(s->nt < ST_MAX_TENSORS, TL_ERR_FORMAT, "%s: too many tensors", file);
                if (s->nt == s->cap) {
                    size_t nc = s->cap ? 2 * s->cap : 16;
                    st_tensor *p = tl_realloc(s->t, nc * sizeof *p);
                    TL_CHECK(p, TL_ERR_NOMEM, "safetensors: out of memory");
                    s->t = p;
                    s->cap = nc;
                }
                st_tensor *t = &s->t[s->nt];
                memset(t, 0, sizeof *t);
                st = parse_tensor(&j, t);
                if (st != TL_OK) {
                    tl_fail_prefix(st, "tensor '%s'", key);
                    goto done;
                }
                t->name = key;
                s->nt++;
            }
            key = NULL;
            if (js_peek(&j, ',')) {
                j.pos++;
                continue;
            }
            break;
        }
    }
    TL_TRY(js_expect(&j, '}'));
    js_ws(&j);
    TL_CHECK(j.pos == j.len, TL_ERR_FORMAT, "%s: safetensors header, byte %zu: trailing bytes after "
             "the header object", file, j.pos + 8);
    /* byte ranges: size = dtype x shape, tiling [0, data_len) exactly */
    const size_t dlen = len - 8 - (size_t)hl;
    for (size_t i = 0; i < s->nt; i++) {
        st_tensor *t = &s->t[i];
        size_t bytes = t->esize;
        for (size_t k = 0; k < t->ndim; k++)
            TL_CHECK(tl_size_mul(bytes, t->dims[k], &bytes) == 0, TL_ERR_FORMAT,
                     "%s: tensor '%s': shape overflows", file, t->name);
        TL_CHECK(t->begin <= t->end && t->end <= dlen, TL_ERR_FORMAT,
                 "%s: tensor '%s': data_offsets [%zu, %zu] outside the %zu data bytes (truncated?)",
                 file, t->name, t->begin, t->end, dlen);
        TL_CHECK(t->end - t->begin == bytes, TL_ERR_FORMAT,
                 "%s: tensor '%s': %zu bytes of data for %s x %zu elements (%zu bytes)", file,
                 t->name, t->end - t->begin, t->dtype, bytes / t->esize, bytes);
    }
    if (s->nt) {
        TL_ALLOC(order, s->nt);
        for (size_t i = 0; i < s->nt; i++) order[i] = &s->t[i];
        qsort(order, s->nt, sizeof *order, cmp_begin);
    }
    size_t at = 0;
    for (size_t i = 0; i < s->nt; i++) {
        TL_CHECK(order[i]->begin == at, TL_ERR_FORMAT,
                 "%s: tensor '%s' starts at data byte %zu, expected %zu (overlapping or a hole)",
                 file, order[i]->name, order[i]->begin, at);
        at = order[i]->end;
    }
    TL_CHECK(at == dlen, TL_ERR_FORMAT, "%s: %zu bytes after the last tensor's data", file, dlen - at);
    if (dlen) {
        TL_ALLOC(s->data, dlen);
        memcpy(s->data, buf + 8 + hl, dlen);
    }
    s->data_len = dlen;
    *out = s;
    s = NULL;
done:
    tl_free(key);
    tl_free(order);
    tl_safetensors_free(s);
    return st;
}

tl_status tl_safetensors_load(const char *path, tl_safetensors **out) {
    tl_status st = TL_OK;
    unsigned char *buf = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "safetensors_load: NULL argument");
    *out = NULL;
    size_t n = 0;
    TL_TRY(tli_file_read_all(path, &buf, &n)); /* a folder refused by name (internal/file.h) */
    TL_TRY(tl_safetensors_parse(buf, n, path, out));
done:
    tl_free(buf);
    return st;
}

size_t tl_safetensors_count(const tl_safetensors *s) { return s ? s->nt : 0; }

void tl_safetensors_info(const tl_safetensors *s, size_t i, const char **name, const char **dtype,
                         size_t *ndim, const size_t **dims) {
    const st_tensor *t = &s->t[i];
    if (name) *name = t->name;
    if (dtype) *dtype = t->dtype;
    if (ndim) *ndim = t->ndim;
    if (dims) *dims = t->dims;
}

const char *tl_safetensors_meta(const tl_safetensors *s, const char *key) {
    for (size_t i = 0; s && key && i < s->nm; i++)
        if (strcmp(s->meta[i].key, key) == 0) return s->meta[i].val;
    return NULL;
}

static float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 0x400), (int)e - 25);
    return sign ? -v : v;
}

tl_status tl_safetensors_get_f32(const tl_safetensors *s, size_t i, float *out) {
    if (!s || i >= s->nt || !out) return tl_fail(TL_ERR_INVALID_ARG, "safetensors_get_f32: bad argument");
    const st_tensor *t = &s->t[i];
    const unsigned char *p = s->data + t->begin;
    const size_t n = (t->end - t->begin) / t->esize;
    if (strcmp(t->dtype, "F32") == 0) {
        for (size_t k = 0; k < n; k++) {
            uint32_t u = (uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 |
                         (uint32_t)p[4 * k + 2] << 16 | (uint32_t)p[4 * k + 3] << 24;
            memcpy(&out[k], &u, 4);
        }
    } else if (strcmp(t->dtype, "F64") == 0) {
        for (size_t k = 0; k < n; k++) {
            uint64_t u = 0;
            for (int b = 7; b >= 0; b--) u = (u << 8) | p[8 * k + (size_t)b];
            double d;
            memcpy(&d, &u, 8);
            out[k] = (float)d;
        }
    } else if (strcmp(t->dtype, "F16") == 0) {
        for (size_t k = 0; k < n; k++) out[k] = half_to_float((uint16_t)(p[2 * k] | p[2 * k + 1] << 8));
    } else if (strcmp(t->dtype, "BF16") == 0) {
        for (size_t k = 0; k < n; k++) {
            uint32_t u = (uint32_t)(p[2 * k] | p[2 * k + 1] << 8) << 16;
            memcpy(&out[k], &u, 4);
        }
    } else {
        return tl_fail(TL_ERR_UNSUPPORTED, "tensor '%s' has dtype %s; only F32, F64, F16 and BF16 "
                       "convert to float32", t->name, t->dtype);
    }
    return TL_OK;
}
