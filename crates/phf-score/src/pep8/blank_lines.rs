//! E301–E306: blank lines around top-level and nested definitions (pycodestyle's `blank_lines`).

use std::sync::LazyLock;

use regex::Regex;

use super::checker::{expand_indent, Logical, Report, State};

/// Blank lines expected around top-level definitions, and around methods.
const TOP_LEVEL_LINES: usize = 2;
const METHOD_LINES: usize = 1;

static STARTSWITH_DEF: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(async\s+def|def)\b").expect("valid"));
static STARTSWITH_TOP_LEVEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(async\s+def\s+|def\s+|class\s+|@)").expect("valid"));
static DOCSTRING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"^u?r?["']"#).expect("valid"));

pub(crate) fn starts_with_def(line: &str) -> bool {
    STARTSWITH_DEF.is_match(line)
}

pub(crate) fn check(logical: &Logical, lines: &[&str], state: &State, report: &mut Report) {
    let line = logical.text.as_str();
    let row = logical.row_of(0);
    let blank_lines = state.blank_lines;
    let blank_before = state.blank_before;
    let indent_level = logical.indent_level;
    let previous_logical = state.previous_logical.as_str();
    if previous_logical.is_empty() && blank_before < TOP_LEVEL_LINES {
        return; // no blank lines expected before the first line
    }
    if previous_logical.starts_with('@') {
        if blank_lines > 0 {
            report.add(row, "E304");
        }
    } else if blank_lines > TOP_LEVEL_LINES || (indent_level > 0 && blank_lines == METHOD_LINES + 1) {
        report.add(row, "E303");
    } else if STARTSWITH_TOP_LEVEL.is_match(line) {
        // A group of one-liners may go without blank lines.
        if blank_before == 0 && is_one_liner(line, indent_level, lines, logical.line_number) {
            return;
        }
        if indent_level > 0 {
            if !(blank_before == METHOD_LINES
                || state.previous_indent_level < indent_level
                || DOCSTRING.is_match(previous_logical))
            {
                report.add(
                    row,
                    if nested_in_def(lines, logical.line_number, indent_level) {
                        "E306"
                    } else {
                        "E301"
                    },
                );
            }
        } else if blank_before != TOP_LEVEL_LINES {
            report.add(row, "E302");
        }
    } else if !line.is_empty()
        && indent_level == 0
        && blank_before != TOP_LEVEL_LINES
        && (state.previous_unindented_logical_line.starts_with("def ")
            || state.previous_unindented_logical_line.starts_with("class "))
    {
        report.add(row, "E305");
    }
}

/// Searches back from the line before `line_number` for the nearest less-indented line: a `def` there makes this a
/// nested definition (E306 rather than E301).
fn nested_in_def(lines: &[&str], line_number: usize, indent_level: usize) -> bool {
    let mut ancestor_level = indent_level;
    let mut nested = false;
    // `lines[line_number - 2::-1]`: Python's negative start wraps to the end for line 1.
    let from = line_number as isize - TOP_LEVEL_LINES as isize;
    let from = if from < 0 { lines.len() as isize + from } else { from };
    if from < 0 || lines.is_empty() {
        return false;
    }
    for line in lines[..=(from as usize).min(lines.len() - 1)].iter().rev() {
        if !line.trim().is_empty() && expand_indent(line) < ancestor_level {
            ancestor_level = expand_indent(line);
            nested = starts_with_def(line.trim_start());
            if nested || ancestor_level == 0 {
                break;
            }
        }
    }
    nested
}

/// pycodestyle's `_is_one_liner`: a `def`/`class` whose body is on the same line, followed by a line that is
/// not more indented.
fn is_one_liner(logical_line: &str, indent_level: usize, lines: &[&str], line_number: usize) -> bool {
    if !STARTSWITH_TOP_LEVEL.is_match(logical_line) {
        return false;
    }
    let mut line_idx = line_number - 1;
    let prev_indent = if line_idx < 1 {
        0
    } else {
        expand_indent(lines[line_idx - 1])
    };
    if prev_indent > indent_level {
        return false;
    }
    loop {
        let Some(line) = lines.get(line_idx) else {
            return false; // EOF while searching for def/class
        };
        let line = line.trim();
        if !line.starts_with('@') && STARTSWITH_TOP_LEVEL.is_match(line) {
            break;
        }
        line_idx += 1;
    }
    let mut next_idx = line_idx + 1;
    while next_idx < lines.len() {
        if !lines[next_idx].trim().is_empty() {
            return expand_indent(lines[next_idx]) <= indent_level;
        }
        next_idx += 1;
    }
    true // the last line in the file
}

#[cfg(test)]
mod tests {
    use crate::pep8::tests::codes;

    #[test]
    fn blank_lines_checks() {
        let none = Vec::<&str>::new();
        assert_eq!(codes("def a():\n    pass\n\n\ndef b():\n    pass\n"), none);
        assert_eq!(
            codes("def a():\n    pass\n\n\n# Foo\n# Bar\n\ndef b():\n    pass\n"),
            none
        );
        assert_eq!(
            codes("class Foo:\n    b = 0\n    def bar():\n        pass\n"),
            vec!["E301"]
        );
        assert_eq!(codes("def a():\n    pass\n\ndef b(n):\n    pass\n"), vec!["E302"]);
        assert_eq!(codes("def a():\n    pass\n\n\n\ndef b(n):\n    pass\n"), vec!["E303"]);
        assert_eq!(codes("def a():\n\n\n\n    pass\n"), vec!["E303"]);
        assert_eq!(codes("@decorator\n\ndef a():\n    pass\n"), vec!["E304"]);
        assert_eq!(codes("def a():\n    pass\na()\n"), vec!["E305"]);
        assert_eq!(
            codes("def a():\n    def b():\n        pass\n    def c():\n        pass\n"),
            vec!["E306"]
        );
        // One-liners may be grouped.
        assert_eq!(codes("def f(): pass\ndef g(): pass\n"), none);
    }
}
