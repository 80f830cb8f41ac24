//! `phf score` end to end through the real binary: the output schema, segments that rejoin to the input byte for
//! byte, shards that partition the corpus, standard input, an external command scorer, and bad input that stops
//! with `file:line` and leaves no output behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn phf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(args)
        .output()
        .expect("run the phf binary")
}

/// Runs `phf args...` with `stdin` piped in.
fn phf_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the phf binary");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for phf")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(out.status.success(), "phf failed:\n{}", stderr(out));
}

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

fn read_records(path: &Path) -> Vec<Value> {
    records(&std::fs::read_to_string(path).expect("read output"))
}

/// File names in `dir`, sorted (hidden ones included: a leftover temporary file must show up).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Documents with awkward whitespace, PII and non-ASCII text.
fn documents() -> Vec<String> {
    vec![
        "Write to alice@example.com today. Or call 212-555-0199!\n".into(),
        "  Leading spaces.  Trailing too.   ".into(),
        "Windows\r\nline endings.\r\nÜnïcödé — 日本語。テスト！ Done".into(),
        String::new(),
        "No terminal punctuation at all".into(),
        "Visit https://example.org/page?x=1 now. Tabs\there.\n\n\nBlank lines above.".into(),
    ]
}

fn write_jsonl(path: &Path, docs: &[String]) {
    let lines: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, text)| json!({ "id": i, "source": "test", "text": text }).to_string())
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").expect("write input");
}

/// Checks the reference schema of one record and that its segments rejoin to `text`.
fn check_record(record: &Value, text: &str, scorer: &str) {
    let texts: Vec<&str> = record["texts"]
        .as_array()
        .expect("texts is an array")
        .iter()
        .map(|t| t.as_str().expect("segments are strings"))
        .collect();
    let scores: Vec<f64> = record["scores"]
        .as_array()
        .expect("scores is an array")
        .iter()
        .map(|v| v.as_f64().expect("scores are numbers"))
        .collect();
    assert_eq!(texts.concat(), text, "segments must rejoin to the input byte for byte");
    assert_eq!(texts.len(), scores.len());
    assert_eq!(record["num_sents"], texts.len());
    assert!(scores.iter().all(|&x| x.is_finite() && x >= 0.0), "{scores:?}");
    let mean = if scores.is_empty() {
        0.0
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    let avg = record["avg_score"].as_f64().expect("avg_score is a number");
    assert!((avg - mean).abs() < 1e-6, "avg_score {avg} vs mean {mean}");
    assert_eq!(record["scorer"], scorer);
    assert!(record["scorer_version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(record.get("text").is_none(), "`text` is replaced by `texts`");
}

#[test]
fn pii_records_follow_the_reference_schema_and_rejoin() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let docs = documents();
    write_jsonl(&corpus.join("a.jsonl"), &docs);
    std::fs::write(corpus.join("b.txt"), "A whole file. Email bob@example.net\nfor more.\n").unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("scored.jsonl");

    let run = phf(&["score", "-i", s(&corpus), "--scorer", "pii", "-o", s(&out)]);
    assert_ok(&run);
    assert!(stderr(&run).contains("scored 7 documents"), "{}", stderr(&run));

    let records = read_records(&out);
    assert_eq!(records.len(), docs.len() + 1);
    for (i, (record, text)) in records.iter().zip(&docs).enumerate() {
        check_record(record, text, "pii");
        assert_eq!(record["id"], i, "carried fields are kept");
        assert_eq!(record["source"], "test");
        let keys: Vec<&str> = record.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 8, "{keys:?}");
    }
    check_record(&records[6], "A whole file. Email bob@example.net\nfor more.\n", "pii");
    // The email and phone number are PII; the plain sentence is not.
    assert!(records[0]["scores"][0].as_f64().unwrap() > 0.0);
    assert_eq!(records[4]["scores"][0].as_f64().unwrap(), 0.0);
    assert_eq!(records[3]["num_sents"], 0, "an empty document has no segments");

    // Only the output and its provenance, no temporary file.
    assert_eq!(listing(&out_dir), ["scored.jsonl", "scored.jsonl.meta.json"]);
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("scored.jsonl.meta.json")).unwrap()).unwrap();
    assert_eq!(meta["scorer_name"], "pii");
    assert_eq!(meta["segmenter"], "sentences");
    assert_eq!(meta["documents"], 7);
    assert_eq!(meta["empty_documents"], 1);
    assert_eq!(meta["shard"], "0/1");
    assert_eq!(meta["files"].as_array().unwrap().len(), 2);
}

