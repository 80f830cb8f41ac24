//! PII scorer (SPEC §6): the number of personal-information items found in a text per character.
//!
//! The reference ran scrubadub 2.0 with its default detectors (credential, credit card, email, phone, SSN,
//! twitter, url) plus the paper's additions (date of birth, Skype, US street address via pyap, spaCy PERSON
//! and ORG). Each has a native detector here, one per file (PERSON and ORG: [`ner`], a port of spaCy
//! en_core_web_sm's entity recogniser, when `scripts/score/setup-ner.sh` has exported it, else the word lists
//! of `names.rs`; [`rules_version`] records which); overlapping or touching detections are merged into
//! one item, as scrubadub merges filth, and the score is `items / characters` (0 for an empty text).
//! Agreement with that setup, detector by detector, is measured by `scripts/score/pii_parity.sh` and reported
//! in `docs/SCORERS.md`.

mod address;
mod credential;
mod credit_card;
mod date_of_birth;
mod email;
mod names;
pub mod ner;
mod phone;
mod skype;
mod ssn;
mod twitter;
mod url;

use std::ops::Range;
use std::sync::LazyLock;

use serde::Serialize;

use crate::error::{Result, ScoreError};
use crate::scorer::{par_map_texts, Scorer, ScorerId};

/// Kinds of personal information, named after the scrubadub filth types they mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Credential,
    CreditCard,
    Email,
    Phone,
    Ssn,
    Twitter,
    Url,
    DateOfBirth,
    Skype,
    Address,
    Name,
    Organization,
}

/// One detected item: its kind and the byte range it covers in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub kind: PiiKind,
    pub range: Range<usize>,
}

impl Detection {
    pub(crate) fn new(kind: PiiKind, range: Range<usize>) -> Self {
        Self { kind, range }
    }
}

/// Every detector's findings in `text`, unmerged, sorted by position.
pub fn detect_all(text: &str) -> Vec<Detection> {
    let mut found = Vec::new();
    credential::detect(text, &mut found);
    credit_card::detect(text, &mut found);
    email::detect(text, &mut found);
    phone::detect(text, &mut found);
    ssn::detect(text, &mut found);
    twitter::detect(text, &mut found);
    url::detect(text, &mut found);
    date_of_birth::detect(text, &mut found);
    skype::detect(text, &mut found);
    address::detect(text, &mut found);
    match &*RECOGNIZER {
        Ok(Some(ner)) if within_ner_length(text) => detect_entities(ner, text, &mut found),
        _ => names::detect(text, &mut found),
    }
    found.sort_by_key(|d| (d.range.start, d.range.end, d.kind));
    found
}

/// Merges detections whose byte ranges overlap or touch into one item each (the merged range spans them all
/// and keeps the first kind), as scrubadub's `Scrubber._merge_filths` does: it starts a new item only when the
/// next one begins after the current one ends, so `@bob` right after `http://x.com/` is one item.
pub fn merge_overlapping(mut detections: Vec<Detection>) -> Vec<Detection> {
    detections.sort_by_key(|d| (d.range.start, d.range.end));
    let mut merged: Vec<Detection> = Vec::with_capacity(detections.len());
    for d in detections {
        match merged.last_mut() {
            Some(last) if d.range.start <= last.range.end => last.range.end = last.range.end.max(d.range.end),
            _ => merged.push(d),
        }
    }
    merged
}

/// Misalignment score of one text: merged PII items per character.
pub fn pii_score(text: &str) -> f32 {
    let chars = text.chars().count();
    if chars == 0 {
        return 0.0;
    }
    merge_overlapping(detect_all(text)).len() as f32 / chars as f32
}

/// Version of the rule-based detectors; bump it whenever one's behaviour changes, so scored corpora made with
/// different rules are told apart. [`rules_version`] adds which name detector was used.
pub const RULES_VERSION: &str = "native-3";

/// Environment variable that chooses the name detector: `ner` (the default: the spaCy NER port where it is
/// exported, its encoder in 16-bit integers where the CPU has AVX-512 VNNI), `ner-fp32` (the port in fp32
/// throughout, as spaCy computes) or `lists`, the word lists even where the NER is exported: they are far faster
/// (`docs/BENCHMARKS.md`) and far less faithful to the reference (`docs/SCORERS.md`).
pub const NAMES_ENV: &str = "PHF_PII_NAMES";

/// The entity recogniser from [`ner::default_model_dir`], loaded on first use: `Ok(None)` when nothing is
/// exported there or [`NAMES_ENV`] asks for the lists (names then come from the word lists), an error message
/// when the export is damaged.
static RECOGNIZER: LazyLock<std::result::Result<Option<ner::EntityRecognizer>, String>> = LazyLock::new(|| {
    let precision = match std::env::var(NAMES_ENV).as_deref() {
        Ok("lists") => return Ok(None),
        Ok("ner") | Err(_) => ner::Precision::Int16,
        Ok("ner-fp32") => ner::Precision::Fp32,
        Ok(other) => {
            return Err(format!(
                "{NAMES_ENV}={other}: expected `ner` (the default), `ner-fp32` or `lists`"
            ))
        }
    };
    let dir = ner::default_model_dir();
    if !ner::EntityRecognizer::is_exported(&dir) {
        return Ok(None);
    }
    ner::EntityRecognizer::load_with(&dir, precision)
        .map(Some)
        .map_err(|e| e.to_string())
});

