/* `tl auto --source S [S2 ...] --target T [--budget SECONDS] [--save M]`: automatic transfer.
 * The library (tl_auto_run, tl/auto.h) ranks the sources, runs the registry's candidates under
 * the time budget and chooses one by the label-free criteria; this command loads the data,
 * shows progress on stderr, prints the choice with its evidence and the runners-up (a table, or
 * --json), and with --save writes the chosen pipeline for `tl predict`. Extra sources are given
 * as arguments after --source (the option parser keeps one value per option). With --net (a .tlm
 * network) or --arch (one built on the rows' shape), the network candidates join the search:
 * deep domain adaptation (DANN, DAN, Deep CORAL) and the network trained on the source alone,
 * with --net-epochs, --net-lr and --net-batch as their training settings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nn_common.h"

static const cli_opt auto_opts[] = {
    {"source", "SPEC", NULL, "labelled source domain (more sources as arguments: ranked by MMD)"},
    {"target", "SPEC", NULL, "unlabelled target domain (labels, if any, are only scored)"},
    {"target-test", "SPEC", NULL,
     "held-out labelled target rows: every candidate's accuracy is scored on them (never read "
     "by the choice)"},
    {"budget", "SECONDS", "60", "time for the search (no transfer always runs)"},
    {"budget-clock", "CLOCK", "wall",
     "wall: wall-clock seconds; cpu: this process's CPU seconds (a loaded, shared machine)"},
    {"grid", "N", "4", "grid variants per method tried for the better half of the methods"},
    {"save", "FILE", NULL, "write the chosen pipeline (.tlm) for `tl predict`"},
    {"show", "N", "10", "runners-up printed (0: all)"},
    {"net", "FILE.tlm", NULL,
     "a network (input: the rows as they are; outputs: the source's classes): adds the deep "
     "adaptation candidates (dann, dan, coral) and the network trained on the source alone"},
    {"arch", "A", NULL, "instead of --net: the network to build (its last layer dense:K for K "
                        "source classes), e.g. dense:64,relu,dense:10"},
    {"input-shape", "CxHxW", NULL, "with --arch: the rows' shape (default: 1xSxS for S*S "
                                   "values, else Dx1x1)"},
    {"net-epochs", "N", "10", "network candidates: passes over the training rows"},
    {"net-lr", "X", "0.01", "network candidates: learning rate"},
    {"net-batch", "N", "64", "network candidates: mini-batch size (per domain)"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static void progress(void *user, const char *stage, double fraction) {
    (void)fraction;
    if (strncmp(stage, "auto: ", 6) == 0) cli_info(user, "%s", stage); /* not the methods' own */
}

/* --net or --arch (built on src's shape, its labels the source's classes) and the network
 * candidates' training settings as "deep-da" parameters. 0, or the exit code after a message. */
