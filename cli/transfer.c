/* The transferring commands' shared body (`tl adapt`, `tl weight`, `tl tradaboost`): options ->
 * method parameters (generated from the registry) -> a task of source and target domains ->
 * tl_transfer_run (the library's protocol: baselines, transfer, learner, guard) -> the report,
 * rendered by the library (the same JSON keys for every command) -> the files asked for. The
 * commands differ only in their method family and in which outputs they offer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The method of --method with its parameters from the generated options. Exit code 2 (and a
 * message) on an unknown method or a bad value; 0 on success. */
int cli_method_params(const cli_command *cmd, const cli_args *a, tl_params **out) {
    const char *name = cli_get(a, "method");
    int family = cmd->methods - 1;
    *out = NULL;
    const tl_method *m = tl_method_find(name, family);
    if (!m) return cli_fail_status(TL_ERR_INVALID_ARG, "--method"), 2;
    if (tl_params_create(m, out) != TL_OK) return cli_fail_status(TL_ERR_NOMEM, "--method"), 1;
    for (size_t i = 0; a->table[i].name[0]; i++) {
        const char *pn = a->table[i].name;
        if (!cli_is_method_param(cmd, pn) || !cli_given(a, pn)) continue;
        const char *v = a->table[i].arg ? cli_get(a, pn) : "true"; /* a flag: switched on */
        if (tl_params_set(*out, pn, v) != TL_OK) {
            cli_fail_status(TL_ERR_INVALID_ARG, "--%s", pn);
            tl_params_free(*out);
            *out = NULL;
            return 2;
        }
    }
    return 0;
}

void cli_run_opts_from(const cli_args *a, uint64_t seed, long threads, const tl_params *lp,
                       tl_ctx *ctx, tl_run_opts *o) {
    *ctx = tl_ctx_default();
    ctx->seed = seed;
    ctx->threads = (int)threads;
    o->ctx = ctx;
    o->learner = lp;
    const char *fit = cli_get(a, "preprocess-fit");
    o->preprocess_on_source = fit && strcmp(fit, "source") == 0;
    o->guard = !cli_flag(a, "no-guard");
    o->allow_unknown_labels = cli_flag(a, "allow-unknown-labels");
}

bool cli_guard_opts(const cli_args *a, tl_guard_params *g) {
    *g = tl_guard_params_default();
    return cli_get_double(a, "guard-margin", 0, 0.999, &g->margin) &&
           cli_get_double(a, "min-correspondence", -1, 1, &g->min_correspondence) &&
           cli_get_double(a, "min-ess", 0, 1, &g->min_ess);
}

void cli_transfer_warn(const tl_report *r) {
    if (r->negative_transfer) {
        const char *a = r->guard.verdict == TL_GUARD_HARMFUL ? r->guard.reason : "";
        const char *b = r->labelled_checked && r->labelled.harmful ? r->labelled.reason : "";
        cli_warn("negative transfer likely: %s%s%s", a, a[0] && b[0] ? "; " : "", b);
    }
    if (r->result.n && r->worse_than_baseline) {
        /* name the baseline it fell below: the source-only one, else the target-only one (for a
         * network: training from scratch) */
        bool below_src = tl_report_beaten_baseline(r) == TL_BASELINE_SOURCE_ONLY;
        bool net = r->family == TL_FAMILY_MODEL;
        if (r->regression) {
            cli_warn("%s did worse than %s on the scored target (RMSE %.6g against %.6g)",
                     r->method, below_src ? "no transfer (source only)" : "the target-only learner",
                     r->result.rmse, below_src ? r->source_only.rmse : r->target_only.rmse);
            return;
        }
        cli_warn("%s did worse than %s on the scored target (%.2f %% against %.2f %%)", r->method,
                 below_src ? (net ? (r->n_source ? "the same network trained on the source alone"
                                                   : "the pre-trained network as it is")
                                : "no transfer (source only)")
                           : (net ? "training from scratch" : "the target-only learner"),
                 100 * r->result.accuracy,
                 100 * (below_src ? r->source_only.accuracy : r->target_only.accuracy));
    }
}

