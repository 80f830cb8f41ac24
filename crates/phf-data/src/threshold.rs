//! Score thresholds of filtering and conditional training (SPEC §3), given as an absolute misalignment score or as
//! a quantile of the corpus' segment scores (the paper's authors report that only ~5% of sentences got
//! `<|aligned|>`, i.e. a threshold near `q0.05`).
//!
//! Quantiles use linear interpolation between order statistics, numpy's default (`np.quantile(x, q)`, Hyndman &
//! Fan type 7): with the `n` scores sorted, `h = (n - 1)·q` and the quantile is
//! `x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋ + 1] - x[⌊h⌋])`. Resolving one needs every segment score of the input, so
//! [`ScoreScan`] reads the corpus once before packing and keeps its scores as `f32` (4 bytes per segment and
//! attribute, plus 4 per document): that first pass is not constant-memory.

use std::fmt;
use std::str::FromStr;

use crate::document::{mean_score, Document};
use crate::error::Result;

/// A threshold as the user gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A misalignment score.
    Absolute(f64),
    /// The `q`-quantile (`0 <= q <= 1`) of all segment scores of the input, written `q0.05`.
    Quantile(f64),
}

impl FromStr for Threshold {
    type Err = String;

    /// `0.00056` (absolute) or `q0.05` (quantile).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(q) = s.strip_prefix('q') {
            return match q.parse::<f64>() {
                Ok(q) if (0.0..=1.0).contains(&q) => Ok(Threshold::Quantile(q)),
                _ => Err(format!(
                    "`{s}` is not a quantile: write q followed by a fraction in [0, 1], e.g. q0.05"
                )),
            };
        }
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Threshold::Absolute(x)),
            _ => Err(format!(
                "`{s}` is neither a misalignment score (e.g. 0.00056) nor a quantile of the corpus' segment scores \
                 (e.g. q0.05)"
            )),
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Absolute(x) => write!(f, "{x}"),
            Threshold::Quantile(q) => write!(f, "q{q}"),
        }
    }
}

impl Threshold {
    /// The threshold as a score: itself, or the quantile of `sorted_scores` (ascending; `None` if empty).
    pub fn resolve(self, sorted_scores: &[f32]) -> Option<f64> {
        match self {
            Threshold::Absolute(x) => Some(x),
            Threshold::Quantile(q) => quantile(sorted_scores, q),
        }
    }
}

/// The `q`-quantile of ascending `sorted` by linear interpolation (numpy's default; see the module docs), in f64.
pub fn quantile(sorted: &[f32], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    let (a, b) = (f64::from(sorted[lo]), f64::from(sorted[hi]));
    Some(a + (h - lo as f64) * (b - a))
}

