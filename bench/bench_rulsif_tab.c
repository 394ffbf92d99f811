/* bench_rulsif_tab: the libtl half of bench/rulsif_tab.sh. RuLSIF and TrAdaBoost on one
 * Office+Caltech SURF task, timed in-process; bench/ref_rulsif_tab.py runs the same on the same
 * .npy files (written once by its `prep`) in numpy / scikit-learn and prints the same JSON line.
 *
 *   bench_rulsif_tab [-r R] rulsif SRC.npy TGT.npy OUT
 *       RuLSIF at the method's defaults through the registry, as `tl weight --method rulsif` fits
 *       it (alpha 0.1, lambda 1e-3, 100 centres drawn from the target with the context's seed 42,
 *       gamma by the median heuristic), and again with gamma set to the value the heuristic chose
 *       (what the reference is given); best of R fits of each, alternating, after an untimed one. Writes OUT.w (the
 *       source weights) and OUT.idx (the centres: m_rulsif.c's rule, tl_rng seeded 42, a
 *       Fisher-Yates shuffle of 0..nt-1, its first 100); then logistic regression (C = 1) on the
 *       source with and without the weights, scored on every target row.
 *   bench_rulsif_tab tradaboost SRC.npy LAB.npy UNL.npy ROUNDS C OUT
 *       TrAdaBoost (logistic regression, C fixed, as the reference's) on the source and the
 *       labelled target rows, scored on the unlabelled ones, one timed fit; OUT.pred holds the
 *       predictions. Also the source-only and pooled (source + labelled target) learners'
 *       accuracies at the same C, for context.
 * Each .npy has a .labels.npy beside it. OPENBLAS_NUM_THREADS decides the threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "bench_rulsif_tab"
#include "bench_util.h"

#include "tl.h"
#include "tl/instance.h"

static tl_dataset *load(const char *path) {
    tl_dataset *d = NULL;
    tl_load_opts o = tl_load_opts_default();
    FAIL_IF(tl_dataset_load(path, &o, &d));
    return d;
}

static double accuracy(const tl_learner *l, tl_dataset *t) {
    size_t n = tl_dataset_rows(t), ok = 0;
    int *p = malloc(n * sizeof *p);
    const int *y = tl_dataset_labels_const(t);
    FAIL_IF(tl_learner_predict(l, tl_dataset_features(t), p));
    for (size_t i = 0; i < n; i++) ok += p[i] == y[i];
    free(p);
    return (double)ok / (double)n;
}

static double logreg_acc(tl_dataset *s, const double *w, tl_dataset *t, double C) {
    tl_learner *l = NULL;
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    lp.C = C;
    FAIL_IF(tl_learner_create(&lp, &l));
    FAIL_IF(tl_learner_fit(l, tl_dataset_features(s), tl_dataset_labels_const(s), w));
    double a = accuracy(l, t);
    tl_learner_free(l);
    return a;
}

static FILE *out_file(const char *prefix, const char *ext) {
    char path[1024];
    snprintf(path, sizeof path, "%s%s", prefix, ext);
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write an output file");
    return f;
}

static int run_rulsif(int repeats, char **v) {
    tl_dataset *s = load(v[0]), *t = load(v[1]);
    tl_task *task = NULL;
    tl_ctx ctx = tl_ctx_default();
    FAIL_IF(tl_task_create(&task));
    FAIL_IF(tl_task_add(task, TL_ROLE_SOURCE, s, NULL));
    FAIL_IF(tl_task_add(task, TL_ROLE_TARGET, t, NULL));
    tl_params *p = NULL;
    FAIL_IF(tl_params_create(tl_method_find("rulsif", -1), &p));
    tl_params *q = NULL; /* the same at the gamma the defaults chose */
    tl_model *m = NULL;
    /* the defaults' fit (median heuristic included), then fits at the gamma it chose: the
     * reference is given that gamma, so both sides then time the same work. Alternating, one
     * untimed round first; best of `repeats` for each. */
    FAIL_IF(tl_model_fit(p, NULL, task, &ctx, &m));
    double gamma = 0, best = 1e300, t_default = 1e300;
    const char *key = NULL;
    if (!tl_model_info(m, 0, &key, &gamma) || strcmp(key, "gamma")) die("no gamma in the model");
    FAIL_IF(tl_params_create(tl_method_find("rulsif", -1), &q));
    FAIL_IF(tl_params_set_num(q, "gamma", gamma));
    for (int i = 0; i <= repeats; i++) {
        tl_model *md = NULL, *mi = NULL;
        double t0 = bench_now();
        FAIL_IF(tl_model_fit(p, NULL, task, &ctx, &md));
        double t1 = bench_now();
        FAIL_IF(tl_model_fit(q, NULL, task, &ctx, &mi));
        double t2 = bench_now();
        if (i > 0 && t1 - t0 < t_default) t_default = t1 - t0;
        if (i > 0 && t2 - t1 < best) best = t2 - t1;
        size_t n1 = 0, n2 = 0;
        const double *w1 = tl_model_fit_weights(m, &n1), *w2 = tl_model_fit_weights(mi, &n2);
        if (n1 != n2 || memcmp(w1, w2, n1 * sizeof *w1)) die("the weights at the chosen gamma differ");
        tl_model_free(md);
        tl_model_free(mi);
    }
    size_t ns = 0, nt = tl_dataset_rows(t), b = tl_params_num(p, "centers");
    const double *w = tl_model_fit_weights(m, &ns);
    FILE *f = out_file(v[2], ".w");
    for (size_t i = 0; i < ns; i++) fprintf(f, "%.17g\n", w[i]);
    fclose(f);
    size_t *idx = malloc(nt * sizeof *idx);
    for (size_t i = 0; i < nt; i++) idx[i] = i;
    tl_rng r;
    tl_rng_seed(&r, ctx.seed);
    if (b < nt) tl_rng_shuffle(&r, idx, nt);
    f = out_file(v[2], ".idx");
    for (size_t i = 0; i < b && i < nt; i++) fprintf(f, "%zu\n", idx[i]);
    fclose(f);
    free(idx);
    double a0 = logreg_acc(s, NULL, t, 1.0), a1 = logreg_acc(s, w, t, 1.0);
    printf("{\"side\":\"libtl\",\"op\":\"rulsif\",\"seconds\":%.6f,\"seconds_default\":%.6f,\"runs\":%d,\"gamma\":%.17g,"
           "\"acc_unweighted\":%.6f,\"acc_weighted\":%.6f}\n",
           best, t_default, repeats, gamma, a0, a1);
    tl_model_free(m);
    tl_params_free(p);
    tl_params_free(q);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
    return 0;
}

