//! scikit-learn's `TfidfVectorizer.transform` for one document (word analyzer, scikit-learn 1.9.1):
//!
//! ```text
//! text ─ str.lower() ─ re.findall(r"(?u)\b\w\w+\b") ─ drop stop words ─ n-grams (joined by " ")
//!   ─ count terms in the vocabulary ─ tf (raw count, or 1 + ln(count) if sublinear) × idf ─ l2 (or l1) norm
//! ```
//! The token pattern matches exactly the maximal runs of at least two word characters: `\b` fails inside a run
//! and the greedy `\w+` runs to its end. "Word character" is Python `re`'s Unicode `\w` — `str.isalnum()` or
//! `_`, which unlike Rust's `char::is_alphanumeric` excludes combining marks — taken from the code-point ranges
//! the export wrote with the reference's own Python, so both sides use the same Unicode tables. Lowercasing is
//! Rust's `str::to_lowercase`, the same full Unicode mapping as Python's `str.lower()` (final sigma included);
//! only characters assigned after the exporting Python's Unicode version (14.0 for 3.11) could differ.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use serde::Deserialize;

use crate::error::{Result, ScoreError};

/// The only token pattern this port implements (alt-profanity-check uses scikit-learn's default).
pub const TOKEN_PATTERN: &str = r"(?u)\b\w\w+\b";

/// `vectorizer.json` as `scripts/score/export_offensive.py` writes it.
#[derive(Deserialize)]
struct VectorizerFile {
    lowercase: bool,
    token_pattern: String,
    ngram_range: [usize; 2],
    stop_words: Vec<String>,
    sublinear_tf: bool,
    norm: Option<String>,
    vocabulary: Vec<String>,
    word_char_ranges: Vec<[u32; 2]>,
}

/// A fast multiply-rotate hash for looking terms up in the fixed vocabulary (SipHash's DoS resistance buys
/// nothing here: lookups never insert, and hashing was a fifth of the scorer's time).
#[derive(Debug, Default, Clone, Copy)]
struct TermHasher(u64);

impl TermHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for TermHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type TermMap<V> = HashMap<String, V, BuildHasherDefault<TermHasher>>;

/// Row normalisation after tf-idf weighting (`TfidfVectorizer(norm=...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Norm {
    L1,
    L2,
    None,
}

/// Python `re`'s Unicode `\w`: a lookup table for ASCII, sorted inclusive ranges for the rest.
#[derive(Debug, Clone)]
struct WordChars {
    ascii: [bool; 128],
    ranges: Vec<(u32, u32)>,
}

impl WordChars {
    fn new(ranges: &[[u32; 2]]) -> Self {
        let mut ranges: Vec<(u32, u32)> = ranges.iter().map(|&[lo, hi]| (lo, hi)).collect();
        ranges.sort_unstable();
        let mut ascii = [false; 128];
        for (c, is_word) in ascii.iter_mut().enumerate() {
            *is_word = Self::in_ranges(&ranges, c as u32);
        }
        Self { ascii, ranges }
    }

    fn in_ranges(ranges: &[(u32, u32)], cp: u32) -> bool {
        let i = ranges.partition_point(|&(lo, _)| lo <= cp);
        i > 0 && cp <= ranges[i - 1].1
    }

    fn contains(&self, c: char) -> bool {
        match self.ascii.get(c as usize) {
            Some(&is_word) => is_word,
            None => Self::in_ranges(&self.ranges, c as u32),
        }
    }
}

/// A fitted tf-idf vectorizer: settings, vocabulary (term → feature index) and idf weights.
#[derive(Debug, Clone)]
pub struct TfidfVectorizer {
    lowercase: bool,
    ngram_range: (usize, usize),
    stop_words: HashSet<String>,
    /// False when filtering cannot change the result: unigrams only and no stop word in the vocabulary (a
    /// fitted vocabulary never has one), so the vocabulary lookup drops them anyway.
    filter_stop_words: bool,
    sublinear_tf: bool,
    norm: Norm,
    vocabulary: TermMap<u32>,
    /// Longest vocabulary term in bytes: longer terms (base64 lines, URLs) skip the lookup.
    max_term_len: usize,
    idf: Vec<f64>,
    word_chars: WordChars,
}

