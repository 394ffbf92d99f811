/* Golden fixtures written by the scripts in tests/golden/: text files of named matrices, each a
 * line "name rows cols" followed by rows * cols numbers (lines starting with '#' are comments).
 * Shared by the tests that compare against numpy/scipy references. */
#ifndef TL_TESTS_GOLDEN_FIXTURE_H
#define TL_TESTS_GOLDEN_FIXTURE_H

#include <stddef.h>

#include "tl/linalg.h"

#define GOLDEN_MAX 40
typedef struct {
    char name[32];
    size_t rows, cols;
    double *v;
} golden_entry;
typedef struct {
    golden_entry e[GOLDEN_MAX];
    int n;
} golden;

/* Loads tests/golden/FILE (run from the repository root); 0, or -1 with a message printed. */
int golden_load(golden *g, const char *file);
void golden_free(golden *g);
/* The entry as a (rows, cols) view; an empty view (data NULL) with a message when missing. */
tl_mat gmat(const golden *g, const char *name);
/* The entry's first value; NaN when missing. */
double gnum(const golden *g, const char *name);

#endif
