/* TCA (Pan et al. 2011), JDA (Long et al. 2013) and BDA (Wang et al. 2017) in primal form, on
 * the stacked samples F = [Fs; Ft] (n, p) (raw features, or a kernel feature map's output):
 *     largest `dim` eigenpairs of  (F^T H F) a = mu (F^T M F + lambda I) a
 * i.e. the `dim` smallest of (F^T M F + lambda I) a = phi (F^T H F) a as the papers write it, with
 * H = I - 11^T/n and the MMD matrix M = sum_j w_j e_j e_j^T / ||M||_F:
 *     e_0 = [1/ns; -1/nt] (marginal), e_c = [1{ys=c}/ns_c; -1{yt^=c}/nt_c] (class c, pseudo-labels
 *     yt^ of the previous round), weights TCA w_0 = 1; JDA w_0 = C, w_c = 1; BDA w_0 = (1-mu) C,
 *     w_c = mu (mu fixed, or estimated each round from proxy A-distances when mu < 0).
 * Columns of A are scaled to unit 2-norm (the authors' eigs output; B-orthonormal columns whiten
 * the embedding and lose ~8 points on SURF), Z = F A, rows L2-normalised when l2_embed, and the
 * `pseudo` learner (1-NN) trained on the embedded source relabels the target for the next round.
 *
 * Why built this way (speed): M is never formed. M's C+1 rank-one terms give
 * F^T M F = sum_j w_j (F^T e_j)(F^T e_j)^T from one (p, C+1) product, and ||M||_F^2 =
 * ||E^T E||_F^2 from the (C+1)^2 Gram of the e_j; F^T H F is the centred scatter, computed ONCE
 * and reused by every JDA round. The left matrix F^T M F + lambda I = lambda I + U U^T is a
 * low-rank update of the identity, so its inverse square root is closed-form and the generalised
 * problem becomes a standard symmetric one without a Cholesky factorisation
 * (tl_eig_pencil_lowrank, src/linalg/eig_lowrank.c). So a
 * round costs one n x p x (C+1) product, O(p^2 C) updates and a p x p symmetric eigen-problem
 * asking only `dim` pairs, against the O(n^2 p) products and full generalised eigen-decomposition
 * of the n x n formulation. With fewer samples than features (p > n, e.g.
 * DeCAF's 4096-d with 452 samples) the problem is first restricted to the row space of F through a
 * QR of F^T (tl_rowspace_factor): eigenvectors with a nonzero eigenvalue lie there, so the result is the same and the
 * eigen-problem shrinks from p x p to n x n. The samples' coordinates in that basis are the QR's
 * triangular factor (F Q = R^T) and the map Q V is applied by the reflectors, so the explicit Q
 * and the two n x p x n products are never formed (W->D: 60 -> 42 ms for this step).
 * With many rounds (JDA/BDA), R's eigen-decomposition R = W diag(d) W^T is computed once and each
 * round's pencil is solved in that basis, where it is diagonal + low rank: tl_eig_pencil_diag
 * solves it by Rayleigh-Ritz on a subspace of ~310 dimensions (of 800 for SURF) and checks the
 * result (residuals, inertia count) before V = W B is used; a round it declines is solved
 * densely as before. The eigenvectors agree with the dense path's to rounding (1 - |cos| ~1e-15
 * on SURF), and so do the pseudo-labels and the accuracies (bench/RESULTS.md). */
#include <math.h>
#include <string.h>

#include "feature_internal.h"
#include "linalg/eig_lowrank.h"
#include "linalg/rowspace.h"
#include "tl/measure.h"

/* R's eigenbasis costs about two dense rounds and makes each round about a third of one: worth
 * it from this many rounds, on problems large enough for tl_eig_pencil_diag to accept. */
#define TLF_DIAG_MIN_ROUNDS 4

/* dst (len(idx), d) = rows idx of src. */
static tl_status gather_rows(tl_mat src, const size_t *idx, size_t k, tl_mat *dst) {
    tl_status st = tl_mat_alloc(dst, k, src.cols);
    if (st != TL_OK) return st;
    for (size_t i = 0; i < k; i++)
        memcpy(&TL_AT(*dst, i, 0), &TL_AT(src, idx[i], 0), src.cols * sizeof(double));
    return TL_OK;
}

