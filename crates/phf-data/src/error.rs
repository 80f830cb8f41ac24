//! The one error type of this crate.
//!
//! Every variant that comes from a user's file names the file (and the line, where there is one) and says what
//! would fix the problem, because the person reading it is usually running `phf prepare` on their own corpus.

use std::path::PathBuf;

/// Errors from reading corpora, tokenizers, shards and loaders.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An operating-system error on a named path.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A line (or a whole `.json` file) that is not valid JSON.
    #[error(
        "{}:{line}: malformed JSON ({msg}): each line must be one JSON object such as \
         {{\"texts\": [\"...\"], \"scores\": [0.0]}} or {{\"text\": \"...\", \"score\": 0.0}}",
        path.display()
    )]
    Json { path: PathBuf, line: u64, msg: String },

    /// Bytes that are not UTF-8.
    #[error(
        "{}:{line}: invalid UTF-8 at byte {column} of the line: re-encode the file as UTF-8 \
         (e.g. `iconv -f latin1 -t utf-8`)",
        path.display()
    )]
    Utf8 { path: PathBuf, line: u64, column: usize },

    /// A record whose shape does not match the reference schema (missing or mistyped key).
    #[error("{}:{line}: {msg}", path.display())]
    Schema { path: PathBuf, line: u64, msg: String },

    /// `texts` and `scores` of one record differ in length.
    #[error(
        "{}:{line}: `texts` has {texts} segments but `scores` has {scores} values: \
         every segment needs exactly one score",
        path.display()
    )]
    LengthMismatch {
        path: PathBuf,
        line: u64,
        texts: usize,
        scores: usize,
    },

    /// A score that is NaN, infinite or null.
    #[error(
        "{}:{line}: {key}[{index}] is {value}, not a finite number: re-run the scorer on this \
         document or drop it",
        path.display()
    )]
    NonFiniteScore {
        path: PathBuf,
        line: u64,
        /// `scores`, or `scores_<attribute>` for a further attribute.
        key: String,
        index: usize,
        value: String,
    },

    /// A negative score: SPEC §1 scores are misalignment scores, `s >= 0`.
    #[error(
        "{}:{line}: {key}[{index}] = {value} is negative: phf scores are misalignment scores \
         (>= 0, higher is worse); if your scores are rewards, negate them",
        path.display()
    )]
    NegativeScore {
        path: PathBuf,
        line: u64,
        key: String,
        index: usize,
        value: f64,
    },

    /// An input path that is neither a `.jsonl`/`.txt` file nor a directory holding some.
    #[error("{}: {msg}", path.display())]
    Input { path: PathBuf, msg: String },

    /// A tokenizer that cannot be built, loaded, trained or used.
    #[error("tokenizer{}: {msg}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Tokenizer { path: Option<PathBuf>, msg: String },

    /// A shard directory that is missing a file, has an unreadable header, or whose sizes disagree.
    #[error("shard {}: {msg}", path.display())]
    Shard { path: PathBuf, msg: String },

    /// A shard tokenized with another tokenizer than the one of this run.
    #[error(
        "shard {} was made with tokenizer {shard_hash}, but this run uses {run_hash}: \
         re-run `phf prepare` with this tokenizer",
        path.display()
    )]
    TokenizerMismatch {
        path: PathBuf,
        shard_hash: String,
        run_hash: String,
    },

    /// An option value that cannot work (block size 0, batch larger than the data, ...).
    #[error("{0}")]
    Config(String),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// A shard-level error on `path`.
    pub(crate) fn shard(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        DataError::Shard {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
