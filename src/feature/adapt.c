/* The tl_adapter front end: parameters (defaults, checks in words, method names), fit dispatch,
 * the generic three-stage transform (feature map, per-domain affine map, row L2 normalisation;
 * see feature_internal.h), accessors, and save/load through the .tlm container.
 *
 * Why one generic transform: a fitted model must map NEW samples of either domain exactly as it
 * mapped the fitting samples (out-of-sample use, and save -> load -> transform). Keeping every
 * method's output as "phi(x), then (x - mean) W, then optional L2" means one code path serves
 * fit-time embeddings, out-of-sample transforms and reloaded models alike, and the file stores
 * only those tensors. Transform runs in row blocks so a kernel map never holds n x m at once.
 *
 * Input scaling is the caller's: the published protocols preprocess per domain before fitting
 * (Office+Caltech SURF: rowsum then z-score, plus L2 per sample for the TCA/JDA family; MNIST/USPS:
 * L2 per sample), and the same row-wise steps are applied to new samples before transform. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_internal.h"
#include "internal/parallel.h"
#include "tl/data.h"
#include "tl/io.h"

_Static_assert(sizeof(int) == sizeof(int32_t), "pseudo-labels are stored as int32");

static const char *const method_names[] = {"pca", "coral", "sa",  "gfk",
                                           "tca", "jda",   "bda", "augment"};
#define N_METHODS (sizeof method_names / sizeof method_names[0])

static bool valid_method(tl_adapt_method m) { return (int)m >= 0 && (size_t)m < N_METHODS; }
static bool is_mmd(tl_adapt_method m) {
    return m == TL_ADAPT_TCA || m == TL_ADAPT_JDA || m == TL_ADAPT_BDA;
}
/* Methods whose output size is `dim` (or 2 dim for GFK). */
static bool uses_dim(tl_adapt_method m) { return m != TL_ADAPT_CORAL && m != TL_ADAPT_AUGMENT; }

const char *tl_adapt_method_name(tl_adapt_method m) {
    return valid_method(m) ? method_names[m] : "unknown";
}

tl_status tl_adapt_method_parse(const char *name, tl_adapt_method *out) {
    if (!name || !out) return tl_fail(TL_ERR_INVALID_ARG, "adapt method: NULL argument");
    char w[16];
    size_t L = strlen(name);
    if (L > 0 && L < sizeof w) {
        for (size_t i = 0; i <= L; i++) w[i] = (char)tolower((unsigned char)name[i]);
        for (size_t i = 0; i < N_METHODS; i++)
            if (strcmp(w, method_names[i]) == 0) {
                *out = (tl_adapt_method)i;
                return TL_OK;
            }
    }
    return tl_fail(TL_ERR_INVALID_ARG,
                   "unknown adaptation method '%s' (expected pca, coral, sa, gfk, tca, jda, bda or "
                   "augment)",
                   name);
}

tl_adapt_params tl_adapt_params_default(tl_adapt_method m) {
    tl_adapt_params p;
    memset(&p, 0, sizeof p);
    p.method = m;
    /* dims of the published protocols: SA 30; GFK's closed form reproduces the JDA paper's GFK
       row with 20-dim subspaces (the table's "100" column label notwithstanding) */
    p.dim = m == TL_ADAPT_SA ? 30 : m == TL_ADAPT_GFK ? 20 : 100;
    p.lambda = 1.0;
    p.form = TL_ADAPT_PRIMAL;
    p.kernel = tl_kernel_default(TL_KERNEL_RBF);
    p.lowrank = TL_LOWRANK_AUTO;
    p.landmarks = 1000;
    p.exact_max = 6000;
    p.iters = 10;
    p.mu = 0.5;
    p.coral_eps = 1.0;
    p.coral_eps_relative = true;
    /* the TCA/JDA family's protocol normalises embeddings; the PCA, GFK and SA rows of the
       published tables are reproduced without (see bench/repro_feature.c) */
    p.l2_embed = is_mmd(m);
    p.pseudo = tl_learner_params_default(TL_LEARNER_KNN);
    p.pseudo.k = 1;
    p.seed = 42;
    p.ctx = NULL;
    return p;
}

