/* Two small helpers every module would otherwise write again (defined in src/core/util.c): a
 * string copy through libtl's allocator and a monotonic clock for the seconds the reports
 * carry. */
#ifndef TL_INTERNAL_UTIL_H
#define TL_INTERNAL_UTIL_H

/* A tl_malloc'd copy of s (NULL copies as ""); NULL when out of memory. */
char *tli_strdup(const char *s);
/* Seconds on the monotonic clock, for durations. */
double tli_seconds(void);

#endif
