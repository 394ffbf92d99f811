/* `tl train`: build a network from an architecture string and train it on a labelled data set -
 * the pre-training step of model-based transfer (or a from-scratch baseline). The classes of the
 * data become the model's labels, the input normalisation is fitted on the training data, and
 * both are saved with the model, so `tl finetune`, `tl embed`, `tl predict` and `tl evaluate`
 * apply the same preprocessing. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_common.h"
#include "nn_common.h"

static const cli_opt train_opts[] = {
    {"arch", "A", NULL, "architecture string or file, e.g. conv:32:3,bn,relu,pool:2,flatten,dense:10"},
    CLI_NN_DATA_OPTS,
    {"save", "FILE.tlm", NULL, "write the trained model here"},
    {"input-shape", "CxHxW", "auto", "input shape; auto: 1xSxS for S*S features, else Dx1x1"},
    {"input-norm", "MODE", "auto", "auto (standardise by the data's mean and std), none, or SHIFT,SCALE"},
    {"label-names", "LIST", NULL, "comma-separated class names saved with the model"},
    {"init", "FILE", NULL, "initial weights from a .safetensors file (e.g. exported by PyTorch)"},
    {"name-map", "MAP", NULL, "--init name map: FROM=TO prefix rules, or @index for nn.Sequential"},
    {"rotation-labels", NULL, NULL,
     "pre-train on every image turned 0/90/180/270 degrees, labelled class x 4 + turns (the head "
     "needs 4x the classes); features that transfer further (Lee et al., ICML 2020)"},
    CLI_NN_TRAIN_OPTS,
    {"tasks", "NAME=SPEC", NULL,
     "multi-task learning: one task's labelled data, given once per task; --arch is then the trunk "
     "shared by the tasks, each task gets its own --head on it"},
    {"head", "A", "auto", "multi-task: each task's head on the trunk (auto: dense:K, K its classes)"},
    {"task-weights", "W,W,...", NULL, "multi-task: the tasks' loss weights in --tasks order (default 1 each)"},
    {"task-test", "NAME=SPEC", NULL, "multi-task: a task's test data, given once per task"},
    {"compare", NULL, NULL,
     "multi-task: also train one network per task (the trunk and its head, the same settings) and "
     "print both"},
    {"", NULL, NULL, NULL}};

bool cli_nn_parse_shape(const char *s, size_t d, size_t shape[3]) {
    if (!s || strcmp(s, "auto") == 0) {
        size_t r = (size_t)llround(sqrt((double)d));
        if (r * r == d && d > 1) {
            shape[0] = 1;
            shape[1] = shape[2] = r;
        } else {
            shape[0] = d;
            shape[1] = shape[2] = 1;
        }
        return true;
    }
    unsigned long c, h, w;
    char tail;
    if (sscanf(s, "%lux%lux%lu%c", &c, &h, &w, &tail) != 3 || !c || !h || !w) return false;
    shape[0] = c;
    shape[1] = h;
    shape[2] = w;
    return true;
}


/* Self-supervised label augmentation (Lee, Hwang & Shin, "Self-supervised label augmentation via
 * input transformations", ICML 2020): every image also turned by r = 1, 2, 3 quarter turns, with
 * the joint label y * 4 + r. The network must tell the turns apart as well as the classes, which
 * keeps orientation and shape in its features instead of only what separates the source classes;
 * on the demo's validation split this is what lets a later conv layer transfer to new classes.
 * Row r*n + i of the expanded set is image i turned r times. */

/* The joint labels (4n), or NULL after a message naming `what` (a label too large, no memory). */
static int *turn_labels(const int *y, size_t n, const char *what) {
    int *Y = n <= SIZE_MAX / 4 / sizeof(int) ? malloc(4 * n * sizeof *Y) : NULL;
    if (!Y) {
        cli_fail("out of memory for the %zu turned labels of %s", 4 * n, what);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (y[i] > INT_MAX / 4 - 1 || y[i] < INT_MIN / 4) {
            cli_fail("--rotation-labels: label %d of %s is too large to multiply by 4", y[i], what);
            free(Y);
            return NULL;
        }
        for (int r = 0; r < 4; r++) Y[(size_t)r * n + i] = y[i] * 4 + r;
    }
    return Y;
}

