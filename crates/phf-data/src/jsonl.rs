//! One line of a JSONL corpus in the reference schema (SPEC §2).
//!
//! The reference datasets store one JSON object per document:
//! `{"texts": [...], "scores": [...], "avg_score": ..., "num_sents": ...}`. `avg_score` and `num_sents` are
//! recomputed from `texts`/`scores` and otherwise ignored, as are unknown keys; a string `source` is kept. A line
//! may instead hold raw text, `{"text": "...", "score": 0.0}` (score optional, default 0), which becomes one
//! segment. Scores must be finite and `>= 0` (SPEC §1: misalignment scores).
//!
//! Multi-attribute corpora add one list per further attribute, `scores_<name>` (e.g. `scores_pii`), with one score
//! per segment and the same checks; they land in [`Document::attribute_scores`] under `<name>`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::document::Document;
use crate::error::{DataError, Result};

/// The key prefix of a further attribute's scores: `scores_pii` holds attribute `pii`.
pub const ATTRIBUTE_SCORES_PREFIX: &str = "scores_";

/// Parses one JSONL line; `None` for a blank line.
pub fn parse_record(path: &Path, line: u64, text: &str) -> Result<Option<Document>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (value, had_non_finite) = match serde_json::from_str::<Value>(text) {
        Ok(v) => (v, false),
        Err(first) => {
            // Python's `json.dumps` writes bare NaN/Infinity, which is not JSON; report it as a bad score
            // rather than as malformed JSON, since the fix is different.
            let patched = null_out_non_finite(text);
            match (patched != text).then(|| serde_json::from_str::<Value>(&patched)) {
                Some(Ok(v)) => (v, true),
                _ => {
                    return Err(DataError::Json {
                        path: path.to_path_buf(),
                        line,
                        msg: first.to_string(),
                    })
                }
            }
        }
    };
    let schema = |msg: String| DataError::Schema {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let Value::Object(obj) = value else {
        return Err(schema(format!(
            "expected a JSON object, found {}: write one {{\"texts\": [...], \"scores\": [...]}} object per line",
            kind(&value)
        )));
    };
    let (texts, raw_scores): (Vec<String>, Vec<Value>) = if let Some(texts) = obj.get("texts") {
        let texts = string_list(texts, "texts").map_err(schema)?;
        let scores = match obj.get("scores") {
            Some(Value::Array(s)) => s.clone(),
            Some(other) => {
                return Err(schema(format!(
                    "`scores` is {}, expected a list of numbers",
                    kind(other)
                )))
            }
            None => {
                return Err(schema(
                    "has `texts` but no `scores`: add one score per segment (`phf score` computes them)".into(),
                ))
            }
        };
        (texts, scores)
    } else if let Some(text) = obj.get("text") {
        let Value::String(text) = text else {
            return Err(schema(format!("`text` is {}, expected a string", kind(text))));
        };
        let score = obj.get("score").cloned().unwrap_or(Value::from(0.0));
        (vec![text.clone()], vec![score])
    } else {
        return Err(schema(
            "missing `texts`: each line needs `texts` (list of segments) and `scores`, or a single `text`".into(),
        ));
    };
    if texts.len() != raw_scores.len() {
        return Err(DataError::LengthMismatch {
            path: path.to_path_buf(),
            line,
            texts: texts.len(),
            scores: raw_scores.len(),
        });
    }
    let scores = checked_scores(path, line, "scores", &raw_scores, had_non_finite)?;
    let mut attribute_scores = BTreeMap::new();
    for (key, value) in obj.iter().filter(|(k, _)| k.starts_with(ATTRIBUTE_SCORES_PREFIX)) {
        let name = &key[ATTRIBUTE_SCORES_PREFIX.len()..];
        let Value::Array(raw) = value else {
            return Err(schema(format!(
                "`{key}` is {}, expected a list of numbers",
                kind(value)
            )));
        };
        if raw.len() != texts.len() {
            return Err(schema(format!(
                "`texts` has {} segments but `{key}` has {} values: every segment needs exactly one score",
                texts.len(),
                raw.len()
            )));
        }
        let checked = checked_scores(path, line, key, raw, had_non_finite)?;
        attribute_scores.insert(name.to_string(), checked);
    }
    Ok(Some(Document {
        texts,
        scores,
        attribute_scores,
        source: Some(source_of(&obj).unwrap_or_else(|| format!("{}:{line}", path.display()))),
    }))
}

fn source_of(obj: &Map<String, Value>) -> Option<String> {
    obj.get("source").and_then(Value::as_str).map(str::to_string)
}

fn string_list(value: &Value, key: &str) -> std::result::Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err(format!("`{key}` is {}, expected a list of strings", kind(value)));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!("`{key}[{i}]` is {}, expected a string", kind(other))),
        })
        .collect()
}

/// Scores must be finite and `>= 0` (SPEC §1: misalignment scores).
fn checked_scores(path: &Path, line: u64, key: &str, raw: &[Value], had_non_finite: bool) -> Result<Vec<f32>> {
    raw.iter()
        .enumerate()
        .map(|(index, value)| {
            let non_finite = |value: String| DataError::NonFiniteScore {
                path: path.to_path_buf(),
                line,
                key: key.to_string(),
                index,
                value,
            };
            let x = match value {
                Value::Number(n) => n.as_f64().ok_or_else(|| non_finite(n.to_string()))?,
                Value::Null if had_non_finite => return Err(non_finite("NaN or Infinity".into())),
                Value::Null => return Err(non_finite("null".into())),
                other => {
                    return Err(DataError::Schema {
                        path: path.to_path_buf(),
                        line,
                        msg: format!("`{key}[{index}]` is {}, expected a number", kind(other)),
                    })
                }
            };
            let s = x as f32;
            if !s.is_finite() {
                return Err(non_finite(x.to_string()));
            }
            if x < 0.0 {
                return Err(DataError::NegativeScore {
                    path: path.to_path_buf(),
                    line,
                    key: key.to_string(),
                    index,
                    value: x,
                });
            }
            Ok(s)
        })
        .collect()
}

/// Replaces bare `NaN`, `Infinity`, `-Infinity` tokens outside strings with `null`.
pub(crate) fn null_out_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some(token) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            out.push_str("null");
            rest = &rest[token.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
