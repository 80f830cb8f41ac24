//! Agreement of the sentence splitter with spaCy's rule-based sentencizer (spaCy 3.8, `blank("en")` +
//! `sentencizer`), on the texts of `fixtures/sentences_spacy.jsonl` made by
//! `scripts/score/make_sentence_fixtures.py`.
//!
//! The splitter's documented deviations are applied to spaCy's output before comparing: a whitespace-only
//! sentence is folded into the one before, and texts with full stops of space-less scripts (`。！？`) are
//! skipped. Everything else must agree exactly.

use std::path::Path;

use phf_score::segment::split_sentences;
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    text: String,
    sentences: Vec<String>,
}

/// spaCy's sentences with whitespace-only ones folded into their predecessor.
fn fold_whitespace(sentences: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in sentences {
        match out.last_mut() {
            Some(last) if s.trim().is_empty() => last.push_str(s),
            _ => out.push(s.clone()),
        }
    }
    out
}

#[test]
fn agrees_with_spacy_sentencizer() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentences_spacy.jsonl");
    let fixture = std::fs::read_to_string(&path).expect("fixture is committed");
    let records: Vec<Record> = fixture
        .lines()
        .filter(|l| !l.starts_with("{\"_meta\""))
        .map(|l| serde_json::from_str(l).expect("fixture line parses"))
        .collect();
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for r in &records {
        if r.text.contains(['。', '！', '？']) {
            continue;
        }
        compared += 1;
        let ours: Vec<String> = split_sentences(&r.text).into_iter().map(String::from).collect();
        if ours != fold_whitespace(&r.sentences) {
            disagreements.push(format!("{:?}\n  spaCy: {:?}\n  ours:  {:?}", r.text, r.sentences, ours));
        }
    }
    eprintln!("sentences: {compared} texts compared, {} disagree", disagreements.len());
    assert!(compared >= 300);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
