//! The objective-specific data transforms of `prepare` (SPEC §3), applied to each document before packing:
//!
//! - **plain** (MLE, unlikelihood, RWR, AWR): documents as they are; the per-token scores carry the objective.
//! - **filtering**: a document whose `avg_score` (plain mean of its segment scores) is `> threshold` is dropped
//!   whole; with several attributes, one above its threshold is enough.
//! - **conditional**: each segment is prefixed, with probability `1 - drop`, by `<|aligned|>` if its score
//!   `s <= threshold` else `<|misaligned|>`. For the first segment the control token lands right after the
//!   document's leading EOS (the packer puts EOS before the first segment's tokens), and a control token carries
//!   its segment's score. Whether a control token is dropped is a hash of `(seed, document index, segment,
//!   attribute)`, so it does not depend on chunking or threads.
//!
//! **Multi-attribute conditioning** (beyond the paper): with attributes `toxicity,pii`, the first attribute's
//! scores are the record's `scores` field and each further attribute `a` reads `scores_a`; each segment gets one
//! control token per attribute in that order, `<|toxicity:aligned|><|pii:misaligned|>`, each kept or dropped
//! independently (so the model also sees partial combinations, and sampling may prompt with any subset). The
//! per-token scores written to `scores.bin` are always the first attribute's (`scores`). Without attribute names
//! the control tokens are the paper's `<|aligned|>` and `<|misaligned|>`.
//!
//! Control tokens are added to the tokenizer as special tokens, which changes its hash: `prepare` records the
//! extended tokenizer's hash in the shard headers and writes the extended tokenizer beside the shards.

use serde::{Deserialize, Serialize};

use crate::document::{mean_score, Document};
use crate::error::{DataError, Result};
use crate::threshold::{quantile_summary, AttributeScores, ScoreScan, Threshold};
use crate::tokenizer::Tokenizer;

#[path = "transform_record.rs"]
mod record;
pub use record::{AttributeCounts, AttributeRecord, ControlToken, TransformCounts, TransformRecord};

/// Which transform `prepare` applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransformKind {
    /// No change: MLE, unlikelihood, RWR and AWR read the per-token scores.
    #[default]
    Plain,
    /// Drop documents whose `avg_score > threshold`.
    Filtering,
    /// Prefix segments with control tokens.
    Conditional,
}

/// One attribute to filter or condition on.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeSpec {
    /// `None` for the paper's single attribute (tokens `<|aligned|>`/`<|misaligned|>`); a name such as `pii`
    /// gives `<|pii:aligned|>`/`<|pii:misaligned|>`. Required when there are several attributes.
    pub name: Option<String>,
    pub threshold: Threshold,
}

/// The transform as the user asked for it; [`Transformer::new`] resolves it against the corpus.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransformOptions {
    pub kind: TransformKind,
    /// In order: the first reads `scores`, each further one `scores_<name>`. Empty for plain.
    pub attributes: Vec<AttributeSpec>,
    /// Conditional only: the probability of leaving out a control token, in `[0, 1)` (SPEC §3: 0.01 / 0.01 / 0.1).
    pub drop: f64,
}

impl TransformOptions {
    /// Checks what can be checked before reading the corpus.
    pub fn validate(&self) -> Result<()> {
        let config = |msg: String| Err(DataError::Config(msg));
        match (self.kind, self.attributes.is_empty()) {
            (TransformKind::Plain, false) => {
                return config(
                    "the plain transform takes no threshold or attributes: use --transform filtering or conditional"
                        .into(),
                )
            }
            (TransformKind::Filtering | TransformKind::Conditional, true) => {
                return config(format!(
                    "the {} transform needs a threshold (--threshold), e.g. 0.00056 or q0.05",
                    self.kind.name()
                ))
            }
            _ => {}
        }
        if self.kind == TransformKind::Conditional && !(0.0..1.0).contains(&self.drop) {
            return config(format!(
                "--drop {} must be in [0, 1) (the paper uses 0.01, or 0.1 for PEP8)",
                self.drop
            ));
        }
        if self.attributes.len() > 1 && self.attributes.iter().any(|a| a.name.is_none()) {
            return config("with several thresholds, name each attribute (--attributes toxicity,pii)".into());
        }
        for (i, a) in self.attributes.iter().enumerate() {
            let Some(name) = &a.name else { continue };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return config(format!(
                    "attribute name `{name}` must be non-empty letters, digits, `_` or `-` (it names the field scores_{name})"
                ));
            }
            if self.attributes[..i].iter().any(|b| b.name.as_ref() == Some(name)) {
                return config(format!("attribute `{name}` is given twice in --attributes"));
            }
        }
        Ok(())
    }

    /// The field each attribute reads, as [`Document::scores_of`] takes it: `None` (`scores`) for the first.
    pub fn score_fields(&self) -> Vec<Option<String>> {
        (self.attributes.iter().enumerate())
            .map(|(i, a)| if i == 0 { None } else { a.name.clone() })
            .collect()
    }
}

