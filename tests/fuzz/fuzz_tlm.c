/* libFuzzer target for the .tlm model container (src/io/tlm.c) and every reader of a model kind
 * that sits on it. Model files come from other people: a parsed container is handed to each
 * reader in turn - method models of every family (tl_model_read, at the top and nested as a
 * pipeline's "method."), pipelines (tl_pipeline_read), and the module readers on their own and on
 * the nested parts a pipeline or a method model keeps them in (tl_adapter_read, tl_weighter_read,
 * tl_learner_read, tl_scaler_read, tl_tradaboost_read). Whatever a reader accepts is then used on
 * a tiny input: three rows of every width the file's tensors mention (the model's own width among
 * them) and of the width the model reports, so that a file whose sizes disagree with its tensors
 * must fail with a status rather than read out of bounds. No reader may crash, leak, hang or
 * read or write outside its buffers.
 *
 * Neural networks too (tl_nn_read): a network read from the file runs a forward pass on three
 * rows of its input width, when that width is small enough to allocate here.
 *
 * The file ends with a CRC-32 of every byte before it, which almost every mutation breaks; the
 * target therefore also parses a copy with the checksum recomputed, so that mutated files get
 * past the container to the readers.
 *
 * Seeds: tests/fuzz/corpus/tlm, made by tests/fuzz/make_tlm_corpus.c (a saved model of every
 * registry method, pipelines of a feature, an instance and an ensemble method, each module's
 * object on its own, a network file), plus truncated and corrupted copies. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tl.h"

#define ROWS 3
#define MAX_WIDTHS 12
#define MAX_WIDTH 4096 /* the target's own allocations; a reader must bound larger claims itself */

typedef struct {
    size_t w[MAX_WIDTHS];
    size_t n;
} widths;

static void widths_add(widths *ws, size_t w) {
    if (w == 0 || w > MAX_WIDTH || ws->n == MAX_WIDTHS) return;
    for (size_t i = 0; i < ws->n; i++)
        if (ws->w[i] == w) return;
    ws->w[ws->n++] = w;
}

/* Every dimension of every tensor of c, and the value of every one-number f64 tensor (some
 * models keep their feature count so): the model's input width is among them. */
static void widths_from(const tl_tlm *c, widths *ws) {
    for (size_t i = 0; i < tl_tlm_tensor_count(c); i++) {
        tl_dtype dt;
        size_t nd;
        const size_t *dims;
        const void *data;
        if (tl_tlm_get_tensor(c, tl_tlm_tensor_name(c, i), &dt, &nd, &dims, &data) != TL_OK)
            continue;
        size_t count = 1;
        for (size_t k = 0; k < nd; k++) widths_add(ws, dims[k]), count *= dims[k];
        if (dt == TL_DTYPE_F64 && count == 1) {
            double v = *(const double *)data;
            if (v >= 1 && v <= MAX_WIDTH && v == (double)(size_t)v) widths_add(ws, (size_t)v);
        }
    }
}

/* ROWS x w values, varied and finite. */
static double *rows_of(size_t w) {
    double *x = malloc(ROWS * w * sizeof *x);
    if (!x) return NULL;
    for (size_t i = 0; i < ROWS * w; i++) x[i] = (double)((i * 7) % 11) / 5.0 - 1.0;
    return x;
}

static void use_model(const tl_model *m, const widths *wsin) {
    widths own = *wsin, *ws = &own; /* the widths the model says it takes, too */
    for (size_t dom = 0; dom < 3; dom++) widths_add(ws, tl_model_input_dim(m, dom));
    const tl_params *p = tl_model_params(m);
    const tl_method *me = tl_model_method(m);
    for (size_t i = 0; i < tl_method_param_count(me); i++)
        (void)tl_params_get(p, tl_method_param(me, i)->name);
    const char *key;
    double v;
    for (size_t i = 0; tl_model_info(m, i, &key, &v); i++) (void)key;
    size_t nfit = 0;
    const double *fw = tl_model_fit_weights(m, &nfit);
    double s = 0;
    for (size_t i = 0; fw && i < nfit; i++) s += fw[i]; /* every fitted weight is readable */
    (void)s;
    (void)tl_model_dim(m);
    for (size_t k = 0; k < ws->n; k++) {
        double *x = rows_of(ws->w[k]);
        if (!x) continue;
        tl_mat X = tl_mat_view(x, ROWS, ws->w[k]);
        for (size_t dom = 0; dom < 3; dom++) {
            tl_mat Z = {0, 0, 0, NULL};
            if (tl_model_transform(m, dom, X, &Z) == TL_OK) tl_mat_free(&Z);
        }
        double w[ROWS];
        int pred[ROWS];
        (void)tl_model_weights(m, tl_xmat_from_dense(X), w);
        (void)tl_model_predict(m, tl_xmat_from_dense(X), pred);
        free(x);
    }
}

