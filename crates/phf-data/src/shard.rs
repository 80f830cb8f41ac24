//! On-disk shards of packed blocks (SPEC §2): a directory with
//!
//! - `header.json`: format version, tokenizer hash, sizes, counts, token dtype, unigram entropy, provenance and the
//!   objective-specific transform (SPEC §3) with its control tokens;
//! - `tokens.bin`: `num_blocks × block_size` token ids, little-endian `u16` when the vocabulary fits (≤ 65,536
//!   ids, e.g. GPT-2's 50,257 + 2 control tokens), else `u32`;
//! - `scores.bin`: one little-endian `f32` score per token.
//!
//! Block `i` is the `i`-th run of `block_size` values in both files, so a shard is read by memory-mapping, with no
//! parsing and no index. [`crate::ShardWriter`] writes shards, with `unigram.bin` (each token id's count, `u64`)
//! beside them.
//!
//! A shard may also be a folder of parts `part-<i>-of-<n>/`, each a shard as above, written by `n` runs of
//! `phf prepare --shard i/n` (see [`crate::shard_parts`]): [`Shard::open`] opens them together as one shard whose
//! blocks are part 0's, then part 1's, and so on.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::tokenizer::Tokenizer;
use crate::transform::TransformRecord;

/// Bump when the layout changes; [`Shard::open`] refuses other versions.
pub const FORMAT_VERSION: u32 = 1;
/// The `format` field of every header, so a stray `header.json` is not mistaken for a shard.
pub const FORMAT_NAME: &str = "phf-shard";
pub const HEADER_FILE: &str = "header.json";
pub const TOKENS_FILE: &str = "tokens.bin";
pub const SCORES_FILE: &str = "scores.bin";
/// Each token id's count in the shard, little-endian `u64` per id: lets parts be combined with an exact unigram
/// entropy. Optional for a single shard (shards written before it existed lack it).
pub const UNIGRAM_FILE: &str = "unigram.bin";

/// How token ids are stored in `tokens.bin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenDtype {
    U16,
    U32,
}

impl TokenDtype {
    /// The narrowest type that holds every id of a vocabulary of `vocab_size`.
    pub fn for_vocab(vocab_size: usize) -> Self {
        if vocab_size <= 1 << 16 {
            TokenDtype::U16
        } else {
            TokenDtype::U32
        }
    }

    /// Bytes per id.
    pub fn size(self) -> usize {
        match self {
            TokenDtype::U16 => 2,
            TokenDtype::U32 => 4,
        }
    }
}

/// Where a shard's data came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The inputs given to `phf prepare`.
    pub inputs: Vec<String>,
    /// The program and version that wrote the shard.
    pub created_by: String,
    /// `train` or `valid` for shards written by [`crate::prepare()`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_fraction: Option<f64>,
    /// `i/n` for the part written by `phf prepare --shard i/n`; `all/n` for the header of `n` parts opened
    /// together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

/// The contents of `header.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHeader {
    pub format: String,
    pub format_version: u32,
    /// [`Tokenizer::hash`] of the tokenizer that produced the ids.
    pub tokenizer_hash: String,
    pub vocab_size: usize,
    pub eos_id: u32,
    pub block_size: usize,
    pub num_blocks: u64,
    /// `num_blocks × block_size`.
    pub num_tokens: u64,
    /// Documents packed into this shard (those whose tokens fell in the dropped partial block included).
    pub num_documents: u64,
    /// Documents skipped while reading the inputs of the whole `prepare` run (empty, mail rules).
    pub skipped_documents: u64,
    pub token_dtype: TokenDtype,
    /// Entropy of the unigram distribution of this shard's tokens, in nats: the loss of a model that knows only
    /// token frequencies, a baseline the training code compares validation loss with.
    pub unigram_entropy_nats: f64,
    pub provenance: Provenance,
    /// The objective-specific transform (SPEC §3) with its resolved thresholds, control tokens and counts for this
    /// shard; `plain` for shards written before transforms existed.
    #[serde(default)]
    pub transform: TransformRecord,
}

