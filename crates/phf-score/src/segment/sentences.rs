//! A rule-based sentence splitter for prose, modelled on spaCy's `Sentencizer` (v3) running after spaCy's
//! English tokenizer, which is what the reference used to cut documents into sentences.
//!
//! spaCy's rule: once a token made of a sentence-final character (`.`, `!`, `?`, and full stops of other
//! scripts) has been seen, the next token that is *not punctuation* starts a new sentence. Consequences kept
//! here on purpose, because they decide where segment scores fall:
//! - closing quotes and brackets after the full stop stay with the sentence they close (`He left." She…`);
//! - one space after a token is that token's trailing whitespace, so `A. B` splits as `A. ` + `B`, while any
//!   further whitespace (a second space, a newline) is a token of its own and opens the next sentence;
//! - the tokenizer keeps abbreviations (`Mr.`, `e.g.`, `U.S.`, single letters) and ellipses (`...`) whole, and
//!   such tokens are not full stops, so they never end a sentence;
//! - a full stop between a lower-case and an upper-case letter is split off (`end.Next`), as spaCy's infix rule;
//! - spaCy's suffix rule splits a `.` off only after a digit, a lower-case letter or two capitals, so a lone
//!   capital keeps its stop (`MingW.`, `Plan B.`) and does not end a sentence.
//!
//! Deviations: a segment of whitespace only (e.g. the newline after a document's last full stop) is folded
//! into the sentence before it; full stops of scripts written without spaces (`。`, `！`, `？`) also end a
//! sentence inside a whitespace-free run, which spaCy's English tokenizer would not see.
//!
//! Measured agreement (after the deviations): all 372 texts of `tests/fixtures/sentences_spacy.jsonl`, and
//! 7,044 of 7,055 paragraphs of the GPL/LGPL/GFDL/Apache licence texts plus Vim's `version8.txt` (spaCy 3.8).
//!
//! Joining the returned slices gives the input back byte for byte.

/// Sentence-final characters: the ASCII ones plus the common full stops of other scripts from spaCy's
/// `Sentencizer.default_punct_chars`.
fn is_terminal(c: char) -> bool {
    matches!(
        c,
        '!' | '.'
            | '?'
            | '։'
            | '؟'
            | '۔'
            | '।'
            | '॥'
            | '။'
            | '።'
            | '፧'
            | '᙮'
            | '‼'
            | '‽'
            | '⁇'
            | '⁈'
            | '⁉'
            | '꓿'
            | '﹒'
            | '﹖'
            | '﹗'
            | '！'
            | '．'
            | '？'
            | '｡'
            | '。'
    )
}

/// Unicode punctuation (general category P*), which is spaCy's `is_punct`: ASCII symbols such as `$` or `+`
/// are not punctuation. Non-ASCII coverage is the common quotes, dashes, brackets and CJK marks.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~');
    }
    is_terminal(c)
        || matches!(
            c,
            '“' | '”'
                | '‘'
                | '’'
                | '«'
                | '»'
                | '„'
                | '‹'
                | '›'
                | '…'
                | '—'
                | '–'
                | '‐'
                | '¡'
                | '¿'
                | '、'
                | '，'
                | '「'
                | '」'
                | '『'
                | '』'
                | '（'
                | '）'
                | '【'
                | '】'
                | '·'
                | '§'
                | '¶'
        )
}

/// Tokens spaCy's English tokenizer keeps whole with their full stop (from its tokenizer exceptions), written
/// without the stop. Single letters and dotted acronyms are recognised by shape in `is_abbreviation`.
const ABBREVIATIONS: &[&str] = &[
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "vs", "Rev", "Gen", "Gov", "Sen", "Rep", "Adm", "Messrs",
    "Bros", "Inc", "Ltd", "Co", "co", "Corp", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
    "Nov", "Dec", "Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Del", "Fla", "Ga", "Ill", "Ind", "Kan", "Ky", "La",
    "Md", "Mich", "Minn", "Miss", "Mo", "Mont", "Neb", "Nev", "Okla", "Ore", "Pa", "Tenn", "Va", "Wash", "Wis",
];

/// Whether `body` followed by `.` is one spaCy token that is not a full stop.
fn is_abbreviation(body: &str) -> bool {
    let mut chars = body.chars();
    let single_letter = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic());
    // `U.S`, `e.g`, `a.m`, `Ph.D`: dot-separated groups of one or two letters.
    let dotted = body.contains('.')
        && body
            .split('.')
            .all(|part| (1..=2).contains(&part.chars().count()) && part.chars().all(char::is_alphabetic));
    single_letter || dotted || ABBREVIATIONS.contains(&body)
}

