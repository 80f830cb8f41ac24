//! Physical-line checks (pycodestyle's `tabs_or_spaces`, `tabs_obsolete`, `trailing_whitespace`,
//! `trailing_blank_lines`, `maximum_line_length`): E101, W191, W291, W293, W391, W292, E501.

use super::checker::Report;

/// pycodestyle's default `max_line_length`.
pub(crate) const MAX_LINE_LENGTH: usize = 79;

/// What a physical check knows besides the line itself.
pub(crate) struct Context {
    /// 1-based number of the line being checked.
    pub line_number: usize,
    pub total_lines: usize,
    pub indent_char: Option<u8>,
    /// Inside a multi-line string (every line of one but its last).
    pub multiline: bool,
    /// The token's line carries `# noqa` (only E501 honours it).
    pub noqa: bool,
}

/// Runs the physical checks on `line`; returns whether E101 was reported (the caller then resets
/// `indent_char`, as pycodestyle does).
pub(crate) fn check(line: &str, ctx: &Context, report: &mut Report) -> bool {
    let at = ctx.line_number;
    if line_too_long(line, ctx) {
        report.add(at, "E501");
    }
    let indent_len = line.bytes().take_while(|b| matches!(b, b' ' | b'\t')).count();
    let indent = &line.as_bytes()[..indent_len];
    if indent.contains(&b'\t') {
        report.add(at, "W191");
    }
    let mixed = indent.iter().any(|&c| Some(c) != ctx.indent_char);
    if mixed {
        report.add(at, "E101");
    }
    if ctx.line_number == ctx.total_lines {
        let stripped = line.trim_end_matches(['\r', '\n']);
        if !line.is_empty() && stripped.is_empty() {
            report.add(at, "W391");
        }
        if stripped == line {
            report.add(at, "W292");
        }
    }
    let content = line.trim_end_matches(['\n', '\r', '\x0c']);
    let stripped = content.trim_end_matches([' ', '\t', '\x0b']);
    if content != stripped {
        report.add(at, if stripped.is_empty() { "W293" } else { "W291" });
    }
    mixed
}

/// E501, with pycodestyle's exceptions: `# noqa`, a long shebang on line 1, and a long URL alone on a line of a
/// multi-line string or comment unless the text before it is itself too long.
fn line_too_long(line: &str, ctx: &Context) -> bool {
    let line = line.trim_end();
    let length = line.chars().count();
    if length <= MAX_LINE_LENGTH || ctx.noqa {
        return false;
    }
    if ctx.line_number == 1 && line.starts_with("#!") {
        return false;
    }
    let mut chunks = line.split_whitespace();
    let (first, second, third) = (chunks.next(), chunks.next(), chunks.next());
    let last = match (first, second, third) {
        (Some(only), None, None) if ctx.multiline => Some(only),
        (Some("#"), Some(url), None) => Some(url),
        _ => None,
    };
    match last {
        Some(last) => length - last.chars().count() >= MAX_LINE_LENGTH - 7,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::pep8::tests::codes;

    #[test]
    fn tabs_and_mixed_indentation() {
        assert_eq!(codes("if True:\n\treturn\n"), vec!["W191"]);
        // The first indented line sets the indent character; a tab after it is E101 (and W191).
        assert_eq!(codes("if a:\n    b = 1\n    if c:\n    \tpass\n"), vec!["E101", "W191"]);
    }

    #[test]
    fn trailing_whitespace_and_blank_lines_at_end() {
        assert_eq!(codes("spam(1) \n"), vec!["W291"]);
        assert_eq!(codes("class Foo(object):\n    \n    bang = 12\n"), vec!["W293"]);
        assert_eq!(codes("spam(1)\n\n"), vec!["W391"]);
        assert_eq!(codes("spam(1)"), vec!["W292"]);
        // A form feed at the end of a line is not trailing whitespace.
        assert_eq!(codes("spam(1)\x0c\n"), Vec::<&str>::new());
    }

    #[test]
    fn line_length_and_its_exceptions() {
        let long = format!("x = '{}'\n", "a".repeat(80));
        assert_eq!(codes(&long), vec!["E501"]);
        let exactly = format!("x = '{}'\n", "a".repeat(73));
        assert_eq!(codes(&exactly), Vec::<&str>::new());
        let noqa = format!("x = '{}'  # noqa\n", "a".repeat(80));
        assert_eq!(codes(&noqa), Vec::<&str>::new());
        let shebang = format!("#!/usr/bin/{}\n", "a".repeat(80));
        assert_eq!(codes(&shebang), Vec::<&str>::new());
        let url_comment = format!("# https://{}\n", "a".repeat(90));
        assert_eq!(codes(&url_comment), Vec::<&str>::new());
        let url_in_docstring = format!("'''\n    https://{}\n'''\n", "a".repeat(90));
        assert_eq!(codes(&url_in_docstring), Vec::<&str>::new());
        // Characters, not bytes.
        let unicode = format!("x = '{}'\n", "é".repeat(73));
        assert_eq!(codes(&unicode), Vec::<&str>::new());
    }
}