static int net_setup(const cli_args *a, const tl_dataset *src, uint64_t seed, tl_nn **net,
                     tl_params **np) {
    tl_status st;
    const char *file = cli_get(a, "net"), *arch_arg = cli_get(a, "arch");
    if (file && arch_arg) return cli_usage("--net and --arch: give one network");
    long ep, batch;
    double lr;
    if (!cli_get_long(a, "net-epochs", 1, 1000000, &ep) ||
        !cli_get_double(a, "net-lr", 1e-12, 1e6, &lr) ||
        !cli_get_long(a, "net-batch", 1, 65536, &batch))
        return 2;
    if (file) {
        if ((st = tl_nn_load(file, net)) != TL_OK) return cli_fail_status(st, "--net"), 1;
    } else {
        size_t shape[3], d = tl_dataset_cols(src), k = 0;
        int *cls = NULL;
        if (!cli_nn_parse_shape(cli_get(a, "input-shape"), d, shape) ||
            shape[0] * shape[1] * shape[2] != d)
            return cli_usage("--input-shape: '%s' is not CxHxW with %zu values",
                             cli_get(a, "input-shape") ? cli_get(a, "input-shape") : "auto", d);
        char *arch = cli_nn_read_arch(arch_arg);
        if (!arch) return cli_fail("--arch: cannot read '%s'", arch_arg), 1;
        st = tl_nn_create(arch, shape[0], shape[1], shape[2], seed, net);
        free(arch);
        if (st != TL_OK) return cli_fail_status(st, "--arch"), 2;
        if (cli_nn_classes_of(tl_dataset_labels_const(src), tl_dataset_rows(src), &cls, &k) != 0)
            return 1;
        if (tl_nn_output_dim(*net) != k) {
            cli_fail("the network's last layer has %zu outputs but the source '%s' has %zu "
                     "classes: end --arch with dense:%zu",
                     tl_nn_output_dim(*net), tl_dataset_name(src), k, k);
            free(cls);
            return 2;
        }
        st = tl_nn_set_labels(*net, cls, k);
        free(cls);
        if (st != TL_OK) return cli_fail_status(st, "--arch"), 1;
    }
    /* only the settings given: the others stay the method's defaults, out of the labels */
    char v[3][32];
    snprintf(v[0], sizeof v[0], "%ld", ep);
    snprintf(v[1], sizeof v[1], "%.17g", lr);
    snprintf(v[2], sizeof v[2], "%ld", batch);
    if ((st = tl_params_create(tl_method_find("deep-da", TL_FAMILY_MODEL), np)) != TL_OK ||
        (cli_given(a, "net-epochs") && (st = tl_params_set(*np, "epochs", v[0])) != TL_OK) ||
        (cli_given(a, "net-lr") && (st = tl_params_set(*np, "lr", v[1])) != TL_OK) ||
        (cli_given(a, "net-batch") && (st = tl_params_set(*np, "batch", v[2])) != TL_OK))
        return cli_fail_status(st, "the network candidates' settings"), 1;
    return 0;
}

