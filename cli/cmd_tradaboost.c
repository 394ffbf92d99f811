/* `tl tradaboost`: TrAdaBoost (Dai et al. 2007) with a few labelled target samples, reported
 * beside the three baselines it must beat: the learner trained on the source only, on the
 * labelled target rows only, and on both pooled without reweighting. The labelled target rows come
 * from --target-labelled, or --labelled N draws N rows of --target (seeded) and scores the rest.
 * The negative-transfer guard (tl/guard.h) judges the source: feature correspondence with the
 * target (no labels), and the source-only model on the labelled rows against chance and against
 * a learner cross-validated on those rows alone. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "tl/guard.h"
#include "tl/instance.h"

static const cli_opt tradaboost_opts[] = {
    {"source", "SPEC", NULL, "labelled source domain"},
    {"target-labelled", "SPEC", NULL, "the few labelled target samples"},
    {"target", "SPEC", NULL, "target samples to score (labels used only to score)"},
    {"labelled", "N", "0", "instead of --target-labelled: draw N labelled rows from --target"},
    {"rounds", "N", "20", "boosting rounds (votes from rounds ceil(N/2)..N)"},
    {"allow-unknown-labels", NULL, NULL,
     "score target samples whose label the source lacks as errors instead of failing"},
    {"learner", "NAME", "logreg", "base learner: logreg, svm, ridge, 1nn, knn"},
    {"k", "K", "5", "neighbours for --learner knn"},
    {"C", "C", "1", "inverse regularisation for logreg and svm (sklearn's C)"},
    {"alpha", "A", "1", "ridge regularisation"},
    {"guard-margin", "M", "0.05", "guard: accuracy gap to the target-only learner counted as harm"},
    {"min-correspondence", "R", "0.1",
     "guard: feature-correlation agreement (Mantel r) below which the source counts as unrelated"},
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

/* Accuracy of a learner trained on (X, y) and tested on ev. */
static tl_status plain(const tl_learner_params *lp, tl_xmat X, const int *y, const tl_dataset *ev,
                       int *pred, double *acc) {
    tl_learner *l = NULL;
    tl_status st = tl_learner_create(lp, &l);
    if (st == TL_OK) st = tl_learner_fit(l, X, y, NULL);
    if (st == TL_OK) st = tl_learner_predict(l, tl_dataset_features(ev), pred);
    if (st == TL_OK) *acc = tl_accuracy(tl_dataset_labels_const(ev), pred, tl_dataset_rows(ev));
    tl_learner_free(l);
    return st;
}

