/* `tl rank-sources --target SPEC SOURCE...`: which of several labelled sources to transfer from.
 * The library scores each source (RBF MMD to the target, proxy A-distance, and with
 * --target-labelled the accuracy of a learner trained on the source on those rows) and ranks
 * them (tl_source_score_compute, tl_sources_rank); the sources are loaded one at a time. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_opt rank_opts[] = {
    {"target", "SPEC", NULL, "target domain (labels not needed)"},
    {"target-labelled", "SPEC", NULL, "a few labelled target rows for the transfer estimate"},
    {"no-a-distance", NULL, NULL, "skip the proxy A-distance (the slowest measure)"},
    {"folds", "K", "5", "cross-validation folds of the A-distance classifier"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static int run_rank(cli_args *a) {
    const char *t = cli_get(a, "target"), *tls = cli_get(a, "target-labelled");
    if (!t || a->npos < 1)
        return cli_usage("needs --target SPEC and at least one source (see 'tl help rank-sources')");
    long folds, threads;
    uint64_t seed;
    tl_rank_opts o = tl_rank_opts_default();
    tl_params *lp = NULL;
    const char *pre = cli_get(a, "preprocess"), *fit = cli_get(a, "preprocess-fit");
    if (!cli_get_long(a, "folds", 2, 100, &folds) || !cli_get_u64(a, "seed", &seed) ||
        !cli_get_long(a, "threads", 0, 4096, &threads) || !cli_learner(a, &lp))
        return 2;
    if (tl_preprocess_parse(pre, &o.preprocess) != TL_OK) {
        tl_params_free(lp);
        return cli_fail_status(TL_ERR_INVALID_ARG, "--preprocess"), 2;
    }
    if ((strstr(pre, "zscore") || strstr(pre, "minmax")) && !(fit && strcmp(fit, "source") == 0))
        cli_warn("--preprocess %s fitted per domain gives every domain the same column means and "
                 "spreads, so MMD and the A-distance shrink toward 0; rank with rowsum/l2 or "
                 "--preprocess-fit source", pre);
    tl_ctx ctx = tl_ctx_default();
    ctx.seed = seed;
    ctx.threads = (int)threads;
    o.ctx = &ctx;
    o.learner = lp;
    o.folds = (size_t)folds;
    o.a_distance = !cli_flag(a, "no-a-distance");
    o.preprocess_on_source = fit && strcmp(fit, "source") == 0;
    size_t ns = (size_t)a->npos;
    tl_source_score *rows = calloc(ns, sizeof *rows);
    tl_dataset *tgt = NULL, *lab = NULL, *src = NULL;
    char *text = NULL;
    int rc = 1;
    tl_status st;
    if (!rows) {
        cli_fail("out of memory");
        goto done;
    }
    if (cli_load(a, t, &tgt) != TL_OK || (tls && cli_load(a, tls, &lab) != TL_OK)) goto done;
    double t0 = cli_now();
    for (size_t k = 0; k < ns; k++) {
        cli_info(a, "[%zu/%zu] %s", k + 1, ns, a->pos[k]);
        if (cli_load(a, a->pos[k], &src) != TL_OK) goto done;
        st = tl_source_score_compute(src, tgt, lab, &o, &rows[k]);
        tl_dataset_free(src);
        src = NULL;
        if (st != TL_OK) {
            cli_fail_status(st, "'%s'", a->pos[k]);
            goto done;
        }
    }
    tl_sources_rank(rows, ns);
    double secs = cli_now() - t0;
    st = cli_flag(a, "json")
             ? tl_ranking_json(rows, (const char *const *)a->pos, ns, t, tls, &o, secs, &text)
             : tl_ranking_text(rows, (const char *const *)a->pos, ns, t, tls, secs, &text);
    if (st != TL_OK) {
        cli_fail_status(st, "rendering the ranking");
        goto done;
    }
    rc = cli_print_text(text, cli_flag(a, "json"));
done:
    tl_free(text);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    tl_dataset_free(lab);
    tl_params_free(lp);
    free(rows);
    return rc;
}

const cli_command cmd_rank_sources = {
    "rank-sources", "rank candidate source domains for a target (MMD, A-distance, transfer estimate)",
    "--target SPEC [--target-labelled SPEC] SOURCE_SPEC... [options]", rank_opts, run_rank, 0,
    "1nn"};
