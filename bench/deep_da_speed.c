/* bench/deep_da_speed: the libtl half of the deep_da speed suite (bench/run.sh deep_da), the twin
 * of bench/ref_deep_da.py: DANN on Amazon reviews with the shallow network of the DANN paper
 * (dense:100, sigmoid, dense:2; a domain head grl,dense:2 on the hidden layer, lambda 0.1 fixed),
 * 32 source + 32 target rows a step, SGD lr 0.01 momentum 0.9, no early stopping, through
 * tl_nn_da_train_csr on the reviews' sparse rows as read (with --dense 1: tl_nn_da_train on
 * dense float32 rows). One JSON line: samples_per_s (every row a step trains on), seconds, cpu_s (the
 * process's CPU time in training, all threads), peak RSS.
 * With --cnn, the CNN DANN of bench/deep_da_digits.sh instead: MNIST -> USPS digits (the .mat
 * specs "FILE.mat:X_src,Y_src" and "FILE.mat:X_tar"), conv:16:5,relu,pool:2,conv:32:5,relu,
 * pool:2,flatten,dense:100,relu,dense:10 on 1x16x16, the domain head grl,dense:100,relu,dense:2 on
 * the 100 hidden units, lambda 0.3 fixed.
 *   deep_da_speed --source S --target T [--cnn 1] [--dense 1] [--epochs E] [--batch B] [--threads T] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tl.h"

static double cpu_seconds(void) { /* the process's CPU time, all threads */
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rows_of(const char *path, int **y, size_t *n, bool cnn) {
    tl_load_opts o = tl_load_opts_default();
    if (!cnn) {
        o.index_base = 0;
        o.n_features = 5000;
    }
    o.densify = true;
    tl_dataset *ds = NULL;
    if (tl_dataset_load(path, &o, &ds) != TL_OK) {
        fprintf(stderr, "deep_da_speed: %s\n", tl_error_message());
        exit(1);
    }
    tl_mat X = tl_dataset_dense(ds);
    *n = X.rows;
    float *x = malloc(X.rows * X.cols * sizeof *x);
    *y = malloc(X.rows * sizeof **y);
    for (size_t i = 0; i < X.rows; i++) {
        for (size_t j = 0; j < X.cols; j++) x[i * X.cols + j] = (float)X.data[i * X.ld + j];
        (*y)[i] = tl_dataset_has_labels(ds) ? tl_dataset_labels_const(ds)[i] : 0;
    }
    tl_dataset_free(ds);
    return x;
}

/* The svmlight rows as read (CSR) and their labels; the dataset holds the arrays. */
static tl_dataset *csr_of_file(const char *path, tl_csr *X, int **y) {
    tl_load_opts o = tl_load_opts_default();
    o.index_base = 0;
    o.n_features = 5000;
    tl_dataset *ds = NULL;
    if (tl_dataset_load(path, &o, &ds) != TL_OK || !tl_dataset_is_sparse(ds)) {
        fprintf(stderr, "deep_da_speed: %s: %s\n", path, ds ? "not sparse" : tl_error_message());
        exit(1);
    }
    *X = tl_dataset_csr(ds);
    *y = malloc(X->rows * sizeof **y);
    for (size_t i = 0; i < X->rows; i++) (*y)[i] = tl_dataset_has_labels(ds) ? tl_dataset_labels_const(ds)[i] : 0;
    return ds;
}

int main(int argc, char **argv) {
    const char *src = NULL, *tgt = NULL;
    size_t epochs = 5, batch = 32, threads = 2;
    bool cnn = false, dense = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--source")) src = argv[i + 1];
        else if (!strcmp(argv[i], "--target")) tgt = argv[i + 1];
        else if (!strcmp(argv[i], "--epochs")) epochs = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--batch")) batch = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads")) threads = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--cnn")) cnn = strcmp(argv[i + 1], "0") != 0;
        else if (!strcmp(argv[i], "--dense")) dense = strcmp(argv[i + 1], "0") != 0;
    }
    if (!src || !tgt) return 2;
    int *ys, *yt;
    size_t ns, nt;
    const bool sparse = !cnn && !dense;
    float *xs = NULL, *xt = NULL;
    tl_csr cs = {0}, ct = {0};
    tl_dataset *ds = NULL, *dt = NULL;
    if (sparse) {
        ds = csr_of_file(src, &cs, &ys);
        dt = csr_of_file(tgt, &ct, &yt);
    } else {
        xs = rows_of(src, &ys, &ns, cnn);
        xt = rows_of(tgt, &yt, &nt, cnn);
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = threads;
    tl_nn *nn = NULL;
    const int cls[2] = {-1, 1}, digits[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const char *cnn_arch = "conv:16:5,relu,pool:2,conv:32:5,relu,pool:2,flatten,dense:100,relu,dense:10";
    if (cnn ? tl_nn_create(cnn_arch, 1, 16, 16, 42, &nn) != TL_OK || tl_nn_set_labels(nn, digits, 10) != TL_OK
            : tl_nn_create("dense:100,sigmoid,dense:2", 5000, 1, 1, 42, &nn) != TL_OK ||
                  tl_nn_set_labels(nn, cls, 2) != TL_OK) {
        fprintf(stderr, "deep_da_speed: %s\n", tl_error_message());
        return 1;
    }
    tl_nn_da_params p = tl_nn_da_params_default();
    p.lambda = cnn ? 0.3 : 0.1;
    if (cnn) p.disc = "dense:100,relu,dense:2";
    p.lambda_schedule = false;
    p.train.epochs = epochs;
    p.train.batch_size = batch;
    p.train.ctx = &ctx;
    tl_nn_train_result r;
    const double c0 = cpu_seconds();
    if ((sparse ? tl_nn_da_train_csr(nn, &p, cs, ys, ct, &r) : tl_nn_da_train(nn, &p, xs, ys, ns, xt, nt, &r)) !=
        TL_OK) {
        fprintf(stderr, "deep_da_speed: %s\n", tl_error_message());
        return 1;
    }
    const double cpu = cpu_seconds() - c0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\": \"libtl %s\", \"net\": \"%s\", \"input\": \"%s\", \"threads\": %zu, \"epochs\": %zu, \"samples_per_s\": %.1f, "
           "\"seconds\": %.3f, \"cpu_s\": %.3f, \"final_loss\": %.4f, \"peak_rss_mb\": %.1f}\n",
           tl_version(), cnn ? "cnn" : "mlp", sparse ? "csr" : "dense", threads, epochs, r.samples_per_s, r.seconds, cpu, r.train_loss,
           ru.ru_maxrss / 1024.0);
    tl_nn_free(nn);
    free(xs);
    free(xt);
    tl_dataset_free(ds);
    tl_dataset_free(dt);
    free(ys);
    free(yt);
    return 0;
}
