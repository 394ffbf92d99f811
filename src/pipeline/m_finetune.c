/* Fine-tuning in the registry: model-based transfer with the neural engine (tl/nn.h). The source
 * is a pre-trained network (a task domain known by its network); fit copies it, optionally puts a
 * new head in place of the last dense layer or on any lower layer (--head-at drops the layers
 * above), initialised at random or by weight imprinting (Qi, Brown & Lowe, CVPR 2018), freezes
 * lower layers, scales per-layer learning rates, anchors L2-SP (Li, Grandvalet & Davoine, ICML
 * 2018), and trains on the target's labelled rows. The training loop's options are parameters of
 * the method like any other, described once here.
 *
 * The descriptor's checks parse the text parameters (reg, head-init, lr-mult, augment) so a
 * malformed value is refused before any training; layer names are checked against the network
 * at fit time. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method_internal.h"
#include "pipeline_internal.h"
#include "tl/nn.h"

static const tl_param_desc finetune_params[] = {
    {"new-head", TL_PARAM_TEXT, "", 0, 0, NULL,
     "replace the last dense layer by a fresh one with K outputs ('auto': the number of classes "
     "in the data; empty: keep the head)",
     NULL},
    {"head-at", TL_PARAM_TEXT, "", 0, 0, NULL,
     "with new-head: drop the layers above LAYER and put the new head on its output", NULL},
    {"head-init", TL_PARAM_TEXT, "random", 0, 0, NULL,
     "head rows: random, or imprint[:S]: each class's row from its samples' mean normalised "
     "embedding, logits S x cosine (S default 10)",
     NULL},
    {"freeze", TL_PARAM_INT, "0", 0, 1e6, NULL, "freeze the first N layers", NULL},
    {"freeze-until", TL_PARAM_TEXT, "", 0, 0, NULL,
     "freeze every layer up to and including LAYER (name or index)", NULL},
    {"lr-mult", TL_PARAM_TEXT, "", 0, 0, NULL,
     "per-layer learning-rate multipliers, e.g. conv1=0.1,dense2=10", NULL},
    {"reg", TL_PARAM_TEXT, "", 0, 0, NULL,
     "l2sp=ALPHA[,beta=BETA]: L2-SP toward the pre-trained weights (BETA: plain L2 on the new "
     "head)",
     NULL},
    TLX_NN_TRAIN_PARAMS};

/* "l2sp=ALPHA[,beta=BETA]" -> alpha, beta; false when malformed. */
static bool parse_reg(const char *s, double *alpha, double *beta) {
    char *end;
    *alpha = *beta = 0;
    if (!s[0]) return true;
    if (strncmp(s, "l2sp=", 5) != 0) return false;
    *alpha = strtod(s + 5, &end);
    if (end == s + 5) return false;
    if (strncmp(end, ",beta=", 6) == 0) {
        const char *b = end + 6;
        *beta = strtod(b, &end);
        if (end == b) return false;
    }
    return !*end && *alpha >= 0 && *beta >= 0 && isfinite(*alpha) && isfinite(*beta);
}

/* "random" or "imprint[:S]" -> imprint, scale; false when malformed. */
static bool parse_head_init(const char *s, bool *imprint, double *scale) {
    *imprint = false;
    *scale = 10.0;
    if (strcmp(s, "random") == 0) return true;
    if (strncmp(s, "imprint", 7) != 0 || (s[7] && s[7] != ':')) return false;
    *imprint = true;
    if (s[7] == ':') {
        char *end;
        *scale = strtod(s + 8, &end);
        if (end == s + 8 || *end) return false;
    }
    return *scale > 0 && *scale <= 1e6;
}