/* --out-source / --out-target: the rows in the shared space (labels or targets kept). */
static tl_status write_embedding(const char *path, tl_mat Z, const tl_dataset *like) {
    tl_dataset *ds = NULL;
    tl_status st = tl_dataset_from_dense(Z, tl_dataset_labels_const(like), &ds);
    if (st == TL_OK && tl_dataset_has_targets(like))
        st = tl_dataset_set_targets(ds, tl_dataset_targets(like));
    if (st == TL_OK) st = tl_dataset_save(ds, path, TL_FORMAT_AUTO, 1);
    tl_dataset_free(ds);
    return st;
}

/* --out W: the source weights, one per line (mean 1). */
static tl_status write_weights(const char *path, const tl_model *m) {
    size_t n = 0;
    const double *w = tl_model_fit_weights(m, &n);
    tl_dataset *ds = NULL;
    tl_status st = tl_dataset_from_dense(tl_mat_view((double *)w, n, 1), NULL, &ds);
    if (st == TL_OK) st = tl_dataset_save(ds, path, TL_FORMAT_CSV, 1);
    tl_dataset_free(ds);
    return st;
}

typedef struct {
    tl_dataset *src, *tgt, *test, *lab;
} loaded;

/* A CSV read with the default label column (the last) that comes out one feature narrower than
 * the source most likely has no label column: say how to read it, rather than the bare "5 features
 * against 6" the run would give. 0, or prints and returns 1. */
static int check_label_column(const cli_args *a, const char *spec, const tl_dataset *ds,
                              const tl_dataset *src) {
    if (!ds || cli_given(a, "label-col") || strstr(spec, "label=") ||
        tl_format_guess(spec) != TL_FORMAT_CSV ||
        !(tl_dataset_has_labels(ds) || tl_dataset_has_targets(ds)) ||
        tl_dataset_cols(ds) + 1 != tl_dataset_cols(src))
        return 0;
    return cli_fail("'%s' has %zu features and a label column, the source %zu features: if its "
                    "last column is a feature, not a label, say so: '%s:label=none'",
                    spec, tl_dataset_cols(ds), tl_dataset_cols(src), spec);
}

static void loaded_free(loaded *d) {
    tl_dataset_free(d->src);
    tl_dataset_free(d->tgt);
    tl_dataset_free(d->test);
    tl_dataset_free(d->lab);
}

/* Source and target of different widths (both dense: a sparse file ends at its last non-zero
 * column and is widened) need a method that maps between feature spaces: say which ones, before
 * any work. 0, or prints and returns 1. */
int cli_check_feature_spaces(const tl_method *m, const tl_dataset *src, const tl_dataset *tgt,
                             const char *sname, const char *tname) {
    if ((tl_method_needs(m) & TL_HETEROGENEOUS) || tl_dataset_is_sparse(src) ||
        tl_dataset_is_sparse(tgt) || tl_dataset_cols(src) == tl_dataset_cols(tgt))
        return 0;
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; tl_method_at(i) && len + 1 < sizeof list; i++)
        if (tl_method_needs(tl_method_at(i)) & TL_HETEROGENEOUS)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                    tl_method_name(tl_method_at(i)));
    return cli_fail("'%s' has %zu features and '%s' %zu: --method %s needs one feature space; "
                    "the heterogeneous methods (%s) map between feature spaces, with a few "
                    "labelled target rows per class (--labelled-per-class K or --target-labelled "
                    "SPEC)",
                    sname, tl_dataset_cols(src), tname, tl_dataset_cols(tgt), tl_method_name(m),
                    list);
}

bool cli_labelled_rows_ok(const cli_args *a, const tl_method *m, long per_class, long nlab) {
    if ((per_class > 0) + (nlab > 0) + (cli_get(a, "target-labelled") != NULL) > 1) {
        cli_fail("--target-labelled, --labelled-per-class and --labelled exclude each other");
        return false;
    }
    if ((tl_method_needs(m) & TL_NEEDS_TARGET_LABELS) && !cli_get(a, "target-labelled") &&
        per_class == 0 && nlab == 0) {
        cli_usage("--method %s needs labelled target rows (--target-labelled SPEC, or "
                  "--labelled-per-class K / --labelled N drawn from --target)",
                  tl_method_name(m));
        return false;
    }
    return true;
}

