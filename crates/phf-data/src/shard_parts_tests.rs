//! `prepare --shard i/n` end to end: parts are disjoint, cover the corpus, keep the whole run's splits and
//! transform decisions, and open together as one shard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::prepare::{prepare_part, PrepareOptions};
use crate::shard::Shard;
use crate::testutil::tiny_gpt2;
use crate::tokenizer::Tokenizer;
use crate::transform::{AttributeSpec, TransformKind, TransformOptions};

/// 50 one-token documents ("h", "e", "l", "o" in turn) with distinct scores `i/100`: with blocks of
/// `EOS + token` each document is exactly one block, so a block's score names its document.
fn write_corpus(dir: &Path) -> PathBuf {
    let lines: Vec<String> = (0..50)
        .map(|i| {
            let text = ["h", "e", "l", "o"][i % 4];
            serde_json::json!({"text": text, "score": i as f64 / 100.0}).to_string()
        })
        .collect();
    let path = dir.join("corpus.jsonl");
    std::fs::write(&path, lines.join("\n")).expect("write");
    path
}

fn opts(block_size: usize) -> PrepareOptions {
    PrepareOptions {
        block_size,
        valid_fraction: 0.2,
        seed: 5,
        progress: false,
    }
}

/// Every block of a shard as (tokens, first score), sorted.
fn blocks(shard: &Shard) -> Vec<(Vec<u32>, u32)> {
    let mut all: Vec<(Vec<u32>, u32)> = (0..shard.num_blocks())
        .map(|i| (shard.block_tokens(i), shard.block_scores(i)[0].to_bits()))
        .collect();
    all.sort();
    all
}

fn prepare_parts(corpus: &Path, tok: &Tokenizer, opts: &PrepareOptions, t: &TransformOptions, n: u64, out: &Path) {
    for index in 0..n {
        let part = CorpusPart { index, count: n };
        prepare_part(&[corpus.to_path_buf()], tok, opts, t, part, out).expect("prepare part");
    }
}

#[test]
fn parts_are_disjoint_cover_the_corpus_and_open_as_one_shard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = tiny_gpt2(dir.path());
    let plain = TransformOptions::default();
    let whole = dir.path().join("whole");
    prepare_part(
        std::slice::from_ref(&corpus),
        &tok,
        &opts(2),
        &plain,
        CorpusPart::ALL,
        &whole,
    )
    .expect("whole");
    let parted = dir.path().join("parted");
    prepare_parts(&corpus, &tok, &opts(2), &plain, 3, &parted);

    for split in ["train", "valid"] {
        let reference = Shard::open(&whole.join(split)).expect("whole shard");
        let mut seen: BTreeMap<u32, u64> = BTreeMap::new();
        for index in 0..3 {
            let part = Shard::open(&parted.join(split).join(format!("part-{index}-of-3"))).expect("part");
            assert_eq!(
                part.header().provenance.part.as_deref(),
                Some(format!("{index}/3").as_str())
            );
            for (_, score) in blocks(&part) {
                *seen.entry(score).or_default() += 1;
                // Document k = 100·score sits in part k mod 3.
                assert_eq!((f32::from_bits(score) * 100.0).round() as u64 % 3, index);
            }
        }
        assert!(seen.values().all(|&n| n == 1), "a document in two parts");
        let mut expected: Vec<u32> = blocks(&reference).into_iter().map(|(_, s)| s).collect();
        expected.sort();
        assert_eq!(
            seen.into_keys().collect::<Vec<_>>(),
            expected,
            "{split}: parts ≠ whole run"
        );

        // Opened together, the parts are the whole run's shard, block order aside.
        let together = Shard::open(&parted.join(split)).expect("parts together");
        assert_eq!(blocks(&together), blocks(&reference));
        let (h, r) = (together.header(), reference.header());
        assert_eq!(
            (h.num_blocks, h.num_tokens, h.num_documents),
            (r.num_blocks, r.num_tokens, r.num_documents)
        );
        assert!((h.unigram_entropy_nats - r.unigram_entropy_nats).abs() < 1e-12);
        assert_eq!(h.provenance.part.as_deref(), Some("all/3"));
        together.check_tokenizer(&tok).expect("same tokenizer");
    }
    for index in 0..3 {
        assert!(parted.join(format!("prepare-part-{index}-of-3.json")).is_file());
        assert!(!parted.join(format!(".part-{index}-of-3.tmp")).exists());
    }
    assert_eq!(
        Tokenizer::load(&parted.join("tokenizer.json"))
            .expect("tokenizer")
            .hash(),
        tok.hash()
    );
}

