/* `tl distance`: how far apart two domains are before anything is transferred: linear MMD (the
 * squared distance of the means, U-statistic), RBF MMD (median-heuristic bandwidth, optional
 * permutation p-value), the CORAL distance and the proxy A-distance of a logistic domain
 * classifier. Labels are not needed. The MMD figures are the squared MMD (MMD^2, an unbiased
 * estimate can be below 0): JSON keys "mmd2" and "mmd2_rbf", text "MMD^2".
 * Under mpirun each process reads only its block of both domains (cli_dist_load) and every
 * measure is computed over the blocks (src/measure): linear MMD, CORAL and RBF MMD through random
 * features are sums over rows; the exact RBF MMD passes the blocks between the processes; the
 * permutations are drawn over the global row numbers; the A-distance's classifier is fitted over
 * the processes (its loss and gradient summed). Rank 0 prints. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "dist_common.h"
#include "tl/measure.h"

static const cli_opt distance_opts[] = {
    {"source", "SPEC", NULL, "first domain"},
    {"target", "SPEC", NULL, "second domain"},
    {"metric", "NAME", "all", "mmd (linear), mmd-rbf, coral, a-distance, or all"},
    {"permutations", "N", "0", "permutation test draws for the MMD p-value (0: none)"},
    {"gamma", "G", "0", "RBF gamma (0: median heuristic on the pooled sample)"},
    {"bandwidths", "N", "1", "average RBF kernels at gamma * 2^(i - N/2), i < N"},
    {"biased", NULL, NULL, "biased V-statistic instead of the unbiased U-statistic"},
    {"rff-above", "N", "20000", "random Fourier features above N pooled samples (0: never)"},
    {"folds", "K", "5", "cross-validation folds of the A-distance classifier"},
    {"clf-C", "C", "1", "logistic regression C of the A-distance classifier"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

enum { M_LIN = 1, M_RBF = 2, M_CORAL = 4, M_AD = 8 };

/* Per-domain z-score/min-max makes every domain's mean and spread the same, which is most of what
 * these measures see: warn so the user picks rowsum/l2 or --preprocess-fit source. */
static void warn_domain_scaling(const cli_args *a) {
    const char *pre = cli_get(a, "preprocess"), *fit = cli_get(a, "preprocess-fit");
    if (!pre || (fit && strcmp(fit, "source") == 0)) return;
    if (strstr(pre, "zscore") || strstr(pre, "minmax"))
        cli_warn("--preprocess %s fitted per domain gives every domain the same column means and "
                 "spreads, so distances shrink toward 0 (SURF A-C: RBF MMD -4e-4, p = 1); use "
                 "rowsum/l2 or --preprocess-fit source to compare domains",
                 pre);
}

static int run_distance_body(cli_args *a, const cli_dist *dist);

static int run_distance(cli_args *a) {
    cli_dist dist;
    int rc = cli_dist_begin(&dist);
    if (rc != 0) return rc;
    return cli_dist_end(&dist, run_distance_body(a, &dist));
}

