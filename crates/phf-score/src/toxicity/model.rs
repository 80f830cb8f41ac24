//! tox-block's network, inference only, following Keras 2 (TF 2.x) semantics exactly:
//!
//! ```text
//! ids (T=100) ─ Embedding 20000×50 ─▶ (T, 50)
//!   ─ Bidirectional(LSTM 50, return_sequences, merge concat) ─▶ (T, 100)
//!   ─ GlobalMaxPool1D ─▶ (100) ─ Dense 50 + ReLU ─▶ (50) ─ Dense 6 + sigmoid ─▶ (6)
//! ```
//! The LSTM itself is in [`super::lstm`]. Padding id 0 is embedded and run through the LSTM (`mask_zero=false`),
//! so the padding steps count in the max-pool — as in the reference. Dropout layers are identity at inference.
//!
//! Batches run two documents at a time in lockstep, so every load of the recurrent weights serves both
//! (the AVX-512 kernel in [`super::lstm_avx512`] where the CPU has it, the portable loops otherwise); documents
//! are sorted by their padding first so that a pair shares its starting step.

use std::path::Path;

use rayon::prelude::*;
use safetensors::SafeTensors;

use super::lstm::{affine, flat, Lstm, LstmState};
use crate::error::{Result, ScoreError};

/// Number of output labels.
pub const NUM_LABELS: usize = 6;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Which implementation runs the LSTM steps; chosen once at load from the CPU's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernel {
    fn best_for(directions: [&Lstm; 2]) -> Self {
        #[cfg(target_arch = "x86_64")]
        if super::lstm_avx512::available() && directions.iter().all(|d| super::lstm_avx512::fits(d)) {
            return Kernel::Avx512;
        }
        let _ = directions;
        Kernel::Portable
    }

    /// Runs `lstm` over a group of documents in lockstep (see [`super::lstm_avx512::run_group`]).
    fn run_group(self, lstm: &Lstm, rows: &[&[u32]; GROUP], states: &mut [LstmState; GROUP]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx512` is only chosen when the CPU supports AVX-512F.
            Kernel::Avx512 => unsafe { super::lstm_avx512::run_group(lstm, rows, states) },
            Kernel::Portable => {
                let mut z = vec![0.0; lstm.stride];
                for (rows, state) in rows.iter().zip(states) {
                    for &row in *rows {
                        lstm.step(row as usize, state, &mut z);
                    }
                }
            }
        }
    }
}

/// The BiLSTM classifier with its weights.
#[derive(Debug, Clone)]
pub struct BiLstmClassifier {
    /// Rows of the embedding table (which itself lives on only inside each direction's input projection).
    vocab: usize,
    forward: Lstm,
    backward: Lstm,
    dense: (Vec<f32>, Vec<f32>),
    dense_out: (Vec<f32>, Vec<f32>),
    /// Forward-direction state after k padding steps, k = 0..=max_len: every input starts with the same
    /// padding, so this prefix of the recurrence is computed once.
    padded_prefix: Vec<LstmState>,
    kernel: Kernel,
}

/// Number of leading padding ids.
fn leading_padding(ids: &[u32]) -> usize {
    ids.iter().take_while(|&&id| id == 0).count()
}

/// Documents run through the LSTM together: a pair, so that every load of the recurrent weights serves two (the
/// AVX-512 kernel's 26 accumulators). Two pairs in lockstep, for the CPU to overlap one pair's gates with the
/// other's multiply-adds, measured no faster.
const GROUP: usize = 2;

/// Groups consecutive documents of `order` that `can_group` with the group's first; a group left short is
/// filled up with copies of its first document (computed, then ignored).
fn group_up(order: &[usize], can_group: impl Fn(usize, usize) -> bool) -> Vec<[usize; GROUP]> {
    let mut groups = Vec::with_capacity(order.len().div_ceil(GROUP));
    let mut rest = order;
    while let [first, ..] = rest {
        let mut group = [*first; GROUP];
        let mut taken = 1;
        while taken < GROUP && taken < rest.len() && can_group(*first, rest[taken]) {
            group[taken] = rest[taken];
            taken += 1;
        }
        groups.push(group);
        rest = &rest[taken..];
    }
    groups
}

/// Reads one f32 tensor of the expected shape.
fn tensor(st: &SafeTensors<'_>, name: &str, shape: &[usize], path: &Path) -> Result<Vec<f32>> {
    crate::export::f32_tensor(st, name, shape).map_err(|reason| ScoreError::ModelFormat {
        path: path.to_path_buf(),
        reason,
    })
}

impl BiLstmClassifier {
    /// Loads `model.safetensors` as written by `scripts/score/export_tox_block.py`; `max_len` is the
    /// tokenizer's sequence length.
    pub fn load(path: &Path, max_len: usize) -> Result<Self> {
        let bytes = crate::export::read_bytes(path)?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| ScoreError::ModelFormat {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let emb_shape = st
            .tensor("embedding")
            .map(|v| v.shape().to_vec())
            .map_err(|e| ScoreError::ModelFormat {
                path: path.to_path_buf(),
                reason: format!("embedding: {e}"),
            })?;
        let [vocab, dim] = emb_shape[..] else {
            return Err(ScoreError::ModelFormat {
                path: path.to_path_buf(),
                reason: "embedding is not 2-D".into(),
            });
        };
        let units = st
            .tensor("forward.bias")
            .map(|v| v.shape().first().copied().unwrap_or(0) / 4)
            .map_err(|e| ScoreError::ModelFormat {
                path: path.to_path_buf(),
                reason: format!("forward.bias: {e}"),
            })?;
        if units == 0 {
            return Err(ScoreError::ModelFormat {
                path: path.to_path_buf(),
                reason: "forward.bias is empty: the LSTM has no units".into(),
            });
        }
        let embedding = tensor(&st, "embedding", &[vocab, dim], path)?;
        let lstm = |dir: &str| -> Result<Lstm> {
            Ok(Lstm::new(
                &tensor(&st, &format!("{dir}.kernel"), &[dim, 4 * units], path)?,
                &tensor(&st, &format!("{dir}.recurrent_kernel"), &[units, 4 * units], path)?,
                &tensor(&st, &format!("{dir}.bias"), &[4 * units], path)?,
                &embedding,
                dim,
            ))
        };
        let hidden = st
            .tensor("dense.bias")
            .map(|v| v.shape().first().copied().unwrap_or(0))
            .unwrap_or(0);
        Ok(Self::new(
            vocab,
            [lstm("forward")?, lstm("backward")?],
            (
                tensor(&st, "dense.kernel", &[2 * units, hidden], path)?,
                tensor(&st, "dense.bias", &[hidden], path)?,
            ),
            (
                tensor(&st, "dense_1.kernel", &[hidden, NUM_LABELS], path)?,
                tensor(&st, "dense_1.bias", &[NUM_LABELS], path)?,
            ),
            max_len,
        ))
    }

    fn new(
        vocab: usize,
        [forward, backward]: [Lstm; 2],
        dense: (Vec<f32>, Vec<f32>),
        dense_out: (Vec<f32>, Vec<f32>),
        max_len: usize,
    ) -> Self {
        let kernel = Kernel::best_for([&forward, &backward]);
        Self {
            vocab,
            padded_prefix: forward.repeated_steps(0, max_len),
            forward,
            backward,
            dense,
            dense_out,
            kernel,
        }
    }

    /// Number of embedding rows; ids must be below it.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// The projection row of `id`. The tokenizer stays below num_words (checked against the vocabulary at
    /// load); an out-of-range id falls back to the padding row rather than panicking.
    fn row(&self, id: u32) -> u32 {
        if (id as usize) < self.vocab {
            id
        } else {
            0
        }
    }

    /// The six label probabilities for one padded id sequence.
    pub fn predict(&self, ids: &[u32]) -> [f32; NUM_LABELS] {
        self.predict_group([ids; GROUP])[0]
    }

    /// The six label probabilities for each padded id sequence, in input order, in parallel.
    pub fn predict_batch(&self, sequences: &[Vec<u32>]) -> Vec<[f32; NUM_LABELS]> {
        // Sorted by length and then padding, neighbours can run in lockstep from nearly the same step.
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        order.sort_by_key(|&i| (sequences[i].len(), leading_padding(&sequences[i])));
        let groups = group_up(&order, |a, b| sequences[a].len() == sequences[b].len());
        let probabilities: Vec<[[f32; NUM_LABELS]; GROUP]> = groups
            .par_iter()
            .map(|group| self.predict_group(group.map(|d| sequences[d].as_slice())))
            .collect();
        let mut out = vec![[0.0; NUM_LABELS]; sequences.len()];
        for (group, probabilities) in groups.into_iter().zip(probabilities) {
            for (d, p) in group.into_iter().zip(probabilities) {
                out[d] = p;
            }
        }
        out
    }

    /// A group of sequences of equal length in lockstep.
    fn predict_group(&self, ids: [&[u32]; GROUP]) -> [[f32; NUM_LABELS]; GROUP] {
        let rows = ids.map(|ids| ids.iter().map(|&id| self.row(id)).collect::<Vec<u32>>());
        // Forward direction: start from the shared padding prefix of the least padded document; the others run
        // their remaining padding steps explicitly.
        let start = ids
            .iter()
            .map(|ids| leading_padding(ids))
            .min()
            .unwrap_or(0)
            .min(self.padded_prefix.len() - 1);
        let mut forward: [LstmState; GROUP] = std::array::from_fn(|_| self.padded_prefix[start].clone());
        self.kernel
            .run_group(&self.forward, &std::array::from_fn(|d| &rows[d][start..]), &mut forward);
        // Backward direction (`go_backwards`): last time step first. Its outputs are re-reversed by
        // Bidirectional, which the max-pool over time does not see.
        let reversed = rows.map(|rows| rows.into_iter().rev().collect::<Vec<u32>>());
        let mut backward: [LstmState; GROUP] = std::array::from_fn(|_| self.backward.initial_state());
        self.kernel.run_group(
            &self.backward,
            &std::array::from_fn(|d| reversed[d].as_slice()),
            &mut backward,
        );
        std::array::from_fn(|d| self.head(&forward[d], &backward[d]))
    }

    /// GlobalMaxPool1D over the concatenated (forward, backward) outputs, then the two dense layers.
    fn head(&self, forward: &LstmState, backward: &LstmState) -> [f32; NUM_LABELS] {
        let units = self.forward.units;
        // An empty sequence leaves the max at -inf; it never reaches here from the tokenizer (which always
        // pads to max_len), but guard anyway so -inf cannot leak.
        let pooled: Vec<f32> = flat(&forward.max)[..units]
            .iter()
            .chain(&flat(&backward.max)[..units])
            .map(|&m| if m.is_finite() { m } else { 0.0 })
            .collect();
        let mut hidden = vec![0.0; self.dense.1.len()];
        affine(&pooled, &self.dense.0, &self.dense.1, &mut hidden);
        hidden.iter_mut().for_each(|h| *h = h.max(0.0));
        let mut logits = [0.0; NUM_LABELS];
        affine(&hidden, &self.dense_out.0, &self.dense_out.1, &mut logits);
        logits.map(sigmoid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random stream in [-scale, scale) (xorshift), for synthetic weights.
    fn noise(seed: u64, len: usize, scale: f32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    /// tox-block's shape (50 units, so the AVX-512 kernel fits) on a small vocabulary of random weights.
    fn synthetic(vocab: usize, max_len: usize) -> BiLstmClassifier {
        let (dim, units, hidden) = (8, 50, 12);
        let embedding = noise(1, vocab * dim, 1.0);
        let lstm = |seed| {
            Lstm::new(
                &noise(seed, dim * 4 * units, 0.5),
                &noise(seed + 1, units * 4 * units, 0.3),
                &noise(seed + 2, 4 * units, 0.5),
                &embedding,
                dim,
            )
        };
        BiLstmClassifier::new(
            vocab,
            [lstm(10), lstm(20)],
            (noise(30, 2 * units * hidden, 0.5), noise(31, hidden, 0.5)),
            (noise(32, hidden * NUM_LABELS, 0.5), noise(33, NUM_LABELS, 0.5)),
            max_len,
        )
    }

    /// Left-padded sequences of varied padding, including none and all.
    fn sequences(vocab: u32, max_len: usize) -> Vec<Vec<u32>> {
        (0..=max_len)
            .step_by(7)
            .chain([max_len, 0, 1, 3])
            .enumerate()
            .map(|(n, pads)| {
                let ids = (0..max_len - pads).map(|i| (i as u32 * 7 + n as u32 * 13) % (vocab - 1) + 1);
                std::iter::repeat_n(0, pads).chain(ids).collect()
            })
            .collect()
    }

    /// One document at a time through the portable steps, without the padding prefix or pairing.
    fn reference(model: &BiLstmClassifier, ids: &[u32]) -> [f32; NUM_LABELS] {
        let mut z = vec![0.0; model.forward.stride];
        let (mut forward, mut backward) = (model.forward.initial_state(), model.backward.initial_state());
        for &id in ids {
            model.forward.step(id as usize, &mut forward, &mut z);
        }
        for &id in ids.iter().rev() {
            model.backward.step(id as usize, &mut backward, &mut z);
        }
        model.head(&forward, &backward)
    }

    fn max_difference(a: &[[f32; NUM_LABELS]], b: &[[f32; NUM_LABELS]]) -> f32 {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn batches_match_one_document_at_a_time_on_every_kernel() {
        let mut model = synthetic(40, 30);
        let seqs = sequences(40, 30);
        let expected: Vec<_> = seqs.iter().map(|s| reference(&model, s)).collect();
        // Probabilities spread out, so the comparison means something.
        let toxic: Vec<f32> = expected.iter().map(|p| p[0]).collect();
        let spread = toxic.iter().fold(0.0_f32, |m, &p| m.max(p)) - toxic.iter().fold(1.0_f32, |m, &p| m.min(p));
        assert!(spread > 0.05, "{toxic:?}");
        let best = model.kernel;
        #[cfg(target_arch = "x86_64")]
        if super::super::lstm_avx512::available() {
            assert_eq!(best, Kernel::Avx512);
        }
        for kernel in [Kernel::Portable, best] {
            model.kernel = kernel;
            let batched = model.predict_batch(&seqs);
            assert!(max_difference(&batched, &expected) < 1e-5, "{kernel:?}");
            let single: Vec<_> = seqs.iter().map(|s| model.predict(s)).collect();
            assert!(max_difference(&single, &expected) < 1e-5, "{kernel:?}");
        }
    }

    #[test]
    fn out_of_range_ids_read_the_padding_row() {
        let model = synthetic(40, 6);
        assert_eq!(model.predict(&[0, 3, 1000, 5]), model.predict(&[0, 3, 0, 5]));
    }

    #[test]
    fn groups_only_what_may_run_together() {
        assert_eq!(GROUP, 2, "the expected groups below are pairs");
        let lengths = [3, 3, 4, 3, 5, 5, 5, 6];
        let groups = group_up(&[0, 1, 3, 2, 4, 5, 6, 7], |a, b| lengths[a] == lengths[b]);
        assert_eq!(groups, [[0, 1], [3, 3], [2, 2], [4, 5], [6, 6], [7, 7]]);
        assert!(group_up(&[], |_, _| true).is_empty());
    }
}
