//! The summary on distributions whose quantiles are known by hand.

use super::*;

/// One single-segment document per score.
fn docs(scores: &[f32]) -> Vec<Result<Document>> {
    scores.iter().map(|&s| Ok(Document::single("x", s))).collect()
}

#[test]
fn uniform_grid_has_its_quantiles_at_q() {
    // 0.00, 0.01, ..., 1.00: numpy's type-7 quantile of this grid is q itself (h = 100·q lands on a grid point).
    let scores: Vec<f32> = (0..=100).map(|i| i as f32 / 100.0).collect();
    let thresholds = vec![
        (Threshold::Absolute(0.5), "half".to_string()),
        (Threshold::Quantile(0.9), "q".to_string()),
    ];
    let s = ScoreSummary::collect(vec![], docs(&scores), &thresholds).expect("summary");
    assert_eq!((s.documents, s.segments), (101, 101));
    for &(q, x) in &s.segment_scores.quantiles {
        assert!((x - q).abs() < 1e-6, "q{q} = {x}");
    }
    assert!((s.segment_scores.mean - 0.5).abs() < 1e-6);
    assert!((s.segment_scores.share_zero - 1.0 / 101.0).abs() < 1e-12);
    // 0.51 ... 1.00 are above 0.5; 0.91 ... 1.00 above the resolved q0.9.
    assert_eq!(s.thresholds[0].segments_above, 50.0 / 101.0);
    assert_eq!(s.thresholds[1].given, "q0.9");
    assert!((s.thresholds[1].threshold - 0.9).abs() < 1e-6);
    assert_eq!(s.thresholds[1].segments_above, 10.0 / 101.0);
    assert_eq!(s.document_scores, s.segment_scores);
}

#[test]
fn documents_use_the_mean_of_their_segments() {
    // Two documents: [0, 1] (avg 0.5) and [0.2] (avg 0.2).
    let two = Document {
        texts: vec!["a".into(), "b".into()],
        scores: vec![0.0, 1.0],
        attribute_scores: Default::default(),
        source: None,
    };
    let docs = vec![Ok(two), Ok(Document::single("c", 0.2))];
    let thresholds = vec![(Threshold::Absolute(0.3), "t".to_string())];
    let s = ScoreSummary::collect(vec![], docs, &thresholds).expect("summary");
    assert_eq!((s.documents, s.segments), (2, 3));
    assert!((s.document_scores.mean - 0.35).abs() < 1e-6);
    let median = s.document_scores.quantile(0.5).expect("median");
    assert!((median - 0.35).abs() < 1e-6, "{median}");
    assert_eq!(s.thresholds[0].segments_above, 1.0 / 3.0);
    assert_eq!(s.thresholds[0].documents_above, 0.5);
}

#[test]
fn share_above_compares_in_f32_like_the_transforms() {
    // A threshold of 0.3 admits a score of 0.3f32 (which is 0.30000001192...).
    let s = ScoreSummary::collect(
        vec![],
        docs(&[0.3, 0.3, 0.7]),
        &[(Threshold::Absolute(0.3), String::new())],
    )
    .expect("summary");
    assert_eq!(s.thresholds[0].segments_above, 1.0 / 3.0);
}

#[test]
fn histogram_spans_zero_to_the_top_quantile_and_counts_the_rest() {
    let scores: Vec<f32> = (0..=100).map(|i| i as f32 / 100.0).collect();
    let s = ScoreSummary::collect(vec![], docs(&scores), &[]).expect("summary");
    let h = &s.histogram;
    assert!((h.top - 0.995).abs() < 1e-6);
    assert_eq!(h.counts.len(), HISTOGRAM_BINS);
    assert_eq!(h.above, 1, "only 1.00 is above q0.995");
    assert_eq!(h.counts.iter().sum::<u64>(), 100);
    // Bin width 0.024875: 0.00, 0.01, 0.02 fall in the first bin.
    assert_eq!(h.counts[0], 3);

    // All zeros: a unit range, everything in the first bin.
    let zeros = ScoreSummary::collect(vec![], docs(&[0.0; 5]), &[]).expect("summary");
    assert_eq!(
        (zeros.histogram.top, zeros.histogram.counts[0], zeros.histogram.above),
        (1.0, 5, 0)
    );
    assert_eq!(zeros.segment_scores.share_zero, 1.0);
}

#[test]
fn an_empty_corpus_has_empty_distributions() {
    let mut thresholds = paper_thresholds();
    thresholds.push((Threshold::Quantile(0.5), "median".into()));
    let s = ScoreSummary::collect(vec![], Vec::new(), &thresholds).expect("summary");
    assert_eq!(s.segments, 0);
    assert!(s.segment_scores.quantiles.is_empty());
    // Absolute thresholds have shares of nothing; a quantile of no scores does not exist.
    assert_eq!(s.thresholds.len(), paper_thresholds().len());
    assert!(s.thresholds.iter().all(|t| t.segments_above == 0.0));
}

#[test]
fn a_bad_record_stops_the_summary() {
    let bad = vec![Err(crate::DataError::Config("bad line".into()))];
    assert!(ScoreSummary::collect(vec![], bad, &[]).is_err());
}
