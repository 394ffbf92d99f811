/* Seeds for the .tlm fuzz target (tests/fuzz/fuzz_tlm.c): real model files of every kind the
 * library writes, made with the library on a small shifted task (3 classes, 4 features), plus
 * hostile variants whose checksum is right but whose contents lie, and truncated and bit-flipped
 * copies. Every file is small (a few KB) so the fuzzer mutates them quickly.
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -Iinclude tests/fuzz/make_tlm_corpus.c build/libtl.a \
 *       $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread -o build/make_tlm_corpus
 *   build/make_tlm_corpus tests/fuzz/corpus/tlm
 *
 * Kinds: a saved tl_model of every registry method (and kernel / low-rank variants of the
 * feature methods); pipelines of a feature, an instance and an ensemble method, of the learner
 * alone, with preprocessing fitted per domain and on the source; each module's object on its own
 * (adapter, weighter, learner of every type, scaler, TrAdaBoost); a neural network file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tl.h"

static const char *dir;
static int n_files, n_failed;

#define D 4

/* 3 classes; class c raises feature c by 2; target = 0.8 x + 0.5. Labels 1..3. */
static tl_dataset *domain(size_t n, double scale, double shift, unsigned seed) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    tl_dataset *ds = NULL;
    if (tl_dataset_create_dense(n, D, true, &ds) != TL_OK) return NULL;
    tl_mat X = tl_dataset_dense(ds);
    int *y = tl_dataset_labels(ds);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % 3) + 1;
        for (size_t j = 0; j < D; j++)
            TL_AT(X, i, j) = scale * ((j == i % 3 ? 2.0 : 0.0) + 0.5 * tl_rng_normal(&r)) + shift;
    }
    return ds;
}

static const char *path_of(const char *name) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void report(tl_status st, const char *name) {
    if (st == TL_OK) {
        n_files++;
    } else {
        n_failed++;
        fprintf(stderr, "make_tlm_corpus: %s: %s\n", name, tl_error_message());
    }
}

static void save_container(tl_tlm *c, const char *name) { report(tl_tlm_save(c, path_of(name)), name); }

