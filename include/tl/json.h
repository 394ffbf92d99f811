/* libtl JSON text builder: the one writer behind every JSON object libtl produces (reports,
 * the `tl` command's --json output), so key spelling and number formatting live in one place.
 * The object is built in memory and handed over whole at the end: a failure midway never leaves
 * half an object behind. Numbers are written with 10 significant digits; NaN and infinities
 * become null (JSON has no NaN). */
#ifndef TL_JSON_H
#define TL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A JSON writer building one object in memory (fields are private: use the calls below). */
typedef struct {
    char *buf;       /* the text so far */
    size_t len;      /* its length */
    size_t cap;      /* bytes allocated */
    int depth;       /* open objects and arrays */
    bool need_comma; /* a value was written at this depth */
    bool oom;        /* an allocation failed: tl_json_end reports it */
} tl_json;

void tl_json_begin(tl_json *j); /* "{" */
/* A key (NULL inside arrays: just the separator). */
void tl_json_key(tl_json *j, const char *key);
void tl_json_str(tl_json *j, const char *key, const char *v); /* NULL: null */
void tl_json_num(tl_json *j, const char *key, double v);
void tl_json_int(tl_json *j, const char *key, long long v);
void tl_json_bool(tl_json *j, const char *key, bool v);
void tl_json_null(tl_json *j, const char *key);
void tl_json_obj_begin(tl_json *j, const char *key); /* key NULL inside arrays */
void tl_json_obj_end(tl_json *j);
void tl_json_arr_begin(tl_json *j, const char *key);
void tl_json_arr_end(tl_json *j);
void tl_json_arr_num(tl_json *j, double v);
void tl_json_arr_int(tl_json *j, long long v);
void tl_json_arr_str(tl_json *j, const char *v);
/* Closes the object and hands over the text (tl_malloc'd, NUL-terminated, no newline):
 * TL_ERR_NOMEM when any step ran out of memory (nothing is handed over then). */
tl_status tl_json_end(tl_json *j, char **out);
void tl_json_discard(tl_json *j);

#ifdef __cplusplus
}
#endif
#endif
