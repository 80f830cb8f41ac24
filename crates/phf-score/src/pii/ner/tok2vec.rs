//! The NER's own token-to-vector network (spaCy `Tok2Vec.v2`): `MultiHashEmbed.v2` over NORM, PREFIX, SUFFIX and
//! SHAPE, reduced by a maxout layer with layer normalisation, then `MaxoutWindowEncoder.v2` (four residual
//! maxout-CNN layers over a window of one token each side) and the parser model's linear projection to its hidden
//! width.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::weights::{Dense, Weights};
use crate::error::Result;

/// Width of every token vector inside the network.
pub const WIDTH: usize = 96;
/// Maxout pieces of the embedding reduction and of the encoder.
const PIECES: usize = 3;
/// Encoder layers; the receptive field is one token per layer each side.
const DEPTH: usize = 4;
/// Number of hashed attributes.
pub const ATTRS: usize = 4;

/// Key sets a thread's embedding cache holds before it starts afresh.
const CACHE_WORDS: usize = 50_000;

/// Tells networks apart in the per-thread caches.
static NEXT_TOK2VEC: AtomicU64 = AtomicU64::new(0);

/// A thread's cache: the network it belongs to and the reduced embedding of each key set.
type ReducedCache = (u64, HashMap<[u64; ATTRS], [f32; WIDTH]>);

thread_local! {
    static REDUCED: RefCell<ReducedCache> = RefCell::new((u64::MAX, HashMap::new()));
}

/// Empties this thread's cache of reduced embeddings, for benchmarks that must not find the words of a text they
/// time already cached from timing it before.
pub fn clear_thread_cache() {
    REDUCED.with(|cache| cache.borrow_mut().1.clear());
}

/// thinc `HashEmbed`: each key picks four rows (hash words modulo the row count) that are summed.
#[derive(Debug, Clone)]
struct HashEmbed {
    table: Vec<f32>,
    rows: u32,
    seed: u32,
}

impl HashEmbed {
    fn add_to(&self, key: u64, out: &mut [f32]) {
        for word in super::hash::embed_rows(key, self.seed) {
            let row = (word % self.rows) as usize;
            for (o, &e) in out.iter_mut().zip(&self.table[row * WIDTH..(row + 1) * WIDTH]) {
                *o += e;
            }
        }
    }
}

/// thinc `Maxout` (`W` of shape `(nO, nP, nI)`) followed by `LayerNorm`.
#[derive(Debug, Clone)]
struct MaxoutNorm {
    affine: Dense,
    gain: Vec<f32>,
    shift: Vec<f32>,
}

impl MaxoutNorm {
    fn load(w: &Weights<'_>, stage: &str, n_in: usize) -> Result<Self> {
        let weight = w.tensor(&format!("{stage}.maxout.W"), &[WIDTH, PIECES, n_in])?;
        let bias = w.tensor(&format!("{stage}.maxout.b"), &[WIDTH, PIECES])?;
        // Outputs regrouped piece-major (piece p of output o at p·WIDTH + o), so that the maximum over the pieces
        // compares whole contiguous vectors.
        let mut piece_major = vec![0.0; weight.len()];
        let mut piece_bias = vec![0.0; bias.len()];
        for o in 0..WIDTH {
            for p in 0..PIECES {
                let (from, to) = (o * PIECES + p, p * WIDTH + o);
                piece_major[to * n_in..(to + 1) * n_in].copy_from_slice(&weight[from * n_in..(from + 1) * n_in]);
                piece_bias[to] = bias[from];
            }
        }
        Ok(Self {
            affine: Dense::from_output_major(&piece_major, piece_bias, WIDTH * PIECES, n_in),
            gain: w.tensor(&format!("{stage}.layernorm.G"), &[WIDTH])?,
            shift: w.tensor(&format!("{stage}.layernorm.b"), &[WIDTH])?,
        })
    }

    /// Rows of `x` (`rows × n_in`) → rows of `out` (`rows × WIDTH`); `scratch` is reused between calls.
    fn forward(&self, x: &[f32], out: &mut [f32], scratch: &mut Vec<f32>) {
        let rows = x.len() / self.affine.n_in;
        scratch.clear();
        scratch.resize(rows * WIDTH * PIECES, 0.0);
        self.affine.forward(x, scratch);
        for (pieces, y) in scratch.chunks_exact(WIDTH * PIECES).zip(out.chunks_exact_mut(WIDTH)) {
            y.copy_from_slice(&pieces[..WIDTH]);
            for piece in pieces[WIDTH..].chunks_exact(WIDTH) {
                for (o, &v) in y.iter_mut().zip(piece) {
                    *o = o.max(v);
                }
            }
            layer_norm(y, &self.gain, &self.shift);
        }
    }
}

/// thinc `LayerNorm`: zero mean, unit variance (plus 1e-8), then gain and shift.
fn layer_norm(y: &mut [f32], gain: &[f32], shift: &[f32]) {
    let n = y.len() as f32;
    let mean = y.iter().sum::<f32>() / n;
    let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n + 1e-8;
    let scale = 1.0 / var.sqrt();
    for ((v, g), s) in y.iter_mut().zip(gain).zip(shift) {
        *v = (*v - mean) * scale * g + s;
    }
}

