//! tox-block's network, inference only, following Keras 2 (TF 2.x) semantics exactly:
//!
//! ```text
//! ids (T=100) ─ Embedding 20000×50 ─▶ (T, 50)
//!   ─ Bidirectional(LSTM 50, return_sequences, merge concat) ─▶ (T, 100)
//!   ─ GlobalMaxPool1D ─▶ (100) ─ Dense 50 + ReLU ─▶ (50) ─ Dense 6 + sigmoid ─▶ (6)
//! ```
//! The LSTM gates use `hard_sigmoid`, which in Keras 2 is `clip(0.2x + 0.5, 0, 1)` (Keras 3 changed it to
//! `relu6(x + 3) / 6`; the model was trained and is scored with the Keras 2 form). Kernels are stored
//! `(input, 4·units)` with gates in the order i, f, c, o. Padding id 0 is embedded and run through the LSTM
//! (`mask_zero=false`), so the padding steps count in the max-pool — as in the reference.
//! Dropout layers are identity at inference.

use std::path::Path;

use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Result, ScoreError};

/// Number of output labels.
pub const NUM_LABELS: usize = 6;

/// One LSTM direction's weights.
#[derive(Debug, Clone)]
struct Lstm {
    /// (input, 4·units), gates i, f, c, o.
    kernel: Vec<f32>,
    /// (units, 4·units).
    recurrent_kernel: Vec<f32>,
    /// (4·units).
    bias: Vec<f32>,
    /// (vocab, 4·units): `embedding[id]·kernel + bias` for every id. The LSTM's input is always an embedding
    /// row, so its input projection is computed once at load rather than at every step: half the work per step.
    input_projection: Vec<f32>,
}

/// Hidden and cell state of one LSTM direction plus the running max of its outputs (the max-pool).
#[derive(Debug, Clone)]
struct LstmState {
    h: Vec<f32>,
    c: Vec<f32>,
    max: Vec<f32>,
}

