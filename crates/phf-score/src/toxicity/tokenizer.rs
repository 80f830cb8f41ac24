//! The Keras text tokenizer tox-block was trained with (`keras_preprocessing.text.Tokenizer` 1.1, wrapped by
//! tox_block's `TokenSequencer`), reimplemented to produce the same ids:
//! 1. `str.lower()` (Rust's `to_lowercase` applies the same Unicode mappings, final sigma included);
//! 2. every character of `filters` (ASCII punctuation, tab, newline) becomes the split string (a space);
//! 3. split on that exact string (not on other whitespace), dropping empty pieces;
//! 4. look each word up in the word index; unknown words and ids `>= num_words` are dropped (no OOV token);
//! 5. `pad_sequences(maxlen=100)`: keep the *last* 100 ids and left-pad with 0.
//!
//! Only the last 100 ids matter, so [`KerasTokenizer::encode`] walks the text's bytes backwards and stops once
//! it has them: most of a long email is never looked at. This gives the same ids as steps 1–5 on the whole
//! text because lowercasing is per character except for the final sigma, whose context never crosses a space
//! (so each space-separated piece can be lowercased on its own), an ASCII character lowercases to ASCII with no
//! context at all (so pieces of ASCII are split and lowercased byte by byte), and no character lowercases to a
//! space or a filter.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::word_index::{ascii_lowercase_packed, packed, WordIndex};
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

/// A byte's role when splitting ASCII text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteKind {
    /// Part of a word.
    Word,
    /// A filter character: ends a word.
    Filter,
    /// The split string " ": ends a word and a piece.
    Space,
    /// Part of a non-ASCII character: its piece needs full Unicode lowercasing.
    NonAscii,
}

/// Text → fixed-length id sequence, exactly as tox-block's encoder.
#[derive(Debug, Clone)]
pub struct KerasTokenizer {
    filters: HashSet<char>,
    /// `filters` restricted to ASCII, as a lookup table.
    ascii_filters: [bool; 128],
    /// What each byte is to the backward scan of [`Self::last_ids`].
    byte_kinds: [ByteKind; 256],
    lower: bool,
    split: String,
    num_words: u32,
    max_len: usize,
    word_index: WordIndex,
}

impl KerasTokenizer {
    /// Loads `tokenizer.json`, rejecting settings this port does not implement.
    pub fn load(path: &Path) -> Result<Self> {
        let format_err = |reason: String| ScoreError::ModelFormat {
            path: path.to_path_buf(),
            reason,
        };
        let file: TokenizerFile = crate::export::read_json(path, format_err)?;
        if file.padding != "pre" || file.truncating != "pre" {
            return Err(format_err(format!(
                "padding/truncating `{}`/`{}`, expected `pre`",
                file.padding, file.truncating
            )));
        }
        if file.split.is_empty() || file.max_sequence_length == 0 {
            return Err(format_err("empty split string or zero max_sequence_length".into()));
        }
        Ok(Self::new(
            &file.filters,
            file.lower,
            file.split,
            file.num_words,
            file.max_sequence_length,
            file.word_index.iter().map(|(word, &id)| (word.as_bytes(), id)),
        ))
    }

    fn new<'a>(
        filters: &str,
        lower: bool,
        split: String,
        num_words: u32,
        max_len: usize,
        word_index: impl IntoIterator<Item = (&'a [u8], u32)>,
    ) -> Self {
        let mut ascii_filters = [false; 128];
        for c in filters.chars().filter(char::is_ascii) {
            ascii_filters[c as usize] = true;
        }
        let byte_kinds = std::array::from_fn(|b| match b as u8 {
            b' ' => ByteKind::Space,
            b if !b.is_ascii() => ByteKind::NonAscii,
            b if ascii_filters[usize::from(b)] => ByteKind::Filter,
            _ => ByteKind::Word,
        });
        Self {
            filters: filters.chars().collect(),
            ascii_filters,
            byte_kinds,
            lower,
            split,
            num_words,
            max_len,
            // Ids from num_words up are never emitted, so they need no place in the table.
            word_index: WordIndex::new(word_index.into_iter().filter(|&(_, id)| id < num_words)),
        }
    }

