//! The NER's own token-to-vector network (spaCy `Tok2Vec.v2`): `MultiHashEmbed.v2` over NORM, PREFIX, SUFFIX and
//! SHAPE, reduced by a maxout layer with layer normalisation, then `MaxoutWindowEncoder.v2` (four residual
//! maxout-CNN layers over a window of one token each side) and the parser model's linear projection to its hidden
//! width.

use std::ops::Range;
use std::sync::Arc;

use super::buffer::Buffer;
use super::quant::{self, QuantDense};
use super::vector;
use super::weights::{Dense, Rows, Weights};
use super::word_cache::{Keys, WordCache};
use crate::error::Result;

/// Width of every token vector inside the network.
pub const WIDTH: usize = 96;
const _: () = assert!(WIDTH == quant::SEG, "the quantised layers' segments are tokens");
/// Maxout pieces of the embedding reduction and of the encoder.
const PIECES: usize = 3;
/// Encoder layers; the receptive field is one token per layer each side.
const DEPTH: usize = 4;
/// Number of hashed attributes.
pub const ATTRS: usize = 4;
/// What one word contributes to the first encoder layer: its share of the maxout pieces as the left, middle and
/// right token of a window.
const PARTS: usize = 3 * PIECES * WIDTH;

/// Words whose embedding and first-layer parts are kept per generation of the [`WordCache`]: about 3.9 kB each,
/// so at most about 130 MB for the process with both generations full.
const CACHE_WORDS: usize = 16_384;

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
    /// The same affine map in 16-bit integers, for the encoder's window layers where the CPU runs it.
    quantised: Option<QuantDense>,
    gain: Vec<f32>,
    shift: Vec<f32>,
}

/// A thinc `Maxout` weight (`(nO, nP, nI)`) and bias regrouped piece-major (piece p of output o at p·WIDTH + o),
/// so that the maximum over the pieces compares whole contiguous vectors; output-major as [`Dense`] takes it.
fn piece_major(w: &Weights<'_>, stage: &str, n_in: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    let weight = w.tensor(&format!("{stage}.maxout.W"), &[WIDTH, PIECES, n_in])?;
    let bias = w.tensor(&format!("{stage}.maxout.b"), &[WIDTH, PIECES])?;
    let mut piece_major = vec![0.0; weight.len()];
    let mut piece_bias = vec![0.0; bias.len()];
    for o in 0..WIDTH {
        for p in 0..PIECES {
            let (from, to) = (o * PIECES + p, p * WIDTH + o);
            piece_major[to * n_in..(to + 1) * n_in].copy_from_slice(&weight[from * n_in..(from + 1) * n_in]);
            piece_bias[to] = bias[from];
        }
    }
    Ok((piece_major, piece_bias))
}

impl MaxoutNorm {
    /// The layer `stage`; with `quantise`, also in 16-bit integers where the CPU runs them.
    fn load(w: &Weights<'_>, stage: &str, n_in: usize, quantise: bool) -> Result<Self> {
        let (weight, bias) = piece_major(w, stage, n_in)?;
        let quantised = (quantise && quant::supported())
            .then(|| QuantDense::from_output_major(&weight, bias.clone(), WIDTH * PIECES, n_in));
        Ok(Self {
            affine: Dense::from_output_major(&weight, bias, WIDTH * PIECES, n_in),
            quantised,
            gain: w.tensor(&format!("{stage}.layernorm.G"), &[WIDTH])?,
            shift: w.tensor(&format!("{stage}.layernorm.b"), &[WIDTH])?,
        })
    }

    /// Rows of `x` (`n_in` wide) → rows of `out` (`rows × WIDTH`); `scratch` holds at least `rows × PIECES ·
    /// WIDTH` values.
    fn forward(&self, x: Rows<'_>, out: &mut [f32], scratch: &mut [f32]) {
        let len = x.count * WIDTH * PIECES;
        self.affine.forward_rows(x, &mut scratch[..len]);
        maxout_layer_norm_rows(&scratch[..len], &self.gain, &self.shift, out);
    }

    /// As [`Self::forward`] on the `count` windows of three consecutive rows of `tokens` (`count + 2` rows of
    /// `WIDTH`), in 16-bit integers if the layer has them.
    fn forward_windows(&self, tokens: &[f32], count: usize, out: &mut [f32], scratch: &mut [f32]) {
        let Some(quantised) = &self.quantised else {
            self.forward(Rows::new(tokens, 3 * WIDTH, WIDTH, count), out, scratch);
            return;
        };
        let len = count * WIDTH * PIECES;
        quantised.forward_windows(tokens, count, &mut scratch[..len]);
        maxout_layer_norm_rows(&scratch[..len], &self.gain, &self.shift, out);
    }
}

