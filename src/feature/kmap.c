/* Kernel feature maps for the kernel forms of the feature-based methods: the method then runs its
 * primal algorithm on phi(x), and a new sample is mapped by the same phi, so kernel TCA/JDA/BDA
 * transform out-of-sample points as k(z, X_fit) A.
 *   exact:    phi(x) = k(x, X_fit)                        (n features; K^T M K = K M K, so the
 *             primal algorithm on phi is exactly kernel TCA, Pan et al. 2011 eq. 5)
 *   Nystrom:  phi(x) = k(x, L) U_r diag(l_r)^-1/2          (Williams & Seeger 2001) with L the m
 *             landmarks and K_LL = U diag(l) U^T, keeping eigenvalues above TLF_NYS_RTOL * max;
 *             phi(x) . phi(y) approximates k(x, y), memory O(n m), never n x n
 *   RFF:      phi(x) = sqrt(2/D) cos(x W + b), W ~ N(0, 2 gamma), b ~ U[0, 2 pi) (Rahimi & Recht
 *             2007), RBF only.
 * Low-rank maps are then rotated and scaled by P = (Phi^T Phi)^{1/2} over the fitting samples
 * (tlf_kmap_finish), which makes the primal algorithm on Phi P the low-rank version of the EXACT
 * kernel method: kernel TCA uses the n empirical-kernel features K (left K M K + lambda I, right
 * K H K, penalty lambda ||A||^2 on the n coefficients). With K ~ Phi Phi^T = U S^2 U^T, its
 * solutions A = U C lie in the range of Phi, K A = (U S^2) C, and U S^2 = Phi V S equals Phi P up
 * to a rotation the problem is invariant to. Running the primal algorithm on Phi itself would
 * instead penalise lambda A^T K A, a different regulariser: on Fashion-MNIST it lands ~18 points
 * away from the exact kernel solution, while Phi P stays within a point of it.
 * The linear kernel needs no approximation at all: K = X X^T exactly, so the same argument with
 * Phi = X makes kernel TCA/JDA with a linear kernel the primal algorithm on X (X^T X)^{1/2}, a
 * d x d problem instead of n x n (identical results; this is the form the JDA paper's Office+
 * Caltech table used, reproduced to the sample by bench/repro_feature). With fewer samples than
 * features (DeCAF: 452 x 4096) the n x n exact form is the smaller one and is used instead.
 * Landmarks are chosen by k-means++ D^2 sampling (Arthur & Vassilvitskii 2007), drawn in small
 * batches whose distance updates are one GEMM each (see kmeanspp), over a uniform pool of at most
 * 4m rows of the pooled data: spread-out landmarks approximate K better than a uniform subset,
 * and the pool keeps the seeding cost O(m * 4m * d) independent of n.
 * An RBF/POLY gamma <= 0 is resolved here (median heuristic over the pool / 1/d) and stored.
 * Rows held by several processes (a->job, blocks.c): the pool is drawn from the seed over the
 * global row numbers and assembled from the processes' blocks, so every process seeds the same
 * landmarks as one process holding every row; Phi^T Phi is summed over the blocks. */
#include <math.h>
#include <string.h>

#include "feature_internal.h"

#define TLF_NYS_RTOL 1e-8   /* Nystrom: drop K_LL eigenvalues below this fraction of the largest */
#define TLF_POOL_FACTOR 4   /* k-means++ candidate pool: at most this many x landmarks rows */
#define TLF_KBLOCK 1024     /* rows of k(x, L) computed at once */

/* Next D^2 draw: an untaken row with probability proportional to mind (a uniform untaken row
 * when every untaken row coincides with a chosen one); marks it taken. */