#[test]
fn lines_and_none_segmenters_rejoin_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let docs = documents();
    write_jsonl(&input, &docs);
    for segment in ["lines", "none"] {
        let run = phf(&["score", "-i", s(&input), "--scorer", "pii", "--segment", segment]);
        assert_ok(&run);
        let records = records(&String::from_utf8(run.stdout).unwrap());
        assert_eq!(records.len(), docs.len());
        for (record, text) in records.iter().zip(&docs) {
            check_record(record, text, "pii");
        }
        if segment == "none" {
            assert_eq!(records[2]["num_sents"], 1);
        } else {
            assert_eq!(records[2]["num_sents"], 3);
        }
    }
}

#[test]
fn shards_partition_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let docs: Vec<String> = (0..9)
        .map(|i| format!("Document number {i}. It has two sentences."))
        .collect();
    // Two files: the document count runs on across them.
    write_jsonl(&dir.path().join("a.jsonl"), &docs[..4]);
    let second: Vec<String> = docs[4..]
        .iter()
        .enumerate()
        .map(|(i, text)| json!({ "id": i + 4, "text": text }).to_string())
        .collect();
    std::fs::write(dir.path().join("b.jsonl"), second.join("\n") + "\n").unwrap();
    let ids = |shard: &str| -> Vec<u64> {
        let out = dir.path().join(format!("shard-{}.jsonl", shard.replace('/', "-")));
        let run = phf(&[
            "score",
            "-i",
            s(&dir.path().join("a.jsonl")),
            s(&dir.path().join("b.jsonl")),
            "--scorer",
            "pii",
            "--shard",
            shard,
            "-o",
            s(&out),
        ]);
        assert_ok(&run);
        read_records(&out).iter().map(|r| r["id"].as_u64().unwrap()).collect()
    };
    assert_eq!(ids("0/2"), [0, 2, 4, 6, 8]);
    assert_eq!(ids("1/2"), [1, 3, 5, 7]);
    assert_eq!(ids("0/1"), (0..9).collect::<Vec<_>>());
}

#[test]
fn bad_shards_and_unknown_scorers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_jsonl(&input, &documents());
    let out = dir.path().join("out.jsonl");
    for (args, needle) in [
        (&["--shard", "2/2"][..], "out of range"),
        (&["--shard", "0/0"], "at least 1"),
        (&["--shard", "1"], "i/n"),
        (&["--scorer", "nonsense"], "unknown scorer"),
        (&["--segment", "words"], "sentences"),
    ] {
        let mut full = vec!["score", "-i", s(&input), "-o", s(&out)];
        if !args.contains(&"--scorer") {
            full.extend(["--scorer", "pii"]);
        }
        full.extend(args);
        let run = phf(&full);
        assert!(!run.status.success(), "{args:?} should fail");
        assert!(stderr(&run).contains(needle), "{args:?}: {}", stderr(&run));
        assert_eq!(listing(dir.path()), ["in.jsonl"], "{args:?} left files behind");
    }
}

