/* Shared behaviour of the neural-network subcommands: data specs with class filters and per-class
 * label budgets (how the source and target tasks of a transfer experiment are carved out of one
 * data set), conversion to a model's float32 input, training options, and progress display. See
 * nn_common.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_common.h"

void cli_nn_data_free(cli_nn_data *d) {
    free(d->x);
    free(d->y);
    free(d->name);
    memset(d, 0, sizeof *d);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

long cli_nn_parse_classes(const char *s, int *out, size_t cap) {
    size_t n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10), b;
        if (end == p || errno || a < -1000000000L || a > 1000000000L) return -1;
        p = end;
        if (*p == '-') {
            p++;
            b = strtol(p, &end, 10);
            if (end == p || errno || b < a || b - a > 100000) return -1;
            p = end;
        } else {
            b = a;
        }
        for (long v = a; v <= b; v++) {
            if (n == cap) return -1;
            out[n++] = (int)v;
        }
        if (*p == ',') p++;
        else if (*p) return -1;
    }
    if (!n) return -1;
    qsort(out, n, sizeof *out, cmp_int);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || out[m - 1] != out[i]) out[m++] = out[i];
    return (long)m;
}

int cli_nn_classes_of(const int *y, size_t n, int **cls, size_t *k) {
    tl_status st = tl_labels_unique(y, n, cls, NULL, k);
    if (st != TL_OK) return cli_fail_status(st, "labels");
    return 0;
}

/* Rows of ds to keep under --classes and --per-class; *idx malloc'd. */
static int select_rows(const cli_args *a, const tl_dataset *ds, bool per_class, size_t **idx,
                       size_t *m) {
    const size_t n = tl_dataset_rows(ds);
    const int *y = tl_dataset_labels_const(ds);
    const char *cs = cli_get(a, "classes"), *pc = per_class ? cli_get(a, "per-class") : NULL;
    int keep[4096];
    long nk = 0;
    *idx = NULL;
    *m = 0;
    if ((cs || pc) && !y)
        return cli_fail("'%s' has no labels: --classes and --per-class need them", tl_dataset_name(ds));
    if (cs) {
        nk = cli_nn_parse_classes(cs, keep, sizeof keep / sizeof *keep);
        if (nk < 0) return cli_usage("--classes: '%s' is not a list like 5-9 or 0,2,4", cs);
    }
    size_t *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return cli_fail("out of memory");
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (!cs || bsearch(&y[i], keep, (size_t)nk, sizeof *keep, cmp_int)) r[cnt++] = i;
    if (cs && !cnt) {
        free(r);
        return cli_fail("--classes %s: '%s' has no sample with these labels", cs, tl_dataset_name(ds));
    }
    if (pc) {
        long K;
        if (!cli_get_long(a, "per-class", 1, 100000000, &K)) {
            free(r);
            return 2;
        }
        uint64_t seed;
        if (!cli_get_u64(a, "seed", &seed)) {
            free(r);
            return 2;
        }
        int *cls = NULL;
        size_t nc = 0;
        int *yy = malloc((cnt ? cnt : 1) * sizeof *yy);
        if (!yy) {
            free(r);
            return cli_fail("out of memory");
        }
        for (size_t i = 0; i < cnt; i++) yy[i] = y[r[i]];
        if (cli_nn_classes_of(yy, cnt, &cls, &nc) != 0) {
            free(yy);
            free(r);
            return 1;
        }
        /* per class: a seeded shuffle of its rows, first K kept, then back in file order */
        tl_rng rng;
        tl_rng_seed(&rng, seed);
        size_t *pick = malloc((cnt ? cnt : 1) * sizeof *pick), *sel = malloc((cnt ? cnt : 1) * sizeof *sel);
        char *mark = calloc(cnt ? cnt : 1, 1);
        size_t short_cls = 0;
        if (!pick || !sel || !mark) {
            free(pick);
            free(sel);
            free(mark);
            free(yy);
            free(r);
            tl_free(cls);
            return cli_fail("out of memory");
        }
        for (size_t c = 0; c < nc; c++) {
            size_t np = 0;
            for (size_t i = 0; i < cnt; i++)
                if (yy[i] == cls[c]) pick[np++] = i;
            tl_rng_shuffle(&rng, pick, np);
            if (np < (size_t)K) short_cls++;
            for (size_t i = 0; i < np && i < (size_t)K; i++) mark[pick[i]] = 1;
        }
        size_t m2 = 0;
        for (size_t i = 0; i < cnt; i++)
            if (mark[i]) sel[m2++] = r[i];
        if (short_cls) cli_warn("%zu classes have fewer than %ld samples; all of theirs are used", short_cls, K);
        free(pick);
        free(mark);
        free(yy);
        free(r);
        tl_free(cls);
        r = sel;
        cnt = m2;
    }
    *idx = r;
    *m = cnt;
    return 0;
}

