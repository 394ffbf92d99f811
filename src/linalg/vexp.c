/* exp over an array, written to vectorise: the RBF kernel's element-wise finish exponentiates one
 * value per kernel entry (10^8 for a 10 000 x 10 000 matrix), and libm's scalar exp then costs as
 * much as the GEMM before it, on one core.
 *
 * Method (as Cephes / SLEEF): x = k ln2 + r with k = round(x / ln2) (the 1.5 * 2^52 rounding trick,
 * no branch) and ln2 split in a high part exact in k * ln2_hi and a low part, |r| <= ln2 / 2;
 * exp(r) by its Taylor polynomial to degree 13 in Horner form (truncation < 2e-17 relative on
 * that interval); the result scaled by 2^k built directly in the exponent bits, in two halves so
 * that k down to -1074 (subnormal results) stays exact. Inputs are clamped to [-745.2, 709.78]:
 * below, the result is 0 (as libm); above, it would overflow and gives +Inf. NaN propagates. Error
 * against libm's correctly rounded exp: at most a few ulp (tests/test_linalg.c checks 4e-16
 * relative over the whole range). The loop has no branches or calls, so GCC vectorises it; the
 * function is compiled for AVX-512, AVX2 and the baseline, chosen at load time (target_clones).
 * tl_vexp_scaled takes exp(scale * x) in the same pass (the RBF kernel's -gamma d^2): one read and
 * one write per entry instead of two of each. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "la_internal.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TL_VEXP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#pragma GCC optimize("O3", "fp-contract=fast", "no-trapping-math")
#else
#define TL_VEXP_CLONES
#endif

static inline double pow2i(int64_t k) { /* 2^k for -1022 <= k <= 1023 */
    uint64_t b = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

void tl_vexp(const double *x, double *y, size_t n) { tl_vexp_scaled(x, 1.0, y, n); }

TL_VEXP_CLONES
void tl_vexp_scaled(const double *x, double scale, double *y, size_t n) {
    const double log2e = 1.4426950408889634074, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10, shifter = 6755399441055744.0; /* 1.5*2^52 */
    for (size_t i = 0; i < n; i++) {
        double v = scale * x[i];
        const int nan = v != v;
        v = v < -745.2 ? -745.2 : v;
        v = v > 709.79 ? 709.79 : v;
        const double t = v * log2e + shifter;
        const double kd = t - shifter;
        int64_t k;
        memcpy(&k, &t, sizeof k);
        k -= (int64_t)0x4338000000000000; /* bits(t) = bits(1.5 * 2^52) + round(v / ln2) */
        const double r = (v - kd * ln2_hi) - kd * ln2_lo;
        double p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        /* 2^k as 2^k1 2^(k - k1), k1 = floor(k / 2): each half within the normal exponent range.
         * k1 by the same rounding trick (kd / 2 - 1/4 rounds to floor(kd / 2)), not k >> 1: AVX2
         * has no 64-bit arithmetic shift, and the shift kept the AVX2 build scalar. */
        const double t1 = (kd * 0.5 - 0.25) + shifter;
        int64_t k1;
        memcpy(&k1, &t1, sizeof k1);
        k1 -= (int64_t)0x4338000000000000;
        const int64_t k2 = k - k1;
        double res = p * pow2i(k1) * pow2i(k2);
        res = v <= -745.2 ? 0.0 : res;
        res = v >= 709.79 ? INFINITY : res;
        y[i] = nan ? v : res;
    }
}
