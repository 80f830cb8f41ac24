//! Toxicity scorer: a Rust port of PyPI `tox-block` 0.1.2 (MIT), a BiLSTM trained on the Jigsaw 2018 toxic
//! comment data — the same data family as Detoxify `original`, which stands in for the paper's Detoxify
//! `unbiased` (SPEC §6) without a transformer. Users who want Detoxify itself plug it in as an external
//! scorer (`scripts/score/detoxify_scorer.py`).
//!
//! The weights are not committed: `scripts/score/setup-toxicity.sh` exports them from the wheel into
//! `$PHF_CACHE/scorers/tox-block-0.1.2/` (default `~/.cache/phf`), where [`ToxicityScorer::load_default`] finds them.
//!
//! The score is the raw sigmoid probability of the `toxic` label (or another label chosen at construction).
//! tox-block's `make_predictions` min-max rescales by default; that rescaling can exceed 1 and is not a
//! probability, so it is not applied here.

mod lstm;
#[cfg(target_arch = "x86_64")]
mod lstm_avx512;
mod model;
mod tokenizer;
mod word_index;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use model::{BiLstmClassifier, NUM_LABELS};
pub use tokenizer::KerasTokenizer;

use crate::error::{Result, ScoreError};
use crate::scorer::{Scorer, ScorerId};
use rayon::prelude::*;

/// Directory name of the export inside the cache, keyed by the model version.
pub const MODEL_DIR_NAME: &str = "tox-block-0.1.2";

/// tox-block's output labels, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToxicityLabel {
    Toxic,
    SevereToxic,
    Obscene,
    Threat,
    Insult,
    IdentityHate,
}

impl ToxicityLabel {
    pub const ALL: [ToxicityLabel; NUM_LABELS] = [
        ToxicityLabel::Toxic,
        ToxicityLabel::SevereToxic,
        ToxicityLabel::Obscene,
        ToxicityLabel::Threat,
        ToxicityLabel::Insult,
        ToxicityLabel::IdentityHate,
    ];

    /// The label's name in tox-block's output.
    pub fn name(self) -> &'static str {
        match self {
            ToxicityLabel::Toxic => "toxic",
            ToxicityLabel::SevereToxic => "severe_toxic",
            ToxicityLabel::Obscene => "obscene",
            ToxicityLabel::Threat => "threat",
            ToxicityLabel::Insult => "insult",
            ToxicityLabel::IdentityHate => "identity_hate",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The per-user cache directory holding the export: `$PHF_CACHE` or `$HOME/.cache/phf`, then
/// `scorers/tox-block-0.1.2`.
pub fn default_model_dir() -> PathBuf {
    crate::export::scorer_cache_dir(MODEL_DIR_NAME)
}

/// The toxicity scorer: tokenizer + BiLSTM, shared read-only across threads.
#[derive(Debug, Clone)]
pub struct ToxicityScorer {
    tokenizer: KerasTokenizer,
    model: BiLstmClassifier,
    label: ToxicityLabel,
}

impl ToxicityScorer {
    /// Loads the export in `dir`; a missing file is reported with the setup command that creates it.
    pub fn load(dir: &Path) -> Result<Self> {
        for file in ["manifest.json", "tokenizer.json", "model.safetensors"] {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ScoreError::ModelMissing {
                    dir: dir.to_path_buf(),
                    path,
                });
            }
        }
        let tokenizer = KerasTokenizer::load(&dir.join("tokenizer.json"))?;
        let model_path = dir.join("model.safetensors");
        let model = BiLstmClassifier::load(&model_path, tokenizer.max_len())?;
        if model.vocab() < tokenizer.num_words() as usize {
            return Err(ScoreError::ModelFormat {
                path: model_path,
                reason: format!(
                    "embedding has {} rows but the tokenizer emits ids up to {}",
                    model.vocab(),
                    tokenizer.num_words()
                ),
            });
        }
        Ok(Self {
            tokenizer,
            model,
            label: ToxicityLabel::Toxic,
        })
    }

    /// Loads from [`default_model_dir`].
    pub fn load_default() -> Result<Self> {
        Self::load(&default_model_dir())
    }

    /// Scores with another of the six labels instead of `toxic`.
    pub fn with_label(mut self, label: ToxicityLabel) -> Self {
        self.label = label;
        self
    }

    /// All six label probabilities for one text, in [`ToxicityLabel::ALL`] order.
    pub fn predict_one(&self, text: &str) -> [f32; NUM_LABELS] {
        self.model.predict(&self.tokenizer.encode(text))
    }

    /// All six label probabilities for each text, in parallel. Batches are much faster per text than
    /// [`Self::predict_one`]: the model runs two texts at a time in lockstep.
    pub fn predict(&self, texts: &[&str]) -> Vec<[f32; NUM_LABELS]> {
        let ids: Vec<Vec<u32>> = texts
            .par_iter()
            .with_min_len(8)
            .map(|t| self.tokenizer.encode(t))
            .collect();
        self.model.predict_batch(&ids)
    }
}

impl Scorer for ToxicityScorer {
    fn id(&self) -> ScorerId {
        let name = match self.label {
            ToxicityLabel::Toxic => "toxicity".to_string(),
            other => format!("toxicity:{}", other.name()),
        };
        ScorerId {
            name,
            version: MODEL_DIR_NAME.into(),
        }
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let label = self.label.index();
        Ok(self.predict(texts).into_iter().map(|p| p[label]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_export_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = ToxicityScorer::load(dir.path()).unwrap_err();
        assert!(matches!(err, ScoreError::ModelMissing { .. }));
        assert!(err.to_string().contains("scripts/score/setup-toxicity.sh"), "{err}");
    }

    #[test]
    fn corrupt_files_are_format_errors() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["manifest.json", "tokenizer.json", "model.safetensors"] {
            std::fs::write(dir.path().join(file), b"not what you expect").unwrap();
        }
        let err = ToxicityScorer::load(dir.path()).unwrap_err();
        assert!(matches!(err, ScoreError::ModelFormat { .. }), "{err}");
    }

    #[test]
    fn labels_are_in_tox_block_order() {
        let names: Vec<_> = ToxicityLabel::ALL.iter().map(|l| l.name()).collect();
        assert_eq!(
            names,
            ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
        );
        assert!(ToxicityLabel::ALL.iter().enumerate().all(|(i, l)| l.index() == i));
    }
}
