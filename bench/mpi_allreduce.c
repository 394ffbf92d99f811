/* The all-reduce the data-parallel trainer does once a step (src/dist/dist.c: MPI_Allreduce,
 * MPI_SUM, float32, in place), timed alone: best and median over R rounds of N calls on a block of
 * BYTES, after warm-up. One JSON line from rank 0: the bytes, the processes, the seconds per call.
 * bench/mpi.sh uses it for the cost model's bandwidth and latency on this machine.
 *   mpirun -np P bench_mpi_allreduce BYTES N R */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "tl/dist.h"

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: mpirun -np P %s BYTES CALLS ROUNDS\n", argv[0]);
        return 2;
    }
    const size_t bytes = strtoul(argv[1], NULL, 10), calls = strtoul(argv[2], NULL, 10),
                 rounds = strtoul(argv[3], NULL, 10), n = bytes / sizeof(float) ? bytes / sizeof(float) : 1;
    tl_dist *d = NULL;
    if (tl_dist_init(&d) != TL_OK) {
        fprintf(stderr, "%s\n", tl_error_message());
        return 1;
    }
    float *buf = calloc(n, sizeof *buf);
    double *t = calloc(rounds ? rounds : 1, sizeof *t);
    if (!buf || !t) return 1;
    for (size_t i = 0; i < calls; i++) tl_dist_sum(d, buf, n, false); /* warm-up */
    for (size_t r = 0; r < rounds; r++) {
        tl_dist_barrier(d);
        const double t0 = bench_now();
        for (size_t i = 0; i < calls; i++) tl_dist_sum(d, buf, n, false);
        t[r] = (bench_now() - t0) / (double)calls;
    }
    qsort(t, rounds, sizeof *t, cmp);
    if (tl_dist_rank(d) == 0)
        printf("{\"bytes\": %zu, \"processes\": %d, \"best_s\": %.9g, \"median_s\": %.9g}\n",
               n * sizeof(float), tl_dist_size(d), t[0], t[rounds / 2]);
    free(buf);
    free(t);
    tl_dist_finalize(d);
    return 0;
}