/// The whole network, from attribute keys to the parser's hidden-width token vectors.
#[derive(Debug, Clone)]
pub struct Tok2Vec {
    embeds: Vec<HashEmbed>,
    reduce: MaxoutNorm,
    encode: Vec<MaxoutNorm>,
    project: Dense,
    /// This network's key in the per-thread caches.
    cache_id: u64,
}

impl Tok2Vec {
    /// Loads the layers; `rows` and `seeds` are the hash tables' sizes and seeds from the manifest.
    pub fn load(w: &Weights<'_>, rows: &[u32], seeds: &[u32], hidden: usize) -> Result<Self> {
        let mut embeds = Vec::with_capacity(ATTRS);
        for (i, (&rows, &seed)) in rows.iter().zip(seeds).enumerate() {
            embeds.push(HashEmbed {
                table: w.tensor(&format!("embed.{i}.E"), &[rows as usize, WIDTH])?,
                rows,
                seed,
            });
        }
        let encode = (0..DEPTH)
            .map(|i| MaxoutNorm::load(w, &format!("encode.{i}"), 3 * WIDTH))
            .collect::<Result<_>>()?;
        let project_w = w.tensor("project.W", &[hidden, WIDTH])?;
        let project_b = w.tensor("project.b", &[hidden])?;
        Ok(Self {
            embeds,
            reduce: MaxoutNorm::load(w, "reduce", ATTRS * WIDTH)?,
            encode,
            project: Dense::from_output_major(&project_w, project_b, hidden, WIDTH),
            cache_id: NEXT_TOK2VEC.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Width of the output vectors (the parser's hidden width).
    pub fn n_out(&self) -> usize {
        self.project.n_out
    }

    /// The embedding of each token (`tokens × WIDTH`): hash embeddings reduced by maxout and layer norm. It
    /// depends on the keys alone, so each thread caches it per key set (words repeat).
    fn embed(&self, keys: &[[u64; ATTRS]], out: &mut [f32]) {
        REDUCED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.0 != self.cache_id || cache.1.len() >= CACHE_WORDS {
                cache.0 = self.cache_id;
                cache.1.clear();
            }
            let mut missing = Vec::new();
            for (key, row) in keys.iter().zip(out.chunks_exact_mut(WIDTH)) {
                match cache.1.get(key) {
                    Some(v) => row.copy_from_slice(v),
                    None => missing.push(*key),
                }
            }
            if missing.is_empty() {
                return;
            }
            missing.sort_unstable();
            missing.dedup();
            let mut embedded = vec![0.0; missing.len() * ATTRS * WIDTH];
            for (row, key) in embedded.chunks_exact_mut(ATTRS * WIDTH).zip(&missing) {
                for ((embed, out), &k) in self.embeds.iter().zip(row.chunks_exact_mut(WIDTH)).zip(key) {
                    embed.add_to(k, out);
                }
            }
            let mut reduced = vec![0.0; missing.len() * WIDTH];
            self.reduce.forward(&embedded, &mut reduced, &mut Vec::new());
            for (key, v) in missing.iter().zip(reduced.chunks_exact(WIDTH)) {
                cache.1.insert(*key, v.try_into().expect("WIDTH values"));
            }
            for (key, row) in keys.iter().zip(out.chunks_exact_mut(WIDTH)) {
                if let Some(v) = cache.1.get(key) {
                    row.copy_from_slice(v);
                }
            }
        });
    }

    /// The encoder's output (`tokens × WIDTH`) for tokens with these attribute keys (NORM, PREFIX, SUFFIX,
    /// SHAPE ids each).
    pub fn encode(&self, keys: &[[u64; ATTRS]]) -> Vec<f32> {
        let n = keys.len();
        // thinc runs the encoder over the document with DEPTH zero rows on each side (`with_array(pad=…)`); they
        // pass through the layers like tokens and so feed the edge tokens' windows from the second layer on.
        let padded = n + 2 * DEPTH;
        let mut x = vec![0.0; padded * WIDTH];
        self.embed(keys, &mut x[DEPTH * WIDTH..(DEPTH + n) * WIDTH]);
        let mut scratch = Vec::new();
        // Layer k only needs the rows within DEPTH - 1 - k of the document: the others cannot reach it any more.
        let mut window = vec![0.0; padded * 3 * WIDTH];
        let mut y = vec![0.0; padded * WIDTH];
        for (k, layer) in self.encode.iter().enumerate() {
            let rows = k + 1..padded - k - 1;
            let window = &mut window[..rows.len() * 3 * WIDTH];
            for (t, cols) in rows.clone().zip(window.chunks_exact_mut(3 * WIDTH)) {
                cols.copy_from_slice(&x[(t - 1) * WIDTH..(t + 2) * WIDTH]);
            }
            let y = &mut y[..rows.len() * WIDTH];
            layer.forward(window, y, &mut scratch);
            for (a, b) in x[rows.start * WIDTH..rows.end * WIDTH].iter_mut().zip(y.iter()) {
                *a += b;
            }
        }
        x.drain(..DEPTH * WIDTH);
        x.truncate(n * WIDTH);
        x
    }

    /// The parser's token vectors (`tokens × n_out`).
    pub fn forward(&self, keys: &[[u64; ATTRS]]) -> Vec<f32> {
        let encoded = self.encode(keys);
        let mut out = vec![0.0; keys.len() * self.project.n_out];
        self.project.forward(&encoded, &mut out);
        out
    }
}
