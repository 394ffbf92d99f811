/* uLSIF leave-one-out, the full-product step fused for AVX-512 (ulsif.c: loo_score).
 *
 * Where the clipping binds for most held-out pairs, every row needs its ratio vector
 * G_j = f V R_j (b entries) in full, then a_j = phi_s(j) . max(0, G_j) and c_j = phi_t(j) .
 * max(0, G_j). The portable path is an SGEMM into an n x b buffer and a second pass over it.
 * Here the product is tiled as 3 rows x up to 7 vectors of 16 columns held in registers (21
 * accumulators), accumulated over the b inner terms with broadcast FMAs, and each finished tile
 * is clipped, widened to double and dotted with the two design rows while still in registers:
 * no G is written or read back. AVX-512 has twice the lanes of the AVX2 SGEMM kernel OpenBLAS
 * runs on this machine class. The design rows are read in single precision (zero-padded, so no
 * masks): the step is bound by the bytes it streams per lambda, and halving them took the
 * Fashion-MNIST selection from 30.5 to 28 ms.
 *
 * Precision as the SGEMM path: the products in single precision (the design rows rounded to it
 * too, 6e-8 relative), the clipping and the two dot products accumulated in double
 * (tests/test_instance.c checks every leave-one-out score against uLSIF.m, on every path). */
#include <string.h>

#include "instance/instance_internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#define CLIP_ROWS 3
#define CLIP_MAXV 7 /* 3 x 7 = 21 accumulators + 3 broadcasts + 1 load: 25 of 32 registers */

/* One tile: rows r[0..2] of R (b floats each) against columns [c0, c0 + 16 nv) of VT (ld bp);
 * de[i] += ps_i . max(0, f G_i), nu[i] += pt_i . max(0, f G_i) over the columns below b. */
__attribute__((target("avx512f"), always_inline)) static inline void
clip_tile(int nv, size_t b, size_t c0, const float *const r[CLIP_ROWS], const float *VT,
          size_t bp, float f, const float *const ps[CLIP_ROWS], const float *const pt[CLIP_ROWS],
          double de[CLIP_ROWS], double nu[CLIP_ROWS]) {
    __m512 acc[CLIP_ROWS][CLIP_MAXV];
#pragma GCC unroll 3
    for (int i = 0; i < CLIP_ROWS; i++)
#pragma GCC unroll 7
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    for (size_t k = 0; k < b; k++) {
        const float *vt = VT + k * bp + c0;
        const __m512 r0 = _mm512_set1_ps(r[0][k]), r1 = _mm512_set1_ps(r[1][k]),
                     r2 = _mm512_set1_ps(r[2][k]);
#pragma GCC unroll 7
        for (int v = 0; v < nv; v++) {
            __m512 x = _mm512_loadu_ps(vt + 16 * v);
            __asm__("" : "+v"(x)); /* one load for the three FMAs, not three folded loads */
            acc[0][v] = _mm512_fmadd_ps(r0, x, acc[0][v]);
            acc[1][v] = _mm512_fmadd_ps(r1, x, acc[1][v]);
            acc[2][v] = _mm512_fmadd_ps(r2, x, acc[2][v]);
        }
    }
    const __m512 fv = _mm512_set1_ps(f), zero = _mm512_setzero_ps();
#pragma GCC unroll 3
    for (int i = 0; i < CLIP_ROWS; i++) {
        __m512d vd = _mm512_setzero_pd(), vn = _mm512_setzero_pd();
#pragma GCC unroll 7
        for (int v = 0; v < nv; v++) {
            const __m512 g = _mm512_max_ps(_mm512_mul_ps(acc[i][v], fv), zero);
            const __m512d glo = _mm512_cvtps_pd(_mm512_castps512_ps256(g));
            const __m512d ghi =
                _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1)));
            /* the design rows in single, zero-padded past b like VT */
            size_t c = c0 + 16 * (size_t)v;
            const __m512 sv = _mm512_loadu_ps(ps[i] + c), tv = _mm512_loadu_ps(pt[i] + c);
            const __m512d slo = _mm512_cvtps_pd(_mm512_castps512_ps256(sv)),
                          shi = _mm512_cvtps_pd(_mm256_castpd_ps(
                              _mm512_extractf64x4_pd(_mm512_castps_pd(sv), 1))),
                          tlo = _mm512_cvtps_pd(_mm512_castps512_ps256(tv)),
                          thi = _mm512_cvtps_pd(_mm256_castpd_ps(
                              _mm512_extractf64x4_pd(_mm512_castps_pd(tv), 1)));
            vd = _mm512_fmadd_pd(slo, glo, vd);
            vd = _mm512_fmadd_pd(shi, ghi, vd);
            vn = _mm512_fmadd_pd(tlo, glo, vn);
            vn = _mm512_fmadd_pd(thi, ghi, vn);
        }
        de[i] += _mm512_reduce_add_pd(vd);
        nu[i] += _mm512_reduce_add_pd(vn);
    }
}

