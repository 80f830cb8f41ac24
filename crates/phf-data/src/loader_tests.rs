//! Tests of `loader.rs`.

use std::collections::BTreeSet;

use super::*;
use crate::testutil::{spec, write_shard};

/// A shard of `num_blocks` blocks of 4 tokens; block `i` starts with token `i % 100` and has score `i / 10`.
fn shard(num_blocks: u32) -> (tempfile::TempDir, Arc<Shard>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    write_shard(&path, spec(100, 4), num_blocks);
    let shard = Shard::open(&path).expect("open");
    (dir, Arc::new(shard))
}

fn take(loader: &mut Loader, n: usize) -> Vec<Batch> {
    (0..n).map(|_| loader.next_batch()).collect()
}

#[test]
fn batch_rows_are_the_shard_blocks() {
    let (_dir, shard) = shard(10);
    let mut loader = Loader::new(shard.clone(), 3, 1).expect("loader");
    let batch = loader.next_batch();
    assert_eq!((batch.batch_size, batch.block_size), (3, 4));
    assert_eq!(batch.tokens.len(), 12);
    for (row, &id) in batch.block_ids.iter().enumerate() {
        let expected: Vec<i64> = shard.block_tokens(id as usize).into_iter().map(i64::from).collect();
        assert_eq!(&batch.tokens[row * 4..row * 4 + 4], expected.as_slice());
        assert_eq!(&batch.scores[row * 4..row * 4 + 4], shard.block_scores(id as usize));
    }
}

#[test]
fn each_epoch_is_a_seeded_permutation() {
    let (_dir, shard) = shard(12);
    let mut loader = Loader::new(shard.clone(), 4, 7).expect("loader");
    let epoch0: Vec<u64> = take(&mut loader, 3).into_iter().flat_map(|b| b.block_ids).collect();
    let epoch1: Vec<u64> = take(&mut loader, 3).into_iter().flat_map(|b| b.block_ids).collect();
    let all: BTreeSet<u64> = (0..12).collect();
    assert_eq!(epoch0.iter().copied().collect::<BTreeSet<_>>(), all);
    assert_eq!(epoch1.iter().copied().collect::<BTreeSet<_>>(), all);
    assert_ne!(epoch0, epoch1, "a new epoch reshuffles");
    assert_ne!(epoch0, (0..12).collect::<Vec<_>>(), "shuffled");
    assert_eq!(loader.position(), LoaderPosition { epoch: 2, cursor: 0 });

    let mut same_seed = Loader::new(shard.clone(), 4, 7).expect("loader");
    let again: Vec<u64> = take(&mut same_seed, 3).into_iter().flat_map(|b| b.block_ids).collect();
    assert_eq!(again, epoch0);
    let mut other_seed = Loader::new(shard, 4, 8).expect("loader");
    let other: Vec<u64> = take(&mut other_seed, 3).into_iter().flat_map(|b| b.block_ids).collect();
    assert_ne!(other, epoch0);
}

#[test]
fn resume_reproduces_the_following_batches_exactly() {
    // 7 blocks, batches of 3: batches cross epoch boundaries, the hardest case for a position.
    let (_dir, shard) = shard(7);
    let mut original = Loader::new(shard.clone(), 3, 42).expect("loader");
    take(&mut original, 5);
    let position = original.position();
    assert_eq!(position, LoaderPosition { epoch: 2, cursor: 1 });
    let json = serde_json::to_string(&position).expect("serialise");
    let continued = take(&mut original, 5);

    let mut resumed = Loader::new(shard, 3, 42).expect("loader");
    resumed
        .set_position(serde_json::from_str(&json).expect("deserialise"))
        .expect("set position");
    assert_eq!(take(&mut resumed, 5), continued);
}

#[test]
fn skip_blocks_matches_reading_them() {
    let (_dir, shard) = shard(10);
    let mut read = Loader::new(shard.clone(), 3, 5).expect("loader");
    take(&mut read, 4);
    let mut skipped = Loader::new(shard, 3, 5).expect("loader");
    skipped.skip_blocks(12);
    assert_eq!(skipped.position(), read.position());
    assert_eq!(skipped.next_batch(), read.next_batch());
}

#[test]
fn rank_slices_are_disjoint_and_cover_each_epoch() {
    let (_dir, shard) = shard(12);
    let world = 3;
    let mut loaders: Vec<Loader> = (0..world)
        .map(|r| {
            Loader::new(shard.clone(), 2, 9)
                .and_then(|l| l.with_rank(r, world))
                .expect("loader")
        })
        .collect();
    let mut seen = Vec::new();
    for _step in 0..2 {
        for loader in &mut loaders {
            seen.extend(loader.next_batch().block_ids);
        }
    }
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 12);
    assert_eq!(unique, (0..12).collect(), "disjoint and covering");
    assert!(loaders
        .iter()
        .all(|l| l.position() == LoaderPosition { epoch: 1, cursor: 0 }));

    // The ranks together read the single-rank stream, interleaved.
    let mut single = Loader::new(shard.clone(), 6, 9).expect("loader");
    let order = single.next_batch().block_ids;
    let mut fresh: Vec<Loader> = (0..world)
        .map(|r| {
            Loader::new(shard.clone(), 2, 9)
                .and_then(|l| l.with_rank(r, world))
                .expect("loader")
        })
        .collect();
    let firsts: Vec<Vec<u64>> = fresh.iter_mut().map(|l| l.next_batch().block_ids).collect();
    assert_eq!(firsts[1], vec![order[1], order[4]]);
    assert!(Loader::new(shard, 2, 9).expect("loader").with_rank(3, 3).is_err());
}

#[test]
fn bad_positions_and_sizes_are_errors() {
    let (_dir, shard) = shard(5);
    let mut loader = Loader::new(shard.clone(), 2, 0).expect("loader");
    let err = loader
        .set_position(LoaderPosition { epoch: 0, cursor: 5 })
        .expect_err("cursor past end")
        .to_string();
    assert!(err.contains("cursor 5 is past this shard's 5 blocks"), "{err}");
    assert!(Loader::new(shard, 0, 0).is_err());
    let (_dir, empty) = self::shard(0);
    let err = Loader::new(empty, 1, 0)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("has no blocks"), "{err}");
}

#[test]
fn sequential_batches_cover_all_blocks_in_order() {
    let (_dir, shard) = shard(7);
    let batches: Vec<Batch> = SequentialBatches::new(&shard, 3).collect();
    let sizes: Vec<usize> = batches.iter().map(|b| b.batch_size).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let ids: Vec<u64> = batches.iter().flat_map(|b| b.block_ids.clone()).collect();
    assert_eq!(ids, (0..7).collect::<Vec<_>>());
    assert_eq!(batches[2].tokens.len(), 4);

    let rank1: Vec<u64> = SequentialBatches::new(&shard, 2)
        .with_rank(1, 3)
        .flat_map(|b| b.block_ids)
        .collect();
    assert_eq!(rank1, vec![1, 4]);
}
