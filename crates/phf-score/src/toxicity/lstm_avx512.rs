//! The AVX-512 kernel: one LSTM direction over pairs of documents in lockstep, for tox-block's shape
//! (49–52 units: three full groups of 16 and a tail of 1–4, so a row of `z` is 13 vectors of 16 lanes).
//!
//! Per step and document, `z = projection[word] + h·U` is accumulated in 13 registers: for each of the `units`
//! entries of `h`, one broadcast and 13 fused multiply-adds against the matching row of `U`. Two documents share
//! every load of `U` (26 accumulators of the 32 registers), which keeps the loop bound by multiply-adds rather
//! than loads; `U` itself (50 × 208 floats, 41 KB) stays in the L1 cache. Thanks to the gate-interleaved column
//! layout ([`super::lstm::column`]) each register already holds one gate of 16 units, so the nonlinearities run
//! straight on the accumulators, with the same formulas as the portable path ([`super::lstm::tanh_of_scaled`]);
//! the last few units of both documents, whose gates share one register each, are updated together.

use std::arch::x86_64::*;

use super::lstm::{flat, Lanes, Lstm, LstmState, EXP2_TAYLOR, LANES, TANH_SCALE};

/// Vectors per row of `z` held in registers.
pub(super) const VECTORS: usize = 13;

/// Whether this CPU runs the kernel.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx512f")
}

/// Full groups of 16 units (the rest, 1–4 units, is the tail).
const FULL_GROUPS: usize = 3;

/// Whether the kernel fits this direction's shape: three groups of 16 units and a tail of 1–4, whose four
/// gates share the last vector of `z`.
pub(super) fn fits(lstm: &Lstm) -> bool {
    lstm.units / LANES == FULL_GROUPS && (1..=4).contains(&(lstm.units % LANES))
}

// Vectors move in and out of memory by value (`[f32; 16]` ⇄ `__m512`, the same 64 bytes) rather than through
// pointer intrinsics: the compiler emits the same single load or store, and the debug build's pointer checks,
// which would otherwise spill every vector to the stack, have nothing to check.
#[inline(always)]
fn load(lanes: [f32; LANES]) -> __m512 {
    // SAFETY: both types are 64 bytes of f32 lanes; every bit pattern is valid for either.
    unsafe { std::mem::transmute::<[f32; LANES], __m512>(lanes) }
}

#[inline(always)]
fn store(v: __m512) -> [f32; LANES] {
    // SAFETY: as in `load`.
    unsafe { std::mem::transmute::<__m512, [f32; LANES]>(v) }
}

/// Runs `lstm` over a group of documents in lockstep, two at a time: at step `t` document `d` reads projection
/// row `rows[d][t]`, and its state `states[d]` is updated in place (h, c and the running max).
///
/// # Safety
/// The CPU must support AVX-512F ([`available`]). Shapes and row indices are checked here (panics on misuse).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn run_group(lstm: &Lstm, rows: &[&[u32]], states: &mut [LstmState]) {
    let vocab = lstm.input_projection.len() / VECTORS;
    let steps = rows.first().map_or(0, |r| r.len());
    assert!(fits(lstm) && lstm.stride == VECTORS * LANES);
    assert!(rows.len() == states.len() && rows.len().is_multiple_of(2));
    assert!(rows
        .iter()
        .all(|r| r.len() == steps && r.iter().all(|&row| (row as usize) < vocab)));
    let groups = FULL_GROUPS + 1;
    assert!(states
        .iter()
        .all(|s| s.h.len() == groups && s.c.len() == groups && s.max.len() == groups));
    for t in 0..steps {
        for (pair, states) in rows.chunks_exact(2).zip(states.chunks_exact_mut(2)) {
            // The projection table (16 MB) lives in L3 at best: ask for the rows two steps ahead now.
            if t + 2 < steps {
                prefetch_row(&lstm.input_projection[pair[0][t + 2] as usize * VECTORS..]);
                prefetch_row(&lstm.input_projection[pair[1][t + 2] as usize * VECTORS..]);
            }
            let [first, second] = states else {
                unreachable!("chunks of two")
            };
            step_pair(lstm, [pair[0][t] as usize, pair[1][t] as usize], [first, second]);
        }
    }
}