static tl_status ft_check(const tl_params *p, size_t n_features, size_t n_samples) {
    tl_status st = TL_OK;
    double a, b, sc;
    bool imp;
    tl_nn_train_params tp;
    (void)n_features;
    (void)n_samples;
    TL_CHECK(parse_reg(tlx_str(p, "reg"), &a, &b), TL_ERR_INVALID_ARG,
             "finetune: reg = '%s' is not l2sp=ALPHA[,beta=BETA] with non-negative numbers",
             tlx_str(p, "reg"));
    TL_CHECK(parse_head_init(tlx_str(p, "head-init"), &imp, &sc), TL_ERR_INVALID_ARG,
             "finetune: head-init = '%s' is not random or imprint[:S] with S in (0, 1e6]",
             tlx_str(p, "head-init"));
    TL_CHECK(!tlx_str(p, "head-at")[0] || tlx_str(p, "new-head")[0], TL_ERR_INVALID_ARG,
             "finetune: head-at needs --new-head (a new head to put there)");
    const char *nh = tlx_str(p, "new-head");
    if (nh[0] && strcmp(nh, "auto") != 0) {
        char *end;
        long k = strtol(nh, &end, 10);
        TL_CHECK(!*end && k >= 1 && k <= (1 << 24), TL_ERR_INVALID_ARG,
                 "finetune: new-head = '%s' is not 'auto' or a count in [1, 16777216]", nh);
    }
    TL_TRY(tlx_nn_train_params(p, NULL, &tp));
done:
    return st;
}

/* The rows a fine-tuning trains on: the target's labelled rows, else its rows. */
const tl_dataset *tlx_model_train_rows(const tl_task *t, size_t target) {
    const tl_dataset *lab = tl_task_labelled(t, target);
    return lab ? lab : tl_task_data(t, target);
}

tl_status tlx_nn_rows(const tl_nn *nn, const tl_dataset *ds, float **x) {
    tl_status st = TL_OK;
    tl_dataset *dense = NULL;
    size_t n = tl_dataset_rows(ds), d = tl_nn_input_dim(nn), cells;
    *x = NULL;
    TL_CHECK(tl_size_mul(n ? n : 1, d, &cells) == 0, TL_ERR_NOMEM, "rows: size overflow");
    TL_ALLOC(*x, cells);
    tl_mat X = tl_dataset_dense((tl_dataset *)ds);
    if (!X.data) { /* sparse rows: a dense copy first */
        TL_TRY(tl_dataset_clone(ds, &dense));
        TL_TRY(tl_dataset_densify(dense));
        X = tl_dataset_dense(dense);
    }
    st = tl_nn_input_from_mat(nn, X, *x);
    if (st != TL_OK) st = tl_fail_prefix(st, "'%s' does not fit the network", tl_dataset_name(ds));
done:
    tl_dataset_free(dense);
    if (st != TL_OK) {
        tl_free(*x);
        *x = NULL;
    }
    return st;
}

typedef struct {
    tl_nn *nn;
    tl_nn_train_result r;
    /* deep-da: the trade-off and rate it trained with, and the reverse-validation risk that
     * chose them (NaN when given); the values reverse validation tried (n_lam 0: none ran) */
    double lambda, lr, risk;
    double lam_grid[16], lr_grid[16];
    size_t n_lam, n_lr;
    /* the learning curve: (n_curve, 5) train loss, train accuracy, validation loss and accuracy,
     * deep-da's domain loss per epoch, kept for the report page (not saved with the model) */
    double *curve;
    size_t n_curve, cap_curve;
    bool curve_lost; /* an epoch could not be kept (out of memory): no curve at all */
    void (*on_epoch)(void *user, const tl_nn_epoch *e); /* the caller's own callback, and */
    void *user;                                         /* its argument */
} ft_state;

static void ft_free(void *s) {
    ft_state *f = s;
    if (!f) return;
    tl_nn_free(f->nn);
    tl_free(f->curve);
    tl_free(f);
}

/* tl_nn_train's epoch callback: keep the epoch's figures, then call the caller's callback. */
static void ft_keep_epoch(void *user, const tl_nn_epoch *e) {
    ft_state *s = user;
    if (!s->curve_lost && s->n_curve == s->cap_curve) {
        size_t cap = s->cap_curve ? 2 * s->cap_curve : 16;
        double *c = cap < SIZE_MAX / (5 * sizeof *c) ? tl_realloc(s->curve, cap * 5 * sizeof *c)
                                                    : NULL;
        if (c) s->curve = c, s->cap_curve = cap;
        else s->curve_lost = true;
    }
    if (!s->curve_lost) {
        double *row = s->curve + 5 * s->n_curve++;
        row[0] = e->train_loss, row[1] = e->train_acc, row[2] = e->val_loss, row[3] = e->val_acc;
        row[4] = e->domain_loss;
    }
    if (s->on_epoch) s->on_epoch(s->user, e);
}

static const double *ft_curve(const void *sp, size_t *n) {
    const ft_state *s = sp;
    *n = s->curve_lost ? 0 : s->n_curve;
    return *n ? s->curve : NULL;
}