static size_t d2_draw(const double *mind, unsigned char *taken, size_t np, size_t ntaken,
                      tl_rng *rng) {
    double total = 0.0;
    for (size_t i = 0; i < np; i++)
        if (!taken[i]) total += mind[i];
    size_t c = np;
    if (total > 0.0) {
        double u = tl_rng_uniform(rng) * total, acc = 0.0;
        for (size_t i = 0; i < np; i++) {
            if (taken[i]) continue;
            acc += mind[i];
            c = i;
            if (acc > u) break;
        }
    }
    if (c == np) { /* every untaken row has distance 0 (or rounding left u past the end) */
        size_t r = tl_rng_below(rng, np - ntaken), i = 0;
        for (;; i++)
            if (!taken[i] && r-- == 0) break;
        c = i;
    }
    taken[c] = 1;
    return c;
}

/* k-means++ seeding (D^2 sampling) in batches: chooses m rows of the pool P (np, d) into sel (m).
 * Exact k-means++ updates every pool row's distance after each draw, m scalar passes over the
 * pool (O(m np d) at a few GFLOP/s: most of the Nystrom fit on 5 000 Fashion-MNIST images).
 * Here the draws come in batches of B (1 while fewer than 8 are chosen, then an eighth of those
 * chosen, at most TLF_SEED_BATCH), drawn from the distances to the centres chosen before the
 * batch; the pool's distances to the batch then come from one GEMM, ||x||^2 + ||c||^2 - 2 x.c.
 * The same D^2 distribution up to the few centres of the current batch (the k-means|| idea of
 * Bahmani et al. 2012, kept sequential), at BLAS speed. Batches of at most 16: on SURF (2 000
 * samples, 1 000 landmarks) caps of 1 (= plain k-means++), 4, 16 and 32 gave Nystrom JDA/TCA
 * averages within the same +-0.4 point of each other, a cap of 64 about 0.6 point lower; on
 * 5 000 Fashion-MNIST images 16 costs 6 % more time than 64. */
#define TLF_SEED_BATCH 16
static tl_status kmeanspp(tl_mat P, size_t m, tl_rng *rng, size_t *sel) {
    tl_status st = TL_OK;
    double *mind = NULL, *nrm = NULL;
    unsigned char *taken = NULL;
    tl_mat C = {0, 0, 0, NULL}, G = {0, 0, 0, NULL};
    size_t np = P.rows, d = P.cols, maxb = m < TLF_SEED_BATCH ? m : TLF_SEED_BATCH;
    TL_ALLOC(mind, np);
    TL_ALLOC(nrm, np);
    TL_CALLOC(taken, np);
    TL_TRY(tl_mat_alloc(&C, maxb, d));
    TL_TRY(tl_mat_alloc(&G, np, maxb));
    for (size_t i = 0; i < np; i++) {
        const double *x = &TL_AT(P, i, 0);
        double s = 0.0;
        for (size_t j = 0; j < d; j++) s += x[j] * x[j];
        nrm[i] = s;
        mind[i] = INFINITY;
    }
    sel[0] = tl_rng_below(rng, np);
    taken[sel[0]] = 1;
    size_t k = 1, done_upto = 0; /* sel[done_upto..k) not yet folded into mind */
    while (done_upto < m) {
        size_t nb = k - done_upto;
        tl_mat Cb = tl_mat_rows(C, 0, nb), Gb = {np, nb, G.ld, G.data};
        for (size_t b = 0; b < nb; b++)
            memcpy(&TL_AT(Cb, b, 0), &TL_AT(P, sel[done_upto + b], 0), d * sizeof(double));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, P, Cb, 0.0, Gb));
        for (size_t i = 0; i < np; i++) {
            double mi = mind[i];
            for (size_t b = 0; b < nb; b++) {
                double t = nrm[i] + nrm[sel[done_upto + b]] - 2.0 * TL_AT(Gb, i, b);
                if (t < mi) mi = t;
            }
            mind[i] = taken[i] ? 0.0 : (mi > 0.0 ? mi : 0.0);
        }
        done_upto = k;
        if (k == m) break;
        size_t batch = k < 8 ? 1 : k / 8;
        if (batch > maxb) batch = maxb;
        if (batch > m - k) batch = m - k;
        for (size_t b = 0; b < batch; b++, k++) sel[k] = d2_draw(mind, taken, np, k, rng);
    }
