/* `tl rel-learn`, `tl rel-transfer`, `tl rel-infer`: relation-based transfer (tl/relational.h).
 * rel-learn fits a boosted RDN on folds of a relational domain folder (optionally scored on other
 * folds) and saves it; rel-transfer runs the transfer protocol of the literature - the source
 * model mapped onto the target domain, trained on one target fold, tested on all the others - for
 * transfer with revision, mapping + parameter learning and learning from scratch side by side
 * (the relational baseline), with the mapping, its score and a guard verdict; rel-infer scores a
 * saved model on folds and writes the probability of each example. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tl/relational.h"

#define REL_OPTS                                                                                   \
    {"trees", "N", "10", "boosting rounds (regression trees)"},                                    \
        {"max-depth", "D", "3", "maximum tree depth"},                                             \
        {"node-size", "N", "2", "literals per tree node at most (1 or 2)"},                        \
        {"max-clauses", "N", "8", "leaves (clauses) per tree at most"},                            \
        {"min-leaf", "N", "2", "examples a leaf needs at least"},                                  \
        {"lookahead", "N", "10", "one-literal tests extended to two literals"},                    \
        {"neg-ratio", "R", "2", "training negatives sampled per positive (0: all)"}

static const cli_opt learn_opts[] = {
    {"data", "DIR", NULL, "relational domain folder (target.txt, modes.txt, fold<k>/)"},
    {"folds", "LIST", "all", "folds to learn from: comma list of numbers, or all"},
    {"test-folds", "LIST", NULL, "folds to score the model on (default: none)"},
    {"out", "FILE", NULL, "save the model here"},
    {"rules", NULL, NULL, "print the learned trees as rules"},
    REL_OPTS,
    {"", NULL, NULL, NULL}};

static const cli_opt transfer_opts[] = {
    {"source-model", "FILE", NULL, "model learned on the source domain (tl rel-learn --out)"},
    {"target", "DIR", NULL, "target domain folder"},
    {"fold", "K", NULL, "target fold to train on (the others are the test set), or all"},
    {"reps", "R", "1", "repetitions (seeds seed..seed+R-1: the negative samples differ)"},
    {"tolerance", "T", "0.01", "guard: AUC-PR difference below which transfer and scratch tie"},
    {"out", "FILE", NULL, "save the revised transferred model (first fold, first repetition)"},
    {"rules", NULL, NULL, "print the revised transferred trees as rules"},
    REL_OPTS,
    {"", NULL, NULL, NULL}};

static const cli_opt infer_opts[] = {
    {"model", "FILE", NULL, "saved relational model"},
    {"data", "DIR", NULL, "domain folder whose examples are scored"},
    {"folds", "LIST", "all", "folds to score: comma list of numbers, or all"},
    {"out", "FILE", NULL, "write 'atom probability label' per example here"},
    {"rules", NULL, NULL, "print the model as rules"},
    {"", NULL, NULL, NULL}};

static bool rel_params(const cli_args *a, tl_rel_params *p) {
    *p = tl_rel_params_default();
    long t, d, ns, mc, ml, la, th;
    double nr;
    if (!cli_get_long(a, "trees", 1, 1000, &t) || !cli_get_long(a, "max-depth", 1, 5, &d) ||
        !cli_get_long(a, "node-size", 1, 2, &ns) || !cli_get_long(a, "max-clauses", 2, 64, &mc) ||
        !cli_get_long(a, "min-leaf", 1, 1000000, &ml) ||
        !cli_get_long(a, "lookahead", 0, 1000, &la) || !cli_get_double(a, "neg-ratio", 0, 1e6, &nr) ||
        !cli_get_u64(a, "seed", &p->seed) || !cli_get_long(a, "threads", 0, 4096, &th))
        return false;
    p->threads = th > 0 ? (size_t)th : 1; /* the learner's threads: --threads N (0: one) */
    p->n_trees = (size_t)t;
    p->max_depth = (size_t)d;
    p->node_size = (size_t)ns;
    p->max_clauses = (size_t)mc;
    p->min_leaf = (size_t)ml;
    p->lookahead = (size_t)la;
    p->neg_ratio = nr;
    return true;
}

