/* Maximum mean discrepancy (Gretton et al., "A kernel two-sample test", JMLR 2012).
 *
 * With kernel sums S_ss = sum_{i,j in s} k(x_i, x_j), S_tt, S_st and the diagonal sums d_s, d_t:
 *   biased (V-statistic)   MMD^2_b = S_ss / ns^2 + S_tt / nt^2 - 2 S_st / (ns nt)
 *   unbiased (U-statistic) MMD^2_u = (S_ss - d_s) / (ns (ns-1)) + (S_tt - d_t) / (nt (nt-1))
 *                                    - 2 S_st / (ns nt)
 * Linear kernel: closed form through the domain means, O(n d), dense or sparse.
 * RBF: exp(-gamma ||x-y||^2), gamma from the median heuristic on the pooled sample unless given,
 * optionally averaged over n_bandwidths gammas gamma * 2^(i - n/2). The sums come from pairs of row
 * blocks (measure_util.c), never an n x m matrix. Above rff_above pooled samples the kernel is
 * replaced by random Fourier features (Rahimi & Recht 2007): z(x) = sqrt(2/D) cos(W x + b),
 * W ~ N(0, 2 gamma I), b ~ U[0, 2 pi), and MMD is the linear MMD of the features, O(n d D).
 *
 * Permutation p-value (1 + #{perm >= observed}) / (1 + P). Each permutation only needs three
 * numbers, so the expensive part is shared:
 *  - K engine (RBF, n = ns + nt <= 8000): the pooled n x n kernel is computed once; a batch of
 *    permutations is a 0/1 matrix A (n, b), and S_ss of every column comes from one GEMM K A.
 *  - feature engine (linear kernel: the data itself; RBF above 8000 samples: stored RFF features
 *    Z (n, D)): S_ss = ||Z^T a||^2 with Z^T A one GEMM per batch (or a CSR pass).
 * The observed statistic is recomputed by the same engine (identity assignment) so ties compare
 * like with like. For RBF between 8000 and rff_above samples the reported MMD is exact while the
 * p-value comes from RFF features (the n x n kernel would not fit).
 * Rows held by several processes (p->comm, src/internal/blocks.h): the linear form and the RFF
 * form are sums over rows (column sums, squared norms), summed over the processes; the median
 * heuristic draws its rows from the global row numbers; the exact RBF sums pass the blocks of
 * rows between the processes (kernel_rounds.c), each summing its share of the pairs; the
 * permutations are drawn over the global row numbers, the same on every process, and each
 * process adds up what its own rows give to every permutation's sums. */
#include <math.h>
#include <string.h>

#include "measure/measure_internal.h"

#define TLM_PERM_FULL_K ((size_t)8000) /* pooled kernel matrix up to 512 MB */
#define TLM_PERM_BATCH ((size_t)64)
#define TLM_RFF_MAX_ELEMS ((size_t)1 << 27) /* stored features for permutations: 1 GB */
#define TLM_FEAT_BLOCK_ELEMS ((size_t)1 << 21)

tl_mmd_params tl_mmd_params_default(void) {
    tl_mmd_params p;
    memset(&p, 0, sizeof p);
    p.kernel = TL_KERNEL_RBF;
    p.gamma = 0.0;
    p.n_bandwidths = 1;
    p.unbiased = true;
    p.permutations = 0;
    p.rff_above = 20000;
    p.rff_features = 2048;
    p.seed = 42;
    return p;
}

static tl_status check_params(const tl_mmd_params *p) {
    tl_status st = TL_OK;
    TL_CHECK(p, TL_ERR_INVALID_ARG, "mmd: parameters are NULL");
    TL_CHECK(p->kernel == TL_KERNEL_LINEAR || p->kernel == TL_KERNEL_RBF, TL_ERR_INVALID_ARG,
             "mmd: kernel must be linear or rbf (got type %d)", (int)p->kernel);
    TL_CHECK(isfinite(p->gamma), TL_ERR_INVALID_ARG, "mmd: gamma = %g is not finite", p->gamma);
    TL_CHECK(p->n_bandwidths >= 1 && p->n_bandwidths <= TLM_MAX_BANDWIDTHS, TL_ERR_INVALID_ARG,
             "mmd: n_bandwidths = %zu must be in [1, %d]", p->n_bandwidths, TLM_MAX_BANDWIDTHS);
    TL_CHECK(p->rff_features >= 1 && p->rff_features <= ((size_t)1 << 20), TL_ERR_INVALID_ARG,
             "mmd: rff_features = %zu must be in [1, 1048576]", p->rff_features);
    TL_CHECK(p->permutations <= ((size_t)1 << 30), TL_ERR_INVALID_ARG,
             "mmd: permutations = %zu is too many", p->permutations);
done:
    return st;
}

