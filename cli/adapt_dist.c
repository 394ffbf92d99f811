/* `tl adapt` under mpirun (issue 17): TCA, JDA or BDA on rows no process holds all of. Each
 * process reads only its block of the source and of the target (cli_dist_load), the library
 * fits the map over the blocks (tl_adapt_params.comm: landmarks from the seed, the small
 * matrices summed, the eigen-problem solved on the same values everywhere), each process embeds
 * its own rows, and the learner, fitted on the whole embedded source (gathered: n x dim, small),
 * labels each process's target rows. Rank 0 prints the accuracy on the target, the fit time
 * and every process's peak memory, and writes --out-target. The result is the one-process
 * fit's, to rounding; the one-process protocol's baselines and guard are not run here. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dist_common.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* all (rows of every process end to end, cols) := this process's Z; counts from the sizes. */
static int gather_rows(const cli_dist *d, tl_mat Z, size_t total, tl_mat *all) {
    size_t *bytes = calloc((size_t)d->size, sizeof *bytes);
    double *cnt = calloc((size_t)d->size, sizeof *cnt);
    int rc = 1;
    if (!bytes || !cnt || tl_mat_alloc(all, total, Z.cols) != TL_OK) {
        cli_fail("out of memory gathering %zu rows", total);
        goto done;
    }
    cnt[d->rank] = (double)Z.rows;
    if (cli_dist_sum(d, cnt, (size_t)d->size) != 0) goto done;
    for (int r = 0; r < d->size; r++) bytes[r] = (size_t)cnt[r] * Z.cols * sizeof(double);
    tl_status st = tl_dist_gather(d->d, Z.data, all->data, bytes);
    rc = st == TL_OK ? 0 : cli_fail_status(st, "gathering the embedded rows");
done:
    free(bytes);
    free(cnt);
    return rc;
}

/* The same for labels (as doubles: exact for every int). */
static int gather_labels(const cli_dist *d, const int *y, size_t n, size_t total, int **all) {
    tl_mat Y = {n, 1, 1, NULL}, A = {0, 0, 0, NULL};
    int rc = 1;
    *all = malloc((total ? total : 1) * sizeof **all);
    Y.data = malloc((n ? n : 1) * sizeof(double));
    if (!*all || !Y.data) {
        cli_fail("out of memory gathering %zu labels", total);
        goto done;
    }
    for (size_t i = 0; i < n; i++) Y.data[i] = y[i];
    if ((rc = gather_rows(d, Y, total, &A)) != 0) goto done;
    for (size_t i = 0; i < total; i++) (*all)[i] = (int)A.data[i];
done:
    free(Y.data);
    tl_mat_free(&A);
    return rc;
}

/* *Zuse, *yuse := the rows of every process (gathered into *Zall, *yall) with several processes,
 * else this one's Z and y. */
static int whole_set(const cli_dist *d, tl_mat Z, const int *y, size_t total, tl_mat *Zall,
                     int **yall, tl_mat *Zuse, const int **yuse) {
    int rc;
    *Zuse = Z;
    *yuse = y;
    if (d->size <= 1) return 0;
    if ((rc = gather_rows(d, Z, total, Zall)) != 0 ||
        (rc = gather_labels(d, y, Z.rows, total, yall)) != 0)
        return rc;
    *Zuse = *Zall;
    *yuse = *yall;
    return 0;
}

