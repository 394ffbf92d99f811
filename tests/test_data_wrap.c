/* tl_dataset_wrap_dense: a dataset that reads the caller's rows where they are. Its rows are the
 * caller's memory (the pointer is checked); scaling it in place copies them first and leaves the
 * caller's values as they were; freeing it leaves the caller's memory alone (the sanitizer build
 * would report a bad free); rows that are not contiguous are refused; every allocation failure is
 * clean. */
#include <string.h>

#include "harness.h"
#include "oom_alloc.h"
#include "tl.h"

TEST(rows_are_read_in_place) {
    double x[6] = {1, 2, 3, 4, 5, 7};
    int y[3] = {0, 1, 0};
    tl_dataset *ds = NULL;
    CHECK_OK(tl_dataset_wrap_dense(tl_mat_view(x, 3, 2), y, &ds));
    if (!ds) return;
    CHECK(tl_dataset_dense(ds).data == x);
    CHECK(tl_dataset_rows(ds) == 3 && tl_dataset_cols(ds) == 2);
    y[1] = 5; /* labels are copied */
    CHECK(tl_dataset_labels_const(ds)[1] == 1);
    tl_dataset_free(ds);
    CHECK(x[5] == 7);
}

TEST(scaling_copies_first) {
    double x[6] = {1, 2, 3, 4, 5, 7}, keep[6];
    memcpy(keep, x, sizeof x);
    tl_dataset *ds = NULL;
    tl_preprocess p;
    CHECK_OK(tl_preprocess_parse("zscore", &p));
    CHECK_OK(tl_dataset_wrap_dense(tl_mat_view(x, 3, 2), NULL, &ds));
    CHECK_OK(tl_preprocess_apply(&p, ds));
    if (!ds) return;
    tl_mat X = tl_dataset_dense(ds);
    CHECK(X.data != x && memcmp(x, keep, sizeof x) == 0);
    CHECK_NEAR(X.data[0] + X.data[2] + X.data[4], 0.0, 1e-12); /* the copy is scaled */
    tl_dataset_free(ds);
}

TEST(bad_input) {
    double x[8] = {0};
    tl_dataset *ds = NULL;
    tl_mat strided = {2, 2, 4, x};
    CHECK_STATUS(tl_dataset_wrap_dense(strided, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("rows must be contiguous");
    CHECK(ds == NULL);
    tl_mat none = {2, 2, 2, NULL};
    CHECK_STATUS(tl_dataset_wrap_dense(none, NULL, &ds), TL_ERR_INVALID_ARG);
}

TEST(out_of_memory) {
    double x[6] = {1, 2, 3, 4, 5, 7};
    int y[3] = {0, 1, 0};
    int done = 0;
    for (long k = 0; k < 20 && !done; k++) {
        tl_dataset *ds = NULL;
        oom_left = k;
        tl_allocator_set(&oom_allocator);
        tl_status st = tl_dataset_wrap_dense(tl_mat_view(x, 3, 2), y, &ds);
        tl_allocator_set(NULL);
        if (st == TL_OK) done = 1;
        else CHECK(st == TL_ERR_NOMEM && ds == NULL);
        tl_dataset_free(ds);
    }
    CHECK(done);
}

int main(void) {
    RUN(rows_are_read_in_place);
    RUN(scaling_copies_first);
    RUN(bad_input);
    RUN(out_of_memory);
    return tl_test_summary();
}
