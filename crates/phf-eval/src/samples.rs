//! Drawing and scoring a model's samples: a [`Sampler`] prompts with `EOS`, the model's control tokens (for
//! conditional models) and an optional text prompt, bans what must not be generated, and decodes continuations
//! with the control tokens stripped, ready for a scorer.

use std::time::Instant;

use phf_data::Tokenizer;
use phf_lm::{generate, Gpt, SampleOptions};
use phf_score::Scorer;
use serde::{Deserialize, Serialize};

use crate::control::ControlTokens;
use crate::diversity::Diversity;
use crate::misalignment::Misalignment;
use crate::EvalError;

/// A model ready to be sampled the way an evaluation wants it.
pub struct Sampler<'a> {
    pub model: &'a Gpt,
    pub tokenizer: &'a Tokenizer,
    /// Control tokens placed after EOS (e.g. `<|aligned|>`), empty for unconditional models.
    pub control: Vec<u32>,
    /// Token ids never generated (control tokens, user bans).
    pub banned: Vec<i64>,
}

/// Continuations of one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSet {
    pub prompt: String,
    /// Decoded continuations, control tokens stripped, without the prompt.
    pub texts: Vec<String>,
    /// Generated tokens per continuation (EOS excluded).
    pub num_tokens: Vec<usize>,
    /// Wall time spent sampling.
    pub seconds: f64,
}

impl Sampler<'_> {
    /// `EOS`, the control tokens, then the prompt's tokens.
    pub fn prompt_ids(&self, prompt: &str) -> Result<Vec<i64>, EvalError> {
        let mut ids = vec![i64::from(self.tokenizer.eos_id())];
        ids.extend(self.control.iter().map(|&t| i64::from(t)));
        ids.extend(self.tokenizer.encode(prompt).into_iter().map(i64::from));
        if ids.len() >= self.model.config.n_ctx {
            return Err(EvalError::Invalid(format!(
                "the prompt {:?} is {} tokens with EOS and control tokens; the model's context is {}",
                truncate(prompt, 60),
                ids.len(),
                self.model.config.n_ctx
            )));
        }
        Ok(ids)
    }

    /// Draws `opts.num_samples` continuations of `prompt`; `opts.banned_tokens` is extended with `self.banned`.
    pub fn sample(
        &self,
        prompt: &str,
        opts: &SampleOptions,
        on_batch: impl FnMut(usize),
    ) -> Result<SampleSet, EvalError> {
        let ids = self.prompt_ids(prompt)?;
        let mut opts = opts.clone();
        opts.banned_tokens.extend(&self.banned);
        opts.validate().map_err(EvalError::Invalid)?;
        let eos = i64::from(self.tokenizer.eos_id());
        let start = Instant::now();
        let samples = generate(self.model, &ids, eos, &opts, on_batch);
        let seconds = start.elapsed().as_secs_f64();
        let control = ControlTokens::of(self.tokenizer);
        Ok(SampleSet {
            prompt: prompt.to_string(),
            texts: samples
                .iter()
                .map(|s| self.tokenizer.decode(&control.strip(s)))
                .collect(),
            num_tokens: samples.iter().map(Vec::len).collect(),
            seconds,
        })
    }
}

fn truncate(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Scores continuations; with `with_prompt` the scored text is prompt + continuation (PEP8's function prompts,
/// SPEC §5), otherwise the continuation alone.
pub fn score_samples(scorer: &dyn Scorer, set: &SampleSet, with_prompt: bool) -> Result<Vec<f32>, EvalError> {
    let joined: Vec<String>;
    let texts: Vec<&str> = if with_prompt {
        joined = set.texts.iter().map(|t| format!("{}{}", set.prompt, t)).collect();
        joined.iter().map(String::as_str).collect()
    } else {
        set.texts.iter().map(String::as_str).collect()
    };
    Ok(scorer.score_batch(&texts)?)
}

/// SPEC §5's unconditional evaluation of one sample set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnconditionalEval {
    pub misalignment: Misalignment,
    pub diversity: Diversity,
    /// Mean generated tokens per sample.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub mean_tokens: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub samples_per_s: f64,
    pub sampling_s: f64,
    pub scoring_s: f64,
}

/// Scores `set` and summarises it; returns the per-sample scores too (for the samples file).
pub fn evaluate_unconditional(
    scorer: &dyn Scorer,
    set: &SampleSet,
    hit_threshold: f64,
    with_prompt: bool,
) -> Result<(UnconditionalEval, Vec<f32>), EvalError> {
    let start = Instant::now();
    let scores = score_samples(scorer, set, with_prompt)?;
    let scoring_s = start.elapsed().as_secs_f64();
    let n = set.texts.len();
    let eval = UnconditionalEval {
        misalignment: Misalignment::of(&scores, hit_threshold),
        diversity: Diversity::of(&set.texts),
        mean_tokens: set.num_tokens.iter().sum::<usize>() as f64 / n.max(1) as f64,
        samples_per_s: n as f64 / set.seconds.max(1e-9),
        sampling_s: set.seconds,
        scoring_s,
    };
    Ok((eval, scores))
}
