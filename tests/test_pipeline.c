/* Tests of the method interface and the transfer pipeline (tl/method.h, tl/pipeline.h): the
 * registry and its parameter checks; every registered method fitted on a small shifted task,
 * saved, loaded and applied again with the same result; instance weights for new samples (and
 * KMM's clear refusal); the protocol's report against the baselines computed by hand; the fitted
 * pipeline predicting exactly what the run predicted, also after save/load; the caller's data
 * untouched; OpenBLAS's thread count restored after every library call; corrupted pipeline files;
 * out-of-memory at every allocation of a run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "oom_alloc.h"
#include "tl.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

/* 3 classes, d features: class c has mean 2 in feature c (mod d); the target is scaled and
 * shifted. Labels 1..3. */
static tl_dataset *make_domain(size_t n, size_t d, double scale, double shift, unsigned seed) {
    tl_rng r;
    tl_rng_seed(&r, seed);
    tl_mat X = {0, 0, 0, NULL};
    int *y = malloc(n * sizeof *y);
    tl_mat_alloc(&X, n, d);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 3);
        y[i] = c + 1;
        for (size_t j = 0; j < d; j++)
            TL_AT(X, i, j) = scale * ((j % 3 == (size_t)c ? 2.0 : 0.0) + 0.5 * tl_rng_normal(&r)) + shift;
    }
    tl_dataset *ds = NULL;
    tl_dataset_from_dense(X, y, &ds);
    tl_mat_free(&X);
    free(y);
    return ds;
}

typedef struct {
    tl_dataset *src, *tgt, *lab;
    tl_task *task;
} fixture;

static fixture make_fixture(void) {
    fixture f;
    f.src = make_domain(60, 6, 1.0, 0.0, 1);
    f.tgt = make_domain(45, 6, 0.8, 0.5, 2);
    f.lab = make_domain(9, 6, 0.8, 0.5, 3);
    tl_task_create(&f.task);
    size_t t;
    tl_task_add(f.task, TL_ROLE_SOURCE, f.src, NULL);
    tl_task_add(f.task, TL_ROLE_TARGET, f.tgt, &t);
    tl_task_set_labelled(f.task, t, f.lab);
    return f;
}

static void fixture_free(fixture *f) {
    tl_task_free(f->task);
    tl_dataset_free(f->src);
    tl_dataset_free(f->tgt);
    tl_dataset_free(f->lab);
}

static char tmp_path[256];
static const char *tmp_file(const char *name) {
    snprintf(tmp_path, sizeof tmp_path, "/tmp/tl_test_pipeline_%d_%s", (int)getpid(), name);
    return tmp_path;
}

