/* The task runner of internal/parallel.h: a shared counter under a mutex hands out the tasks, the
 * caller's thread works as one of the threads, and OpenBLAS is made single-threaded for the
 * duration (restored after), so every core runs exactly one of our threads. tli_overlap runs two
 * different jobs at once the same way (a run's method beside its baseline and guard). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal/check.h"
#include "internal/parallel.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

int tl_parallel_default_threads(void) {
    int t = openblas_get_num_threads();
    return t > 1 ? t : 1;
}

tli_thread_scope tli_threads_enter_n(int n) {
    tli_thread_scope s = {0};
    if (n <= 0) return s;
    s.saved = openblas_get_num_threads();
    if (s.saved < 1) s.saved = 1;
    if (s.saved != n) openblas_set_num_threads(n);
    return s;
}

tli_thread_scope tli_threads_enter(const tl_ctx *ctx) {
    return tli_threads_enter_n(ctx ? ctx->threads : 0);
}

void tli_threads_leave(tli_thread_scope s) {
    if (s.saved > 0 && openblas_get_num_threads() != s.saved) openblas_set_num_threads(s.saved);
}

typedef struct {
    pthread_mutex_t mu;
    size_t next, ntasks;
    tl_task_fn fn;
    void *ctx;
    tl_status st; /* first failure */
    char msg[512];
} par_state;

typedef struct {
    par_state *ps;
    size_t thread;
} par_arg;

static void *par_worker(void *v) {
    par_arg *a = v;
    par_state *ps = a->ps;
    for (;;) {
        pthread_mutex_lock(&ps->mu);
        size_t t = ps->st == TL_OK ? ps->next++ : ps->ntasks;
        pthread_mutex_unlock(&ps->mu);
        if (t >= ps->ntasks) break;
        tl_status s = ps->fn(ps->ctx, t, a->thread);
        if (s != TL_OK) {
            pthread_mutex_lock(&ps->mu);
            if (ps->st == TL_OK) {
                ps->st = s;
                snprintf(ps->msg, sizeof ps->msg, "%s", tl_error_message());
            }
            pthread_mutex_unlock(&ps->mu);
        }
    }
    return NULL;
}

tl_status tl_parallel_tasks(size_t ntasks, size_t nthreads, tl_task_fn fn, void *ctx) {
    par_state ps;
    par_arg args[64];
    pthread_t th[64];
    size_t started = 0;
    if (nthreads > 64) nthreads = 64;
    if (nthreads > ntasks) nthreads = ntasks;
    if (nthreads <= 1) { /* no threads: plain loop, errors stay on this thread */
        for (size_t t = 0; t < ntasks; t++) {
            tl_status s = fn(ctx, t, 0);
            if (s != TL_OK) return s;
        }
        return TL_OK;
    }
    memset(&ps, 0, sizeof ps);
    if (pthread_mutex_init(&ps.mu, NULL) != 0)
        return tl_fail(TL_ERR_NOMEM, "parallel: cannot create a mutex");
    ps.ntasks = ntasks;
    ps.fn = fn;
    ps.ctx = ctx;
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (size_t k = 1; k < nthreads; k++) { /* a thread that cannot start just leaves its share */
        args[k].ps = &ps;
        args[k].thread = k;
        if (pthread_create(&th[k], NULL, par_worker, &args[k]) != 0) break;
        started = k;
    }
    args[0].ps = &ps;
    args[0].thread = 0;
    par_worker(&args[0]);
    for (size_t k = 1; k <= started; k++) pthread_join(th[k], NULL);
    openblas_set_num_threads(saved > 0 ? saved : 1);
    pthread_mutex_destroy(&ps.mu);
    if (ps.st != TL_OK) return tl_fail(ps.st, "%s", ps.msg);
    return TL_OK;
}

/* tli_overlap's shared state: the side job's result and who finished first. */
typedef struct {
    pthread_mutex_t mu;
    tl_job_fn fn;
    void *ctx;
    tl_status st;
    char msg[512];
    int saved;    /* OpenBLAS's count on entry */
    bool one_done; /* one of the two has finished and given the count back */
} overlap_state;

/* The first of the two to finish gives OpenBLAS its threads back for the other one. */
static void overlap_finished(overlap_state *o) {
    pthread_mutex_lock(&o->mu);
    if (!o->one_done) {
        o->one_done = true;
        openblas_set_num_threads(o->saved);
    }
    pthread_mutex_unlock(&o->mu);
}

static void *overlap_side(void *v) {
    overlap_state *o = v;
    o->st = o->fn(o->ctx);
    if (o->st != TL_OK) snprintf(o->msg, sizeof o->msg, "%s", tl_error_message());
    overlap_finished(o);
    return NULL;
}

tl_status tli_overlap(tl_job_fn main, void *mctx, tl_job_fn side, void *sctx) {
    overlap_state o;
    pthread_t th;
    memset(&o, 0, sizeof o);
    o.saved = openblas_get_num_threads();
    if (o.saved < 2 || pthread_mutex_init(&o.mu, NULL) != 0) {
        tl_status st = main(mctx);
        return st != TL_OK ? st : side(sctx);
    }
    o.fn = side;
    o.ctx = sctx;
    openblas_set_num_threads(1);
    if (pthread_create(&th, NULL, overlap_side, &o) != 0) { /* no second thread: in turn */
        openblas_set_num_threads(o.saved);
        pthread_mutex_destroy(&o.mu);
        tl_status st = main(mctx);
        return st != TL_OK ? st : side(sctx);
    }
    tl_status st = main(mctx);
    char mmsg[512];
    if (st != TL_OK) snprintf(mmsg, sizeof mmsg, "%s", tl_error_message());
    overlap_finished(&o);
    pthread_join(th, NULL);
    openblas_set_num_threads(o.saved);
    pthread_mutex_destroy(&o.mu);
    if (st != TL_OK) return tl_fail(st, "%s", mmsg);
    if (o.st != TL_OK) return tl_fail(o.st, "%s", o.msg);
    return TL_OK;
}