static double mmd_stat(double Sss, double Stt, double Sst, double ds, double dt, size_t ns,
                       size_t nt, bool unbiased) {
    double a = (double)ns, b = (double)nt;
    if (unbiased)
        return (Sss - ds) / (a * (a - 1.0)) + (Stt - dt) / (b * (b - 1.0)) - 2.0 * Sst / (a * b);
    return Sss / (a * a) + Stt / (b * b) - 2.0 * Sst / (a * b);
}

/* ---- linear kernel, closed form ---- */

/* sum (d) of the rows of X and the sum of squared deviations from their mean; over the blocks of
 * every process (n: their rows together; the deviations from the global mean). */
static tl_status col_sums(const tli_job *job, tl_xmat X, size_t n, double *sum, double *ssdev) {
    tl_status st = TL_OK;
    size_t nl = tl_xmat_rows(X), d = tl_xmat_cols(X);
    memset(sum, 0, d * sizeof *sum);
    double q = 0.0;
    if (X.sparse) {
        const tl_csr *c = &X.csr;
        for (size_t k = 0; k < c->nnz; k++) {
            sum[c->indices[k]] += c->values[k];
            q += c->values[k] * c->values[k];
        }
        TL_TRY(tli_job_sum(job, sum, d, true));
        TL_TRY(tli_job_sum(job, &q, 1, true));
        double mm = 0.0;
        for (size_t j = 0; j < d; j++) mm += sum[j] * sum[j];
        *ssdev = q - mm / (double)n;
        if (*ssdev < 0) *ssdev = 0;
        goto done;
    }
    for (size_t i = 0; i < nl; i++) {
        const double *r = X.dense.data + i * X.dense.ld;
        for (size_t c = 0; c < d; c++) sum[c] += r[c];
    }
    TL_TRY(tli_job_sum(job, sum, d, true));
    for (size_t i = 0; i < nl; i++) { /* two passes: no cancellation */
        const double *r = X.dense.data + i * X.dense.ld;
        for (size_t c = 0; c < d; c++) {
            double e = r[c] - sum[c] / (double)n;
            q += e * e;
        }
    }
    TL_TRY(tli_job_sum(job, &q, 1, true));
    *ssdev = q;
done:
    return st;
}

/* ||ms - mt||^2, plus for the U-statistic - tr(cov_s)/ns - tr(cov_t)/nt (unbiased covariances),
 * which is the U-statistic rearranged to avoid cancellation. */
static tl_status mmd_linear(const tli_job *job, tl_xmat Xs, tl_xmat Xt, bool unbiased,
                            double *out) {
    tl_status st = TL_OK;
    double *ss = NULL, *stt = NULL;
    size_t ns = job->Ns, nt = job->Nt, d = tl_xmat_cols(Xs);
    double qs, qt;
    TL_ALLOC(ss, d);
    TL_ALLOC(stt, d);
    TL_TRY(col_sums(job, Xs, ns, ss, &qs));
    TL_TRY(col_sums(job, Xt, nt, stt, &qt));
    double m = 0.0;
    for (size_t j = 0; j < d; j++) {
        double e = ss[j] / (double)ns - stt[j] / (double)nt;
        m += e * e;
    }
    if (unbiased)
        m -= qs / ((double)ns * (double)(ns - 1)) + qt / ((double)nt * (double)(nt - 1));
    *out = m;
done:
    tl_free(ss);
    tl_free(stt);
    return st;
}

/* ---- random Fourier features ---- */

typedef struct {
    size_t D, d;
    double *W;     /* (D, d) */
    double *b;     /* (D) */
    double *scale; /* (D) */
} rff;