impl TransformKind {
    fn name(self) -> &'static str {
        match self {
            TransformKind::Plain => "plain",
            TransformKind::Filtering => "filtering",
            TransformKind::Conditional => "conditional",
        }
    }
}

/// One attribute, resolved.
#[derive(Debug, Clone)]
struct Resolved {
    name: Option<String>,
    field: Option<String>,
    threshold: f64,
    given: Threshold,
    /// `[aligned, misaligned]` (conditional only).
    tokens: Vec<ControlToken>,
}

impl Resolved {
    /// The JSONL field of this attribute's scores.
    fn scores_field(&self) -> String {
        self.field.as_deref().map_or("scores".into(), |f| format!("scores_{f}"))
    }
}

/// A transform resolved against a corpus and a tokenizer, ready to apply to its documents.
#[derive(Debug, Clone)]
pub struct Transformer {
    kind: TransformKind,
    drop: f64,
    seed: u64,
    attributes: Vec<Resolved>,
}

impl Transformer {
    /// The identity transform.
    pub fn plain() -> Self {
        Transformer {
            kind: TransformKind::Plain,
            drop: 0.0,
            seed: 0,
            attributes: Vec::new(),
        }
    }

    /// Resolves the thresholds of `opts` against `scan` (the corpus' scores, one entry per attribute), errors when
    /// a threshold puts every segment (conditional) or document (filtering) on one side, and, for
    /// conditional, adds the control tokens to `tokenizer` (changing its hash).
    pub fn new(opts: &TransformOptions, seed: u64, scan: &ScoreScan, tokenizer: &mut Tokenizer) -> Result<Self> {
        opts.validate()?;
        let mut attributes = Vec::with_capacity(opts.attributes.len());
        for ((spec, field), scores) in opts.attributes.iter().zip(opts.score_fields()).zip(&scan.attributes) {
            let label = spec
                .name
                .as_deref()
                .map(|n| format!(" for attribute `{n}`"))
                .unwrap_or_default();
            let threshold = spec.threshold.resolve(&scores.segments).ok_or_else(|| {
                DataError::Config(format!(
                    "threshold {}{label}: the input has no scored segments",
                    spec.threshold
                ))
            })?;
            // Scores are f32, so thresholds are compared in f32; record that f32 in its shortest decimal form (a
            // quantile 0.05000000074505806 of f32 scores is recorded as 0.05).
            let threshold = (threshold as f32).to_string().parse::<f64>().unwrap_or(threshold);
            check_threshold_splits(opts.kind, spec.threshold, threshold, &label, scores)?;
            let tokens = if opts.kind == TransformKind::Conditional {
                let prefix = spec.name.as_deref().map(|n| format!("{n}:")).unwrap_or_default();
                let names = [format!("<|{prefix}aligned|>"), format!("<|{prefix}misaligned|>")];
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let ids = tokenizer.add_special_tokens(&refs);
                names
                    .into_iter()
                    .zip(ids)
                    .map(|(token, id)| ControlToken { token, id })
                    .collect()
            } else {
                Vec::new()
            };
            attributes.push(Resolved {
                name: spec.name.clone(),
                field,
                threshold,
                given: spec.threshold,
                tokens,
            });
        }
        Ok(Transformer {
            kind: opts.kind,
            drop: opts.drop,
            seed,
            attributes,
        })
    }

    pub fn kind(&self) -> TransformKind {
        self.kind
    }

    /// Fresh counts for this transform.
    pub fn counts(&self) -> TransformCounts {
        TransformCounts {
            attributes: vec![AttributeCounts::default(); self.attributes.len()],
            documents_filtered: 0,
        }
    }

