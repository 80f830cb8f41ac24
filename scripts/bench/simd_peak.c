/* Multiply-add rates of one core's AVX-512 units in register-only loops (12 independent accumulators, no memory
 * traffic): fp32 FMA, bf16 dot products (vdpbf16ps), 16-bit and 8-bit integer dot products (AVX-512 VNNI). The
 * ceiling the NER's dense kernels are measured against in docs/BENCHMARKS.md ("Scorers vs their Python
 * references").
 *
 *   cc -O2 -march=native scripts/bench/simd_peak.c -o /tmp/simd_peak && /tmp/simd_peak
 *
 * Needs a CPU with AVX-512F, AVX512_BF16 and AVX512_VNNI. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define R12(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
#define STEPS 200000000L
/* The empty asm keeps the compiler from merging or hoisting the steps; the accumulators stay in registers. */
#define TIME(label, macs_per_op, op)                                                   \
  {                                                                                    \
    double t = now();                                                                  \
    for (long n = 0; n < STEPS; n++) {                                                 \
      R12(op) __asm__ volatile("" ::: "memory");                                       \
    }                                                                                  \
    double dt = now() - t;                                                             \
    printf("%-26s %6.1f G multiply-adds/s\n", label, STEPS * 12.0 * macs_per_op / dt / 1e9); \
  }

int main(void) {
#define DF(i) __m512 f##i = _mm512_set1_ps(i * 0.001f);
#define DI(i) __m512i n##i = _mm512_set1_epi32(i);
  R12(DF) R12(DI)
  __m512 x = _mm512_set1_ps(0.5f), y = _mm512_set1_ps(0.25f);
  __m512bh xb = (__m512bh)_mm512_set1_epi16(0x3f00);
  __m512i xi = _mm512_set1_epi8(3), yi = _mm512_set1_epi8(-2);
#define FMA(i) f##i = _mm512_fmadd_ps(x, f##i, y);
#define BF16(i) f##i = _mm512_dpbf16_ps(f##i, xb, xb);
#define I16(i) n##i = _mm512_dpwssd_epi32(n##i, xi, yi);
#define I8(i) n##i = _mm512_dpbusd_epi32(n##i, xi, yi);
  TIME("fp32 (vfmadd231ps)", 16, FMA)
  TIME("bf16 (vdpbf16ps)", 32, BF16)
  TIME("int16 (vpdpwssd)", 32, I16)
  TIME("int8 (vpdpbusd)", 64, I8)
  float s = 0;
  long si = 0;
#define SUM(i) s += _mm512_reduce_add_ps(f##i); si += _mm512_reduce_add_epi32(n##i);
  R12(SUM)
  printf("(checksums %g %ld)\n", s, si);
  return 0;
}