static void rff_free(rff *r) {
    tl_free(r->W);
    tl_free(r->b);
    tl_free(r->scale);
    memset(r, 0, sizeof *r);
}

/* Feature k belongs to bandwidth k mod ngam and is scaled by sqrt(2 / (ngam D_g)), so z.z'
 * estimates the mean of the ngam RBF kernels. */
static tl_status rff_init(rff *r, size_t d, const tlm_kspec *ks, size_t D, uint64_t seed) {
    tl_status st = TL_OK;
    memset(r, 0, sizeof *r);
    size_t cells;
    TL_CHECK(tl_size_mul(D, d, &cells) == 0, TL_ERR_NOMEM, "mmd: RFF size overflow");
    size_t ng = ks->ngam > 1 ? ks->ngam : 1;
    if (D < ng) D = ng;
    r->D = D;
    r->d = d;
    TL_CHECK(tl_size_mul(D, d, &cells) == 0, TL_ERR_NOMEM, "mmd: RFF size overflow");
    TL_ALLOC(r->W, cells);
    TL_ALLOC(r->b, D);
    TL_ALLOC(r->scale, D);
    tl_rng rng;
    tl_rng_seed(&rng, seed ^ 0x5DEECE66DULL);
    for (size_t k = 0; k < D; k++) {
        size_t g = k % ng;
        double gam = ks->ngam > 1 ? ks->gammas[g] : ks->k.gamma;
        double sd = sqrt(2.0 * gam);
        for (size_t j = 0; j < d; j++) r->W[k * d + j] = sd * tl_rng_normal(&rng);
        r->b[k] = 2.0 * M_PI * tl_rng_uniform(&rng);
        size_t Dg = D / ng + (g < D % ng ? 1 : 0);
        r->scale[k] = sqrt(2.0 / ((double)ng * (double)Dg));
    }
done:
    if (st != TL_OK) rff_free(r);
    return st;
}

/* Z (nb, D) = features of the dense rows Xb (nb, d). */
static tl_status rff_map(const rff *r, tl_mat Xb, tl_mat Z) {
    tl_status st = TL_OK;
    TL_TRY(tl_gemm(TL_NOTRANS, TL_TRANS, 1.0, Xb, tl_mat_view(r->W, r->D, r->d), 0.0, Z));
    for (size_t i = 0; i < Z.rows; i++) {
        double *z = Z.data + i * Z.ld;
        for (size_t k = 0; k < r->D; k++) z[k] = r->scale[k] * cos(z[k] + r->b[k]);
    }
done:
    return st;
}

