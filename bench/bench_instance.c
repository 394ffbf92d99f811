/* bench_instance: times one libtl domain-measure or instance-weighting operation in-process and
 * prints one JSON line, the libtl half of the "instance" benchmark; bench/ref_instance.py runs the
 * same operation in numpy / scipy / scikit-learn / cvxopt (as users write it) and prints the same
 * line, so the two can be put side by side (same protocol as bench_core.c / ref_core.py).
 *
 *   bench_instance [-r REPEATS] [-w WARMUPS] OP ARGS...
 *
 * Ops (weights are dumped after timing, one %.17g per line, for the reference to correlate):
 *   noop                                   process baseline
 *   kmm-surf SRC.mat TGT.mat GAMMA [DUMP]  KMM (B = 1000, eps = (sqrt(ns)-1)/sqrt(ns)) on SURF,
 *                                          rowsum + z-score per domain; GAMMA 0 = median heuristic
 *   kmm-fmnist DIR NS NT GAMMA [DUMP]      KMM, source = first NS Fashion-MNIST train rows / 255,
 *                                          target = first NT test rows with label < 5 or index
 *                                          divisible by 4 (a class-prior shift toward 0..4)
 *   kliep-surf SRC TGT GAMMA [DUMP]        KLIEP, centres = every target row, rowsum + z-score
 *   ulsif-surf SRC TGT GAMMA [DUMP]        uLSIF, lambda = 1e-3, centres = every target row
 *   kliep-cv-surf SRC TGT GAMMA IDX [DUMP] KLIEP with the authors' protocol (KLIEP.m): 100 centres
 *                                          drawn from the target, 9 widths around GAMMA (x 2^-4 ..
 *                                          2^4) chosen by 5-fold likelihood cross-validation,
 *                                          max_iter 100 per step size; IDX receives the centre
 *                                          indices (line 1) and the fold order (line 2), from the
 *                                          rules documented in src/instance/instance_internal.h
 *   ulsif-cv-surf SRC TGT GAMMA IDX [DUMP] uLSIF with the authors' protocol (uLSIF.m): 100 centres,
 *                                          9 widths x 9 lambdas (logspace(-3, 1, 9)) by LOO
 *   kliep-cv-fmnist DIR NS NT GAMMA IDX [DUMP], ulsif-cv-fmnist ...: the same on Fashion-MNIST
 *                                          (the kmm-fmnist selection)
 *   kliep-def-surf SRC TGT GAMMA IDX [DUMP], ulsif-def-surf ..., kliep-def-fmnist DIR NS NT GAMMA
 *                                          IDX [DUMP], ulsif-def-fmnist ...: the library's
 *                                          defaults (tl weight without options): 100 centres, the
 *                                          one width GAMMA, lambda 1e-3, KLIEP max_iter 1000; IDX
 *                                          as for the -cv ops (the reference reads the centres)
 *   sqdist-surf SRC TGT B IDX              the squared distances of both domains to B centres (the
 *                                          rule and IDX file of the -def ops; B >= nt: every target
 *                                          row): the one GEMM a single-width KLIEP/uLSIF fit needs
 *   dclf-amazon SRC.svm TGT.svm [DUMP]     domain-classifier ratio (logreg C = 1), sparse 5000-d
 *   dclf-surf SRC TGT [DUMP]               the same on dense SURF (800-d), rowsum
 *   mmd-surf SRC TGT GAMMA PERMS           RBF MMD^2 (unbiased) + permutation p-value, rowsum
 * The JSON line adds "gamma" (the bandwidth used) and, for mmd, "mmd2" and "p_value"; the -cv ops
 * add "chosen_gamma" (and "chosen_lambda"), read from the library's log, also written to DUMP.sel.
 *
 * Timing: WARMUPS untimed runs, then REPEATS timed ones (CLOCK_MONOTONIC), "seconds" = best.
 * Loading and preprocessing the inputs is untimed. Memory: the peak-RSS high-water mark is reset
 * after set-up (/proc/self/clear_refs "5"), so "peak_mb" (getrusage) is the operation's own peak
 * with its inputs resident. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_NAME "bench_instance"
#include "bench_util.h"

#include "tl.h"
#include "tl/instance.h"
#include "tl/measure.h"

#define MAX_RUNS 64





static double parse_num(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end) die("expected a number");
    return v;
}

static char extra[1024];
static void add_extra(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_extra(const char *fmt, ...) {
    size_t o = strlen(extra);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(extra + o, sizeof extra - o, fmt, ap);
    va_end(ap);
}

/* The width (and lambda) the library chose, from its INFO log line. */
static double chosen_gamma = -1, chosen_lambda = -1;
static void capture_log(void *user, tl_log_level level, const char *msg) {
    (void)user;
    double g, l;
    if (level != TL_LOG_INFO) return;
    if (sscanf(msg, "ulsif: gamma %lf, lambda %lf chosen", &g, &l) == 2) {
        chosen_gamma = g;
        chosen_lambda = l;
    } else if (sscanf(msg, "kliep: gamma %lf chosen", &g) == 1) {
        chosen_gamma = g;
    }
}

