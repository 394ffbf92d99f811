/* Regression targets on a dataset: one real value per row, kept in place of the integer class
 * labels (a dataset holds one or the other). The readers parse a label column as targets when
 * asked through tl_dataset_load_targets; subset, concat and clone carry them (dataset.c). Kept
 * apart from the class labels so the many class-only paths (class names, unique classes,
 * stratified folds) never see a real number. */
#include <math.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

const double *tl_dataset_targets(const tl_dataset *ds) { return ds ? ds->t : NULL; }
bool tl_dataset_has_targets(const tl_dataset *ds) { return ds && ds->t; }

void tlp_dataset_adopt_targets(tl_dataset *ds, double *t) {
    if (ds->t != t) tl_free(ds->t);
    ds->t = t;
    if (t) {
        tl_free(ds->y);
        ds->y = NULL;
        tl_dataset_clear_names(ds);
    }
}

tl_status tl_dataset_set_targets(tl_dataset *ds, const double *t) {
    tl_status st = TL_OK;
    double *nt = NULL;
    TL_CHECK(ds != NULL, TL_ERR_INVALID_ARG, "set targets: NULL dataset");
    if (t) {
        if (t == ds->t) goto done;
        for (size_t i = 0; i < ds->rows; i++)
            TL_CHECK(isfinite(t[i]), TL_ERR_NONFINITE, "%s: target of row %zu is %s",
                     tl_dataset_name(ds), i + 1, isnan(t[i]) ? "NaN" : "Inf");
        TL_ALLOC(nt, ds->rows ? ds->rows : 1);
        memcpy(nt, t, ds->rows * sizeof *nt);
    }
    tlp_dataset_adopt_targets(ds, nt);
    nt = NULL;
done:
    tl_free(nt);
    return st;
}

tl_status tlp_labels_to_targets(tl_dataset *ds) {
    tl_status st = TL_OK;
    double *t = NULL;
    if (!ds->y) goto done;
    TL_ALLOC(t, ds->rows ? ds->rows : 1);
    for (size_t i = 0; i < ds->rows; i++) t[i] = ds->y[i];
    tlp_dataset_adopt_targets(ds, t);
    t = NULL;
done:
    tl_free(t);
    return st;
}

tl_status tl_dataset_load_targets(const char *spec, const tl_load_opts *opts, tl_dataset **out) {
    return tlp_dataset_load(spec, opts, true, out);
}
