/* Parameter values of a method (tl_params, tl/method.h), driven entirely by the method's
 * descriptors: defaults, parsing from text, range and choice checks with messages that name the
 * method, the parameter, the value and what is accepted, canonical text for saved models and
 * reports, and typed reads for the method files.
 *
 * Why values are kept as canonical text plus a number: the text is what a model file's metadata
 * and a report carry (and what reads back to the same value), the number is what the method
 * reads; both come from one parse, so a value given as "1e-3" and one given as 0.001 are the same
 * parameter everywhere. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal/numtext.h"
#include "method_internal.h"

#define TLX_VALUE_CAP 64

typedef struct {
    char text[TLX_VALUE_CAP];
    double num;
    bool set;
} tlx_value;

struct tl_params {
    const tl_method *m;
    tlx_value *v; /* (m->nparams) */
};

const char *tl_param_type_name(tl_param_type t) {
    static const char *const names[] = {"int", "real", "bool", "choice", "text"};
    return (int)t >= 0 && (size_t)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static long param_index(const tl_method *m, const char *name) {
    if (!m || !name) return -1;
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0) return (long)i;
    return -1;
}

/* Index of `word` among the comma-separated choices (case-insensitive), or -1. */
static long choice_index(const char *choices, const char *word) {
    size_t wl = strlen(word);
    long k = 0;
    for (const char *s = choices; s && *s; k++) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == wl && strncasecmp(s, word, n) == 0) return k;
        if (!e) break;
        s = e + 1;
    }
    return -1;
}

/* The k-th choice into buf. */
static void choice_at(const char *choices, long k, char *buf, size_t cap) {
    const char *s = choices;
    for (long i = 0; i < k && s; i++) {
        s = strchr(s, ',');
        if (s) s++;
    }
    size_t n = 0;
    if (s) {
        const char *e = strchr(s, ',');
        n = e ? (size_t)(e - s) : strlen(s);
    }
    if (n >= cap) n = cap - 1;
    memcpy(buf, s ? s : "", n);
    buf[n] = '\0';
}

/* A decimal number, strictly and whatever the locale (internal/numtext.h): false for anything
 * else, and for a value that overflows. */
static bool parse_number(const char *text, double *x) {
    size_t n = strlen(text);
    return tl_text_is_number(text, n) && tl_text_to_double(text, n, x);
}

static tl_status parse_value(const tl_method *m, const tl_param_desc *d, const char *text,
                             tlx_value *out) {
    const char *mn = m->name;
    double x;
    /* a number-valued parameter may also take words ("auto"): the word is its text, 0 its number
       (such a parameter's range leaves 0 out, so 0 means the word) */
    if ((d->type == TL_PARAM_INT || d->type == TL_PARAM_REAL) && d->choices) {
        long k = choice_index(d->choices, text);
        if (k >= 0) {
            out->num = 0;
            choice_at(d->choices, k, out->text, sizeof out->text);
            return TL_OK;
        }
    }
    switch (d->type) {
    case TL_PARAM_INT: {
        if (!parse_number(text, &x) || x != floor(x) || x < d->lo || x > d->hi)
            return tl_fail(TL_ERR_INVALID_ARG,
                           "%s: %s = '%s' is not an integer in [%.17g, %.17g]%s%s", mn, d->name,
                           text, d->lo, d->hi, d->choices ? " or " : "",
                           d->choices ? d->choices : "");
        out->num = x;
        snprintf(out->text, sizeof out->text, "%.0f", x);
        return TL_OK;
    }
    case TL_PARAM_REAL: {
        if (!parse_number(text, &x) || x < d->lo || x > d->hi)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: %s = '%s' is not a number in [%g, %g]%s%s", mn,
                           d->name, text, d->lo, d->hi, d->choices ? " or " : "",
                           d->choices ? d->choices : "");
        out->num = x;
        tl_text_format_double(x, out->text, sizeof out->text);
        return TL_OK;
    }
    case TL_PARAM_BOOL: {
        static const char *const yes[] = {"true", "1", "yes", "on"};
        static const char *const no[] = {"false", "0", "no", "off"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0) {
                out->num = 1;
                snprintf(out->text, sizeof out->text, "true");
                return TL_OK;
            }
            if (strcasecmp(text, no[i]) == 0) {
                out->num = 0;
                snprintf(out->text, sizeof out->text, "false");
                return TL_OK;
            }
        }
        return tl_fail(TL_ERR_INVALID_ARG, "%s: %s = '%s' is not true or false", mn, d->name,
                       text);
    }
    case TL_PARAM_CHOICE: {
        long k = choice_index(d->choices, text);
        if (k < 0) {
            char list[256];
            size_t n = 0;
            for (const char *c = d->choices; *c && n + 3 < sizeof list; c++) {
                list[n++] = *c;
                if (*c == ',') list[n++] = ' ';
            }
            list[n] = '\0';
            return tl_fail(TL_ERR_INVALID_ARG, "%s: %s = '%s' is not one of %s", mn, d->name, text,
                           list);
        }
        out->num = (double)k;
        choice_at(d->choices, k, out->text, sizeof out->text);
        return TL_OK;
    }
    case TL_PARAM_TEXT: {
        size_t n = strlen(text);
        if (n >= sizeof out->text)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: %s = '%.20s...' is longer than %zu bytes", mn,
                           d->name, text, sizeof out->text - 1);
        memcpy(out->text, text, n + 1);
        out->num = NAN;
        return TL_OK;
    }
    }
    return tl_fail(TL_ERR_INVALID_ARG, "%s: parameter %s has an unknown type", mn, d->name);
}

