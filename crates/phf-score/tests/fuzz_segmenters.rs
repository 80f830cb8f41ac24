//! Property tests of the segmenters (SPEC §2) on arbitrary input: they never panic, never return an empty
//! segment, and joining the segments gives the document back byte for byte, whatever mix of Unicode, NUL
//! bytes and `\r\n` / `\r` / `\n` line ends it holds.
//!
//!     cargo test -p phf-score --test fuzz_segmenters
//!     PROPTEST_CASES=100000 cargo test -p phf-score --test fuzz_segmenters     (a longer fuzzing run)

use phf_score::segment::{split_lines, split_sentences};
use phf_score::Segmenter;
use proptest::prelude::*;

const ALL: [Segmenter; 3] = [Segmenter::Sentences, Segmenter::Lines, Segmenter::Whole];

/// Pieces that exercise the sentence rules: full stops of several scripts, abbreviations, quotes and brackets
/// after a stop, runs of whitespace, every kind of line end, NUL, combining marks and astral characters.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z]{1,8}",
        2 => prop::sample::select(vec![
            ".", "!", "?", "...", "…", "。", "！", "？", "।", "؟", "‽", ". ", "  ", " ", "\t", "\n", "\r\n", "\r",
            "\n\n", "\r\r\n", "\0", "\"", "'", "”", "»", ")", "]", "(", "Mr.", "e.g.", "U.S.", "a.m.", "3.14", "1.",
            "Dr. ", "é", "e\u{301}", "日本語", "😊", "\u{feff}", "\u{2028}", "\u{85}", "\u{a0}", "-", "—",
        ])
        .prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Documents made of the pieces above.
fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

fn check_round_trip(doc: &str) -> Result<(), TestCaseError> {
    for seg in ALL {
        let segments = seg.segment(doc);
        prop_assert_eq!(segments.concat(), doc, "{:?}", seg);
        prop_assert!(
            segments.iter().all(|s| !s.is_empty()),
            "{:?} gave an empty segment",
            seg
        );
    }
    // Lines keep their terminator: every line but the last ends with one.
    let lines = split_lines(doc);
    if let Some((_, init)) = lines.split_last() {
        prop_assert!(init.iter().all(|l| l.ends_with(['\n', '\r'])), "{:?}", lines);
    }
    Ok(())
}

proptest! {
    #[test]
    fn segments_join_back_to_the_document(doc in document()) {
        check_round_trip(&doc)?;
    }

    #[test]
    fn arbitrary_unicode_round_trips(doc in any::<String>()) {
        check_round_trip(&doc)?;
    }

    /// Lower-case words, each closed by a full stop and a paragraph break, are one sentence each (words of
    /// three letters or more: shorter ones may be abbreviations such as `vs.` or single letters).
    #[test]
    fn full_stop_before_a_paragraph_break_splits(words in prop::collection::vec("[a-z]{3,8}", 2..10)) {
        let doc = words.join(".\n\n");
        prop_assert_eq!(split_sentences(&doc).len(), words.len(), "{:?}", doc);
    }
}

#[test]
fn awkward_documents() {
    let ten_mb_line = "word. ".repeat((10 << 20) / 6);
    let ten_mb_no_break = "x".repeat(10 << 20);
    let cases = [
        "",
        "\0",
        "\0\0. \0\n\0",
        "a\r\nb\rc\nd\n\re",
        "\r",
        "\r\n",
        "\n\r",
        ". . .",
        "！！！",
        ten_mb_line.as_str(),
        ten_mb_no_break.as_str(),
    ];
    for doc in cases {
        check_round_trip(doc).unwrap();
    }
    assert!(Segmenter::Sentences.segment("").is_empty());
    assert_eq!(split_lines("a\r\nb\rc\nd").len(), 4);
    assert_eq!(split_lines(&ten_mb_no_break).len(), 1);
}