/* u (D) = sum of the feature rows of X, *q = sum of their squared norms. */
static tl_status rff_sums(const rff *r, tl_xmat X, double *u, double *q) {
    tl_status st = TL_OK;
    double *xb = NULL, *zb = NULL;
    size_t n = tl_xmat_rows(X), d = r->d, D = r->D;
    size_t blk = tlm_block_rows(d > D ? d : D, TLM_FEAT_BLOCK_ELEMS, 1024);
    TL_ALLOC(xb, blk * d);
    TL_ALLOC(zb, blk * D);
    memset(u, 0, D * sizeof *u);
    double qq = 0.0;
    for (size_t r0 = 0; r0 < n; r0 += blk) {
        size_t nb = n - r0 < blk ? n - r0 : blk;
        tl_mat Xb = tlm_rows(X, r0, nb, NULL, xb);
        tl_mat Z = tl_mat_view(zb, nb, D);
        TL_TRY(rff_map(r, Xb, Z));
        for (size_t i = 0; i < nb; i++)
            for (size_t k = 0; k < D; k++) {
                double z = zb[i * D + k];
                u[k] += z;
                qq += z * z;
            }
    }
    *q = qq;
done:
    tl_free(xb);
    tl_free(zb);
    return st;
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static tl_status mmd_rff(const tli_job *j, const tlm_kspec *ks, tl_xmat Xs, tl_xmat Xt, size_t D,
                         uint64_t seed, bool unbiased, double *out) {
    tl_status st = TL_OK;
    double *us = NULL, *ut = NULL;
    rff r;
    TL_TRY(rff_init(&r, tl_xmat_cols(Xs), ks, D, seed));
    TL_ALLOC(us, r.D);
    TL_ALLOC(ut, r.D);
    double qs, qt;
    TL_TRY(rff_sums(&r, Xs, us, &qs));
    TL_TRY(rff_sums(&r, Xt, ut, &qt));
    TL_TRY(tli_job_sum(j, us, r.D, true));
    TL_TRY(tli_job_sum(j, ut, r.D, true));
    TL_TRY(tli_job_sum(j, &qs, 1, true));
    TL_TRY(tli_job_sum(j, &qt, 1, true));
    *out = mmd_stat(dot(us, us, r.D), dot(ut, ut, r.D), dot(us, ut, r.D), qs, qt, j->Ns, j->Nt,
                    unbiased);
done:
    rff_free(&r);
    tl_free(us);
    tl_free(ut);
    return st;
}

/* ---- permutation engines ----
 * Every process draws the same permutations of the global row numbers (one seed) and builds the
 * same assignment matrix A (n, nb); it holds the rows of K or Z for its own rows only (K: its rows
 * of the pooled kernel, all n columns; Z: its rows' features), adds up what its rows give to each
 * permutation's three sums, and the partial sums are added over the processes (then process 0's
 * bits everywhere, so every process counts the same permutations). One process: the identity. */

typedef struct {
    const tli_job *job;
    size_t nls, nlt; /* this process's source and target rows (local rows: source, then target) */
    /* K engine */
    tl_mat K;       /* (nls + nlt, n) this process's rows of the pooled kernel */
    double *R;      /* (nls + nlt) row sums */
    double *diag;   /* (nls + nlt) */
    double T, Dsum; /* total and trace, over every row */
    /* feature engine */
    tl_xmat Z;      /* (nls + nlt, D) dense or CSR */
    double *v;      /* (D) column sums over every row */
    double *q;      /* (nls + nlt) row squared norms */
    bool feat;
} perm_engine;

/* The local row of global pooled row g, or false when another process holds it. */
static bool eng_local(const perm_engine *e, size_t g, size_t *l) {
    bool tg;
    size_t r;
    if (!tli_job_local(e->job, g, e->nls, e->nlt, &tg, &r)) return false;
    *l = tg ? e->nls + r : r;
    return true;
}

/* Statistics of the assignments in A (n, nb): column c has ones at the "source" rows.
 * work: (rows of K or D) * nb + 3 * nb doubles. */
static tl_status engine_batch(const perm_engine *e, tl_mat A, const size_t *const *src_idx,
                              size_t ns, size_t nt, bool unbiased, double *work, double *stat) {
    tl_status st = TL_OK;
    size_t n = ns + nt, nb = A.cols, nl = e->nls + e->nlt, l;
    if (!e->feat) {
        double *part = work + nl * nb; /* (nb, 3): S_ss, a.R, the diagonal, over this process's rows */
        if (nl > 0) {
            tl_mat KA = tl_mat_view(work, nl, nb);
            TL_TRY(tl_gemm(TL_NOTRANS, TL_NOTRANS, 1.0, e->K, A, 0.0, KA));
        }
        for (size_t c = 0; c < nb; c++) {
            const size_t *s = src_idx[c];
            double Sss = 0.0, aR = 0.0, ds = 0.0;
            for (size_t i = 0; i < ns; i++) {
                if (!eng_local(e, s[i], &l)) continue;
                Sss += work[l * nb + c];
                aR += e->R[l];
                ds += e->diag[l];
            }
            part[3 * c] = Sss, part[3 * c + 1] = aR, part[3 * c + 2] = ds;
        }
        TL_TRY(tli_job_sum(e->job, part, 3 * nb, true));
        for (size_t c = 0; c < nb; c++) {
            double Sss = part[3 * c], ds = part[3 * c + 2];
            double Sst = part[3 * c + 1] - Sss, Stt = e->T - Sss - 2.0 * Sst;
            stat[c] = mmd_stat(Sss, Stt, Sst, ds, e->Dsum - ds, ns, nt, unbiased);
        }
        goto done;
    }
    size_t D = tl_xmat_cols(e->Z);
    tl_mat U = tl_mat_view(work, D, nb); /* U = Z^T A over every process's rows */
    double *dsp = work + D * nb;         /* (nb) the diagonal sums */
    if (!e->Z.sparse) {
        if (nl == n) { /* one process: every row, in order */
            TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, e->Z.dense, A, 0.0, U));
        } else { /* this process's source rows and target rows: two runs of A's rows */
            memset(work, 0, D * nb * sizeof *work);
            const tli_job *j = e->job;
            if (e->nls)
                TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, tl_mat_rows(e->Z.dense, 0, e->nls),
                               tl_mat_rows(A, j->s0, e->nls), 1.0, U));
            if (e->nlt)
                TL_TRY(tl_gemm(TL_TRANS, TL_NOTRANS, 1.0, tl_mat_rows(e->Z.dense, e->nls, e->nlt),
                               tl_mat_rows(A, j->Ns + j->t0, e->nlt), 1.0, U));
        }
    } else {
        memset(work, 0, D * nb * sizeof *work);
        const tl_csr *z = &e->Z.csr;
        for (size_t c = 0; c < nb; c++)
            for (size_t i = 0; i < ns; i++) {
                if (!eng_local(e, src_idx[c][i], &l)) continue;
                for (size_t k = z->indptr[l]; k < z->indptr[l + 1]; k++)
                    work[(size_t)z->indices[k] * nb + c] += z->values[k];
            }
    }
    for (size_t c = 0; c < nb; c++) {
        double ds = 0.0;
        for (size_t i = 0; i < ns; i++)
            if (eng_local(e, src_idx[c][i], &l)) ds += e->q[l];
        dsp[c] = ds;
    }
    TL_TRY(tli_job_sum(e->job, work, D * nb + nb, true));
    for (size_t c = 0; c < nb; c++) {
        double Sss = 0.0, Sst = 0.0, Stt = 0.0, ds = dsp[c];
        for (size_t k = 0; k < D; k++) {
            double u = work[k * nb + c], w = e->v[k] - u;
            Sss += u * u;
            Sst += u * w;
            Stt += w * w;
        }
        stat[c] = mmd_stat(Sss, Stt, Sst, ds, e->Dsum - ds, ns, nt, unbiased);
    }
