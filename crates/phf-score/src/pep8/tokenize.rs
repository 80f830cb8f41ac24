//! A Python tokenizer that yields the token stream pycodestyle sees: CPython 3.11's pure-Python `tokenize`
//! module (`generate_tokens`), token for token, including its quirks (comment-only and blank lines give `NL`
//! without `INDENT`/`DEDENT`; a multi-line string is one `STRING` whose `line` is all its physical lines; a
//! file without a final newline gets an empty `NEWLINE`). f-strings are single `STRING` tokens, as before 3.12.
//!
//! Columns are byte offsets into the physical line (Python counts characters; they differ only after non-ASCII
//! text on the same line). Rows are 1-based.

/// Token types, named as in Python's `token` module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Name,
    Number,
    String,
    Op,
    Comment,
    /// A line break that does not end a statement (blank line, comment line, inside brackets).
    Nl,
    /// The line break that ends a logical line.
    Newline,
    Indent,
    Dedent,
    /// A character no token starts with (`$`, `?`, a lone `!`, a backtick).
    ErrorToken,
    /// End of input; only seen when the input ends in a line of whitespace without a newline (otherwise it is
    /// past the last line, where pycodestyle stops).
    EndMarker,
}

/// One token: its text, where it starts and ends (`(row, byte column)`), and the physical line(s) it is on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub start: (usize, usize),
    pub end: (usize, usize),
    /// The physical line holding the token; for a multi-line string, all the lines it spans.
    pub line: &'a str,
}

/// Tokenizing stopped early: end of input inside a string or brackets (`TokenError`), or a dedent to a column
/// that matches no outer indentation level (`IndentationError`). pycodestyle reports it as E901 at `row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenError {
    pub row: usize,
    /// Lines the tokenizer had read when it stopped.
    pub lines_read: usize,
}

/// Length of the exact operator of Python 3.11 (`token.EXACT_TOKEN_TYPES`) at the start of `s`, longest first.
fn operator_len(s: &[u8]) -> Option<usize> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let (a, b, c) = (at(0), at(1), at(2));
    let three = matches!(
        (a, b, c),
        (b'*', b'*', b'=') | (b'.', b'.', b'.') | (b'/', b'/', b'=') | (b'<', b'<', b'=') | (b'>', b'>', b'=')
    );
    if three {
        return Some(3);
    }
    let two = matches!(
        (a, b),
        (
            b'!' | b'%' | b'&' | b'*' | b'+' | b'-' | b'/' | b':' | b'<' | b'=' | b'>' | b'@' | b'^' | b'|',
            b'='
        ) | (b'*', b'*')
            | (b'-', b'>')
            | (b'/', b'/')
            | (b'<', b'<')
            | (b'>', b'>')
    );
    if two {
        return Some(2);
    }
    b"%&()*+,-./:;<=>@[]^{|}~".contains(&a).then_some(1)
}

/// Python 3.11's string prefixes, lower-cased (any case is valid).
const STRING_PREFIXES: [&[u8]; 9] = [b"", b"r", b"u", b"f", b"b", b"br", b"rb", b"fr", b"rf"];

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Length of the string prefix (`rb`, `f`, …, any case) at `s` if a quote follows it.
fn string_prefix_len(s: &[u8]) -> Option<usize> {
    let len = s.iter().take(3).position(|&c| c == b'\'' || c == b'"')?;
    let prefix = s[..len].to_ascii_lowercase();
    STRING_PREFIXES.contains(&prefix.as_slice()).then_some(len)
}