/// Whether spaCy's suffix rules leave a following `.` attached to `body`. They split it off after a digit, a
/// lower-case letter or two upper-case letters (`5.`, `end.`, `USA.`), so a lone capital after other
/// characters keeps it (`MingW.` stays one token, which is no full stop).
fn keeps_stop(body: &str) -> bool {
    let mut rev = body.chars().rev();
    match (rev.next(), rev.next()) {
        (Some(last), before) => last.is_uppercase() && !before.is_some_and(char::is_uppercase),
        (None, _) => false,
    }
}

/// Whether a run of punctuation contains a sentence-final token: `!`, `?`, a non-ASCII full stop, or a `.`
/// that is not part of an ellipsis. `stop_is_abbreviation` says a `.` right at the start belongs to an
/// abbreviation token.
fn punct_run_ends_sentence(run: &str, stop_is_abbreviation: bool) -> bool {
    let chars: Vec<char> = run.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| match c {
        '.' => {
            let in_ellipsis = (i > 0 && chars[i - 1] == '.') || chars.get(i + 1) == Some(&'.');
            let abbreviation_stop = i == 0 && stop_is_abbreviation;
            !in_ellipsis && !abbreviation_stop
        }
        c => is_terminal(c),
    })
}

/// Byte offsets inside a whitespace-free word where spaCy's tokenizer (or the no-space-script rule) splits
/// it into separately considered pieces.
fn infix_splits(word: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut splits = Vec::new();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(k + 1).map(|&(_, n)| n);
        if c == '.' && prev.is_some_and(char::is_lowercase) && next.is_some_and(char::is_uppercase) {
            splits.push(i + 1);
        } else if !c.is_ascii() && is_terminal(c) && next.is_some_and(|n| !is_punct(n)) {
            splits.push(i + c.len_utf8());
        }
    }
    splits
}

/// The sentencizer's state while walking the tokens of a document.
struct Sentencizer {
    starts: Vec<usize>,
    seen_terminal: bool,
}

impl Sentencizer {
    /// A non-punctuation token at `at`: it opens a new sentence if a full stop came before.
    fn open_at(&mut self, at: usize) {
        if self.seen_terminal {
            self.starts.push(at);
            self.seen_terminal = false;
        }
    }

    fn piece(&mut self, start: usize, piece: &str) {
        match piece.char_indices().find(|&(_, c)| !is_punct(c)) {
            None => {
                if punct_run_ends_sentence(piece, false) {
                    self.seen_terminal = true;
                }
            }
            Some((body_start, _)) => {
                // Leading quotes/brackets are prefix tokens that stay with the previous sentence.
                self.open_at(start + body_start);
                let body_end = piece
                    .char_indices()
                    .rev()
                    .find(|&(_, c)| !is_punct(c))
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let (body, suffix) = (&piece[body_start..body_end], &piece[body_end..]);
                // spaCy matches special cases after splitting infixes (`CTRL-C.` → `CTRL`, `-`, `C.`), so the
                // abbreviation test applies to the last infix piece.
                let last_piece = body.rsplit(['-', '=', '/', ':', '<', '>']).next().unwrap_or(body);
                if punct_run_ends_sentence(suffix, is_abbreviation(last_piece) || keeps_stop(body)) {
                    self.seen_terminal = true;
                }
            }
        }
    }

    fn word(&mut self, start: usize, word: &str) {
        // spaCy matches its special cases (`Ph.D.`) after stripping prefixes and suffixes, before infixes.
        let core = word.trim_matches(is_punct);
        let splits = if core.contains('.') && is_abbreviation(core) {
            Vec::new()
        } else {
            infix_splits(word)
        };
        let mut from = 0;
        for split in splits.into_iter().chain([word.len()]) {
            if split > from {
                self.piece(start + from, &word[from..split]);
            }
            from = split;
        }
    }
}

