//! `phf prepare --transform ...` through the binary: a multi-attribute conditional run end to end, and bad flag
//! values that must fail with a message naming the flag.

use std::path::Path;
use std::process::{Command, Output};

use phf_data::{Shard, Tokenizer};

fn phf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(args)
        .output()
        .expect("run the phf binary")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// 40 documents with `scores` (toxicity) and `scores_pii`, and a BPE tokenizer trained on them.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let lines: Vec<String> = (0..40)
        .map(|i| {
            let texts = [
                format!("Sentence number {i} is here. "),
                "Another short one.\n".to_string(),
            ];
            let scores = [(i % 10) as f64 / 10.0, 0.05];
            let pii = [0.0, (i % 3 == 0) as u8 as f64];
            serde_json::json!({"texts": texts, "scores": scores, "scores_pii": pii}).to_string()
        })
        .collect();
    let corpus = dir.join("docs.jsonl");
    std::fs::write(&corpus, lines.join("\n") + "\n").expect("write corpus");
    let tok = Tokenizer::train_bpe(lines.into_iter(), 300).expect("train");
    let tok_path = dir.join("tokenizer.json");
    tok.save(&tok_path).expect("save");
    (corpus, tok_path)
}

#[test]
fn conditional_multi_attribute_prepare_writes_control_tokens_and_thresholds() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (corpus, tok) = setup(tmp.path());
    let out = tmp.path().join("data");
    let args = [
        "prepare",
        "--input",
        s(&corpus),
        "--tokenizer",
        s(&tok),
        "--out",
        s(&out),
        "--block-size",
        "16",
        "--valid-fraction",
        "0.1",
        "--transform",
        "conditional",
        "--attributes",
        "toxicity,pii",
        "--thresholds",
        "q0.5,0",
        "--drop",
        "0.1",
    ];
    let run = phf(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("report JSON on stdout");
    let transform = &report["transform"];
    assert_eq!(transform["kind"], "conditional");
    assert_eq!(transform["drop"], 0.1);
    assert_eq!(transform["attributes"][0]["threshold_given"], "q0.5");
    assert_eq!(transform["attributes"][0]["threshold"], 0.05); // the median of 40 × 0.05 and 40 spread scores
    assert_eq!(transform["attributes"][1]["scores_field"], "scores_pii");

    let shard = Shard::open(&out.join("train")).expect("train shard");
    let extended = Tokenizer::load(&out.join("tokenizer.json")).expect("extended tokenizer");
    shard
        .check_tokenizer(&extended)
        .expect("shard matches the written tokenizer");
    let ids: Vec<u32> = shard.header().transform.control_tokens().map(|c| c.id).collect();
    assert_eq!(ids, (300..304).collect::<Vec<_>>());
    assert_eq!(extended.token_id("<|pii:misaligned|>"), Some(303));
    // The first block starts with EOS and the first segment's control tokens (unless dropped).
    let first = shard.block_tokens(0);
    assert!(first.iter().any(|t| ids.contains(t)), "{first:?}");
}

#[test]
fn bad_transform_flags_fail_naming_the_flag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (corpus, tok) = setup(tmp.path());
    let out = tmp.path().join("data");
    let base = [
        "prepare",
        "--input",
        s(&corpus),
        "--tokenizer",
        s(&tok),
        "--out",
        s(&out),
    ];
    let cases: [(&[&str], &[&str]); 8] = [
        (&["--transform", "bogus"], &["--transform"]),
        (
            &["--transform", "conditional", "--threshold", "0", "--drop", "1"],
            &["--drop"],
        ),
        (
            &["--transform", "conditional", "--threshold", "q2"],
            &["--threshold", "q0.05"],
        ),
        (&["--transform", "conditional"], &["--threshold"]),
        (&["--threshold", "0.1"], &["--transform"]),
        (
            &[
                "--transform",
                "conditional",
                "--attributes",
                "toxicity,pii",
                "--thresholds",
                "0",
            ],
            &["--attributes"],
        ),
        (
            &[
                "--transform",
                "conditional",
                "--attributes",
                "toxicity,bio",
                "--thresholds",
                "q0.5,0",
            ],
            &["docs.jsonl:1:", "scores_bio"],
        ),
        // Every segment score is <= 5: all aligned. The message lists the quantiles to choose from.
        (
            &["--transform", "conditional", "--threshold", "5"],
            &["--threshold", "aligned", "q0.5=0.050000"],
        ),
    ];
    for (extra, needles) in cases {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let run = phf(&args);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{extra:?} succeeded");
        for needle in needles {
            assert!(err.contains(needle), "{extra:?}: stderr lacks {needle:?}:\n{err}");
        }
        assert!(
            !out.exists() && !tmp.path().join("data.tmp").exists(),
            "{extra:?} left output"
        );
    }
}
