/* Transfer through intermediate domains (tl/pipeline.h, tl_gradual_run): gradual self-training
 * (Kumar, Ma & Liang, "Understanding self-training for gradual domain adaptation", ICML 2020)
 * along a path of intermediate domains, the path given or chosen from a pool by domain distances
 * (transitive transfer, Tan, Song, Zheng & Yang, KDD 2015: reach a distant target through
 * domains that bridge it).
 *
 * The walk: the learner is trained on the labelled source; at each step it labels the next
 * domain's rows, the `keep` share it is most confident about (largest class score) becomes the
 * training set of a fresh learner, which labels the next domain, and so on until the target.
 * Kumar et al. keep the confident 90 % too: the rows near the boundary are the ones a shifted
 * model gets wrong. Beside it, the same learner without transfer (source only) and direct
 * self-training (one step, source -> target) are scored on the same rows, so the report answers
 * whether the intermediates were worth it.
 *
 * Choosing the path: every pair of domains (source, the pool, the target) is measured by RBF
 * MMD^2 on at most max_rows rows each, with one bandwidth for all pairs (the median heuristic on
 * the source and target rows, so the values compare); the path is the cheapest source -> target
 * path (Dijkstra) when a hop costs MMD^power (power 4 by default, MMD from the unbiased MMD^2). A
 * hop cost growing faster than the distance favours many short steps over one long one (n equal
 * steps of a length-L shift cost L^p / n^(p-1)), which is what gradual self-training needs, and
 * leaves out a domain that is far from every other (an inverted or noisy copy) since it shortens
 * nothing. The power was set on rotated Fashion-MNIST (bench/RESULTS.md): with the biased MMD and
 * power 2 the path skipped 12 of 21 windows; unbiased, power 4 walked them all in a numpy check.
 *
 * The guard (label-free): the source's feature correspondence to the target (tl/guard.h: an
 * unrelated source is harmful) and collapse of the final predictions (the entropy of the
 * predicted target labels over that of the source labels below 0.5: self-training's known
 * failure, every row pushed into a few classes) - harmful either way; the agreement of the
 * gradual and direct models on the target is kept as evidence. With labelled target rows, the
 * final model is also tested on them (tl_guard_labelled).
 * Written as its own file so the single-source protocol (run.c) stays unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"
#include "internal/parallel.h"
#include "tl/json.h"
#include "tl/measure.h"

tl_gradual_opts tl_gradual_opts_default(void) {
    tl_gradual_opts g;
    memset(&g, 0, sizeof g);
    g.struct_size = sizeof g;
    g.keep = 0.9;
    g.choose_path = false;
    g.max_rows = 300;
    g.power = 4.0;
    return g;
}

void tl_gradual_report_free(tl_gradual_report *r) {
    if (!r) return;
    tl_free(r->path);
    tl_free(r->names);
    tl_free(r->hop);
    tl_free(r->kept);
    tl_free(r->predictions);
    tl_free(r);
}

/* A fresh learner fitted on X (its rows idx (n), or all when idx is NULL) with labels y. */
static tl_status fit_on(const tl_learner_params *lp, const tl_dataset *X, const size_t *idx,
                        size_t n, const int *y, tl_learner **out) {
    tl_status st = TL_OK;
    tl_dataset *sub = NULL;
    tl_learner *l = NULL;
    *out = NULL;
    TL_TRY(tl_learner_create(lp, &l));
    if (idx) {
        TL_TRY(tl_dataset_subset(X, idx, n, &sub));
        TL_TRY(tl_learner_fit(l, tl_dataset_features(sub), y, NULL));
    } else {
        TL_TRY(tl_learner_fit(l, tl_dataset_features(X), y, NULL));
    }
    *out = l;
    l = NULL;
done:
    tl_dataset_free(sub);
    tl_learner_free(l);
    return st;
}

