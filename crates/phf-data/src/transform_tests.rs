//! Tests of `transform.rs`: golden token/score layouts on the tiny GPT-2 vocabulary, whose ids are known by heart:
//! h0 e1 l2 o3 Ġ4 w5 r6 d7 he8 ll9 hell10 hello11 EOS12; control tokens get the next ids, 13, 14, ...

use std::collections::BTreeMap;

use super::*;
use crate::pack::{pack_all, Block, Packer};
use crate::testutil::tiny_gpt2;

fn doc(texts: &[&str], scores: &[f32]) -> Document {
    Document {
        texts: texts.iter().map(|t| t.to_string()).collect(),
        scores: scores.to_vec(),
        attribute_scores: BTreeMap::new(),
        source: None,
    }
}

fn with_pii(mut d: Document, pii: &[f32]) -> Document {
    d.attribute_scores.insert("pii".into(), pii.to_vec());
    d
}

fn opts(kind: TransformKind, thresholds: &[(Option<&str>, &str)], drop: f64) -> TransformOptions {
    TransformOptions {
        kind,
        attributes: thresholds
            .iter()
            .map(|(name, t)| AttributeSpec {
                name: name.map(str::to_string),
                threshold: t.parse().expect("threshold"),
            })
            .collect(),
        drop,
    }
}

/// Resolves `opts` against `docs` and the tokenizer (extended in place).
fn transformer(opts: &TransformOptions, seed: u64, docs: &[Document], tok: &mut Tokenizer) -> Result<Transformer> {
    let scan = ScoreScan::collect(docs.iter().cloned().map(Ok), &opts.score_fields())?;
    Transformer::new(opts, seed, &scan, tok)
}

/// Applies `t` to `docs` (document `i` has index `i`) and packs them into every complete block.
fn pack(t: &Transformer, tok: &Tokenizer, block_size: usize, docs: &[Document]) -> (Vec<Block>, TransformCounts) {
    let mut packer = Packer::new(tok, block_size).expect("packer");
    let mut counts = t.counts();
    for (i, d) in docs.iter().enumerate() {
        let segments = d.texts.iter().map(|s| tok.encode(s)).collect();
        if let Some(ids) = t.apply(i as u64, d, segments, &mut counts).expect("apply") {
            packer.push_encoded(&ids, &d.scores);
        }
    }
    (packer.finish().0, counts)
}

#[test]
fn plain_is_the_spec_packing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tok = tiny_gpt2(dir.path());
    let docs = [doc(&["hello", " world"], &[0.1, 0.9]), doc(&["hello"], &[0.0])];
    let (blocks, _) = pack(&Transformer::plain(), &tok, 4, &docs);
    assert_eq!(
        blocks,
        vec![
            (vec![12, 11, 4, 5], vec![0.1, 0.1, 0.9, 0.9]),
            (vec![3, 6, 2, 7], vec![0.9, 0.9, 0.9, 0.9]),
        ]
    );
    assert_eq!(blocks, pack_all(&tok, 4, &docs).expect("pack"));
    assert_eq!(
        Transformer::plain().record(&TransformCounts::default()),
        TransformRecord::default()
    );
}

#[test]
fn filtering_drops_documents_whose_avg_score_is_above_the_threshold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let hash = tok.hash();
    // avg_scores 0.5, 0.0, 0.2: only the first is above 0.3.
    let docs = [
        doc(&["hello", " world"], &[0.1, 0.9]),
        doc(&["hello"], &[0.0]),
        doc(&["he"], &[0.2]),
    ];
    let t = transformer(
        &opts(TransformKind::Filtering, &[(None, "0.3")], 0.0),
        1,
        &docs,
        &mut tok,
    )
    .expect("new");
    assert_eq!(tok.hash(), hash, "filtering adds no tokens");
    let (blocks, counts) = pack(&t, &tok, 4, &docs);
    assert_eq!(blocks, vec![(vec![12, 11, 12, 8], vec![0.0, 0.0, 0.2, 0.2])]);
    let record = t.record(&counts);
    assert_eq!(record.kind, TransformKind::Filtering);
    assert_eq!(record.documents_filtered, Some(1));
    assert_eq!(record.attributes[0].threshold, 0.3);
    assert_eq!(record.attributes[0].threshold_given, "0.3");
    assert_eq!(record.attributes[0].counts.documents_above_threshold, 1);
    assert_eq!((record.drop, record.seed), (None, None));
}

