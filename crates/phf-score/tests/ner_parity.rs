//! Parity of the native spaCy NER port (`phf_score::pii::ner`) with spaCy en_core_web_sm 3.8.0, stage by stage, on
//! sentences we wrote: `fixtures/ner/spacy_ner.json`, made by `scripts/score/make_ner_fixtures.py`, holds spaCy's
//! tokens, hash-embedding keys, NER token vectors and entities for each. The model is not committed: without the
//! export from `scripts/score/setup-ner.sh` these tests print a message and pass vacuously.

use std::path::Path;

use phf_score::pii::ner::{default_model_dir, EntityRecognizer, Precision};
use serde::Deserialize;

/// Largest absolute difference allowed in a token vector's first values and (scaled by its width) its sum: float
/// sums in another order than numpy's BLAS.
const TOLERANCE: f32 = 2e-3;

#[derive(Deserialize)]
struct Sentence {
    text: String,
    tokens: Vec<(String, usize)>,
    keys: Vec<[String; 4]>,
    tok2vec_sum: Vec<f32>,
    tok2vec_head: Vec<Vec<f32>>,
    ents: Vec<(usize, usize, String)>,
    ents_full: Vec<(usize, usize, String)>,
}

#[derive(Deserialize)]
struct Fixture {
    sentences: Vec<Sentence>,
}

fn fixture() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ner/spacy_ner.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture is committed")).expect("fixture parses")
}

fn recognizer() -> Option<EntityRecognizer> {
    recognizer_at(Precision::Fp32)
}

/// The recogniser at `precision` (int16 only where the CPU runs it), `None` without an export.
fn recognizer_at(precision: Precision) -> Option<EntityRecognizer> {
    let dir = default_model_dir();
    if !EntityRecognizer::is_exported(&dir) {
        eprintln!(
            "skipping NER parity: no export in {} (run scripts/score/setup-ner.sh)",
            dir.display()
        );
        return None;
    }
    Some(EntityRecognizer::load_with(&dir, precision).expect("the export loads"))
}

/// Character offset of byte offset `byte` in `text`.
fn chars(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

#[test]
fn fixture_has_names_and_organisations() {
    let f = fixture();
    assert!(f.sentences.len() >= 40);
    for label in ["PERSON", "ORG"] {
        let n = f
            .sentences
            .iter()
            .flat_map(|s| &s.ents)
            .filter(|e| e.2 == label)
            .count();
        assert!(n >= 20, "{n} {label} entities");
    }
}

#[test]
fn tokens_match_spacy() {
    let Some(ner) = recognizer() else { return };
    for s in fixture().sentences {
        let ours: Vec<(String, usize)> = ner
            .tokenize(&s.text)
            .iter()
            .map(|t| (s.text[t.range.clone()].to_string(), chars(&s.text, t.range.start)))
            .collect();
        assert_eq!(ours, s.tokens, "{:?}", s.text);
    }
}

#[test]
fn embedding_keys_match_spacy() {
    let Some(ner) = recognizer() else { return };
    for s in fixture().sentences {
        let tokens = ner.tokenize(&s.text);
        let keys = ner.attribute_keys(&s.text, &tokens);
        for (i, (ours, theirs)) in keys.iter().zip(&s.keys).enumerate() {
            let theirs: Vec<u64> = theirs.iter().map(|k| k.parse().expect("decimal id")).collect();
            assert_eq!(
                ours.as_slice(),
                theirs.as_slice(),
                "token {i} {:?} of {:?} (NORM, PREFIX, SUFFIX, SHAPE)",
                s.tokens[i].0,
                s.text
            );
        }
    }
}

#[test]
fn token_vectors_match_spacy() {
    token_vectors_match_spacy_at(Precision::Fp32);
}

#[test]
fn int16_token_vectors_match_spacy() {
    token_vectors_match_spacy_at(Precision::Int16);
}

fn token_vectors_match_spacy_at(precision: Precision) {
    let Some(ner) = recognizer_at(precision) else { return };
    let mut worst = 0.0f32;
    for s in fixture().sentences {
        let tokens = ner.tokenize(&s.text);
        let vectors = ner.token_vectors(&s.text, &tokens);
        let width = vectors.len() / tokens.len();
        for (i, v) in vectors.chunks_exact(width).enumerate() {
            let sum_diff = (v.iter().sum::<f32>() - s.tok2vec_sum[i]).abs() / width as f32;
            worst = worst.max(sum_diff);
            assert!(
                sum_diff < TOLERANCE,
                "token {i} of {:?}: sum {}",
                s.text,
                s.tok2vec_sum[i]
            );
            for (a, b) in v.iter().zip(&s.tok2vec_head[i]) {
                worst = worst.max((a - b).abs());
                assert!((a - b).abs() < TOLERANCE, "token {i} of {:?}: {a} vs {b}", s.text);
            }
        }
    }
    eprintln!("largest token-vector difference, {:?}: {worst:e}", ner.precision());
}

#[test]
fn entities_match_spacy() {
    entities_match_spacy_at(Precision::Fp32);
}

#[test]
fn int16_entities_match_spacy() {
    entities_match_spacy_at(Precision::Int16);
}

fn entities_match_spacy_at(precision: Precision) {
    let Some(ner) = recognizer_at(precision) else { return };
    let mut across_sentences = 0;
    for s in fixture().sentences {
        let ours: Vec<(usize, usize, String)> = ner
            .entities(&s.text)
            .into_iter()
            .map(|e| {
                (
                    chars(&s.text, e.range.start),
                    chars(&s.text, e.range.end),
                    e.label.to_string(),
                )
            })
            .collect();
        assert_eq!(ours, s.ents, "{:?}", s.text);
        across_sentences += usize::from(ours != s.ents_full);
    }
    // With the parser's sentence boundaries (which this port does not compute) spaCy found the same entities in
    // every fixture sentence.
    assert_eq!(across_sentences, 0);
}
