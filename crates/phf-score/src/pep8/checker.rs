//! The driver: pycodestyle's `Checker.check_all`. Tokens are read in order; physical-line checks run at the
//! end of each physical line (and on every line of a multi-line string but its last), and logical-line checks
//! run on each logical line built from its tokens (strings muted to `xxx`, comments dropped).

use super::tokenize::{tokenize, Kind, Token};
use super::{line_starts, physical, Violation};

/// `# noqa` / `# nopep8`, any case, as a whole word (pycodestyle's `noqa` regex).
pub(crate) fn has_noqa(text: &str) -> bool {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == b'#') {
        let at = from + i + 1;
        from = at;
        if !(b.len() >= at + 3 && b[at] == b' ' && b[at + 1..at + 3].eq_ignore_ascii_case(b"no")) {
            continue;
        }
        for word in [&b"qa"[..], b"pep8"] {
            let end = at + 3 + word.len();
            if b.len() >= end && b[at + 3..end].eq_ignore_ascii_case(word) {
                let boundary = b
                    .get(end)
                    .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80));
                if boundary {
                    return true;
                }
            }
        }
    }
    false
}

/// pycodestyle's `expand_indent`: the width of a line's leading whitespace, tabs to the next multiple of 8.
pub(crate) fn expand_indent(line: &str) -> usize {
    let line = line.trim_end_matches(['\n', '\r']);
    if !line.contains('\t') {
        return line.len() - line.trim_start().len();
    }
    let mut result = 0;
    for c in line.bytes() {
        match c {
            b'\t' => result = result / 8 * 8 + 8,
            b' ' => result += 1,
            _ => break,
        }
    }
    result
}

/// A logical line handed to the logical-line checks.
pub(crate) struct Logical<'a, 't> {
    /// The logical line: tokens joined, strings muted, comments dropped.
    pub text: String,
    /// Every token of the logical line, NL, comments, INDENT and DEDENT included.
    pub tokens: &'t [Token<'a>],
    /// `(offset in text, (row, col))` of each token's start (first entry) and end (the others).
    mapping: Vec<(usize, (usize, usize))>,
    /// The line's comments say `# noqa`.
    pub noqa: bool,
    pub indent_level: usize,
    /// Lines the tokenizer has read: the row of the logical line's last token (pycodestyle's `line_number`).
    pub line_number: usize,
}

impl Logical<'_, '_> {
    /// The row of an offset into the logical line (pycodestyle bisects its mapping the same way).
    pub fn row_of(&self, offset: usize) -> usize {
        let i = self.mapping.partition_point(|&(o, _)| o < offset);
        self.mapping
            .get(i)
            .or(self.mapping.last())
            .map_or(1, |&(_, (row, _))| row)
    }
}

/// State the logical-line checks read and keep between lines (pycodestyle's `Checker` attributes).
#[derive(Default)]
pub(crate) struct State {
    pub indent_char: Option<u8>,
    pub previous_indent_level: usize,
    pub previous_logical: String,
    pub previous_unindented_logical_line: String,
    pub blank_lines: usize,
    pub blank_before: usize,
    /// `module_imports_on_top_of_file`'s checker state.
    pub seen_non_imports: bool,
    pub seen_docstring: bool,
}

/// Collects violations. pycodestyle's default-ignored codes are never emitted by the checks.
#[derive(Default)]
pub(crate) struct Report {
    pub found: Vec<Violation>,
}

impl Report {
    pub fn add(&mut self, line: usize, code: &'static str) {
        self.found.push(Violation { line, code });
    }
}

pub(crate) struct Checker<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
    pub lines: Vec<&'a str>,
    line_number: usize,
    /// Lines already looked at for the first indented one (which sets `indent_char`).
    indent_scanned: usize,
    multiline: bool,
    noqa: bool,
    /// `# noqa` per physical line, computed on first use.
    line_noqa: Vec<Option<bool>>,
    state: State,
    report: Report,
    tokens: Vec<Token<'a>>,
}

impl<'a> Checker<'a> {
    pub fn new(source: &'a str) -> Self {
        // pycodestyle strips a UTF-8 BOM from the first line.
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let line_starts = line_starts(source);
        let lines: Vec<&str> = line_starts
            .iter()
            .enumerate()
            .map(|(i, &s)| &source[s..line_starts.get(i + 1).copied().unwrap_or(source.len())])
            .collect();
        let line_noqa = vec![None; lines.len()];
        Self {
            source,
            line_starts,
            lines,
            line_number: 0,
            indent_scanned: 0,
            multiline: false,
            noqa: false,
            line_noqa,
            state: State::default(),
            report: Report::default(),
            tokens: Vec::new(),
        }
    }