#[test]
fn conditional_prefixes_each_segment_after_the_leading_eos() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let docs = [doc(&["hello", " world"], &[0.1, 0.9])];
    let t = transformer(
        &opts(TransformKind::Conditional, &[(None, "0.5")], 0.0),
        1,
        &docs,
        &mut tok,
    )
    .expect("new");
    assert_eq!(
        (tok.token_id("<|aligned|>"), tok.token_id("<|misaligned|>")),
        (Some(13), Some(14))
    );
    let (blocks, counts) = pack(&t, &tok, 5, &docs);
    // EOS <|aligned|> hello <|misaligned|> Ġ | w o r l d; each control token carries its segment's score.
    assert_eq!(
        blocks,
        vec![
            (vec![12, 13, 11, 14, 4], vec![0.1, 0.1, 0.1, 0.9, 0.9]),
            (vec![5, 3, 6, 2, 7], vec![0.9; 5]),
        ]
    );
    let record = t.record(&counts);
    let tokens: Vec<(&str, u32)> = record.control_tokens().map(|c| (c.token.as_str(), c.id)).collect();
    assert_eq!(tokens, vec![("<|aligned|>", 13), ("<|misaligned|>", 14)]);
    let c = record.attributes[0].counts;
    assert_eq!((c.aligned, c.misaligned, c.dropped), (1, 1, 0));
    assert_eq!(
        (record.drop, record.seed, record.documents_filtered),
        (Some(0.0), Some(1), None)
    );
}

#[test]
fn conditional_with_dropped_control_tokens_golden() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let docs = [
        doc(&["he", "he", "he", "he"], &[0.0, 1.0, 0.0, 1.0]),
        doc(&["he", "he", "he", "he"], &[1.0, 1.0, 0.0, 0.0]),
    ];
    let t = transformer(
        &opts(TransformKind::Conditional, &[(None, "0.5")], 0.5),
        7,
        &docs,
        &mut tok,
    )
    .expect("new");
    let (blocks, counts) = pack(&t, &tok, 2, &docs);
    let tokens: Vec<u32> = blocks.iter().flat_map(|(t, _)| t.clone()).collect();
    let scores: Vec<f32> = blocks.iter().flat_map(|(_, s)| s.clone()).collect();
    // Which of the 8 control tokens are dropped is fixed by the seed (splitmix64 of (7, document, segment, 0)).
    assert_eq!(tokens, GOLDEN_DROPPED_TOKENS);
    let golden_scores = [0., 0., 0., 1., 0., 0., 1., 1., 1., 1., 1., 0., 0., 0.];
    assert_eq!(scores, golden_scores);
    let c = counts.attributes[0];
    assert_eq!(c.aligned + c.misaligned + c.dropped, 8);
    assert_eq!(
        c.dropped as usize,
        8 - tokens.iter().filter(|&&t| t == 13 || t == 14).count()
    );
    // Every control token carries the score of the segment it leads: 0 for aligned, 1 for misaligned here.
    for (&t, &s) in tokens.iter().zip(&scores) {
        match t {
            13 => assert_eq!(s, 0.0),
            14 => assert_eq!(s, 1.0),
            _ => {}
        }
    }
}

