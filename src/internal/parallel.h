/* Private task runner shared by the modules (instance weighting, k-NN): ntasks independent tasks on
 * up to nthreads threads, claimed dynamically, with OpenBLAS single-threaded while they run (its
 * workers would otherwise spin beside ours). */
#ifndef TL_INTERNAL_PARALLEL_H
#define TL_INTERNAL_PARALLEL_H

#include <stddef.h>

#include "tl/core.h"

/* A task: fn(ctx, task, thread) with task < ntasks and thread < nthreads (per-thread buffers are
 * indexed by thread). */
typedef tl_status (*tl_task_fn)(void *ctx, size_t task, size_t thread);
/* Runs every task; the first failure (status and message) is returned, and no task starts after
 * it. nthreads <= 1 (or one task) runs them in order on the caller's thread. A thread that cannot
 * be started leaves its share to the others. */
tl_status tl_parallel_tasks(size_t ntasks, size_t nthreads, tl_task_fn fn, void *ctx);
/* Two different jobs at once: main(mctx) on the calling thread and side(sctx) on a second
 * thread, when OpenBLAS's count allows two threads (otherwise, or when the thread cannot start,
 * side runs after main on the caller's thread). OpenBLAS is single-threaded while both run, and
 * whichever finishes first puts its count back for the other's remaining calls. Returns main's
 * failure if any, else side's (status and message). The two must share nothing they write. */
typedef tl_status (*tl_job_fn)(void *ctx);
tl_status tli_overlap(tl_job_fn main, void *mctx, tl_job_fn side, void *sctx);
/* OpenBLAS's thread count: the library's default parallelism (tl_ctx.threads sets it for the
 * duration of a library call, see tli_threads_enter). */
int tl_parallel_default_threads(void);

/* The thread scope of a library call: with ctx->threads > 0, OpenBLAS (and so the task runner's
 * default) uses that many threads until tli_threads_leave puts back the caller's own setting, so
 * a host program (numpy in the same process, say) keeps its thread count. Scopes nest. */
typedef struct {
    int saved; /* OpenBLAS's count on entry; 0 = nothing to restore */
} tli_thread_scope;
tli_thread_scope tli_threads_enter(const tl_ctx *ctx);
void tli_threads_leave(tli_thread_scope s);
/* The same for a bare thread count (learner parameters carry one): n <= 0 leaves it as is. */
tli_thread_scope tli_threads_enter_n(int n);

#endif