/// A memory-mapped, validated shard: one shard directory, or the parts of a sharded `prepare` (module docs).
#[derive(Debug)]
pub struct Shard {
    dir: PathBuf,
    header: ShardHeader,
    /// In block order; one for a plain shard.
    parts: Vec<MappedPart>,
}

/// The mapped files of one shard directory, holding blocks `first_block..first_block + num_blocks`.
#[derive(Debug)]
pub(crate) struct MappedPart {
    pub(crate) first_block: usize,
    /// `None` for an empty file (zero-length maps are not portable).
    tokens: Option<Mmap>,
    scores: Option<Mmap>,
}

impl Shard {
    /// Opens the shard at `dir` — a shard directory, or a folder of `part-<i>-of-<n>` shards — checking that its
    /// files agree with its header(s).
    pub fn open(dir: &Path) -> Result<Shard> {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(DataError::io(dir, e)),
            found => {
                let what = if found.is_ok() {
                    "is not a folder"
                } else {
                    "does not exist"
                };
                return Err(DataError::shard(
                    dir,
                    format!("{what}: give the `train` or `valid` folder that `phf prepare --out DIR` wrote in DIR"),
                ));
            }
        }
        if !dir.join(HEADER_FILE).is_file() {
            if let Some((header, parts)) = crate::shard_parts::open_parts(dir)? {
                return Ok(Shard {
                    dir: dir.to_path_buf(),
                    header,
                    parts,
                });
            }
            let hint = if dir.join("train").is_dir() {
                "this looks like `phf prepare`'s output folder: give its `train` or `valid` folder"
            } else {
                "give the `train` or `valid` folder that `phf prepare --out DIR` wrote in DIR"
            };
            return Err(DataError::shard(
                dir,
                format!("holds no shard (no {HEADER_FILE}, no part-<i>-of-<n> folders): {hint}"),
            ));
        }
        let (header, part) = open_one(dir, 0)?;
        Ok(Shard {
            dir: dir.to_path_buf(),
            header,
            parts: vec![part],
        })
    }
}

/// Opens one shard directory whose first block is block `first_block` of the whole shard.
pub(crate) fn open_one(dir: &Path, first_block: usize) -> Result<(ShardHeader, MappedPart)> {
    let header_path = dir.join(HEADER_FILE);
    let bytes = std::fs::read(&header_path).map_err(|e| DataError::io(&header_path, e))?;
    let header: ShardHeader = serde_json::from_slice(&bytes).map_err(|e| {
        DataError::shard(
            dir,
            format!(
                "{} is not a shard header ({e}): re-run `phf prepare`",
                header_path.display()
            ),
        )
    })?;
    if header.format != FORMAT_NAME || header.format_version != FORMAT_VERSION {
        return Err(DataError::shard(
            dir,
            format!(
                "format {} v{} is not {FORMAT_NAME} v{FORMAT_VERSION}: re-run `phf prepare` with this version of phf",
                header.format, header.format_version
            ),
        ));
    }
    if cfg!(target_endian = "big") {
        return Err(DataError::shard(
            dir,
            "shards are little-endian; big-endian hosts are not supported",
        ));
    }
    if header.block_size < 2
        || header.num_tokens != header.num_blocks * header.block_size as u64
        || header.token_dtype != TokenDtype::for_vocab(header.vocab_size)
    {
        return Err(DataError::shard(
            dir,
            format!(
                "{} is inconsistent (block_size, num_tokens, num_blocks or token_dtype)",
                header_path.display()
            ),
        ));
    }
    let tokens = map_checked(dir, TOKENS_FILE, header.num_tokens * header.token_dtype.size() as u64)?;
    let scores = map_checked(dir, SCORES_FILE, header.num_tokens * 4)?;
    Ok((
        header,
        MappedPart {
            first_block,
            tokens,
            scores,
        },
    ))
}

