//! spaCy's rule-based English tokenizer (`spacy.tokenizer.Tokenizer`), with the rules of en_core_web_sm 3.8.0
//! exported to `tokenizer.json` by `scripts/score/export_spacy_ner.py`:
//!
//! 1. The text is cut at whitespace changes; a single `' '` after a word is that word's trailing space, any other
//!    whitespace run is a token of its own.
//! 2. A chunk that is a special case (`don't` → `do` `n't`, `e.g.`) becomes its pieces. Otherwise prefixes and
//!    suffixes are stripped one at a time (a rest that is a special case stops the stripping), and what remains
//!    is a special case, a URL, or is split at infixes (hyphens between letters, `...`, …).
//! 3. Token runs that spell a special case the affix rules had split (`''` → `'` `'`) are replaced by its pieces,
//!    as spaCy's special-case matcher does after this pass. Here it runs within each chunk: in the English rules
//!    only whitespace special cases contain whitespace, and those are single tokens anyway.
//!
//! One departure, for bounded time: chunks longer than [`MAX_CHUNK_BYTES`] (base64 runs, not words) stay one token
//! instead of going through the backtracking patterns. As spaCy's tokenizer does, each thread caches the tokens of
//! the chunks it has seen.

use std::cell::RefCell;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use fancy_regex::Regex;
use serde::Deserialize;

use super::lexeme::StringIds;
use super::HashMap;
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
    suffix_reach: usize,
    infix: String,
    url_match: String,
    specials: HashMap<String, Vec<Piece>>,
    symbols: HashMap<String, u64>,
}

/// Longest whitespace-delimited chunk split by the affix and infix patterns; longer ones are one token.
pub const MAX_CHUNK_BYTES: usize = 2000;

/// Chunks a thread's cache holds in each of its two generations: when the newer is full it becomes the older
/// and the older is dropped, so chunks in use stay (they are moved up when found in the older).
const CACHE_CHUNKS: usize = 50_000;

/// Tells tokenizers apart in the per-thread caches.
static NEXT_TOKENIZER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's cache: the tokenizer it belongs to and each chunk's tokens (ranges relative to the chunk), in
    /// a newer and an older generation.
    static CACHE: RefCell<ChunkCache> = RefCell::new(ChunkCache { owner: u64::MAX, ..ChunkCache::default() });
}

#[derive(Default)]
struct ChunkCache {
    owner: u64,
    newer: HashMap<String, Vec<Token>>,
    older: HashMap<String, Vec<Token>>,
}

/// A special case's pieces: byte length and norm id of each.
type Special = Vec<(usize, Option<u64>)>;

