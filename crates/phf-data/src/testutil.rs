//! Fixtures shared by the unit tests of several modules.

use std::path::Path;

use crate::shard::{Provenance, ShardHeader};
use crate::shard_writer::{ShardSpec, ShardWriter};
use crate::tokenizer::Tokenizer;

/// A small English/code corpus with repetition, so BPE has merges to learn.
pub(crate) fn corpus() -> Vec<String> {
    let lines = [
        "The quick brown fox jumps over the lazy dog. ",
        "A stitch in time saves nine.\n",
        "def main():\n    return 42\n",
        "Naïve café résumé — “quotes” and emoji 🦀. ",
        "the the the then there these those\n",
    ];
    lines.iter().cycle().take(200).map(|s| s.to_string()).collect()
}

/// A trained byte-level BPE of at most 300 tokens; EOS = 0.
pub(crate) fn small_tokenizer() -> Tokenizer {
    Tokenizer::train_bpe(corpus().into_iter(), 300).expect("train")
}

/// A hand-made miniature of GPT-2's `encoder.json` / `vocab.bpe` written into `dir`, whose ids are known by heart:
/// `h`=0 `e`=1 `l`=2 `o`=3 `Ġ`(space)=4 `w`=5 `r`=6 `d`=7 `he`=8 `ll`=9 `hell`=10 `hello`=11 EOS=12.
pub(crate) fn tiny_gpt2(dir: &Path) -> Tokenizer {
    let encoder = dir.join("encoder.json");
    let merges = dir.join("vocab.bpe");
    let vocab = serde_json::json!({
        "h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7,
        "he": 8, "ll": 9, "hell": 10, "hello": 11, "<|endoftext|>": 12
    });
    std::fs::write(&encoder, vocab.to_string()).expect("write encoder.json");
    std::fs::write(&merges, "#version: 0.2\nh e\nl l\nhe ll\nhell o\n").expect("write vocab.bpe");
    Tokenizer::gpt2_from_files(&encoder, &merges).expect("gpt2 files")
}

/// A shard spec with a made-up tokenizer hash.
pub(crate) fn spec(vocab_size: usize, block_size: usize) -> ShardSpec {
    ShardSpec {
        tokenizer_hash: "abc".into(),
        vocab_size,
        eos_id: 0,
        block_size,
    }
}

/// Writes a shard at `dir` whose block `i` holds tokens `(i + j) % 100` and scores `i / 10`; 7 documents, 2 skipped.
pub(crate) fn write_shard(dir: &Path, spec: ShardSpec, num_blocks: u32) -> ShardHeader {
    let t = spec.block_size as u32;
    let mut writer = ShardWriter::create(dir, spec).expect("create");
    for i in 0..num_blocks {
        let tokens: Vec<u32> = (0..t).map(|j| (i + j) % 100).collect();
        let scores = vec![i as f32 / 10.0; t as usize];
        writer.write_block(&tokens, &scores).expect("write");
    }
    writer.finish(7, 2, Provenance::default()).expect("finish")
}
