//! PEP8 scorer (SPEC §6): pycodestyle violations per character.
//!
//! The reference is pycodestyle 2.15 with its default options: max line length 79 and the default ignore list
//! (E121, E123, E126, E226, E24, E704, W503, W504 are not reported; E133 and W505 are off). This is a native
//! port of its checks, run on the same token stream ([`tokenize`] mirrors CPython 3.11's `tokenize`), so it needs
//! no Python. A file's score is `violations / characters`; a physical line's is `its violations / its length`
//! in characters, newline kept (SPEC §2), with violations attributed to the line pycodestyle reports them on.
//!
//! Parity with pycodestyle on the local standard library is measured by `tests/pep8_parity.rs`.

mod blank_lines;
mod checker;
mod continuation;
mod logical;
mod physical;
mod statements;
mod tokenize;
mod whitespace;

use serde::Serialize;

use crate::error::Result;
use crate::scorer::{par_map_texts, Scorer, ScorerId};
use crate::segment::{split_lines, Segmenter};

/// Recorded in every output; bump when scores can change.
pub const PEP8_VERSION: &str = "native-2 (pycodestyle 2.15 defaults)";

/// One violation: its pycodestyle code (e.g. `E501`) and the 1-based physical line it is reported on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub line: usize,
    pub code: &'static str,
}

/// All violations in `source` (a whole Python file), in the order pycodestyle finds them.
///
/// Line breaks are read as pycodestyle reads a file (universal newlines): `\r\n` and a lone `\r` become `\n`,
/// so line numbers match the segments of [`crate::segment::split_lines`].
pub fn check(source: &str) -> Vec<Violation> {
    if source.contains('\r') {
        let normalized = source.replace("\r\n", "\n").replace('\r', "\n");
        return checker::Checker::new(&normalized).run();
    }
    checker::Checker::new(source).run()
}

/// Violations per character of `source` (0 for an empty text), the per-file score of SPEC §6.
pub fn file_score(source: &str) -> f32 {
    let chars = source.chars().count();
    if chars == 0 {
        return 0.0;
    }
    check(source).len() as f32 / chars as f32
}

/// One score per physical line of `source` (the segments of [`crate::segment::split_lines`]): the
/// violations pycodestyle reports on that line, found with the whole file as context, per character of the
/// line (terminator included).
pub fn line_scores(source: &str) -> Vec<f32> {
    let lines = split_lines(source);
    let mut counts = vec![0usize; lines.len()];
    for v in check(source) {
        // Violations past the last line (none in practice) go to the last one.
        let index = v.line.saturating_sub(1).min(counts.len().saturating_sub(1));
        if let Some(c) = counts.get_mut(index) {
            *c += 1;
        }
    }
    lines
        .iter()
        .zip(counts)
        .map(|(line, n)| n as f32 / line.chars().count().max(1) as f32)
        .collect()
}

/// Byte offsets where the lines of `source` start, lines ending at `\n` (terminator kept), as Python's
/// `readlines` cuts them after universal-newline decoding.
pub(crate) fn line_starts(source: &str) -> Vec<usize> {
    let mut starts = Vec::with_capacity(source.len() / 32 + 1);
    if !source.is_empty() {
        starts.push(0);
    }
    for (i, b) in source.bytes().enumerate() {
        if b == b'\n' && i + 1 < source.len() {
            starts.push(i + 1);
        }
    }
    starts
}

/// The `pep8` scorer: each text is a whole Python file, scored as violations per character.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pep8Scorer;

impl Scorer for Pep8Scorer {
    fn id(&self) -> ScorerId {
        ScorerId {
            name: "pep8".into(),
            version: PEP8_VERSION.into(),
        }
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        Ok(par_map_texts(texts, file_score))
    }

