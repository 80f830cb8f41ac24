//! Tests of `prepare_with_transform`: the transforms of `transform.rs` end to end, through files.

use super::*;
use crate::shard::Shard;
use crate::testutil::small_tokenizer;
use crate::threshold::{quantile, Threshold};
use crate::transform::AttributeSpec;

/// 40 documents of 1–3 sentences with `scores` (toxicity) and `scores_pii`, as JSONL.
fn write_corpus(dir: &Path) -> PathBuf {
    let sentences = [
        "The cat sat on the mat. ",
        "It was not amused! ",
        "Rain fell all day.\n",
    ];
    let lines: Vec<String> = (0..40usize)
        .map(|i| {
            let n = 1 + i % 3;
            let texts: Vec<&str> = (0..n).map(|j| sentences[(i + j) % 3]).collect();
            let scores: Vec<f64> = (0..n).map(|j| ((i * 7 + j) % 10) as f64 / 10.0).collect();
            let pii: Vec<f64> = (0..n).map(|j| ((i + j) % 4 == 0) as u8 as f64).collect();
            serde_json::json!({"texts": texts, "scores": scores, "scores_pii": pii}).to_string()
        })
        .collect();
    let path = dir.join("corpus.jsonl");
    std::fs::write(&path, lines.join("\n")).expect("write corpus");
    path
}

fn opts(seed: u64) -> PrepareOptions {
    PrepareOptions {
        block_size: 8,
        valid_fraction: 0.2,
        seed,
        progress: false,
    }
}

fn conditional(thresholds: &[(&str, &str)], drop: f64) -> TransformOptions {
    TransformOptions {
        kind: TransformKind::Conditional,
        attributes: thresholds
            .iter()
            .map(|(name, t)| AttributeSpec {
                name: (!name.is_empty()).then(|| name.to_string()),
                threshold: t.parse().expect("threshold"),
            })
            .collect(),
        drop,
    }
}

#[test]
fn conditional_shards_record_the_extended_tokenizer_and_resolved_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let base = small_tokenizer();
    let out = dir.path().join("prepared");
    let transform = conditional(&[("toxicity", "q0.25"), ("pii", "0")], 0.1);
    let report =
        prepare_with_transform(std::slice::from_ref(&corpus), &base, &opts(1), &transform, &out).expect("prepare");

    // The shard verifies against the tokenizer written beside it, not against the one without control tokens.
    let train = Shard::open(&out.join("train")).expect("train");
    let written = Tokenizer::load(&out.join(TOKENIZER_FILE)).expect("tokenizer");
    train.check_tokenizer(&written).expect("extended tokenizer");
    assert!(train.check_tokenizer(&base).is_err());
    assert_eq!(report.tokenizer_hash, written.hash());
    // ... and the base tokenizer with the header's control tokens added in order is the same tokenizer.
    let header = train.header();
    let tokens: Vec<&str> = header.transform.control_tokens().map(|c| c.token.as_str()).collect();
    assert_eq!(
        tokens,
        [
            "<|toxicity:aligned|>",
            "<|toxicity:misaligned|>",
            "<|pii:aligned|>",
            "<|pii:misaligned|>"
        ]
    );
    let mut extended = base.clone();
    let ids = extended.add_special_tokens(&tokens);
    assert_eq!(extended.hash(), header.tokenizer_hash);
    assert_eq!(ids, header.transform.control_tokens().map(|c| c.id).collect::<Vec<_>>());
    assert_eq!(header.vocab_size, base.vocab_size() + 4);

    // The quantile is resolved against every segment score of the input.
    let mut all: Vec<f32> = CorpusReader::open(std::slice::from_ref(&corpus))
        .expect("open")
        .flat_map(|d| d.expect("doc").scores)
        .collect();
    all.sort_by(f32::total_cmp);
    let record = &report.transform;
    assert_eq!(
        record.attributes[0].threshold as f32,
        quantile(&all, 0.25).expect("q") as f32
    );
    assert_eq!(record.attributes[0].threshold_given, "q0.25");
    assert_eq!((record.drop, record.seed), (Some(0.1), Some(1)));

    // Each attribute gets one decision per segment, and the report sums the two headers.
    let valid = Shard::open(&out.join("valid")).expect("valid");
    for k in 0..2 {
        let (t, v, r) = (
            header.transform.attributes[k].counts,
            valid.header().transform.attributes[k].counts,
            record.attributes[k].counts,
        );
        assert_eq!(r.aligned, t.aligned + v.aligned);
        assert_eq!(r.aligned + r.misaligned + r.dropped, all.len() as u64);
        assert!(r.dropped > 0 && r.aligned > 0 && r.misaligned > 0);
    }
    let stored = std::fs::read_to_string(out.join(REPORT_FILE)).expect("report");
    assert!(stored.contains("\"threshold_given\": \"q0.25\""), "{stored}");
}