done:
    return st;
}

/* Runs P permutations (plus the identity first) of the ns + nt global rows and returns the
 * engine's observed statistic and the p-value. */
static tl_status engine_run(const perm_engine *e, size_t ns, size_t nt, size_t P, uint64_t seed,
                            bool unbiased, double *observed, double *p_value) {
    tl_status st = TL_OK;
    size_t n = ns + nt, bs = TLM_PERM_BATCH, total = P + 1;
    size_t *idx = NULL, *perms = NULL;
    double *A = NULL, *work = NULL, *stat = NULL;
    const size_t *cols[TLM_PERM_BATCH];
    size_t wrows = e->feat ? tl_xmat_cols(e->Z) : e->nls + e->nlt, cells;
    TL_CHECK(tl_size_mul(n, bs, &cells) == 0 && tl_size_mul(wrows + 3, bs, &cells) == 0,
             TL_ERR_NOMEM, "mmd permutations: size overflow");
    TL_ALLOC(idx, n);
    TL_ALLOC(perms, bs * n);
    TL_ALLOC(A, n * bs);
    TL_ALLOC(work, (wrows + 3) * bs);
    TL_ALLOC(stat, bs);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    size_t ge = 0;
    double obs = 0.0;
    for (size_t p0 = 0; p0 < total; p0 += bs) {
        size_t nb = total - p0 < bs ? total - p0 : bs;
        memset(A, 0, n * nb * sizeof *A);
        for (size_t c = 0; c < nb; c++) {
            size_t *pc = perms + c * n;
            if (p0 + c > 0) tl_rng_shuffle(&rng, idx, n); /* identity first */
            memcpy(pc, idx, n * sizeof *pc);
            for (size_t i = 0; i < ns; i++) A[pc[i] * nb + c] = 1.0;
            cols[c] = pc;
        }
        TL_TRY(engine_batch(e, tl_mat_view(A, n, nb), cols, ns, nt, unbiased, work, stat));
        for (size_t c = 0; c < nb; c++) {
            if (p0 + c == 0) {
                obs = stat[0];
                continue;
            }
            /* like-for-like comparison, with room for GEMM rounding differences between columns */
            if (stat[c] >= obs - 1e-12 * fabs(obs) - 1e-15) ge++;
        }
    }
    *observed = obs;
    *p_value = (1.0 + (double)ge) / (1.0 + (double)P);
done:
    tl_free(idx);
    tl_free(perms);
    tl_free(A);
    tl_free(work);
    tl_free(stat);
    return st;
}

