//! Scoring a whole corpus as a stream (SPEC §2): documents in, one reference-schema record per document out.
//!
//! - [`resolve_inputs`] turns paths (files, folders, `-`) into [`Source`]s in a fixed order.
//! - [`CorpusReader`] reads them line by line, keeps the documents of one [`Shard`] and hands them out raw.
//! - [`score_corpus`] parses, segments and scores them in batches and writes one JSON line per document:
//!   `{"texts", "scores", "avg_score", "num_sents", ...carried fields, "scorer", "scorer_version"}`.
//!
//! Memory is bounded by one batch (a number of documents, capped in bytes), whatever the input size.

mod error;
mod input;
mod record;
mod run;

pub use error::{CorpusError, Origin};
pub use input::{resolve_inputs, CorpusReader, RawDocument, Source, SourceFormat};
pub use record::{Document, ScoredDocument, OUTPUT_FIELDS};
pub use run::{score_corpus, score_documents, CorpusStats, RunOptions};

/// Which documents one machine scores: document `k` (0-based, counted in input order across all files)
/// belongs to shard `index` when `k % count == index`. `0/1` is the whole corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole corpus.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether document `k` belongs to this shard.
    pub fn contains(&self, k: u64) -> bool {
        k % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = "write the shard as `i/n` with 0 <= i < n, e.g. `0/4` … `3/4` for four machines";
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("invalid shard `{s}`: {usage}"))?;
        let parse = |part: &str, what: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("invalid shard `{s}`: {what} `{part}` is not a whole number >= 0; {usage}"))
        };
        let (index, count) = (parse(i, "index")?, parse(n, "count")?);
        if count == 0 {
            return Err(format!(
                "invalid shard `{s}`: the shard count must be at least 1; {usage}"
            ));
        }
        if index >= count {
            return Err(format!(
                "invalid shard `{s}`: index {index} is out of range for {count} shards (indices are 0-based: \
                 0 to {}); {usage}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition() {
        let shards: Vec<Shard> = ["0/3", "1/3", "2/3"].iter().map(|s| s.parse().unwrap()).collect();
        for k in 0..30 {
            assert_eq!(shards.iter().filter(|s| s.contains(k)).count(), 1, "document {k}");
        }
        assert!(Shard::ALL.contains(7));
        assert_eq!(shards[1].to_string(), "1/3");
    }

    #[test]
    fn bad_shards_say_why() {
        for (text, needle) in [
            ("2/2", "out of range"),
            ("0/0", "at least 1"),
            ("1", "i/n"),
            ("-1/2", "whole number"),
            ("a/b", "whole number"),
        ] {
            let err = text.parse::<Shard>().unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