tl_status tl_params_create(const tl_method *m, tl_params **out) {
    tl_status st = TL_OK;
    tl_params *p = NULL;
    TL_CHECK(m && out, TL_ERR_INVALID_ARG, "params_create: NULL method or output");
    *out = NULL;
    TL_CALLOC(p, 1);
    p->m = m;
    if (m->nparams) TL_CALLOC(p->v, m->nparams);
    for (size_t i = 0; i < m->nparams; i++) {
        st = parse_value(m, &m->params[i], m->params[i].def, &p->v[i]);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "internal: the default of %s.%s", m->name, m->params[i].name);
            goto done;
        }
    }
    *out = p;
    p = NULL;
done:
    tl_params_free(p);
    return st;
}

tl_status tl_params_clone(const tl_params *src, tl_params **out) {
    tl_status st = TL_OK;
    TL_CHECK(src && out, TL_ERR_INVALID_ARG, "params_clone: NULL argument");
    TL_TRY(tl_params_create(src->m, out));
    if (src->m->nparams) memcpy((*out)->v, src->v, src->m->nparams * sizeof *src->v);
done:
    return st;
}

void tl_params_free(tl_params *p) {
    if (!p) return;
    tl_free(p->v);
    tl_free(p);
}

const tl_method *tl_params_method(const tl_params *p) { return p ? p->m : NULL; }

static tl_status unknown_param(const tl_method *m, const char *name) {
    char list[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < m->nparams && len + 1 < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                m->params[i].name);
    if (len >= sizeof list) len = sizeof list - 1;
    return tl_fail(TL_ERR_INVALID_ARG, "%s has no parameter '%s' (%s%s)", m->name, name,
                   m->nparams ? "its parameters: " : "it takes none", list);
}

tl_status tl_params_set(tl_params *p, const char *name, const char *value) {
    if (!p || !name || !value) return tl_fail(TL_ERR_INVALID_ARG, "params_set: NULL argument");
    long i = param_index(p->m, name);
    if (i < 0) return unknown_param(p->m, name);
    tlx_value v;
    tl_status st = parse_value(p->m, &p->m->params[i], value, &v);
    if (st != TL_OK) return st;
    v.set = true;
    p->v[i] = v;
    return TL_OK;
}

tl_status tl_params_set_num(tl_params *p, const char *name, double value) {
    if (!p || !name) return tl_fail(TL_ERR_INVALID_ARG, "params_set_num: NULL argument");
    long i = param_index(p->m, name);
    if (i < 0) return unknown_param(p->m, name);
    const tl_param_desc *d = &p->m->params[i];
    char buf[TLX_VALUE_CAP];
    if (d->type == TL_PARAM_CHOICE) {
        if (!(value >= 0 && value == floor(value) && value < 1e6))
            return tl_fail(TL_ERR_INVALID_ARG, "%s: %s = %g is not an index of %s", p->m->name,
                           name, value, d->choices);
        choice_at(d->choices, (long)value, buf, sizeof buf);
        if (!buf[0])
            return tl_fail(TL_ERR_INVALID_ARG, "%s: %s = %g is not an index of %s", p->m->name,
                           name, value, d->choices);
    } else if (d->type == TL_PARAM_BOOL) {
        snprintf(buf, sizeof buf, "%s", value != 0 ? "true" : "false");
    } else if (d->choices && value == 0 && !(d->lo <= 0 && 0 <= d->hi)) {
        choice_at(d->choices, 0, buf, sizeof buf); /* 0: the parameter's word ("auto") */
    } else {
        tl_text_format_double(value, buf, sizeof buf);
    }
    return tl_params_set(p, name, buf);
}

const char *tl_params_get(const tl_params *p, const char *name) {
    long i = p ? param_index(p->m, name) : -1;
    return i < 0 ? NULL : p->v[i].text;
}

double tl_params_num(const tl_params *p, const char *name) {
    long i = p ? param_index(p->m, name) : -1;
    return i < 0 ? NAN : p->v[i].num;
}

bool tl_params_is_set(const tl_params *p, const char *name) {
    long i = p ? param_index(p->m, name) : -1;
    return i >= 0 && p->v[i].set;
}

tl_status tl_params_check(const tl_params *p, size_t n_features, size_t n_samples) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "params_check: NULL parameters");
    return p->m->ops->check ? p->m->ops->check(p, n_features, n_samples) : TL_OK;
}

/* ---- typed reads for the method files: the name comes from the method's own descriptors ---- */

double tlx_num(const tl_params *p, const char *name) { return tl_params_num(p, name); }
long tlx_int(const tl_params *p, const char *name) { return (long)tl_params_num(p, name); }
bool tlx_bool(const tl_params *p, const char *name) { return tl_params_num(p, name) != 0; }
bool tlx_is_set(const tl_params *p, const char *name) {
    long i = p ? param_index(p->m, name) : -1;
    return i >= 0 && p->v[i].set;
}
const char *tlx_str(const tl_params *p, const char *name) {
    const char *s = tl_params_get(p, name);
    return s ? s : "";
}
