/* Shared behaviour of the `tl` subcommands: error reporting in one format ("tl CMD: what: why"),
 * loading data with the common options, aligning feature counts, per-domain preprocessing, the
 * unknown-label check, and the evaluation figures every result reports. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_fail_status(tl_status st, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *detail = tl_error_message();
    fprintf(stderr, "tl %s: %s: %s\n", cli_cmd_name, what, detail[0] ? detail : tl_status_name(st));
    return 1;
}

static void vsay(const char *fmt, va_list ap) {
    fprintf(stderr, "tl %s: ", cli_cmd_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

void cli_info(const cli_args *a, const char *fmt, ...) {
    if (cli_flag(a, "quiet")) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "tl %s: warning: ", cli_cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool cli_regression(const cli_args *a) {
    const char *t = cli_has_opt(a, "task") ? cli_get(a, "task") : NULL;
    return t && strcmp(t, "regression") == 0;
}

bool cli_load_opts(const cli_args *a, tl_load_opts *o) {
    *o = tl_load_opts_default();
    const char *task = cli_has_opt(a, "task") ? cli_get(a, "task") : NULL;
    if (task && strcmp(task, "classification") != 0 && strcmp(task, "regression") != 0) {
        cli_fail("--task: '%s' is not one of classification, regression", task);
        return false;
    }
    const char *fmt = cli_get(a, "format");
    if (fmt && strcmp(fmt, "auto") != 0 && tl_format_parse(fmt, &o->format) != TL_OK) {
        cli_fail("--format: unknown format '%s' (auto, csv, svmlight, mat, npy, idx)", fmt);
        return false;
    }
    const char *lc = cli_get(a, "label-col");
    if (lc && strcmp(lc, "none") == 0) {
        o->label_col = TL_LABEL_COL_NONE;
    } else if (lc) {
        char *end;
        long v = strtol(lc, &end, 10);
        if (end == lc || *end) {
            /* not a number: a header name */
            o->label_name = lc;
        } else {
            o->label_col = v;
        }
    }
    const char *h = cli_get(a, "header");
    if (h) {
        if (strcmp(h, "auto") == 0) o->csv_header = -1;
        else if (strcmp(h, "yes") == 0) o->csv_header = 1;
        else if (strcmp(h, "no") == 0) o->csv_header = 0;
        else {
            cli_fail("--header: '%s' is not one of auto, yes, no", h);
            return false;
        }
    }
    const char *ib = cli_get(a, "index-base");
    if (ib) {
        if (strcmp(ib, "auto") == 0) o->index_base = -1;
        else if (strcmp(ib, "0") == 0) o->index_base = 0;
        else if (strcmp(ib, "1") == 0) o->index_base = 1;
        else {
            cli_fail("--index-base: '%s' is not one of auto, 0, 1", ib);
            return false;
        }
    }
    return true;
}

/* --columns LIST: "0-799", "0-9,20,30-39" (0-based, inclusive, increasing). Fills cols (cap) and
 * *k; false on a malformed list. */
static bool parse_columns(const char *spec, size_t *cols, size_t cap, size_t *k) {
    const char *s = spec;
    size_t n = 0;
    long long last = -1;
    while (*s) {
        char *end;
        if (*s < '0' || *s > '9') return false;
        unsigned long long lo = strtoull(s, &end, 10), hi = lo;
        s = end;
        if (*s == '-') {
            s++;
            if (*s < '0' || *s > '9') return false;
            hi = strtoull(s, &end, 10);
            s = end;
        }
        if (hi < lo || (long long)lo <= last || hi > (1ULL << 40)) return false;
        for (unsigned long long c = lo; c <= hi; c++) {
            if (n >= cap) return false;
            cols[n++] = (size_t)c;
        }
        last = (long long)hi;
        if (*s == ',') {
            s++;
            if (!*s) return false;
        } else if (*s) {
            return false;
        }
    }
    *k = n;
    return n > 0;
}

/* Replace *ds by its columns cols (k, increasing). Dense data must have them; sparse data (whose
 * width is the largest index seen) reads missing columns as zeros. */