#[test]
fn bad_input_names_file_line_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let good = json!({ "text": "Fine." }).to_string();
    let cases: [(&[u8], &[&str]); 5] = [
        (b"{\"text\": \"unterminated", &["invalid JSON", "one JSON object"]),
        (b"{\"id\": 7}", &["no `text` field"]),
        (
            b"{\"text\": [\"a\", \"b\"]}",
            &["`text` is an array", "expected a string"],
        ),
        (b"{\"text\": \"caf\xe9\"}", &["not valid UTF-8", "re-encode"]),
        (b"[\"text\"]", &["expected a JSON object"]),
    ];
    for (i, (bad, needles)) in cases.iter().enumerate() {
        let case_dir = dir.path().join(format!("case{i}"));
        std::fs::create_dir(&case_dir).unwrap();
        let input = case_dir.join("bad.jsonl");
        // Many good documents first, so the bad one falls in a later batch, after output was written.
        let mut bytes = Vec::new();
        for _ in 0..5 {
            bytes.extend_from_slice(format!("{good}\n").as_bytes());
        }
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(bad);
        bytes.extend_from_slice(b"\n");
        std::fs::write(&input, bytes).unwrap();
        let out = case_dir.join("scored.jsonl");
        let run = phf(&[
            "score",
            "-i",
            s(&input),
            "--scorer",
            "pii",
            "--batch-size",
            "2",
            "-o",
            s(&out),
        ]);
        let err = stderr(&run);
        assert!(!run.status.success(), "case {i} should fail");
        assert!(err.contains("bad.jsonl:7"), "case {i}: {err}");
        for needle in *needles {
            assert!(err.contains(needle), "case {i} lacks {needle:?}: {err}");
        }
        assert_eq!(listing(&case_dir), ["bad.jsonl"], "case {i} left files behind");
    }
}

#[test]
fn reads_jsonl_from_stdin() {
    let docs = documents();
    let input: String = docs
        .iter()
        .map(|text| json!({ "text": text, "meta": {"lang": "en"} }).to_string() + "\n")
        .collect();
    let run = phf_with_stdin(&["score", "-i", "-", "--scorer", "pii"], &input);
    assert_ok(&run);
    let records = records(&String::from_utf8(run.stdout).unwrap());
    assert_eq!(records.len(), docs.len());
    for (record, text) in records.iter().zip(&docs) {
        check_record(record, text, "pii");
        assert_eq!(record["meta"], json!({"lang": "en"}));
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn external_command_scorer() {
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: python3 not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let docs = vec!["LOUD NOISES. quiet words.".to_string(), "Half HALF".to_string()];
    write_jsonl(&input, &docs);
    let scorer = "cmd:python3 scripts/score/example_scorer.py";
    let run = Command::new(env!("CARGO_BIN_EXE_phf"))
        .current_dir(repo_root())
        .args(["score", "-i", s(&input), "--scorer", scorer])
        .output()
        .expect("run phf");
    assert_ok(&run);
    let records = records(&String::from_utf8(run.stdout).unwrap());
    assert_eq!(records.len(), 2);
    for (record, text) in records.iter().zip(&docs) {
        check_record(record, text, scorer);
    }
    // Upper-case letters / letters per segment, by hand.
    assert_eq!(records[0]["texts"], json!(["LOUD NOISES. ", "quiet words."]));
    assert_eq!(records[0]["scores"], json!([1.0, 0.0]));
    assert!((records[1]["scores"][0].as_f64().unwrap() - 5.0 / 8.0).abs() < 1e-6);
}

#[test]
fn pep8_scores_lines_of_code() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("code.jsonl");
    // `x=1` lacks the spaces around `=` that pycodestyle's E225 asks for
    write_jsonl(&input, &["import os\nx=1\n".to_string()]);
    let out = dir.path().join("out.jsonl");
    let run = phf(&[
        "score",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "--scorer",
        "pep8",
        "--segment",
        "lines",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let record: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert_eq!(record["texts"], json!(["import os\n", "x=1\n"]));
    let scores: Vec<f64> = record["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(scores[0], 0.0, "a clean line scores 0");
    assert!(scores[1] > 0.0, "E225 on `x=1`: {scores:?}");
}
