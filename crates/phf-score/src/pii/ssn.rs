//! US Social Security numbers, like scrubadub's `SocialSecurityNumberDetector`: `AAA-GG-SSSS`, the groups
//! separated by a dash, a dot or a space (scrubadub requires the separators too, so a bare nine-digit number,
//! usually an id, is not an SSN). Like scrubadub (through python-stdnum), numbers the SSA never issues (area
//! 000, 666 or 9xx, group 00, serial 0000) and the three published specimen numbers are rejected.
//!
//! Deviation, for precision: the number must stand alone (scrubadub also finds `234-56-7890` inside
//! `1234-56-78901`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{3})[-. ](\d{2})[-. ](\d{4})\b").expect("valid pattern"));

/// Numbers printed in advertisements and on sample cards (Woolworth's wallet insert, an SSA pamphlet, a
/// LifeLock campaign), never a person's: python-stdnum's blacklist.
const SPECIMENS: [(&str, &str, &str); 3] = [("078", "05", "1120"), ("219", "09", "9999"), ("457", "55", "5462")];

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for caps in SSN.captures_iter(text) {
        let (Some(all), Some(area), Some(group), Some(serial)) = (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
        else {
            continue;
        };
        let (area, group, serial) = (area.as_str(), group.as_str(), serial.as_str());
        let issuable = area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000";
        let specimen = SPECIMENS.contains(&(area, group, serial));
        // A digit or dash right around the match means it is part of a longer number (a phone, a card).
        let before = text[..all.start()].chars().next_back();
        let after = text[all.end()..].chars().next();
        let standalone = !before.is_some_and(|c| c == '-' || c == '.') && after != Some('-');
        if issuable && !specimen && standalone {
            out.push(Detection::new(PiiKind::Ssn, all.range()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        assert_eq!(found_texts("SSN: 123-45-6789.", detect), vec!["123-45-6789"]);
        assert_eq!(found_texts("ssn 123 45 6789", detect), vec!["123 45 6789"]);
        assert_eq!(found_texts("id 123.45 6789", detect), vec!["123.45 6789"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
            "1-123-45-6789",
            "078-05-1120",
            "no 123456789 here",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
