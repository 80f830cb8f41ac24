//! Credentials, as scrubadub's `CredentialDetector` finds them: `username`, `login` or `u:`, a user name, then
//! `password`, `pw` or `p:` and the password, which runs to the end of the line; the pair is one item. A lone
//! `password:` is not enough, which keeps "reset your password: click here" prose out.
//!
//! Deviations: the user name must not be empty (scrubadub's may be, so "your login password: …" counts there),
//! and `=` may stand where scrubadub allows only `:` (`username=admin`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:username|login|u:)\s*[:=]?\s*[\w\-.@+]+\s+(?:password|pw|p:)\s*[:=]?\s*.*")
        .expect("valid pattern")
});

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    out.extend(
        CREDENTIAL
            .find_iter(text)
            .map(|m| Detection::new(PiiKind::Credential, m.range())),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        assert_eq!(
            found_texts("login: bob99 password: hunter2", detect),
            vec!["login: bob99 password: hunter2"]
        );
        assert_eq!(
            found_texts("Username=admin\nPassword=s3cr3t!\nthanks", detect),
            vec!["Username=admin\nPassword=s3cr3t!"]
        );
        assert_eq!(
            found_texts("username bob pw hunter2 x", detect),
            vec!["username bob pw hunter2 x"]
        );
        assert_eq!(found_texts("u: bob p: pass", detect), vec!["u: bob p: pass"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "password: hunter2",
            "username: bob",
            "the user forgot the password",
            "user name and password",
            "your login password: abc",
            "user: x, pw: y",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
