/* `tl finetune`: model-based transfer - adapt a pre-trained network to a target task through the
 * library's protocol (tl_transfer_run, the "finetune" method): the network fine-tuned on --data
 * (a new head, imprinting, freezing, per-layer rates, L2-SP: the method's parameters below),
 * scored on --test beside the baselines (the pre-trained network as it is, when its classes fit;
 * the same architecture trained from scratch on the same rows) and the guard's verdict (on the
 * validation rows of --val-split). The network comes from a .tlm file or, with --arch and
 * --input-shape, from a .safetensors file exported by PyTorch.
 * With --da (deep domain adaptation, the "deep-da" method): --data is the labelled source,
 * --target-unlabelled the target's rows (their labels, if any, are never read), the network comes
 * from --from or is built from --arch on the data's shape, and the report's baseline is the same
 * network trained on the source alone (tlx_run_deep_da). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_common.h"
#include "nn_common.h"

static int run_finetune(cli_args *a);

static const cli_opt finetune_opts[] = {
    {"method", "NAME", "finetune", "the model-based method"},
    {"from", "MODEL", NULL,
     "pre-trained model: a .tlm file, or .safetensors (a PyTorch export also needs --arch and "
     "--input-shape)"},
    {"data", "SPEC", NULL, "the target's labelled training rows (with --da: the labelled source)"},
    {"target-unlabelled", "SPEC", NULL,
     "with --da: the target's unlabelled rows the network is adapted to"},
    {"classes", "LIST", NULL, "keep only these labels, e.g. 5-9 or 0,2,4"},
    {"per-class", "K", NULL, "keep K randomly chosen samples of each class (seeded by --seed)"},
    {"test", "SPEC", NULL, "score on this data after training (same --classes)"},
    {"save", "FILE.tlm", NULL, "write the fine-tuned network here"},
    {"save-pipeline", "FILE", NULL, "save the fitted method as a pipeline (.tlm)"},
    {"export-safetensors", "FILE", NULL, "also write the weights as .safetensors"},
    {"report", "FILE", NULL,
     "also save the report with the learning curve: FILE.html the page, FILE.svg the figures, "
     "else the JSON (for 'tl report')"},
    {"no-baseline", NULL, NULL, "skip training the same network from scratch (the target-only "
                                "baseline)"},
    {"no-guard", NULL, NULL, "skip the negative-transfer guard"},
    {"arch", "A", NULL, "architecture of a .safetensors --from (with --da and no --from: the "
                        "network to build)"},
    {"input-shape", "CxHxW", NULL, "input shape of a .safetensors --from or of --arch with --da "
                                   "(default: 1xSxS for S*S values, else Dx1x1)"},
    {"name-map", "MAP", NULL, "name map of a .safetensors --from (FROM=TO rules or @index)"},
    {"format", "FMT", "auto", "input format: auto, csv, svmlight, mat, npy, idx"},
    {"label-col", "N", "-1", "CSV label column (0-based; negative from the end; 'none')"},
    {"header", "MODE", "auto", "CSV header row: auto, yes, no"},
    {"index-base", "B", "auto", "svmlight feature index base: auto, 0, 1"},
    {"", NULL, NULL, NULL}};

const cli_command cmd_finetune = {
    "finetune",
    "fine-tune a pre-trained network on a target task against training from scratch",
    "--from MODEL --data SPEC --save FILE.tlm [--test SPEC] [--new-head K] [options]\n"
    "  tl finetune --da dann|dan|coral|cdan|cdan-e (--from MODEL | --arch A) --data SRC "
    "--target-unlabelled TGT --save FILE.tlm [--test SPEC] [options]",
    finetune_opts, run_finetune, 1 + TL_FAMILY_MODEL, NULL};

static bool ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int load_model(const cli_args *a, const char *from, tl_nn **nn) {
    tl_status st;
    if (!ends_with(from, ".safetensors")) {
        st = tl_nn_load(from, nn);
        return st == TL_OK ? 0 : cli_fail_status(st, "--from");
    }
    const char *arch_arg = cli_get(a, "arch"), *shp = cli_get(a, "input-shape");
    size_t c, h, w;
    char *arch = NULL;
    if (!arch_arg && !shp) { /* a libtl export says what it is */
        if ((st = tl_nn_safetensors_arch(from, &arch, &c, &h, &w)) != TL_OK)
            return cli_fail_status(st, "--from (or give --arch and --input-shape)");
        st = tl_nn_create(arch, c, h, w, 0, nn);
        tl_free(arch);
    } else {
        if (!arch_arg || !shp)
            return cli_usage("--arch and --input-shape go together (a libtl export needs neither)");
        unsigned long uc, uh, uw;
        char tail;
        if (sscanf(shp, "%lux%lux%lu%c", &uc, &uh, &uw, &tail) != 3)
            return cli_usage("--input-shape: '%s' is not CxHxW", shp);
        c = uc, h = uh, w = uw;
        arch = cli_nn_read_arch(arch_arg);
        if (!arch) return cli_fail("--arch: cannot read '%s'", arch_arg);
        st = tl_nn_create(arch, c, h, w, 0, nn);
        free(arch);
    }
    if (st != TL_OK) return cli_fail_status(st, "--arch");
    tl_nn_import_report rep;
    st = tl_nn_import_safetensors(*nn, from, cli_get(a, "name-map"), false, &rep);
    if (rep.n_unexpected)
        cli_warn("%zu tensors of '%s' matched nothing:\n%s", rep.n_unexpected, from, rep.unexpected);
    tl_nn_import_report_free(&rep);
    if (st != TL_OK) {
        tl_nn_free(*nn);
        *nn = NULL;
        return cli_fail_status(st, "--from");
    }
    return 0;
}

