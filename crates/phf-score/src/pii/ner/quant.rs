//! The encoder's window layers in 16-bit integers, on CPUs with AVX-512 VNNI, whose `vpdpwssd` does 32
//! multiply-adds where an fp32 FMA does 16: this core's peak is 181 G multiply-adds/s in int16 against 86 in fp32
//! (`scripts/bench/simd_peak.c`), and these layers are most of the NER's time.
//!
//! Weights are quantised once, per output, to ±[`QMAX`]; inputs per token (each [`SEG`] values), also to ±`QMAX`,
//! just before the layer. A window of tokens is one segment per token: each segment's products are summed exactly
//! in 32-bit integers, then scaled by the token's scale and added up in fp32, so no sum can overflow
//! (`SEG · QMAX²` < 2³¹). Rounding to 13 bits moves the layer's outputs by up to 5–7e-4 of their root mean
//! square on random data (the tests bound it at 2e-3) and the NER's token vectors by up to 1.2e-3 from spaCy's
//! (5e-5 in fp32); it changed none of spaCy's 7,679 entities on 5,000 email sentences (docs/SCORERS.md).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::buffer::Buffer;
use super::kernels::load16;
use super::weights::Aligned;

/// Values per token, and so per segment of a window.
pub const SEG: usize = 96;
/// Largest quantised magnitude of a weight or an input.
const QMAX: f32 = 4095.0;
const _: () = assert!((SEG as i64) * (QMAX as i64) * (QMAX as i64) < i32::MAX as i64);

/// Whether this CPU runs [`QuantDense`].
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        has!("avx512f") && has!("avx512bw") && has!("avx512vnni") && has!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `y = W x + b` over windows of `n_in / SEG` consecutive tokens, with `W` quantised per output.
#[derive(Debug, Clone)]
pub struct QuantDense {
    pub n_in: usize,
    pub n_out: usize,
    /// Panels of 32 outputs, each `n_in / 2` pairs of inputs long: pair j of panel p is two lines of 32 values,
    /// outputs `p·32..p·32 + 16` then the next 16, each output's two inputs `2j, 2j + 1` side by side, as
    /// `vpdpwssd` multiplies them.
    panels: Aligned<i16, 32>,
    /// Each output's scale: its weights are `panels · w_scale`.
    w_scale: Vec<f32>,
    b: Vec<f32>,
}

impl QuantDense {
    /// From a weight stored output-major (`w[o * n_in + i]`) and its bias; `n_in` a multiple of [`SEG`], `n_out`
    /// of 32.
    pub fn from_output_major(w: &[f32], b: Vec<f32>, n_out: usize, n_in: usize) -> Self {
        assert!(n_in.is_multiple_of(SEG) && n_out.is_multiple_of(32) && w.len() == n_out * n_in);
        let mut q = vec![0i16; w.len()];
        let mut w_scale = vec![0.0; n_out];
        for ((row, q), scale) in w.chunks_exact(n_in).zip(q.chunks_exact_mut(n_in)).zip(&mut w_scale) {
            *scale = quantise(row, q);
        }
        let mut panels = Vec::with_capacity(n_out * n_in);
        for p in 0..n_out / 32 {
            for j in 0..n_in / 2 {
                for o in p * 32..(p + 1) * 32 {
                    panels.extend_from_slice(&q[o * n_in + 2 * j..o * n_in + 2 * j + 2]);
                }
            }
        }
        Self {
            n_in,
            n_out,
            panels: Aligned::new(&panels),
            w_scale,
            b,
        }
    }

