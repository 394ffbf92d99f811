/* `tl adapt`: feature-based transfer. Fits a mapping (PCA, CORAL, SA, GFK, TCA, JDA, BDA, feature
 * augmentation) on the labelled source and the unlabelled target, trains the learner in the
 * adapted space on the source, predicts the target, and reports the result next to the
 * no-transfer baseline with the same learner. Optionally saves the fitted mapping and the
 * embedded data. Every result carries the negative-transfer guard (tl/guard.h): the label-free
 * check (feature correspondence, reverse validation, MMD before/after), and with labelled target
 * rows (--target-labelled, or --labelled-per-class K carved out of the target and left unscored)
 * the check of the transferred source model on those rows against chance and a target-only
 * learner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tl/feature.h"
#include "tl/guard.h"

static const cli_opt adapt_opts[] = {
    {"method", "NAME", "jda", "pca, coral, sa, gfk, tca, jda, bda, augment"},
    CLI_DOMAIN_OPTS,
    {"target-labelled", "SPEC", NULL, "labelled target rows (augment; also trains a target-only baseline)"},
    {"labelled-per-class", "K", "0",
     "instead of --target-labelled: draw K labelled rows per class from --target (seeded); they "
     "are not scored"},
    {"dim", "K", "auto", "subspace dimension (auto: 100; SA 30, GFK 20, as published)"},
    {"lambda", "L", "1", "TCA/JDA/BDA regularisation"},
    {"kernel", "K", "primal", "primal, linear, rbf, poly"},
    {"gamma", "G", "0", "kernel gamma (0: median heuristic for rbf, 1/d for poly)"},
    {"degree", "P", "2", "poly kernel degree"},
    {"lowrank", "MODE", "auto", "kernel forms: auto, none (exact), nystrom, rff"},
    {"landmarks", "M", "1000", "Nystrom landmarks / random features"},
    {"iters", "T", "10", "JDA/BDA pseudo-label iterations"},
    {"mu", "M", "0.5", "BDA balance in [0,1]; -1 estimates it from the data"},
    {"save", "MODEL", NULL, "save the fitted mapping (.tlm) for 'tl transform'"},
    {"guard-margin", "M", "0.05",
     "guard: reverse-validation drop, and gap to the target-only learner, counted as harm"},
    {"min-correspondence", "R", "0.1",
     "guard: feature-correlation agreement (Mantel r) below which the source counts as unrelated"},
    {"out-source", "FILE", NULL, "write the embedded source (csv, svmlight or npy)"},
    {"out-target", "FILE", NULL, "write the embedded target"},
    CLI_LEARNER_OPTS,
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

static bool adapt_params(const cli_args *a, tl_adapt_params *p) {
    tl_adapt_method m;
    const char *name = cli_get(a, "method");
    if (tl_adapt_method_parse(name, &m) != TL_OK) {
        cli_fail("--method: %s", tl_error_message());
        return false;
    }
    *p = tl_adapt_params_default(m);
    long dim, iters, landmarks, degree;
    double lambda, gamma, mu;
    uint64_t seed;
    if (cli_given(a, "dim")) {
        if (!cli_get_long(a, "dim", 1, 1000000, &dim)) return false;
        p->dim = (size_t)dim;
    }
    if (!cli_get_double(a, "lambda", 0, 1e12, &lambda) || !cli_get_long(a, "iters", 0, 10000, &iters) ||
        !cli_get_double(a, "gamma", 0, 1e12, &gamma) || !cli_get_double(a, "mu", -1, 1, &mu) ||
        !cli_get_long(a, "landmarks", 1, 100000000, &landmarks) ||
        !cli_get_long(a, "degree", 1, 20, &degree) || !cli_get_u64(a, "seed", &seed))
        return false;
    p->lambda = lambda;
    p->iters = (int)iters;
    p->mu = mu;
    p->landmarks = (size_t)landmarks;
    p->seed = seed;
    const char *k = cli_get(a, "kernel");
    if (strcmp(k, "primal") == 0) {
        p->form = TL_ADAPT_PRIMAL;
    } else {
        tl_kernel_type kt;
        if (tl_kernel_type_parse(k, &kt) != TL_OK) {
            cli_fail("--kernel: '%s' is not one of primal, linear, rbf, poly", k);
            return false;
        }
        p->form = TL_ADAPT_KERNEL;
        p->kernel = tl_kernel_default(kt);
        p->kernel.gamma = gamma;
        p->kernel.degree = (int)degree;
    }
    const char *lr = cli_get(a, "lowrank");
    if (strcmp(lr, "auto") == 0) p->lowrank = TL_LOWRANK_AUTO;
    else if (strcmp(lr, "none") == 0) p->lowrank = TL_LOWRANK_NONE;
    else if (strcmp(lr, "nystrom") == 0) p->lowrank = TL_LOWRANK_NYSTROM;
    else if (strcmp(lr, "rff") == 0) p->lowrank = TL_LOWRANK_RFF;
    else {
        cli_fail("--lowrank: '%s' is not one of auto, none, nystrom, rff", lr);
        return false;
    }
    return true;
}

/* Train `lp` on (Xs, ys) and score it on (Xe, ye); keep (Xe.rows) receives the predictions
 * when not NULL. */
