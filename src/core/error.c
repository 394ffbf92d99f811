/* Status names and the thread-local error detail. A thread-local buffer (like dlerror) keeps the
 * API free of error out-parameters while staying safe when several threads call libtl. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/check.h"

#define TL_ERRMSG_CAP 1024
static _Thread_local char tl_errmsg[TL_ERRMSG_CAP];

const char *tl_status_name(tl_status s) {
    switch (s) {
    case TL_OK: return "ok";
    case TL_ERR_NOMEM: return "out of memory";
    case TL_ERR_INVALID_ARG: return "invalid argument";
    case TL_ERR_IO: return "i/o error";
    case TL_ERR_FORMAT: return "bad format";
    case TL_ERR_SHAPE: return "shape mismatch";
    case TL_ERR_NONFINITE: return "non-finite value";
    case TL_ERR_NOT_FOUND: return "not found";
    case TL_ERR_LINALG: return "linear algebra failure";
    case TL_ERR_UNSUPPORTED: return "unsupported";
    case TL_ERR_LABEL: return "bad labels";
    case TL_ERR_EMPTY: return "empty data";
    case TL_ERR_STATE: return "wrong state";
    case TL_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

const char *tl_error_message(void) { return tl_errmsg; }

void tl_error_clear(void) { tl_errmsg[0] = '\0'; }

tl_status tl_fail(tl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_errmsg, sizeof tl_errmsg, fmt, ap);
    va_end(ap);
    return s;
}

tl_status tl_fail_prefix(tl_status s, const char *fmt, ...) {
    char prefix[256], old[TL_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, tl_errmsg, sizeof old);
    if (old[0])
        snprintf(tl_errmsg, sizeof tl_errmsg, "%.255s: %.760s", prefix, old);
    else
        snprintf(tl_errmsg, sizeof tl_errmsg, "%.255s: %.60s", prefix, tl_status_name(s));
    return s;
}
