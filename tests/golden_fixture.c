/* Loader of the golden fixtures (see golden_fixture.h). */
#include "golden_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int golden_load(golden *g, const char *file) {
    memset(g, 0, sizeof *g);
    char path[256];
    snprintf(path, sizeof path, "tests/golden/%s", file);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("  cannot open %s (run the tests from the repository root)\n", path);
        return -1;
    }
    char line[256];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        golden_entry *e = &g->e[g->n];
        if (g->n >= GOLDEN_MAX || sscanf(line, "%31s %zu %zu", e->name, &e->rows, &e->cols) != 3) {
            rc = -1;
            break;
        }
        e->v = malloc(e->rows * e->cols * sizeof(double) + 1);
        for (size_t i = 0; i < e->rows * e->cols; i++)
            if (fscanf(f, "%lf", &e->v[i]) != 1) rc = -1;
        int c;
        while ((c = fgetc(f)) != '\n' && c != EOF) {
        }
        g->n++;
    }
    fclose(f);
    if (rc) printf("  malformed fixture %s\n", path);
    return rc;
}

void golden_free(golden *g) {
    for (int i = 0; i < g->n; i++) free(g->e[i].v);
    g->n = 0;
}

tl_mat gmat(const golden *g, const char *name) {
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->e[i].name, name) == 0)
            return tl_mat_view(g->e[i].v, g->e[i].rows, g->e[i].cols);
    printf("  fixture entry %s missing\n", name);
    tl_mat none = {0, 0, 0, NULL};
    return none;
}

double gnum(const golden *g, const char *name) {
    tl_mat m = gmat(g, name);
    return m.data ? m.data[0] : NAN;
}
