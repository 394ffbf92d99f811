/* `tl predict`: the classes a saved model gives new rows - a whole pipeline saved by `tl adapt |
 * weight | tradaboost --save` (its own fitted scaling, mapping or weights, and learner, applied to
 * the raw rows of the domain asked for), or a network from `tl train` / `tl finetune`. One label
 * per line on stdout; --out F writes a CSV (a header, then sample,label and with --proba one score
 * column per class); --json one object with the predictions (and the accuracy when the rows are
 * labelled). The file appears only when everything succeeded (tl_wfile). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

static const cli_opt predict_opts[] = {
    {"model", "FILE.tlm", NULL, "a pipeline (tl adapt|weight|tradaboost --save) or a network"},
    {"input", "SPEC", NULL, "the rows to predict (raw: the pipeline scales them itself)"},
    {"domain", "D", "target", "pipelines: the domain the rows come from: target, source or its index"},
    {"out", "FILE.csv", NULL, "write sample,label[,scores] rows here instead of stdout"},
    CLI_NN_TASK_OPT,
    {"proba", NULL, NULL,
     "with --out or --json: one score per class (probabilities for logreg and networks, vote "
     "shares for k-NN and TrAdaBoost, decision values for svm and ridge)"},
    /* how --input is read (the same names as the network commands' data options) */
    {"format", "FMT", "auto", "input format: auto, csv, svmlight, mat, npy, idx"},
    {"label-col", "N", "-1",
     "CSV label column (0-based; negative from the end; 'none'). A pipeline reads a CSV with "
     "exactly its feature count as unlabelled rows, one with one column more as labelled"},
    {"header", "MODE", "auto", "CSV header row: auto, yes, no"},
    {"index-base", "B", "auto", "svmlight feature index base: auto, 0, 1"},
    /* networks only */
    {"data", "SPEC", NULL, "networks: the same as --input (an MNIST-style folder with :train or :test, ...)"},
    {"classes", "LIST", NULL, "networks: keep only these labels, e.g. 5-9 or 0,2,4"},
    {"per-class", "K", NULL, "networks: keep K randomly chosen samples of each class (seeded by --seed)"},
    {"", NULL, NULL, NULL}};

/* What a model predicted: labels (n), and scores (n, k) of the classes cls when asked. */
typedef struct {
    size_t n, k;
    int *pred;
    const int *cls;
    double *scores; /* row-major (n, k) or NULL */
    const int *y;   /* the rows' own labels, NULL when unlabelled */
    char *names;    /* the classes' names, k of them one after another (NUL-separated), or NULL */
    const char **name_of; /* (k) into names (or the model's own strings) */
    int *y_own;     /* the rows' labels renumbered to the model's class names */
} prediction;

/* The name of class value v, or NULL when the model has no names. */
static const char *class_name(const prediction *p, int v) {
    for (size_t k = 0; p->name_of && k < p->k; k++)
        if (p->cls[k] == v) return p->name_of[k];
    return NULL;
}

/* p->names and p->name_of from "a,b,c" (one per class, in class order); false on OOM. */
static bool set_names(prediction *p, const char *csv) {
    if (!csv) return true;
    size_t n = strlen(csv);
    p->names = malloc(n + 1);
    p->name_of = malloc((p->k ? p->k : 1) * sizeof *p->name_of);
    if (!p->names || !p->name_of) return false;
    memcpy(p->names, csv, n + 1);
    size_t k = 0;
    p->name_of[k++] = p->names;
    for (size_t i = 0; i < n && k < p->k; i++)
        if (p->names[i] == ',') {
            p->names[i] = '\0';
            p->name_of[k++] = p->names + i + 1;
        }
    if (k != p->k) { /* the library checks the count; never print a name for another class */
        free(p->name_of);
        p->name_of = NULL;
    }
    return true;
}