/// Keras 2 `hard_sigmoid`.
fn hard_sigmoid(x: f32) -> f32 {
    (0.2 * x + 0.5).clamp(0.0, 1.0)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `out = bias + x · w` for a row-major `w` of shape (x.len(), out.len()).
fn affine(x: &[f32], w: &[f32], bias: &[f32], out: &mut [f32]) {
    out.copy_from_slice(bias);
    for (xi, row) in x.iter().zip(w.chunks_exact(out.len())) {
        for (o, wij) in out.iter_mut().zip(row) {
            *o += xi * wij;
        }
    }
}

impl Lstm {
    fn units(&self) -> usize {
        self.bias.len() / 4
    }

    fn initial_state(&self) -> LstmState {
        let u = self.units();
        LstmState {
            h: vec![0.0; u],
            c: vec![0.0; u],
            max: vec![f32::NEG_INFINITY; u],
        }
    }

    /// Fills `input_projection` from the embedding table, row-major (vocab, dim).
    fn project_inputs(&mut self, embedding: &[f32], dim: usize) {
        let width = self.bias.len();
        let mut table = vec![0.0; embedding.len() / dim * width];
        table
            .par_chunks_mut(width)
            .zip(embedding.par_chunks(dim))
            .for_each(|(out, x)| {
                affine(x, &self.kernel, &self.bias, out);
            });
        self.input_projection = table;
    }

    /// One time step on the token with embedding row `row`; `z` is scratch of length 4·units.
    fn step(&self, row: usize, state: &mut LstmState, z: &mut [f32]) {
        let u = self.units();
        // z = (x·W + b) + h·U   (4u); the bracket comes precomputed per token.
        z.copy_from_slice(&self.input_projection[row * 4 * u..(row + 1) * 4 * u]);
        for (hi, row) in state.h.iter().zip(self.recurrent_kernel.chunks_exact(4 * u)) {
            for (zj, uij) in z.iter_mut().zip(row) {
                *zj += hi * uij;
            }
        }
        for j in 0..u {
            let i = hard_sigmoid(z[j]);
            let f = hard_sigmoid(z[u + j]);
            let candidate = z[2 * u + j].tanh();
            let o = hard_sigmoid(z[3 * u + j]);
            state.c[j] = f * state.c[j] + i * candidate;
            state.h[j] = o * state.c[j].tanh();
            state.max[j] = state.max[j].max(state.h[j]);
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
    /// padding, so this prefix of the recurrence is computed once (same arithmetic, same result).
    padded_prefix: Vec<LstmState>,
}

/// Reads one f32 tensor of the expected shape.
fn tensor(st: &SafeTensors<'_>, name: &str, shape: &[usize], path: &Path) -> Result<Vec<f32>> {
    let format_err = |reason: String| ScoreError::ModelFormat {
        path: path.to_path_buf(),
        reason,
    };
    let view = st
        .tensor(name)
        .map_err(|e| format_err(format!("tensor `{name}`: {e}")))?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(format_err(format!(
            "tensor `{name}` is {:?} {:?}, expected F32 {shape:?}",
            view.dtype(),
            view.shape()
        )));
    }
    Ok(view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

impl BiLstmClassifier {
    /// Loads `model.safetensors` as written by `scripts/score/export_tox_block.py`; `max_len` is the
    /// tokenizer's sequence length.
    pub fn load(path: &Path, max_len: usize) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| ScoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
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
        let lstm = |dir: &str| -> Result<Lstm> {
            Ok(Lstm {
                kernel: tensor(&st, &format!("{dir}.kernel"), &[dim, 4 * units], path)?,
                recurrent_kernel: tensor(&st, &format!("{dir}.recurrent_kernel"), &[units, 4 * units], path)?,
                bias: tensor(&st, &format!("{dir}.bias"), &[4 * units], path)?,
                input_projection: Vec::new(),
            })
        };
        let hidden = st
            .tensor("dense.bias")
            .map(|v| v.shape().first().copied().unwrap_or(0))
            .unwrap_or(0);
        let embedding = tensor(&st, "embedding", &[vocab, dim], path)?;
        let (mut forward, mut backward) = (lstm("forward")?, lstm("backward")?);
        forward.project_inputs(&embedding, dim);
        backward.project_inputs(&embedding, dim);
        let mut model = Self {
            vocab,
            forward,
            backward,
            dense: (
                tensor(&st, "dense.kernel", &[2 * units, hidden], path)?,
                tensor(&st, "dense.bias", &[hidden], path)?,
            ),
            dense_out: (
                tensor(&st, "dense_1.kernel", &[hidden, NUM_LABELS], path)?,
                tensor(&st, "dense_1.bias", &[NUM_LABELS], path)?,
            ),
            padded_prefix: Vec::new(),
        };
        model.padded_prefix = model.padding_prefix_states(max_len);
        Ok(model)
    }

    /// Number of embedding rows; ids must be below it.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// The embedding row of `id`. The tokenizer stays below num_words (checked against the vocabulary at
    /// load); an out-of-range id falls back to the padding row rather than panicking.
    fn row(&self, id: u32) -> usize {
        if (id as usize) < self.vocab {
            id as usize
        } else {
            0
        }
    }

    fn padding_prefix_states(&self, max_len: usize) -> Vec<LstmState> {
        let mut z = vec![0.0; 4 * self.forward.units()];
        let mut state = self.forward.initial_state();
        let mut states = vec![state.clone()];
        for _ in 0..max_len {
            self.forward.step(0, &mut state, &mut z);
            states.push(state.clone());
        }
        states
    }

    /// The six label probabilities for one padded id sequence.
    pub fn predict(&self, ids: &[u32]) -> [f32; NUM_LABELS] {
        let mut z = vec![0.0; 4 * self.forward.units()];
        // Forward direction: reuse the shared padding prefix, then run over the real tokens.
        let pads = ids.iter().take_while(|&&id| id == 0).count();
        let mut fw = match self.padded_prefix.get(pads) {
            Some(state) => state.clone(),
            None => self.forward.initial_state(),
        };
        let start = if pads < self.padded_prefix.len() { pads } else { 0 };
        for &id in &ids[start..] {
            self.forward.step(self.row(id), &mut fw, &mut z);
        }
        // Backward direction (`go_backwards`): last time step first. Its outputs are re-reversed by
        // Bidirectional, which the max-pool over time does not see.
        let mut bw = self.backward.initial_state();
        for &id in ids.iter().rev() {
            self.backward.step(self.row(id), &mut bw, &mut z);
        }
        // GlobalMaxPool1D over the concatenated (forward, backward) outputs. An empty sequence never reaches
        // here (the tokenizer always pads to max_len); guard anyway so -inf cannot leak.
        let pooled: Vec<f32> = fw
            .max
            .iter()
            .chain(&bw.max)
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

    #[test]
    fn hard_sigmoid_is_the_keras_2_form() {
        assert_eq!(hard_sigmoid(0.0), 0.5);
        assert_eq!(hard_sigmoid(1.0), 0.7);
        assert_eq!(hard_sigmoid(3.0), 1.0);
        assert_eq!(hard_sigmoid(-2.5), 0.0);
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
        // units = 1, input = 1: z = x·W + b (h = 0) = [0.5, 1.0, 0.25, -1.0] for x = 1.
        let mut lstm = Lstm {
            kernel: vec![0.5, 1.0, 0.25, -1.0],
            recurrent_kernel: vec![0.0; 4],
            bias: vec![0.0; 4],
            input_projection: Vec::new(),
        };
        // A one-word vocabulary whose embedding is [1.0].
        lstm.project_inputs(&[1.0], 1);
        let mut state = lstm.initial_state();
        let mut z = vec![0.0; 4];
        lstm.step(0, &mut state, &mut z);
        let (i, o) = (0.6_f32, 0.3_f32); // hard_sigmoid(0.5), hard_sigmoid(-1.0)
        let c = i * 0.25_f32.tanh();
        assert!((state.c[0] - c).abs() < 1e-7);
        assert!((state.h[0] - o * c.tanh()).abs() < 1e-7);
        assert_eq!(state.max[0], state.h[0]);
    }
}
