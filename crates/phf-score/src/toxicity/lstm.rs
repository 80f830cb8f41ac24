//! One direction of tox-block's LSTM (Keras 2 semantics), laid out for batched inference.
//!
//! Keras computes, per time step, `z = x·W + b + h·U` (4·units wide, gates i, f, c, o) and then
//! `c = f ⊙ c + i ⊙ tanh(z_c)`, `h = o ⊙ tanh(c)` with `i, f, o = hard_sigmoid(z_i, z_f, z_o)`. In Keras 2
//! `hard_sigmoid(x) = clip(0.2x + 0.5, 0, 1)` (Keras 3 changed it to `relu6(x + 3) / 6`; the model was trained
//! and is scored with the Keras 2 form).
//!
//! The input is always an embedding row, so `x·W + b` is computed once per vocabulary word at load (the input
//! projection) and a step only adds `h·U`. The affine parts of the gate functions are folded into the weights
//! at load too ([`GATE_SCALE`]): a step computes `z' = 0.2·z + 0.5` for i, f, o, so that `hard_sigmoid` is a
//! bare clamp, and `z' = 2·log2(e)·z` for the candidate, the exponent [`tanh_of_scaled`] starts from.
//!
//! The 4·units columns of `z` are stored gate-interleaved by groups of 16 units ([`column`]): for units 0–15 the
//! columns i, f, c, o of those units, then units 16–31, and so on, then the remaining `units mod 16` units as
//! i, f, c, o side by side. A SIMD kernel then finds each gate of 16 units in one aligned vector of `z`, with no
//! shuffling of the matrix product's result. Rows are [`Lstm::stride`] wide: rounded up to a multiple of 16 with
//! zero columns, so the kernel reads whole vectors.

use rayon::prelude::*;

/// SIMD width the layout is padded for (one AVX-512 register of f32).
pub(super) const LANES: usize = 16;

/// 16 floats aligned to a cache line: the unit the weight rows are stored in, so a SIMD kernel reads whole,
/// aligned vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(64))]
pub(super) struct Lanes(pub(super) [f32; LANES]);

/// The floats of `blocks`, in order.
pub(super) fn flat(blocks: &[Lanes]) -> &[f32] {
    // SAFETY: `Lanes` is `repr(C)` around `[f32; 16]` and its alignment (64) leaves no padding (size 64), so
    // `blocks` is `16 · len` contiguous, initialised f32.
    unsafe { std::slice::from_raw_parts(blocks.as_ptr().cast::<f32>(), blocks.len() * LANES) }
}

/// [`flat`], mutable.
pub(super) fn flat_mut(blocks: &mut [Lanes]) -> &mut [f32] {
    // SAFETY: as in `flat`; the borrow is exclusive.
    unsafe { std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<f32>(), blocks.len() * LANES) }
}

/// Where gate `gate` (0–3: i, f, c, o) of unit `unit` lives in a row of `z` (see the module comment).
pub(super) fn column(units: usize, gate: usize, unit: usize) -> usize {
    let (group, lane) = (unit / LANES, unit % LANES);
    if group < units / LANES {
        group * 4 * LANES + gate * LANES + lane
    } else {
        let tail = units % LANES;
        group * 4 * LANES + gate * tail + lane
    }
}

/// One LSTM direction's weights.
#[derive(Debug, Clone)]
pub(super) struct Lstm {
    pub(super) units: usize,
    /// Row width of `recurrent_kernel` and `input_projection`: `4·units` rounded up to [`LANES`].
    pub(super) stride: usize,
    /// (units, stride), columns laid out by [`column`], zero past `4·units`.
    pub(super) recurrent_kernel: Vec<Lanes>,
    /// (vocab, stride): `embedding[id]·kernel + bias` for every id, columns laid out by [`column`].
    pub(super) input_projection: Vec<Lanes>,
}

