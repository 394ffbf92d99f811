/* bench_nn: training and inference throughput, peak memory and GFLOP/s of a libtl CNN - the libtl
 * half of bench/run_nn.sh; bench/ref_nn.py runs the same network, data, batch size, optimiser and
 * thread count in PyTorch (CPU) and prints the same JSON line.
 *
 *   bench_nn [--arch A] [--data DIR] [--train N] [--infer M] [--epochs E] [--batch B]
 *            [--threads T] [--lr LR]
 *
 * Data: the first N (training) and first M (inference) images of Fashion-MNIST train in DIR
 * (default /usr/share/datasets/fashion-mnist), pixels / 255, as float32 - the same arrays the
 * reference holds; without DIR, seeded Gaussian images of 1x28x28. Training: SGD (momentum 0.9,
 * lr 0.01), cross-entropy, batch B (64), E epochs over the N images in a seeded order after one
 * untimed warm-up epoch over the first 10 batches; "train_sps" = images per second of the timed
 * epochs (tl_nn_train's own loop clock). Inference: eval mode in batches of B, best of 3 passes
 * over the M images. "peak_mb" is the process's peak RSS over training and inference, measured
 * from a high-water mark reset (/proc/self/clear_refs) after the data is loaded, so it counts the
 * resident program, libraries and data plus whatever the work adds; "start_mb" is the resident
 * size at that reset (program, libraries, data, warmed-up buffers); "data_mb" is the input arrays.
 * GFLOP/s counts the multiply-adds of the convolutions and dense layers (2 per MAC; forward once
 * for inference; forward, weight gradient and input gradient - none below the first layer - for
 * training) over the measured time; "sgemm_peak" is the best of 3 square 2048 sgemm on the same
 * threads, the ceiling those products can reach. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"

#include "tl.h"
#include "tl/nn.h"



/* current resident set (VmRSS) in MB */
static double cpu_now(void) { /* the process's CPU time, all threads */
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) v = atof(line + 6) / 1024.0;
    if (f) fclose(f);
    return v;
}


/* multiply-add FLOPs per sample: forward, and training (forward + both gradients) */
static void count_flops(tl_nn *nn, double *fwd, double *train) {
    size_t in[3];
    tl_nn_input_shape(nn, in);
    *fwd = *train = 0;
    size_t cur[3] = {in[0], in[1], in[2]};
    bool first = true;
    for (size_t i = 0; i < tl_nn_layer_count(nn); i++) {
        size_t out[3];
        tl_nn_layer_shape(nn, i, out);
        const char *k = tl_nn_layer_kind(nn, i);
        double f = 0;
        if (strcmp(k, "conv") == 0 || strcmp(k, "dense") == 0) {
            /* weight tensor size = out_c * in_c * K * K (dense: out * in) */
            char wname[160];
            snprintf(wname, sizeof wname, "%s.weight", tl_nn_layer_name(nn, i));
            size_t ti, nd;
            const size_t *dims;
            tl_nn_tensor_find(nn, wname, &ti);
            tl_nn_tensor(nn, ti, NULL, &nd, &dims, NULL, NULL);
            double w = 1;
            for (size_t d = 0; d < nd; d++) w *= (double)dims[d];
            f = 2.0 * w * (double)(out[1] * out[2]);
            *fwd += f;
            *train += first ? 2 * f : 3 * f;
            first = false;
        }
        memcpy(cur, out, sizeof cur);
    }
}

