/* bench_core: times one libtl foundation operation (readers, exact 1-NN, RBF kernel matrix,
 * median-heuristic gamma) in-process and prints one JSON line, the libtl half of bench/run.sh.
 * bench/ref_core.py implements the same operations with the same arguments in numpy / scipy /
 * scikit-learn and prints the same line, so the two can be put side by side.
 *
 *   bench_core [-r REPEATS] [-w WARMUPS] OP ARGS...
 *
 * Timing: the operation runs WARMUPS times untimed, then REPEATS times; "seconds" is the best of
 * the timed runs (CLOCK_MONOTONIC), "runs" lists them all. Loading inputs that the operation
 * itself does not cover (e.g. the images for the 1-NN op) happens before and is not timed; the
 * output of one run is freed before the next, so peak memory is that of a single run.
 * "peak_mb" is ru_maxrss (getrusage) read right after the last timed run, before any checking,
 * so the checks below never inflate it.
 *
 * Equality with the reference: "check" is an order-sensitive digest of the exact bits of what was
 * read or predicted, defined identically in ref_core.py (see digest_words): for a word sequence
 * w_0..w_{N-1} (doubles as their IEEE bit patterns, integers as two's-complement 64-bit),
 * H = sum_k w_k * (k * 0x9E3779B97F4A7C15 + 1) mod 2^64; a dataset's digest combines the digests
 * of its features, labels and (sparse) CSR arrays with its shape. Equal digests mean bit-identical
 * results. The kernel op instead dumps K (raw float64, row-major) for the reference to compute the
 * max absolute difference against its own matrix.
 *
 * Ops (paths as given; fashion DIR holds the four *-ubyte.gz files):
 *   noop                                  process baseline (libraries loaded, nothing done)
 *   read-mat PATH[:XVAR,YVAR] ...         tl_read_mat each; features row-major double
 *   read-svmlight NFEAT PATH ...          tl_read_svmlight, 0-based, n_features = NFEAT, CSR
 *   read-idx IMAGES LABELS                tl_read_idx (gzip), raw 0..255 values as double
 *   read-npy X.npy Y.npy                  tl_read_npy
 *   read-csv PATH                         tl_read_csv, no header, label in the last column
 *   gen-csv-npy DIR OUTSTEM               (untimed) Fashion-MNIST test /255 -> OUTSTEM.{csv,npy}
 *                                         (+ OUTSTEM.labels.npy) through tl_dataset_save
 *   knn-digits MATFILE                    1-NN X_src,Y_src -> X_tar,Y_tar, rows L2-normalised
 *   knn-fmnist DIR NTRAIN NTEST           1-NN first NTRAIN train rows -> first NTEST test rows,
 *                                         pixels / 255
 *   gamma-fmnist DIR N                    tl_kernel_median_gamma on the first N (<= 2000: every
 *                                         pair) test rows / 255
 *   rbf-fmnist DIR N GAMMA [DUMPFILE]     K = tl_kernel_matrix(rbf, X, X) on the first N test rows
 *                                         / 255; DUMPFILE receives K after timing
 * (the kernel ops take the 10000-row test split so that loading the inputs does not dwarf the op)
 *
 * Memory: after the untimed set-up the process's high-water mark is reset to its current RSS
 * (writing "5" to /proc/self/clear_refs, Linux >= 4.0; getrusage follows it), so "peak_mb" is the
 * peak of the operation itself with its inputs resident; "setup_mb" is the peak before the reset.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_NAME "bench_core"
#include "bench_util.h"

#include "tl.h"

#define MAX_RUNS 64
#define HK UINT64_C(0x9E3779B97F4A7C15)

/* ---- digest (same definition as ref_core.py) ---- */

typedef struct {
    uint64_t h, k; /* running sum, next position */
} digest;

static void dg_word(digest *d, uint64_t w) {
    d->h += w * (d->k * HK + 1);
    d->k++;
}
static void dg_doubles(digest *d, const double *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, &x[i], sizeof w);
        dg_word(d, w);
    }
}

/* Dataset digest: features (row-major values; for CSR the stored values), labels, CSR indices and
 * indptr, combined with the shape. */
static uint64_t dataset_digest(const tl_dataset *ds) {
    digest dx = {0, 0}, dy = {0, 0}, di = {0, 0}, dp = {0, 0};
    size_t n = tl_dataset_rows(ds), d = tl_dataset_cols(ds);
    if (tl_dataset_is_sparse(ds)) {
        tl_csr c = tl_dataset_csr(ds);
        dg_doubles(&dx, c.values, c.nnz);
        for (size_t k = 0; k < c.nnz; k++) dg_word(&di, (uint64_t)(int64_t)c.indices[k]);
        for (size_t k = 0; k <= c.rows; k++) dg_word(&dp, (uint64_t)c.indptr[k]);
    } else {
        tl_mat X = tl_dataset_dense((tl_dataset *)ds);
        for (size_t i = 0; i < X.rows; i++) dg_doubles(&dx, X.data + i * X.ld, X.cols);
    }
    const int *y = tl_dataset_labels_const(ds);
    if (y)
        for (size_t i = 0; i < n; i++) dg_word(&dy, (uint64_t)(int64_t)y[i]);
    return dx.h + 3 * dy.h + 5 * di.h + 7 * dp.h + 11 * (uint64_t)n + 13 * (uint64_t)d;
}

