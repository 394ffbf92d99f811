/* libFuzzer target for the safetensors parser (src/io/safetensors.c): the whole input is one file
 * image. It must never crash, leak, read out of bounds or allocate more than the input describes;
 * a parsed file's tensors are also converted to float32 to exercise the dtype paths. Seeds:
 * tests/fuzz/corpus/safetensors (the PyTorch parity fixtures, libtl exports, and broken headers). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tl/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_safetensors *s = NULL;
    if (tl_safetensors_parse(data, size, "fuzz.safetensors", &s) != TL_OK) return 0;
    for (size_t i = 0; i < tl_safetensors_count(s); i++) {
        size_t nd;
        const size_t *dims;
        tl_safetensors_info(s, i, NULL, NULL, &nd, &dims);
        size_t n = 1;
        for (size_t k = 0; k < nd; k++) n *= dims[k];
        if (n > ((size_t)1 << 24)) continue; /* bounded by the input anyway */
        float *out = malloc(n ? n * sizeof *out : 1);
        if (out) tl_safetensors_get_f32(s, i, out);
        free(out);
    }
    tl_safetensors_meta(s, "libtl_arch");
    tl_safetensors_free(s);
    return 0;
}