/// One time step of two documents reading projection rows `rows`.
#[target_feature(enable = "avx512f")]
#[inline]
fn step_pair(lstm: &Lstm, rows: [usize; 2], [state0, state1]: [&mut LstmState; 2]) {
    let x0 = row(&lstm.input_projection, rows[0]);
    let x1 = row(&lstm.input_projection, rows[1]);
    // z = x·W + b + h·U, one row of U per entry of h; the first row starts from the projection row. The loop
    // walks zipped iterators so that no index is bounds-checked between the multiply-adds.
    let units = lstm.units;
    let mut rows_of_u = flat(&state0.h)[..units]
        .iter()
        .zip(&flat(&state1.h)[..units])
        .zip(lstm.recurrent_kernel.chunks_exact(VECTORS));
    let (mut a0, mut a1) = ([_mm512_setzero_ps(); VECTORS], [_mm512_setzero_ps(); VECTORS]);
    let ((&h0, &h1), u_row) = rows_of_u.next().expect("at least one unit");
    let (h0, h1) = (_mm512_set1_ps(h0), _mm512_set1_ps(h1));
    for v in 0..VECTORS {
        let w = load(u_row[v].0);
        a0[v] = _mm512_fmadd_ps(h0, w, load(x0[v].0));
        a1[v] = _mm512_fmadd_ps(h1, w, load(x1[v].0));
    }
    for ((&h0, &h1), u_row) in rows_of_u {
        let (h0, h1) = (_mm512_set1_ps(h0), _mm512_set1_ps(h1));
        for v in 0..VECTORS {
            let w = load(u_row[v].0);
            a0[v] = _mm512_fmadd_ps(h0, w, a0[v]);
            a1[v] = _mm512_fmadd_ps(h1, w, a1[v]);
        }
    }
    full_groups(&a0, state0);
    full_groups(&a1, state1);
    tails(
        a0[4 * FULL_GROUPS],
        a1[4 * FULL_GROUPS],
        lstm.units % LANES,
        [state0, state1],
    );
}

/// The cell update of the units in full groups of 16: vectors `4m..4m+4` of `z` hold gates i, f, c, o of
/// units `16m..16m+16`.
#[target_feature(enable = "avx512f")]
#[inline]
fn full_groups(z: &[__m512; VECTORS], state: &mut LstmState) {
    for m in 0..FULL_GROUPS {
        let (c, max) = (load(state.c[m].0), load(state.max[m].0));
        let (c, h, max) = cell_update([z[4 * m], z[4 * m + 1], z[4 * m + 2], z[4 * m + 3]], c, max);
        (state.c[m], state.h[m], state.max[m]) = (Lanes(store(c)), Lanes(store(h)), Lanes(store(max)));
    }
}

/// The cell update of the last `tail` units (1–4) of both documents at once: each document's last vector of
/// `z` holds their gates i, f, c, o side by side; they are gathered into one vector per gate (document 0 in
/// lanes `0..tail`, document 1 in `tail..2·tail`), updated, and scattered back. One update instead of two
/// mostly empty ones.
#[target_feature(enable = "avx512f")]
#[inline]
fn tails(z0: __m512, z1: __m512, tail: usize, [state0, state1]: [&mut LstmState; 2]) {
    let m = FULL_GROUPS;
    let gates = [
        gather(tail, 0, z0, z1),
        gather(tail, tail, z0, z1),
        gather(tail, 2 * tail, z0, z1),
        gather(tail, 3 * tail, z0, z1),
    ];
    let c = gather(tail, 0, load(state0.c[m].0), load(state1.c[m].0));
    let max = gather(tail, 0, load(state0.max[m].0), load(state1.max[m].0));
    let (c, h, max) = cell_update(gates, c, max);
    // Back: lanes 0..t to document 0, lanes t..2t to document 1's lanes 0..t; the rest of each stays zero.
    let live: __mmask16 = (1 << tail) - 1;
    (state0.c[m], state0.h[m], state0.max[m]) = (
        Lanes(store(_mm512_maskz_mov_ps(live, c))),
        Lanes(store(_mm512_maskz_mov_ps(live, h))),
        Lanes(store(_mm512_maskz_mov_ps(live, max))),
    );
    let second = _mm512_add_epi32(lane_numbers(), _mm512_set1_epi32(tail as i32));
    (state1.c[m], state1.h[m], state1.max[m]) = (
        Lanes(store(_mm512_maskz_permutexvar_ps(live, second, c))),
        Lanes(store(_mm512_maskz_permutexvar_ps(live, second, h))),
        Lanes(store(_mm512_maskz_permutexvar_ps(live, second, max))),
    );
}

/// 0, 1, …, 15.
#[target_feature(enable = "avx512f")]
#[inline]
fn lane_numbers() -> __m512i {
    _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
}