tl_status tl_adapt_params_check(const tl_adapt_params *p, size_t n_features, size_t n_samples) {
    if (!p) return tl_fail(TL_ERR_INVALID_ARG, "adapt parameters are NULL");
    if (!valid_method(p->method))
        return tl_fail(TL_ERR_INVALID_ARG, "unknown adaptation method %d", (int)p->method);
    const char *mn = tl_adapt_method_name(p->method);
    if (p->form != TL_ADAPT_PRIMAL && p->form != TL_ADAPT_KERNEL)
        return tl_fail(TL_ERR_INVALID_ARG, "%s: unknown form %d (primal or kernel)", mn,
                       (int)p->form);
    bool kern = p->form == TL_ADAPT_KERNEL;
    if (kern) {
        const tl_kernel *k = &p->kernel;
        if ((int)k->type < TL_KERNEL_LINEAR || (int)k->type > TL_KERNEL_POLY)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: unknown kernel type %d (linear, rbf or poly)",
                           mn, (int)k->type);
        if (!isfinite(k->gamma))
            return tl_fail(TL_ERR_INVALID_ARG, "%s: kernel gamma %g is not finite", mn, k->gamma);
        if (k->type == TL_KERNEL_POLY && (k->degree < 1 || k->degree > 64 || !isfinite(k->coef0)))
            return tl_fail(TL_ERR_INVALID_ARG,
                           "%s: poly kernel needs 1 <= degree <= 64 and a finite coef0 "
                           "(got %d, %g)",
                           mn, k->degree, k->coef0);
        if ((int)p->lowrank < TL_LOWRANK_AUTO || (int)p->lowrank > TL_LOWRANK_RFF)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: unknown low-rank mode %d", mn, (int)p->lowrank);
        if (p->lowrank == TL_LOWRANK_RFF && k->type == TL_KERNEL_POLY)
            return tl_fail(TL_ERR_INVALID_ARG,
                           "%s: random Fourier features approximate the RBF kernel only", mn);
        if (p->lowrank != TL_LOWRANK_NONE && p->landmarks < 1)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: landmarks must be at least 1", mn);
    }
    if (uses_dim(p->method)) {
        if (p->dim < 1) return tl_fail(TL_ERR_INVALID_ARG, "%s: dim must be at least 1", mn);
        /* the space the method works in: input features, or the kernel map's dimension */
        size_t space = n_features;
        const char *what = "the feature count";
        if (kern && p->kernel.type != TL_KERNEL_LINEAR) { /* linear: exact in feature space */
            bool exact = p->lowrank == TL_LOWRANK_NONE ||
                         (p->lowrank == TL_LOWRANK_AUTO && n_samples && n_samples <= p->exact_max);
            space = exact ? n_samples : p->landmarks;
            what = exact ? "the sample count (exact kernel)" : "the landmark count";
            if (!exact && n_samples && n_samples < space) space = n_samples;
        }
        if (p->method == TL_ADAPT_GFK) {
            if (space && 2 * p->dim > space)
                return tl_fail(TL_ERR_INVALID_ARG,
                               "gfk: 2 * dim = %zu exceeds %s %zu (GFK needs dim <= D/2)",
                               2 * p->dim, what, space);
        } else if (space && p->dim > space) {
            return tl_fail(TL_ERR_INVALID_ARG, "%s: dim = %zu exceeds %s %zu", mn, p->dim, what,
                           space);
        }
    }
    if (is_mmd(p->method)) {
        if (!(isfinite(p->lambda) && p->lambda > 0))
            return tl_fail(TL_ERR_INVALID_ARG,
                           "%s: lambda = %g must be positive and finite (it keeps X'MX + lambda I "
                           "positive definite)",
                           mn, p->lambda);
    }
    if (p->method == TL_ADAPT_JDA || p->method == TL_ADAPT_BDA) {
        if (p->iters < 1 || p->iters > 1000)
            return tl_fail(TL_ERR_INVALID_ARG, "%s: iters = %d must be in 1..1000", mn, p->iters);
        tl_status s = tl_learner_params_check(&p->pseudo);
        if (s != TL_OK) return tl_fail_prefix(s, "%s: pseudo-label learner", mn);
    }
    if (p->method == TL_ADAPT_BDA && !(isfinite(p->mu) && p->mu <= 1.0))
        return tl_fail(TL_ERR_INVALID_ARG,
                       "bda: mu = %g must be in [0, 1] (or negative to estimate it)", p->mu);
    if (p->method == TL_ADAPT_CORAL && !(isfinite(p->coral_eps) && p->coral_eps >= 0))
        return tl_fail(TL_ERR_INVALID_ARG, "coral: coral_eps = %g must be >= 0 and finite",
                       p->coral_eps);
    return TL_OK;
}

/* ---------------------------------------------------------------- lifetime and accessors */

/* A blank adapter with per-domain slots for n_slots domains. */
static tl_status adapter_new(size_t n_slots, tl_adapter **out) {
    tl_status st = TL_OK;
    tl_adapter *a = NULL;
    *out = NULL;
    TL_CHECK(n_slots >= 1 && n_slots <= TLF_MAX_DOMAINS, TL_ERR_INVALID_ARG,
             "adapter: %zu domains (1 to %d)", n_slots, TLF_MAX_DOMAINS);
    TL_CALLOC(a, 1);
    a->n_slots = n_slots;
    TL_CALLOC(a->mean, n_slots);
    TL_CALLOC(a->W, n_slots);
    *out = a;
    a = NULL;
done:
    tl_adapter_free(a);
    return st;
}

