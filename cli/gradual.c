/* `tl adapt --via D1 [D2 ...]` / `tl adapt --pool P1 [P2 ...]`: transfer through intermediate
 * domains - gradual self-training of the learner from the source, through the intermediates (in
 * the order given, or a path chosen from the pool by domain distances, printed), to the target,
 * beside source-only and direct self-training (tl_gradual_run); with --method, that feature
 * mapping fitted hop by hop instead, beside its direct transfer. Arguments after --via or --pool
 * are further intermediates, in order, so a long chain needs no repeated option. --preprocess
 * (with --preprocess-fit domain|source) is fitted as tl adapt fits it and saved with --save
 * (the library's tl_gradual_run). Thin: loads,
 * builds the task, calls the library, prints its report. */
#include <string.h>

#include "cli.h"

int cli_run_gradual(const cli_command *cmd, cli_args *a) {
    int rc = 2;
    tl_params *lp = NULL, *mp = NULL;
    tl_task *task = NULL;
    tl_gradual_report *rep = NULL;
    tl_pipeline *pipe = NULL;
    enum { MAXI = CLI_MAX_REPEAT + CLI_MAX_POS };
    tl_dataset *ds[MAXI + 3] = {NULL};
    const char *via[MAXI];
    char *text = NULL;
    tl_status st;
    uint64_t seed;
    long threads = 0, rows = 0;
    double keep = 0.9;
    size_t ni = 0;
    tl_run_opts o = tl_run_opts_default();
    tl_guard_params gp;
    o.guard_params = &gp;
    tl_gradual_opts g = tl_gradual_opts_default();
    bool pool = cli_get(a, "pool") != NULL;
    if (pool && cli_get(a, "via")) return cli_usage("--via and --pool exclude each other");
    ni = cli_get_all(a, pool ? "pool" : "via", via, CLI_MAX_REPEAT);
    for (int i = 0; i < a->npos && ni < MAXI; i++) via[ni++] = a->pos[i];
    if (cli_given(a, "method")) { /* a feature mapping hop by hop instead of self-training */
        int mrc = cli_method_params(cmd, a, &mp);
        if (mrc) return mrc;
        g.method = mp;
    }
    const char *no[] = {"save-mapping", "out-source", "out-target", "target-labelled"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (cli_given(a, no[i]) && strcmp(cli_get(a, no[i]), "none") != 0)
            return cli_usage("--%s is not available with --%s", no[i], pool ? "pool" : "via");
    if (pool && ni < 2)
        return cli_usage("--pool needs at least two domains to choose a path from (got %zu; "
                         "walk a single one with --via)",
                         ni);
    if (!cli_learner(a, &lp) || !cli_guard_opts(a, &gp) || !cli_get_u64(a, "seed", &seed) ||
        !cli_get_long(a, "threads", 0, 4096, &threads) ||
        !cli_get_double(a, "keep", 1e-9, 1, &keep) ||
        !cli_get_long(a, "path-rows", 0, 100000000, &rows))
        goto done;
    const char *pre = cli_get(a, "preprocess"), *fit = cli_get(a, "preprocess-fit");
    if ((st = tl_preprocess_parse(pre ? pre : "none", &o.preprocess)) != TL_OK) {
        cli_fail_status(st, "--preprocess");
        goto done;
    }
    o.preprocess_on_source = fit && strcmp(fit, "source") == 0;
    g.keep = keep;
    g.choose_path = pool;
    g.max_rows = (size_t)rows;
    rc = 1;
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *tt = cli_get(a, "target-test");
    if (!s || !t) {
        rc = cli_usage("--source and --target are required (see 'tl help %s')", cmd->name);
        goto done;
    }
    /* ds: source, the intermediates, target, test */
    if (cli_load(a, s, &ds[0]) != TL_OK) goto done;
    for (size_t i = 0; i < ni; i++)
        if (cli_load(a, via[i], &ds[1 + i]) != TL_OK) goto done;
    if (cli_load(a, t, &ds[ni + 1]) != TL_OK || (tt && cli_load(a, tt, &ds[ni + 2]) != TL_OK))
        goto done;
    if (cli_unify_sets(ds, ni + 3) != 0) goto done;
    size_t ti;
    if ((st = tl_task_create(&task)) != TL_OK ||
        (st = tl_task_add(task, TL_ROLE_SOURCE, ds[0], NULL)) != TL_OK) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    for (size_t i = 0; i < ni; i++)
        if ((st = tl_task_add(task, TL_ROLE_INTERMEDIATE, ds[1 + i], NULL)) != TL_OK) {
            cli_fail_status(st, "building the task");
            goto done;
        }
    if ((st = tl_task_add(task, TL_ROLE_TARGET, ds[ni + 1], &ti)) != TL_OK ||
        (st = tl_task_set_test(task, ti, ds[ni + 2])) != TL_OK) {
        cli_fail_status(st, "building the task");
        goto done;
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.seed = seed;
    ctx.threads = (int)threads;
    o.ctx = &ctx;
    o.learner = lp;
    o.guard = !cli_flag(a, "no-guard");
    const char *save = cli_get(a, "save");
    cli_info(a, "%s: %s through %zu %s domain%s...", cmd->name,
             mp ? tl_method_name(tl_params_method(mp)) : "gradual self-training", ni,
             pool ? "pool" : "intermediate", ni == 1 ? "" : "s");
    if ((st = tl_gradual_run(task, &o, &g, &rep, save ? &pipe : NULL)) != TL_OK) {
        cli_fail_status(st, "--%s", pool ? "pool" : "via");
        goto done;
    }
    if (rep->negative_transfer) cli_warn("negative transfer likely: %s", rep->reason);
    if (rep->result.accuracy < rep->source_only.accuracy)
        cli_warn("gradual transfer scored below the source-only learner");
    st = cli_flag(a, "json") ? tl_gradual_report_json(rep, cmd->name, &text)
                             : tl_gradual_report_text(rep, &text);
    rc = cli_save_and_print(pipe, save, st, text, cli_flag(a, "json"));
done:
    tl_free(text);
    tl_gradual_report_free(rep);
    tl_pipeline_free(pipe);
    tl_task_free(task);
    tl_params_free(lp);
    tl_params_free(mp);
    for (size_t i = 0; i < ni + 3 && i < sizeof ds / sizeof ds[0]; i++) tl_dataset_free(ds[i]);
    return rc;
}
