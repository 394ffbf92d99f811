/* The one overridable allocator. All libtl allocations route through here so tests can inject
 * out-of-memory failures and embedders can plug in their own arena. The default allocator asks
 * the kernel for transparent huge pages on large blocks (as numpy does): page faults dominate the
 * first touch of big matrices on VMs otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tl/core.h"

#define TL_HUGE_MIN ((size_t)4 << 20)

static void advise_huge(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    if (!p || n < TL_HUGE_MIN) return;
    const uintptr_t page = 4096;
    uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)p + n) & ~(page - 1);
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

static void *sys_alloc(void *u, size_t n) {
    (void)u;
    void *p = malloc(n);
    advise_huge(p, n);
    return p;
}
static void *sys_realloc(void *u, void *p, size_t n) { (void)u; return realloc(p, n); }
static void sys_free(void *u, void *p) { (void)u; free(p); }

static tl_allocator tl_current = {sys_alloc, sys_realloc, sys_free, NULL};

void tl_allocator_set(const tl_allocator *a) {
    if (a && a->alloc && a->realloc && a->free)
        tl_current = *a;
    else
        tl_current = (tl_allocator){sys_alloc, sys_realloc, sys_free, NULL};
}

int tl_size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return -1;
    *out = a * b;
    return 0;
}

void *tl_malloc(size_t size) {
    if (size == 0) return NULL;
    return tl_current.alloc(tl_current.user, size);
}

void *tl_calloc(size_t n, size_t size) {
    size_t bytes;
    if (tl_size_mul(n, size, &bytes) != 0 || bytes == 0) return NULL;
    if (tl_current.alloc == sys_alloc) {
        /* calloc gets fresh zero pages from mmap for large blocks: no second pass over memory */
        void *z = calloc(n, size);
        advise_huge(z, bytes);
        return z;
    }
    void *p = tl_current.alloc(tl_current.user, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void *tl_realloc(void *ptr, size_t size) {
    if (size == 0) return NULL;
    if (!ptr) return tl_current.alloc(tl_current.user, size);
    return tl_current.realloc(tl_current.user, ptr, size);
}

void tl_free(void *ptr) {
    if (ptr) tl_current.free(tl_current.user, ptr);
}