/// From the first run of `conditional_with_dropped_control_tokens_golden` (seed 7, drop 0.5), checked by hand:
/// segments 1 and 3 of both documents lost their control token, the others lead with the right one.
const GOLDEN_DROPPED_TOKENS: &[u32] = &[
    12, 13, 8, /* dropped */ 8, 13, 8, /* dropped */ 8, //
    12, 14, 8, /* dropped */ 8, 13, 8, /* dropped */ 8,
];

#[test]
fn drop_fraction_is_respected_and_seeded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let docs: Vec<Document> = (0..2000).map(|i| doc(&["he"; 5], &[(i % 3) as f32; 5])).collect();
    let o = opts(TransformKind::Conditional, &[(None, "q0.5")], 0.1);
    let t = transformer(&o, 3, &docs, &mut tok).expect("new");
    let (blocks_a, counts) = pack(&t, &tok, 16, &docs);
    let c = counts.attributes[0];
    let fraction = c.dropped as f64 / 10_000.0;
    assert!((0.09..0.11).contains(&fraction), "{fraction}");
    // q0.5 of the scores {0, 1, 2} in equal parts is 1: scores 0 and 1 are aligned.
    assert_eq!(t.record(&counts).attributes[0].threshold, 1.0);
    assert!(c.aligned > c.misaligned);
    let (blocks_b, _) = pack(&transformer(&o, 3, &docs, &mut tok).expect("new"), &tok, 16, &docs);
    let (blocks_c, _) = pack(&transformer(&o, 4, &docs, &mut tok).expect("new"), &tok, 16, &docs);
    assert_eq!(blocks_a, blocks_b, "same seed, same drops");
    assert_ne!(blocks_a, blocks_c, "another seed, other drops");
}

#[test]
fn multi_attribute_gives_one_control_token_per_attribute_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let docs = [with_pii(doc(&["hello", " world"], &[0.1, 0.9]), &[2.0, 0.0])];
    let o = opts(
        TransformKind::Conditional,
        &[(Some("toxicity"), "0.5"), (Some("pii"), "0")],
        0.0,
    );
    assert_eq!(o.score_fields(), vec![None, Some("pii".to_string())]);
    let t = transformer(&o, 1, &docs, &mut tok).expect("new");
    let ids: Vec<_> = [
        "<|toxicity:aligned|>",
        "<|toxicity:misaligned|>",
        "<|pii:aligned|>",
        "<|pii:misaligned|>",
    ]
    .iter()
    .map(|s| tok.token_id(s))
    .collect();
    assert_eq!(ids, vec![Some(13), Some(14), Some(15), Some(16)]);
    let (blocks, counts) = pack(&t, &tok, 6, &docs);
    // EOS <|toxicity:aligned|><|pii:misaligned|> hello <|toxicity:misaligned|><|pii:aligned|> Ġ w o r l d;
    // the per-token scores are the first attribute's (`scores`).
    assert_eq!(
        blocks,
        vec![
            (vec![12, 13, 16, 11, 14, 15], vec![0.1, 0.1, 0.1, 0.1, 0.9, 0.9]),
            (vec![4, 5, 3, 6, 2, 7], vec![0.9; 6]),
        ]
    );
    let record = t.record(&counts);
    assert_eq!(record.attributes[0].scores_field, "scores");
    assert_eq!(record.attributes[1].scores_field, "scores_pii");
    assert_eq!(record.attributes[1].name.as_deref(), Some("pii"));
    assert_eq!(record.control_tokens().count(), 4);
    assert_eq!(
        (
            record.attributes[1].counts.aligned,
            record.attributes[1].counts.misaligned
        ),
        (1, 1)
    );

    // Filtering on two attributes: a document above either threshold goes.
    let docs = [
        with_pii(doc(&["he"], &[0.0]), &[1.0]),
        with_pii(doc(&["he"], &[1.0]), &[0.0]),
        with_pii(doc(&["hello"], &[0.0]), &[0.0]),
    ];
    let o = opts(
        TransformKind::Filtering,
        &[(Some("toxicity"), "0.5"), (Some("pii"), "0.5")],
        0.0,
    );
    let t = transformer(&o, 1, &docs, &mut tok).expect("new");
    let (blocks, counts) = pack(&t, &tok, 2, &docs);
    assert_eq!(blocks, vec![(vec![12, 11], vec![0.0, 0.0])]);
    assert_eq!(counts.documents_filtered, 2);
}