/* "all" or "1,3,4" against the domain's fold count; prints and returns false when bad */
static bool parse_folds(const char *opt, const char *s, size_t nfolds, int *out, size_t *n) {
    *n = 0;
    if (strcmp(s, "all") == 0) {
        for (size_t k = 0; k < nfolds; k++) out[(*n)++] = (int)k + 1;
        return nfolds > 0 || (cli_fail("--%s: the domain has no fold<k> folder", opt), false);
    }
    const char *p = s;
    while (*p) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || v < 1 || (size_t)v > nfolds || (*e && *e != ',')) {
            cli_usage("--%s: '%s' is not a comma list of folds 1..%zu (or all)", opt, s, nfolds);
            return false;
        }
        for (size_t k = 0; k < *n; k++)
            if (out[k] == (int)v) {
                cli_usage("--%s: fold %ld listed twice", opt, v);
                return false;
            }
        if (*n >= 64) return cli_usage("--%s: too many folds", opt), false;
        out[(*n)++] = (int)v;
        p = *e ? e + 1 : e;
    }
    if (!*n) return cli_usage("--%s: no fold given", opt), false;
    return true;
}

typedef struct {
    double roc, pr, cll;
} rel_scores;

static tl_status score(const tl_rel_model *m, const tl_rel_db *db, rel_scores *s) {
    size_t n = tl_rel_db_n_examples(db, -1);
    double *p = malloc((n ? n : 1) * sizeof *p);
    int *y = malloc((n ? n : 1) * sizeof *y);
    tl_status st = TL_ERR_NOMEM;
    if (p && y && (st = tl_rel_predict(m, db, p, y)) == TL_OK) {
        s->roc = tl_rel_auc_roc(p, y, n);
        s->pr = tl_rel_auc_pr(p, y, n);
        s->cll = tl_rel_cll(p, y, n);
    }
    free(p);
    free(y);
    return st;
}

static void json_scores(tl_json *j, const char *key, const rel_scores *s) {
    tl_json_obj_begin(j, key);
    tl_json_num(j, "auc_roc", s->roc);
    tl_json_num(j, "auc_pr", s->pr);
    tl_json_num(j, "cll", s->cll);
    tl_json_obj_end(j);
}

/* ---------------------------------------------------------------- rel-learn */

