//! Statement-level checks: imports (E401, E402), compound statements (E701–E703, E731; E704 is ignored by
//! default), comparisons (E711–E714, E721), bare `except` (E722), ambiguous names (E741–E743), the redundant
//! backslash (E502) and invalid escape sequences (W605).

use std::sync::LazyLock;

use regex::Regex;

use super::blank_lines::starts_with_def;
use super::checker::{Logical, Report, State};
use super::tokenize::Kind;

static COMPARE_SINGLETON: LazyLock<Regex> = LazyLock::new(|| {
    // pycodestyle: `(\bNone|\bFalse|\bTrue)?\s*([=!]=)\s*(?(1)|(None|False|True))\b`, the conditional split into
    // its two branches (tried in the same order at each position).
    Regex::new(r"(\bNone|\bFalse|\bTrue)\s*([=!]=)\s*\b|\s*([=!]=)\s*(None|False|True)\b").expect("valid")
});
/// `COMPARE_NEGATIVE_REGEX` after its `\b(?<!is\s)` (checked by hand), anchored at `not`.
static COMPARE_NEGATIVE_REST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^not\s+[^\]\[)(}{ ]+\s+(in|is)\s").expect("valid"));
/// The two branches of `COMPARE_TYPE_REGEX`, anchored; the second's `(?<!\.)\b` is checked by hand.
static COMPARE_TYPE_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[=!]=\s+type(?:\s*\(\s*([^)]*[^\s)])\s*\))").expect("valid"));
static COMPARE_TYPE_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^type(?:\s*\(\s*([^)]*[^\s)])\s*\))\s+[=!]=").expect("valid"));
static BLANK_EXCEPT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^except\s*:").expect("valid"));
static LAMBDA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\blambda\b").expect("valid"));
static DUNDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^__([^\s]+)__(?::\s*[a-zA-Z.0-9_\[\]"]+)? = "#).expect("valid"));
static STARTSWITH_INDENT_STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(def|async\s+def|for|async\s+for|if|elif|else|try|except|finally|with|async\s+with|class|while)\b")
        .expect("valid")
});

pub(crate) fn check(logical: &Logical, state: &mut State, report: &mut Report) {
    imports_on_separate_lines(logical, report);
    module_imports_on_top_of_file(logical, state, report);
    compound_statements(logical, report);
    if !logical.noqa {
        comparison_to_singleton(logical, report);
        comparison_type(logical, report);
        bare_except(logical, report);
        invalid_escape_sequence(logical, report);
    }
    comparison_negative(logical, report);
    ambiguous_identifier(logical, report);
    explicit_line_join(logical, report);
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python's `str.isidentifier` (approximately: a letter or `_`, then letters, digits or `_`).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(is_word_char)
}

/// E401: `import a, b`.
fn imports_on_separate_lines(logical: &Logical, report: &mut Report) {
    let line = &logical.text;
    if line.starts_with("import ") {
        if let Some(found) = line.find(',') {
            if !line[..found].contains(';') {
                report.add(logical.row_of(found), "E401");
            }
        }
    }
}

/// E402: a module-level import after other code (docstring, `__dunder__ = ...`, and
/// `try`/`except`/`else`/`finally`/`with`/`if`/`elif` lines excepted).
fn module_imports_on_top_of_file(logical: &Logical, state: &mut State, report: &mut Report) {
    let line = logical.text.as_str();
    if logical.indent_level > 0 || line.is_empty() || logical.noqa {
        return;
    }
    if ["import ", "from ", "lazy import ", "lazy from "]
        .iter()
        .any(|p| line.starts_with(p))
    {
        if state.seen_non_imports {
            report.add(logical.row_of(0), "E402");
        }
    } else if !state.seen_non_imports {
        if DUNDER.is_match(line) {
            return;
        }
        if ["try", "except", "else", "finally", "with", "if", "elif"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            return;
        }
        if is_string_literal(line) {
            if state.seen_docstring {
                state.seen_non_imports = true;
            } else {
                state.seen_docstring = true;
            }
        } else {
            state.seen_non_imports = true;
        }
    }
}

