/* The out-of-memory injection allocator shared by the tests (see oom_alloc.h). */
#include "oom_alloc.h"

#include <stdlib.h>

long oom_left = -1;

/* One allocation's turn: false once the budget is spent. Atomic, since a run's baseline and
 * guard allocate on a second thread while the method allocates on the first. */
static int oom_take(void) {
    long v = __atomic_load_n(&oom_left, __ATOMIC_RELAXED);
    for (;;) {
        if (v == 0) return 0;
        if (v < 0) return 1;
        if (__atomic_compare_exchange_n(&oom_left, &v, v - 1, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return 1;
    }
}

static void *oom_alloc(void *u, size_t n) {
    (void)u;
    return oom_take() ? malloc(n) : NULL;
}

static void *oom_realloc(void *u, void *p, size_t n) {
    (void)u;
    return oom_take() ? realloc(p, n) : NULL;
}

static void oom_free(void *u, void *p) {
    (void)u;
    free(p);
}

const tl_allocator oom_allocator = {oom_alloc, oom_realloc, oom_free, NULL};
