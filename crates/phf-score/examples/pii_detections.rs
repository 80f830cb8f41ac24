//! Per-segment PII detections, the Rust half of `scripts/score/pii_parity.sh`: it cuts documents the way
//! `phf score --scorer pii --segment sentences` does and prints what every detector found in each segment, so
//! the Python half can run scrubadub on the very same segments and compare.
//!
//! Usage: cargo run -p phf-score --example pii_detections -- INPUT.jsonl [MAX_SEGMENTS] [SEGMENTER]
//!
//! INPUT holds one `{"text": ...}` per line. SEGMENTER is `sentences` (default), `lines` or `none` (each text is
//! one segment, e.g. for hand-written test sentences). Segments that are whitespace only are skipped: they hold
//! no PII on either side and would only dilute the comparison. Stops after MAX_SEGMENTS segments (default: all).
//! Prints one JSON line per segment:
//!
//!     {"doc": 0, "text": "...", "score": 0.012, "items": 1,
//!      "detections": [{"kind": "email", "start": 3, "end": 20}]}
//!
//! `start`/`end` count Unicode scalar values (Python string indices), not bytes; `detections` are every
//! detector's findings before merging, `items` the merged count the score divides by the length.

use phf_score::pii::{detect_all, merge_overlapping, pii_score};
use phf_score::Segmenter;

fn usage() -> ! {
    eprintln!("usage: pii_detections INPUT.jsonl [MAX_SEGMENTS] [sentences|lines|none]");
    std::process::exit(2)
}

/// Converts byte offsets of `text` to offsets in Unicode scalar values.
fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.len() > 3 || args.iter().any(|a| a == "-h" || a == "--help") {
        usage();
    }
    let max_segments: usize = args
        .get(1)
        .map_or(usize::MAX, |a| a.parse().unwrap_or_else(|_| usage()));
    let segmenter: Segmenter = args.get(2).map_or(Segmenter::Sentences, |a| {
        a.parse().unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        })
    });
    let input = std::fs::read_to_string(&args[0]).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", args[0]);
        std::process::exit(1)
    });

    let mut printed = 0;
    for (n, line) in input.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            eprintln!("{}:{}: {e}", args[0], n + 1);
            std::process::exit(1)
        });
        let Some(text) = value["text"].as_str() else {
            eprintln!("{}:{}: no string field `text`", args[0], n + 1);
            std::process::exit(1)
        };
        for segment in segmenter.segment(text) {
            if printed == max_segments {
                return;
            }
            if segment.trim().is_empty() {
                continue;
            }
            let found = detect_all(segment);
            let detections: Vec<serde_json::Value> = found
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "kind": d.kind,
                        "start": char_offset(segment, d.range.start),
                        "end": char_offset(segment, d.range.end),
                    })
                })
                .collect();
            let record = serde_json::json!({
                "doc": n,
                "text": segment,
                "score": pii_score(segment),
                "items": merge_overlapping(found).len(),
                "detections": detections,
            });
            println!("{record}");
            printed += 1;
        }
    }
}
