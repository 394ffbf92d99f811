/* `tl train --tasks NAME=SPEC --tasks NAME=SPEC ... --arch TRUNK`: multi-task learning with a
 * shared representation (Caruana 1997) - one trunk (--arch) shared by every task, one head per
 * task on it (--head, default dense:K for a task of K classes), the tasks' cross-entropies summed
 * with --task-weights, trained together by tl_nn_mtl_train. Saves one multi-task model (read back
 * by `tl evaluate` / `tl predict --model-task NAME`). With --compare, one network per task (the same
 * trunk and head, the same settings, trained by the same loop on that task alone) is trained too
 * and each task's test accuracy is printed beside the shared one.
 *
 * Under mpirun every task's rows are split over the processes (each reads its own block, as
 * `tl train` does) and tl_nn_mtl_train runs data-parallel; rank 0 saves and reports.
 *
 * Thin on purpose: parse the options, load each task's data, call the library, print. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_common.h"
#include "nn_common.h"

#define MAX_TASKS 8

typedef struct {
    const char *name, *spec, *test;
    tl_dataset *ds;
    float *x;
    int *cls;
    size_t nc;
    cli_nn_data te;
    double acc_mt, acc_st;
} task_in;

/* "NAME=SPEC" -> name (a copy in buf) and spec; false after a usage message. */
static bool split_task(const char *opt, const char *s, char *buf, size_t cap, const char **name,
                       const char **spec) {
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || !eq[1] || (size_t)(eq - s) >= cap) {
        cli_usage("--%s '%s': expected NAME=SPEC (e.g. books=books_train.svmlight)", opt, s);
        return false;
    }
    memcpy(buf, s, (size_t)(eq - s));
    buf[eq - s] = '\0';
    *name = buf;
    *spec = eq + 1;
    return true;
}

