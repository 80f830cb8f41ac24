//! Capability as the KL divergence from a reference LM (SPEC §5): draw samples from the reference (temperature
//! 1, 64 tokens, no prompt), then estimate `KL(p_ref ‖ p_model) ≈ mean(log p_ref(x) − log p_model(x))`, the
//! evaluated model scoring each sample after its own prompt (EOS, plus its control tokens when conditional).
//!
//! When both models share a vocabulary (the evaluated model's tokenizer may extend the reference's with control
//! tokens) the sampled token ids are scored directly. Otherwise both models score the same *text*, each under its
//! own tokenizer: the estimate is then of the KL between the two models' distributions over strings.

use std::path::Path;

use phf_data::Tokenizer;
use phf_lm::{generate, Gpt, SampleOptions};
use serde::{Deserialize, Serialize};

use crate::likelihood::sequence_log_likelihoods;
use crate::EvalError;

/// One reference sample: its token ids (without EOS), text, and whether it ended with EOS before the limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceSample {
    pub ids: Vec<i64>,
    pub text: String,
    pub ended: bool,
}

/// Samples of the reference LM together with what identifies them, cached as JSON so every evaluated model is
/// compared on the very same draws.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceSamples {
    /// SHA-256 of the reference's weights file and its tokenizer hash.
    pub model_sha256: String,
    pub tokenizer_hash: String,
    pub seed: u64,
    pub max_tokens: usize,
    pub samples: Vec<ReferenceSample>,
}

/// How the KL was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlMode {
    /// Shared vocabulary: the sampled ids are scored by both models.
    Tokens,
    /// Different tokenizers: each model scores the sampled text under its own tokenizer.
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlEstimate {
    /// `mean(log p_ref(x) − log p_model(x))` in nats per sample.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub kl: f64,
    /// Monte-Carlo standard error of the mean.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub std_error: f64,
    pub num_samples: usize,
    pub mode: KlMode,
}

/// SPEC §5's reference sampling: `n` samples at temperature 1 without nucleus or top-k, `max_tokens` long, no
/// prompt but EOS; `banned` holds the reference's control tokens, if it has any.
pub fn reference_sample_options(n: usize, max_tokens: usize, seed: u64, banned: Vec<i64>) -> SampleOptions {
    SampleOptions {
        num_samples: n,
        batch_size: 256,
        max_new_tokens: max_tokens,
        min_new_tokens: 0,
        temperature: 1.0,
        top_p: 1.0,
        top_k: 0,
        banned_tokens: banned,
        seed,
    }
}

/// Draws the reference's samples with `opts` (see [`reference_sample_options`]).
pub fn draw_reference_samples(
    reference: &Gpt,
    tokenizer: &Tokenizer,
    opts: &SampleOptions,
    on_batch: impl FnMut(usize),
) -> Vec<ReferenceSample> {
    let eos = i64::from(tokenizer.eos_id());
    generate(reference, &[eos], eos, opts, on_batch)
        .into_iter()
        .map(|ids| {
            let text = tokenizer.decode(&ids.iter().map(|&t| t as u32).collect::<Vec<_>>());
            let ended = ids.len() < opts.max_new_tokens;
            ReferenceSample { ids, text, ended }
        })
        .collect()
}

impl ReferenceSamples {
    /// Reads cached samples when `path` holds ones drawn from the same model, tokenizer, seed and length with at
    /// least `n` samples; otherwise draws them with `draw` and writes the cache.
    pub fn cached(
        path: &Path,
        model_sha256: &str,
        tokenizer_hash: &str,
        seed: u64,
        max_tokens: usize,
        n: usize,
        draw: impl FnOnce() -> Vec<ReferenceSample>,
    ) -> Result<ReferenceSamples, EvalError> {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(mut cached) = serde_json::from_str::<ReferenceSamples>(&text) {
                let same = cached.model_sha256 == model_sha256
                    && cached.tokenizer_hash == tokenizer_hash
                    && cached.seed == seed
                    && cached.max_tokens == max_tokens;
                if same && cached.samples.len() >= n {
                    cached.samples.truncate(n);
                    return Ok(cached);
                }
            }
        }
        let samples = ReferenceSamples {
            model_sha256: model_sha256.to_string(),
            tokenizer_hash: tokenizer_hash.to_string(),
            seed,
            max_tokens,
            samples: draw(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string(&samples).expect("samples serialise"))
            .map_err(|e| EvalError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| EvalError::io(path, e))?;
        Ok(samples)
    }
}

/// Whether `model`'s tokenizer gives every id of `reference`'s the same token (it may add control tokens).
pub fn shares_vocabulary(reference: &Tokenizer, model: &Tokenizer) -> bool {
    reference.vocab_size() <= model.vocab_size()
        && (0..reference.vocab_size() as u32).all(|id| reference.id_to_token(id) == model.id_to_token(id))
}

/// A side of the comparison: a model, its tokenizer and the prompt it scores samples after.
pub struct Scored<'a> {
    pub model: &'a Gpt,
    pub tokenizer: &'a Tokenizer,
    pub prompt: Vec<i64>,
}

/// Estimates `KL(p_ref ‖ p_model)` on `samples` drawn from `reference`.
pub fn kl_from_reference(
    reference: &Scored,
    model: &Scored,
    samples: &[ReferenceSample],
    batch_size: usize,
) -> KlEstimate {
    let mode = if shares_vocabulary(reference.tokenizer, model.tokenizer) {
        KlMode::Tokens
    } else {
        KlMode::Text
    };
    let sequences = |side: &Scored| -> Vec<Vec<i64>> {
        let eos = i64::from(side.tokenizer.eos_id());
        samples
            .iter()
            .map(|s| {
                let mut ids = match mode {
                    KlMode::Tokens => s.ids.clone(),
                    KlMode::Text => side.tokenizer.encode(&s.text).into_iter().map(i64::from).collect(),
                };
                if s.ended {
                    ids.push(eos); // the sample's end is part of what the reference generated
                }
                ids
            })
            .collect()
    };
    let ref_ll = sequence_log_likelihoods(reference.model, &reference.prompt, &sequences(reference), batch_size);
    let model_ll = sequence_log_likelihoods(model.model, &model.prompt, &sequences(model), batch_size);
    let diffs: Vec<f64> = ref_ll.iter().zip(&model_ll).map(|(r, m)| r.0 - m.0).collect();
    let n = diffs.len();
    let kl = diffs.iter().sum::<f64>() / n.max(1) as f64;
    let var = diffs.iter().map(|d| (d - kl).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
    KlEstimate {
        kl,
        std_error: (var / n.max(1) as f64).sqrt(),
        num_samples: n,
        mode,
    }
}
