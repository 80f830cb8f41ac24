//! The prefetching input pipeline hands out exactly the loader's batches, in order, and reports the position
//! after the last batch handed out (not after the batches it has read ahead), so checkpoints resume exactly.

mod common;

use phf_data::{Loader, Shard};
use phf_train::prefetch::Prefetcher;
use tch::Device;

#[test]
fn prefetched_batches_and_positions_are_the_loaders() {
    let tmp = tempfile::tempdir().unwrap();
    let config = common::setup(tmp.path());
    let shard = std::sync::Arc::new(Shard::open(&config.data.train).unwrap());
    let mut plain = Loader::new(shard.clone(), 3, 7).unwrap();
    let mut ahead = Prefetcher::new(Loader::new(shard.clone(), 3, 7).unwrap(), Device::Cpu);
    // moved before the first batch, as a resumed run does
    plain.skip_blocks(5);
    ahead.loader_mut().expect("not started yet").skip_blocks(5);
    for _ in 0..2 * shard.num_blocks() / 3 {
        let want = plain.next_batch();
        let got = ahead.next_batch().unwrap();
        assert_eq!(got.batch, want);
        assert_eq!(Vec::<i64>::try_from(got.tokens.reshape([-1])).unwrap(), want.tokens);
        assert_eq!(Vec::<f32>::try_from(got.scores.reshape([-1])).unwrap(), want.scores);
        assert_eq!(ahead.position(), plain.position());
    }
    assert!(ahead.loader_mut().is_none(), "a started pipeline cannot be moved");
}