/* x (n, C*S*S) -> (4n, C*S*S) turned copies, or NULL after a message (no memory). */
static float *turn_images(const float *x, size_t n, size_t C, size_t S) {
    size_t d = C * S * S;
    float *X = n <= SIZE_MAX / 4 / (d ? d : 1) / sizeof(float) ? malloc(4 * n * d * sizeof *X) : NULL;
    if (!X) {
        cli_fail("out of memory for the %zu turned images", 4 * n);
        return NULL;
    }
    for (size_t r = 0; r < 4; r++)
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < C; c++) {
                const float *a = x + i * d + c * S * S;
                float *b = X + (r * n + i) * d + c * S * S;
                for (size_t u = 0; u < S; u++)
                    for (size_t v = 0; v < S; v++) {
                        size_t su = u, sv = v; /* b[u][v] = a turned r times counter-clockwise */
                        if (r == 1) su = v, sv = S - 1 - u;
                        else if (r == 2) su = S - 1 - u, sv = S - 1 - v;
                        else if (r == 3) su = S - 1 - v, sv = u;
                        b[u * S + v] = a[su * S + sv];
                    }
            }
    return X;
}

/* --input-norm MODE over the rows of X[0..nX): auto (the mean and standard deviation of every
 * value, over every process's rows under mpirun), none, or SHIFT,SCALE. */
int cli_nn_input_norm(const char *norm, const tl_mat *X, size_t nX, const cli_dist *dist,
                      float *shift, float *scale) {
    *shift = 0.0f;
    *scale = 1.0f;
    if (strcmp(norm, "auto") == 0) {
        double sc[2] = {0, 0}; /* the sum of the values, their count */
        for (size_t m = 0; m < nX; m++) {
            for (size_t i = 0; i < X[m].rows; i++)
                for (size_t j = 0; j < X[m].cols; j++) sc[0] += TL_AT(X[m], i, j);
            sc[1] += (double)X[m].rows * (double)X[m].cols;
        }
        if (dist && cli_dist_sum(dist, sc, 2) != 0) return 1;
        const double mean = sc[0] / sc[1];
        double s2 = 0;
        for (size_t m = 0; m < nX; m++)
            for (size_t i = 0; i < X[m].rows; i++)
                for (size_t j = 0; j < X[m].cols; j++)
                    s2 += (TL_AT(X[m], i, j) - mean) * (TL_AT(X[m], i, j) - mean);
        if (dist && cli_dist_sum(dist, &s2, 1) != 0) return 1;
        const double sd = sqrt(s2 / sc[1]);
        *shift = (float)mean;
        *scale = sd > 0 ? (float)(1.0 / sd) : 1.0f;
    } else if (strcmp(norm, "none") != 0) {
        char *end;
        *shift = strtof(norm, &end);
        bool ok = *end == ',';
        if (ok) {
            *scale = strtof(end + 1, &end);
            ok = !*end && isfinite(*scale) && isfinite(*shift) && *scale != 0;
        }
        if (!ok) {
            cli_fail("--input-norm: '%s' is not auto, none or SHIFT,SCALE", norm);
            return 2;
        }
    }
    return 0;
}