/// Hidden and cell state of one direction plus the running max of its outputs (the max-pool over time), in
/// unit order. Each is `units` rounded up to whole [`Lanes`]; the lanes past `units` stay zero.
#[derive(Debug, Clone)]
pub(super) struct LstmState {
    pub(super) h: Vec<Lanes>,
    pub(super) c: Vec<Lanes>,
    pub(super) max: Vec<Lanes>,
}

/// `2·log2(e)`: `tanh(x)` is computed from `e^{2x} = 2^{x·TANH_SCALE}`.
pub(super) const TANH_SCALE: f32 = 2.0 * std::f32::consts::LOG2_E;

/// Per gate (i, f, c, o), `z' = GATE_SCALE·z + GATE_SHIFT` is what the weights compute after loading:
/// Keras 2's `hard_sigmoid(z) = clip(0.2z + 0.5, 0, 1)` becomes `clip(z', 0, 1)` for i, f, o, and the
/// candidate's `tanh(z)` becomes [`tanh_of_scaled`]`(z')`.
pub(super) const GATE_SCALE: [f32; 4] = [0.2, 0.2, TANH_SCALE, 0.2];
pub(super) const GATE_SHIFT: [f32; 4] = [0.5, 0.5, 0.0, 0.5];

/// `tanh(x)` ([`tanh_of_scaled`] of `x·TANH_SCALE`).
pub(super) fn fast_tanh(x: f32) -> f32 {
    tanh_of_scaled(x * TANH_SCALE)
}

/// `tanh(y / TANH_SCALE) = 1 − 2 / (2^y + 1)` with `2^y = 2^n · 2^f` (n the nearest integer, |f| ≤ ½) and
/// `2^f` from the degree-6 Taylor series of `e^{f·ln 2}` (truncation error < 1.3e-7 relative). Absolute error
/// < 3e-7 over all of f32 (checked in the tests), well inside the 1e-4 parity bar, and written with plain
/// arithmetic and bit operations only so that it vectorises; the AVX-512 kernel evaluates the same formula.
pub(super) fn tanh_of_scaled(y: f32) -> f32 {
    // tanh(±9) rounds to ±1 in f32, and clamping keeps 2^n finite (`clamp` passes NaN through, as tanh would).
    let y = y.clamp(-9.0 * TANH_SCALE, 9.0 * TANH_SCALE);
    // Round to nearest by adding and subtracting 1.5·2^23; the low mantissa bits of `shifted` then hold n + 127,
    // which shifted into the exponent field is 2^n.
    const ROUND: f32 = 12_582_912.0 + 127.0;
    let shifted = y + ROUND;
    let n = shifted - ROUND;
    let two_n = f32::from_bits(shifted.to_bits() << 23);
    let poly = exp2_taylor6(y - n);
    1.0 - 2.0 / (poly * two_n + 1.0)
}

/// Coefficients of `2^f = e^{f·ln 2} = Σ (f·ln 2)^k / k!` to degree 6, lowest first.
pub(super) const EXP2_TAYLOR: [f32; 7] = {
    let l = std::f32::consts::LN_2;
    [
        1.0,
        l,
        l * l / 2.0,
        l * l * l / 6.0,
        l * l * l * l / 24.0,
        l * l * l * l * l / 120.0,
        l * l * l * l * l * l / 720.0,
    ]
};

/// `2^f` for |f| ≤ ½ by [`EXP2_TAYLOR`], in Horner form.
pub(super) fn exp2_taylor6(f: f32) -> f32 {
    let mut p = EXP2_TAYLOR[6];
    for &c in EXP2_TAYLOR[..6].iter().rev() {
        p = p * f + c;
    }
    p
}

impl LstmState {
    pub(super) fn new(units: usize) -> Self {
        let zeros = vec![Lanes([0.0; LANES]); units.div_ceil(LANES)];
        let mut max = zeros.clone();
        flat_mut(&mut max)[..units].fill(f32::NEG_INFINITY);
        Self {
            h: zeros.clone(),
            c: zeros,
            max,
        }
    }
}

