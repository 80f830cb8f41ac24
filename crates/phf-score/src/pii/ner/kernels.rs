//! The dense layers' inner product with explicit SIMD (AVX-512 or AVX2, with FMA), chosen at run time by
//! [`super::weights::Dense::forward`]. For each tile of rows × 32 (AVX-512) or 16 (AVX2) outputs the accumulator
//! registers stay put while the whole input dimension streams through. Weights are input-major
//! (`wt[i * n_out + o]`; for AVX-512 in panels of 32 outputs, read front to back), so each step loads contiguous
//! outputs and broadcasts one input per row. The AVX-512 path, which the NER's time is spent in, pads short tiles
//! with a row of zeros and gives single rows a kernel of their own.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::ops::Range;

use super::weights::Rows;

/// Rows per tile of the AVX2 path.
const ROWS: usize = 4;

/// Sixteen floats from `p`, unaligned. Through a masked load with every lane on, which compiles to the same
/// `vmovups`: `_mm512_loadu_ps` is a `read_unaligned`, and under the dev profile's debug assertions that copies
/// through the stack after checking its pointers, every time, which halved the kernel's speed.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) unsafe fn load16(p: *const f32) -> __m512 {
    _mm512_maskz_loadu_ps(0xffff, p)
}

/// `y = x · w + b` for the rows of `x`, `n_out` a multiple of 32, with the weights in panels of 32 outputs
/// (`panels[(c / 32) · n_in · 32 + i · 32 + c % 32]`, see `Dense`), each read front to back.
///
/// Rows go in tiles of eight (four for the last few); a tile's missing rows read a row of zeros and are not
/// stored. Each step broadcasts one input of each of the tile's rows, read where the rows lie (overlapping
/// windows included). A single row (the parser's output layer, once per move) takes [`row512`] instead.
///
/// # Safety
/// The CPU must support AVX-512F and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
pub unsafe fn affine_avx512(x: Rows<'_>, panels: &[f32], b: &[f32], y: &mut [f32]) {
    let (n_in, n_out, rows) = (x.width, b.len(), x.count);
    assert!(n_out.is_multiple_of(32) && panels.len() == n_in * n_out && y.len() == rows * n_out);
    if rows == 1 {
        row512(x.row(0), panels, b, y);
        return;
    }
    let zeros = vec![0.0f32; n_in];
    let mut r = 0;
    while r < rows {
        let tile = (rows - r).min(8);
        let ys = &mut y[r * n_out..(r + tile) * n_out];
        if tile > 4 {
            tile512::<8>(tile_rows(x, r..r + tile, &zeros), n_in, panels, b, ys);
        } else {
            tile512::<4>(tile_rows(x, r..r + tile, &zeros), n_in, panels, b, ys);
        }
        r += tile;
    }
}

/// Where each of a tile's `MR` rows starts: rows `tile` of `x`, then `zeros` (`x.width` long) for the rest.
#[inline]
fn tile_rows<const MR: usize>(x: Rows<'_>, tile: Range<usize>, zeros: &[f32]) -> [*const f32; MR] {
    let mut rows = [zeros.as_ptr(); MR];
    for (p, r) in rows.iter_mut().zip(tile) {
        *p = x.row(r).as_ptr();
    }
    rows
}

/// One tile: `MR` rows (each `n_in` floats from its pointer) against every output, 32 outputs (two registers per
/// row) at a time; only the rows `y` holds are stored.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn tile512<const MR: usize>(rows: [*const f32; MR], n_in: usize, panels: &[f32], b: &[f32], y: &mut [f32]) {
    let n_out = b.len();
    let stored = y.len() / n_out;
    for c0 in (0..n_out).step_by(32) {
        // SAFETY (every pointer access below): the caller checked the shapes; c0 + 32 ≤ n_out, and step i < n_in
        // reads input i of each row (each n_in long) and 32 weights at c0 * n_in + i * 32 of the panels;
        // stored ≤ MR.
        let bias = [load16(b.as_ptr().add(c0)), load16(b.as_ptr().add(c0 + 16))];
        let mut acc = [bias; MR];
        // Pointers bumped along the input dimension with wrapping arithmetic, and read through intrinsics rather
        // than `*`: the dev profile keeps debug assertions, which would check every `add` and dereference.
        let mut xs = rows;
        let mut w = panels.as_ptr().add(c0 * n_in);
        for _ in 0..n_in {
            let w0 = load16(w);
            let w1 = load16(w.wrapping_add(16));
            for (acc, p) in acc.iter_mut().zip(xs.iter_mut()) {
                let xi = _mm512_broadcastss_ps(_mm_load_ss(*p));
                *p = p.wrapping_add(1);
                acc[0] = _mm512_fmadd_ps(xi, w0, acc[0]);
                acc[1] = _mm512_fmadd_ps(xi, w1, acc[1]);
            }
            w = w.wrapping_add(32);
        }
        for (k, acc) in acc.iter().take(stored).enumerate() {
            let out = y.as_mut_ptr().add(k * n_out + c0);
            _mm512_storeu_ps(out, acc[0]);
            _mm512_storeu_ps(out.add(16), acc[1]);
        }
    }
}

