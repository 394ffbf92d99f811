/* bench/deep_da: one Amazon (or any svmlight / .mat / .npy) domain pair through libtl's deep
 * domain adaptation (tl_nn_da_*), printed as one JSON line: the source-only network (lambda 0,
 * the same training) and the adapted one, their target test accuracies, the (lambda, lr) reverse
 * validation chose and the seconds. Used by bench/deep_da.sh for the DANN paper's Table 1.
 *
 *   deep_da --source S_TRAIN --target T_TRAIN --test T_TEST [--da dann] [--arch A]
 *           [--lambdas 0.01,0.1,1 | --lambda L] [--lrs 0.01,0.1 | --lr LR] [--epochs N]
 *           (default grids: the library's - tl_nn_da_lambda_grid of the adaptation, deep-da's
 *           lr-grid; every setting's risk goes to stderr)
 *           [--batch B] [--patience P] [--seed S] [--threads T] [--layer L[,L...]]
 * Protocol (DANN paper, Section 5.1.2 / 5.1.3): the network is built from --arch on the source's
 * width; 10 % of the source is held out for early stopping; without --lambda the pair (lambda,
 * lr) comes from reverse validation on a 90/10 source split (no target label is read); the
 * source-only network is trained with the lr reverse validation chose for lambda = 0 ... here the
 * same selection with lambda fixed at 0. The test file's labels are read only to score. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tl.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static size_t parse_list(const char *s, double *v, size_t cap) {
    size_t n = 0;
    char *end;
    while (s && *s && n < cap) {
        v[n++] = strtod(s, &end);
        if (*end != ',') break;
        s = end + 1;
    }
    return n;
}

/* "v0, v1, ..." into buf. */
static const char *join(const double *v, size_t n, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, i ? ", %g" : "%g", v[i]);
    return buf;
}

/* The reverse-validation risk of every setting tried, to stderr (what deep_da.sh keeps in a log
 * beside the table, to see why a setting won). */
static void log_rv(void *user, tl_log_level level, const char *msg) {
    (void)user;
    (void)level;
    if (strstr(msg, "reverse validation")) fprintf(stderr, "deep_da: %s\n", msg);
}

static float *to_float(tl_dataset *ds) {
    if (!tl_dataset_dense(ds).data && tl_dataset_densify(ds) != TL_OK) return NULL;
    tl_mat X = tl_dataset_dense(ds);
    float *x = malloc(X.rows * X.cols * sizeof *x);
    for (size_t i = 0; x && i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) x[i * X.cols + j] = (float)X.data[i * X.ld + j];
    return x;
}

static tl_dataset *load(const char *path, size_t width) {
    tl_load_opts o = tl_load_opts_default();
    o.index_base = 0;
    o.n_features = width;
    tl_dataset *ds = NULL;
    if (tl_dataset_load(path, &o, &ds) != TL_OK) {
        fprintf(stderr, "deep_da: %s\n", tl_error_message());
        exit(1);
    }
    return ds;
}

