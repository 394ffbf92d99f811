/* TrAdaBoost (Dai, Yang, Xue & Yu, "Boosting for transfer learning", ICML 2007).
 * Training set: ns source rows ("diff-distribution") followed by m labelled target rows
 * ("same-distribution"), initial weights 1. For t = 1..N:
 *   p = w / sum(w); fit the base learner with sample weights p (rescaled to mean 1, so C keeps its
 *   meaning); eps_t = weighted error on the target rows only;
 *   beta_t = eps_t / (1 - eps_t);  beta = 1 / (1 + sqrt(2 ln ns / N));
 *   misclassified source rows: w *= beta (they look unlike the target: down-weight);
 *   misclassified target rows: w *= 1 / beta_t (up-weight, as in AdaBoost).
 * The paper requires eps_t < 1/2: eps_t is clipped to [1e-10, 1/2], and a round with eps_t = 1/2
 * (beta_t = 1) changes no target weight and gets no vote. The final hypothesis votes with the
 * learners of rounds ceil(N/2)..N, weight ln(1/beta_t) each; for two classes this is the paper's
 * rule prod beta_t^{-h_t(x)} >= prod beta_t^{-1/2} (ties to the larger label), and it extends to
 * several classes as a weighted majority vote. If every voting round has zero weight, the votes
 * count equally. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "instance/instance_internal.h"

struct tl_tradaboost {
    size_t nvote, d, c;
    tl_learner **l; /* (nvote) */
    double *alpha;  /* (nvote) */
    int *classes;   /* (c) sorted */
};

tl_tradaboost_params tl_tradaboost_params_default(void) {
    tl_tradaboost_params p;
    p.rounds = 20;
    p.base = tl_learner_params_default(TL_LEARNER_LOGREG);
    return p;
}

void tl_tradaboost_free(tl_tradaboost *m) {
    if (!m) return;
    if (m->l)
        for (size_t i = 0; i < m->nvote; i++) tl_learner_free(m->l[i]);
    tl_free(m->l);
    tl_free(m->alpha);
    tl_free(m->classes);
    tl_free(m);
}

tl_status tl_tradaboost_fit(const tl_tradaboost_params *p, tl_xmat Xs, const int *ys, tl_xmat Xl,
                            const int *yl, tl_tradaboost **out) {
    tl_status st = TL_OK;
    tlm_pooled pool;
    tl_tradaboost *m = NULL;
    tl_learner *cur = NULL;
    int *y = NULL, *pred = NULL;
    double *w = NULL, *wn = NULL;
    memset(&pool, 0, sizeof pool);
    TL_CHECK(out, TL_ERR_INVALID_ARG, "tradaboost: output pointer is NULL");
    *out = NULL;
    TL_CHECK(p, TL_ERR_INVALID_ARG, "tradaboost: parameters are NULL");
    TL_CHECK(p->rounds >= 1 && p->rounds <= 10000, TL_ERR_INVALID_ARG,
             "tradaboost: rounds = %zu must be in [1, 10000]", p->rounds);
    st = tl_learner_params_check(&p->base);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "tradaboost base learner");
        goto done;
    }
    TL_CHECK(tl_xmat_rows(Xl) > 0, TL_ERR_EMPTY,
             "tradaboost: no labelled target samples were given (it needs a few)");
    TL_TRY(tlm_check_pair(Xs, Xl, 1, "tradaboost"));
    TL_CHECK(ys && yl, TL_ERR_LABEL, "tradaboost: %s labels are missing",
             ys ? "labelled-target" : "source");
    size_t ns = tl_xmat_rows(Xs), nl = tl_xmat_rows(Xl), n = ns + nl, N = p->rounds;
    TL_TRY(tlm_pool(Xs, Xl, &pool));
    TL_ALLOC(y, n);
    memcpy(y, ys, ns * sizeof *y);
    memcpy(y + ns, yl, nl * sizeof *y);
    TL_CALLOC(m, 1);
    TL_TRY(tl_labels_unique(y, n, &m->classes, NULL, &m->c));
    m->d = tl_xmat_cols(Xs);
    size_t first = (N + 1) / 2; /* ceil(N/2), 1-based */
    m->nvote = N - first + 1;
    TL_CALLOC(m->l, m->nvote);
    TL_ALLOC(m->alpha, m->nvote);
    TL_ALLOC(w, n);
    TL_ALLOC(wn, n);
    TL_ALLOC(pred, n);
    for (size_t i = 0; i < n; i++) w[i] = 1.0;
    double beta = 1.0 / (1.0 + sqrt(2.0 * log((double)ns) / (double)N));
    for (size_t t = 1; t <= N; t++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += w[i];
        for (size_t i = 0; i < n; i++) wn[i] = w[i] * (double)n / s;
        TL_TRY(tl_learner_create(&p->base, &cur));
        st = tl_learner_fit(cur, pool.X, y, wn);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "tradaboost round %zu", t);
            goto done;
        }
        TL_TRY(tl_learner_predict(cur, pool.X, pred));
        double et = 0.0, wt = 0.0;
        for (size_t i = ns; i < n; i++) {
            wt += wn[i];
            if (pred[i] != y[i]) et += wn[i];
        }
        double eps = wt > 0 ? et / wt : 0.5;
        if (eps > 0.5) eps = 0.5;
        if (eps < 1e-10) eps = 1e-10;
        double bt = eps / (1.0 - eps);
        for (size_t i = 0; i < n; i++)
            w[i] = pred[i] == y[i] ? wn[i] : i < ns ? wn[i] * beta : wn[i] / bt;
        if (t >= first) {
            m->l[t - first] = cur;
            m->alpha[t - first] = log(1.0 / bt);
        } else {
            tl_learner_free(cur);
        }
        cur = NULL;
    }
    *out = m;
    m = NULL;
