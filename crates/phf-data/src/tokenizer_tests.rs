//! Tests of `tokenizer.rs`.

use super::*;
use crate::testutil::{corpus, small_tokenizer, tiny_gpt2};

#[test]
fn train_save_load_roundtrip() {
    let tok = small_tokenizer();
    assert_eq!(tok.eos_id(), 0);
    assert_eq!(tok.token_id(EOS_TOKEN), Some(0));
    assert!(
        tok.vocab_size() > 257 && tok.vocab_size() <= 300,
        "{}",
        tok.vocab_size()
    );
    for text in corpus()
        .iter()
        .take(5)
        .chain(["unseen wörds ✓ \t\n  x".to_string()].iter())
    {
        let ids = tok.encode(text);
        assert!(!ids.is_empty());
        assert_eq!(&tok.decode(&ids), text);
    }
    // Merges were learnt: a frequent word is shorter than its bytes.
    assert!(tok.encode("the quick brown fox").len() < "the quick brown fox".len());

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tokenizer.json");
    tok.save(&path).expect("save");
    let loaded = Tokenizer::load(&path).expect("load");
    assert_eq!(loaded.hash(), tok.hash());
    assert_eq!(loaded.vocab_size(), tok.vocab_size());
    assert_eq!(
        loaded.encode("The quick brown fox."),
        tok.encode("The quick brown fox.")
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
    assert_eq!(leftovers.len(), 1, "the temporary file must be renamed away");
}

#[test]
fn training_is_deterministic() {
    let a = small_tokenizer();
    let b = small_tokenizer();
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 64);
    // Pinned across processes (hash maps inside the trainer are randomly seeded per process): a change here means
    // the trainer or the `tokenizers` version changed, and shards prepared before will no longer match.
    assert_eq!(
        a.encode("The quick brown fox, the lazy dog."),
        vec![274, 221, 264, 292, 221, 280, 299, 78, 221, 288, 88, 12, 259, 221, 295, 89, 221, 285, 71, 14]
    );
}

#[test]
fn encode_never_inserts_special_tokens() {
    let mut tok = small_tokenizer();
    let ids = tok.add_special_tokens(&["<|aligned|>"]);
    let text = "x <|endoftext|> y <|aligned|>";
    let encoded = tok.encode(text);
    assert!(!encoded.contains(&tok.eos_id()));
    assert!(!encoded.contains(&ids[0]));
    assert_eq!(tok.decode(&encoded), text);
    assert_eq!(tok.decode(&[tok.eos_id()]), EOS_TOKEN);
}

#[test]
fn encode_batch_matches_encode() {
    let tok = small_tokenizer();
    let texts: Vec<&str> = vec!["one two", "", "three\nfour 🦀"];
    let batch = tok.encode_batch(&texts);
    let single: Vec<Vec<u32>> = texts.iter().map(|t| tok.encode(t)).collect();
    assert_eq!(batch, single);
    assert!(batch[1].is_empty());
}

#[test]
fn add_special_tokens_keeps_existing_ids_and_changes_hash() {
    let mut tok = small_tokenizer();
    let before = tok.hash();
    let n = tok.vocab_size() as u32;
    let ids = tok.add_special_tokens(&["<|aligned|>", "<|misaligned|>", EOS_TOKEN]);
    assert_eq!(ids, vec![n, n + 1, 0]);
    assert_eq!(tok.vocab_size(), n as usize + 2);
    assert_eq!(tok.add_special_tokens(&["<|misaligned|>"]), vec![n + 1]);
    assert_ne!(tok.hash(), before);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tokenizer.json");
    tok.save(&path).expect("save");
    let loaded = Tokenizer::load(&path).expect("load");
    assert_eq!(loaded.token_id("<|misaligned|>"), Some(n + 1));
    assert_eq!(loaded.hash(), tok.hash());
}

#[test]
fn decode_drops_ids_outside_the_vocabulary() {
    let tok = small_tokenizer();
    let mut ids = tok.encode("hello");
    ids.push(tok.vocab_size() as u32 + 7);
    assert_eq!(tok.decode(&ids), "hello");
}

#[test]
fn too_small_vocab_is_a_config_error() {
    let err = Tokenizer::train_bpe(corpus().into_iter(), 100)
        .expect_err("too small")
        .to_string();
    assert!(err.contains("at least 257"), "{err}");
}

#[test]
fn gpt2_files_load_with_their_eos() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tok = tiny_gpt2(dir.path());
    assert_eq!(tok.eos_id(), 12);
    assert_eq!(tok.vocab_size(), 13);
    assert_eq!(tok.encode("hello world"), vec![11, 4, 5, 3, 6, 2, 7]);
    assert_eq!(tok.decode(&[11, 4, 5, 3, 6, 2, 7, 12]), "hello world<|endoftext|>");

    let merges = dir.path().join("vocab.bpe");
    let err = Tokenizer::gpt2_from_files(&dir.path().join("nope.json"), &merges).expect_err("missing");
    assert!(err.to_string().contains("nope.json"), "{err}");
}

#[test]
fn load_reports_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, "{\"not\": \"a tokenizer\"}").expect("write");
    let err = Tokenizer::load(&path).expect_err("bad").to_string();
    assert!(err.contains("tokenizer.json: not a valid tokenizer.json"), "{err}");
    let err = Tokenizer::load(&dir.path().join("missing.json"))
        .expect_err("missing")
        .to_string();
    assert!(
        err.contains("missing.json: does not exist: give a tokenizer.json"),
        "{err}"
    );
}