    fn is_filter(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii_filters[c as usize]
        } else {
            self.filters.contains(&c)
        }
    }

    /// The id of one word, if it is in the index below `num_words` (the only ids the index holds).
    fn word_id(&self, word: &[u8]) -> Option<u32> {
        self.word_index.get(word)
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
            .filter_map(|w| self.word_id(w.as_bytes()))
            .collect()
    }

    /// The model input: the last `max_len` ids, left-padded with 0 (Keras `pad_sequences`, `pre`/`pre`).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = if self.split == " " {
            self.last_ids(text)
        } else {
            self.ids(text)
        };
        let kept = ids.len().saturating_sub(self.max_len);
        ids.drain(..kept);
        let mut out = vec![0; self.max_len - ids.len()];
        out.append(&mut ids);
        out
    }

    /// The last `max_len` (or more) ids of `text`, found by scanning its bytes from the end; only for the
    /// split string " " (see the module comment for why this equals [`Self::ids`]). Words of ASCII are split
    /// and lowercased byte by byte with no allocation; a piece with other characters is redone as a whole.
    fn last_ids(&self, text: &str) -> Vec<u32> {
        let bytes = text.as_bytes();
        let mut reversed = Vec::with_capacity(self.max_len);
        let mut lowered = Vec::new();
        let mut ascii_word = |word: &[u8], reversed: &mut Vec<u32>| {
            if (1..=8).contains(&word.len()) {
                // Most words: packed into a number, lowercased all at once, looked up without a copy.
                let key = packed(word);
                let key = if self.lower { ascii_lowercase_packed(key) } else { key };
                reversed.extend(self.word_index.get_short(key, word.len()));
                return;
            }
            let word = if self.lower && word.iter().any(u8::is_ascii_uppercase) {
                lowered.clear();
                lowered.extend(word.iter().map(u8::to_ascii_lowercase));
                &lowered[..]
            } else {
                word
            };
            reversed.extend(self.word_id(word));
        };
        // The word being scanned ends at `word_end`, its piece at `piece_end`; `piece_ids` ids came before it.
        let (mut word_end, mut piece_end, mut piece_ids) = (bytes.len(), bytes.len(), 0);
        let mut at = bytes.len();
        let kind = |at: usize| self.byte_kinds[usize::from(bytes[at - 1])];
        while at > 0 && reversed.len() < self.max_len {
            // Most bytes are inside a word: skip them in a tight loop.
            while at > 0 && kind(at) == ByteKind::Word {
                at -= 1;
            }
            if at == 0 {
                break;
            }
            match kind(at) {
                ByteKind::Word => unreachable!("skipped above"),
                ByteKind::Filter => {
                    ascii_word(&bytes[at..word_end], &mut reversed);
                    word_end = at - 1;
                }
                ByteKind::Space => {
                    ascii_word(&bytes[at..word_end], &mut reversed);
                    (word_end, piece_end, piece_ids) = (at - 1, at - 1, reversed.len());
                }
                ByteKind::NonAscii => {
                    // Undo this piece's words and lowercase the whole piece (a final sigma looks at its
                    // neighbours across filters, though never across a space).
                    reversed.truncate(piece_ids);
                    let start = bytes[..at]
                        .iter()
                        .rposition(|&b| b == b' ')
                        .map_or(0, |space| space + 1);
                    let piece = &text[start..piece_end];
                    let piece = if self.lower {
                        piece.to_lowercase()
                    } else {
                        piece.to_owned()
                    };
                    let ids: Vec<u32> = piece
                        .split(|c| self.is_filter(c))
                        .filter_map(|w| self.word_id(w.as_bytes()))
                        .collect();
                    reversed.extend(ids.iter().rev());
                    // Resume left of the space before the piece, as if that space had just been scanned.
                    at = start.saturating_sub(1);
                    (word_end, piece_end, piece_ids) = (at, at, reversed.len());
                    continue;
                }
            }
            at -= 1;
        }
        if at == 0 && reversed.len() < self.max_len {
            // The first word of the text (empty if the text starts with a separator).
            ascii_word(&bytes[..word_end], &mut reversed);
        }
        reversed.reverse();
        reversed
    }

    #[cfg(test)]
    pub(crate) fn for_tests(words: &[&str], max_len: usize) -> Self {
        Self::new(
            "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n",
            true,
            " ".into(),
            words.len() as u32,
            max_len,
            words.iter().enumerate().map(|(i, w)| (w.as_bytes(), i as u32 + 1)),
        )
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

    /// `encode` reads the text backwards piece by piece; it must agree with lowercasing, filtering and
    /// splitting the whole text (`ids`) then keeping the last `max_len`.
    #[test]
    fn reading_backwards_gives_the_ids_of_the_whole_text() {
        let words = [
            "the",
            "cat",
            "οδος",
            "οδοσ",
            "σ",
            "ας",
            "i\u{307}x",
            "k",
            "don't",
            "ünï",
            "x",
        ];
        let pieces = [
            "The",
            "CAT",
            "ΟΔΟΣ",
            "ΟΔΟΣ.",
            ".ΟΔΟΣ",
            "Σ",
            "ΑΣ",
            "ΑΣ-Β",
            "İX",
            "\u{212A}",
            "DON'T",
            "ÜNÏ",
            "x",
            "",
            "!!",
            "\t",
            "\n",
            "\u{a0}",
            "-",
            "'",
            "cat,the",
        ];
        let separators = [" ", "  ", "", "\n", ".", " - ", "\t"];
        for max_len in [1, 3, 8, 200] {
            let tok = KerasTokenizer::for_tests(&words, max_len);
            let mut state = 12345_u32;
            for _ in 0..2000 {
                let mut text = String::new();
                for _ in 0..(state % 30) {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    text.push_str(pieces[(state >> 8) as usize % pieces.len()]);
                    text.push_str(separators[(state >> 20) as usize % separators.len()]);
                }
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let all = tok.ids(&text);
                let kept = &all[all.len().saturating_sub(max_len)..];
                let expected: Vec<u32> = std::iter::repeat_n(0, max_len - kept.len())
                    .chain(kept.iter().copied())
                    .collect();
                assert_eq!(tok.encode(&text), expected, "{text:?}");
            }
        }
        // The sigma cases reach the index, so the comparison above covers them: a final Σ becomes ς, one
        // followed across a `.` by a letter stays σ, and the last Σ of `.Σ` after a letter is final (ς, unknown).
        let tok = KerasTokenizer::for_tests(&words, 8);
        assert_eq!(tok.ids("ΟΔΟΣ ΑΣ ΟΔΟΣ.Σ"), vec![3, 6, 4]);
    }
}
