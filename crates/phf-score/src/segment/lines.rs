//! Physical lines for code (SPEC §2): each segment keeps its own line terminator.
//!
//! A line ends at `\n`, `\r\n` or a lone `\r`, the same line breaks Python's universal-newline mode gives
//! pycodestyle, so per-line PEP8 scores line up with the reference's notion of a line.

/// Splits `text` into physical lines, terminators kept; a last line without a terminator is kept too.
pub fn split_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\n' => Some(i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => Some(i + 2),
            b'\r' => Some(i + 1),
            _ => None,
        };
        match end {
            Some(end) => {
                // `\r` and `\n` are ASCII, so `end` is always a char boundary.
                lines.push(&text[start..end]);
                start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_terminators() {
        assert_eq!(split_lines("a\nb\n"), vec!["a\n", "b\n"]);
        assert_eq!(split_lines("a\nb"), vec!["a\n", "b"]);
    }

    #[test]
    fn crlf_is_one_terminator_and_lone_cr_ends_a_line() {
        assert_eq!(split_lines("a\r\nb\rc"), vec!["a\r\n", "b\r", "c"]);
        assert_eq!(split_lines("\r\r\n\n"), vec!["\r", "\r\n", "\n"]);
    }

    #[test]
    fn empty_text_has_no_lines() {
        assert!(split_lines("").is_empty());
    }

    #[test]
    fn blank_lines_are_segments() {
        assert_eq!(
            split_lines("def f():\n\n    pass\n"),
            vec!["def f():\n", "\n", "    pass\n"]
        );
    }
}
