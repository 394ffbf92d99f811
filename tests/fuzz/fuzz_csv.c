/* libFuzzer target for the CSV parser (tl_parse_csv). The first input byte picks the options
 * (header auto/none/present, delimiter auto/,/;/tab/space, label column last/first/none/by name)
 * so one corpus exercises every path; the rest is the file, parsed for classes and again for
 * regression targets. Everything is freed and nothing is
 * printed: a crash, leak or sanitizer report is the only failure. */
#include <stddef.h>
#include <stdint.h>

#include "data/dataset_internal.h"
#include "internal/testing.h"
#include "tl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_load_opts o = tl_load_opts_default();
    if (size > 0) {
        uint8_t b = data[0];
        static const char delims[5] = {0, ',', ';', '\t', ' '};
        o.csv_header = (int)(b & 3) - 1; /* -1, 0, 1, 2 (= present) */
        o.delimiter = delims[((b >> 2) & 7) % 5];
        switch ((b >> 5) & 7) {
        case 0: o.label_col = -1; break;
        case 1: o.label_col = 0; break;
        case 2: o.label_col = TL_LABEL_COL_NONE; break;
        case 3: o.label_col = -2; break;
        case 4: o.label_col = 3; break;
        case 5: o.label_name = "y"; break;
        case 6: o.label_name = "label"; break;
        default: o.label_col = -1000; break;
        }
        data++;
        size--;
    }
    tl_dataset *ds = NULL;
    if (tl_parse_csv((const char *)data, size, "fuzz.csv", &o, &ds) == TL_OK) {
        /* touch the result so a wrong shape shows up under ASan */
        tl_mat X = tl_dataset_dense(ds);
        double s = 0;
        for (size_t i = 0; i < X.rows; i++)
            for (size_t j = 0; j < X.cols; j++) s += TL_AT(X, i, j);
        const int *y = tl_dataset_labels_const(ds);
        if (y)
            for (size_t i = 0; i < X.rows; i++) s += y[i];
        (void)s;
        (void)tl_dataset_check_finite(ds);
    }
    tl_dataset_free(ds);
    ds = NULL;
    /* the same bytes with the label column read as regression targets */
    if (tlp_parse_csv((const char *)data, size, "fuzz.csv", &o, true, &ds) == TL_OK) {
        const double *t = tl_dataset_targets(ds);
        double s = 0;
        for (size_t i = 0; t && i < tl_dataset_rows(ds); i++) s += t[i];
        if (t && !(s == s)) __builtin_trap(); /* targets are finite: their sum is not NaN */
        if (t && tl_dataset_has_labels(ds)) __builtin_trap();
    }
    tl_dataset_free(ds);
    return 0;
}
