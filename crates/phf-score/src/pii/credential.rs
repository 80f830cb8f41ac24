//! Credentials, like scrubadub's `CredentialDetector`: a username followed closely by a password
//! (`username: bob password: hunter2`), the pair counted as one item. A lone `password:` is not enough —
//! scrubadub requires both halves too, which keeps "reset your password: click here" prose out.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:user(?:\s?name|\s?id)?|login|u/n)\s*[:=]\s*\S+?[,;]?\s+",
        r"(?:and\s+)?(?:password|passwd|pass|pwd|pw|p/w)\s*[:=]\s*\S+"
    ))
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
            found_texts("Username=admin\nPassword=s3cr3t!", detect),
            vec!["Username=admin\nPassword=s3cr3t!"]
        );
        assert_eq!(found_texts("user: x, pw: y", detect), vec!["user: x, pw: y"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "password: hunter2",
            "username: bob",
            "the user forgot the password",
            "user name and password",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