impl Lstm {
    /// Lays out Keras' `kernel` (dim, 4·units), `recurrent_kernel` (units, 4·units) and `bias` (4·units) and
    /// computes the input projection of every row of `embedding` (vocab, dim).
    pub(super) fn new(kernel: &[f32], recurrent_kernel: &[f32], bias: &[f32], embedding: &[f32], dim: usize) -> Self {
        let width = bias.len();
        let units = width / 4;
        let blocks = width.div_ceil(LANES);
        let stride = blocks * LANES;
        // Keras orders columns gate-major (all i, then all f, …); `relayout` moves them to `column`'s places and
        // scales them by gate; the projection, which holds the bias, also takes the shift.
        let places: Vec<usize> = (0..width).map(|k| column(units, k / units, k % units)).collect();
        let relayout = |keras_row: &[f32], row: &mut [Lanes], shift: bool| {
            let row = flat_mut(row);
            for (k, (&value, &place)) in keras_row.iter().zip(&places).enumerate() {
                let gate = k / units;
                row[place] = value * GATE_SCALE[gate] + if shift { GATE_SHIFT[gate] } else { 0.0 };
            }
        };
        let mut recurrent = vec![Lanes([0.0; LANES]); recurrent_kernel.len() / width * blocks];
        for (dst, src) in recurrent
            .chunks_exact_mut(blocks)
            .zip(recurrent_kernel.chunks_exact(width))
        {
            relayout(src, dst, false);
        }
        let mut input_projection = vec![Lanes([0.0; LANES]); embedding.len() / dim * blocks];
        input_projection
            .par_chunks_mut(blocks)
            .zip(embedding.par_chunks(dim))
            .for_each_init(
                || vec![0.0; width],
                |keras_row, (out, x)| {
                    affine(x, kernel, bias, keras_row);
                    relayout(keras_row, out, true);
                },
            );
        Self {
            units,
            stride,
            recurrent_kernel: recurrent,
            input_projection,
        }
    }

    pub(super) fn initial_state(&self) -> LstmState {
        LstmState::new(self.units)
    }

    /// One time step on the word whose projection row is `row`; `z` is scratch of length `stride`.
    /// The portable path: plain loops the compiler vectorises for the build target.
    pub(super) fn step(&self, row: usize, state: &mut LstmState, z: &mut [f32]) {
        let (u, s) = (self.units, self.stride);
        // z' = (x·W + b)' + h·U'; the bracket comes precomputed per word (primes: scaled by gate, see GATE_SCALE).
        z.copy_from_slice(&flat(&self.input_projection)[row * s..(row + 1) * s]);
        for (&hk, uk) in flat(&state.h)[..u]
            .iter()
            .zip(flat(&self.recurrent_kernel).chunks_exact(s))
        {
            for (zj, ukj) in z.iter_mut().zip(uk) {
                *zj += hk * ukj;
            }
        }
        let (h, c, max) = (flat_mut(&mut state.h), flat_mut(&mut state.c), flat_mut(&mut state.max));
        for j in 0..u {
            let i = z[column(u, 0, j)].clamp(0.0, 1.0);
            let f = z[column(u, 1, j)].clamp(0.0, 1.0);
            let candidate = tanh_of_scaled(z[column(u, 2, j)]);
            let o = z[column(u, 3, j)].clamp(0.0, 1.0);
            c[j] = f * c[j] + i * candidate;
            h[j] = o * fast_tanh(c[j]);
            max[j] = max[j].max(h[j]);
        }
    }

    /// States after k = 0..=steps steps on `row` from the initial state: the shared left padding.
    pub(super) fn repeated_steps(&self, row: usize, steps: usize) -> Vec<LstmState> {
        let mut z = vec![0.0; self.stride];
        let mut state = self.initial_state();
        let mut states = vec![state.clone()];
        for _ in 0..steps {
            self.step(row, &mut state, &mut z);
            states.push(state.clone());
        }
        states
    }
}

