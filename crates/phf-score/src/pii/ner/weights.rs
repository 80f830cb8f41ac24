//! Reading the exported `ner.safetensors` (written by `scripts/score/export_spacy_ner.py`) and the dense layers
//! built from it.

use std::path::Path;

use safetensors::SafeTensors;

use crate::error::{Result, ScoreError};

/// The exported tensors, checked by name and shape as they are taken.
pub struct Weights<'a> {
    st: SafeTensors<'a>,
    path: &'a Path,
}

impl<'a> Weights<'a> {
    pub fn parse(bytes: &'a [u8], path: &'a Path) -> Result<Self> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| ScoreError::NerFormat {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Self { st, path })
    }

    /// Tensor `name`, which must be float32 with shape `shape`.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        crate::export::f32_tensor(&self.st, name, shape).map_err(|reason| ScoreError::NerFormat {
            path: self.path.to_path_buf(),
            reason,
        })
    }
}

/// Rows computed together by [`Dense::forward`].
const ROW_BLOCK: usize = 8;

/// The input rows of a dense layer: row `r` is `data[r * stride..r * stride + width]`. A stride below the width
/// makes rows overlap, which is how the encoder reads each token's window of three without copying it.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub data: &'a [f32],
    pub width: usize,
    pub stride: usize,
    pub count: usize,
}

impl<'a> Rows<'a> {
    /// `count` rows of `width` values, `stride` apart, from the start of `data`.
    pub fn new(data: &'a [f32], width: usize, stride: usize, count: usize) -> Self {
        assert!(
            count == 0 || (count - 1) * stride + width <= data.len(),
            "{count} rows of {width} values {stride} apart need more than {} values",
            data.len()
        );
        Self {
            data,
            width,
            stride,
            count,
        }
    }

    /// Back-to-back rows of `width` values: all of `data`.
    pub fn contiguous(data: &'a [f32], width: usize) -> Self {
        Self::new(data, width, width, data.len() / width)
    }

    pub fn row(&self, r: usize) -> &'a [f32] {
        &self.data[r * self.stride..r * self.stride + self.width]
    }
}

/// A dense layer `y = W x + b`, stored input-major (`wt[i * n_out + o]`) so that the inner loop runs over
/// contiguous outputs and vectorises.
#[derive(Debug, Clone)]
pub struct Dense {
    pub n_in: usize,
    pub n_out: usize,
    wt: Vec<f32>,
    /// The same weights in panels of 32 outputs (`panels[(c / 32) · n_in · 32 + i · 32 + c % 32]`), which the
    /// AVX-512 kernel streams through in order; empty when `n_out` is not a multiple of 32.
    panels: Aligned<f32, 16>,
    b: Vec<f32>,
}

/// Values whose first is at a 64-byte boundary, so that a kernel's 64-byte loads never straddle two cache lines:
/// `N` values of `T` fill a line (16 floats, 32 16-bit integers).
#[derive(Debug, Clone, Default)]
pub struct Aligned<T: Copy, const N: usize>(Vec<CacheLine<T, N>>, usize);

#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub struct CacheLine<T: Copy, const N: usize>([T; N]);

impl<T: Copy + Default, const N: usize> Aligned<T, N> {
    const FILLS_A_LINE: () = assert!(N * std::mem::size_of::<T>() == 64, "N values must fill 64 bytes");

    pub fn new(values: &[T]) -> Self {
        let () = Self::FILLS_A_LINE;
        let lines = values
            .chunks(N)
            .map(|c| {
                let mut line = [T::default(); N];
                line[..c.len()].copy_from_slice(c);
                CacheLine(line)
            })
            .collect();
        Self(lines, values.len())
    }

    pub fn as_slice(&self) -> &[T] {
        // SAFETY: a `CacheLine` is N values of T filling its 64 bytes (repr(C), checked by FILLS_A_LINE), so the
        // lines are a contiguous run of N · lines values, of which the first `self.1` are the values.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<T>(), self.1) }
    }
}

impl Dense {
    /// From a thinc weight stored output-major (`w[o * n_in + i]`, i.e. shape `(n_out…, n_in)`) and its bias.
    pub fn from_output_major(w: &[f32], b: Vec<f32>, n_out: usize, n_in: usize) -> Self {
        debug_assert_eq!(w.len(), n_out * n_in);
        let mut wt = vec![0.0; n_in * n_out];
        for o in 0..n_out {
            for i in 0..n_in {
                wt[i * n_out + o] = w[o * n_in + i];
            }
        }
        let panels = if n_out.is_multiple_of(32) {
            let values: Vec<f32> = (0..n_out / 32)
                .flat_map(|p| (0..n_in).flat_map(move |i| (0..32).map(move |c| (i, p * 32 + c))))
                .map(|(i, o)| wt[i * n_out + o])
                .collect();
            Aligned::new(&values)
        } else {
            Aligned::default()
        };
        Self {
            n_in,
            n_out,
            wt,
            panels,
            b,
        }
    }

    /// `out[r] = W x[r] + b` for every row `r` of `x` (`rows × n_in`); `out` is `rows × n_out`.
    pub fn forward(&self, x: &[f32], out: &mut [f32]) {
        self.forward_rows(Rows::contiguous(x, self.n_in), out);
    }

