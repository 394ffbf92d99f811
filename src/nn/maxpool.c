/* Max pooling, as PyTorch's nn.MaxPool2d(K, S) (no padding, floor mode): each output is the
 * largest of its K x K window; the first maximum in row-major window order wins ties, as in
 * PyTorch. Forward records the flat in-plane index of each maximum (int32, in the workspace), so
 * backward is a scatter of dy to those positions: x (B, C, H, W), y (B, C, HO, WO).
 * The common 2x2 stride-2 case has its own branch-free loop (selects compile to blends); the
 * general loop is the reference the gradient tests also run. A NaN never wins a comparison here,
 * so a window with a NaN yields the largest number in it (NaN losses are caught downstream). */
#include <string.h>

#include "nn/nn_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

static void pool2x2(const float *restrict src, float *restrict dst, int32_t *restrict idx,
                    size_t W, size_t HO, size_t WO) {
    for (size_t i = 0; i < HO; i++) {
        const float *r0 = src + 2 * i * W, *r1 = r0 + W;
        float *d = dst + i * WO;
        int32_t *ix = idx + i * WO;
        const int32_t base = (int32_t)(2 * i * W);
        for (size_t j = 0; j < WO; j++) {
            const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], e = r1[2 * j + 1];
            const int32_t o = base + (int32_t)(2 * j);
            float m = a;
            int32_t k = o;
            const bool tb = b > m;
            m = tb ? b : m;
            k = tb ? o + 1 : k;
            const bool tc = c > m;
            m = tc ? c : m;
            k = tc ? o + (int32_t)W : k;
            const bool te = e > m;
            m = te ? e : m;
            k = te ? o + (int32_t)W + 1 : k;
            d[j] = m;
            ix[j] = k;
        }
    }
}

/* The same maxima as pool2x2 (a NaN never wins), no indices. */
static void pool2x2_eval(const float *restrict src, float *restrict dst, size_t W, size_t HO,
                         size_t WO) {
    for (size_t i = 0; i < HO; i++) {
        const float *r0 = src + 2 * i * W, *r1 = r0 + W;
        float *d = dst + i * WO;
        for (size_t j = 0; j < WO; j++) {
            float m = r0[2 * j];
            const float b = r0[2 * j + 1], c = r1[2 * j], e = r1[2 * j + 1];
            m = b > m ? b : m;
            m = c > m ? c : m;
            m = e > m ? e : m;
            d[j] = m;
        }
    }
}

void nn_maxpool_forward(const nn_layer *L, const float *x, float *y, size_t B) {
    const size_t C = L->in.c, H = L->in.h, W = L->in.w, K = L->k, S = L->stride;
    const size_t HO = L->out.h, WO = L->out.w;
    for (size_t nc = 0; nc < B * C; nc++) {
        const float *src = x + nc * H * W;
        float *dst = y + nc * HO * WO;
        if (!L->s_idx) { /* evaluation: the maxima only */
            if (K == 2 && S == 2)
                pool2x2_eval(src, dst, W, HO, WO);
            else
                for (size_t i = 0; i < HO; i++)
                    for (size_t j = 0; j < WO; j++) {
                        float m = src[i * S * W + j * S];
                        for (size_t p = 0; p < K; p++)
                            for (size_t q = 0; q < K; q++) {
                                const float v = src[(i * S + p) * W + j * S + q];
                                m = v > m ? v : m;
                            }
                        dst[i * WO + j] = m;
                    }
            continue;
        }
        int32_t *idx = L->s_idx + nc * HO * WO;
        if (K == 2 && S == 2) {
            pool2x2(src, dst, idx, W, HO, WO);
            continue;
        }
        for (size_t i = 0; i < HO; i++)
            for (size_t j = 0; j < WO; j++) {
                size_t best = i * S * W + j * S;
                float m = src[best];
                for (size_t p = 0; p < K; p++)
                    for (size_t q = 0; q < K; q++) {
                        size_t k = (i * S + p) * W + j * S + q;
                        if (src[k] > m) {
                            m = src[k];
                            best = k;
                        }
                    }
                dst[i * WO + j] = m;
                idx[i * WO + j] = (int32_t)best;
            }
    }
}

void nn_maxpool_backward(const nn_layer *L, const float *dy, float *dx, size_t B) {
    const size_t C = L->in.c, HWi = L->in.h * L->in.w, HWo = L->out.h * L->out.w;
    memset(dx, 0, B * C * HWi * sizeof *dx);
    for (size_t nc = 0; nc < B * C; nc++) {
        const float *g = dy + nc * HWo;
        const int32_t *idx = L->s_idx + nc * HWo;
        float *d = dx + nc * HWi;
        for (size_t k = 0; k < HWo; k++) d[idx[k]] += g[k];
    }
}