/* A row's confidence, for ranking. */
typedef struct {
    double conf;
    size_t row;
} ranked;
static int by_confidence(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->conf != y->conf) return x->conf > y->conf ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}
static int by_index(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The `keep` share of n rows with the largest class score in S (n, k; classes cls): their row
 * numbers idx (m, ascending) and predicted labels y (m), allocated. */
static tl_status confident_rows(tl_mat S, const int *cls, double keep, size_t **idx_out,
                                int **y_out, size_t *m_out) {
    tl_status st = TL_OK;
    size_t n = S.rows, k = S.cols;
    size_t *idx = NULL;
    int *y = NULL, *ysub = NULL;
    ranked *order = NULL;
    TL_CHECK(n > 0 && k > 0, TL_ERR_EMPTY, "no rows to pseudo-label");
    TL_ALLOC(idx, n);
    TL_ALLOC(y, n);
    TL_ALLOC(ysub, n);
    TL_ALLOC(order, n);
    for (size_t i = 0; i < n; i++) {
        const double *s = S.data + i * S.ld;
        size_t b = 0;
        for (size_t c = 1; c < k; c++)
            if (s[c] > s[b]) b = c;
        order[i] = (ranked){s[b], i};
        y[i] = cls[b];
    }
    /* the most confident first (ties: the earlier row), then the kept rows in row order */
    size_t m = (size_t)ceil(keep * (double)n);
    if (m < 1) m = 1;
    if (m > n) m = n;
    qsort(order, n, sizeof *order, by_confidence);
    for (size_t i = 0; i < m; i++) idx[i] = order[i].row;
    qsort(idx, m, sizeof *idx, by_index);
    for (size_t i = 0; i < m; i++) ysub[i] = y[idx[i]];
    *idx_out = idx;
    *y_out = ysub;
    *m_out = m;
    idx = NULL;
    ysub = NULL;
done:
    tl_free(idx);
    tl_free(y);
    tl_free(ysub);
    tl_free(order);
    return st;
}

/* One self-training step: the learner l labels X, a fresh learner *out is fitted on the `keep`
 * most confident rows (their predicted labels). *kept: the rows kept. */
static tl_status self_train(const tl_learner_params *lp, double keep, const tl_dataset *X,
                            const tl_learner *l, tl_learner **out, size_t *kept) {
    tl_status st = TL_OK;
    size_t n = tl_dataset_rows(X), k = tl_learner_nclasses(l), m = 0;
    tl_mat S = {0, 0, 0, NULL};
    size_t *idx = NULL;
    int *y = NULL;
    TL_CHECK(n > 0, TL_ERR_EMPTY, "'%s' has no rows", tl_dataset_name(X));
    TL_TRY(tl_mat_alloc(&S, n, k));
    TL_TRY(tl_learner_scores(l, tl_dataset_features(X), S));
    TL_TRY(confident_rows(S, tl_learner_classes(l), keep, &idx, &y, &m));
    TL_TRY(fit_on(lp, X, idx, m, y, out));
    *kept = m;
done:
    tl_mat_free(&S);
    tl_free(idx);
    tl_free(y);
    return st;
}

/* One hop of a feature mapping: the method transfers from the labelled rows `from` to X (the
 * protocol, guard off); the transferred model labels X and its `keep` most confident rows, with
 * those labels, become *next (the next hop's source). eval (may be NULL): rows the hop also
 * scores (the target's test set), *rep receives the hop's report when rep is not NULL; *pipe
 * (may be NULL) its pipeline. */
static tl_status method_hop(const tl_params *method, const tl_run_opts *o, double keep,
                            tl_dataset *from, tl_dataset *X, tl_dataset *eval, tl_dataset **next,
                            size_t *kept, tl_report **rep, tl_pipeline **pipe) {
    tl_status st = TL_OK;
    tl_task *t = NULL;
    tl_report *r = NULL;
    tl_pipeline *p = NULL;
    tl_mat S = {0, 0, 0, NULL};
    size_t *idx = NULL, m = 0, ti, k = 0;
    int *y = NULL;
    tl_run_opts oo = *o;
    oo.guard = false;
    oo.in_place = false;
    oo.allow_unknown_labels = true; /* a hop whose kept rows lost a class scores it as errors */
    oo.keep_embeddings = false;
    TL_TRY(tl_task_create(&t));
    TL_TRY(tl_task_add(t, TL_ROLE_SOURCE, from, NULL));
    TL_TRY(tl_task_add(t, TL_ROLE_TARGET, X, &ti));
    if (eval) TL_TRY(tl_task_set_test(t, ti, eval));
    TL_TRY(tl_transfer_run(t, method, &oo, &r, &p));
    if (next) {
        TL_TRY(tl_pipeline_scores(p, 1, X, NULL, &S));
        const int *cls = tl_pipeline_classes(p, &k);
        TL_CHECK(cls && k == S.cols, TL_ERR_STATE, "the hop's model gives no class scores");
        TL_TRY(confident_rows(S, cls, keep, &idx, &y, &m));
        TL_TRY(tl_dataset_subset(X, idx, m, next));
        st = tl_dataset_set_labels(*next, y);
        if (st != TL_OK) {
            tl_dataset_free(*next);
            *next = NULL;
            goto done;
        }
        *kept = m;
    }
    if (rep) {
        *rep = r;
        r = NULL;
    }
    if (pipe) {
        *pipe = p;
        p = NULL;
    }
done:
    tl_task_free(t);
    tl_report_free(r);
    tl_pipeline_free(p);
    tl_mat_free(&S);
    tl_free(idx);
    tl_free(y);
    return st;
}

/* Up to max rows of X drawn with the seed, dense: *out (m, d) allocated with tl_mat_alloc. */
static tl_status sample_rows(const tl_dataset *X, size_t max, uint64_t seed, tl_mat *out) {
    tl_status st = TL_OK;
    size_t n = tl_dataset_rows(X), m = n < max ? n : max;
    size_t *idx = NULL;
    tl_dataset *sub = NULL;
    TL_ALLOC(idx, n ? n : 1);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    tl_rng r;
    tl_rng_seed(&r, seed);
    if (m < n) tl_rng_shuffle(&r, idx, n);
    qsort(idx, m, sizeof *idx, by_index);
    TL_TRY(tl_dataset_subset(X, idx, m, &sub));
    TL_TRY(tl_mat_alloc(out, m, tl_dataset_cols(X)));
    TL_TRY(tl_xmat_rows_dense(tl_dataset_features(sub), 0, m, *out));
done:
    tl_free(idx);
    tl_dataset_free(sub);
    return st;
}

/* MMD between two samples, RBF gamma: the square root of the unbiased MMD^2, clipped at 0. The
 * biased estimate adds a floor of about 2 (1 - mean k) / n to every pair, which makes one long hop
 * cheaper than two short ones (on rotated Fashion-MNIST with 300 rows a domain, 2.4-degree
 * windows: the path skipped 12 of 21 windows); the unbiased one has no floor. */
static tl_status mmd_of(tl_mat A, tl_mat B, double gamma, uint64_t seed, double *out) {
    tl_mmd_params p = tl_mmd_params_default();
    p.kernel = TL_KERNEL_RBF;
    p.gamma = gamma;
    p.unbiased = true;
    p.rff_above = 0;
    p.seed = seed;
    tl_mmd_result r;
    tl_status st = tl_mmd(&p, tl_xmat_from_dense(A), tl_xmat_from_dense(B), &r);
    if (st == TL_OK) *out = sqrt(r.mmd2 > 0 ? r.mmd2 : 0);
    return st;
}

/* The cheapest path from node 0 to node n-1 of the complete graph whose edge i-j costs
 * D[i][j]^power (Dijkstra, O(n^2)): the inner nodes in order into path, their count *len. */
static tl_status cheapest_path(const double *D, size_t n, double power, size_t *path,
                               size_t *len) {
    tl_status st = TL_OK;
    double *cost = NULL;
    size_t *prev = NULL;
    bool *done_ = NULL;
    TL_ALLOC(cost, n);
    TL_ALLOC(prev, n);
    TL_CALLOC(done_, n);
    for (size_t i = 0; i < n; i++) {
        cost[i] = INFINITY;
        prev[i] = n;
    }
    cost[0] = 0;
    for (;;) {
        size_t u = n;
        for (size_t i = 0; i < n; i++)
            if (!done_[i] && (u == n || cost[i] < cost[u])) u = i;
        if (u == n || u == n - 1) break;
        done_[u] = true;
        for (size_t v = 0; v < n; v++) {
            if (done_[v] || v == u) continue;
            double c = cost[u] + pow(D[u * n + v], power);
            if (c < cost[v]) {
                cost[v] = c;
                prev[v] = u;
            }
        }
    }
    size_t m = 0;
    for (size_t v = prev[n - 1]; v != 0 && v < n; v = prev[v]) m++;
    size_t at = m;
    for (size_t v = prev[n - 1]; v != 0 && v < n; v = prev[v]) path[--at] = v;
    *len = m;
done:
    tl_free(cost);
    tl_free(prev);
    tl_free(done_);
    return st;
}

/* Entropy (nats) of the label distribution of y (n). */
static double label_entropy(const int *y, size_t n) {
    int *c = NULL;
    size_t *cnt = NULL, k = 0;
    double h = NAN;
    if (tl_labels_unique(y, n, &c, &cnt, &k) == TL_OK) {
        h = 0;
        for (size_t i = 0; i < k; i++) {
            double q = (double)cnt[i] / (double)n;
            if (q > 0) h -= q * log(q);
        }
    }
    tl_free(c);
    tl_free(cnt);
    return h;
}

/* The distances and the path: r->path/n_steps, r->hop, r->direct_mmd. inter (n_inter): the
 * intermediates' task positions in task order. */
static tl_status measure_path(const tl_task *task, size_t src, size_t tgt, const size_t *inter,
                              size_t n_inter, const tl_gradual_opts *g, uint64_t seed,
                              tl_gradual_report *r) {
    tl_status st = TL_OK;
    size_t nn = n_inter + 2;
    tl_mat *M = NULL, ST = {0, 0, 0, NULL};
    double *D = NULL;
    size_t *node = NULL;
    TL_CALLOC(M, nn);
    TL_ALLOC(node, nn);
    TL_ALLOC(D, nn * nn);
    node[0] = src;
    for (size_t i = 0; i < n_inter; i++) node[i + 1] = inter[i];
    node[nn - 1] = tgt;
    for (size_t i = 0; i < nn; i++)
        TL_TRY(sample_rows(tl_task_data(task, node[i]), g->max_rows, seed + i, &M[i]));
    /* one bandwidth for every pair: the median heuristic on the source and target samples */
    size_t d = M[0].cols;
    TL_TRY(tl_mat_alloc(&ST, M[0].rows + M[nn - 1].rows, d));
    for (size_t i = 0; i < M[0].rows; i++) memcpy(ST.data + i * ST.ld, M[0].data + i * M[0].ld, d * sizeof(double));
    for (size_t i = 0; i < M[nn - 1].rows; i++)
        memcpy(ST.data + (M[0].rows + i) * ST.ld, M[nn - 1].data + i * M[nn - 1].ld,
               d * sizeof(double));
    double gamma;
    TL_TRY(tl_kernel_median_gamma(ST, seed, &gamma));
    for (size_t i = 0; i < nn * nn; i++) D[i] = NAN;
    if (g->choose_path) {
        for (size_t i = 0; i < nn; i++) {
            D[i * nn + i] = 0;
            for (size_t j = i + 1; j < nn; j++) {
                TL_TRY(mmd_of(M[i], M[j], gamma, seed, &D[i * nn + j]));
                D[j * nn + i] = D[i * nn + j];
            }
        }
        size_t len = 0, *p = NULL;
        TL_ALLOC(p, nn);
        st = cheapest_path(D, nn, g->power, p, &len);
        for (size_t i = 0; st == TL_OK && i < len; i++) r->path[i] = node[p[i]];
        r->n_steps = len;
        for (size_t i = 0; st == TL_OK && i <= len; i++)
            r->hop[i] = D[(i ? p[i - 1] : 0) * nn + (i < len ? p[i] : nn - 1)];
        tl_free(p);
        if (st != TL_OK) goto done;
    } else {
        r->n_steps = n_inter;
        for (size_t i = 0; i < n_inter; i++) r->path[i] = inter[i];
        for (size_t i = 0; i <= n_inter; i++) TL_TRY(mmd_of(M[i], M[i + 1], gamma, seed, &r->hop[i]));
    }
    TL_TRY(mmd_of(M[0], M[nn - 1], gamma, seed, &r->direct_mmd));
done:
    for (size_t i = 0; M && i < nn; i++) tl_mat_free(&M[i]);
    tl_free(M);
    tl_mat_free(&ST);
    tl_free(D);
    tl_free(node);
    return st;
}

/* The walk itself, on rows already preprocessed (tl_gradual_run, gradual_prep.c, prepares
 * them). */
tl_status tlx_gradual_walk(const tl_task *task, const tl_run_opts *opts, const tl_gradual_opts *g,
                           tl_gradual_report **out, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    tl_gradual_report *r = NULL;
    tl_learner *l0 = NULL, *ld = NULL, *cur = NULL, *next = NULL;
    tl_report *hop = NULL;
    tl_pipeline *fin = NULL;
    tl_task *ends = NULL;
    tl_dataset *hop_src = NULL, *owned = NULL;
    size_t *inter = NULL;
    int *pd = NULL, *lab_pred = NULL;
    tli_thread_scope scope = {0};
    bool scoped = false;
    double t0 = tli_seconds();
    TL_CHECK(task && out, TL_ERR_INVALID_ARG, "gradual_run: NULL task or output");
    *out = NULL;
    if (pipeline) *pipeline = NULL;
    tl_run_opts o = tl_run_opts_default();
    if (opts) memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    tl_gradual_opts go = tl_gradual_opts_default();
    if (g) memcpy(&go, g, g->struct_size < sizeof go ? g->struct_size : sizeof go);
    TL_CHECK(go.keep > 0 && go.keep <= 1, TL_ERR_INVALID_ARG,
             "gradual transfer: keep = %g must be in (0, 1] (the share of each step's rows kept "
             "as pseudo-labels)", go.keep);
    TL_CHECK(go.power >= 1, TL_ERR_INVALID_ARG,
             "gradual transfer: power = %g must be at least 1", go.power);
    TL_CHECK(go.max_rows >= 2 || !go.choose_path, TL_ERR_INVALID_ARG,
             "gradual transfer: choosing the path needs max_rows >= 2 (it is %zu)", go.max_rows);
    if (go.method) {
        const tl_method *gm = tl_params_method(go.method);
        TL_CHECK(gm && tl_method_family(gm) == TL_FAMILY_FEATURE &&
                     !(tl_method_needs(gm) & TL_NEEDS_TARGET_LABELS),
                 TL_ERR_INVALID_ARG,
                 "gradual transfer: '%s' cannot map hop by hop (a feature mapping that runs on "
                 "unlabelled target rows can: coral, sa, jda, ...)", gm ? tl_method_name(gm) : "?");
    }
    TL_CHECK(o.preprocess.nsteps == 0, TL_ERR_STATE,
             "gradual transfer: the rows reach the walk unprepared (internal)");
    long s = tl_task_find(task, TL_ROLE_SOURCE, 0), t = tl_task_find(task, TL_ROLE_TARGET, 0);
    TL_CHECK(s >= 0 && tl_task_data(task, (size_t)s), TL_ERR_EMPTY,
             "gradual transfer: the task has no source rows");
    TL_CHECK(t >= 0, TL_ERR_EMPTY, "gradual transfer: the task has no target domain");
    tl_dataset *S = tl_task_data(task, (size_t)s), *T = tl_task_data(task, (size_t)t);
    TL_CHECK(tl_dataset_has_labels(S), TL_ERR_LABEL,
             "gradual transfer: the source '%s' has no class labels", tl_dataset_name(S));
    size_t ni = tl_task_count_role(task, TL_ROLE_INTERMEDIATE);
    TL_CHECK(ni >= 1, TL_ERR_INVALID_ARG,
             "gradual transfer needs at least one intermediate domain (the task has none)");
    TL_CHECK(!go.choose_path || ni >= 2, TL_ERR_INVALID_ARG,
             "a pool of intermediate domains needs at least two (it has %zu: there is no path to "
             "choose; give it as an intermediate to walk instead)", ni);
    TL_ALLOC(inter, ni);
    size_t d = tl_dataset_cols(S);
    for (size_t i = 0; i < ni; i++) {
        inter[i] = (size_t)tl_task_find(task, TL_ROLE_INTERMEDIATE, i);
        const tl_dataset *X = tl_task_data(task, inter[i]);
        TL_CHECK(X, TL_ERR_INVALID_ARG, "gradual transfer: intermediate %zu has no rows", i + 1);
        TL_CHECK(tl_dataset_cols(X) == d, TL_ERR_SHAPE,
                 "gradual transfer: intermediate '%s' has %zu features, the source '%s' %zu",
                 tl_dataset_name(X), tl_dataset_cols(X), tl_dataset_name(S), d);
        TL_CHECK(tl_dataset_rows(X) > 0, TL_ERR_EMPTY, "gradual transfer: intermediate '%s' "
                 "has no rows", tl_dataset_name(X));
    }
    TL_CHECK(tl_dataset_cols(T) == d, TL_ERR_SHAPE,
             "gradual transfer: the target '%s' has %zu features, the source '%s' %zu",
             tl_dataset_name(T), tl_dataset_cols(T), tl_dataset_name(S), d);
    const tl_dataset *E = tl_task_test(task, (size_t)t) ? tl_task_test(task, (size_t)t) : T;
    TL_CHECK(tl_dataset_has_labels(E), TL_ERR_LABEL,
             "gradual transfer: the evaluation rows '%s' have no class labels to score",
             tl_dataset_name(E));
    TL_CHECK(tl_dataset_cols(E) == d, TL_ERR_SHAPE,
             "gradual transfer: the test rows '%s' have %zu features, the source %zu",
             tl_dataset_name(E), tl_dataset_cols(E), d);

    tl_learner_params lp;
    if (o.learner) {
        TL_TRY(tlx_learner_params(o.learner, o.ctx, &lp));
    } else {
        lp = tl_learner_params_default(TL_LEARNER_KNN);
        lp.seed = tlx_seed(o.ctx);
    }
    uint64_t seed = tlx_seed(o.ctx);
    scope = tli_threads_enter(o.ctx);
    scoped = true;

    TL_CALLOC(r, 1);
    r->n_pool = ni;
    r->source = tl_dataset_name(S);
    r->target = tl_dataset_name(T);
    r->learner = tl_learner_name(lp.type);
    r->method = go.method ? tl_method_name(tl_params_method(go.method)) : "none";
    r->n_eval = tl_dataset_rows(E);
    r->direct_mmd = NAN;
    TL_ALLOC(r->path, ni);
    TL_ALLOC(r->names, ni);
    TL_ALLOC(r->hop, ni + 1);
    TL_CALLOC(r->kept, ni + 1);
    for (size_t i = 0; i <= ni; i++) r->hop[i] = NAN;

    /* 1. the path */
    double tp = tli_seconds();
    if (go.choose_path || go.max_rows >= 2) {
        st = measure_path(task, (size_t)s, (size_t)t, inter, ni, &go, seed, r);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "measuring the domain distances");
            goto done;
        }
    } else {
        r->n_steps = ni;
        for (size_t i = 0; i < ni; i++) r->path[i] = inter[i];
    }
    for (size_t i = 0; i < r->n_steps; i++) r->names[i] = tl_task_name(task, r->path[i]);
    r->seconds_path = tli_seconds() - tp;

    /* 2. source only, direct self-training, the walk */
    size_t ne = r->n_eval;
    const int *ye = tl_dataset_labels_const(E);
    TL_ALLOC(r->predictions, ne ? ne : 1);
    TL_ALLOC(pd, ne ? ne : 1);
    st = fit_on(&lp, S, NULL, tl_dataset_rows(S), tl_dataset_labels_const(S), &l0);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "training on the source '%s'", tl_dataset_name(S));
        goto done;
    }
    TL_TRY(tl_learner_predict(l0, tl_dataset_features(E), pd));
    TL_TRY(tlx_score(ye, pd, ne, &r->source_only));
    if (go.method) { /* the feature mapping hop by hop, against its direct transfer */
        tl_dataset *Et = E == T ? NULL : (tl_dataset *)E;
        st = method_hop(go.method, &o, go.keep, S, T, Et, NULL, NULL, &hop, NULL);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "%s from the source straight to the target", r->method);
            goto done;
        }
        TL_CHECK(hop->n_eval == ne, TL_ERR_STATE, "the direct transfer scored %zu rows, not %zu",
                 hop->n_eval, ne);
        memcpy(pd, hop->predictions, ne * sizeof *pd);
        r->direct = hop->result;
        tl_report_free(hop);
        hop = NULL;
        tl_dataset *from = S;
        for (size_t i = 0; i <= r->n_steps; i++) {
            bool last = i == r->n_steps;
            tl_dataset *X = last ? T : tl_task_data(task, r->path[i]);
            st = method_hop(go.method, &o, go.keep, from, X, last ? Et : NULL,
                            last ? NULL : &hop_src, &r->kept[i], last ? &hop : NULL,
                            last ? &fin : NULL);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "%s into '%s' (step %zu of %zu)", r->method,
                                    tl_dataset_name(X), i + 1, r->n_steps + 1);
                goto done;
            }
            if (!last) {
                tl_dataset_free(owned);
                owned = from = hop_src;
                hop_src = NULL;
            }
        }
        TL_CHECK(hop->n_eval == ne, TL_ERR_STATE, "the last hop scored %zu rows, not %zu",
                 hop->n_eval, ne);
        memcpy(r->predictions, hop->predictions, ne * sizeof *r->predictions);
        r->result = hop->result;
        goto scored;
    }
    size_t kd;
    st = self_train(&lp, go.keep, T, l0, &ld, &kd);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "self-training on the target '%s'", tl_dataset_name(T));
        goto done;
    }
    TL_TRY(tl_learner_predict(ld, tl_dataset_features(E), pd));
    TL_TRY(tlx_score(ye, pd, ne, &r->direct));
    const tl_learner *at = l0;
    for (size_t i = 0; i <= r->n_steps; i++) {
        const tl_dataset *X = i < r->n_steps ? tl_task_data(task, r->path[i]) : T;
        st = self_train(&lp, go.keep, X, at, &next, &r->kept[i]);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "self-training on '%s' (step %zu of %zu)", tl_dataset_name(X),
                                i + 1, r->n_steps + 1);
            goto done;
        }
        tl_learner_free(cur);
        cur = next;
        next = NULL;
        at = cur;
    }
    TL_TRY(tl_learner_predict(cur, tl_dataset_features(E), r->predictions));
    TL_TRY(tlx_score(ye, r->predictions, ne, &r->result));