/// `out = bias + x · w` for a row-major `w` of shape (x.len(), out.len()).
pub(super) fn affine(x: &[f32], w: &[f32], bias: &[f32], out: &mut [f32]) {
    out.copy_from_slice(bias);
    for (xi, row) in x.iter().zip(w.chunks_exact(out.len())) {
        for (o, wij) in out.iter_mut().zip(row) {
            *o += xi * wij;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_is_within_3e_7_of_tanh() {
        // Every 64th f32 between -12 and 12 (~8 million values), plus the extremes.
        let mut worst = (0.0_f64, 0.0_f32);
        let mut bits = (-12.0_f32).to_bits();
        let end = 12.0_f32.to_bits();
        let mut check = |x: f32| {
            let err = (f64::from(fast_tanh(x)) - f64::from(x).tanh()).abs();
            if err > worst.0 {
                worst = (err, x);
            }
        };
        // Negative floats count down in bits towards -0.0, positive ones up from +0.0.
        while bits > 0x8000_0000 {
            check(f32::from_bits(bits));
            bits -= 64;
        }
        let mut bits = 0_u32;
        while bits < end {
            check(f32::from_bits(bits));
            bits += 64;
        }
        for x in [f32::MAX, f32::MIN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0] {
            check(x);
        }
        assert!(worst.0 < 3e-7, "max error {:e} at {}", worst.0, worst.1);
        assert!(fast_tanh(f32::NAN).is_nan());
        assert_eq!(tanh_of_scaled(-f32::MAX), -1.0);
    }

    #[test]
    fn columns_interleave_gates_by_groups_of_16_units() {
        let units = 50;
        let mut seen: Vec<usize> = (0..4)
            .flat_map(|g| (0..units).map(move |j| column(units, g, j)))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..4 * units).collect::<Vec<_>>(), "a permutation of 0..200");
        assert_eq!([column(50, 0, 0), column(50, 1, 0), column(50, 3, 15)], [0, 16, 63]);
        assert_eq!([column(50, 0, 16), column(50, 2, 47)], [64, 2 * 64 + 2 * 16 + 15]);
        // Units 48 and 49: i, f, c, o side by side at the start of vector 12.
        assert_eq!(
            (0..4).map(|g| column(50, g, 49)).collect::<Vec<_>>(),
            [193, 195, 197, 199]
        );
    }

    #[test]
    fn affine_is_row_major_x_times_w() {
        // x = [1, 2], w = [[1, 2, 3], [4, 5, 6]], b = [0.5; 3] → [9.5, 12.5, 15.5]
        let mut out = [0.0; 3];
        affine(&[1.0, 2.0], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[0.5; 3], &mut out);
        assert_eq!(out, [9.5, 12.5, 15.5]);
    }

    #[test]
    fn one_lstm_step_by_hand() {
        // units = 1, input = 1, a one-word vocabulary whose embedding is [1.0]: with h = 0,
        // z = x·W + b = [0.5, 1.0, 0.25, -1.0].
        let lstm = Lstm::new(&[0.5, 1.0, 0.25, -1.0], &[0.0; 4], &[0.0; 4], &[1.0], 1);
        assert_eq!(lstm.stride, 16);
        let mut state = lstm.initial_state();
        let mut z = vec![0.0; lstm.stride];
        lstm.step(0, &mut state, &mut z);
        // Keras 2 hard_sigmoid(0.5) = 0.2·0.5 + 0.5 and hard_sigmoid(-1.0) = 0.2·(-1) + 0.5.
        let (i, o) = (0.6_f32, 0.3_f32);
        let c = i * 0.25_f32.tanh();
        let (h, cell) = (flat(&state.h), flat(&state.c));
        assert!((cell[0] - c).abs() < 2e-7, "{} vs {c}", cell[0]);
        assert!((h[0] - o * c.tanh()).abs() < 2e-7);
        assert_eq!(flat(&state.max)[0], h[0]);
        // The padding lanes past `units` stay zero.
        assert!(h[1..].iter().chain(&cell[1..]).all(|&v| v == 0.0));
    }
}