int cli_nn_load_raw(const cli_args *a, const char *spec, bool per_class, tl_dataset **out) {
    tl_dataset *ds = NULL, *sub = NULL;
    size_t *idx = NULL, m = 0;
    *out = NULL;
    if (!spec) return cli_usage("--data is required (see 'tl help %s')", cli_cmd_name);
    if (cli_load(a, spec, &ds) != TL_OK) return 1;
    if (tl_dataset_is_sparse(ds)) {
        tl_status st = tl_dataset_densify(ds);
        if (st != TL_OK) {
            tl_dataset_free(ds);
            return cli_fail_status(st, "'%s'", spec);
        }
    }
    if (!cli_get(a, "classes") && !(per_class && cli_get(a, "per-class"))) {
        *out = ds;
        return 0;
    }
    int rc = select_rows(a, ds, per_class, &idx, &m);
    if (rc == 0) {
        tl_status st = tl_dataset_subset(ds, idx, m, &sub);
        if (st != TL_OK) rc = cli_fail_status(st, "selecting rows of '%s'", spec);
        else tl_dataset_set_name(sub, tl_dataset_name(ds));
    }
    free(idx);
    tl_dataset_free(ds);
    *out = sub;
    return rc;
}

int cli_nn_load_shard(const cli_args *a, const char *spec, bool per_class, const cli_dist *dist,
                      tl_dataset **out, size_t *total) {
    *out = NULL;
    if (!spec) return cli_usage("--data is required (see 'tl help %s')", cli_cmd_name);
    if (cli_get(a, "classes") || (per_class && cli_get(a, "per-class"))) { /* a selection first */
        int rc = cli_nn_load_raw(a, spec, per_class, out);
        return rc ? rc : cli_dist_shard(dist, out, total);
    }
    int rc = cli_dist_load(dist, a, spec, out, total);
    if (rc == 0 && tl_dataset_is_sparse(*out)) {
        tl_status st = tl_dataset_densify(*out);
        if (st != TL_OK) rc = cli_fail_status(st, "'%s'", spec);
    }
    if (rc) {
        tl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

int cli_nn_load(const cli_args *a, const char *spec, tl_nn *nn, bool need_labels, bool per_class,
                cli_nn_data *out) {
    tl_dataset *ds = NULL;
    memset(out, 0, sizeof *out);
    int rc = cli_nn_load_raw(a, spec, per_class, &ds);
    if (rc) return rc;
    const size_t n = tl_dataset_rows(ds), d = tl_nn_input_dim(nn);
    if (!n) {
        tl_dataset_free(ds);
        return cli_fail("'%s' has no samples", spec);
    }
    if (need_labels && !tl_dataset_has_labels(ds)) {
        tl_dataset_free(ds);
        return cli_fail("'%s' has no labels", spec);
    }
    out->x = malloc(n * d * sizeof *out->x);
    out->name = strdup(tl_dataset_name(ds));
    if (tl_dataset_has_labels(ds)) out->y = malloc(n * sizeof *out->y);
    if (!out->x || !out->name || (tl_dataset_has_labels(ds) && !out->y)) {
        tl_dataset_free(ds);
        cli_nn_data_free(out);
        return cli_fail("out of memory for %zu samples", n);
    }
    tl_status st = tl_nn_input_from_mat(nn, tl_dataset_dense(ds), out->x);
    if (st != TL_OK) {
        cli_fail_status(st, "'%s' does not fit the model", spec);
        tl_dataset_free(ds);
        cli_nn_data_free(out);
        return 1;
    }
    if (out->y) memcpy(out->y, tl_dataset_labels_const(ds), n * sizeof *out->y);
    out->n = n;
    out->d = d;
    tl_dataset_free(ds);
    return 0;
}

bool cli_nn_train_params(const cli_args *a, tl_nn_train_params *p) {
    *p = tl_nn_train_params_default();
    long v;
    double x;
    tl_status st;
    if (!cli_get_long(a, "epochs", 1, 1000000, &v)) return false;
    p->epochs = (size_t)v;
    if (!cli_get_long(a, "batch", 1, 65536, &v)) return false;
    p->batch_size = (size_t)v;
    if ((st = tl_nn_optimizer_parse(cli_get(a, "optimizer"), &p->optimizer)) != TL_OK)
        return cli_fail_status(st, "--optimizer"), false;
    if (!cli_get_double(a, "lr", 1e-12, 1e6, &p->lr)) return false;
    if (!cli_get_double(a, "momentum", 0, 0.999999, &p->momentum)) return false;
    p->nesterov = cli_flag(a, "nesterov");
    if (!cli_get_double(a, "wd", 0, 1000, &p->weight_decay)) return false;
    if ((st = tl_nn_schedule_parse(cli_get(a, "schedule"), &p->schedule)) != TL_OK)
        return cli_fail_status(st, "--schedule"), false;
    if (!cli_get_long(a, "step-epochs", 1, 1000000, &v)) return false;
    p->step_epochs = (size_t)v;
    if (!cli_get_double(a, "gamma", 1e-12, 1, &p->step_gamma)) return false;
    if (!cli_get_double(a, "warmup", 0, 1e6, &p->warmup_epochs)) return false;
    if ((st = tl_nn_loss_parse(cli_get(a, "loss"), &p->loss)) != TL_OK)
        return cli_fail_status(st, "--loss"), false;
    if (!cli_get_double(a, "label-smoothing", 0, 0.999999, &p->label_smoothing)) return false;
    if (!cli_get_double(a, "val-split", 0, 0.999999, &p->val_fraction)) return false;
    if (!cli_get_long(a, "patience", 0, 1000000, &v)) return false;
    p->patience = (size_t)v;
    const char *aug = cli_get(a, "augment");
    if (aug && strcmp(aug, "none") != 0) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", aug);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (strcmp(tok, "flip") == 0) {
                p->flip = true;
            } else if (strncmp(tok, "crop:", 5) == 0) {
                char *end;
                long pad = strtol(tok + 5, &end, 10);
                if (end == tok + 5 || *end || pad < 1 || pad > 64)
                    return cli_fail("--augment: '%s': crop:PAD needs PAD in 1..64", tok), false;
                p->crop_pad = (size_t)pad;
            } else {
                return cli_fail("--augment: unknown '%s' (crop:PAD, flip)", tok), false;
            }
        }
    }
    p->log_csv = cli_get(a, "log");
    p->step_log = cli_get(a, "step-log");
    p->checkpoint = cli_get(a, "checkpoint");
    uint64_t seed;
    if (!cli_get_u64(a, "seed", &seed)) return false;
    p->seed = seed;
    (void)x;
    st = tl_nn_train_params_check(p);
    if (st != TL_OK) return cli_fail_status(st, "training options"), false;
    return true;
}