/* Digest of a dense (X, y) pair as dataset_digest defines it (views of the first rows allowed). */
static uint64_t mat_digest(tl_mat X, const int *y) {
    digest dx = {0, 0}, dy = {0, 0};
    for (size_t i = 0; i < X.rows; i++) dg_doubles(&dx, X.data + i * X.ld, X.cols);
    for (size_t i = 0; i < X.rows; i++) dg_word(&dy, (uint64_t)(int64_t)y[i]);
    return dx.h + 3 * dy.h + 11 * (uint64_t)X.rows + 13 * (uint64_t)X.cols;
}

static uint64_t ints_digest(const int *v, size_t n) {
    digest d = {0, 0};
    for (size_t i = 0; i < n; i++) dg_word(&d, (uint64_t)(int64_t)v[i]);
    return d.h;
}


/* Extra "key": value pairs appended to the JSON line by an op's check. */
static char extra[4096];
static void add_extra(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_extra(const char *fmt, ...) {
    size_t o = strlen(extra);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(extra + o, sizeof extra - o, fmt, ap);
    va_end(ap);
}

/* ---- ops: run (timed), release (free the run's output), check (after timing) ---- */

typedef struct {
    int argc;
    char **argv;
    tl_dataset *ds[64]; /* reader outputs */
    size_t nds;
    /* learning / kernels */
    tl_dataset *train, *test;
    tl_mat Xtr, Xte;
    int *pred;
    tl_learner *learner;
    tl_mat K;
    double gamma;
    const char *dump;
} state;

static void release_datasets(state *s) {
    for (size_t i = 0; i < s->nds; i++) tl_dataset_free(s->ds[i]);
    s->nds = 0;
}

static void check_datasets(state *s) {
    uint64_t h = 0;
    size_t rows = 0, nnz = 0;
    for (size_t i = 0; i < s->nds; i++) {
        h += (2 * (uint64_t)i + 1) * dataset_digest(s->ds[i]);
        rows += tl_dataset_rows(s->ds[i]);
        nnz += tl_dataset_nnz(s->ds[i]);
    }
    add_extra(",\"check\":\"%016" PRIx64 "\",\"rows\":%zu,\"cols\":%zu,\"nnz\":%zu", h, rows,
              s->nds ? tl_dataset_cols(s->ds[0]) : (size_t)0, nnz);
}

static void run_noop(state *s) { (void)s; }

static void run_read_mat(state *s) {
    for (int i = 0; i < s->argc; i++) {
        char path[4096], *x = NULL, *y = NULL;
        snprintf(path, sizeof path, "%s", s->argv[i]);
        char *colon = strrchr(path, ':');
        if (colon && colon != path && strchr(colon, ',')) { /* PATH:XVAR,YVAR */
            *colon = 0;
            x = colon + 1;
            y = strchr(x, ',');
            *y++ = 0;
        }
        FAIL_IF(tl_read_mat(path, x, y, &s->ds[s->nds]));
        s->nds++;
    }
}

static void run_read_svmlight(state *s) {
    tl_load_opts o = tl_load_opts_default();
    o.index_base = 0;
    o.n_features = parse_size(s->argv[0]);
    for (int i = 1; i < s->argc; i++) {
        FAIL_IF(tl_read_svmlight(s->argv[i], &o, &s->ds[s->nds]));
        s->nds++;
    }
}

static void run_read_idx(state *s) {
    FAIL_IF(tl_read_idx(s->argv[0], s->argv[1], &s->ds[0]));
    s->nds = 1;
}

static void run_read_npy(state *s) {
    FAIL_IF(tl_read_npy(s->argv[0], s->argv[1], &s->ds[0]));
    s->nds = 1;
}

static void run_read_csv(state *s) {
    tl_load_opts o = tl_load_opts_default();
    o.format = TL_FORMAT_CSV;
    o.csv_header = 0;
    o.label_col = -1;
    o.delimiter = ',';
    FAIL_IF(tl_read_csv(s->argv[0], &o, &s->ds[0]));
    s->nds = 1;
}

/* 1-NN: create, fit on (Xtr, ytr), predict Xte. */
static void run_knn(state *s) {
    tl_learner_params p = tl_learner_params_default(TL_LEARNER_KNN);
    p.k = 1;
    FAIL_IF(tl_learner_create(&p, &s->learner));
    FAIL_IF(tl_learner_fit(s->learner, tl_xmat_from_dense(s->Xtr), tl_dataset_labels(s->train),
                           NULL));
    FAIL_IF(tl_learner_predict(s->learner, tl_xmat_from_dense(s->Xte), s->pred));
}
static void release_knn(state *s) {
    tl_learner_free(s->learner);
    s->learner = NULL;
}
static void check_knn(state *s) {
    size_t n = s->Xte.rows, ok = 0;
    const int *y = tl_dataset_labels(s->test);
    for (size_t i = 0; i < n; i++) ok += y[i] == s->pred[i];
    uint64_t in = mat_digest(s->Xtr, tl_dataset_labels(s->train)) + 3 * mat_digest(s->Xte, y);
    add_extra(",\"in_check\":\"%016" PRIx64 "\",\"check\":\"%016" PRIx64
              "\",\"correct\":%zu,\"n\":%zu,\"acc\":%.2f",
              in, ints_digest(s->pred, n), ok, n, 100.0 * (double)ok / (double)n);
}

static void run_gamma(state *s) { FAIL_IF(tl_kernel_median_gamma(s->Xtr, 42, &s->gamma)); }
static void check_gamma(state *s) { add_extra(",\"gamma\":%.17g", s->gamma); }

static void run_rbf(state *s) {
    tl_kernel k = tl_kernel_default(TL_KERNEL_RBF);
    k.gamma = s->gamma;
    FAIL_IF(tl_mat_alloc(&s->K, s->Xtr.rows, s->Xtr.rows));
    FAIL_IF(tl_kernel_matrix(&k, s->Xtr, s->Xtr, s->K));
}
static void release_rbf(state *s) { tl_mat_free(&s->K); }
static void check_rbf(state *s) {
    double sum = 0, mn = 1;
    for (size_t i = 0; i < s->K.rows; i++)
        for (size_t j = 0; j < s->K.cols; j++) {
            double v = TL_AT(s->K, i, j);
            sum += v;
            if (v < mn) mn = v;
        }
    add_extra(",\"gamma\":%.17g,\"sum\":%.17g,\"min\":%.17g", s->gamma, sum, mn);
    if (s->dump) {
        FILE *f = fopen(s->dump, "wb");
        if (!f) die("cannot open the dump file");
        for (size_t i = 0; i < s->K.rows; i++)
            if (fwrite(s->K.data + i * s->K.ld, sizeof(double), s->K.cols, f) != s->K.cols)
                die("short write to the dump file");
        if (fclose(f) != 0) die("cannot close the dump file");
        add_extra(",\"dump\":\"%s\"", s->dump);
    }
}

/* ---- input preparation for the compute ops (untimed) ---- */

static void fmnist_paths(const char *dir, const char *split, char *img, char *lab, size_t cap) {
    snprintf(img, cap, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lab, cap, "%s/%s-labels-idx1-ubyte.gz", dir, split);
}

/* First n rows of a Fashion-MNIST split, pixels / 255 (division, as numpy's x / 255.0). */
static tl_mat fmnist_rows(const char *dir, const char *split, size_t n, tl_dataset **ds) {
    char img[4096], lab[4096];
    fmnist_paths(dir, split, img, lab, sizeof img);
    FAIL_IF(tl_read_idx(img, lab, ds));
    tl_mat X = tl_dataset_dense(*ds);
    if (n > X.rows) die("more rows requested than the file holds");
    X = tl_mat_rows(X, 0, n);
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) TL_AT(X, i, j) /= 255.0;
    return X;
}

