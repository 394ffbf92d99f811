/* The domain measures over rows held by several processes (tl_mmd_params.comm,
 * tl_coral_distance_comm; issue 17), without MPI: P threads play the processes, each holding its
 * block of the source and target rows (tl_block_range's cut), joined by a tl_comm whose sum,
 * broadcast and gather go through shared memory and a barrier (the sum adds the processes' values
 * in rank order, the same on every thread, as MPI_Allreduce then a broadcast would). Every form
 * of MMD - linear, exact RBF (one and several bandwidths, U and V statistics), random Fourier
 * features - with and without the permutation p-value, on dense and CSR rows, and the CORAL
 * distance, on 2, 3 and 4 "processes", must equal one process holding every row: figures within
 * 1e-10 relative, the same p-value, the same median-heuristic gamma; and the proxy A-distance
 * (logistic domain classifier fitted over the processes) within one held-out row's worth.
 * tests/mpi.sh checks the same through `mpirun tl distance`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tl/data.h"
#include "tl/measure.h"

void openblas_set_num_threads(int num_threads); /* the threads below are the parallelism */

#define MAXP 4

typedef struct {
    pthread_barrier_t bar;
    const void *slot[MAXP];
} shared;

typedef struct {
    shared *sh;
    tl_comm c;
    /* this thread's rows and what it measured */
    tl_xmat Xs, Xt;
    tl_mmd_params p;
    tl_mmd_result r;
    double coral, ad;
    tl_status st;
} proc;

static tl_status t_sum(void *u, double *buf, size_t n) {
    proc *t = u;
    double *tmp = calloc(n ? n : 1, sizeof *tmp);
    if (!tmp) return TL_ERR_NOMEM;
    t->sh->slot[t->c.rank] = buf;
    pthread_barrier_wait(&t->sh->bar);
    for (int r = 0; r < t->c.size; r++)
        for (size_t i = 0; i < n; i++) tmp[i] += ((const double *)t->sh->slot[r])[i];
    pthread_barrier_wait(&t->sh->bar);
    memcpy(buf, tmp, n * sizeof *tmp);
    free(tmp);
    return TL_OK;
}

static tl_status t_bcast(void *u, void *buf, size_t bytes, int root) {
    proc *t = u;
    t->sh->slot[t->c.rank] = buf;
    pthread_barrier_wait(&t->sh->bar);
    if (t->c.rank != root && bytes) memcpy(buf, t->sh->slot[root], bytes);
    pthread_barrier_wait(&t->sh->bar);
    return TL_OK;
}

static tl_status t_gather(void *u, const void *mine, void *all, const size_t *bytes) {
    proc *t = u;
    t->sh->slot[t->c.rank] = mine;
    pthread_barrier_wait(&t->sh->bar);
    size_t at = 0;
    for (int r = 0; r < t->c.size; r++) {
        if (bytes[r]) memcpy((char *)all + at, t->sh->slot[r], bytes[r]);
        at += bytes[r];
    }
    pthread_barrier_wait(&t->sh->bar);
    return TL_OK;
}

static void *run_proc(void *u) {
    proc *t = u;
    t->p.comm = &t->c;
    t->st = tl_mmd(&t->p, t->Xs, t->Xt, &t->r);
    if (t->st == TL_OK) t->st = tl_coral_distance_comm(&t->c, t->Xs, t->Xt, &t->coral);
    if (t->st == TL_OK) t->st = tl_proxy_a_distance_comm(&t->c, t->Xs, t->Xt, 5, 1.0, 7, &t->ad);
    return NULL;
}

/* Rows [lo, hi) of X (dense view, or a CSR view whose indptr is rebased into ip). */
static tl_xmat block(tl_xmat X, size_t lo, size_t hi, size_t *ip) {
    if (!X.sparse) return tl_xmat_from_dense(tl_mat_rows(X.dense, lo, hi - lo));
    const tl_csr *c = &X.csr;
    for (size_t i = lo; i <= hi; i++) ip[i - lo] = c->indptr[i] - c->indptr[lo];
    size_t a = c->indptr[lo];
    return tl_xmat_from_csr(
        (tl_csr){hi - lo, c->cols, c->indptr[hi] - a, ip, c->indices + a, c->values + a});
}

