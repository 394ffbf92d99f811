/* Minimal test harness: CHECK-style assertions that count instead of abort, a per-file summary
 * printed as "N passed, N failed" on its own line, and helpers to find the shared data folder.
 * Usage: TEST(name) { CHECK(x); } ... int main(void) { RUN(name); return tl_test_summary(); } */
#ifndef TL_TEST_HARNESS_H
#define TL_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int tl_t_passed, tl_t_failed, tl_t_cur_failed;
static const char *tl_t_cur_name = "";

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        tl_t_cur_failed = 0;                                                                       \
        tl_t_cur_name = #name;                                                                     \
        test_##name();                                                                             \
        if (tl_t_cur_failed) {                                                                     \
            tl_t_failed++;                                                                         \
            printf("FAIL %s\n", #name);                                                            \
        } else {                                                                                   \
            tl_t_passed++;                                                                         \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("  %s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, tl_t_cur_name, #cond); \
            tl_t_cur_failed = 1;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("  %s:%d: [%s] check failed: %s: ", __FILE__, __LINE__, tl_t_cur_name, #cond); \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            tl_t_cur_failed = 1;                                                                   \
        }                                                                                          \
    } while (0)

/* |a - b| <= tol * max(1, |a|, |b|) */
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double tl_a_ = (double)(a), tl_b_ = (double)(b);                                           \
        double tl_s_ = fmax(1.0, fmax(fabs(tl_a_), fabs(tl_b_)));                                  \
        if (!(fabs(tl_a_ - tl_b_) <= (tol) * tl_s_)) {                                             \
            printf("  %s:%d: [%s] %s = %.10g, %s = %.10g (tol %g)\n", __FILE__, __LINE__,          \
                   tl_t_cur_name, #a, tl_a_, #b, tl_b_, (double)(tol));                            \
            tl_t_cur_failed = 1;                                                                   \
        }                                                                                          \
    } while (0)

/* Checks a tl_status call returns the expected status; prints the error detail otherwise. */
#define CHECK_STATUS(expr, expected)                                                               \
    do {                                                                                           \
        int tl_st_ = (int)(expr);                                                                  \
        if (tl_st_ != (int)(expected)) {                                                           \
            printf("  %s:%d: [%s] %s returned %d, expected %d (%s)\n", __FILE__, __LINE__,         \
                   tl_t_cur_name, #expr, tl_st_, (int)(expected), tl_error_message());             \
            tl_t_cur_failed = 1;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, TL_OK)

/* The last error message contains the substring s. */
#define CHECK_ERR_HAS(s)                                                                           \
    CHECK_MSG(strstr(tl_error_message(), (s)) != NULL, "message \"%s\" lacks \"%s\"",             \
              tl_error_message(), (s))

/* Folder of the shared benchmark data: $TL_DATA_DIR or ../shared/data. NULL if absent. */
static inline const char *tl_test_data_dir(void) {
    const char *d = getenv("TL_DATA_DIR");
    if (!d || !*d) d = "../shared/data";
    struct stat sb;
    if (stat(d, &sb) != 0 || !S_ISDIR(sb.st_mode)) return NULL;
    return d;
}

/* Skip (with a visible message, counted neither passed nor failed) when data is missing. */
#define REQUIRE_DATA(dir)                                                                          \
    const char *dir = tl_test_data_dir();                                                          \
    if (!dir) {                                                                                    \
        printf("SKIP %s: shared data folder not found (set TL_DATA_DIR)\n", tl_t_cur_name);        \
        return;                                                                                    \
    }

static inline int tl_test_summary(void) {
    printf("%d passed, %d failed\n", tl_t_passed, tl_t_failed);
    return tl_t_failed ? 1 : 0;
}

#endif
