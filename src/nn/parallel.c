/* The engine's thread pool: a network splits each batch into one contiguous slice of samples per
 * thread and runs every layer on the slices in parallel (data parallelism inside the batch), with
 * OpenBLAS single-threaded inside each slice. Why not let OpenBLAS thread each product: the
 * products of a small CNN are small, OpenBLAS's workers spin between them while the element-wise
 * layers run on one core, and on a loaded 2-core machine that measured twice as slow as one
 * thread; slicing the batch keeps every core on useful work for the whole step.
 *
 * Workers sleep on a condition variable between jobs (no spinning: the cores are shared) and are
 * owned by the network (created with its workspace, joined when it is freed), so the library
 * keeps no global state. If a worker cannot be started the pool simply has fewer threads. */
#include <pthread.h>

#include "nn/nn_internal.h"

int openblas_get_num_threads(void);

struct nn_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t th[NN_MAX_THREADS];
    size_t nthreads; /* including the caller */
    uint64_t gen;
    size_t pending;
    bool quit;
    nn_part_fn fn;
    void *ctx;
    size_t parts;
};

typedef struct {
    nn_pool *p;
    size_t k;
} worker_arg;

static void *worker(void *v) {
    nn_pool *p = ((worker_arg *)v)->p;
    const size_t k = ((worker_arg *)v)->k;
    tl_free(v);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        nn_part_fn fn = p->fn;
        void *ctx = p->ctx;
        const size_t parts = p->parts;
        pthread_mutex_unlock(&p->mu);
        if (k < parts) fn(ctx, k);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

size_t nn_pool_threads(const nn_pool *p) { return p ? p->nthreads : 1; }

tl_status nn_pool_create(size_t nthreads, nn_pool **out) {
    tl_status st = TL_OK;
    nn_pool *p = NULL;
    *out = NULL;
    if (nthreads > NN_MAX_THREADS) nthreads = NN_MAX_THREADS;
    if (nthreads <= 1) return TL_OK;
    TL_CALLOC(p, 1);
    TL_CHECK(pthread_mutex_init(&p->mu, NULL) == 0, TL_ERR_NOMEM, "nn: cannot create a mutex");
    if (pthread_cond_init(&p->go, NULL) != 0 || pthread_cond_init(&p->done, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        tl_free(p);
        p = NULL;
        st = tl_fail(TL_ERR_NOMEM, "nn: cannot create a condition variable");
        goto done;
    }
    p->nthreads = 1;
    for (size_t k = 1; k < nthreads; k++) {
        worker_arg *a = tl_malloc(sizeof *a);
        if (!a) break;
        a->p = p;
        a->k = k;
        if (pthread_create(&p->th[k], NULL, worker, a) != 0) {
            tl_free(a);
            break;
        }
        p->nthreads++;
    }
    *out = p;
    p = NULL;
done:
    return st;
}

void nn_pool_free(nn_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (size_t k = 1; k < p->nthreads; k++) pthread_join(p->th[k], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    tl_free(p);
}

void nn_pool_run(nn_pool *p, size_t parts, nn_part_fn fn, void *ctx) {
    if (!p || parts <= 1 || p->nthreads <= 1) {
        for (size_t k = 0; k < parts; k++) fn(ctx, k);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->parts = parts;
    p->pending = p->nthreads - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0);
    for (size_t k = p->nthreads; k < parts; k++) fn(ctx, k); /* parts beyond the threads */
    pthread_mutex_lock(&p->mu);
    while (p->pending) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

size_t nn_threads(void) {
    int t = openblas_get_num_threads();
    return t > 0 ? (size_t)t : 1;
}
