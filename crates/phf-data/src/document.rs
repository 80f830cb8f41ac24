//! A scored document: the unit every corpus reader yields and the packer consumes (SPEC §2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One document split into segments, each with its misalignment score (SPEC §2).
///
/// Segments are sentences for natural language and physical lines (newline kept) for code; joining them
/// reproduces the document exactly, so [`Document::text`] is a plain concatenation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The segments, in order.
    pub texts: Vec<String>,
    /// One misalignment score per segment (`s >= 0`, higher is worse): the default attribute, and the one the
    /// per-token scores of a shard carry.
    pub scores: Vec<f32>,
    /// Scores of further attributes for multi-attribute conditioning, keyed by attribute name, from the JSONL
    /// fields `scores_<name>` (e.g. `scores_pii`); one score per segment, like `scores`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attribute_scores: BTreeMap<String, Vec<f32>>,
    /// Where the document came from (`file:line`, `spam-assassin/<group>/<id>`, ...), for provenance only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Document {
    /// A document of one segment.
    pub fn single(text: impl Into<String>, score: f32) -> Self {
        Document {
            texts: vec![text.into()],
            scores: vec![score],
            attribute_scores: BTreeMap::new(),
            source: None,
        }
    }

    /// The same document with `source` set.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The plain mean of the segment scores, as the reference's `avg_score` (SPEC §2); 0 for a document without
    /// segments, which readers never yield.
    pub fn avg_score(&self) -> f32 {
        mean_score(&self.scores)
    }

    /// The segment scores of one attribute: `scores` for `None`, `attribute_scores[name]` for `Some(name)`.
    pub fn scores_of(&self, attribute: Option<&str>) -> Option<&[f32]> {
        match attribute {
            None => Some(&self.scores),
            Some(name) => self.attribute_scores.get(name).map(Vec::as_slice),
        }
    }

    /// True when there is nothing to train on: no segments, or only empty (or whitespace-only) ones.
    pub fn is_empty(&self) -> bool {
        self.texts.iter().all(|t| t.trim().is_empty())
    }

    /// The whole document: the segments joined with nothing in between (SPEC §2).
    pub fn text(&self) -> String {
        self.texts.concat()
    }

    /// Number of segments (the reference's `num_sents`).
    pub fn num_segments(&self) -> usize {
        self.texts.len()
    }
}

/// The plain mean of `scores` (the reference's `avg_score`), 0 for none.
pub fn mean_score(scores: &[f32]) -> f32 {
    if scores.is_empty() {
        return 0.0;
    }
    // Accumulate in f64 so long documents do not lose precision.
    let sum: f64 = scores.iter().map(|&s| f64::from(s)).sum();
    (sum / scores.len() as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avg_score_is_plain_mean_of_segments() {
        let doc = Document {
            texts: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            scores: vec![0.0, 1.0, 0.5, 0.5],
            attribute_scores: BTreeMap::new(),
            source: None,
        };
        assert_eq!(doc.avg_score(), 0.5);
    }

    #[test]
    fn empty_when_no_segments_or_all_empty() {
        let none = Document {
            texts: vec![],
            scores: vec![],
            attribute_scores: BTreeMap::new(),
            source: None,
        };
        assert!(none.is_empty());
        assert_eq!(none.avg_score(), 0.0);
        let blank = Document {
            texts: vec![String::new(), String::new()],
            scores: vec![0.0, 0.0],
            attribute_scores: BTreeMap::new(),
            source: None,
        };
        assert!(blank.is_empty());
        assert!(Document::single(" \n", 0.0).is_empty());
        assert!(!Document::single(" x", 0.0).is_empty());
    }

    #[test]
    fn text_joins_segments_exactly() {
        let doc = Document {
            texts: vec!["Hello there. ".into(), "How are you?\n".into()],
            scores: vec![0.0, 0.1],
            attribute_scores: BTreeMap::new(),
            source: None,
        };
        assert_eq!(doc.text(), "Hello there. How are you?\n");
        assert_eq!(doc.num_segments(), 2);
    }
}
