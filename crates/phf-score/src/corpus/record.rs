//! One document in (a JSONL object with `text`, or a `.txt` file), one reference-schema record out (SPEC §2).

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{CorpusError, Origin, Result};
use super::input::{RawDocument, SourceFormat};

/// Fields every output record sets; input fields of the same names are not carried over.
pub const OUTPUT_FIELDS: [&str; 6] = ["texts", "scores", "avg_score", "num_sents", "scorer", "scorer_version"];

/// A parsed document: its text, and the other fields of its JSONL object (`id`, `source`, ...), which are
/// carried into the output record.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub origin: Origin,
    pub text: String,
    pub carried: Map<String, Value>,
}

impl Document {
    /// Parses a raw document, naming its `file:line` and the fix on any problem.
    pub fn parse(raw: RawDocument) -> Result<Document> {
        let RawDocument {
            mut origin,
            format,
            bytes,
            ..
        } = raw;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let bad = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                // For a `.txt` file, point at the line holding the bad byte.
                let line_start = bytes[..bad].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                if format == SourceFormat::Text {
                    origin.line += bytes[..bad].iter().filter(|&&b| b == b'\n').count() as u64;
                }
                return Err(CorpusError::InvalidUtf8 {
                    origin,
                    column: bad - line_start + 1,
                });
            }
        };
        match format {
            SourceFormat::Text => Ok(Document {
                origin,
                text,
                carried: Map::new(),
            }),
            SourceFormat::Jsonl => parse_line(origin, &text),
        }
    }
}

fn parse_line(origin: Origin, line: &str) -> Result<Document> {
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => {
            return Err(CorpusError::Json {
                origin,
                reason: format!("invalid JSON ({e})"),
            })
        }
    };
    let Value::Object(mut carried) = value else {
        return Err(CorpusError::Json {
            origin,
            reason: format!("expected a JSON object, found {}", kind(&value)),
        });
    };
    let text = match carried.remove("text") {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(CorpusError::Text {
                origin,
                reason: format!(
                    "`text` is {}, expected a string; write the document as {{\"text\": \"...\"}}",
                    kind(&other)
                ),
            })
        }
        None if carried.contains_key("texts") => {
            return Err(CorpusError::Text {
                origin,
                reason: "no `text` field: this record is already segmented (`texts`); give the document as one \
                         string, e.g. {\"text\": <the segments joined>}"
                    .into(),
            })
        }
        None => {
            return Err(CorpusError::Text {
                origin,
                reason: "no `text` field; each line must hold the document as {\"text\": \"...\"} (other fields \
                         are carried into the output)"
                    .into(),
            })
        }
    };
    for field in OUTPUT_FIELDS {
        carried.remove(field);
    }
    Ok(Document { origin, text, carried })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One output record: the paper's reference schema plus the carried fields and the scorer that made it.
/// Fields serialise in this order (carried fields sorted by name).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredDocument<'a> {
    /// The segments; joined, they give the document's text back byte for byte.
    pub texts: Vec<&'a str>,
    /// One misalignment score per segment.
    pub scores: Vec<f32>,
    /// The plain mean of `scores`; 0 for a document without segments (as `phf prepare` reads it).
    pub avg_score: f32,
    pub num_sents: usize,
    #[serde(flatten)]
    pub carried: &'a Map<String, Value>,
    pub scorer: &'a str,
    pub scorer_version: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn raw(format: SourceFormat, bytes: &[u8]) -> RawDocument {
        RawDocument {
            origin: Origin {
                path: PathBuf::from("in.jsonl"),
                line: 7,
            },
            format,
            bytes: bytes.to_vec(),
            index: 0,
        }
    }

    fn error(format: SourceFormat, bytes: &[u8]) -> String {
        Document::parse(raw(format, bytes)).unwrap_err().to_string()
    }

    #[test]
    fn carries_other_fields_but_not_output_ones() {
        let doc = Document::parse(raw(
            SourceFormat::Jsonl,
            br#"{"id": 3, "text": "Hi.", "source": "web", "scores": [9]}"#,
        ))
        .unwrap();
        assert_eq!(doc.text, "Hi.");
        assert_eq!(doc.carried.keys().collect::<Vec<_>>(), ["id", "source"]);
    }

    #[test]
    fn bad_lines_name_file_line_and_fix() {
        for (bytes, needles) in [
            (&b"{\"text\": \"a\""[..], &["in.jsonl:7", "invalid JSON"][..]),
            (b"[1, 2]", &["in.jsonl:7", "an array"]),
            (b"{\"id\": 1}", &["in.jsonl:7", "no `text`"]),
            (b"{\"texts\": [\"a\"]}", &["in.jsonl:7", "already segmented"]),
            (b"{\"text\": 5}", &["in.jsonl:7", "a number", "expected a string"]),
            (b"{\"text\": \"\xff\"}", &["in.jsonl:7", "UTF-8", "column 11"]),
        ] {
            let err = error(SourceFormat::Jsonl, bytes);
            for needle in needles {
                assert!(err.contains(needle), "{err} lacks {needle}");
            }
        }
    }

    #[test]
    fn invalid_utf8_in_text_file_points_at_its_line() {
        let err = error(SourceFormat::Text, b"ok\nfine\nab\xfe");
        assert!(err.contains("in.jsonl:9") && err.contains("column 3"), "{err}");
    }

    #[test]
    fn record_fields_in_reference_order() {
        let mut carried = Map::new();
        carried.insert("id".into(), Value::from(1));
        let record = ScoredDocument {
            texts: vec!["A. ", "B."],
            scores: vec![0.5, 0.0],
            avg_score: 0.25,
            num_sents: 2,
            carried: &carried,
            scorer: "pii",
            scorer_version: "native-1",
        };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"texts":["A. ","B."],"scores":[0.5,0.0],"avg_score":0.25,"num_sents":2,"id":1,"scorer":"pii","scorer_version":"native-1"}"#
        );
    }
}
