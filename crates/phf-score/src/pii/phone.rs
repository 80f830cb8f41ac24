//! Phone numbers, like scrubadub's `PhoneDetector`, which runs libphonenumber's matcher for the locale's
//! region (US for `en_US`) and keeps numbers libphonenumber calls *valid*. The Rust port of libphonenumber
//! (the `phonenumber` crate) has no matcher, so a permissive pattern proposes digit runs with the usual
//! separators and the crate parses (default region US) and validates each one.

use std::sync::LazyLock;

use phonenumber::country::Id;
use regex::Regex;

use super::{Detection, PiiKind};

/// An optional `+country` prefix, an optional bracketed area code, then digit groups joined by at most one
/// separator each.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,5}").expect("valid pattern")
});

/// Plausible digit counts of a phone number (E.164 allows at most 15).
const DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for m in CANDIDATE.find_iter(text) {
        let candidate = m.as_str().trim_end_matches([' ', '.', '-']);
        let before = text[..m.start()].chars().next_back();
        let after = text[m.start() + candidate.len()..].chars().next();
        // Part of a longer token (`v1.2.3456789`, `id=5551234567x`) is not a phone number.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') || after.is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        if !DIGITS.contains(&candidate.bytes().filter(u8::is_ascii_digit).count()) {
            continue;
        }
        // A number with its country code is parsed without a default region: given US, the crate (0.3.10)
        // strips a leading `1` as the US trunk prefix even after `+353` or `+44`, turning Dublin's
        // `+353 1 806 4276` into an invalid number. `+44 (0)20 …`: the bracketed trunk prefix is dialled only
        // at home; libphonenumber's matcher drops it, the crate's parser does not, so it goes before parsing.
        let parsed = if candidate.starts_with('+') {
            phonenumber::parse(None, candidate.replacen("(0)", "", 1))
        } else {
            phonenumber::parse(Some(Id::US), candidate)
        };
        let valid = parsed.is_ok_and(|n| phonenumber::is_valid(&n));
        if valid {
            out.push(Detection::new(PiiKind::Phone, m.start()..m.start() + candidate.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        assert_eq!(found_texts("call (415) 555-2671 now", detect), vec!["(415) 555-2671"]);
        assert_eq!(found_texts("tel 415.555.2671.", detect), vec!["415.555.2671"]);
        assert_eq!(
            found_texts("+44 20 7946 0958 (London)", detect),
            vec!["+44 20 7946 0958"]
        );
        assert_eq!(found_texts("+1-202-456-1111", detect), vec!["+1-202-456-1111"]);
        assert_eq!(
            found_texts("Ph +353 1 8064276 Fax +353 1 8064247\n", detect),
            vec!["+353 1 8064276", "+353 1 8064247"]
        );
        assert_eq!(
            found_texts("Tel: +44 1865 275380  or  +33 609 843217", detect),
            vec!["+44 1865 275380", "+33 609 843217"]
        );
        assert_eq!(
            found_texts("Mobile: +44 (0)77 5907 2173", detect),
            vec!["+44 (0)77 5907 2173"]
        );
    }

    #[test]
    fn near_misses() {
        for text in [
            "123-456-7890",         // area codes never start with 1
            "555-0100",             // too short for a US number without area code
            "on 2021-03-04 we met", // a date
            "4111 1111 1111 1111",  // a card number
            "version 415.555.26719",
            "x4155552671",
        ] {
            assert!(
                found_texts(text, detect).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect)
            );
        }
    }
}
