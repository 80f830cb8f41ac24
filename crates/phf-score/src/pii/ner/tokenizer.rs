//! spaCy's rule-based English tokenizer (`spacy.tokenizer.Tokenizer`), with the rules of en_core_web_sm 3.8.0
//! exported to `tokenizer.json` by `scripts/score/export_spacy_ner.py`:
//!
//! 1. The text is cut at whitespace changes; a single `' '` after a word is that word's trailing space, any other
//!    whitespace run is a token of its own.
//! 2. A chunk that is a special case (`don't` → `do` `n't`, `e.g.`) becomes its pieces. Otherwise prefixes and
//!    suffixes are stripped one at a time (a rest that is a special case stops the stripping), and what remains
//!    is a special case, a URL, or is split at infixes (hyphens between letters, `...`, …).
//!
//! Special cases spanning several whitespace-separated chunks, which spaCy re-applies with a phrase matcher after
//! this pass, are not re-applied here; only whitespace ones exist in the English rules and they are single chunks.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use fancy_regex::Regex;
use serde::Deserialize;

use super::lexeme::StringIds;
use crate::error::{Result, ScoreError};

/// One token: its byte range in the text and, for a piece of a special case that sets one, the id of its norm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub range: Range<usize>,
    pub norm: Option<u64>,
}

#[derive(Deserialize)]
struct Piece {
    orth: String,
    norm: Option<String>,
}

#[derive(Deserialize)]
struct Rules {
    prefix: String,
    suffix: String,
    infix: String,
    url_match: String,
    specials: HashMap<String, Vec<Piece>>,
    symbols: HashMap<String, u64>,
}

/// A special case's pieces: byte length and norm id of each.
type Special = Vec<(usize, Option<u64>)>;

/// The tokenizer with its compiled patterns.
#[derive(Debug)]
pub struct Tokenizer {
    prefix: Regex,
    suffix: Regex,
    infix: Regex,
    url: Regex,
    specials: HashMap<String, Special>,
    ids: StringIds,
}

/// Python's `str.isspace`: Unicode whitespace plus the information separators U+001C..U+001F.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

impl Tokenizer {
    /// Loads `tokenizer.json`; a pattern Rust cannot compile or a special case whose pieces do not spell it is a
    /// format error naming the key.
    pub fn load(path: &Path) -> Result<Self> {
        let format_err = |reason: String| ScoreError::NerFormat {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|source| ScoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let rules: Rules = serde_json::from_slice(&bytes).map_err(|e| format_err(e.to_string()))?;
        let compile = |key: &str, pattern: &str| {
            Regex::new(pattern).map_err(|e| format_err(format!("pattern `{key}` does not compile: {e}")))
        };
        let ids = StringIds::new(rules.symbols);
        let mut specials = HashMap::with_capacity(rules.specials.len());
        for (chunk, pieces) in rules.specials {
            let spelled: String = pieces.iter().map(|p| p.orth.as_str()).collect();
            if spelled != chunk {
                return Err(format_err(format!(
                    "special case `{chunk}`: its pieces spell `{spelled}`"
                )));
            }
            let pieces = pieces
                .iter()
                .map(|p| (p.orth.len(), p.norm.as_deref().map(|n| ids.id(n))))
                .collect();
            specials.insert(chunk, pieces);
        }
        Ok(Self {
            prefix: compile("prefix", &rules.prefix)?,
            suffix: compile("suffix", &rules.suffix)?,
            infix: compile("infix", &rules.infix)?,
            url: compile("url_match", &rules.url_match)?,
            specials,
            ids,
        })
    }

    /// The string ids (spaCy symbols and hashes) the exported rules came with.
    pub fn string_ids(&self) -> &StringIds {
        &self.ids
    }

    /// The tokens of `text`, in order.
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        let Some(first) = text.chars().next() else {
            return tokens;
        };
        let mut in_space = is_space(first);
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if is_space(c) != in_space {
                if start < i {
                    self.chunk(text, start..i, &mut tokens);
                }
                start = if c == ' ' { i + 1 } else { i };
                in_space = !in_space;
            }
        }
        if start < text.len() {
            self.chunk(text, start..text.len(), &mut tokens);
        }
        tokens
    }

    /// Pushes the pieces of special case `range` if it is one.
    fn special(&self, text: &str, range: &Range<usize>, tokens: &mut Vec<Token>) -> bool {
        let Some(pieces) = self.specials.get(&text[range.clone()]) else {
            return false;
        };
        let mut at = range.start;
        for &(len, norm) in pieces {
            tokens.push(Token {
                range: at..at + len,
                norm,
            });
            at += len;
        }
        true
    }

    fn is_special(&self, s: &str) -> bool {
        self.specials.contains_key(s)
    }

    /// Byte length of the match of `re` in `s` (0 without one), as spaCy's `find_prefix`/`find_suffix`.
    fn affix_len(re: &Regex, s: &str) -> usize {
        match re.find(s) {
            Ok(Some(m)) => m.end() - m.start(),
            _ => 0,
        }
    }

    /// One whitespace-delimited chunk: spaCy's `_tokenize` (`_split_affixes` then `_attach_tokens`).
    fn chunk(&self, text: &str, range: Range<usize>, tokens: &mut Vec<Token>) {
        if self.special(text, &range, tokens) {
            return;
        }
        let (mut lo, mut hi) = (range.start, range.end);
        let mut prefixes: Vec<Range<usize>> = Vec::new();
        let mut suffixes: Vec<Range<usize>> = Vec::new();
        let mut last_len = 0;
        while lo < hi && hi - lo != last_len {
            if self.is_special(&text[lo..hi]) {
                break;
            }
            last_len = hi - lo;
            let pre = Self::affix_len(&self.prefix, &text[lo..hi]);
            if pre != 0 && lo + pre < hi && self.is_special(&text[lo + pre..hi]) {
                prefixes.push(lo..lo + pre);
                lo += pre;
                break;
            }
            let suf = Self::affix_len(&self.suffix, &text[lo + pre..hi]);
            if suf != 0 && lo < hi - suf && self.is_special(&text[lo..hi - suf]) {
                suffixes.push(hi - suf..hi);
                hi -= suf;
                break;
            }
            if pre != 0 && suf != 0 && pre + suf <= hi - lo {
                prefixes.push(lo..lo + pre);
                suffixes.push(hi - suf..hi);
                lo += pre;
                hi -= suf;
            } else if pre != 0 {
                prefixes.push(lo..lo + pre);
                lo += pre;
            } else if suf != 0 {
                suffixes.push(hi - suf..hi);
                hi -= suf;
            }
        }
        let plain = |r: Range<usize>| Token { range: r, norm: None };
        tokens.extend(prefixes.into_iter().map(plain));
        if lo < hi {
            let rest = lo..hi;
            if self.special(text, &rest, tokens) {
            } else if matches!(self.url.find(&text[rest.clone()]), Ok(Some(m)) if m.start() == 0) {
                tokens.push(plain(rest));
            } else {
                let mut start = 0;
                for m in self.infix.find_iter(&text[rest.clone()]).flatten() {
                    if m.start() == 0 {
                        continue;
                    }
                    if m.start() != start {
                        tokens.push(plain(lo + start..lo + m.start()));
                    }
                    if m.start() != m.end() {
                        tokens.push(plain(lo + m.start()..lo + m.end()));
                    }
                    start = m.end();
                }
                if lo + start < hi {
                    tokens.push(plain(lo + start..hi));
                }
            }
        }
        tokens.extend(suffixes.into_iter().rev().map(plain));
    }
}
