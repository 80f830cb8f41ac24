//! Errors of the scorers. Every variant names what went wrong and, where a user can act, how to fix it.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while building a scorer or scoring a batch.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// `scorer_by_name` got a name it does not know.
    #[error(
        "unknown scorer `{0}`: expected `toxicity`, `toxicity:<label>`, `pii`, `offensive`, `pep8` or `cmd:<command>`"
    )]
    UnknownScorer(String),

    /// A scorer returned a different number of scores than texts it was given.
    #[error("scorer {scorer} returned {got} scores for {expected} texts; a scorer must return one per text")]
    ScoreCount {
        scorer: String,
        expected: usize,
        got: usize,
    },

    /// A text handed over as bytes is not UTF-8; scorers only see `&str`.
    #[error(
        "text {index} is not valid UTF-8 ({source}); decode it first or replace the invalid bytes \
         (e.g. `String::from_utf8_lossy`)"
    )]
    InvalidUtf8 { index: usize, source: std::str::Utf8Error },

    /// The exported toxicity weights are absent: the setup step has not been run.
    #[error(
        "toxicity model not found: {path} is missing; run `scripts/score/setup-toxicity.sh` to export the \
         tox-block 0.1.2 weights into {dir}"
    )]
    ModelMissing { dir: PathBuf, path: PathBuf },

    /// A model file exists but does not hold what the scorer expects.
    #[error("malformed model file {path}: {reason}; rerun `scripts/score/setup-toxicity.sh --force`")]
    ModelFormat { path: PathBuf, reason: String },

    /// The exported offensive-language model is absent: the setup step has not been run.
    #[error(
        "offensive-language model not found: {path} is missing; run `scripts/score/setup-offensive.sh` to \
         export the alt-profanity-check 1.9.1 model into {dir}"
    )]
    OffensiveModelMissing { dir: PathBuf, path: PathBuf },

    /// An exported offensive-language model file does not hold what the scorer expects.
    #[error(
        "malformed offensive-language model file {path}: {reason}; rerun `scripts/score/setup-offensive.sh --force`"
    )]
    OffensiveModelFormat { path: PathBuf, reason: String },

    /// The PII scorer's NER export is incomplete.
    #[error(
        "NER model file {path} is missing; run `scripts/score/setup-ner.sh` to export spaCy en_core_web_sm \
         3.8.0 into {dir}"
    )]
    NerMissing { dir: PathBuf, path: PathBuf },

    /// An exported file of the PII scorer's NER (spaCy en_core_web_sm) does not hold what it expects.
    #[error("malformed NER file {path}: {reason}; rerun `scripts/score/setup-ner.sh --force`")]
    NerFormat { path: PathBuf, reason: String },

    /// The PII scorer's NER export exists but could not be loaded (the message says why and how to fix it).
    #[error("{0}")]
    NerUnusable(String),

    /// A setting that cannot work (the message names it and what to give instead).
    #[error("{0}")]
    Invalid(String),

    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    /// An external scorer command could not be started.
    #[error("cannot start external scorer `{command}`: {source}")]
    ExternalSpawn { command: String, source: std::io::Error },

    /// An external scorer exited with a failure status.
    #[error("external scorer `{command}` failed ({status}); its stderr ends with:\n{stderr}")]
    ExternalCrashed {
        command: String,
        status: String,
        stderr: String,
    },

    /// An external scorer did not finish a batch in time and was killed.
    #[error(
        "external scorer `{command}` did not finish a batch of {batch} texts within {timeout:?} and was \
         killed; raise the timeout or lower the batch size"
    )]
    ExternalTimeout {
        command: String,
        batch: usize,
        timeout: Duration,
    },

    /// An external scorer wrote a line that is not `{"score": <number >= 0>}`.
    #[error(
        "external scorer `{command}` wrote a malformed line {line}: {reason} (got `{excerpt}`); expected \
         `{{\"score\": <number >= 0>}}`"
    )]
    ExternalMalformed {
        command: String,
        line: usize,
        reason: String,
        excerpt: String,
    },

    /// An external scorer wrote a different number of lines than texts it was given.
    #[error(
        "external scorer `{command}` wrote {got} score lines for {expected} texts; it must write exactly one \
         `{{\"score\": ...}}` line per input line"
    )]
    ExternalLineCount {
        command: String,
        expected: usize,
        got: usize,
    },

    /// Talking to an external scorer failed at the pipe level.
    #[error("I/O error talking to external scorer `{command}`: {source}")]
    ExternalIo { command: String, source: std::io::Error },
}

/// Shorthand used across the crate.
pub type Result<T, E = ScoreError> = std::result::Result<T, E>;