static void gen_csv_npy(const char *dir, const char *stem) {
    tl_dataset *ds = NULL;
    char path[4096];
    fmnist_rows(dir, "t10k", 10000, &ds);
    snprintf(path, sizeof path, "%s.csv", stem);
    FAIL_IF(tl_dataset_save(ds, path, TL_FORMAT_CSV, 0));
    snprintf(path, sizeof path, "%s.npy", stem);
    FAIL_IF(tl_dataset_save(ds, path, TL_FORMAT_NPY, 0));
    tl_dataset_free(ds);
}

typedef struct {
    const char *name;
    int min_args, max_args;
    void (*run)(state *);
    void (*release)(state *);
    void (*check)(state *);
} op_def;

static const op_def OPS[] = {
    {"noop", 0, 0, run_noop, NULL, NULL},
    {"read-mat", 1, 64, run_read_mat, release_datasets, check_datasets},
    {"read-svmlight", 2, 65, run_read_svmlight, release_datasets, check_datasets},
    {"read-idx", 2, 2, run_read_idx, release_datasets, check_datasets},
    {"read-npy", 2, 2, run_read_npy, release_datasets, check_datasets},
    {"read-csv", 1, 1, run_read_csv, release_datasets, check_datasets},
    {"knn-digits", 1, 1, run_knn, release_knn, check_knn},
    {"knn-fmnist", 3, 3, run_knn, release_knn, check_knn},
    {"gamma-fmnist", 2, 2, run_gamma, NULL, check_gamma},
    {"rbf-fmnist", 3, 4, run_rbf, release_rbf, check_rbf},
};

