//! Dates of birth, like scrubadub's `DateOfBirthDetector`: a date only counts when a context word ("born",
//! "birth", "DOB", …) appears on its line, the two lines before it or the line after (scrubadub's defaults,
//! `context_before=2`, `context_after=1`), and when it is a plausible birth date (years 1900–2029, or two
//! digits). Dates are numeric (`03/04/1985`, `1985-04-03`) or written out (`4th March 1985`, `March 4, 1985`).

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

const MONTHS: &str = concat!(
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|",
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
);

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let numeric = r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2})\b";
    let day_month = format!(r"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})\.?,?\s+\d{{4}}\b");
    let month_day = format!(r"\b(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b");
    Regex::new(&format!("(?i){numeric}|{day_month}|{month_day}")).expect("valid pattern")
});

static CONTEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:born|birth|birthday|birthdate|dob|d\.o\.b)\b").expect("valid pattern"));

static YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{4}").expect("valid pattern"));

/// Plausible birth years; a four-digit year outside this range is a historical or future date.
const BIRTH_YEARS: std::ops::RangeInclusive<u32> = 1900..=2029;

/// Whether numeric day and month fields are in range (either order, as US and European formats differ).
fn fields_plausible(date: &str) -> bool {
    let fields: Vec<u32> = date
        .split(['/', '.', '-'])
        .filter_map(|f| f.trim().parse().ok())
        .collect();
    match fields.as_slice() {
        [y, m, d] if *y >= 1000 => (1..=12).contains(m) && (1..=31).contains(d),
        [a, b, _] => (1..=31).contains(a) && (1..=31).contains(b) && (*a <= 12 || *b <= 12),
        _ => true,
    }
}

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    if !CONTEXT.is_match(text) {
        return;
    }
    // Byte offset where each line starts, to find the context window of a date.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) - 1;
    for m in DATE.find_iter(text) {
        let year_ok = YEAR
            .find(m.as_str())
            .is_none_or(|y| y.as_str().parse().is_ok_and(|y| BIRTH_YEARS.contains(&y)));
        if !year_ok || !fields_plausible(m.as_str()) {
            continue;
        }
        let line = line_of(m.start());
        let window_start = line_starts[line.saturating_sub(2)];
        let window_end = line_starts.get(line_of(m.end()) + 2).map_or(text.len(), |&s| s);
        if CONTEXT.is_match(&text[window_start..window_end]) {
            out.push(Detection::new(PiiKind::DateOfBirth, m.range()));
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
            found_texts("I was born on 03/04/1985 in Ohio.", detect),
            vec!["03/04/1985"]
        );
        assert_eq!(found_texts("DOB: 1979-12-31", detect), vec!["1979-12-31"]);
        assert_eq!(
            found_texts("Date of birth\nname: X\nMarch 4, 1985", detect),
            vec!["March 4, 1985"]
        );
        assert_eq!(
            found_texts("her birthday is 4th of July 2001", detect),
            vec!["4th of July 2001"]
        );
    }

    #[test]
    fn near_misses() {
        for text in [
            "The meeting is on 03/04/1985.",              // no context word
            "born\n\n\n\nlater: 03/04/1985",              // context too far away
            "born in the war of 1812, signed 12/01/1812", // not a plausible birth year
            "born 45/45/1985",                            // not a date
            "reborn on 03/04/1985",                       // context must be a whole word
        ] {
            assert!(found_texts(text, detect).is_empty(), "{text}");
        }
    }
}
