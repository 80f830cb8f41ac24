//! Writing a shard (format in [`crate::shard`]): blocks stream into `<dir>.tmp`, and `finish` writes the header and
//! renames the directory into place, so a shard exists whole or not at all.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{DataError, Result};
use crate::fsutil::{write_atomically, StagingDir};
use crate::shard::{
    Provenance, ShardHeader, TokenDtype, FORMAT_NAME, FORMAT_VERSION, HEADER_FILE, SCORES_FILE, TOKENS_FILE,
    UNIGRAM_FILE,
};
use crate::tokenizer::Tokenizer;
use crate::transform::TransformRecord;

/// What a shard's token ids mean: fixed when the writer is created.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardSpec {
    pub tokenizer_hash: String,
    pub vocab_size: usize,
    pub eos_id: u32,
    pub block_size: usize,
}

impl ShardSpec {
    /// The spec for blocks of `block_size` made with `tokenizer`.
    pub fn new(tokenizer: &Tokenizer, block_size: usize) -> Self {
        ShardSpec {
            tokenizer_hash: tokenizer.hash(),
            vocab_size: tokenizer.vocab_size(),
            eos_id: tokenizer.eos_id(),
            block_size,
        }
    }
}

/// Writes blocks to `<dir>.tmp`; [`ShardWriter::finish`] moves it to `<dir>`, dropping it unfinished deletes it.
pub struct ShardWriter {
    staging: StagingDir,
    spec: ShardSpec,
    dtype: TokenDtype,
    tokens: BufWriter<File>,
    scores: BufWriter<File>,
    num_blocks: u64,
    /// Occurrences of each token id, for the unigram entropy.
    counts: Vec<u64>,
    transform: TransformRecord,
}

impl ShardWriter {
    /// Starts a shard at `dir` (created or, if it is an earlier shard, replaced on [`ShardWriter::finish`]).
    pub fn create(dir: &Path, spec: ShardSpec) -> Result<Self> {
        if spec.block_size < 2 {
            return Err(DataError::Config(format!(
                "block_size {} is too small: at least 2",
                spec.block_size
            )));
        }
        let staging = StagingDir::create(dir)?;
        let open = |name: &str| -> Result<BufWriter<File>> {
            let path = staging.path().join(name);
            let file = File::create(&path).map_err(|e| DataError::io(&path, e))?;
            Ok(BufWriter::with_capacity(1 << 20, file))
        };
        Ok(ShardWriter {
            tokens: open(TOKENS_FILE)?,
            scores: open(SCORES_FILE)?,
            staging,
            dtype: TokenDtype::for_vocab(spec.vocab_size),
            counts: vec![0; spec.vocab_size],
            spec,
            num_blocks: 0,
            transform: TransformRecord::default(),
        })
    }

    /// Sets the transform recorded in the header (default: plain).
    pub fn set_transform(&mut self, transform: TransformRecord) {
        self.transform = transform;
    }

    /// Appends one block; ids must be in the vocabulary and scores finite.
    pub fn write_block(&mut self, tokens: &[u32], scores: &[f32]) -> Result<()> {
        let path = self.staging.path();
        if tokens.len() != self.spec.block_size || scores.len() != self.spec.block_size {
            return Err(DataError::shard(
                path,
                format!(
                    "block of {} tokens and {} scores, expected {} of each",
                    tokens.len(),
                    scores.len(),
                    self.spec.block_size
                ),
            ));
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= self.spec.vocab_size) {
            return Err(DataError::shard(
                path,
                format!(
                    "token id {bad} is outside the vocabulary of {} ids",
                    self.spec.vocab_size
                ),
            ));
        }
        if let Some(bad) = scores.iter().find(|s| !s.is_finite()) {
            return Err(DataError::shard(path, format!("score {bad} is not finite")));
        }
        let io = |e| DataError::io(path.join(TOKENS_FILE), e);
        for &t in tokens {
            self.counts[t as usize] += 1;
            match self.dtype {
                TokenDtype::U16 => self.tokens.write_all(&(t as u16).to_le_bytes()).map_err(io)?,
                TokenDtype::U32 => self.tokens.write_all(&t.to_le_bytes()).map_err(io)?,
            }
        }
        for &s in scores {
            self.scores
                .write_all(&s.to_le_bytes())
                .map_err(|e| DataError::io(path.join(SCORES_FILE), e))?;
        }
        self.num_blocks += 1;
        Ok(())
    }

    /// Blocks written so far.
    pub fn num_blocks(&self) -> u64 {
        self.num_blocks
    }

    /// Flushes, writes `header.json` and moves the shard into place; returns the header.
    pub fn finish(self, num_documents: u64, skipped_documents: u64, provenance: Provenance) -> Result<ShardHeader> {
        let ShardWriter {
            staging,
            spec,
            dtype,
            tokens,
            scores,
            num_blocks,
            counts,
            transform,
        } = self;
        for (writer, name) in [(tokens, TOKENS_FILE), (scores, SCORES_FILE)] {
            let path = staging.path().join(name);
            let file = writer.into_inner().map_err(|e| DataError::io(&path, e.into_error()))?;
            file.sync_all().map_err(|e| DataError::io(&path, e))?;
        }
        let unigram: Vec<u8> = counts.iter().flat_map(|c| c.to_le_bytes()).collect();
        write_atomically(&staging.path().join(UNIGRAM_FILE), &unigram)?;
        let header = ShardHeader {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            tokenizer_hash: spec.tokenizer_hash,
            vocab_size: spec.vocab_size,
            eos_id: spec.eos_id,
            block_size: spec.block_size,
            num_blocks,
            num_tokens: num_blocks * spec.block_size as u64,
            num_documents,
            skipped_documents,
            token_dtype: dtype,
            unigram_entropy_nats: unigram_entropy_nats(&counts),
            provenance,
            transform,
        };
        let json = serde_json::to_string_pretty(&header)
            .map_err(|e| DataError::shard(staging.path(), format!("cannot serialise header: {e}")))?;
        write_atomically(&staging.path().join(HEADER_FILE), json.as_bytes())?;
        staging.commit(HEADER_FILE)?;
        Ok(header)
    }
}

/// `-Σ p ln p` over the ids that occur, `p` = count / total; 0 for no tokens.
pub fn unigram_entropy_nats(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.ln()
        })
        .sum()
}