/* The method's parameters for --method NAME from the command's options (as cli_method_params,
 * for a method the command picks itself). */
static int method_params_named(const char *name, const cli_args *a, tl_params **out) {
    const tl_method *m = tl_method_find(name, TL_FAMILY_MODEL);
    *out = NULL;
    if (!m) return cli_fail_status(TL_ERR_INVALID_ARG, "--method"), 2;
    if (tl_params_create(m, out) != TL_OK) return cli_fail_status(TL_ERR_NOMEM, "--method"), 1;
    for (size_t i = 0; a->table[i].name[0]; i++) {
        const char *pn = a->table[i].name;
        if (!cli_is_method_param(&cmd_finetune, pn) || !cli_given(a, pn)) continue;
        const char *v = a->table[i].arg ? cli_get(a, pn) : "true";
        if (tl_params_set(*out, pn, v) != TL_OK) {
            cli_fail_status(TL_ERR_INVALID_ARG, "--%s", pn);
            tl_params_free(*out);
            *out = NULL;
            return 2;
        }
    }
    return 0;
}

/* Under mpirun: the task's training rows are this process's block (cli_dist_shard); the network
 * trains over the job; every process scores the whole --test set, which is therefore required;
 * the guard (other learners on the rows) is not data-parallel yet and is left out, said so. */
static int dist_task(const cli_args *a, const cli_dist *dist, tl_task *task, tl_run_opts *o,
                     tl_ctx *ctx) {
    if (dist->size <= 1) return 0;
    if (!cli_get(a, "test"))
        return cli_fail("over %d processes each holds a part of the training rows: give --test, "
                        "the held-out rows every process scores", dist->size);
    tl_task_set_comm(task, tl_dist_comm(dist->d));
    if (o->guard && dist->rank == 0)
        cli_warn("the negative-transfer guard is not data-parallel yet: left out (--no-guard)");
    o->guard = false;
    if (dist->rank != 0) ctx->log = NULL, ctx->progress = NULL;
    return 0;
}

/* tl finetune --da: deep domain adaptation through tl_transfer_run. */
/* The protocol on the task, then the outputs (the network, its safetensors export, the
 * pipeline), the warnings and the report: the same for fine-tuning and for deep adaptation.
 * what names the stage in a failure. Returns the exit code. */
static int run_and_report(const cli_args *a, tl_task *task, const tl_params *mp,
                          const tl_run_opts *o, const char *what, const char *save,
                          const char *save_pipe, const cli_dist *dist) {
    tl_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    char *text = NULL;
    int rc = 1;
    tl_run_opts ro = *o;
    const char *rpath = cli_get(a, "report");
    ro.report_views = rpath != NULL; /* the learning curve and confusion matrices for the page */
    tl_status st = tl_transfer_run(task, mp, &ro, &rep, &pipe);
    cli_nn_progress_end();
    if (st != TL_OK) {
        cli_fail_status(st, "%s", what);
        goto done;
    }
    if (dist->rank != 0) { /* rank 0 saves and reports for the job */
        rc = 0;
        goto done;
    }
    const tl_nn *tuned = tl_model_network(tl_pipeline_model(pipe));
    if ((st = tl_nn_save(tuned, save)) != TL_OK ||
        (cli_get(a, "export-safetensors") &&
         (st = tl_nn_export_safetensors(tuned, cli_get(a, "export-safetensors"), NULL)) != TL_OK) ||
        (save_pipe && (st = tl_pipeline_save(pipe, save_pipe)) != TL_OK)) {
        cli_fail_status(st, "saving the model");
        goto done;
    }
    if (rpath) {
        char *js = NULL;
        if ((st = tl_report_json(rep, "finetune", &js)) == TL_OK) st = cli_save_report(js, rpath);
        tl_free(js);
        if (st != TL_OK) {
            cli_fail_status(st, "--report '%s'", rpath);
            goto done;
        }
    }
    cli_transfer_warn(rep);
    if (dist->size > 1) printf("%-22s %d (data-parallel)\n", "processes", dist->size);
    st = cli_flag(a, "json") ? tl_report_json(rep, "finetune", &text) : tl_report_text(rep, &text);
    if (st != TL_OK) {
        cli_fail_status(st, "rendering the report");
        goto done;
    }
    rc = cli_print_text(text, cli_flag(a, "json"));
    if (!cli_flag(a, "json")) printf("%-22s %s\n", "model saved to", save);
done:
    tl_free(text);
    tl_report_free(rep);
    tl_pipeline_free(pipe);
    return rc;
}

