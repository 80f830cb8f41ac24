//! A native port of spaCy en_core_web_sm 3.8.0's named-entity recogniser, which the paper's PII setup used for
//! names (PERSON) and organisations (ORG) through scrubadub-spacy. One file per stage, after spaCy's names:
//!
//! - [`tokenizer`]: the rule-based English tokenizer (prefix/suffix/infix patterns, special cases, URLs);
//! - [`lexeme`]: the NORM, PREFIX, SUFFIX and SHAPE attributes as string ids ([`hash`]: spaCy's and thinc's
//!   hashes);
//! - [`tok2vec`]: the NER's hash embeddings and maxout window encoder;
//! - [`quant`]: the encoder's window layers in 16-bit integers, on CPUs with AVX-512 VNNI;
//! - [`parser`] and [`moves`]: the transition-based parser with the BILUO moves, decoded greedily.
//!
//! The rules and weights are exported by `scripts/score/setup-ner.sh` into `$PHF_CACHE/scorers/
//! en_core_web_sm-3.8.0/` (never committed). Parity with spaCy, stage by stage, is tested by
//! `tests/ner_parity.rs` on sentences we wrote and measured on email sentences by `scripts/score/pii_parity.sh`.

mod buffer;
mod hash;
mod kernels;
mod lexeme;
mod moves;
mod parser;
mod quant;
mod tok2vec;
mod tokenizer;
mod vector;
mod weights;
mod word_cache;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use self::lexeme::LexemeNorms;
use self::moves::Move;
use self::parser::Parser;
use self::tok2vec::{Tok2Vec, ATTRS};
pub use self::tokenizer::Token;
use self::tokenizer::{is_space, Tokenizer};
use self::weights::Weights;
use crate::error::{Result, ScoreError};

/// The NER's tables keyed by strings and ids, with a hasher faster than SipHash (none is exposed to input that
/// could be crafted against it: a slow lookup would only slow scoring).
type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// Name of the export directory under `$PHF_CACHE/scorers/`, also recorded in the PII scorer's version.
pub const MODEL_DIR_NAME: &str = "en_core_web_sm-3.8.0";

/// Files the export must hold.
const FILES: [&str; 4] = ["manifest.json", "tokenizer.json", "lexeme_norm.json", "ner.safetensors"];

/// The per-user cache directory holding the export: `$PHF_CACHE` or `$HOME/.cache/phf`, then
/// `scorers/en_core_web_sm-3.8.0`.
pub fn default_model_dir() -> PathBuf {
    crate::export::scorer_cache_dir(MODEL_DIR_NAME)
}

#[derive(Deserialize)]
struct Manifest {
    attrs: Vec<String>,
    seeds: Vec<u32>,
    rows: Vec<u32>,
    window: usize,
    moves: Vec<String>,
    unseen_classes: Vec<usize>,
}

/// The arithmetic of the encoder's window layers, which take most of the recogniser's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit floats throughout, as spaCy computes.
    Fp32,
    /// 16-bit integer products summed exactly ([`quant`]) where the CPU has AVX-512 VNNI, about 1.3× faster
    /// overall; fp32 elsewhere. The entities were identical to spaCy's on 5,000 email sentences (docs/SCORERS.md).
    #[default]
    Int16,
}

/// One entity: its byte range in the text and its label (`PERSON`, `ORG`, `DATE`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity<'a> {
    pub range: Range<usize>,
    pub label: &'a str,
}

/// The loaded recogniser; read-only, shared across threads.
#[derive(Debug)]
pub struct EntityRecognizer {
    tokenizer: Tokenizer,
    norms: LexemeNorms,
    tok2vec: Tok2Vec,
    parser: Parser,
    moves: Vec<Move>,
    labels: Vec<String>,
}

impl EntityRecognizer {
    /// Whether `dir` holds an export at all (its manifest); a partial or damaged one is an error of [`Self::load`].
    pub fn is_exported(dir: &Path) -> bool {
        dir.join("manifest.json").is_file()
    }