/// The maximum over the pieces and the layer norm: rows of `pieces` (`rows × PIECES·WIDTH`, piece-major) → rows
/// of `out` (`rows × WIDTH`).
fn maxout_layer_norm_rows(pieces: &[f32], gain: &[f32], shift: &[f32], out: &mut [f32]) {
    for (pieces, y) in pieces.chunks_exact(WIDTH * PIECES).zip(out.chunks_exact_mut(WIDTH)) {
        vector::maxout_layer_norm(pieces, gain, shift, y);
    }
}

/// The first encoder layer, computed from what each word contributes to it ([`PARTS`], cached with the word)
/// instead of from its windows: a window's maxout pieces are the bias plus its three tokens' parts.
#[derive(Debug, Clone)]
struct FirstLayer {
    /// The layer's weights split by window position, as one map from a reduced embedding to its [`PARTS`]:
    /// `parts[j·PIECES·WIDTH + o]` is what the token adds to piece-major output `o` of a window in which it is at
    /// position `j` (left, middle, right). No bias: the layer adds it once per window.
    parts: Dense,
    /// The maxout bias, piece-major.
    bias: Vec<f32>,
    gain: Vec<f32>,
    shift: Vec<f32>,
}

impl FirstLayer {
    fn load(w: &Weights<'_>) -> Result<Self> {
        let (weight, bias) = piece_major(w, "encode.0", 3 * WIDTH)?;
        let n_pieces = PIECES * WIDTH;
        let mut parts = vec![0.0; PARTS * WIDTH];
        for j in 0..3 {
            for o in 0..n_pieces {
                let from = o * 3 * WIDTH + j * WIDTH;
                let to = (j * n_pieces + o) * WIDTH;
                parts[to..to + WIDTH].copy_from_slice(&weight[from..from + WIDTH]);
            }
        }
        Ok(Self {
            parts: Dense::from_output_major(&parts, vec![0.0; PARTS], PARTS, WIDTH),
            bias,
            gain: w.tensor("encode.0.layernorm.G", &[WIDTH])?,
            shift: w.tensor("encode.0.layernorm.b", &[WIDTH])?,
        })
    }

    /// Rows `rows` of the padded document (whose rows `DEPTH..` are the tokens of `words`, each with its cached
    /// embedding and parts) → rows of `out`; `scratch` holds at least `rows × PIECES · WIDTH` values.
    fn forward(&self, words: &[Arc<[f32]>], rows: Range<usize>, out: &mut [f32], scratch: &mut [f32]) {
        let n_pieces = PIECES * WIDTH;
        let len = rows.len() * n_pieces;
        for (t, pieces) in rows.zip(scratch[..len].chunks_exact_mut(n_pieces)) {
            pieces.copy_from_slice(&self.bias);
            // the window's tokens t - 1, t, t + 1; the padding's parts are zero
            for j in 0..3 {
                if let Some(word) = (t + j - 1).checked_sub(DEPTH).and_then(|w| words.get(w)) {
                    vector::add_assign(pieces, &word[WIDTH + j * n_pieces..][..n_pieces]);
                }
            }
        }
        maxout_layer_norm_rows(&scratch[..len], &self.gain, &self.shift, out);
    }
}

/// The whole network, from attribute keys to the parser's hidden-width token vectors.
#[derive(Debug)]
pub struct Tok2Vec {
    embeds: Vec<HashEmbed>,
    reduce: MaxoutNorm,
    first: FirstLayer,
    /// The encoder's other layers.
    encode: Vec<MaxoutNorm>,
    /// Per key set: the reduced embedding followed by its first-layer parts (`WIDTH + PARTS` values).
    words: WordCache,
    project: Dense,
}

impl Tok2Vec {
    /// Loads the layers; `rows` and `seeds` are the hash tables' sizes and seeds from the manifest. With
    /// `quantise`, the encoder's window layers run in 16-bit integers where the CPU can ([`quant`]).
    pub fn load(w: &Weights<'_>, rows: &[u32], seeds: &[u32], hidden: usize, quantise: bool) -> Result<Self> {
        let mut embeds = Vec::with_capacity(ATTRS);
        for (i, (&rows, &seed)) in rows.iter().zip(seeds).enumerate() {
            embeds.push(HashEmbed {
                table: w.tensor(&format!("embed.{i}.E"), &[rows as usize, WIDTH])?,
                rows,
                seed,
            });
        }
        let encode = (1..DEPTH)
            .map(|i| MaxoutNorm::load(w, &format!("encode.{i}"), 3 * WIDTH, quantise))
            .collect::<Result<_>>()?;
        let project_w = w.tensor("project.W", &[hidden, WIDTH])?;
        let project_b = w.tensor("project.b", &[hidden])?;
        Ok(Self {
            embeds,
            reduce: MaxoutNorm::load(w, "reduce", ATTRS * WIDTH, false)?,
            first: FirstLayer::load(w)?,
            encode,
            words: WordCache::new(CACHE_WORDS),
            project: Dense::from_output_major(&project_w, project_b, hidden, WIDTH),
        })
    }

