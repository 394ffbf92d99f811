/* The helpers of internal/util.h: a string copy that goes through tl_malloc (so the allocator
 * tests and embedders' arenas see it) and the monotonic clock behind every duration libtl
 * reports. */
#include <string.h>
#include <time.h>

#include "internal/util.h"
#include "tl/core.h"

char *tli_strdup(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = tl_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

double tli_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
