//! Twitter handles, like scrubadub's `TwitterDetector`: `@` plus 1–15 letters, digits or underscores. The `@`
//! must not follow a word character, which keeps the domain part of an email address out.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static HANDLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"@[A-Za-z0-9_]{1,15}").expect("valid pattern"));

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for m in HANDLE.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let starts_clean = !before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '@' | '.' | '-'));
        // Longer than 15 characters, or the `@` of an email address (`@example.com`), is not a handle.
        let continues_word = after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '@');
        let is_email_domain =
            after == Some('.') && text[m.end() + 1..].chars().next().is_some_and(char::is_alphanumeric);
        let ends_clean = !continues_word && !is_email_domain;
        if starts_clean && ends_clean {
            out.push(Detection::new(PiiKind::Twitter, m.range()));
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
            found_texts("follow @jack_dorsey and @NASA.", detect),
            vec!["@jack_dorsey", "@NASA"]
        );
        assert_eq!(found_texts("(@a1)", detect), vec!["@a1"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "jane@example.com",
            "@example.com",
            "@this_handle_is_far_too_long",
            "@ alone",
            "a@b",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
