/* The JSON reader of src/internal/jread.h: recursive descent over the text with a line/column
 * position for messages, depth-limited; strings unescaped to UTF-8 (surrogate pairs joined);
 * numbers by strtod after the grammar is checked, so "01", "1." and "+1" are refused as JSON
 * refuses them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "internal/jread.h"

#define JREAD_MAX_DEPTH 64

typedef struct {
    const char *s, *end;
    const char *line_start;
    size_t line;
} jp;

static tl_status jerr(const jp *p, const char *what) {
    return tl_fail(TL_ERR_FORMAT, "JSON line %zu, column %zu: %s", p->line,
                   (size_t)(p->s - p->line_start) + 1, what);
}

static void ws(jp *p) {
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')) {
        if (*p->s == '\n') p->line++, p->line_start = p->s + 1;
        p->s++;
    }
}

void tlx_json_free(tlx_jval *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys) tl_free(v->keys[i]);
        tlx_json_free(v->items[i]);
    }
    tl_free(v->keys);
    tl_free(v->items);
    tl_free(v->str);
    tl_free(v);
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* p->s at the opening quote; *out a tl_malloc'd string. */
static tl_status parse_string(jp *p, char **out) {
    tl_status st = TL_OK;
    const char *q = ++p->s;
    while (q < p->end && *q != '"') q += (*q == '\\' && q + 1 < p->end) ? 2 : 1;
    if (q >= p->end) return jerr(p, "unterminated string");
    char *o = NULL; /* unescaped text is never longer than the escaped text */
    TL_ALLOC(o, (size_t)(q - p->s) + 1);
    size_t k = 0;
    while (p->s < q) {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20) {
            st = jerr(p, "control character in a string");
            goto done;
        }
        if (c != '\\') {
            o[k++] = (char)c, p->s++;
            continue;
        }
        char e = p->s[1];
        const char *map = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", e);
        if (e && map && (map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2 == 0) {
            o[k++] = map[1], p->s += 2;
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || q - p->s < 6 || hex4(p->s + 2, &cp) < 0) {
            st = jerr(p, "bad escape in a string");
            goto done;
        }
        p->s += 6;
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (q - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u' || hex4(p->s + 2, &lo) < 0 ||
                lo < 0xDC00 || lo > 0xDFFF) {
                st = jerr(p, "unpaired UTF-16 surrogate in a string");
                goto done;
            }
            p->s += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
            st = jerr(p, cp ? "unpaired UTF-16 surrogate in a string" : "\\u0000 in a string");
            goto done;
        }
        k += put_utf8(o + k, cp);
    }
    o[k] = '\0';
    p->s = q + 1;
    *out = o;
    o = NULL;
done:
    tl_free(o);
    return st;
}

static tl_status parse_number(jp *p, double *out) {
    const char *s = p->s;
    if (s < p->end && *s == '-') s++;
    if (s >= p->end || *s < '0' || *s > '9') return jerr(p, "expected a value");
    if (*s == '0') s++;
    else
        while (s < p->end && *s >= '0' && *s <= '9') s++;
    if (s < p->end && *s == '.') {
        if (++s >= p->end || *s < '0' || *s > '9') return jerr(p, "bad number");
        while (s < p->end && *s >= '0' && *s <= '9') s++;
    }
    if (s < p->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < p->end && (*s == '+' || *s == '-')) s++;
        if (s >= p->end || *s < '0' || *s > '9') return jerr(p, "bad number");
        while (s < p->end && *s >= '0' && *s <= '9') s++;
    }
    char buf[64];
    size_t n = (size_t)(s - p->s);
    if (n >= sizeof buf) return jerr(p, "number too long");
    memcpy(buf, p->s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    p->s = s;
    return TL_OK;
}

static tl_status parse_value(jp *p, int depth, tlx_jval **out);

/* Appends (key, item) to a container (geometric growth). */
static tl_status push(tlx_jval *v, size_t *cap, char *key, tlx_jval *item) {
    tl_status st = TL_OK;
    if (v->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        tlx_jval **ni = tl_realloc(v->items, nc * sizeof *ni);
        TL_CHECK(ni, TL_ERR_NOMEM, "out of memory reading JSON");
        v->items = ni;
        if (v->type == TLX_JOBJ) {
            char **nk = tl_realloc(v->keys, nc * sizeof *nk);
            TL_CHECK(nk, TL_ERR_NOMEM, "out of memory reading JSON");
            v->keys = nk;
        }
        *cap = nc;
    }
    if (v->keys) v->keys[v->n] = key;
    v->items[v->n++] = item;
    return TL_OK;
done:
    tl_free(key);
    tlx_json_free(item);
    return st;
}

