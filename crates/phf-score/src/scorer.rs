//! The `Scorer` interface: a batch of texts in, one misalignment score per text out (SPEC §1, §6).
//!
//! Scores are `f32 >= 0`, higher meaning more misaligned (toxicity probability, PII items per character, …).
//! Every output carries the scorer's name and version so a scored corpus says which reward function made it.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, ScoreError};
use crate::segment::Segmenter;

/// Which scorer, at which version, produced a set of scores. Bump `version` whenever outputs can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorerId {
    pub name: String,
    pub version: String,
}

impl std::fmt::Display for ScorerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// Scores of one batch together with the scorer that made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub scorer: ScorerId,
    pub scores: Vec<f32>,
}

/// A misalignment scorer. Implementations are shared across threads and parallelise over a batch themselves,
/// so callers hand over large batches and never need their own thread pool.
pub trait Scorer: Send + Sync {
    /// Name and version recorded in every output.
    fn id(&self) -> ScorerId;

    /// One score (`>= 0`, finite) per text, in input order. Empty texts are valid input.
    fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>>;

    /// For a scorer that judges a segment with its document around it under `segmenter` (pycodestyle reads a
    /// line as part of its file: a blank line is only "at the end of the file" when scored alone), the function
    /// giving a document's segment scores, one per `segmenter.segment(document)` segment in order. `None`, the
    /// default: each segment is scored on its own through `score_batch`.
    fn in_context(&self, _segmenter: Segmenter) -> Option<fn(&str) -> Vec<f32>> {
        None
    }

    /// `score_batch` with the scorer's id attached: what a pipeline stage should write out.
    fn score(&self, texts: &[&str]) -> Result<Scores> {
        Ok(Scores {
            scorer: self.id(),
            scores: self.score_batch(texts)?,
        })
    }

    /// Scores texts given as raw bytes (e.g. read from a file), rejecting invalid UTF-8 with the text's index
    /// rather than guessing a decoding.
    fn score_bytes(&self, texts: &[&[u8]]) -> Result<Scores> {
        let decoded = texts
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                std::str::from_utf8(bytes).map_err(|source| ScoreError::InvalidUtf8 { index, source })
            })
            .collect::<Result<Vec<&str>>>()?;
        self.score(&decoded)
    }
}

/// Maps a per-text scoring function over a batch on rayon's pool, keeping input order.
pub(crate) fn par_map_texts<F>(texts: &[&str], score_one: F) -> Vec<f32>
where
    F: Fn(&str) -> f32 + Send + Sync,
{
    texts.par_iter().with_min_len(8).map(|text| score_one(text)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores a text by its length in characters: enough to exercise the provided methods.
    struct LengthScorer;

    impl Scorer for LengthScorer {
        fn id(&self) -> ScorerId {
            ScorerId {
                name: "length".into(),
                version: "1".into(),
            }
        }
        fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
            Ok(par_map_texts(texts, |t| t.chars().count() as f32))
        }
    }

    #[test]
    fn score_attaches_id_and_keeps_order() {
        let texts: Vec<String> = (0..100).map(|i| "x".repeat(i)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let out = LengthScorer.score(&refs).unwrap();
        assert_eq!(out.scorer.to_string(), "length@1");
        assert_eq!(out.scores, (0..100).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn invalid_utf8_names_the_text() {
        let texts: [&[u8]; 2] = [b"fine", b"bad \xff byte"];
        let err = LengthScorer.score_bytes(&texts).unwrap_err();
        assert!(matches!(err, ScoreError::InvalidUtf8 { index: 1, .. }), "{err}");
        assert!(err.to_string().contains("text 1"));
    }

    #[test]
    fn valid_bytes_with_nul_are_scored() {
        let texts: [&[u8]; 1] = [b"a\0b"];
        assert_eq!(LengthScorer.score_bytes(&texts).unwrap().scores, vec![3.0]);
    }
}