fn is_string_literal(line: &str) -> bool {
    let b = line.as_bytes();
    let first = match b.first() {
        None => return false,
        Some(c) if b"uUbBrR".contains(c) => b.get(1).copied(),
        Some(&c) => Some(c),
    };
    matches!(first, Some(b'"' | b'\''))
}

/// E701 (`if x: y`), E702 (`a; b`), E703 (trailing `;`), E731 (`f = lambda: ...`).
fn compound_statements(logical: &Logical, report: &mut Report) {
    let line = logical.text.as_str();
    let b = line.as_bytes();
    let last_char = b.len().wrapping_sub(1);
    let mut counts = [0usize; 6]; // { } [ ] ( )
    let count = |counts: &mut [usize; 6], s: &[u8]| {
        for c in s {
            if let Some(i) = b"{}[]()".iter().position(|x| x == c) {
                counts[i] += 1;
            }
        }
    };
    let mut prev_found = 0;
    let mut found = line.find(':');
    while let Some(f) = found.filter(|&f| b.len() > 1 && f < last_char) {
        count(&mut counts, &b[prev_found..f]);
        if counts[0] <= counts[1] && counts[2] <= counts[3] && counts[4] <= counts[5] && b[f + 1] != b'=' {
            if let Some(lambda) = LAMBDA.find(&line[..f]) {
                let before = line[..lambda.start()].trim_end();
                if let Some(target) = before.strip_suffix('=') {
                    if is_identifier(target.trim()) {
                        report.add(logical.row_of(0), "E731");
                    }
                }
                break;
            }
            if starts_with_def(line) {
                // E704 (a one-line def) is ignored by default.
            } else if STARTSWITH_INDENT_STATEMENT.is_match(line) {
                report.add(logical.row_of(f), "E701");
            }
        }
        prev_found = f;
        found = line[f + 1..].find(':').map(|i| f + 1 + i);
    }
    let mut from = 0;
    while let Some(i) = line[from..].find(';') {
        let f = from + i;
        report.add(logical.row_of(f), if f < last_char { "E702" } else { "E703" });
        from = f + 1;
    }
}

/// E711 (`== None`), E712 (`== True`/`False`).
fn comparison_to_singleton(logical: &Logical, report: &mut Report) {
    for caps in COMPARE_SINGLETON.captures_iter(&logical.text) {
        let (singleton, op) = match caps.get(1) {
            Some(s) => (s.as_str(), caps.get(2).expect("group")),
            None => (caps.get(4).expect("group").as_str(), caps.get(3).expect("group")),
        };
        let code = if singleton == "None" { "E711" } else { "E712" };
        report.add(logical.row_of(op.start()), code);
    }
}

/// E713 (`not x in y`), E714 (`not x is y`): the first such test on the line.
fn comparison_negative(logical: &Logical, report: &mut Report) {
    let line = logical.text.as_str();
    let mut from = 0;
    while let Some(i) = line[from..].find("not") {
        let at = from + i;
        from = at + 3;
        let before = &line[..at];
        if before.chars().next_back().is_some_and(is_word_char) {
            continue; // `\b`
        }
        let mut last3 = before.chars().rev().take(3);
        let ws = last3.next();
        let (s, i) = (last3.next(), last3.next());
        if i == Some('i') && s == Some('s') && ws.is_some_and(char::is_whitespace) {
            continue; // `(?<!is\s)`
        }
        if let Some(caps) = COMPARE_NEGATIVE_REST.captures(&line[at..]) {
            let code = if &caps[1] == "in" { "E713" } else { "E714" };
            report.add(logical.row_of(at), code);
            return;
        }
    }
}

