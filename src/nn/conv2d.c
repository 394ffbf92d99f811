/* 2-D convolution (cross-correlation, as PyTorch's nn.Conv2d with groups = 1, dilation = 1):
 *   y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x[n, c, i*S + p - P, j*S + q - P]
 * x (B, C, H, W) NCHW, W (O, C, K, K), y (B, O, HO, WO), HO = (H + 2P - K) / S + 1.
 *
 * Lowered to one matrix product per chunk of samples (im2col, Chellapilla et al. 2006): the
 * patches of nb samples form col (C*K*K, nb*HO*WO), so that
 *   forward   T  = W col            (O, nb*HO*WO), then scattered to NCHW with the bias
 *   backward  dW += T' col^T        T' = dy gathered to (O, nb*HO*WO);  db += row sums of T'
 *             dcol = W^T T'         then col2im adds the patches back into dx
 * Batching the chunk into one product gives OpenBLAS matrices large enough to run near its peak
 * (a product per sample has N = HO*WO only); the chunk is capped so col stays within a fixed
 * budget (nn->conv_chunk, chosen when the workspace is sized: 512 KiB, so that col is still in
 * L2 when the product reads it); each thread has its own col and works on its own slice of the
 * batch. col is rebuilt in backward rather than kept from forward, trading a cheap copy for
 * B*C*K*K*HO*WO floats of memory per layer. im2col pads each input plane once into a small
 * per-thread buffer, so every row of col is a plain copy of HO rows of WO floats (no bounds
 * tests), and col2im adds into such a plane; these copies were half the time of a CNN step when
 * they went row by row through memcpy and memset. The naive direct loop below is the reference
 * the tests compare against. */
#include <cblas.h>
#include <string.h>

#include "nn/nn_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the copy loops around the products vectorise */
#endif

typedef struct {
    const nn_layer *L;
    const float *x; /* first sample of the chunk */
    float *dx;      /* col2im target (first sample of the chunk) */
    float *col;
    size_t nb;
} conv_job;

/* The copy and add loops below stay loops: GCC would otherwise turn the row copies into memcpy /
 * memset calls, which cost more than the copy itself for rows of 8 or 16 floats. */
#if defined(__GNUC__) && !defined(__clang__)
#define NN_NO_LIBCALLS __attribute__((optimize("O3", "no-tree-loop-distribute-patterns")))
#else
#define NN_NO_LIBCALLS
#endif

/* The input plane src (H x W) into pad ((H + 2P) x (W + 2P)) with a zero border. */
NN_NO_LIBCALLS static void pad_plane(const float *restrict src, float *restrict pad, size_t H, size_t W,
                                     size_t P) {
    const size_t Wp = W + 2 * P;
    for (size_t e = 0; e < P * Wp; e++) pad[e] = 0.0f;
    for (size_t i = 0; i < H; i++) {
        float *restrict d = pad + (P + i) * Wp;
        for (size_t j = 0; j < P; j++) d[j] = d[P + W + j] = 0.0f;
        for (size_t j = 0; j < W; j++) d[P + j] = src[i * W + j];
    }
    for (size_t e = (P + H) * Wp; e < (2 * P + H) * Wp; e++) pad[e] = 0.0f;
}

/* HO rows of WO floats from a padded plane (row pitch Wp, stride 1) into d, or (add) back. Inlined
 * with WO a constant for the common widths; a width that is a multiple of 4 moves 4 floats at a
 * time (GCC/clang vector extension; unaligned through memcpy), which GCC does not do by itself
 * for these short rows. */
#if defined(__GNUC__)
typedef float nn_v4 __attribute__((vector_size(16)));
#define NN_V4 1
#else
#define NN_V4 0
#endif
static inline void rows_out(float *restrict d, const float *restrict s, size_t HO, size_t WO, size_t Wp) {
#if NN_V4
    if (WO % 4 == 0) {
        for (size_t i = 0; i < HO; i++)
            for (size_t j = 0; j < WO; j += 4) {
                nn_v4 v;
                memcpy(&v, s + i * Wp + j, sizeof v);
                memcpy(d + i * WO + j, &v, sizeof v);
            }
        return;
    }
#endif
    for (size_t i = 0; i < HO; i++)
        for (size_t j = 0; j < WO; j++) d[i * WO + j] = s[i * Wp + j];
}
static inline void rows_add(float *restrict d, const float *restrict s, size_t HO, size_t WO, size_t Wp) {
#if NN_V4
    if (WO % 4 == 0) {
        for (size_t i = 0; i < HO; i++)
            for (size_t j = 0; j < WO; j += 4) {
                nn_v4 a, b;
                memcpy(&a, d + i * Wp + j, sizeof a);
                memcpy(&b, s + i * WO + j, sizeof b);
                a += b;
                memcpy(d + i * Wp + j, &a, sizeof a);
            }
        return;
    }
#endif
    for (size_t i = 0; i < HO; i++)
        for (size_t j = 0; j < WO; j++) d[i * Wp + j] += s[i * WO + j];
}

