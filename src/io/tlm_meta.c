/* Numbers in .tlm metadata, written and read in one place for every model that stores them
 * (tl/io.h): reals as the shortest text that reads back to the same double, in the "C" locale
 * whatever the process's (internal/numtext.h); counts as decimal integers, so a 64-bit seed
 * survives. A model file is user input, so the readers are strict and every error names the
 * file and the key. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "internal/numtext.h"
#include "tl/io.h"

tl_status tl_tlm_set_num(tl_tlm *m, const char *key, double v) {
    char buf[64];
    tl_text_format_double(v, buf, sizeof buf);
    return tl_tlm_set_meta(m, key, buf);
}

tl_status tl_tlm_set_count(tl_tlm *m, const char *key, unsigned long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    return tl_tlm_set_meta(m, key, buf);
}

static tl_status meta_text(const tl_tlm *m, const char *name, const char *key, const char **out) {
    *out = tl_tlm_get_meta(m, key);
    if (!*out) return tl_fail(TL_ERR_FORMAT, "%s: model lacks metadata '%s'", name, key);
    return TL_OK;
}

tl_status tl_tlm_get_num(const tl_tlm *m, const char *name, const char *key, double lo, double hi,
                         double *out) {
    const char *s;
    tl_status st = meta_text(m, name, key, &s);
    if (st != TL_OK) return st;
    double v;
    size_t n = strlen(s);
    if (!tl_text_is_number(s, n) || !tl_text_to_double(s, n, &v))
        return tl_fail(TL_ERR_FORMAT, "%s: metadata '%s' = '%s' is not a finite number", name,
                       key, s);
    if (!(v >= lo && v <= hi))
        return tl_fail(TL_ERR_FORMAT, "%s: metadata '%s' = '%s' is out of range [%g, %g]", name,
                       key, s, lo, hi);
    *out = v;
    return TL_OK;
}

tl_status tl_tlm_get_count(const tl_tlm *m, const char *name, const char *key,
                           unsigned long long max, unsigned long long *out) {
    const char *s;
    tl_status st = meta_text(m, name, key, &s);
    if (st != TL_OK) return st;
    if (!isdigit((unsigned char)s[0]))
        return tl_fail(TL_ERR_FORMAT, "%s: metadata '%s' = '%s' is not a count", name, key, s);
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno == ERANGE || v > max)
        return tl_fail(TL_ERR_FORMAT, "%s: metadata '%s' = '%s' is out of range (max %llu)", name,
                       key, s, max);
    *out = v;
    return TL_OK;
}
