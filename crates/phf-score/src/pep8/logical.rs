//! Logical-line checks: runs each family on a logical line, and pycodestyle's `indentation` (E111–E117).

use super::checker::{Logical, Report, State};
use super::{blank_lines, continuation, statements, whitespace};

/// pycodestyle's default `indent_size`.
pub(crate) const INDENT_SIZE: usize = 4;

/// Python 3.11's `keyword.kwlist`.
pub(crate) const PY_KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// `keyword.iskeyword`.
pub(crate) fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "False"
            | "None"
            | "True"
            | "and"
            | "as"
            | "assert"
            | "async"
            | "await"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "nonlocal"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
    )
}

/// `keyword.issoftkeyword` of Python 3.11.
pub(crate) fn is_soft_keyword(s: &str) -> bool {
    matches!(s, "_" | "case" | "match")
}

/// pycodestyle's `KEYWORDS`: the keywords plus `print`, minus the singletons.
pub(crate) fn is_pycodestyle_keyword(s: &str) -> bool {
    s == "print" || (is_keyword(s) && !matches!(s, "False" | "None" | "True"))
}

pub(crate) fn check(logical: &Logical, lines: &[&str], state: &mut State, report: &mut Report) {
    blank_lines::check(logical, lines, state, report);
    indentation(logical, state, report);
    continuation::check(logical, state.indent_char, report);
    whitespace::check(logical, report);
    statements::check(logical, state, report);
}

/// E111–E117: indentation not a multiple of four, a missing or unexpected indented block, over-indentation;
/// the `(comment)` variants E114–E116 for comment-only lines.
fn indentation(logical: &Logical, state: &State, report: &mut Report) {
    let row = logical.row_of(0);
    let comment = logical.text.is_empty();
    let code = |plain: &'static str, for_comment: &'static str| if comment { for_comment } else { plain };
    let indent_level = logical.indent_level;
    let previous = state.previous_indent_level;
    if !indent_level.is_multiple_of(INDENT_SIZE) {
        report.add(row, code("E111", "E114"));
    }
    let indent_expect = state.previous_logical.ends_with(':');
    if indent_expect && indent_level <= previous {
        report.add(row, code("E112", "E115"));
    } else if !indent_expect && indent_level > previous {
        report.add(row, code("E113", "E116"));
    }
    if indent_expect {
        let amount = if state.indent_char == Some(b'\t') { 8 } else { 4 };
        if indent_level > previous + amount {
            report.add(row, "E117");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pep8::tests::codes;

    #[test]
    fn indentation_checks() {
        assert_eq!(codes("if a == 0:\n    a = 1\n"), Vec::<&str>::new());
        assert_eq!(codes("if x:\n   a = 1\n"), vec!["E111"]);
        assert_eq!(codes("if x:\n    a = 1\n   # c\n"), vec!["E114"]);
        assert_eq!(codes("for item in items:\n# Hi\n    pass\n"), vec!["E115"]);
        assert_eq!(codes("a = 1\n    # b = 2\n"), vec!["E116"]);
        assert_eq!(codes("if x:\n        a = 1\n"), vec!["E117"]);
    }
}