impl TfidfVectorizer {
    /// Reads `vectorizer.json`; `idf` comes from the model file and must have one weight per vocabulary term.
    pub fn load(path: &Path, idf: Vec<f64>) -> Result<Self> {
        let format_err = |reason: String| ScoreError::OffensiveModelFormat {
            path: path.to_path_buf(),
            reason,
        };
        let file: VectorizerFile = crate::export::read_json(path, format_err)?;
        if file.token_pattern != TOKEN_PATTERN {
            return Err(format_err(format!(
                "token_pattern `{}`, only `{TOKEN_PATTERN}` is implemented",
                file.token_pattern
            )));
        }
        let [min_n, max_n] = file.ngram_range;
        if min_n == 0 || min_n > max_n {
            return Err(format_err(format!("invalid ngram_range [{min_n}, {max_n}]")));
        }
        let norm = match file.norm.as_deref() {
            Some("l2") => Norm::L2,
            Some("l1") => Norm::L1,
            None => Norm::None,
            Some(other) => return Err(format_err(format!("norm `{other}`, expected l1, l2 or null"))),
        };
        if file.vocabulary.len() != idf.len() {
            return Err(format_err(format!(
                "{} vocabulary terms but {} idf weights",
                file.vocabulary.len(),
                idf.len()
            )));
        }
        let vocabulary: TermMap<u32> = file.vocabulary.into_iter().zip(0..).collect();
        if vocabulary.len() != idf.len() {
            return Err(format_err("duplicate vocabulary terms".into()));
        }
        let max_term_len = vocabulary.keys().map(String::len).max().unwrap_or(0);
        let stop_words: HashSet<String> = file.stop_words.into_iter().collect();
        let filter_stop_words = max_n > 1 || stop_words.iter().any(|w| vocabulary.contains_key(w));
        Ok(Self {
            lowercase: file.lowercase,
            ngram_range: (min_n, max_n),
            stop_words,
            filter_stop_words,
            sublinear_tf: file.sublinear_tf,
            norm,
            vocabulary,
            max_term_len,
            idf,
            word_chars: WordChars::new(&file.word_char_ranges),
        })
    }

    /// Number of features (vocabulary size).
    pub fn num_features(&self) -> usize {
        self.idf.len()
    }

