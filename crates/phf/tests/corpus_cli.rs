//! `phf corpus summary`, `phf score --summary` and `phf prepare --shard` through the real binary (no network: the
//! corpora here are written by the tests; `phf corpus fetch` itself is tested in phf-data on local fixtures).

use std::path::Path;
use std::process::{Command, Output};

use phf_data::{Shard, Tokenizer};
use serde_json::Value;

fn phf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(args)
        .output()
        .expect("run the phf binary")
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "phf failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// 101 single-segment documents scored 0.00, 0.01, ..., 1.00, in the reference schema.
fn write_scored(file: &Path) {
    let lines: Vec<String> = (0..=100)
        .map(|i| serde_json::json!({"texts": [format!("doc {i}. ")], "scores": [i as f64 / 100.0]}).to_string())
        .collect();
    std::fs::write(file, lines.join("\n")).expect("write");
}

#[test]
fn summary_writes_json_and_a_png() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scored = dir.path().join("scored.jsonl");
    write_scored(&scored);
    let json = dir.path().join("s.json");
    let png = dir.path().join("h.png");
    let out = phf(&[
        "corpus",
        "summary",
        path(&scored),
        "--thresholds",
        "0.5,q0.9",
        "--out",
        path(&json),
        "--png",
        path(&png),
    ]);
    assert_ok(&out);
    let summary: Value = serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("parse");
    assert_eq!(summary["segments"], 101);
    let median = summary["segment_scores"]["quantiles"]
        .as_array()
        .expect("quantiles")
        .iter()
        .find(|p| p[0] == 0.5)
        .expect("median")[1]
        .as_f64()
        .expect("number");
    assert!((median - 0.5).abs() < 1e-6);
    assert_eq!(summary["thresholds"][0]["segments_above"].as_f64(), Some(50.0 / 101.0));
    assert_eq!(summary["thresholds"][1]["given"], "q0.9");
    let bytes = std::fs::read(&png).expect("png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("above 0.5"));
}

#[test]
fn score_summary_sits_beside_the_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"text\": \"Mail me at ann@example.com today. Nothing here.\"}\n",
    )
    .expect("write");
    let scored = dir.path().join("scored.jsonl");
    assert_ok(&phf(&[
        "score",
        "--input",
        path(&input),
        "--scorer",
        "pii",
        "--out",
        path(&scored),
        "--summary",
        "--quiet",
    ]));
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("scored.jsonl.summary.json")).expect("json"))
            .expect("parse");
    assert_eq!(summary["documents"], 1);
    assert_eq!(summary["segments"], 2);
    assert!(dir.path().join("scored.jsonl.hist.png").is_file());
    // --summary needs a file to sit beside.
    let out = phf(&["score", "--input", path(&input), "--scorer", "pii", "--summary"]);
    assert!(!out.status.success());
}

#[test]
fn prepare_shards_open_together_for_training() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scored = dir.path().join("scored.jsonl");
    write_scored(&scored);
    let tok = dir.path().join("tok.json");
    assert_ok(&phf(&[
        "tokenizer",
        "train",
        "--input",
        path(&scored),
        "--vocab-size",
        "300",
        "--out",
        path(&tok),
    ]));
    let out = dir.path().join("data");
    for part in ["0/2", "1/2"] {
        let args = [
            "prepare",
            "--input",
            path(&scored),
            "--tokenizer",
            path(&tok),
            "--out",
            path(&out),
            "--block-size",
            "4",
        ];
        assert_ok(&phf(&[&args[..], &["--shard", part]].concat()));
    }
    let train = Shard::open(&out.join("train")).expect("both parts");
    train
        .check_tokenizer(&Tokenizer::load(&out.join("tokenizer.json")).expect("tokenizer"))
        .expect("same tokenizer");
    assert_eq!(train.header().provenance.part.as_deref(), Some("all/2"));
    let parts: u64 = (0..2)
        .map(|i| {
            let report: Value = serde_json::from_slice(
                &std::fs::read(out.join(format!("prepare-part-{i}-of-2.json"))).expect("report"),
            )
            .expect("parse");
            report["documents"].as_u64().expect("documents")
        })
        .sum();
    assert_eq!(parts, 101, "the parts hold every document once");

    let bad = phf(&[
        "prepare",
        "--input",
        path(&scored),
        "--tokenizer",
        path(&tok),
        "--out",
        path(&out),
        "--shard",
        "2/2",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid shard `2/2`"));
}
