//! E12x: continuation lines (pycodestyle's `continued_indentation`), a line-by-line port. E121, E123 and E126
//! are in the default ignore list: their branches still update the state but report nothing. E133 needs
//! `--hang-closing` and is never reported.

use std::collections::HashMap;

use super::checker::{expand_indent, Logical, Report};
use super::logical::INDENT_SIZE;
use super::tokenize::Kind;

/// A value of pycodestyle's `indent_chances`: `True`, the type `str` (a string or comment started there), or a
/// token's text (a token to line up with).
#[derive(Clone, Copy, PartialEq)]
enum Chance<'a> {
    True,
    Str,
    Text(&'a str),
}

/// pycodestyle's `visual_indent`: `False`/`None` or a chance found at the line's start column.
#[derive(Clone, Copy, PartialEq)]
enum Visual<'a> {
    No,
    Chance(Chance<'a>),
}

impl Visual<'_> {
    fn truthy(self) -> bool {
        match self {
            Visual::No => false,
            Visual::Chance(Chance::Text(t)) => !t.is_empty(),
            Visual::Chance(_) => true,
        }
    }
}

pub(crate) fn check(logical: &Logical, indent_char: Option<u8>, report: &mut Report) {
    let tokens = logical.tokens;
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return;
    };
    let first_row = first.start.0;
    let nrows = 1 + last.start.0 - first_row;
    if logical.noqa || nrows == 1 {
        return;
    }
    let indent_level = logical.indent_level as i64;
    let indent_size = INDENT_SIZE as i64;
    // Whether the next logical line is indented (this one ends with `:`): then a 4-space continuation would
    // look like the block.
    let indent_next = logical.text.ends_with(':');

    let mut row = 0usize;
    let mut depth = 0usize;
    let valid_hangs: &[i64] = if indent_char != Some(b'\t') { &[4] } else { &[4, 8] };
    // Brackets opened on each row; each row's indent relative to the logical line's.
    let mut parens = vec![0i64; nrows];
    let mut rel_indent = vec![0i64; nrows];
    // For each depth, the rows that opened it, its hanging indent, and its visual indent column.
    let mut open_rows: Vec<Vec<usize>> = vec![vec![0]];
    let mut hangs: Vec<Option<i64>> = vec![None];
    let mut indent_chances: HashMap<usize, Chance> = HashMap::new();
    let mut last_indent = first.start;
    let mut visual_indent = Visual::No;
    let mut last_token_multiline = false;
    let mut indent: Vec<usize> = vec![last_indent.1];
    let mut hang: i64 = 0;
    let mut line = first.line;
    let mut last_start = first.start;

    for t in tokens {
        let (kind, text, start, end) = (t.kind, t.text, t.start, t.end);
        line = t.line;
        last_start = start;
        let mut newline = row < start.0 - first_row;
        if newline {
            row = start.0 - first_row;
            newline = !last_token_multiline && !matches!(kind, Kind::Nl | Kind::Newline);
        }

        if newline {
            // The beginning of a continuation line.
            last_indent = start;
            rel_indent[row] = expand_indent(line) as i64 - indent_level;
            let close_bracket = kind == Kind::Op && matches!(text, "]" | "}" | ")");
            // Is the indent relative to an opening bracket's line?
            let mut hanging_indent = false;
            for &open_row in open_rows[depth].iter().rev() {
                hang = rel_indent[row] - rel_indent[open_row];
                hanging_indent = valid_hangs.contains(&hang);
                if hanging_indent {
                    break;
                }
            }
            if let Some(h) = hangs[depth].filter(|&h| h != 0) {
                hanging_indent = hang == h;
            }
            // Any chance of a visual indent?
            visual_indent = if !close_bracket && hang > 0 {
                indent_chances.get(&start.1).map_or(Visual::No, |&c| Visual::Chance(c))
            } else {
                Visual::No
            };

            if close_bracket && indent[depth] != 0 {
                // A closing bracket for a visual indent.
                if start.1 != indent[depth] {
                    report.add(start.0, "E124");
                }
            } else if close_bracket && hang == 0 {
                // Matches the indentation of the opening bracket's line (E133 only with --hang-closing).
            } else if indent[depth] != 0 && start.1 < indent[depth] {
                if visual_indent != Visual::Chance(Chance::True) {
                    report.add(start.0, "E128"); // visual indent is broken
                }
            } else if hanging_indent || (indent_next && rel_indent[row] == 2 * indent_size) {
                // Hanging indent is verified (a closing bracket here is E123, ignored by default).
                hangs[depth] = Some(hang);
            } else if visual_indent == Visual::Chance(Chance::True) {
                // Visual indent is verified.
                indent[depth] = start.1;
            } else if visual_indent == Visual::Chance(Chance::Str)
                || visual_indent == Visual::Chance(Chance::Text(text))
            {
                // A token lined up with a matching one on a previous line.
            } else if hang <= 0 {
                report.add(start.0, "E122");
            } else if indent[depth] != 0 {
                report.add(start.0, "E127");
            } else if !close_bracket && hangs[depth].is_some_and(|h| h != 0) {
                report.add(start.0, "E131");
            } else {
                // E126 (over-indented) or E121 (under-indented) for a hanging indent: ignored by default.
                hangs[depth] = Some(hang);
            }
        }

        // Look for visual indenting.
        if parens[row] != 0 && !matches!(kind, Kind::Nl | Kind::Comment) && indent[depth] == 0 {
            indent[depth] = start.1;
            indent_chances.insert(start.1, Chance::True);
        } else if matches!(kind, Kind::String | Kind::Comment) {
            // Implicit string concatenation.
            indent_chances.insert(start.1, Chance::Str);
        } else if row == 0 && depth == 0 && matches!(text, "assert" | "raise" | "with") {
            // Visual indent after assert/raise/with.
            indent_chances.insert(end.1 + 1, Chance::True);
        } else if indent_chances.is_empty() && row == 0 && depth == 0 && text == "if" {
            // `if (` is four characters long.
            indent_chances.insert(end.1 + 1, Chance::True);
        } else if text == ":"
            && line
                .get(end.1..)
                .is_some_and(|rest| !rest.is_empty() && rest.trim().is_empty())
        {
            open_rows[depth].push(row);
        }

        // Keep track of bracket depth.
        if kind == Kind::Op {
            if matches!(text, "(" | "[" | "{") {
                depth += 1;
                indent.push(0);
                hangs.push(None);
                if open_rows.len() == depth {
                    open_rows.push(Vec::new());
                }
                open_rows[depth].push(row);
                parens[row] += 1;
            } else if matches!(text, ")" | "]" | "}") && depth > 0 {
                // Parent indents should not be more than this one.
                let popped = indent.pop().unwrap_or(0);
                let prev_indent = if popped != 0 { popped } else { last_indent.1 };
                hangs.pop();
                for d in indent.iter_mut().take(depth) {
                    if *d > prev_indent {
                        *d = 0;
                    }
                }
                indent_chances.retain(|&ind, _| ind < prev_indent);
                open_rows.truncate(depth + 1);
                depth -= 1;
                if depth > 0 {
                    indent_chances.insert(indent[depth], Chance::True);
                }
                for idx in (0..=row).rev() {
                    if parens[idx] != 0 {
                        parens[idx] -= 1;
                        break;
                    }
                }
            }
            indent_chances.entry(start.1).or_insert(Chance::Text(text));
        }

        last_token_multiline = start.0 != end.0;
        if last_token_multiline {
            let current = rel_indent[row];
            if let Some(r) = rel_indent.get_mut(end.0 - first_row) {
                *r = current;
            }
        }
    }

    if indent_next && expand_indent(line) as i64 == indent_level + indent_size {
        let code = if visual_indent.truthy() { "E129" } else { "E125" };
        report.add(last_start.0, code);
    }
}

#[cfg(test)]
mod tests {
    use crate::pep8::tests::{ok, one};

    #[test]
    fn continuation_lines() {
        ok("a = (\n)");
        ok("a = (\n    42)");
        ok("a = (24,\n     42)");
        ok("foo = long_function_name(var_one, var_two,\n                         var_three, var_four)");
        ok("def long_function_name(\n        var_one, var_two, var_three,\n        var_four):\n    print(var_one)");
        ok("a = (\n   42)"); // E121 is ignored by default
        ok("a = (\n        42)"); // E126 is ignored by default
        one("E122", "a = (\n42)");
        one("E124", "a = (24,\n     42\n)");
        one("E125", "if (\n    b):\n    pass");
        one("E127", "a = (24,\n      42)");
        one("E128", "a = (24,\n    42)");
        one("E129", "if (a or\n    b):\n    pass");
        one("E131", "a = (\n    42\n 24)");
    }
}
