/* `tl rank-sources --target SPEC SOURCE...`: which of several labelled sources to transfer from.
 * Evidence per source: the RBF MMD to the target (one bandwidth for all sources, the median
 * heuristic on the target, so the values compare), the proxy A-distance, and, given a few
 * labelled target rows (--target-labelled), a quick transfer estimate: the accuracy of a learner
 * trained on the source on those rows. Sources are ranked by the transfer estimate when there is
 * one, else by MMD (smaller is closer); each criterion's own rank is printed beside it. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tl/measure.h"

static const cli_opt rank_opts[] = {
    {"target", "SPEC", NULL, "target domain (labels not needed)"},
    {"target-labelled", "SPEC", NULL, "a few labelled target rows for the transfer estimate"},
    {"no-a-distance", NULL, NULL, "skip the proxy A-distance (the slowest measure)"},
    {"folds", "K", "5", "cross-validation folds of the A-distance classifier"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

typedef struct {
    const char *spec;
    size_t n;
    double mmd, ad, acc;
    int r_mmd, r_ad, r_acc, rank;
} source_row;

static void warn_domain_scaling(const cli_args *a) {
    const char *pre = cli_get(a, "preprocess"), *fit = cli_get(a, "preprocess-fit");
    if (!pre || (fit && strcmp(fit, "source") == 0)) return;
    if (strstr(pre, "zscore") || strstr(pre, "minmax"))
        cli_warn("--preprocess %s fitted per domain gives every domain the same column means and "
                 "spreads, so MMD and the A-distance shrink toward 0; rank with rowsum/l2 or "
                 "--preprocess-fit source",
                 pre);
}

/* rank (1 = best) of each row by key, ascending (asc) or descending; NaN keys rank last. */
static void rank_by(source_row *r, size_t n, size_t off, int asc, size_t roff) {
    for (size_t i = 0; i < n; i++) {
        double vi = *(double *)((char *)&r[i] + off);
        int k = 1;
        for (size_t j = 0; j < n; j++) {
            double vj = *(double *)((char *)&r[j] + off);
            if (isnan(vj)) continue;
            if (isnan(vi) || (asc ? vj < vi : vj > vi) || (vj == vi && j < i)) k++;
        }
        *(int *)((char *)&r[i] + roff) = k;
    }
}

/* Median-heuristic gamma of the target (at most 2000 rows, seeded), densified in one block. */
static tl_status target_gamma(const tl_dataset *t, uint64_t seed, double *g) {
    size_t n = tl_dataset_rows(t), d = tl_dataset_cols(t), s = n < 2000 ? n : 2000;
    if (s * d > ((size_t)1 << 24)) s = ((size_t)1 << 24) / d; /* 128 MB at most */
    if (s < 2) s = n < 2 ? n : 2;
    size_t *idx = tl_malloc(n * sizeof *idx);
    size_t cells = s * d;
    double *buf = tl_malloc((cells > 0 ? cells : 1) * sizeof *buf);
    tl_status st = idx && buf ? TL_OK : TL_ERR_NOMEM;
    if (st == TL_OK) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        tl_rng r;
        tl_rng_seed(&r, seed);
        if (s < n) tl_rng_shuffle(&r, idx, n);
        tl_mat S = tl_mat_view(buf, s, d);
        tl_xmat X = tl_dataset_features(t);
        for (size_t i = 0; i < s && st == TL_OK; i++)
            st = tl_xmat_rows_dense(X, idx[i], 1, tl_mat_rows(S, i, 1));
        if (st == TL_OK) st = tl_kernel_median_gamma(S, seed, g);
    }
    tl_free(idx);
    tl_free(buf);
    return st;
}