int cli_run_transfer(const cli_command *cmd, cli_args *a) {
    if (cli_has_opt(a, "via") && (cli_given(a, "via") || cli_given(a, "pool")))
        return cli_run_gradual(cmd, a); /* gradual.c */
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *srcs[CLI_MAX_REPEAT];
    size_t nsrc = cli_get_all(a, "source", srcs, CLI_MAX_REPEAT);
    if (nsrc > 1) return cli_run_multisource(cmd, a, srcs, nsrc); /* multisource.c */
    int rc = 1;
    tl_params *mp = NULL, *lp = NULL;
    tl_task *task = NULL;
    tl_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    loaded d = {NULL, NULL, NULL, NULL};
    char *text = NULL;
    tl_status st;
    long per_class = 0, nlab = 0;
    uint64_t seed;
    long threads;
    tl_run_opts o = tl_run_opts_default();
    tl_guard_params gp;
    o.guard_params = &gp;
    if ((rc = cli_method_params(cmd, a, &mp)) != 0) return rc;
    rc = 2;
    if (!cli_learner(a, &lp) || !cli_guard_opts(a, &gp) ||
        !cli_get_long(a, "labelled-per-class", 0, 100000000, &per_class) ||
        !cli_get_long(a, "labelled", 0, 100000000, &nlab) || !cli_get_u64(a, "seed", &seed) ||
        !cli_get_long(a, "threads", 0, 4096, &threads))
        goto done;
    const tl_method *m = tl_params_method(mp);
    if (!cli_labelled_rows_ok(a, m, per_class, nlab)) goto done;
    const char *pre = cli_get(a, "preprocess"), *fit = cli_get(a, "preprocess-fit");
    if ((st = tl_preprocess_parse(pre ? pre : "none", &o.preprocess)) != TL_OK) {
        cli_fail_status(st, "--preprocess");
        goto done;
    }
    if (fit && strcmp(fit, "domain") != 0 && strcmp(fit, "source") != 0) {
        cli_fail("--preprocess-fit: '%s' is not one of domain, source", fit);
        goto done;
    }
    const char *rview = cli_get(a, "report-view");
    if (rview && strcmp(rview, "pca") != 0 && strcmp(rview, "tsne") != 0) {
        cli_fail("--report-view: '%s' is not one of pca, tsne", rview);
        goto done;
    }
    rc = 1;
    /* the data, raw: the library's protocol preprocesses it */
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *tt = cli_get(a, "target-test"),
               *tl = cli_get(a, "target-labelled");
    if (!s || !t) {
        rc = cli_usage("--source and --target are required (see 'tl help %s')", cmd->name);
        goto done;
    }
    if (cli_load(a, s, &d.src) != TL_OK || cli_load(a, t, &d.tgt) != TL_OK ||
        (tt && cli_load(a, tt, &d.test) != TL_OK) || (tl && cli_load(a, tl, &d.lab) != TL_OK))
        goto done;
    if (check_label_column(a, t, d.tgt, d.src) || (tt && check_label_column(a, tt, d.test, d.src)))
        goto done;
    tl_dataset *sets[4] = {d.src, d.tgt, d.test, d.lab};
    if (cli_unify_sets(sets, 4) != 0) goto done;
    if (tl && !tl_dataset_has_labels(d.lab) && !tl_dataset_has_targets(d.lab)) {
        cli_fail("'%s' has no labels: --target-labelled needs labelled rows", tl);
        goto done;
    }
    if (cli_check_feature_spaces(m, d.src, d.tgt, s, t) != 0) goto done;
    size_t si, ti;
    if ((st = tl_task_create(&task)) != TL_OK || (st = tl_task_add(task, TL_ROLE_SOURCE, d.src, &si)) ||
        (st = tl_task_add(task, TL_ROLE_TARGET, d.tgt, &ti)) ||
        (st = tl_task_set_test(task, ti, d.test)) || (st = tl_task_set_labelled(task, ti, d.lab))) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    if ((per_class > 0 || nlab > 0) &&
        (st = tl_task_draw_labelled(task, ti, (size_t)per_class, (size_t)nlab, seed)) != TL_OK) {
        cli_fail_status(st, "drawing labelled rows from '%s'", t);
        goto done;
    }
    /* a parameter that cannot fit this data is a usage error (exit 2), said before any work */
    if (tl_dataset_cols(d.src) == tl_dataset_cols(d.tgt) &&
        (st = tl_params_check(mp, tl_dataset_cols(d.src),
                              tl_dataset_rows(d.src) + tl_dataset_rows(d.tgt))) != TL_OK) {
        rc = cli_fail_status(st, "--method %s", tl_method_name(m)) + 1;
        goto done;
    }
    tl_ctx ctx;
    cli_run_opts_from(a, seed, threads, lp, &ctx, &o);
    o.in_place = true;
    const char *os = cli_get(a, "out-source"), *ot = cli_get(a, "out-target"),
               *save = cli_get(a, "save"), *save_map = cli_get(a, "save-mapping"),
               *wout = cli_get(a, "out");
    o.keep_embeddings = os || ot;
    o.report_views = cli_get(a, "report") != NULL; /* what tl report draws */
    o.report_tsne = o.report_views && rview && strcmp(rview, "tsne") == 0;
    const char *ln = tl_method_name(tl_params_method(lp));
    if (tl_method_family(m) == TL_FAMILY_INSTANCE && strcmp(ln, "1nn") == 0)
        cli_warn("1nn uses sample weights only to drop the rows weighted 0: the weighting "
                 "changes little or nothing (--learner logreg, svm or ridge use the weights)");
    cli_info(a, "%s: %s on %zu source and %zu target rows...", cmd->name, tl_method_name(m),
             tl_dataset_rows(d.src), tl_dataset_rows(d.tgt));
    if ((st = tl_transfer_run(task, mp, &o, &rep, (save || save_map || wout) ? &pipe : NULL)) !=
        TL_OK) {
        cli_fail_status(st, "%s", tl_method_name(m));
        goto done;
    }
    /* files first, all or none (one batch of renames): a failed write leaves no file and no
     * half-printed result */
    tl_wfile_batch_begin();
    const tl_model *model = pipe ? tl_pipeline_model(pipe) : NULL;
    if (save && (st = tl_pipeline_save(pipe, save)) != TL_OK) {
        cli_fail_status(st, "saving the pipeline to '%s'", save);
        goto done;
    }
    if (save_map && (st = tl_model_save(model, save_map)) != TL_OK) {
        cli_fail_status(st, "saving the fitted method to '%s'", save_map);
        goto done;
    }
    if (os && (st = write_embedding(os, rep->embedded[si], d.src)) != TL_OK) {
        cli_fail_status(st, "cannot write '%s'", os);
        goto done;
    }
    tl_dataset *ev = tl_task_test(task, ti) ? tl_task_test(task, ti) : d.tgt;
    if (ot && (st = write_embedding(ot, rep->embedded_eval, ev)) != TL_OK) {
        cli_fail_status(st, "cannot write '%s'", ot);
        goto done;
    }
    if (wout && (st = write_weights(wout, model)) != TL_OK) {
        cli_fail_status(st, "cannot write '%s'", wout);
        goto done;
    }
    const char *rpath = cli_get(a, "report");
    if (rpath) {
        char *js = NULL;
        if ((st = tl_report_json(rep, cmd->name, &js)) == TL_OK) st = cli_save_report(js, rpath);
        tl_free(js);
        if (st != TL_OK) {
            cli_fail_status(st, "--report '%s'", rpath);
            goto done;
        }
    }
    if ((st = tl_wfile_batch_commit()) != TL_OK) {
        cli_fail_status(st, "writing the outputs");
        goto done;
    }
    cli_transfer_warn(rep);
    if (cli_flag(a, "json")) {
        st = tl_report_json(rep, cmd->name, &text);
    } else {
        st = tl_report_text(rep, &text);
    }
    if (st != TL_OK) {
        cli_fail_status(st, "rendering the report");
        goto done;
    }
    rc = cli_print_text(text, cli_flag(a, "json"));
    if (!cli_flag(a, "json")) {
        if (wout) printf("%-22s %s\n", "weights written to", wout);
        if (save) printf("%-22s %s\n", "pipeline saved to", save);
        if (save_map) printf("%-22s %s\n", "method saved to", save_map);
    }
done:
    tl_wfile_batch_abort(); /* after a failure: the outputs written so far are removed */
    tl_free(text);
    tl_report_free(rep);
    tl_pipeline_free(pipe);
    tl_task_free(task);
    tl_params_free(mp);
    tl_params_free(lp);
    loaded_free(&d);
    return rc;
}