/* Reads a file into memory (for the truncated and flipped copies). */
static unsigned char *slurp(const char *name, size_t *n) {
    FILE *f = fopen(path_of(name), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = len > 0 ? malloc((size_t)len) : NULL;
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

static void spit(const char *name, const unsigned char *b, size_t n) {
    FILE *f = fopen(path_of(name), "wb");
    if (f && fwrite(b, 1, n, f) == n) n_files++;
    else n_failed++;
    if (f) fclose(f);
}

/* A model file loaded back, edited through the container (metadata key = value; the checksum
 * is recomputed on save), saved under a new name. */
static void edit(const char *from, const char *to, const char *key, const char *value) {
    tl_tlm *c = NULL;
    if (tl_tlm_load(path_of(from), &c) == TL_OK && tl_tlm_set_meta(c, key, value) == TL_OK)
        save_container(c, to);
    else
        report(TL_ERR_IO, to);
    tl_tlm_free(c);
}

static void fit_and_save(const tl_task *task, const char *method, const char *const *settings,
                         const char *name) {
    tl_params *p = NULL;
    tl_model *m = NULL;
    tl_status st = tl_params_create(tl_method_find(method, -1), &p);
    for (size_t i = 0; st == TL_OK && settings && settings[i]; i += 2)
        st = tl_params_set(p, settings[i], settings[i + 1]);
    if (st == TL_OK) st = tl_model_fit(p, NULL, task, NULL, &m);
    if (st == TL_OK) st = tl_model_save(m, path_of(name));
    report(st, name);
    tl_model_free(m);
    tl_params_free(p);
}

static void run_and_save(const tl_task *task, const char *method, const char *learner,
                         const char *pre, bool on_source, const char *name) {
    tl_params *p = NULL, *lp = NULL;
    tl_report *r = NULL;
    tl_pipeline *pl = NULL;
    tl_status st = TL_OK;
    if (method) st = tl_params_create(tl_method_find(method, -1), &p);
    if (st == TL_OK && p && tl_method_param_find(tl_params_method(p), "dim"))
        st = tl_params_set(p, "dim", "2");
    if (st == TL_OK && p && tl_method_param_find(tl_params_method(p), "rounds"))
        st = tl_params_set(p, "rounds", "4");
    if (st == TL_OK && learner) st = tl_params_create(tl_method_find(learner, 0), &lp);
    tl_run_opts o = tl_run_opts_default();
    o.learner = lp;
    o.preprocess_on_source = on_source;
    o.guard = false;
    if (st == TL_OK) st = tl_preprocess_parse(pre, &o.preprocess);
    if (st == TL_OK) st = tl_transfer_run(task, p, &o, &r, &pl);
    if (st == TL_OK) st = tl_pipeline_save(pl, path_of(name));
    report(st, name);
    tl_pipeline_free(pl);
    tl_report_free(r);
    tl_params_free(lp);
    tl_params_free(p);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    mkdir(dir, 0755);
    tl_dataset *src = domain(24, 1.0, 0.0, 1), *tgt = domain(18, 0.8, 0.5, 2),
               *lab = domain(6, 0.8, 0.5, 3);
    tl_task *task = NULL;
    size_t t;
    if (!src || !tgt || !lab || tl_task_create(&task) != TL_OK ||
        tl_task_add(task, TL_ROLE_SOURCE, src, NULL) != TL_OK ||
        tl_task_add(task, TL_ROLE_TARGET, tgt, &t) != TL_OK ||
        tl_task_set_labelled(task, t, lab) != TL_OK) {
        fprintf(stderr, "make_tlm_corpus: %s\n", tl_error_message());
        return 1;
    }

    /* a saved model of every registry method */
    for (size_t i = 0; i < tl_method_count(); i++) {
        const tl_method *m = tl_method_at(i);
        const char *set[7] = {NULL};
        size_t k = 0;
        if (tl_method_param_find(m, "dim")) set[k++] = "dim", set[k++] = "2";
        if (tl_method_param_find(m, "rounds")) set[k++] = "rounds", set[k++] = "4";
        if (tl_method_param_find(m, "centers")) set[k++] = "centers", set[k++] = "8";
        char name[64];
        snprintf(name, sizeof name, "model_%s.tlm", tl_method_name(m));
        fit_and_save(task, tl_method_name(m), set, name);
    }
    /* the kernel and low-rank forms of the feature methods, and a few other settings */
    static const char *const jda_rbf[] = {"dim", "2", "kernel", "rbf", "lowrank", "none", NULL};
    static const char *const tca_poly_nys[] = {"dim", "2", "kernel", "poly", "lowrank", "nystrom",
                                               "landmarks", "6", NULL};
    static const char *const pca_rff[] = {"dim", "2", "kernel", "rbf", "lowrank", "rff",
                                          "landmarks", "8", NULL};
    static const char *const sa_lin[] = {"dim", "2", "kernel", "linear", NULL};
    static const char *const gfk_rbf[] = {"dim", "2", "kernel", "rbf", NULL};
    static const char *const bda_est[] = {"dim", "2", "mu", "-1", "l2-embed", "false", NULL};
    static const char *const ulsif_loo[] = {"centers", "8", "lambda", "-1", "widths", "3", NULL};
    static const char *const kliep_cv[] = {"centers", "8", "widths", "3", "folds", "2", NULL};
    fit_and_save(task, "jda", jda_rbf, "model_jda_rbf.tlm");
    fit_and_save(task, "tca", tca_poly_nys, "model_tca_poly_nystrom.tlm");
    fit_and_save(task, "pca", pca_rff, "model_pca_rbf_rff.tlm");
    fit_and_save(task, "sa", sa_lin, "model_sa_linear.tlm");
    fit_and_save(task, "gfk", gfk_rbf, "model_gfk_rbf.tlm");
    fit_and_save(task, "bda", bda_est, "model_bda_mu_estimated.tlm");
    fit_and_save(task, "ulsif", ulsif_loo, "model_ulsif_loo.tlm");
    fit_and_save(task, "kliep", kliep_cv, "model_kliep_cv.tlm");

    /* pipelines: feature, instance, ensemble, learner alone; both preprocessing fits */
    run_and_save(task, "coral", NULL, "zscore", false, "pipeline_coral_zscore.tlm");
    run_and_save(task, "jda", "logreg", "rowsum,zscore", false, "pipeline_jda_logreg.tlm");
    run_and_save(task, "tca", "svm", "minmax", true, "pipeline_tca_svm_minmax_source.tlm");
    run_and_save(task, "augment", "ridge", "l2", false, "pipeline_augment_ridge.tlm");
    run_and_save(task, "kliep", "logreg", "zscore", false, "pipeline_kliep_logreg.tlm");
    run_and_save(task, "kmm", "svm", "none", false, "pipeline_kmm_svm.tlm");
    run_and_save(task, "rulsif", "knn", "zscore", true, "pipeline_rulsif_knn.tlm");
    run_and_save(task, "tradaboost", NULL, "zscore", false, "pipeline_tradaboost.tlm");
    run_and_save(task, NULL, "1nn", "zscore", false, "pipeline_1nn_only.tlm");

    /* each module's object on its own */
    {
        tl_adapt_params ap = tl_adapt_params_default(TL_ADAPT_SA);
        ap.dim = 2;
        tl_adapter *a = NULL;
        tl_status st = tl_adapt_fit(&ap, tl_dataset_dense(src), tl_dataset_labels_const(src),
                                    tl_dataset_dense(tgt), NULL, &a);
        if (st == TL_OK) st = tl_adapter_save(a, path_of("adapter_sa.tlm"));
        report(st, "adapter_sa.tlm");
        tl_adapter_free(a);
    }
    for (int wm = 0; wm < 4; wm++) {
        tl_weight_params wp = tl_weight_params_default((tl_weight_method)wm);
        if (wm == TL_WEIGHT_KLIEP || wm == TL_WEIGHT_ULSIF) wp.centers = 8;
        tl_weighter *w = NULL;
        tl_tlm *c = NULL;
        char name[64];
        snprintf(name, sizeof name, "weighter_%s.tlm", tl_weight_method_name((tl_weight_method)wm));
        tl_status st = tl_weighter_fit(&wp, tl_dataset_features(src), tl_dataset_features(tgt), &w);
        if (st == TL_OK) st = tl_tlm_create(&c);
        if (st == TL_OK) st = tl_weighter_write(w, c);
        if (st == TL_OK) save_container(c, name);
        else report(st, name);
        tl_tlm_free(c);
        tl_weighter_free(w);
    }
    for (int lt = 0; lt < 4; lt++) {
        tl_learner_params lp = tl_learner_params_default((tl_learner_type)lt);
        tl_learner *l = NULL;
        tl_tlm *c = NULL;
        char name[64];
        snprintf(name, sizeof name, "learner_%s.tlm", tl_learner_name((tl_learner_type)lt));
        tl_status st = tl_learner_create(&lp, &l);
        if (st == TL_OK)
            st = tl_learner_fit(l, tl_dataset_features(src), tl_dataset_labels_const(src), NULL);
        if (st == TL_OK) st = tl_tlm_create(&c);
        if (st == TL_OK) st = tl_learner_write(l, c);
        if (st == TL_OK) save_container(c, name);
        else report(st, name);
        tl_tlm_free(c);
        tl_learner_free(l);
    }
    static const char *const scalings[] = {"zscore", "rowsum,zscore", "minmax", "l2"};
    for (int k = 0; k < 4; k++) {
        tl_preprocess pp;
        tl_scaler *s = NULL;
        tl_tlm *c = NULL;
        char name[64];
        snprintf(name, sizeof name, "scaler_%d.tlm", k);
        tl_status st = tl_preprocess_parse(scalings[k], &pp);
        if (st == TL_OK) st = tl_scaler_fit(&pp, src, &s);
        if (st == TL_OK) st = tl_tlm_create(&c);
        if (st == TL_OK) st = tl_scaler_write(s, c);
        if (st == TL_OK) save_container(c, name);
        else report(st, name);
        tl_tlm_free(c);
        tl_scaler_free(s);
    }
    {
        tl_tradaboost_params tp = tl_tradaboost_params_default();
        tp.rounds = 4;
        tl_tradaboost *tb = NULL;
        tl_tlm *c = NULL;
        tl_status st = tl_tradaboost_fit(&tp, tl_dataset_features(src), tl_dataset_labels_const(src),
                                         tl_dataset_features(lab), tl_dataset_labels_const(lab), &tb);
        if (st == TL_OK) st = tl_tlm_create(&c);
        if (st == TL_OK) st = tl_tradaboost_write(tb, c);
        if (st == TL_OK) save_container(c, "tradaboost.tlm");
        else report(st, "tradaboost.tlm");
        tl_tlm_free(c);
        tl_tradaboost_free(tb);
    }
    {
        tl_nn *nn = NULL;
        tl_status st = tl_nn_create("conv:2:3,bn,relu,[conv:2:3,bn,relu],pool:2,flatten,dense:3",
                                    1, 4, 4, 1, &nn);
        int labels[3] = {7, 8, 9};
        if (st == TL_OK) st = tl_nn_set_labels(nn, labels, 3);
        if (st == TL_OK) st = tl_nn_save(nn, path_of("nn_small.tlm"));
        report(st, "nn_small.tlm");
        tl_nn_free(nn);
    }

    /* contents that lie, behind a right checksum */
    edit("model_jda.tlm", "hostile_model_unknown_method.tlm", "method", "frobnicate");
    edit("model_jda.tlm", "hostile_model_param_range.tlm", "param.dim", "0");
    edit("model_jda.tlm", "hostile_model_state_domain.tlm", "state.target", "1e300");
    edit("model_coral.tlm", "hostile_model_kind.tlm", "model", "tl_pipeline");
    edit("pipeline_coral_zscore.tlm", "hostile_pipeline_domains.tlm", "domains", "4096");
    edit("pipeline_coral_zscore.tlm", "hostile_pipeline_target.tlm", "target", "7");
    edit("pipeline_kliep_logreg.tlm", "hostile_pipeline_no_learner.tlm", "learner.model", "none");
    edit("tradaboost.tlm", "hostile_tradaboost_kind.tlm", "round0.model", "tl_scaler");

    /* truncated and bit-flipped copies (the checksum no longer holds) */
    static const char *const cut[] = {"pipeline_jda_logreg.tlm", "model_kliep.tlm", "nn_small.tlm"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = 0;
        unsigned char *b = slurp(cut[i], &n);
        if (!b) {
            n_failed++;
            continue;
        }
        char name[96];
        snprintf(name, sizeof name, "truncated_%s", cut[i]);
        spit(name, b, n / 2);
        b[n / 3] ^= 0x10;
        snprintf(name, sizeof name, "flipped_%s", cut[i]);
        spit(name, b, n);
        free(b);
    }
    spit("empty.tlm", (const unsigned char *)"", 0);
    spit("magic_only.tlm", (const unsigned char *)"TLM1", 4);

    tl_task_free(task);
    tl_dataset_free(lab);
    tl_dataset_free(tgt);
    tl_dataset_free(src);
    printf("make_tlm_corpus: %d files in %s, %d failed\n", n_files, dir, n_failed);
    return n_failed ? 1 : 0;
}
