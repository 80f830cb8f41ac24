//! Diversity of a set of samples (SPEC §5), all over whitespace-separated words: mean length, distinct-n (unique
//! over total n-grams of a sample, averaged over samples), the entropy of the pooled n-gram counts, and
//! self-BLEU-5 (each sample's BLEU-5 against all the others as references; the reference implementation computes
//! it over characters by mistake, we use words as intended).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diversity {
    /// Mean number of words per sample.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub mean_words: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub distinct_1: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub distinct_2: f64,
    /// Entropy (nats) of the unigram and bigram counts pooled over all samples.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub entropy_1: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub entropy_2: f64,
    /// Mean BLEU-5 of each non-empty sample against all others (uniform weights, NLTK's smoothing `method1`
    /// with ε = 0.1, closest-reference brevity penalty). Lower is more diverse.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub self_bleu_5: f64,
}

impl Diversity {
    pub fn of<S: AsRef<str>>(samples: &[S]) -> Diversity {
        let words: Vec<Vec<&str>> = samples
            .iter()
            .map(|s| s.as_ref().split_whitespace().collect())
            .collect();
        let mean = |v: &[f64]| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let lengths: Vec<f64> = words.iter().map(|w| w.len() as f64).collect();
        Diversity {
            mean_words: mean(&lengths),
            distinct_1: distinct(&words, 1),
            distinct_2: distinct(&words, 2),
            entropy_1: entropy(&words, 1),
            entropy_2: entropy(&words, 2),
            self_bleu_5: self_bleu(&words, 5),
        }
    }
}

/// Unique n-grams over all n-grams of each sample, averaged over samples that have at least one n-gram.
pub fn distinct(samples: &[Vec<&str>], n: usize) -> f64 {
    let ratios: Vec<f64> = samples
        .iter()
        .filter(|w| w.len() >= n)
        .map(|w| {
            let grams: Vec<&[&str]> = w.windows(n).collect();
            let unique: std::collections::HashSet<&[&str]> = grams.iter().copied().collect();
            unique.len() as f64 / grams.len() as f64
        })
        .collect();
    if ratios.is_empty() {
        return f64::NAN;
    }
    ratios.iter().sum::<f64>() / ratios.len() as f64
}

/// Entropy (nats) of the n-gram frequency distribution pooled over all samples.
pub fn entropy(samples: &[Vec<&str>], n: usize) -> f64 {
    let mut counts: HashMap<&[&str], u64> = HashMap::new();
    for w in samples.iter().filter(|w| w.len() >= n) {
        for g in w.windows(n) {
            *counts.entry(g).or_default() += 1;
        }
    }
    let total: u64 = counts.values().sum();
    if total == 0 {
        return f64::NAN;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.ln()
        })
        .sum()
}

/// The largest count of an n-gram in any sample, and the runner-up from a different sample, so "the largest
/// count among all samples but this one" is known without comparing every pair.
#[derive(Clone, Copy, Default)]
struct TopCounts {
    best: u32,
    best_sample: usize,
    second: u32,
}

impl TopCounts {
    fn add(&mut self, count: u32, sample: usize) {
        if count > self.best {
            self.second = self.best;
            self.best = count;
            self.best_sample = sample;
        } else if count > self.second {
            self.second = count;
        }
    }
    fn excluding(&self, sample: usize) -> u32 {
        if self.best_sample == sample {
            self.second
        } else {
            self.best
        }
    }
}

/// Mean BLEU-`max_n` of every non-empty sample against all other samples as its references.
pub fn self_bleu(samples: &[Vec<&str>], max_n: usize) -> f64 {
    if samples.len() < 2 {
        return f64::NAN;
    }
    let counts: Vec<Vec<HashMap<&[&str], u32>>> = samples
        .iter()
        .map(|w| (1..=max_n).map(|n| ngram_counts(w, n)).collect())
        .collect();
    let mut top: Vec<HashMap<&[&str], TopCounts>> = vec![HashMap::new(); max_n];
    for (i, per_n) in counts.iter().enumerate() {
        for (n, grams) in per_n.iter().enumerate() {
            for (g, &c) in grams {
                top[n].entry(*g).or_default().add(c, i);
            }
        }
    }
    let mut lengths: BTreeMap<usize, usize> = BTreeMap::new();
    for w in samples {
        *lengths.entry(w.len()).or_default() += 1;
    }
    let scores: Vec<f64> = samples
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.is_empty())
        .map(|(i, w)| {
            let log_precision: f64 = (0..max_n)
                .map(|n| {
                    let hyp = &counts[i][n];
                    let total: u32 = hyp.values().sum();
                    let clipped: u32 = hyp.iter().map(|(g, &c)| c.min(top[n][g].excluding(i))).sum();
                    let denominator = f64::from(total.max(1));
                    let numerator = if clipped == 0 { 0.1 } else { f64::from(clipped) };
                    (numerator / denominator).ln()
                })
                .sum::<f64>()
                / max_n as f64;
            let clipped_unigrams: u32 = counts[i][0].iter().map(|(g, &c)| c.min(top[0][g].excluding(i))).sum();
            if clipped_unigrams == 0 {
                return 0.0; // no word in common with any reference: NLTK's BLEU is 0 whatever the smoothing
            }
            brevity_penalty(w.len(), closest_other_length(&lengths, w.len())) * log_precision.exp()
        })
        .collect();
    scores.iter().sum::<f64>() / scores.len() as f64
}

