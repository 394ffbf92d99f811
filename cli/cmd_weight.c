/* `tl weight`: importance-weight the labelled source toward the target (KMM, KLIEP, uLSIF or a
 * discriminative domain classifier), train the learner with those sample weights, and report its
 * target accuracy next to the same learner trained without weights. The weights (one per source
 * row, mean 1) can be written to a file, atomically (temporary file + rename). The negative-
 * transfer guard (tl/guard.h) judges the weighting without target labels: feature
 * correspondence of the two domains, the weights' effective sample size, and reverse validation
 * unweighted vs weighted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tl/guard.h"
#include "tl/instance.h"

static const cli_opt weight_opts[] = {
    CLI_DOMAIN_OPTS,
    {"method", "NAME", "kmm", "kmm, kliep, ulsif, domain-clf"},
    {"out", "FILE", NULL, "write the source weights, one per line (mean 1)"},
    {"gamma", "G", "0", "RBF gamma (0: median heuristic on source + target)"},
    {"B", "B", "1000", "KMM: upper bound of a weight"},
    {"eps", "E", "0", "KMM: |mean weight - 1| <= E (0: (sqrt(ns) - 1) / sqrt(ns))"},
    {"centers", "N", "100", "KLIEP/uLSIF: kernel centres drawn from the target"},
    {"lambda", "L", "0.001", "uLSIF ridge (negative: leave-one-out choice)"},
    {"widths", "N", "1",
     "KLIEP/uLSIF: choose the kernel width among N candidates gamma * 2^(k - (N-1)/2) "
     "(KLIEP: likelihood cross-validation; uLSIF: leave-one-out, with lambda when it is "
     "negative); 1 keeps gamma"},
    {"folds", "K", "5", "KLIEP width selection: cross-validation folds"},
    {"clf-C", "C", "1", "domain-clf: logistic regression C of the domain classifier"},
    {"max-iter", "N", "1000", "solver iterations"},
    {"guard-margin", "M", "0.05", "guard: reverse-validation drop counted as harm"},
    {"min-ess", "S", "0.5",
     "guard: effective sample size of the weights, as a share of the source, below which the "
     "weighting counts as harmful"},
    {"no-guard", NULL, NULL, "skip the negative-transfer guard (no \"negative_transfer\" in the result)"},
    {"min-correspondence", "R", "0.1",
     "guard: feature-correlation agreement (Mantel r) below which the source counts as unrelated"},
    CLI_LEARNER_OPTS,
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

/* Writes w (n) to path through a temporary file in the same folder, renamed into place. */
static int write_weights(const char *path, const double *w, size_t n) {
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) return cli_fail("out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_fail("cannot write '%s': cannot create a temporary file next to it", path);
        free(tmp);
        return 1;
    }
    FILE *f = fdopen(fd, "w");
    int bad = f == NULL;
    for (size_t i = 0; !bad && i < n; i++) bad = fprintf(f, "%.17g\n", w[i]) < 0;
    if (f) bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (f)
        bad |= fclose(f) != 0;
    else
        close(fd);
    if (!bad && rename(tmp, path) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        cli_fail("cannot write '%s'", path);
    }
    free(tmp);
    return bad;
}

static tl_status fit_eval(const tl_learner_params *lp, const tl_dataset *src, const double *w,
                          const tl_dataset *ev, int *pred, cli_eval *e) {
    tl_learner *l = NULL;
    tl_status st = tl_learner_create(lp, &l);
    if (st == TL_OK)
        st = tl_learner_fit(l, tl_dataset_features(src), tl_dataset_labels_const(src), w);
    if (st == TL_OK) st = tl_learner_predict(l, tl_dataset_features(ev), pred);
    if (st == TL_OK) st = cli_evaluate(tl_dataset_labels_const(ev), pred, tl_dataset_rows(ev), e);
    tl_learner_free(l);
    return st;
}

