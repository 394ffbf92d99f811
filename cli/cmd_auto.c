/* `tl auto --source S [S2 ...] --target T [--budget SECONDS] [--save M]`: automatic transfer.
 * The library (tl_auto_run, tl/auto.h) ranks the sources, runs the registry's candidates under
 * the time budget and chooses one by the label-free criteria; this command loads the data,
 * shows progress on stderr, prints the choice with its evidence and the runners-up (a table, or
 * --json), and with --save writes the chosen pipeline for `tl predict`. Extra sources are given
 * as arguments after --source (the option parser keeps one value per option). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_opt auto_opts[] = {
    {"source", "SPEC", NULL, "labelled source domain (more sources as arguments: ranked by MMD)"},
    {"target", "SPEC", NULL, "unlabelled target domain (labels, if any, are only scored)"},
    {"budget", "SECONDS", "60", "time for the search (no transfer always runs)"},
    {"budget-clock", "CLOCK", "wall",
     "wall: wall-clock seconds; cpu: this process's CPU seconds (a loaded, shared machine)"},
    {"grid", "N", "4", "grid variants per method tried for the better half of the methods"},
    {"save", "FILE", NULL, "write the chosen pipeline (.tlm) for `tl predict`"},
    {"show", "N", "10", "runners-up printed (0: all)"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static void progress(void *user, const char *stage, double fraction) {
    (void)fraction;
    if (strncmp(stage, "auto: ", 6) == 0) cli_info(user, "%s", stage); /* not the methods' own */
}

static void json_cand(tl_json *j, const tl_auto_candidate *c) {
    tl_json_obj_begin(j, NULL);
    tl_json_str(j, "candidate", c->label);
    tl_json_str(j, "method", c->method);
    tl_json_int(j, "rung", c->rung);
    for (int k = 0; k < TL_CRIT_COUNT; k++) {
        if (isfinite(c->crit[k])) tl_json_num(j, tl_criterion_name(k), c->crit[k]);
        else tl_json_null(j, tl_criterion_name(k));
    }
    tl_json_num(j, "top_share", c->top_share);
    tl_json_bool(j, "collapsed", c->collapsed);
    tl_json_bool(j, "harmful", c->harmful);
    if (isfinite(c->score)) tl_json_num(j, "score", c->score);
    else tl_json_null(j, "score");
    if (isfinite(c->accuracy)) tl_json_num(j, "accuracy", c->accuracy);
    else tl_json_null(j, "accuracy");
    tl_json_num(j, "seconds", c->seconds);
    tl_json_obj_end(j);
}