int cli_train_tasks(cli_args *a) {
    const char *specs[CLI_MAX_REPEAT], *tests[CLI_MAX_REPEAT];
    const size_t T = cli_get_all(a, "tasks", specs, CLI_MAX_REPEAT);
    const size_t nte = cli_get_all(a, "task-test", tests, CLI_MAX_REPEAT);
    if (T > MAX_TASKS) return cli_usage("--tasks given %zu times (at most %d tasks)", T, MAX_TASKS);
    if (cli_flag(a, "rotation-labels") || cli_get(a, "init") || cli_get(a, "test") ||
        cli_get(a, "export-safetensors"))
        return cli_usage("--rotation-labels, --init, --test and --export-safetensors are not "
                         "available with --tasks (give each task's test data with --task-test NAME=SPEC)");
    tl_nn_mtl_params p = tl_nn_mtl_params_default();
    if (!cli_nn_train_params(a, &p.train)) return 2;
    const char *arch_arg = cli_get(a, "arch"), *save = cli_get(a, "save");
    if (!arch_arg) return cli_usage("--arch (the shared trunk) is required (see 'tl help train')");
    if (!save) return cli_usage("--save is required: where should the model go?");
    uint64_t seed;
    if (!cli_get_u64(a, "seed", &seed)) return 2;
    char names[MAX_TASKS][64], tnames[MAX_TASKS][64];
    task_in tk[MAX_TASKS];
    double w[MAX_TASKS];
    memset(tk, 0, sizeof tk);
    for (size_t k = 0; k < T; k++) {
        if (!split_task("tasks", specs[k], names[k], sizeof names[k], &tk[k].name, &tk[k].spec)) return 2;
        for (size_t j = 0; j < k; j++)
            if (strcmp(tk[j].name, tk[k].name) == 0) return cli_usage("--tasks: task '%s' is given twice", tk[k].name);
        w[k] = 1.0;
    }
    for (size_t i = 0; i < nte; i++) {
        const char *nm, *sp;
        if (!split_task("task-test", tests[i], tnames[i < MAX_TASKS ? i : 0], 64, &nm, &sp)) return 2;
        size_t k = 0;
        while (k < T && strcmp(tk[k].name, nm) != 0) k++;
        if (k == T) return cli_usage("--task-test: no task named '%s' among --tasks", nm);
        tk[k].test = sp;
    }
    if (cli_get(a, "task-weights")) {
        const char *s = cli_get(a, "task-weights");
        size_t k = 0;
        char *end;
        while (k < T) {
            w[k++] = strtod(s, &end);
            if (end == s || (*end != ',' && *end)) break;
            if (!*end) break;
            s = end + 1;
        }
        if (k != T || *end || !(w[k - 1] >= 0))
            return cli_usage("--task-weights '%s': give %zu weights >= 0, one per task in --tasks order",
                             cli_get(a, "task-weights"), T);
        p.weights = w;
    }
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    p.train.ctx = &ctx;
    cli_dist dist;
    int rc = cli_dist_begin(&dist);
    if (rc) return rc;
    rc = 1;
    if (dist.rank != 0) ctx.log = NULL, ctx.progress = NULL; /* rank 0 speaks for the job */
    size_t total[MAX_TASKS];
    char *arch = NULL, *harch[MAX_TASKS] = {0};
    tl_nn_mtl *m = NULL, *single = NULL;
    tl_status st;
    tl_nn_task_data td[MAX_TASKS];
    tl_mat X[MAX_TASKS];
    const char *tn[MAX_TASKS], *hd[MAX_TASKS];
    size_t d = 0, shape[3];
    for (size_t k = 0; k < T; k++) {
        if (cli_nn_load_shard(a, tk[k].spec, true, &dist, &tk[k].ds, &total[k]) != 0) goto done;
        const size_t dk = tl_dataset_cols(tk[k].ds);
        if (!tl_dataset_has_labels(tk[k].ds)) {
            cli_fail("task %s: '%s' has no labels: training needs them", tk[k].name, tk[k].spec);
            goto done;
        }
        if (k && dk != d) {
            cli_fail("task %s: '%s' has %zu features but task %s has %zu: the tasks share one trunk "
                     "and need the same input width", tk[k].name, tk[k].spec, dk, tk[0].name, d);
            goto done;
        }
        d = dk;
        X[k] = tl_dataset_dense(tk[k].ds);
        if (cli_nn_classes_of(tl_dataset_labels_const(tk[k].ds), tl_dataset_rows(tk[k].ds), &tk[k].cls,
                              &tk[k].nc) != 0 ||
            cli_dist_classes(&dist, &tk[k].cls, &tk[k].nc) != 0)
            goto done;
        tn[k] = tk[k].name;
    }
    if (!cli_nn_parse_shape(cli_get(a, "input-shape"), d, shape) || shape[0] * shape[1] * shape[2] != d) {
        cli_fail("--input-shape: '%s' is not CxHxW with %zu values", cli_get(a, "input-shape"), d);
        rc = 2;
        goto done;
    }
    arch = cli_nn_read_arch(arch_arg);
    if (!arch) {
        cli_fail("--arch: cannot read '%s'", arch_arg);
        goto done;
    }
    for (size_t k = 0; k < T; k++) { /* each head: --head, or dense:K */
        const char *h = cli_get(a, "head");
        char buf[32];
        snprintf(buf, sizeof buf, "dense:%zu", tk[k].nc);
        harch[k] = strcmp(h, "auto") == 0 ? strdup(buf) : cli_nn_read_arch(h);
        if (!harch[k]) {
            cli_fail("--head: cannot read '%s'", h);
            goto done;
        }
        hd[k] = harch[k];
    }
    st = tl_nn_mtl_create(arch, shape[0], shape[1], shape[2], T, tn, hd, seed, &m);
    if (st != TL_OK) {
        cli_fail_status(st, "--arch / --head");
        goto done;
    }
    for (size_t k = 0; k < T; k++) { /* a head's outputs are its task's classes */
        tl_nn *h = tl_nn_mtl_head(m, k);
        if (tl_nn_output_dim(h) != tk[k].nc) {
            cli_fail("task %s: its head has %zu outputs but '%s' has %zu classes (%d..%d): end the "
                     "head with dense:%zu", tk[k].name, tl_nn_output_dim(h), tk[k].spec, tk[k].nc,
                     tk[k].cls[0], tk[k].cls[tk[k].nc - 1], tk[k].nc);
            goto done;
        }
        if ((st = tl_nn_set_labels(h, tk[k].cls, tk[k].nc)) != TL_OK) {
            cli_fail_status(st, "task %s: labels", tk[k].name);
            goto done;
        }
    }
    float shift, scale;
    int nrc = cli_nn_input_norm(cli_get(a, "input-norm"), X, T, &dist, &shift, &scale);
    if (nrc) {
        rc = nrc;
        goto done;
    }
    tl_nn *trunk = tl_nn_mtl_trunk(m);
    tl_nn_set_input_norm(trunk, shift, scale);
    for (size_t k = 0; k < T; k++) {
        const size_t n = tl_dataset_rows(tk[k].ds);
        tk[k].x = malloc(n * d * sizeof(float));
        if (!tk[k].x) {
            cli_fail("out of memory for the %zu samples of task %s", n, tk[k].name);
            goto done;
        }
        if ((st = tl_nn_input_from_mat(trunk, X[k], tk[k].x)) != TL_OK) {
            cli_fail_status(st, "task %s", tk[k].name);
            goto done;
        }
        td[k] = (tl_nn_task_data){tk[k].x, tl_dataset_labels_const(tk[k].ds), n};
    }
    if (dist.rank == 0)
        cli_info(a, "train: %zu tasks on a shared trunk %s, %zu trunk parameters%s", T, arch,
                 tl_nn_param_scalars(trunk), dist.size > 1 ? ", data-parallel" : "");
    if (dist.size > 1) p.train.comm = tl_dist_comm(dist.d);
    tl_nn_train_result r;
    st = tl_nn_mtl_train(m, &p, td, &r);
    cli_nn_progress_end();
    if (st != TL_OK && !r.nonfinite) {
        cli_fail_status(st, "multi-task training");
        goto done;
    }
    tl_status sst = dist.rank == 0 ? tl_nn_mtl_save(m, save) : TL_OK; /* rank 0 writes it */
    if (sst != TL_OK) {
        cli_fail_status(sst, "saving the model");
        goto done;
    }
    if (st != TL_OK) { /* NaN: the last good model was saved */
        cli_fail_status(st, "multi-task training");
        cli_warn("the model saved to '%s' holds the parameters of the last finite epoch", save);
        goto done;
    }
    for (size_t k = 0; k < T; k++) { /* test data, read through task k's own network */
        tk[k].acc_mt = tk[k].acc_st = NAN;
        if (!tk[k].test) continue;
        tl_nn *net = NULL;
        if ((st = tl_nn_mtl_task_network(m, k, &net)) != TL_OK) {
            cli_fail_status(st, "task %s", tk[k].name);
            goto done;
        }
        const int lr = cli_nn_load(a, tk[k].test, net, true, false, &tk[k].te);
        tl_nn_free(net);
        if (lr != 0) goto done;
        if ((st = tl_nn_mtl_evaluate(m, k, tk[k].te.x, tk[k].te.y, tk[k].te.n, &tk[k].acc_mt, NULL)) != TL_OK) {
            cli_fail_status(st, "task %s: '%s'", tk[k].name, tk[k].test);
            goto done;
        }
    }
    const bool cmp = cli_flag(a, "compare");
    for (size_t k = 0; cmp && k < T; k++) { /* one network per task, trained the same way */
        tl_nn_train_result rs;
        if ((st = tl_nn_mtl_create(arch, shape[0], shape[1], shape[2], 1, &tn[k], &hd[k], seed, &single)) != TL_OK ||
            (st = tl_nn_set_labels(tl_nn_mtl_head(single, 0), tk[k].cls, tk[k].nc)) != TL_OK) {
            cli_fail_status(st, "task %s alone", tk[k].name);
            goto done;
        }
        tl_nn_set_input_norm(tl_nn_mtl_trunk(single), shift, scale);
        tl_nn_mtl_params ps = p;
        ps.weights = NULL;
        if ((st = tl_nn_mtl_train(single, &ps, &td[k], &rs)) != TL_OK) {
            cli_fail_status(st, "task %s alone", tk[k].name);
            goto done;
        }
        if (tk[k].test &&
            (st = tl_nn_mtl_evaluate(single, 0, tk[k].te.x, tk[k].te.y, tk[k].te.n, &tk[k].acc_st, NULL)) != TL_OK) {
            cli_fail_status(st, "task %s alone", tk[k].name);
            goto done;
        }
        tl_nn_mtl_free(single);
        single = NULL;
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "train");
        tl_json_str(&j, "arch", tl_nn_arch(trunk));
        tl_json_str(&j, "output", save);
        tl_json_int(&j, "n_tasks", (long long)T);
        tl_json_int(&j, "epochs", (long long)r.epochs_run);
        tl_json_int(&j, "best_epoch", (long long)r.best_epoch);
        cli_nn_json_result(&j, &r, NAN, NAN, 0);
        tl_json_arr_begin(&j, "tasks");
        for (size_t k = 0; k < T; k++) {
            tl_json_obj_begin(&j, NULL);
            tl_json_str(&j, "name", tk[k].name);
            tl_json_str(&j, "head", tl_nn_arch(tl_nn_mtl_head(m, k)));
            tl_json_int(&j, "n_rows", (long long)total[k]);
            tl_json_int(&j, "n_classes", (long long)tk[k].nc);
            tl_json_num(&j, "weight", w[k]);
            if (tk[k].test) {
                tl_json_num(&j, "accuracy", tk[k].acc_mt);
                tl_json_int(&j, "n_eval", (long long)tk[k].te.n);
                if (cmp) tl_json_num(&j, "accuracy_single_task", tk[k].acc_st);
            }
            tl_json_obj_end(&j);
        }
        tl_json_arr_end(&j);
        rc = cli_json_finish(&j);
    } else {
        printf("%-18s %s\n", "model", save);
        printf("%-18s %s (%zu parameters), shared by %zu tasks\n", "trunk", tl_nn_arch(trunk),
               tl_nn_param_scalars(trunk), T);
        printf("%-18s %zu%s\n", "epochs", r.epochs_run, r.stopped_early ? " (early stop)" : "");
        if (r.resumed_after)
            printf("%-18s after epoch %zu, from %s\n", "resumed", r.resumed_after, p.train.checkpoint);
        if (dist.size > 1) printf("%-18s %d (data-parallel)\n", "processes", dist.size);
        if (!isnan(r.val_acc)) printf("%-18s %.2f %% (epoch %zu)\n", "validation", 100 * r.val_acc, r.best_epoch);
        printf("%-18s %.2f s (%.0f samples/s)\n", "time", r.seconds, r.samples_per_s);
        printf("\n%-14s %-12s %8s %8s %7s %14s%s\n", "task", "head", "rows", "classes", "weight",
               "test accuracy", cmp ? "  one network per task" : "");
        for (size_t k = 0; k < T; k++) {
            char acc[32] = "-", acs[32] = "-";
            if (tk[k].test) snprintf(acc, sizeof acc, "%.2f %%", 100 * tk[k].acc_mt);
            if (tk[k].test && cmp) snprintf(acs, sizeof acs, "%.2f %%", 100 * tk[k].acc_st);
            printf("%-14s %-12s %8zu %8zu %7.3g %14s%s%s\n", tk[k].name, tl_nn_arch(tl_nn_mtl_head(m, k)),
                   total[k], tk[k].nc, w[k], acc, cmp ? "  " : "", cmp ? acs : "");
        }
        rc = 0;
    }
done:
    free(arch);
    for (size_t k = 0; k < T && k < MAX_TASKS; k++) {
        free(harch[k]);
        free(tk[k].x);
        tl_free(tk[k].cls);
        tl_dataset_free(tk[k].ds);
        cli_nn_data_free(&tk[k].te);
    }
    tl_nn_mtl_free(single);
    tl_nn_mtl_free(m);
    return cli_dist_end(&dist, rc);
}
