//! The `phf` binary on bad input: every case must exit non-zero with a message that names the file:line or the
//! config key and says what would fix it, and must leave nothing half-written behind. Empty documents are the
//! exception: they are skipped and counted, not errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `phf args...` and returns its output.
fn phf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(args)
        .output()
        .expect("run the phf binary")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a non-zero exit whose stderr contains every one of `needles`; returns stderr.
fn assert_fails_with(out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "expected failure, got success; stderr:\n{err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    err
}

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// File names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A few lines of reference-schema JSONL, enough for a ~300-token BPE and some 16-token blocks.
fn good_lines(topic: &str) -> Vec<String> {
    (0..40)
        .map(|i| {
            let texts = [
                format!("The {topic} number {i} learns the next word. "),
                format!("Every {topic} packs short sentences into a block. "),
            ];
            serde_json::json!({ "texts": texts, "scores": [0.0, (i % 5) as f64 * 0.1] }).to_string()
        })
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write input");
}

/// Trains a 300-token tokenizer on `good_lines(topic)` with `phf tokenizer train`; returns its path.
fn tokenizer(dir: &Path, topic: &str) -> PathBuf {
    let corpus = dir.join(format!("{topic}-corpus.jsonl"));
    write_lines(&corpus, &good_lines(topic));
    let out = dir.join(format!("{topic}-tokenizer.json"));
    let run = phf(&[
        "tokenizer",
        "train",
        "-i",
        s(&corpus),
        "--vocab-size",
        "300",
        "-o",
        s(&out),
    ]);
    assert!(run.status.success(), "tokenizer train failed:\n{}", stderr(&run));
    out
}

/// `phf prepare` of `input` with `tok` into `out`, 16-token blocks.
fn prepare(input: &Path, tok: &Path, out: &Path) -> Output {
    phf(&[
        "prepare",
        "-i",
        s(input),
        "--tokenizer",
        s(tok),
        "-o",
        s(out),
        "--block-size",
        "16",
        "--valid-fraction",
        "0.1",
    ])
}

/// Runs `phf prepare` on `lines` written to `docs.jsonl` and asserts it fails with `needles`, leaving no output
/// folder and no staging folder behind (the temp dir holds only what the test wrote).
fn assert_prepare_refuses(lines: &[String], needles: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tok = tokenizer(tmp.path(), "model");
    let docs = tmp.path().join("docs.jsonl");
    write_lines(&docs, lines);
    let before = listing(tmp.path());
    let out = prepare(&docs, &tok, &tmp.path().join("data"));
    assert_fails_with(&out, needles);
    assert_eq!(listing(tmp.path()), before, "prepare left files behind");
}

/// Three good records with `bad` as line 3.
fn with_bad_line_3(bad: &str) -> Vec<String> {
    let mut lines = good_lines("model");
    lines.insert(2, bad.to_string());
    lines
}

#[test]
fn malformed_json_line_names_file_and_line() {
    assert_prepare_refuses(
        &with_bad_line_3(r#"{"texts": ["unterminated"], "scores": [0.0]"#),
        &["docs.jsonl:3", "malformed JSON", "each line must be one JSON object"],
    );
}

#[test]
fn malformed_json_line_stops_tokenizer_training() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let docs = tmp.path().join("docs.jsonl");
    write_lines(&docs, &with_bad_line_3("not json at all"));
    let out_path = tmp.path().join("tokenizer.json");
    let out = phf(&[
        "tokenizer",
        "train",
        "-i",
        s(&docs),
        "--vocab-size",
        "300",
        "-o",
        s(&out_path),
    ]);
    assert_fails_with(
        &out,
        &["docs.jsonl:3", "malformed JSON", "each line must be one JSON object"],
    );
    assert_eq!(listing(tmp.path()), ["docs.jsonl"], "tokenizer train left files behind");
}

#[test]
fn invalid_utf8_names_file_line_and_the_fix() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tok = tokenizer(tmp.path(), "model");
    let docs = tmp.path().join("docs.jsonl");
    let mut bytes = (good_lines("model")[..2].join("\n") + "\n").into_bytes();
    // Latin-1 "café": 0xE9 is not UTF-8.
    bytes.extend_from_slice(b"{\"texts\": [\"caf\xe9\"], \"scores\": [0.0]}\n");
    std::fs::write(&docs, bytes).expect("write input");
    let before = listing(tmp.path());
    let out = prepare(&docs, &tok, &tmp.path().join("data"));
    assert_fails_with(&out, &["docs.jsonl:3", "invalid UTF-8", "re-encode the file as UTF-8"]);
    assert_eq!(listing(tmp.path()), before, "prepare left files behind");
}