/// The tokenizer with its compiled patterns.
#[derive(Debug)]
pub struct Tokenizer {
    prefix: Regex,
    suffix: Regex,
    /// The most characters a suffix match spans, but for a run of dots (the exporter checks this).
    suffix_reach: usize,
    infix: Regex,
    url: Regex,
    specials: HashMap<String, Special>,
    /// Special cases the affix rules split, as spaCy's tokenizer matches them afterwards: the first token of each
    /// one's affix tokenization → the whole token sequences starting with it.
    matcher: HashMap<String, Vec<Vec<String>>>,
    ids: StringIds,
    /// This tokenizer's key in the per-thread caches.
    cache_id: u64,
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
        let rules: Rules = crate::export::read_json(path, format_err)?;
        let compile = |key: &str, pattern: &str| {
            Regex::new(pattern).map_err(|e| format_err(format!("pattern `{key}` does not compile: {e}")))
        };
        let ids = StringIds::new(rules.symbols);
        let mut specials = HashMap::with_capacity_and_hasher(rules.specials.len(), Default::default());
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
        let mut tokenizer = Self {
            prefix: compile("prefix", &rules.prefix)?,
            suffix: compile("suffix", &rules.suffix)?,
            suffix_reach: rules.suffix_reach,
            infix: compile("infix", &rules.infix)?,
            url: compile("url_match", &rules.url_match)?,
            specials,
            matcher: HashMap::default(),
            ids,
            cache_id: NEXT_TOKENIZER.fetch_add(1, Ordering::Relaxed),
        };
        tokenizer.matcher = tokenizer.special_matcher();
        Ok(tokenizer)
    }

    /// The special cases spaCy adds to its matcher (`add_special_case`: those with a prefix, suffix or infix, or
    /// a space), each as its tokenization without special cases.
    fn special_matcher(&self) -> HashMap<String, Vec<Vec<String>>> {
        let mut matcher: HashMap<String, Vec<Vec<String>>> = HashMap::default();
        for special in self.specials.keys() {
            let affixed = Self::affix_len(&self.prefix, special) != 0
                || self.suffix_len(special) != 0
                || matches!(self.infix.find(special), Ok(Some(_)))
                || special.contains(' ');
            if !affixed {
                continue;
            }
            let mut pieces = Vec::new();
            self.split_on_space(
                special,
                |range, tokens| self.split_chunk(special, range, tokens, false),
                &mut pieces,
            );
            let pattern: Vec<String> = pieces.iter().map(|t| special[t.range.clone()].to_string()).collect();
            if let Some(first) = pattern.first() {
                matcher.entry(first.clone()).or_default().push(pattern);
            }
        }
        matcher
    }

    /// The string ids (spaCy symbols and hashes) the exported rules came with.
    pub fn string_ids(&self) -> &StringIds {
        &self.ids
    }

    /// The tokens of `text`, in order.
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        self.split_on_space(
            text,
            |range, tokens| self.cached_chunk(text, range, tokens),
            &mut tokens,
        );
        tokens
    }

    /// Step 1: hands each whitespace-delimited chunk (and each whitespace run but a single space after a word) to
    /// `chunk`.
    fn split_on_space(
        &self,
        text: &str,
        mut chunk: impl FnMut(Range<usize>, &mut Vec<Token>),
        tokens: &mut Vec<Token>,
    ) {
        let Some(first) = text.chars().next() else {
            return;
        };
        let mut in_space = is_space(first);
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if is_space(c) != in_space {
                if start < i {
                    chunk(start..i, tokens);
                }
                start = if c == ' ' { i + 1 } else { i };
                in_space = !in_space;
            }
        }
        if start < text.len() {
            chunk(start..text.len(), tokens);
        }
    }

    /// [`Self::chunk`] through this thread's cache.
    fn cached_chunk(&self, text: &str, range: Range<usize>, tokens: &mut Vec<Token>) {
        let word = &text[range.clone()];
        if word.len() > MAX_CHUNK_BYTES {
            tokens.push(Token { range, norm: None });
            return;
        }
        let shift = |t: &Token, by: isize| Token {
            range: t.range.start.wrapping_add_signed(by)..t.range.end.wrapping_add_signed(by),
            norm: t.norm,
        };
        CACHE.with(|cache| {
            let cache = &mut *cache.borrow_mut();
            if cache.owner != self.cache_id {
                *cache = ChunkCache {
                    owner: self.cache_id,
                    ..ChunkCache::default()
                };
            }
            if cache.newer.len() >= CACHE_CHUNKS {
                cache.older = std::mem::take(&mut cache.newer);
            }
            if let Some(cached) = cache.newer.get(word) {
                tokens.extend(cached.iter().map(|t| shift(t, range.start as isize)));
                return;
            }
            if let Some((key, cached)) = cache.older.remove_entry(word) {
                tokens.extend(cached.iter().map(|t| shift(t, range.start as isize)));
                cache.newer.insert(key, cached);
                return;
            }
            let first = tokens.len();
            self.chunk(text, range.clone(), tokens);
            let relative = tokens[first..]
                .iter()
                .map(|t| shift(t, -(range.start as isize)))
                .collect();
            cache.newer.insert(word.to_string(), relative);
        });
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

    /// Byte length of the match of `re` in `s` (0 without one), as spaCy's `find_prefix`.
    fn affix_len(re: &Regex, s: &str) -> usize {
        match re.find(s) {
            Ok(Some(m)) => m.end() - m.start(),
            _ => 0,
        }
    }

    /// spaCy's `find_suffix`. A match spans at most `suffix_reach` characters or is a run of dots, so the leftmost
    /// one starts no earlier than that: the search starts there (its lookbehinds still see the text before).
    fn suffix_len(&self, s: &str) -> usize {
        let mut from = s
            .char_indices()
            .rev()
            .nth(self.suffix_reach.max(1) - 1)
            .map_or(0, |(i, _)| i);
        let dots = s.len() - s.trim_end_matches('.').len();
        if dots >= 2 {
            from = from.min(s.len() - dots);
        }
        match self.suffix.find_from_pos(s, from) {
            Ok(Some(m)) => m.end() - m.start(),
            _ => 0,
        }
    }

    /// One whitespace-delimited chunk: spaCy's `_tokenize` (`_split_affixes` then `_attach_tokens`).
    fn chunk(&self, text: &str, range: Range<usize>, tokens: &mut Vec<Token>) {
        let first = tokens.len();
        self.split_chunk(text, range, tokens, true);
        self.apply_special_matches(text, tokens, first);
    }

    /// spaCy's `_split_affixes` and `_attach_tokens` on one chunk; `with_specials: false` ignores special cases
    /// (how spaCy tokenizes a special case's own text for its matcher).
    fn split_chunk(&self, text: &str, range: Range<usize>, tokens: &mut Vec<Token>, with_specials: bool) {
        let is_special = |s: &str| with_specials && self.is_special(s);
        if with_specials && self.special(text, &range, tokens) {
            return;
        }
        let (mut lo, mut hi) = (range.start, range.end);
        let mut prefixes: Vec<Range<usize>> = Vec::new();
        let mut suffixes: Vec<Range<usize>> = Vec::new();
        let mut last_len = 0;
        while lo < hi && hi - lo != last_len {
            if is_special(&text[lo..hi]) {
                break;
            }
            last_len = hi - lo;
            let pre = Self::affix_len(&self.prefix, &text[lo..hi]);
            if pre != 0 && lo + pre < hi && is_special(&text[lo + pre..hi]) {
                prefixes.push(lo..lo + pre);
                lo += pre;
                break;
            }
            let suf = self.suffix_len(&text[lo + pre..hi]);
            if suf != 0 && lo < hi - suf && is_special(&text[lo..hi - suf]) {
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
            if with_specials && self.special(text, &rest, tokens) {
            } else if text[rest.clone()].contains('.')
                && matches!(self.url.find(&text[rest.clone()]), Ok(Some(m)) if m.start() == 0)
            {
                // (Every host the URL pattern accepts, a domain or an IPv4 address, has a `.`.)
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

    /// spaCy's `_apply_special_cases` within one chunk (from token `first` on): token sequences spelling a special
    /// case that the affix rules split (`''` → `'` `'`, `:*` → `:` `*`) become its pieces again. Matches are taken
    /// longest first, then leftmost, skipping any whose first or last token an earlier one covered, as spaCy's
    /// `_filter_special_spans` does.
    fn apply_special_matches(&self, text: &str, tokens: &mut Vec<Token>, first: usize) {
        let chunk = &tokens[first..];
        let mut matches: Vec<Range<usize>> = Vec::new();
        for (i, t) in chunk.iter().enumerate() {
            let Some(candidates) = self.matcher.get(&text[t.range.clone()]) else {
                continue;
            };
            for pattern in candidates {
                let end = i + pattern.len();
                if end <= chunk.len()
                    && chunk[i..end]
                        .iter()
                        .zip(pattern)
                        .all(|(t, orth)| &text[t.range.clone()] == orth)
                {
                    matches.push(i..end);
                }
            }
        }
        if matches.is_empty() {
            return;
        }
        matches.sort_by_key(|m| (std::cmp::Reverse(m.len()), m.start));
        let mut seen = vec![false; chunk.len()];
        let mut taken = Vec::new();
        for m in matches {
            if !seen[m.start] && !seen[m.end - 1] {
                taken.push(m.clone());
            }
            seen[m].fill(true);
        }
        taken.sort_by_key(|m| m.start);
        let old: Vec<Token> = tokens.drain(first..).collect();
        let mut next = 0;
        for m in taken {
            tokens.extend_from_slice(&old[next..m.start]);
            let span = old[m.start].range.start..old[m.end - 1].range.end;
            if !self.special(text, &span, tokens) {
                tokens.extend_from_slice(&old[m.clone()]);
            }
            next = m.end;
        }
        tokens.extend_from_slice(&old[next..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tokenizer from small hand-written rules of the exported form.
    fn tokenizer() -> (tempfile::TempDir, Tokenizer) {
        let rules = serde_json::json!({
            "prefix": r"^(?:\(|'|\.\.+)",
            "suffix": r"\)$|'$|(?<=[a-z])\.$|\.\.+$",
            "suffix_reach": 1,
            "infix": r"(?<=[a-z])-(?=[a-z])",
            "url_match": r"^https?://\S+$",
            "specials": {
                "e.g.": [{"orth": "e.g."}],
                "''": [{"orth": "''", "norm": "\""}],
                "don't": [{"orth": "do"}, {"orth": "n't", "norm": "not"}],
            },
            "symbols": {"X": 7},
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, rules.to_string()).unwrap();
        let tokenizer = Tokenizer::load(&path).unwrap();
        (dir, tokenizer)
    }

    fn words(t: &Tokenizer, text: &str) -> Vec<String> {
        t.tokenize(text)
            .iter()
            .map(|t| text[t.range.clone()].to_string())
            .collect()
    }

    #[test]
    fn affixes_infixes_and_special_cases_split_as_spacy_does() {
        let (_dir, t) = tokenizer();
        assert_eq!(words(&t, "(e.g. well-known)"), ["(", "e.g.", "well", "-", "known", ")"]);
        assert_eq!(words(&t, "I don't."), ["I", "do", "n't", "."]);
        assert_eq!(words(&t, "see http://x.org/a-b)"), ["see", "http://x.org/a-b", ")"]);
        assert_eq!(words(&t, "wait....."), ["wait", "....."]);
    }

    #[test]
    fn whitespace_runs_but_a_single_space_are_tokens() {
        let (_dir, t) = tokenizer();
        assert_eq!(words(&t, "a  b\n\nc "), ["a", " ", "b", "\n\n", "c"]);
        assert_eq!(words(&t, " a"), [" ", "a"]);
        assert!(words(&t, "").is_empty());
    }

    #[test]
    fn special_cases_split_by_affixes_are_put_back() {
        let (_dir, t) = tokenizer();
        // `say''` loses `'` twice as suffixes; spaCy's matcher joins the two back into the special `''`, whose
        // norm is `"`.
        let tokens = t.tokenize("say''");
        let texts: Vec<&str> = tokens.iter().map(|t| &"say''"[t.range.clone()]).collect();
        assert_eq!(texts, ["say", "''"]);
        assert_eq!(tokens[1].norm, Some(t.string_ids().id("\"")));
        assert_eq!(tokens[0].norm, None);
    }

    #[test]
    fn long_chunks_stay_one_token() {
        let (_dir, t) = tokenizer();
        let long = format!("({})", "a-b".repeat(MAX_CHUNK_BYTES));
        assert_eq!(t.tokenize(&long).len(), 1);
    }

    #[test]
    fn bad_rules_are_errors_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        let mut rules = serde_json::json!({
            "prefix": "(", "suffix": "$", "suffix_reach": 1, "infix": "-", "url_match": "^x$",
            "specials": {}, "symbols": {},
        });
        std::fs::write(&path, rules.to_string()).unwrap();
        let err = Tokenizer::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("pattern `prefix`") && err.contains("setup-ner.sh --force"),
            "{err}"
        );
        rules["prefix"] = "^x".into();
        rules["specials"] = serde_json::json!({"don't": [{"orth": "do"}]});
        std::fs::write(&path, rules.to_string()).unwrap();
        let err = Tokenizer::load(&path).unwrap_err().to_string();
        assert!(err.contains("special case `don't`"), "{err}");
    }
}