static double sgemm_peak(void) {
    const int n = 2048;
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    if (!a || !b || !c) return 0;
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = bench_now() - t;
        if (r && t < best) best = t;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

int main(int argc, char **argv) {
    const char *arch = "conv:32:3,bn,relu,pool:2,conv:64:3,bn,relu,pool:2,flatten,dense:128,relu,dense:10";
    const char *dir = "/usr/share/datasets/fashion-mnist";
    size_t ntrain = 10240, ninfer = 10240, epochs = 1, batch = 64;
    int threads = 2;
    double lr = 0.01;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--arch")) arch = argv[i + 1];
        else if (!strcmp(argv[i], "--data")) dir = argv[i + 1];
        else if (!strcmp(argv[i], "--train")) ntrain = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--infer")) ninfer = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--epochs")) epochs = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--batch")) batch = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--lr")) lr = atof(argv[i + 1]);
        else {
            fprintf(stderr, "bench_nn: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = threads;
    tl_ctx_apply_threads(&ctx);
    const size_t nmax = ntrain > ninfer ? ntrain : ninfer, d = 784;
    float *x = malloc(nmax * d * sizeof *x);
    int *y = malloc(nmax * sizeof *y);
    if (!x || !y) return 1;
    bool real = false;
    if (dir && *dir) {
        char spec[1024];
        snprintf(spec, sizeof spec, "%s:train", dir);
        tl_dataset *ds = NULL;
        if (tl_dataset_load(spec, NULL, &ds) == TL_OK && tl_dataset_rows(ds) >= nmax) {
            tl_mat X = tl_dataset_dense(ds);
            const int *lab = tl_dataset_labels_const(ds);
            for (size_t i = 0; i < nmax; i++) {
                y[i] = lab[i];
                for (size_t j = 0; j < d; j++) x[i * d + j] = (float)(TL_AT(X, i, j) / 255.0);
            }
            real = true;
        } else {
            fprintf(stderr, "bench_nn: %s: %s; using synthetic images\n", spec, tl_error_message());
        }
        tl_dataset_free(ds);
    }
    if (!real) {
        tl_rng r;
        tl_rng_seed(&r, 1);
        for (size_t i = 0; i < nmax; i++) {
            y[i] = (int)(i % 10);
            for (size_t j = 0; j < d; j++) x[i * d + j] = (float)tl_rng_normal(&r);
        }
    }
    const double sgemm = sgemm_peak();
    tl_nn *nn = NULL;
    if (tl_nn_create(arch, 1, 28, 28, 42, &nn) != TL_OK) {
        fprintf(stderr, "bench_nn: %s\n", tl_error_message());
        return 1;
    }
    double fwd_flops, train_flops;
    count_flops(nn, &fwd_flops, &train_flops);
    tl_nn_train_params p = tl_nn_train_params_default();
    p.batch_size = batch;
    p.lr = lr;
    p.epochs = 1;
    p.ctx = &ctx;
    tl_nn_set_batch(nn, batch);
    /* warm-up: 10 batches */
    if (tl_nn_train(nn, &p, x, y, 10 * batch < ntrain ? 10 * batch : ntrain, NULL) != TL_OK) {
        fprintf(stderr, "bench_nn: %s\n", tl_error_message());
        return 1;
    }
    const double setup_mb = bench_peak_mb();
    const int reset = bench_reset_peak();
    const double start_mb = rss_mb();
    p.epochs = epochs;
    tl_nn_train_result r;
    const double c0 = cpu_now();
    if (tl_nn_train(nn, &p, x, y, ntrain, &r) != TL_OK) {
        fprintf(stderr, "bench_nn: %s\n", tl_error_message());
        return 1;
    }
    const double train_cpu = cpu_now() - c0;
    float *out = malloc(ninfer * 10 * sizeof *out);
    double best = 1e30;
    for (int k = 0; k < 3 && out; k++) {
        double t = bench_now();
        tl_nn_forward(nn, x, ninfer, out);
        t = bench_now() - t;
        if (t < best) best = t;
    }
    const double pk = bench_peak_mb();
    size_t hits = 0;
    for (size_t i = 0; out && i < ninfer; i++) {
        size_t am = 0;
        for (size_t k = 1; k < 10; k++)
            if (out[i * 10 + k] > out[i * 10 + am]) am = k;
        hits += (int)am == y[i];
    }
    const double train_sps = (double)(ntrain * epochs) / r.seconds, infer_sps = (double)ninfer / best;
    printf("{\"impl\":\"libtl\",\"arch\":\"%s\",\"data\":\"%s\",\"threads\":%d,\"batch\":%zu,"
           "\"train_samples\":%zu,\"epochs\":%zu,\"train_s\":%.4f,\"train_cpu_s\":%.4f,\"train_sps\":%.1f,"
           "\"train_loss\":%.4f,\"infer_samples\":%zu,\"infer_s\":%.4f,\"infer_sps\":%.1f,"
           "\"infer_acc\":%.4f,\"peak_mb\":%.1f,\"start_mb\":%.1f,\"setup_mb\":%.1f,\"peak_reset\":%s,"
           "\"data_mb\":%.1f,\"fwd_mflop\":%.3f,\"train_gflops\":%.2f,\"infer_gflops\":%.2f,"
           "\"sgemm_peak_gflops\":%.1f}\n",
           arch, real ? "fashion-mnist" : "synthetic", threads, batch, ntrain, epochs, r.seconds,
           train_cpu, train_sps, r.train_loss, ninfer, best, infer_sps, (double)hits / (double)ninfer, pk,
           start_mb, setup_mb, reset ? "true" : "false", (double)(nmax * d * 4) / 1048576.0, fwd_flops / 1e6,
           train_sps * train_flops / 1e9, infer_sps * fwd_flops / 1e9, sgemm);
    free(out);
    free(x);
    free(y);
    tl_nn_free(nn);
    return 0;
}
