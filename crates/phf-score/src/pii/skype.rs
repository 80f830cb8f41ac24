//! Skype names, like scrubadub's `SkypeDetector`: the word "skype" followed within a few words by a token
//! shaped like a Skype name (a letter, then 5–31 letters, digits, `.`, `,`, `_` or `-`; or `live:<id>`).
//!
//! To keep ordinary prose ("Skype is awesome") out, the token must either carry a marker of a user name (a
//! digit or one of `._-`, or the `live:` prefix) or be introduced explicitly (`skype: x`, `skype id x`,
//! `skype name is x`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

/// "skype", optional filler words, then the candidate. Groups: 1 = an `id`/`name` word, 2 = a `:` or `=`,
/// 3 = the name.
static SKYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\bskype\b(\s*(?:id|name|user\s?name|handle|address)\b)?(\s*[:=])?",
        r"(?:\s*(?:me|at|on|is|my|add)\b)*\s*((?:live:)?[a-z][a-z0-9._,-]{5,31})"
    ))
    .expect("valid pattern")
});

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for caps in SKYPE.captures_iter(text) {
        let Some(name) = caps.get(3) else { continue };
        let trimmed = name.as_str().trim_end_matches(['.', ',', '-']);
        let lower = trimmed.to_ascii_lowercase();
        let marked = lower.starts_with("live:") || trimmed.chars().any(|c| c.is_ascii_digit() || "._-".contains(c));
        let introduced = caps.get(1).is_some() || caps.get(2).is_some();
        // The regex needs at least 6 characters; trimming punctuation may have taken it below that.
        if trimmed.len() >= 6 && (marked || introduced) {
            out.push(Detection::new(
                PiiKind::Skype,
                name.start()..name.start() + trimmed.len(),
            ));
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
            found_texts("add me on skype: john.smith85", detect),
            vec!["john.smith85"]
        );
        assert_eq!(found_texts("Skype me at jdoe_work", detect), vec!["jdoe_work"]);
        assert_eq!(
            found_texts("my Skype ID is bigbluewhale.", detect),
            vec!["bigbluewhale"]
        );
        assert_eq!(found_texts("skype live:abcdef12", detect), vec!["live:abcdef12"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "Skype is awesome",
            "I use skype daily",
            "skype: bob",
            "call me on skype tomorrow",
            "skypebot_1234",
        ] {
            assert!(
                found_texts(text, detect).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect)
            );
        }
    }
}
