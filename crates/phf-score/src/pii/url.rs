//! URLs, like scrubadub's `UrlDetector`: a scheme (`http`, `https`, `ftp`) or a leading `www.`, then
//! everything up to whitespace or a delimiter; trailing sentence punctuation is not part of the URL.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'`{}|\\^\[\]]+"#).expect("valid pattern"));

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for m in URL.find_iter(text) {
        let url = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        // A bare scheme or `www.` with nothing after it names no resource.
        let has_host = url
            .split_once("://")
            .map_or(url.len() > 4, |(_, rest)| !rest.is_empty());
        if has_host {
            out.push(Detection::new(PiiKind::Url, m.start()..m.start() + url.len()));
        }
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
            found_texts("FTP://files.example.net/x.zip, ok", detect),
            vec!["FTP://files.example.net/x.zip"]
        );
    }

    #[test]
    fn near_misses() {
        for text in ["http://", "the www. prefix", "httpx://example.com", "mailto", "wwww"] {
            assert!(
                found_texts(text, detect).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect)
            );
        }
    }
}