/* col (C*K*K, nb*HO*WO) from the chunk: row r = (c, p, q), column (n, i, j). Sample by sample
 * and channel by channel: the plane is padded once (pad, per thread), then its K*K shifted
 * windows are written, each a contiguous run of HO*WO floats of its row of col. */
NN_NO_LIBCALLS static void im2col(const conv_job *jb, float *pad) {
    const nn_layer *L = jb->L;
    const size_t C = L->in.c, H = L->in.h, W = L->in.w, K = L->k, S = L->stride, P = L->pad;
    const size_t HO = L->out.h, WO = L->out.w, HW = HO * WO, ncol = jb->nb * HW, Wp = W + 2 * P;
    for (size_t n = 0; n < jb->nb; n++)
        for (size_t c = 0; c < C; c++) {
            pad_plane(jb->x + (n * C + c) * H * W, pad, H, W, P);
            for (size_t p = 0; p < K; p++)
                for (size_t q = 0; q < K; q++) {
                    float *restrict d = jb->col + ((c * K + p) * K + q) * ncol + n * HW;
                    const float *restrict sp = pad + p * Wp + q;
                    if (S == 1 && WO == 8) rows_out(d, sp, HO, 8, Wp);
                    else if (S == 1 && WO == 16) rows_out(d, sp, HO, 16, Wp);
                    else if (S == 1) rows_out(d, sp, HO, WO, Wp);
                    else
                        for (size_t i = 0; i < HO; i++)
                            for (size_t j = 0; j < WO; j++) d[i * WO + j] = sp[i * S * Wp + j * S];
                }
        }
}

/* Add the patches of col back into dx, plane by plane: into the zeroed padded plane, whose
 * interior is then dx's plane. */
NN_NO_LIBCALLS static void col2im(const conv_job *jb, float *pad) {
    const nn_layer *L = jb->L;
    const size_t C = L->in.c, H = L->in.h, W = L->in.w, K = L->k, S = L->stride, P = L->pad;
    const size_t HO = L->out.h, WO = L->out.w, HW = HO * WO, ncol = jb->nb * HW, Wp = W + 2 * P;
    for (size_t n = 0; n < jb->nb; n++)
        for (size_t c = 0; c < C; c++) {
            for (size_t e = 0; e < (H + 2 * P) * Wp; e++) pad[e] = 0.0f;
            /* q outer: the adds of one q to a padded row are whole-row aligned alike, so a row is
             * not reloaded at a one-float shift just after it was stored (a store-forwarding stall) */
            for (size_t q = 0; q < K; q++)
                for (size_t p = 0; p < K; p++) {
                    const float *restrict s = jb->col + ((c * K + p) * K + q) * ncol + n * HW;
                    float *restrict dp = pad + p * Wp + q;
                    if (S == 1 && WO == 8) rows_add(dp, s, HO, 8, Wp);
                    else if (S == 1 && WO == 16) rows_add(dp, s, HO, 16, Wp);
                    else if (S == 1) rows_add(dp, s, HO, WO, Wp);
                    else
                        for (size_t i = 0; i < HO; i++)
                            for (size_t j = 0; j < WO; j++) dp[i * S * Wp + j * S] += s[i * WO + j];
                }
            float *restrict dst = jb->dx + (n * C + c) * H * W;
            for (size_t i = 0; i < H; i++)
                for (size_t j = 0; j < W; j++) dst[i * W + j] = pad[(P + i) * Wp + P + j];
        }
}

/* One output plane from the product: + bias [then * scale + shift [then ReLU]]. */
static void scatter_bias(const float *restrict s, float *restrict d, size_t n, float bo) {
    for (size_t k = 0; k < n; k++) d[k] = s[k] + bo;
}
static void scatter_bn(const float *restrict s, float *restrict d, size_t n, float bo, float sg,
                       float sh) {
    for (size_t k = 0; k < n; k++) d[k] = (s[k] + bo) * sg + sh;
}
static void scatter_bn_relu(const float *restrict s, float *restrict d, size_t n, float bo,
                            float sg, float sh) {
    for (size_t k = 0; k < n; k++) {
        const float t = (s[k] + bo) * sg + sh;
        d[k] = t > 0.0f ? t : 0.0f;
    }
}

/* The forward product of every chunk, scattered to NCHW with the bias and, when scale is given
 * (evaluation only), a following batch norm's affine scale/shift (O) and optionally a ReLU. */