#[test]
fn segments_scores_length_mismatch_names_file_and_line() {
    assert_prepare_refuses(
        &with_bad_line_3(r#"{"texts": ["one. ", "two. "], "scores": [0.0]}"#),
        &[
            "docs.jsonl:3",
            "2 segments",
            "1 values",
            "every segment needs exactly one score",
        ],
    );
}

#[test]
fn nan_score_names_file_and_line() {
    // Python's json.dumps writes a bare NaN.
    assert_prepare_refuses(
        &with_bad_line_3(r#"{"texts": ["one. ", "two. "], "scores": [0.0, NaN]}"#),
        &["docs.jsonl:3", "scores[1]", "not a finite number", "re-run the scorer"],
    );
}

#[test]
fn negative_score_names_file_and_line() {
    assert_prepare_refuses(
        &with_bad_line_3(r#"{"texts": ["one. ", "two. "], "scores": [-0.5, 0.1]}"#),
        &["docs.jsonl:3", "scores[0]", "is negative", "negate them"],
    );
}

#[test]
fn empty_documents_are_skipped_and_counted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tok = tokenizer(tmp.path(), "model");
    let docs = tmp.path().join("docs.jsonl");
    let mut lines = good_lines("model");
    lines.insert(1, r#"{"texts": [], "scores": []}"#.into());
    lines.insert(3, r#"{"texts": ["", "   "], "scores": [0.0, 0.0]}"#.into());
    lines.insert(5, r#"{"text": ""}"#.into());
    write_lines(&docs, &lines);
    let data = tmp.path().join("data");
    let out = prepare(&docs, &tok, &data);
    assert!(out.status.success(), "prepare failed:\n{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
    assert_eq!(report["skipped_documents"], 3, "{report:#}");
    assert_eq!(report["skipped_by_reason"]["empty"], 3, "{report:#}");
    assert_eq!(report["documents"], 40, "{report:#}");
    assert!(data.join("prepare.json").is_file());
}

/// A tokenizer, shards prepared with it, and a run config for the tiny model on them.
struct Prepared {
    tmp: tempfile::TempDir,
    config: PathBuf,
}

impl Prepared {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let tok = tokenizer(tmp.path(), "model");
        let data = tmp.path().join("data");
        let out = prepare(&tmp.path().join("model-corpus.jsonl"), &tok, &data);
        assert!(out.status.success(), "prepare failed:\n{}", stderr(&out));
        let config = tmp.path().join("run.toml");
        Prepared { tmp, config }.with_config("")
    }

    /// Writes the run config, with `extra` TOML appended.
    fn with_config(self, extra: &str) -> Self {
        let text = format!(
            r#"[model]
preset = "tiny"
n_ctx = 16
n_embd = 32
n_head = 2
[data]
train = "data/train"
valid = "data/valid"
tokenizer = "model-tokenizer.json"
[training]
batch_size = 2
total_tokens = 64
{extra}
"#
        );
        std::fs::write(&self.config, text).expect("write run.toml");
        self
    }

    fn run_dir(&self) -> PathBuf {
        self.tmp.path().join("run")
    }

    /// `phf train --config run.toml --run-dir run --quiet` plus `args`.
    fn train(&self, args: &[&str]) -> Output {
        let run_dir = self.run_dir();
        let mut all = vec![
            "train",
            "--config",
            s(&self.config),
            "--run-dir",
            s(&run_dir),
            "--quiet",
        ];
        all.extend_from_slice(args);
        phf(&all)
    }

    fn assert_no_run_dir(&self) {
        assert!(!self.run_dir().exists(), "train created {}", self.run_dir().display());
    }
}

#[test]
fn unknown_config_key_names_section_and_key() {
    let p = Prepared::new().with_config("[optimizer]\nlearning_rate = 3e-4\n");
    let out = p.train(&[]);
    assert_fails_with(
        &out,
        &[
            "run.toml",
            "optimizer.learning_rate",
            "expected one of `lr`",
            "remove the key",
        ],
    );
    p.assert_no_run_dir();
}

#[test]
fn unknown_config_section_is_named() {
    let p = Prepared::new().with_config("[extra]\nx = 1\n");
    let out = p.train(&[]);
    assert_fails_with(
        &out,
        &[
            "run.toml",
            "extra",
            "use [model], [optimizer], [data], [objective], [training] or [eval]",
        ],
    );
    p.assert_no_run_dir();
}

#[test]
fn unknown_key_given_with_set_is_named() {
    let p = Prepared::new();
    let out = p.train(&["--set", "optimizer.learning_rate=1e-3"]);
    assert_fails_with(&out, &["optimizer.learning_rate", "expected one of `lr`"]);
    p.assert_no_run_dir();
}

#[test]
fn zero_batch_size_from_set_names_the_key() {
    let p = Prepared::new();
    let out = p.train(&["--set", "training.batch_size=0"]);
    assert_fails_with(&out, &["training.batch_size", "must be positive"]);
    p.assert_no_run_dir();
}

#[test]
fn unknown_device_from_set_names_key_and_choices() {
    let p = Prepared::new();
    let out = p.train(&["--set", "training.device=tpu"]);
    assert_fails_with(&out, &["training.device", "`tpu`", "use `cpu`, `cuda` or `cuda:N`"]);
    p.assert_no_run_dir();
}

#[test]
fn set_without_equals_shows_the_form() {
    let p = Prepared::new();
    let out = p.train(&["--set", "training.batch_size"]);
    assert_fails_with(&out, &["--set training.batch_size", "expected section.key=value"]);
    p.assert_no_run_dir();
}

#[test]
fn shards_from_another_tokenizer_ask_to_rerun_prepare() {
    let p = Prepared::new();
    let other = tokenizer(p.tmp.path(), "parrot");
    let out = p.train(&["--set", &format!("data.tokenizer={}", s(&other))]);
    assert_fails_with(&out, &["data/train", "was made with tokenizer", "re-run `phf prepare`"]);
    p.assert_no_run_dir();
}

#[test]
fn a_data_folder_that_is_not_a_shard_names_its_key_and_what_to_give() {
    let p = Prepared::new();
    let out = p.train(&["--set", &format!("data.train={}", s(&p.tmp.path().join("data")))]);
    assert_fails_with(
        &out,
        &[
            "config key data.train",
            "holds no shard",
            "looks like `phf prepare`'s output folder",
        ],
    );
    p.assert_no_run_dir();
}

#[test]
fn a_run_that_stopped_before_its_first_checkpoint_starts_again_saying_so() {
    let p = Prepared::new();
    std::fs::create_dir(p.run_dir()).expect("mkdir run");
    std::fs::write(p.run_dir().join("log.jsonl"), "{\"step\": 1}\n").expect("write log");
    let out = p.train(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stopped before its first checkpoint: starting it again"),
        "{}",
        stderr(&out)
    );
    let log = std::fs::read_to_string(p.run_dir().join("log.jsonl")).expect("log");
    assert!(!log.starts_with("{\"step\": 1}"), "{log}");
    assert!(
        !stderr(&out).contains("tok/s"),
        "--quiet printed progress lines:\n{}",
        stderr(&out)
    );
}

#[test]
fn resume_without_checkpoints_says_how_to_start() {
    let p = Prepared::new();
    std::fs::create_dir(p.run_dir()).expect("mkdir run");
    let out = phf(&["train", "--resume", "--run-dir", s(&p.run_dir()), "--quiet"]);
    assert_fails_with(&out, &["--resume", "no checkpoint to resume from", "without --resume"]);
    assert!(listing(&p.run_dir()).is_empty(), "resume wrote into the run dir");
}

#[test]
fn resume_with_config_without_checkpoints_writes_nothing() {
    let p = Prepared::new();
    let out = p.train(&["--resume"]);
    assert_fails_with(&out, &["no checkpoint to resume from", "without --resume"]);
    p.assert_no_run_dir();
}

#[test]
fn sample_from_a_folder_that_is_not_a_model() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = tmp.path().join("notes");
    std::fs::create_dir(&folder).expect("mkdir");
    std::fs::write(folder.join("readme.txt"), "not a model").expect("write");
    let out = phf(&["sample", "--model", s(&folder), "-n", "1"]);
    assert_fails_with(
        &out,
        &["notes", "neither a model directory", "--run-dir of a `phf train` run"],
    );
    assert_eq!(listing(&folder), ["readme.txt"]);
}
