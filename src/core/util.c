/* The helpers of internal/util.h: a string copy that goes through tl_malloc (so the allocator
 * tests and embedders' arenas see it) and the monotonic clock behind every duration libtl
 * reports; and tl_block_range, the one cut of n rows into the blocks of a job's processes. */
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

void tl_block_range(size_t n, int part, int parts, size_t *lo, size_t *hi) {
    if (parts < 1) parts = 1;
    if (part < 0) part = 0;
    if (part >= parts) part = parts - 1;
    /* floor(n r / parts) without overflow for any n below 2^64 / parts */
    const size_t P = (size_t)parts, R = (size_t)part;
    *lo = n / P * R + n % P * R / P;
    *hi = n / P * (R + 1) + n % P * (R + 1) / P;
}
