//! The lexical attributes spaCy's NER embeds (`NORM`, `PREFIX`, `SUFFIX`, `SHAPE`, all as string ids), as
//! `spacy.lang.lex_attrs` and the vocabulary's `lexeme_norm` table define them.

use std::path::Path;

use super::hash::string_hash;
use super::HashMap;
use crate::error::{Result, ScoreError};

/// spaCy's `StringStore` ids: a symbol's fixed id (`X` → a part-of-speech symbol), 0 for the empty string,
/// otherwise the string's hash.
#[derive(Debug)]
pub struct StringIds {
    symbols: HashMap<String, u64>,
}

impl StringIds {
    pub fn new(symbols: HashMap<String, u64>) -> Self {
        Self { symbols }
    }

    pub fn id(&self, s: &str) -> u64 {
        if s.is_empty() {
            return 0;
        }
        match self.symbols.get(s) {
            Some(&id) => id,
            None => string_hash(s),
        }
    }
}

/// The vocabulary's `lexeme_norm` table: a word's id → its norm's id (`cause` for `cuz`, British spellings, …).
#[derive(Debug)]
pub struct LexemeNorms {
    norms: HashMap<u64, u64>,
}

impl LexemeNorms {
    /// Loads `lexeme_norm.json` (`{"<word id>": "<norm>"}`).
    pub fn load(path: &Path, ids: &StringIds) -> Result<Self> {
        let table: HashMap<String, String> = crate::export::read_json(path, |reason| ScoreError::NerFormat {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut norms = HashMap::with_capacity_and_hasher(table.len(), Default::default());
        for (key, norm) in table {
            let key: u64 = key.parse().map_err(|_| ScoreError::NerFormat {
                path: path.to_path_buf(),
                reason: format!("key `{key}` is not a string id"),
            })?;
            norms.insert(key, ids.id(&norm));
        }
        Ok(Self { norms })
    }

    /// The `NORM` id of a word without a special-case norm: its table entry, else its lower case (Rust's
    /// `to_lowercase`, which like Python's `str.lower` handles final sigma and dotted İ).
    pub fn norm(&self, word: &str, ids: &StringIds) -> u64 {
        match self.norms.get(&ids.id(word)) {
            Some(&norm) => norm,
            None => ids.id(&word.to_lowercase()),
        }
    }
}

/// `PREFIX`: the first character.
pub fn prefix(word: &str) -> &str {
    word.char_indices().nth(1).map_or(word, |(i, _)| &word[..i])
}

/// `SUFFIX`: the last three characters.
pub fn suffix(word: &str) -> &str {
    match word.char_indices().rev().nth(2) {
        Some((i, _)) => &word[i..],
        None => word,
    }
}

/// `SHAPE`: letters as `X`/`x`, digits as `d`, other characters kept, runs cut after four; `LONG` from 100
/// characters on. Rust's `is_alphabetic`, `is_uppercase` and `is_numeric` stand in for Python's `isalpha`,
/// `isupper` and `isdigit`; they disagree on a few characters English email rarely has (the combining vowel
/// signs of Indic scripts are alphabetic to Rust, fractions such as `½` numeric), whose shapes then differ.
pub fn shape(word: &str) -> String {
    if word.chars().count() >= 100 {
        return "LONG".into();
    }
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    let mut run = 0;
    for c in word.chars() {
        let class = if c.is_alphabetic() {
            if c.is_uppercase() {
                'X'
            } else {
                'x'
            }
        } else if c.is_numeric() {
            'd'
        } else {
            c
        };
        if Some(class) == last {
            run += 1;
        } else {
            run = 0;
            last = Some(class);
        }
        if run < 4 {
            out.push(class);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affixes_count_characters() {
        assert_eq!(prefix("Émile"), "É");
        assert_eq!(suffix("Müller"), "ler");
        assert_eq!(suffix("né"), "né");
        assert_eq!(prefix(""), "");
    }

    #[test]
    fn shapes_cut_runs_after_four() {
        assert_eq!(shape("Anna"), "Xxxx");
        assert_eq!(shape("Lindqvist"), "Xxxxx");
        assert_eq!(shape("10:30am"), "dd:ddxx");
        assert_eq!(shape("U.S."), "X.X.");
        assert_eq!(shape(&"a".repeat(100)), "LONG");
    }
}