static void conv_forward(const tl_nn *nn, const nn_layer *L, const float *scale, const float *shift,
                         bool relu, const float *x, float *y, size_t B, const nn_scratch *sc) {
    const size_t C = L->in.c, K = L->k, O = L->units, HW = L->out.h * L->out.w;
    const size_t CKK = C * K * K, in_sz = nn_shape_size(L->in), out_sz = nn_shape_size(L->out);
    const float *Wt = nn->t[L->w].data, *b = nn->t[L->b].data;
    for (size_t n0 = 0; n0 < B; n0 += nn->conv_chunk) {
        const size_t nb = B - n0 < nn->conv_chunk ? B - n0 : nn->conv_chunk, ncol = nb * HW;
        conv_job jb = {L, x + n0 * in_sz, NULL, sc->col, nb};
        im2col(&jb, sc->pad);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)O, (int)ncol, (int)CKK, 1.0f,
                    Wt, (int)CKK, sc->col, (int)ncol, 0.0f, sc->tmp, (int)ncol);
        for (size_t n = 0; n < nb; n++) {
            float *yn = y + (n0 + n) * out_sz;
            for (size_t o = 0; o < O; o++) {
                const float *s = sc->tmp + o * ncol + n * HW;
                float *d = yn + o * HW;
                if (!scale) scatter_bias(s, d, HW, b[o]);
                else if (relu) scatter_bn_relu(s, d, HW, b[o], scale[o], shift[o]);
                else scatter_bn(s, d, HW, b[o], scale[o], shift[o]);
            }
        }
    }
}

void nn_conv_forward(const tl_nn *nn, const nn_layer *L, const float *x /* (B, C, H, W) */,
                     float *y /* (B, O, HO, WO) */, size_t B, const nn_scratch *sc) {
    conv_forward(nn, L, NULL, NULL, false, x, y, B, sc);
}

void nn_conv_bn_forward(const tl_nn *nn, const nn_layer *L, const float *scale, const float *shift,
                        bool relu, const float *x, float *y, size_t B, const nn_scratch *sc) {
    conv_forward(nn, L, scale, shift, relu, x, y, B, sc);
}

void nn_conv_backward(const tl_nn *nn, const nn_layer *L, const float *x /* (B, C, H, W) */,
                      const float *dy /* (B, O, HO, WO) */, float *dx /* (B, C, H, W) or NULL */,
                      size_t B, const nn_scratch *sc, float *dW /* (O, C, K, K) or NULL */,
                      float *db /* (O) */) {
    const size_t C = L->in.c, K = L->k, O = L->units, HW = L->out.h * L->out.w;
    const size_t CKK = C * K * K, in_sz = nn_shape_size(L->in), out_sz = nn_shape_size(L->out);
    const nn_tensor *Wt = &nn->t[L->w];
    for (size_t n0 = 0; n0 < B; n0 += nn->conv_chunk) {
        const size_t nb = B - n0 < nn->conv_chunk ? B - n0 : nn->conv_chunk, ncol = nb * HW;
        /* gather dy to (O, nb*HW) */
        for (size_t n = 0; n < nb; n++) {
            const float *dyn = dy + (n0 + n) * out_sz;
            for (size_t o = 0; o < O; o++)
                memcpy(sc->tmp + o * ncol + n * HW, dyn + o * HW, HW * sizeof(float));
        }
        conv_job jb = {L, x + n0 * in_sz, dx ? dx + n0 * in_sz : NULL, sc->col, nb};
        if (dW) {
            for (size_t o = 0; o < O; o++) {
                const float *s = sc->tmp + o * ncol;
                float acc = 0.0f;
                for (size_t k = 0; k < ncol; k++) acc += s[k];
                db[o] += acc;
            }
            im2col(&jb, sc->pad);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)O, (int)CKK, (int)ncol, 1.0f,
                        sc->tmp, (int)ncol, sc->col, (int)ncol, 1.0f, dW, (int)CKK);
        }
        if (dx) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CKK, (int)ncol, (int)O, 1.0f,
                        Wt->data, (int)CKK, sc->tmp, (int)ncol, 0.0f, sc->col, (int)ncol);
            col2im(&jb, sc->pad);
        }
    }
}

void nn_conv_forward_naive(const tl_nn *nn, const nn_layer *L, const float *x, float *y, size_t B) {
    const size_t C = L->in.c, H = L->in.h, W = L->in.w, K = L->k, S = L->stride, P = L->pad;
    const size_t O = L->units, HO = L->out.h, WO = L->out.w;
    const float *Wt = nn->t[L->w].data, *b = nn->t[L->b].data;
    for (size_t n = 0; n < B; n++)
        for (size_t o = 0; o < O; o++)
            for (size_t i = 0; i < HO; i++)
                for (size_t j = 0; j < WO; j++) {
                    double acc = b[o];
                    for (size_t c = 0; c < C; c++)
                        for (size_t p = 0; p < K; p++)
                            for (size_t q = 0; q < K; q++) {
                                long ih = (long)(i * S + p) - (long)P, iw = (long)(j * S + q) - (long)P;
                                if (ih < 0 || iw < 0 || ih >= (long)H || iw >= (long)W) continue;
                                acc += (double)Wt[((o * C + c) * K + p) * K + q] *
                                       x[((n * C + c) * H + (size_t)ih) * W + (size_t)iw];
                            }
                    y[((n * O + o) * HO + i) * WO + j] = (float)acc;
                }
}