impl Shard {
    /// The shard's directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn header(&self) -> &ShardHeader {
        &self.header
    }

    pub fn num_blocks(&self) -> usize {
        self.header.num_blocks as usize
    }

    pub fn block_size(&self) -> usize {
        self.header.block_size
    }

    /// The token ids of block `i`. Panics if `i >= num_blocks()`, like slice indexing.
    pub fn block_tokens(&self, i: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.block_size());
        self.for_each_token(i, |t| out.push(t));
        out
    }

    /// Appends the token ids of block `i` to `out` as `i64`, the dtype of embedding lookups.
    pub fn extend_block_tokens_i64(&self, i: usize, out: &mut Vec<i64>) {
        out.reserve(self.block_size());
        self.for_each_token(i, |t| out.push(i64::from(t)));
    }

    fn for_each_token(&self, i: usize, mut f: impl FnMut(u32)) {
        assert!(
            i < self.num_blocks(),
            "block {i} out of range: shard has {}",
            self.num_blocks()
        );
        let (part, local) = self.locate(i);
        let width = self.header.token_dtype.size();
        let start = local * self.block_size() * width;
        let bytes = &part.tokens.as_deref().unwrap_or_default()[start..start + self.block_size() * width];
        match self.header.token_dtype {
            TokenDtype::U16 => bytes
                .chunks_exact(2)
                .for_each(|c| f(u32::from(u16::from_le_bytes([c[0], c[1]])))),
            TokenDtype::U32 => bytes
                .chunks_exact(4)
                .for_each(|c| f(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        }
    }

    /// The per-token scores of block `i`, without copying. Panics if `i >= num_blocks()`.
    pub fn block_scores(&self, i: usize) -> &[f32] {
        assert!(
            i < self.num_blocks(),
            "block {i} out of range: shard has {}",
            self.num_blocks()
        );
        let (part, local) = self.locate(i);
        let bytes: &[u8] = part.scores.as_deref().unwrap_or_default();
        // SAFETY: any 4 bytes are a valid f32; the map is page-aligned and `open` checked the length is a multiple of
        // 4 and that the host is little-endian, so `align_to` yields the whole file as f32s.
        let (head, all, _) = unsafe { bytes.align_to::<f32>() };
        debug_assert!(head.is_empty());
        let t = self.block_size();
        &all[local * t..(local + 1) * t]
    }

    /// The part holding block `i` (in range) and the block's index within it.
    fn locate(&self, i: usize) -> (&MappedPart, usize) {
        let p = self.parts.partition_point(|part| part.first_block <= i) - 1;
        (&self.parts[p], i - self.parts[p].first_block)
    }

    /// Errors unless the shard was tokenized by `tokenizer`. For a conditional shard that is the tokenizer *with*
    /// its control tokens (SPEC §3): the `tokenizer.json` that `prepare` writes beside the shards, or the original
    /// one after [`Tokenizer::add_special_tokens`] with the header's control tokens in order.
    pub fn check_tokenizer(&self, tokenizer: &Tokenizer) -> Result<()> {
        let run_hash = tokenizer.hash();
        if run_hash != self.header.tokenizer_hash {
            return Err(DataError::TokenizerMismatch {
                path: self.dir.clone(),
                shard_hash: self.header.tokenizer_hash.clone(),
                run_hash,
            });
        }
        Ok(())
    }
}

/// Maps `dir/name` after checking it has exactly `expected` bytes.
fn map_checked(dir: &Path, name: &str, expected: u64) -> Result<Option<Mmap>> {
    let path = dir.join(name);
    let file = File::open(&path).map_err(|e| DataError::io(&path, e))?;
    let len = file.metadata().map_err(|e| DataError::io(&path, e))?.len();
    if len != expected {
        return Err(DataError::shard(
            dir,
            format!(
                "{} has {len} bytes but {HEADER_FILE} implies {expected}: the shard is truncated or was modified; \
                 re-run `phf prepare`",
                path.display()
            ),
        ));
    }
    if len == 0 {
        return Ok(None);
    }
    // SAFETY: the map is read-only; like every mmap reader we rely on the file not being truncated while mapped
    // (shards are written once, atomically, and never modified in place).
    let map = unsafe { Mmap::map(&file) }.map_err(|e| DataError::io(&path, e))?;
    Ok(Some(map))
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