/// One row: 32 outputs at a time with the inputs dealt round-robin to four pairs of accumulators, so that eight
/// independent chains of multiply-adds keep both FMA units busy despite their latency; the four partial sums are
/// added at the end.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn row512(x: &[f32], panels: &[f32], b: &[f32], y: &mut [f32]) {
    let n_out = b.len();
    let n_in = x.len();
    let quads = n_in / 4 * 4;
    for c0 in (0..n_out).step_by(32) {
        // SAFETY: as in tile512, with one row: i < n_in reads x[i] and the 32 weights at c0 * n_in + i * 32.
        let zero = _mm512_setzero_ps();
        let mut acc = [[zero; 2]; 4];
        acc[0] = [load16(b.as_ptr().add(c0)), load16(b.as_ptr().add(c0 + 16))];
        let mut w = panels.as_ptr().add(c0 * n_in);
        let mut p = x.as_ptr();
        for _ in (0..quads).step_by(4) {
            for (j, acc) in acc.iter_mut().enumerate() {
                let xi = _mm512_broadcastss_ps(_mm_load_ss(p.wrapping_add(j)));
                let row = w.wrapping_add(j * 32);
                acc[0] = _mm512_fmadd_ps(xi, load16(row), acc[0]);
                acc[1] = _mm512_fmadd_ps(xi, load16(row.wrapping_add(16)), acc[1]);
            }
            p = p.wrapping_add(4);
            w = w.wrapping_add(4 * 32);
        }
        for _ in quads..n_in {
            let xi = _mm512_broadcastss_ps(_mm_load_ss(p));
            acc[0][0] = _mm512_fmadd_ps(xi, load16(w), acc[0][0]);
            acc[0][1] = _mm512_fmadd_ps(xi, load16(w.wrapping_add(16)), acc[0][1]);
            p = p.wrapping_add(1);
            w = w.wrapping_add(32);
        }
        let out = y.as_mut_ptr().add(c0);
        let [a, b, c, d] = acc;
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(a[0], b[0]), _mm512_add_ps(c[0], d[0])));
        _mm512_storeu_ps(
            out.add(16),
            _mm512_add_ps(_mm512_add_ps(a[1], b[1]), _mm512_add_ps(c[1], d[1])),
        );
    }
}

/// As [`affine_avx512`] with 8-lane registers, on the input-major weights (`wt`, not the panels); `n_out` a
/// multiple of 16.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn affine_avx2(x: Rows<'_>, wt: &[f32], b: &[f32], y: &mut [f32]) {
    let (n_out, rows) = (b.len(), x.count);
    assert!(n_out.is_multiple_of(16) && wt.len() == x.width * n_out && y.len() == rows * n_out);
    let full = rows / ROWS * ROWS;
    for r in (0..full).step_by(ROWS) {
        tile256::<ROWS>(x, wt, b, y, r);
    }
    for r in full..rows {
        tile256::<1>(x, wt, b, y, r);
    }
}

/// Rows `r..r + R` of [`affine_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile256<const R: usize>(x: Rows<'_>, wt: &[f32], b: &[f32], y: &mut [f32], r: usize) {
    let (n_in, n_out) = (x.width, b.len());
    for c0 in (0..n_out).step_by(16) {
        // SAFETY: as in tile512, with 16-wide tiles; rows r..r + R of x lie inside x.data (`Rows::new` checked).
        let bias = [
            _mm256_loadu_ps(b.as_ptr().add(c0)),
            _mm256_loadu_ps(b.as_ptr().add(c0 + 8)),
        ];
        let mut acc = [bias; R];
        // Pointers bumped along the input dimension: no index arithmetic in the loop, and no checked pointer
        // arithmetic or dereference (the dev profile keeps debug assertions, which would check every step).
        let mut xs: [*const f32; R] = [x.data.as_ptr().add(r * x.stride); R];
        for (k, p) in xs.iter_mut().enumerate() {
            *p = p.add(k * x.stride);
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