done:
    tl_learner_free(cur);
    tl_tradaboost_free(m);
    tlm_pooled_free(&pool);
    tl_free(y);
    tl_free(pred);
    tl_free(w);
    tl_free(wn);
    return st;
}

size_t tl_tradaboost_input_dim(const tl_tradaboost *m) { return m ? m->d : 0; }

const int *tl_tradaboost_classes(const tl_tradaboost *m, size_t *nclasses) {
    if (nclasses) *nclasses = m ? m->c : 0;
    return m ? m->classes : NULL;
}

/* votes (n, c), zeroed by the caller: each voting round's weight on the class it predicts. */
static tl_status tab_votes(const tl_tradaboost *m, tl_xmat X, double *votes) {
    tl_status st = TL_OK;
    int *pt = NULL;
    size_t n = tl_xmat_rows(X);
    TL_ALLOC(pt, n);
    double asum = 0.0;
    for (size_t r = 0; r < m->nvote; r++) asum += m->alpha[r];
    for (size_t r = 0; r < m->nvote; r++) {
        TL_TRY(tl_learner_predict(m->l[r], X, pt));
        double a = asum > 0 ? m->alpha[r] : 1.0;
        for (size_t i = 0; i < n; i++) {
            long k = tl_labels_index(m->classes, m->c, pt[i]);
            if (k >= 0) votes[i * m->c + (size_t)k] += a;
        }
    }
done:
    tl_free(pt);
    return st;
}

static tl_status tab_check(const tl_tradaboost *m, tl_xmat X, const void *out) {
    tl_status st = TL_OK;
    TL_CHECK(m, TL_ERR_STATE, "tradaboost predict: the model is NULL (fit it first)");
    TL_CHECK(tl_xmat_cols(X) == m->d, TL_ERR_SHAPE,
             "tradaboost predict: X has %zu features, the model was trained on %zu",
             tl_xmat_cols(X), m->d);
    TL_CHECK(out || tl_xmat_rows(X) == 0, TL_ERR_INVALID_ARG, "tradaboost predict: output is NULL");
done:
    return st;
}

tl_status tl_tradaboost_scores(const tl_tradaboost *m, tl_xmat X, tl_mat S) {
    tl_status st = TL_OK;
    TL_TRY(tab_check(m, X, S.data));
    size_t n = tl_xmat_rows(X);
    TL_CHECK(S.rows == n && S.cols == m->c, TL_ERR_SHAPE,
             "tradaboost scores: S is %zu x %zu, expected %zu x %zu", S.rows, S.cols, n, m->c);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m->c; k++) TL_AT(S, i, k) = 0.0;
    if (n == 0) goto done;
    double *votes = NULL;
    TL_CALLOC(votes, n * m->c);
    st = tab_votes(m, X, votes);
    for (size_t i = 0; st == TL_OK && i < n; i++) {
        double t = 0.0;
        for (size_t k = 0; k < m->c; k++) t += votes[i * m->c + k];
        for (size_t k = 0; k < m->c; k++)
            TL_AT(S, i, k) = t > 0 ? votes[i * m->c + k] / t : 1.0 / (double)m->c;
    }
    tl_free(votes);
done:
    return st;
}

