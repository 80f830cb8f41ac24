//! Tests of `reader.rs`: one per accepted shape and one per bad-input case.

use super::*;
use crate::inputs::resolve_inputs;
use crate::jsonl::null_out_non_finite;

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, content).expect("write");
    path
}

fn read_all(inputs: &[PathBuf]) -> Result<(Vec<Document>, ReadStats)> {
    let mut reader = CorpusReader::open(inputs)?;
    let docs = reader.by_ref().collect::<Result<Vec<_>>>()?;
    Ok((docs, reader.stats().clone()))
}

fn first_error(content: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "corpus.jsonl", content);
    read_all(&[path]).expect_err("bad input must fail").to_string()
}

const GOOD: &str = r#"{"texts": ["Hello. ", "World."], "scores": [0.0, 0.5], "avg_score": 0.25, "num_sents": 2}"#;

#[test]
fn reads_reference_schema_and_single_text_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = format!(
        "{GOOD}\n\n{{\"text\": \"raw text\", \"score\": 0.25, \"meta\": 1}}\n{{\"text\": \"no score\", \"source\": \"x\"}}"
    );
    let path = write(dir.path(), "c.jsonl", content.as_bytes());
    let (docs, stats) = read_all(std::slice::from_ref(&path)).expect("read");
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].texts, vec!["Hello. ", "World."]);
    assert_eq!(docs[0].scores, vec![0.0, 0.5]);
    assert_eq!(
        docs[0].source.as_deref(),
        Some(format!("{}:1", path.display()).as_str())
    );
    assert_eq!(docs[1].texts, vec!["raw text"]);
    assert_eq!(docs[1].scores, vec![0.25]);
    assert_eq!(docs[2].scores, vec![0.0]);
    assert_eq!(docs[2].source.as_deref(), Some("x"));
    assert_eq!(stats.documents, 3);
    assert_eq!(stats.bytes_read, content.len() as u64);
}

#[test]
fn malformed_json_names_file_and_line() {
    let err = first_error(format!("{GOOD}\n{GOOD}\n{{\"texts\": [\"a\"], \"scores\": [0.0\n").as_bytes());
    assert!(err.contains("corpus.jsonl:3"), "{err}");
    assert!(err.contains("malformed JSON"), "{err}");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let mut content = format!("{GOOD}\n").into_bytes();
    content.extend_from_slice(b"{\"text\": \"caf\xe9\"}\n");
    let err = first_error(&content);
    assert!(err.contains("corpus.jsonl:2"), "{err}");
    assert!(err.contains("invalid UTF-8 at byte 14"), "{err}");
}