void tl_adapter_free(tl_adapter *a) {
    if (!a) return;
    tl_mat_free(&a->land);
    tl_mat_free(&a->kproj);
    tl_mat_free(&a->rff_w);
    tl_free(a->rff_b);
    for (size_t i = 0; i < a->n_slots; i++) {
        if (a->mean) tl_free(a->mean[i]);
        if (a->W) tl_mat_free(&a->W[i]);
    }
    tl_free(a->mean);
    tl_free(a->W);
    tl_free(a->pseudo);
    tl_free(a);
}

size_t tl_adapter_dim(const tl_adapter *a) { return a ? a->d_out : 0; }
size_t tl_adapter_input_dim(const tl_adapter *a) { return a ? a->d_in : 0; }
tl_adapt_method tl_adapter_method(const tl_adapter *a) {
    return a ? a->p.method : TL_ADAPT_PCA;
}
const int *tl_adapter_pseudo_labels(const tl_adapter *a) { return a ? a->pseudo : NULL; }

/* ---------------------------------------------------------------- fit */

static tl_status check_input(tl_mat X, const char *what, size_t d) {
    tl_status st = TL_OK;
    TL_CHECK(X.rows > 0, TL_ERR_EMPTY, "adapt: %s has no samples", what);
    TL_CHECK(X.data && X.ld >= X.cols, TL_ERR_INVALID_ARG, "adapt: %s is not a valid matrix",
             what);
    TL_CHECK(X.cols == d, TL_ERR_SHAPE, "adapt: %s has %zu features, expected %zu", what, X.cols,
             d);
    TL_TRY(tl_mat_check_finite(X, what));
done:
    return st;
}

/* What a fit on rows held by several processes supports, in words: the MMD family (whose
 * matrices are sums over rows) with a fixed BDA balance, primal or through a low-rank map. */
static tl_status check_split(const tl_adapt_params *p, size_t d, size_t n, int procs) {
    const char *mn = tl_adapt_method_name(p->method);
    if (!is_mmd(p->method))
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s on %d processes: only tca, jda and bda run on rows split over "
                       "processes", mn, procs);
    if (p->method == TL_ADAPT_BDA && p->mu < 0)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "bda on %d processes: give mu (estimating it is not distributed)", procs);
    if (p->form != TL_ADAPT_KERNEL) return TL_OK;
    bool linear = p->kernel.type == TL_KERNEL_LINEAR;
    bool exact = linear ? n < d
                        : p->lowrank == TL_LOWRANK_NONE ||
                              (p->lowrank == TL_LOWRANK_AUTO && n <= p->exact_max);
    if (exact)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s on %d processes: the exact kernel form needs every one of the %zu rows "
                       "on each process; use a low-rank map (lowrank nystrom or rff)", mn, procs,
                       n);
    return TL_OK;
}