fn ngram_counts<'a, 'b>(words: &'b [&'a str], n: usize) -> HashMap<&'b [&'a str], u32> {
    let mut counts = HashMap::new();
    if words.len() >= n {
        for g in words.windows(n) {
            *counts.entry(g).or_default() += 1;
        }
    }
    counts
}

/// The reference length closest to `c` among all samples but one of length `c` (ties: the shorter, as NLTK).
fn closest_other_length(lengths: &BTreeMap<usize, usize>, c: usize) -> usize {
    if lengths.get(&c).is_some_and(|&k| k >= 2) {
        return c;
    }
    let below = lengths.range(..c).next_back().map(|(&l, _)| l);
    let above = lengths.range(c + 1..).next().map(|(&l, _)| l);
    match (below, above) {
        (Some(b), Some(a)) => {
            if c - b <= a - c {
                b
            } else {
                a
            }
        }
        (Some(b), None) => b,
        (None, Some(a)) => a,
        (None, None) => c,
    }
}

fn brevity_penalty(c: usize, r: usize) -> f64 {
    if c > r {
        1.0
    } else {
        (1.0 - r as f64 / c as f64).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn distinct_and_entropy_by_hand() {
        let samples = vec![words("a a b"), words("c d")];
        // distinct-1: (2/3 + 2/2) / 2; distinct-2: (2/2 + 1/1) / 2
        assert!((distinct(&samples, 1) - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        assert!((distinct(&samples, 2) - 1.0).abs() < 1e-12);
        // pooled unigram counts a:2 b:1 c:1 d:1 over 5
        let h = -(0.4f64 * 0.4f64.ln() + 3.0 * 0.2 * 0.2f64.ln());
        assert!((entropy(&samples, 1) - h).abs() < 1e-12);
    }

    #[test]
    fn identical_samples_have_self_bleu_one_and_disjoint_ones_zero() {
        let same = vec![words("the cat sat on the mat"); 3];
        assert!((self_bleu(&same, 5) - 1.0).abs() < 1e-12);
        let disjoint = vec![words("a b c d e f"), words("g h i j k l"), words("m n o p q r")];
        assert_eq!(self_bleu(&disjoint, 5), 0.0);
    }

    #[test]
    fn self_bleu_by_hand_with_smoothing_and_brevity() {
        // hypothesis "a b c d e f" against the single reference "a b c d e f g h": all n-gram precisions are 1
        // (6, 5, 4, 3, 2 matches), so BLEU is the brevity penalty exp(1 - 8/6)
        let samples = vec![words("a b c d e f"), words("a b c d e f g h")];
        let first = (1.0f64 - 8.0 / 6.0).exp();
        // reverse: "a b c d e f g h" against "a b c d e f": precisions 6/8, 5/7, 4/6, 3/5, 2/4, no penalty
        let second =
            ((6.0f64 / 8.0).ln() + (5.0f64 / 7.0).ln() + (4.0f64 / 6.0).ln() + (0.6f64).ln() + 0.5f64.ln()) / 5.0;
        let want = (first + second.exp()) / 2.0;
        assert!(
            (self_bleu(&samples, 5) - want).abs() < 1e-12,
            "{}",
            self_bleu(&samples, 5)
        );
        // a 2-word hypothesis has no 3..5-grams: those orders are smoothed to 0.1 / 1
        let short = vec![words("x y"), words("x y z")];
        let p = [1.0f64, 1.0, 0.1, 0.1, 0.1].map(f64::ln).iter().sum::<f64>() / 5.0;
        let first = (1.0f64 - 3.0 / 2.0).exp() * p.exp();
        let second = [2.0f64 / 3.0, 0.5, 0.1, 0.1, 0.1].map(f64::ln).iter().sum::<f64>() / 5.0;
        assert!((self_bleu(&short, 5) - (first + second.exp()) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn references_exclude_the_hypothesis_itself() {
        // the unique sample shares nothing with the others even though it matches itself perfectly
        let samples = vec![words("p q r s t"), words("a b c d e"), words("a b c d e")];
        let s = self_bleu(&samples, 5);
        assert!((s - 2.0 / 3.0).abs() < 1e-12, "{s}");
    }

    #[test]
    fn summary_of_samples() {
        let d = Diversity::of(&["a b", "a b c d", ""]);
        assert!((d.mean_words - 2.0).abs() < 1e-12);
        assert!(d.self_bleu_5 > 0.0 && d.self_bleu_5 < 1.0);
    }
}
