/* libtl beyond one machine: the processes of an MPI job (Open MPI; src/dist/). A tl_dist is the
 * job as this process sees it - its rank, the number of processes - and the few collective
 * operations the rest of libtl needs: a sum (or maximum) over all processes, a broadcast, a
 * barrier. Data-parallel training gets it as a tl_nn_comm (tl_dist_comm), so the network code
 * never includes MPI. A libtl built without MPI has the same functions: tl_dist_init fails with
 * TL_ERR_UNSUPPORTED saying so, and a program can ask tl_dist_built first. */
#ifndef TL_DIST_H
#define TL_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The processes of one MPI job, from this process's side. */
typedef struct tl_dist tl_dist;

/* Whether this libtl was built with MPI. */
bool tl_dist_built(void);
/* The number of processes an MPI launcher (mpirun, mpiexec, srun) started this one among, read
 * from the launcher's environment; 0 when it was not started by one. */
int tl_dist_launched(void);
/* Join the job (MPI_Init once per process). TL_ERR_UNSUPPORTED "this libtl was built without
 * MPI ..." in a build without it. */
tl_status tl_dist_init(tl_dist **out);
/* Leave the job (MPI_Finalize); NULL-safe. */
void tl_dist_finalize(tl_dist *d);
/* End every process of the job at once with exit code `code` (after an error on one process,
 * when the others may be waiting in a collective). */
void tl_dist_abort(tl_dist *d, int code);
int tl_dist_rank(const tl_dist *d); /* 0..size-1 */
int tl_dist_size(const tl_dist *d); /* processes in the job */
/* buf (n values; double when dbl, else float) := its sum over all processes. */
tl_status tl_dist_sum(tl_dist *d, void *buf, size_t n, bool dbl);
/* buf (n doubles) := its element-wise maximum over all processes. */
tl_status tl_dist_max(tl_dist *d, double *buf, size_t n);
/* buf (bytes) := root's buf on every process. */
tl_status tl_dist_bcast(tl_dist *d, void *buf, size_t bytes, int root);
/* all := every process's `mine` (bytes[r] from process r) end to end, in rank order; `bytes`
 * (size entries) is the same on every process. */
tl_status tl_dist_gather(tl_dist *d, const void *mine, void *all, const size_t *bytes);
/* Wait until every process has come here. */
tl_status tl_dist_barrier(tl_dist *d);
/* How data-parallel training sums its gradient block each step (tl_dist_comm):
 *   OVERLAP    in buckets of bucket_bytes, each sent as soon as backward has finished the layers
 *              it holds, while the layers below still run (MPI_Test between layers);
 *   AFTER      the same buckets, all sent after backward (the same sums: the same bits);
 *   ALLREDUCE  one MPI_Allreduce of the whole block after backward (Open MPI chooses the
 *              summation order: with 3 or more processes the bits may differ from the above).
 * A bucket is summed deterministically: each process owns a slice of it, receives that slice
 * from every process (MPI_Ialltoallv), adds the copies in rank order, and the sums are gathered
 * back (MPI_Iallgatherv) - the traffic of a ring all-reduce, 2 (P - 1) / P of the bytes. */
typedef enum { TL_DIST_GRADS_OVERLAP = 0, TL_DIST_GRADS_AFTER = 1, TL_DIST_GRADS_ALLREDUCE = 2 } tl_dist_grads;
/* tl_dist_init's choice: ALLREDUCE (overlap did not pay measurably on the machine it was measured
 * on: bench/RESULTS.md, issue 17); buckets of TL_DIST_BUCKET_DEFAULT bytes when set to OVERLAP or
 * AFTER with bucket_bytes 0. */
#define TL_DIST_BUCKET_DEFAULT ((size_t)256 << 10)
tl_status tl_dist_set_grads(tl_dist *d, tl_dist_grads mode, size_t bucket_bytes);
/* The job as data-parallel training sees it (borrowed; lives as long as d). */
const tl_nn_comm *tl_dist_comm(tl_dist *d);
/* The job as the statistical methods see it (tl_adapt_params.comm, the distances): sum,
 * broadcast, gather (borrowed; lives as long as d). */
const tl_comm *tl_dist_kcomm(tl_dist *d);

#ifdef __cplusplus
}
#endif

#endif