static int run_weight(cli_args *a) {
    if (a->npos) return cli_fail("unexpected argument '%s'", a->pos[0]);
    tl_weight_params wp;
    tl_weight_method m;
    if (tl_weight_method_parse(cli_get(a, "method"), &m) != TL_OK)
        return cli_fail_status(TL_ERR_INVALID_ARG, "--method"), 2;
    wp = tl_weight_params_default(m);
    long centers, maxit, widths, folds;
    uint64_t seed;
    if (!cli_get_double(a, "gamma", 0, 1e300, &wp.kernel.gamma) ||
        !cli_get_double(a, "B", 1e-300, 1e300, &wp.B) || !cli_get_double(a, "eps", 0, 1e6, &wp.eps) ||
        !cli_get_long(a, "centers", 1, 100000, &centers) ||
        !cli_get_double(a, "lambda", -1e300, 1e300, &wp.lambda) ||
        !cli_get_long(a, "widths", 1, 32, &widths) || !cli_get_long(a, "folds", 2, 1000, &folds) ||
        !cli_get_double(a, "clf-C", 1e-12, 1e12, &wp.C) ||
        !cli_get_long(a, "max-iter", 1, 100000000, &maxit) || !cli_get_u64(a, "seed", &seed))
        return 2;
    tl_guard_params gp = tl_guard_params_default();
    if (!cli_get_double(a, "guard-margin", 0, 0.999, &gp.margin) ||
        !cli_get_double(a, "min-correspondence", -1, 1, &gp.min_correspondence) ||
        !cli_get_double(a, "min-ess", 0, 1, &gp.min_ess))
        return 2;
    gp.seed = seed;
    wp.centers = (size_t)centers;
    wp.widths = (size_t)widths;
    wp.folds = (size_t)folds;
    wp.max_iter = (int)maxit;
    wp.seed = seed;
    if (tl_weight_params_check(&wp) != TL_OK)
        return cli_fail_status(TL_ERR_INVALID_ARG, "weight parameters"), 2;
    tl_learner_params lp;
    if (!cli_learner_params(a, &lp)) return 2;
    gp.learner = lp; /* reverse validation judges the model the user gets, not a stand-in */
    cli_domains d;
    if (cli_load_domains(a, &d) != 0) return 1;
    tl_dataset *ev = cli_eval_set(&d);
    size_t ns = tl_dataset_rows(d.source), ne = tl_dataset_rows(ev);
    double *w = tl_malloc(ns * sizeof *w);
    int *pred = tl_malloc(ne * sizeof *pred);
    int rc = 1;
    cli_eval base, wt;
    double tw = 0, tl0 = 0;
    if (!w || !pred) {
        cli_fail("out of memory");
        goto done;
    }
    cli_info(a, "%s weights for %zu source samples against %zu target samples...",
             tl_weight_method_name(m), ns, tl_dataset_rows(d.target));
    double t0 = cli_now();
    tl_weight_info info = {0.0, 0.0};
    tl_status st = tl_weights_fit_info(&wp, tl_dataset_features(d.source),
                                       tl_dataset_features(d.target), w, &info);
    tw = cli_now() - t0;
    if (st != TL_OK) {
        cli_fail_status(st, "%s weights", tl_weight_method_name(m));
        goto done;
    }
    const char *out = cli_get(a, "out");
    if (out && write_weights(out, w, ns) != 0) goto done;
    t0 = cli_now();
    st = fit_eval(&lp, d.source, NULL, ev, pred, &base);
    if (st == TL_OK) st = fit_eval(&lp, d.source, w, ev, pred, &wt);
    tl0 = cli_now() - t0;
    if (st != TL_OK) {
        cli_fail_status(st, "training %s on '%s'", tl_learner_name(lp.type), tl_dataset_name(d.source));
        goto done;
    }
    double wmin = INFINITY, wmax = 0, s1 = 0, s2 = 0;
    size_t zeros = 0;
    for (size_t i = 0; i < ns; i++) {
        wmin = fmin(wmin, w[i]);
        wmax = fmax(wmax, w[i]);
        s1 += w[i];
        s2 += w[i] * w[i];
        zeros += w[i] == 0;
    }
    double ess = s2 > 0 ? s1 * s1 / s2 : 0; /* Kish's effective sample size */
    /* the guard: unweighted vs weighted on the same features, no target labels */
    tl_guard_report rep;
    memset(&rep, 0, sizeof rep);
    tl_xmat Fs = tl_dataset_features(d.source), Ft = tl_dataset_features(d.target);
    bool guard = !cli_flag(a, "no-guard");
    t0 = cli_now();
    st = guard ? tl_guard_check(&gp, Fs, tl_dataset_labels_const(d.source), Ft, Fs, w, Ft, &rep)
               : TL_OK;
    double tg = cli_now() - t0;
    if (st != TL_OK) {
        cli_fail_status(st, "negative-transfer guard");
        goto done;
    }
    bool negative = guard && rep.verdict == TL_GUARD_HARMFUL, worse = wt.accuracy < base.accuracy;
    if (negative) cli_warn("negative transfer likely: %s", rep.reason);
    if (cli_flag(a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        cli_json_str(&j, "command", "weight");
        cli_json_str(&j, "method", tl_weight_method_name(m));
        cli_json_str(&j, "source", tl_dataset_name(d.source));
        cli_json_str(&j, "target", tl_dataset_name(d.target));
        cli_json_str(&j, "evaluated_on", tl_dataset_name(ev));
        cli_json_str(&j, "learner", tl_learner_name(lp.type));
        cli_json_str(&j, "preprocess", cli_get(a, "preprocess"));
        cli_json_int(&j, "n_source", (long long)ns);
        cli_json_int(&j, "n_target", (long long)tl_dataset_rows(d.target));
        cli_json_int(&j, "n_eval", (long long)ne);
        cli_json_num(&j, "accuracy", wt.accuracy);
        cli_json_num(&j, "baseline_accuracy", base.accuracy);
        cli_json_num(&j, "balanced_accuracy", wt.balanced_accuracy);
        cli_json_num(&j, "baseline_balanced_accuracy", base.balanced_accuracy);
        cli_json_num(&j, "macro_f1", wt.macro_f1);
        cli_json_num(&j, "baseline_macro_f1", base.macro_f1);
        cli_json_num(&j, "weight_min", wmin);
        cli_json_num(&j, "weight_max", wmax);
        cli_json_int(&j, "weight_zeros", (long long)zeros);
        cli_json_num(&j, "effective_sample_size", ess);
        if (m != TL_WEIGHT_DOMAIN_CLF) cli_json_num(&j, "gamma", info.gamma);
        if (m == TL_WEIGHT_ULSIF) cli_json_num(&j, "lambda", info.lambda);
        cli_json_bool(&j, "worse_than_baseline", worse);
        if (guard) {
            cli_json_bool(&j, "negative_transfer", negative);
            cli_json_obj_begin(&j, "guard");
            cli_json_str(&j, "verdict", tl_guard_verdict_name(rep.verdict));
            cli_json_str(&j, "reason", rep.reason);
            cli_json_num(&j, "correspondence", rep.correspondence);
            cli_json_num(&j, "correspondence_p", rep.correspondence_p);
            cli_json_bool(&j, "unrelated_source", rep.unrelated);
            cli_json_num(&j, "mmd", rep.mmd_before);
            cli_json_num(&j, "reverse_validation_unweighted", rep.rv_before);
            cli_json_num(&j, "reverse_validation_weighted", rep.rv_after);
            cli_json_num(&j, "agreement", rep.agreement);
            cli_json_num(&j, "prediction_entropy", rep.prediction_entropy);
            cli_json_num(&j, "effective_sample_share", rep.ess);
            cli_json_num(&j, "seconds", tg);
            cli_json_obj_end(&j);
        }
        if (out) cli_json_str(&j, "weights_file", out);
        cli_json_num(&j, "weight_seconds", tw);
        cli_json_num(&j, "learner_seconds", tl0);
        rc = cli_json_finish(&j);
        goto done;
    }
    printf("%-20s %s (%zu samples)\n", "source", tl_dataset_name(d.source), ns);
    printf("%-20s %s (%zu samples)\n", "target", tl_dataset_name(d.target), tl_dataset_rows(d.target));
    if (d.test) printf("%-20s %s (%zu samples)\n", "evaluated on", tl_dataset_name(ev), ne);
    printf("%-20s %s, learner %s, preprocess %s\n", "weights", tl_weight_method_name(m),
           tl_learner_name(lp.type), cli_get(a, "preprocess"));
    if (m == TL_WEIGHT_ULSIF)
        printf("%-20s gamma %.6g, lambda %.6g%s\n", "kernel", info.gamma, info.lambda,
               wp.widths > 1 || wp.lambda < 0 ? " (chosen by leave-one-out)" : "");
    else if (m != TL_WEIGHT_DOMAIN_CLF)
        printf("%-20s gamma %.6g%s\n", "kernel", info.gamma,
               wp.widths > 1 && m == TL_WEIGHT_KLIEP ? " (chosen by likelihood cross-validation)" : "");
    printf("%-20s min %.4g, max %.4g, %zu zero, effective sample size %.1f of %zu\n",
           "weight spread", wmin, wmax, zeros, ess, ns);
    printf("%-20s %.2f %%   (balanced %.2f %%, macro-F1 %.2f %%)\n", "weighted accuracy",
           100 * wt.accuracy, 100 * wt.balanced_accuracy, 100 * wt.macro_f1);
    printf("%-20s %.2f %%   (balanced %.2f %%, macro-F1 %.2f %%)\n", "unweighted accuracy",
           100 * base.accuracy, 100 * base.balanced_accuracy, 100 * base.macro_f1);
    printf("%-20s %+.2f points%s\n", "change", 100 * (wt.accuracy - base.accuracy),
           worse ? "  <- worse than unweighted" : "");
    if (guard) {
        printf("%-20s %s: %s\n", "guard (no labels)", tl_guard_verdict_name(rep.verdict), rep.reason);
        printf("%-20s %s\n", "negative transfer", negative ? "LIKELY" : "not detected");
    }
    if (out) printf("%-20s %s\n", "weights written to", out);
    printf("%-20s %.3f s weighting, %.3f s learners, %.3f s guard\n", "time", tw, tl0, tg);
    rc = 0;
done:
    tl_free(w);
    tl_free(pred);
    cli_domains_free(&d);
    return rc;
}

const cli_command cmd_weight = {
    "weight", "instance weighting (KMM, KLIEP, uLSIF, domain classifier) vs unweighted",
    "--method kmm|kliep|ulsif|domain-clf --source SPEC --target SPEC [--out W.csv] [options]",
    weight_opts, run_weight};