static int predict_network(const cli_args *a, const char *mp, const char *pipe_err,
                           const char *spec, tl_nn **nn, cli_nn_data *d, prediction *p) {
    tl_status st;
    if (cli_get(a, "model-task")) {
        if (cli_nn_load_model(a, mp, nn) != 0) return 1;
    } else if ((st = tl_nn_load(mp, nn)) != TL_OK)
        return cli_fail_status(st, "cannot load model '%s' (as a pipeline: %s; as a network)", mp,
                               pipe_err);
    if (cli_nn_load(a, spec, *nn, false, true, d) != 0) return 1;
    p->n = d->n;
    p->k = tl_nn_output_dim(*nn);
    p->cls = tl_nn_labels(*nn);
    p->y = d->y;
    if (!set_names(p, tl_nn_label_names(*nn))) return cli_fail("out of memory");
    float *P = malloc((d->n ? d->n : 1) * p->k * sizeof *P);
    p->pred = malloc((d->n ? d->n : 1) * sizeof *p->pred);
    p->scores = malloc((d->n ? d->n : 1) * p->k * sizeof *p->scores);
    if (!P || !p->pred || !p->scores) {
        free(P);
        return cli_fail("out of memory");
    }
    st = tl_nn_predict_proba(*nn, d->x, d->n, P);
    for (size_t i = 0; st == TL_OK && i < d->n; i++) {
        size_t am = 0;
        for (size_t k = 0; k < p->k; k++) {
            p->scores[i * p->k + k] = P[i * p->k + k];
            if (P[i * p->k + k] > P[i * p->k + am]) am = k;
        }
        p->pred[i] = p->cls[am];
    }
    free(P);
    return st == TL_OK ? 0 : cli_fail_status(st, "predicting");
}

/* The pipeline's domain the rows belong to (--domain), and how to read them: without
 * --label-col, a CSV's label column is told by width (*by_width: read without one first; a file
 * one column wider than the pipeline's input is read again with its last column as labels).
 * 0, or the exit code of a usage error (printed). */
static int pipeline_input(const cli_args *a, const tl_pipeline *pipe, const char *spec,
                          long *domain, tl_load_opts *o, bool *by_width) {
    const char *dom = cli_get(a, "domain");
    if (strcmp(dom, "target") == 0) *domain = (long)tl_pipeline_target(pipe);
    else if (strcmp(dom, "source") == 0) *domain = (long)tl_pipeline_source(pipe);
    else if (!cli_get_long(a, "domain", 0, 4095, domain)) return 2;
    if ((size_t)*domain >= tl_pipeline_domains(pipe))
        return cli_usage("--domain %ld: the pipeline has %zu domains", *domain,
                         tl_pipeline_domains(pipe));
    if (!cli_load_opts(a, o)) return 2;
    *by_width = !cli_given(a, "label-col") && o->format != TL_FORMAT_SVMLIGHT &&
                tl_format_guess(spec) != TL_FORMAT_SVMLIGHT;
    if (*by_width) o->label_col = TL_LABEL_COL_NONE;
    return 0;
}

