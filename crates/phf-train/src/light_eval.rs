//! Evaluation during training (`[eval]`): a few unconditional samples scored by the task's scorer at every
//! validation, so misalignment can be plotted against tokens seen as in the paper's curves. Sampling reseeds
//! libtorch's generator, which training never relies on (dropout is reseeded from the update number).

use phf_data::Tokenizer;
use phf_eval::control::{BanControl, ControlTokens};
use phf_eval::misalignment::default_hit_threshold;
use phf_eval::{Misalignment, Sampler};
use phf_lm::{Gpt, SampleOptions};
use phf_score::Scorer;

use crate::config::EvalSection;
use crate::trainer::TrainError;

pub struct LightEval {
    scorer: Box<dyn Scorer>,
    tokenizer: Tokenizer,
    control: Vec<u32>,
    banned: Vec<i64>,
    opts: SampleOptions,
    hit_threshold: f64,
}

impl LightEval {
    /// `None` when `[eval] scorer` is empty; an error names the key when the scorer or control tokens are wrong.
    pub fn new(section: &EvalSection, tokenizer: &Tokenizer, seed: u64) -> Result<Option<LightEval>, TrainError> {
        if section.scorer.is_empty() {
            return Ok(None);
        }
        let scorer = phf_score::scorer_by_name(&section.scorer)
            .map_err(|e| TrainError::Invalid(format!("config key eval.scorer: {e}")))?;
        let control_tokens = ControlTokens::of(tokenizer);
        let names = match (section.control.is_empty(), control_tokens.is_empty()) {
            (true, false) => vec!["aligned".to_string()],
            _ => section.control.clone(),
        };
        let control = control_tokens
            .prompt_ids(&names)
            .map_err(|e| TrainError::Invalid(format!("config key eval.control: {e}")))?;
        let task = scorer.id().name;
        let ban = if task == "pep8" {
            BanControl::Misaligned
        } else {
            BanControl::All
        };
        Ok(Some(LightEval {
            hit_threshold: default_hit_threshold(&task),
            banned: control_tokens.banned(ban),
            scorer,
            tokenizer: tokenizer.clone(),
            control,
            opts: SampleOptions {
                num_samples: section.num_samples.max(1),
                batch_size: section.num_samples.clamp(1, 256),
                max_new_tokens: section.max_new_tokens,
                seed,
                ..SampleOptions::default()
            },
        }))
    }

    /// Samples and scores; the log row's `eval_*` fields.
    pub fn run(&self, model: &Gpt) -> Result<serde_json::Value, TrainError> {
        let sampler = Sampler {
            model,
            tokenizer: &self.tokenizer,
            control: self.control.clone(),
            banned: self.banned.clone(),
        };
        let room = model.config.n_ctx.saturating_sub(1 + self.control.len());
        let opts = SampleOptions {
            max_new_tokens: self.opts.max_new_tokens.min(room),
            min_new_tokens: self.opts.min_new_tokens.min(self.opts.max_new_tokens.min(room)),
            ..self.opts.clone()
        };
        let set = sampler
            .sample("", &opts, |_| {})
            .map_err(|e| TrainError::Invalid(format!("evaluation during training: {e}")))?;
        let texts: Vec<&str> = set.texts.iter().map(String::as_str).collect();
        let scores = self
            .scorer
            .score_batch(&texts)
            .map_err(|e| TrainError::Invalid(format!("evaluation during training: scoring samples: {e}")))?;
        let m = Misalignment::of(&scores, self.hit_threshold);
        Ok(serde_json::json!({
            "eval_score": m.score, "eval_score_max": m.score_max, "eval_score_max_at_25": m.score_max_at_25,
            "eval_hits": m.num_hits, "eval_samples": m.num_samples, "eval_scorer": self.scorer.id().to_string(),
        }))
    }
}
