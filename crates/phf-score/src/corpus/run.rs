//! The streaming loop: read a batch of documents, parse and segment them in parallel, score every segment in
//! one `score_batch` call, write one line per document, repeat.

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use super::error::{CorpusError, Result};
use super::input::{CorpusReader, RawDocument};
use super::record::{Document, ScoredDocument};
use crate::error::ScoreError;
use crate::scorer::{Scorer, ScorerId};
use crate::segment::Segmenter;

/// How a corpus is cut and batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    pub segmenter: Segmenter,
    /// Documents per batch; all their segments go to the scorer in one call.
    pub batch_documents: usize,
    /// A batch also ends once its raw input reaches this many bytes, so a few huge documents cannot hold
    /// unbounded memory.
    pub batch_bytes: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            segmenter: Segmenter::Sentences,
            batch_documents: 256,
            batch_bytes: 32 << 20,
        }
    }
}

/// Counts of a run so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CorpusStats {
    /// Documents scored (this shard).
    pub documents: u64,
    /// Of those, documents without segments (empty text): written with `avg_score` 0.
    pub empty_documents: u64,
    pub segments: u64,
    /// Sum of all segment scores.
    pub score_sum: f64,
    /// Documents passed in the input, all shards.
    pub documents_seen: u64,
    /// Input bytes read, all shards.
    pub bytes_read: u64,
}

impl CorpusStats {
    /// Mean score over all segments scored; `None` before the first segment.
    pub fn mean_segment_score(&self) -> Option<f64> {
        (self.segments > 0).then(|| self.score_sum / self.segments as f64)
    }
}

/// Scores every document `reader` yields and writes one JSON line per document to `out`, in input order.
/// `on_batch` sees the running counts after each batch (for progress). Memory is bounded by one batch.
pub fn score_corpus<W: Write>(
    scorer: &dyn Scorer,
    options: &RunOptions,
    reader: &mut CorpusReader,
    out: &mut W,
    mut on_batch: impl FnMut(&CorpusStats),
) -> Result<CorpusStats> {
    let id = scorer.id();
    let mut stats = CorpusStats::default();
    loop {
        let raw = read_batch(reader, options)?;
        if raw.is_empty() {
            break;
        }
        let origin = raw[0].origin.clone();
        // Parse in parallel, but report the first bad document in input order.
        let docs = raw
            .into_par_iter()
            .map(Document::parse)
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let scored = score_documents(scorer, &id, options.segmenter, &docs)
            .map_err(|source| CorpusError::Score { origin, source })?;
        let lines: Vec<Vec<u8>> = scored
            .par_iter()
            .map(|record| serde_json::to_vec(record).expect("a record of strings and finite numbers serialises"))
            .collect();
        for line in &lines {
            out.write_all(line).map_err(CorpusError::Write)?;
            out.write_all(b"\n").map_err(CorpusError::Write)?;
        }
        for record in &scored {
            stats.documents += 1;
            stats.empty_documents += u64::from(record.num_sents == 0);
            stats.segments += record.num_sents as u64;
            stats.score_sum += record.scores.iter().map(|&s| f64::from(s)).sum::<f64>();
        }
        stats.documents_seen = reader.documents_seen();
        stats.bytes_read = reader.bytes_read();
        on_batch(&stats);
    }
    out.flush().map_err(CorpusError::Write)?;
    stats.documents_seen = reader.documents_seen();
    stats.bytes_read = reader.bytes_read();
    Ok(stats)
}

/// Up to `batch_documents` documents or `batch_bytes` bytes, whichever comes first; empty at the end.
fn read_batch(reader: &mut CorpusReader, options: &RunOptions) -> Result<Vec<RawDocument>> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while batch.len() < options.batch_documents.max(1) && bytes < options.batch_bytes {
        let Some(doc) = reader.next_document()? else {
            break;
        };
        bytes += doc.bytes.len();
        batch.push(doc);
    }
    Ok(batch)
}