static void use_pipeline(const tl_pipeline *p) {
    size_t nd = tl_pipeline_domains(p);
    if (tl_pipeline_model(p)) (void)tl_model_dim(tl_pipeline_model(p));
    for (size_t dom = 0; dom < nd && dom < 4; dom++) {
        size_t w = tl_pipeline_input_dim(p, dom);
        if (w == 0 || w > MAX_WIDTH) continue;
        double *x = rows_of(w);
        tl_dataset *ds = NULL;
        if (x && tl_dataset_from_dense(tl_mat_view(x, ROWS, w), NULL, &ds) == TL_OK) {
            int pred[ROWS];
            tl_mat Z = {0, 0, 0, NULL};
            (void)tl_pipeline_predict(p, dom, ds, pred);
            if (tl_pipeline_transform(p, dom, ds, &Z) == TL_OK) tl_mat_free(&Z);
        }
        tl_dataset_free(ds);
        free(x);
    }
}

/* The module readers, each on container c (a whole file or a nested part of one). */
static void use_modules(const tl_tlm *c, const widths *ws) {
    tl_adapter *a = NULL;
    if (tl_adapter_read(c, "fuzz.tlm", &a) == TL_OK) {
        widths aw = *ws;
        widths_add(&aw, tl_adapter_input_dim(a));
        (void)tl_adapter_dim(a);
        (void)tl_adapter_method(a);
        (void)tl_adapter_pseudo_labels(a);
        for (size_t k = 0; k < aw.n; k++) {
            double *x = rows_of(aw.w[k]);
            for (size_t dom = 0; x && dom < 3; dom++) {
                tl_mat Z = {0, 0, 0, NULL};
                if (tl_adapter_transform(a, dom, tl_mat_view(x, ROWS, aw.w[k]), &Z) == TL_OK)
                    tl_mat_free(&Z);
            }
            free(x);
        }
        tl_adapter_free(a);
    }
    tl_weighter *wt = NULL;
    if (tl_weighter_read(c, "fuzz.tlm", &wt) == TL_OK) {
        size_t n = 0;
        const double *fw = tl_weighter_fit_weights(wt, &n);
        double s = 0;
        for (size_t i = 0; fw && i < n; i++) s += fw[i];
        (void)s;
        (void)tl_weighter_info(wt);
        for (size_t k = 0; k < ws->n; k++) {
            double *x = rows_of(ws->w[k]), w[ROWS];
            if (x) (void)tl_weighter_weights(wt, tl_xmat_from_dense(tl_mat_view(x, ROWS, ws->w[k])), w);
            free(x);
        }
        tl_weighter_free(wt);
    }
    tl_learner *l = NULL;
    if (tl_learner_read(c, "fuzz.tlm", &l) == TL_OK) {
        size_t nc = tl_learner_nclasses(l);
        const int *cls = tl_learner_classes(l);
        long sum = 0;
        for (size_t i = 0; cls && i < nc; i++) sum += cls[i];
        (void)sum;
        for (size_t k = 0; k < ws->n; k++) {
            double *x = rows_of(ws->w[k]);
            int pred[ROWS];
            if (!x) continue;
            tl_xmat X = tl_xmat_from_dense(tl_mat_view(x, ROWS, ws->w[k]));
            (void)tl_learner_predict(l, X, pred);
            tl_mat S = {0, 0, 0, NULL};
            if (nc > 0 && nc <= MAX_WIDTH && tl_mat_alloc(&S, ROWS, nc) == TL_OK) {
                (void)tl_learner_scores(l, X, S);
                tl_mat_free(&S);
            }
            free(x);
        }
        tl_learner_free(l);
    }
    tl_scaler *sc = NULL;
    if (tl_scaler_read(c, "fuzz.tlm", &sc) == TL_OK) {
        for (size_t k = 0; k < ws->n; k++) {
            double *x = rows_of(ws->w[k]);
            tl_dataset *ds = NULL;
            if (x && tl_dataset_from_dense(tl_mat_view(x, ROWS, ws->w[k]), NULL, &ds) == TL_OK)
                (void)tl_scaler_apply(sc, ds);
            tl_dataset_free(ds);
            free(x);
        }
        tl_scaler_free(sc);
    }
    tl_nn *nn = NULL;
    if (tl_nn_read(c, "fuzz.tlm", &nn) == TL_OK) {
        size_t d = tl_nn_input_dim(nn), k = tl_nn_output_dim(nn);
        float *x = d && d <= MAX_WIDTH ? calloc(ROWS * d, sizeof *x) : NULL;
        float *out = k && k <= MAX_WIDTH ? calloc(ROWS * k, sizeof *out) : NULL;
        int pred[ROWS];
        if (x && out) {
            for (size_t i = 0; i < ROWS * d; i++) x[i] = (float)((i * 5) % 7) / 3.0f - 1.0f;
            (void)tl_nn_forward(nn, x, ROWS, out);
            (void)tl_nn_predict(nn, x, ROWS, pred);
        }
        free(x);
        free(out);
        tl_nn_free(nn);
    }
    tl_tradaboost *tb = NULL;
    if (tl_tradaboost_read(c, "fuzz.tlm", &tb) == TL_OK) {
        for (size_t k = 0; k < ws->n; k++) {
            double *x = rows_of(ws->w[k]);
            int pred[ROWS];
            if (x) (void)tl_tradaboost_predict(tb, tl_xmat_from_dense(tl_mat_view(x, ROWS, ws->w[k])), pred);
            free(x);
        }
        tl_tradaboost_free(tb);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_tlm *c = NULL;
    /* The input as it is (a mutated byte fails the checksum: that path must hold too), then,
     * when its last four bytes are not the CRC-32 of the rest, a copy with the checksum put
     * right, so that mutations reach the readers behind the container. */
    if (tl_tlm_parse(data, size, "fuzz.tlm", &c) != TL_OK) {
        if (size < 4) return 0;
        uint8_t *fixed = malloc(size);
        if (!fixed) return 0;
        memcpy(fixed, data, size);
        uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
        for (int k = 0; k < 4; k++) fixed[size - 4 + k] = (uint8_t)(crc >> (8 * k));
        tl_status st = memcmp(fixed, data, size) ? tl_tlm_parse(fixed, size, "fuzz.tlm", &c) : TL_ERR_FORMAT;
        free(fixed);
        if (st != TL_OK) return 0;
    }
    widths ws = {{0}, 0};
    widths_from(c, &ws);

    /* method models: a saved model, and the one a pipeline nests */
    static const char *const model_prefixes[] = {"", "method."};
    for (size_t i = 0; i < 2; i++) {
        tl_model *m = NULL;
        if (tl_model_read(c, model_prefixes[i], "fuzz.tlm", &m) == TL_OK) use_model(m, &ws);
        tl_model_free(m);
    }
    tl_pipeline *p = NULL;
    if (tl_pipeline_read(c, "fuzz.tlm", &p) == TL_OK) use_pipeline(p);
    tl_pipeline_free(p);

    /* the module readers on the whole file and on the parts models nest them in */
    static const char *const parts[] = {"", "state.", "method.state.", "learner.", "scaler0.",
                                        "scaler1."};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        tl_tlm *sub = NULL;
        if (!parts[i][0])
            use_modules(c, &ws);
        else if (tl_tlm_extract(c, parts[i], &sub) == TL_OK)
            use_modules(sub, &ws);
        tl_tlm_free(sub);
    }
    tl_tlm_free(c);
    return 0;
}