static double rel(double a, double b) {
    double s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return s > 0 ? fabs(a - b) / s : 0.0;
}

/* P threads on blocks of Xs and Xt against one process: every figure equal. */
static void check_split(const char *what, const tl_mmd_params *p, tl_xmat Xs, tl_xmat Xt, int P) {
    tl_mmd_result one;
    double coral1, ad1;
    CHECK_MSG(tl_mmd(p, Xs, Xt, &one) == TL_OK, "%s: %s", what, tl_error_message());
    CHECK(tl_coral_distance(Xs, Xt, &coral1) == TL_OK);
    CHECK(tl_proxy_a_distance(Xs, Xt, 5, 1.0, 7, &ad1) == TL_OK);
    shared sh;
    proc t[MAXP];
    pthread_t th[MAXP];
    size_t *ip[MAXP][2];
    pthread_barrier_init(&sh.bar, NULL, (unsigned)P);
    for (int r = 0; r < P; r++) {
        size_t slo, shi, tlo, thi;
        tl_block_range(tl_xmat_rows(Xs), r, P, &slo, &shi);
        tl_block_range(tl_xmat_rows(Xt), r, P, &tlo, &thi);
        ip[r][0] = malloc((shi - slo + 1) * sizeof(size_t));
        ip[r][1] = malloc((thi - tlo + 1) * sizeof(size_t));
        memset(&t[r], 0, sizeof t[r]);
        t[r].sh = &sh;
        t[r].c = (tl_comm){r, P, t_sum, t_bcast, t_gather, &t[r]};
        t[r].Xs = block(Xs, slo, shi, ip[r][0]);
        t[r].Xt = block(Xt, tlo, thi, ip[r][1]);
        t[r].p = *p;
    }
    for (int r = 0; r < P; r++) pthread_create(&th[r], NULL, run_proc, &t[r]);
    for (int r = 0; r < P; r++) pthread_join(th[r], NULL);
    pthread_barrier_destroy(&sh.bar);
    for (int r = 0; r < P; r++) {
        CHECK_MSG(t[r].st == TL_OK, "%s, %d processes: process %d failed", what, P, r);
        if (t[r].st != TL_OK) continue;
        CHECK_MSG(rel(t[r].r.mmd2, one.mmd2) <= 1e-10, "%s, %d processes, process %d: MMD^2 %.17g, one process %.17g",
                  what, P, r, t[r].r.mmd2, one.mmd2);
        CHECK_MSG(t[r].r.gamma == one.gamma, "%s, %d processes: gamma %.17g vs %.17g", what, P,
                  t[r].r.gamma, one.gamma);
        CHECK_MSG((isnan(one.p_value) && isnan(t[r].r.p_value)) || t[r].r.p_value == one.p_value,
                  "%s, %d processes: p = %g, one process %g", what, P, t[r].r.p_value, one.p_value);
        CHECK_MSG(rel(t[r].coral, coral1) <= 1e-10, "%s, %d processes: CORAL %.17g vs %.17g", what, P,
                  t[r].coral, coral1);
        /* the A-distance: the same folds, the classifier fitted over the processes, its sums added
           in another order; at most one held-out row on the other side of the boundary, which
           moves 2 (1 - 2 err) by 4 / (folds * the fold's rows) (measured: equal) */
        size_t N = tl_xmat_rows(Xs) + tl_xmat_rows(Xt);
        CHECK_MSG(fabs(t[r].ad - ad1) <= 4.0 / (double)(5 * (N / 5)) + 1e-12,
                  "%s, %d processes: A-distance %.17g vs %.17g", what, P, t[r].ad, ad1);
        /* every process reports the same bits */
        CHECK(t[r].r.mmd2 == t[0].r.mmd2 && t[r].coral == t[0].coral && t[r].ad == t[0].ad);
        free(ip[r][0]);
        free(ip[r][1]);
    }
}

/* Source (ns, d) and target (nt, d): N(0, 1) rows, the target shifted by `shift` in its first
 * column (so the p-value is neither 1 nor the smallest); every other value zero when sparse. */