/* ---- progress ---- */

static bool bar_drawn;
static double bar_t0 = -1, bar_f; /* start and last fraction; a smaller fraction starts a new run
                                   * (finetune trains its scratch baseline after the transfer) */

static void progress(void *user, const char *stage, double f) {
    (void)user;
    const double t = cli_now();
    if (bar_t0 < 0 || f <= 0 || f < bar_f) bar_t0 = t;
    bar_f = f;
    char eta[32] = "";
    if (f > 0.02 && f < 1) snprintf(eta, sizeof eta, " ETA %.0fs", (t - bar_t0) * (1 - f) / f);
    const int w = 24, fill = (int)(f * w + 0.5);
    fprintf(stderr, "\r[%.*s%.*s] %3.0f%% %s%s\033[K", fill, "########################", w - fill,
            "........................", 100 * f, stage, eta);
    bar_drawn = true;
}

/* When stderr is not a terminal (a pipe, a log file) a bar's carriage returns would pile up on one
 * line, so a plain line is written instead, at most every plain_every seconds (3, or the
 * environment's TL_PROGRESS_EVERY) plus the last one: `make demo | cat` then shows that training
 * is alive without flooding a log. */
static double plain_every = 3.0;
static double plain_last;
static bool plain_any; /* a line of this run was written: the end gets one too */

static void progress_plain(void *user, const char *stage, double f) {
    (void)user;
    const double t = cli_now();
    if (bar_t0 < 0 || f <= 0 || f < bar_f) {
        bar_t0 = plain_last = t;
        plain_any = false;
    }
    bar_f = f;
    if (f < 1 ? t - plain_last < plain_every : !plain_any) return;
    char eta[32] = "";
    if (f > 0.02 && f < 1) snprintf(eta, sizeof eta, " ETA %.0fs", (t - bar_t0) * (1 - f) / f);
    fprintf(stderr, "%3.0f%% %s%s\n", 100 * f, stage, eta);
    fflush(stderr);
    plain_any = f < 1;
    plain_last = t;
}