static tl_status select_columns(tl_dataset **ds, const size_t *cols, size_t k) {
    tl_dataset *in = *ds, *out = NULL;
    size_t n = tl_dataset_rows(in), d = tl_dataset_cols(in);
    const int *y = tl_dataset_labels_const(in);
    tl_status st = TL_OK;
    if (!tl_dataset_is_sparse(in)) {
        if (cols[k - 1] >= d) {
            cli_fail("--columns: column %zu is beyond the %zu features of '%s'", cols[k - 1], d,
                     tl_dataset_name(in));
            return TL_ERR_SHAPE;
        }
        st = tl_dataset_create_dense(n, k, false, &out);
        if (st == TL_OK) {
            tl_mat X = tl_dataset_dense(in), Y = tl_dataset_dense(out);
            for (size_t i = 0; i < n; i++)
                for (size_t q = 0; q < k; q++) TL_AT(Y, i, q) = TL_AT(X, i, cols[q]);
        }
    } else {
        tl_csr c = tl_dataset_csr(in);
        long *pos = malloc((d ? d : 1) * sizeof *pos);
        size_t *ip = malloc((n + 1) * sizeof *ip);
        int32_t *ix = malloc((c.nnz ? c.nnz : 1) * sizeof *ix);
        double *v = malloc((c.nnz ? c.nnz : 1) * sizeof *v);
        st = pos && ip && ix && v ? TL_OK : TL_ERR_NOMEM;
        if (st == TL_OK) {
            for (size_t j = 0; j < d; j++) pos[j] = -1;
            for (size_t q = 0; q < k && cols[q] < d; q++) pos[cols[q]] = (long)q;
            size_t e = 0;
            ip[0] = 0;
            for (size_t i = 0; i < n; i++) {
                for (size_t t = c.indptr[i]; t < c.indptr[i + 1]; t++)
                    if (pos[c.indices[t]] >= 0) ix[e] = (int32_t)pos[c.indices[t]], v[e++] = c.values[t];
                ip[i + 1] = e;
            }
            tl_csr sel = {n, k, e, ip, ix, v};
            st = k <= INT32_MAX ? tl_dataset_from_csr(sel, NULL, &out) : TL_ERR_SHAPE;
        }
        free(pos);
        free(ip);
        free(ix);
        free(v);
    }
    if (st == TL_OK && y) st = tl_dataset_set_labels(out, y);
    size_t nnames = 0;
    const char *const *names = tl_dataset_class_names(in, &nnames);
    if (st == TL_OK && names) st = tl_dataset_set_class_names(out, names, nnames);
    if (st == TL_OK && tl_dataset_weights(in)) st = tl_dataset_set_weights(out, tl_dataset_weights(in));
    if (st == TL_OK) st = tl_dataset_set_name(out, tl_dataset_name(in));
    if (st != TL_OK) {
        tl_dataset_free(out);
        return cli_fail_status(st, "--columns on '%s'", tl_dataset_name(in)), st;
    }
    tl_dataset_free(in);
    *ds = out;
    return TL_OK;
}

