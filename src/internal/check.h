/* Private error helpers shared by every module: set the thread-local error detail and return a
 * status in one expression, and propagate failures with a single exit path (TL_TRY + goto done). */
#ifndef TL_INTERNAL_CHECK_H
#define TL_INTERNAL_CHECK_H

#include "tl/core.h"

/* Record the detail message (printf format) and return s. */
tl_status tl_fail(tl_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prefix the current detail message with "prefix: " (e.g. a file name) and return s. */
tl_status tl_fail_prefix(tl_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* TL_OK, or TL_ERR_CANCELLED with "cancelled in <where>" (printf format) when ctx's cancel
 * callback asks to stop (tl_ctx.cancel; NULL ctx or callback: TL_OK). For the long loops. */
tl_status tl_cancel_check(const tl_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Evaluate a tl_status expression; on failure store it in `st` and jump to `done`. */
#define TL_TRY(expr)                                                                               \
    do {                                                                                           \
        st = (expr);                                                                               \
        if (st != TL_OK) goto done;                                                                \
    } while (0)

/* Check a condition on user input; on failure record the message and jump to `done`. */
#define TL_CHECK(cond, status, ...)                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            st = tl_fail((status), __VA_ARGS__);                                                   \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* Allocate n elements of type T into ptr, overflow-checked; on failure jump to `done`. */
#define TL_ALLOC(ptr, n)                                                                           \
    do {                                                                                           \
        size_t tl_alloc_bytes_;                                                                    \
        if (tl_size_mul((size_t)(n), sizeof(*(ptr)), &tl_alloc_bytes_) != 0) {                     \
            st = tl_fail(TL_ERR_NOMEM, "size overflow allocating %zu elements", (size_t)(n));      \
            goto done;                                                                             \
        }                                                                                          \
        (ptr) = tl_malloc(tl_alloc_bytes_ ? tl_alloc_bytes_ : 1);                                  \
        if (!(ptr)) {                                                                              \
            st = tl_fail(TL_ERR_NOMEM, "out of memory allocating %zu bytes", tl_alloc_bytes_);     \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* Same, zero-filled. */
#define TL_CALLOC(ptr, n)                                                                          \
    do {                                                                                           \
        (ptr) = tl_calloc(((n) != 0) ? (size_t)(n) : 1, sizeof(*(ptr)));                                  \
        if (!(ptr)) {                                                                              \
            st = tl_fail(TL_ERR_NOMEM, "out of memory allocating %zu elements", (size_t)(n));      \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* BLAS/LAPACK take int sizes: check before narrowing. */
#define TL_INT_MAX_DIM 2147483647ULL
#define TL_CHECK_INT(v, what)                                                                      \
    TL_CHECK((unsigned long long)(v) <= TL_INT_MAX_DIM, TL_ERR_INVALID_ARG,                       \
             "%s = %zu exceeds the BLAS/LAPACK int range", (what), (size_t)(v))

#endif