static tl_status ft_fit(const tl_params *p, const tlx_fit_args *f, void **out) {
    tl_status st = TL_OK;
    ft_state *s = NULL;
    float *x = NULL;
    int *cls = NULL;
    size_t nc = 0;
    double alpha, beta, scale;
    bool imprint;
    const tl_nn *src = tl_task_network(f->task, f->source);
    const tl_dataset *tr = tlx_model_train_rows(f->task, f->target);
    TL_CHECK(src, TL_ERR_INVALID_ARG, "finetune: the source domain holds no network");
    TL_CHECK(tr && tl_dataset_has_labels(tr) && tl_dataset_rows(tr) > 0, TL_ERR_LABEL,
             "finetune: the target needs labelled rows to train on");
    const size_t n = tl_dataset_rows(tr);
    const int *y = tl_dataset_labels_const(tr);
    tl_nn_train_params tp;
    TL_TRY(tlx_nn_train_params(p, f->ctx, &tp));
    tp.comm = tl_task_comm(f->task);
    parse_reg(tlx_str(p, "reg"), &alpha, &beta);
    parse_head_init(tlx_str(p, "head-init"), &imprint, &scale);
    TL_CHECK(!(tlx_int(p, "freeze") > 0 && tlx_str(p, "freeze-until")[0]), TL_ERR_INVALID_ARG,
             "finetune: give freeze or freeze-until, not both");
    TL_CALLOC(s, 1);
    TL_TRY(tl_nn_clone(src, &s->nn));
    TL_TRY(tlx_nn_rows(s->nn, tr, &x));
    TL_TRY(tl_labels_unique(y, n, &cls, NULL, &nc));
    /* L2-SP anchors the pre-trained weights, before a new head replaces the old one */
    if (alpha > 0 || tlx_str(p, "reg")[0]) {
        TL_TRY(tl_nn_l2sp_anchor(s->nn));
        tp.l2sp_alpha = alpha;
        tp.l2sp_beta = beta;
    }
    const char *nh = tlx_str(p, "new-head"), *at = tlx_str(p, "head-at");
    if (nh[0]) {
        size_t k = strcmp(nh, "auto") == 0 ? nc : (size_t)strtol(nh, NULL, 10), li = 0;
        if (at[0]) {
            st = tl_nn_layer_find(s->nn, at, &li);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "finetune: head-at");
                goto done;
            }
            TL_TRY(tl_nn_new_head_at(s->nn, li, k, tp.seed));
        } else {
            TL_TRY(tl_nn_new_head(s->nn, k, tp.seed));
        }
        if (k == nc) TL_TRY(tl_nn_set_labels(s->nn, cls, nc));
    }
    if (imprint) {
        size_t rows;
        TL_TRY(tl_nn_imprint_head(s->nn, x, y, n, scale, &rows));
        tl_log(f->ctx, TL_LOG_INFO, "finetune: imprinted %zu head rows from %zu samples (scale %g)",
               rows, n, scale);
    }
    long fr = tlx_int(p, "freeze");
    const char *fu = tlx_str(p, "freeze-until");
    if (fr > 0) {
        TL_CHECK((size_t)fr <= tl_nn_layer_count(s->nn), TL_ERR_INVALID_ARG,
                 "finetune: freeze = %ld exceeds the %zu layers", fr, tl_nn_layer_count(s->nn));
        TL_TRY(tl_nn_freeze_until(s->nn, (size_t)fr - 1));
    } else if (fu[0]) {
        size_t li;
        st = tl_nn_layer_find(s->nn, fu, &li);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "finetune: freeze-until");
            goto done;
        }
        TL_TRY(tl_nn_freeze_until(s->nn, li));
    }
    const char *lm = tlx_str(p, "lr-mult");
    if (lm[0]) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", lm);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '='), *end;
            size_t li;
            TL_CHECK(eq, TL_ERR_INVALID_ARG, "finetune: lr-mult: '%s' is not LAYER=X", tok);
            *eq = '\0';
            double mult = strtod(eq + 1, &end);
            TL_CHECK(!*end && end != eq + 1, TL_ERR_INVALID_ARG,
                     "finetune: lr-mult: '%s' is not a number", eq + 1);
            st = tl_nn_layer_find(s->nn, tok, &li);
            if (st == TL_OK) st = tl_nn_set_lr_mult(s->nn, li, mult);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "finetune: lr-mult %s=%s", tok, eq + 1);
                goto done;
            }
        }
    }
    tl_log(f->ctx, TL_LOG_INFO, "finetune: %zu samples of '%s' (%zu classes)", n,
           tl_dataset_name(tr), nc);
    s->on_epoch = tp.on_epoch, s->user = tp.user;
    tp.on_epoch = ft_keep_epoch, tp.user = s;
    st = tl_nn_train(s->nn, &tp, x, y, n, &s->r);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "fine-tuning");
        goto done;
    }
    *out = s;
    s = NULL;