static int run_rel_learn(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *dir = cli_get(a, "data"), *out = cli_get(a, "out");
    if (!dir) return cli_usage("--data is required (see 'tl help rel-learn')");
    tl_rel_params p;
    if (!rel_params(a, &p)) return CLI_EXIT_USAGE;
    size_t nf = tl_rel_domain_folds(dir), ntr = 0, nte = 0;
    int tr[64], te[64];
    if (!parse_folds("folds", cli_get(a, "folds"), nf, tr, &ntr)) return nf ? CLI_EXIT_USAGE : 1;
    if (cli_get(a, "test-folds") && !parse_folds("test-folds", cli_get(a, "test-folds"), nf, te, &nte))
        return CLI_EXIT_USAGE;
    for (size_t i = 0; i < nte; i++)
        for (size_t k = 0; k < ntr; k++)
            if (te[i] == tr[k]) return cli_usage("--test-folds: fold %d is also a training fold", te[i]);
    if (out && tl_wfile_check(out) != TL_OK) return cli_fail_status(TL_ERR_IO, "--out");
    int rc = 1;
    tl_rel_db *train = NULL, *test = NULL;
    tl_rel_model *m = NULL;
    tl_status st;
    rel_scores sc = {NAN, NAN, NAN};
    if ((st = tl_rel_db_load(dir, tr, ntr, &train)) != TL_OK) {
        cli_fail_status(st, "loading %s", dir);
        goto done;
    }
    cli_info(a, "learning %s: %zu positive, %zu negative examples, %zu facts...",
             tl_rel_db_target(train), tl_rel_db_n_examples(train, 1), tl_rel_db_n_examples(train, 0),
             tl_rel_db_n_facts(train));
    double t0 = cli_now();
    if ((st = tl_rel_learn(&p, train, &m)) != TL_OK) {
        cli_fail_status(st, "learning");
        goto done;
    }
    double secs = cli_now() - t0;
    if (nte) {
        if ((st = tl_rel_db_load(dir, te, nte, &test)) != TL_OK) {
            cli_fail_status(st, "loading the test folds of %s", dir);
            goto done;
        }
        if ((st = score(m, test, &sc)) != TL_OK) {
            cli_fail_status(st, "scoring");
            goto done;
        }
    }
    if (out && (st = tl_rel_model_save(m, out)) != TL_OK) {
        cli_fail_status(st, "--out");
        goto done;
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "rel-learn");
        tl_json_str(&j, "data", dir);
        tl_json_str(&j, "target", tl_rel_db_target(train));
        tl_json_arr_begin(&j, "folds");
        for (size_t k = 0; k < ntr; k++) tl_json_arr_int(&j, tr[k]);
        tl_json_arr_end(&j);
        tl_json_arr_begin(&j, "test_folds");
        for (size_t k = 0; k < nte; k++) tl_json_arr_int(&j, te[k]);
        tl_json_arr_end(&j);
        tl_json_int(&j, "n_pos", (long long)tl_rel_db_n_examples(train, 1));
        tl_json_int(&j, "n_neg", (long long)tl_rel_db_n_examples(train, 0));
        tl_json_int(&j, "n_facts", (long long)tl_rel_db_n_facts(train));
        tl_json_int(&j, "trees", (long long)tl_rel_model_n_trees(m));
        if (nte) json_scores(&j, "test", &sc);
        else tl_json_null(&j, "test");
        tl_json_str(&j, "model", out);
        tl_json_num(&j, "seconds", secs);
        rc = cli_json_finish(&j);
        goto done;
    }
    printf("%-12s %s (%s)\n", "target", tl_rel_db_target(train), dir);
    printf("%-12s %zu positive, %zu negative, %zu facts\n", "training", tl_rel_db_n_examples(train, 1),
           tl_rel_db_n_examples(train, 0), tl_rel_db_n_facts(train));
    printf("%-12s %zu trees, %.3f s\n", "model", tl_rel_model_n_trees(m), secs);
    if (nte)
        printf("%-12s AUC-ROC %.4f  AUC-PR %.4f  CLL %.4f  (%zu examples)\n", "test", sc.roc, sc.pr,
               sc.cll, tl_rel_db_n_examples(test, -1));
    if (out) printf("%-12s %s\n", "saved", out);
    if (cli_flag(a, "rules") && tl_rel_model_print(m, stdout) != TL_OK) goto done;
    rc = fflush(stdout) != 0;
done:
    tl_rel_db_free(train);
    tl_rel_db_free(test);
    tl_rel_model_free(m);
    return rc;
}

/* ---------------------------------------------------------------- rel-transfer */

enum { M_REV = 0, M_MAP = 1, M_SCRATCH = 2, N_METHODS = 3 };
static const char *const method_names[N_METHODS] = {"transfer", "mapping", "scratch"};

typedef struct {
    int fold;
    int rep;
    rel_scores s[N_METHODS];
    double secs[N_METHODS];
} rel_run;

static void mean_sd(const rel_run *r, size_t n, int meth, int which, double *mean, double *sd) {
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++) {
        double v = which == 0 ? r[i].s[meth].roc : which == 1 ? r[i].s[meth].pr : which == 2 ? r[i].s[meth].cll : r[i].secs[meth];
        s += v;
        q += v * v;
    }
    *mean = s / (double)n;
    double var = n > 1 ? (q - s * s / (double)n) / (double)(n - 1) : 0;
    *sd = var > 0 ? sqrt(var) : 0;
}