    pub fn run(mut self) -> Vec<Violation> {
        let mut all = Vec::with_capacity(self.source.len() / 4);
        let result = tokenize(self.source, &self.line_starts, |t| all.push(t));
        let total_lines = self.lines.len();
        let mut parens: i64 = 0;
        let mut prev_physical: &str = "";
        for token in all {
            if token.start.0 > total_lines {
                break;
            }
            // The tokenizer has read up to the token's last row (the EOF NEWLINE: all lines).
            self.line_number = if token.line.is_empty() {
                total_lines
            } else {
                token.end.0
            };
            self.scan_indent_char();
            self.noqa = self.token_noqa(&token);
            self.maybe_check_physical(&token, prev_physical);
            prev_physical = token.line;
            self.tokens.push(token);
            match token.kind {
                Kind::Op => match token.text {
                    "(" | "[" | "{" => parens += 1,
                    ")" | "]" | "}" => parens -= 1,
                    _ => {}
                },
                Kind::Newline | Kind::Nl if parens == 0 => {
                    if token.kind == Kind::Newline {
                        self.check_logical();
                        self.state.blank_before = 0;
                    } else if self.tokens.len() == 1 {
                        // The physical line holds only this token: a blank line.
                        self.state.blank_lines += 1;
                        self.tokens.clear();
                    } else {
                        self.check_logical();
                    }
                }
                _ => {}
            }
        }
        match result {
            Err(error) => {
                // pycodestyle reports tokenizer errors as E901 and checks what it has.
                self.report.add(error.row, "E901");
                self.line_number = error.lines_read;
            }
            Ok(()) => self.line_number = total_lines,
        }
        self.scan_indent_char();
        if !self.tokens.is_empty() {
            if let Some(last) = self.lines.last().copied() {
                self.check_physical(last);
            }
            self.check_logical();
        }
        self.report.found
    }

    /// `noqa(token.line)`: whether any physical line the token is on says `# noqa` (cached per line).
    fn token_noqa(&mut self, token: &Token) -> bool {
        if token.line.is_empty() {
            return false;
        }
        let last = token.end.0.min(self.lines.len());
        (token.start.0.max(1)..=last).any(|row| {
            let cached = &mut self.line_noqa[row - 1];
            *cached.get_or_insert_with(|| has_noqa(self.lines[row - 1]))
        })
    }

    /// pycodestyle's `readline` sets `indent_char` from the first line read that starts with whitespace.
    fn scan_indent_char(&mut self) {
        while self.state.indent_char.is_none() && self.indent_scanned < self.line_number.min(self.lines.len()) {
            let line = self.lines[self.indent_scanned];
            if line.starts_with([' ', '\t']) {
                self.state.indent_char = Some(line.as_bytes()[0]);
            } else if line.starts_with('\u{a0}') {
                self.state.indent_char = Some(0xa0);
            }
            self.indent_scanned += 1;
        }
    }

    fn maybe_check_physical(&mut self, token: &Token<'a>, prev_physical: &'a str) {
        let is_eol = matches!(token.kind, Kind::Nl | Kind::Newline)
            || token
                .line
                .get(token.end.1..)
                .is_some_and(|rest| rest.trim_start() == "\\\n");
        if is_eol {
            let line = if token.line.is_empty() {
                prev_physical
            } else {
                token.line
            };
            self.check_physical(line);
        } else if token.kind == Kind::String && token.text.contains('\n') {
            // Every line of a multi-line string but the last, whose newline is outside the string; a `# noqa`
            // anywhere on the string's lines turns the checks off for all of them.
            if self.token_noqa(token) {
                return;
            }
            self.multiline = true;
            self.line_number = token.start.0;
            for row in token.start.0..token.end.0 {
                let mut line = self.lines[row - 1].to_string();
                line.push('\n');
                self.check_physical(&line);
                self.line_number += 1;
            }
            self.multiline = false;
        }
    }

    fn check_physical(&mut self, line: &str) {
        let ctx = physical::Context {
            line_number: self.line_number,
            total_lines: self.lines.len(),
            indent_char: self.state.indent_char,
            multiline: self.multiline,
            noqa: self.noqa,
        };
        if physical::check(line, &ctx, &mut self.report) {
            // After E101, pycodestyle takes this line's first character as the indent character.
            self.state.indent_char = line.bytes().next();
        }
    }
}