    /// The token pattern's matches in `text` (already lowercased): maximal runs of ≥ 2 word characters.
    pub fn tokens<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let bytes = text.as_bytes();
        let mut tokens = Vec::new();
        let (mut start, mut run_chars, mut i) = (0, 0, 0);
        while i < bytes.len() {
            // ASCII from the table; anything else decoded (i is always at a char boundary).
            let (is_word, len) = match bytes[i] {
                b if b < 0x80 => (self.word_chars.ascii[b as usize], 1),
                _ => {
                    let c = text[i..].chars().next().expect("a char starts here");
                    (self.word_chars.contains(c), c.len_utf8())
                }
            };
            if is_word {
                if run_chars == 0 {
                    start = i;
                }
                run_chars += 1;
            } else {
                if run_chars >= 2 {
                    tokens.push(&text[start..i]);
                }
                run_chars = 0;
            }
            i += len;
        }
        if run_chars >= 2 {
            tokens.push(&text[start..]);
        }
        tokens
    }

    /// Calls `each` with every term of the document in scikit-learn's order (`_word_ngrams`): stop words
    /// removed, then the unigrams (if `min_n == 1`) followed by the n-grams for n = max(min_n, 2)..=max_n.
    fn for_each_term(&self, text: &str, mut each: impl FnMut(&str)) {
        let lowered;
        let text = if !self.lowercase {
            text
        } else if text.is_ascii() {
            lowered = text.to_ascii_lowercase();
            &lowered
        } else {
            lowered = text.to_lowercase();
            &lowered
        };
        let mut tokens = self.tokens(text);
        if self.filter_stop_words {
            tokens.retain(|t| !self.stop_words.contains(*t));
        }
        let (mut min_n, max_n) = self.ngram_range;
        if min_n == 1 {
            tokens.iter().for_each(|t| each(t));
            min_n = 2;
        }
        let mut gram = String::new();
        for n in min_n..=max_n.min(tokens.len()) {
            for window in tokens.windows(n) {
                gram.clear();
                for (k, t) in window.iter().enumerate() {
                    if k > 0 {
                        gram.push(' ');
                    }
                    gram.push_str(t);
                }
                each(&gram);
            }
        }
    }

    /// The document's tf-idf row as sorted `(feature, weight)` pairs, normalised like scikit-learn's
    /// `normalize` (a zero row stays zero).
    pub fn transform(&self, text: &str) -> Vec<(u32, f64)> {
        let mut features = Vec::new();
        self.for_each_term(text, |term| {
            if term.len() <= self.max_term_len {
                if let Some(&j) = self.vocabulary.get(term) {
                    features.push(j);
                }
            }
        });
        features.sort_unstable();
        let mut row: Vec<(u32, f64)> = Vec::new();
        for j in features {
            match row.last_mut() {
                Some((last, count)) if *last == j => *count += 1.0,
                _ => row.push((j, 1.0)),
            }
        }
        for (j, value) in row.iter_mut() {
            let tf = if self.sublinear_tf { value.ln() + 1.0 } else { *value };
            *value = tf * self.idf[*j as usize];
        }
        let norm = match self.norm {
            Norm::L2 => row.iter().map(|(_, v)| v * v).sum::<f64>().sqrt(),
            Norm::L1 => row.iter().map(|(_, v)| v.abs()).sum::<f64>(),
            Norm::None => 1.0,
        };
        if norm > 0.0 {
            row.iter_mut().for_each(|(_, v)| *v /= norm);
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vectorizer over a tiny vocabulary, with Python's `\w` approximated by ASCII letters, digits and `_`
    /// plus the Latin-1 letters (enough for these tests).
    fn vectorizer(ngram_range: [usize; 2], stop_words: &[&str], vocabulary: &[&str]) -> TfidfVectorizer {
        let file = serde_json::json!({
            "lowercase": true,
            "token_pattern": TOKEN_PATTERN,
            "ngram_range": ngram_range,
            "stop_words": stop_words,
            "sublinear_tf": false,
            "norm": "l2",
            "vocabulary": vocabulary,
            "word_char_ranges": [[48, 57], [65, 90], [95, 95], [97, 122], [0xC0, 0xD6], [0xD8, 0xF6]],
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectorizer.json");
        std::fs::write(&path, file.to_string()).unwrap();
        TfidfVectorizer::load(&path, vec![1.0; vocabulary.len()]).unwrap()
    }

    #[test]
    fn tokens_are_runs_of_two_or_more_word_chars() {
        let v = vectorizer([1, 1], &[], &["x"]);
        assert_eq!(v.tokens("a bc d_e f-gh 12 x3 é"), ["bc", "d_e", "gh", "12", "x3"]);
        assert_eq!(v.tokens("café\u{301}s"), ["café"]); // U+0301 is a combining mark: not `\w` in Python
        assert!(v.tokens("").is_empty() && v.tokens("a b c").is_empty());
    }

    #[test]
    fn counts_and_l2_normalises() {
        let v = vectorizer([1, 1], &[], &["idiot", "you"]);
        let row = v.transform("You IDIOT, you!");
        let norm = 5f64.sqrt();
        assert_eq!(row, vec![(0, 1.0 / norm), (1, 2.0 / norm)]);
        assert!(v.transform("nothing known here").is_empty());
    }

    #[test]
    fn ngrams_follow_scikit_learn_after_stop_words() {
        // TfidfVectorizer(ngram_range=(1, 2), stop_words=["the"]) sees "big dog" in "the big the dog".
        let v = vectorizer([1, 2], &["the"], &["big dog", "the big", "dog"]);
        let row = v.transform("the big the dog");
        assert_eq!(row.iter().map(|&(j, _)| j).collect::<Vec<_>>(), [0, 2]);
    }
}