static void usage(void) {
    fprintf(stderr, "usage: bench_core [-r REPEATS] [-w WARMUPS] OP ARGS...\n"
                    "ops: noop, read-mat, read-svmlight, read-idx, read-npy, read-csv, "
                    "gen-csv-npy, knn-digits, knn-fmnist, gamma-fmnist, rbf-fmnist "
                    "(see the top of bench/bench_core.c)\n");
    exit(2);
}

int main(int argc, char **argv) {
    bench_host_setup();
    int repeats = 3, warmups = 1, a = 1;
    while (a + 1 < argc && argv[a][0] == '-') {
        if (!strcmp(argv[a], "-r")) repeats = (int)parse_size(argv[a + 1]);
        else if (!strcmp(argv[a], "-w")) warmups = (int)parse_size(argv[a + 1]);
        else usage();
        a += 2;
    }
    if (a >= argc || repeats < 1 || repeats > MAX_RUNS) usage();
    const char *opname = argv[a++];
    if (!strcmp(opname, "gen-csv-npy")) {
        if (argc - a != 2) usage();
        gen_csv_npy(argv[a], argv[a + 1]);
        return 0;
    }
    const op_def *op = NULL;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (!strcmp(OPS[i].name, opname)) op = &OPS[i];
    if (!op || argc - a < op->min_args || argc - a > op->max_args) usage();

    state s;
    memset(&s, 0, sizeof s);
    s.argc = argc - a;
    s.argv = argv + a;
    /* untimed inputs of the compute ops */
    if (!strcmp(op->name, "knn-digits")) {
        char spec[4096];
        snprintf(spec, sizeof spec, "%s", s.argv[0]);
        FAIL_IF(tl_read_mat(spec, "X_src", "Y_src", &s.train));
        FAIL_IF(tl_read_mat(spec, "X_tar", "Y_tar", &s.test));
        s.Xtr = tl_dataset_dense(s.train);
        s.Xte = tl_dataset_dense(s.test);
        tl_rows_l2_normalize(s.Xtr);
        tl_rows_l2_normalize(s.Xte);
    } else if (!strcmp(op->name, "knn-fmnist")) {
        s.Xtr = fmnist_rows(s.argv[0], "train", parse_size(s.argv[1]), &s.train);
        s.Xte = fmnist_rows(s.argv[0], "t10k", parse_size(s.argv[2]), &s.test);
    } else if (!strcmp(op->name, "gamma-fmnist") || !strcmp(op->name, "rbf-fmnist")) {
        s.Xtr = fmnist_rows(s.argv[0], "t10k", parse_size(s.argv[1]), &s.train);
        if (s.argc >= 3) {
            char *end;
            s.gamma = strtod(s.argv[2], &end);
            if (*end || !(s.gamma > 0)) die("gamma must be a number > 0");
        }
        if (s.argc >= 4) s.dump = s.argv[3];
    }
    if (s.Xte.data) {
        s.pred = malloc(s.Xte.rows * sizeof *s.pred);
        if (!s.pred) die("out of memory");
    }

    double setup_mb = bench_peak_mb();
    int hwm_reset = bench_reset_peak();
    double runs[MAX_RUNS], best = 1e300;
    for (int i = 0; i < warmups + repeats; i++) {
        if (i > 0 && op->release) op->release(&s);
        double t0 = bench_now();
        op->run(&s);
        double t = bench_now() - t0;
        if (i >= warmups) {
            runs[i - warmups] = t;
            if (t < best) best = t;
        }
    }
    double peak = bench_peak_mb();
    if (op->check) op->check(&s);
    if (op->release) op->release(&s);

    printf("{\"side\":\"libtl\",\"impl\":\"libtl\",\"op\":\"%s\",\"seconds\":%.6f,\"runs\":[",
           op->name, best);
    for (int i = 0; i < repeats; i++) printf("%s%.6f", i ? "," : "", runs[i]);
    printf("],\"warmups\":%d,\"peak_mb\":%.1f,\"setup_mb\":%.1f,\"hwm_reset\":%s%s}\n", warmups,
           peak, setup_mb, hwm_reset ? "true" : "false", extra);

    free(s.pred);
    tl_dataset_free(s.train);
    tl_dataset_free(s.test);
    return 0;
}