static int predict_pipeline(const cli_args *a, const tl_pipeline *pipe, const char *spec,
                            tl_dataset **ds, prediction *p) {
    long domain;
    tl_load_opts o;
    bool by_width;
    int urc = pipeline_input(a, pipe, spec, &domain, &o, &by_width);
    if (urc) return urc;
    size_t want = tl_pipeline_input_dim(pipe, (size_t)domain);
    tl_status st = tl_dataset_load(spec, &o, ds);
    /* one column too many, or a column that is no number (class names): the labels */
    if (by_width && (st != TL_OK || (!tl_dataset_has_labels(*ds) && tl_dataset_cols(*ds) == want + 1))) {
        char first[512];
        snprintf(first, sizeof first, "%s", tl_error_message());
        tl_status st1 = st;
        tl_dataset_free(*ds);
        *ds = NULL;
        o.label_col = -1;
        st = tl_dataset_load(spec, &o, ds);
        if (st != TL_OK && st1 != TL_OK)
            return cli_fail("cannot load '%s': %s", spec, first);
    }
    if (st != TL_OK) return cli_fail_status(st, "cannot load '%s'", spec);
    p->n = tl_dataset_rows(*ds);
    p->y = tl_dataset_labels_const(*ds);
    p->cls = tl_pipeline_classes(pipe, &p->k);
    size_t nn = 0, ni = 0;
    const char *const *names = tl_pipeline_class_names(pipe, &nn);
    const char *const *in_names = tl_dataset_class_names(*ds, &ni);
    if (names && p->cls) {
        p->name_of = malloc((p->k ? p->k : 1) * sizeof *p->name_of);
        if (!p->name_of) return cli_fail("out of memory");
        for (size_t k = 0; k < p->k; k++)
            p->name_of[k] = p->cls[k] >= 0 && (size_t)p->cls[k] < nn ? names[p->cls[k]] : "?";
    }
    if (p->y && (names != NULL) != (in_names != NULL)) {
        cli_warn("'%s' labels its rows %s but the model's classes are %s: no accuracy", spec,
                 in_names ? "by name" : "by number", names ? "names" : "numbers");
        p->y = NULL;
    } else if (p->y && names) { /* the rows' names, numbered as the model numbers them */
        p->y_own = malloc((p->n ? p->n : 1) * sizeof *p->y_own);
        if (!p->y_own) return cli_fail("out of memory");
        for (size_t i = 0; i < p->n; i++) {
            p->y_own[i] = -1; /* a class the model does not know is never predicted */
            for (size_t c = 0; c < nn; c++)
                if (strcmp(names[c], in_names[p->y[i]]) == 0) p->y_own[i] = (int)c;
        }
        p->y = p->y_own;
    }
    p->pred = malloc((p->n ? p->n : 1) * sizeof *p->pred);
    if (!p->pred) return cli_fail("out of memory");
    if (!cli_flag(a, "proba")) {
        st = tl_pipeline_predict(pipe, (size_t)domain, *ds, p->pred);
        return st == TL_OK ? 0 : cli_fail_status(st, "predicting '%s'", spec);
    }
    tl_mat S = {0, 0, 0, NULL};
    if ((st = tl_pipeline_scores(pipe, (size_t)domain, *ds, p->pred, &S)) != TL_OK)
        return cli_fail_status(st, "predicting '%s'", spec);
    p->scores = malloc((p->n ? p->n : 1) * p->k * sizeof *p->scores);
    if (!p->scores) {
        tl_mat_free(&S);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < p->n; i++)
        for (size_t k = 0; k < p->k; k++) p->scores[i * p->k + k] = TL_AT(S, i, k);
    tl_mat_free(&S);
    return 0;
}