/* Centre indices and the cross-validation order the library uses for (seed, nt, b): the same
 * tl_rng calls as tli_centres and tli_cv_order, written for the reference. */
/* Writes the centre indices (line 1) and the fold order (line 2); returns the first min(b, nt)
 * centre indices in centres (when not NULL, b entries). */
static void write_indices(const char *path, uint64_t seed, size_t nt, size_t b, size_t *centres) {
    size_t *idx = malloc(nt * sizeof *idx);
    FILE *f = fopen(path, "w");
    if (!idx || !f) die("cannot write the index file");
    tl_rng r;
    for (size_t i = 0; i < nt; i++) idx[i] = i;
    if (b < nt) {
        tl_rng_seed(&r, seed);
        tl_rng_shuffle(&r, idx, nt);
    } else {
        b = nt;
    }
    for (size_t i = 0; i < b; i++) fprintf(f, "%s%zu", i ? " " : "", idx[i]);
    if (centres) memcpy(centres, idx, b * sizeof *idx);
    for (size_t i = 0; i < nt; i++) idx[i] = i;
    tl_rng_seed(&r, seed + 1);
    tl_rng_shuffle(&r, idx, nt);
    fprintf(f, "\n");
    for (size_t i = 0; i < nt; i++) fprintf(f, "%s%zu", i ? " " : "", idx[i]);
    fprintf(f, "\n");
    if (fclose(f) != 0) die("cannot write the index file");
    free(idx);
}

typedef struct {
    const char *op;
    tl_dataset *s, *t;
    tl_weight_params wp;
    tl_mmd_params mp;
    tl_mmd_result mr;
    tl_mat C, Ds, Dt; /* sqdist-surf */
    double *w;
    const char *dump;
} state;

static tl_dataset *load_pre(const char *path, const char *pre) {
    tl_dataset *ds = NULL;
    tl_preprocess pp;
    FAIL_IF(tl_dataset_load(path, NULL, &ds));
    FAIL_IF(tl_preprocess_parse(pre, &pp));
    FAIL_IF(tl_preprocess_apply(&pp, ds));
    return ds;
}

/* Fashion-MNIST rows / 255: split "train" or "t10k"; select: 0 = first n, 1 = the shifted
 * target rule (label < 5 or index % 4 == 0), first n of those. */
static tl_dataset *fmnist(const char *dir, const char *split, size_t n, int select) {
    char img[1024], lab[1024];
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    tl_dataset *all = NULL, *out = NULL;
    FAIL_IF(tl_read_idx(img, lab, &all));
    size_t N = tl_dataset_rows(all), m = 0;
    size_t *idx = malloc(N * sizeof *idx);
    const int *y = tl_dataset_labels_const(all);
    for (size_t i = 0; i < N && m < n; i++)
        if (!select || y[i] < 5 || i % 4 == 0) idx[m++] = i;
    if (m < n) die("not enough Fashion-MNIST rows for the request");
    FAIL_IF(tl_dataset_subset(all, idx, m, &out));
    tl_mat X = tl_dataset_dense(out);
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) TL_AT(X, i, j) /= 255.0;
    free(idx);
    tl_dataset_free(all);
    return out;
}

static void run_op(state *s) {
    if (!strcmp(s->op, "noop")) return;
    if (!strcmp(s->op, "mmd-surf")) {
        FAIL_IF(tl_mmd(&s->mp, tl_dataset_features(s->s), tl_dataset_features(s->t), &s->mr));
        return;
    }
    if (!strcmp(s->op, "sqdist-surf")) {
        FAIL_IF(tl_sqdist(tl_dataset_dense(s->s), s->C, s->Ds));
        FAIL_IF(tl_sqdist(tl_dataset_dense(s->t), s->C, s->Dt));
        return;
    }
    FAIL_IF(tl_weights_fit(&s->wp, tl_dataset_features(s->s), tl_dataset_features(s->t), s->w));
}