static tl_status train_and_score(const tl_learner_params *lp, tl_mat Xs, const int *ys,
                                 const double *w, tl_mat Xe, const int *ye, double *acc,
                                 int *keep) {
    tl_learner *l = NULL;
    int *pred = keep ? keep : tl_malloc((Xe.rows ? Xe.rows : 1) * sizeof *pred);
    tl_status st = pred ? tl_learner_create(lp, &l) : TL_ERR_NOMEM;
    if (st == TL_OK) st = tl_learner_fit(l, tl_xmat_from_dense(Xs), ys, w);
    if (st == TL_OK) st = tl_learner_predict(l, tl_xmat_from_dense(Xe), pred);
    if (st == TL_OK) *acc = tl_accuracy(ye, pred, Xe.rows);
    tl_learner_free(l);
    if (!keep) tl_free(pred);
    return st;
}

static int cmp_index(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* --labelled-per-class K: a seeded draw of up to K rows of each class of t into *lab, the other
 * rows into *rest (when rest is not NULL). Prints and returns non-zero on failure. */
static int carve_labelled(const tl_dataset *t, size_t k, uint64_t seed, tl_dataset **lab,
                          tl_dataset **rest) {
    size_t n = tl_dataset_rows(t), c = 0, nl = 0, nr = 0;
    const int *y = tl_dataset_labels_const(t);
    if (!y) return cli_fail("--labelled-per-class needs a labelled target ('%s' has no labels)",
                            tl_dataset_name(t));
    int *cls = NULL;
    size_t *idx = tl_malloc(n * sizeof *idx), *li = tl_malloc(n * sizeof *li),
           *ri = tl_malloc(n * sizeof *ri), *taken = NULL;
    tl_status st = idx && li && ri ? tl_labels_unique(y, n, &cls, NULL, &c) : TL_ERR_NOMEM;
    if (st == TL_OK) {
        taken = tl_calloc(c, sizeof *taken);
        if (!taken) st = TL_ERR_NOMEM;
    }
    if (st == TL_OK) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        tl_rng r;
        tl_rng_seed(&r, seed);
        tl_rng_shuffle(&r, idx, n);
        for (size_t i = 0; i < n; i++) {
            long q = tl_labels_index(cls, c, y[idx[i]]);
            if (taken[q] < k) taken[q]++, li[nl++] = idx[i];
            else ri[nr++] = idx[i];
        }
        qsort(li, nl, sizeof *li, cmp_index);
        qsort(ri, nr, sizeof *ri, cmp_index);
        if (rest && nr == 0) {
            tl_free(idx), tl_free(li), tl_free(ri), tl_free(cls), tl_free(taken);
            return cli_fail("--labelled-per-class %zu takes every row of '%s': none is left to score",
                            k, tl_dataset_name(t));
        }
        st = tl_dataset_subset(t, li, nl, lab);
        if (st == TL_OK && rest) st = tl_dataset_subset(t, ri, nr, rest);
    }
    tl_free(idx);
    tl_free(li);
    tl_free(ri);
    tl_free(cls);
    tl_free(taken);
    if (st != TL_OK) return cli_fail_status(st, "drawing labelled rows from '%s'", tl_dataset_name(t));
    return 0;
}

static tl_status write_embedding(const char *path, tl_mat Z, const int *y) {
    tl_dataset *ds = NULL;
    tl_status st = tl_dataset_from_dense(Z, y, &ds);
    if (st == TL_OK) st = tl_dataset_save(ds, path, TL_FORMAT_AUTO, 1);
    tl_dataset_free(ds);
    return st;
}

