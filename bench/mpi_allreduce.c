/* The all-reduce the data-parallel trainer does once a step (src/dist/dist.c: MPI_Allreduce,
 * MPI_SUM, float32, in place), timed alone: best and median over R rounds of N calls on a block of
 * BYTES, after warm-up. One JSON line from rank 0: the bytes, the processes, the seconds per call.
 * bench/mpi.sh uses it for the cost model's bandwidth and latency on this machine. With a 4th
 * argument, the bucketed sum the trainer does instead (tl_dist_comm's grad_start / grad_finish,
 * buckets of BUCKET bytes, all sent after the block is complete), timed the same way.
 *   mpirun -np P bench_mpi_allreduce BYTES N R [BUCKET] */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "tl/dist.h"

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One sum of buf over the processes: MPI_Allreduce, or (bucket) the trainer's bucketed sum. */
static tl_status sum_once(tl_dist *d, const tl_nn_comm *cm, size_t bucket, float *buf, size_t n) {
    if (!bucket) return tl_dist_sum(d, buf, n, false);
    tl_status st = cm->grad_start(cm->user, buf, n);
    return st == TL_OK ? cm->grad_finish(cm->user) : st;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: mpirun -np P %s BYTES CALLS ROUNDS [BUCKET]\n", argv[0]);
        return 2;
    }
    const size_t bytes = strtoul(argv[1], NULL, 10), calls = strtoul(argv[2], NULL, 10),
                 rounds = strtoul(argv[3], NULL, 10), n = bytes / sizeof(float) ? bytes / sizeof(float) : 1;
    tl_dist *d = NULL;
    if (tl_dist_init(&d) != TL_OK) {
        fprintf(stderr, "%s\n", tl_error_message());
        return 1;
    }
    const size_t bucket = argc == 5 ? strtoul(argv[4], NULL, 10) : 0;
    if (bucket && tl_dist_set_grads(d, TL_DIST_GRADS_AFTER, bucket) != TL_OK) {
        fprintf(stderr, "%s\n", tl_error_message());
        return 1;
    }
    const tl_nn_comm *cm = tl_dist_comm(d);
    float *buf = calloc(n, sizeof *buf);
    double *t = calloc(rounds ? rounds : 1, sizeof *t);
    if (!buf || !t) return 1;
    for (size_t i = 0; i < calls; i++) sum_once(d, cm, bucket, buf, n); /* warm-up */
    for (size_t r = 0; r < rounds; r++) {
        tl_dist_barrier(d);
        const double t0 = bench_now();
        for (size_t i = 0; i < calls; i++) sum_once(d, cm, bucket, buf, n);
        t[r] = (bench_now() - t0) / (double)calls;
    }
    qsort(t, rounds, sizeof *t, cmp);
    if (tl_dist_rank(d) == 0)
        printf("{\"bytes\": %zu, \"processes\": %d, \"bucket\": %zu, \"best_s\": %.9g, \"median_s\": %.9g}\n",
               n * sizeof(float), tl_dist_size(d), bucket, t[0], t[rounds / 2]);
    free(buf);
    free(t);
    tl_dist_finalize(d);
    return 0;
}