/// Segments `docs` in parallel and scores all their segments in a single `score_batch` call (which is itself
/// parallel over the batch); one record per document, in order.
pub fn score_documents<'a>(
    scorer: &dyn Scorer,
    id: &'a ScorerId,
    segmenter: Segmenter,
    docs: &'a [Document],
) -> std::result::Result<Vec<ScoredDocument<'a>>, ScoreError> {
    let segmented: Vec<Vec<&str>> = docs.par_iter().map(|doc| segmenter.segment(&doc.text)).collect();
    let all: Vec<&str> = segmented.iter().flatten().copied().collect();
    let mut scores = if all.is_empty() {
        Vec::new()
    } else if let Some(score_document) = scorer.in_context(segmenter) {
        docs.par_iter().flat_map_iter(|doc| score_document(&doc.text)).collect()
    } else {
        scorer.score_batch(&all)?
    };
    if scores.len() != all.len() {
        // A scorer breaking the one-score-per-text contract would misalign every later document.
        return Err(ScoreError::ScoreCount {
            scorer: id.to_string(),
            expected: all.len(),
            got: scores.len(),
        });
    }
    let mut records = Vec::with_capacity(docs.len());
    // Hand out the scores front to back: drain the first `texts.len()` each time.
    scores.reverse();
    for (doc, texts) in docs.iter().zip(segmented) {
        let doc_scores: Vec<f32> = (0..texts.len()).filter_map(|_| scores.pop()).collect();
        let avg_score = if doc_scores.is_empty() {
            0.0
        } else {
            (doc_scores.iter().map(|&s| f64::from(s)).sum::<f64>() / doc_scores.len() as f64) as f32
        };
        records.push(ScoredDocument {
            num_sents: texts.len(),
            texts,
            scores: doc_scores,
            avg_score,
            carried: &doc.carried,
            scorer: &id.name,
            scorer_version: &id.version,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{resolve_inputs, Shard};
    use crate::{Pep8Scorer, PiiScorer};

    /// Scores a text by its length in bytes.
    struct LengthScorer;

    impl Scorer for LengthScorer {
        fn id(&self) -> ScorerId {
            ScorerId {
                name: "length".into(),
                version: "1".into(),
            }
        }
        fn score_batch(&self, texts: &[&str]) -> crate::Result<Vec<f32>> {
            Ok(texts.iter().map(|t| t.len() as f32).collect())
        }
    }

    fn run(input: &str, options: RunOptions, scorer: &dyn Scorer) -> (Vec<serde_json::Value>, CorpusStats) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, input).unwrap();
        let mut reader = CorpusReader::new(resolve_inputs(&[path]).unwrap(), Shard::ALL);
        let mut out = Vec::new();
        let mut batches = 0;
        let stats = score_corpus(scorer, &options, &mut reader, &mut out, |_| batches += 1).unwrap();
        assert!(batches >= 1);
        let records = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (records, stats)
    }

    #[test]
    fn scores_line_up_with_segments_across_small_batches() {
        let input = "{\"text\": \"One. Two two.\"}\n{\"text\": \"\"}\n{\"text\": \"Three three three.\", \"id\": 9}\n";
        let options = RunOptions {
            batch_documents: 2,
            ..RunOptions::default()
        };
        let (records, stats) = run(input, options, &LengthScorer);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0]["texts"], serde_json::json!(["One. ", "Two two."]));
        assert_eq!(records[0]["scores"], serde_json::json!([5.0, 8.0]));
        assert_eq!(records[0]["avg_score"], 6.5);
        assert_eq!(records[1]["num_sents"], 0);
        assert_eq!(records[1]["avg_score"], 0.0);
        assert_eq!(records[2]["scores"], serde_json::json!([18.0]));
        assert_eq!(records[2]["id"], 9);
        assert_eq!(records[2]["scorer"], "length");
        assert_eq!((stats.documents, stats.empty_documents, stats.segments), (3, 1, 3));
        assert_eq!(stats.mean_segment_score(), Some(31.0 / 3.0));
    }

    #[test]
    fn whole_document_segmentation_and_pii() {
        let input = "{\"text\": \"Mail bob@example.com now.\\nThen stop.\"}\n";
        let options = RunOptions {
            segmenter: Segmenter::Whole,
            ..RunOptions::default()
        };
        let (records, _) = run(input, options, &PiiScorer);
        assert_eq!(records[0]["num_sents"], 1);
        assert!(records[0]["scores"][0].as_f64().unwrap() > 0.0);
        assert_eq!(records[0]["scorer"], "pii");
    }

    #[test]
    fn pep8_lines_are_scored_with_their_file_as_context() {
        // Alone, the blank line would be W391 (blank line at end of file) and the indented body E113
        // (unexpected indentation); in the file, only `y=2` (E225) is a violation.
        let input = "{\"text\": \"def f():\\n    return 1\\n\\n\\ny=2\\n\"}\n";
        let options = RunOptions {
            segmenter: Segmenter::Lines,
            ..RunOptions::default()
        };
        let (records, _) = run(input, options, &Pep8Scorer);
        assert_eq!(
            records[0]["texts"],
            serde_json::json!(["def f():\n", "    return 1\n", "\n", "\n", "y=2\n"])
        );
        assert_eq!(records[0]["scores"], serde_json::json!([0.0, 0.0, 0.0, 0.0, 0.25]));
        // the same lines scored one by one, as any other scorer's segments are
        let alone = Pep8Scorer.score_batch(&["\n", "    return 1\n"]).unwrap();
        assert!(alone.iter().all(|&s| s > 0.0), "{alone:?}");
    }
}