done:
    tl_free(x);
    tl_free(cls);
    ft_free(s);
    return st;
}

static size_t ft_input_dim(const void *sp, size_t domain) {
    (void)domain;
    return tl_nn_input_dim(((const ft_state *)sp)->nn);
}

static tl_status ft_predict(const void *sp, tl_xmat X, int *pred) {
    const ft_state *s = sp;
    tl_status st = TL_OK;
    float *x = NULL;
    tl_dataset *ds = NULL;
    size_t n = tl_xmat_rows(X);
    if (n == 0) return TL_OK;
    TL_TRY(X.sparse ? tl_dataset_from_csr(X.csr, NULL, &ds) : tl_dataset_from_dense(X.dense, NULL, &ds));
    TL_TRY(tlx_nn_rows(s->nn, ds, &x));
    TL_TRY(tl_nn_predict(s->nn, x, n, pred));
done:
    tl_free(x);
    tl_dataset_free(ds);
    return st;
}

static tl_status ft_scores(const void *sp, tl_xmat X, tl_mat S) {
    const ft_state *s = sp;
    tl_status st = TL_OK;
    float *x = NULL, *P = NULL;
    tl_dataset *ds = NULL;
    size_t n = tl_xmat_rows(X), k = tl_nn_output_dim(s->nn);
    TL_CHECK(S.rows == n && S.cols == k, TL_ERR_SHAPE,
             "finetune scores: S is %zu x %zu, expected %zu x %zu", S.rows, S.cols, n, k);
    if (n == 0) return TL_OK;
    TL_TRY(X.sparse ? tl_dataset_from_csr(X.csr, NULL, &ds) : tl_dataset_from_dense(X.dense, NULL, &ds));
    TL_TRY(tlx_nn_rows(s->nn, ds, &x));
    TL_ALLOC(P, n * k);
    TL_TRY(tl_nn_predict_proba(s->nn, x, n, P));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) TL_AT(S, i, j) = P[i * k + j];
done:
    tl_free(P);
    tl_free(x);
    tl_dataset_free(ds);
    return st;
}

static const int *ft_classes(const void *sp, size_t *k) {
    const ft_state *s = sp;
    *k = tl_nn_output_dim(s->nn);
    return tl_nn_labels(s->nn);
}

static size_t ft_info(const void *sp, const char **keys, double *vals, size_t cap) {
    const ft_state *s = sp;
    const char *k[] = {"epochs", "train_loss", "train_accuracy", "val_accuracy", "train_seconds"};
    double v[] = {(double)s->r.epochs_run, s->r.train_loss, s->r.train_acc, s->r.val_acc,
                  s->r.seconds};
    size_t n = 0;
    for (; n < 5 && n < cap; n++) keys[n] = k[n], vals[n] = v[n];
    return n;
}

static tl_status nn_write_fn(const void *nn, tl_tlm *c) { return tl_nn_write(nn, c); }

static tl_status ft_write(const void *sp, tl_tlm *c, const char *prefix) {
    return tlx_write_nested(((const ft_state *)sp)->nn, nn_write_fn, c, prefix);
}

static tl_status ft_read(const tl_params *p, const tl_tlm *c, const char *prefix, const char *name,
                         void **out) {
    tl_status st = TL_OK;
    tl_tlm *sub = NULL;
    ft_state *s = NULL;
    (void)p;
    TL_CALLOC(s, 1);
    s->r.val_acc = s->r.train_loss = s->r.train_acc = NAN;
    TL_TRY(tl_tlm_extract(c, prefix, &sub));
    TL_TRY(tl_nn_read(sub, name, &s->nn));
    *out = s;
    s = NULL;
done:
    tl_tlm_free(sub);
    ft_free(s);
    return st;
}