/* K engine: this process's rows of the pooled kernel matrix (tlm_kernel_strip). */
static tl_status perm_full_kernel(const tli_job *job, const tlm_kspec *ks, tl_xmat Xs,
                                  tl_xmat Xt, const tl_mmd_params *p, double *observed,
                                  double *p_value) {
    tl_status st = TL_OK;
    perm_engine e;
    memset(&e, 0, sizeof e);
    e.job = job;
    e.nls = tl_xmat_rows(Xs), e.nlt = tl_xmat_rows(Xt);
    size_t nl = e.nls + e.nlt, n = job->Ns + job->Nt;
    TL_TRY(tlm_kernel_strip(job, ks, Xs, Xt, &e.K));
    TL_ALLOC(e.R, nl ? nl : 1);
    TL_ALLOC(e.diag, nl ? nl : 1);
    double tot[2] = {0.0, 0.0};
    for (size_t i = 0; i < nl; i++) {
        const double *k = e.K.data + i * e.K.ld;
        double s = 0.0;
        for (size_t j = 0; j < n; j++) s += k[j];
        size_t g = i < e.nls ? job->s0 + i : job->Ns + job->t0 + (i - e.nls); /* its column */
        e.R[i] = s;
        e.diag[i] = k[g];
        tot[0] += s;
        tot[1] += k[g];
    }
    TL_TRY(tli_job_sum(job, tot, 2, true));
    e.T = tot[0], e.Dsum = tot[1];
    TL_TRY(engine_run(&e, job->Ns, job->Nt, p->permutations, p->seed, p->unbiased, observed,
                      p_value));
done:
    tl_mat_free(&e.K);
    tl_free(e.R);
    tl_free(e.diag);
    return st;
}

/* Feature engine: Z = this process's pooled rows (linear) or their RFF features (rbf). */
static tl_status perm_features(const tli_job *job, const tlm_kspec *ks, tl_xmat Xs, tl_xmat Xt,
                               const tl_mmd_params *p, double *observed, double *p_value) {
    tl_status st = TL_OK;
    tlm_pooled pool;
    perm_engine e;
    rff r;
    double *zbuf = NULL, *xb = NULL;
    memset(&e, 0, sizeof e);
    memset(&pool, 0, sizeof pool);
    memset(&r, 0, sizeof r);
    e.job = job;
    e.nls = tl_xmat_rows(Xs), e.nlt = tl_xmat_rows(Xt);
    size_t n = e.nls + e.nlt, d = tl_xmat_cols(Xs);
    TL_TRY(tlm_pool(Xs, Xt, &pool));
    if (ks->k.type == TL_KERNEL_LINEAR) {
        e.Z = pool.X;
    } else {
        TL_TRY(rff_init(&r, d, ks, p->rff_features, p->seed));
        size_t cells;
        TL_CHECK(tl_size_mul(n, r.D, &cells) == 0 && cells <= TLM_RFF_MAX_ELEMS, TL_ERR_NOMEM,
                 "mmd: the permutation test would store %zu x %zu random features (over 1 GB); "
                 "lower rff_features or the number of samples",
                 n, r.D);
        TL_ALLOC(zbuf, cells ? cells : 1);
        size_t blk = tlm_block_rows(d, TLM_FEAT_BLOCK_ELEMS, 1024);
        TL_ALLOC(xb, blk * d);
        tl_mat Zall = tl_mat_view(zbuf, n, r.D);
        for (size_t r0 = 0; r0 < n; r0 += blk) {
            size_t nb = n - r0 < blk ? n - r0 : blk;
            TL_TRY(rff_map(&r, tlm_rows(pool.X, r0, nb, NULL, xb), tl_mat_rows(Zall, r0, nb)));
        }
        tlm_pooled_free(&pool);
        e.Z = tl_xmat_from_dense(Zall);
    }
    e.feat = true;
    size_t D = tl_xmat_cols(e.Z);
    TL_CALLOC(e.v, D + 1); /* the column sums, then the trace: summed over the processes */
    TL_ALLOC(e.q, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        double qq = 0.0;
        if (e.Z.sparse) {
            for (size_t k = e.Z.csr.indptr[i]; k < e.Z.csr.indptr[i + 1]; k++) {
                double z = e.Z.csr.values[k];
                e.v[e.Z.csr.indices[k]] += z;
                qq += z * z;
            }
        } else {
            const double *z = e.Z.dense.data + i * e.Z.dense.ld;
            for (size_t k = 0; k < D; k++) {
                e.v[k] += z[k];
                qq += z[k] * z[k];
            }
        }
        e.q[i] = qq;
        e.v[D] += qq;
    }
    TL_TRY(tli_job_sum(job, e.v, D + 1, true));
    e.Dsum = e.v[D];
    TL_TRY(engine_run(&e, job->Ns, job->Nt, p->permutations, p->seed, p->unbiased, observed,
                      p_value));
done:
    tlm_pooled_free(&pool);
    rff_free(&r);
    tl_free(zbuf);
    tl_free(xb);
    tl_free(e.v);
    tl_free(e.q);
    return st;
}