#[test]
fn a_threshold_on_one_side_of_every_score_is_an_error_showing_the_quantiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let docs = [doc(&["he", "he"], &[0.1, 0.3]), doc(&["he"], &[0.2])];
    for (kind, threshold, effect) in [
        (
            TransformKind::Conditional,
            "q1",
            "q1 (= 0.3) makes all 3 segments aligned",
        ),
        (
            TransformKind::Conditional,
            "0.3",
            "0.3 makes all 3 segments aligned (scores <= 0.3)",
        ),
        (
            TransformKind::Conditional,
            "0.05",
            "0.05 makes all 3 segments misaligned (scores > 0.05)",
        ),
        (
            TransformKind::Filtering,
            "0.25",
            "0.25 filters out no document (all 2 avg_scores <= 0.25)",
        ),
        (TransformKind::Filtering, "q0", "q0 (= 0.1) filters out all 2 documents"),
    ] {
        let err = transformer(&opts(kind, &[(None, threshold)], 0.01), 1, &docs, &mut tok)
            .expect_err(threshold)
            .to_string();
        assert!(err.contains(&format!("threshold {effect}")), "{err}");
        assert!(err.contains("q0.5=0.200000"), "{err}");
    }
    assert_eq!(tok.vocab_size(), 13, "a failed transform adds no tokens");
}

#[test]
fn bad_options_are_errors_naming_the_flag() {
    let cases = [
        (opts(TransformKind::Conditional, &[(None, "0")], 1.0), "--drop"),
        (opts(TransformKind::Conditional, &[(None, "0")], -0.1), "--drop"),
        (opts(TransformKind::Conditional, &[], 0.0), "--threshold"),
        (opts(TransformKind::Filtering, &[], 0.0), "--threshold"),
        (opts(TransformKind::Plain, &[(None, "0")], 0.0), "--transform"),
        (
            opts(TransformKind::Conditional, &[(None, "0"), (Some("pii"), "0")], 0.0),
            "--attributes",
        ),
        (
            opts(TransformKind::Conditional, &[(Some("a"), "0"), (Some("a"), "0")], 0.0),
            "--attributes",
        ),
        (
            opts(TransformKind::Conditional, &[(Some("a|b"), "0")], 0.0),
            "scores_a|b",
        ),
    ];
    for (o, flag) in cases {
        let err = o.validate().expect_err(flag).to_string();
        assert!(err.contains(flag), "{err}");
    }
    assert!(TransformOptions::default().validate().is_ok());
}

#[test]
fn record_round_trips_through_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tok = tiny_gpt2(dir.path());
    let docs = [with_pii(doc(&["hello", " world"], &[0.1, 0.9]), &[2.0, 0.0])];
    let o = opts(
        TransformKind::Conditional,
        &[(Some("toxicity"), "q0.5"), (Some("pii"), "0")],
        0.01,
    );
    let t = transformer(&o, 5, &docs, &mut tok).expect("new");
    let (_, counts) = pack(&t, &tok, 4, &docs);
    let record = t.record(&counts);
    let json = serde_json::to_value(&record).expect("json");
    assert_eq!(json["kind"], "conditional");
    assert_eq!(json["attributes"][0]["threshold_given"], "q0.5");
    assert_eq!(
        json["attributes"][1]["control_tokens"][1]["token"],
        "<|pii:misaligned|>"
    );
    let back: TransformRecord = serde_json::from_value(json).expect("parse");
    assert_eq!(back, record);
}
