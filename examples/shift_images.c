/* Example: make a shifted copy of an image data set, the target domain of the Fashion-MNIST demo.
 *   shift_images IN_SPEC OUT.npy none|invert|rotate90|contrast [max_rows]
 * `invert` maps v -> 255 - v (contrast inversion), `rotate90` rotates each 28x28 image by 90
 * degrees, `contrast` halves the contrast and brightens (v -> 0.5 v + 102), `none` only copies (with
 * max_rows, a subset). Labels are kept. Shows the dataset API:
 * load a spec, edit the dense features in place, save atomically as .npy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s IN_SPEC OUT.npy none|invert|rotate90|contrast [max_rows]\n", argv[0]);
        return 2;
    }
    tl_dataset *ds = NULL, *sub = NULL;
    tl_status st = tl_dataset_load(argv[1], NULL, &ds);
    if (st != TL_OK) {
        fprintf(stderr, "shift_images: %s\n", tl_error_message());
        return 1;
    }
    if (argc > 4) {
        size_t m = (size_t)strtoul(argv[4], NULL, 10), n = tl_dataset_rows(ds);
        if (m > 0 && m < n) {
            size_t *idx = malloc(m * sizeof *idx);
            for (size_t i = 0; idx && i < m; i++) idx[i] = i;
            st = idx ? tl_dataset_subset(ds, idx, m, &sub) : TL_ERR_NOMEM;
            free(idx);
            if (st != TL_OK) goto fail;
            tl_dataset_free(ds);
            ds = sub;
        }
    }
    tl_mat X = tl_dataset_dense(ds);
    size_t side = 28;
    if (!X.data || (strcmp(argv[3], "rotate90") == 0 && X.cols != side * side)) {
        fprintf(stderr, "shift_images: need dense 28x28 images\n");
        tl_dataset_free(ds);
        return 1;
    }
    double img[28 * 28];
    for (size_t i = 0; i < X.rows; i++) {
        double *r = X.data + i * X.ld;
        if (strcmp(argv[3], "none") == 0) {
            break;
        } else if (strcmp(argv[3], "invert") == 0) {
            for (size_t j = 0; j < X.cols; j++) r[j] = 255.0 - r[j];
        } else if (strcmp(argv[3], "contrast") == 0) {
            for (size_t j = 0; j < X.cols; j++) r[j] = 102.0 + 0.5 * r[j];
        } else if (strcmp(argv[3], "rotate90") == 0) {
            for (size_t y = 0; y < side; y++)
                for (size_t x = 0; x < side; x++) img[x * side + (side - 1 - y)] = r[y * side + x];
            memcpy(r, img, sizeof img);
        } else {
            fprintf(stderr, "shift_images: unknown shift '%s'\n", argv[3]);
            tl_dataset_free(ds);
            return 2;
        }
    }
    st = tl_dataset_save(ds, argv[2], TL_FORMAT_NPY, 0);
    if (st != TL_OK) goto fail;
    tl_dataset_free(ds);
    return 0;
fail:
    fprintf(stderr, "shift_images: %s\n", tl_error_message());
    tl_dataset_free(ds);
    return 1;
}