tl_status tl_adapt_fit(const tl_adapt_params *p, tl_mat Xs, const int *ys, tl_mat Xt,
                       const int *yt, tl_adapter **out) {
    tl_status st = TL_OK;
    tl_adapter *a = NULL;
    tl_mat Fs = {0, 0, 0, NULL}, Ft = {0, 0, 0, NULL};
    tli_job job = {0};
    tli_thread_scope scope = tli_threads_enter(p ? p->ctx : NULL);
    TL_CHECK(p && out, TL_ERR_INVALID_ARG, "adapt_fit: NULL parameters or output");
    *out = NULL;
    TL_TRY(check_input(Xs, "source", Xs.cols));
    TL_TRY(check_input(Xt, "target", Xs.cols));
    TL_TRY(tli_job_start(&job, p->comm, Xs.rows, Xt.rows));
    TL_TRY(tl_adapt_params_check(p, Xs.cols, job.Ns + job.Nt));
    const char *mn = tl_adapt_method_name(p->method);
    if (tli_job_split(&job)) TL_TRY(check_split(p, Xs.cols, job.Ns + job.Nt, job.c->size));
    if (p->method == TL_ADAPT_JDA || p->method == TL_ADAPT_BDA)
        TL_CHECK(ys, TL_ERR_LABEL, "%s: source labels are required", mn);
    if (p->method == TL_ADAPT_AUGMENT)
        TL_CHECK(ys && yt, TL_ERR_LABEL,
                 "augment: feature augmentation needs labelled source and target (ys and yt)");
    if (p->method == TL_ADAPT_SA || p->method == TL_ADAPT_GFK || p->method == TL_ADAPT_CORAL)
        TL_CHECK(Xs.rows >= 2 && Xt.rows >= 2, TL_ERR_EMPTY,
                 "%s: each domain needs at least 2 samples (source %zu, target %zu)", mn, Xs.rows,
                 Xt.rows);
    TL_TRY(adapter_new(2, &a));
    a->p = *p;
    a->job = job;
    a->d_in = Xs.cols;
    a->d_feat = Xs.cols;
    a->l2_out = p->l2_embed;
    a->mu_used = p->mu;
    if (p->form == TL_ADAPT_KERNEL) {
        TL_TRY(tlf_kmap_fit(a, Xs, Xt));
        TL_TRY(tl_mat_alloc(&Fs, Xs.rows, a->d_feat));
        TL_TRY(tl_mat_alloc(&Ft, Xt.rows, a->d_feat));
        TL_TRY(tlf_kmap_apply(a, Xs, Fs));
        TL_TRY(tlf_kmap_apply(a, Xt, Ft));
        TL_TRY(tlf_kmap_finish(a, Fs, Ft));
        if (uses_dim(p->method))
            TL_CHECK((p->method == TL_ADAPT_GFK ? 2 * p->dim : p->dim) <= a->d_feat,
                     TL_ERR_INVALID_ARG,
                     "%s: dim = %zu exceeds the rank %zu of the kernel feature map", mn, p->dim,
                     a->d_feat);
    } else {
        Fs = Xs; /* views: the methods never modify their inputs */
        Ft = Xt;
    }
    switch (p->method) {
    case TL_ADAPT_PCA: TL_TRY(tlf_fit_pca(a, Fs, Ft)); break;
    case TL_ADAPT_CORAL: TL_TRY(tlf_fit_coral(a, Fs, Ft)); break;
    case TL_ADAPT_SA: TL_TRY(tlf_fit_sa(a, Fs, Ft)); break;
    case TL_ADAPT_GFK: TL_TRY(tlf_fit_gfk(a, Fs, Ft)); break;
    case TL_ADAPT_TCA:
    case TL_ADAPT_JDA:
    case TL_ADAPT_BDA: TL_TRY(tlf_fit_mmd(a, Fs, ys, Ft)); break;
    case TL_ADAPT_AUGMENT:
        a->d_out = (1 + a->n_slots) * a->d_feat;
        a->per_domain = true;
        break;
    }
    a->p.ctx = NULL;
    a->p.comm = NULL;
    memset(&a->job, 0, sizeof a->job);
    *out = a;
    a = NULL;
done:
    if (a) memset(&a->job, 0, sizeof a->job); /* job's own arrays, freed below */
    tli_job_end(&job);
    tli_threads_leave(scope);
    if (p && p->form == TL_ADAPT_KERNEL) {
        tl_mat_free(&Fs);
        tl_mat_free(&Ft);
    }
    tl_adapter_free(a);
    return st;
}

/* ---------------------------------------------------------------- transform */

#define TLF_BLOCK_ROWS 1024

/* out (n, d_out) = stages 2 and 3 applied to F (n, d_feat) of domain dom. */
static tl_status affine_rows(const tl_adapter *a, size_t dom, tl_mat F, tl_mat out) {
    tl_status st = TL_OK;
    tl_mat C = {0, 0, 0, NULL};
    size_t s = a->per_domain ? dom : 0;
    size_t n = F.rows, p = a->d_feat;
    if (a->p.method == TL_ADAPT_AUGMENT) { /* [x, 0.., x in the domain's block, ..0] */
        for (size_t i = 0; i < n; i++) {
            double *o = &TL_AT(out, i, 0);
            const double *x = &TL_AT(F, i, 0);
            memcpy(o, x, p * sizeof *o);
            memset(o + p, 0, a->n_slots * p * sizeof *o);
            memcpy(o + p * (1 + dom), x, p * sizeof *o);
        }
        goto done;
    }
    tl_mat src = F;
    if (a->mean[s]) {
        TL_TRY(tl_mat_clone(&C, F));
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < p; j++) TL_AT(C, i, j) -= a->mean[s][j];
        src = C;
    }
    if (a->W[s].data)
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, src, a->W[s], 0.0, out));
    else
        TL_TRY(tl_mat_copy(out, src));
    if (a->l2_out) tl_rows_l2_normalize(out);
done:
    tl_mat_free(&C);
    return st;
}

tl_status tl_adapter_transform(const tl_adapter *a, size_t dom, tl_mat X, tl_mat *out) {
    tl_status st = TL_OK;
    tl_mat O = {0, 0, 0, NULL}, F = {0, 0, 0, NULL};
    TL_CHECK(a && out, TL_ERR_INVALID_ARG, "adapter_transform: NULL adapter or output");
    TL_CHECK(dom < a->n_slots, TL_ERR_INVALID_ARG,
             "adapter_transform: domain %zu is not one of the %zu the map was fitted on", dom,
             a->n_slots);
    TL_CHECK(X.cols == a->d_in, TL_ERR_SHAPE,
             "adapter_transform: X has %zu features, the model was fitted on %zu", X.cols,
             a->d_in);
    TL_CHECK(X.rows == 0 || (X.data && X.ld >= X.cols), TL_ERR_INVALID_ARG,
             "adapter_transform: X is not a valid matrix");
    TL_TRY(tl_mat_check_finite(X, "adapter_transform: X"));
    TL_TRY(tl_mat_alloc(&O, X.rows, a->d_out));
    size_t blk = a->map == TLF_MAP_NONE ? (X.rows ? X.rows : 1) : TLF_BLOCK_ROWS;
    if (a->map != TLF_MAP_NONE) TL_TRY(tl_mat_alloc(&F, blk < X.rows ? blk : X.rows, a->d_feat));
    for (size_t r0 = 0; r0 < X.rows; r0 += blk) {
        size_t nb = X.rows - r0 < blk ? X.rows - r0 : blk;
        tl_mat Xb = tl_mat_rows(X, r0, nb), Ob = tl_mat_rows(O, r0, nb);
        tl_mat Fb = Xb;
        if (a->map != TLF_MAP_NONE) {
            Fb = tl_mat_rows(F, 0, nb);
            TL_TRY(tlf_kmap_apply(a, Xb, Fb));
        }
        TL_TRY(affine_rows(a, dom, Fb, Ob));
    }
    *out = O;
    O.data = NULL;
done:
    tl_mat_free(&O);
    tl_mat_free(&F);
    return st;
}

