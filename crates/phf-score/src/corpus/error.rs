//! Errors of corpus scoring: each names the input `file:line` (or the file) and what would fix it.

use std::path::PathBuf;

use crate::error::ScoreError;

/// Where a document came from: a file (or `<stdin>`) and its 1-based line (1 for a `.txt` document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    pub line: u64,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// Everything that can stop a corpus run.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// An input path cannot be used as given.
    #[error("{path}: {msg}")]
    Input { path: PathBuf, msg: String },

    /// Reading an input or writing the output failed.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    /// A line or file is not UTF-8.
    #[error(
        "{origin}: not valid UTF-8 (bad byte at column {column}); re-encode the input as UTF-8 \
         (e.g. `iconv -f latin1 -t utf-8`)"
    )]
    InvalidUtf8 { origin: Origin, column: usize },

    /// A JSONL line is not a JSON object.
    #[error("{origin}: {reason}; every line must be one JSON object such as {{\"text\": \"...\"}}")]
    Json { origin: Origin, reason: String },

    /// A JSONL object has no usable `text`.
    #[error("{origin}: {reason}")]
    Text { origin: Origin, reason: String },

    /// The scorer failed on a batch.
    #[error("scoring the batch that starts at {origin}: {source}")]
    Score { origin: Origin, source: ScoreError },

    /// Writing the output failed.
    #[error("writing the output: {0}")]
    Write(std::io::Error),
}

/// Shorthand for this module.
pub type Result<T, E = CorpusError> = std::result::Result<T, E>;