/* ---- deep-da: deep domain adaptation (tl_nn_da_*) ----
 * The task: the labelled source rows, the unlabelled target rows, and the network to start from
 * (a domain holding a network: a saved model, or one the command built from --arch). The fit
 * picks lambda and the rate jointly by reverse validation when lambda is "auto" (lambda from
 * lambda-grid, the rate from lr-grid unless lr is given), then trains a copy of the network on
 * the source and target rows. The rate grid is written here once: its descriptor's default. */
static const tl_param_desc deepda_params[] = {
    {"da", TL_PARAM_CHOICE, "dann", 0, 0, "dann,dan,coral,cdan,cdan-e",
     "the adaptation: DANN (domain discriminator behind gradient reversal), DAN (MK-MMD), Deep "
     "CORAL, CDAN (discriminator on the features x class probabilities), CDAN+E (entropy "
     "weighted)",
     NULL},
    {"lambda", TL_PARAM_TEXT, "auto", 0, 0, NULL,
     "weight of the adaptation loss; 'auto': chosen from lambda-grid by reverse validation "
     "(no target label)",
     NULL},
    {"lambda-grid", TL_PARAM_TEXT, "", 0, 0, NULL,
     "the values reverse validation tries for lambda = auto (empty: the adaptation's own grid, "
     "each loss on its scale, tl_nn_da_lambda_grid; the report's selection line lists it)",
     NULL},
    {"lr-grid", TL_PARAM_TEXT, "0.01,0.03", 0, 0, NULL,
     "learning rates reverse validation tries with lambda = auto, jointly with lambda-grid, "
     "when lr is not given (a wider 0.001,0.01,0.1 let noise pick on 200 held-out rows and "
     "lowered DANN's Amazon mean; empty: lr)",
     NULL},
    {"lambda-schedule", TL_PARAM_CHOICE, "dann", 0, 0, "dann,fixed",
     "dann: lambda (2 / (1 + exp(-10 p)) - 1) over the progress p; fixed: lambda throughout",
     NULL},
    {"layer", TL_PARAM_TEXT, "", 0, 0, NULL,
     "the feature layer the adaptation acts on (default: the input of the last dense layer); "
     "dan and coral take a comma list (their losses add up), e.g. -1 for the output as Deep "
     "CORAL's fc8",
     NULL},
    {"disc", TL_PARAM_TEXT, "dense:2", 0, 0, NULL,
     "DANN/CDAN domain discriminator after the gradient reversal (2 outputs)", NULL},
    {"mmd-kernels", TL_PARAM_INT, "5", 1, 32, NULL, "DAN: number of RBF widths", NULL},
    {"mmd-mul", TL_PARAM_REAL, "2", 1.000001, 100, NULL, "DAN: ratio of successive widths", NULL},
    {"mmd-estimate", TL_PARAM_CHOICE, "linear", 0, 0, "linear,quadratic",
     "DAN: the linear-time unbiased estimate or the quadratic one", NULL},
    {"entropy", TL_PARAM_REAL, "0", 0, 1e6, NULL,
     "weight of entropy minimisation on the target predictions", NULL},
    TLX_NN_TRAIN_PARAMS};

/* "a,b,c" -> v (at most cap); false when malformed or a value is outside [lo, hi]. */
static bool parse_grid(const char *s, double *v, size_t cap, size_t *n, double lo, double hi) {
    *n = 0;
    while (*s) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || *n == cap || !(x >= lo && x <= hi)) return false;
        v[(*n)++] = x;
        if (*end == '\0') break;
        if (*end != ',') return false;
        s = end + 1;
    }
    return true;
}