/* Candidate indices, chosen first, then by score (ineligible last, in run order). */
static int by_score_desc(const void *a, const void *b, void *ctx) {
    const tl_auto_candidate *c = ctx;
    double x = c[*(const size_t *)a].score, y = c[*(const size_t *)b].score;
    if (isnan(x) != isnan(y)) return isnan(x) ? 1 : -1;
    if (x != y && !isnan(x)) return x < y ? 1 : -1;
    return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static int run_auto(cli_args *a) {
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *save = cli_get(a, "save");
    if (!s || !t) return cli_usage("--source and --target are required (see 'tl help auto')");
    double budget;
    long grid, show, threads;
    uint64_t seed;
    tl_params *lp = NULL;
    if (!cli_get_double(a, "budget", 0, 1e9, &budget) || !cli_get_long(a, "grid", 0, 64, &grid) ||
        !cli_get_long(a, "show", 0, 100000, &show) || !cli_get_u64(a, "seed", &seed) ||
        !cli_get_long(a, "threads", 0, 4096, &threads) || !cli_learner(a, &lp))
        return 2;
    tl_auto_opts o = tl_auto_opts_default();
    const char *pre = cli_get(a, "preprocess"), *fit = cli_get(a, "preprocess-fit");
    if (tl_preprocess_parse(pre ? pre : "none", &o.preprocess) != TL_OK) {
        tl_params_free(lp);
        return cli_fail_status(TL_ERR_INVALID_ARG, "--preprocess"), 2;
    }
    const char *clk = cli_get(a, "budget-clock");
    if (strcmp(clk, "wall") != 0 && strcmp(clk, "cpu") != 0) {
        tl_params_free(lp);
        return cli_usage("--budget-clock: '%s' is not one of wall, cpu", clk);
    }
    o.budget_cpu = strcmp(clk, "cpu") == 0;
    size_t ns = 1 + (size_t)a->npos;
    tl_dataset **src = calloc(ns + 1, sizeof *src), *tgt = NULL;
    tl_auto_result *res = NULL;
    tl_pipeline *pipe = NULL;
    size_t *idx = NULL;
    char *text = NULL;
    int rc = 1;
    tl_status st;
    if (!src) {
        cli_fail("out of memory");
        goto done;
    }
    for (size_t i = 0; i < ns; i++)
        if (cli_load(a, i ? a->pos[i - 1] : s, &src[i]) != TL_OK) goto done;
    if (cli_load(a, t, &tgt) != TL_OK) goto done;
    src[ns] = tgt;
    if (cli_unify_sets(src, ns + 1) != 0) goto done;
    src[ns] = NULL;
    tl_ctx ctx = tl_ctx_default();
    ctx.seed = seed;
    ctx.threads = (int)threads;
    ctx.progress = progress;
    ctx.user = a;
    o.ctx = &ctx;
    o.budget = budget;
    o.grid = (size_t)grid;
    o.learner = lp;
    o.preprocess_on_source = fit && strcmp(fit, "source") == 0;
    if ((st = tl_auto_run(src, ns, tgt, &o, &res, save ? &pipe : NULL)) != TL_OK) {
        cli_fail_status(st, "cannot choose");
        goto done;
    }
    if (save) {
        tl_wfile_batch_begin();
        if ((st = tl_pipeline_save(pipe, save)) != TL_OK ||
            (st = tl_wfile_batch_commit()) != TL_OK) {
            cli_fail_status(st, "saving the pipeline to '%s'", save);
            tl_wfile_batch_abort();
            goto done;
        }
    }
    const tl_auto_candidate *ch = &res->cand[res->chosen];
    if (res->budget_too_small)
        cli_warn("budget %g s too small for any transfer candidate (no transfer took %.2f s): "
                 "the result is no transfer; give --budget more seconds",
                 budget, res->cand[0].seconds);
    else if (res->all_harmful)
        cli_warn("every transfer candidate collapsed or was judged harmful by the guard: the "
                 "result is no transfer");
    idx = malloc(res->n * sizeof *idx);
    if (!idx) {
        cli_fail("out of memory");
        goto done;
    }
    for (size_t i = 0; i < res->n; i++) idx[i] = i;
    qsort_r(idx, res->n, sizeof *idx, by_score_desc, res->cand);
    const char *srcname = res->source == 0 ? s : a->pos[res->source - 1];
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "auto");
        tl_json_str(&j, "source", srcname);
        tl_json_str(&j, "target", t);
        tl_json_num(&j, "budget", budget);
        tl_json_str(&j, "budget_clock", clk);
        tl_json_num(&j, "seconds", res->seconds);
        tl_json_bool(&j, "budget_too_small", res->budget_too_small);
        tl_json_bool(&j, "all_harmful", res->all_harmful);
        tl_json_int(&j, "skipped", (long long)res->skipped);
        tl_json_str(&j, "chosen", ch->label);
        tl_json_num(&j, "accuracy", res->report->result.n ? res->report->result.accuracy : NAN);
        tl_json_num(&j, "source_only_accuracy",
                    res->report->source_only.n ? res->report->source_only.accuracy : NAN);
        if (ns > 1) {
            tl_json_arr_begin(&j, "sources");
            for (size_t i = 0; i < ns; i++) {
                tl_json_obj_begin(&j, NULL);
                tl_json_str(&j, "source", i ? a->pos[i - 1] : s);
                tl_json_num(&j, "mmd", res->source_scores[i].mmd);
                tl_json_int(&j, "rank", res->source_scores[i].rank);
                tl_json_obj_end(&j);
            }
            tl_json_arr_end(&j);
        }
        tl_json_arr_begin(&j, "candidates");
        for (size_t i = 0; i < res->n; i++) json_cand(&j, &res->cand[idx[i]]);
        tl_json_arr_end(&j);
        if (save) tl_json_str(&j, "saved", save);
        rc = cli_json_finish(&j);
        goto done;
    }
    bool acc = isfinite(ch->accuracy);
    printf("%-22s %s\n", "source", srcname);
    if (ns > 1)
        for (size_t i = 0; i < ns; i++)
            printf("  %-20s MMD^2 %.4g, rank %d\n", i ? a->pos[i - 1] : s,
                   res->source_scores[i].mmd, res->source_scores[i].rank);
    printf("%-22s %s\n", "target", t);
    printf("%-22s %zu run in %.1f s (budget %g s, %s clock), %zu left out for lack of time\n",
           "candidates", res->n, res->seconds, budget, clk, res->skipped);
    printf("%-22s %s (score %.3f: entropy %.4f, SND %.4f, IWCV %.4f, DEV %.4f, RV %.1f %%, "
           "MixVal %.3f)\n",
           "chosen", ch->label, ch->score, ch->crit[TL_CRIT_ENTROPY], ch->crit[TL_CRIT_SND],
           ch->crit[TL_CRIT_IWCV], ch->crit[TL_CRIT_DEV], 100 * ch->crit[TL_CRIT_RV],
           ch->crit[TL_CRIT_MIXVAL]);
    if (res->report->result.n)
        printf("%-22s %.2f %% (no transfer %.2f %%)\n", "target accuracy",
               100 * res->report->result.accuracy, 100 * res->report->source_only.accuracy);
    printf("\n%-4s %-34s %6s %8s %8s %8s %8s %6s %6s %5s %-9s %7s%s\n", "rank", "candidate",
           "score", "entropy", "snd", "iwcv", "dev", "rv%", "mixval", "top%", "verdict", "seconds",
           acc ? " accuracy%" : "");
    size_t lim = show > 0 && (size_t)show < res->n ? (size_t)show : res->n;
    for (size_t r = 0; r < lim; r++) {
        const tl_auto_candidate *c = &res->cand[idx[r]];
        char sc[16];
        if (isfinite(c->score)) snprintf(sc, sizeof sc, "%.3f", c->score);
        else snprintf(sc, sizeof sc, "-");
        printf("%-4zu %-34.34s %6s %8.4f %8.4f %8.4f %8.4f %6.1f %6.3f %5.0f %-9s %7.2f", r + 1,
               c->label, sc, c->crit[TL_CRIT_ENTROPY], c->crit[TL_CRIT_SND],
               c->crit[TL_CRIT_IWCV], c->crit[TL_CRIT_DEV], 100 * c->crit[TL_CRIT_RV],
               c->crit[TL_CRIT_MIXVAL],
               100 * c->top_share,
               c->collapsed ? "collapsed" : c->harmful ? "harmful" : "ok", c->seconds);
        if (acc) printf(" %9.2f", 100 * c->accuracy);
        printf("\n");
    }
    if (acc) printf("(accuracy: the target's own labels, shown only; the choice never reads them)\n");
    if (save) printf("%-22s %s\n", "pipeline saved to", save);
    rc = fflush(stdout) != 0;
done:
    free(idx);
    tl_free(text);
    tl_auto_result_free(res);
    tl_pipeline_free(pipe);
    for (size_t i = 0; src && i < ns; i++) tl_dataset_free(src[i]);
    free(src);
    tl_dataset_free(tgt);
    tl_params_free(lp);
    return rc;
}

const cli_command cmd_auto = {
    "auto", "choose the source, the method and its settings without target labels",
    "--source SPEC [SOURCE_SPEC...] --target SPEC [--budget SECONDS] [--save FILE] [options]",
    auto_opts, run_auto, 0, "1nn"};
