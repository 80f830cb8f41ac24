//! The spaCy NER port on each line of a JSON-lines file (`{"text": ...}`): prints `{"tokens": [[start, end], ...],
//! "ents": [[start, end, label], ...]}` per line, in characters, to compare with spaCy (`scripts/score/
//! pii_parity.sh` does, at both precisions).
//!
//!     cargo run -p phf-score --example ner_entities -- texts.jsonl [int16|fp32]
//!
//! The precision is the encoder's (`phf_score::pii::ner::Precision`): int16 (the default, where the CPU has
//! AVX-512 VNNI) or fp32.

use std::io::{BufRead, Write};

use phf_score::pii::ner::{default_model_dir, EntityRecognizer, Precision};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const USAGE: &str = "usage: ner_entities <texts.jsonl> [int16|fp32]";
    let path = std::env::args().nth(1).ok_or(USAGE)?;
    let precision = match std::env::args().nth(2).as_deref() {
        None | Some("int16") => Precision::Int16,
        Some("fp32") => Precision::Fp32,
        Some(other) => return Err(format!("unknown precision {other:?}; {USAGE}").into()),
    };
    let ner = EntityRecognizer::load_with(&default_model_dir(), precision)?;
    eprintln!("ner_entities: encoder in {:?}", ner.precision());
    let file = std::io::BufReader::new(std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?);
    let mut out = std::io::stdout().lock();
    for (n, line) in file.lines().enumerate() {
        let line = line?;
        let record: serde_json::Value = serde_json::from_str(&line).map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        let text = record["text"]
            .as_str()
            .ok_or_else(|| format!("{path}:{}: no \"text\" string", n + 1))?;
        let chars = |byte: usize| text[..byte].chars().count();
        let tokens: Vec<_> = ner
            .tokenize(text)
            .iter()
            .map(|t| [chars(t.range.start), chars(t.range.end)])
            .collect();
        let ents: Vec<_> = ner
            .entities(text)
            .iter()
            .map(|e| serde_json::json!([chars(e.range.start), chars(e.range.end), e.label]))
            .collect();
        writeln!(out, "{}", serde_json::json!({"tokens": tokens, "ents": ents}))?;
    }
    Ok(())
}
