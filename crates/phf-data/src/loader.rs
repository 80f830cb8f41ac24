//! The training loader: shuffled, resumable, data-parallel batches of blocks from a [`Shard`].
//!
//! SPEC §2 says blocks are shuffled; the reference streams through a 20,000-block shuffle buffer. We shuffle
//! harder and more simply: each epoch is a full permutation of the shard's blocks, drawn from ChaCha8 seeded with
//! the run's seed on stream `epoch`. Because the permutation is a pure function of `(seed, epoch)`, a position
//! `(epoch, cursor)` is all a checkpoint needs to resume with exactly the same batches.
//!
//! Positions count *global* blocks: the stream of all epochs' permutations laid end to end, shared by every rank.
//! Each step reads the next `batch_size × world_size` blocks of that stream; rank `r` takes every `world_size`-th
//! of them starting at `r`. So ranks read disjoint blocks, together cover each epoch exactly once, all hold the same
//! position after each step, and a batch that crosses an epoch boundary simply continues into the next epoch.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::shard::Shard;

/// Where a loader is in its stream: the next block to read is `cursor` of epoch `epoch`'s permutation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoaderPosition {
    pub epoch: u64,
    pub cursor: u64,
}

/// `batch_size` blocks, row-major, ready to become `(B, T)` tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Token ids, `batch_size × block_size`, row-major (`i64` as embedding lookups want).
    pub tokens: Vec<i64>,
    /// Per-token misalignment scores, same layout.
    pub scores: Vec<f32>,
    pub batch_size: usize,
    pub block_size: usize,
    /// Which shard block each row is, for debugging and tests.
    pub block_ids: Vec<u64>,
}

impl Batch {
    fn with_capacity(batch_size: usize, block_size: usize) -> Self {
        Batch {
            tokens: Vec::with_capacity(batch_size * block_size),
            scores: Vec::with_capacity(batch_size * block_size),
            batch_size: 0,
            block_size,
            block_ids: Vec::with_capacity(batch_size),
        }
    }

    fn push_block(&mut self, shard: &Shard, block: usize) {
        shard.extend_block_tokens_i64(block, &mut self.tokens);
        self.scores.extend_from_slice(shard.block_scores(block));
        self.block_ids.push(block as u64);
        self.batch_size += 1;
    }
}

/// Endless shuffled batches; see the module docs.
pub struct Loader {
    shard: Arc<Shard>,
    batch_size: usize,
    seed: u64,
    rank: usize,
    world_size: usize,
    /// Global stream index of the next step's first block: `epoch × num_blocks + cursor`.
    next: u64,
    /// The permutation of the epoch read last.
    permutation: Option<(u64, Vec<u32>)>,
}

impl Loader {
    /// A single-rank loader of `batch_size` blocks per batch, shuffled with `seed`, at epoch 0.
    pub fn new(shard: impl Into<Arc<Shard>>, batch_size: usize, seed: u64) -> Result<Self> {
        let shard = shard.into();
        if batch_size == 0 {
            return Err(DataError::Config("batch_size must be at least 1".into()));
        }
        if shard.num_blocks() == 0 {
            return Err(DataError::shard(
                shard.path(),
                "has no blocks: the corpus is smaller than one block; add data or lower the block size",
            ));
        }
        if shard.num_blocks() > u32::MAX as usize {
            return Err(DataError::shard(shard.path(), "has more than 2^32 blocks; split it"));
        }
        Ok(Loader {
            shard,
            batch_size,
            seed,
            rank: 0,
            world_size: 1,
            next: 0,
            permutation: None,
        })
    }

    /// This loader as rank `rank` of `world_size` data-parallel ranks (same seed on all ranks).
    pub fn with_rank(mut self, rank: usize, world_size: usize) -> Result<Self> {
        if world_size == 0 || rank >= world_size {
            return Err(DataError::Config(format!(
                "rank {rank} is not in a world of {world_size} ranks (ranks are 0..world_size)"
            )));
        }
        self.rank = rank;
        self.world_size = world_size;
        Ok(self)
    }

