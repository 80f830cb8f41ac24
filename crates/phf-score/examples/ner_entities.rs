//! The spaCy NER port on each line of a JSON-lines file (`{"text": ...}`): prints `{"tokens": [[start, end], ...],
//! "ents": [[start, end, label], ...]}` per line, in characters, to compare with spaCy when a text disagrees.
//!
//!     cargo run -p phf-score --example ner_entities -- texts.jsonl

use std::io::{BufRead, Write};

use phf_score::pii::ner::{default_model_dir, EntityRecognizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: ner_entities <texts.jsonl>")?;
    let ner = EntityRecognizer::load(&default_model_dir())?;
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
