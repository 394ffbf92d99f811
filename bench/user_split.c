/* user_split: where the time of one `tl adapt` goes, per stage, measured in one process on the
 * same inputs and with the same parameters as the command (cli/cmd_adapt.c): loading and
 * preprocessing, the no-transfer baseline, the method (fit + transform + learner: the command's
 * JSON "seconds") and the negative-transfer guard (tl_guard_check with the command's defaults:
 * the learner the user gets, margin 0.05, min-correspondence 0.1, seed 42). The command itself
 * reports no guard time (and has no switch to leave the guard out), so bench/user_path.sh takes
 * the guard's share from here, next to the whole-process wall times it measures on `tl`.
 *
 *   user_split DATA_DIR [R]     the 12 Office+Caltech SURF JDA tasks (rowsum,zscore,l2, 1-NN),
 *                               best of R runs per stage (default 3); one JSON line per task:
 *   {"task":"C->A","accuracy":..,"load":s,"baseline":s,"method":s,"guard":s,"verdict":".."}
 * The accuracy must equal the command's (the script checks it). */
#define BENCH_NAME "user_split"
#include <string.h>

#include "bench_util.h"
#include "tl.h"
#include "tl/guard.h"

static const char *names[4] = {"caltech", "amazon", "webcam", "dslr"};
static const char *abbr[4] = {"C", "A", "W", "D"};

static tl_dataset *load(const char *dir, int dom, const tl_preprocess *pp) {
    char path[1024];
    snprintf(path, sizeof path, "%s/office_caltech10_surf/%s_SURF_L10.mat", dir, names[dom]);
    tl_load_opts o = tl_load_opts_default();
    tl_dataset *d = NULL;
    tl_scaler *sc = NULL;
    FAIL_IF(tl_dataset_load(path, &o, &d));
    FAIL_IF(tl_scaler_fit(pp, d, &sc)); /* per domain, as --preprocess-fit domain */
    FAIL_IF(tl_scaler_apply(sc, d));
    tl_scaler_free(sc);
    return d;
}

static double train_score(const tl_learner_params *lp, tl_mat Xs, const int *ys, tl_mat Xe,
                          const int *ye) {
    tl_learner *l = NULL;
    int *pred = malloc(Xe.rows * sizeof *pred);
    if (!pred) die("out of memory");
    FAIL_IF(tl_learner_create(lp, &l));
    FAIL_IF(tl_learner_fit(l, tl_xmat_from_dense(Xs), ys, NULL));
    FAIL_IF(tl_learner_predict(l, tl_xmat_from_dense(Xe), pred));
    double acc = tl_accuracy(ye, pred, Xe.rows);
    tl_learner_free(l);
    free(pred);
    return acc;
}

int main(int argc, char **argv) {
    bench_host_setup();
    if (argc < 2) die("usage: user_split DATA_DIR [R]");
    const char *dir = argv[1];
    size_t R = argc > 2 ? parse_size(argv[2]) : 3;
    if (R < 1) R = 1;
    tl_preprocess pp;
    FAIL_IF(tl_preprocess_parse("rowsum,zscore,l2", &pp));
    tl_learner_params lp = tl_learner_params_default(TL_LEARNER_KNN);
    FAIL_IF(tl_learner_parse("1nn", &lp));
    for (int s = 0; s < 4; s++)
        for (int t = 0; t < 4; t++) {
            if (s == t) continue;
            double best[4] = {1e30, 1e30, 1e30, 1e30}, acc = 0;
            tl_guard_report rep;
            for (size_t r = 0; r < R; r++) {
                double t0 = bench_now();
                tl_dataset *S = load(dir, s, &pp), *T = load(dir, t, &pp);
                double t_load = bench_now() - t0;
                tl_mat Xs = tl_dataset_dense(S), Xt = tl_dataset_dense(T);
                const int *ys = tl_dataset_labels_const(S), *yt = tl_dataset_labels_const(T);
                t0 = bench_now();
                (void)train_score(&lp, Xs, ys, Xt, yt);
                double t_base = bench_now() - t0;
                tl_adapt_params ap = tl_adapt_params_default(TL_ADAPT_JDA);
                tl_adapter *ad = NULL;
                tl_mat Zs = {0, 0, 0, NULL}, Zt = {0, 0, 0, NULL};
                t0 = bench_now();
                FAIL_IF(tl_adapt_fit(&ap, Xs, ys, Xt, NULL, &ad));
                FAIL_IF(tl_adapter_transform(ad, TL_DOMAIN_SOURCE, Xs, &Zs));
                FAIL_IF(tl_adapter_transform(ad, TL_DOMAIN_TARGET, Xt, &Zt));
                acc = train_score(&lp, Zs, ys, Zt, yt);
                double t_method = bench_now() - t0;
                tl_guard_params gp = tl_guard_params_default();
                gp.learner = lp;
                gp.margin = 0.05;
                gp.min_correspondence = 0.1;
                gp.seed = ap.seed;
                t0 = bench_now();
                FAIL_IF(tl_guard_check(&gp, tl_xmat_from_dense(Xs), ys, tl_xmat_from_dense(Xt),
                                       tl_xmat_from_dense(Zs), NULL, tl_xmat_from_dense(Zt), &rep));
                double t_guard = bench_now() - t0;
                double v[4] = {t_load, t_base, t_method, t_guard};
                for (int k = 0; k < 4; k++)
                    if (v[k] < best[k]) best[k] = v[k];
                tl_mat_free(&Zs);
                tl_mat_free(&Zt);
                tl_adapter_free(ad);
                tl_dataset_free(S);
                tl_dataset_free(T);
            }
            printf("{\"task\":\"%s->%s\",\"accuracy\":%.10g,\"load\":%.6f,\"baseline\":%.6f,"
                   "\"method\":%.6f,\"guard\":%.6f,\"verdict\":\"%s\"}\n",
                   abbr[s], abbr[t], acc, best[0], best[1], best[2], best[3],
                   tl_guard_verdict_name(rep.verdict));
            fflush(stdout);
        }
    return 0;
}