static int run_da(cli_args *a) {
    const char *from = cli_get(a, "from"), *save = cli_get(a, "save"), *test = cli_get(a, "test"),
               *tgt = cli_get(a, "target-unlabelled"), *save_pipe = cli_get(a, "save-pipeline");
    if (!cli_get(a, "data")) return cli_usage("--data (the labelled source) is required with --da");
    if (!tgt) return cli_usage("--target-unlabelled is required with --da");
    if (!save) return cli_usage("--save is required: where should the model go?");
    if (!from && !cli_get(a, "arch")) return cli_usage("--da needs a network: --from MODEL or --arch A");
    if (cli_given(a, "method") && strcmp(cli_get(a, "method"), "deep-da") != 0)
        return cli_usage("--da runs the deep-da method, not --method %s", cli_get(a, "method"));
    uint64_t seed;
    if (!cli_get_u64(a, "seed", &seed)) return 2;
    tl_params *mp = NULL;
    int rc = method_params_named("deep-da", a, &mp);
    if (rc) return rc;
    tl_status st = tl_params_check(mp, 0, 0);
    if (st != TL_OK) {
        cli_fail_status(st, "--da");
        tl_params_free(mp);
        return 2;
    }
    tl_nn *net = NULL;
    tl_dataset *src = NULL, *tg = NULL, *ts = NULL;
    tl_task *task = NULL;
    char *arch = NULL;
    int *cls = NULL;
    cli_dist dist;
    size_t ns_total, nt_total;
    if ((rc = cli_dist_begin(&dist)) != 0) {
        tl_params_free(mp);
        return rc;
    }
    rc = 1;
    if (cli_nn_load_shard(a, cli_get(a, "data"), true, &dist, &src, &ns_total) != 0 ||
        cli_nn_load_shard(a, tgt, false, &dist, &tg, &nt_total) != 0)
        goto done;
    if (test && cli_nn_load_raw(a, test, false, &ts) != 0) goto done;
    if (!tl_dataset_has_labels(src)) {
        cli_fail("'%s' has no labels: the source must be labelled", tl_dataset_name(src));
        goto done;
    }
    size_t nc;
    if (cli_nn_classes_of(tl_dataset_labels_const(src), tl_dataset_rows(src), &cls, &nc) != 0) goto done;
    if (cli_dist_classes(&dist, &cls, &nc) != 0) goto done;
    if (from) {
        if (load_model(a, from, &net) != 0) goto done;
    } else {
        size_t shape[3], d = tl_dataset_cols(src);
        if (!cli_nn_parse_shape(cli_get(a, "input-shape"), d, shape)) {
            rc = cli_usage("--input-shape: '%s' is not CxHxW", cli_get(a, "input-shape"));
            goto done;
        }
        if (shape[0] * shape[1] * shape[2] != d) {
            cli_fail("--input-shape %zux%zux%zu has %zu values but '%s' has %zu per sample", shape[0],
                     shape[1], shape[2], shape[0] * shape[1] * shape[2], tl_dataset_name(src), d);
            goto done;
        }
        if (!(arch = cli_nn_read_arch(cli_get(a, "arch")))) {
            cli_fail("--arch: cannot read '%s'", cli_get(a, "arch"));
            goto done;
        }
        if ((st = tl_nn_create(arch, shape[0], shape[1], shape[2], seed, &net)) != TL_OK) {
            cli_fail_status(st, "--arch");
            goto done;
        }
        if (tl_nn_output_dim(net) != nc) {
            cli_fail("the network's last layer has %zu outputs but the source '%s' has %zu classes: "
                     "end the architecture with dense:%zu",
                     tl_nn_output_dim(net), tl_dataset_name(src), nc, nc);
            goto done;
        }
        if ((st = tl_nn_set_labels(net, cls, nc)) != TL_OK) {
            cli_fail_status(st, "labels");
            goto done;
        }
    }
    size_t si, ti;
    if ((st = tl_task_create(&task)) != TL_OK || (st = tl_task_add(task, TL_ROLE_SOURCE, src, &si)) != TL_OK ||
        (st = tl_task_add(task, TL_ROLE_TARGET, tg, &ti)) != TL_OK ||
        (st = tl_task_set_test(task, ti, ts)) != TL_OK ||
        (st = tl_task_add_network(task, TL_ROLE_SOURCE, net, from ? from : "--arch", NULL)) != TL_OK) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    ctx.seed = seed;
    tl_run_opts o = tl_run_opts_default();
    o.ctx = &ctx;
    o.guard = !cli_flag(a, "no-guard");
    if (dist_task(a, &dist, task, &o, &ctx) != 0) goto done;
    if (dist.rank == 0)
        cli_info(a, "finetune --da %s: %zu labelled source rows of '%s', %zu unlabelled target rows of '%s'",
                 cli_get(a, "da"), ns_total, tl_dataset_name(src), nt_total, tl_dataset_name(tg));
    rc = run_and_report(a, task, mp, &o, "adaptation", save, save_pipe, &dist);
done:
    free(arch);
    tl_free(cls);
    tl_task_free(task);
    tl_dataset_free(src);
    tl_dataset_free(tg);
    tl_dataset_free(ts);
    tl_nn_free(net);
    tl_params_free(mp);
    return cli_dist_end(&dist, rc);
}