    /// The shard being read.
    pub fn shard(&self) -> &Arc<Shard> {
        &self.shard
    }

    /// Blocks per batch on this rank.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The position to store in a checkpoint; identical on all ranks.
    pub fn position(&self) -> LoaderPosition {
        let n = self.shard.num_blocks() as u64;
        LoaderPosition {
            epoch: self.next / n,
            cursor: self.next % n,
        }
    }

    /// Resumes at a position from [`Loader::position`]; the following batches are exactly those that followed it.
    pub fn set_position(&mut self, position: LoaderPosition) -> Result<()> {
        let n = self.shard.num_blocks() as u64;
        if position.cursor >= n {
            return Err(DataError::shard(
                self.shard.path(),
                format!(
                    "loader position cursor {} is past this shard's {n} blocks: was the checkpoint made with \
                     another shard?",
                    position.cursor
                ),
            ));
        }
        self.next = position
            .epoch
            .checked_mul(n)
            .and_then(|x| x.checked_add(position.cursor))
            .ok_or_else(|| DataError::Config(format!("loader epoch {} is out of range", position.epoch)))?;
        Ok(())
    }

    /// Skips `n` blocks of the global stream (all ranks together), e.g. `tokens_seen / block_size` when
    /// finetuning continues a pretraining run (SPEC §4).
    pub fn skip_blocks(&mut self, n: u64) {
        self.next = self.next.saturating_add(n);
    }

    /// The next batch: `batch_size` blocks for this rank.
    pub fn next_batch(&mut self) -> Batch {
        let n = self.shard.num_blocks() as u64;
        let (b, w) = (self.batch_size as u64, self.world_size as u64);
        let mut batch = Batch::with_capacity(self.batch_size, self.shard.block_size());
        for k in 0..b {
            let global = self.next + k * w + self.rank as u64;
            let block = self.permutation(global / n)[(global % n) as usize];
            batch.push_block(&self.shard, block as usize);
        }
        self.next += b * w;
        batch
    }

    /// The block order of `epoch`, computed once per epoch.
    fn permutation(&mut self, epoch: u64) -> &[u32] {
        if self.permutation.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.permutation = Some((epoch, epoch_permutation(self.seed, epoch, self.shard.num_blocks())));
        }
        self.permutation.as_ref().map(|(_, p)| p.as_slice()).unwrap_or_default()
    }
}

/// The block order of one epoch: Fisher–Yates with ChaCha8 seeded by `seed`, stream `epoch`.
pub fn epoch_permutation(seed: u64, epoch: u64, num_blocks: usize) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch);
    let mut order: Vec<u32> = (0..num_blocks as u32).collect();
    order.shuffle(&mut rng);
    order
}

/// All blocks in shard order, for validation: rank `r` of `w` reads blocks `r, r + w, ...`; the last batch may be
/// short.
pub struct SequentialBatches<'a> {
    shard: &'a Shard,
    batch_size: usize,
    next: usize,
    stride: usize,
}

impl<'a> SequentialBatches<'a> {
    /// Every block of `shard`, `batch_size` at a time (`batch_size` 0 is treated as 1).
    pub fn new(shard: &'a Shard, batch_size: usize) -> Self {
        SequentialBatches {
            shard,
            batch_size: batch_size.max(1),
            next: 0,
            stride: 1,
        }
    }

    /// Only the blocks of rank `rank` of `world_size` (`rank < world_size`, else nothing).
    pub fn with_rank(mut self, rank: usize, world_size: usize) -> Self {
        self.next = if rank < world_size { rank } else { usize::MAX };
        self.stride = world_size.max(1);
        self
    }
}

impl Iterator for SequentialBatches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.shard.num_blocks() {
            return None;
        }
        let mut batch = Batch::with_capacity(self.batch_size, self.shard.block_size());
        while batch.batch_size < self.batch_size && self.next < self.shard.num_blocks() {
            batch.push_block(self.shard, self.next);
            self.next = self.next.saturating_add(self.stride);
        }
        Some(batch)
    }
}

#[cfg(test)]
#[path = "loader_tests.rs"]
mod tests;
