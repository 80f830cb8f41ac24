//! Twitter handles, as scrubadub's `TwitterDetector` finds them: `@` not right after a word character, then
//! 2–15 letters, digits or underscores that end at a word boundary and contain neither `admin` nor `twitter`
//! (any case), which scrubadub excludes as service accounts.
//!
//! Deviation: `@example.com` (a domain, e.g. `*@example.com` in a mail filter) is not a handle here;
//! scrubadub counts `@example`.

use super::{Detection, PiiKind};

/// Python's `\w` for the characters around a handle.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for (at, _) in text.match_indices('@') {
        if text[..at].chars().next_back().is_some_and(is_word) {
            continue;
        }
        let rest = &text[at + 1..];
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let handle = &rest[..len];
        let after = rest[len..].chars().next();
        let lower = handle.to_ascii_lowercase();
        let is_email_domain = after == Some('.') && rest[len + 1..].chars().next().is_some_and(char::is_alphanumeric);
        if (2..=15).contains(&len)
            && !after.is_some_and(is_word)
            && !lower.contains("admin")
            && !lower.contains("twitter")
            && !is_email_domain
        {
            out.push(Detection::new(PiiKind::Twitter, at..at + 1 + len));
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
        assert_eq!(found_texts("@bob's post", detect), vec!["@bob"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "jane@example.com",
            "@example.com",
            "@this_handle_is_far_too_long",
            "@ alone",
            "a@b",
            "@a",
            "@sysadmin",
            "@TwitterSupport",
            "@bobé",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