#[test]
fn same_seed_gives_byte_identical_conditional_shards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = small_tokenizer();
    let transform = conditional(&[("", "q0.5")], 0.3);
    let run = |name: &str, seed: u64| {
        let out = dir.path().join(name);
        prepare_with_transform(std::slice::from_ref(&corpus), &tok, &opts(seed), &transform, &out).expect(name);
        out
    };
    let (a, b, c) = (run("a", 5), run("b", 5), run("c", 6));
    let read = |dir: &Path, file: &str| std::fs::read(dir.join("train").join(file)).expect("read");
    for file in ["header.json", "tokens.bin", "scores.bin"] {
        assert_eq!(read(&a, file), read(&b, file), "{file}");
    }
    assert_ne!(read(&a, "tokens.bin"), read(&c, "tokens.bin"));
    assert_eq!(
        std::fs::read(a.join(TOKENIZER_FILE)).expect("a"),
        std::fs::read(b.join(TOKENIZER_FILE)).expect("b")
    );
}

#[test]
fn filtering_packs_only_documents_at_or_below_the_threshold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = small_tokenizer();
    let out = dir.path().join("prepared");
    let transform = TransformOptions {
        kind: TransformKind::Filtering,
        attributes: vec![AttributeSpec {
            name: None,
            threshold: Threshold::Absolute(0.45),
        }],
        drop: 0.0,
    };
    let report =
        prepare_with_transform(std::slice::from_ref(&corpus), &tok, &opts(2), &transform, &out).expect("prepare");
    let kept = CorpusReader::open(std::slice::from_ref(&corpus))
        .expect("open")
        .filter(|d| d.as_ref().expect("doc").avg_score() <= 0.45)
        .count() as u64;
    let filtered = report.transform.documents_filtered.expect("filtered");
    assert_eq!(report.train.documents + report.valid.documents, kept);
    assert_eq!(kept + filtered, report.documents);
    assert!(kept > 0 && filtered > 0);
    assert_eq!(report.tokenizer_hash, tok.hash(), "filtering adds no tokens");
    let header = Shard::open(&out.join("train")).expect("train").header().clone();
    assert_eq!(header.transform.kind, TransformKind::Filtering);
    assert_eq!(header.transform.attributes[0].threshold, 0.45);
}

#[test]
fn bad_attribute_records_are_errors_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let original = std::fs::read_to_string(&corpus).expect("read");
    let transform = conditional(&[("toxicity", "0.5"), ("pii", "0")], 0.0);
    for (bad, expected) in [
        (r#"{"texts": ["a b c"], "scores": [0.1]}"#, "missing `scores_pii`"),
        (
            r#"{"texts": ["a", "b"], "scores": [0.1, 0.2], "scores_pii": [0]}"#,
            "`scores_pii` has 1 values",
        ),
        (
            r#"{"texts": ["a"], "scores": [0.1], "scores_pii": [NaN]}"#,
            "scores_pii[0] is NaN",
        ),
        (
            r#"{"texts": ["a"], "scores": [0.1], "scores_pii": [-1]}"#,
            "scores_pii[0] = -1 is negative",
        ),
        (
            r#"{"texts": ["a"], "scores": [0.1], "scores_pii": "x"}"#,
            "`scores_pii` is a string",
        ),
        (
            r#"{"texts": ["a"], "scores": [NaN], "scores_pii": [0]}"#,
            "scores[0] is NaN",
        ),
        (r#"{"texts": ["a"], "scores_pii": [0]}"#, "has `texts` but no `scores`"),
    ] {
        std::fs::write(&corpus, format!("{original}\n{bad}\n")).expect("write");
        let out = dir.path().join("prepared");
        let err = prepare_with_transform(
            std::slice::from_ref(&corpus),
            &small_tokenizer(),
            &opts(1),
            &transform,
            &out,
        )
        .expect_err(bad)
        .to_string();
        assert!(err.contains("corpus.jsonl:41:"), "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(!out.exists() && !dir.path().join("prepared.tmp").exists());
    }
}

#[test]
fn a_threshold_that_aligns_every_segment_leaves_no_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let out = dir.path().join("prepared");
    let transform = conditional(&[("", "5")], 0.01);
    let err = prepare_with_transform(&[corpus], &small_tokenizer(), &opts(1), &transform, &out)
        .expect_err("all aligned")
        .to_string();
    assert!(
        err.contains("makes all") && err.contains("aligned") && err.contains("q0.05="),
        "{err}"
    );
    assert!(!out.exists());
}
