//! Text cleaning and the duplicate key.
//!
//! Cleaning is deliberately small and stated in full, so a reader knows exactly what the model sees:
//! - every text: `\r\n` and lone `\r` become `\n`;
//! - prose: control characters other than `\n` and `\t` are removed, trailing spaces and tabs of each line are
//!   removed, and the text is trimmed;
//! - code: nothing else (indentation, trailing whitespace and blank lines are what PEP8 scores).
//!
//! Two documents are duplicates when their texts are equal after every run of whitespace becomes one space and the
//! ends are trimmed ([`dedup_key`]).

use sha2::{Digest, Sha256};

/// `\r\n` and lone `\r` to `\n`.
pub fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The cleaning of natural-language text (see the module docs).
pub fn clean_prose(text: &str) -> String {
    let text = normalize_newlines(text);
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        let line: String = line.chars().filter(|&c| c == '\t' || !c.is_control()).collect();
        out.push_str(line.trim_end_matches([' ', '\t']));
        out.push('\n');
    }
    out.trim().to_string()
}

/// The cleaning of source code (see the module docs).
pub fn clean_code(text: &str) -> String {
    normalize_newlines(text)
}

/// SHA-256 of the text with whitespace runs collapsed to one space and the ends trimmed: equal keys are
/// duplicates, and the key also decides the split ([`super::split`]).
pub fn dedup_key(text: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_become_lf() {
        assert_eq!(normalize_newlines("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(clean_code("x = 1  \r\n\r\n\tpass\r"), "x = 1  \n\n\tpass\n");
    }

    #[test]
    fn prose_loses_control_characters_and_trailing_spaces() {
        assert_eq!(
            clean_prose("\n  Hello \t\r\nwor\u{7}ld\u{0}.\x0c \n\n"),
            "Hello\nworld."
        );
        // Inner blank lines and leading indentation are kept.
        assert_eq!(clean_prose("a\n\n  b"), "a\n\n  b");
    }

    #[test]
    fn dedup_key_ignores_whitespace_differences_only() {
        assert_eq!(dedup_key("a  b\n\tc "), dedup_key(" a b c"));
        assert_ne!(dedup_key("a b c"), dedup_key("a bc"));
        assert_ne!(dedup_key("a b c"), dedup_key("A b c"));
    }
}