tl_status tl_mmd(const tl_mmd_params *p, tl_xmat Xs, tl_xmat Xt, tl_mmd_result *out) {
    tl_status st = TL_OK;
    tli_job job = {0};
    TL_CHECK(out, TL_ERR_INVALID_ARG, "mmd: result pointer is NULL");
    out->mmd2 = NAN;
    out->p_value = NAN;
    out->gamma = 0.0;
    TL_TRY(check_params(p));
    TL_TRY(tlm_check_pair(Xs, Xt, p->unbiased ? 2 : 1, p->unbiased ? "mmd (unbiased)" : "mmd"));
    TL_TRY(tli_job_start(&job, p->comm, tl_xmat_rows(Xs), tl_xmat_rows(Xt)));
    size_t ns = job.Ns, nt = job.Nt, n = ns + nt; /* every process's rows */
    tlm_kspec ks;
    memset(&ks, 0, sizeof ks);
    ks.k = tl_kernel_default(p->kernel);
    if (p->kernel == TL_KERNEL_RBF) {
        double g = p->gamma;
        if (g <= 0.0) TL_TRY(tlm_pooled_median_gamma_job(&job, Xs, Xt, p->seed, &g));
        ks.k.gamma = g;
        out->gamma = g;
        if (p->n_bandwidths > 1) {
            ks.ngam = p->n_bandwidths;
            for (size_t i = 0; i < ks.ngam; i++)
                ks.gammas[i] = g * ldexp(1.0, (int)i - (int)(ks.ngam / 2));
        }
    }
    bool use_rff = p->kernel == TL_KERNEL_RBF && p->rff_above > 0 && n > p->rff_above;
    double obs = NAN, pv = NAN;
    if (p->permutations > 0) {
        if (p->kernel == TL_KERNEL_RBF && n <= TLM_PERM_FULL_K && !use_rff)
            TL_TRY(perm_full_kernel(&job, &ks, Xs, Xt, p, &obs, &pv));
        else
            TL_TRY(perm_features(&job, &ks, Xs, Xt, p, &obs, &pv));
        out->p_value = pv;
    }
    if (p->kernel == TL_KERNEL_LINEAR) {
        TL_TRY(mmd_linear(&job, Xs, Xt, p->unbiased, &out->mmd2));
    } else if (use_rff) {
        /* same features (same seed) as the permutation engine: reuse its observed value */
        if (p->permutations > 0)
            out->mmd2 = obs;
        else
            TL_TRY(mmd_rff(&job, &ks, Xs, Xt, p->rff_features, p->seed, p->unbiased, &out->mmd2));
    } else if (p->permutations > 0 && n <= TLM_PERM_FULL_K) {
        out->mmd2 = obs; /* exact, from the pooled kernel */
    } else {
        double S[3]; /* every pair of rows, blocks passed between the processes */
        TL_TRY(tlm_kernel_sums_job(&job, &ks, Xs, Xt, S));
        out->mmd2 = mmd_stat(S[0], S[1], S[2], (double)ns, (double)nt, ns, nt, p->unbiased);
    }
done:
    tli_job_end(&job);
    return st;
}
