/* bench/multitask: multi-task learning on the four Amazon review domains as four tasks (the MAN
 * paper's protocol, Chen & Cardie, NAACL 2018, Table 1: 2000 labelled reviews per domain, 5-fold
 * cross-validation) - libtl's shared-trunk network (tl_nn_mtl_train, one head per domain) against
 * one network per domain trained by the same loop with one task, same trunk and head, same
 * settings, same folds. One Markdown table on stdout: per-domain accuracy (mean over the folds)
 * of both, their means, and the published per-domain MLP row.
 *
 *   multitask --data DIR [--trunk dense:100,sigmoid] [--head dense:2] [--folds 5] [--epochs 100]
 *             [--batch 32] [--lr 0.01] [--patience 5] [--seed 42] [--threads 1]
 * Each fold: 80 % of every domain's _train rows train (10 % of those held out for early stopping),
 * 20 % are scored; the fold of a row is its position in a seeded shuffle modulo the fold count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tl.h"

#define NT 4
static const char *const dom[NT] = {"books", "dvd", "electronics", "kitchen"};
static const double published_mlp[NT] = {81.7, 81.7, 85.5, 86.0}; /* MAN paper, Table 1 */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "multitask: %s: %s\n", what, tl_error_message());
    exit(1);
}

int main(int argc, char **argv) {
    const char *dir = NULL, *trunk = "dense:100,sigmoid", *head = "dense:2";
    size_t folds = 5, epochs = 100, batch = 32, patience = 5, threads = 1;
    double lr = 0.01;
    unsigned long seed = 42;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--data")) dir = v;
        else if (!strcmp(k, "--trunk")) trunk = v;
        else if (!strcmp(k, "--head")) head = v;
        else if (!strcmp(k, "--folds")) folds = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--epochs")) epochs = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--batch")) batch = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--lr")) lr = strtod(v, NULL);
        else if (!strcmp(k, "--patience")) patience = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--seed")) seed = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--threads")) threads = strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "multitask: unknown option %s\n", k);
            return 2;
        }
    }
    if (!dir || folds < 2) {
        fprintf(stderr, "usage: multitask --data DIR [options]\n");
        return 2;
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = threads;
    float *x[NT];
    int *y[NT];
    size_t n[NT], *fold[NT];
    const size_t d = 5000;
    for (size_t k = 0; k < NT; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s_train.svmlight", dir, dom[k]);
        tl_load_opts o = tl_load_opts_default();
        o.index_base = 0;
        o.n_features = d;
        tl_dataset *ds = NULL;
        if (tl_dataset_load(path, &o, &ds) != TL_OK) die(path);
        if (!tl_dataset_dense(ds).data && tl_dataset_densify(ds) != TL_OK) die(path);
        tl_mat X = tl_dataset_dense(ds);
        n[k] = X.rows;
        x[k] = malloc(n[k] * d * sizeof(float));
        y[k] = malloc(n[k] * sizeof(int));
        fold[k] = malloc(n[k] * sizeof(size_t));
        if (!x[k] || !y[k] || !fold[k]) die("out of memory");
        for (size_t i = 0; i < n[k]; i++) {
            for (size_t j = 0; j < d; j++) x[k][i * d + j] = (float)X.data[i * X.ld + j];
            y[k][i] = tl_dataset_labels_const(ds)[i];
            fold[k][i] = i;
        }
        tl_rng rng;
        tl_rng_seed(&rng, seed + k);
        tl_rng_shuffle(&rng, fold[k], n[k]); /* fold[k][pos] = row; row's fold = pos % folds */
        tl_dataset_free(ds);
    }
    const char *names[NT], *heads[NT];
    for (size_t k = 0; k < NT; k++) names[k] = dom[k], heads[k] = head;
    const int labels[2] = {-1, 1};
    double acc_mt[NT] = {0}, acc_st[NT] = {0}, sec_mt = 0, sec_st = 0;
    for (size_t f = 0; f < folds; f++) {
        float *xtr[NT], *xte[NT];
        int *ytr[NT], *yte[NT];
        size_t ntr[NT], nte[NT];
        tl_nn_task_data td[NT];
        for (size_t k = 0; k < NT; k++) {
            xtr[k] = malloc(n[k] * d * sizeof(float));
            xte[k] = malloc(n[k] * d * sizeof(float));
            ytr[k] = malloc(n[k] * sizeof(int));
            yte[k] = malloc(n[k] * sizeof(int));
            ntr[k] = nte[k] = 0;
            for (size_t p = 0; p < n[k]; p++) {
                const size_t row = fold[k][p];
                const bool test = p % folds == f;
                float *dst = test ? xte[k] + nte[k] * d : xtr[k] + ntr[k] * d;
                memcpy(dst, x[k] + row * d, d * sizeof(float));
                if (test) yte[k][nte[k]++] = y[k][row];
                else ytr[k][ntr[k]++] = y[k][row];
            }
            td[k] = (tl_nn_task_data){xtr[k], ytr[k], ntr[k]};
        }
        tl_nn_mtl_params p = tl_nn_mtl_params_default();
        p.train.epochs = epochs;
        p.train.batch_size = batch;
        p.train.lr = lr;
        p.train.val_fraction = 0.1;
        p.train.patience = patience;
        p.train.seed = seed + f;
        p.train.ctx = &ctx;
        /* shared trunk, four heads */
        tl_nn_mtl *m = NULL;
        double t0 = now();
        if (tl_nn_mtl_create(trunk, d, 1, 1, NT, names, heads, seed + f, &m) != TL_OK) die("create");
        for (size_t k = 0; k < NT; k++)
            if (tl_nn_set_labels(tl_nn_mtl_head(m, k), labels, 2) != TL_OK) die("labels");
        tl_nn_train_result r;
        if (tl_nn_mtl_train(m, &p, td, &r) != TL_OK) die("multi-task training");
        sec_mt += now() - t0;
        double a[NT];
        for (size_t k = 0; k < NT; k++) {
            if (tl_nn_mtl_evaluate(m, k, xte[k], yte[k], nte[k], &a[k], NULL) != TL_OK) die("evaluate");
            acc_mt[k] += 100 * a[k] / (double)folds;
        }
        fprintf(stderr, "multitask: fold %zu: shared trunk %.1f %.1f %.1f %.1f (%zu epochs)\n", f + 1,
                100 * a[0], 100 * a[1], 100 * a[2], 100 * a[3], r.epochs_run);
        tl_nn_mtl_free(m);
        /* one network per task: the same loop with one task */
        for (size_t k = 0; k < NT; k++) {
            tl_nn_mtl *s = NULL;
            t0 = now();
            if (tl_nn_mtl_create(trunk, d, 1, 1, 1, &names[k], &heads[k], seed + f, &s) != TL_OK ||
                tl_nn_set_labels(tl_nn_mtl_head(s, 0), labels, 2) != TL_OK)
                die("create");
            if (tl_nn_mtl_train(s, &p, &td[k], &r) != TL_OK) die("single-task training");
            sec_st += now() - t0;
            if (tl_nn_mtl_evaluate(s, 0, xte[k], yte[k], nte[k], &a[k], NULL) != TL_OK) die("evaluate");
            acc_st[k] += 100 * a[k] / (double)folds;
            tl_nn_mtl_free(s);
        }
        fprintf(stderr, "multitask: fold %zu: one per task %.1f %.1f %.1f %.1f\n", f + 1, 100 * a[0],
                100 * a[1], 100 * a[2], 100 * a[3]);
        for (size_t k = 0; k < NT; k++) {
            free(xtr[k]);
            free(xte[k]);
            free(ytr[k]);
            free(yte[k]);
        }
    }
    printf("Multi-task, Amazon reviews (4 domains = 4 tasks, 2000 labelled rows each, %zu-fold CV); "
           "trunk %s, head %s per task, batch %zu per task, lr %g, SGD momentum 0.9, %zu epochs max, "
           "early stopping on 10%% of each task's training rows (patience %zu), seed %lu, %zu thread(s)\n\n",
           folds, trunk, head, batch, lr, epochs, patience, seed, threads);
    printf("| task | libtl shared trunk | libtl one network per task | published MLP per domain (MAN) |\n");
    printf("|---|---|---|---|\n");
    double mm = 0, ms = 0, mp = 0;
    for (size_t k = 0; k < NT; k++) {
        printf("| %s | %.2f | %.2f | %.1f |\n", dom[k], acc_mt[k], acc_st[k], published_mlp[k]);
        mm += acc_mt[k] / NT;
        ms += acc_st[k] / NT;
        mp += published_mlp[k] / NT;
    }
    printf("| **mean** | **%.2f** | **%.2f** | %.2f |\n\n", mm, ms, mp);
    printf("training seconds over the folds: shared trunk %.0f, one network per task %.0f\n", sec_mt, sec_st);
    for (size_t k = 0; k < NT; k++) {
        free(x[k]);
        free(y[k]);
        free(fold[k]);
    }
    return 0;
}