    /// Transforms document number `index` of the input (counting every document read, so the result does not
    /// depend on the split or on filtering) whose segments are tokenized as `segments`: `None` if filtered out,
    /// else the segments to pack with the document's `scores` (control tokens, if any, lead each segment).
    pub fn apply(
        &self,
        index: u64,
        doc: &Document,
        mut segments: Vec<Vec<u32>>,
        counts: &mut TransformCounts,
    ) -> Result<Option<Vec<Vec<u32>>>> {
        let mut all_scores = Vec::with_capacity(self.attributes.len());
        for a in &self.attributes {
            let scores = doc.scores_of(a.field.as_deref()).filter(|s| s.len() == segments.len());
            all_scores.push(scores.ok_or_else(|| {
                DataError::Config(format!(
                    "document {} has no `{}` with one score per segment",
                    doc.source.as_deref().unwrap_or("?"),
                    a.scores_field()
                ))
            })?);
        }
        match self.kind {
            TransformKind::Plain => Ok(Some(segments)),
            TransformKind::Filtering => {
                let mut keep = true;
                for ((a, scores), c) in self.attributes.iter().zip(&all_scores).zip(&mut counts.attributes) {
                    if mean_score(scores) > a.threshold as f32 {
                        c.documents_above_threshold += 1;
                        keep = false;
                    }
                }
                counts.documents_filtered += u64::from(!keep);
                Ok(keep.then_some(segments))
            }
            TransformKind::Conditional => {
                for (j, ids) in segments.iter_mut().enumerate() {
                    let mut prefix = Vec::with_capacity(self.attributes.len() + ids.len());
                    for (k, ((a, scores), c)) in self
                        .attributes
                        .iter()
                        .zip(&all_scores)
                        .zip(&mut counts.attributes)
                        .enumerate()
                    {
                        if uniform(&[self.seed, index, j as u64, k as u64]) < self.drop {
                            c.dropped += 1;
                        } else if scores[j] <= a.threshold as f32 {
                            c.aligned += 1;
                            prefix.push(a.tokens[0].id);
                        } else {
                            c.misaligned += 1;
                            prefix.push(a.tokens[1].id);
                        }
                    }
                    prefix.append(ids);
                    *ids = prefix;
                }
                Ok(Some(segments))
            }
        }
    }

    /// The transform, its resolved numbers and `counts`, for a header or report.
    pub fn record(&self, counts: &TransformCounts) -> TransformRecord {
        let conditional = self.kind == TransformKind::Conditional;
        TransformRecord {
            kind: self.kind,
            attributes: (self.attributes.iter().zip(&counts.attributes))
                .map(|(a, c)| AttributeRecord {
                    name: a.name.clone(),
                    scores_field: a.scores_field(),
                    threshold: a.threshold,
                    threshold_given: a.given.to_string(),
                    control_tokens: a.tokens.clone(),
                    counts: *c,
                })
                .collect(),
            drop: conditional.then_some(self.drop),
            seed: conditional.then_some(self.seed),
            documents_filtered: (self.kind == TransformKind::Filtering).then_some(counts.documents_filtered),
        }
    }
}

/// Errors when `threshold` puts every segment (conditional) or document (filtering) on one side: such a run
/// teaches nothing about the attribute. The message lists the quantiles so the user can pick a threshold.
fn check_threshold_splits(
    kind: TransformKind,
    given: Threshold,
    threshold: f64,
    label: &str,
    scores: &AttributeScores,
) -> Result<()> {
    let filtering = kind == TransformKind::Filtering;
    let side = if filtering { &scores.documents } else { &scores.segments };
    let aligned = side.partition_point(|&s| s <= threshold as f32);
    if aligned != 0 && aligned != side.len() {
        return Ok(());
    }
    let n = side.len();
    let resolved = match given {
        Threshold::Quantile(_) => format!(" (= {threshold})"),
        Threshold::Absolute(_) => String::new(),
    };
    let (effect, distribution) = match (filtering, aligned == 0) {
        (false, false) => (
            format!("makes all {n} segments aligned (scores <= {threshold})"),
            String::new(),
        ),
        (false, true) => (
            format!("makes all {n} segments misaligned (scores > {threshold})"),
            String::new(),
        ),
        (true, false) => (
            format!("filters out no document (all {n} avg_scores <= {threshold})"),
            format!("the documents' avg_scores are {}; ", quantile_summary(side)),
        ),
        (true, true) => (
            format!("filters out all {n} documents (avg_scores > {threshold})"),
            format!("the documents' avg_scores are {}; ", quantile_summary(side)),
        ),
    };
    Err(DataError::Config(format!(
        "threshold {given}{resolved}{label} {effect}: pick a threshold (--threshold: a score, or a quantile qX of the \
         segment scores) inside their range; {distribution}the segment scores are {}",
        quantile_summary(&scores.segments)
    )))
}

/// A uniform in `[0, 1)` from a splitmix64 chain over `keys` (fixed and platform-independent).
fn uniform(keys: &[u64]) -> f64 {
    // A salt keeps these draws independent of the train/valid assignment, which hashes the same seed.
    let h = keys
        .iter()
        .fold(0x636f_6e74_726f_6c00, |h, &k| crate::prepare::splitmix64(h ^ k));
    // The top 53 bits give an exactly representable uniform double.
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
#[path = "transform_tests.rs"]
mod tests;