int main(int argc, char **argv) {
    const char *src = NULL, *tgt = NULL, *test = NULL, *da = "dann", *arch = "dense:100,sigmoid,dense:2";
    const char *lambdas = NULL, *lrs = NULL, *lambda1 = NULL, *lr1 = NULL, *layer = NULL;
    size_t epochs = 100, batch = 32, patience = 5, threads = 1;
    unsigned long seed = 42;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--source")) src = v;
        else if (!strcmp(k, "--target")) tgt = v;
        else if (!strcmp(k, "--test")) test = v;
        else if (!strcmp(k, "--da")) da = v;
        else if (!strcmp(k, "--arch")) arch = v;
        else if (!strcmp(k, "--lambdas")) lambdas = v;
        else if (!strcmp(k, "--lrs")) lrs = v;
        else if (!strcmp(k, "--lambda")) lambda1 = v;
        else if (!strcmp(k, "--lr")) lr1 = v;
        else if (!strcmp(k, "--layer")) layer = v;
        else if (!strcmp(k, "--epochs")) epochs = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--batch")) batch = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--patience")) patience = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--seed")) seed = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--threads")) threads = strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "deep_da: unknown option %s\n", k);
            return 2;
        }
    }
    if (!src || !tgt || !test) {
        fprintf(stderr, "usage: deep_da --source S --target T --test E [options]\n");
        return 2;
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = threads;
    ctx.log = log_rv;
    ctx.log_level = TL_LOG_INFO;
    tl_dataset *S = load(src, 5000), *T = load(tgt, 5000), *E = load(test, 5000);
    const size_t ns = tl_dataset_rows(S), nt = tl_dataset_rows(T), ne = tl_dataset_rows(E),
                 d = tl_dataset_cols(S);
    float *xs = to_float(S), *xt = to_float(T), *xe = to_float(E);
    const int *ys = tl_dataset_labels_const(S), *ye = tl_dataset_labels_const(E);
    int *pred = malloc(ne * sizeof *pred);
    tl_nn *init = NULL;
    tl_nn_da_params p = tl_nn_da_params_default();
    if (tl_nn_da_parse(da, &p.method) != TL_OK || !xs || !xt || !xe || !pred ||
        tl_nn_create(arch, d, 1, 1, seed, &init) != TL_OK) {
        fprintf(stderr, "deep_da: %s\n", tl_error_message());
        return 1;
    }
    int *cls = NULL;
    size_t nc;
    tl_labels_unique(ys, ns, &cls, NULL, &nc);
    tl_nn_set_labels(init, cls, nc);
    p.train.epochs = epochs;
    p.train.batch_size = batch;
    p.train.val_fraction = 0.1;
    p.train.patience = patience;
    p.train.seed = seed;
    p.train.ctx = &ctx;
    p.layer = layer;
    double L[16], R[16], lam, lr, risk0 = NAN, risk = NAN, t0 = now();
    /* the library's grids unless given: lambda the adaptation's own (tl_nn_da_lambda_grid), the
     * rate deep-da's lr-grid default (its method descriptor) */
    size_t nl = 0, nr = 0;
    if (lambda1 || lambdas) nl = parse_list(lambda1 ? lambda1 : lambdas, L, lambda1 ? 1 : 16);
    else {
        const double *g = tl_nn_da_lambda_grid(p.method, &nl);
        memcpy(L, g, nl * sizeof *g);
    }
    if (!lrs && !lr1) {
        const tl_param_desc *pd = tl_method_param_find(tl_method_find("deep-da", -1), "lr-grid");
        lrs = pd ? pd->def : "0.01";
    }
    nr = lr1 ? parse_list(lr1, R, 1) : parse_list(lrs, R, 16);
    /* source only: lambda 0, its lr by the same reverse validation */
    tl_nn_da_params p0 = p;
    p0.method = TL_NN_DA_NONE;
    double zero = 0, lr0 = R[0];
    if (nr > 1 && tl_nn_da_select(init, &p0, &zero, 1, R, nr, xs, ys, ns, xt, nt, &zero, &lr0, &risk0) != TL_OK)
        goto fail;
    tl_nn *base = NULL, *ad = NULL;
    tl_nn_train_result r0, r1;
    p0.train.lr = lr0;
    if (tl_nn_clone(init, &base) != TL_OK || tl_nn_da_train(base, &p0, xs, ys, ns, xt, nt, &r0) != TL_OK ||
        tl_nn_predict(base, xe, ne, pred) != TL_OK)
        goto fail;
    const double acc0 = tl_accuracy(ye, pred, ne), t1 = now();
    lam = L[0];
    lr = R[0];
    if ((nl > 1 || nr > 1) &&
        tl_nn_da_select(init, &p, L, nl, R, nr, xs, ys, ns, xt, nt, &lam, &lr, &risk) != TL_OK)
        goto fail;
    p.lambda = lam;
    p.train.lr = lr;
    const tl_status st = tl_nn_clone(init, &ad) == TL_OK ? tl_nn_da_train(ad, &p, xs, ys, ns, xt, nt, &r1)
                                                         : TL_ERR_NOMEM;
    if (st != TL_OK && st != TL_ERR_NONFINITE) goto fail;
    if (tl_nn_predict(ad, xe, ne, pred) != TL_OK) goto fail;
    const double acc = tl_accuracy(ye, pred, ne), t2 = now();
    char rk[32] = "null"; /* no reverse validation with a single (lambda, lr) */
    char lt[256], rt[256];
    if (risk == risk) snprintf(rk, sizeof rk, "%.4f", risk);
    printf("{\"source\": \"%s\", \"target\": \"%s\", \"da\": \"%s\", \"source_only\": %.4f, "
           "\"source_only_lr\": %g, \"source_only_epochs\": %zu, \"adapted\": %.4f, \"lambda\": %g, "
           "\"lr\": %g, \"layer\": \"%s\", \"rv_risk\": %s, \"epochs\": %zu, \"nonfinite\": %s, "
           "\"seconds_source_only\": %.1f, \"seconds_adapted\": %.1f, \"lambdas_tried\": [%s], "
           "\"lrs_tried\": [%s]}\n",
           src, tgt, da, 100 * acc0, lr0, r0.epochs_run, 100 * acc, lam, lr, layer ? layer : "", rk, r1.epochs_run,
           st == TL_ERR_NONFINITE ? "true" : "false", t1 - t0, t2 - t1, join(L, nl, lt, sizeof lt),
           join(R, nr, rt, sizeof rt));
    return 0;
fail:
    fprintf(stderr, "deep_da: %s\n", tl_error_message());
    return 1;
}