static int run_rel_transfer(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *src = cli_get(a, "source-model"), *dir = cli_get(a, "target"),
               *fold_s = cli_get(a, "fold"), *out = cli_get(a, "out");
    if (!src || !dir || !fold_s)
        return cli_usage("--source-model, --target and --fold are required (see 'tl help rel-transfer')");
    tl_rel_params p;
    long reps;
    double tol;
    if (!rel_params(a, &p) || !cli_get_long(a, "reps", 1, 100, &reps) ||
        !cli_get_double(a, "tolerance", 0, 1, &tol))
        return CLI_EXIT_USAGE;
    size_t nf = tl_rel_domain_folds(dir), nk = 0;
    int kf[64];
    if (nf < 2) return cli_fail("%s: a target domain needs at least 2 fold<k> folders (has %zu)", dir, nf);
    if (!parse_folds("fold", fold_s, nf, kf, &nk)) return CLI_EXIT_USAGE;
    if (out && tl_wfile_check(out) != TL_OK) return cli_fail_status(TL_ERR_IO, "--out");
    int rc = 1;
    tl_status st;
    tl_rel_model *source = NULL, *models[N_METHODS] = {NULL, NULL, NULL};
    tl_rel_db *train = NULL, *test = NULL;
    tl_rel_mapping map, first_map;
    memset(&map, 0, sizeof map);
    memset(&first_map, 0, sizeof first_map);
    rel_run *runs = calloc(nk * (size_t)reps, sizeof *runs);
    size_t nruns = 0;
    if (!runs) {
        cli_fail("out of memory");
        goto done;
    }
    if ((st = tl_rel_model_load(src, &source)) != TL_OK) {
        cli_fail_status(st, "--source-model");
        goto done;
    }
    for (size_t k = 0; k < nk; k++) {
        int others[64];
        size_t no = 0;
        for (size_t f = 1; f <= nf; f++)
            if ((int)f != kf[k]) others[no++] = (int)f;
        if ((st = tl_rel_db_load(dir, &kf[k], 1, &train)) != TL_OK ||
            (st = tl_rel_db_load(dir, others, no, &test)) != TL_OK) {
            cli_fail_status(st, "loading %s", dir);
            goto done;
        }
        for (long r = 0; r < reps; r++) {
            tl_rel_params pr = p;
            pr.seed = p.seed + (uint64_t)r;
            rel_run *run = &runs[nruns];
            run->fold = kf[k];
            run->rep = (int)r;
            cli_info(a, "fold %d, repetition %ld: transfer, mapping only, scratch...", kf[k], r + 1);
            for (int meth = 0; meth < N_METHODS; meth++) {
                double t0 = cli_now();
                if (meth == M_SCRATCH) st = tl_rel_learn(&pr, train, &models[meth]);
                else
                    st = tl_rel_transfer(&pr, source, train,
                                         meth == M_REV ? TL_REL_REVISION : TL_REL_MAPPING_ONLY,
                                         meth == M_REV ? &map : NULL, &models[meth]);
                run->secs[meth] = cli_now() - t0;
                if (st != TL_OK) {
                    cli_fail_status(st, "%s on fold %d", method_names[meth], kf[k]);
                    goto done;
                }
                if ((st = score(models[meth], test, &run->s[meth])) != TL_OK) {
                    cli_fail_status(st, "scoring %s", method_names[meth]);
                    goto done;
                }
            }
            nruns++;
            if (nruns == 1) {
                first_map = map;
                memset(&map, 0, sizeof map);
                if (out && (st = tl_rel_model_save(models[M_REV], out)) != TL_OK) {
                    cli_fail_status(st, "--out");
                    goto done;
                }
                if (cli_flag(a, "rules") && !cli_flag(a, "json") &&
                    (st = tl_rel_model_print(models[M_REV], stdout)) != TL_OK) {
                    cli_fail_status(st, "--rules");
                    goto done;
                }
            } else {
                tl_rel_mapping_free(&map);
            }
            for (int meth = 0; meth < N_METHODS; meth++) {
                tl_rel_model_free(models[meth]);
                models[meth] = NULL;
            }
        }
        tl_rel_db_free(train);
        tl_rel_db_free(test);
        train = test = NULL;
    }
    double mean[N_METHODS][4], sd[N_METHODS][4];
    for (int meth = 0; meth < N_METHODS; meth++)
        for (int w = 0; w < 4; w++) mean_sd(runs, nruns, meth, w, &mean[meth][w], &sd[meth][w]);
    /* guard: revision against scratch on AUC-PR (then AUC-ROC), with a tolerance */
    double dpr = mean[M_REV][1] - mean[M_SCRATCH][1], droc = mean[M_REV][0] - mean[M_SCRATCH][0];
    const char *verdict = dpr > tol || (fabs(dpr) <= tol && droc > tol) ? "transfer"
                          : dpr < -tol || (fabs(dpr) <= tol && droc < -tol) ? "scratch"
                                                                             : "tie";
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "rel-transfer");
        tl_json_str(&j, "source_model", src);
        tl_json_str(&j, "source_target", tl_rel_model_target(source));
        tl_json_str(&j, "target", dir);
        tl_json_int(&j, "reps", reps);
        tl_json_obj_begin(&j, "mapping");
        tl_json_num(&j, "score", first_map.score);
        tl_json_arr_begin(&j, "pairs");
        for (size_t i = 0; i < first_map.n; i++) {
            tl_json_obj_begin(&j, NULL);
            tl_json_str(&j, "source", first_map.source[i]);
            tl_json_str(&j, "target", first_map.target[i]);
            tl_json_obj_end(&j);
        }
        tl_json_arr_end(&j);
        tl_json_obj_end(&j);
        tl_json_obj_begin(&j, "summary");
        for (int meth = 0; meth < N_METHODS; meth++) {
            tl_json_obj_begin(&j, method_names[meth]);
            tl_json_num(&j, "auc_roc", mean[meth][0]);
            tl_json_num(&j, "auc_roc_sd", sd[meth][0]);
            tl_json_num(&j, "auc_pr", mean[meth][1]);
            tl_json_num(&j, "auc_pr_sd", sd[meth][1]);
            tl_json_num(&j, "cll", mean[meth][2]);
            tl_json_num(&j, "cll_sd", sd[meth][2]);
            tl_json_num(&j, "seconds", mean[meth][3]);
            tl_json_obj_end(&j);
        }
        tl_json_obj_end(&j);
        tl_json_arr_begin(&j, "runs");
        for (size_t i = 0; i < nruns; i++) {
            tl_json_obj_begin(&j, NULL);
            tl_json_int(&j, "fold", runs[i].fold);
            tl_json_int(&j, "rep", runs[i].rep);
            for (int meth = 0; meth < N_METHODS; meth++) json_scores(&j, method_names[meth], &runs[i].s[meth]);
            tl_json_obj_end(&j);
        }
        tl_json_arr_end(&j);
        tl_json_obj_begin(&j, "guard");
        tl_json_str(&j, "verdict", verdict);
        tl_json_num(&j, "delta_auc_pr", dpr);
        tl_json_num(&j, "delta_auc_roc", droc);
        tl_json_num(&j, "tolerance", tol);
        tl_json_obj_end(&j);
        rc = cli_json_finish(&j);
        goto done;
    }
    printf("%s -> %s (%s), %zu fold(s) x %ld repetition(s), trained on one fold, tested on the others\n",
           tl_rel_model_target(source), dir, first_map.n ? first_map.target[0] : "?", nk, reps);
    printf("mapping (score: -weighted variance of the target gradients after parameter learning, %.5f):\n", first_map.score);
    for (size_t i = 0; i < first_map.n; i++)
        printf("  %-16s -> %s\n", first_map.source[i], first_map.target[i] ? first_map.target[i] : "(dropped)");
    printf("%-10s %17s %17s %17s %9s\n", "method", "AUC-ROC", "AUC-PR", "CLL", "seconds");
    for (int meth = 0; meth < N_METHODS; meth++)
        printf("%-10s %8.4f +- %.4f %8.4f +- %.4f %8.4f +- %.4f %9.3f\n",
               meth == M_REV ? "transfer" : meth == M_MAP ? "mapping" : "scratch", mean[meth][0],
               sd[meth][0], mean[meth][1], sd[meth][1], mean[meth][2], sd[meth][2], mean[meth][3]);
    printf("guard: %s (transfer - scratch: AUC-PR %+.4f, AUC-ROC %+.4f; tolerance %.3g)\n", verdict,
           dpr, droc, tol);
    if (out) printf("saved %s\n", out);
    rc = fflush(stdout) != 0;
