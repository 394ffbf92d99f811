/* Minimal test harness: CHECK-style assertions that count instead of abort, SKIP for a test that
 * cannot run here (missing data, a library built without a feature), a per-file summary printed as
 * "N passed, N failed, N skipped" on its own line (the "N passed, N failed" prefix is what older
 * parsers read), and helpers to find the shared data folder.
 * Usage: TEST(name) { REQUIRE_DATA(dir); CHECK(x); } ...
 *        int main(void) { RUN(name); return tl_test_summary(); }
 * A test ends in exactly one of three states: failed (any check failed, even if it then skipped),
 * skipped (SKIP was reached with no failed check; printed as "SKIP name: reason"), or passed.
 * A skipped test is never counted as passed. The binary exits 1 when a test failed, 0 otherwise. */
#ifndef TL_TEST_HARNESS_H
#define TL_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int tl_t_passed, tl_t_failed, tl_t_skipped, tl_t_cur_failed, tl_t_cur_skipped;
static const char *tl_t_cur_name = "";
static char tl_t_skip_reason[2048];

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        tl_t_cur_failed = 0;                                                                       \
        tl_t_cur_skipped = 0;                                                                      \
        tl_t_cur_name = #name;                                                                     \
        test_##name();                                                                             \
        if (tl_t_cur_failed) {                                                                     \
            tl_t_failed++;                                                                         \
            printf("FAIL %s\n", #name);                                                            \
        } else if (tl_t_cur_skipped) {                                                             \
            tl_t_skipped++;                                                                        \
            printf("SKIP %s: %s\n", #name, tl_t_skip_reason);                                      \
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

/* Stop the current test and count it as skipped, with a printf-style reason saying what is missing
 * and how to provide it. Returns from the enclosing function, so use it in the TEST body itself
 * (a helper can return a reason string for the body to SKIP with). Checks that failed before it
 * still fail the test. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        snprintf(tl_t_skip_reason, sizeof tl_t_skip_reason, __VA_ARGS__);                          \
        tl_t_cur_skipped = 1;                                                                      \
        return;                                                                                    \
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

/* Folder of the shared benchmark data as configured: $TL_DATA_DIR, or ../shared/data. */
static inline const char *tl_test_data_dir_name(void) {
    const char *d = getenv("TL_DATA_DIR");
    return d && *d ? d : "../shared/data";
}

static inline int tl_test_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static inline int tl_test_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The shared data folder, or NULL if absent. */
static inline const char *tl_test_data_dir(void) {
    const char *d = tl_test_data_dir_name();
    return tl_test_is_dir(d) ? d : NULL;
}

/* Declares `const char *dir` = the shared data folder; skips the test when it is absent. */
#define REQUIRE_DATA(dir)                                                                          \
    const char *dir = tl_test_data_dir();                                                          \
    if (!dir)                                                                                      \
        SKIP("shared data folder %s not found (set TL_DATA_DIR)", tl_test_data_dir_name())

/* After REQUIRE_DATA(dir): skips the test when dir/sub (a data set's folder or file) is absent. */
#define REQUIRE_DATA_SUB(dir, sub)                                                                 \
    do {                                                                                           \
        char tl_sub_[1024];                                                                        \
        snprintf(tl_sub_, sizeof tl_sub_, "%s/%s", (dir), (sub));                                  \
        if (!tl_test_exists(tl_sub_)) SKIP("%s not found (set TL_DATA_DIR)", tl_sub_);             \
    } while (0)

/* Prints the binary's summary line and returns its exit status: 1 when a test failed, else 0. */
static inline int tl_test_summary(void) {
    printf("%d passed, %d failed, %d skipped\n", tl_t_passed, tl_t_failed, tl_t_skipped);
    fflush(stdout);
    return tl_t_failed ? 1 : 0;
}

#endif
