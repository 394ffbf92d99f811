/* Measurement helpers shared by the libtl halves of the benchmarks (bench_core, bench_instance,
 * bench_nn, repro_feature; each is one .c file compiled alone, so these are static functions in a
 * header): a monotonic clock, the process's peak resident memory, and a reset of its high-water
 * mark so a later peak is that of what ran after set-up. */
#ifndef TL_BENCH_UTIL_H
#define TL_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "tl/core.h"

/* The host's memory settings, the same as the `tl` command's (cli/main.c): freed memory is kept
 * for reuse, so repeated runs of an operation measure the operation, not glibc's choice of mapping
 * each large block afresh (which depends on what the process happened to free before). */
static inline void bench_host_setup(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

/* Seconds on the monotonic clock. */
static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set of the process so far, MB (Linux reports kilobytes). */
static inline double bench_peak_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* Reset the peak-RSS high-water mark to the current RSS (Linux >= 4.0: "5" into
 * /proc/self/clear_refs; getrusage follows it). 1 on success. */
static inline int bench_reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

#ifdef BENCH_NAME
/* Programs that define BENCH_NAME before including this header also get: FAIL_IF(call) (exit 1
 * with the status and message when a libtl call fails), die(msg) (exit 2, bad arguments) and
 * parse_size (a non-negative integer argument, or die). */
#define FAIL_IF(expr)                                                                              \
    do {                                                                                           \
        tl_status s_ = (expr);                                                                     \
        if (s_ != TL_OK) {                                                                         \
            fprintf(stderr, BENCH_NAME ": %s: %s (%s)\n", #expr, tl_status_name(s_),              \
                    tl_error_message());                                                           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static inline void die(const char *msg) {
    fprintf(stderr, BENCH_NAME ": %s\n", msg);
    exit(2);
}

static inline size_t parse_size(const char *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end) die("expected a non-negative integer argument");
    return (size_t)v;
}
#endif

#endif