int cli_check_common(const cli_args *a) {
    uint64_t seed;
    long threads;
    if (!cli_get_u64(a, "seed", &seed) || !cli_get_long(a, "threads", 0, 4096, &threads))
        return CLI_EXIT_USAGE;
    if (cli_has_opt(a, "format") || cli_has_opt(a, "header") || cli_has_opt(a, "index-base")) {
        tl_load_opts o;
        if (!cli_load_opts(a, &o)) return CLI_EXIT_USAGE;
    }
    const char *cspec = cli_get(a, "columns");
    if (cspec) {
        size_t cap = 1u << 20, k = 0;
        size_t *cols = malloc(cap * sizeof *cols);
        if (!cols) return cli_fail("out of memory");
        bool good = parse_columns(cspec, cols, cap, &k);
        free(cols);
        if (!good)
            return cli_usage("--columns: '%s' is not an increasing list of 0-based columns and "
                             "ranges (e.g. 0-799,900)", cspec);
    }
    const char *pre = cli_get(a, "preprocess");
    tl_preprocess p;
    if (pre && tl_preprocess_parse(pre, &p) != TL_OK)
        return cli_usage("--preprocess: %s", tl_error_message());
    const char *fit = cli_get(a, "preprocess-fit");
    if (fit && strcmp(fit, "domain") != 0 && strcmp(fit, "source") != 0)
        return cli_usage("--preprocess-fit: '%s' is not one of domain, source", fit);
    /* every output file, checked before any work: a typo in a path costs no minutes of fitting
     * (a runtime error: the path is fine as text, the file system refuses it) */
    static const char *const outputs[] = {"save", "save-mapping", "save-pipeline", "out",
                                          "out-source", "out-target", "export-safetensors", "log",
                                          "report"};
    for (size_t k = 0; k < sizeof outputs / sizeof outputs[0]; k++) {
        const char *path = cli_has_opt(a, outputs[k]) ? cli_get(a, outputs[k]) : NULL;
        tl_status st = path ? tl_wfile_check(path) : TL_OK;
        if (st != TL_OK) return cli_fail_status(st, "--%s", outputs[k]);
    }
    return 0;
}

tl_status cli_load(const cli_args *a, const char *spec, tl_dataset **out) {
    tl_load_opts o;
    *out = NULL;
    if (!cli_load_opts(a, &o)) return TL_ERR_INVALID_ARG;
    const char *cspec = cli_get(a, "columns");
    size_t *cols = NULL, k = 0;
    if (cspec) {
        size_t cap = 1u << 20;
        cols = malloc(cap * sizeof *cols);
        if (!cols) return cli_fail("out of memory"), TL_ERR_NOMEM;
        if (!parse_columns(cspec, cols, cap, &k)) {
            free(cols);
            cli_fail("--columns: '%s' is not an increasing list of 0-based columns and ranges "
                     "(e.g. 0-799,900)", cspec);
            return TL_ERR_INVALID_ARG;
        }
    }
    tl_status st = cli_regression(a) ? tl_dataset_load_targets(spec, &o, out)
                                     : tl_dataset_load(spec, &o, out);
    if (st != TL_OK) cli_fail_status(st, "cannot load '%s'", spec);
    if (st == TL_OK && cols && (st = select_columns(out, cols, k)) != TL_OK) {
        tl_dataset_free(*out);
        *out = NULL;
    }
    free(cols);
    return st;
}

tl_status cli_align_features(tl_dataset *a, tl_dataset *b) {
    size_t da = tl_dataset_cols(a), db = tl_dataset_cols(b);
    if (da == db) return TL_OK;
    if (tl_dataset_is_sparse(a) && tl_dataset_is_sparse(b)) {
        size_t d = da > db ? da : db;
        tl_status st = tl_dataset_set_cols(da < d ? a : b, d);
        if (st != TL_OK) cli_fail_status(st, "aligning feature counts");
        return st;
    }
    cli_fail("'%s' has %zu features but '%s' has %zu: source and target must share a feature space",
             tl_dataset_name(a), da, tl_dataset_name(b), db);
    return TL_ERR_SHAPE;
}

tl_status cli_preprocess(const cli_args *a, tl_dataset **ds, const int *test_of, size_t n) {
    tl_preprocess p;
    const char *spec = cli_get(a, "preprocess");
    tl_status st = tl_preprocess_parse(spec ? spec : "none", &p);
    if (st != TL_OK) return cli_fail_status(st, "--preprocess"), st;
    if (p.nsteps == 0) return TL_OK;
    const char *mode = cli_get(a, "preprocess-fit");
    bool per_domain = !mode || strcmp(mode, "domain") == 0;
    if (!per_domain && strcmp(mode, "source") != 0) {
        cli_fail("--preprocess-fit: '%s' is not one of domain, source", mode);
        return TL_ERR_INVALID_ARG;
    }
    tl_scaler **sc = calloc(n, sizeof *sc);
    if (!sc) return TL_ERR_NOMEM;
    for (size_t i = 0; i < n && st == TL_OK; i++) {
        if (!ds[i]) continue;
        const tl_scaler *use = NULL;
        if (!per_domain && i > 0) use = sc[0];
        else if (test_of && test_of[i] >= 0) use = sc[test_of[i]];
        if (!use) {
            st = tl_scaler_fit(&p, ds[i], &sc[i]);
            if (st != TL_OK) {
                cli_fail_status(st, "preprocessing '%s'", tl_dataset_name(ds[i]));
                break;
            }
            use = sc[i];
        }
        st = tl_scaler_apply(use, ds[i]);
        if (st != TL_OK) cli_fail_status(st, "preprocessing '%s'", tl_dataset_name(ds[i]));
    }
    for (size_t i = 0; i < n; i++) tl_scaler_free(sc[i]);
    free(sc);
    return st;
}

