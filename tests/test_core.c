/* Core: status names, error detail, allocator override (injected out-of-memory), RNG
 * reproducibility and distribution sanity, size overflow checks, tl_mat basics. */
#include "harness.h"
#include "tl.h"

static int fail_after = -1;
static void *counting_alloc(void *u, size_t n) {
    (void)u;
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return malloc(n);
}
static void *counting_realloc(void *u, void *p, size_t n) { (void)u; return realloc(p, n); }
static void counting_free(void *u, void *p) { (void)u; free(p); }

TEST(status_names) {
    CHECK(strcmp(tl_status_name(TL_OK), "ok") == 0);
    CHECK(strcmp(tl_status_name(TL_ERR_FORMAT), "bad format") == 0);
    CHECK(strcmp(tl_status_name((tl_status)999), "unknown status") == 0);
    /* pinned values */
    CHECK(TL_ERR_NOMEM == 1 && TL_ERR_FORMAT == 4 && TL_ERR_STATE == 12);
}

TEST(oom_injection) {
    tl_allocator a = {counting_alloc, counting_realloc, counting_free, NULL};
    tl_allocator_set(&a);
    fail_after = 0;
    tl_mat m;
    CHECK_STATUS(tl_mat_alloc(&m, 10, 10), TL_ERR_NOMEM);
    CHECK(m.data == NULL);
    fail_after = -1;
    CHECK_OK(tl_mat_alloc(&m, 10, 10));
    tl_mat_free(&m);
    tl_allocator_set(NULL);
}

TEST(size_overflow) {
    size_t out;
    CHECK(tl_size_mul((size_t)1 << 40, (size_t)1 << 40, &out) == -1);
    CHECK(tl_size_mul(3, 4, &out) == 0 && out == 12);
    tl_mat m;
    CHECK_STATUS(tl_mat_alloc(&m, (size_t)1 << 40, (size_t)1 << 40), TL_ERR_NOMEM);
    CHECK_ERR_HAS("overflows");
}

TEST(rng_reproducible) {
    tl_rng a, b;
    tl_rng_seed(&a, 7);
    tl_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) CHECK(tl_rng_u64(&a) == tl_rng_u64(&b));
    tl_rng_seed(&b, 8);
    CHECK(tl_rng_u64(&a) != tl_rng_u64(&b));
}

TEST(rng_moments) {
    tl_rng r;
    tl_rng_seed(&r, 1);
    double s = 0, s2 = 0, u = 0;
    int n = 200000;
    size_t below[5] = {0};
    for (int i = 0; i < n; i++) {
        double z = tl_rng_normal(&r);
        s += z;
        s2 += z * z;
        double v = tl_rng_uniform(&r);
        CHECK(v >= 0 && v < 1);
        u += v;
        below[tl_rng_below(&r, 5)]++;
    }
    CHECK(fabs(s / n) < 0.01);
    CHECK(fabs(s2 / n - 1) < 0.02);
    CHECK(fabs(u / n - 0.5) < 0.005);
    for (int k = 0; k < 5; k++) CHECK(fabs((double)below[k] / n - 0.2) < 0.005);
}

TEST(shuffle_is_permutation) {
    tl_rng r;
    tl_rng_seed(&r, 3);
    size_t idx[50], seen[50] = {0};
    for (size_t i = 0; i < 50; i++) idx[i] = i;
    tl_rng_shuffle(&r, idx, 50);
    int moved = 0;
    for (size_t i = 0; i < 50; i++) {
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (size_t i = 0; i < 50; i++) CHECK(seen[i] == 1);
    CHECK(moved > 30);
}

TEST(mat_views) {
    double d[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    tl_mat m = tl_mat_view(d, 3, 4);
    tl_mat r = tl_mat_rows(m, 1, 2);
    CHECK(TL_AT(r, 0, 0) == 4 && TL_AT(r, 1, 3) == 11);
    tl_mat c = tl_mat_cols(m, 2, 2);
    CHECK(TL_AT(c, 0, 0) == 2 && TL_AT(c, 2, 1) == 11 && c.ld == 4);
    tl_mat cl;
    CHECK_OK(tl_mat_clone(&cl, c));
    CHECK(cl.ld == 2 && TL_AT(cl, 2, 1) == 11);
    tl_mat_free(&cl);
    d[5] = NAN;
    CHECK_STATUS(tl_mat_check_finite(m, "X"), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("row 2, column 2");
}

TEST(ctx_logging) {
    tl_ctx c = tl_ctx_default();
    CHECK(c.seed == 42);
    tl_log(&c, TL_LOG_ERROR, "nothing happens %d", 1); /* no callback: silent */
    CHECK(strcmp(tl_version(), TL_VERSION_STRING) == 0);
}

int main(void) {
    RUN(status_names);
    RUN(oom_injection);
    RUN(size_overflow);
    RUN(rng_reproducible);
    RUN(rng_moments);
    RUN(shuffle_is_permutation);
    RUN(mat_views);
    RUN(ctx_logging);
    return tl_test_summary();
}
