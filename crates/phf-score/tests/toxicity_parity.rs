//! Parity of the Rust toxicity scorer with the Python package it ports (tox-block 0.1.2 on TensorFlow 2.15).
//!
//! `fixtures/toxicity_parity.jsonl` holds ≥300 texts (clean, profane, insults, threats, identity attacks,
//! negations, unicode, empty, very long) with the reference's token ids and six probabilities; it was made by
//! `scripts/score/make_toxicity_fixtures.py`. The weights are not committed: without the export from
//! `scripts/score/setup-toxicity.sh` these tests print a message and pass vacuously.

use std::path::Path;

use phf_score::toxicity::{default_model_dir, KerasTokenizer, ToxicityScorer, NUM_LABELS};
use phf_score::Scorer;
use serde::Deserialize;

/// Largest absolute difference allowed per probability (the parity bar).
const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Record {
    category: String,
    text: String,
    ids: Vec<u32>,
    probs: [f32; NUM_LABELS],
}

fn records() -> Vec<Record> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toxicity_parity.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture is committed");
    text.lines()
        .filter(|line| !line.starts_with("{\"_meta\""))
        .map(|line| serde_json::from_str(line).expect("fixture line parses"))
        .collect()
}

fn scorer() -> Option<ToxicityScorer> {
    match ToxicityScorer::load_default() {
        Ok(scorer) => Some(scorer),
        Err(err) => {
            eprintln!("skipping toxicity parity ({}): {err}", default_model_dir().display());
            None
        }
    }
}

#[test]
fn fixture_is_varied_and_large_enough() {
    let records = records();
    assert!(records.len() >= 300, "{} texts", records.len());
    for category in [
        "clean", "profane", "insult", "threat", "identity", "negation", "unicode", "edge", "long",
    ] {
        assert!(records.iter().any(|r| r.category == category), "no {category} texts");
    }
    assert!(records.iter().any(|r| r.text.is_empty()));
}

#[test]
fn token_ids_match_keras() {
    let path = default_model_dir().join("tokenizer.json");
    if !path.is_file() {
        eprintln!(
            "skipping tokenizer parity: {} is missing (run scripts/score/setup-toxicity.sh)",
            path.display()
        );
        return;
    }
    let tokenizer = KerasTokenizer::load(&path).unwrap();
    for r in records() {
        let ids: Vec<u32> = tokenizer.encode(&r.text).into_iter().filter(|&id| id != 0).collect();
        assert_eq!(ids, r.ids, "{:?}", r.text);
    }
}

#[test]
fn probabilities_match_tox_block() {
    let Some(scorer) = scorer() else { return };
    let records = records();
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let predicted = scorer.predict(&texts);
    let mut worst = (0.0_f32, "");
    for (r, p) in records.iter().zip(&predicted) {
        for (got, want) in p.iter().zip(&r.probs) {
            let err = (got - want).abs();
            if err > worst.0 {
                worst = (err, r.text.as_str());
            }
        }
    }
    eprintln!(
        "toxicity parity: {} texts, max abs error {:.3e} (on {:?})",
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
fn scorer_returns_the_toxic_probability() {
    let Some(scorer) = scorer() else { return };
    let records = records();
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let scores = scorer.score(&texts).unwrap();
    assert_eq!(scores.scorer.to_string(), "toxicity@tox-block-0.1.2");
    for (r, s) in records.iter().zip(&scores.scores) {
        assert!((s - r.probs[0]).abs() <= TOLERANCE, "{:?}", r.text);
    }
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
