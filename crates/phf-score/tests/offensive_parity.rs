//! Parity of the Rust offensive-language scorer with the Python package it ports (alt-profanity-check 1.9.1 on
//! scikit-learn 1.9.1).
//!
//! `fixtures/offensive_parity.jsonl` holds ≥300 texts (the toxicity fixture's clean, profane, insult, threat,
//! identity, negation, unicode, edge and very long texts, plus tokenizer cases) with the reference's tf-idf
//! feature indices and `predict_prob`; it was made by `scripts/score/make_offensive_fixtures.py`. The model is
//! not committed: without the export from `scripts/score/setup-offensive.sh` these tests print a message and
//! pass vacuously.

use std::path::Path;

use phf_score::offensive::{default_model_dir, OffensiveScorer};
use phf_score::Scorer;
use serde::Deserialize;

/// Largest absolute difference allowed per probability (the parity bar).
const TOLERANCE: f64 = 1e-5;

#[derive(Deserialize)]
struct Record {
    category: String,
    text: String,
    features: Vec<u32>,
    prob: f64,
}

fn records() -> Vec<Record> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offensive_parity.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture is committed");
    text.lines()
        .filter(|line| !line.starts_with("{\"_meta\""))
        .map(|line| serde_json::from_str(line).expect("fixture line parses"))
        .collect()
}

fn scorer() -> Option<OffensiveScorer> {
    match OffensiveScorer::load_default() {
        Ok(scorer) => Some(scorer),
        Err(err) => {
            eprintln!("skipping offensive parity ({}): {err}", default_model_dir().display());
            None
        }
    }
}

#[test]
fn fixture_is_varied_and_large_enough() {
    let records = records();
    assert!(records.len() >= 300, "{} texts", records.len());
    for category in [
        "clean",
        "profane",
        "insult",
        "threat",
        "identity",
        "negation",
        "unicode",
        "edge",
        "long",
        "offensive",
        "tokens",
    ] {
        assert!(records.iter().any(|r| r.category == category), "no {category} texts");
    }
    assert!(records.iter().any(|r| r.text.is_empty()));
    assert!(records.iter().any(|r| r.prob > 0.99) && records.iter().any(|r| r.prob < 0.01));
}

#[test]
fn features_match_scikit_learn() {
    let Some(scorer) = scorer() else { return };
    for r in records() {
        let features: Vec<u32> = scorer.vectorizer().transform(&r.text).iter().map(|&(j, _)| j).collect();
        assert_eq!(features, r.features, "{:?}", r.text);
    }
}

#[test]
fn probabilities_match_alt_profanity_check() {
    let Some(scorer) = scorer() else { return };
    let records = records();
    let mut worst = (0.0_f64, "");
    for r in &records {
        let err = (scorer.predict_prob(&r.text) - r.prob).abs();
        if err > worst.0 {
            worst = (err, r.text.as_str());
        }
    }
    eprintln!(
        "offensive parity: {} texts, max abs error {:.3e} (on {:?})",
        records.len(),
        worst.0,
        worst.1
    );
    assert!(
        worst.0 <= TOLERANCE,
        "max abs error {} > {TOLERANCE} on {:?}",
        worst.0,
        worst.1
    );
}

#[test]
fn scorer_returns_the_probability() {
    let Some(scorer) = scorer() else { return };
    let records = records();
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let scores = scorer.score(&texts).unwrap();
    assert_eq!(scores.scorer.to_string(), "offensive@alt-profanity-check-1.9.1");
    for (r, s) in records.iter().zip(&scores.scores) {
        assert!((f64::from(*s) - r.prob).abs() <= TOLERANCE, "{:?}", r.text);
    }
    let by_name = phf_score::scorer_by_name("offensive").unwrap();
    assert_eq!(by_name.score_batch(&texts).unwrap(), scores.scores);
}

#[test]
fn bad_input_gets_a_score() {
    let Some(scorer) = scorer() else { return };
    let long_line = "word ".repeat(2 << 20); // 10 MB, one line
    let texts = ["", "\0", "a\r\nb\rc\n", long_line.as_str()];
    for s in scorer.score_batch(&texts).unwrap() {
        assert!(s.is_finite() && (0.0..=1.0).contains(&s));
    }
    let err = scorer.score_bytes(&[b"ok", b"\xc3\x28"]).unwrap_err();
    assert!(err.to_string().contains("text 1"), "{err}");
}
