/* libFuzzer target for the svmlight parser (tl_parse_svmlight). The first input byte picks the
 * index base (auto/0/1), a fixed feature count or none, and densification (only with a fixed,
 * small feature count, so a hostile "1 2000000000:1" cannot ask for a huge dense matrix). The
 * parsed CSR is validated and densified rows are read back; the labels are parsed again as
 * regression targets. Nothing is printed. */
#include <stddef.h>
#include <stdint.h>

#include "data/dataset_internal.h"
#include "internal/testing.h"
#include "tl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_load_opts o = tl_load_opts_default();
    if (size > 0) {
        uint8_t b = data[0];
        o.index_base = (int)(b % 3) - 1;
        o.n_features = (b & 4) ? 16 : 0;
        o.densify = (b & 8) && o.n_features;
        data++;
        size--;
    }
    tl_dataset *ds = NULL;
    if (tl_parse_svmlight((const char *)data, size, "fuzz.svm", &o, &ds) == TL_OK) {
        if (tl_dataset_is_sparse(ds)) {
            tl_csr c = tl_dataset_csr(ds);
            tl_dataset *cp = NULL;
            /* the parser's output must pass the public validator */
            if (tl_dataset_from_csr(c, tl_dataset_labels_const(ds), &cp) != TL_OK) __builtin_trap();
            tl_dataset_free(cp);
            if (c.cols <= 64 && c.rows > 0) {
                double buf[64];
                tl_mat out = {1, c.cols, c.cols, buf};
                if (tl_xmat_rows_dense(tl_dataset_features(ds), c.rows - 1, 1, out) != TL_OK)
                    __builtin_trap();
            }
        } else {
            (void)tl_dataset_check_finite(ds);
        }
    }
    tl_dataset_free(ds);
    ds = NULL;
    /* the labels read as regression targets: finite, and never beside class labels */
    if (tlp_parse_svmlight((const char *)data, size, "fuzz.svm", &o, true, &ds) == TL_OK) {
        const double *t = tl_dataset_targets(ds);
        if (!t || tl_dataset_has_labels(ds)) __builtin_trap();
        for (size_t i = 0; i < tl_dataset_rows(ds); i++)
            if (!(t[i] - t[i] == 0)) __builtin_trap();
    }
    tl_dataset_free(ds);
    return 0;
}