int main(int argc, char **argv) {
    bench_host_setup();
    int repeats = 3, warmups = 1, a = 1;
    while (a + 1 < argc && argv[a][0] == '-') {
        if (!strcmp(argv[a], "-r")) repeats = (int)parse_size(argv[a + 1]);
        else if (!strcmp(argv[a], "-w")) warmups = (int)parse_size(argv[a + 1]);
        else die("unknown flag");
        a += 2;
    }
    if (a >= argc || repeats < 1 || repeats > MAX_RUNS)
        die("usage: bench_instance [-r R] [-w W] OP ARGS... (see the top of bench_instance.c)");
    state s;
    memset(&s, 0, sizeof s);
    s.op = argv[a++];
    char **v = argv + a;
    int n = argc - a;
    double gamma = 0;
    if (!strcmp(s.op, "noop")) {
    } else if (!strcmp(s.op, "kmm-surf") || !strcmp(s.op, "kliep-surf") || !strcmp(s.op, "ulsif-surf")) {
        if (n < 3 || n > 4) die("expects SRC TGT GAMMA [DUMP]");
        s.s = load_pre(v[0], "rowsum,zscore");
        s.t = load_pre(v[1], "rowsum,zscore");
        gamma = parse_num(v[2]);
        s.dump = n > 3 ? v[3] : NULL;
        tl_weight_method m = s.op[0] == 'k' && s.op[1] == 'm' ? TL_WEIGHT_KMM
                             : s.op[0] == 'k'                 ? TL_WEIGHT_KLIEP
                                                              : TL_WEIGHT_ULSIF;
        s.wp = tl_weight_params_default(m);
        s.wp.centers = tl_dataset_rows(s.t); /* every target row, in order: comparable */
    } else if (!strcmp(s.op, "sqdist-surf")) {
        if (n != 4) die("expects SRC TGT B IDX");
        s.s = load_pre(v[0], "rowsum,zscore");
        s.t = load_pre(v[1], "rowsum,zscore");
        size_t nt = tl_dataset_rows(s.t), b = parse_size(v[2]), *ci;
        tl_mat Xt = tl_dataset_dense(s.t);
        if (b > nt) b = nt;
        ci = malloc(b * sizeof *ci);
        if (!ci) die("out of memory");
        write_indices(v[3], tl_weight_params_default(TL_WEIGHT_KLIEP).seed, nt, b, ci);
        FAIL_IF(tl_mat_alloc(&s.C, b, Xt.cols));
        for (size_t i = 0; i < b; i++) memcpy(s.C.data + i * s.C.ld, Xt.data + ci[i] * Xt.ld, Xt.cols * sizeof(double));
        FAIL_IF(tl_mat_alloc(&s.Ds, tl_dataset_rows(s.s), b));
        FAIL_IF(tl_mat_alloc(&s.Dt, nt, b));
        free(ci);
    } else if (!strncmp(s.op, "kliep-cv-", 9) || !strncmp(s.op, "ulsif-cv-", 9) ||
               !strncmp(s.op, "kliep-def-", 10) || !strncmp(s.op, "ulsif-def-", 10)) {
        int surf = strstr(s.op, "surf") != NULL, o = surf ? 0 : 1;
        if (n < 4 + o || n > 5 + o) die("expects SRC TGT GAMMA IDX [DUMP] (surf), DIR NS NT GAMMA IDX [DUMP] (fmnist)");
        if (surf) {
            s.s = load_pre(v[0], "rowsum,zscore");
            s.t = load_pre(v[1], "rowsum,zscore");
        } else {
            s.s = fmnist(v[0], "train", parse_size(v[1]), 0);
            s.t = fmnist(v[0], "t10k", parse_size(v[2]), 1);
        }
        gamma = parse_num(v[2 + o]);
        s.dump = n > 4 + o ? v[4 + o] : NULL;
        int kliep = s.op[0] == 'k';
        s.wp = tl_weight_params_default(kliep ? TL_WEIGHT_KLIEP : TL_WEIGHT_ULSIF);
        s.wp.centers = 100; /* the authors' b, the library's default */
        if (strstr(s.op, "-cv-")) {
            s.wp.widths = 9;
            s.wp.folds = 5;
            if (kliep) s.wp.max_iter = 100; /* KLIEP_learning's max_iteration */
            else s.wp.lambda = -1;          /* uLSIF.m's lambda_list = logspace(-3, 1, 9) */
        }
        static tl_ctx ctx;
        ctx = tl_ctx_default();
        ctx.log = capture_log;
        ctx.log_level = TL_LOG_INFO;
        s.wp.ctx = &ctx;
        write_indices(v[3 + o], s.wp.seed, tl_dataset_rows(s.t), s.wp.centers, NULL);
    } else if (!strcmp(s.op, "kmm-fmnist")) {
        if (n < 4 || n > 5) die("expects DIR NS NT GAMMA [DUMP]");
        s.s = fmnist(v[0], "train", parse_size(v[1]), 0);
        s.t = fmnist(v[0], "t10k", parse_size(v[2]), 1);
        gamma = parse_num(v[3]);
        s.dump = n > 4 ? v[4] : NULL;
        s.wp = tl_weight_params_default(TL_WEIGHT_KMM);
    } else if (!strcmp(s.op, "dclf-amazon")) {
        if (n < 2 || n > 3) die("expects SRC TGT [DUMP]");
        tl_load_opts o = tl_load_opts_default();
        o.index_base = 0;
        o.n_features = 5000;
        FAIL_IF(tl_dataset_load(v[0], &o, &s.s));
        FAIL_IF(tl_dataset_load(v[1], &o, &s.t));
        s.dump = n > 2 ? v[2] : NULL;
        s.wp = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    } else if (!strcmp(s.op, "dclf-surf")) {
        if (n < 2 || n > 3) die("expects SRC TGT [DUMP]");
        s.s = load_pre(v[0], "rowsum");
        s.t = load_pre(v[1], "rowsum");
        s.dump = n > 2 ? v[2] : NULL;
        s.wp = tl_weight_params_default(TL_WEIGHT_DOMAIN_CLF);
    } else if (!strcmp(s.op, "mmd-surf")) {
        if (n != 4) die("expects SRC TGT GAMMA PERMS");
        s.s = load_pre(v[0], "rowsum");
        s.t = load_pre(v[1], "rowsum");
        s.mp = tl_mmd_params_default();
        s.mp.gamma = parse_num(v[2]);
        s.mp.permutations = parse_size(v[3]);
    } else {
        die("unknown op (see the top of bench_instance.c)");
    }
    s.wp.kernel.gamma = gamma;
    if (s.s && !s.C.data) {
        s.w = malloc(tl_dataset_rows(s.s) * sizeof *s.w);
        if (!s.w) die("out of memory");
    }
    double setup_mb = bench_peak_mb();
    int hwm_reset = bench_reset_peak();
    double runs[MAX_RUNS], best = 1e300;
    for (int i = 0; i < warmups + repeats; i++) {
        double t0 = bench_now();
        run_op(&s);
        double t = bench_now() - t0;
        if (i >= warmups) {
            runs[i - warmups] = t;
            if (t < best) best = t;
        }
    }
    double peak = bench_peak_mb();
    if (!strcmp(s.op, "mmd-surf")) {
        add_extra(",\"gamma\":%.17g,\"mmd2\":%.17g", s.mr.gamma, s.mr.mmd2);
        if (s.mr.p_value == s.mr.p_value) add_extra(",\"p_value\":%.17g", s.mr.p_value);
    } else if (s.C.data) {
        add_extra(",\"n_source\":%zu,\"n_target\":%zu,\"centres\":%zu", s.Ds.rows, s.Dt.rows,
                  s.C.rows);
    } else if (s.s) {
        /* the bandwidth the weights used, for the reference to reuse */
        if (gamma <= 0 && s.wp.method != TL_WEIGHT_DOMAIN_CLF) {
            tl_mmd_params mp = tl_mmd_params_default();
            tl_mmd_result r;
            mp.kernel = TL_KERNEL_RBF;
            FAIL_IF(tl_mmd(&mp, tl_dataset_features(s.s), tl_dataset_features(s.t), &r));
            gamma = r.gamma; /* same pooled median heuristic, same seed */
        }
        add_extra(",\"gamma\":%.17g,\"n_source\":%zu,\"n_target\":%zu", gamma, tl_dataset_rows(s.s),
                  tl_dataset_rows(s.t));
        if (chosen_gamma > 0) add_extra(",\"chosen_gamma\":%.17g", chosen_gamma);
        if (chosen_lambda > 0) add_extra(",\"chosen_lambda\":%.17g", chosen_lambda);
        if (s.dump) {
            FILE *f = fopen(s.dump, "w");
            if (!f) die("cannot write the dump file");
            for (size_t i = 0; i < tl_dataset_rows(s.s); i++) fprintf(f, "%.17g\n", s.w[i]);
            fclose(f);
            if (chosen_gamma > 0) {
                char sel[1100];
                snprintf(sel, sizeof sel, "%s.sel", s.dump);
                f = fopen(sel, "w");
                if (!f) die("cannot write the selection file");
                fprintf(f, "%.17g %.17g\n", chosen_gamma, chosen_lambda);
                fclose(f);
            }
        }
    }
    printf("{\"side\":\"libtl\",\"impl\":\"libtl\",\"op\":\"%s\",\"seconds\":%.6f,\"runs\":[", s.op,
           best);
    for (int i = 0; i < repeats; i++) printf("%s%.6f", i ? "," : "", runs[i]);
    printf("],\"warmups\":%d,\"peak_mb\":%.1f,\"setup_mb\":%.1f,\"hwm_reset\":%s%s}\n", warmups, peak,
           setup_mb, hwm_reset ? "true" : "false", extra);
    free(s.w);
    tl_dataset_free(s.s);
    tl_dataset_free(s.t);
    return 0;
}