/// Splits prose into sentences; see the module docs for the rules. An empty text has no sentences.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut state = Sentencizer {
        starts: vec![0],
        seen_terminal: false,
    };
    let mut chars = text.char_indices().peekable();
    let mut after_word = false;
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek().filter(|(_, c)| c.is_whitespace()) {
                end = i + c.len_utf8();
                chars.next();
            }
            // One plain space after a word is that word's trailing whitespace; the rest is a space token,
            // and a space token is not punctuation.
            let token_start = if after_word && c == ' ' { start + 1 } else { start };
            if token_start < end {
                state.open_at(token_start);
            }
            after_word = false;
        } else {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek().filter(|(_, c)| !c.is_whitespace()) {
                end = i + c.len_utf8();
                chars.next();
            }
            state.word(start, &text[start..end]);
            after_word = true;
        }
    }
    let mut bounds = state.starts;
    bounds.push(text.len());
    let mut sentences: Vec<&str> = Vec::new();
    let mut start = 0;
    for &end in &bounds[1..] {
        let piece = &text[start..end];
        // A whitespace-only piece (text ending in `.\n`) has nothing to score: fold it into the sentence before.
        if piece.is_empty() || (piece.trim().is_empty() && !sentences.is_empty()) {
            if let Some(last) = sentences.last_mut() {
                *last = &text[end - piece.len() - last.len()..end];
            }
        } else {
            sentences.push(piece);
        }
        start = end;
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        let out = split_sentences(text);
        assert_eq!(out.concat(), text);
        out
    }

    #[test]
    fn splits_after_full_stops_keeping_one_space() {
        assert_eq!(
            split("Hello world. How are you? Fine!"),
            vec!["Hello world. ", "How are you? ", "Fine!"]
        );
    }

    #[test]
    fn extra_whitespace_opens_the_next_sentence() {
        assert_eq!(split("One.  Two.\nThree."), vec!["One. ", " Two.", "\nThree."]);
        assert_eq!(split("One.\n\nTwo"), vec!["One.", "\n\nTwo"]);
    }

    #[test]
    fn closing_quotes_and_brackets_stay_with_their_sentence() {
        assert_eq!(
            split("He said \"go.\" Then left."),
            vec!["He said \"go.\" ", "Then left."]
        );
        assert_eq!(split("(See above.) Next"), vec!["(See above.) ", "Next"]);
    }

    #[test]
    fn opening_quote_stays_behind_like_spacy() {
        assert_eq!(
            split("Stop. \"Why?\" he asked."),
            vec!["Stop. \"", "Why?\" ", "he asked."]
        );
    }

    #[test]
    fn abbreviations_and_ellipses_do_not_split() {
        assert_eq!(
            split("Mr. Smith met Dr. Jones in the U.S. on Monday."),
            vec!["Mr. Smith met Dr. Jones in the U.S. on Monday."]
        );
        assert_eq!(
            split("Wait... what? Yes, e.g. this one."),
            vec!["Wait... what? ", "Yes, e.g. this one."]
        );
        assert_eq!(split("John F. Kennedy spoke."), vec!["John F. Kennedy spoke."]);
        assert_eq!(
            split("Prof. Lee, Ph.D., spoke. Next"),
            vec!["Prof. Lee, Ph.D., spoke. ", "Next"]
        );
    }

    #[test]
    fn numbers_and_urls_keep_their_dots() {
        assert_eq!(
            split("Pi is 3.14 and example.com works. In 2020. Yes"),
            vec!["Pi is 3.14 and example.com works. ", "In 2020. ", "Yes"]
        );
    }

    #[test]
    fn lower_dot_upper_is_split_inside_a_word() {
        assert_eq!(split("the end.Next one"), vec!["the end.", "Next one"]);
    }

    #[test]
    fn repeated_and_mixed_terminals() {
        assert_eq!(split("What?! Really!!! ok"), vec!["What?! ", "Really!!! ", "ok"]);
    }

    #[test]
    fn trailing_terminal_makes_no_empty_sentence() {
        assert_eq!(split("Done. "), vec!["Done. "]);
        assert_eq!(split("Done.\n"), vec!["Done.\n"]);
    }

    #[test]
    fn cjk_full_stops_split_without_spaces() {
        assert_eq!(split("今日は晴れ。明日は雨！"), vec!["今日は晴れ。", "明日は雨！"]);
    }

    #[test]
    fn leading_whitespace_and_lone_punctuation() {
        assert_eq!(split("  . . ."), vec!["  . . ."]);
        assert_eq!(split(" A. B"), vec![" A. B"]);
        assert_eq!(split("x . Y"), vec!["x . ", "Y"]);
    }
}