static int run_finetune(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    if (cli_given(a, "da") || (cli_given(a, "method") && strcmp(cli_get(a, "method"), "deep-da") == 0))
        return run_da(a);
    if (cli_given(a, "target-unlabelled"))
        return cli_usage("--target-unlabelled goes with --da (deep domain adaptation)");
    const char *from = cli_get(a, "from"), *save = cli_get(a, "save"),
               *save_pipe = cli_get(a, "save-pipeline"), *test = cli_get(a, "test");
    if (!from) return cli_usage("--from is required (see 'tl help finetune')");
    if (!save) return cli_usage("--save is required: where should the model go?");
    tl_params *mp = NULL;
    uint64_t seed;
    if (!cli_get_u64(a, "seed", &seed)) return 2;
    int rc = cli_method_params(&cmd_finetune, a, &mp);
    if (rc) return rc;
    tl_status st = tl_params_check(mp, 0, 0);
    if (st != TL_OK) {
        cli_fail_status(st, "--method %s", tl_method_name(tl_params_method(mp)));
        tl_params_free(mp);
        return 2;
    }
    tl_nn *net = NULL;
    tl_dataset *tr = NULL, *ts = NULL;
    tl_task *task = NULL;
    cli_dist dist;
    size_t n_total;
    if ((rc = cli_dist_begin(&dist)) != 0) {
        tl_params_free(mp);
        return rc;
    }
    rc = 1;
    if (load_model(a, from, &net) != 0) goto done;
    if (cli_nn_load_shard(a, cli_get(a, "data"), true, &dist, &tr, &n_total) != 0) goto done;
    if (test && cli_nn_load_raw(a, test, false, &ts) != 0) goto done;
    size_t ti;
    if ((st = tl_task_create(&task)) != TL_OK ||
        (st = tl_task_add_network(task, TL_ROLE_SOURCE, net, from, NULL)) != TL_OK ||
        (st = tl_task_add(task, TL_ROLE_TARGET, tr, &ti)) != TL_OK ||
        (st = tl_task_set_test(task, ti, ts)) != TL_OK) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    ctx.seed = seed;
    tl_run_opts o = tl_run_opts_default();
    o.ctx = &ctx;
    o.guard = !cli_flag(a, "no-guard");
    o.scratch_baseline = !cli_flag(a, "no-baseline");
    if (dist_task(a, &dist, task, &o, &ctx) != 0) goto done;
    if (dist.rank == 0)
        cli_info(a, "finetune: %s on %zu samples of '%s'", from, n_total, tl_dataset_name(tr));
    rc = run_and_report(a, task, mp, &o, "fine-tuning", save, save_pipe, &dist);
done:
    tl_task_free(task);
    tl_dataset_free(tr);
    tl_dataset_free(ts);
    tl_nn_free(net);
    tl_params_free(mp);
    return cli_dist_end(&dist, rc);
}
