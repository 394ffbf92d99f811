/* libFuzzer target for the IDX parser (plain and gzip-compressed): the whole input is one file
 * image. It must never crash, leak, or allocate beyond what the input really inflates to.
 * Seeds: tests/fuzz/corpus/idx (MNIST-style images and labels, plain and .gz, other element
 * types, truncated copies). */
#include <stddef.h>
#include <stdint.h>

#include "internal/testing.h"
#include "tl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_mat X;
    size_t dims[4], ndim = 0;
    if (tl_parse_idx(data, size, "fuzz.idx", &X, dims, &ndim) == TL_OK) tl_mat_free(&X);
    return 0;
}
