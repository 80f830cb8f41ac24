//! The two hash functions spaCy's NER keys its embeddings with.
//!
//! - [`string_hash`]: spaCy's `StringStore` id of a string, MurmurHash64A of its UTF-8 bytes with seed 1
//!   (`spacy.strings.hash_string`). Strings that are spaCy symbols (`X`, `ORG`, …) have small fixed ids instead;
//!   [`super::lexeme::StringIds`] handles those.
//! - [`embed_rows`]: thinc's `HashEmbed` hash of such a 64-bit id with the layer's seed, MurmurHash3 x64-128 of the
//!   eight little-endian bytes (`thinc.backends.numpy_ops.MurmurHash3_x86_128_uint64`), whose four 32-bit words each
//!   pick a row of the table.

const M: u64 = 0xc6a4_a793_5bd1_e995;

/// MurmurHash64A of `bytes` with `seed`.
fn murmur64a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(M);
    let mut blocks = bytes.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().expect("chunks of 8"));
        k = k.wrapping_mul(M);
        k ^= k >> 47;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 47;
    h = h.wrapping_mul(M);
    h ^= h >> 47;
    h
}

/// spaCy's hash of a string (`hash_string`).
pub fn string_hash(s: &str) -> u64 {
    murmur64a(s.as_bytes(), 1)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// The four 32-bit words thinc's `HashEmbed` derives from `key` with `seed`; row `word % rows` of the table is
/// summed for each.
pub fn embed_rows(key: u64, seed: u32) -> [u32; 4] {
    let mut h1 = key.wrapping_mul(0x87c3_7b91_1142_53d5);
    h1 = h1.rotate_left(31);
    h1 = h1.wrapping_mul(0x4cf5_ad43_2745_937f);
    h1 ^= u64::from(seed);
    h1 ^= 8;
    let mut h2 = u64::from(seed) ^ 8;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    [h1 as u32, (h1 >> 32) as u32, h2 as u32, (h2 >> 32) as u32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hashes_match_spacy() {
        // spacy.strings.hash_string on each (spaCy 3.8.18).
        assert_eq!(string_hash("apple"), 8566208034543834098);
        assert_eq!(string_hash("Xxxxx"), 16072095006890171862);
        assert_eq!(string_hash("éa"), 3511858901065756973);
    }

    #[test]
    fn embed_rows_match_thinc() {
        // NumpyOps().hash(numpy.array([key], dtype="uint64"), seed) (thinc 8.3.14).
        assert_eq!(
            embed_rows(8566208034543834098, 8),
            [2653853934, 3922826080, 3980780901, 3736755472]
        );
        assert_eq!(embed_rows(0, 11), [3211867976, 2044022225, 3076925725, 183887857]);
    }
}
