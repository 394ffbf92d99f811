/* The command line's side of an MPI job (`mpirun -np N tl train ...`): join the job when an MPI
 * launcher started this process (and say plainly when this libtl was built without MPI), keep
 * only this process's block of rows, sum figures over the processes, and end the whole job when
 * one process fails. Rank 0 alone writes stdout and the output files. */
#ifndef TL_CLI_DIST_COMMON_H
#define TL_CLI_DIST_COMMON_H

#include "cli.h"
#include "tl/dist.h"

typedef struct {
    tl_dist *d; /* NULL: one process */
    int rank, size;
} cli_dist;

/* Join the job when launched by mpirun (else one process). Non-zero (after a message) when
 * launched but MPI is not built in. Ranks other than 0 get stdout sent to /dev/null. */
int cli_dist_begin(cli_dist *c);
/* Keep only this process's rows [lo, hi) of *ds (tl_nn_shard); *total: the rows of all. */
int cli_dist_shard(const cli_dist *c, tl_dataset **ds, size_t *total);
/* *ds := this process's block of spec's rows, read alone where the format allows
 * (tl_dataset_load_block); *total: the rows of all. With one process, the whole file. */
int cli_dist_load(const cli_dist *c, const cli_args *a, const char *spec, tl_dataset **ds,
                  size_t *total);
/* buf (n doubles) := its sum over the processes (nothing with one process). */
int cli_dist_sum(const cli_dist *c, double *buf, size_t n);
/* *cls (tl_malloc'd, sorted, *k) := the union of every process's sorted class list. */
int cli_dist_classes(const cli_dist *c, int **cls, size_t *k);
/* The command's exit code rc; with several processes a failure ends the whole job (MPI_Abort) so
 * that no process waits for one that gave up. Leaves the job. */
int cli_dist_end(cli_dist *c, int rc);

/* `tl adapt` (TCA, JDA, BDA) under mpirun: the rows split over the processes (adapt_dist.c). */
int cli_adapt_dist(const cli_command *cmd, cli_args *a);

#endif
