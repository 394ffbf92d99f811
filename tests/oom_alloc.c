/* The out-of-memory injection allocator shared by the tests (see oom_alloc.h). */
#include "oom_alloc.h"

#include <stdlib.h>

long oom_left = -1;

static void *oom_alloc(void *u, size_t n) {
    (void)u;
    if (oom_left == 0) return NULL;
    if (oom_left > 0) oom_left--;
    return malloc(n);
}

static void *oom_realloc(void *u, void *p, size_t n) {
    (void)u;
    if (oom_left == 0) return NULL;
    if (oom_left > 0) oom_left--;
    return realloc(p, n);
}

static void oom_free(void *u, void *p) {
    (void)u;
    free(p);
}

const tl_allocator oom_allocator = {oom_alloc, oom_realloc, oom_free, NULL};