/* BDA's balance factor from the current embedding (Wang et al. 2017, sec. 3.3): marginal proxy
 * A-distance d_m between Zs and Zt, mean per-class distance d_c between source class c and the
 * target samples pseudo-labelled c; mu = d_c / (d_c + d_m), clipped to [0, 1] (below 1e-3 -> 0).
 * Classes with fewer than 4 samples on either side are skipped (no classifier can be fitted). */
static tl_status estimate_mu(tl_mat Zs, const int *ysi, tl_mat Zt, const int *pti, size_t C,
                             uint64_t seed, double *mu) {
    tl_status st = TL_OK;
    size_t *is = NULL, *it = NULL;
    tl_mat A = {0, 0, 0, NULL}, B = {0, 0, 0, NULL};
    double dm = 0.0, dc = 0.0;
    size_t used = 0;
    TL_TRY(tl_proxy_a_distance(tl_xmat_from_dense(Zs), tl_xmat_from_dense(Zt), 2, 1.0, seed, &dm));
    TL_ALLOC(is, Zs.rows);
    TL_ALLOC(it, Zt.rows);
    for (size_t c = 0; c < C; c++) {
        size_t ks = 0, kt = 0;
        for (size_t i = 0; i < Zs.rows; i++)
            if ((size_t)ysi[i] == c) is[ks++] = i;
        for (size_t i = 0; i < Zt.rows; i++)
            if ((size_t)pti[i] == c) it[kt++] = i;
        if (ks < 4 || kt < 4) continue;
        TL_TRY(gather_rows(Zs, is, ks, &A));
        TL_TRY(gather_rows(Zt, it, kt, &B));
        double v = 0.0;
        TL_TRY(tl_proxy_a_distance(tl_xmat_from_dense(A), tl_xmat_from_dense(B), 2, 1.0, seed, &v));
        dc += v;
        used++;
        tl_mat_free(&A);
        tl_mat_free(&B);
    }
    if (used) dc /= (double)used;
    double m = dc + dm > 0 ? dc / (dc + dm) : 0.5;
    if (m > 1.0) m = 1.0;
    if (m < 1e-3) m = 0.0;
    *mu = m;
done:
    tl_free(is);
    tl_free(it);
    tl_mat_free(&A);
    tl_mat_free(&B);
    return st;
}

/* Es (ns, q), Et (nt, q): the weighted e_j columns for this round, for this process's rows of the
 * Ns source and Nt target rows; ns_c and nt_c (pseudo-labels) are the class sizes over every
 * row. Returns q. */
static size_t build_e(tl_adapt_method meth, double mu, size_t C, const int *ysi,
                      const size_t *ns_c, const int *pti, const double *nt_c, size_t Ns,
                      size_t Nt, tl_mat Es, tl_mat Et) {
    size_t ns = Es.rows, nt = Et.rows;
    size_t q = pti ? C + 1 : 1;
    double w0 = meth == TL_ADAPT_TCA   ? 1.0
                : meth == TL_ADAPT_JDA ? (double)C
                                       : (1.0 - mu) * (double)C;
    double wc = meth == TL_ADAPT_BDA ? mu : 1.0;
    double s0 = sqrt(w0), sc = sqrt(wc);
    tl_mat_fill(Es, 0.0);
    tl_mat_fill(Et, 0.0);
    for (size_t i = 0; i < ns; i++) TL_AT(Es, i, 0) = s0 / (double)Ns;
    for (size_t i = 0; i < nt; i++) TL_AT(Et, i, 0) = -s0 / (double)Nt;
    if (!pti) return q;
    for (size_t i = 0; i < ns; i++) TL_AT(Es, i, 1 + (size_t)ysi[i]) = sc / (double)ns_c[ysi[i]];
    /* an empty target class (under the pseudo-labels) contributes its source part */
    for (size_t i = 0; i < nt; i++)
        TL_AT(Et, i, 1 + (size_t)pti[i]) = -sc / nt_c[pti[i]];
    return q;
}

