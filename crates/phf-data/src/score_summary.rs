//! The score distribution of a scored corpus (the output of `phf score`): quantiles, mean, the share of segments
//! and documents above each threshold, and a histogram — what one needs to pick the thresholds of SPEC §3 (the
//! paper's authors set the conditional threshold so that only ~5% of sentences got `<|aligned|>`).
//!
//! Quantiles are numpy's default (type 7, see [`crate::threshold`]). "Above a threshold" is `score > threshold`
//! compared in `f32` as the transforms compare it, so the share above is exactly the share a filtering or
//! conditional run with that threshold marks misaligned. Every score is kept (4 bytes per segment and document)
//! to sort for the quantiles.

use serde::{Deserialize, Serialize};

use crate::document::mean_score;
use crate::error::Result;
use crate::threshold::{quantile, Threshold};
use crate::Document;

/// The quantiles reported.
pub const QUANTILES: [f64; 13] = [
    0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1.0,
];
/// Bars of the histogram.
pub const HISTOGRAM_BINS: usize = 40;
/// The histogram spans `[0, q(HISTOGRAM_TOP_QUANTILE)]` of the segment scores, so a few extreme short segments do not
/// squeeze everything into the first bar; the scores above go to `Histogram::above`.
pub const HISTOGRAM_TOP_QUANTILE: f64 = 0.995;

/// The paper's thresholds (SPEC §3) and the toxicity hit level (SPEC §5), each with where it comes from.
pub fn paper_thresholds() -> Vec<(Threshold, String)> {
    [
        (0.0, "conditional PII/PEP8 (paper); PEP8 hit"),
        (0.000286, "filtering PII (paper)"),
        (0.00056, "conditional toxicity (paper)"),
        (0.00078, "filtering/unlikelihood toxicity (paper)"),
        (0.002361, "filtering PEP8 (paper)"),
        (0.5, "toxicity hit (num_hits)"),
    ]
    .into_iter()
    .map(|(x, label)| (Threshold::Absolute(x), label.to_string()))
    .collect()
}

/// One distribution: of segment scores, or of documents' `avg_score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub count: u64,
    pub mean: f64,
    /// Share of exact zeros (most segments of the PII and PEP8 corpora).
    pub share_zero: f64,
    /// `[q, value]` pairs for [`QUANTILES`].
    pub quantiles: Vec<(f64, f64)>,
}

impl Distribution {
    /// The distribution of `scores`, which are sorted in place.
    fn of(scores: &mut [f32]) -> Distribution {
        scores.sort_by(f32::total_cmp);
        let sum: f64 = scores.iter().map(|&s| f64::from(s)).sum();
        let n = scores.len().max(1) as f64;
        Distribution {
            count: scores.len() as u64,
            mean: sum / n,
            share_zero: scores.iter().filter(|&&s| s == 0.0).count() as f64 / n,
            quantiles: QUANTILES
                .iter()
                .filter_map(|&q| quantile(scores, q).map(|x| (q, x)))
                .collect(),
        }
    }

    /// The reported quantile `q`, if it is one of [`QUANTILES`].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles.iter().find(|(p, _)| *p == q).map(|&(_, x)| x)
    }
}

/// Share of segments and documents above one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdShare {
    /// The threshold as given (`0.00056`, `q0.05`).
    pub given: String,
    /// As a score.
    pub threshold: f64,
    pub label: String,
    /// Share of segments with `score > threshold` (conditional: `<|misaligned|>`).
    pub segments_above: f64,
    /// Share of documents with `avg_score > threshold` (filtering: dropped).
    pub documents_above: f64,
}

/// Segment-score counts in equal-width bins over `[0, top]`, plus the count above `top`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub top: f64,
    /// Bin `i` counts scores in `[i·w, (i+1)·w)`, `w = top / bins`; the last bin includes `top`.
    pub counts: Vec<u64>,
    pub above: u64,
}

