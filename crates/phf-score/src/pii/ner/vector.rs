//! The encoder's and parser's element-wise loops (sums, maxout, layer norm) in AVX-512 when the CPU has it, chosen
//! at run time. The crate is built for the baseline x86-64 (SSE2), where these loops vectorise only four lanes
//! wide, and a sum's lanes are added one by one; the dense layers have their own kernels (`super::kernels`).

/// `dst += src`, element by element.
pub fn add_assign(dst: &mut [f32], src: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above).
        unsafe { add_assign_avx512(dst, src) };
        return;
    }
    add_assign_portable(dst, src);
}

/// [`add_assign`]'s loop, compiled again below for AVX-512.
#[inline(always)]
fn add_assign_portable(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_assign_avx512(dst: &mut [f32], src: &[f32]) {
    add_assign_portable(dst, src);
}

/// thinc `Maxout`'s maximum over the pieces (`pieces` piece-major: piece p of output o at p·width + o, for the
/// width of `y`, a multiple of sixteen), then `LayerNorm`: zero mean, unit variance (plus 1e-8), gain and shift.
pub fn maxout_layer_norm(pieces: &[f32], gain: &[f32], shift: &[f32], y: &mut [f32]) {
    let width = y.len();
    assert!(width.is_multiple_of(16) && pieces.len().is_multiple_of(width) && pieces.len() >= width);
    assert!(gain.len() == width && shift.len() == width);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX-512F and FMA (checked just above); the lengths were checked above.
        unsafe { maxout_layer_norm_avx512(pieces, gain, shift, y) };
        return;
    }
    maxout_layer_norm_portable(pieces, gain, shift, y);
}

/// [`maxout_layer_norm`] for any CPU; the sums run in sixteen lanes, so that they vectorise.
fn maxout_layer_norm_portable(pieces: &[f32], gain: &[f32], shift: &[f32], y: &mut [f32]) {
    let width = y.len();
    y.copy_from_slice(&pieces[..width]);
    for piece in pieces[width..].chunks_exact(width) {
        for (o, &v) in y.iter_mut().zip(piece) {
            *o = o.max(v);
        }
    }
    let n = width as f32;
    let mean = lane_sum(y, |v| v) / n;
    let var = lane_sum(y, |v| (v - mean) * (v - mean)) / n + 1e-8;
    let scale = 1.0 / var.sqrt();
    for ((v, g), s) in y.iter_mut().zip(gain).zip(shift) {
        *v = (*v - mean) * scale * g + s;
    }
}

/// [`maxout_layer_norm`] in AVX-512 registers, sixteen outputs at a time; the sums end in a tree over the lanes.
/// (`_mm512_max_ps` differs from `f32::max` only on NaN, which finite weights and inputs never produce.)
///
/// # Safety
/// The CPU must support AVX-512F and FMA; the lengths are [`maxout_layer_norm`]'s.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn maxout_layer_norm_avx512(pieces: &[f32], gain: &[f32], shift: &[f32], y: &mut [f32]) {
    use std::arch::x86_64::*;

    use super::kernels::load16;
    let width = y.len();
    let n_pieces = pieces.len() / width;
    let (p, yp) = (pieces.as_ptr(), y.as_mut_ptr());
    // SAFETY (every pointer access): c + 16 ≤ width, k < n_pieces, so each read lies inside `pieces`, `gain` and
    // `shift` and each write inside `y`.
    let mut sum = _mm512_setzero_ps();
    for c in (0..width).step_by(16) {
        let mut m = load16(p.add(c));
        for k in 1..n_pieces {
            m = _mm512_max_ps(m, load16(p.add(k * width + c)));
        }
        _mm512_storeu_ps(yp.add(c), m);
        sum = _mm512_add_ps(sum, m);
    }
    let n = width as f32;
    let mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / n);
    let mut squares = _mm512_setzero_ps();
    for c in (0..width).step_by(16) {
        let d = _mm512_sub_ps(load16(yp.add(c)), mean);
        squares = _mm512_fmadd_ps(d, d, squares);
    }
    let var = _mm512_reduce_add_ps(squares) / n + 1e-8;
    let scale = _mm512_set1_ps(1.0 / var.sqrt());
    for c in (0..width).step_by(16) {
        let normed = _mm512_mul_ps(_mm512_sub_ps(load16(yp.add(c)), mean), scale);
        let out = _mm512_fmadd_ps(normed, load16(gain.as_ptr().add(c)), load16(shift.as_ptr().add(c)));
        _mm512_storeu_ps(yp.add(c), out);
    }
}

/// The sum of `f` over `y` (a multiple of sixteen long), added up in sixteen lanes.
#[inline]
fn lane_sum(y: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 16];
    for chunk in y.chunks_exact(16) {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l += f(v);
        }
    }
    lanes.iter().sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxout_layer_norm_matches_its_definition() {
        let width = 32;
        let pieces: Vec<f32> = (0..3 * width).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
        let gain: Vec<f32> = (0..width).map(|i| 1.0 + i as f32 / 10.0).collect();
        let shift: Vec<f32> = (0..width).map(|i| i as f32 / 100.0).collect();
        let mut y = vec![0.0; width];
        let mut portable = vec![0.0; width];
        maxout_layer_norm(&pieces, &gain, &shift, &mut y);
        maxout_layer_norm_portable(&pieces, &gain, &shift, &mut portable);
        let max: Vec<f64> = (0..width)
            .map(|o| {
                (0..3)
                    .map(|p| f64::from(pieces[p * width + o]))
                    .fold(f64::MIN, f64::max)
            })
            .collect();
        let mean = max.iter().sum::<f64>() / width as f64;
        let var = max.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / width as f64 + 1e-8;
        for o in 0..width {
            let want = (max[o] - mean) / var.sqrt() * f64::from(gain[o]) + f64::from(shift[o]);
            assert!((f64::from(y[o]) - want).abs() < 1e-5, "output {o}: {} vs {want}", y[o]);
            assert!(
                (f64::from(portable[o]) - want).abs() < 1e-5,
                "portable output {o}: {} vs {want}",
                portable[o]
            );
        }
        let mut sum = vec![1.0; 35];
        let src: Vec<f32> = (0..35).map(|i| i as f32).collect();
        add_assign(&mut sum, &src);
        assert!(sum.iter().enumerate().all(|(i, &v)| v == i as f32 + 1.0), "{sum:?}");
        add_assign_portable(&mut sum, &src);
        assert!(
            sum.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f32 + 1.0),
            "{sum:?}"
        );
    }
}
