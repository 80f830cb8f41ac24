//! E2xx: whitespace around brackets, operators, commas, keywords, parameters and comments (pycodestyle's
//! `extraneous_whitespace`, `whitespace_around_keywords`, `missing_whitespace_after_keyword`,
//! `whitespace_before_parameters`, `whitespace_around_operator`, `missing_whitespace`,
//! `whitespace_around_named_parameter_equals`, `whitespace_before_comment`). E226 and E24x are in pycodestyle's
//! default ignore list and not reported.

use std::sync::LazyLock;

use regex::Regex;

use super::checker::{Logical, Report};
use super::logical::{is_keyword, is_pycodestyle_keyword, is_soft_keyword};
use super::tokenize::{Kind, Token};

static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    let mut kws: Vec<&str> = super::logical::PY_KEYWORDS
        .iter()
        .copied()
        .filter(|k| is_pycodestyle_keyword(k))
        .collect();
    kws.push("print");
    Regex::new(&format!(r"(\s*)\b(?:{})\b(\s*)", kws.join("|"))).expect("valid")
});
static OPERATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:[^,\s])(\s*)(?:[-+*/|!<=>%&^]+|:=)(\s*)").expect("valid"));
static STARTSWITH_GENERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(async\s+def|def|class|type)\s+\w+\[").expect("valid"));

pub(crate) fn check(logical: &Logical, report: &mut Report) {
    extraneous_whitespace(logical, report);
    whitespace_around_keywords(logical, report);
    missing_whitespace_after_keyword(logical, report);
    whitespace_before_parameters(logical, report);
    whitespace_around_operator(logical, report);
    missing_whitespace(logical, report);
    whitespace_around_named_parameter_equals(logical, report);
    whitespace_before_comment(logical.tokens, report);
}

/// E201 after an opening bracket, E202 before a closing one, E203 before `,;:`, E204 after a decorator `@`.
/// Mirrors `[\[({][ \t]|[ \t][\]}),;:](?!=)`, matched left to right without overlap.
fn extraneous_whitespace(logical: &Logical, report: &mut Report) {
    let b = logical.text.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        let (c, next) = (b[i], b[i + 1]);
        if matches!(c, b'[' | b'(' | b'{') && matches!(next, b' ' | b'\t') {
            report.add(logical.row_of(i + 1), "E201");
            i += 2;
        } else if matches!(c, b' ' | b'\t')
            && matches!(next, b']' | b'}' | b')' | b',' | b';' | b':')
            && b.get(i + 2) != Some(&b'=')
        {
            // `line[found - 1]`: at 0 Python reads the last character.
            let before = if i == 0 { b[b.len() - 1] } else { b[i - 1] };
            if before != b',' {
                let code = if matches!(next, b'}' | b']' | b')') {
                    "E202"
                } else {
                    "E203"
                };
                report.add(logical.row_of(i), code);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    if b.first() == Some(&b'@') && logical.text[1..].starts_with(char::is_whitespace) {
        report.add(logical.row_of(1), "E204");
    }
}

/// E271–E274: more than one space, or a tab, before or after a keyword.
fn whitespace_around_keywords(logical: &Logical, report: &mut Report) {
    for caps in KEYWORD.captures_iter(&logical.text) {
        let (before, after) = (caps.get(1).expect("group"), caps.get(2).expect("group"));
        if before.as_str().contains('\t') {
            report.add(logical.row_of(before.start()), "E274");
        } else if before.as_str().chars().count() > 1 {
            report.add(logical.row_of(before.start()), "E272");
        }
        if after.as_str().contains('\t') {
            report.add(logical.row_of(after.start()), "E273");
        } else if after.as_str().chars().count() > 1 {
            report.add(logical.row_of(after.start()), "E271");
        }
    }
}

/// E275: a keyword directly followed by the next token (`if(x)`, `from x import(y)`).
fn missing_whitespace_after_keyword(logical: &Logical, report: &mut Report) {
    for pair in logical.tokens.windows(2) {
        let (t0, t1) = (&pair[0], &pair[1]);
        if t0.end == t1.start
            && t0.kind == Kind::Name
            && is_keyword(t0.text)
            && !matches!(t0.text, "True" | "False" | "None")
            && !(t0.text == "except" && t1.text == "*")
            && !(t0.text == "yield" && t1.text == ")")
            && !t1.text.is_empty()
            && t1.text != ":"
            && t1.text != "\n"
        {
            report.add(t0.end.0, "E275");
        }
    }
}

/// E211: whitespace before the `(` of a call or the `[` of an index.
fn whitespace_before_parameters(logical: &Logical, report: &mut Report) {
    let tokens = logical.tokens;
    let Some(first) = tokens.first() else { return };
    let (mut prev_kind, mut prev_text, mut prev_end) = (first.kind, first.text, first.end);
    for (index, t) in tokens.iter().enumerate().skip(1) {
        if t.kind == Kind::Op
            && (t.text == "(" || t.text == "[")
            && t.start != prev_end
            && (prev_kind == Kind::Name || matches!(prev_text, "}" | "]" | ")"))
            && (index < 2 || tokens[index - 2].text != "class")
            && !is_keyword(prev_text)
            && (prev_text == "type" || !is_soft_keyword(prev_text))
        {
            report.add(prev_end.0, "E211");
        }
        (prev_kind, prev_text, prev_end) = (t.kind, t.text, t.end);
    }
}

/// E221–E224: more than one space, or a tab, before or after an operator.
fn whitespace_around_operator(logical: &Logical, report: &mut Report) {
    for caps in OPERATOR.captures_iter(&logical.text) {
        let (before, after) = (caps.get(1).expect("group"), caps.get(2).expect("group"));
        if before.as_str().contains('\t') {
            report.add(logical.row_of(before.start()), "E223");
        } else if before.as_str().chars().count() > 1 {
            report.add(logical.row_of(before.start()), "E221");
        }
        if after.as_str().contains('\t') {
            report.add(logical.row_of(after.start()), "E224");
        } else if after.as_str().chars().count() > 1 {
            report.add(logical.row_of(after.start()), "E222");
        }
    }
}

const WS_NEEDED: [&str; 25] = [
    "**=", "*=", "/=", "//=", "+=", "-=", "!=", "<", ">", "%=", "^=", "&=", "|=", "==", "<=", ">=", "<<=", ">>=", "=",
    "and", "in", "is", "or", "->", ":=",
];
const UNARY: [&str; 5] = [">>", "**", "*", "+", "-"];
const ARITHMETIC: [&str; 7] = ["**", "*", "/", "//", "+", "-", "@"];
const WS_OPTIONAL_EXTRA: [&str; 6] = ["^", "&", "|", "<<", ">>", "%"];

/// What `missing_whitespace` expects after an operator: pycodestyle's `need_space`, which is `False`, `True`
/// (space needed on both sides) or a tuple `(operator end, space seen before it)`.
#[derive(Clone, Copy, PartialEq)]
enum NeedSpace {
    No,
    Yes,
    Optional((usize, usize), bool),
}

/// E225 (missing whitespace around an operator), E227/E228 (around a bitwise/shift or modulo operator when the
/// other side has it), E231 (after `,`, `;`, `:`).
fn missing_whitespace(logical: &Logical, report: &mut Report) {
    let mut need_space = NeedSpace::No;
    let mut prev_kind = Kind::Op;
    let mut prev_text = "";
    let mut prev_end: Option<(usize, usize)> = None;
    let mut brace_stack: Vec<u8> = Vec::new();
    for t in logical.tokens {
        let (kind, text) = (t.kind, t.text);
        if kind == Kind::Op && matches!(text, "[" | "(" | "{") {
            brace_stack.push(text.as_bytes()[0]);
        } else if kind == Kind::Name && text == "lambda" {
            brace_stack.push(b'l');
        } else if !brace_stack.is_empty() {
            let closes = kind == Kind::Op && matches!(text, "]" | ")" | "}");
            let ends_lambda = brace_stack.last() == Some(&b'l') && kind == Kind::Op && text == ":";
            if closes || ends_lambda {
                brace_stack.pop();
            }
        }
        if matches!(
            kind,
            Kind::Nl | Kind::Newline | Kind::Indent | Kind::Dedent | Kind::Comment | Kind::ErrorToken
        ) {
            continue;
        }
        if kind == Kind::Op && matches!(text, "," | ";" | ":") {
            let next_char = t.line.as_bytes().get(t.end.1).copied();
            let spaced = match next_char {
                None => true, // '' is in any string
                Some(c) => matches!(c, b' ' | b'\t' | b'\r' | b'\n') || t.line[t.end.1..].starts_with('\u{a0}'),
            };
            if !spaced {
                let slice = text == ":" && brace_stack.last() == Some(&b'[');
                let tuple = text == "," && matches!(next_char, Some(b')' | b']'));
                if !slice && !tuple {
                    report.add(t.start.0, "E231");
                }
            }
        }
        let start = t.start;
        if need_space != NeedSpace::No {
            if Some(start) != prev_end {
                // Found a (probably) needed space.
                if let NeedSpace::Optional(at, false) = need_space {
                    report.add(at.0, "E225");
                }
                need_space = NeedSpace::No;
            } else if (prev_text == "/" && matches!(text, "," | ")" | ":")) || (prev_text == ")" && text == ":") {
                // Tolerate the `/` of positional-only parameters (PEP 570).
            } else {
                match need_space {
                    NeedSpace::Yes | NeedSpace::Optional(_, true) => {
                        // A needed trailing space was not found.
                        report.add(prev_end.map_or(start.0, |e| e.0), "E225");
                    }
                    NeedSpace::Optional(at, false) if prev_text != "**" => {
                        // E226 (arithmetic) is ignored by default.
                        if prev_text == "%" {
                            report.add(at.0, "E228");
                        } else if !ARITHMETIC.contains(&prev_text) {
                            report.add(at.0, "E227");
                        }
                    }
                    _ => {}
                }
                need_space = NeedSpace::No;
            }
        } else if matches!(kind, Kind::Op | Kind::Name) && prev_end.is_some() {
            let mut optional = false;
            if text == "=" && (brace_stack.last() == Some(&b'l') || brace_stack.last() == Some(&b'(')) {
                // Keyword arguments, defaults, lambda defaults.
            } else if WS_NEEDED.contains(&text) {
                need_space = NeedSpace::Yes;
            } else if UNARY.contains(&text) {
                // Binary use only: after a closing bracket, or after a name/number that is not a keyword.
                if (prev_kind == Kind::Op && matches!(prev_text, "}" | "]" | ")"))
                    || (prev_kind != Kind::Op && !is_pycodestyle_keyword(prev_text) && !is_soft_keyword(prev_text))
                {
                    optional = true;
                }
            } else if ARITHMETIC.contains(&text) || WS_OPTIONAL_EXTRA.contains(&text) {
                optional = true;
            }
            let prev = prev_end.unwrap_or(start);
            if optional {
                // Surrounding space is optional, but the trailing space must match the leading one.
                need_space = NeedSpace::Optional(prev, start != prev);
            } else if need_space == NeedSpace::Yes && start == prev {
                // A needed leading space was not found.
                report.add(prev.0, "E225");
                need_space = NeedSpace::No;
            }
        }
        prev_kind = kind;
        prev_text = text;
        prev_end = Some(t.end);
    }
}

/// E251 (spaces around a keyword argument's `=`), E252 (missing spaces around an annotated default's `=`).
fn whitespace_around_named_parameter_equals(logical: &Logical, report: &mut Report) {
    let mut parens: Vec<&str> = Vec::new();
    let mut no_space = false;
    let mut require_space = false;
    let mut prev_end = (0, 0);
    let mut annotated_func_arg = false;
    let in_def = super::blank_lines::starts_with_def(&logical.text);
    let in_generic = STARTSWITH_GENERIC.is_match(&logical.text);
    for t in logical.tokens {
        if t.kind == Kind::Nl {
            continue;
        }
        if no_space {
            no_space = false;
            if t.start != prev_end {
                report.add(prev_end.0, "E251");
            }
        }
        if require_space {
            require_space = false;
            if t.start == prev_end {
                report.add(prev_end.0, "E252");
            }
        }
        if t.kind == Kind::Op {
            if t.text == "(" || t.text == "[" {
                parens.push(t.text);
            } else if (t.text == ")" || t.text == "]") && !parens.is_empty() {
                parens.pop();
            } else if t.text == ":" && in_def && parens == ["("] {
                annotated_func_arg = true;
            } else if parens.len() == 1 && t.text == "," {
                annotated_func_arg = false;
            } else if !parens.is_empty() && t.text == "=" {
                if (in_generic && parens == ["["]) || (annotated_func_arg && parens == ["("]) {
                    require_space = true;
                    if t.start == prev_end {
                        report.add(prev_end.0, "E252");
                    }
                } else {
                    no_space = true;
                    if t.start != prev_end {
                        report.add(prev_end.0, "E251");
                    }
                }
            }
            if parens.is_empty() {
                annotated_func_arg = false;
            }
        }
        prev_end = t.end;
    }
}

/// E261 (fewer than two spaces before an inline comment), E262 (inline comment not starting with `# `),
/// E265 (block comment not starting with `# `), E266 (block comment starting with `##`).
fn whitespace_before_comment(tokens: &[Token], report: &mut Report) {
    let mut prev_end = (0, 0);
    for t in tokens {
        if t.kind == Kind::Comment {
            let inline = !t.line.get(..t.start.1).unwrap_or("").trim().is_empty();
            if inline && prev_end.0 == t.start.0 && t.start.1 < prev_end.1 + 2 {
                report.add(prev_end.0, "E261");
            }
            let (symbol, comment) = t.text.split_once(' ').unwrap_or((t.text, ""));
            // `symbol not in '#:'`: neither `#`, `#:` nor `:` (nor empty).
            let bad_prefix = if matches!(symbol, "#" | "#:" | ":" | "") {
                None
            } else {
                Some(symbol.trim_start_matches('#').chars().next().unwrap_or('#'))
            };
            if inline {
                if bad_prefix.is_some() || comment.starts_with([' ', '\t', '\u{a0}']) {
                    report.add(t.start.0, "E262");
                }
            } else if let Some(prefix) = bad_prefix {
                if prefix != '!' || t.start.0 > 1 {
                    if prefix != '#' {
                        report.add(t.start.0, "E265");
                    } else if !comment.is_empty() {
                        report.add(t.start.0, "E266");
                    }
                }
            }
        } else if t.kind != Kind::Nl {
            prev_end = t.end;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pep8::tests::{codes, ok, one};

    #[test]
    fn brackets_and_punctuation() {
        ok("spam(ham[1], {eggs: 2})");
        one("E201", "spam( ham[1], {eggs: 2})");
        one("E202", "spam(ham[1], {eggs: 2} )");
        one("E203", "x, y = y , x");
        one("E204", "@ decorator\ndef f():\n    pass");
        ok("spam(1)");
        one("E211", "spam (1)");
        one("E211", "dict ['key'] = 1");
        ok("class A (B):\n    pass");
        ok("def f():\n    return (a.foo for a in range(5))");
    }

    #[test]
    fn operators() {
        ok("a = 12 + 3");
        one("E221", "a = 4  + 5");
        one("E222", "a = 4 +  5");
        one("E223", "a = 4\t+ 5");
        one("E224", "a = 4 +\t5");
        one("E225", "i=i+1");
        one("E225", "submitted +=1");
        one("E225", "z = x **y");
        one("E225", "z = 1and 1");
        ok("c = (a+b) * (a-b)"); // E226 is ignored by default
        one("E227", "c = a|b");
        one("E228", "msg = fmt%(errno, errmsg)");
        ok("foo(bar, key='word', *args, **kwargs)");
        ok("alpha[:-i]");
        ok("def f(a, /, b):\n    pass");
        ok("print(-1, x if -1 else +1)");
    }

    #[test]
    fn commas_and_parameters() {
        one("E231", "['a','b']");
        one("E231", "foo(bar,baz)");
        one("E231", "[{'a':'b'}]");
        ok("(3,)");
        ok("a[1:4]");
        ok("def complex(real, imag=0.0):\n    pass");
        assert_eq!(codes("magic(r = real)\n"), vec!["E251", "E251"]);
        let missing = "def complex(real, image: float=0.0):\n    pass\n";
        assert_eq!(codes(missing), vec!["E252", "E252"]); // before and after the `=`
        ok("def foo(arg: int = 42):\n    pass");
    }

    #[test]
    fn comments() {
        ok("x = x + 1  # Increment x");
        ok("#  - Block comment list");
        ok("#!/usr/bin/env python3");
        one("E261", "x = x + 1 # Increment x");
        one("E262", "x = x + 1  #Increment x");
        one("E262", "x = x + 1  #  Increment x");
        one("E265", "#Block comment");
        one("E266", "### Block comment");
        ok("#: special");
    }

    #[test]
    fn keywords() {
        ok("True and False");
        one("E271", "True and  False");
        one("E272", "True  and False");
        one("E273", "True and\tFalse");
        one("E274", "True\tand False");
        one("E275", "from foo import(bar, baz)");
        one("E275", "if(foo):\n    bar");
        ok("from foo import (bar, baz)");
    }
}