    /// `out[r] = W (tokens r, r + 1, …) + b` for `count` windows of `n_in / SEG` tokens, the tokens being rows of
    /// `SEG` values of `tokens`; `out` is `count × n_out`.
    pub fn forward_windows(&self, tokens: &[f32], count: usize, out: &mut [f32]) {
        let segs = self.n_in / SEG;
        assert!(tokens.len() == (count + segs - 1) * SEG && out.len() == count * self.n_out);
        let mut q = Buffer::<i16>::of_len(tokens.len());
        let mut scales = Buffer::new(tokens.len() / SEG);
        for ((x, q), s) in tokens
            .chunks_exact(SEG)
            .zip(q.chunks_exact_mut(SEG))
            .zip(scales.iter_mut())
        {
            *s = quantise(x, q);
        }
        #[cfg(target_arch = "x86_64")]
        if supported() {
            // SAFETY: the CPU has AVX-512F, BW, VNNI and FMA (checked just above); the shapes were checked above.
            unsafe { affine_avx512_vnni(&q, &scales, segs, self.panels.as_slice(), &self.w_scale, &self.b, out) };
            return;
        }
        self.forward_portable(&q, &scales, out);
    }

    /// The kernel's arithmetic in plain Rust (the same integer sums, so the same results but for the order of
    /// the float operations): for other CPUs and to test the kernel against.
    fn forward_portable(&self, q: &[i16], scales: &[f32], out: &mut [f32]) {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let panels = self.panels.as_slice();
        // output o's input i: in panel o / 32, pair i / 2, the pair of the panel's output o % 32
        let weight = |o: usize, i: usize| i32::from(panels[o / 32 * n_in * 32 + i / 2 * 64 + o % 32 * 2 + i % 2]);
        for (r, y) in out.chunks_exact_mut(n_out).enumerate() {
            for (o, y) in y.iter_mut().enumerate() {
                let mut sum = 0.0f32;
                for g in 0..n_in / SEG {
                    let token = r + g;
                    let x = &q[token * SEG..(token + 1) * SEG];
                    let dot: i32 = x
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| i32::from(x) * weight(o, g * SEG + i))
                        .sum();
                    sum += dot as f32 * scales[token];
                }
                *y = sum * self.w_scale[o] + self.b[o];
            }
        }
    }
}

/// `x` rounded (half to even) to integers in ±[`QMAX`] after dividing by its scale (its largest magnitude over
/// `QMAX`), which is returned; all zeros and scale zero for a zero `x`, or one holding a non-finite value (which
/// the fp32 layers would spread to every output).
fn quantise(x: &[f32], q: &mut [i16]) -> f32 {
    assert_eq!(x.len(), q.len());
    #[cfg(target_arch = "x86_64")]
    if x.len().is_multiple_of(16) && supported() {
        // SAFETY: the CPU has AVX-512F (checked just above); the lengths are equal multiples of 16.
        return unsafe { quantise_avx512(x, q) };
    }
    quantise_portable(x, q)
}

fn quantise_portable(x: &[f32], q: &mut [i16]) -> f32 {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        q.fill(0);
        return 0.0;
    }
    let inv = QMAX / max;
    for (q, &v) in q.iter_mut().zip(x) {
        *q = (v * inv).round_ties_even() as i16;
    }
    max / QMAX
}

/// [`quantise`] sixteen values at a time (`vcvtps2dq` rounds half to even, as the portable loop does).
///
/// # Safety
/// The CPU must support AVX-512F; `x` and `q` are as long, a multiple of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn quantise_avx512(x: &[f32], q: &mut [i16]) -> f32 {
    let mut max = _mm512_setzero_ps();
    for i in (0..x.len()).step_by(16) {
        max = _mm512_max_ps(max, _mm512_abs_ps(load16(x.as_ptr().add(i))));
    }
    let max = _mm512_reduce_max_ps(max);
    if max == 0.0 || !max.is_finite() {
        q.fill(0);
        return 0.0;
    }
    let inv = _mm512_set1_ps(QMAX / max);
    for i in (0..x.len()).step_by(16) {
        let v = _mm512_cvtps_epi32(_mm512_mul_ps(load16(x.as_ptr().add(i)), inv));
        _mm256_storeu_si256(q.as_mut_ptr().add(i).cast(), _mm512_cvtepi32_epi16(v));
    }
    max / QMAX
}