/// pycodestyle's `build_tokens_line`: `None` when the tokens hold nothing but line breaks and indentation.
fn build_logical<'a, 't>(lines: &[&'a str], tokens: &'t [Token<'a>], line_number: usize) -> Option<Logical<'a, 't>> {
    {
        let mut text = String::new();
        let mut mapping = Vec::new();
        let mut comments = String::new();
        let mut prev: Option<(usize, usize)> = None;
        for t in tokens {
            if matches!(t.kind, Kind::Nl | Kind::Newline | Kind::Indent | Kind::Dedent) {
                continue;
            }
            if mapping.is_empty() {
                mapping.push((0, t.start));
            }
            if t.kind == Kind::Comment {
                comments.push_str(t.text);
                continue;
            }
            if let Some((prev_row, prev_col)) = prev {
                let (start_row, start_col) = t.start;
                if prev_row != start_row {
                    let prev_line = lines[prev_row - 1].as_bytes();
                    let prev_char = prev_line.get(prev_col.wrapping_sub(1)).or(prev_line.last()).copied();
                    let opens = matches!(prev_char, Some(b'{' | b'[' | b'('));
                    let closes = matches!(t.text, "}" | "]" | ")");
                    if prev_char == Some(b',') || (!opens && !closes) {
                        text.push(' ');
                    }
                } else if prev_col != start_col {
                    text.push_str(t.line.get(prev_col..start_col).unwrap_or(" "));
                }
            }
            if t.kind == Kind::String {
                push_muted(&mut text, t.text);
            } else {
                text.push_str(t.text);
            }
            mapping.push((text.len(), t.end));
            prev = Some(t.end);
        }
        if mapping.is_empty() {
            return None;
        }
        let (start_row, start_col) = mapping[0].1;
        let start_line = lines[start_row - 1];
        let indent_level = expand_indent(start_line.get(..start_col).unwrap_or(start_line));
        Some(Logical {
            text,
            tokens,
            mapping,
            noqa: !comments.is_empty() && has_noqa(&comments),
            indent_level,
            line_number,
        })
    }
}

impl Checker<'_> {
    fn check_logical(&mut self) {
        let tokens = std::mem::take(&mut self.tokens);
        let Some(logical) = build_logical(&self.lines, &tokens, self.line_number) else {
            // pycodestyle returns before clearing its tokens: they stay for the next logical line.
            self.tokens = tokens;
            return;
        };
        if self.state.blank_before < self.state.blank_lines {
            self.state.blank_before = self.state.blank_lines;
        }
        super::logical::check(&logical, &self.lines, &mut self.state, &mut self.report);
        if !logical.text.is_empty() {
            self.state.previous_indent_level = logical.indent_level;
            if logical.indent_level == 0 {
                self.state.previous_unindented_logical_line = logical.text.clone();
            }
            self.state.previous_logical = logical.text;
        }
        self.state.blank_lines = 0;
    }
}

/// pycodestyle's `mute_string`: a string literal's contents replaced by `x`, prefix and quotes kept.
fn push_muted(out: &mut String, text: &str) {
    let quote = text.as_bytes()[text.len() - 1];
    let mut start = text.bytes().position(|b| b == quote).map_or(0, |i| i + 1);
    let mut end = text.len() - 1;
    if text.ends_with("\"\"\"") || text.ends_with("'''") {
        start += 2;
        end -= 2;
    }
    if start > end {
        out.push_str(text);
        return;
    }
    out.push_str(&text[..start]);
    out.extend(std::iter::repeat_n('x', text[start..end].chars().count()));
    out.push_str(&text[end..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noqa_needs_a_word_boundary() {
        assert!(has_noqa("x = 1  # noqa"));
        assert!(has_noqa("x  # NOQA: E501"));
        assert!(has_noqa("# nopep8"));
        assert!(!has_noqa("# noqax"));
        assert!(!has_noqa("#noqa"));
    }

    #[test]
    fn mute_string_keeps_prefix_and_quotes() {
        let mut s = String::new();
        push_muted(&mut s, "rb'''ab\"c'''");
        assert_eq!(s, "rb'''xxxx'''");
    }

    #[test]
    fn expand_indent_counts_tabs_to_eight() {
        assert_eq!(expand_indent("    x"), 4);
        assert_eq!(expand_indent("\tx"), 8);
        assert_eq!(expand_indent("   \tx"), 8);
        assert_eq!(expand_indent("  \t  x"), 10);
    }
}
