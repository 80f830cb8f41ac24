//! US Social Security numbers, like scrubadub's `SocialSecurityNumberDetector`: `AAA-GG-SSSS` with the same
//! separator (dash, dot, space or none) twice. Numbers the SSA never issues (area 000, 666 or 9xx, group 00,
//! serial 0000) are rejected, which removes many look-alike digit runs.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{3})([-. ]?)(\d{2})([-. ]?)(\d{4})\b").expect("valid pattern"));

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for caps in SSN.captures_iter(text) {
        let (Some(all), Some(area), Some(sep1), Some(group), Some(sep2), Some(serial)) = (
            caps.get(0),
            caps.get(1),
            caps.get(2),
            caps.get(3),
            caps.get(4),
            caps.get(5),
        ) else {
            continue;
        };
        let (area, group, serial) = (area.as_str(), group.as_str(), serial.as_str());
        let issuable = area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000";
        // A digit or dash right around the match means it is part of a longer number (a phone, a card).
        let before = text[..all.start()].chars().next_back();
        let after = text[all.end()..].chars().next();
        let standalone = !before.is_some_and(|c| c == '-' || c == '.') && after != Some('-');
        if sep1.as_str() == sep2.as_str() && issuable && standalone {
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
        assert_eq!(found_texts("ssn 078 05 1120", detect), vec!["078 05 1120"]);
        assert_eq!(found_texts("no 123456789 here", detect), vec!["123456789"]);
    }

    #[test]
    fn near_misses() {
        for text in [
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
            "123-45 6789",
            "1-123-45-6789",
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