impl Histogram {
    fn of(sorted: &[f32]) -> Histogram {
        let max = sorted.last().map_or(0.0, |&s| f64::from(s));
        let top = match quantile(sorted, HISTOGRAM_TOP_QUANTILE) {
            Some(q) if q > 0.0 => q,
            _ if max > 0.0 => max,
            _ => 1.0,
        };
        let mut counts = vec![0u64; HISTOGRAM_BINS];
        let mut above = 0;
        for &s in sorted {
            let s = f64::from(s);
            if s > top {
                above += 1;
            } else {
                let bin = ((s / top) * HISTOGRAM_BINS as f64) as usize;
                counts[bin.min(HISTOGRAM_BINS - 1)] += 1;
            }
        }
        Histogram { top, counts, above }
    }

    pub fn bin_width(&self) -> f64 {
        self.top / self.counts.len() as f64
    }
}

/// The whole summary, as printed and written to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    pub inputs: Vec<String>,
    pub documents: u64,
    pub segments: u64,
    pub segment_scores: Distribution,
    /// Of documents' `avg_score` (the plain mean of their segment scores, SPEC §2).
    pub document_scores: Distribution,
    pub thresholds: Vec<ThresholdShare>,
    /// Of segment scores.
    pub histogram: Histogram,
}

impl ScoreSummary {
    /// Summarises `documents` (their `scores`); `thresholds` may be quantiles, resolved on the segment scores.
    pub fn collect(
        inputs: Vec<String>,
        documents: impl IntoIterator<Item = Result<Document>>,
        thresholds: &[(Threshold, String)],
    ) -> Result<ScoreSummary> {
        let mut segments: Vec<f32> = Vec::new();
        let mut averages: Vec<f32> = Vec::new();
        for doc in documents {
            let doc = doc?;
            segments.extend_from_slice(&doc.scores);
            averages.push(mean_score(&doc.scores));
        }
        let segment_scores = Distribution::of(&mut segments);
        let document_scores = Distribution::of(&mut averages);
        let thresholds = thresholds
            .iter()
            .filter_map(|(given, label)| {
                let threshold = given.resolve(&segments)?;
                Some(ThresholdShare {
                    given: given.to_string(),
                    threshold,
                    label: label.clone(),
                    segments_above: share_above(&segments, threshold),
                    documents_above: share_above(&averages, threshold),
                })
            })
            .collect();
        Ok(ScoreSummary {
            inputs,
            documents: averages.len() as u64,
            segments: segments.len() as u64,
            histogram: Histogram::of(&segments),
            segment_scores,
            document_scores,
            thresholds,
        })
    }

    /// A few lines for the terminal.
    pub fn to_text(&self) -> String {
        let dist = |d: &Distribution| {
            let qs: Vec<String> = d
                .quantiles
                .iter()
                .filter(|(q, _)| [0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0].contains(q))
                .map(|(q, x)| format!("q{q}={x:.6}"))
                .collect();
            format!(
                "mean {:.6}, zero {:.1}%, {}",
                d.mean,
                100.0 * d.share_zero,
                qs.join(" ")
            )
        };
        let mut s = format!(
            "{} documents, {} segments\nsegments:  {}\ndocuments: {}\n",
            self.documents,
            self.segments,
            dist(&self.segment_scores),
            dist(&self.document_scores)
        );
        for t in &self.thresholds {
            s += &format!(
                "above {:<10} ({:.6}): {:>6.2}% of segments, {:>6.2}% of documents  [{}]\n",
                t.given,
                t.threshold,
                100.0 * t.segments_above,
                100.0 * t.documents_above,
                t.label
            );
        }
        s
    }
}

/// Share of ascending `sorted` scores with `score > threshold`, compared in `f32` (see the module docs).
fn share_above(sorted: &[f32], threshold: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let t = threshold as f32;
    let at_or_below = sorted.partition_point(|&s| s <= t);
    (sorted.len() - at_or_below) as f64 / sorted.len() as f64
}

#[cfg(test)]
#[path = "score_summary_tests.rs"]
mod tests;