tl_status tlf_fit_mmd(tl_adapter *a, tl_mat Fs, const int *ys, tl_mat Ft) {
    tl_status st = TL_OK;
    const tl_adapt_params *p = &a->p;
    tl_adapt_method meth = p->method;
    const char *mn = tl_adapt_method_name(meth);
    size_t ns = Fs.rows, nt = Ft.rows, pin = a->d_feat, k = p->dim;
    const tli_job *job = &a->job; /* Ns, Nt: every process's rows (blocks.c) */
    bool split = tli_job_split(job);
    size_t n = job->Ns + job->Nt;
    tl_rowspace qf = {0, 0, NULL, NULL}; /* fewer rows than features: the row-space basis */
    tl_mat S = {0, 0, 0, NULL}, G = {0, 0, 0, NULL},
           R = {0, 0, 0, NULL}, Es = {0, 0, 0, NULL}, Et = {0, 0, 0, NULL},
           U = {0, 0, 0, NULL}, EE = {0, 0, 0, NULL}, V = {0, 0, 0, NULL}, Zs = {0, 0, 0, NULL},
           Zt = {0, 0, 0, NULL};
    tl_mat WR = {0, 0, 0, NULL}, UW = {0, 0, 0, NULL}, BW = {0, 0, 0, NULL};
    double *mean = NULL, *w = NULL, *lamR = NULL, *nt_c = NULL;
    int *classes = NULL, *ysi = NULL, *pred = NULL, *pti = NULL, *ys_all = NULL;
    tl_mat Zs_all = {0, 0, 0, NULL};
    size_t *ns_c = NULL, C = 0;
    tl_learner *lrn = NULL;
    bool iterate = meth != TL_ADAPT_TCA;
    int T = iterate ? p->iters : 1;

    /* --- restrict to the row space of F when it has fewer samples than features --- */
    tl_mat Ws = Fs, Wt = Ft; /* the matrices the problem is solved on: (ns, r), (nt, r) */
    size_t r = pin;
    if (pin > n) {
        TL_CHECK(!split, TL_ERR_UNSUPPORTED,
                 "%s: %zu features for %zu rows on %d processes: fewer rows than features needs "
                 "every row on one process", mn, pin, n, job->c->size);
        TL_TRY(tl_mat_alloc(&S, n, pin));
        TL_TRY(tl_mat_copy(tl_mat_rows(S, 0, ns), Fs));
        TL_TRY(tl_mat_copy(tl_mat_rows(S, ns, nt), Ft));
        TL_CHECK(k <= n, TL_ERR_INVALID_ARG, "%s: dim = %zu exceeds the %zu samples", mn, k, n);
        r = n;
        /* the samples' coordinates in the basis, [Fs; Ft] Q = R^T, read off the QR's factor
           (rowspace.h): neither Q nor the products with it are formed */
        TL_TRY(tl_mat_alloc(&G, n, r));
        TL_TRY(tl_rowspace_factor(S, &qf, G));
        tl_mat_free(&S);
        Ws = tl_mat_rows(G, 0, ns);
        Wt = tl_mat_rows(G, ns, nt);
    }

    /* --- F^T H F: the centred scatter, fixed for every round --- */
    TL_ALLOC(mean, r);
    tlf_col_mean(Ws, Wt, mean);
    if (split) { /* the global mean from the blocks' sums */
        for (size_t j = 0; j < r; j++) mean[j] *= (double)(ns + nt);
        TL_TRY(tli_job_sum(job, mean, r, true));
        for (size_t j = 0; j < r; j++) mean[j] /= (double)n;
    }
    TL_TRY(tl_mat_alloc(&R, r, r));
    TL_TRY(tlf_scatter(Ws, Wt, mean, R));
    TL_TRY(tli_job_sum(job, R.data, r * r, true));

    /* --- labels as class indices --- */
    const int *ys_fit = ys; /* every source row's label: the classes, the pseudo learner */
    if (ys && split) {
        TL_ALLOC(ys_all, job->Ns);
        TL_TRY(tli_job_gather(job, job->rows_s, ys, sizeof *ys, ys_all));
        ys_fit = ys_all;
    }
    if (ys) {
        TL_TRY(tl_labels_unique(ys_fit, job->Ns, &classes, &ns_c, &C));
        TL_ALLOC(ysi, ns);
        for (size_t i = 0; i < ns; i++) ysi[i] = (int)tl_labels_index(classes, C, ys[i]);
    }
    size_t qmax = iterate ? C + 1 : 1;
    TL_TRY(tl_mat_alloc(&Es, ns, qmax));
    TL_TRY(tl_mat_alloc(&Et, nt, qmax));
    TL_TRY(tl_mat_alloc(&U, r, qmax));
    TL_TRY(tl_mat_alloc(&EE, qmax, qmax));
    TL_TRY(tl_mat_alloc(&V, r, k));
    TL_ALLOC(w, k);
    if (iterate) {
        TL_TRY(tl_mat_alloc(&Zs, ns, k));
        TL_TRY(tl_mat_alloc(&Zt, nt, k));
        TL_ALLOC(pred, nt);
        TL_CALLOC(pti, nt); /* compared with the next round's labels */
        TL_CALLOC(nt_c, C ? C : 1);
    }
    /* --- many rounds: R's eigenbasis once, then each round's pencil is diagonal + low rank
       (tl_eig_pencil_diag: Rayleigh-Ritz on a subspace ~half of r, verified; a round it
       declines is solved densely as before) --- */
    bool diag_path = iterate && T >= TLF_DIAG_MIN_ROUNDS && tl_eig_pencil_diag_fits(r, qmax, k);
    if (diag_path) {
        TL_ALLOC(lamR, r);
        TL_TRY(tl_mat_alloc(&WR, r, r));
        TL_TRY(tl_eig_sym(R, TL_EIG_LARGEST, r, lamR, WR)); /* every pair, descending */
        TL_TRY(tl_mat_alloc(&UW, r, qmax));
        TL_TRY(tl_mat_alloc(&BW, r, k));
    }
    double mu = p->mu < 0 ? 0.5 : p->mu;
    bool have_pseudo = false;
    for (int t = 0; t < T; t++) {
        TL_TRY(tl_cancel_check(p->ctx, "%s round %d of %d", mn, t + 1, T));
        if (meth == TL_ADAPT_BDA) a->mu_used = mu;
        if (have_pseudo) { /* target class sizes under the pseudo-labels, over every row */
            memset(nt_c, 0, C * sizeof *nt_c);
            for (size_t i = 0; i < nt; i++) nt_c[pti[i]] += 1.0;
            TL_TRY(tli_job_sum(job, nt_c, C, true));
        }
        size_t q = build_e(meth, mu, C, ysi, ns_c, have_pseudo ? pti : NULL, nt_c, job->Ns,
                           job->Nt, tl_mat_cols(Es, 0, qmax), tl_mat_cols(Et, 0, qmax));
        tl_mat Esq = tl_mat_cols(Es, 0, q), Etq = tl_mat_cols(Et, 0, q);
        tl_mat Uq = tl_mat_cols(U, 0, q), EEq = {q, q, EE.ld, EE.data};
        /* ||M||_F^2 = ||E^T E||_F^2 */
        TL_TRY(tl_syrk(TL_TRANS, 1.0, Esq, 0.0, EEq));
        TL_TRY(tl_syrk(TL_TRANS, 1.0, Etq, 1.0, EEq));
        TL_TRY(tli_job_sum(job, EE.data, qmax * qmax, true)); /* columns >= q stay 0 */
        double fro = 0.0;
        for (size_t i = 0; i < q; i++)
            for (size_t j = 0; j < q; j++) fro += TL_AT(EEq, i, j) * TL_AT(EEq, i, j);
        fro = sqrt(fro);
        /* U = F^T E / sqrt(||M||_F), so that F^T M F + lambda I = lambda I + U U^T */
        TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Ws, Esq, 0.0, Uq));
        TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, Wt, Etq, 1.0, Uq));
        TL_TRY(tli_job_sum(job, U.data, r * qmax, true));
        if (fro > 0) {
            double sc = 1.0 / sqrt(fro);
            for (size_t i = 0; i < r; i++)
                for (size_t j = 0; j < q; j++) TL_AT(Uq, i, j) *= sc;
        }
        st = TL_ERR_UNSUPPORTED;
        if (diag_path) {
            tl_mat UWq = tl_mat_cols(UW, 0, q);
            TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, WR, Uq, 0.0, UWq)); /* U in R's basis */
            st = tl_eig_pencil_diag(lamR, UWq, p->lambda, k, 0.0, w, BW);
            if (st == TL_OK) {
                TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, WR, BW, 0.0, V));
                tl_mat_normalize_cols(V);
            }
            tl_log(p->ctx, TL_LOG_DEBUG, "%s: round %d %s", mn, t + 1,
                   st == TL_OK ? "solved in R's eigenbasis" : "solved densely");
        }
        if (st == TL_ERR_UNSUPPORTED) st = tl_eig_pencil_lowrank(R, Uq, p->lambda, k, w, V);
        if (st != TL_OK) {
            tl_fail_prefix(st, "%s: eigen-problem (round %d)", mn, t + 1);
            goto done;
        }
        if (!iterate) break;
        /* embed, then relabel the target with the pseudo learner trained on the source */
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Ws, V, 0.0, Zs));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Wt, V, 0.0, Zt));
        if (a->l2_out) {
            tl_rows_l2_normalize(Zs);
            tl_rows_l2_normalize(Zt);
        }
        tl_learner_free(lrn);
        lrn = NULL;
        TL_TRY(tl_learner_create(&p->pseudo, &lrn));
        if (split) { /* every process fits on the whole embedded source, labels its own rows */
            tl_mat_free(&Zs_all);
            TL_TRY(tli_job_gather_rows(job, Zs, &Zs_all));
        }
        TL_TRY(tl_learner_fit(lrn, tl_xmat_from_dense(split ? Zs_all : Zs), ys_fit, NULL));
        TL_TRY(tl_learner_predict(lrn, tl_xmat_from_dense(Zt), pred));
        double changed = 0;
        for (size_t i = 0; i < nt; i++) {
            int c = (int)tl_labels_index(classes, C, pred[i]);
            changed += c != pti[i];
            pti[i] = c;
        }
        TL_TRY(tli_job_sum(job, &changed, 1, true));
        double mu_prev = mu;
        if (meth == TL_ADAPT_BDA && p->mu < 0 && t + 1 < T)
            TL_TRY(estimate_mu(Zs, ysi, Zt, pti, C, p->seed, &mu));
        tl_log(p->ctx, TL_LOG_INFO, "%s: round %d/%d done (largest eigenvalue %.6g)", mn, t + 1,
               T, w[0]);
        /* a fixed point: this round was built from the same pseudo-labels (and mu) that it
           returned, so every later round would rebuild the same matrices and return the same
           map and labels; stopping here gives exactly the result of running them all */
        if (have_pseudo && changed == 0 && mu == mu_prev && t + 1 < T) {
            tl_log(p->ctx, TL_LOG_INFO, "%s: pseudo-labels unchanged, rounds %d-%d are identical",
                   mn, t + 2, T);
            tl_progress(p->ctx, mn, 1.0);
            break;
        }
        have_pseudo = true;
        tl_progress(p->ctx, mn, (double)(t + 1) / (double)T);
    }

    /* --- the fitted map: x -> x Q V (or x V) --- */
    if (qf.a) { /* Q V, by the QR's reflectors */
        TL_TRY(tl_mat_alloc(&a->W[0], pin, k));
        TL_TRY(tl_rowspace_apply(&qf, V, a->W[0]));
    } else {
        a->W[0] = V;
        V.data = NULL;
    }
    a->per_domain = false;
    a->d_out = k;
    if (iterate) {
        a->pseudo = pred;
        a->n_pseudo = nt;
        pred = NULL;
    }
done:
    tl_learner_free(lrn);
    tl_mat_free(&S);
    tl_rowspace_free(&qf);
    tl_mat_free(&G);
    tl_mat_free(&R);
    tl_mat_free(&Es);
    tl_mat_free(&Et);
    tl_mat_free(&U);
    tl_mat_free(&EE);
    tl_mat_free(&V);
    tl_mat_free(&Zs);
    tl_mat_free(&Zt);
    tl_mat_free(&WR);
    tl_mat_free(&UW);
    tl_mat_free(&BW);
    tl_free(lamR);
    tl_free(mean);
    tl_free(w);
    tl_free(classes);
    tl_free(ysi);
    tl_free(pred);
    tl_free(pti);
    tl_free(ns_c);
    tl_free(nt_c);
    tl_free(ys_all);
    tl_mat_free(&Zs_all);
    return st;
}