done:
    tl_free(mind);
    tl_free(nrm);
    tl_free(taken);
    tl_mat_free(&C);
    tl_mat_free(&G);
    return st;
}

tl_status tlf_kmap_fit(tl_adapter *a, tl_mat Xs, tl_mat Xt) {
    tl_status st = TL_OK;
    size_t *idx = NULL, *sel = NULL;
    double *w = NULL;
    tl_mat P = {0, 0, 0, NULL}, K = {0, 0, 0, NULL}, U = {0, 0, 0, NULL};
    const tl_adapt_params *p = &a->p;
    size_t n = a->job.Ns + a->job.Nt, d = Xs.cols; /* every process's rows */
    tl_rng rng;
    tl_rng_seed(&rng, p->seed);
    a->kern = p->kernel;
    bool linear = a->kern.type == TL_KERNEL_LINEAR;
    if (linear && n >= d) { /* exact through X (X^T X)^{1/2}, see above: d x d, not n x n */
        a->map = TLF_MAP_LINEAR;
        a->d_feat = d;
        return TL_OK;
    }
    /* a linear kernel with fewer samples than features: the n empirical-kernel features X X_fit^T
       (exact, and n x n is the smaller problem) */
    bool exact = linear || p->lowrank == TL_LOWRANK_NONE ||
                 (p->lowrank == TL_LOWRANK_AUTO && n <= p->exact_max);
    size_t m = exact ? n : (p->landmarks < n ? p->landmarks : n);
    /* uniform pool (partial Fisher-Yates) for the bandwidth and the landmark seeding */
    size_t np = exact ? n : m * TLF_POOL_FACTOR;
    if (np > n || np / TLF_POOL_FACTOR != m) np = n;
    TL_ALLOC(idx, n);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 0; i < np && i + 1 < n; i++) {
        size_t j = i + tl_rng_below(&rng, n - i), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    if (a->kern.type == TL_KERNEL_POLY && !(a->kern.gamma > 0)) a->kern.gamma = 1.0 / (double)d;
    if (a->kern.type == TL_KERNEL_RBF && !(a->kern.gamma > 0)) {
        size_t ng = np < 2000 ? np : 2000; /* tl_kernel_median_gamma samples 2000 rows anyway */
        TL_CHECK(ng >= 2, TL_ERR_EMPTY, "kernel form: at least 2 samples are needed");
        TL_TRY(tl_mat_alloc(&P, ng, d));
        TL_TRY(tli_job_pool(&a->job, Xs, Xt, idx, P));
        TL_TRY(tl_kernel_median_gamma(P, p->seed, &a->kern.gamma));
        tl_mat_free(&P);
        TL_CHECK(a->kern.gamma > 0 && isfinite(a->kern.gamma), TL_ERR_INVALID_ARG,
                 "kernel form: median heuristic gives gamma = %g (are all samples equal?)",
                 a->kern.gamma);
    }
    if (p->lowrank == TL_LOWRANK_RFF) {
        size_t D = p->landmarks;
        TL_TRY(tl_mat_alloc(&a->rff_w, d, D));
        TL_ALLOC(a->rff_b, D);
        double sd = sqrt(2.0 * a->kern.gamma);
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < D; j++) TL_AT(a->rff_w, i, j) = sd * tl_rng_normal(&rng);
        for (size_t j = 0; j < D; j++) a->rff_b[j] = 2.0 * M_PI * tl_rng_uniform(&rng);
        a->map = TLF_MAP_RFF;
        a->d_feat = D;
        goto done;
    }
    a->map = TLF_MAP_KERNEL;
    TL_TRY(tl_mat_alloc(&a->land, m, d));
    if (exact) { /* every fitting sample, in the stacked order (one process: idx unused) */
        TL_CHECK(!tli_job_split(&a->job), TL_ERR_UNSUPPORTED,
                 "kernel form: the exact kernel needs every row on one process");
        TL_TRY(tl_mat_copy(tl_mat_rows(a->land, 0, Xs.rows), Xs));
        TL_TRY(tl_mat_copy(tl_mat_rows(a->land, Xs.rows, Xt.rows), Xt));
        a->d_feat = n;
        goto done;
    }
    /* Nystrom: k-means++ landmarks from the pool, then K_LL^{-1/2} restricted to its range */
    TL_TRY(tl_mat_alloc(&P, np, d));
    TL_TRY(tli_job_pool(&a->job, Xs, Xt, idx, P));
    TL_ALLOC(sel, m);
    TL_TRY(kmeanspp(P, m, &rng, sel));
    for (size_t i = 0; i < m; i++)
        memcpy(&TL_AT(a->land, i, 0), &TL_AT(P, sel[i], 0), d * sizeof(double));
    tl_mat_free(&P);
    TL_TRY(tl_mat_alloc(&K, m, m));
    TL_TRY(tl_kernel_matrix(&a->kern, a->land, a->land, K));
    TL_ALLOC(w, m);
    TL_TRY(tl_mat_alloc(&U, m, m));
    TL_TRY(tl_eig_sym(K, TL_EIG_LARGEST, m, w, U)); /* descending */
    TL_CHECK(w[0] > 0, TL_ERR_LINALG, "Nystrom: the landmark kernel matrix has no positive "
                                      "eigenvalue (largest %g)", w[0]);
    size_t r = 0;
    while (r < m && w[r] > TLF_NYS_RTOL * w[0]) r++;
    TL_TRY(tl_mat_alloc(&a->kproj, m, r));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < r; j++) TL_AT(a->kproj, i, j) = TL_AT(U, i, j) / sqrt(w[j]);
    a->d_feat = r;