static tl_status dda_settings(const tl_params *p, const tl_ctx *ctx, tl_nn_da_params *q,
                              double *lam_grid, size_t *nl, double *lr_grid, size_t *nlr,
                              bool *autol) {
    tl_status st = TL_OK;
    *q = tl_nn_da_params_default();
    TL_TRY(tl_nn_da_parse(tlx_str(p, "da"), &q->method));
    TL_TRY(tlx_nn_train_params(p, ctx, &q->train));
    const char *l = tlx_str(p, "lambda");
    *autol = strcmp(l, "auto") == 0;
    if (!*autol) {
        char *end;
        q->lambda = strtod(l, &end);
        TL_CHECK(end != l && !*end && q->lambda >= 0 && q->lambda <= 1e6, TL_ERR_INVALID_ARG,
                 "deep-da: lambda = '%s' is not 'auto' or a number in [0, 1e6]", l);
    }
    TL_CHECK(parse_grid(tlx_str(p, "lambda-grid"), lam_grid, 16, nl, 0, 1e6) &&
                 (*nl > 0 || !*tlx_str(p, "lambda-grid")),
             TL_ERR_INVALID_ARG, "deep-da: lambda-grid = '%s' is not a list of 1..16 numbers in "
             "[0, 1e6]", tlx_str(p, "lambda-grid"));
    if (*nl == 0) { /* the adaptation's own grid, each loss on its own scale */
        const double *g = tl_nn_da_lambda_grid(q->method, nl);
        memcpy(lam_grid, g, *nl * sizeof *g);
    }
    TL_CHECK(parse_grid(tlx_str(p, "lr-grid"), lr_grid, 16, nlr, 1e-12, 1e6), TL_ERR_INVALID_ARG,
             "deep-da: lr-grid = '%s' is not a list of at most 16 rates in (0, 1e6]",
             tlx_str(p, "lr-grid"));
    TL_CHECK(!tlx_is_set(p, "lr") || !tlx_is_set(p, "lr-grid") || *nlr == 0, TL_ERR_INVALID_ARG,
             "deep-da: give lr (a fixed rate) or lr-grid (the rates reverse validation tries), "
             "not both");
    if (tlx_is_set(p, "lr")) *nlr = 0; /* a rate given: reverse validation keeps it */
    TL_CHECK(q->train.loss == TL_NN_LOSS_XENT && q->train.label_smoothing == 0 && !q->train.crop_pad &&
                 !q->train.flip && !q->train.log_csv,
             TL_ERR_INVALID_ARG, "deep-da trains with plain cross-entropy, without augmentation or a "
             "per-epoch log: loss, label-smoothing, augment and log are not for it");
    q->lambda_schedule = strcmp(tlx_str(p, "lambda-schedule"), "dann") == 0;
    q->layer = tlx_str(p, "layer");
    q->disc = tlx_str(p, "disc");
    q->mmd_kernels = (size_t)tlx_int(p, "mmd-kernels");
    q->mmd_mul = tlx_num(p, "mmd-mul");
    q->mmd_linear = strcmp(tlx_str(p, "mmd-estimate"), "linear") == 0;
    q->entropy = tlx_num(p, "entropy");
    TL_TRY(tl_nn_da_params_check(q));
done:
    return st;
}

static tl_status dda_check(const tl_params *p, size_t n_features, size_t n_samples) {
    tl_nn_da_params q;
    double lg[16], rg[16];
    size_t nl, nr;
    bool a;
    (void)n_features;
    (void)n_samples;
    return dda_settings(p, NULL, &q, lg, &nl, rg, &nr, &a);
}

/* The network domain of a task (the starting network), or NULL. */
static const tl_nn *task_network(const tl_task *t) {
    for (size_t i = 0; i < tl_task_count(t); i++)
        if (tl_task_network(t, i)) return tl_task_network(t, i);
    return NULL;
}

