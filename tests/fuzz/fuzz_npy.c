/* libFuzzer target for the .npy parser: the whole input is one file image. It must never crash,
 * leak, read out of bounds or allocate more than the input can describe; failures just return a
 * status. Seeds: tests/fuzz/corpus/npy (valid files of several dtypes / orders / versions, and
 * broken ones). */
#include <stddef.h>
#include <stdint.h>

#include "internal/testing.h"
#include "tl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_mat X;
    size_t ndim = 0;
    if (tl_parse_npy(data, size, "fuzz.npy", &X, &ndim) == TL_OK) tl_mat_free(&X);
    return 0;
}