/// Lanes `offset..offset + tail` of `first` followed by the same lanes of `second`, from lane 0 (the lanes
/// from `2·tail` on hold whatever the permutation finds there and are never read back).
#[target_feature(enable = "avx512f")]
#[inline]
fn gather(tail: usize, offset: usize, first: __m512, second: __m512) -> __m512 {
    // Index i + 16 picks lane i of `second`.
    let in_first = _mm512_add_epi32(lane_numbers(), _mm512_set1_epi32(offset as i32));
    let in_second = _mm512_add_epi32(lane_numbers(), _mm512_set1_epi32((offset + LANES - tail) as i32));
    let index = _mm512_mask_blend_epi32(0xffff << tail, in_first, in_second);
    _mm512_permutex2var_ps(first, index, second)
}

/// Row `index` of a table of [`VECTORS`]-vector rows.
#[inline(always)]
fn row(table: &[Lanes], index: usize) -> &[Lanes; VECTORS] {
    table[index * VECTORS..(index + 1) * VECTORS]
        .try_into()
        .expect("a whole row")
}

#[inline(always)]
fn prefetch_row(row: &[Lanes]) {
    for line in row.iter().take(VECTORS) {
        // SAFETY: a prefetch is only a hint; the address is that of a live vector.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((line as *const Lanes).cast::<i8>()) };
    }
}

/// `c = f ⊙ c + i ⊙ tanh(candidate)`, `h = o ⊙ tanh(c)`, `max = max(max, h)` on 16 lanes, from the gates
/// `[i, f, candidate, o]` as the weights compute them (scaled, see [`super::lstm::GATE_SCALE`]).
#[target_feature(enable = "avx512f")]
#[inline]
fn cell_update([i, f, candidate, o]: [__m512; 4], c: __m512, max: __m512) -> (__m512, __m512, __m512) {
    let (i, f, o) = (clamp_unit(i), clamp_unit(f), clamp_unit(o));
    let c = _mm512_fmadd_ps(f, c, _mm512_mul_ps(i, tanh16_of_scaled(candidate)));
    let h = _mm512_mul_ps(o, tanh16(c));
    (c, h, _mm512_max_ps(max, h))
}

/// `hard_sigmoid` of a gate whose affine part the weights already applied.
#[target_feature(enable = "avx512f")]
fn clamp_unit(x: __m512) -> __m512 {
    _mm512_min_ps(_mm512_max_ps(x, _mm512_setzero_ps()), _mm512_set1_ps(1.0))
}

/// `tanh` on 16 lanes.
#[target_feature(enable = "avx512f")]
fn tanh16(x: __m512) -> __m512 {
    tanh16_of_scaled(_mm512_mul_ps(x, _mm512_set1_ps(TANH_SCALE)))
}

/// [`super::lstm::tanh_of_scaled`] on 16 lanes: `2^n` by `scalef`, and `1 / d` by the 14-bit reciprocal
/// estimate refined with one Newton step (relative error ~1e-8).
#[target_feature(enable = "avx512f")]
fn tanh16_of_scaled(y: __m512) -> __m512 {
    let limit = 9.0 * TANH_SCALE;
    let y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(-limit)), _mm512_set1_ps(limit));
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(y);
    let f = _mm512_sub_ps(y, n);
    let mut p = _mm512_set1_ps(EXP2_TAYLOR[6]);
    for &c in EXP2_TAYLOR[..6].iter().rev() {
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c));
    }
    let d = _mm512_add_ps(_mm512_scalef_ps(p, n), _mm512_set1_ps(1.0));
    let r = _mm512_rcp14_ps(d);
    // r ← r·(2 − d·r) is 1/d to ~28 bits; tanh = 1 − 2/d.
    let r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0)));
    _mm512_fnmadd_ps(_mm512_set1_ps(2.0), r, _mm512_set1_ps(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh16_is_within_3e_7_of_tanh() {
        if !available() {
            eprintln!("skipping: no AVX-512 on this CPU");
            return;
        }
        // The extremes first, then a grid over [-12.2, 12.2); 4016 values, whole vectors.
        let xs: Vec<f32> = [
            -1e30,
            1e30,
            -0.0,
            0.0,
            f32::MIN_POSITIVE,
            -9.5,
            9.5,
            1e-20,
            -1e-20,
            20.0,
            -20.0,
        ]
        .into_iter()
        .chain([0.5, -0.5, 1.0, -1.0, 2.0])
        .chain((-2000..2000).map(|i| i as f32 * 0.0061))
        .collect();
        assert_eq!(xs.len() % LANES, 0);
        for chunk in xs.chunks(LANES) {
            // SAFETY: AVX-512F checked above.
            let out = store(unsafe { tanh16(load(chunk.try_into().unwrap())) });
            for (&x, &y) in chunk.iter().zip(&out) {
                let exact = f64::from(x).tanh();
                assert!((f64::from(y) - exact).abs() < 3e-7, "tanh({x}) = {y}, not {exact}");
            }
        }
    }
}
