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

#ifdef TL_HAVE_MPI
/* One bucket of the gradient block: values [lo, hi); this process owns slice [lo + off[rank],
 * lo + off[rank] + cnt[rank]). */
typedef struct {
    size_t lo, hi, ready; /* ready: values reported final this step */
    int phase;            /* B_WAIT .. B_DONE */
    MPI_Request req;
} grad_bucket;
/* not sent; slices being exchanged; exchanged (the sums not yet started); sums being gathered;
 * done */
enum { B_WAIT, B_EXCHANGE, B_EXCHANGED, B_GATHER, B_DONE };
#endif

struct tl_dist {
    int rank, size;
    bool inited; /* this tl_dist called MPI_Init (and so calls MPI_Finalize) */
    tl_nn_comm comm;
    tl_comm kcomm;
    tl_dist_grads grads;
    size_t bucket; /* floats a bucket */
#ifdef TL_HAVE_MPI
    /* the bucketed sum of a step's gradient block (grad_start .. grad_finish) */
    float *g;           /* the block */
    size_t n, nb;       /* its floats, buckets */
    size_t stride;      /* floats of received slices per bucket: P x the largest slice */
    grad_bucket *b;     /* (nb) */
    float *recv;        /* (nb x stride) */
    int *counts;        /* (nb x 4P) per bucket: send counts, offsets, receive counts, offsets
                           (MPI reads them until the exchange completes) */
    size_t last;        /* the bucket sent last, whose gather is not started yet (nb: none) */
    tl_status err;      /* the first MPI failure of the step */
#endif
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

/* ---- the gradient block summed in buckets (tl_dist_grads in tl/dist.h) ----
 * Bucket i holds values [i S, min((i + 1) S, n)) of the block (S = d->bucket). It is sent when
 * every value in it has been reported final (OVERLAP) or at grad_finish, in bucket order. MPI
 * matches collectives by the order each process starts them, so every start happens at a point
 * that does not depend on timing: a bucket's exchange when its last value is reported (the reports
 * come in the same order everywhere), and its gather just before the next bucket's exchange or at
 * grad_finish (waiting for its exchange then if it has not completed); MPI_Test between layers
 * only lets what is in flight progress. Each value is summed by its slice's owner as
 * recv[0] + recv[1] + ... + recv[P - 1] (rank order, float): the same sum whenever its bucket
 * went out. */

static void fail_once(tl_dist *d, const char *what) {
    if (d->err == TL_OK) d->err = tl_fail(TL_ERR_IO, "%s of a gradient bucket failed", what);
}

/* Bucket i's per-process counts and offsets (d->counts, 4 x P ints: what each process sends to
 * each slice's owner, where; what this process receives from each, where). */
static int *bucket_counts(tl_dist *d, size_t i) {
    const grad_bucket *b = &d->b[i];
    const size_t P = (size_t)d->size, m = b->hi - b->lo;
    int *cnt = d->counts + i * 4 * P, *off = cnt + P, *rcnt = off + P, *roff = rcnt + P;
    for (size_t r = 0; r < P; r++) {
        off[r] = (int)(m * r / P);
        cnt[r] = (int)(m * (r + 1) / P) - off[r];
    }
    for (size_t r = 0; r < P; r++) {
        rcnt[r] = cnt[d->rank];
        roff[r] = (int)r * cnt[d->rank];
    }
    return cnt;
}

/* Bucket i's slices, received from every process: their sum in rank order into this process's
 * slice of the block. */
static void bucket_add(tl_dist *d, size_t i) {
    const size_t P = (size_t)d->size;
    const int *cnt = d->counts + i * 4 * P, *off = cnt + P;
    const size_t m = (size_t)cnt[d->rank];
    const float *rv = d->recv + i * d->stride;
    float *out = d->g + d->b[i].lo + off[d->rank];
    for (size_t e = 0; e < m; e++) {
        float v = rv[e];
        for (size_t r = 1; r < P; r++) v += rv[r * m + e];
        out[e] = v;
    }
}

/* Bucket i's slices have arrived (waited for here if need be): add them in rank order into this
 * process's slice, then start gathering every process's sums. */
static void bucket_gather(tl_dist *d, size_t i) {
    grad_bucket *b = &d->b[i];
    if (b->phase == B_EXCHANGE && MPI_Wait(&b->req, MPI_STATUS_IGNORE) != MPI_SUCCESS) fail_once(d, "MPI_Wait");
    int *cnt = d->counts + i * 4 * (size_t)d->size, *off = cnt + d->size;
    bucket_add(d, i);
    if (MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, d->g + b->lo, cnt, off, MPI_FLOAT,
                        MPI_COMM_WORLD, &b->req) != MPI_SUCCESS)
        fail_once(d, "MPI_Iallgatherv");
    b->phase = B_GATHER;
}

