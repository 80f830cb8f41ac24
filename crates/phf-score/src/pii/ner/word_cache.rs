//! What the NER computes from a word alone, kept across documents and threads: a token's reduced embedding
//! depends only on its four attribute keys, and so does what that embedding contributes to the first encoder
//! layer. Words repeat, so most tokens skip both (`docs/BENCHMARKS.md` has the hit rate's effect).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, RwLock};

use super::tok2vec::ATTRS;

/// Independently locked parts of the cache, so that threads rarely wait for each other.
const SHARDS: usize = 16;

/// A token's attribute keys (NORM, PREFIX, SUFFIX, SHAPE string ids).
pub type Keys = [u64; ATTRS];

/// The keys are spaCy's 64-bit MurmurHash ids, already well mixed: hashing them again (SipHash) cost more than
/// the lookup. Their rotated XOR is the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key(Keys);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let [a, b, c, d] = self.0;
        state.write_u64(a ^ b.rotate_left(16) ^ c.rotate_left(32) ^ d.rotate_left(48));
    }
}

/// Passes [`Key`]'s one `u64` through.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached if something other than a `Key` is hashed: fold the bytes in.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Map = HashMap<Key, Arc<[f32]>, BuildHasherDefault<KeyHasher>>;

/// A shard's entries in two generations: when the newer is full it becomes the older and the older is dropped;
/// an entry found in the older moves up, so the words in use stay.
#[derive(Debug, Default)]
struct Shard {
    newer: Map,
    older: Map,
}

/// Values per word (each the same length), bounded by generations of at most `per_shard` entries per shard.
#[derive(Debug)]
pub struct WordCache {
    shards: Vec<RwLock<Shard>>,
    per_shard: usize,
}

impl WordCache {
    /// A cache of at most about `words` entries (twice that while both generations are full).
    pub fn new(words: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            per_shard: words.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, keys: &Keys) -> &RwLock<Shard> {
        &self.shards[(keys[0] ^ keys[3]) as usize % SHARDS]
    }

    pub fn get(&self, keys: &Keys) -> Option<Arc<[f32]>> {
        let key = Key(*keys);
        {
            let shard = self.shard(keys).read().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = shard.newer.get(&key) {
                return Some(Arc::clone(v));
            }
            if !shard.older.contains_key(&key) {
                return None;
            }
        }
        let mut shard = self.shard(keys).write().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = shard.newer.get(&key) {
            return Some(Arc::clone(v));
        }
        let v = shard.older.remove(&key)?;
        self.insert_newer(&mut shard, key, Arc::clone(&v));
        Some(v)
    }

    pub fn insert(&self, keys: &Keys, value: Arc<[f32]>) {
        let mut shard = self.shard(keys).write().unwrap_or_else(|e| e.into_inner());
        self.insert_newer(&mut shard, Key(*keys), value);
    }

    fn insert_newer(&self, shard: &mut Shard, key: Key, value: Arc<[f32]>) {
        if shard.newer.len() >= self.per_shard {
            shard.older = std::mem::take(&mut shard.newer);
        }
        shard.newer.insert(key, value);
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            *shard.write().unwrap_or_else(|e| e.into_inner()) = Shard::default();
        }
    }

    /// Entries held now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = s.read().unwrap_or_else(|e| e.into_inner());
                shard.newer.len() + shard.older.len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_was_inserted_and_stays_bounded() {
        let cache = WordCache::new(64);
        let value = |k: u64| Arc::from(vec![k as f32; 3]);
        for k in 0..64u64 {
            cache.insert(&[k, k * 7, 1, 2], value(k));
        }
        for k in 0..64u64 {
            if let Some(v) = cache.get(&[k, k * 7, 1, 2]) {
                assert_eq!(&*v, &[k as f32; 3]);
            }
        }
        assert!(cache.get(&[1000, 0, 0, 0]).is_none());
        let hot = [7u64, 7 * 7, 1, 2];
        for k in 0..10_000u64 {
            cache.insert(&[k, k.wrapping_mul(0x9E37_79B9_7F4A_7C15), 3, 4], value(k));
            assert!(cache.len() <= 2 * 64, "{} entries", cache.len());
            assert_eq!(cache.get(&hot).as_deref(), Some(&[7.0; 3][..]), "a word in use stays");
        }
        let last = 9_999u64;
        let got = cache.get(&[last, last.wrapping_mul(0x9E37_79B9_7F4A_7C15), 3, 4]);
        assert_eq!(got.as_deref(), Some(&[last as f32; 3][..]), "the latest entry is kept");
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