/* Every row (3 at a time) against the column vectors [c0, c0 + 16 nv). */
__attribute__((target("avx512f"))) static void
clip_rows(int nv, size_t n, size_t b, size_t c0, const float *R, const float *VT, size_t bp,
          float f, const float *Ks, size_t lds, const float *Kt, size_t ldt, double *wde,
          double *wnu) {
    for (size_t j = 0; j < n; j += CLIP_ROWS) {
        const float *r[CLIP_ROWS];
        const float *ps[CLIP_ROWS], *pt[CLIP_ROWS];
        double de[CLIP_ROWS] = {0}, nu[CLIP_ROWS] = {0};
        for (int i = 0; i < CLIP_ROWS; i++) {
            size_t jj = j + (size_t)i < n ? j + (size_t)i : j; /* past n: row j again, dropped */
            r[i] = R + jj * b;
            ps[i] = Ks + jj * lds;
            pt[i] = Kt + jj * ldt;
        }
        switch (nv) { /* constant trip counts: the tile's loops unroll into registers */
        case 1: clip_tile(1, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        case 2: clip_tile(2, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        case 3: clip_tile(3, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        case 4: clip_tile(4, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        case 5: clip_tile(5, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        case 6: clip_tile(6, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        default: clip_tile(7, b, c0, r, VT, bp, f, ps, pt, de, nu); break;
        }
        for (int i = 0; i < CLIP_ROWS && j + (size_t)i < n; i++) {
            wde[j + (size_t)i] += de[i];
            wnu[j + (size_t)i] += nu[i];
        }
    }
}

void tli_ulsif_clip_avx512(size_t n, size_t b, const float *R, const float *VT, size_t bp,
                           float f, const float *Ks, size_t lds, const float *Kt, size_t ldt,
                           double *wde, double *wnu, double *sde, double *snu) {
    size_t nvec = bp / 16, nch = (nvec + CLIP_MAXV - 1) / CLIP_MAXV;
    memset(wde, 0, n * sizeof *wde);
    memset(wnu, 0, n * sizeof *wnu);
    for (size_t ch = 0, v0 = 0; ch < nch; ch++) { /* chunks of nearly equal width */
        size_t v1 = nvec * (ch + 1) / nch;
        clip_rows((int)(v1 - v0), n, b, 16 * v0, R, VT, bp, f, Ks, lds, Kt, ldt, wde, wnu);
        v0 = v1;
    }
    double a = 0.0, c = 0.0;
    for (size_t j = 0; j < n; j++) {
        a += wde[j] * wde[j];
        c += wnu[j];
    }
    *sde = a;
    *snu = c;
}

#else

void tli_ulsif_clip_avx512(size_t n, size_t b, const float *R, const float *VT, size_t bp,
                           float f, const float *Ks, size_t lds, const float *Kt, size_t ldt,
                           double *wde, double *wnu, double *sde, double *snu) {
    (void)n, (void)b, (void)R, (void)VT, (void)bp, (void)f, (void)Ks, (void)lds, (void)Kt;
    (void)ldt, (void)wde, (void)wnu, (void)sde, (void)snu;
}

#endif