scored:
    r->gain = r->result.accuracy - r->source_only.accuracy;
    r->gain_direct = r->result.accuracy - r->direct.accuracy;
    size_t same = 0;
    for (size_t i = 0; i < ne; i++) same += r->predictions[i] == pd[i];
    r->agreement = ne ? (double)same / (double)ne : NAN;

    /* 3. the guard */
    r->correspondence = NAN;
    r->prediction_entropy = NAN;
    if (o.guard) {
        tl_guard_params gp = o.guard_params ? *o.guard_params : tl_guard_params_default();
        gp.learner = lp;
        gp.seed = seed;
        r->guarded = true;
        st = tl_guard_correspondence(&gp, tl_dataset_features(S), tl_dataset_features(T),
                                     &r->correspondence, NULL);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "negative-transfer guard");
            goto done;
        }
        double hs = label_entropy(tl_dataset_labels_const(S), tl_dataset_rows(S));
        r->prediction_entropy = hs > 0 ? label_entropy(r->predictions, ne) / hs : NAN;
        bool unrelated = r->correspondence < gp.min_correspondence;
        bool collapsed = r->prediction_entropy < 0.5;
        r->negative_transfer = unrelated || collapsed;
        if (unrelated)
            snprintf(r->reason, sizeof r->reason,
                     "the source looks unrelated: its feature correlations do not match the "
                     "target's (Mantel r = %.3f < %.2f)", r->correspondence, gp.min_correspondence);
        else if (collapsed)
            snprintf(r->reason, sizeof r->reason,
                     "the self-trained predictions collapsed onto few classes (label entropy "
                     "%.2f of the source's)", r->prediction_entropy);
        else if (isnan(r->correspondence))
            snprintf(r->reason, sizeof r->reason,
                     "feature correspondence not measurable here; predictions spread over the "
                     "classes (entropy %.2f of the source's)", r->prediction_entropy);
        else
            snprintf(r->reason, sizeof r->reason,
                     "features correspond (r = %.2f); predictions spread over the classes "
                     "(entropy %.2f of the source's)", r->correspondence, r->prediction_entropy);
        const tl_dataset *L = tl_task_labelled(task, (size_t)t);
        if (L && tl_dataset_has_labels(L) && tl_dataset_rows(L) > 0) {
            TL_ALLOC(lab_pred, tl_dataset_rows(L));
            if (fin) TL_TRY(tl_pipeline_predict(fin, 1, L, lab_pred));
            else TL_TRY(tl_learner_predict(cur, tl_dataset_features(L), lab_pred));
            TL_TRY(tl_guard_labelled(&gp, tl_dataset_labels_const(L), lab_pred,
                                     tl_dataset_rows(L), NAN, &r->labelled));
            r->labelled_checked = true;
            if (r->labelled.harmful) {
                r->negative_transfer = true;
                snprintf(r->reason, sizeof r->reason, "%s", r->labelled.reason);
            }
        }
    }

    /* 4. the pipeline: the final learner, or the last hop's */
    if (pipeline && fin) {
        *pipeline = fin;
        fin = NULL;
    } else if (pipeline) { /* two domains, source and target, as every pipeline tl predict
                              reads (--domain target is domain 1) */
        tlx_scalers sc;
        memset(&sc, 0, sizeof sc);
        TL_TRY(tl_task_create(&ends));
        TL_TRY(tl_task_add(ends, TL_ROLE_SOURCE, S, NULL));
        TL_TRY(tl_task_add(ends, TL_ROLE_TARGET, T, NULL));
        TL_TRY(tlx_pipeline_make(&sc, NULL, cur, ends, 0, 1, pipeline));
        cur = NULL;
    }
    r->seconds = tli_seconds() - t0;
    *out = r;
    r = NULL;