/* Rows of a and then b as one dataset (features must agree in storage and width). */
static tl_status concat(const tl_dataset *a, const tl_dataset *b, tl_dataset **out) {
    size_t na = tl_dataset_rows(a), nb = tl_dataset_rows(b), d = tl_dataset_cols(a);
    *out = NULL;
    int *y = tl_malloc((na + nb) * sizeof *y);
    if (!y) return TL_ERR_NOMEM;
    memcpy(y, tl_dataset_labels_const(a), na * sizeof *y);
    memcpy(y + na, tl_dataset_labels_const(b), nb * sizeof *y);
    tl_status st;
    if (tl_dataset_is_sparse(a) && tl_dataset_is_sparse(b)) {
        tl_csr ca = tl_dataset_csr(a), cb = tl_dataset_csr(b);
        size_t nnz = ca.nnz + cb.nnz;
        size_t *ip = tl_malloc((na + nb + 1) * sizeof *ip);
        int32_t *ix = tl_malloc((nnz ? nnz : 1) * sizeof *ix);
        double *v = tl_malloc((nnz ? nnz : 1) * sizeof *v);
        st = ip && ix && v ? TL_OK : TL_ERR_NOMEM;
        if (st == TL_OK) {
            if (ca.nnz) memcpy(ix, ca.indices, ca.nnz * sizeof *ix), memcpy(v, ca.values, ca.nnz * sizeof *v);
            if (cb.nnz)
                memcpy(ix + ca.nnz, cb.indices, cb.nnz * sizeof *ix),
                    memcpy(v + ca.nnz, cb.values, cb.nnz * sizeof *v);
            for (size_t i = 0; i <= na; i++) ip[i] = ca.indptr[i];
            for (size_t i = 1; i <= nb; i++) ip[na + i] = ca.nnz + cb.indptr[i];
            tl_csr c = {na + nb, d, nnz, ip, ix, v};
            st = tl_dataset_from_csr(c, y, out);
        }
        tl_free(ip);
        tl_free(ix);
        tl_free(v);
    } else {
        tl_dataset *da = NULL, *db = NULL;
        st = tl_dataset_clone(a, &da);
        if (st == TL_OK) st = tl_dataset_clone(b, &db);
        if (st == TL_OK) st = tl_dataset_densify(da);
        if (st == TL_OK) st = tl_dataset_densify(db);
        if (st == TL_OK) st = tl_dataset_create_dense(na + nb, d, false, out);
        if (st == TL_OK) {
            tl_mat M = tl_dataset_dense(*out);
            st = tl_mat_copy(tl_mat_rows(M, 0, na), tl_dataset_dense(da));
            if (st == TL_OK) st = tl_mat_copy(tl_mat_rows(M, na, nb), tl_dataset_dense(db));
            if (st == TL_OK) st = tl_dataset_set_labels(*out, y);
        }
        tl_dataset_free(da);
        tl_dataset_free(db);
    }
    tl_free(y);
    if (st != TL_OK) {
        tl_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

static int run_tradaboost(cli_args *a) {
    if (a->npos) return cli_fail("unexpected argument '%s'", a->pos[0]);
    const char *s = cli_get(a, "source"), *tls = cli_get(a, "target-labelled"), *t = cli_get(a, "target");
    long rounds, nlab;
    uint64_t seed;
    if (!cli_get_long(a, "rounds", 1, 10000, &rounds) || !cli_get_long(a, "labelled", 0, 100000000, &nlab) ||
        !cli_get_u64(a, "seed", &seed))
        return 2;
    if (!s || !t || (!tls && nlab == 0) || (tls && nlab > 0))
        return cli_fail("needs --source, --target and either --target-labelled SPEC or --labelled N "
                        "(see 'tl help tradaboost')");
    tl_guard_params gp = tl_guard_params_default();
    if (!cli_get_double(a, "guard-margin", 0, 0.999, &gp.margin) ||
        !cli_get_double(a, "min-correspondence", -1, 1, &gp.min_correspondence))
        return 2;
    gp.seed = seed;
    tl_tradaboost_params tp = tl_tradaboost_params_default();
    tp.rounds = (size_t)rounds;
    if (!cli_learner_params(a, &tp.base)) return 2;
    gp.learner = tp.base; /* reverse validation with the boosted rounds' base learner */
    tl_dataset *src = NULL, *tgt = NULL, *lab = NULL, *ev = NULL, *both = NULL;
    size_t *idx = NULL;
    int *pred = NULL, *lpred = NULL, rc = 1;
    tl_tradaboost *model = NULL;
    if (cli_load(a, s, &src) != TL_OK || cli_load(a, t, &tgt) != TL_OK ||
        (tls && cli_load(a, tls, &lab) != TL_OK))
        goto done;
    if (tl_dataset_rows(src) == 0 || tl_dataset_rows(tgt) == 0 || (lab && tl_dataset_rows(lab) == 0)) {
        cli_fail("'%s' is empty", tl_dataset_rows(src) == 0 ? s : tl_dataset_rows(tgt) == 0 ? t : tls);
        goto done;
    }
    if (!tl_dataset_has_labels(tgt)) {
        cli_fail("'%s' has no labels: accuracy (and --labelled) need a labelled target", t);
        goto done;
    }
    if (cli_align_features(src, tgt) != TL_OK || (lab && (cli_align_features(tgt, lab) != TL_OK ||
                                                          cli_align_features(src, tgt) != TL_OK)))
        goto done;
    {
        /* the labelled rows belong to the target domain: they reuse its scaling statistics */
        tl_dataset *all[3] = {src, tgt, lab};
        int test_of[3] = {-1, -1, 1};
        if (cli_preprocess(a, all, test_of, lab ? 3 : 2) != TL_OK) goto done;
    }
    if (nlab > 0) {
        size_t nt = tl_dataset_rows(tgt);
        if ((size_t)nlab >= nt) {
            cli_fail("--labelled %ld leaves no target rows to score ('%s' has %zu)", nlab, t, nt);
            goto done;
        }
        idx = tl_malloc(nt * sizeof *idx);
        if (!idx) goto done;
        for (size_t i = 0; i < nt; i++) idx[i] = i;
        tl_rng r;
        tl_rng_seed(&r, seed);
        tl_rng_shuffle(&r, idx, nt);
        if (tl_dataset_subset(tgt, idx, (size_t)nlab, &lab) != TL_OK ||
            tl_dataset_subset(tgt, idx + nlab, nt - (size_t)nlab, &ev) != TL_OK) {
            cli_fail_status(TL_ERR_NOMEM, "splitting '%s'", t);
            goto done;
        }
    }
    const tl_dataset *eval = ev ? ev : tgt;
    if (!tl_dataset_has_labels(lab)) {
        cli_fail("'%s' has no labels: TrAdaBoost needs labelled target rows", tl_dataset_name(lab));
        goto done;
    }
    if (cli_check_label_overlap(a, src, eval) != 0) goto done;
    size_t ne = tl_dataset_rows(eval);
    pred = tl_malloc(ne * sizeof *pred);
    if (!pred) goto done;
    double acc_src, acc_lab, acc_both, t0 = cli_now();
    tl_status st = plain(&tp.base, tl_dataset_features(src), tl_dataset_labels_const(src), eval, pred, &acc_src);
    if (st == TL_OK)
        st = plain(&tp.base, tl_dataset_features(lab), tl_dataset_labels_const(lab), eval, pred, &acc_lab);
    if (st == TL_OK) st = concat(src, lab, &both);
    if (st == TL_OK)
        st = plain(&tp.base, tl_dataset_features(both), tl_dataset_labels_const(both), eval, pred, &acc_both);
    if (st != TL_OK) {
        cli_fail_status(st, "baselines");
        goto done;
    }
    double tb = cli_now();
    cli_info(a, "TrAdaBoost: %ld rounds of %s on %zu source + %zu labelled target samples...", rounds,
             tl_learner_name(tp.base.type), tl_dataset_rows(src), tl_dataset_rows(lab));
    st = tl_tradaboost_fit(&tp, tl_dataset_features(src), tl_dataset_labels_const(src),
                           tl_dataset_features(lab), tl_dataset_labels_const(lab), &model);
    if (st == TL_OK) st = tl_tradaboost_predict(model, tl_dataset_features(eval), pred);
    if (st != TL_OK) {
        cli_fail_status(st, "tradaboost");
        goto done;
    }
    cli_eval e;
    if ((st = cli_evaluate(tl_dataset_labels_const(eval), pred, ne, &e)) != TL_OK) {
        cli_fail_status(st, "scoring");
        goto done;
    }
    double tnow = cli_now();
    /* the guard: does the source correspond to the target, and is a source-only model better
     * than chance and than the labelled rows alone on those rows? */
    tl_guard_labelled_report lrep;
    double corr = NAN, corr_p = NAN, lab_to = NAN, lab_src = NAN;
    size_t nl = tl_dataset_rows(lab);
    const int *yl = tl_dataset_labels_const(lab);
    lpred = tl_malloc(nl * sizeof *lpred);
    st = lpred ? tl_guard_correspondence(&gp, tl_dataset_features(src), tl_dataset_features(tgt),
                                         &corr, &corr_p)
               : TL_ERR_NOMEM;
    if (st == TL_OK) {
        tl_learner *l = NULL;
        st = tl_learner_create(&tp.base, &l);
        if (st == TL_OK) st = tl_learner_fit(l, tl_dataset_features(src), tl_dataset_labels_const(src), NULL);
        if (st == TL_OK) st = tl_learner_predict(l, tl_dataset_features(lab), lpred);
        tl_learner_free(l);
    }
    if (st == TL_OK && nl >= 4)
        st = tl_cross_validate(&tp.base, tl_dataset_features(lab), yl, NULL, nl < 5 ? nl : 5, seed,
                               &lab_to, NULL);
    if (st == TL_OK) st = tl_guard_labelled(&gp, yl, lpred, nl, lab_to, &lrep);
    if (st != TL_OK) {
        cli_fail_status(st, "negative-transfer guard");
        goto done;
    }
    lab_src = lrep.accuracy;
    bool unrelated = corr < gp.min_correspondence, negative = unrelated || lrep.harmful;
    if (unrelated)
        cli_warn("negative transfer likely: the source looks unrelated: its feature correlations "
                 "do not match the target's (Mantel r = %.3f < %.2f, permutation p = %.2g)",
                 corr, gp.min_correspondence, corr_p);
    if (lrep.harmful) cli_warn("negative transfer likely: %s", lrep.reason);
    if (cli_flag(a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        cli_json_str(&j, "command", "tradaboost");
        cli_json_str(&j, "source", tl_dataset_name(src));
        cli_json_str(&j, "target", tl_dataset_name(tgt));
        cli_json_str(&j, "learner", tl_learner_name(tp.base.type));
        cli_json_str(&j, "preprocess", cli_get(a, "preprocess"));
        cli_json_int(&j, "rounds", rounds);
        cli_json_int(&j, "n_source", (long long)tl_dataset_rows(src));
        cli_json_int(&j, "n_labelled", (long long)tl_dataset_rows(lab));
        cli_json_int(&j, "n_eval", (long long)ne);
        cli_json_num(&j, "accuracy", e.accuracy);
        cli_json_num(&j, "balanced_accuracy", e.balanced_accuracy);
        cli_json_num(&j, "macro_f1", e.macro_f1);
        cli_json_num(&j, "baseline_accuracy", acc_src);
        cli_json_num(&j, "target_only_accuracy", acc_lab);
        cli_json_num(&j, "combined_accuracy", acc_both);
        cli_json_bool(&j, "negative_transfer", negative);
        cli_json_bool(&j, "worse_than_baseline", e.accuracy < acc_src || e.accuracy < acc_lab);
        cli_json_obj_begin(&j, "guard");
        cli_json_num(&j, "correspondence", corr);
        cli_json_num(&j, "correspondence_p", corr_p);
        cli_json_bool(&j, "unrelated_source", unrelated);
        cli_json_num(&j, "labelled_source_accuracy", lab_src);
        cli_json_num(&j, "labelled_chance", lrep.chance);
        cli_json_num(&j, "p_above_chance", lrep.p_above_chance);
        cli_json_num(&j, "labelled_target_only_cv_accuracy", lab_to);
        cli_json_bool(&j, "labelled_harmful", lrep.harmful);
        cli_json_str(&j, "reason", lrep.reason);
        cli_json_obj_end(&j);
        cli_json_num(&j, "seconds", tnow - tb);
        cli_json_num(&j, "baseline_seconds", tb - t0);
        rc = cli_json_finish(&j);
        goto done;
    }
    printf("%-24s %s (%zu samples)\n", "source", tl_dataset_name(src), tl_dataset_rows(src));
    printf("%-24s %s (%zu samples)\n", "labelled target", nlab ? "drawn from the target" : tl_dataset_name(lab),
           tl_dataset_rows(lab));
    printf("%-24s %s (%zu samples)\n", "scored on", tl_dataset_name(eval), ne);
    printf("%-24s %s, %ld rounds, preprocess %s\n", "base learner", tl_learner_name(tp.base.type), rounds,
           cli_get(a, "preprocess"));
    printf("%-24s %.2f %%   (balanced %.2f %%, macro-F1 %.2f %%)\n", "TrAdaBoost", 100 * e.accuracy,
           100 * e.balanced_accuracy, 100 * e.macro_f1);
    printf("%-24s %.2f %%\n", "source only", 100 * acc_src);
    printf("%-24s %.2f %%\n", "labelled target only", 100 * acc_lab);
    printf("%-24s %.2f %%\n", "source + target pooled", 100 * acc_both);
    printf("%-24s feature correspondence r = %.3f (p = %.2g)%s\n", "guard (no labels)", corr, corr_p,
           unrelated ? ": the source looks unrelated" : "");
    printf("%-24s %s\n", "guard (labelled)", lrep.reason);
    printf("%-24s %s\n", "negative transfer", negative ? "LIKELY" : "not detected");
    printf("%-24s %.3f s (baselines %.3f s)\n", "time", tnow - tb, tb - t0);
    rc = 0;
done:
    tl_tradaboost_free(model);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    tl_dataset_free(lab);
    tl_dataset_free(ev);
    tl_dataset_free(both);
    tl_free(idx);
    tl_free(pred);
    tl_free(lpred);
    return rc;
}

const cli_command cmd_tradaboost = {
    "tradaboost", "TrAdaBoost with a few labelled target samples vs its baselines",
    "--source SPEC --target SPEC (--target-labelled SPEC | --labelled N) [options]",
    tradaboost_opts, run_tradaboost};
