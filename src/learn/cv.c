/* Stratified k-fold cross-validation: each class's samples are shuffled with the seed and dealt
 * round-robin into the folds (one counter running across the classes, in sorted class order, so
 * fold sizes differ by at most one and each class is spread as evenly as it can be). A fresh
 * learner is trained on the other folds and scored by accuracy on the held-out fold; the mean of
 * the fold accuracies is returned (sklearn's cross_val_score(...).mean() convention).
 * More folds than the smallest class has samples is allowed (some folds then lack that class);
 * folds < 2 or > n is an error. Row subsets are copied (dense rows, or a new CSR) per fold.
 * Rows held by several processes (tl_cross_validate_comm, issue 17): the same folds, drawn over
 * every process's labels end to end; logreg fitted over the processes; the counts summed. */
#include <string.h>

#include "internal/blocks.h"
#include "internal/check.h"
#include "learn/learn_internal.h"

void tlp_xsub_free(tlp_xsub *s) {
    tl_free(s->dv);
    tl_free(s->ip);
    tl_free(s->ind);
    tl_free(s->val);
    memset(s, 0, sizeof *s);
}

tl_status tlp_xsub_make(tl_xmat X, const size_t *idx, size_t m, tlp_xsub *s) {
    tl_status st = TL_OK;
    memset(s, 0, sizeof *s);
    size_t d = tlp_xcols(X), cells;
    if (!X.sparse) {
        TL_CHECK(tl_size_mul(m, d, &cells) == 0, TL_ERR_NOMEM, "cv: subset overflows");
        TL_ALLOC(s->dv, cells ? cells : 1);
        for (size_t r = 0; r < m; r++)
            memcpy(s->dv + r * d, X.dense.data + idx[r] * X.dense.ld, d * sizeof(double));
        s->X.sparse = false;
        s->X.dense = tl_mat_view(s->dv, m, d);
    } else {
        const tl_csr *A = &X.csr;
        size_t nnz = 0;
        for (size_t r = 0; r < m; r++) nnz += A->indptr[idx[r] + 1] - A->indptr[idx[r]];
        TL_ALLOC(s->ip, m + 1);
        TL_ALLOC(s->ind, nnz ? nnz : 1);
        TL_ALLOC(s->val, nnz ? nnz : 1);
        s->ip[0] = 0;
        for (size_t r = 0, q = 0; r < m; r++) {
            size_t a = A->indptr[idx[r]], len = A->indptr[idx[r] + 1] - a;
            if (len) {
                memcpy(s->ind + q, A->indices + a, len * sizeof(int32_t));
                memcpy(s->val + q, A->values + a, len * sizeof(double));
            }
            q += len;
            s->ip[r + 1] = q;
        }
        s->X.sparse = true;
        s->X.csr = (tl_csr){m, d, nnz, s->ip, s->ind, s->val};
    }
done:
    if (st != TL_OK) tlp_xsub_free(s);
    return st;
}

tl_status tlp_stratified_folds(const int *y, size_t n, size_t folds, uint64_t seed,
                               size_t *fold /* (n) */) {
    tl_status st = TL_OK;
    int *cls = NULL;
    size_t *order = NULL, *start = NULL, c = 0;
    TL_TRY(tlp_unique(y, n, &cls, &c));
    /* counting sort of the samples by class, then a per-class shuffle */
    TL_CALLOC(start, c + 1);
    TL_ALLOC(order, n ? n : 1);
    for (size_t i = 0; i < n; i++) start[tlp_find(cls, c, y[i]) + 1]++;
    for (size_t k = 0; k < c; k++) start[k + 1] += start[k];
    {
        size_t *pos = fold; /* borrowed as the fill cursor */
        memcpy(pos, start, c * sizeof(size_t));
        for (size_t i = 0; i < n; i++) order[pos[tlp_find(cls, c, y[i])]++] = i;
    }
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    size_t counter = 0;
    for (size_t k = 0; k < c; k++) {
        tl_rng_shuffle(&rng, order + start[k], start[k + 1] - start[k]);
        for (size_t t = start[k]; t < start[k + 1]; t++) fold[order[t]] = counter++ % folds;
    }
done:
    tl_free(cls);
    tl_free(order);
    tl_free(start);
    return st;
}

/* The cross-validation of tl_cross_validate on this process's rows of the job's (one process:
 * every row). The folds are drawn over every process's labels end to end, so a row gets the fold
 * it gets when one process holds them all; the learner is fitted over the processes (p->comm);
 * the right predictions and the held-out rows of each fold are summed over them. */