done:
    tl_rel_model_free(source);
    for (int meth = 0; meth < N_METHODS; meth++) tl_rel_model_free(models[meth]);
    tl_rel_db_free(train);
    tl_rel_db_free(test);
    tl_rel_mapping_free(&map);
    tl_rel_mapping_free(&first_map);
    free(runs);
    return rc;
}

/* ---------------------------------------------------------------- rel-infer */

static int run_rel_infer(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    const char *mp = cli_get(a, "model"), *dir = cli_get(a, "data"), *out = cli_get(a, "out");
    if (!mp || !dir) return cli_usage("--model and --data are required (see 'tl help rel-infer')");
    size_t nf = tl_rel_domain_folds(dir), n = 0;
    int folds[64];
    if (!parse_folds("folds", cli_get(a, "folds"), nf, folds, &n)) return nf ? CLI_EXIT_USAGE : 1;
    if (out && tl_wfile_check(out) != TL_OK) return cli_fail_status(TL_ERR_IO, "--out");
    int rc = 1;
    tl_status st;
    tl_rel_model *m = NULL;
    tl_rel_db *db = NULL;
    double *p = NULL;
    int *y = NULL;
    tl_wfile *w = NULL;
    if ((st = tl_rel_model_load(mp, &m)) != TL_OK) {
        cli_fail_status(st, "--model");
        goto done;
    }
    if ((st = tl_rel_db_load(dir, folds, n, &db)) != TL_OK) {
        cli_fail_status(st, "loading %s", dir);
        goto done;
    }
    size_t ne = tl_rel_db_n_examples(db, -1);
    p = malloc((ne ? ne : 1) * sizeof *p);
    y = malloc((ne ? ne : 1) * sizeof *y);
    if (!p || !y) {
        cli_fail("out of memory");
        goto done;
    }
    if ((st = tl_rel_predict(m, db, p, y)) != TL_OK) {
        cli_fail_status(st, "scoring %s", dir);
        goto done;
    }
    rel_scores sc = {tl_rel_auc_roc(p, y, ne), tl_rel_auc_pr(p, y, ne), tl_rel_cll(p, y, ne)};
    if (out) {
        if ((st = tl_wfile_open(out, &w)) != TL_OK) {
            cli_fail_status(st, "--out");
            goto done;
        }
        char buf[1024];
        for (size_t i = 0; i < ne; i++) {
            tl_rel_db_example(db, i, buf, sizeof buf, NULL, NULL);
            fprintf(tl_wfile_stream(w), "%s %.6f %d\n", buf, p[i], y[i]);
        }
        st = tl_wfile_commit(w);
        w = NULL;
        if (st != TL_OK) {
            cli_fail_status(st, "--out");
            goto done;
        }
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "rel-infer");
        tl_json_str(&j, "model", mp);
        tl_json_str(&j, "data", dir);
        tl_json_int(&j, "n_examples", (long long)ne);
        tl_json_int(&j, "n_pos", (long long)tl_rel_db_n_examples(db, 1));
        json_scores(&j, "scores", &sc);
        tl_json_str(&j, "out", out);
        rc = cli_json_finish(&j);
        goto done;
    }
    if (cli_flag(a, "rules")) tl_rel_model_print(m, stdout);
    printf("%-10s %s on %s (%zu examples, %zu positive)\n", "model", mp, dir, ne,
           tl_rel_db_n_examples(db, 1));
    printf("%-10s AUC-ROC %.4f  AUC-PR %.4f  CLL %.4f\n", "scores", sc.roc, sc.pr, sc.cll);
    if (out) printf("%-10s %s\n", "written", out);
    rc = fflush(stdout) != 0;
done:
    tl_wfile_abort(w);
    tl_rel_model_free(m);
    tl_rel_db_free(db);
    free(p);
    free(y);
    return rc;
}

const cli_command cmd_rel_learn = {
    "rel-learn", "learn a boosted relational dependency network (RDN-Boost) on relational folds",
    "--data DIR [--folds all] [--test-folds LIST] [--out MODEL] [--rules] [options]", learn_opts,
    run_rel_learn, 0, NULL};
const cli_command cmd_rel_transfer = {
    "rel-transfer",
    "relation-based transfer: map a source model's predicates, revise it, beside scratch",
    "--source-model MODEL --target DIR --fold K|all [--reps R] [--out MODEL] [options]",
    transfer_opts, run_rel_transfer, 0, NULL};
const cli_command cmd_rel_infer = {
    "rel-infer", "probabilities of a relational model on folds, with AUC-ROC, AUC-PR, CLL",
    "--model MODEL --data DIR [--folds all] [--out FILE] [options]", infer_opts, run_rel_infer, 0,
    NULL};