/// A one-line summary of the distribution, for error messages that ask the user to pick a threshold.
pub fn quantile_summary(sorted: &[f32]) -> String {
    const QS: [f64; 11] = [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0];
    QS.iter()
        .filter_map(|&q| quantile(sorted, q).map(|x| format!("q{q}={x:.6}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scores of one attribute over the whole input, sorted ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeScores {
    /// Every segment score.
    pub segments: Vec<f32>,
    /// Every document's `avg_score` (plain mean of its segment scores, SPEC §2).
    pub documents: Vec<f32>,
}

/// The first pass over the input: per attribute, all segment scores and document averages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreScan {
    /// One entry per attribute, in the order of the `attributes` given to [`ScoreScan::collect`].
    pub attributes: Vec<AttributeScores>,
}

impl ScoreScan {
    /// Collects the scores of `attributes` (`None`: the `scores` field; `Some(name)`: `scores_<name>`) from
    /// `documents`; stops at the first error. A document lacking an attribute contributes nothing to it (the
    /// reader rejects such documents when told to, see [`crate::CorpusReader::require_attributes`]).
    pub fn collect(
        documents: impl IntoIterator<Item = Result<Document>>,
        attributes: &[Option<String>],
    ) -> Result<ScoreScan> {
        let mut scan = ScoreScan {
            attributes: vec![AttributeScores::default(); attributes.len()],
        };
        for doc in documents {
            let doc = doc?;
            for (scores, attribute) in scan.attributes.iter_mut().zip(attributes) {
                if let Some(s) = doc.scores_of(attribute.as_deref()) {
                    scores.segments.extend_from_slice(s);
                    scores.documents.push(mean_score(s));
                }
            }
        }
        for scores in &mut scan.attributes {
            scores.segments.sort_by(f32::total_cmp);
            scores.documents.sort_by(f32::total_cmp);
        }
        Ok(scan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(xs: &[f32]) -> Vec<f32> {
        let mut v = xs.to_vec();
        v.sort_by(f32::total_cmp);
        v
    }

    // Expected values from numpy 1.26: `np.quantile(x, q)` (default method="linear").
    #[test]
    fn quantiles_match_numpy_linear_on_known_distributions() {
        let one_to_five = sorted(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(quantile(&one_to_five, 0.5), Some(3.0)); // np.quantile([1,2,3,4,5], .5) == 3.0
        assert_eq!(quantile(&one_to_five, 0.25), Some(2.0));
        assert!((quantile(&one_to_five, 0.1).unwrap() - 1.4).abs() < 1e-12); // 1.4
        assert_eq!(quantile(&one_to_five, 0.0), Some(1.0));
        assert_eq!(quantile(&one_to_five, 1.0), Some(5.0));

        // np.arange(101): the q-quantile is 100·q.
        let uniform: Vec<f32> = (0..=100).map(|i| i as f32).collect();
        for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
            assert!((quantile(&uniform, q).unwrap() - 100.0 * q).abs() < 1e-9, "q{q}");
        }

        // Mostly-zero scores, as PII gives: np.quantile([0, 0, 0, 1], [.5, .9]) == [0, 0.7].
        let zeros = [0.0, 0.0, 0.0, 1.0];
        assert_eq!(quantile(&zeros, 0.5), Some(0.0));
        assert!((quantile(&zeros, 0.9).unwrap() - 0.7).abs() < 1e-12);

        assert_eq!(quantile(&[0.25], 0.3), Some(0.25));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn parses_and_prints_absolute_and_quantile_thresholds() {
        assert_eq!("0.00056".parse(), Ok(Threshold::Absolute(0.00056)));
        assert_eq!("0".parse(), Ok(Threshold::Absolute(0.0)));
        assert_eq!("q0.05".parse(), Ok(Threshold::Quantile(0.05)));
        assert_eq!(Threshold::Quantile(0.05).to_string(), "q0.05");
        assert_eq!(Threshold::Absolute(0.5).to_string(), "0.5");
        for bad in ["q1.5", "q", "qx", "abc", "NaN", "inf", ""] {
            assert!(bad.parse::<Threshold>().is_err(), "{bad}");
        }
        let scores = sorted(&[0.4, 0.1, 0.3, 0.2]);
        assert_eq!(Threshold::Quantile(0.0).resolve(&scores), Some(f64::from(0.1f32)));
        assert_eq!(Threshold::Absolute(7.0).resolve(&[]), Some(7.0));
    }

    #[test]
    fn scan_collects_sorted_segment_and_document_scores_per_attribute() {
        let mut a = Document::single("x", 0.5);
        a.texts.push("y".into());
        a.scores.push(0.1);
        a.attribute_scores.insert("pii".into(), vec![1.0, 3.0]);
        let mut b = Document::single("z", 0.2);
        b.attribute_scores.insert("pii".into(), vec![0.0]);
        let scan = ScoreScan::collect([Ok(a), Ok(b)], &[None, Some("pii".into())]).expect("scan");
        assert_eq!(scan.attributes[0].segments, vec![0.1, 0.2, 0.5]);
        assert_eq!(scan.attributes[0].documents, vec![0.2, 0.3]);
        assert_eq!(scan.attributes[1].segments, vec![0.0, 1.0, 3.0]);
        assert_eq!(scan.attributes[1].documents, vec![0.0, 2.0]);
        assert!(quantile_summary(&scan.attributes[1].segments).starts_with("q0=0.000000, q0.01=0.020000"));
    }
}