static int run_adapt(cli_args *a) {
    if (a->npos) return cli_fail("unexpected argument '%s'", a->pos[0]);
    tl_adapt_params ap;
    tl_learner_params lp;
    if (!adapt_params(a, &ap) || !cli_learner_params(a, &lp)) return 2;
    cli_domains d;
    tl_dataset *lab = NULL;
    tl_adapter *ad = NULL;
    tl_mat Zs = {0}, Ze = {0}, Zl = {0}, Zsl = {0}, Zt_own = {0}, Zt;
    int *ysl = NULL, *lab_pred = NULL;
    int rc = 1;
    long per_class;
    double margin, min_corr;
    if (!cli_get_long(a, "labelled-per-class", 0, 100000000, &per_class) ||
        !cli_get_double(a, "guard-margin", 0, 0.999, &margin) ||
        !cli_get_double(a, "min-correspondence", -1, 1, &min_corr))
        return 2;
    if (per_class > 0 && cli_given(a, "target-labelled"))
        return cli_fail("--labelled-per-class and --target-labelled exclude each other") + 1;
    if (cli_load_domains(a, &d) != 0) return 1;
    if (per_class > 0 && carve_labelled(d.target, (size_t)per_class, ap.seed, &d.labelled,
                                        d.test ? NULL : &d.test) != 0)
        goto done;
    tl_dataset *ev = cli_eval_set(&d);
    lab = d.labelled;
    if (ap.method == TL_ADAPT_AUGMENT && !lab) {
        cli_fail("--method augment needs labelled target rows (--target-labelled SPEC)");
        goto done;
    }
    tl_dataset *sets[4] = {d.source, d.target, d.test, lab};
    for (int i = 0; i < 4; i++)
        if (sets[i] && tl_dataset_densify(sets[i]) != TL_OK) {
            cli_fail_status(TL_ERR_NOMEM, "densifying '%s'", tl_dataset_name(sets[i]));
            goto done;
        }
    tl_mat Xs = tl_dataset_dense(d.source), Xt = tl_dataset_dense(d.target),
           Xe = tl_dataset_dense(ev);
    const int *ys = tl_dataset_labels_const(d.source), *ye = tl_dataset_labels_const(ev);
    tl_status st = tl_adapt_params_check(&ap, Xs.cols, Xs.rows + Xt.rows);
    if (st != TL_OK) {
        rc = cli_fail_status(st, "--method %s", tl_adapt_method_name(ap.method)) + 1;
        goto done;
    }
    double t0 = cli_now();
    double base_acc = NAN, target_only_acc = NAN, acc = NAN;
    st = train_and_score(&lp, Xs, ys, tl_dataset_weights(d.source), Xe, ye, &base_acc, NULL);
    if (st != TL_OK) {
        cli_fail_status(st, "baseline");
        goto done;
    }
    double t_base = cli_now() - t0;
    if (lab) {
        st = train_and_score(&lp, tl_dataset_dense(lab), tl_dataset_labels_const(lab), NULL, Xe,
                             ye, &target_only_acc, NULL);
        if (st != TL_OK) {
            cli_fail_status(st, "target-only baseline");
            goto done;
        }
    }
    t0 = cli_now();
    if (ap.method == TL_ADAPT_AUGMENT)
        st = tl_adapt_fit(&ap, Xs, ys, tl_dataset_dense(lab), tl_dataset_labels_const(lab), &ad);
    else
        st = tl_adapt_fit(&ap, Xs, ys, Xt, NULL, &ad);
    if (st != TL_OK) {
        cli_fail_status(st, "fitting %s", tl_adapt_method_name(ap.method));
        goto done;
    }
    st = tl_adapter_transform(ad, TL_DOMAIN_SOURCE, Xs, &Zs);
    if (st == TL_OK) st = tl_adapter_transform(ad, TL_DOMAIN_TARGET, Xe, &Ze);
    if (st == TL_OK && lab) {
        /* a labelled target joins the training set in the adapted space */
        tl_mat Xl = tl_dataset_dense(lab);
        st = tl_adapter_transform(ad, TL_DOMAIN_TARGET, Xl, &Zl);
        if (st == TL_OK) st = tl_mat_alloc(&Zsl, Zs.rows + Zl.rows, Zs.cols);
        if (st == TL_OK) {
            ysl = tl_malloc((Zs.rows + Zl.rows) * sizeof *ysl);
            if (!ysl) st = TL_ERR_NOMEM;
        }
        if (st == TL_OK) {
            tl_mat_copy(tl_mat_rows(Zsl, 0, Zs.rows), Zs);
            tl_mat_copy(tl_mat_rows(Zsl, Zs.rows, Zl.rows), Zl);
            memcpy(ysl, ys, Zs.rows * sizeof *ysl);
            memcpy(ysl + Zs.rows, tl_dataset_labels_const(lab), Zl.rows * sizeof *ysl);
        }
    }
    if (st != TL_OK) {
        cli_fail_status(st, "transforming with %s", tl_adapt_method_name(ap.method));
        goto done;
    }
    st = lab ? train_and_score(&lp, Zsl, ysl, NULL, Ze, ye, &acc, NULL)
             : train_and_score(&lp, Zs, ys, tl_dataset_weights(d.source), Ze, ye, &acc, NULL);
    double t_adapt = cli_now() - t0;
    if (st != TL_OK) {
        cli_fail_status(st, "learning in the adapted space");
        goto done;
    }
    const char *save = cli_get(a, "save");
    if (save && (st = tl_adapter_save(ad, save)) != TL_OK) {
        cli_fail_status(st, "saving the model to '%s'", save);
        goto done;
    }
    const char *os = cli_get(a, "out-source"), *ot = cli_get(a, "out-target");
    if (os && (st = write_embedding(os, Zs, ys)) != TL_OK) {
        cli_fail_status(st, "writing '%s'", os);
        goto done;
    }
    if (ot && (st = write_embedding(ot, Ze, ye)) != TL_OK) {
        cli_fail_status(st, "writing '%s'", ot);
        goto done;
    }
    /* When to transfer: the guard judges without target labels (feature correspondence,
     * reverse validation and domain distance before/after); with labelled target rows it also
     * checks the transferred source model on those rows against chance and a target-only
     * learner (cross-validated on the same rows). */
    tl_guard_params gp = tl_guard_params_default();
    gp.learner = lp; /* reverse validation judges the model the user gets, not a stand-in */
    gp.margin = margin;
    gp.min_correspondence = min_corr;
    gp.seed = ap.seed;
    tl_guard_report rep;
    tl_guard_labelled_report lrep;
    memset(&lrep, 0, sizeof lrep);
    if (ev == d.target) {
        Zt = Ze;
    } else if ((st = tl_adapter_transform(ad, TL_DOMAIN_TARGET, Xt, &Zt_own)) != TL_OK) {
        cli_fail_status(st, "transforming the target");
        goto done;
    } else {
        Zt = Zt_own;
    }
    st = tl_guard_check(&gp, tl_xmat_from_dense(Xs), ys, tl_xmat_from_dense(Xt),
                        tl_xmat_from_dense(Zs), NULL, tl_xmat_from_dense(Zt), &rep);
    if (st != TL_OK) {
        cli_fail_status(st, "negative-transfer guard");
        goto done;
    }
    double lab_transfer = NAN, lab_target_only = NAN;
    bool lab_harm = false;
    if (lab) {
        size_t nl = tl_dataset_rows(lab);
        const int *yl = tl_dataset_labels_const(lab);
        lab_pred = tl_malloc((nl ? nl : 1) * sizeof *lab_pred);
        st = lab_pred ? train_and_score(&lp, Zs, ys, tl_dataset_weights(d.source), Zl, yl,
                                        &lab_transfer, lab_pred)
                      : TL_ERR_NOMEM;
        if (st == TL_OK && nl >= 4) {
            size_t folds = nl < 5 ? nl : 5;
            st = tl_cross_validate(&lp, tl_dataset_features(lab), yl, NULL, folds, ap.seed,
                                   &lab_target_only, NULL);
        }
        if (st == TL_OK) st = tl_guard_labelled(&gp, yl, lab_pred, nl, lab_target_only, &lrep);
        if (st != TL_OK) {
            cli_fail_status(st, "checking the transfer on the labelled target rows");
            goto done;
        }
        lab_harm = lrep.harmful;
    }
    bool negative = rep.verdict == TL_GUARD_HARMFUL || lab_harm;
    bool measured_negative = acc < base_acc;
    const char *mname = tl_adapt_method_name(ap.method);
    if (negative)
        cli_warn("negative transfer likely: %s%s%s", rep.verdict == TL_GUARD_HARMFUL ? rep.reason : "",
                 rep.verdict == TL_GUARD_HARMFUL && lab_harm ? "; " : "",
                 lab_harm ? lrep.reason : "");
    if (measured_negative)
        cli_warn("%s did worse than the no-transfer baseline on the scored target (%.2f %% < "
                 "%.2f %%)", mname, 100 * acc, 100 * base_acc);
    if (cli_flag(a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        cli_json_str(&j, "command", "adapt");
        cli_json_str(&j, "method", mname);
        cli_json_str(&j, "source", tl_dataset_name(d.source));
        cli_json_str(&j, "target", tl_dataset_name(ev));
        cli_json_str(&j, "learner", cli_learner_label(&lp));
        cli_json_int(&j, "dim", (long long)tl_adapter_dim(ad));
        cli_json_num(&j, "accuracy", acc);
        cli_json_num(&j, "baseline_accuracy", base_acc);
        if (lab) cli_json_num(&j, "target_only_accuracy", target_only_acc);
        cli_json_num(&j, "gain", acc - base_acc);
        cli_json_bool(&j, "negative_transfer", negative);
        cli_json_bool(&j, "worse_than_baseline", measured_negative);
        cli_json_obj_begin(&j, "guard");
        cli_json_str(&j, "verdict", tl_guard_verdict_name(rep.verdict));
        cli_json_str(&j, "reason", rep.reason);
        cli_json_num(&j, "mmd_before", rep.mmd_before);
        cli_json_num(&j, "mmd_after", rep.mmd_after);
        cli_json_num(&j, "reverse_validation_before", rep.rv_before);
        cli_json_num(&j, "reverse_validation_after", rep.rv_after);
        cli_json_num(&j, "agreement", rep.agreement);
        cli_json_num(&j, "correspondence", rep.correspondence);
        cli_json_num(&j, "correspondence_p", rep.correspondence_p);
        cli_json_bool(&j, "unrelated_source", rep.unrelated);
        cli_json_num(&j, "prediction_entropy", rep.prediction_entropy);
        if (lab) {
            cli_json_num(&j, "labelled_transfer_accuracy", lab_transfer);
            cli_json_num(&j, "labelled_target_only_cv_accuracy", lab_target_only);
            cli_json_obj_begin(&j, "labelled");
            cli_json_int(&j, "n", (long long)lrep.n);
            cli_json_num(&j, "accuracy", lrep.accuracy);
            cli_json_num(&j, "chance", lrep.chance);
            cli_json_num(&j, "p_above_chance", lrep.p_above_chance);
            cli_json_num(&j, "target_only_cv_accuracy", lrep.target_only);
            cli_json_num(&j, "z_vs_target_only", lrep.z_vs_target_only);
            cli_json_bool(&j, "harmful", lrep.harmful);
            cli_json_str(&j, "reason", lrep.reason);
            cli_json_obj_end(&j);
        }
        cli_json_obj_end(&j);
        cli_json_num(&j, "seconds", t_adapt);
        cli_json_num(&j, "baseline_seconds", t_base);
        rc = cli_json_finish(&j);
    } else {
        printf("%-22s %s -> %s\n", "task", tl_dataset_name(d.source), tl_dataset_name(ev));
        printf("%-22s %s (dim %zu), learner %s\n", "method", mname, tl_adapter_dim(ad),
               cli_learner_label(&lp));
        printf("%-22s %.2f %%  (%.2f s)\n", "no transfer", 100 * base_acc, t_base);
        if (lab) printf("%-22s %.2f %%\n", "target only", 100 * target_only_acc);
        printf("%-22s %.2f %%  (%.2f s)\n", mname, 100 * acc, t_adapt);
        printf("%-22s %+.2f points%s\n", "gain", 100 * (acc - base_acc),
               measured_negative ? "  <- worse than no transfer" : "");
        printf("%-22s %s: %s\n", "guard (no labels)", tl_guard_verdict_name(rep.verdict),
               rep.reason);
        if (lab) printf("%-22s %s: %s\n", "guard (labelled)", lrep.harmful ? "harmful" : "ok", lrep.reason);
        printf("%-22s %s\n", "negative transfer", negative ? "LIKELY" : "not detected");
        rc = 0;
    }
done:
    tl_mat_free(&Zs);
    tl_mat_free(&Ze);
    tl_mat_free(&Zl);
    tl_mat_free(&Zsl);
    tl_mat_free(&Zt_own);
    tl_free(ysl);
    tl_free(lab_pred);
    tl_adapter_free(ad);
    cli_domains_free(&d);
    return rc;
}

const cli_command cmd_adapt = {
    "adapt", "feature-based transfer (PCA, CORAL, SA, GFK, TCA, JDA, BDA, augment) vs the baseline",
    "--method M --source SPEC --target SPEC [options]", adapt_opts, run_adapt};
