/* The command line's side of an MPI job (see dist_common.h). Each process reads only its block
 * of rows where the format allows (.npy, IDX, plain or gzip; CSV and svmlight parse only the
 * block's lines: tl_dataset_load_block); .mat files are read whole and the block kept. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_common.h"

int cli_dist_begin(cli_dist *c) {
    memset(c, 0, sizeof *c);
    c->size = 1;
    const int launched = tl_dist_launched();
    if (!launched) return 0;
    tl_status st = tl_dist_init(&c->d);
    if (st != TL_OK) {
        if (launched == 1 && !tl_dist_built()) return 0; /* mpirun -np 1: one process anyway */
        return cli_fail_status(st, "started by mpirun with %d processes", launched);
    }
    c->rank = tl_dist_rank(c->d);
    c->size = tl_dist_size(c->d);
    /* how training sums its gradients (tl_dist_grads): TL_MPI_GRADS=overlap|after|allreduce,
     * TL_MPI_BUCKET_KB=N; set alike on every process by mpirun -x */
    const char *gm = getenv("TL_MPI_GRADS"), *bk = getenv("TL_MPI_BUCKET_KB");
    if ((gm && *gm) || (bk && *bk)) {
        tl_dist_grads mode = TL_DIST_GRADS_AFTER;
        if (gm && strcmp(gm, "overlap") == 0) mode = TL_DIST_GRADS_OVERLAP;
        else if (gm && strcmp(gm, "allreduce") == 0) mode = TL_DIST_GRADS_ALLREDUCE;
        else if (gm && *gm && strcmp(gm, "after") != 0)
            return cli_fail("TL_MPI_GRADS='%s': give overlap, after or allreduce", gm);
        char *end = NULL;
        const unsigned long kb = bk && *bk ? strtoul(bk, &end, 10) : 0;
        if (bk && *bk && (*end || kb < 1 || kb > (1ul << 20)))
            return cli_fail("TL_MPI_BUCKET_KB='%s': give kilobytes, 1 to 1048576", bk);
        tl_status st2 = tl_dist_set_grads(c->d, mode, (size_t)kb << 10);
        if (st2 != TL_OK) return cli_fail_status(st2, "TL_MPI_GRADS / TL_MPI_BUCKET_KB");
    }
    if (c->rank != 0 && !freopen("/dev/null", "w", stdout))
        return cli_fail("rank %d: cannot send its standard output to /dev/null", c->rank);
    return 0;
}

int cli_dist_shard(const cli_dist *c, tl_dataset **ds, size_t *total) {
    const size_t n = tl_dataset_rows(*ds);
    *total = n;
    if (c->size <= 1) return 0;
    if (n < (size_t)c->size)
        return cli_fail("'%s' has %zu rows, fewer than the %d processes", tl_dataset_name(*ds), n,
                        c->size);
    size_t lo, hi;
    tl_nn_shard(n, c->rank, c->size, &lo, &hi);
    size_t *idx = malloc((hi - lo) * sizeof *idx);
    if (!idx) return cli_fail("out of memory for the row list of rank %d", c->rank);
    for (size_t i = lo; i < hi; i++) idx[i - lo] = i;
    tl_dataset *sub = NULL;
    tl_status st = tl_dataset_subset(*ds, idx, hi - lo, &sub);
    free(idx);
    if (st != TL_OK) return cli_fail_status(st, "rank %d: keeping rows %zu..%zu", c->rank, lo + 1, hi);
    tl_dataset_set_name(sub, tl_dataset_name(*ds));
    tl_dataset_free(*ds);
    *ds = sub;
    return 0;
}

int cli_dist_load(const cli_dist *c, const cli_args *a, const char *spec, tl_dataset **ds,
                  size_t *total) {
    *ds = NULL;
    if (c->size <= 1 || cli_given(a, "columns") || cli_regression(a)) {
        if (cli_load(a, spec, ds) != TL_OK) return 1;
        return cli_dist_shard(c, ds, total);
    }
    tl_load_opts o;
    if (!cli_load_opts(a, &o)) return 2;
    tl_status st = tl_dataset_load_block(spec, &o, c->rank, c->size, total, ds);
    if (st != TL_OK) return cli_fail_status(st, "rank %d: cannot load its block of '%s'", c->rank, spec);
    return 0;
}

int cli_dist_sum(const cli_dist *c, double *buf, size_t n) {
    if (c->size <= 1) return 0;
    tl_status st = tl_dist_sum(c->d, buf, n, true);
    return st == TL_OK ? 0 : cli_fail_status(st, "summing over the processes");
}

int cli_dist_classes(const cli_dist *c, int **cls, size_t *k) {
    if (c->size <= 1) return 0;
    double r[2] = {*k ? -(double)(*cls)[0] : -INFINITY, *k ? (double)(*cls)[*k - 1] : -INFINITY};
    tl_status st = tl_dist_max(c->d, r, 2);
    if (st != TL_OK) return cli_fail_status(st, "gathering the classes");
    const double lo = -r[0], span = r[1] - lo + 1;
    if (!(span >= 1 && span <= (double)(1 << 22)))
        return cli_fail("the class labels span %g..%g: too wide to gather over the processes", lo, r[1]);
    const size_t R = (size_t)span;
    double *have = calloc(R, sizeof *have);
    if (!have) return cli_fail("out of memory for %zu class flags", R);
    for (size_t i = 0; i < *k; i++) have[(size_t)((double)(*cls)[i] - lo)] = 1.0;
    st = tl_dist_max(c->d, have, R);
    size_t m = 0;
    for (size_t i = 0; i < R; i++) m += have[i] > 0;
    int *u = st == TL_OK ? tl_malloc(m * sizeof *u) : NULL;
    if (u) {
        m = 0;
        for (size_t i = 0; i < R; i++)
            if (have[i] > 0) u[m++] = (int)(lo + (double)i);
        tl_free(*cls);
        *cls = u;
        *k = m;
    }
    free(have);
    if (st != TL_OK) return cli_fail_status(st, "gathering the classes");
    return u ? 0 : cli_fail("out of memory for %zu classes", m);
}

int cli_dist_end(cli_dist *c, int rc) {
    if (c->d && c->size > 1 && rc != 0) {
        fprintf(stderr, "tl %s: rank %d of %d failed (exit %d): ending the whole job\n", cli_cmd_name,
                c->rank, c->size, rc);
        fflush(stderr);
        tl_dist_abort(c->d, rc);
    }
    tl_dist_finalize(c->d);
    c->d = NULL;
    return rc;
}
