/* An allocator for out-of-memory injection tests: the first oom_left allocations succeed, then
 * every one fails (oom_left < 0: never fails). realloc counts as an allocation. Install it with
 * tl_allocator_set(&oom_allocator) and remove it with tl_allocator_set(NULL). */
#ifndef TL_TESTS_OOM_ALLOC_H
#define TL_TESTS_OOM_ALLOC_H

#include "tl/core.h"

extern long oom_left;
extern const tl_allocator oom_allocator;

#endif