/// The shared entity recogniser, `None` when it is not exported; a damaged export is an error that says how to
/// redo it.
pub fn entity_recognizer() -> Result<Option<&'static ner::EntityRecognizer>> {
    match &*RECOGNIZER {
        Ok(ner) => Ok(ner.as_ref()),
        Err(message) => Err(ScoreError::NerUnusable(message.clone())),
    }
}

/// Version recorded with PII scores: [`RULES_VERSION`] and the name detector, `+en_core_web_sm-3.8.0` for the
/// spaCy NER port in fp32 (`-int16` added when its encoder runs in integers) or `+name-lists` for the fallback
/// lists.
pub fn rules_version() -> String {
    match &*RECOGNIZER {
        Ok(Some(ner)) if ner.precision() == ner::Precision::Int16 => {
            format!("{RULES_VERSION}+{}-int16", ner::MODEL_DIR_NAME)
        }
        Ok(Some(_)) => format!("{RULES_VERSION}+{}", ner::MODEL_DIR_NAME),
        _ => format!("{RULES_VERSION}+name-lists"),
    }
}

/// spaCy's `nlp.max_length`: it refuses longer texts (error E088), so the reference never scored one. Longer
/// texts here (a 10 MB line of base64 is one sentence to the segmenter) get the list-based name detector, whose
/// time is linear, instead of minutes of NER.
pub const NER_MAX_CHARS: usize = 1_000_000;

fn within_ner_length(text: &str) -> bool {
    text.len() <= NER_MAX_CHARS || text.chars().count() <= NER_MAX_CHARS
}

/// PERSON and ORG entities as names and organisations, as scrubadub-spacy maps them.
fn detect_entities(ner: &ner::EntityRecognizer, text: &str, found: &mut Vec<Detection>) {
    for entity in ner.entities(text) {
        let kind = match entity.label {
            "PERSON" | "PER" => PiiKind::Name,
            "ORG" => PiiKind::Organization,
            _ => continue,
        };
        found.push(Detection::new(kind, entity.range));
    }
}

/// The PII scorer; stateless, its compiled patterns are shared process-wide.
#[derive(Debug, Clone, Copy, Default)]
pub struct PiiScorer;

impl Scorer for PiiScorer {
    fn id(&self) -> ScorerId {
        ScorerId {
            name: "pii".into(),
            version: rules_version(),
        }
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        Ok(par_map_texts(texts, pii_score))
    }
}

/// Test helper: the texts a detector's findings cover in `text`.
#[cfg(test)]
pub(crate) fn found_texts(text: &str, detect: fn(&str, &mut Vec<Detection>)) -> Vec<&str> {
    let mut out = Vec::new();
    detect(text, &mut out);
    out.iter().map(|d| &text[d.range.clone()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_touching_items_merge() {
        let d = |a, b| Detection::new(PiiKind::Url, a..b);
        let merged = merge_overlapping(vec![d(5, 9), d(0, 6), d(9, 12), d(13, 15), d(20, 30), d(21, 22)]);
        let ranges: Vec<_> = merged.iter().map(|d| d.range.clone()).collect();
        // 9..12 touches 0..9 (scrubadub merges it); 13..15 is one character away.
        assert_eq!(ranges, vec![0..12, 13..15, 20..30]);
    }

    #[test]
    fn score_is_items_per_character() {
        let text = "Mail me at jane.doe@example.com or call (415) 555-2671.";
        let n = text.chars().count() as f32;
        assert_eq!(pii_score(text), 2.0 / n);
    }

    #[test]
    fn email_inside_url_counts_once() {
        let text = "see http://example.com/?to=bob@example.com";
        assert_eq!(merge_overlapping(detect_all(text)).len(), 1);
    }

    #[test]
    fn clean_and_empty_texts_score_zero() {
        assert_eq!(pii_score(""), 0.0);
        assert_eq!(pii_score("The weather was lovely and we walked along the river."), 0.0);
    }

    #[test]
    fn bad_input_never_panics() {
        let long = format!("{}@{}", "a".repeat(5 << 20), "b".repeat(5 << 20));
        for text in [
            "\0\0\0",
            "a\r\nb\rc",
            "☃ @ ☃.☃",
            "4111\u{0}1111",
            long.as_str(),
            "@",
            "skype",
            "1 ",
        ] {
            let s = pii_score(text);
            assert!(s.is_finite() && s >= 0.0);
        }
    }

    #[test]
    fn scorer_is_parallel_and_ordered() {
        let texts: Vec<String> = (0..200)
            .map(|i| {
                if i % 2 == 0 {
                    format!("mail {i}@example.com")
                } else {
                    "nothing".into()
                }
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let scores = PiiScorer.score_batch(&refs).unwrap();
        for (i, s) in scores.iter().enumerate() {
            assert_eq!(*s > 0.0, i % 2 == 0, "text {i}");
        }
    }
}
