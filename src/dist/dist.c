/* The MPI layer (Open MPI): the only file of libtl that includes mpi.h. Everything above it sees
 * a tl_dist (rank, size, sum, max, broadcast, barrier) or, for training, a tl_nn_comm whose
 * allreduce is MPI_Allreduce(MPI_SUM) - so the network code, the kernels and the command line
 * stay free of MPI and build the same without it. Built with TL_HAVE_MPI when the Makefile finds
 * mpicc; without it, every entry point says plainly that this libtl was built without MPI.
 *
 * Errors: MPI's default handler (MPI_ERRORS_ARE_FATAL) stays: a process that dies, or a failed
 * collective, ends the whole job through mpirun, which names the rank and the signal - a job
 * never hangs waiting for a dead rank. Counts above INT_MAX are sent in pieces. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal/check.h"
#include "tl/dist.h"

#ifdef TL_HAVE_MPI
#include <mpi.h>
#endif

struct tl_dist {
    int rank, size;
    bool inited; /* this tl_dist called MPI_Init (and so calls MPI_Finalize) */
    tl_nn_comm comm;
    tl_comm kcomm;
};

int tl_dist_launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                       "MPI_LOCALNRANKS", "SLURM_NTASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            long n = strtol(v, NULL, 10);
            if (n >= 1 && n <= INT_MAX) return (int)n;
        }
    }
    return 0;
}

int tl_dist_rank(const tl_dist *d) { return d ? d->rank : 0; }
int tl_dist_size(const tl_dist *d) { return d ? d->size : 1; }

const tl_nn_comm *tl_dist_comm(tl_dist *d) { return d ? &d->comm : NULL; }
const tl_comm *tl_dist_kcomm(tl_dist *d) { return d ? &d->kcomm : NULL; }

#ifdef TL_HAVE_MPI

bool tl_dist_built(void) { return true; }

static tl_status comm_allreduce(void *user, void *buf, size_t n, bool dbl) {
    return tl_dist_sum(user, buf, n, dbl);
}
static tl_status kcomm_sum(void *user, double *buf, size_t n) {
    return tl_dist_sum(user, buf, n, true);
}
static tl_status kcomm_bcast(void *user, void *buf, size_t bytes, int root) {
    return tl_dist_bcast(user, buf, bytes, root);
}
static tl_status kcomm_gather(void *user, const void *mine, void *all, const size_t *bytes) {
    return tl_dist_gather(user, mine, all, bytes);
}

tl_status tl_dist_init(tl_dist **out) {
    tl_status st = TL_OK;
    tl_dist *d = NULL;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "dist_init: NULL argument");
    TL_ALLOC(d, 1);
    memset(d, 0, sizeof *d);
    int flag = 0;
    MPI_Initialized(&flag);
    if (!flag) {
        int provided;
        TL_CHECK(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS,
                 TL_ERR_IO, "MPI_Init failed");
        d->inited = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    d->comm.rank = d->rank;
    d->comm.size = d->size;
    d->comm.allreduce = comm_allreduce;
    d->comm.user = d;
    d->kcomm = (tl_comm){d->rank, d->size, kcomm_sum, kcomm_bcast, kcomm_gather, d};
    *out = d;
    d = NULL;
done:
    tl_free(d);
    return st;
}

void tl_dist_finalize(tl_dist *d) {
    if (!d) return;
    if (d->inited) MPI_Finalize();
    tl_free(d);
}

void tl_dist_abort(tl_dist *d, int code) {
    (void)d;
    MPI_Abort(MPI_COMM_WORLD, code);
}

static tl_status reduce(void *buf, size_t n, MPI_Datatype t, size_t size, MPI_Op op) {
    char *b = buf;
    while (n) {
        const int c = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, b, c, t, op, MPI_COMM_WORLD) != MPI_SUCCESS)
            return tl_fail(TL_ERR_IO, "MPI_Allreduce of %d values failed", c);
        b += (size_t)c * size;
        n -= (size_t)c;
    }
    return TL_OK;
}