done:
    tl_free(idx);
    tl_free(sel);
    tl_free(w);
    tl_mat_free(&P);
    tl_mat_free(&K);
    tl_mat_free(&U);
    return st;
}

/* F <- sqrt(2/D) cos(F + b), F (n, D). */
static void rff_cos(tl_mat F, const double *b) {
    double s = sqrt(2.0 / (double)F.cols);
    for (size_t i = 0; i < F.rows; i++)
        for (size_t j = 0; j < F.cols; j++) TL_AT(F, i, j) = s * cos(TL_AT(F, i, j) + b[j]);
}

/* F (n, r) <- F P, P (r, r), by row blocks through a scratch block. */
static tl_status mul_rows(tl_mat F, tl_mat P) {
    tl_status st = TL_OK;
    tl_mat T = {0, 0, 0, NULL};
    size_t blk = F.rows < TLF_KBLOCK ? F.rows : TLF_KBLOCK;
    if (blk == 0) goto done;
    TL_TRY(tl_mat_alloc(&T, blk, F.cols));
    for (size_t r0 = 0; r0 < F.rows; r0 += blk) {
        size_t nb = F.rows - r0 < blk ? F.rows - r0 : blk;
        tl_mat Fv = tl_mat_rows(F, r0, nb), Tv = tl_mat_rows(T, 0, nb);
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Fv, P, 0.0, Tv));
        TL_TRY(tl_mat_copy(Fv, Tv));
    }
done:
    tl_mat_free(&T);
    return st;
}