done:
    if (scoped) tli_threads_leave(scope);
    tl_gradual_report_free(r);
    tl_learner_free(l0);
    tl_learner_free(ld);
    tl_report_free(hop);
    tl_pipeline_free(fin);
    tl_task_free(ends);
    tl_dataset_free(hop_src);
    tl_dataset_free(owned);
    tl_learner_free(cur);
    tl_learner_free(next);
    tl_free(inter);
    tl_free(pd);
    tl_free(lab_pred);
    return st;
}

tl_status tl_gradual_report_text(const tl_gradual_report *r, char **out) {
    tlx_text t = {0};
    tlx_tprintf(&t, "%-22s %s -> %zu intermediate%s -> %s (%zu scored rows), learner %s\n", "task",
                r->source, r->n_steps, r->n_steps == 1 ? "" : "s", r->target, r->n_eval,
                r->learner);
    tlx_tprintf(&t, "%-22s", r->n_steps < r->n_pool ? "path (chosen)" : "path");
    tlx_tprintf(&t, " %s", r->source);
    for (size_t i = 0; i < r->n_steps; i++) tlx_tprintf(&t, " -> %s", r->names[i]);
    tlx_tprintf(&t, " -> %s\n", r->target);
    if (!isnan(r->direct_mmd)) {
        double mx = 0;
        for (size_t i = 0; i <= r->n_steps; i++)
            if (r->hop[i] > mx) mx = r->hop[i];
        tlx_tprintf(&t, "%-22s largest hop %.4f, direct %.4f (RBF MMD)\n", "distances", mx,
                    r->direct_mmd);
    }
    if (r->n_steps < r->n_pool)
        tlx_tprintf(&t, "%-22s %zu of %zu pool domains left out\n", "", r->n_pool - r->n_steps,
                    r->n_pool);
    tlx_tprintf(&t, "%-22s %.2f %%\n", "source only", 100 * r->source_only.accuracy);
    char lab[64];
    if (strcmp(r->method, "none") == 0) snprintf(lab, sizeof lab, "direct self-training");
    else snprintf(lab, sizeof lab, "direct %s", r->method);
    tlx_tprintf(&t, "%-22s %.2f %%\n", lab, 100 * r->direct.accuracy);
    if (strcmp(r->method, "none") == 0) snprintf(lab, sizeof lab, "gradual");
    else snprintf(lab, sizeof lab, "gradual %s", r->method);
    tlx_tprintf(&t, "%-22s %.2f %% (%+.2f vs source only, %+.2f vs direct)\n", lab,
                100 * r->result.accuracy, 100 * r->gain, 100 * r->gain_direct);
    if (r->guarded)
        tlx_tprintf(&t, "%-22s %s: %s\n", "guard", r->negative_transfer ? "HARMFUL" : "ok",
                    r->reason);
    tlx_tprintf(&t, "%-22s %.3f s (path %.3f s)\n", "time", r->seconds, r->seconds_path);
    return tlx_text_end(&t, out);
}