tl_status tl_dist_sum(tl_dist *d, void *buf, size_t n, bool dbl) {
    (void)d;
    return dbl ? reduce(buf, n, MPI_DOUBLE, sizeof(double), MPI_SUM)
               : reduce(buf, n, MPI_FLOAT, sizeof(float), MPI_SUM);
}

tl_status tl_dist_max(tl_dist *d, double *buf, size_t n) {
    (void)d;
    return reduce(buf, n, MPI_DOUBLE, sizeof(double), MPI_MAX);
}

tl_status tl_dist_bcast(tl_dist *d, void *buf, size_t bytes, int root) {
    (void)d;
    char *b = buf;
    while (bytes) {
        const int c = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
        if (MPI_Bcast(b, c, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return tl_fail(TL_ERR_IO, "MPI_Bcast of %d bytes failed", c);
        b += c;
        bytes -= (size_t)c;
    }
    return TL_OK;
}

tl_status tl_dist_gather(tl_dist *d, const void *mine, void *all, const size_t *bytes) {
    tl_status st = TL_OK;
    int *cnt = NULL, *off = NULL;
    TL_CHECK(d && all && bytes, TL_ERR_INVALID_ARG, "dist_gather: NULL argument");
    TL_ALLOC(cnt, (size_t)d->size);
    TL_ALLOC(off, (size_t)d->size);
    size_t at = 0;
    for (int r = 0; r < d->size; r++) {
        TL_CHECK(bytes[r] <= (size_t)INT_MAX && at <= (size_t)INT_MAX, TL_ERR_UNSUPPORTED,
                 "dist_gather: %zu bytes from process %d at offset %zu: MPI_Allgatherv counts "
                 "are int (at most %d)", bytes[r], r, at, INT_MAX);
        cnt[r] = (int)bytes[r];
        off[r] = (int)at;
        at += bytes[r];
    }
    TL_CHECK(MPI_Allgatherv(mine, cnt[d->rank], MPI_BYTE, all,
                            cnt, off, MPI_BYTE, MPI_COMM_WORLD) == MPI_SUCCESS,
             TL_ERR_IO, "MPI_Allgatherv of %zu bytes failed", at);
done:
    tl_free(cnt);
    tl_free(off);
    return st;
}

tl_status tl_dist_barrier(tl_dist *d) {
    (void)d;
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? TL_OK
                                                      : tl_fail(TL_ERR_IO, "MPI_Barrier failed");
}

#else /* built without MPI */

bool tl_dist_built(void) { return false; }

static tl_status without(void) {
    return tl_fail(TL_ERR_UNSUPPORTED,
                   "this libtl was built without MPI, so it cannot distribute work over "
                   "processes: install Open MPI (apt-get install libopenmpi-dev openmpi-bin) and "
                   "rebuild (make clean && make), or run without mpirun");
}

tl_status tl_dist_init(tl_dist **out) {
    if (out) *out = NULL;
    return without();
}
void tl_dist_finalize(tl_dist *d) { tl_free(d); }
void tl_dist_abort(tl_dist *d, int code) { /* no job to end */
    (void)d, (void)code;
}
tl_status tl_dist_sum(tl_dist *d, void *buf, size_t n, bool dbl) {
    (void)d, (void)buf, (void)n, (void)dbl;
    return without();
}
tl_status tl_dist_max(tl_dist *d, double *buf, size_t n) {
    (void)d, (void)buf, (void)n;
    return without();
}
tl_status tl_dist_bcast(tl_dist *d, void *buf, size_t bytes, int root) {
    (void)d, (void)buf, (void)bytes, (void)root;
    return without();
}
tl_status tl_dist_gather(tl_dist *d, const void *mine, void *all, const size_t *bytes) {
    (void)d, (void)mine, (void)all, (void)bytes;
    return without();
}
tl_status tl_dist_barrier(tl_dist *d) {
    (void)d;
    return without();
}
#endif
