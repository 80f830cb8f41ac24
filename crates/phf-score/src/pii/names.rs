//! Person and organisation names from lists and shapes: the fallback for the spaCy `en_core_web_sm` PERSON and
//! ORG entities the reference detected through scrubadub-spacy, used when the NER port (`super::ner`) is not
//! exported (`scripts/score/setup-ner.sh`) and for texts longer than spaCy's `max_length`; the scorer's version
//! says which (`+name-lists`). Tuned for precision:
//! - PERSON: an honorific and a capitalised name (`Dr. Jane Doe`), or a first name from `lists/first_names.txt`,
//!   with its capitalised surname and middle initial when they follow (`John F. Kennedy`, `John`). spaCy tags
//!   a lone first name as PERSON too (a signature `Tim`, `Thanks, Chris`): on email sentences 77% of the listed
//!   first names standing alone were spaCy PERSONs (`scripts/score/pii_parity.sh`), the rest mostly its misses.
//!   The list leaves out names that are more often ordinary words (`Will`, `May`, `Mark`).
//! - ORG: capitalised words ending in an organisation word (`Acme Corp`, `First National Bank`), `University
//!   of …`-style names, and well-known organisations from `lists/organizations.txt`.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

/// Non-comment words of a bundled list file.
fn word_list(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
}

static FIRST_NAMES: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| word_list(include_str!("lists/first_names.txt")));
static ORGANIZATIONS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| word_list(include_str!("lists/organizations.txt")));

/// Capitalised words that follow a first name without being a surname ("John Said", "Mary Christmas").
const NOT_SURNAMES: &[&str] = &[
    "The",
    "And",
    "But",
    "Or",
    "Of",
    "In",
    "On",
    "At",
    "To",
    "For",
    "With",
    "Is",
    "Was",
    "Said",
    "Says",
    "Christmas",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "I",
];

static HONORIFIC: LazyLock<Regex> = LazyLock::new(|| {
    // A capitalised name, also `O'Brien`, `McDonald`-like and double-barrelled `Smith-Jones`.
    let name = r"(?:[A-Z]'[A-Z][a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?)";
    Regex::new(&format!(
        r"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Lady|Lord)\.?[ \t]+{name}(?:[ \t]+{name})?\b"
    ))
    .expect("valid pattern")
});

static CAPITALISED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Za-z0-9&'-]*[A-Za-z0-9]\b|\b[A-Z]\b").expect("valid pattern"));

/// What may follow a first name: an optional middle initial and a capitalised surname.
static SURNAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[ \t]+[A-Z]\.)?[ \t]+([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)\b").expect("valid pattern")
});

/// Last words that make a run of capitalised words an organisation's name.
const ORG_WORDS: &[&str] = &[
    "Inc",
    "Incorporated",
    "Corp",
    "Corporation",
    "LLC",
    "LLP",
    "Ltd",
    "Limited",
    "Company",
    "Group",
    "Holdings",
    "Bank",
    "University",
    "College",
    "Institute",
    "Foundation",
    "Association",
    "Agency",
    "Ministry",
    "Council",
    "Committee",
    "Party",
    "Laboratories",
    "Labs",
    "Technologies",
    "Industries",
    "Partners",
    "Airlines",
    "Motors",
    "Pharmaceuticals",
    "Society",
    "Hospital",
    "Commission",
    "Bureau",
    "Authority",
];

static ORG_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        &[
            r"\b(?:[A-Z][A-Za-z&'-]*[ \t]+){1,4}(?:",
            &ORG_WORDS.join("|"),
            r")\b\.?",
        ]
        .concat(),
    )
    .expect("valid pattern")
});

static ORG_OF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:University|Bank|Institute|College|Department|Ministry|Museum|Bureau|Board)",
        r"[ \t]+of[ \t]+(?:the[ \t]+)?[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)*"
    ))
    .expect("valid pattern")
});

fn detect_people(text: &str, out: &mut Vec<Detection>) {
    out.extend(
        HONORIFIC
            .find_iter(text)
            .map(|m| Detection::new(PiiKind::Name, m.range())),
    );
    for word in CAPITALISED.find_iter(text) {
        if !FIRST_NAMES.contains(word.as_str()) {
            continue;
        }
        let surname_end = SURNAME
            .captures(&text[word.end()..])
            .and_then(|c| Some((c.get(0)?, c.get(1)?)))
            .filter(|(_, last)| !NOT_SURNAMES.contains(&last.as_str()))
            .map_or(0, |(all, _)| all.end());
        out.push(Detection::new(PiiKind::Name, word.start()..word.end() + surname_end));
    }
}

fn detect_organizations(text: &str, out: &mut Vec<Detection>) {
    let org = |m: regex::Match<'_>| Detection::new(PiiKind::Organization, m.range());
    out.extend(ORG_SUFFIX.find_iter(text).map(org));
    out.extend(ORG_OF.find_iter(text).map(org));
    out.extend(
        CAPITALISED
            .find_iter(text)
            .filter(|w| ORGANIZATIONS.contains(w.as_str()))
            .map(org),
    );
}

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    detect_people(text, out);
    detect_organizations(text, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn people() {
        assert_eq!(
            found_texts("Yesterday John Smith called.", detect_people),
            vec!["John Smith"]
        );
        assert_eq!(
            found_texts("by John F. Kennedy", detect_people),
            vec!["John F. Kennedy"]
        );
        // Both rules fire; the scorer merges the overlap into one item.
        assert_eq!(
            found_texts("ask Dr. Alice Wong", detect_people),
            vec!["Dr. Alice Wong", "Alice Wong"]
        );
        assert_eq!(found_texts("Mrs O'Brien agreed", detect_people), vec!["Mrs O'Brien"]);
        assert_eq!(found_texts("John said hi", detect_people), vec!["John"]);
        assert_eq!(found_texts("Thanks,\nTim", detect_people), vec!["Tim"]);
        assert_eq!(found_texts("Mary Christmas", detect_people), vec!["Mary"]);
    }

    #[test]
    fn people_near_misses() {
        for text in [
            "Merry Christmas",
            "Mark my words",
            "I will see Paris",
            "john smith",
            "Dr. who",
            "Will Power",
        ] {
            assert!(
                found_texts(text, detect_people).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect_people)
            );
        }
    }

    #[test]
    fn organizations() {
        assert_eq!(
            found_texts("she joined Acme Widget Corp. last year", detect_organizations),
            vec!["Acme Widget Corp."]
        );
        assert_eq!(
            found_texts("the University of Southern California", detect_organizations),
            vec!["University of Southern California"]
        );
        assert_eq!(found_texts("I work at Google.", detect_organizations), vec!["Google"]);
    }

    #[test]
    fn organizations_near_misses() {
        for text in [
            "a big bank",
            "the university",
            "google it",
            "Googled",
            "our group chat",
            "GOOGLE",
        ] {
            assert!(
                found_texts(text, detect_organizations).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect_organizations)
            );
        }
    }
}