tl_status tl_gradual_report_json(const tl_gradual_report *r, const char *command, char **out) {
    tl_json j;
    tl_json_begin(&j);
    if (command) tl_json_str(&j, "command", command);
    tl_json_str(&j, "method", strcmp(r->method, "none") == 0 ? "gradual-self-training" : r->method);
    tl_json_bool(&j, "hop_by_hop_mapping", strcmp(r->method, "none") != 0);
    tl_json_str(&j, "learner", r->learner);
    tl_json_str(&j, "source", r->source);
    tl_json_str(&j, "target", r->target);
    tl_json_int(&j, "n_eval", (long long)r->n_eval);
    tl_json_int(&j, "n_pool", (long long)r->n_pool);
    tl_json_arr_begin(&j, "path");
    for (size_t i = 0; i < r->n_steps; i++) tl_json_arr_str(&j, r->names[i]);
    tl_json_arr_end(&j);
    tl_json_arr_begin(&j, "hop_mmd");
    for (size_t i = 0; i <= r->n_steps; i++) tl_json_arr_num(&j, r->hop[i]);
    tl_json_arr_end(&j);
    tl_json_arr_begin(&j, "kept");
    for (size_t i = 0; i <= r->n_steps; i++) tl_json_arr_int(&j, (long long)r->kept[i]);
    tl_json_arr_end(&j);
    tl_json_num(&j, "direct_mmd", r->direct_mmd);
    tl_json_num(&j, "accuracy", r->result.accuracy);
    tl_json_num(&j, "balanced_accuracy", r->result.balanced_accuracy);
    tl_json_num(&j, "source_only_accuracy", r->source_only.accuracy);
    tl_json_num(&j, "direct_accuracy", r->direct.accuracy);
    tl_json_num(&j, "gain", r->gain);
    tl_json_num(&j, "gain_vs_direct", r->gain_direct);
    if (r->guarded) {
        tl_json_bool(&j, "negative_transfer", r->negative_transfer);
        tl_json_str(&j, "guard_reason", r->reason);
        tl_json_num(&j, "correspondence", r->correspondence);
        tl_json_num(&j, "prediction_entropy", r->prediction_entropy);
    } else {
        tl_json_null(&j, "negative_transfer");
    }
    tl_json_num(&j, "agreement_with_direct", r->agreement);
    tl_json_num(&j, "seconds_path", r->seconds_path);
    tl_json_num(&j, "seconds", r->seconds);
    return tl_json_end(&j, out);
}