    /// `out[r] = W x.row(r) + b` for every row of `x` (of width `n_in`); `out` is `x.count × n_out`.
    pub fn forward_rows(&self, x: Rows<'_>, out: &mut [f32]) {
        assert_eq!(x.width, self.n_in);
        assert_eq!(out.len(), x.count * self.n_out);
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if self.n_out.is_multiple_of(32) && has!("avx512f") && has!("fma") {
                // SAFETY: the CPU supports AVX-512F and FMA (checked just above); the shapes are the layer's.
                unsafe { super::kernels::affine_avx512(x, self.panels.as_slice(), &self.b, out) };
                return;
            }
            if self.n_out.is_multiple_of(16) && has!("avx2") && has!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above); the shapes are the layer's.
                unsafe { super::kernels::affine_avx2(x, &self.wt, &self.b, out) };
                return;
            }
        }
        self.forward_portable(x, out);
    }

    /// The portable path: rows in blocks of [`ROW_BLOCK`], so that each weight row is read once per block; the
    /// inner loop, over contiguous outputs, vectorises.
    fn forward_portable(&self, x: Rows<'_>, out: &mut [f32]) {
        let n_out = self.n_out;
        for (block, yb) in out.chunks_mut(ROW_BLOCK * n_out).enumerate() {
            let first = block * ROW_BLOCK;
            for y in yb.chunks_exact_mut(n_out) {
                y.copy_from_slice(&self.b);
            }
            for (i, w) in self.wt.chunks_exact(n_out).enumerate() {
                for (r, y) in (first..).zip(yb.chunks_exact_mut(n_out)) {
                    let xi = x.row(r)[i];
                    if xi == 0.0 {
                        continue;
                    }
                    for (y, &w) in y.iter_mut().zip(w) {
                        *y += xi * w;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `y = W x + b` the plain way, in f64.
    fn reference(w: &[f32], b: &[f32], x: &[f32], n_in: usize) -> Vec<f32> {
        let n_out = b.len();
        x.chunks_exact(n_in)
            .flat_map(|xr| {
                (0..n_out).map(move |o| {
                    let dot: f64 = (0..n_in).map(|i| f64::from(w[o * n_in + i]) * f64::from(xr[i])).sum();
                    (dot + f64::from(b[o])) as f32
                })
            })
            .collect()
    }

    /// A fixed pseudo-random sequence in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn assert_close(got: &[f32], want: &[f32], path: &str) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-4, "{path}: output {i}: {g} vs {w}");
        }
    }

    #[test]
    fn every_kernel_computes_the_same_affine_map() {
        // 1..=13 rows: full tiles of eight and four, the rows left over, and single rows (whose kernel deals the
        // inputs out four at a time: 43 leaves three over).
        for (n_in, rows) in [40, 43]
            .into_iter()
            .flat_map(|n_in| (1..=13).map(move |rows| (n_in, rows)))
        {
            let n_out = 64;
            let w = values(n_out * n_in, 1);
            let b = values(n_out, 2);
            let dense = Dense::from_output_major(&w, b.clone(), n_out, n_in);
            let x = values(rows * n_in, 3 + rows as u32);
            let want = reference(&w, &b, &x, n_in);
            let mut y = vec![0.0; rows * n_out];
            dense.forward_portable(Rows::contiguous(&x, n_in), &mut y);
            assert_close(&y, &want, "portable");
            dense.forward(&x, &mut y);
            assert_close(&y, &want, "dispatched");
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::is_x86_feature_detected as has;
                if has!("avx2") && has!("fma") {
                    y.fill(0.0);
                    // SAFETY: the CPU supports AVX2 and FMA (checked just above); the shapes are the layer's.
                    unsafe {
                        super::super::kernels::affine_avx2(Rows::contiguous(&x, n_in), &dense.wt, &dense.b, &mut y)
                    };
                    assert_close(&y, &want, "avx2");
                }
                if has!("avx512f") && has!("fma") {
                    y.fill(0.0);
                    // SAFETY: the CPU supports AVX-512F and FMA (checked just above); the shapes are the layer's.
                    unsafe {
                        super::super::kernels::affine_avx512(
                            Rows::contiguous(&x, n_in),
                            dense.panels.as_slice(),
                            &dense.b,
                            &mut y,
                        )
                    };
                    assert_close(&y, &want, "avx512");
                }
            }
        }
    }

    #[test]
    fn overlapping_rows_are_windows() {
        // Rows of three tokens' values, one token apart, as the encoder reads them, against the windows copied out.
        let (token, n_out) = (7, 32);
        let n_in = 3 * token;
        let w = values(n_out * n_in, 4);
        let b = values(n_out, 5);
        let dense = Dense::from_output_major(&w, b.clone(), n_out, n_in);
        for windows in 1..=13 {
            let x = values((windows + 2) * token, 6 + windows as u32);
            let copied: Vec<f32> = (0..windows)
                .flat_map(|t| x[t * token..t * token + n_in].to_vec())
                .collect();
            let want = reference(&w, &b, &copied, n_in);
            let rows = Rows::new(&x, n_in, token, windows);
            let mut y = vec![0.0; windows * n_out];
            dense.forward_rows(rows, &mut y);
            assert_close(&y, &want, "dispatched");
            dense.forward_portable(rows, &mut y);
            assert_close(&y, &want, "portable");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                y.fill(0.0);
                // SAFETY: the CPU supports AVX2 and FMA (checked just above); the shapes are the layer's.
                unsafe { super::super::kernels::affine_avx2(rows, &dense.wt, &dense.b, &mut y) };
                assert_close(&y, &want, "avx2");
            }
        }
    }
}