/* A CSV field: as it is, or quoted (quotes doubled) when it holds a comma or a quote. */
static void put_field(FILE *f, const char *prefix, const char *s) {
    if (!strpbrk(s, ",\"")) {
        fprintf(f, "%s%s", prefix, s);
        return;
    }
    fputc('"', f);
    fputs(prefix, f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(const char *out, const prediction *p, bool proba) {
    tl_wfile *w = NULL;
    tl_status st = tl_wfile_open(out, &w);
    if (st != TL_OK) return cli_fail_status(st, "--out");
    FILE *f = tl_wfile_stream(w);
    fprintf(f, "sample,label");
    for (size_t k = 0; proba && k < p->k; k++) {
        const char *nm = class_name(p, p->cls[k]);
        fputc(',', f);
        if (nm) put_field(f, "p_", nm);
        else fprintf(f, "p_%d", p->cls[k]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < p->n; i++) {
        const char *nm = class_name(p, p->pred[i]);
        fprintf(f, "%zu,", i + 1);
        if (nm) put_field(f, "", nm);
        else fprintf(f, "%d", p->pred[i]);
        for (size_t k = 0; proba && k < p->k; k++) fprintf(f, ",%.6g", p->scores[i * p->k + k]);
        fputc('\n', f);
    }
    st = tl_wfile_commit(w); /* reports a failed write, naming the file */
    return st == TL_OK ? 0 : cli_fail_status(st, "--out");
}

/* A pipeline trained on regression targets: one value per row ("sample,value" with --out; one
 * per line, or a JSON array, otherwise), exact to the last bit (%.17g), and RMSE / MAE / R^2 when
 * the rows carry targets (told by width, as for labels). */
static int predict_regression(const cli_args *a, const tl_pipeline *pipe, const char *spec,
                              const char *mp, const char *out) {
    if (cli_flag(a, "proba"))
        return cli_usage("--proba: '%s' predicts regression values, not class probabilities", mp);
    long domain;
    tl_load_opts o;
    bool by_width;
    int rc = pipeline_input(a, pipe, spec, &domain, &o, &by_width);
    if (rc) return rc;
    size_t want = tl_pipeline_input_dim(pipe, (size_t)domain);
    rc = 1;
    tl_dataset *ds = NULL;
    double *v = NULL;
    tl_status st = tl_dataset_load_targets(spec, &o, &ds);
    if (st == TL_OK && by_width && tl_dataset_cols(ds) == want + 1) { /* the last column: targets */
        tl_dataset_free(ds);
        ds = NULL;
        o.label_col = -1;
        st = tl_dataset_load_targets(spec, &o, &ds);
    }
    if (st != TL_OK) {
        rc = cli_fail_status(st, "cannot load '%s'", spec);
        goto done;
    }
    size_t n = tl_dataset_rows(ds);
    v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        rc = cli_fail("out of memory");
        goto done;
    }
    if ((st = tl_pipeline_predict_values(pipe, (size_t)domain, ds, v)) != TL_OK) {
        rc = cli_fail_status(st, "predicting '%s'", spec);
        goto done;
    }
    const double *t = tl_dataset_targets(ds);
    double rmse = NAN, mae = NAN, r2 = NAN;
    if (t && n) tl_regression_scores(t, v, n, &rmse, &mae, &r2);
    if (out) {
        tl_wfile *w = NULL;
        if ((st = tl_wfile_open(out, &w)) != TL_OK) {
            rc = cli_fail_status(st, "--out");
            goto done;
        }
        FILE *f = tl_wfile_stream(w);
        fprintf(f, "sample,value\n");
        for (size_t i = 0; i < n; i++) fprintf(f, "%zu,%.17g\n", i + 1, v[i]);
        if ((st = tl_wfile_commit(w)) != TL_OK) {
            rc = cli_fail_status(st, "--out");
            goto done;
        }
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "predict");
        tl_json_str(&j, "model", mp);
        tl_json_str(&j, "input", spec);
        tl_json_int(&j, "n_rows", (long long)n);
        tl_json_str(&j, "task", "regression");
        tl_json_null(&j, "accuracy");
        tl_json_num(&j, "rmse", rmse);
        tl_json_num(&j, "mae", mae);
        tl_json_num(&j, "r2", r2);
        if (out) tl_json_str(&j, "output", out);
        else {
            tl_json_arr_begin(&j, "predictions");
            for (size_t i = 0; i < n; i++) tl_json_arr_num(&j, v[i]);
            tl_json_arr_end(&j);
        }
        rc = cli_json_finish(&j);
        goto done;
    }
    if (!out)
        for (size_t i = 0; i < n; i++) printf("%.17g\n", v[i]);
    else
        cli_info(a, "wrote %zu predictions to %s", n, out);
    if (t && n)
        cli_info(a, "RMSE %.6g, MAE %.6g, R^2 %.4f on the %zu rows with targets", rmse, mae, r2,
                 n);
    rc = 0;
done:
    free(v);
    tl_dataset_free(ds);
    return rc;
}

static int run_predict(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *mp = cli_get(a, "model"), *out = cli_get(a, "out");
    const char *spec = cli_get(a, "input") ? cli_get(a, "input") : cli_get(a, "data");
    if (!mp || !spec) return cli_usage("--model and --input are required (see 'tl help predict')");
    if (cli_get(a, "input") && cli_get(a, "data"))
        return cli_usage("--input and --data name the same thing: give one");
    bool proba = cli_flag(a, "proba");
    if (proba && !out && !cli_flag(a, "json"))
        return cli_usage("--proba needs --out FILE or --json");
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    tl_ctx_apply_threads(&ctx);
    int rc = 1;
    tl_nn *nn = NULL;
    tl_pipeline *pipe = NULL;
    tl_dataset *ds = NULL;
    cli_nn_data d = {0};
    prediction p = {0};
    char pipe_err[512] = "";
    tl_status pst = tl_pipeline_load(mp, &pipe);
    if (pst == TL_ERR_IO) { /* no file to read (missing, a folder, unreadable): say it once */
        rc = cli_fail_status(pst, "--model");
        goto done;
    }
    if (pst != TL_OK) snprintf(pipe_err, sizeof pipe_err, "%s", tl_error_message());
    if (pipe && tl_pipeline_is_regression(pipe)) {
        rc = predict_regression(a, pipe, spec, mp, out);
        goto done;
    }
    if (pipe) {
        if (cli_given(a, "classes") || cli_given(a, "per-class")) {
            rc = cli_usage("--classes and --per-class are for networks; a pipeline predicts "
                           "every row given");
            goto done;
        }
        rc = predict_pipeline(a, pipe, spec, &ds, &p);
    } else {
        rc = predict_network(a, mp, pipe_err, spec, &nn, &d, &p);
    }
    if (rc) goto done;
    size_t right = 0;
    for (size_t i = 0; p.y && i < p.n; i++) right += p.pred[i] == p.y[i];
    if (out && (rc = write_csv(out, &p, proba)) != 0) goto done;
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "predict");
        tl_json_str(&j, "model", mp);
        tl_json_str(&j, "input", spec);
        tl_json_int(&j, "n_rows", (long long)p.n);
        if (p.y && p.n) tl_json_num(&j, "accuracy", (double)right / (double)p.n);
        else tl_json_null(&j, "accuracy");
        if (out) tl_json_str(&j, "output", out);
        else {
            tl_json_arr_begin(&j, "predictions");
            for (size_t i = 0; i < p.n; i++) {
                const char *nm = class_name(&p, p.pred[i]);
                if (nm) tl_json_arr_str(&j, nm);
                else tl_json_arr_int(&j, p.pred[i]);
            }
            tl_json_arr_end(&j);
        }
        rc = cli_json_finish(&j);
        goto done;
    }
    if (!out)
        for (size_t i = 0; i < p.n; i++) {
            const char *nm = class_name(&p, p.pred[i]);
            if (nm) printf("%s\n", nm);
            else printf("%d\n", p.pred[i]);
        }
    else cli_info(a, "wrote %zu predictions to %s", p.n, out);
    if (p.y && p.n)
        cli_info(a, "accuracy %.2f %% on the %zu labelled rows", 100.0 * (double)right / (double)p.n,
                 p.n);
    rc = 0;
done:
    free(p.pred);
    free(p.scores);
    free(p.names);
    free(p.name_of);
    free(p.y_own);
    tl_dataset_free(ds);
    tl_pipeline_free(pipe);
    cli_nn_data_free(&d);
    tl_nn_free(nn);
    return rc;
}

const cli_command cmd_predict = {
    "predict", "predict the classes (or values) of new rows with a saved pipeline or network",
    "--model FILE.tlm --input SPEC [--out FILE.csv [--proba]] [--domain target|source|N]",
    predict_opts, run_predict, 0, NULL};
