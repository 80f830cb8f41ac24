//! Email addresses, like scrubadub's `EmailDetector`: RFC-ish local part, a dotted domain with an alphabetic
//! top-level domain, and the spelled-out obfuscation `name at example dot com` that scrubadub also catches.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let local = r"[a-z0-9!#$%&'*+/=?^_`{|}~-](?:[.a-z0-9!#$%&'*+/=?^_`{|}~-]{0,62}[a-z0-9!#$%&'*+/=?^_`{|}~-])?";
    let label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
    let pattern =
        format!(r"(?i)\b{local}(?:@|\s+at\s+){label}(?:(?:\.|\s+dot\s+){label})*(?:\.|\s+dot\s+)[a-z]{{2,63}}\b");
    Regex::new(&pattern).expect("email pattern is valid")
});

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    if !text.contains('@') && !text.contains(" at ") {
        return;
    }
    out.extend(EMAIL.find_iter(text).map(|m| Detection::new(PiiKind::Email, m.range())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        assert_eq!(
            found_texts("write to jane.doe+news@mail.example.co.uk today", detect),
            vec!["jane.doe+news@mail.example.co.uk"]
        );
        assert_eq!(found_texts("Bob_99@Example.ORG", detect), vec!["Bob_99@Example.ORG"]);
        assert_eq!(
            found_texts("reach me: john at gmail dot com", detect),
            vec!["john at gmail dot com"]
        );
    }

    #[test]
    fn near_misses() {
        for text in [
            "@home",
            "user@localhost",
            "a@b.c",
            "meet at noon",
            "price: 5 @ 3.50",
            "x@.com",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
