//! The dense layers' inner product with explicit SIMD (AVX-512 or AVX2, with FMA), chosen at run time by
//! [`super::weights::Dense::forward`]: for each tile of 8 or 4 rows × 32 (AVX-512) or 4 rows × 16 (AVX2) outputs,
//! the accumulator registers stay put while the whole input dimension streams through. Weights are input-major
//! (`wt[i * n_out + o]`), so each step loads contiguous outputs and broadcasts one input per row.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Rows per tile.
const ROWS: usize = 4;

/// `y = x · wt + b` for `x` of `rows × n_in`, `n_out` a multiple of 32.
///
/// # Safety
/// The CPU must support AVX-512F and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
pub unsafe fn affine_avx512(x: &[f32], n_in: usize, wt: &[f32], b: &[f32], y: &mut [f32]) {
    let n_out = b.len();
    let rows = x.len() / n_in;
    assert!(n_out.is_multiple_of(32) && wt.len() == n_in * n_out && y.len() == rows * n_out);
    // Eight rows at a time (sixteen accumulators), then four, then one by one.
    let mut r = 0;
    while r + 8 <= rows {
        tile512::<8>(x, n_in, wt, b, y, r);
        r += 8;
    }
    if r + ROWS <= rows {
        tile512::<ROWS>(x, n_in, wt, b, y, r);
        r += ROWS;
    }
    for r in r..rows {
        tile512::<1>(x, n_in, wt, b, y, r);
    }
}

/// Rows `r..r + R` of [`affine_avx512`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn tile512<const R: usize>(x: &[f32], n_in: usize, wt: &[f32], b: &[f32], y: &mut [f32], r: usize) {
    let n_out = b.len();
    for c0 in (0..n_out).step_by(32) {
        // SAFETY (every pointer access below): the caller checked the shapes; r + R ≤ rows, c0 + 32 ≤ n_out and
        // i < n_in keep each offset inside x (rows × n_in), wt (n_in × n_out), b (n_out) and y (rows × n_out).
        let bias = [
            _mm512_loadu_ps(b.as_ptr().add(c0)),
            _mm512_loadu_ps(b.as_ptr().add(c0 + 16)),
        ];
        let mut acc = [bias; R];
        // Pointers bumped along the input dimension: no index arithmetic in the loop, and no checked pointer
        // arithmetic or dereference (the dev profile keeps debug assertions, which would check every step).
        let mut xs: [*const f32; R] = [x.as_ptr().add(r * n_in); R];
        for (k, p) in xs.iter_mut().enumerate() {
            *p = p.add(k * n_in);
        }
        let mut w = wt.as_ptr().add(c0);
        for _ in 0..n_in {
            let w0 = _mm512_loadu_ps(w);
            let w1 = _mm512_loadu_ps(w.wrapping_add(16));
            for (acc, p) in acc.iter_mut().zip(xs.iter_mut()) {
                let xi = _mm512_broadcastss_ps(_mm_load_ss(*p));
                *p = p.wrapping_add(1);
                acc[0] = _mm512_fmadd_ps(xi, w0, acc[0]);
                acc[1] = _mm512_fmadd_ps(xi, w1, acc[1]);
            }
            w = w.wrapping_add(n_out);
        }
        for (k, acc) in acc.iter().enumerate() {
            let out = y.as_mut_ptr().add((r + k) * n_out + c0);
            _mm512_storeu_ps(out, acc[0]);
            _mm512_storeu_ps(out.add(16), acc[1]);
        }
    }
}

/// As [`affine_avx512`] with 8-lane registers; `n_out` a multiple of 16.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn affine_avx2(x: &[f32], n_in: usize, wt: &[f32], b: &[f32], y: &mut [f32]) {
    let n_out = b.len();
    let rows = x.len() / n_in;
    assert!(n_out.is_multiple_of(16) && wt.len() == n_in * n_out && y.len() == rows * n_out);
    let full = rows / ROWS * ROWS;
    for r in (0..full).step_by(ROWS) {
        tile256::<ROWS>(x, n_in, wt, b, y, r);
    }
    for r in full..rows {
        tile256::<1>(x, n_in, wt, b, y, r);
    }
}

/// Rows `r..r + R` of [`affine_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile256<const R: usize>(x: &[f32], n_in: usize, wt: &[f32], b: &[f32], y: &mut [f32], r: usize) {
    let n_out = b.len();
    for c0 in (0..n_out).step_by(16) {
        // SAFETY: as in tile512, with 16-wide tiles.
        let bias = [
            _mm256_loadu_ps(b.as_ptr().add(c0)),
            _mm256_loadu_ps(b.as_ptr().add(c0 + 8)),
        ];
        let mut acc = [bias; R];
        // Pointers bumped along the input dimension: no index arithmetic in the loop, and no checked pointer
        // arithmetic or dereference (the dev profile keeps debug assertions, which would check every step).
        let mut xs: [*const f32; R] = [x.as_ptr().add(r * n_in); R];
        for (k, p) in xs.iter_mut().enumerate() {
            *p = p.add(k * n_in);
        }
        let mut w = wt.as_ptr().add(c0);
        for _ in 0..n_in {
            let w0 = _mm256_loadu_ps(w);
            let w1 = _mm256_loadu_ps(w.wrapping_add(8));
            for (acc, p) in acc.iter_mut().zip(xs.iter_mut()) {
                let xi = _mm256_broadcastss_ps(_mm_load_ss(*p));
                *p = p.wrapping_add(1);
                acc[0] = _mm256_fmadd_ps(xi, w0, acc[0]);
                acc[1] = _mm256_fmadd_ps(xi, w1, acc[1]);
            }
            w = w.wrapping_add(n_out);
        }
        for (k, acc) in acc.iter().enumerate() {
            let out = y.as_mut_ptr().add((r + k) * n_out + c0);
            _mm256_storeu_ps(out, acc[0]);
            _mm256_storeu_ps(out.add(8), acc[1]);
        }
    }
}