static int run_tradaboost(char **v) {
    tl_dataset *s = load(v[0]), *l = load(v[1]), *u = load(v[2]);
    tl_tradaboost_params p = tl_tradaboost_params_default();
    p.rounds = parse_size(v[3]);
    p.base.C = atof(v[4]);
    tl_tradaboost *m = NULL;
    double t0 = bench_now();
    FAIL_IF(tl_tradaboost_fit(&p, tl_dataset_features(s), tl_dataset_labels_const(s),
                         tl_dataset_features(l), tl_dataset_labels_const(l), &m));
    double dt = bench_now() - t0;
    size_t n = tl_dataset_rows(u), ok = 0;
    int *pred = malloc(n * sizeof *pred);
    const int *y = tl_dataset_labels_const(u);
    FAIL_IF(tl_tradaboost_predict(m, tl_dataset_features(u), pred));
    FILE *f = out_file(v[5], ".pred");
    for (size_t i = 0; i < n; i++) {
        ok += pred[i] == y[i];
        fprintf(f, "%d\n", pred[i]);
    }
    fclose(f);
    tl_dataset *sl = NULL; /* the pooled learner: source + labelled target rows, unweighted */
    FAIL_IF(tl_dataset_concat(s, l, &sl));
    double a0 = logreg_acc(s, NULL, u, p.base.C), a2 = logreg_acc(sl, NULL, u, p.base.C);
    tl_dataset_free(sl);
    printf("{\"side\":\"libtl\",\"op\":\"tradaboost\",\"seconds\":%.6f,\"accuracy\":%.6f,"
           "\"source_only\":%.6f,\"pooled\":%.6f}\n",
           dt, (double)ok / (double)n, a0, a2);
    free(pred);
    tl_tradaboost_free(m);
    tl_dataset_free(s);
    tl_dataset_free(l);
    tl_dataset_free(u);
    return 0;
}

int main(int argc, char **argv) {
    bench_host_setup();
    int repeats = 5, a = 1;
    if (argc > 2 && !strcmp(argv[1], "-r")) {
        repeats = (int)parse_size(argv[2]);
        a = 3;
    }
    if (argc - a == 4 && !strcmp(argv[a], "rulsif") && repeats >= 1)
        return run_rulsif(repeats, argv + a + 1);
    if (argc - a == 7 && !strcmp(argv[a], "tradaboost")) return run_tradaboost(argv + a + 1);
    fprintf(stderr, "usage: see the top of bench/bench_rulsif_tab.c\n");
    return 2;
}