int cli_check_label_overlap(const cli_args *a, const tl_dataset *train, const tl_dataset *eval) {
    const int *ytr = tl_dataset_labels_const(train), *yev = tl_dataset_labels_const(eval);
    if (!ytr) return cli_fail("'%s' has no labels: the source must be labelled", tl_dataset_name(train));
    if (!yev) return cli_fail("'%s' has no labels: accuracy needs a labelled evaluation set",
                              tl_dataset_name(eval));
    int *cls = NULL;
    size_t c = 0;
    tl_status st = tl_labels_unique(ytr, tl_dataset_rows(train), &cls, NULL, &c);
    if (st != TL_OK) return cli_fail_status(st, "labels of '%s'", tl_dataset_name(train));
    size_t unknown = 0, first = 0;
    for (size_t i = 0; i < tl_dataset_rows(eval); i++)
        if (tl_labels_index(cls, c, yev[i]) < 0 && unknown++ == 0) first = i;
    tl_free(cls);
    if (!unknown) return 0;
    if (cli_flag(a, "allow-unknown-labels")) {
        cli_warn("%zu samples of '%s' have labels the source never saw (first: label %d at row "
                 "%zu); they count as errors",
                 unknown, tl_dataset_name(eval), yev[first], first + 1);
        return 0;
    }
    return cli_fail("'%s' row %zu has label %d, which does not occur in '%s' (%zu such samples); "
                    "pass --allow-unknown-labels to score them as errors",
                    tl_dataset_name(eval), first + 1, yev[first], tl_dataset_name(train), unknown);
}

tl_status cli_evaluate(const int *y, const int *pred, size_t n, cli_eval *out) {
    out->n = n;
    out->accuracy = tl_accuracy(y, pred, n);
    tl_status st = tl_balanced_accuracy(y, pred, n, &out->balanced_accuracy);
    if (st == TL_OK) st = tl_macro_f1(y, pred, n, &out->macro_f1);
    return st;
}

bool cli_learner(const cli_args *a, tl_params **out) {
    const char *name = cli_get(a, "learner");
    if (cli_regression(a) && !cli_given(a, "learner")) name = "ridge"; /* a regressor */
    *out = NULL;
    const tl_method *m = tl_method_find(name ? name : "1nn", TL_FAMILY_LEARNER);
    if (!m) return cli_fail_status(TL_ERR_INVALID_ARG, "--learner"), false;
    if (tl_params_create(m, out) != TL_OK) return cli_fail_status(TL_ERR_NOMEM, "--learner"), false;
    /* the learners share one option set: each takes the ones it has (as --learner-NAME where
     * the command's method has a parameter of that name) */
    for (size_t i = 0; i < tl_method_param_count(m); i++) {
        const char *pn = tl_method_param(m, i)->name, *opt = pn;
        char prefixed[96];
        snprintf(prefixed, sizeof prefixed, "learner-%s", pn);
        for (size_t k = 0; a->table[k].name[0]; k++)
            if (strcmp(a->table[k].name, prefixed) == 0) opt = prefixed;
        if (!cli_given(a, opt)) continue;
        if (tl_params_set(*out, pn, cli_get(a, opt)) != TL_OK) {
            cli_fail_status(TL_ERR_INVALID_ARG, "--%s", opt);
            tl_params_free(*out);
            *out = NULL;
            return false;
        }
    }
    return true;
}

