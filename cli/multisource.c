/* `tl adapt --source A --source B [--source C ...]`: several sources, one target. Each source is
 * transferred on its own by the library's protocol (baselines, method, guard), the sources the
 * guard judges harmful are dropped with the reason printed, and the kept ones are combined
 * (--combine pool | vote | weighted) - tl_multisource_fit; --save keeps the multi-source
 * pipeline (the kept sources' pipelines and weights) for `tl predict`. Sources with different
 * label sets, or a single source, are refused. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_save_and_print(const tl_pipeline *pipe, const char *save, tl_status rendered,
                       const char *text, bool json) {
    tl_status st;
    if (save && (st = tl_pipeline_save(pipe, save)) != TL_OK)
        return cli_fail_status(st, "saving the pipeline to '%s'", save);
    if (rendered != TL_OK) return cli_fail_status(rendered, "rendering the report");
    int rc = cli_print_text(text, json);
    if (rc == 0 && save && !json) printf("%-22s %s\n", "pipeline saved to", save);
    return rc;
}

int cli_run_multisource(const cli_command *cmd, cli_args *a, const char **srcs, size_t nsrc) {
    int rc = 2;
    tl_params *mp = NULL, *lp = NULL;
    tl_task *task = NULL;
    tl_multi_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    tl_dataset *ds[CLI_MAX_REPEAT + 3] = {NULL};
    char *text = NULL;
    tl_status st;
    long per_class = 0, nlab = 0, threads = 0;
    uint64_t seed;
    tl_combine comb = TL_COMBINE_WEIGHTED;
    tl_run_opts o = tl_run_opts_default();
    tl_guard_params gp;
    o.guard_params = &gp;
    if (!cli_has_opt(a, "combine")) {
        cli_usage("--source given %zu times: tl %s takes one source (tl adapt combines several)",
                  nsrc, cmd->name);
        return 2;
    }
    if ((rc = cli_method_params(cmd, a, &mp)) != 0) return rc;
    rc = 2;
    if (!cli_learner(a, &lp) || !cli_get_long(a, "labelled-per-class", 0, 100000000, &per_class) ||
        !cli_get_long(a, "labelled", 0, 100000000, &nlab) || !cli_get_u64(a, "seed", &seed) ||
        !cli_get_long(a, "threads", 0, 4096, &threads) || !cli_guard_opts(a, &gp))
        goto done;
    if ((st = tl_combine_parse(cli_get(a, "combine"), &comb)) != TL_OK) {
        cli_fail_status(st, "--combine");
        goto done;
    }
    const char *no[] = {"save-mapping", "out-source", "out-target", "out"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (cli_get(a, no[i])) {
            cli_usage("--%s is not available with several sources (each source is fitted on its "
                      "own; --save keeps the whole multi-source pipeline, --save-mapping needs a "
                      "single --source)",
                      no[i]);
            goto done;
        }
    const tl_method *m = tl_params_method(mp);
    if (!cli_labelled_rows_ok(a, m, per_class, nlab)) goto done;
    const char *pre = cli_get(a, "preprocess");
    if ((st = tl_preprocess_parse(pre ? pre : "none", &o.preprocess)) != TL_OK) {
        cli_fail_status(st, "--preprocess");
        goto done;
    }
    rc = 1;
    const char *t = cli_get(a, "target"), *tt = cli_get(a, "target-test"),
               *tl = cli_get(a, "target-labelled");
    if (!t) {
        rc = cli_usage("--target is required (see 'tl help %s')", cmd->name);
        goto done;
    }
    /* ds: the sources, then target, test, labelled */
    for (size_t i = 0; i < nsrc; i++)
        if (cli_load(a, srcs[i], &ds[i]) != TL_OK) goto done;
    tl_dataset **T = ds + nsrc;
    if (cli_load(a, t, &T[0]) != TL_OK || (tt && cli_load(a, tt, &T[1]) != TL_OK) ||
        (tl && cli_load(a, tl, &T[2]) != TL_OK))
        goto done;
    if (cli_unify_sets(ds, nsrc + 3) != 0) goto done;
    for (size_t i = 0; i < nsrc; i++)
        if (cli_check_feature_spaces(m, ds[i], T[0], srcs[i], t) != 0) goto done;
    size_t ti;
    if ((st = tl_task_create(&task)) != TL_OK) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    for (size_t i = 0; i < nsrc; i++)
        if ((st = tl_task_add(task, TL_ROLE_SOURCE, ds[i], NULL)) != TL_OK) {
            cli_fail_status(st, "building the task");
            goto done;
        }
    if ((st = tl_task_add(task, TL_ROLE_TARGET, T[0], &ti)) || (st = tl_task_set_test(task, ti, T[1])) ||
        (st = tl_task_set_labelled(task, ti, T[2]))) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    if ((per_class > 0 || nlab > 0) &&
        (st = tl_task_draw_labelled(task, ti, (size_t)per_class, (size_t)nlab, seed)) != TL_OK) {
        cli_fail_status(st, "drawing labelled rows from '%s'", t);
        goto done;
    }
    tl_ctx ctx;
    cli_run_opts_from(a, seed, threads, lp, &ctx, &o);
    cli_info(a, "%s: %s on %zu sources and %zu target rows, combined by %s...", cmd->name,
             tl_method_name(m), nsrc, tl_dataset_rows(T[0]), tl_combine_name(comb));
    const char *save = cli_get(a, "save");
    st = tl_multisource_fit(task, mp, &o, comb, !cli_flag(a, "keep-harmful"), &rep,
                            save ? &pipe : NULL);
    if (st != TL_OK) {
        cli_fail_status(st, "%s", tl_method_name(m));
        goto done;
    }
    for (size_t i = 0; i < nsrc; i++)
        if (rep->dropped[i]) cli_warn("source '%s' dropped: %s", srcs[i], rep->why[i]);
    if (rep->all_harmful) cli_warn("every source was judged harmful: none was dropped");
    const char *rpath = cli_get(a, "report");
    if (rpath) {
        char *js = NULL;
        if ((st = tl_multi_report_json(rep, cmd->name, &js)) == TL_OK)
            st = cli_save_report(js, rpath);
        tl_free(js);
        if (st != TL_OK) {
            cli_fail_status(st, "--report '%s'", rpath);
            goto done;
        }
    }
    st = cli_flag(a, "json") ? tl_multi_report_json(rep, cmd->name, &text)
                             : tl_multi_report_text(rep, &text);
    rc = cli_save_and_print(pipe, save, st, text, cli_flag(a, "json"));
done:
    tl_pipeline_free(pipe);
    tl_free(text);
    tl_multi_report_free(rep);
    tl_task_free(task);
    tl_params_free(mp);
    tl_params_free(lp);
    for (size_t i = 0; i < nsrc + 3 && i < sizeof ds / sizeof ds[0]; i++) tl_dataset_free(ds[i]);
    return rc;
}