#[test]
fn conditional_parts_share_the_whole_corpus_threshold_and_drop_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = tiny_gpt2(dir.path());
    let conditional = TransformOptions {
        kind: TransformKind::Conditional,
        attributes: vec![AttributeSpec {
            name: None,
            threshold: "q0.3".parse().expect("threshold"),
        }],
        drop: 0.3,
    };
    let whole = dir.path().join("whole");
    prepare_part(
        std::slice::from_ref(&corpus),
        &tok,
        &opts(3),
        &conditional,
        CorpusPart::ALL,
        &whole,
    )
    .expect("whole");
    let parted = dir.path().join("parted");
    prepare_parts(&corpus, &tok, &opts(3), &conditional, 2, &parted);
    for split in ["train", "valid"] {
        let reference = Shard::open(&whole.join(split)).expect("whole");
        let together = Shard::open(&parted.join(split)).expect("parts");
        let (ta, tb) = (&reference.header().transform, &together.header().transform);
        assert_eq!(
            ta.attributes[0].threshold, tb.attributes[0].threshold,
            "threshold of the whole corpus"
        );
        // Same documents in the split, same seeded decisions per document: same control tokens placed and dropped.
        assert_eq!(ta.attributes[0].counts, tb.attributes[0].counts, "{split}");
        assert!(ta.attributes[0].counts.dropped > 0 && ta.attributes[0].counts.aligned > 0);
    }
}

#[test]
fn incomplete_mixed_or_renamed_parts_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = tiny_gpt2(dir.path());
    let plain = TransformOptions::default();
    let out = dir.path().join("out");
    let part = |index, count| CorpusPart { index, count };
    prepare_part(std::slice::from_ref(&corpus), &tok, &opts(2), &plain, part(0, 3), &out).expect("0/3");
    prepare_part(std::slice::from_ref(&corpus), &tok, &opts(2), &plain, part(2, 3), &out).expect("2/3");
    let err = Shard::open(&out.join("train")).expect_err("missing 1/3").to_string();
    assert!(err.contains("missing parts 1/3"), "{err}");

    prepare_part(std::slice::from_ref(&corpus), &tok, &opts(2), &plain, part(1, 2), &out).expect("1/2");
    let err = Shard::open(&out.join("train")).expect_err("mixed").to_string();
    assert!(err.contains("different splits"), "{err}");
    for split in ["train", "valid"] {
        std::fs::remove_dir_all(out.join(split).join("part-1-of-2")).expect("rm");
    }

    // Another block size in part 1/3: made differently.
    prepare_part(std::slice::from_ref(&corpus), &tok, &opts(4), &plain, part(1, 3), &out).expect("1/3");
    let err = Shard::open(&out.join("train")).expect_err("different").to_string();
    assert!(err.contains("made differently"), "{err}");
    prepare_part(std::slice::from_ref(&corpus), &tok, &opts(2), &plain, part(1, 3), &out)
        .expect("1/3 again replaces it");
    Shard::open(&out.join("train")).expect("complete now");

    // Swapped folder names.
    std::fs::rename(out.join("valid/part-1-of-3"), out.join("valid/swap")).expect("mv");
    std::fs::rename(out.join("valid/part-2-of-3"), out.join("valid/part-1-of-3")).expect("mv");
    std::fs::rename(out.join("valid/swap"), out.join("valid/part-2-of-3")).expect("mv");
    let err = Shard::open(&out.join("valid")).expect_err("renamed").to_string();
    assert!(err.contains("renamed"), "{err}");
}

#[test]
fn parts_refuse_an_unsharded_output_and_another_tokenizer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = write_corpus(dir.path());
    let tok = tiny_gpt2(dir.path());
    let plain = TransformOptions::default();
    let whole = dir.path().join("whole");
    prepare_part(
        std::slice::from_ref(&corpus),
        &tok,
        &opts(2),
        &plain,
        CorpusPart::ALL,
        &whole,
    )
    .expect("whole");
    let half = CorpusPart { index: 0, count: 2 };
    let err =
        prepare_part(std::slice::from_ref(&corpus), &tok, &opts(2), &plain, half, &whole).expect_err("unsharded there");
    assert!(err.to_string().contains("unsharded"), "{err}");

    let out = dir.path().join("out");
    prepare_part(std::slice::from_ref(&corpus), &tok, &opts(2), &plain, half, &out).expect("0/2");
    let mut other = tok.clone();
    other.add_special_tokens(&["<|extra|>"]);
    let second = CorpusPart { index: 1, count: 2 };
    let err = prepare_part(&[corpus], &other, &opts(2), &plain, second, &out).expect_err("other tokenizer");
    assert!(err.to_string().contains("same tokenizer"), "{err}");
    assert!(!out.join("train/part-1-of-2").exists());
}

#[test]
fn part_specs_parse_and_partition() {
    let parts: Vec<CorpusPart> = ["0/3", "1/3", "2/3"].iter().map(|s| s.parse().expect("part")).collect();
    for k in 0..30 {
        assert_eq!(parts.iter().filter(|p| p.contains(k)).count(), 1);
    }
    assert_eq!(parts[2].dir_name(), "part-2-of-3");
    assert_eq!(CorpusPart::from_dir_name("part-2-of-3"), Some(parts[2]));
    assert_eq!(CorpusPart::from_dir_name("part-3-of-3"), None);
    for bad in ["3/3", "0/0", "1", "a/b", "-1/2"] {
        assert!(bad.parse::<CorpusPart>().is_err(), "{bad}");
    }
}
