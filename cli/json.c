/* A minimal JSON writer for `--json` output. The object is built in memory and printed in one
 * write at the end, so an error midway never leaves half an object on stdout. Non-finite numbers
 * are written as null (JSON has no NaN). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void put(cli_json *j, const char *s, size_t n) {
    if (j->oom) return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 1024;
        while (cap < j->len + n + 1) cap *= 2;
        char *b = realloc(j->buf, cap);
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

static void puts_(cli_json *j, const char *s) { put(j, s, strlen(s)); }

static void putf(cli_json *j, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(j, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_string(cli_json *j, const char *s) {
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

static void sep(cli_json *j) {
    if (j->need_comma) puts_(j, ", ");
    j->need_comma = true;
}

void cli_json_begin(cli_json *j) {
    memset(j, 0, sizeof *j);
    puts_(j, "{");
    j->depth = 1;
}

void cli_json_key(cli_json *j, const char *key) {
    sep(j);
    if (key) {
        put_string(j, key);
        puts_(j, ": ");
    }
}

static void put_num(cli_json *j, double v) {
    if (isfinite(v))
        putf(j, "%.10g", v);
    else
        puts_(j, "null");
}

void cli_json_str(cli_json *j, const char *key, const char *v) {
    cli_json_key(j, key);
    if (v)
        put_string(j, v);
    else
        puts_(j, "null");
}
void cli_json_num(cli_json *j, const char *key, double v) {
    cli_json_key(j, key);
    put_num(j, v);
}
void cli_json_int(cli_json *j, const char *key, long long v) {
    cli_json_key(j, key);
    putf(j, "%lld", v);
}
void cli_json_bool(cli_json *j, const char *key, bool v) {
    cli_json_key(j, key);
    puts_(j, v ? "true" : "false");
}
void cli_json_obj_begin(cli_json *j, const char *key) {
    cli_json_key(j, key);
    puts_(j, "{");
    j->need_comma = false;
    j->depth++;
}
void cli_json_obj_end(cli_json *j) {
    puts_(j, "}");
    j->need_comma = true;
    j->depth--;
}
void cli_json_arr_begin(cli_json *j, const char *key) {
    cli_json_key(j, key);
    puts_(j, "[");
    j->need_comma = false;
    j->depth++;
}
void cli_json_arr_end(cli_json *j) {
    puts_(j, "]");
    j->need_comma = true;
    j->depth--;
}
void cli_json_arr_num(cli_json *j, double v) {
    sep(j);
    put_num(j, v);
}
void cli_json_arr_int(cli_json *j, long long v) {
    sep(j);
    putf(j, "%lld", v);
}

int cli_json_finish(cli_json *j) {
    puts_(j, "}");
    int rc = 0;
    if (j->oom) {
        fprintf(stderr, "tl %s: out of memory writing JSON\n", cli_cmd_name);
        rc = 1;
    } else {
        fputs(j->buf, stdout);
        fputc('\n', stdout);
        if (fflush(stdout) != 0) rc = 1;
    }
    cli_json_discard(j);
    return rc;
}

void cli_json_discard(cli_json *j) {
    free(j->buf);
    memset(j, 0, sizeof *j);
}
