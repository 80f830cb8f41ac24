//! Segmenters: a document becomes segments, each scored on its own (SPEC §2).
//!
//! All segmenters return slices of the input that, joined in order, give the document back byte for byte.

mod lines;
mod sentences;

pub use lines::split_lines;
pub use sentences::split_sentences;

use serde::{Deserialize, Serialize};

/// How a task cuts documents into segments: sentences for prose, physical lines for code, or the whole
/// document as one segment (`none`, e.g. for a document-level scorer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Segmenter {
    Sentences,
    Lines,
    #[serde(rename = "none")]
    Whole,
}

impl Segmenter {
    /// Cuts `text` into segments; an empty text has no segments.
    pub fn segment<'a>(&self, text: &'a str) -> Vec<&'a str> {
        match self {
            Segmenter::Sentences => split_sentences(text),
            Segmenter::Lines => split_lines(text),
            Segmenter::Whole if text.is_empty() => Vec::new(),
            Segmenter::Whole => vec![text],
        }
    }
}

impl Segmenter {
    /// The name `FromStr` accepts and provenance records.
    pub fn name(&self) -> &'static str {
        match self {
            Segmenter::Sentences => "sentences",
            Segmenter::Lines => "lines",
            Segmenter::Whole => "none",
        }
    }
}

impl std::fmt::Display for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Segmenter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sentences" => Ok(Segmenter::Sentences),
            "lines" => Ok(Segmenter::Lines),
            "none" => Ok(Segmenter::Whole),
            other => Err(format!(
                "unknown segmenter `{other}`: expected `sentences`, `lines` or `none`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_segmenters_round_trip_awkward_input() {
        let docs = [
            "",
            "\n",
            "a\r\nb\rc\n\n",
            "Nul \0 bytes. Are text too!\0",
            "Mixed\r\nnewlines. Here\rand there.\n",
            "Ünïcödé. 日本語。テスト！ Done",
        ];
        for seg in [Segmenter::Sentences, Segmenter::Lines, Segmenter::Whole] {
            for doc in docs {
                assert_eq!(seg.segment(doc).concat(), doc, "{seg:?} on {doc:?}");
                assert!(seg.segment(doc).iter().all(|s| !s.is_empty()));
            }
        }
    }

    #[test]
    fn ten_megabyte_line_is_one_segment() {
        let doc = "x".repeat(10 << 20);
        assert_eq!(Segmenter::Lines.segment(&doc).len(), 1);
        assert_eq!(Segmenter::Sentences.segment(&doc).len(), 1);
    }

    #[test]
    fn parses_names() {
        assert_eq!("lines".parse::<Segmenter>(), Ok(Segmenter::Lines));
        for seg in [Segmenter::Sentences, Segmenter::Lines, Segmenter::Whole] {
            assert_eq!(seg.name().parse::<Segmenter>(), Ok(seg));
            assert_eq!(serde_json::to_value(seg).unwrap(), seg.name());
        }
        assert!("words".parse::<Segmenter>().unwrap_err().contains("sentences"));
    }
}