/// E721: comparing types with `==` (`type(a) == type(b)`), unless one side is `type(name)` of a plain name.
fn comparison_type(logical: &Logical, report: &mut Report) {
    let line = logical.text.as_str();
    for (at, c) in line.char_indices() {
        if c == '=' || c == '!' {
            if let Some(caps) = COMPARE_TYPE_AFTER.captures(&line[at..]) {
                let inst = caps.get(1).map(|m| m.as_str()).unwrap_or("");
                if is_identifier(inst) && !matches!(inst, "None" | "True" | "False") {
                    return; // e.g. `x == type(obj)` is allowed
                }
                report.add(logical.row_of(at), "E721");
                return;
            }
        } else if c == 't' {
            let prev = line[..at].chars().next_back();
            if prev.is_some_and(|p| p == '.' || is_word_char(p)) {
                continue;
            }
            if COMPARE_TYPE_BEFORE.is_match(&line[at..]) {
                report.add(logical.row_of(at), "E721");
                return;
            }
        }
    }
}

/// E722: `except:`.
fn bare_except(logical: &Logical, report: &mut Report) {
    if BLANK_EXCEPT.is_match(&logical.text) {
        report.add(logical.row_of(0), "E722");
    }
}

/// E741 (a variable named `l`, `O` or `I`), E742 (such a class), E743 (such a function).
fn ambiguous_identifier(logical: &Logical, report: &mut Report) {
    let tokens = logical.tokens;
    let is_ambiguous = |s: &str| matches!(s, "l" | "O" | "I");
    let mut func_depth: Option<i64> = None;
    let mut seen_colon = false;
    let mut brace_depth: i64 = 0;
    let Some(first) = tokens.first() else { return };
    let (mut prev_text, mut prev_start) = (first.text, first.start);
    for index in 1..tokens.len() {
        let t = &tokens[index];
        let (text, start) = (t.text, t.start);
        let mut ident_at: Option<usize> = None;
        if prev_text == "def" || prev_text == "lambda" {
            func_depth = Some(brace_depth);
            seen_colon = false;
        } else if func_depth.is_some() && text == ":" && Some(brace_depth) == func_depth {
            seen_colon = true;
        }
        // `text in '([{'` is a substring test: the empty text of NEWLINE/DEDENT counts as an opening bracket.
        if "([{".contains(text) {
            brace_depth += 1;
        } else if ")]}".contains(text) {
            brace_depth -= 1;
        }
        if (text == ":=" || (text == "=" && brace_depth == 0)) && is_ambiguous(prev_text) {
            ident_at = Some(prev_start.0);
        }
        if matches!(prev_text, "as" | "for" | "global" | "nonlocal") && is_ambiguous(text) {
            ident_at = Some(start.0);
        }
        if func_depth.is_some()
            && !seen_colon
            && index + 1 < tokens.len()
            && ":,=)".contains(tokens[index + 1].text)
            && matches!(prev_text, "lambda" | "," | "*" | "**" | "(")
            && is_ambiguous(text)
        {
            ident_at = Some(start.0);
        }
        if prev_text == "class" && is_ambiguous(text) {
            report.add(start.0, "E742");
        }
        if prev_text == "def" && is_ambiguous(text) {
            report.add(start.0, "E743");
        }
        if let Some(row) = ident_at {
            report.add(row, "E741");
        }
        prev_text = text;
        prev_start = start;
    }
}

/// E502: a backslash continuation inside brackets.
fn explicit_line_join(logical: &Logical, report: &mut Report) {
    let (mut prev_start, mut prev_end, mut parens) = (0usize, 0usize, 0i64);
    let mut comment = false;
    let mut backslash: Option<usize> = None;
    for t in logical.tokens {
        if t.kind == Kind::Comment {
            comment = true;
        }
        if t.start.0 != prev_start && parens != 0 && !comment {
            if let Some(row) = backslash {
                report.add(row, "E502");
            }
        }
        if t.start.0 != prev_start {
            comment = false;
        }
        if t.end.0 != prev_end {
            backslash = t.line.trim_end_matches(['\r', '\n']).ends_with('\\').then_some(t.end.0);
            prev_start = t.end.0;
            prev_end = t.end.0;
        } else {
            prev_start = t.start.0;
        }
        if t.kind == Kind::Op {
            match t.text {
                "(" | "[" | "{" => parens += 1,
                ")" | "]" | "}" => parens -= 1,
                _ => {}
            }
        }
    }
}

