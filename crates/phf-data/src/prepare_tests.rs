//! Tests of `prepare.rs`.

use super::*;
use crate::pack::pack_all;
use crate::reader::CorpusReader;
use crate::shard::Shard;
use crate::shard_writer::unigram_entropy_nats;
use crate::testutil::small_tokenizer;

/// 60 documents of 1–3 scored sentences, plus 2 empty ones, as reference-schema JSONL.
fn write_corpus(dir: &Path) -> PathBuf {
    let sentences = [
        "The cat sat on the mat. ",
        "It was not amused! ",
        "Rain fell all day.\n",
        "Why? ",
    ];
    let mut lines = Vec::new();
    for i in 0..60usize {
        let n = 1 + i % 3;
        let texts: Vec<&str> = (0..n).map(|j| sentences[(i + j) % sentences.len()]).collect();
        let scores: Vec<f64> = (0..n).map(|j| ((i * 7 + j) % 10) as f64 / 10.0).collect();
        lines.push(serde_json::json!({"texts": texts, "scores": scores}).to_string());
        if i % 30 == 0 {
            lines.push(r#"{"texts": [""], "scores": [0.0]}"#.to_string());
        }
    }
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

#[test]
fn prepare_writes_both_splits_with_consistent_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = small_tokenizer();
    let out = dir.path().join("prepared");
    let report = prepare(std::slice::from_ref(&corpus), &tok, &opts(1), &out).expect("prepare");

    assert_eq!(report.documents, 60);
    assert_eq!(report.skipped_documents, 2);
    assert_eq!(report.skipped_by_reason.get("empty"), Some(&2));
    assert_eq!(report.train.documents + report.valid.documents, 60);
    assert!(report.valid.documents > 0 && report.train.documents > report.valid.documents);
    assert_eq!(report.bytes_read, std::fs::metadata(&corpus).expect("meta").len());
    assert!(out.join(REPORT_FILE).is_file());
    assert_eq!(
        Tokenizer::load(&out.join(TOKENIZER_FILE)).expect("tokenizer").hash(),
        tok.hash()
    );
    assert!(!dir.path().join("prepared.tmp").exists());

    let train = Shard::open(&out.join("train")).expect("train shard");
    let valid = Shard::open(&out.join("valid")).expect("valid shard");
    train.check_tokenizer(&tok).expect("same tokenizer");
    let header = train.header();
    assert_eq!(header.num_blocks, report.train.blocks);
    assert_eq!(header.num_tokens, report.train.blocks * 8);
    assert_eq!(header.skipped_documents, 2);
    assert_eq!(header.provenance.split.as_deref(), Some("train"));
    assert_eq!(header.provenance.inputs, vec![corpus.display().to_string()]);
    assert_eq!(valid.header().num_documents, report.valid.documents);
    assert!(report.train.dropped_tokens < 8 && report.valid.dropped_tokens < 8);

    // The stored entropy is that of the stored tokens.
    let mut counts = vec![0u64; tok.vocab_size()];
    for i in 0..train.num_blocks() {
        train.block_tokens(i).into_iter().for_each(|t| counts[t as usize] += 1);
    }
    assert!((header.unigram_entropy_nats - unigram_entropy_nats(&counts)).abs() < 1e-12);
    assert!(header.unigram_entropy_nats > 0.0);
}

#[test]
fn train_shard_is_exactly_the_packing_of_its_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = small_tokenizer();
    let out = dir.path().join("prepared");
    prepare(std::slice::from_ref(&corpus), &tok, &opts(3), &out).expect("prepare");

    let docs: Vec<Document> = CorpusReader::open(&[corpus])
        .expect("open")
        .collect::<Result<_>>()
        .expect("read");
    let train_docs: Vec<&Document> = docs
        .iter()
        .enumerate()
        .filter(|(i, _)| !is_valid(3, *i as u64, 0.2))
        .map(|(_, d)| d)
        .collect();
    let expected = pack_all(&tok, 8, train_docs).expect("pack");
    let shard = Shard::open(&out.join("train")).expect("open");
    let stored: Vec<(Vec<u32>, Vec<f32>)> = (0..shard.num_blocks())
        .map(|i| (shard.block_tokens(i), shard.block_scores(i).to_vec()))
        .collect();
    assert_eq!(stored, expected);
}

#[test]
fn same_seed_gives_byte_identical_shards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = small_tokenizer();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    prepare(std::slice::from_ref(&corpus), &tok, &opts(7), &a).expect("a");
    prepare(std::slice::from_ref(&corpus), &tok, &opts(7), &b).expect("b");
    prepare(std::slice::from_ref(&corpus), &tok, &opts(8), &c).expect("c");
    let read = |dir: &Path, split: &str, file: &str| std::fs::read(dir.join(split).join(file)).expect("read");
    for split in ["train", "valid"] {
        for file in ["header.json", "tokens.bin", "scores.bin"] {
            assert_eq!(read(&a, split, file), read(&b, split, file), "{split}/{file}");
        }
    }
    assert_ne!(
        read(&a, "train", "tokens.bin"),
        read(&c, "train", "tokens.bin"),
        "another seed, another split"
    );
}

#[test]
fn an_error_leaves_no_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let mut content = std::fs::read_to_string(&corpus).expect("read");
    content.push_str("\n{\"texts\": [\"x\"], \"scores\": [-1]}\n");
    std::fs::write(&corpus, content).expect("write");
    let out = dir.path().join("prepared");
    let err = prepare(&[corpus], &small_tokenizer(), &opts(1), &out).expect_err("negative score");
    assert!(err.to_string().contains("corpus.jsonl:63"), "{err}");
    assert!(!out.exists());
    assert!(!dir.path().join("prepared.tmp").exists());
}

#[test]
fn bad_options_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = small_tokenizer();
    let out = dir.path().join("prepared");
    let bad_fraction = PrepareOptions {
        valid_fraction: 1.0,
        ..opts(1)
    };
    assert!(prepare(std::slice::from_ref(&corpus), &tok, &bad_fraction, &out).is_err());
    let bad_block = PrepareOptions {
        block_size: 1,
        ..opts(1)
    };
    assert!(prepare(std::slice::from_ref(&corpus), &tok, &bad_block, &out).is_err());
    assert!(!out.exists() && !dir.path().join("prepared.tmp").exists());
}

#[test]
fn valid_assignment_follows_the_fraction() {
    let n = 100_000;
    let hits = (0..n).filter(|&i| is_valid(42, i, 0.1)).count();
    assert!((9_500..10_500).contains(&hits), "{hits}");
    assert_eq!((0..1000).filter(|&i| is_valid(42, i, 0.0)).count(), 0);
}

#[test]
fn train_tokenizer_on_corpus_and_report_bad_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let (tok, stats) = train_tokenizer(std::slice::from_ref(&corpus), 280).expect("train");
    assert_eq!(stats.documents, 60);
    assert_eq!(tok.decode(&tok.encode("The cat sat.")), "The cat sat.");

    std::fs::write(&corpus, "{\"texts\": [\"a\"], \"scores\": [0]}\nnot json\n").expect("write");
    let err = train_tokenizer(&[corpus], 280).expect_err("bad line").to_string();
    assert!(err.contains("corpus.jsonl:2"), "{err}");
}
