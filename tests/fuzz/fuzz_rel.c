/* libFuzzer target for the relational readers (src/relational): the first byte picks the reader.
 * 'M': the bytes are a model file (tl_rel_model_load); a model it accepts is printed, saved and
 * loaded again, so a file whose trees point outside their tables must fail with a status rather
 * than be read out of bounds.
 * Anything else: the bytes are a mode file, a line "%%" and facts, a line "%%" and examples of
 * the target `t` (tl_rel_db_create, tl_rel_db_add_facts, tl_rel_db_add_examples); a store the
 * readers accept is indexed and learned on (two small trees), and the model scores it.
 * The readers take paths, so the parts go through temporary files. No reader may crash, leak,
 * hang or touch memory outside its buffers.
 * Seeds: tests/fuzz/corpus/rel (a learned and a transferred model, a small domain, damaged
 * copies). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relational/rel_internal.h"
#include "tl/relational.h"

static int write_tmp(char *path, const uint8_t *d, size_t n) {
    strcpy(path, "/tmp/tl_fuzz_rel_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, d + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

/* the next part of d up to a line "%%" (or the end) */
static size_t part(const uint8_t *d, size_t n, size_t *next) {
    for (size_t i = 0; i + 2 < n; i++)
        if ((i == 0 || d[i - 1] == '\n') && d[i] == '%' && d[i + 1] == '%' && d[i + 2] == '\n') {
            *next = i + 3;
            return i;
        }
    *next = n;
    return n;
}

static void fuzz_model(const uint8_t *d, size_t n) {
    char path[64], out[64];
    if (write_tmp(path, d, n) != 0) return;
    tl_rel_model *m = NULL;
    if (tl_rel_model_load(path, &m) == TL_OK) {
        FILE *f = fopen("/dev/null", "w");
        if (f) {
            tl_rel_model_print(m, f);
            fclose(f);
        }
        strcpy(out, "/tmp/tl_fuzz_rel_out_XXXXXX");
        int fd = mkstemp(out);
        if (fd >= 0) {
            close(fd);
            tl_rel_model *l = NULL;
            if (tl_rel_model_save(m, out) == TL_OK && tl_rel_model_load(out, &l) == TL_OK)
                tl_rel_model_free(l);
            unlink(out);
        }
    }
    tl_rel_model_free(m);
    unlink(path);
}

static void fuzz_domain(const uint8_t *d, size_t n) {
    size_t n1, n2, n3, next1, next2, next3;
    n1 = part(d, n, &next1);
    n2 = part(d + next1, n - next1, &next2);
    n3 = part(d + next1 + next2, n - next1 - next2, &next3);
    char pm[64], pf[64], pe[64];
    if (write_tmp(pm, d, n1) != 0) return;
    if (write_tmp(pf, d + next1, n2) != 0) {
        unlink(pm);
        return;
    }
    if (write_tmp(pe, d + next1 + next2, n3) != 0) {
        unlink(pm);
        unlink(pf);
        return;
    }
    tl_rel_db *db = NULL;
    if (tl_rel_db_create(pm, "t", &db) == TL_OK) {
        if (tl_rel_db_add_facts(db, pf, 1) == TL_OK && tl_rel_db_add_examples(db, pe, 1, 1) == TL_OK &&
            tl_rel_db_n_examples(db, 1) > 0 && tl_rel_db_n_examples(db, 1) < 200 &&
            tl_rel_db_n_facts(db) < 2000 && rel_db_finish(db) == TL_OK) {
            tl_rel_params p = tl_rel_params_default();
            p.n_trees = 2;
            tl_rel_model *m = NULL;
            if (tl_rel_learn(&p, db, &m) == TL_OK) {
                size_t ne = tl_rel_db_n_examples(db, -1);
                double *pr = malloc(ne * sizeof *pr);
                int *y = malloc(ne * sizeof *y);
                if (pr && y && tl_rel_predict(m, db, pr, y) == TL_OK) (void)tl_rel_auc_pr(pr, y, ne);
                free(pr);
                free(y);
            }
            tl_rel_model_free(m);
        }
    }
    tl_rel_db_free(db);
    unlink(pm);
    unlink(pf);
    unlink(pe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] == 'M') fuzz_model(data + 1, size - 1);
    else fuzz_domain(data + 1, size - 1);
    return 0;
}