/* ---------------------------------------------------------------- save / load */

static const char *const form_names[] = {"primal", "kernel"};
static const char *const kernel_names[] = {"linear", "rbf", "poly"};
static const char *const lowrank_names[] = {"auto", "none", "nystrom", "rff"};
static const char *const map_names[] = {"none", "kernel", "rff", "linear"};

static tl_status put_mat(tl_tlm *m, const char *name, tl_mat A) {
    tl_status st = TL_OK;
    double *buf = NULL;
    if (!A.data) return TL_OK;
    size_t dims[2] = {A.rows, A.cols};
    if (A.ld == A.cols) return tl_tlm_add_tensor(m, name, TL_DTYPE_F64, 2, dims, A.data);
    TL_ALLOC(buf, A.rows * A.cols);
    for (size_t i = 0; i < A.rows; i++) memcpy(buf + i * A.cols, &TL_AT(A, i, 0), A.cols * 8);
    TL_TRY(tl_tlm_add_tensor(m, name, TL_DTYPE_F64, 2, dims, buf));
done:
    tl_free(buf);
    return st;
}
static tl_status put_vec(tl_tlm *m, const char *name, const double *v, size_t n) {
    if (!v) return TL_OK;
    size_t dims[1] = {n};
    return tl_tlm_add_tensor(m, name, TL_DTYPE_F64, 1, dims, v);
}

/* Per-domain stage names: slots 0 and 1 keep the names of the two-domain files. */
static void slot_name(char *buf, size_t cap, const char *what, size_t slot) {
    if (slot < 2)
        snprintf(buf, cap, "%s_%s", what, slot == 0 ? "source" : "target");
    else
        snprintf(buf, cap, "%s_domain%zu", what, slot);
}

tl_status tl_adapter_write(const tl_adapter *a, tl_tlm *m) {
    tl_status st = TL_OK;
    TL_CHECK(a && m, TL_ERR_INVALID_ARG, "adapter_write: NULL adapter or container");
    const tl_adapt_params *p = &a->p;
    TL_TRY(tl_tlm_set_meta(m, "model", "tl_adapter"));
    TL_TRY(tl_tlm_set_meta(m, "libtl_version", tl_version()));
    TL_TRY(tl_tlm_set_meta(m, "method", tl_adapt_method_name(p->method)));
    TL_TRY(tl_tlm_set_count(m, "domains", a->n_slots));
    TL_TRY(tl_tlm_set_count(m, "dim", p->dim));
    TL_TRY(tl_tlm_set_num(m, "lambda", p->lambda));
    TL_TRY(tl_tlm_set_meta(m, "form", form_names[p->form]));
    TL_TRY(tl_tlm_set_meta(m, "kernel", kernel_names[a->kern.type]));
    TL_TRY(tl_tlm_set_num(m, "gamma", a->kern.gamma));
    TL_TRY(tl_tlm_set_num(m, "coef0", a->kern.coef0));
    TL_TRY(tl_tlm_set_count(m, "degree",
                            a->kern.degree > 0 ? (unsigned long long)a->kern.degree : 0));
    TL_TRY(tl_tlm_set_meta(m, "lowrank", lowrank_names[p->lowrank]));
    TL_TRY(tl_tlm_set_count(m, "landmarks", p->landmarks));
    TL_TRY(tl_tlm_set_count(m, "exact_max", p->exact_max));
    TL_TRY(tl_tlm_set_count(m, "iters", (unsigned long long)p->iters));
    TL_TRY(tl_tlm_set_num(m, "mu", p->mu));
    TL_TRY(tl_tlm_set_num(m, "mu_used", a->mu_used));
    TL_TRY(tl_tlm_set_num(m, "coral_eps", p->coral_eps));
    TL_TRY(tl_tlm_set_count(m, "seed", p->seed));
    TL_TRY(tl_tlm_set_meta(m, "l2_embed", a->l2_out ? "1" : "0"));
    TL_TRY(tl_tlm_set_meta(m, "per_domain", a->per_domain ? "1" : "0"));
    TL_TRY(tl_tlm_set_meta(m, "feature_map", map_names[a->map]));
    TL_TRY(tl_tlm_set_count(m, "input_dim", a->d_in));
    TL_TRY(tl_tlm_set_count(m, "feature_dim", a->d_feat));
    TL_TRY(tl_tlm_set_count(m, "output_dim", a->d_out));
    TL_TRY(put_mat(m, "landmarks", a->land));
    TL_TRY(put_mat(m, "kernel_proj", a->kproj));
    TL_TRY(put_mat(m, "rff_w", a->rff_w));
    TL_TRY(put_vec(m, "rff_b", a->rff_b, a->rff_w.cols));
    for (size_t i = 0; i < a->n_slots; i++) {
        char mn[48], pn[48];
        slot_name(mn, sizeof mn, "mean", i);
        slot_name(pn, sizeof pn, "proj", i);
        TL_TRY(put_vec(m, mn, a->mean[i], a->d_feat));
        TL_TRY(put_mat(m, pn, a->W[i]));
    }
    if (a->pseudo) {
        size_t dims[1] = {a->n_pseudo};
        TL_TRY(tl_tlm_add_tensor(m, "pseudo_labels", TL_DTYPE_I32, 1, dims, a->pseudo));
    }
done:
    return st;
}