int cli_adapt_dist(const cli_command *cmd, cli_args *a) {
    static const char *const refused[] = {"target-test", "target-labelled", "save",
                                          "save-mapping", "report", "out-source", "via", "pool",
                                          "labelled-per-class", "labelled"};
    cli_dist d;
    int rc = cli_dist_begin(&d);
    if (rc != 0) return rc;
    tl_params *mp = NULL, *lp = NULL;
    tl_dataset *src = NULL, *tgt = NULL, *out = NULL;
    tl_adapter *ad = NULL;
    tl_learner *lrn = NULL;
    tl_mat Zs = {0, 0, 0, NULL}, Zt = {0, 0, 0, NULL}, Zs_all = {0, 0, 0, NULL},
           Zt_all = {0, 0, 0, NULL};
    int *ys_all = NULL, *pred = NULL, *yt_all = NULL;
    double *mem = NULL;
    size_t Ns = 0, Nt = 0;
    uint64_t seed;
    long threads;
    tl_status st;
    rc = 2;
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (cli_given(a, refused[i])) {
            cli_usage("--%s is not available under mpirun (%d processes)", refused[i], d.size);
            goto done;
        }
    const char *pre = cli_get(a, "preprocess");
    if (pre && strcmp(pre, "none") != 0) {
        cli_usage("--preprocess %s is not available under mpirun: prepare the files first", pre);
        goto done;
    }
    if ((rc = cli_method_params(cmd, a, &mp)) != 0) goto done;
    rc = 2;
    if (!cli_learner(a, &lp) || !cli_get_u64(a, "seed", &seed) ||
        !cli_get_long(a, "threads", 0, 4096, &threads))
        goto done;
    rc = 1;
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *ot = cli_get(a, "out-target");
    if (!s || !t) {
        rc = cli_usage("--source and --target are required (see 'tl help %s')", cmd->name);
        goto done;
    }
    double t0 = now();
    if ((rc = cli_dist_load(&d, a, s, &src, &Ns)) != 0 || (rc = cli_dist_load(&d, a, t, &tgt, &Nt)) != 0)
        goto done;
    rc = 1;
    if (!tl_dataset_has_labels(src) || !tl_dataset_has_labels(tgt)) {
        cli_fail("'%s' has no labels: under mpirun both domains need them (the target's to score)",
                 tl_dataset_has_labels(src) ? t : s);
        goto done;
    }
    if (tl_dataset_cols(src) != tl_dataset_cols(tgt)) {
        cli_fail("'%s' has %zu features and '%s' %zu", s, tl_dataset_cols(src), t,
                 tl_dataset_cols(tgt));
        goto done;
    }
    double t_read = now() - t0;
    tl_ctx ctx = tl_ctx_default();
    ctx.seed = seed;
    ctx.threads = (int)threads;
    if (d.rank != 0) ctx.log = NULL, ctx.progress = NULL; /* rank 0 speaks for the job */
    tl_adapt_params ap;
    tl_learner_params lpar;
    if ((st = tl_adapt_params_from(mp, tl_dataset_cols(src), Ns + Nt, seed, &ctx, &ap)) != TL_OK ||
        (st = tl_learner_params_from(lp, seed, &lpar)) != TL_OK) {
        cli_fail_status(st, "%s", tl_method_name(tl_params_method(mp)));
        goto done;
    }
    ap.comm = d.size > 1 ? tl_dist_kcomm(d.d) : NULL;
    if (d.rank == 0)
        cli_info(a, "%s: %s on %zu source and %zu target rows, %d process%s (this one: %zu + %zu)...",
             cmd->name, tl_method_name(tl_params_method(mp)), Ns, Nt, d.size, d.size > 1 ? "es" : "",
             tl_dataset_rows(src), tl_dataset_rows(tgt));
    t0 = now();
    if ((st = tl_adapt_fit(&ap, tl_dataset_dense(src), tl_dataset_labels_const(src),
                           tl_dataset_dense(tgt), NULL, &ad)) != TL_OK) {
        cli_fail_status(st, "%s", tl_method_name(tl_params_method(mp)));
        goto done;
    }
    double t_fit = now() - t0;
    t0 = now();
    if ((st = tl_adapter_transform(ad, 0, tl_dataset_dense(src), &Zs)) != TL_OK ||
        (st = tl_adapter_transform(ad, 1, tl_dataset_dense(tgt), &Zt)) != TL_OK) {
        cli_fail_status(st, "embedding the rows");
        goto done;
    }
    const int *ys = tl_dataset_labels_const(src), *yt = tl_dataset_labels_const(tgt);
    tl_mat Zfit;
    const int *yfit;
    if ((rc = whole_set(&d, Zs, ys, Ns, &Zs_all, &ys_all, &Zfit, &yfit)) != 0) goto done;
    rc = 1;
    pred = malloc(Zt.rows * sizeof *pred);
    if (!pred) {
        cli_fail("out of memory for %zu predictions", Zt.rows);
        goto done;
    }
    if ((st = tl_learner_create(&lpar, &lrn)) != TL_OK ||
        (st = tl_learner_fit(lrn, tl_xmat_from_dense(Zfit), yfit, NULL)) != TL_OK ||
        (st = tl_learner_predict(lrn, tl_xmat_from_dense(Zt), pred)) != TL_OK) {
        cli_fail_status(st, "the learner on the embedded rows");
        goto done;
    }
    double right = 0, t_learn = now() - t0;
    for (size_t i = 0; i < Zt.rows; i++) right += pred[i] == yt[i];
    /* every process's peak memory (MB), and the right count, summed */
    mem = calloc((size_t)d.size + 1, sizeof *mem);
    if (!mem) {
        cli_fail("out of memory");
        goto done;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    mem[d.rank] = (double)ru.ru_maxrss / 1024.0;
    mem[d.size] = right;
    if (cli_dist_sum(&d, mem, (size_t)d.size + 1) != 0) goto done;
    right = mem[d.size];
    if (ot) {
        tl_mat Zw;
        const int *yw;
        if ((rc = whole_set(&d, Zt, yt, Nt, &Zt_all, &yt_all, &Zw, &yw)) != 0) goto done;
        rc = 1;
        if (d.rank == 0 && ((st = tl_dataset_from_dense(Zw, yw, &out)) != TL_OK ||
                            (st = tl_dataset_save(out, ot, TL_FORMAT_AUTO, 1)) != TL_OK)) {
            cli_fail_status(st, "--out-target %s", ot);
            goto done;
        }
    }
    printf("method      %s (%zu dims)\n", tl_method_name(tl_params_method(mp)), tl_adapter_dim(ad));
    printf("rows        %zu source, %zu target, over %d process%s\n", Ns, Nt, d.size,
           d.size > 1 ? "es" : "");
    printf("accuracy    %.2f %% (%.0f of %zu target rows)\n", 100.0 * right / (double)Nt, right, Nt);
    printf("seconds     read %.2f, fit %.2f, embed+learner %.2f (rank 0)\n", t_read, t_fit, t_learn);
    printf("peak MB     ");
    for (int r = 0; r < d.size; r++) printf("%s%.0f", r ? ", " : "", mem[r]);
    printf(" (per process)\n");
    rc = 0;
done:
    tl_params_free(mp);
    tl_params_free(lp);
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    tl_dataset_free(out);
    tl_adapter_free(ad);
    tl_learner_free(lrn);
    tl_mat_free(&Zs);
    tl_mat_free(&Zt);
    tl_mat_free(&Zs_all);
    tl_mat_free(&Zt_all);
    free(ys_all);
    free(yt_all);
    free(pred);
    free(mem);
    return cli_dist_end(&d, rc);
}