TEST(registry_and_params) {
    CHECK(tl_method_count() >= 19);
    for (size_t i = 0; i < tl_method_count(); i++) {
        const tl_method *m = tl_method_at(i);
        CHECK(tl_method_find(tl_method_name(m), -1) == m);
        for (size_t k = i + 1; k < tl_method_count(); k++)
            CHECK(strcmp(tl_method_name(m), tl_method_name(tl_method_at(k))) != 0);
        tl_params *p = NULL;
        CHECK_OK(tl_params_create(m, &p)); /* every default parses */
        for (size_t q = 0; q < tl_method_param_count(m); q++) {
            const tl_param_desc *d = tl_method_param(m, q);
            CHECK(d->help && d->help[0]);
            CHECK(tl_params_get(p, d->name) != NULL && !tl_params_is_set(p, d->name));
        }
        tl_params_free(p);
    }
    CHECK(tl_method_find("JDA", TL_FAMILY_FEATURE) == tl_method_find("jda", -1));
    CHECK(tl_method_find("foo", TL_FAMILY_FEATURE) == NULL);
    CHECK_ERR_HAS("unknown adaptation method 'foo'");
    CHECK_ERR_HAS("jda");
    CHECK(tl_method_find("kmm", TL_FAMILY_FEATURE) == NULL); /* family respected */

    tl_params *p = NULL;
    CHECK_OK(tl_params_create(tl_method_find("jda", -1), &p));
    CHECK(tl_params_num(p, "dim") == 100 && tl_params_num(p, "lambda") == 1);
    CHECK_OK(tl_params_set(p, "dim", "20"));
    CHECK(tl_params_num(p, "dim") == 20 && tl_params_is_set(p, "dim"));
    CHECK_STATUS(tl_params_set(p, "dim", "2.5"), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("jda: dim = '2.5' is not an integer in [1, 1000000]");
    CHECK_STATUS(tl_params_set(p, "dim", "0"), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_params_set(p, "lambda", "nan"), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_params_set(p, "kernel", "sigmoid"), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("is not one of primal, linear, rbf, poly");
    CHECK_OK(tl_params_set(p, "kernel", "RBF"));
    CHECK(strcmp(tl_params_get(p, "kernel"), "rbf") == 0 && tl_params_num(p, "kernel") == 2);
    CHECK_OK(tl_params_set(p, "l2-embed", "no"));
    CHECK(strcmp(tl_params_get(p, "l2-embed"), "false") == 0);
    CHECK_OK(tl_params_set_num(p, "lambda", 0.001));
    CHECK(strcmp(tl_params_get(p, "lambda"), "0.001") == 0);
    CHECK_STATUS(tl_params_set(p, "centers", "10"), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("jda has no parameter 'centers'");
    CHECK(tl_params_get(p, "centers") == NULL && isnan(tl_params_num(p, "centers")));
    /* the method's own cross-checks see the data's shape */
    CHECK_OK(tl_params_set(p, "kernel", "primal"));
    CHECK_OK(tl_params_set(p, "dim", "7"));
    CHECK_STATUS(tl_params_check(p, 6, 100), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("dim = 7 exceeds the feature count 6");
    tl_params_free(p);
}

/* Fits every registered method on the fixture, saves, loads, and checks the loaded model
 * applies the same way; instance methods weight the fitting rows as fitted. */
TEST(every_method_round_trips) {
    fixture f = make_fixture();
    tl_ctx ctx = tl_ctx_default();
    for (size_t i = 0; i < tl_method_count(); i++) {
        const tl_method *m = tl_method_at(i);
        tl_family fam = tl_method_family(m);
        tl_params *p = NULL;
        tl_model *md = NULL, *ld = NULL;
        if (fam == TL_FAMILY_MODEL) continue; /* needs a network: finetune_through_protocol */
        CHECK_OK(tl_params_create(m, &p));
        if (tl_method_param_find(m, "dim")) tl_params_set(p, "dim", "2");
        if (tl_method_param_find(m, "rounds")) tl_params_set(p, "rounds", "4");
        tl_status st = tl_model_fit(p, NULL, f.task, &ctx, &md);
        CHECK_MSG(st == TL_OK, "%s: fit failed: %s", tl_method_name(m), tl_error_message());
        if (st != TL_OK) {
            tl_params_free(p);
            continue;
        }
        CHECK_MSG(tl_model_input_dim(md, 1) == 6, "%s: input width %zu", tl_method_name(m),
                  tl_model_input_dim(md, 1));
        const char *path = tmp_file("model.tlm");
        CHECK_OK(tl_model_save(md, path));
        CHECK_OK(tl_model_load(path, &ld));
        CHECK(ld && tl_model_method(ld) == m);
        CHECK(ld && tl_model_input_dim(ld, 1) == 6);
        tl_xmat Xt = tl_dataset_features(f.tgt), Xs = tl_dataset_features(f.src);
        size_t nt = tl_dataset_rows(f.tgt), ns = tl_dataset_rows(f.src);
        if (fam == TL_FAMILY_FEATURE) {
            tl_mat A = {0}, B = {0};
            CHECK_OK(tl_model_transform(md, 1, tl_dataset_dense(f.tgt), &A));
            CHECK_OK(tl_model_transform(ld, 1, tl_dataset_dense(f.tgt), &B));
            CHECK(A.rows == nt && A.cols == tl_model_dim(md) && B.cols == A.cols);
            double diff = 0;
            for (size_t r = 0; r < A.rows; r++)
                for (size_t c = 0; c < A.cols; c++) diff = fmax(diff, fabs(TL_AT(A, r, c) - TL_AT(B, r, c)));
            CHECK_MSG(diff == 0, "%s: transform after load differs by %g", tl_method_name(m), diff);
            CHECK_STATUS(tl_model_transform(md, 7, tl_dataset_dense(f.tgt), &A), TL_ERR_INVALID_ARG);
            tl_mat_free(&A);
            tl_mat_free(&B);
        } else if (fam == TL_FAMILY_INSTANCE) {
            size_t n1 = 0, n2 = 0;
            const double *w1 = tl_model_fit_weights(md, &n1), *w2 = tl_model_fit_weights(ld, &n2);
            CHECK(n1 == ns && n2 == ns && memcmp(w1, w2, ns * sizeof *w1) == 0);
            double *wn = malloc(ns * sizeof *wn);
            st = tl_model_weights(ld, Xs, wn);
            if (tl_method_needs(m) & TL_WEIGHTS_NEW_SAMPLES) {
                CHECK_MSG(st == TL_OK, "%s: %s", tl_method_name(m), tl_error_message());
                double rel = 0;
                for (size_t r = 0; st == TL_OK && r < ns; r++)
                    rel = fmax(rel, fabs(wn[r] - w1[r]) / fmax(1e-12, fabs(w1[r])));
                CHECK_MSG(rel < 1e-9, "%s: weights of the fitting rows recomputed differ by %g",
                          tl_method_name(m), rel);
            } else {
                CHECK_STATUS(st, TL_ERR_UNSUPPORTED);
                CHECK_ERR_HAS("kliep, ulsif, domain-clf and rulsif weight new samples");
            }
            free(wn);
        } else { /* learners and the ensemble predict */
            int *a = malloc(nt * sizeof *a), *b = malloc(nt * sizeof *b);
            CHECK_OK(tl_model_predict(md, Xt, a));
            CHECK_OK(tl_model_predict(ld, Xt, b));
            CHECK(memcmp(a, b, nt * sizeof *a) == 0);
            free(a);
            free(b);
        }
        /* a family's missing operation says so */
        if (fam != TL_FAMILY_FEATURE) {
            tl_mat Z = {0};
            CHECK_STATUS(tl_model_transform(md, 0, tl_dataset_dense(f.src), &Z), TL_ERR_UNSUPPORTED);
        }
        unlink(path);
        tl_model_free(md);
        tl_model_free(ld);
        tl_params_free(p);
    }
    fixture_free(&f);
}

/* The protocol's baselines and result equal what the learner gives by hand; the pipeline
 * predicts what the run predicted, before and after save/load; the caller's rows stay raw. */
TEST(run_report_and_pipeline) {
    const char *methods[] = {"coral", "jda", "kliep", "rulsif", "tradaboost", "1nn"};
    for (size_t q = 0; q < sizeof methods / sizeof methods[0]; q++) {
        fixture f = make_fixture();
        tl_dataset *copy = NULL;
        tl_dataset_clone(f.tgt, &copy);
        tl_params *p = NULL;
        CHECK_OK(tl_params_create(tl_method_find(methods[q], -1), &p));
        if (tl_method_param_find(tl_params_method(p), "dim")) tl_params_set(p, "dim", "3");
        tl_run_opts o = tl_run_opts_default();
        tl_preprocess_parse("zscore", &o.preprocess);
        tl_report *r = NULL;
        tl_pipeline *pl = NULL;
        tl_status st = tl_transfer_run(f.task, p, &o, &r, &pl);
        CHECK_MSG(st == TL_OK, "%s: %s", methods[q], tl_error_message());
        if (st != TL_OK) {
            tl_params_free(p);
            tl_dataset_free(copy);
            fixture_free(&f);
            continue;
        }
        /* the run worked on copies: the caller's target is unchanged */
        CHECK(memcmp(tl_dataset_dense(f.tgt).data, tl_dataset_dense(copy).data,
                     45 * 6 * sizeof(double)) == 0);
        CHECK(r->n_source == 60 && r->n_target == 45 && r->n_eval == 45 && r->n_labelled == 9);
        CHECK(r->result.n == 45 && r->source_only.n == 45 && r->target_only.n == 45);
        CHECK(fabs(r->gain - (r->result.accuracy - r->source_only.accuracy)) < 1e-15);
        CHECK(strcmp(r->learner, strcmp(methods[q], "tradaboost") == 0 ? "logreg" : "1nn") == 0);
        /* the source-only baseline by hand: 1-NN on the z-scored source, z-scored target */
        if (strcmp(methods[q], "tradaboost") != 0) {
            tl_dataset *s = NULL, *t = NULL;
            tl_dataset_clone(f.src, &s);
            tl_dataset_clone(f.tgt, &t);
            tl_preprocess pz;
            tl_preprocess_parse("zscore", &pz);
            tl_preprocess_apply(&pz, s);
            tl_preprocess_apply(&pz, t);
            tl_learner_params lp = tl_learner_params_default(TL_LEARNER_KNN);
            tl_learner *l = NULL;
            int pred[45];
            tl_learner_create(&lp, &l);
            tl_learner_fit(l, tl_dataset_features(s), tl_dataset_labels_const(s), NULL);
            tl_learner_predict(l, tl_dataset_features(t), pred);
            CHECK(fabs(tl_accuracy(tl_dataset_labels_const(t), pred, 45) - r->source_only.accuracy) < 1e-15);
            tl_learner_free(l);
            tl_dataset_free(s);
            tl_dataset_free(t);
        }
        if (strcmp(methods[q], "1nn") == 0) /* no method: the baseline is the result */
            CHECK(!r->guarded && r->result.accuracy == r->pooled.accuracy);
        else
            CHECK(r->guarded && r->labelled_checked && r->labelled.n == 9);
        /* the pipeline predicts what the run predicted, also after a save and load */
        int pred[45], pred2[45];
        CHECK_OK(tl_pipeline_predict(pl, 1, f.tgt, pred));
        CHECK(memcmp(pred, r->predictions, sizeof pred) == 0);
        const char *path = tmp_file("pipe.tlm");
        CHECK_OK(tl_pipeline_save(pl, path));
        tl_pipeline *pl2 = NULL;
        CHECK_OK(tl_pipeline_load(path, &pl2));
        CHECK_OK(tl_pipeline_predict(pl2, 1, f.tgt, pred2));
        CHECK(memcmp(pred2, r->predictions, sizeof pred2) == 0);
        CHECK_STATUS(tl_pipeline_predict(pl2, 5, f.tgt, pred2), TL_ERR_INVALID_ARG);
        /* the report renders */
        char *js = NULL, *tx = NULL;
        CHECK_OK(tl_report_json(r, "adapt", &js));
        CHECK_OK(tl_report_text(r, &tx));
        CHECK(js && strstr(js, "\"baseline_accuracy\"") && strstr(js, "\"negative_transfer\": "));
        CHECK(tx && strstr(tx, "no transfer"));
        tl_free(js);
        tl_free(tx);
        unlink(path);
        tl_pipeline_free(pl);
        tl_pipeline_free(pl2);
        tl_report_free(r);
        tl_params_free(p);
        tl_dataset_free(copy);
        fixture_free(&f);
    }
}

/* A method that needs what the task lacks says which; domains of different widths are refused
 * for the homogeneous methods. */
TEST(run_refuses_what_cannot_work) {
    fixture f = make_fixture();
    tl_params *p = NULL;
    tl_report *r = NULL;
    tl_task *t = NULL;
    tl_task_create(&t);
    tl_task_add(t, TL_ROLE_SOURCE, f.src, NULL);
    tl_task_add(t, TL_ROLE_TARGET, f.tgt, NULL);
    tl_params_create(tl_method_find("tradaboost", -1), &p);
    CHECK_STATUS(tl_transfer_run(t, p, NULL, &r, NULL), TL_ERR_LABEL);
    CHECK_ERR_HAS("tradaboost needs labelled target rows");
    tl_params_free(p);
    tl_task_free(t);
    tl_dataset *narrow = make_domain(30, 5, 1, 0, 9);
    tl_task_create(&t);
    tl_task_add(t, TL_ROLE_SOURCE, f.src, NULL);
    tl_task_add(t, TL_ROLE_TARGET, narrow, NULL);
    tl_params_create(tl_method_find("tca", -1), &p);
    CHECK_STATUS(tl_transfer_run(t, p, NULL, &r, NULL), TL_ERR_SHAPE);
    CHECK_ERR_HAS("has 5: source and target must share a feature space");
    CHECK(r == NULL);
    tl_params_free(p);
    tl_task_free(t);
    tl_dataset_free(narrow);
    fixture_free(&f);
}

/* The dense rows of ds, first `cols` columns, as a sparse dataset (as svmlight files read). */
static tl_dataset *sparse_copy(tl_dataset *ds, size_t cols) {
    tl_mat X = tl_dataset_dense(ds);
    size_t n = X.rows, nnz = 0, *indptr = malloc((n + 1) * sizeof *indptr);
    int32_t *idx = malloc(n * cols * sizeof *idx);
    double *val = malloc(n * cols * sizeof *val);
    indptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < cols; j++)
            if (TL_AT(X, i, j) != 0) idx[nnz] = (int32_t)j, val[nnz++] = TL_AT(X, i, j);
        indptr[i + 1] = nnz;
    }
    tl_csr C = {n, cols, nnz, indptr, idx, val};
    tl_dataset *out = NULL;
    tl_dataset_from_csr(C, tl_dataset_labels(ds), &out);
    free(indptr);
    free(idx);
    free(val);
    return out;
}

/* Sparse domains of different widths (svmlight files end at their last non-zero column) are
 * widened to one width, whichever order the task lists them in (on the run's copies: the
 * caller's sets keep their widths). */
TEST(sparse_widths_aligned_in_any_order) {
    fixture f = make_fixture();
    tl_dataset *src = sparse_copy(f.src, 5), *tgt = sparse_copy(f.tgt, 6);
    tl_task *t = NULL;
    tl_params *p = NULL;
    tl_report *r = NULL;
    tl_task_create(&t);
    tl_task_add(t, TL_ROLE_TARGET, tgt, NULL);
    tl_task_add(t, TL_ROLE_SOURCE, src, NULL);
    tl_params_create(tl_method_find("kmm", -1), &p);
    tl_pipeline *pl = NULL;
    CHECK_OK(tl_transfer_run(t, p, NULL, &r, &pl));
    CHECK(r && r->n_source == 60 && r->n_target == 45);
    CHECK(tl_dataset_cols(src) == 5 && tl_dataset_cols(tgt) == 6);
    /* the pipeline knows which domain was the target (here the first), also once reloaded:
     * `tl predict --domain target` reads it from there */
    CHECK(pl && tl_pipeline_target(pl) == 0 && tl_pipeline_source(pl) == 1);
    const char *path = tmp_file("order.tlm");
    tl_pipeline *back = NULL;
    CHECK_OK(tl_pipeline_save(pl, path));
    CHECK_OK(tl_pipeline_load(path, &back));
    CHECK(back && tl_pipeline_target(back) == 0 && tl_pipeline_source(back) == 1);
    remove(path);
    tl_pipeline_free(back);
    tl_pipeline_free(pl);
    tl_report_free(r);
    tl_params_free(p);
    tl_task_free(t);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    fixture_free(&f);
}

/* OpenBLAS at 1 thread in the host; the library works with 2 of its own and leaves 1 behind. */
TEST(blas_threads_restored) {
    fixture f = make_fixture();
    openblas_set_num_threads(1);
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = 2;
    tl_params *p = NULL;
    tl_model *m = NULL;
    tl_params_create(tl_method_find("jda", -1), &p);
    tl_params_set(p, "dim", "3");
    CHECK_OK(tl_model_fit(p, NULL, f.task, &ctx, &m));
    CHECK(openblas_get_num_threads() == 1);
    tl_mat Z = {0};
    CHECK_OK(tl_model_transform(m, 1, tl_dataset_dense(f.tgt), &Z));
    CHECK(openblas_get_num_threads() == 1);
    tl_run_opts o = tl_run_opts_default();
    o.ctx = &ctx;
    tl_report *r = NULL;
    tl_pipeline *pl = NULL;
    CHECK_OK(tl_transfer_run(f.task, p, &o, &r, &pl));
    CHECK(openblas_get_num_threads() == 1);
    int pred[45];
    CHECK_OK(tl_pipeline_predict(pl, 1, f.tgt, pred));
    CHECK(openblas_get_num_threads() == 1);
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_LOGREG);
    lp.threads = 2;
    tl_learner *l = NULL;
    tl_learner_create(&lp, &l);
    CHECK_OK(tl_learner_fit(l, tl_dataset_features(f.src), tl_dataset_labels_const(f.src), NULL));
    CHECK_OK(tl_learner_predict(l, tl_dataset_features(f.tgt), pred));
    CHECK(openblas_get_num_threads() == 1);
    tl_adapt_params ap = tl_adapt_params_default(TL_ADAPT_TCA);
    ap.dim = 2;
    ap.ctx = &ctx;
    tl_adapter *ad = NULL;
    CHECK_OK(tl_adapt_fit(&ap, tl_dataset_dense(f.src), NULL, tl_dataset_dense(f.tgt), NULL, &ad));
    CHECK(openblas_get_num_threads() == 1);
    tl_adapter_free(ad);
    tl_learner_free(l);
    tl_mat_free(&Z);
    tl_model_free(m);
    tl_params_free(p);
    tl_report_free(r);
    tl_pipeline_free(pl);
    fixture_free(&f);
    openblas_set_num_threads(2);
}

/* Truncated and bit-flipped pipeline files fail with a message naming the file. */
TEST(corrupted_pipeline_files) {
    fixture f = make_fixture();
    tl_params *p = NULL;
    tl_params_create(tl_method_find("sa", -1), &p);
    tl_params_set(p, "dim", "2");
    tl_report *r = NULL;
    tl_pipeline *pl = NULL, *back = NULL;
    CHECK_OK(tl_transfer_run(f.task, p, NULL, &r, &pl));
    char path[256];
    snprintf(path, sizeof path, "%s", tmp_file("corrupt.tlm"));
    CHECK_OK(tl_pipeline_save(pl, path));
    FILE *fp = fopen(path, "rb");
    unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    for (int kind = 0; kind < 2; kind++) {
        fp = fopen(path, "wb");
        if (kind == 0) {
            fwrite(buf, 1, n / 2, fp); /* truncated */
        } else {
            buf[n / 3] ^= 0x40; /* one bit flipped */
            fwrite(buf, 1, n, fp);
        }
        fclose(fp);
        CHECK(tl_pipeline_load(path, &back) != TL_OK && back == NULL);
        CHECK_ERR_HAS(path);
    }
    /* a method model is not a pipeline, and says so */
    tl_model *m = NULL;
    tl_model_fit(p, NULL, f.task, NULL, &m);
    tl_model_save(m, path);
    CHECK_STATUS(tl_pipeline_load(path, &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("holds no pipeline");
    unlink(path);
    tl_model_free(m);
    tl_params_free(p);
    tl_report_free(r);
    tl_pipeline_free(pl);
    fixture_free(&f);
}

/* Every allocation of a run fails once in turn: a clean error each time, never a crash or a
 * leak (ASan checks the latter), and success once allocations suffice. */
TEST(run_out_of_memory) {
    fixture f = make_fixture();
    tl_params *p = NULL;
    tl_params_create(tl_method_find("kliep", -1), &p);
    tl_params_set(p, "centers", "10");
    tl_run_opts o = tl_run_opts_default();
    tl_guard_params gp = tl_guard_params_default();
    gp.permutations = 5;
    o.guard_params = &gp;
    tl_status st = TL_ERR_NOMEM;
    long k;
    for (k = 0; k < 20000 && st != TL_OK; k++) {
        tl_report *r = NULL;
        tl_pipeline *pl = NULL;
        oom_left = k;
        tl_allocator_set(&oom_allocator);
        st = tl_transfer_run(f.task, p, &o, &r, &pl);
        tl_allocator_set(NULL);
        if (st != TL_OK) CHECK(r == NULL && pl == NULL);
        tl_report_free(r);
        tl_pipeline_free(pl);
    }
    CHECK_MSG(st == TL_OK, "no success after %ld allocations", k);
    CHECK_MSG(k > 200, "a run that succeeds after only %ld allocations tests little", k);
    tl_params_free(p);
    fixture_free(&f);
}

/* Fine-tuning through the same protocol: a tiny network pre-trained on the source, a new head
 * for the target, the scratch baseline, the guard on the validation rows, the pipeline. */
TEST(finetune_through_protocol) {
    fixture f = make_fixture();
    tl_nn *net = NULL;
    CHECK_OK(tl_nn_create("flatten,dense:16,relu,dense:3", 1, 1, 6, 7, &net));
    float x[60 * 6];
    tl_mat S = tl_dataset_dense(f.src);
    for (size_t i = 0; i < 60; i++)
        for (size_t j = 0; j < 6; j++) x[i * 6 + j] = (float)TL_AT(S, i, j);
    tl_nn_train_params tp = tl_nn_train_params_default();
    tp.epochs = 20;
    tp.batch_size = 16;
    CHECK_OK(tl_nn_set_labels(net, (const int[]){1, 2, 3}, 3));
    CHECK_OK(tl_nn_train(net, &tp, x, tl_dataset_labels_const(f.src), 60, NULL));
    tl_task *t = NULL;
    size_t ti;
    tl_task_create(&t);
    CHECK_OK(tl_task_add_network(t, TL_ROLE_SOURCE, net, "pre.tlm", NULL));
    CHECK_OK(tl_task_add(t, TL_ROLE_TARGET, f.tgt, &ti));
    CHECK_OK(tl_task_set_test(t, ti, f.lab));
    tl_params *p = NULL;
    CHECK_OK(tl_params_create(tl_method_find("finetune", TL_FAMILY_MODEL), &p));
    CHECK_OK(tl_params_set(p, "new-head", "auto"));
    CHECK_OK(tl_params_set(p, "epochs", "5"));
    CHECK_OK(tl_params_set(p, "val-split", "0.2"));
    CHECK_OK(tl_params_set(p, "batch", "8"));
    CHECK_STATUS(tl_params_set(p, "reg", "l2sp"), TL_OK); /* text: checked by the method */
    CHECK_STATUS(tl_params_check(p, 0, 0), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("reg = 'l2sp' is not l2sp=ALPHA");
    CHECK_OK(tl_params_set(p, "reg", "l2sp=0.01"));
    tl_report *r = NULL;
    tl_pipeline *pl = NULL;
    tl_status st = tl_transfer_run(t, p, NULL, &r, &pl);
    CHECK_MSG(st == TL_OK, "%s", tl_error_message());
    if (st == TL_OK) {
        CHECK(r->family == TL_FAMILY_MODEL && strcmp(r->method, "finetune") == 0);
        CHECK(r->result.n == 9 && r->target_only.n == 9); /* scratch baseline scored */
        CHECK(r->source_only.n == 9); /* the pre-trained head covers labels 1..3 */
        CHECK(r->guarded && r->labelled_checked && r->labelled.n == 9); /* 20% of 45 */
        CHECK(r->arch && strcmp(r->arch, "flatten,dense:16,relu,dense:3") == 0);
        int pred[9], pred2[9];
        CHECK_OK(tl_pipeline_predict(pl, 1, f.lab, pred));
        CHECK(memcmp(pred, r->predictions, sizeof pred) == 0);
        const char *path = tmp_file("ft.tlm");
        CHECK_OK(tl_pipeline_save(pl, path));
        tl_pipeline *pl2 = NULL;
        CHECK_OK(tl_pipeline_load(path, &pl2));
        CHECK_OK(tl_pipeline_predict(pl2, 1, f.lab, pred2));
        CHECK(memcmp(pred2, pred, sizeof pred) == 0);
        CHECK(tl_model_network(tl_pipeline_model(pl2)) != NULL);
        unlink(path);
        tl_pipeline_free(pl2);
    }
    tl_report_free(r);
    tl_pipeline_free(pl);
    tl_params_free(p);
    tl_task_free(t);
    tl_nn_free(net);
    fixture_free(&f);
}

/* Every method of the registry has its page in docs/methods/ (the algorithm notes), and the page
 * names each of the method's parameters and has a section of libtl's figures ("## libtl ...":
 * against the reference or the published table, or saying plainly what has none), so a method or a
 * parameter added without its notes fails here. Run from the repository root, as make test does. */
TEST(every_method_has_a_page) {
    for (size_t i = 0; tl_method_at(i); i++) {
        const tl_method *m = tl_method_at(i);
        char path[256];
        snprintf(path, sizeof path, "docs/methods/%s.md", tl_method_name(m));
        FILE *f = fopen(path, "rb");
        CHECK_MSG(f != NULL, "%s has no page (%s)", tl_method_name(m), path);
        if (!f) continue;
        static char text[1 << 16];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        CHECK_MSG(strstr(text, "\n## libtl ") != NULL,
                  "%s has no section of libtl's figures (a heading \"## libtl ...\")", path);
        for (size_t q = 0; q < tl_method_param_count(m); q++) {
            const char *pn = tl_method_param(m, q)->name;
            char quoted[96];
            snprintf(quoted, sizeof quoted, "`%s`", pn);
            CHECK_MSG(strstr(text, quoted) != NULL, "%s does not name the parameter %s", path,
                      quoted);
        }
    }
}

/* deep-da's search grids, which reverse validation reads when lambda is auto: the rate grid is its
 * lr-grid descriptor's default, each adaptation's lambda grid is tl_nn_da_lambda_grid. Every
 * value must be one the parameter it stands for accepts (lr's range; lambda in [0, 1e6]), the
 * values ascending and distinct, at most the 16 the fit holds, and lambda-grid's default empty
 * (so the adaptation's own grid applies). */
TEST(deep_da_grids_in_range) {
    const tl_method *m = tl_method_find("deep-da", -1);
    CHECK(m != NULL);
    if (!m) return;
    const tl_param_desc *g = tl_method_param_find(m, "lr-grid"), *lr = tl_method_param_find(m, "lr"),
                        *lg = tl_method_param_find(m, "lambda-grid");
    CHECK(g && lr && lg && g->def && lg->def);
    if (!g || !lr || !lg || !g->def) return;
    CHECK_MSG(lg->def[0] == '\0', "lambda-grid's default '%s' should be empty", lg->def);
    size_t n = 0;
    double prev = 0;
    for (const char *s = g->def; *s;) {
        char *end;
        const double v = strtod(s, &end);
        CHECK_MSG(end != s && v >= lr->lo && v <= lr->hi && v > prev,
                  "lr-grid '%s': value %zu (%g) outside lr's [%g, %g] or not ascending", g->def, n, v,
                  lr->lo, lr->hi);
        if (end == s) break;
        n++;
        prev = v;
        if (*end != ',') {
            CHECK_MSG(*end == '\0', "lr-grid '%s': not a comma list", g->def);
            break;
        }
        s = end + 1;
    }
    CHECK_MSG(n >= 2 && n <= 16, "lr-grid '%s': %zu values (2..16: a search, held by the fit)", g->def, n);
    /* a joint search: the report lists both grids (tests/cli/da_cases.sh, da-lr-grid) */
    for (int k = TL_NN_DA_DANN; k <= TL_NN_DA_CDAN_E; k++) {
        size_t nl = 0;
        const double *l = tl_nn_da_lambda_grid((tl_nn_da_method)k, &nl);
        CHECK_MSG(l && nl >= 1 && nl <= 16, "%s: %zu lambda values", tl_nn_da_name((tl_nn_da_method)k), nl);
        for (size_t i = 0; l && i < nl; i++)
            CHECK_MSG(l[i] > 0 && l[i] <= 1e6 && (i == 0 || l[i] > l[i - 1]),
                      "%s: lambda %g (value %zu) outside (0, 1e6] or not ascending",
                      tl_nn_da_name((tl_nn_da_method)k), l[i], i);
    }
}

int main(void) {
    RUN(registry_and_params);
    RUN(every_method_has_a_page);
    RUN(every_method_round_trips);
    RUN(run_report_and_pipeline);
    RUN(run_refuses_what_cannot_work);
    RUN(sparse_widths_aligned_in_any_order);
    RUN(blas_threads_restored);
    RUN(corrupted_pipeline_files);
    RUN(run_out_of_memory);
    RUN(finetune_through_protocol);
    RUN(deep_da_grids_in_range);
    return tl_test_summary();
}