tl_status tlf_kmap_finish(tl_adapter *a, tl_mat Fs, tl_mat Ft) {
    tl_status st = TL_OK;
    tl_mat S = {0, 0, 0, NULL}, P = {0, 0, 0, NULL}, K2 = {0, 0, 0, NULL};
    if (a->map == TLF_MAP_NONE || (a->map == TLF_MAP_KERNEL && !a->kproj.data)) goto done;
    if (a->kproj.data && a->map != TLF_MAP_KERNEL) goto done; /* already folded */
    size_t r = a->d_feat;
    TL_TRY(tl_mat_alloc(&S, r, r));
    TL_TRY(tl_syrk(TL_TRANS, 1.0, Fs, 0.0, S));
    TL_TRY(tl_syrk(TL_TRANS, 1.0, Ft, 1.0, S));
    TL_TRY(tli_job_sum(&a->job, S.data, r * r, true));
    TL_TRY(tl_mat_alloc(&P, r, r));
    TL_TRY(tl_sym_pow(S, 0.5, 1e-14, P));
    TL_TRY(mul_rows(Fs, P));
    TL_TRY(mul_rows(Ft, P));
    if (a->map == TLF_MAP_KERNEL) {
        TL_TRY(tl_mat_alloc(&K2, a->kproj.rows, r));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, a->kproj, P, 0.0, K2));
        tl_mat_free(&a->kproj);
        a->kproj = K2;
        K2.data = NULL;
    } else {
        a->kproj = P; /* RFF (D, D) after the cosine features; linear (d, d) */
        P.data = NULL;
    }
done:
    tl_mat_free(&S);
    tl_mat_free(&P);
    tl_mat_free(&K2);
    return st;
}

tl_status tlf_kmap_apply(const tl_adapter *a, tl_mat X, tl_mat F) {
    tl_status st = TL_OK;
    tl_mat Kb = {0, 0, 0, NULL};
    TL_CHECK(F.rows == X.rows && F.cols == a->d_feat, TL_ERR_SHAPE,
             "kernel map: output is %zu x %zu, expected %zu x %zu", F.rows, F.cols, X.rows,
             a->d_feat);
    if (a->map == TLF_MAP_LINEAR) {
        if (a->kproj.data)
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, X, a->kproj, 0.0, F));
        else /* during fit, before tlf_kmap_finish */
            TL_TRY(tl_mat_copy(F, X));
        goto done;
    }
    if (a->map == TLF_MAP_RFF) {
        size_t D = a->rff_w.cols;
        if (!a->kproj.data) { /* during fit, before tlf_kmap_finish: the cosine features */
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, X, a->rff_w, 0.0, F));
            rff_cos(F, a->rff_b);
            goto done;
        }
        size_t blk = X.rows < TLF_KBLOCK ? X.rows : TLF_KBLOCK;
        if (blk == 0) goto done;
        TL_TRY(tl_mat_alloc(&Kb, blk, D));
        for (size_t r0 = 0; r0 < X.rows; r0 += blk) {
            size_t nb = X.rows - r0 < blk ? X.rows - r0 : blk;
            tl_mat Kv = tl_mat_rows(Kb, 0, nb);
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, tl_mat_rows(X, r0, nb), a->rff_w, 0.0, Kv));
            rff_cos(Kv, a->rff_b);
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Kv, a->kproj, 0.0, tl_mat_rows(F, r0, nb)));
        }
        goto done;
    }
    if (!a->kproj.data) { /* exact: F = k(X, X_fit) directly */
        TL_TRY(tl_kernel_matrix(&a->kern, X, a->land, F));
        goto done;
    }
    size_t m = a->land.rows, blk = X.rows < TLF_KBLOCK ? X.rows : TLF_KBLOCK;
    if (blk == 0) goto done;
    TL_TRY(tl_mat_alloc(&Kb, blk, m));
    for (size_t r0 = 0; r0 < X.rows; r0 += blk) {
        size_t nb = X.rows - r0 < blk ? X.rows - r0 : blk;
        tl_mat Kv = tl_mat_rows(Kb, 0, nb);
        TL_TRY(tl_kernel_matrix(&a->kern, tl_mat_rows(X, r0, nb), a->land, Kv));
        TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, Kv, a->kproj, 0.0, tl_mat_rows(F, r0, nb)));
    }
done:
    tl_mat_free(&Kb);
    return st;
}