tl_status tlx_deep_da_rows(const tl_nn *nn, const tl_task *t, size_t src, size_t tgt, float **xs,
                           float **xt) {
    tl_status st = TL_OK;
    const tl_dataset *S = tl_task_data(t, src), *T = tl_task_data(t, tgt);
    size_t ds[TL_SAMPLE_SHAPE_MAX], dt[TL_SAMPLE_SHAPE_MAX], shape[3];
    *xs = *xt = NULL;
    TL_CHECK(S && T, TL_ERR_EMPTY, "deep-da: the task needs source rows and target rows");
    tl_nn_input_shape(nn, shape);
    const size_t ks = tl_dataset_sample_shape(S, ds), kt = tl_dataset_sample_shape(T, dt);
    TL_CHECK(tl_dataset_cols(T) == tl_dataset_cols(S), TL_ERR_SHAPE,
             "deep-da: the target '%s' has %zu values per sample, the source '%s' %zu: the domains "
             "must have the same feature width or image shape",
             tl_dataset_name(T), tl_dataset_cols(T), tl_dataset_name(S), tl_dataset_cols(S));
    if (ks == kt && ks && memcmp(ds, dt, ks * sizeof *ds) != 0) { /* same width, other image shape */
        char a[64], b[64];
        size_t la = 0, lb = 0;
        for (size_t i = 0; i < ks; i++) {
            la += (size_t)snprintf(a + la, sizeof a - la, i ? "x%zu" : "%zu", ds[i]);
            lb += (size_t)snprintf(b + lb, sizeof b - lb, i ? "x%zu" : "%zu", dt[i]);
        }
        st = tl_fail(TL_ERR_SHAPE, "deep-da: the target '%s' holds %s images, the source '%s' %s: "
                     "the domains must have the same feature width or image shape",
                     tl_dataset_name(T), b, tl_dataset_name(S), a);
        goto done;
    }
    TL_CHECK(tl_dataset_cols(S) == tl_nn_input_dim(nn), TL_ERR_SHAPE,
             "deep-da: the data has %zu values per sample but the network takes %zux%zux%zu = %zu",
             tl_dataset_cols(S), shape[0], shape[1], shape[2], tl_nn_input_dim(nn));
    TL_TRY(tlx_nn_rows(nn, S, xs));
    TL_TRY(tlx_nn_rows(nn, T, xt));
done:
    if (st != TL_OK) {
        tl_free(*xs);
        *xs = NULL;
    }
    return st;
}

static tl_status dda_fit(const tl_params *p, const tlx_fit_args *f, void **out) {
    tl_status st = TL_OK;
    ft_state *s = NULL;
    float *xs = NULL, *xt = NULL;
    tl_nn_da_params q;
    double lg[16], rg[16];
    size_t nl, nr;
    bool autol;
    const tl_nn *init = task_network(f->task);
    TL_CHECK(init, TL_ERR_INVALID_ARG, "deep-da: the task holds no network to start from "
             "(give a saved model or an architecture)");
    TL_TRY(dda_settings(p, f->ctx, &q, lg, &nl, rg, &nr, &autol));
    q.train.comm = tl_task_comm(f->task);
    TL_CHECK(!autol || !q.train.comm, TL_ERR_UNSUPPORTED,
             "deep-da over several processes: reverse validation (lambda auto) is not "
             "data-parallel yet; give the adaptation weight (lambda)");
    const tl_dataset *S = tl_task_data(f->task, f->source), *T = tl_task_data(f->task, f->target);
    TL_CHECK(S && T && f->source != f->target, TL_ERR_EMPTY,
             "deep-da: the task needs labelled source rows and unlabelled target rows");
    TL_TRY(tlx_deep_da_rows(init, f->task, f->source, f->target, &xs, &xt));
    const size_t ns = tl_dataset_rows(S), nt = tl_dataset_rows(T);
    const int *ys = tl_dataset_labels_const(S);
    TL_CALLOC(s, 1);
    s->risk = NAN;
    if (autol) {
        TL_TRY(tl_nn_da_select(init, &q, lg, nl, nr ? rg : NULL, nr, xs, ys, ns, xt, nt, &q.lambda,
                               &q.train.lr, &s->risk));
        tl_log(f->ctx, TL_LOG_INFO, "deep-da: reverse validation chose lambda %g, lr %g (risk %.4f)",
               q.lambda, q.train.lr, s->risk);
        memcpy(s->lam_grid, lg, nl * sizeof *lg);
        s->n_lam = nl;
        if (nr) memcpy(s->lr_grid, rg, nr * sizeof *rg);
        else s->lr_grid[0] = q.train.lr; /* the one rate given */
        s->n_lr = nr ? nr : 1;
    }
    s->lambda = q.lambda;
    s->lr = q.train.lr;
    TL_TRY(tl_nn_clone(init, &s->nn));
    s->on_epoch = q.train.on_epoch, s->user = q.train.user; /* the curve of the final training */
    q.train.on_epoch = ft_keep_epoch, q.train.user = s;
    st = tl_nn_da_train(s->nn, &q, xs, ys, ns, xt, nt, &s->r);
    if (st == TL_ERR_NONFINITE) { /* the network holds the last good parameters: keep them */
        tl_log(f->ctx, TL_LOG_WARN, "deep-da: %s", tl_error_message());
        st = TL_OK;
    }
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "deep-da");
        goto done;
    }
    *out = s;
    s = NULL;
done:
    tl_free(xs);
    tl_free(xt);
    ft_free(s);
    return st;
}