static int run_auto(cli_args *a) {
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *save = cli_get(a, "save"),
               *tt = cli_get(a, "target-test");
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
    tl_dataset **src = calloc(ns + 2, sizeof *src), *tgt = NULL, *test = NULL;
    const char **names = calloc(ns, sizeof *names);
    tl_auto_result *res = NULL;
    tl_pipeline *pipe = NULL;
    tl_nn *net = NULL;
    tl_params *np = NULL;
    size_t *idx = NULL;
    char *text = NULL;
    int rc = 1;
    tl_status st;
    if (!src || !names) {
        cli_fail("out of memory");
        goto done;
    }
    for (size_t i = 0; i < ns; i++)
        if (cli_load(a, i ? a->pos[i - 1] : s, &src[i]) != TL_OK) goto done;
    if (cli_load(a, t, &tgt) != TL_OK || (tt && cli_load(a, tt, &test) != TL_OK)) goto done;
    src[ns] = tgt;
    src[ns + 1] = test;
    if (cli_unify_sets(src, ns + 1 + (test != NULL)) != 0) goto done;
    /* sparse files (svmlight omits trailing zero columns): every sparse set as wide as the
       widest; dense sets of other widths are left for the library to refuse in its words */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < ns + 2; i++)
            if (src[i] && i != ns && tl_dataset_is_sparse(src[i]) && tl_dataset_is_sparse(tgt) &&
                cli_align_features(src[i], tgt) != TL_OK)
                goto done;
    src[ns] = src[ns + 1] = NULL;
    for (size_t i = 0; i < ns; i++) names[i] = i ? a->pos[i - 1] : s;
    if ((cli_given(a, "net") || cli_given(a, "arch")) &&
        (rc = net_setup(a, src[0], seed, &net, &np)) != 0)
        goto done;
    rc = 1;
    o.net = net;
    o.net_params = np;
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
    o.target_test = test;
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
    if (cli_flag(a, "json")) {
        if ((st = tl_auto_json(res, names, t, &o, save, &text)) != TL_OK) {
            cli_fail_status(st, "writing the JSON");
            goto done;
        }
        printf("%s\n", text);
        rc = fflush(stdout) != 0;
        goto done;
    }
    idx = malloc(res->n * sizeof *idx);
    if (!idx) {
        cli_fail("out of memory");
        goto done;
    }
    tl_auto_order(res, idx);
    const char *srcname = names[res->source];
    bool acc = isfinite(ch->accuracy);
    printf("%-22s %s\n", "source", srcname);
    if (ns > 1)
        for (size_t i = 0; i < ns; i++)
            printf("  %-20s MMD^2 %.4g, rank %d\n", names[i],
                   res->source_scores[i].mmd, res->source_scores[i].rank);
    printf("%-22s %s\n", "target", t);
    printf("%-22s %zu run in %.1f s (budget %g s, %s clock), %zu left out for lack of time\n",
           "candidates", res->n, res->seconds, budget, clk, res->skipped);
    printf("%-22s %s (score %.3f: entropy %.4f, SND %.4f, IWCV %.4f, DEV %.4f, RV %.1f %%, "
           "MixVal %.3f, CRV %.1f %%)\n",
           "chosen", ch->label, ch->score, ch->crit[TL_CRIT_ENTROPY], ch->crit[TL_CRIT_SND],
           ch->crit[TL_CRIT_IWCV], ch->crit[TL_CRIT_DEV], 100 * ch->crit[TL_CRIT_RV],
           ch->crit[TL_CRIT_MIXVAL], 100 * ch->crit[TL_CRIT_CRV]);
    if (res->report->result.n)
        printf("%-22s %.2f %% (no transfer %.2f %%)\n", "target accuracy",
               100 * res->report->result.accuracy, 100 * res->report->source_only.accuracy);
    printf("\n%-4s %-34s %6s %8s %8s %8s %8s %6s %6s %6s %5s %-9s %7s%s\n", "rank", "candidate",
           "score", "entropy", "snd", "iwcv", "dev", "rv%", "mixval", "crv%", "top%", "verdict",
           "seconds",
           acc ? " accuracy%" : "");
    size_t lim = show > 0 && (size_t)show < res->n ? (size_t)show : res->n;
    for (size_t r = 0; r < lim; r++) {
        const tl_auto_candidate *c = &res->cand[idx[r]];
        char sc[16];
        if (isfinite(c->score)) snprintf(sc, sizeof sc, "%.3f", c->score);
        else snprintf(sc, sizeof sc, "-");
        printf("%-4zu %-34.34s %6s %8.4f %8.4f %8.4f %8.4f %6.1f %6.3f %6.1f %5.0f %-9s %7.2f",
               r + 1, c->label, sc, c->crit[TL_CRIT_ENTROPY], c->crit[TL_CRIT_SND],
               c->crit[TL_CRIT_IWCV], c->crit[TL_CRIT_DEV], 100 * c->crit[TL_CRIT_RV],
               c->crit[TL_CRIT_MIXVAL], 100 * c->crit[TL_CRIT_CRV],
               100 * c->top_share,
               c->collapsed ? "collapsed" : c->harmful ? "harmful" : "ok", c->seconds);
        if (acc) printf(" %9.2f", 100 * c->accuracy);
        printf("\n");
    }
    printf("(top%%: the share of the target rows given the most predicted class; collapsed: more "
           "than (1 + 1/k) / 2 of them in one of the k classes, never chosen; harmful: the "
           "guard's verdict, or crv more than two standard errors below no transfer's, never "
           "chosen; crv: reverse validation in the no-transfer space)\n");
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
    free(names);
    tl_dataset_free(tgt);
    tl_dataset_free(test);
    tl_params_free(lp);
    tl_nn_free(net);
    tl_params_free(np);
    return rc;
}

const cli_command cmd_auto = {
    "auto", "choose the source, the method and its settings without target labels",
    "--source SPEC [SOURCE_SPEC...] --target SPEC [--budget SECONDS] [--save FILE] [options]",
    auto_opts, run_auto, 0, "1nn"};
