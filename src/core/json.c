/* The JSON text builder of tl/json.h: one growing buffer (through tl_realloc, so the tests' OOM
 * injection reaches it), strings escaped per RFC 8259, non-finite numbers written as null. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tl/json.h"

static void put(tl_json *j, const char *s, size_t n) {
    if (j->oom) return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 1024;
        while (cap < j->len + n + 1) cap *= 2;
        char *b = tl_realloc(j->buf, cap);
        if (!b) {
            j->oom = true;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(tl_json *j, const char *s) { put(j, s, strlen(s)); }

static void putf(tl_json *j, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(j, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_string(tl_json *j, const char *s) {
    puts_(j, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(j, e, 2);
        } else if (*p < 0x20) {
            putf(j, "\\u%04x", *p);
        } else {
            put(j, (const char *)p, 1);
        }
    }
    puts_(j, "\"");
}

static void sep(tl_json *j) {
    if (j->need_comma) puts_(j, ", ");
    j->need_comma = true;
}

static void put_num(tl_json *j, double v) {
    if (isfinite(v))
        putf(j, "%.10g", v);
    else
        puts_(j, "null");
}

void tl_json_begin(tl_json *j) {
    memset(j, 0, sizeof *j);
    puts_(j, "{");
    j->depth = 1;
}

void tl_json_key(tl_json *j, const char *key) {
    sep(j);
    if (key) {
        put_string(j, key);
        puts_(j, ": ");
    }
}

void tl_json_str(tl_json *j, const char *key, const char *v) {
    tl_json_key(j, key);
    if (v)
        put_string(j, v);
    else
        puts_(j, "null");
}
void tl_json_num(tl_json *j, const char *key, double v) {
    tl_json_key(j, key);
    put_num(j, v);
}
void tl_json_int(tl_json *j, const char *key, long long v) {
    tl_json_key(j, key);
    putf(j, "%lld", v);
}
void tl_json_bool(tl_json *j, const char *key, bool v) {
    tl_json_key(j, key);
    puts_(j, v ? "true" : "false");
}
void tl_json_null(tl_json *j, const char *key) {
    tl_json_key(j, key);
    puts_(j, "null");
}
void tl_json_obj_begin(tl_json *j, const char *key) {
    tl_json_key(j, key);
    puts_(j, "{");
    j->need_comma = false;
    j->depth++;
}
void tl_json_obj_end(tl_json *j) {
    puts_(j, "}");
    j->need_comma = true;
    j->depth--;
}
void tl_json_arr_begin(tl_json *j, const char *key) {
    tl_json_key(j, key);
    puts_(j, "[");
    j->need_comma = false;
    j->depth++;
}
void tl_json_arr_end(tl_json *j) {
    puts_(j, "]");
    j->need_comma = true;
    j->depth--;
}
void tl_json_arr_num(tl_json *j, double v) {
    sep(j);
    put_num(j, v);
}
void tl_json_arr_int(tl_json *j, long long v) {
    sep(j);
    putf(j, "%lld", v);
}
void tl_json_arr_str(tl_json *j, const char *v) {
    sep(j);
    put_string(j, v);
}

tl_status tl_json_end(tl_json *j, char **out) {
    puts_(j, "}");
    *out = NULL;
    if (j->oom) {
        tl_json_discard(j);
        return TL_ERR_NOMEM;
    }
    *out = j->buf;
    memset(j, 0, sizeof *j);
    return TL_OK;
}

void tl_json_discard(tl_json *j) {
    tl_free(j->buf);
    memset(j, 0, sizeof *j);
}
