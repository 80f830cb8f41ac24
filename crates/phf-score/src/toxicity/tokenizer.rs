//! The Keras text tokenizer tox-block was trained with (`keras_preprocessing.text.Tokenizer` 1.1, wrapped by
//! tox_block's `TokenSequencer`), reimplemented to produce the same ids:
//! 1. `str.lower()` (Rust's `to_lowercase` applies the same Unicode mappings, final sigma included);
//! 2. every character of `filters` (ASCII punctuation, tab, newline) becomes the split string (a space);
//! 3. split on that exact string (not on other whitespace), dropping empty pieces;
//! 4. look each word up in the word index; unknown words and ids `>= num_words` are dropped (no OOV token);
//! 5. `pad_sequences(maxlen=100)`: keep the *last* 100 ids and left-pad with 0.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::error::{Result, ScoreError};

/// `tokenizer.json` as written by `scripts/score/export_tox_block.py`.
#[derive(Debug, Deserialize)]
struct TokenizerFile {
    filters: String,
    lower: bool,
    split: String,
    num_words: u32,
    max_sequence_length: usize,
    padding: String,
    truncating: String,
    word_index: HashMap<String, u32>,
}

/// Text → fixed-length id sequence, exactly as tox-block's encoder.
#[derive(Debug, Clone)]
pub struct KerasTokenizer {
    filters: HashSet<char>,
    lower: bool,
    split: String,
    num_words: u32,
    max_len: usize,
    word_index: HashMap<String, u32>,
}

impl KerasTokenizer {
    /// Loads `tokenizer.json`, rejecting settings this port does not implement.
    pub fn load(path: &Path) -> Result<Self> {
        let format_err = |reason: String| ScoreError::ModelFormat {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|source| ScoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: TokenizerFile = serde_json::from_slice(&bytes).map_err(|e| format_err(e.to_string()))?;
        if file.padding != "pre" || file.truncating != "pre" {
            return Err(format_err(format!(
                "padding/truncating `{}`/`{}`, expected `pre`",
                file.padding, file.truncating
            )));
        }
        if file.split.is_empty() || file.max_sequence_length == 0 {
            return Err(format_err("empty split string or zero max_sequence_length".into()));
        }
        Ok(Self {
            filters: file.filters.chars().collect(),
            lower: file.lower,
            split: file.split,
            num_words: file.num_words,
            max_len: file.max_sequence_length,
            word_index: file.word_index,
        })
    }

    /// Length of every encoded sequence.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Largest id `encode` can return, plus one.
    pub fn num_words(&self) -> u32 {
        self.num_words
    }

    /// Word ids of `text` before padding (Keras `texts_to_sequences`).
    pub fn ids(&self, text: &str) -> Vec<u32> {
        let lowered;
        let text = if self.lower {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let mut translated = String::with_capacity(text.len());
        for c in text.chars() {
            if self.filters.contains(&c) {
                translated.push_str(&self.split);
            } else {
                translated.push(c);
            }
        }
        translated
            .split(self.split.as_str())
            .filter(|w| !w.is_empty())
            .filter_map(|w| self.word_index.get(w).copied())
            .filter(|&id| id < self.num_words)
            .collect()
    }

    /// The model input: the last `max_len` ids, left-padded with 0 (Keras `pad_sequences`, `pre`/`pre`).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let ids = self.ids(text);
        let kept = &ids[ids.len().saturating_sub(self.max_len)..];
        let mut out = vec![0; self.max_len - kept.len()];
        out.extend_from_slice(kept);
        out
    }

    #[cfg(test)]
    pub(crate) fn for_tests(words: &[&str], max_len: usize) -> Self {
        Self {
            filters: "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n".chars().collect(),
            lower: true,
            split: " ".into(),
            num_words: words.len() as u32,
            max_len,
            word_index: words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.to_string(), i as u32 + 1))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> KerasTokenizer {
        // ids: the=1 … rare=5; num_words=5 makes `rare` (id 5) invisible, as ids >= num_words are in Keras.
        KerasTokenizer::for_tests(&["the", "cat", "don't", "ünï", "rare"], 4)
    }

    #[test]
    fn lowercases_strips_filters_and_splits_on_spaces() {
        assert_eq!(tok().ids("The CAT, the-cat!"), vec![1, 2, 1, 2]);
        // The apostrophe is not a filter, so `don't` stays one word.
        assert_eq!(tok().ids("DON'T"), vec![3]);
        assert_eq!(tok().ids("ÜNÏ"), vec![4]);
    }

    #[test]
    fn only_filters_and_spaces_split() {
        // A non-breaking space and a carriage return are neither a filter nor the split string.
        assert_eq!(tok().ids("the\u{a0}cat the\rcat"), Vec::<u32>::new());
        assert_eq!(tok().ids("the\ncat\tthe"), vec![1, 2, 1]);
    }

    #[test]
    fn drops_unknown_words_and_ids_beyond_num_words() {
        assert_eq!(tok().ids("the dog rare cat"), vec![1, 2]);
    }

    #[test]
    fn pads_and_truncates_at_the_front() {
        assert_eq!(tok().encode("cat"), vec![0, 0, 0, 2]);
        assert_eq!(tok().encode("the cat the cat cat"), vec![2, 1, 2, 2]);
        assert_eq!(tok().encode(""), vec![0, 0, 0, 0]);
    }
}
