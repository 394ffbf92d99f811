/* Measurement helpers shared by the libtl halves of the benchmarks (bench_core, bench_instance,
 * bench_nn, repro_feature; each is one .c file compiled alone, so these are static functions in a
 * header): a monotonic clock, the process's peak resident memory, and a reset of its high-water
 * mark so a later peak is that of what ran after set-up. */
#ifndef TL_BENCH_UTIL_H
#define TL_BENCH_UTIL_H

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

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

#endif
