//! phf-score: the reward functions of pretraining with human feedback (SPEC §1, §6) and the segmenters that
//! cut documents into the units they score (SPEC §2).
//!
//! - [`Scorer`]: a thread-safe batch → scores interface; every output carries a [`ScorerId`].
//! - [`segment`]: sentences for prose, physical lines for code.
//! - [`ToxicityScorer`]: the tox-block BiLSTM (weights exported by `scripts/score/setup-toxicity.sh`).
//! - [`PiiScorer`]: native detectors for scrubadub's PII kinds; items per character.
//! - [`Pep8Scorer`]: a native port of pycodestyle's default checks; violations per character.
//! - [`OffensiveScorer`]: alt-profanity-check's tf-idf + calibrated SVMs (`scripts/score/setup-offensive.sh`).
//! - [`CommandScorer`]: any command speaking JSON lines (e.g. Detoxify; see `scripts/score/`).
//!
//! Build a scorer from a name with [`scorer_by_name`]; score a whole corpus as a stream with [`corpus`].

// Module docs link the private parts they describe: `cargo doc --document-private-items` resolves them.
#![allow(rustdoc::private_intra_doc_links)]

pub mod corpus;
pub mod error;
mod export;
pub mod external;
pub mod offensive;
pub mod pep8;
pub mod pii;
pub mod scorer;
pub mod segment;
pub mod toxicity;

pub use error::{Result, ScoreError};
pub use external::{CommandScorer, CommandScorerConfig};
pub use offensive::OffensiveScorer;
pub use pep8::Pep8Scorer;
pub use pii::PiiScorer;
pub use scorer::{Scorer, ScorerId, Scores};
pub use segment::Segmenter;
pub use toxicity::{ToxicityLabel, ToxicityScorer};

/// Builds a scorer from its name: `toxicity` (or `toxicity:<label>`, e.g. `toxicity:insult`), `pii`, `offensive`,
/// `pep8`, or `cmd:<command>` for an external command (batch size and timeout: the defaults, or
/// `PHF_CMD_BATCH_SIZE` and `PHF_CMD_TIMEOUT_S`).
pub fn scorer_by_name(name: &str) -> Result<Box<dyn Scorer>> {
    if let Some(command) = name.strip_prefix("cmd:") {
        if command.trim().is_empty() {
            return Err(ScoreError::UnknownScorer(name.into()));
        }
        let config = CommandScorerConfig::from_env(command, |name| std::env::var(name).ok())?;
        return Ok(Box::new(CommandScorer::new(config)));
    }
    match name {
        "pii" => {
            pii::entity_recognizer()?;
            Ok(Box::new(PiiScorer))
        }
        "pep8" => Ok(Box::new(Pep8Scorer)),
        "offensive" => Ok(Box::new(OffensiveScorer::load_default()?)),
        "toxicity" => Ok(Box::new(ToxicityScorer::load_default()?)),
        _ if name.starts_with("toxicity:") => {
            let label = ToxicityLabel::ALL
                .into_iter()
                .find(|l| name == format!("toxicity:{}", l.name()))
                .ok_or_else(|| ScoreError::UnknownScorer(name.into()))?;
            Ok(Box::new(ToxicityScorer::load_default()?.with_label(label)))
        }
        _ => Err(ScoreError::UnknownScorer(name.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scorers are shared across threads (the trait requires it; this keeps the concrete types honest).
    #[test]
    fn scorers_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + ?Sized>() {}
        assert_send_sync::<PiiScorer>();
        assert_send_sync::<Pep8Scorer>();
        assert_send_sync::<ToxicityScorer>();
        assert_send_sync::<OffensiveScorer>();
        assert_send_sync::<CommandScorer>();
        assert_send_sync::<Box<dyn Scorer>>();
    }

    #[test]
    fn builds_scorers_by_name() {
        assert_eq!(scorer_by_name("pii").unwrap().id().name, "pii");
        assert_eq!(scorer_by_name("pep8").unwrap().id().name, "pep8");
        assert_eq!(scorer_by_name("cmd:cat").unwrap().id().name, "cmd:cat");
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        for name in ["pep9", "cmd:", "cmd:  ", "toxicity:rude", ""] {
            let err = scorer_by_name(name).err().expect(name);
            assert!(matches!(err, ScoreError::UnknownScorer(_)), "{name}: {err}");
            assert!(err.to_string().contains("cmd:<command>"));
        }
    }
}
