//! Credit-card numbers, like scrubadub's `CreditCardDetector` (issuer prefixes and lengths of Visa,
//! Mastercard, Amex, Discover, Diners and JCB), plus the Luhn checksum, which scrubadub's regex lacks and
//! which rejects nearly all random digit runs of the right length.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

/// 13–19 digits, optionally grouped by single spaces or dashes.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("valid pattern"));

/// Whether `digits` has an issuer prefix and a length that issuer uses.
fn has_issuer_shape(digits: &[u8]) -> bool {
    let prefix = |n: usize| digits[..n].iter().fold(0u32, |acc, d| acc * 10 + u32::from(*d));
    let len = digits.len();
    match digits[0] {
        4 => matches!(len, 13 | 16 | 19),                     // Visa
        5 => (51..=55).contains(&prefix(2)) && len == 16,     // Mastercard
        2 => (2221..=2720).contains(&prefix(4)) && len == 16, // Mastercard 2-series
        3 if matches!(prefix(2), 34 | 37) => len == 15,       // Amex
        3 if (300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38) => len == 14, // Diners
        3 => prefix(2) == 35 && (16..=19).contains(&len),     // JCB
        6 => (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3))) && len >= 16, // Discover
        _ => false,
    }
}

/// The Luhn (mod 10) checksum every payment card number satisfies.
fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for m in CANDIDATE.find_iter(text) {
        let digits: Vec<u8> = m
            .as_str()
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        if has_issuer_shape(&digits) && luhn_valid(&digits) {
            out.push(Detection::new(PiiKind::CreditCard, m.range()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        // Test numbers published by card networks for integration testing.
        assert_eq!(
            found_texts("card 4111 1111 1111 1111 exp", detect),
            vec!["4111 1111 1111 1111"]
        );
        assert_eq!(found_texts("5555-5555-5555-4444", detect), vec!["5555-5555-5555-4444"]);
        assert_eq!(found_texts("amex 378282246310005.", detect), vec!["378282246310005"]);
        assert_eq!(found_texts("6011111111111117", detect), vec!["6011111111111117"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "4111 1111 1111 1112",  // Luhn fails
            "1234567812345670",     // Luhn passes, no issuer starts with 1
            "411111111111",         // too short
            "41111111111111111111", // too long
            "4111  1111 1111 1111", // double space breaks the grouping
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