#[test]
fn length_mismatch_is_an_error() {
    let err = first_error(br#"{"texts": ["a", "b"], "scores": [0.0]}"#);
    assert!(err.contains("corpus.jsonl:1"), "{err}");
    assert!(err.contains("`texts` has 2 segments but `scores` has 1"), "{err}");
}

#[test]
fn nan_and_infinite_scores_are_errors() {
    let err = first_error(br#"{"texts": ["a", "b"], "scores": [0.0, NaN]}"#);
    assert!(err.contains("corpus.jsonl:1: scores[1] is NaN or Infinity"), "{err}");
    let err = first_error(br#"{"texts": ["NaN"], "scores": [-Infinity]}"#);
    assert!(err.contains("scores[0] is NaN or Infinity"), "{err}");
    let err = first_error(br#"{"texts": ["a"], "scores": [null]}"#);
    assert!(err.contains("scores[0] is null"), "{err}");
    let err = first_error(br#"{"texts": ["a"], "scores": [1e300]}"#);
    assert!(err.contains("not a finite number"), "{err}");
}

#[test]
fn negative_score_is_an_error() {
    let err = first_error(format!("{GOOD}\n{{\"texts\": [\"a\"], \"scores\": [-0.5]}}").as_bytes());
    assert!(err.contains("corpus.jsonl:2: scores[0] = -0.5 is negative"), "{err}");
}

#[test]
fn missing_or_mistyped_keys_are_errors() {
    let err = first_error(br#"{"scores": [0.0]}"#);
    assert!(err.contains("corpus.jsonl:1: missing `texts`"), "{err}");
    let err = first_error(br#"{"texts": ["a"]}"#);
    assert!(err.contains("has `texts` but no `scores`"), "{err}");
    let err = first_error(br#"{"texts": ["a", 3], "scores": [0, 0]}"#);
    assert!(err.contains("`texts[1]` is a number"), "{err}");
    let err = first_error(br#"{"texts": ["a"], "scores": ["0.1"]}"#);
    assert!(err.contains("`scores[0]` is a string"), "{err}");
    let err = first_error(b"[1, 2]");
    assert!(err.contains("expected a JSON object, found a list"), "{err}");
}

#[test]
fn empty_documents_are_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = format!(
        "{{\"texts\": [], \"scores\": []}}\n{GOOD}\n{{\"texts\": [\"\", \" \\n\"], \"scores\": [0, 0]}}\n{{\"text\": \"\"}}\n"
    );
    let path = write(dir.path(), "c.jsonl", content.as_bytes());
    let empty_txt = write(dir.path(), "empty.txt", b"\n\n");
    let (docs, stats) = read_all(&[path, empty_txt]).expect("read");
    assert_eq!(docs.len(), 1);
    assert_eq!(stats.documents, 1);
    assert_eq!(stats.skipped, 4);
    assert_eq!(stats.skipped_by_reason.get("empty"), Some(&4));
}

#[test]
fn text_file_is_one_document_with_score_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "a.txt", b"line one\nline two\n");
    let (docs, _) = read_all(&[path]).expect("read");
    assert_eq!(
        docs,
        vec![Document::single("line one\nline two\n", 0.0).with_source(docs[0].source.clone().unwrap_or_default())]
    );

    let bad = write(dir.path(), "bad.txt", b"fine\nalso fine\nnot \xff fine\n");
    let err = read_all(&[bad]).expect_err("invalid utf-8").to_string();
    assert!(err.contains("bad.txt:3: invalid UTF-8 at byte 5"), "{err}");
}

#[test]
fn directory_reads_jsonl_and_txt_sorted_by_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "b/2.txt", b"second");
    write(dir.path(), "a.jsonl", br#"{"text": "first"}"#);
    write(dir.path(), "b/3.jsonl", br#"{"text": "third"}"#);
    write(dir.path(), "c.csv", b"ignored");
    write(dir.path(), ".hidden/x.txt", b"ignored");
    let (docs, stats) = read_all(&[dir.path().to_path_buf()]).expect("read");
    let texts: Vec<String> = docs.iter().map(Document::text).collect();
    assert_eq!(texts, vec!["first", "second", "third"]);
    assert_eq!(stats.files, 3);
}

#[test]
fn unsupported_inputs_say_what_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = write(dir.path(), "x.csv", b"a,b");
    let err = resolve_inputs(&[csv]).expect_err("csv").to_string();
    assert!(err.contains("x.csv: unsupported file type"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let err = resolve_inputs(&[empty]).expect_err("empty dir").to_string();
    assert!(err.contains("no .jsonl or .txt files"), "{err}");
    let err = resolve_inputs(&[dir.path().join("missing.jsonl")])
        .expect_err("missing")
        .to_string();
    assert!(err.contains("missing.jsonl"), "{err}");
}

#[test]
fn null_out_non_finite_leaves_strings_alone() {
    assert_eq!(
        null_out_non_finite(r#"{"texts": ["NaN \"Infinity\""], "scores": [NaN, -Infinity, Infinity]}"#),
        r#"{"texts": ["NaN \"Infinity\""], "scores": [null, null, null]}"#
    );
}

#[test]
fn attribute_scores_are_read_and_can_be_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = r#"{"texts": ["a", "b"], "scores": [0, 1], "scores_pii": [0.5, 0]}
{"texts": ["c"], "scores": [0]}
"#;
    let path = write(dir.path(), "c.jsonl", content.as_bytes());
    let (docs, _) = read_all(std::slice::from_ref(&path)).expect("read");
    assert_eq!(docs[0].scores_of(Some("pii")), Some(&[0.5, 0.0][..]));
    assert_eq!(docs[1].scores_of(Some("pii")), None);
    let text = write(dir.path(), "t.txt", b"plain text");
    for (input, expected) in [
        (path, "c.jsonl:2: missing `scores_pii`"),
        (text, "t.txt: has no `scores_pii`"),
    ] {
        let err = CorpusReader::open(&[input])
            .expect("open")
            .require_attributes(&["pii".to_string()])
            .collect::<Result<Vec<_>>>()
            .expect_err("required")
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}
