//! Property tests of the PII and PEP8 scorers on arbitrary input: they never panic and always return a finite
//! score `>= 0`; PII detections lie inside the text on character boundaries; PEP8 gives one score per line.
//! The generators splice fragments that drive the detectors' and the tokenizer's rarer paths (half an email
//! address, an unterminated triple quote, a `\r` inside a string, a NUL) between arbitrary characters.
//!
//!     cargo test -p phf-score --test fuzz_scorers
//!     PROPTEST_CASES=100000 cargo test -p phf-score --test fuzz_scorers      (a longer fuzzing run)

use phf_score::pep8::{check, file_score, line_scores};
use phf_score::pii::{detect_all, merge_overlapping, pii_score};
use phf_score::scorer_by_name;
use phf_score::segment::split_lines;
use proptest::prelude::*;

fn spliced(fragments: Vec<&'static str>) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(fragments).prop_map(String::from),
        2 => "[A-Za-z0-9 ]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
}

/// Fragments of every kind of PII the detectors look for, and of their near misses.
fn pii_text() -> impl Strategy<Value = String> {
    spliced(vec![
        "@",
        "jane.doe",
        "@example.com",
        " at ",
        " dot ",
        "com",
        ".",
        "http://",
        "https://www.",
        "www.",
        "ftp://",
        "/path?q=1",
        "(415) ",
        "555-2671",
        "+44 ",
        "(0)",
        "20 7946 0958",
        "-",
        "4111 1111 1111 1111",
        "4111111111111111",
        "378282246310005",
        "123-45-6789",
        "078 05 1120",
        "username: ",
        "password: ",
        "pw=",
        "login ",
        "born ",
        "DOB: ",
        "03/04/1985",
        "1979-12-31",
        "March 4, 1985",
        "4th of July 2001",
        "skype: ",
        "Skype ",
        "live:",
        "john.smith85",
        "1600 ",
        "Pennsylvania ",
        "Avenue",
        "St.",
        ", DC 20500",
        " Apt 4",
        "John ",
        "Smith",
        "Dr. ",
        "Mrs ",
        "O'",
        "F. ",
        "Corp.",
        "University of ",
        "Google",
        "Inc",
        "\n",
        "\r\n",
        "\r",
        "\0",
        "\t",
        "  ",
        "é",
        "日本",
        "😊",
        "\u{301}",
    ])
}

/// Fragments of Python source, including broken ones: unterminated strings and brackets, stray dedents,
/// tabs, line continuations, and non-ASCII identifiers.
fn python_source() -> impl Strategy<Value = String> {
    spliced(vec![
        "def f(x):\n",
        "    return x\n",
        "class A:\n",
        "\tpass\n",
        "if x :\n",
        "    ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\\\n",
        "'",
        "\"",
        "'''",
        "\"\"\"",
        "f'{x}'",
        "b'\\x00'",
        "r'\\'",
        "#",
        "# comment\n",
        "#!python\n",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        ";",
        "=",
        "==",
        "->",
        "lambda: 0",
        "import os, sys\n",
        "x=1\n",
        "@dec\n",
        "async def g():\n",
        "await g()\n",
        "else:",
        "\0",
        "\u{feff}",
        "é = 1\n",
        "变量",
        "😊",
        "0x1F",
        "1e10",
        "1_000",
        "...",
    ])
}

fn check_pii(text: &str) -> Result<(), TestCaseError> {
    let score = pii_score(text);
    prop_assert!(score.is_finite() && score >= 0.0, "score {} for {:?}", score, text);
    let found = detect_all(text);
    for d in &found {
        prop_assert!(
            d.range.start < d.range.end && d.range.end <= text.len(),
            "{:?} in {:?}",
            d,
            text
        );
        prop_assert!(
            text.is_char_boundary(d.range.start) && text.is_char_boundary(d.range.end),
            "{:?} splits a character of {:?}",
            d,
            text
        );
    }
    let items = merge_overlapping(found).len();
    prop_assert!(items <= text.chars().count(), "{} items in {:?}", items, text);
    Ok(())
}

fn check_pep8(source: &str) -> Result<(), TestCaseError> {
    let score = file_score(source);
    prop_assert!(score.is_finite() && score >= 0.0, "score {} for {:?}", score, source);
    let lines = line_scores(source);
    prop_assert_eq!(lines.len(), split_lines(source).len());
    prop_assert!(lines.iter().all(|s| s.is_finite() && *s >= 0.0), "{:?}", lines);
    // pycodestyle reports an unterminated bracket or continuation at end of file (E901) one line past the
    // last, and the port does too; never further.
    let n_lines = split_lines(source).len();
    prop_assert!(
        check(source).iter().all(|v| v.line >= 1 && v.line <= n_lines + 1),
        "violation past the end of {:?}",
        source
    );
    Ok(())
}

proptest! {
    #[test]
    fn pii_on_pii_like_text(text in pii_text()) {
        check_pii(&text)?;
    }

    #[test]
    fn pii_on_arbitrary_unicode(text in any::<String>()) {
        check_pii(&text)?;
    }

    #[test]
    fn pep8_on_python_like_text(source in python_source()) {
        check_pep8(&source)?;
    }

    #[test]
    fn pep8_on_arbitrary_unicode(source in any::<String>()) {
        check_pep8(&source)?;
    }
}

/// The bad inputs the scorers issue names, through the `Scorer` interface the pipeline uses.
#[test]
fn bad_input_gets_a_score() {
    let ten_mb_line = "jane@example.com x = (415) 555-2671 ".repeat((10 << 20) / 36);
    let ten_mb_code = format!("x = '{}'\n", "a".repeat(10 << 20));
    let texts = [
        "",
        "\0",
        "a\0b@example.com\0",
        "x = 1\r\ny = 2\rz = 3\n",
        "def f():\r    return '\0'\n",
        "\r\n\r\n",
        ten_mb_line.as_str(),
        ten_mb_code.as_str(),
    ];
    for name in ["pii", "pep8"] {
        let scorer = scorer_by_name(name).unwrap();
        let scores = scorer.score_batch(&texts).unwrap();
        assert_eq!(scores.len(), texts.len());
        assert!(scores.iter().all(|s| s.is_finite() && *s >= 0.0), "{name}: {scores:?}");
        assert_eq!(scores[0], 0.0, "{name}: an empty text scores 0");
    }
    // Invalid UTF-8 is an error naming the text, not a panic or a guess.
    let err = scorer_by_name("pii")
        .unwrap()
        .score_bytes(&[b"fine", b"caf\xe9"])
        .unwrap_err();
    assert!(err.to_string().contains("text 1 is not valid UTF-8"), "{err}");
}