static tl_status cv_run(const tli_job *job, const tl_learner_params *p, tl_xmat X, const int *y,
                        const double *w, size_t folds, uint64_t seed, double *mean_acc,
                        double *fold_acc) {
    tl_status st = TL_OK;
    int *ysub = NULL, *pred = NULL, *yall = NULL;
    size_t *fold = NULL, *tr = NULL, *te = NULL;
    double *wsub = NULL;
    tlp_xsub Xtr = {0}, Xte = {0};
    tl_learner *l = NULL;
    const bool split = tli_job_split(job);
    size_t n = tlp_xrows(X), N = job->Ns; /* this process's rows, every process's */
    TL_CHECK(mean_acc != NULL, TL_ERR_INVALID_ARG, "cross-validation: output is NULL");
    TL_TRY(tl_learner_params_check(p));
    TL_CHECK(N > 0, TL_ERR_EMPTY, "cross-validation: no samples");
    TL_CHECK(y != NULL, TL_ERR_LABEL, "cross-validation: labels are missing");
    TL_CHECK(folds >= 2 && folds <= N, TL_ERR_INVALID_ARG,
             "cross-validation: folds = %zu must be in [2, %zu] (the number of samples)", folds,
             N);
    TL_TRY(tlp_xvalidate(X, "X"));
    TL_ALLOC(fold, N);
    if (split) {
        TL_ALLOC(yall, N);
        TL_TRY(tli_job_gather(job, job->rows_s, y, sizeof(int), yall));
    }
    TL_TRY(tlp_stratified_folds(split ? yall : y, N, folds, seed, fold));
    TL_ALLOC(tr, n ? n : 1);
    TL_ALLOC(te, n ? n : 1);
    TL_ALLOC(ysub, n ? n : 1);
    TL_ALLOC(pred, n ? n : 1);
    if (w) TL_ALLOC(wsub, n ? n : 1);
    double sum = 0;
    for (size_t f = 0; f < folds; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[job->s0 + i] == f)
                te[nte++] = i;
            else
                tr[ntr++] = i;
        }
        if (split) { /* a process with no training rows would leave the others waiting */
            double none = ntr == 0;
            TL_TRY(tli_job_sum(job, &none, 1, true));
            TL_CHECK(none == 0, TL_ERR_EMPTY,
                     "cross-validation fold %zu of %zu: %g of the %d processes hold no training "
                     "row", f + 1, folds, none, job->c->size);
        }
        TL_TRY(tlp_xsub_make(X, tr, ntr, &Xtr));
        for (size_t r = 0; r < ntr; r++) {
            ysub[r] = y[tr[r]];
            if (w) wsub[r] = w[tr[r]];
        }
        TL_TRY(tl_learner_create(p, &l));
        st = tl_learner_fit(l, Xtr.X, ysub, wsub);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "cross-validation fold %zu of %zu", f + 1, folds);
            goto done;
        }
        tlp_xsub_free(&Xtr);
        size_t ok = 0;
        if (nte) {
            TL_TRY(tlp_xsub_make(X, te, nte, &Xte));
            TL_TRY(tl_learner_predict(l, Xte.X, pred));
            tlp_xsub_free(&Xte);
            for (size_t r = 0; r < nte; r++) ok += pred[r] == y[te[r]];
        }
        tl_learner_free(l);
        l = NULL;
        double cnt[2] = {(double)ok, (double)nte};
        TL_TRY(tli_job_sum(job, cnt, 2, true));
        double acc = cnt[0] / cnt[1];
        if (fold_acc) fold_acc[f] = acc;
        sum += acc;
    }
    *mean_acc = sum / (double)folds;
done:
    tl_learner_free(l);
    tlp_xsub_free(&Xtr);
    tlp_xsub_free(&Xte);
    tl_free(ysub);
    tl_free(yall);
    tl_free(pred);
    tl_free(fold);
    tl_free(tr);
    tl_free(te);
    tl_free(wsub);
    return st;
}

tl_status tl_cross_validate(const tl_learner_params *p, tl_xmat X, const int *y, const double *w,
                            size_t folds, uint64_t seed, double *mean_acc,
                            double *fold_acc /* (folds) or NULL */) {
    tli_job one = {NULL, tlp_xrows(X), 0, 0, 0, NULL, NULL};
    return cv_run(&one, p, X, y, w, folds, seed, mean_acc, fold_acc);
}

tl_status tl_cross_validate_comm(const tl_learner_params *p, tl_xmat X, const int *y,
                                 const double *w, size_t folds, uint64_t seed, double *mean_acc,
                                 double *fold_acc) {
    tl_status st = TL_OK;
    tli_job job;
    TL_CHECK(p != NULL, TL_ERR_INVALID_ARG, "cross-validation: parameters are NULL");
    TL_TRY(tli_job_start(&job, p->comm, tlp_xrows(X), 0));
    st = cv_run(&job, p, X, y, w, folds, seed, mean_acc, fold_acc);
    tli_job_end(&job);
done:
    return st;
}
