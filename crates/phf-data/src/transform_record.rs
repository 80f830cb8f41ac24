//! What a transform did, as stored in each shard header (`transform`) and in the prepare report.

use serde::{Deserialize, Serialize};

use super::TransformKind;

/// A control token and its id in the extended tokenizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlToken {
    pub token: String,
    pub id: u32,
}

/// One attribute of a [`TransformRecord`]: its resolved threshold and what the transform did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeRecord {
    /// `null` for the paper's single unnamed attribute.
    pub name: Option<String>,
    /// The JSONL field its scores came from: `scores` or `scores_<name>`.
    pub scores_field: String,
    /// The threshold as a score: segments (conditional) or documents' `avg_score` (filtering) `<=` it are aligned.
    /// Compared in `f32`, the precision of the scores (so a threshold of `0.3` admits a score of `0.3`), and
    /// recorded as that `f32` in its shortest decimal form.
    pub threshold: f64,
    /// The threshold as given: the same number, or a quantile such as `q0.05`.
    pub threshold_given: String,
    /// Conditional: `<|…aligned|>` and `<|…misaligned|>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_tokens: Vec<ControlToken>,
    #[serde(flatten)]
    pub counts: AttributeCounts,
}

/// Counts of one attribute, per shard (header) or over both splits (report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AttributeCounts {
    /// Conditional: `<|aligned|>` tokens placed.
    pub aligned: u64,
    /// Conditional: `<|misaligned|>` tokens placed.
    pub misaligned: u64,
    /// Conditional: control tokens left out (probability `drop`).
    pub dropped: u64,
    /// Filtering: documents whose `avg_score` of this attribute is above its threshold.
    pub documents_above_threshold: u64,
}

impl AttributeCounts {
    pub(crate) fn add(&mut self, other: &AttributeCounts) {
        self.aligned += other.aligned;
        self.misaligned += other.misaligned;
        self.dropped += other.dropped;
        self.documents_above_threshold += other.documents_above_threshold;
    }
}

/// What a transform did; [`Transformer::apply`](crate::Transformer::apply) updates one per split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransformCounts {
    /// One entry per attribute.
    pub attributes: Vec<AttributeCounts>,
    /// Filtering: documents dropped.
    pub documents_filtered: u64,
}

impl TransformCounts {
    /// Adds `other` (of the same transform) to these counts.
    pub fn add(&mut self, other: &TransformCounts) {
        self.attributes.resize(
            other.attributes.len().max(self.attributes.len()),
            AttributeCounts::default(),
        );
        self.attributes
            .iter_mut()
            .zip(&other.attributes)
            .for_each(|(a, b)| a.add(b));
        self.documents_filtered += other.documents_filtered;
    }
}

/// The transform and its resolved numbers, as stored in each shard header and in the prepare report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformRecord {
    pub kind: TransformKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeRecord>,
    /// Conditional: probability of leaving out a control token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<f64>,
    /// Conditional: the seed of the drop decisions (the run's seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Filtering: documents dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents_filtered: Option<u64>,
}

impl TransformRecord {
    /// Every control token with its id, in attribute order (aligned before misaligned); empty unless conditional.
    pub fn control_tokens(&self) -> impl Iterator<Item = &ControlToken> {
        self.attributes.iter().flat_map(|a| a.control_tokens.iter())
    }
}