tl_status tl_adapter_save(const tl_adapter *a, const char *path) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    TL_CHECK(a && path, TL_ERR_INVALID_ARG, "adapter_save: NULL adapter or path");
    TL_TRY(tl_tlm_create(&m));
    TL_TRY(tl_adapter_write(a, m));
    st = tl_tlm_save(m, path);
done:
    tl_tlm_free(m);
    return st;
}

/* ---- load: every field is validated, errors name the file ---- */

static tl_status meta_str(const tl_tlm *m, const char *path, const char *key, const char **out) {
    *out = tl_tlm_get_meta(m, key);
    if (!*out) return tl_fail(TL_ERR_FORMAT, "%s: model lacks metadata '%s'", path, key);
    return TL_OK;
}
static tl_status meta_enum(const tl_tlm *m, const char *path, const char *key,
                           const char *const *names, size_t n, int *out) {
    const char *s;
    tl_status st = meta_str(m, path, key, &s);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return TL_OK;
        }
    return tl_fail(TL_ERR_FORMAT, "%s: metadata '%s' has unknown value '%s'", path, key, s);
}
static tl_status meta_bool(const tl_tlm *m, const char *path, const char *key, bool *out) {
    static const char *const b[] = {"0", "1"};
    int v = 0;
    tl_status st = meta_enum(m, path, key, b, 2, &v);
    *out = v == 1;
    return st;
}

/* Copies tensor `name` (f64, shape rows x cols, or a vector of rows when cols == 0) if present;
 * `required` makes absence an error. */
static tl_status get_f64(const tl_tlm *m, const char *path, const char *name, size_t rows,
                         size_t cols, bool required, double **out) {
    tl_status st = TL_OK;
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    *out = NULL;
    if (tl_tlm_get_tensor(m, name, &dt, &nd, &dims, &data) != TL_OK) {
        tl_error_clear();
        TL_CHECK(!required, TL_ERR_FORMAT, "%s: model lacks tensor '%s'", path, name);
        goto done;
    }
    TL_CHECK(dt == TL_DTYPE_F64, TL_ERR_FORMAT, "%s: tensor '%s' is not float64", path, name);
    if (cols == 0)
        TL_CHECK(nd == 1 && dims[0] == rows, TL_ERR_FORMAT,
                 "%s: tensor '%s' should be a vector of %zu", path, name, rows);
    else
        TL_CHECK(nd == 2 && dims[0] == rows && dims[1] == cols, TL_ERR_FORMAT,
                 "%s: tensor '%s' should be %zu x %zu", path, name, rows, cols);
    size_t n = cols ? rows * cols : rows; /* the container checked the product */
    TL_ALLOC(*out, n ? n : 1);
    if (n) memcpy(*out, data, n * sizeof(double));
done:
    return st;
}

/* Rows of a 2-D f64 tensor (0 when absent). */
static size_t tensor_rows(const tl_tlm *m, const char *name) {
    size_t nd;
    const size_t *dims;
    if (tl_tlm_get_tensor(m, name, NULL, &nd, &dims, NULL) != TL_OK) {
        tl_error_clear();
        return 0;
    }
    return nd >= 1 ? dims[0] : 0;
}
static size_t tensor_cols(const tl_tlm *m, const char *name) {
    size_t nd;
    const size_t *dims;
    if (tl_tlm_get_tensor(m, name, NULL, &nd, &dims, NULL) != TL_OK) {
        tl_error_clear();
        return 0;
    }
    return nd == 2 ? dims[1] : 0;
}