/// Windows in tiles of six (three for the last few), each against 32 outputs at a time: per segment, twelve
/// integer accumulators gather 48 `vpdpwssd` steps, then are scaled by their tokens' scales into twelve float
/// ones. Tiles past the last window read a zero token of scale zero and are not stored.
///
/// # Safety
/// The CPU must support AVX-512F, BW, VNNI and FMA; `q` holds `(windows + segs - 1) · SEG` values and `scales`
/// one per token; `panels`, `w_scale` and `b` are a [`QuantDense`]'s.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,fma")]
unsafe fn affine_avx512_vnni(
    q: &[i16],
    scales: &[f32],
    segs: usize,
    panels: &[i16],
    w_scale: &[f32],
    b: &[f32],
    y: &mut [f32],
) {
    let n_out = b.len();
    let n_in = segs * SEG;
    let windows = y.len() / n_out;
    assert!(q.len() == (windows + segs - 1) * SEG && scales.len() * SEG == q.len());
    assert!(panels.len() == n_in * n_out && w_scale.len() == n_out && n_out.is_multiple_of(32));
    let zeros = vec![0i16; n_in];
    let zero_scales = vec![0.0f32; segs];
    let mut r = 0;
    while r < windows {
        let tile = (windows - r).min(6);
        let window = |k: usize| {
            if r + k < windows {
                (q.as_ptr().add((r + k) * SEG), scales.as_ptr().add(r + k))
            } else {
                (zeros.as_ptr(), zero_scales.as_ptr())
            }
        };
        let ys = &mut y[r * n_out..(r + tile) * n_out];
        if tile > 3 {
            tile_vnni::<6>(std::array::from_fn(window), segs, panels, w_scale, b, ys);
        } else {
            tile_vnni::<3>(std::array::from_fn(window), segs, panels, w_scale, b, ys);
        }
        r += tile;
    }
}

