//! URLs, as scrubadub's `UrlDetector` finds them: `http://`, `https://` or a leading `www.`, a host of at least
//! two characters ending in a dot and a 2–6 letter top-level domain, then an optional path of URL characters
//! (no `,`, `;`, `!`, `(`, `)` or quotes). A host without a top-level domain (`http://localhost`, or the
//! `http://www.` left when a sentence break cuts a URL) is not counted, and neither is `ftp://`, which
//! scrubadub does not know either.
//!
//! Deviations: case is ignored (scrubadub misses `HTTP://EXAMPLE.COM`), and a trailing `.`, `:` or `?` is
//! sentence punctuation, not part of the URL (only the span changes, not the count).

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:https?://(?:www\.)?|www\.)[-\w@:%.+~#=]{2,}\.[a-z]{2,6}/?[-\w@:%+.~#?&/=]*")
        .expect("valid pattern")
});

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for m in URL.find_iter(text) {
        let url = m.as_str().trim_end_matches(['.', ':', '?']);
        out.push(Detection::new(PiiKind::Url, m.start()..m.start() + url.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        assert_eq!(
            found_texts("See https://example.com/a?b=c#d.", detect),
            vec!["https://example.com/a?b=c#d"]
        );
        assert_eq!(found_texts("(www.example.org)", detect), vec!["www.example.org"]);
        assert_eq!(
            found_texts("HTTP://FILES.EXAMPLE.NET/x.zip, ok", detect),
            vec!["HTTP://FILES.EXAMPLE.NET/x.zip"]
        );
        assert_eq!(
            found_texts("http://user:pw@host.example.com:8080/x", detect),
            vec!["http://user:pw@host.example.com:8080/x"]
        );
    }

    #[test]
    fn near_misses() {
        for text in [
            "http://",
            "the www. prefix",
            "httpx://example.com",
            "mailto",
            "wwww",
            // Sentence breaks cut `http://www.example.com/` after `www.`: no host is left.
            "Chris Garrigues                 http://www.",
            "http://localhost:8080/",
            "http://Golux",
            "ftp://files.example.com/x.zip",
        ] {
            assert!(
                found_texts(text, detect).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect)
            );
        }
    }
}