static tl_mat own_mat(double *data, size_t rows, size_t cols) {
    tl_mat M = {rows, cols, cols, data};
    return M;
}

#define TLF_MAX_DIM (1ull << 31)

tl_status tl_adapter_load(const char *path, tl_adapter **out) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "adapter_load: NULL path or output");
    *out = NULL;
    TL_TRY(tl_tlm_load(path, &m));
    TL_TRY(tl_adapter_read(m, path, out));
done:
    tl_tlm_free(m);
    return st;
}

tl_status tl_adapter_read(const tl_tlm *m, const char *path, tl_adapter **out) {
    tl_status st = TL_OK;
    tl_adapter *a = NULL;
    double *buf = NULL;
    TL_CHECK(m && out, TL_ERR_INVALID_ARG, "adapter_read: NULL container or output");
    *out = NULL;
    if (!path) path = "adapter";
    const char *model;
    TL_TRY(meta_str(m, path, "model", &model));
    TL_CHECK(strcmp(model, "tl_adapter") == 0, TL_ERR_FORMAT,
             "%s: holds a '%s' model, not an adapter", path, model);
    unsigned long long nslots = 2;
    if (tl_tlm_get_meta(m, "domains"))
        TL_TRY(tl_tlm_get_count(m, path, "domains", TLF_MAX_DOMAINS, &nslots));
    TL_CHECK(nslots >= 1, TL_ERR_FORMAT, "%s: metadata 'domains' is 0", path);
    TL_TRY(adapter_new((size_t)nslots, &a));
    int method = 0, form = 0, kt = 0, lr = 0, map = 0;
    unsigned long long u;
    TL_TRY(meta_enum(m, path, "method", method_names, N_METHODS, &method));
    a->p = tl_adapt_params_default((tl_adapt_method)method);
    TL_TRY(meta_enum(m, path, "form", form_names, 2, &form));
    TL_TRY(meta_enum(m, path, "kernel", kernel_names, 3, &kt));
    TL_TRY(meta_enum(m, path, "lowrank", lowrank_names, 4, &lr));
    TL_TRY(meta_enum(m, path, "feature_map", map_names, 4, &map));
    a->p.form = (tl_adapt_form)form;
    a->p.lowrank = (tl_lowrank)lr;
    a->map = (tlf_map)map;
    a->kern = tl_kernel_default((tl_kernel_type)kt);
    TL_TRY(tl_tlm_get_num(m, path, "gamma", -HUGE_VAL, HUGE_VAL, &a->kern.gamma));
    TL_TRY(tl_tlm_get_num(m, path, "coef0", -HUGE_VAL, HUGE_VAL, &a->kern.coef0));
    TL_TRY(tl_tlm_get_count(m, path, "degree", 64, &u));
    a->kern.degree = (int)u;
    a->p.kernel = a->kern;
    TL_TRY(tl_tlm_get_count(m, path, "dim", TLF_MAX_DIM, &u));
    a->p.dim = (size_t)u;
    TL_TRY(tl_tlm_get_num(m, path, "lambda", -HUGE_VAL, HUGE_VAL, &a->p.lambda));
    TL_TRY(tl_tlm_get_count(m, path, "landmarks", TLF_MAX_DIM, &u));
    a->p.landmarks = (size_t)u;
    TL_TRY(tl_tlm_get_count(m, path, "exact_max", (unsigned long long)-1 >> 1, &u));
    a->p.exact_max = (size_t)u;
    TL_TRY(tl_tlm_get_count(m, path, "iters", 1000, &u));
    a->p.iters = (int)u;
    TL_TRY(tl_tlm_get_num(m, path, "mu", -HUGE_VAL, HUGE_VAL, &a->p.mu));
    TL_TRY(tl_tlm_get_num(m, path, "mu_used", -HUGE_VAL, HUGE_VAL, &a->mu_used));
    TL_TRY(tl_tlm_get_num(m, path, "coral_eps", -HUGE_VAL, HUGE_VAL, &a->p.coral_eps));
    TL_TRY(tl_tlm_get_count(m, path, "seed", (unsigned long long)-1, &u));
    a->p.seed = (uint64_t)u;
    TL_TRY(meta_bool(m, path, "l2_embed", &a->l2_out));
    a->p.l2_embed = a->l2_out;
    TL_TRY(meta_bool(m, path, "per_domain", &a->per_domain));
    TL_TRY(tl_tlm_get_count(m, path, "input_dim", TLF_MAX_DIM, &u));
    a->d_in = (size_t)u;
    TL_TRY(tl_tlm_get_count(m, path, "feature_dim", TLF_MAX_DIM, &u));
    a->d_feat = (size_t)u;
    TL_TRY(tl_tlm_get_count(m, path, "output_dim", TLF_MAX_DIM * 3, &u));
    a->d_out = (size_t)u;
    TL_CHECK(a->d_in > 0 && a->d_feat > 0 && a->d_out > 0, TL_ERR_FORMAT,
             "%s: model has a zero dimension (input %zu, feature %zu, output %zu)", path, a->d_in,
             a->d_feat, a->d_out);
    /* stage 1 */
    if (a->map == TLF_MAP_KERNEL) {
        TL_CHECK((kt == TL_KERNEL_LINEAR || a->kern.gamma > 0) &&
                     (kt != TL_KERNEL_POLY || a->kern.degree >= 1),
                 TL_ERR_FORMAT, "%s: kernel parameters are invalid", path);
        size_t mland = tensor_rows(m, "landmarks");
        TL_CHECK(mland > 0, TL_ERR_FORMAT, "%s: kernel model lacks tensor 'landmarks'", path);
        TL_TRY(get_f64(m, path, "landmarks", mland, a->d_in, true, &buf));
        a->land = own_mat(buf, mland, a->d_in);
        buf = NULL;
        TL_TRY(get_f64(m, path, "kernel_proj", mland, a->d_feat, false, &buf));
        if (buf) {
            a->kproj = own_mat(buf, mland, a->d_feat);
            buf = NULL;
        } else {
            TL_CHECK(a->d_feat == mland, TL_ERR_FORMAT,
                     "%s: exact kernel model has %zu landmarks but feature_dim %zu", path, mland,
                     a->d_feat);
        }
    } else if (a->map == TLF_MAP_LINEAR) {
        TL_CHECK(a->d_feat == a->d_in, TL_ERR_FORMAT,
                 "%s: linear-kernel model has feature_dim %zu != input_dim %zu", path, a->d_feat,
                 a->d_in);
        TL_TRY(get_f64(m, path, "kernel_proj", a->d_in, a->d_feat, true, &buf));
        a->kproj = own_mat(buf, a->d_in, a->d_feat);
        buf = NULL;
    } else if (a->map == TLF_MAP_RFF) {
        TL_CHECK(a->kern.gamma > 0, TL_ERR_FORMAT, "%s: kernel parameters are invalid", path);
        TL_TRY(get_f64(m, path, "rff_w", a->d_in, a->d_feat, true, &buf));
        a->rff_w = own_mat(buf, a->d_in, a->d_feat);
        buf = NULL;
        TL_TRY(get_f64(m, path, "rff_b", a->d_feat, 0, true, &a->rff_b));
        TL_TRY(get_f64(m, path, "kernel_proj", a->d_feat, a->d_feat, true, &buf));
        a->kproj = own_mat(buf, a->d_feat, a->d_feat);
        buf = NULL;
    } else {
        TL_CHECK(a->d_feat == a->d_in, TL_ERR_FORMAT,
                 "%s: model without a feature map has feature_dim %zu != input_dim %zu", path,
                 a->d_feat, a->d_in);
    }
    /* stage 2 */
    if (method == TL_ADAPT_AUGMENT) {
        TL_CHECK(a->d_out == (1 + a->n_slots) * a->d_feat, TL_ERR_FORMAT,
                 "%s: augment model has output_dim %zu != %zu x %zu", path, a->d_out,
                 1 + a->n_slots, a->d_feat);
    } else {
        size_t used = a->per_domain ? a->n_slots : 1;
        for (size_t i = 0; i < used; i++) {
            char mn[48], pn[48];
            slot_name(mn, sizeof mn, "mean", i);
            slot_name(pn, sizeof pn, "proj", i);
            TL_TRY(get_f64(m, path, mn, a->d_feat, 0, false, &a->mean[i]));
            size_t wr = tensor_rows(m, pn), wc = tensor_cols(m, pn);
            if (wr || wc) {
                TL_TRY(get_f64(m, path, pn, a->d_feat, a->d_out, true, &buf));
                a->W[i] = own_mat(buf, a->d_feat, a->d_out);
                buf = NULL;
            } else {
                TL_CHECK(a->d_out == a->d_feat, TL_ERR_FORMAT,
                         "%s: model lacks tensor '%s' (needed: output_dim %zu != %zu)", path, pn,
                         a->d_out, a->d_feat);
            }
        }
    }
    size_t np = tensor_rows(m, "pseudo_labels");
    if (np) {
        tl_dtype dt;
        size_t nd;
        const size_t *dims;
        const void *data;
        TL_TRY(tl_tlm_get_tensor(m, "pseudo_labels", &dt, &nd, &dims, &data));
        TL_CHECK(dt == TL_DTYPE_I32 && nd == 1, TL_ERR_FORMAT,
                 "%s: tensor 'pseudo_labels' should be an int32 vector", path);
        TL_ALLOC(a->pseudo, np);
        memcpy(a->pseudo, data, np * sizeof(int));
        a->n_pseudo = np;
    }
    *out = a;
    a = NULL;
done:
    tl_free(buf);
    tl_adapter_free(a);
    return st;
}