bool cli_learner_params(const cli_args *a, tl_learner_params *p) {
    tl_params *lp = NULL;
    uint64_t seed;
    long threads;
    if (!cli_get_u64(a, "seed", &seed) || !cli_get_long(a, "threads", 0, 4096, &threads))
        return false;
    if (!cli_learner(a, &lp)) return false;
    tl_status st = tl_learner_params_from(lp, seed, p);
    tl_params_free(lp);
    if (st != TL_OK) return cli_fail_status(st, "learner parameters"), false;
    p->threads = (int)threads;
    return true;
}

void cli_domains_free(cli_domains *d) {
    tl_dataset_free(d->source);
    tl_dataset_free(d->target);
    tl_dataset_free(d->test);
    tl_dataset_free(d->labelled);
    d->source = d->target = d->test = d->labelled = NULL;
}

tl_dataset *cli_eval_set(const cli_domains *d) { return d->test ? d->test : d->target; }

int cli_unify_sets(tl_dataset **sets, size_t n) {
    tl_status st = tl_datasets_unify_index_base(sets, n, NULL);
    if (st == TL_OK) st = tl_datasets_unify_classes(sets, n);
    return st == TL_OK ? 0 : cli_fail_status(st, "reading the files together");
}

int cli_load_domains(const cli_args *a, cli_domains *d) {
    d->source = d->target = d->test = d->labelled = NULL;
    const char *s = cli_get(a, "source"), *t = cli_get(a, "target"), *tt = cli_get(a, "target-test");
    const char *tl = cli_get(a, "target-labelled");
    if (!s || !t) return cli_usage("--source and --target are required (see 'tl help %s')", cli_cmd_name);
    if (cli_load(a, s, &d->source) != TL_OK || cli_load(a, t, &d->target) != TL_OK ||
        (tt && cli_load(a, tt, &d->test) != TL_OK) || (tl && cli_load(a, tl, &d->labelled) != TL_OK))
        goto fail;
    if (tl_dataset_rows(d->source) == 0 || tl_dataset_rows(d->target) == 0) {
        cli_fail("'%s' is empty: both domains need samples",
                 tl_dataset_rows(d->source) == 0 ? s : t);
        goto fail;
    }
    tl_dataset *sets[4] = {d->source, d->target, d->test, d->labelled};
    if (cli_unify_sets(sets, 4) != 0) goto fail;
    if (cli_align_features(d->source, d->target) != TL_OK) goto fail;
    /* a second pass widens every sparse set to the largest feature count seen */
    for (int pass = 0; pass < 2; pass++) {
        if (d->test && (cli_align_features(d->target, d->test) != TL_OK ||
                        cli_align_features(d->source, d->target) != TL_OK))
            goto fail;
        if (d->labelled && (cli_align_features(d->target, d->labelled) != TL_OK ||
                            cli_align_features(d->source, d->target) != TL_OK))
            goto fail;
    }
    tl_dataset *all[4] = {d->source, d->target, d->test, d->labelled};
    int test_of[4] = {-1, -1, 1, 1};
    if (cli_preprocess(a, all, test_of, 4) != TL_OK) goto fail;
    if (cli_regression(a)) { /* values, not classes: nothing to overlap */
        if (!tl_dataset_has_targets(d->source)) {
            cli_fail("'%s' has no regression targets: the source must have them", s);
            goto fail;
        }
        return 0;
    }
    if (cli_check_label_overlap(a, d->source, cli_eval_set(d)) != 0) goto fail;
    if (d->labelled && !tl_dataset_has_labels(d->labelled)) {
        cli_fail("'%s' has no labels: --target-labelled needs labelled rows", tl);
        goto fail;
    }
    return 0;
fail:
    cli_domains_free(d);
    return 1;
}

const char *cli_learner_label(const tl_learner_params *p) {
    static _Thread_local char buf[32];
    if (p->type != TL_LEARNER_KNN) return tl_learner_name(p->type);
    snprintf(buf, sizeof buf, "%zunn", p->k);
    return buf;
}