/* Bucket i out: the previous bucket's gather first, then each process's copy of every slice of
 * this one to the slice's owner. */
static void bucket_send(tl_dist *d, size_t i) {
    if (d->last < d->nb) bucket_gather(d, d->last);
    grad_bucket *b = &d->b[i];
    int *cnt = bucket_counts(d, i), *off = cnt + d->size, *rcnt = off + d->size, *roff = rcnt + d->size;
    if (MPI_Ialltoallv(d->g + b->lo, cnt, off, MPI_FLOAT, d->recv + i * d->stride, rcnt, roff,
                       MPI_FLOAT, MPI_COMM_WORLD, &b->req) != MPI_SUCCESS)
        fail_once(d, "MPI_Ialltoallv");
    b->phase = B_EXCHANGE;
    d->last = i;
}

/* Let bucket i's exchange or gather progress (MPI_Test); starts nothing. */
static void bucket_test(tl_dist *d, size_t i) {
    grad_bucket *b = &d->b[i];
    if (b->phase != B_EXCHANGE && b->phase != B_GATHER) return;
    int done = 0;
    if (MPI_Test(&b->req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) fail_once(d, "MPI_Test");
    if (done) b->phase = b->phase == B_EXCHANGE ? B_EXCHANGED : B_DONE;
}

static tl_status grad_start(void *user, float *g, size_t n) {
    tl_dist *d = user;
    tl_status st = TL_OK;
    const size_t S = d->bucket, P = (size_t)d->size, nb = (n + S - 1) / S;
    const size_t stride = P * ((S + P - 1) / P);
    if (nb != d->nb || stride != d->stride) { /* a new block layout: the buffers again */
        tl_free(d->b);
        tl_free(d->recv);
        tl_free(d->counts);
        d->b = NULL, d->recv = NULL, d->counts = NULL, d->nb = 0;
        size_t nr, nc;
        TL_CHECK(tl_size_mul(nb, stride, &nr) == 0 && tl_size_mul(nb, 4 * P, &nc) == 0, TL_ERR_NOMEM,
                 "gradient buckets: %zu buckets of %zu values", nb, S);
        TL_CALLOC(d->b, nb ? nb : 1);
        TL_ALLOC(d->recv, nr ? nr : 1);
        TL_ALLOC(d->counts, nc ? nc : 1);
        d->nb = nb;
        d->stride = stride;
    }
    TL_CHECK(S <= (size_t)INT_MAX, TL_ERR_UNSUPPORTED, "gradient buckets of %zu values: at most %d",
             S, INT_MAX);
    d->g = g;
    d->n = n;
    d->err = TL_OK;
    d->last = nb;
    for (size_t i = 0; i < nb; i++)
        d->b[i] = (grad_bucket){i * S, (i + 1) * S < n ? (i + 1) * S : n, 0, B_WAIT, MPI_REQUEST_NULL};
done:
    return st;
}

static void grad_ready(void *user, size_t lo, size_t hi) {
    tl_dist *d = user;
    if (d->grads != TL_DIST_GRADS_OVERLAP || !d->g) return; /* AFTER: everything at grad_finish */
    const size_t S = d->bucket;
    for (size_t i = lo / S; lo < hi && i < d->nb && d->b[i].lo < hi; i++) {
        grad_bucket *b = &d->b[i];
        b->ready += (hi < b->hi ? hi : b->hi) - (lo > b->lo ? lo : b->lo);
        if (b->ready == b->hi - b->lo && b->phase == B_WAIT) bucket_send(d, i);
    }
    for (size_t i = 0; i < d->nb; i++) bucket_test(d, i); /* MPI_Test: progress */
}

/* AFTER: bucket i summed with the blocking collectives (Open MPI's tuned MPI_Alltoallv and
 * MPI_Allgatherv are faster than the nonblocking ones, which progress only inside MPI calls);
 * the same slices and the same additions as bucket_send + bucket_gather. */
static void bucket_blocking(tl_dist *d, size_t i) {
    grad_bucket *b = &d->b[i];
    int *cnt = bucket_counts(d, i), *off = cnt + d->size, *rcnt = off + d->size, *roff = rcnt + d->size;
    if (MPI_Alltoallv(d->g + b->lo, cnt, off, MPI_FLOAT, d->recv + i * d->stride, rcnt, roff, MPI_FLOAT,
                      MPI_COMM_WORLD) != MPI_SUCCESS)
        fail_once(d, "MPI_Alltoallv");
    bucket_add(d, i);
    if (MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, d->g + b->lo, cnt, off, MPI_FLOAT,
                       MPI_COMM_WORLD) != MPI_SUCCESS)
        fail_once(d, "MPI_Allgatherv");
    b->phase = B_DONE;
}