void cli_nn_progress_end(void) {
    if (bar_drawn) fputc('\n', stderr);
    bar_drawn = false;
    bar_t0 = -1;
    bar_f = 0;
    plain_any = false;
}

static void log_line(void *user, tl_log_level level, const char *msg) {
    (void)user;
    (void)level;
    if (bar_drawn) fprintf(stderr, "\r\033[K");
    bar_drawn = false;
    fprintf(stderr, "%s\n", msg);
}

void cli_nn_ctx(const cli_args *a, tl_ctx *ctx) {
    *ctx = tl_ctx_default();
    long threads = 0;
    if (cli_get_long(a, "threads", 0, 4096, &threads)) ctx->threads = (int)threads;
    if (cli_flag(a, "quiet")) return;
    ctx->log = log_line;
    ctx->log_level = TL_LOG_INFO;
    ctx->progress = isatty(2) ? progress : progress_plain;
    const char *every = getenv("TL_PROGRESS_EVERY");
    if (every) {
        char *end;
        double v = strtod(every, &end);
        if (end != every && !*end && v >= 0 && v <= 86400) plain_every = v;
        else cli_warn("TL_PROGRESS_EVERY: '%s' is not a number of seconds; using %g", every, plain_every);
    }
}

char *cli_nn_read_arch(const char *arg) {
    struct stat sb;
    if (arg && stat(arg, &sb) == 0 && S_ISREG(sb.st_mode)) {
        FILE *f = fopen(arg, "rb");
        if (!f || sb.st_size > (1 << 20)) {
            if (f) fclose(f);
            return NULL;
        }
        char *s = malloc((size_t)sb.st_size + 1);
        size_t n = s ? fread(s, 1, (size_t)sb.st_size, f) : 0;
        fclose(f);
        if (s) s[n] = '\0';
        return s;
    }
    return arg ? strdup(arg) : NULL;
}

int cli_nn_eval(tl_nn *nn, const cli_nn_data *d, double *acc, double *loss, cli_eval *e) {
    tl_status st = tl_nn_evaluate(nn, d->x, d->y, d->n, acc, loss);
    if (st != TL_OK) return cli_fail_status(st, "evaluating on '%s'", d->name);
    if (e) {
        int *pred = malloc(d->n * sizeof *pred);
        if (!pred) return cli_fail("out of memory");
        st = tl_nn_predict(nn, d->x, d->n, pred);
        if (st == TL_OK) st = cli_evaluate(d->y, pred, d->n, e);
        free(pred);
        if (st != TL_OK) return cli_fail_status(st, "evaluating on '%s'", d->name);
    }
    return 0;
}

void cli_nn_json_result(tl_json *j, const tl_nn_train_result *r, double tacc, double tloss,
                        size_t n_test) {
    tl_json_num(j, "train_loss", r->train_loss);
    tl_json_num(j, "train_accuracy", r->train_acc);
    if (!isnan(r->val_acc)) tl_json_num(j, "val_accuracy", r->val_acc);
    if (!isnan(tacc)) {
        tl_json_num(j, "accuracy", tacc);
        tl_json_num(j, "test_loss", tloss);
        tl_json_int(j, "n_eval", (long long)n_test);
    }
    tl_json_num(j, "seconds", r->seconds);
}

/* --model FILE, with --model-task NAME for a multi-task model (tl train --tasks): that task's
 * trunk + head as one network. */
int cli_nn_load_model(const cli_args *a, const char *path, tl_nn **out) {
    const char *task = cli_has_opt(a, "model-task") ? cli_get(a, "model-task") : NULL;
    *out = NULL;
    if (!task) {
        tl_status st = tl_nn_load(path, out);
        return st == TL_OK ? 0 : cli_fail_status(st, "--model");
    }
    tl_nn_mtl *m = NULL;
    size_t k;
    tl_status st = tl_nn_mtl_load(path, &m);
    if (st == TL_OK) st = tl_nn_mtl_task_find(m, task, &k);
    if (st == TL_OK) st = tl_nn_mtl_task_network(m, k, out);
    tl_nn_mtl_free(m);
    return st == TL_OK ? 0 : cli_fail_status(st, "--model %s --model-task %s", path, task);
}
