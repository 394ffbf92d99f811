/* Rows held by several processes (src/linalg/blocks.c): the helpers with which the statistical
 * methods (src/feature, src/measure) run their one-process code on a process's blocks of rows and
 * join the processes through a tl_comm only where a quantity spans every row. */
#ifndef TL_INTERNAL_BLOCKS_H
#define TL_INTERNAL_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/linalg.h"

/* The processes of a fit on rows held in blocks (src/linalg/blocks.c): this process holds source rows
 * [s0, s0 + its ns) of Ns and target rows [t0, t0 + its nt) of Nt; rows_s/rows_t per process.
 * With one process c is NULL (or of size 1), Ns/Nt are the local counts and s0 = t0 = 0. */
typedef struct {
    const tl_comm *c;
    size_t Ns, Nt, s0, t0;
    size_t *rows_s, *rows_t;
} tli_job;
bool tli_job_split(const tli_job *j); /* more than one process */
tl_status tli_job_start(tli_job *j, const tl_comm *c, size_t ns, size_t nt);
void tli_job_end(tli_job *j);
/* buf (n) := its sum over the processes; same_bits: then process 0's result everywhere. */
tl_status tli_job_sum(const tli_job *j, double *buf, size_t n, bool same_bits);
/* Whether pooled row g (global: source rows, then target rows) is among this process's ns source
 * and nt target rows; *target and *row say where. */
bool tli_job_local(const tli_job *j, size_t g, size_t ns, size_t nt, bool *target, size_t *row);
/* P (np, d) := the pooled rows idx[0..np) of [source; target] (global row numbers). */
tl_status tli_job_pool(const tli_job *j, tl_mat Xs, tl_mat Xt, const size_t *idx, tl_mat P);
/* all := the processes' rows[r] rows of row_bytes each, end to end (split jobs only). */
tl_status tli_job_gather(const tli_job *j, const size_t *rows, const void *mine, size_t row_bytes,
                         void *all);
/* *all (Ns, Z.cols) := every process's source rows Z, end to end (split jobs only). */
tl_status tli_job_gather_rows(const tli_job *j, tl_mat Z, tl_mat *all);

#endif