static int run_distance_body(cli_args *a, const cli_dist *dist) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *metric = cli_get(a, "metric");
    if (!s || !t) return cli_usage("--source and --target are required (see 'tl help distance')");
    int which = 0;
    if (strcmp(metric, "all") == 0) which = M_LIN | M_RBF | M_CORAL | M_AD;
    else if (strcmp(metric, "mmd") == 0) which = M_LIN;
    else if (strcmp(metric, "mmd-rbf") == 0) which = M_RBF;
    else if (strcmp(metric, "coral") == 0) which = M_CORAL;
    else if (strcmp(metric, "a-distance") == 0) which = M_AD;
    else
        return cli_usage("--metric: '%s' is not one of mmd, mmd-rbf, coral, a-distance, all",
                         metric);
    long perms, bw, rffa, folds;
    double gamma, C;
    uint64_t seed;
    if (!cli_get_long(a, "permutations", 0, 1000000, &perms) ||
        !cli_get_long(a, "bandwidths", 1, 32, &bw) ||
        !cli_get_long(a, "rff-above", 0, 2000000000L, &rffa) ||
        !cli_get_long(a, "folds", 2, 100, &folds) || !cli_get_double(a, "gamma", 0, 1e300, &gamma) ||
        !cli_get_double(a, "clf-C", 1e-12, 1e12, &C) || !cli_get_u64(a, "seed", &seed))
        return CLI_EXIT_USAGE;
    tl_dataset *ds[2] = {NULL, NULL};
    int rc = 1;
    size_t rows[2];
    bool split = dist->size > 1;
    if (split) {
        const char *pre = cli_get(a, "preprocess");
        if (pre && strcmp(pre, "none") != 0)
            return cli_usage("--preprocess %s is not available under mpirun: prepare the files "
                             "first", pre);
    }
    if (cli_dist_load(dist, a, s, &ds[0], &rows[0]) != 0 ||
        cli_dist_load(dist, a, t, &ds[1], &rows[1]) != 0)
        goto done;
    if (tl_dataset_rows(ds[0]) == 0 || tl_dataset_rows(ds[1]) == 0) {
        cli_fail("'%s' is empty: both domains need samples", tl_dataset_rows(ds[0]) == 0 ? s : t);
        goto done;
    }
    if (cli_align_features(ds[0], ds[1]) != TL_OK) goto done;
    warn_domain_scaling(a);
    if (cli_preprocess(a, ds, NULL, 2) != TL_OK) goto done;
    tl_xmat Xs = tl_dataset_features(ds[0]), Xt = tl_dataset_features(ds[1]);
    double lin = NAN, rbf = NAN, coral = NAN, ad = NAN, p_lin = NAN, p_rbf = NAN, g = NAN;
    double t0 = cli_now();
    tl_status st = TL_OK;
    tl_mmd_params mp = tl_mmd_params_default();
    mp.unbiased = !cli_flag(a, "biased");
    mp.permutations = (size_t)perms;
    mp.seed = seed;
    mp.rff_above = (size_t)rffa;
    const tl_comm *comm = split ? tl_dist_kcomm(dist->d) : NULL;
    mp.comm = comm;
    if (which & M_LIN) {
        tl_mmd_result r;
        mp.kernel = TL_KERNEL_LINEAR;
        cli_info(a, "linear MMD%s...", perms ? " with permutations" : "");
        if ((st = tl_mmd(&mp, Xs, Xt, &r)) != TL_OK) {
            cli_fail_status(st, "linear");
            goto done;
        }
        lin = r.mmd2;
        p_lin = r.p_value;
    }
    if (which & M_RBF) {
        tl_mmd_result r;
        mp.kernel = TL_KERNEL_RBF;
        mp.gamma = gamma;
        mp.n_bandwidths = (size_t)bw;
        cli_info(a, "RBF MMD%s...", perms ? " with permutations" : "");
        if ((st = tl_mmd(&mp, Xs, Xt, &r)) != TL_OK) {
            cli_fail_status(st, "RBF");
            goto done;
        }
        rbf = r.mmd2;
        p_rbf = r.p_value;
        g = r.gamma;
    }
    if (which & M_CORAL) {
        if ((st = tl_coral_distance_comm(comm, Xs, Xt, &coral)) != TL_OK) {
            cli_fail_status(st, "CORAL");
            goto done;
        }
    }
    if (which & M_AD) {
        size_t nmin = rows[0] < rows[1] ? rows[0] : rows[1]; /* every process's rows */
        if (nmin >= 2 && (size_t)folds > nmin) {
            if (dist->rank == 0)
                cli_warn("a domain has only %zu samples: the A-distance uses %zu folds instead of "
                         "%ld", nmin, nmin, folds);
            folds = (long)nmin;
        }
        cli_info(a, "proxy A-distance (%ld-fold logistic regression)...", folds);
        if ((st = tl_proxy_a_distance_comm(comm, Xs, Xt, (size_t)folds, C, seed, &ad)) != TL_OK) {
            cli_fail_status(st, "A-distance");
            goto done;
        }
    }
    double secs = cli_now() - t0, pv = (which & M_RBF) ? p_rbf : p_lin;
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "distance");
        tl_json_str(&j, "source", tl_dataset_name(ds[0]));
        tl_json_str(&j, "target", tl_dataset_name(ds[1]));
        tl_json_str(&j, "preprocess", cli_get(a, "preprocess"));
        tl_json_str(&j, "preprocess_fit", cli_get(a, "preprocess-fit"));
        tl_json_int(&j, "n_source", (long long)rows[0]);
        tl_json_int(&j, "n_target", (long long)rows[1]);
        tl_json_int(&j, "n_features", (long long)tl_dataset_cols(ds[0]));
        tl_json_str(&j, "metric", metric);
        tl_json_bool(&j, "unbiased", mp.unbiased);
        /* every measure's key is present; one not asked for (--metric) is null */
        tl_json_num(&j, "mmd2", lin);
        tl_json_num(&j, "mmd2_rbf", rbf);
        tl_json_num(&j, "gamma", g);
        tl_json_num(&j, "coral", coral);
        tl_json_num(&j, "a_distance", ad);
        tl_json_int(&j, "permutations", perms);
        tl_json_num(&j, "p_value", perms ? pv : NAN);
        tl_json_num(&j, "p_value_linear", perms ? p_lin : NAN);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
        goto done;
    }
    printf("%-16s %s (%zu samples)\n", "source", tl_dataset_name(ds[0]), rows[0]);
    printf("%-16s %s (%zu samples, %zu features)\n", "target", tl_dataset_name(ds[1]), rows[1],
           tl_dataset_cols(ds[1]));
    if (split) printf("%-16s %d, each reading its block of rows\n", "processes", dist->size);
    printf("%-16s %s\n", "preprocess", cli_get(a, "preprocess"));
    if (which & M_LIN) {
        printf("%-16s %.6g", mp.unbiased ? "MMD^2 linear" : "MMD^2 linear (b)", lin);
        if (perms) printf("   p = %.4g (%ld permutations)", p_lin, perms);
        printf("\n");
    }
    if (which & M_RBF) {
        printf("%-16s %.6g   gamma %.4g%s", mp.unbiased ? "MMD^2 rbf" : "MMD^2 rbf (b)", rbf, g,
               bw > 1 ? " (x several bandwidths)" : "");
        if (perms) printf("   p = %.4g (%ld permutations)", p_rbf, perms);
        printf("\n");
    }
    if (which & M_CORAL) printf("%-16s %.6g\n", "CORAL", coral);
    if (which & M_AD) printf("%-16s %.4f   (0: indistinguishable, 2: separable)\n", "A-distance", ad);
    printf("%-16s %.3f s\n", "time", secs);
    rc = 0;
done:
    tl_dataset_free(ds[0]);
    tl_dataset_free(ds[1]);
    return rc;
}

const cli_command cmd_distance = {
    "distance", "domain distances: MMD (linear, RBF, p-value), CORAL, proxy A-distance",
    "--source SPEC --target SPEC [--metric all] [--permutations N] [options]", distance_opts,
    run_distance, 0, NULL};