tl_status tl_tradaboost_predict(const tl_tradaboost *m, tl_xmat X, int *pred) {
    tl_status st = TL_OK;
    double *votes = NULL;
    TL_TRY(tab_check(m, X, pred));
    size_t n = tl_xmat_rows(X);
    if (n == 0) goto done;
    size_t cells;
    TL_CHECK(tl_size_mul(n, m->c, &cells) == 0, TL_ERR_NOMEM, "tradaboost: size overflow");
    TL_CALLOC(votes, cells);
    TL_TRY(tab_votes(m, X, votes));
    for (size_t i = 0; i < n; i++) {
        const double *v = votes + i * m->c;
        size_t best = 0;
        for (size_t k = 1; k < m->c; k++)
            if (v[k] >= v[best]) best = k; /* ties to the larger label */
        pred[i] = m->classes[best];
    }
done:
    tl_free(votes);
    return st;
}

/* ---- save / load: the voting rounds' learners nested under "round<r>.", their vote weights
 * and the class set ---- */

tl_status tl_tradaboost_write(const tl_tradaboost *m, tl_tlm *c) {
    tl_status st = TL_OK;
    tl_tlm *sub = NULL;
    TL_CHECK(m && c, TL_ERR_INVALID_ARG, "tradaboost_write: NULL model or container");
    TL_TRY(tl_tlm_set_meta(c, "model", "tl_tradaboost"));
    size_t dv[1] = {m->nvote}, dc[1] = {m->c}, dd[1] = {1};
    double d = (double)m->d;
    TL_TRY(tl_tlm_add_tensor(c, "features", TL_DTYPE_F64, 1, dd, &d));
    TL_TRY(tl_tlm_add_tensor(c, "vote_weights", TL_DTYPE_F64, 1, dv, m->alpha));
    TL_TRY(tl_tlm_add_tensor(c, "classes", TL_DTYPE_I32, 1, dc, m->classes));
    for (size_t r = 0; r < m->nvote; r++) {
        char pre[48];
        snprintf(pre, sizeof pre, "round%zu.", r);
        TL_TRY(tl_tlm_create(&sub));
        TL_TRY(tl_learner_write(m->l[r], sub));
        TL_TRY(tl_tlm_merge(c, sub, pre));
        tl_tlm_free(sub);
        sub = NULL;
    }
done:
    tl_tlm_free(sub);
    return st;
}

tl_status tl_tradaboost_read(const tl_tlm *c, const char *name, tl_tradaboost **out) {
    tl_status st = TL_OK;
    tl_tradaboost *m = NULL;
    tl_tlm *sub = NULL;
    tl_dtype dt;
    size_t nd;
    const size_t *dims;
    const void *data;
    TL_CHECK(c && out, TL_ERR_INVALID_ARG, "tradaboost_read: NULL container or output");
    *out = NULL;
    if (!name) name = "tradaboost";
    const char *kind = tl_tlm_get_meta(c, "model");
    TL_CHECK(kind && strcmp(kind, "tl_tradaboost") == 0, TL_ERR_FORMAT,
             "%s: holds no TrAdaBoost model", name);
    TL_CALLOC(m, 1);
    TL_CHECK(tl_tlm_get_tensor(c, "features", &dt, &nd, &dims, &data) == TL_OK &&
                 dt == TL_DTYPE_F64 && nd == 1 && dims[0] == 1 && *(const double *)data >= 1 &&
                 *(const double *)data < 2147483648.0,
             TL_ERR_FORMAT, "%s: TrAdaBoost model lacks its feature count", name);
    m->d = (size_t)*(const double *)data;
    TL_CHECK(tl_tlm_get_tensor(c, "vote_weights", &dt, &nd, &dims, &data) == TL_OK &&
                 dt == TL_DTYPE_F64 && nd == 1 && dims[0] >= 1 && dims[0] <= 10000,
             TL_ERR_FORMAT, "%s: TrAdaBoost model lacks its vote weights", name);
    m->nvote = dims[0];
    TL_ALLOC(m->alpha, m->nvote);
    memcpy(m->alpha, data, m->nvote * sizeof(double));
    TL_CHECK(tl_tlm_get_tensor(c, "classes", &dt, &nd, &dims, &data) == TL_OK &&
                 dt == TL_DTYPE_I32 && nd == 1 && dims[0] >= 1,
             TL_ERR_FORMAT, "%s: TrAdaBoost model lacks its classes", name);
    m->c = dims[0];
    TL_ALLOC(m->classes, m->c);
    memcpy(m->classes, data, m->c * sizeof(int));
    TL_CALLOC(m->l, m->nvote);
    for (size_t r = 0; r < m->nvote; r++) {
        char pre[48];
        snprintf(pre, sizeof pre, "round%zu.", r);
        TL_TRY(tl_tlm_extract(c, pre, &sub));
        TL_TRY(tl_learner_read(sub, name, &m->l[r]));
        tl_tlm_free(sub);
        sub = NULL;
    }
    *out = m;
    m = NULL;
done:
    tl_tlm_free(sub);
    tl_tradaboost_free(m);
    return st;
}