static size_t dda_info(const void *sp, const char **keys, double *vals, size_t cap) {
    const ft_state *s = sp;
    const char *k[] = {"lambda", "lr", "reverse_validation_risk", "epochs", "source_val_accuracy",
                       "train_seconds", "stopped_nonfinite"};
    double v[] = {s->lambda, s->lr, s->risk, (double)s->r.epochs_run, s->r.val_acc, s->r.seconds,
                  s->r.nonfinite ? 1.0 : 0.0};
    size_t n = 0;
    for (; n < 7 && n < cap; n++) keys[n] = k[n], vals[n] = v[n];
    return n;
}

static tl_status dda_read(const tl_params *p, const tl_tlm *c, const char *prefix, const char *name,
                          void **out) {
    tl_status st = ft_read(p, c, prefix, name, out);
    if (st == TL_OK) {
        ft_state *s = *out;
        s->lambda = s->lr = s->risk = NAN;
    }
    return st;
}

static const tlx_ops dda_ops = {.check = dda_check,
                                .fit = dda_fit,
                                .free = ft_free,
                                .input_dim = ft_input_dim,
                                .predict = ft_predict,
                                .scores = ft_scores,
                                .classes = ft_classes,
                                .info = dda_info,
                                .write = ft_write,
                                .read = dda_read,
                                .curve = ft_curve};

const tl_method tlx_m_deep_da = {
    "deep-da",
    "deep domain adaptation of a network to an unlabelled target (DANN, DAN, Deep CORAL, CDAN)",
    "Ganin et al., JMLR 2016 (DANN); Long et al., ICML 2015 (DAN); Sun & Saenko, ECCV-W 2016 "
    "(Deep CORAL); Long et al., NeurIPS 2018 (CDAN)",
    TL_FAMILY_MODEL,
    0,
    TL_NEEDS_SOURCE_LABELS | TL_NEEDS_TARGET,
    "network",
    deepda_params,
    TLX_NPARAMS(deepda_params),
    &dda_ops};

void tlx_deep_da_choice(const tl_model *m, double *lambda, double *lr) {
    const ft_state *s = tlx_model_state(m);
    *lambda = s ? s->lambda : NAN;
    *lr = s ? s->lr : NAN;
}

void tlx_deep_da_selection(const tl_model *m, tl_report_search *out) {
    const ft_state *s = tlx_model_state(m);
    memset(out, 0, sizeof *out);
    if (!s || !s->n_lam) return;
    out->criterion = "reverse validation";
    out->score = s->risk;
    const char *names[] = {"lambda", "lr"};
    const double *grids[] = {s->lam_grid, s->lr_grid}, chosen[] = {s->lambda, s->lr};
    const size_t ns[] = {s->n_lam, s->n_lr};
    for (size_t k = 0; k < 2; k++) {
        out->param[k] = names[k];
        out->n_values[k] = ns[k];
        memcpy(out->values[k], grids[k], ns[k] * sizeof *grids[k]);
        out->chosen[k] = chosen[k];
    }
    out->n_params = 2;
}

const tl_nn *tlx_finetuned_network(const tl_model *m) {
    const ft_state *s = tlx_model_state(m);
    return s ? s->nn : NULL;
}

const tl_nn *tl_model_network(const tl_model *m) {
    return m && tl_method_family(tl_model_method(m)) == TL_FAMILY_MODEL ? tlx_finetuned_network(m)
                                                                        : NULL;
}

static const tlx_ops ft_ops = {.check = ft_check,
                               .fit = ft_fit,
                               .free = ft_free,
                               .input_dim = ft_input_dim,
                               .predict = ft_predict,
                               .scores = ft_scores,
                               .classes = ft_classes,
                               .info = ft_info,
                               .write = ft_write,
                               .read = ft_read,
                               .curve = ft_curve};

const tl_method tlx_m_finetune = {
    "finetune",
    "fine-tune a pre-trained network on the target's labelled rows (new head, imprinting, "
    "freezing, L2-SP)",
    "Yosinski et al., NIPS 2014; Li et al., ICML 2018 (L2-SP); Qi et al., CVPR 2018 (imprinting)",
    TL_FAMILY_MODEL,
    0,
    TL_NEEDS_TARGET,
    "network",
    finetune_params,
    TLX_NPARAMS(finetune_params),
    &ft_ops};