    /// Loads the export in `dir` at the default [`Precision`]. A missing file is reported with the setup command
    /// that creates it, a file that does not hold what is expected as a format error naming it.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_with(dir, Precision::default())
    }

    /// As [`Self::load`], at `precision`.
    pub fn load_with(dir: &Path, precision: Precision) -> Result<Self> {
        for file in FILES {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ScoreError::NerMissing {
                    dir: dir.to_path_buf(),
                    path,
                });
            }
        }
        let manifest_path = dir.join("manifest.json");
        let format_err = |reason: String| ScoreError::NerFormat {
            path: manifest_path.clone(),
            reason,
        };
        let manifest: Manifest = crate::export::read_json(&manifest_path, format_err)?;
        if manifest.attrs != ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
            || manifest.seeds.len() != ATTRS
            || manifest.rows.len() != ATTRS
            || manifest.rows.contains(&0)
            || manifest.window != 1
        {
            return Err(format_err(format!(
                "expected the attributes NORM, PREFIX, SUFFIX, SHAPE with a seed and a row count each and a window \
                 of 1, got {:?} (seeds {:?}, rows {:?}, window {})",
                manifest.attrs, manifest.seeds, manifest.rows, manifest.window
            )));
        }
        let (moves, labels) = moves::parse_moves(&manifest.moves, &manifest_path)?;
        let tokenizer = Tokenizer::load(&dir.join("tokenizer.json"))?;
        let norms = LexemeNorms::load(&dir.join("lexeme_norm.json"), tokenizer.string_ids())?;
        let weights_path = dir.join("ner.safetensors");
        let bytes = crate::export::read_bytes(&weights_path)?;
        let weights = Weights::parse(&bytes, &weights_path)?;
        let hidden = parser::HIDDEN;
        let quantise = precision == Precision::Int16;
        let tok2vec = Tok2Vec::load(&weights, &manifest.rows, &manifest.seeds, hidden, quantise)?;
        let parser = Parser::load(&weights, tok2vec.n_out(), moves.len(), &manifest.unseen_classes)?;
        Ok(Self {
            tokenizer,
            norms,
            tok2vec,
            parser,
            moves,
            labels,
        })
    }

    /// The precision the encoder runs at: [`Precision::Int16`] only if asked for and the CPU has it.
    pub fn precision(&self) -> Precision {
        if self.tok2vec.is_quantised() {
            Precision::Int16
        } else {
            Precision::Fp32
        }
    }

    /// Empties the cache of per-word results, which every thread shares (for benchmarks: a text timed twice would
    /// find all its words cached the second time).
    pub fn clear_cache(&self) {
        self.tok2vec.clear_cache();
    }

    /// spaCy's tokens of `text`.
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        self.tokenizer.tokenize(text)
    }

    /// The NORM, PREFIX, SUFFIX and SHAPE ids of each token: the keys of the hash embeddings.
    pub fn attribute_keys(&self, text: &str, tokens: &[Token]) -> Vec<[u64; ATTRS]> {
        let ids = self.tokenizer.string_ids();
        tokens
            .iter()
            .map(|t| {
                let word = &text[t.range.clone()];
                [
                    t.norm.unwrap_or_else(|| self.norms.norm(word, ids)),
                    ids.id(lexeme::prefix(word)),
                    ids.id(lexeme::suffix(word)),
                    ids.id(&lexeme::shape(word)),
                ]
            })
            .collect()
    }

    /// The parser's input vectors (`tokens × 64`): the NER tok2vec followed by its projection.
    pub fn token_vectors(&self, text: &str, tokens: &[Token]) -> Vec<f32> {
        self.tok2vec.forward(&self.attribute_keys(text, tokens)).to_vec()
    }

    /// The entities of `text`, in order.
    pub fn entities(&self, text: &str) -> Vec<Entity<'_>> {
        let tokens = self.tokenize(text);
        if tokens.is_empty() {
            return Vec::new();
        }
        let tokvecs = self.tok2vec.forward(&self.attribute_keys(text, &tokens));
        let spaces: Vec<bool> = tokens
            .iter()
            .map(|t| text[t.range.clone()].chars().all(is_space))
            .collect();
        self.parser
            .parse(&tokvecs, &spaces, &self.moves)
            .into_iter()
            .map(|(first, end, label)| Entity {
                range: tokens[first].range.start..tokens[end - 1].range.end,
                label: &self.labels[label],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_export_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!EntityRecognizer::is_exported(dir.path()));
        let err = EntityRecognizer::load(dir.path()).unwrap_err();
        assert!(matches!(err, ScoreError::NerMissing { .. }));
        assert!(err.to_string().contains("scripts/score/setup-ner.sh"), "{err}");
    }

    #[test]
    fn corrupt_files_are_format_errors() {
        let dir = tempfile::tempdir().unwrap();
        for file in FILES {
            std::fs::write(dir.path().join(file), b"not what you expect").unwrap();
        }
        let err = EntityRecognizer::load(dir.path()).unwrap_err();
        assert!(matches!(err, ScoreError::NerFormat { .. }), "{err}");
        assert!(err.to_string().contains("manifest.json"), "{err}");
    }
}