/// W605: a backslash escape Python does not know (`'\.'`) in a non-raw string.
fn invalid_escape_sequence(logical: &Logical, report: &mut Report) {
    for t in logical.tokens.iter().filter(|t| t.kind == Kind::String) {
        let text = t.text;
        let quote = text.as_bytes()[text.len() - 1];
        let prefix_len = text.bytes().position(|b| b == quote).unwrap_or(0);
        if text[..prefix_len].contains(['r', 'R']) {
            continue;
        }
        let b = text.as_bytes();
        let mut pos = text.find('\\');
        while let Some(p) = pos {
            let next = p + 1;
            let valid = match b.get(next) {
                Some(c) => b"\n\\'\"abfnrtv01234567xNuU".contains(c),
                None => true,
            };
            if !valid {
                report.add(t.start.0 + text[..next].matches('\n').count(), "W605");
            }
            pos = text
                .get(next + 1..)
                .and_then(|rest| rest.find('\\'))
                .map(|i| next + 1 + i);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pep8::tests::{ok, one};

    #[test]
    fn imports() {
        ok("import os\nimport sys");
        one("E401", "import sys, os");
        ok("from subprocess import Popen, PIPE");
        ok("'''docstring'''\nimport os");
        ok("__all__ = ['x']\nimport os");
        ok("try:\n    import x\nexcept ImportError:\n    x = None\nimport y");
        one("E402", "a = 1\nimport os");
        one("E402", "'One string'\n\"Two string\"\nimport os");
        ok("if x:\n    import os");
    }

    #[test]
    fn compound_statements() {
        one("E701", "if foo == 'blah': do_blah_thing()");
        one("E701", "while t < 10: t = delay()");
        one("E702", "do_one(); do_two()");
        one("E703", "do_four();  # useless semicolon");
        one("E731", "f = lambda x: 2*x");
        ok("f = {'a': 1}");
        ok("x[1:2] = y");
        ok("def f(x: int): return 2 * x"); // E704 is ignored by default
        ok("if (n := len(a)) > 10:\n    pass");
        ok("f(lambda x: 2 * x)");
    }

    #[test]
    fn comparisons() {
        ok("if arg is not None:\n    pass");
        one("E711", "if arg != None:\n    pass");
        one("E711", "if None == arg:\n    pass");
        one("E712", "if arg == True:\n    pass");
        one("E712", "if False == arg:\n    pass");
        ok("if x not in y:\n    pass");
        ok("zz = x is not y");
        ok("if not (X in Y):\n    pass");
        one("E713", "Z = not X in Y");
        one("E714", "if not X is Y:\n    pass");
        ok("if isinstance(obj, int):\n    pass");
        ok("if type(obj) is int:\n    pass");
        ok("if x == type(obj):\n    pass");
        one("E721", "if type(obj) == type(1):\n    pass");
        ok("if arg == None:  # noqa\n    pass");
    }

    #[test]
    fn bare_except_and_ambiguous_names() {
        one("E722", "try:\n    x\nexcept:\n    pass");
        ok("try:\n    x\nexcept Exception:\n    pass");
        one("E741", "l = 0");
        one("E741", "for l in range(10):\n    pass");
        one("E741", "def foo(l):\n    pass");
        one("E741", "lambda l: None");
        ok("foo(l=12)");
        ok("L = 0");
        one("E742", "class I(object):\n    pass");
        one("E743", "def l(x):\n    pass");
    }

    #[test]
    fn backslashes() {
        one("E502", "aaa = [123, \\\n       123]");
        ok("aaa = 'bbb ' \\\n    'ccc'");
        one("W605", "regex = '\\.png$'");
        ok("regex = r'\\.png$'");
        ok("s = '\\n\\t\\x00\\N{DASH}'");
    }
}