static void make_data(size_t ns, size_t nt, size_t d, double shift, bool sparse, double *xs,
                      double *xt) {
    tl_rng g;
    tl_rng_seed(&g, 11);
    for (size_t i = 0; i < (ns + nt) * d; i++) {
        double v = tl_rng_normal(&g);
        if (sparse && tl_rng_uniform(&g) < 0.5) v = 0.0;
        if (i < ns * d) xs[i] = v;
        else xt[i - ns * d] = v + ((i - ns * d) % d == 0 ? shift : 0.0);
    }
}

TEST(mmd_dense_blocks) {
    enum { NS = 157, NT = 131, D = 5 };
    static double xs[NS * D], xt[NT * D];
    make_data(NS, NT, D, 0.15, false, xs, xt);
    tl_xmat Xs = tl_xmat_from_dense(tl_mat_view(xs, NS, D)),
            Xt = tl_xmat_from_dense(tl_mat_view(xt, NT, D));
    for (int P = 2; P <= MAXP; P++)
        for (int perm = 0; perm < 2; perm++) {
            tl_mmd_params p = tl_mmd_params_default();
            p.permutations = perm ? 99 : 0;
            p.kernel = TL_KERNEL_LINEAR;
            check_split("linear", &p, Xs, Xt, P);
            p.kernel = TL_KERNEL_RBF;
            p.rff_above = 0; /* exact: the blocks travel */
            check_split("rbf exact", &p, Xs, Xt, P);
            p.n_bandwidths = 3;
            p.unbiased = false;
            check_split("rbf exact, 3 bandwidths, biased", &p, Xs, Xt, P);
            p.n_bandwidths = 1;
            p.unbiased = true;
            p.rff_above = 100; /* random Fourier features */
            p.rff_features = 64;
            check_split("rbf features", &p, Xs, Xt, P);
            p.rff_above = 0;
            p.gamma = 0.3; /* given, not the median heuristic */
            check_split("rbf exact, gamma given", &p, Xs, Xt, P);
        }
    /* a p-value strictly between the smallest and 1: the permutations really were compared */
    tl_mmd_params p = tl_mmd_params_default();
    p.permutations = 99;
    p.rff_above = 0;
    tl_mmd_result r;
    CHECK(tl_mmd(&p, Xs, Xt, &r) == TL_OK);
    CHECK_MSG(r.p_value > 0.011 && r.p_value < 1, "p = %g", r.p_value);
}

/* x (n, d) as CSR arrays (ip n + 1, ind and val nnz): its non-zero entries */
static tl_xmat to_csr(const double *x, size_t n, size_t d, size_t *ip, int32_t *ind, double *val) {
    size_t q = 0;
    ip[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            if (x[i * d + j] != 0.0) ind[q] = (int32_t)j, val[q++] = x[i * d + j];
        ip[i + 1] = q;
    }
    return tl_xmat_from_csr((tl_csr){n, d, q, ip, ind, val});
}

TEST(mmd_csr_blocks) {
    enum { NS = 90, NT = 77, D = 7 };
    static double xs[NS * D], xt[NT * D];
    make_data(NS, NT, D, 0.2, true, xs, xt);
    static size_t ips[NS + 1], ipt[NT + 1];
    static int32_t ins[NS * D], int_[NT * D];
    static double vs[NS * D], vt[NT * D];
    tl_xmat Xs = to_csr(xs, NS, D, ips, ins, vs), Xt = to_csr(xt, NT, D, ipt, int_, vt);
    for (int P = 2; P <= 3; P++) {
        tl_mmd_params p = tl_mmd_params_default();
        p.permutations = 49;
        p.kernel = TL_KERNEL_LINEAR;
        check_split("csr linear", &p, Xs, Xt, P);
        p.kernel = TL_KERNEL_RBF;
        p.rff_above = 0;
        check_split("csr rbf exact", &p, Xs, Xt, P);
        p.permutations = 0;
        check_split("csr rbf exact, no permutations", &p, Xs, Xt, P);
    }
}

int main(void) {
    openblas_set_num_threads(1);
    RUN(mmd_dense_blocks);
    RUN(mmd_csr_blocks);
    return tl_test_summary();
}