static tl_status grad_finish(void *user) {
    tl_dist *d = user;
    if (d->grads == TL_DIST_GRADS_AFTER)
        for (size_t i = 0; i < d->nb; i++) bucket_blocking(d, i);
    for (size_t i = 0; i < d->nb; i++) /* what backward did not send, in bucket order */
        if (d->b[i].phase == B_WAIT) bucket_send(d, i);
    if (d->last < d->nb) bucket_gather(d, d->last);
    for (size_t i = 0; i < d->nb; i++)
        if (d->b[i].phase == B_GATHER && MPI_Wait(&d->b[i].req, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            fail_once(d, "MPI_Wait");
    d->g = NULL;
    d->last = d->nb;
    return d->err;
}

tl_status tl_dist_set_grads(tl_dist *d, tl_dist_grads mode, size_t bucket_bytes) {
    if (!d) return tl_fail(TL_ERR_INVALID_ARG, "dist_set_grads: NULL job");
    if (mode != TL_DIST_GRADS_OVERLAP && mode != TL_DIST_GRADS_AFTER && mode != TL_DIST_GRADS_ALLREDUCE)
        return tl_fail(TL_ERR_INVALID_ARG, "dist_set_grads: mode %d is not overlap (0), after (1) or allreduce (2)",
                       (int)mode);
    if (!bucket_bytes) bucket_bytes = TL_DIST_BUCKET_DEFAULT;
    if (bucket_bytes < sizeof(float) || bucket_bytes / sizeof(float) > (size_t)INT_MAX)
        return tl_fail(TL_ERR_INVALID_ARG, "dist_set_grads: a bucket of %zu bytes (4 to %zu)", bucket_bytes,
                       (size_t)INT_MAX * sizeof(float));
    d->grads = mode;
    d->bucket = bucket_bytes / sizeof(float);
    const bool buckets = mode != TL_DIST_GRADS_ALLREDUCE;
    d->comm.grad_start = buckets ? grad_start : NULL;
    d->comm.grad_ready = buckets ? grad_ready : NULL;
    d->comm.grad_finish = buckets ? grad_finish : NULL;
    return TL_OK;
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
    TL_TRY(tl_dist_set_grads(d, TL_DIST_GRADS_ALLREDUCE, 0)); /* the measured best here */
    *out = d;
    d = NULL;
done:
    tl_free(d);
    return st;
}

void tl_dist_finalize(tl_dist *d) {
    if (!d) return;
    if (d->inited) MPI_Finalize();
    tl_free(d->b);
    tl_free(d->recv);
    tl_free(d->counts);
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
tl_status tl_dist_set_grads(tl_dist *d, tl_dist_grads mode, size_t bucket_bytes) {
    (void)d, (void)mode, (void)bucket_bytes;
    return without();
}
#endif