static int run_rank(cli_args *a) {
    const char *t = cli_get(a, "target"), *tls = cli_get(a, "target-labelled");
    if (!t || a->npos < 1)
        return cli_fail("needs --target SPEC and at least one source (see 'tl help rank-sources')");
    long folds;
    uint64_t seed;
    if (!cli_get_long(a, "folds", 2, 100, &folds) || !cli_get_u64(a, "seed", &seed)) return 2;
    tl_learner_params lp;
    if (!cli_learner_params(a, &lp)) return 2;
    bool want_ad = !cli_flag(a, "no-a-distance");
    size_t ns = (size_t)a->npos;
    source_row *rows = calloc(ns, sizeof *rows);
    tl_dataset *tgt0 = NULL, *lab0 = NULL, *src = NULL, *tgt = NULL, *lab = NULL;
    int *pred = NULL, rc = 1;
    tl_learner *l = NULL;
    if (!rows) return cli_fail("out of memory");
    if (cli_load(a, t, &tgt0) != TL_OK || (tls && cli_load(a, tls, &lab0) != TL_OK)) goto done;
    if (tl_dataset_rows(tgt0) == 0 || (lab0 && tl_dataset_rows(lab0) == 0)) {
        cli_fail("'%s' is empty", tl_dataset_rows(tgt0) == 0 ? t : tls);
        goto done;
    }
    if (lab0 && !tl_dataset_has_labels(lab0)) {
        cli_fail("'%s' has no labels: the transfer estimate needs labelled target rows", tls);
        goto done;
    }
    warn_domain_scaling(a);
    double t0 = cli_now();
    for (size_t k = 0; k < ns; k++) {
        source_row *r = &rows[k];
        r->spec = a->pos[k];
        r->mmd = r->ad = r->acc = NAN;
        if (cli_load(a, r->spec, &src) != TL_OK) goto done;
        r->n = tl_dataset_rows(src);
        if (r->n == 0) {
            cli_fail("source '%s' is empty", r->spec);
            goto done;
        }
        /* fresh copies of the target: preprocessing may depend on the source (--preprocess-fit) */
        if (tl_dataset_clone(tgt0, &tgt) != TL_OK || (lab0 && tl_dataset_clone(lab0, &lab) != TL_OK)) {
            cli_fail_status(TL_ERR_NOMEM, "copying the target");
            goto done;
        }
        if (cli_align_features(src, tgt) != TL_OK ||
            (lab && (cli_align_features(tgt, lab) != TL_OK || cli_align_features(src, tgt) != TL_OK)))
            goto done;
        tl_dataset *all[3] = {src, tgt, lab};
        int test_of[3] = {-1, -1, 1};
        if (cli_preprocess(a, all, test_of, lab ? 3 : 2) != TL_OK) goto done;
        cli_info(a, "[%zu/%zu] %s", k + 1, ns, r->spec);
        tl_status st;
        tl_mmd_params mp = tl_mmd_params_default();
        mp.seed = seed;
        if ((st = target_gamma(tgt, seed, &mp.gamma)) != TL_OK) {
            cli_fail_status(st, "bandwidth of '%s'", t);
            goto done;
        }
        tl_mmd_result mr;
        if ((st = tl_mmd(&mp, tl_dataset_features(src), tl_dataset_features(tgt), &mr)) != TL_OK) {
            cli_fail_status(st, "'%s'", r->spec);
            goto done;
        }
        r->mmd = mr.mmd2;
        size_t nmin = r->n < tl_dataset_rows(tgt) ? r->n : tl_dataset_rows(tgt), kf = (size_t)folds;
        if (nmin >= 2 && kf > nmin) kf = nmin; /* tiny domains: fewer folds */
        if (want_ad && (st = tl_proxy_a_distance(tl_dataset_features(src), tl_dataset_features(tgt),
                                                 kf, 1.0, seed, &r->ad)) != TL_OK) {
            cli_fail_status(st, "'%s'", r->spec);
            goto done;
        }
        if (lab) {
            size_t nl = tl_dataset_rows(lab);
            if (!tl_dataset_has_labels(src)) {
                cli_fail("source '%s' has no labels: the transfer estimate needs them", r->spec);
                goto done;
            }
            tl_free(pred);
            pred = tl_malloc(nl * sizeof *pred);
            if (!pred || (st = tl_learner_create(&lp, &l)) != TL_OK ||
                (st = tl_learner_fit(l, tl_dataset_features(src), tl_dataset_labels_const(src), NULL)) != TL_OK ||
                (st = tl_learner_predict(l, tl_dataset_features(lab), pred)) != TL_OK) {
                cli_fail_status(pred ? st : TL_ERR_NOMEM, "transfer estimate from '%s'", r->spec);
                goto done;
            }
            r->acc = tl_accuracy(tl_dataset_labels_const(lab), pred, nl);
            tl_learner_free(l);
            l = NULL;
        }
        tl_dataset_free(src);
        tl_dataset_free(tgt);
        tl_dataset_free(lab);
        src = tgt = lab = NULL;
    }
    double secs = cli_now() - t0;
    rank_by(rows, ns, offsetof(source_row, mmd), 1, offsetof(source_row, r_mmd));
    rank_by(rows, ns, offsetof(source_row, ad), 1, offsetof(source_row, r_ad));
    rank_by(rows, ns, offsetof(source_row, acc), 0, offsetof(source_row, r_acc));
    for (size_t k = 0; k < ns; k++) rows[k].rank = lab0 ? rows[k].r_acc : rows[k].r_mmd;
    const char *by = lab0 ? "transfer_accuracy" : "mmd_rbf";
    /* order of output: by final rank */
    size_t *ord = malloc(ns * sizeof *ord);
    if (!ord) goto done;
    for (size_t k = 0; k < ns; k++) ord[(size_t)rows[k].rank - 1] = k;
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "rank-sources");
        tl_json_str(&j, "target", t);
        if (tls) tl_json_str(&j, "target_labelled", tls);
        tl_json_str(&j, "ranked_by", by);
        tl_json_str(&j, "preprocess", cli_get(a, "preprocess"));
        tl_json_arr_begin(&j, "ranking");
        for (size_t q = 0; q < ns; q++) {
            const source_row *r = &rows[ord[q]];
            tl_json_obj_begin(&j, NULL);
            tl_json_int(&j, "rank", r->rank);
            tl_json_str(&j, "source", r->spec);
            tl_json_int(&j, "n", (long long)r->n);
            tl_json_num(&j, "mmd_rbf", r->mmd);
            tl_json_int(&j, "rank_mmd_rbf", r->r_mmd);
            if (want_ad) {
                tl_json_num(&j, "a_distance", r->ad);
                tl_json_int(&j, "rank_a_distance", r->r_ad);
            }
            if (lab0) {
                tl_json_num(&j, "transfer_accuracy", r->acc);
                tl_json_int(&j, "rank_transfer_accuracy", r->r_acc);
            }
            tl_json_obj_end(&j);
        }
        tl_json_arr_end(&j);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
    } else {
        printf("target %s%s%s; ranked by %s\n", t, tls ? ", labelled rows " : "", tls ? tls : "",
               lab0 ? "the transfer estimate (accuracy on the labelled target rows)"
                    : "RBF MMD (smaller = closer)");
        printf("%-4s  %-12s %-12s %-14s %s  source\n", "rank", "MMD^2 rbf", "A-distance",
               lab0 ? "transfer acc" : "", "");
        for (size_t q = 0; q < ns; q++) {
            const source_row *r = &rows[ord[q]];
            char ad[32] = "-", acc[32] = "";
            if (want_ad) snprintf(ad, sizeof ad, "%.3f (#%d)", r->ad, r->r_ad);
            if (lab0) snprintf(acc, sizeof acc, "%.2f%% (#%d)", 100 * r->acc, r->r_acc);
            printf("%-4d  %-12.5g %-12s %-14s   %s (%zu samples, MMD #%d)\n", r->rank, r->mmd, ad, acc,
                   r->spec, r->n, r->r_mmd);
        }
        printf("time %.3f s\n", secs);
        rc = 0;
    }
    free(ord);
done:
    tl_learner_free(l);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    tl_dataset_free(lab);
    tl_dataset_free(tgt0);
    tl_dataset_free(lab0);
    tl_free(pred);
    free(rows);
    return rc;
}

const cli_command cmd_rank_sources = {
    "rank-sources", "rank candidate source domains for a target (MMD, A-distance, transfer estimate)",
    "--target SPEC [--target-labelled SPEC] SOURCE_SPEC... [options]", rank_opts, run_rank, 0,
    "1nn"};
