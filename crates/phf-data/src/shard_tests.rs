//! Tests of `shard.rs`.

use super::*;
use crate::shard_writer::{unigram_entropy_nats, ShardSpec, ShardWriter};
use crate::testutil::{spec, tiny_gpt2, write_shard};

#[test]
fn write_then_open_roundtrip_u16() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("train");
    let header = write_shard(&path, spec(100, 4), 3);
    assert_eq!(header.token_dtype, TokenDtype::U16);
    assert_eq!((header.num_blocks, header.num_tokens), (3, 12));
    assert_eq!((header.num_documents, header.skipped_documents), (7, 2));
    assert!(!dir.path().join("train.tmp").exists());
    assert_eq!(std::fs::metadata(path.join(TOKENS_FILE)).expect("meta").len(), 24);

    let shard = Shard::open(&path).expect("open");
    assert_eq!(shard.header(), &header);
    assert_eq!(shard.num_blocks(), 3);
    assert_eq!(shard.block_tokens(2), vec![2, 3, 4, 5]);
    assert_eq!(shard.block_scores(1), &[0.1f32; 4]);
    let mut ids = vec![-1i64];
    shard.extend_block_tokens_i64(0, &mut ids);
    assert_eq!(ids, vec![-1, 0, 1, 2, 3]);
}

#[test]
fn large_vocab_uses_u32() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    let mut writer = ShardWriter::create(&path, spec(70_000, 2)).expect("create");
    writer.write_block(&[69_999, 65_536], &[0.0, 1.0]).expect("write");
    let header = writer.finish(1, 0, Provenance::default()).expect("finish");
    assert_eq!(header.token_dtype, TokenDtype::U32);
    let shard = Shard::open(&path).expect("open");
    assert_eq!(shard.block_tokens(0), vec![69_999, 65_536]);
    assert_eq!(TokenDtype::for_vocab(65_536), TokenDtype::U16);
    assert_eq!(TokenDtype::for_vocab(65_537), TokenDtype::U32);
}

#[test]
fn dropped_writer_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    {
        let mut writer = ShardWriter::create(&path, spec(10, 2)).expect("create");
        writer.write_block(&[1, 2], &[0.0, 0.0]).expect("write");
        assert!(dir.path().join("s.tmp").is_dir());
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
}

#[test]
fn bad_blocks_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = ShardWriter::create(&dir.path().join("s"), spec(10, 2)).expect("create");
    assert!(writer.write_block(&[1], &[0.0]).is_err());
    let err = writer.write_block(&[1, 10], &[0.0, 0.0]).expect_err("id").to_string();
    assert!(err.contains("token id 10 is outside the vocabulary of 10"), "{err}");
    assert!(writer.write_block(&[1, 2], &[0.0, f32::NAN]).is_err());
}

#[test]
fn open_checks_sizes_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    write_shard(&path, spec(100, 4), 2);
    let scores = path.join(SCORES_FILE);
    let bytes = std::fs::read(&scores).expect("read");
    std::fs::write(&scores, &bytes[..bytes.len() - 4]).expect("truncate");
    let err = Shard::open(&path).expect_err("truncated").to_string();
    assert!(
        err.contains("scores.bin has 28 bytes but header.json implies 32"),
        "{err}"
    );

    std::fs::write(path.join(HEADER_FILE), "{}").expect("write");
    let err = Shard::open(&path).expect_err("bad header").to_string();
    assert!(err.contains("header.json is not a shard header"), "{err}");

    let err = Shard::open(&dir.path().join("missing"))
        .expect_err("missing")
        .to_string();
    assert!(
        err.contains("missing: does not exist: give the `train` or `valid` folder"),
        "{err}"
    );

    let out = dir.path().join("prepared");
    std::fs::create_dir_all(out.join("train")).expect("mkdir");
    let err = Shard::open(&out).expect_err("prepare's output folder").to_string();
    assert!(err.contains("holds no shard (no header.json"), "{err}");
    assert!(err.contains("looks like `phf prepare`'s output folder"), "{err}");
}

#[test]
fn empty_shard_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    let header = write_shard(&path, spec(100, 4), 0);
    assert_eq!(header.unigram_entropy_nats, 0.0);
    assert_eq!(Shard::open(&path).expect("open").num_blocks(), 0);
}

#[test]
fn tokenizer_hash_mismatch_is_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tok = tiny_gpt2(dir.path());
    let path = dir.path().join("s");
    write_shard(&path, ShardSpec::new(&tok, 2), 1);
    let shard = Shard::open(&path).expect("open");
    shard.check_tokenizer(&tok).expect("same tokenizer");

    let mut other = tok.clone();
    other.add_special_tokens(&["<|aligned|>"]);
    let err = shard.check_tokenizer(&other).expect_err("mismatch").to_string();
    let expected = format!(
        "shard {} was made with tokenizer {}, but this run uses {}: re-run `phf prepare` with this tokenizer",
        path.display(),
        tok.hash(),
        other.hash()
    );
    assert_eq!(err, expected);
}

#[test]
fn unigram_entropy_in_nats() {
    // Uniform over 4 ids: ln 4. A single id: 0.
    assert!((unigram_entropy_nats(&[5, 5, 0, 5, 5]) - 4f64.ln()).abs() < 1e-12);
    assert_eq!(unigram_entropy_nats(&[0, 9, 0]), 0.0);
    // p = (3/4, 1/4): -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.5623351446188083 (Python: scipy.stats.entropy([3, 1])).
    assert!((unigram_entropy_nats(&[3, 1]) - 0.562_335_144_618_808_3).abs() < 1e-12);
}

#[test]
fn existing_shard_is_replaced_but_foreign_dir_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    write_shard(&path, spec(100, 4), 2);
    write_shard(&path, spec(100, 4), 5);
    assert_eq!(Shard::open(&path).expect("open").num_blocks(), 5);

    let foreign = dir.path().join("docs");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "x").expect("write");
    let mut writer = ShardWriter::create(&foreign, spec(100, 2)).expect("create");
    writer.write_block(&[1, 2], &[0.0, 0.0]).expect("write");
    assert!(writer.finish(1, 0, Provenance::default()).is_err());
    assert!(foreign.join("notes.txt").is_file());
}