    /// Lines are checked with their file as context ([`line_scores`]), as pycodestyle checks them.
    fn in_context(&self, segmenter: Segmenter) -> Option<fn(&str) -> Vec<f32>> {
        (segmenter == Segmenter::Lines).then_some(line_scores as fn(&str) -> Vec<f32>)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The codes found in `src`, sorted, e.g. `["E225", "E501"]`.
    pub(crate) fn codes(src: &str) -> Vec<&'static str> {
        let mut c: Vec<_> = check(src).into_iter().map(|v| v.code).collect();
        c.sort_unstable();
        c
    }

    /// `src` plus a final newline has no violation.
    pub(crate) fn ok(src: &str) {
        assert_eq!(codes(&format!("{src}\n")), Vec::<&str>::new(), "{src:?}");
    }

    /// `src` plus a final newline has exactly one violation, `code`.
    pub(crate) fn one(code: &str, src: &str) {
        assert_eq!(codes(&format!("{src}\n")), vec![code], "{src:?}");
    }

    #[test]
    fn clean_code_has_no_violations() {
        let src = "import os\n\n\ndef f(a, b=1):\n    return a + b  # sum\n\n\nclass C:\n    x = [1, 2]\n";
        assert_eq!(codes(src), Vec::<&str>::new());
    }

    #[test]
    fn file_and_line_scores() {
        // `x=1` is E225 on line 1; `y = 2 ` is W291 on line 2.
        let src = "x=1\ny = 2 \n";
        assert_eq!(
            check(src),
            vec![Violation { line: 1, code: "E225" }, Violation { line: 2, code: "W291" }]
        );
        assert_eq!(file_score(src), 2.0 / 11.0);
        assert_eq!(line_scores(src), vec![1.0 / 4.0, 1.0 / 7.0]);
        assert_eq!(file_score(""), 0.0);
        assert!(line_scores("").is_empty());
    }

    #[test]
    fn scorer_records_name_and_version() {
        let out = Pep8Scorer.score(&["x=1\n", "x = 1\n"]).unwrap();
        assert_eq!(out.scorer.name, "pep8");
        assert_eq!(out.scores, vec![0.25, 0.0]);
    }

    /// Damaged input, with what pycodestyle 2.15 reports on it (`pycodestyle FILE`, default options).
    #[test]
    fn damaged_input_matches_pycodestyle() {
        let cases: [(&str, &[(usize, &str)]); 6] = [
            // Whitespace-only last line: tokenize stops on it, so its DEDENT/ENDMARKER make a logical line.
            ("def t():\n    with x:\n     ", &[(3, "E115"), (3, "W292"), (3, "W293")]),
            ("if x == 1:\n    y = 2\n    z = (1,\n)", &[(4, "E124"), (4, "W292")]),
            // An unterminated one-line string is ERRORTOKENs, not an error.
            ("x = \"abc\ny = 1\n", &[]),
            // A stray closing bracket: no logical line ends, and tokenize fails at the end.
            ("x)\ny = 1\n", &[(2, "E122"), (3, "E901")]),
            ("s = '''abc\n   \n", &[(1, "E901"), (2, "W293")]),
            ("if x:\n    pass\n  y = 1\n", &[(3, "E901")]),
        ];
        for (src, want) in cases {
            let mut got: Vec<(usize, &str)> = check(src).into_iter().map(|v| (v.line, v.code)).collect();
            got.sort_unstable();
            assert_eq!(got, want, "{src:?}");
        }
    }

    #[test]
    fn crlf_and_lone_cr_read_as_newlines() {
        let lf = "def f():\n    return\n\n\nx = '\\\n'\ny=1\n";
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(check(&crlf), check(lf));
        assert_eq!(check("x = 1\ry=2\r"), vec![Violation { line: 2, code: "E225" }]);
        assert_eq!(line_scores("x = 1\ry=2\r"), vec![0.0, 0.25]);
    }

    #[test]
    fn unclosed_bracket_is_e901_and_lines_before_are_still_checked() {
        assert_eq!(codes("x=1\nf(\n"), vec!["E225", "E901"]);
    }
}