static int run_train(cli_args *a) {
    if (a->npos) return cli_usage("unexpected argument '%s'", a->pos[0]);
    if (cli_get_all(a, "tasks", NULL, 0)) return cli_train_tasks(a);
    tl_nn_train_params p;
    if (!cli_nn_train_params(a, &p)) return 2;
    const char *arch_arg = cli_get(a, "arch"), *save = cli_get(a, "save");
    if (!arch_arg) return cli_usage("--arch is required (see 'tl help train')");
    if (!save) return cli_usage("--save is required: where should the model go?");
    uint64_t seed;
    if (!cli_get_u64(a, "seed", &seed)) return 2;
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    p.ctx = &ctx;
    int rc = 1;
    char *arch = NULL;
    tl_dataset *ds = NULL;
    tl_nn *nn = NULL;
    float *x = NULL;
    int *cls = NULL, *y4 = NULL;
    cli_nn_data test = {0};
    tl_status st;
    const bool rot = cli_flag(a, "rotation-labels");
    /* under mpirun: data-parallel, each process with its block of the rows (dist_common.h) */
    cli_dist dist;
    size_t n_total;
    if ((rc = cli_dist_begin(&dist)) != 0) return rc;
    rc = 1;
    if (dist.rank != 0) ctx.log = NULL, ctx.progress = NULL; /* rank 0 speaks for the job */
    if (dist.size > 1 && rot) {
        cli_fail("--rotation-labels is not data-parallel yet: run it as one process");
        goto done;
    }
    if (cli_nn_load_shard(a, cli_get(a, "data"), true, &dist, &ds, &n_total) != 0) goto done;
    size_t n = tl_dataset_rows(ds);
    const size_t d = tl_dataset_cols(ds);
    if (!tl_dataset_has_labels(ds)) {
        cli_fail("'%s' has no labels: training needs them", tl_dataset_name(ds));
        goto done;
    }
    size_t shape[3];
    if (!cli_nn_parse_shape(cli_get(a, "input-shape"), d, shape)) {
        cli_fail("--input-shape: '%s' is not CxHxW", cli_get(a, "input-shape"));
        rc = 2;
        goto done;
    }
    if (shape[0] * shape[1] * shape[2] != d) {
        cli_fail("--input-shape %zux%zux%zu has %zu values but '%s' has %zu features", shape[0],
                 shape[1], shape[2], shape[0] * shape[1] * shape[2], tl_dataset_name(ds), d);
        goto done;
    }
    if (rot && shape[1] != shape[2]) {
        cli_fail("--rotation-labels needs square images; the input shape is %zux%zux%zu", shape[0],
                 shape[1], shape[2]);
        goto done;
    }
    if (rot && !(y4 = turn_labels(tl_dataset_labels_const(ds), n, tl_dataset_name(ds))))
        goto done; /* the joint labels y * 4 + turns, for the head check below */
    arch = cli_nn_read_arch(arch_arg);
    if (!arch) {
        cli_fail("--arch: cannot read '%s'", arch_arg);
        goto done;
    }
    st = tl_nn_create(arch, shape[0], shape[1], shape[2], seed, &nn);
    if (st != TL_OK) {
        cli_fail_status(st, "--arch");
        goto done;
    }
    /* labels: the data's classes when they fill the head, else 0..K-1 must cover them */
    size_t nc;
    const int *y = rot ? y4 : tl_dataset_labels_const(ds);
    if (cli_nn_classes_of(y, rot ? 4 * n : n, &cls, &nc) != 0) goto done;
    if (cli_dist_classes(&dist, &cls, &nc) != 0) goto done;
    const size_t K = tl_nn_output_dim(nn);
    if (nc == K) {
        st = tl_nn_set_labels(nn, cls, nc);
        if (st != TL_OK) {
            cli_fail_status(st, "labels");
            goto done;
        }
    } else if (cls[0] < 0 || (size_t)cls[nc - 1] >= K) {
        cli_fail("the network's last layer has %zu outputs but '%s' has %zu classes (%d..%d): end "
                 "the architecture with dense:%zu",
                 K, tl_dataset_name(ds), nc, cls[0], cls[nc - 1], nc);
        goto done;
    }
    if (cli_get(a, "label-names") &&
        (st = tl_nn_set_label_names(nn, cli_get(a, "label-names"))) != TL_OK) {
        rc = cli_fail_status(st, "--label-names") + 1; /* a usage error */
        goto done;
    }
    /* input normalisation */
    float shift, scale;
    {
        tl_mat X = tl_dataset_dense(ds);
        int nrc = cli_nn_input_norm(cli_get(a, "input-norm"), &X, 1, &dist, &shift, &scale);
        if (nrc) {
            rc = nrc;
            goto done;
        }
    }
    tl_nn_set_input_norm(nn, shift, scale);
    if (cli_get(a, "init")) {
        tl_nn_import_report rep;
        st = tl_nn_import_safetensors(nn, cli_get(a, "init"), cli_get(a, "name-map"), false, &rep);
        if (rep.n_unexpected)
            cli_warn("%zu tensors of '%s' matched nothing:\n%s", rep.n_unexpected, cli_get(a, "init"),
                     rep.unexpected);
        tl_nn_import_report_free(&rep);
        if (st != TL_OK) {
            cli_fail_status(st, "--init");
            goto done;
        }
    }
    x = malloc(n * d * sizeof *x);
    if (!x) {
        cli_fail("out of memory for %zu samples", n);
        goto done;
    }
    st = tl_nn_input_from_mat(nn, tl_dataset_dense(ds), x);
    if (st != TL_OK) {
        cli_fail_status(st, "'%s'", tl_dataset_name(ds));
        goto done;
    }
    if (rot) { /* the turned copies of the normalised images */
        float *x4 = turn_images(x, n, shape[0], shape[1]);
        if (!x4) goto done;
        free(x);
        x = x4;
        n *= 4;
    }
    if (dist.rank == 0)
        cli_info(a, "train: %s on %zu samples of '%s' (%zu classes), %zu trainable parameters%s",
                 arch, dist.size > 1 ? n_total : n, tl_dataset_name(ds), nc, tl_nn_param_scalars(nn),
                 dist.size > 1 ? ", data-parallel" : "");
    tl_nn_train_result r;
    if (dist.size > 1) {
        p.comm = tl_dist_comm(dist.d);
        p.rows_total = n_total;
    }
    st = tl_nn_train(nn, &p, x, y, n, &r);
    cli_nn_progress_end();
    if (dist.rank != 0) { /* rank 0 saves, scores and reports */
        rc = st == TL_OK || r.nonfinite ? 0 : cli_fail_status(st, "training (rank %d)", dist.rank);
        goto done;
    }
    if (st != TL_OK && !r.nonfinite) {
        cli_fail_status(st, "training");
        goto done;
    }
    tl_status sst = tl_nn_save(nn, save);
    if (sst != TL_OK) {
        cli_fail_status(sst, "saving the model");
        goto done;
    }
    if (cli_get(a, "export-safetensors")) {
        sst = tl_nn_export_safetensors(nn, cli_get(a, "export-safetensors"), NULL);
        if (sst != TL_OK) {
            cli_fail_status(sst, "--export-safetensors");
            goto done;
        }
    }
    if (st != TL_OK) { /* NaN: the last good model was saved */
        cli_fail_status(st, "training");
        cli_warn("the model saved to '%s' holds the parameters of the last finite epoch", save);
        goto done;
    }
    double tacc = NAN, tloss = NAN;
    if (cli_get(a, "test")) {
        tl_dataset_free(ds);
        ds = NULL;
        free(x);
        x = NULL;
        if (cli_nn_load(a, cli_get(a, "test"), nn, true, false, &test) != 0) goto done;
        if (rot) { /* scored on the same task: every test image at its four turns */
            int *yy = turn_labels(test.y, test.n, "the test data");
            float *x4 = yy ? turn_images(test.x, test.n, shape[0], shape[1]) : NULL;
            if (!x4) {
                free(yy);
                goto done;
            }
            free(test.x);
            free(test.y);
            test.x = x4;
            test.y = yy;
            test.n *= 4;
        }
        if (cli_nn_eval(nn, &test, &tacc, &tloss, NULL) != 0) goto done;
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "train");
        tl_json_str(&j, "arch", tl_nn_arch(nn));
        tl_json_str(&j, "output", save);
        tl_json_int(&j, "n_rows", (long long)(dist.size > 1 ? n_total : n));
        if (dist.size > 1) tl_json_int(&j, "processes", dist.size);
        tl_json_int(&j, "n_classes", (long long)nc);
        tl_json_int(&j, "parameters", (long long)tl_nn_param_scalars(nn));
        tl_json_int(&j, "epochs", (long long)r.epochs_run);
        tl_json_int(&j, "best_epoch", (long long)r.best_epoch);
        cli_nn_json_result(&j, &r, tacc, tloss, test.n);
        if (r.resumed_after) tl_json_int(&j, "resumed_after_epoch", (long long)r.resumed_after);
        tl_json_num(&j, "samples_per_s", r.samples_per_s);
        rc = cli_json_finish(&j);
    } else {
        printf("%-18s %s\n", "model", save);
        printf("%-18s %s (%zu parameters)\n", "arch", tl_nn_arch(nn), tl_nn_param_scalars(nn));
        printf("%-18s %zu samples, %zu classes\n", "train", dist.size > 1 ? n_total : n, nc);
        if (dist.size > 1) printf("%-18s %d (data-parallel)\n", "processes", dist.size);
        printf("%-18s %zu%s\n", "epochs", r.epochs_run, r.stopped_early ? " (early stop)" : "");
        if (r.resumed_after)
            printf("%-18s after epoch %zu, from %s\n", "resumed", r.resumed_after, p.checkpoint);
        printf("%-18s loss %.4f, accuracy %.2f %%\n", "last epoch", r.train_loss, 100 * r.train_acc);
        if (!isnan(r.val_acc)) printf("%-18s %.2f %% (epoch %zu)\n", "validation", 100 * r.val_acc, r.best_epoch);
        if (!isnan(tacc)) printf("%-18s %.2f %% on %zu samples\n", "test accuracy", 100 * tacc, test.n);
        printf("%-18s %.2f s (%.0f samples/s)\n", "time", r.seconds, r.samples_per_s);
        rc = 0;
    }
done:
    free(arch);
    free(x);
    free(y4);
    tl_free(cls);
    tl_dataset_free(ds);
    cli_nn_data_free(&test);
    tl_nn_free(nn);
    return cli_dist_end(&dist, rc);
}

const cli_command cmd_train = {"train", "train a neural network (pre-training, or a from-scratch baseline)",
                               "--arch A --data SPEC --save FILE.tlm [options]", train_opts, run_train, 0, NULL};