    /// Whether the encoder's window layers run in 16-bit integers.
    pub fn is_quantised(&self) -> bool {
        self.encode.iter().all(|layer| layer.quantised.is_some())
    }

    /// Width of the output vectors (the parser's hidden width).
    pub fn n_out(&self) -> usize {
        self.project.n_out
    }

    /// Empties the cache of per-word results (for benchmarks, which must not time a text whose words they cached
    /// by timing it before).
    pub fn clear_cache(&self) {
        self.words.clear();
    }

    /// Each token's cached values: its embedding (hash embeddings reduced by maxout and layer norm, `WIDTH`
    /// values) followed by its first-layer parts (`PARTS` values). Both depend on the keys alone, so they are
    /// computed once per key set and cached (words repeat).
    fn embed(&self, keys: &[Keys]) -> Vec<Arc<[f32]>> {
        let cached: Vec<Option<Arc<[f32]>>> = keys.iter().map(|key| self.words.get(key)).collect();
        let mut missing: Vec<Keys> = keys
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(k, _)| *k)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut computed: Vec<Arc<[f32]>> = Vec::with_capacity(missing.len());
        if !missing.is_empty() {
            let mut hashed = vec![0.0; missing.len() * ATTRS * WIDTH];
            for (row, key) in hashed.chunks_exact_mut(ATTRS * WIDTH).zip(&missing) {
                for ((embed, out), &k) in self.embeds.iter().zip(row.chunks_exact_mut(WIDTH)).zip(key) {
                    embed.add_to(k, out);
                }
            }
            let mut reduced = vec![0.0; missing.len() * WIDTH];
            self.reduce.forward(
                Rows::contiguous(&hashed, ATTRS * WIDTH),
                &mut reduced,
                &mut Buffer::new(missing.len() * PIECES * WIDTH),
            );
            let mut parts = vec![0.0; missing.len() * PARTS];
            self.first.parts.forward(&reduced, &mut parts);
            for ((key, r), p) in missing
                .iter()
                .zip(reduced.chunks_exact(WIDTH))
                .zip(parts.chunks_exact(PARTS))
            {
                let value: Arc<[f32]> = [r, p].concat().into();
                self.words.insert(key, Arc::clone(&value));
                computed.push(value);
            }
        }
        keys.iter()
            .zip(cached)
            .map(|(key, cached)| {
                cached.unwrap_or_else(|| {
                    let i = missing.binary_search(key).expect("every missing key was computed");
                    Arc::clone(&computed[i])
                })
            })
            .collect()
    }

    /// The encoder's output (`tokens × WIDTH`) for tokens with these attribute keys (NORM, PREFIX, SUFFIX,
    /// SHAPE ids each).
    /// The document's rows are `DEPTH..DEPTH + tokens` of the returned buffer.
    fn encode(&self, keys: &[Keys]) -> Buffer {
        let n = keys.len();
        // thinc runs the encoder over the document with DEPTH zero rows on each side (`with_array(pad=…)`); they
        // pass through the layers like tokens and so feed the edge tokens' windows from the second layer on.
        let padded = n + 2 * DEPTH;
        let words = self.embed(keys);
        let mut x = Buffer::new(padded * WIDTH);
        x[..DEPTH * WIDTH].fill(0.0);
        x[(DEPTH + n) * WIDTH..].fill(0.0);
        for (row, word) in x[DEPTH * WIDTH..].chunks_exact_mut(WIDTH).zip(&words) {
            row.copy_from_slice(&word[..WIDTH]);
        }
        let mut scratch = Buffer::new(padded * PIECES * WIDTH);
        let mut y = Buffer::new(padded * WIDTH);
        // Layer k only needs the rows within DEPTH - 1 - k of the document: the others cannot reach it any more.
        for k in 0..DEPTH {
            let rows = k + 1..padded - k - 1;
            let y = &mut y[..rows.len() * WIDTH];
            match k.checked_sub(1) {
                None => self.first.forward(&words, rows.clone(), y, &mut scratch),
                Some(layer) => {
                    // Row t's window is rows t - 1..=t + 1 of x.
                    let tokens = &x[(rows.start - 1) * WIDTH..(rows.end + 1) * WIDTH];
                    self.encode[layer].forward_windows(tokens, rows.len(), y, &mut scratch);
                }
            }
            vector::add_assign(&mut x[rows.start * WIDTH..rows.end * WIDTH], y);
        }
        x
    }

    /// The parser's token vectors (`tokens × n_out`).
    pub fn forward(&self, keys: &[Keys]) -> Buffer {
        let encoded = self.encode(keys);
        let mut out = Buffer::new(keys.len() * self.project.n_out);
        self.project
            .forward(&encoded[DEPTH * WIDTH..(DEPTH + keys.len()) * WIDTH], &mut out);
        out
    }
}