static tl_status parse_container(jp *p, int depth, tlx_jval *v) {
    tl_status st = TL_OK;
    char close = v->type == TLX_JOBJ ? '}' : ']';
    size_t cap = 0;
    p->s++;
    ws(p);
    if (p->s < p->end && *p->s == close) return p->s++, TL_OK;
    for (;;) {
        char *key = NULL;
        tlx_jval *item = NULL;
        ws(p);
        if (v->type == TLX_JOBJ) {
            if (p->s >= p->end || *p->s != '"') return jerr(p, "expected a key in quotes");
            TL_TRY(parse_string(p, &key));
            ws(p);
            if (p->s >= p->end || *p->s != ':') {
                tl_free(key);
                return jerr(p, "expected ':' after a key");
            }
            p->s++;
        }
        st = parse_value(p, depth + 1, &item);
        if (st != TL_OK) {
            tl_free(key);
            return st;
        }
        TL_TRY(push(v, &cap, key, item));
        ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) return p->s++, TL_OK;
        return jerr(p, v->type == TLX_JOBJ ? "expected ',' or '}'" : "expected ',' or ']'");
    }
done:
    return st;
}

static tl_status parse_value(jp *p, int depth, tlx_jval **out) {
    tl_status st = TL_OK;
    tlx_jval *v = NULL;
    *out = NULL;
    if (depth > JREAD_MAX_DEPTH) return jerr(p, "nested deeper than 64");
    ws(p);
    if (p->s >= p->end) return jerr(p, "unexpected end of text");
    TL_CALLOC(v, 1);
    char c = *p->s;
    size_t left = (size_t)(p->end - p->s);
    if (c == '{' || c == '[') {
        v->type = c == '{' ? TLX_JOBJ : TLX_JARR;
        TL_TRY(parse_container(p, depth, v));
    } else if (c == '"') {
        v->type = TLX_JSTR;
        TL_TRY(parse_string(p, &v->str));
    } else if (left >= 4 && memcmp(p->s, "null", 4) == 0) {
        v->type = TLX_JNULL, p->s += 4;
    } else if (left >= 4 && memcmp(p->s, "true", 4) == 0) {
        v->type = TLX_JBOOL, v->b = true, p->s += 4;
    } else if (left >= 5 && memcmp(p->s, "false", 5) == 0) {
        v->type = TLX_JBOOL, p->s += 5;
    } else {
        v->type = TLX_JNUM;
        TL_TRY(parse_number(p, &v->num));
    }
    *out = v;
    v = NULL;
done:
    tlx_json_free(v);
    return st;
}

tl_status tlx_json_parse(const char *text, size_t len, tlx_jval **out) {
    if (!text || !out) return tl_fail(TL_ERR_INVALID_ARG, "json_parse: NULL text or output");
    *out = NULL;
    jp p = {text, text + len, text, 1};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.s += 3, p.line_start = p.s;
    tlx_jval *v;
    tl_status st = parse_value(&p, 0, &v);
    if (st != TL_OK) return st;
    ws(&p);
    if (p.s != p.end) {
        tlx_json_free(v);
        return jerr(&p, "text after the value");
    }
    *out = v;
    return TL_OK;
}

const tlx_jval *tlx_json_get(const tlx_jval *v, const char *key) {
    if (!v || v->type != TLX_JOBJ) return NULL;
    for (size_t i = v->n; i-- > 0;)
        if (strcmp(v->keys[i], key) == 0) return v->items[i];
    return NULL;
}

double tlx_json_num(const tlx_jval *v, const char *key) {
    const tlx_jval *x = tlx_json_get(v, key);
    return x && x->type == TLX_JNUM ? x->num : NAN;
}

const char *tlx_json_str(const tlx_jval *v, const char *key) {
    const tlx_jval *x = tlx_json_get(v, key);
    return x && x->type == TLX_JSTR ? x->str : NULL;
}

int tlx_json_bool(const tlx_jval *v, const char *key) {
    const tlx_jval *x = tlx_json_get(v, key);
    return x && x->type == TLX_JBOOL ? x->b : -1;
}
