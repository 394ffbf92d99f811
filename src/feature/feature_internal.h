/* Private layout of a fitted tl_adapter, shared by the files of src/feature.
 *
 * Every method's transform is one pipeline, so fit, transform, save and load stay generic:
 *   1. feature map (kernel forms only): phi(x) = k(x, landmarks) [kproj]     (exact / Nystrom)
 *                                       phi(x) = sqrt(2/D) cos(x Wr + br) kproj (random Fourier)
 *                                       phi(x) = x kproj                        (linear kernel)
 *   2. affine map of the sample's domain: z = (phi(x) - mean[dom]) W[dom]  (mean, W optional)
 *   3. optional L2 normalisation of each output row.
 * AUGMENT alone replaces step 2 by Daume's [x, x, 0] / [x, 0, x] (with k domains: the shared copy
 * and one block per domain). Methods whose map does not depend on the domain (PCA, GFK, TCA, JDA,
 * BDA) fill slot 0 only (per_domain false). */
#ifndef TL_FEATURE_INTERNAL_H
#define TL_FEATURE_INTERNAL_H

#include "internal/blocks.h"
#include "internal/check.h"
#include "tl/feature.h"

#define TLF_MAX_DOMAINS 4096

typedef enum { TLF_MAP_NONE = 0, TLF_MAP_KERNEL = 1, TLF_MAP_RFF = 2, TLF_MAP_LINEAR = 3 } tlf_map;

struct tl_adapter {
    tl_adapt_params p; /* the parameters it was fitted with (ctx cleared) */
    size_t d_in;       /* input features */
    size_t d_feat;     /* after the feature map (= d_in without one) */
    size_t d_out;      /* output dimension */
    /* stage 1 */
    tlf_map map;
    tl_kernel kern;    /* gamma resolved (> 0 for RBF/POLY) */
    tl_mat land;       /* (m, d_in) landmarks, or every fitting sample for the exact kernel */
    tl_mat kproj;      /* Nystrom (m, d_feat): U_r diag(l_r^-1/2) P; RFF (D, D) and linear
                          (d_in, d_in): P; exact: none */
    tl_mat rff_w;      /* (d_in, D) */
    double *rff_b;     /* (D) */
    /* stage 2, indexed by domain (slot 0 the source, 1 the target, further slots further
       domains): every per-domain stage lives in these arrays, so more domains need no new
       fields */
    bool per_domain;
    size_t n_slots;    /* domains the map knows (2 for a source/target fit) */
    double **mean;     /* (n_slots) of (d_feat) each, or NULL entries */
    tl_mat *W;         /* (n_slots) of (d_feat, d_out) each; data NULL = identity */
    /* stage 3 */
    bool l2_out;
    /* JDA/BDA diagnostics */
    int *pseudo;       /* (n_pseudo) */
    size_t n_pseudo;
    double mu_used;    /* BDA: the balance of the last iteration */
    tli_job job;       /* during fit only: the processes and this one's blocks */
};

/* Method fits on the (feature-mapped) source Fs (ns, p) and target Ft (nt, p): fill a's stage 2
 * (mean, W, per_domain, d_out) and diagnostics. Defined in subspace.c and mmd.c. */
tl_status tlf_fit_pca(tl_adapter *a, tl_mat Fs, tl_mat Ft);
tl_status tlf_fit_coral(tl_adapter *a, tl_mat Fs, tl_mat Ft);
tl_status tlf_fit_sa(tl_adapter *a, tl_mat Fs, tl_mat Ft);
tl_status tlf_fit_gfk(tl_adapter *a, tl_mat Fs, tl_mat Ft);
tl_status tlf_fit_mmd(tl_adapter *a, tl_mat Fs, const int *ys, tl_mat Ft);

/* Stage 1 helpers (kmap.c): build the feature map from the fitting data, and apply it. */
tl_status tlf_kmap_fit(tl_adapter *a, tl_mat Xs, tl_mat Xt);
/* F (n, a->d_feat) = phi(X), X (n, a->d_in). */
tl_status tlf_kmap_apply(const tl_adapter *a, tl_mat X, tl_mat F);
/* Low-rank maps only (no-op otherwise): given Fs, Ft = phi of the fitting samples, right-multiply
 * them and the stored map by (Fs^T Fs + Ft^T Ft)^{1/2} (see kmap.c for why). */
tl_status tlf_kmap_finish(tl_adapter *a, tl_mat Fs, tl_mat Ft);

/* Top-k principal directions of the rows of A (na, d) and B (nb, d) pooled (B may have 0 rows),
 * centred on their pooled mean: mean (d), V (d, k) orthonormal columns, by descending variance. */
tl_status tlf_pca_basis(tl_mat A, tl_mat B, size_t k, double *mean, tl_mat V);

/* mean (d) = column mean of the rows of A (na, d) and B (nb, d) pooled. */
void tlf_col_mean(tl_mat A, tl_mat B, double *mean);
/* C (d, d) = sum over the rows x of A and B of (x - mean)(x - mean)^T, from centred row blocks
 * (no cancellation from an uncentred X^T X, no n x d copy). */
tl_status tlf_scatter(tl_mat A, tl_mat B, const double *mean, tl_mat C);

#endif
