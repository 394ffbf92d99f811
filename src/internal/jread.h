/* A small JSON reader (RFC 8259) for the documents libtl writes itself and reads back: the
 * reports `tl report` renders. A tree of values built in one pass; every syntax error is
 * TL_ERR_FORMAT naming the line and column, and nesting deeper than 64 is refused so a hostile
 * file cannot exhaust the stack. Private: the public interface is what reads it (tl_report_html). */
#ifndef TL_INTERNAL_JREAD_H
#define TL_INTERNAL_JREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"

typedef enum { TLX_JNULL, TLX_JBOOL, TLX_JNUM, TLX_JSTR, TLX_JARR, TLX_JOBJ } tlx_jtype;

typedef struct tlx_jval tlx_jval;
struct tlx_jval {
    tlx_jtype type;
    bool b;           /* TLX_JBOOL */
    double num;       /* TLX_JNUM */
    char *str;        /* TLX_JSTR: UTF-8, NUL-terminated (an embedded \u0000 is refused) */
    size_t n;         /* TLX_JARR / TLX_JOBJ: item count */
    char **keys;      /* TLX_JOBJ: (n) keys */
    tlx_jval **items; /* (n) values */
};

/* Parses text (len bytes; one value and nothing but whitespace after it). */
tl_status tlx_json_parse(const char *text, size_t len, tlx_jval **out);
void tlx_json_free(tlx_jval *v); /* NULL-safe */
/* The member `key` of an object (the last of equal keys), NULL when absent or v is no object. */
const tlx_jval *tlx_json_get(const tlx_jval *v, const char *key);
/* Typed look-ups: the number (NaN when absent, null or not a number), the string (NULL), the
 * boolean (-1 when absent or not a boolean). */
double tlx_json_num(const tlx_jval *v, const char *key);
const char *tlx_json_str(const tlx_jval *v, const char *key);
int tlx_json_bool(const tlx_jval *v, const char *key);

#endif
