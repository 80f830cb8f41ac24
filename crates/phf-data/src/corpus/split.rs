//! The train/validation/test split of a fetched corpus: a pure function of a document's text.
//!
//! The first 8 bytes of the document's [`super::clean::dedup_key`] (SHA-256 of its whitespace-normalised text),
//! read big-endian and scaled to `[0, 1)`, are compared with the split fractions. So the same text always lands in
//! the same split, on any machine, whatever else the corpus holds; and duplicates could not straddle splits even if
//! they were kept.

use serde::{Deserialize, Serialize};

/// One of the three splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// The split's file in a corpus folder.
    pub fn file_name(self) -> String {
        format!("{}.jsonl", self.name())
    }
}

/// Expected shares of `validation` and `test`; `train` gets the rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitFractions {
    pub validation: f64,
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        SplitFractions {
            validation: 0.05,
            test: 0.05,
        }
    }
}

impl SplitFractions {
    /// Errors unless both fractions are in `[0, 1)` and leave something for `train`.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| (0.0..1.0).contains(&x);
        if !ok(self.validation) || !ok(self.test) || self.validation + self.test >= 1.0 {
            return Err(format!(
                "split fractions validation {} and test {} must each be in [0, 1) and sum to less than 1",
                self.validation, self.test
            ));
        }
        Ok(())
    }

    /// The split of the document whose duplicate key is `key`.
    pub fn split_of(&self, key: &[u8; 32]) -> Split {
        let mut first = [0u8; 8];
        first.copy_from_slice(&key[..8]);
        // The top 53 bits give an exactly representable uniform double.
        let u = (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
        if u < self.validation {
            Split::Validation
        } else if u < self.validation + self.test {
            Split::Test
        } else {
            Split::Train
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::clean::dedup_key;
    use super::*;

    #[test]
    fn split_depends_on_the_text_only_and_matches_the_fractions() {
        let fractions = SplitFractions::default();
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..20_000 {
            let text = format!("document number {i}");
            let split = fractions.split_of(&dedup_key(&text));
            // Same text (up to whitespace) → same split.
            assert_eq!(
                split,
                fractions.split_of(&dedup_key(&format!(" document  number\n{i} ")))
            );
            *counts.entry(split).or_insert(0u32) += 1;
        }
        // Binomial(20000, 0.05): sd ≈ 31, so ±200 is > 6 sd.
        for split in [Split::Validation, Split::Test] {
            assert!((counts[&split] as i64 - 1000).abs() < 200, "{counts:?}");
        }
        assert_eq!(counts.values().sum::<u32>(), 20_000);
    }

    #[test]
    fn known_assignment_is_stable() {
        // Pinned so a change of the hash or the rule (which would reshuffle every published split) fails loudly:
        // sha256("hello world") starts b94d27b9934d3e08, i.e. u ≈ 0.724, so train.
        assert_eq!(
            SplitFractions::default().split_of(&dedup_key("hello   world")),
            Split::Train
        );
        let all_valid = SplitFractions {
            validation: 0.99,
            test: 0.0,
        };
        assert_eq!(all_valid.split_of(&dedup_key("hello world")), Split::Validation);
        let test_band = SplitFractions {
            validation: 0.7,
            test: 0.05,
        };
        assert_eq!(test_band.split_of(&dedup_key("hello world")), Split::Test);
    }

    #[test]
    fn bad_fractions_are_refused() {
        assert!(SplitFractions {
            validation: 0.5,
            test: 0.5
        }
        .validate()
        .is_err());
        assert!(SplitFractions {
            validation: -0.1,
            test: 0.0
        }
        .validate()
        .is_err());
        assert!(SplitFractions::default().validate().is_ok());
    }
}