/// Finds the end (exclusive) of a string body starting at `from` closed by `quote` (1 or 3 quote bytes),
/// skipping backslash escapes, within `s`; `None` if it does not close in `s`.
/// Mirrors `tokenize`'s `Single`/`Double`/`Single3`/`Double3` patterns: `\\.` never matches a newline.
fn find_string_end(s: &[u8], from: usize, quote: u8, triple: bool) -> Option<usize> {
    let mut i = from;
    while i < s.len() {
        match s[i] {
            // `\\.` skips an escaped character, but `.` does not match `\n`: at a backslash-newline (or a backslash
            // ending the input) the pattern fails on this line, and the string, if it may, goes on.
            b'\\' if i + 1 < s.len() && s[i + 1] != b'\n' => i += 2,
            b'\\' => return None,
            b'\n' if !triple => return None,
            c if c == quote => {
                if !triple {
                    return Some(i + 1);
                }
                if s.len() >= i + 3 && s[i + 1] == quote && s[i + 2] == quote {
                    return Some(i + 3);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Length of a number token at the start of `s` (which starts with a digit, or `.` and a digit).
fn number_len(s: &[u8]) -> usize {
    let digits = |mut i: usize, ok: fn(u8) -> bool| {
        while i < s.len() && (ok(s[i]) || (s[i] == b'_' && i + 1 < s.len() && ok(s[i + 1]))) {
            i += 1;
        }
        i
    };
    if s[0] == b'0' && s.len() > 2 {
        let radix: Option<fn(u8) -> bool> = match s[1] {
            b'x' | b'X' => Some(|b: u8| b.is_ascii_hexdigit()),
            b'o' | b'O' => Some(|b: u8| (b'0'..=b'7').contains(&b)),
            b'b' | b'B' => Some(|b: u8| b == b'0' || b == b'1'),
            _ => None,
        };
        if let Some(ok) = radix {
            let start = if s[2] == b'_' { 3 } else { 2 };
            if start < s.len() && ok(s[start]) {
                return digits(start, ok);
            }
        }
    }
    let dec = |b: u8| b.is_ascii_digit();
    let mut i = digits(0, dec);
    if i < s.len() && s[i] == b'.' {
        i = digits(i + 1, dec);
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        if j < s.len() && s[j].is_ascii_digit() {
            i = digits(j, dec);
        }
    }
    if i < s.len() && (s[i] == b'j' || s[i] == b'J') {
        i += 1;
    }
    i
}

/// An open string continued onto later lines.
struct OpenString {
    start: (usize, usize),
    /// Byte offset of the string's start in the source, and of its first line's start.
    src_start: usize,
    line_start: usize,
    quote: u8,
    triple: bool,
}

/// Tokenizes `lines` (each with its terminator, as `readlines` gives them) and calls `emit` per token. Stops at
/// the end of the last line (the `DEDENT`s and `ENDMARKER` after it are past the last line, where pycodestyle
/// stops too), or at the first error, which it returns.
pub(crate) fn tokenize<'a>(
    source: &'a str,
    line_starts: &[usize],
    mut emit: impl FnMut(Token<'a>),
) -> Result<(), TokenError> {
    let mut indents: Vec<usize> = vec![0];
    let mut parenlev: i32 = 0;
    let mut continued = false;
    let mut open: Option<OpenString> = None;
    let mut whitespace_tail = false;
    let n_lines = line_starts.len();
    for (index, &line_start) in line_starts.iter().enumerate() {
        let lnum = index + 1;
        let line_end = line_starts.get(index + 1).copied().unwrap_or(source.len());
        let line = &source[line_start..line_end];
        let lb = line.as_bytes();
        let max = lb.len();
        let mut pos = 0;

        if let Some(s) = &open {
            let found = if s.triple {
                find_string_end(lb, 0, s.quote, true)
            } else {
                find_string_end(lb, 0, s.quote, false)
            };
            match found {
                Some(end) => {
                    emit(Token {
                        kind: Kind::String,
                        text: &source[s.src_start..line_start + end],
                        start: s.start,
                        end: (lnum, end),
                        line: &source[s.line_start..line_end],
                    });
                    open = None;
                    pos = end;
                }
                None if !(s.triple || line.ends_with("\\\n") || line.ends_with("\\\r\n")) => {
                    // An unterminated single-quoted string: ERRORTOKEN, and tokenizing goes on.
                    emit(Token {
                        kind: Kind::ErrorToken,
                        text: &source[s.src_start..line_end],
                        start: s.start,
                        end: (lnum, max),
                        line: &source[s.line_start..line_start],
                    });
                    open = None;
                    continue;
                }
                None => continue,
            }
        } else if parenlev == 0 && !continued {
            // A new statement: measure the indentation.
            let mut column = 0;
            while pos < max {
                match lb[pos] {
                    b' ' => column += 1,
                    b'\t' => column = (column / 8 + 1) * 8,
                    b'\x0c' => column = 0,
                    _ => break,
                }
                pos += 1;
            }
            if pos == max {
                // Only whitespace and no newline: the last line; tokenize stops here.
                whitespace_tail = true;
                break;
            }
            if matches!(lb[pos], b'#' | b'\r' | b'\n') {
                if lb[pos] == b'#' {
                    let comment = line[pos..].trim_end_matches(['\r', '\n']);
                    emit(Token {
                        kind: Kind::Comment,
                        text: comment,
                        start: (lnum, pos),
                        end: (lnum, pos + comment.len()),
                        line,
                    });
                    pos += comment.len();
                }
                emit(Token {
                    kind: Kind::Nl,
                    text: &line[pos..],
                    start: (lnum, pos),
                    end: (lnum, max),
                    line,
                });
                continue;
            }
            if column > *indents.last().unwrap_or(&0) {
                indents.push(column);
                emit(Token {
                    kind: Kind::Indent,
                    text: &line[..pos],
                    start: (lnum, 0),
                    end: (lnum, pos),
                    line,
                });
            }
            while column < *indents.last().unwrap_or(&0) {
                if !indents.contains(&column) {
                    return Err(TokenError {
                        row: lnum,
                        lines_read: lnum,
                    });
                }
                indents.pop();
                emit(Token {
                    kind: Kind::Dedent,
                    text: "",
                    start: (lnum, pos),
                    end: (lnum, pos),
                    line,
                });
            }
        } else {
            continued = false;
        }

        while pos < max {
            // Skip whitespace (`[ \f\t]*`).
            let ws_start = pos;
            while pos < max && matches!(lb[pos], b' ' | b'\x0c' | b'\t') {
                pos += 1;
            }
            if pos >= max {
                break;
            }
            let start = pos;
            let c = lb[pos];
            let token = |kind, end: usize| Token {
                kind,
                text: &line[start..end],
                start: (lnum, start),
                end: (lnum, end),
                line,
            };
            if c == b'\\' && (lb.get(pos + 1) == Some(&b'\n') || line[pos + 1..].starts_with("\r\n")) {
                continued = true;
                break;
            }
            if c == b'#' {
                let end = start + line[start..].find(['\r', '\n']).unwrap_or(max - start);
                emit(token(Kind::Comment, end));
                pos = end;
                continue;
            }
            if c.is_ascii_digit() || (c == b'.' && lb.get(pos + 1).is_some_and(u8::is_ascii_digit)) {
                let end = start + number_len(&lb[start..]);
                emit(token(Kind::Number, end));
                pos = end;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                let end = if line[start..].starts_with("\r\n") {
                    start + 2
                } else {
                    start + 1
                };
                let kind = if parenlev > 0 { Kind::Nl } else { Kind::Newline };
                emit(token(kind, end));
                pos = end;
                continue;
            }
            if let Some(plen) = string_prefix_len(&lb[start..]) {
                let q = start + plen;
                let quote = lb[q];
                let triple = lb.len() >= q + 3 && lb[q + 1] == quote && lb[q + 2] == quote;
                let body = if triple { q + 3 } else { q + 1 };
                match find_string_end(lb, body, quote, triple) {
                    Some(end) => {
                        emit(token(Kind::String, end));
                        pos = end;
                        continue;
                    }
                    None if triple || string_continues(lb, body, quote) => {
                        open = Some(OpenString {
                            start: (lnum, start),
                            src_start: line_start + start,
                            line_start,
                            quote,
                            triple,
                        });
                        break;
                    }
                    None => {
                        // An unterminated one-line string: the prefix is a NAME; the quote matches nothing,
                        // so it (and any whitespace before it) becomes ERRORTOKENs; the rest is tokenized.
                        if plen > 0 {
                            emit(token(Kind::Name, q));
                            pos = q;
                        } else {
                            error_tokens(line, lnum, ws_start, start + 1, &mut emit);
                            pos = start + 1;
                        }
                        continue;
                    }
                }
            }
            if is_word_byte(c) {
                let mut end = start;
                while end < max && is_word_byte(lb[end]) {
                    end += 1;
                }
                // Non-ASCII bytes count as word bytes; a whole character is always taken.
                emit(token(Kind::Name, end));
                pos = end;
                continue;
            }
            if let Some(op_len) = operator_len(&lb[start..]) {
                match c {
                    b'(' | b'[' | b'{' => parenlev += 1,
                    b')' | b']' | b'}' => parenlev -= 1,
                    _ => {}
                }
                emit(token(Kind::Op, start + op_len));
                pos = start + op_len;
                continue;
            }
            // Nothing matches here: tokenize yields each character from where its whitespace skip began (the
            // whitespace included) as an ERRORTOKEN.
            let ch_len = line[start..].chars().next().map_or(1, char::len_utf8);
            error_tokens(line, lnum, ws_start, start + ch_len, &mut emit);
            pos = start + ch_len;
        }
    }
    if whitespace_tail {
        // tokenize stopped before reading past the last line, so its closing tokens are on it; and its
        // "previous line" is the one before, which ends in a newline: no implicit NEWLINE.
        for _ in 1..indents.len() {
            emit(Token {
                kind: Kind::Dedent,
                text: "",
                start: (n_lines, 0),
                end: (n_lines, 0),
                line: "",
            });
        }
        emit(Token {
            kind: Kind::EndMarker,
            text: "",
            start: (n_lines, 0),
            end: (n_lines, 0),
            line: "",
        });
        return Ok(());
    }
    if let Some(s) = &open {
        return Err(TokenError {
            row: s.start.0,
            lines_read: n_lines,
        });
    }
    if parenlev != 0 || continued {
        return Err(TokenError {
            row: n_lines + 1,
            lines_read: n_lines,
        });
    }
    // A last line without a newline gets an empty NEWLINE (not after a comment-only line).
    if let Some(&last_start) = line_starts.last() {
        let last = &source[last_start..];
        let ends_with_newline = last.ends_with('\n') || last.ends_with('\r');
        if !last.is_empty() && !ends_with_newline && !last.trim_start().starts_with('#') {
            let col = last.len();
            emit(Token {
                kind: Kind::Newline,
                text: "",
                start: (n_lines, col),
                end: (n_lines, col + 1),
                line: "",
            });
        }
    }
    Ok(())
}

/// One ERRORTOKEN per character of `line[from..to]`.
fn error_tokens<'a>(line: &'a str, lnum: usize, from: usize, to: usize, emit: &mut impl FnMut(Token<'a>)) {
    for (i, c) in line[from..to].char_indices() {
        let start = from + i;
        let end = start + c.len_utf8();
        emit(Token {
            kind: Kind::ErrorToken,
            text: &line[start..end],
            start: (lnum, start),
            end: (lnum, end),
            line,
        });
    }
}

/// Whether a one-line string that did not close on its line ends with a backslash-newline inside its body
/// (`ContStr`'s `\\\r?\n` alternative), i.e. continues on the next line.
fn string_continues(lb: &[u8], body: usize, quote: u8) -> bool {
    let mut i = body;
    while i < lb.len() {
        match lb[i] {
            b'\\'
                if lb.get(i + 1) == Some(&b'\n')
                    || (lb.get(i + 1) == Some(&b'\r') && lb.get(i + 2) == Some(&b'\n')) =>
            {
                return true
            }
            b'\\' => i += 2,
            b'\n' => return false,
            c if c == quote => return false,
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        let starts = crate::pep8::line_starts(src);
        let mut out = Vec::new();
        tokenize(src, &starts, |t| out.push((t.kind, t.text.to_string()))).unwrap();
        out
    }

    #[test]
    fn statements_comments_and_blank_lines() {
        use Kind::*;
        let got = kinds("if x:\n    # c\n\n    y = 1.5e3  # t\n");
        let want = [
            (Name, "if"),
            (Name, "x"),
            (Op, ":"),
            (Newline, "\n"),
            (Comment, "# c"),
            (Nl, "\n"),
            (Nl, "\n"),
            (Indent, "    "),
            (Name, "y"),
            (Op, "="),
            (Number, "1.5e3"),
            (Comment, "# t"),
            (Newline, "\n"),
        ];
        assert_eq!(got, want.map(|(k, s)| (k, s.to_string())));
    }

    #[test]
    fn multiline_string_is_one_token_with_all_its_lines() {
        let src = "x = rb'''a\nb''' + f(\n  1)\n";
        let starts = crate::pep8::line_starts(src);
        let mut toks = Vec::new();
        tokenize(src, &starts, |t| toks.push(t)).unwrap();
        let s = toks.iter().find(|t| t.kind == Kind::String).unwrap();
        assert_eq!((s.text, s.start, s.end), ("rb'''a\nb'''", (1, 4), (2, 4)));
        assert_eq!(s.line, "x = rb'''a\nb''' + f(\n");
        assert!(toks.iter().any(|t| t.kind == Kind::Nl && t.start == (2, 9)));
    }

    #[test]
    fn operators_take_the_longest_match() {
        let ops: Vec<String> = kinds("a **= b->c ... d//e != f!g\n")
            .into_iter()
            .filter(|(k, _)| matches!(k, Kind::Op | Kind::ErrorToken))
            .map(|(_, s)| s)
            .collect();
        assert_eq!(ops, ["**=", "->", "...", "//", "!=", "!"]);
    }

    #[test]
    fn missing_final_newline_gets_an_empty_newline() {
        let got = kinds("a = 1");
        assert_eq!(got.last().unwrap(), &(Kind::Newline, String::new()));
    }

    #[test]
    fn unclosed_bracket_is_an_error() {
        let src = "f(\n";
        let err = TokenError { row: 2, lines_read: 1 };
        assert_eq!(tokenize(src, &crate::pep8::line_starts(src), |_| {}), Err(err));
        // An unmatched closing bracket too: tokenize only accepts a bracket depth of 0 at the end.
        assert_eq!(tokenize(")\n", &[0], |_| {}), Err(err));
    }
}