/// One tile of `MR` windows, each given by its first token's values and scale (the others follow, `SEG` values
/// and one scale apart); only the windows `y` holds are stored.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,fma")]
#[inline]
unsafe fn tile_vnni<const MR: usize>(
    windows: [(*const i16, *const f32); MR],
    segs: usize,
    panels: &[i16],
    w_scale: &[f32],
    b: &[f32],
    y: &mut [f32],
) {
    let n_out = b.len();
    let stored = y.len() / n_out;
    for c0 in (0..n_out).step_by(32) {
        // SAFETY (every pointer access below): the caller checked the shapes. Window k's segment g is SEG values
        // at windows[k].0 + g · SEG with its scale at windows[k].1 + g, g < segs; panel c0 / 32 is the n_in · 32
        // values from c0 · n_in, read 64 at a time; c0 + 32 ≤ n_out; stored ≤ MR.
        let mut acc_f = [[_mm512_setzero_ps(); 2]; MR];
        let mut w = panels.as_ptr().add(c0 * segs * SEG);
        for g in 0..segs {
            let mut acc = [[_mm512_setzero_si512(); 2]; MR];
            let mut xs = windows.map(|(x, _)| x.wrapping_add(g * SEG));
            for _ in 0..SEG / 2 {
                let w0 = _mm512_maskz_loadu_epi16(u32::MAX, w);
                let w1 = _mm512_maskz_loadu_epi16(u32::MAX, w.wrapping_add(32));
                for (acc, x) in acc.iter_mut().zip(xs.iter_mut()) {
                    // the pair of inputs as one 32-bit lane, broadcast: a float load moves the bits unchanged
                    let pair = _mm512_castps_si512(_mm512_broadcastss_ps(_mm_load_ss(x.cast::<f32>())));
                    *x = x.wrapping_add(2);
                    acc[0] = _mm512_dpwssd_epi32(acc[0], pair, w0);
                    acc[1] = _mm512_dpwssd_epi32(acc[1], pair, w1);
                }
                w = w.wrapping_add(64);
            }
            for ((acc_f, acc), (_, s)) in acc_f.iter_mut().zip(&acc).zip(&windows) {
                let s = _mm512_set1_ps(*s.add(g));
                acc_f[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[0]), s, acc_f[0]);
                acc_f[1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[1]), s, acc_f[1]);
            }
        }
        let scale = [load16(w_scale.as_ptr().add(c0)), load16(w_scale.as_ptr().add(c0 + 16))];
        let bias = [load16(b.as_ptr().add(c0)), load16(b.as_ptr().add(c0 + 16))];
        for (k, acc_f) in acc_f.iter().take(stored).enumerate() {
            let out = y.as_mut_ptr().add(k * n_out + c0);
            _mm512_storeu_ps(out, _mm512_fmadd_ps(acc_f[0], scale[0], bias[0]));
            _mm512_storeu_ps(out.add(16), _mm512_fmadd_ps(acc_f[1], scale[1], bias[1]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::ner::weights::{Dense, Rows};

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn quantised_windows_are_close_to_the_fp32_layer() {
        let (n_out, segs) = (96, 3);
        let n_in = segs * SEG;
        let w = values(n_out * n_in, 1);
        let b = values(n_out, 2);
        let exact = Dense::from_output_major(&w, b.clone(), n_out, n_in);
        let quant = QuantDense::from_output_major(&w, b, n_out, n_in);
        for count in [1, 2, 5, 6, 7, 13] {
            let mut tokens = values((count + segs - 1) * SEG, 3 + count as u32);
            tokens[..SEG].fill(0.0); // a padding token, of scale zero
            let mut want = vec![0.0; count * n_out];
            exact.forward_rows(Rows::new(&tokens, n_in, SEG, count), &mut want);
            let mut got = vec![0.0; count * n_out];
            quant.forward_windows(&tokens, count, &mut got);
            let size = want.iter().map(|v| v * v).sum::<f32>().sqrt() / (want.len() as f32).sqrt();
            let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
            assert!(
                worst < 2e-3 * size,
                "{count} windows: off by {worst} for outputs of size {size}"
            );
            assert!(worst > 0.0, "the quantised layer is not the fp32 one");
        }
    }

    #[test]
    fn the_kernel_computes_the_portable_sums() {
        if !supported() {
            eprintln!("skipping: no AVX-512 VNNI on this CPU");
            return;
        }
        let (n_out, segs) = (64, 3);
        let n_in = segs * SEG;
        let quant = QuantDense::from_output_major(&values(n_out * n_in, 5), values(n_out, 6), n_out, n_in);
        for count in [1, 3, 4, 8, 11] {
            let tokens = values((count + segs - 1) * SEG, 7 + count as u32);
            let mut kernel = vec![0.0; count * n_out];
            quant.forward_windows(&tokens, count, &mut kernel);
            let mut q = vec![0i16; tokens.len()];
            let scales: Vec<f32> = tokens
                .chunks_exact(SEG)
                .zip(q.chunks_exact_mut(SEG))
                .map(|(x, q)| quantise(x, q))
                .collect();
            let mut portable = vec![0.0; count * n_out];
            quant.forward_portable(&q, &scales, &mut portable);
            for (i, (k, p)) in kernel.iter().zip(&portable).enumerate() {
                assert!(
                    (k - p).abs() <= 1e-5 * p.abs().max(1.0),
                    "{count} windows, value {i}: {k} vs {p}"
                );
            }
        }
    }

    #[test]
    fn both_quantisers_agree() {
        let mut x = values(4 * SEG, 9);
        x[5] = 3.0; // the largest magnitude
        x[7] = 0.75 * 3.0 / QMAX * 2.0; // 1.5 steps: a tie, rounded to even
        let (mut a, mut b) = (vec![0i16; x.len()], vec![0i16; x.len()]);
        assert_eq!(quantise(&x, &mut a), quantise_portable(&x, &mut b));
        assert_eq!(a, b);
        assert_eq!((a[5], a[7]), (4095, 2));
    }

    #[test]
    fn quantising_keeps_the_largest_magnitude_and_zero() {
        let mut q = [0i16; 4];
        let s = quantise(&[0.5, -2.0, 0.0, 1.0], &mut q);
        assert_eq!(q, [1024, -4095, 0, 2048]);
        assert_eq!(s, 2.0 / QMAX);
        assert_eq!(quantise(&[0.0; 4], &mut q), 0.0);
        assert_eq!(q, [0; 4]);
    }
}
