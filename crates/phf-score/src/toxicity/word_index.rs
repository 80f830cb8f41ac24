//! The tokenizer's word → id table, built for lookups straight from the text's bytes.
//!
//! Scoring a document looks up ~100 words, so lookups are a large share of the toxicity scorer's time, and
//! they are cache misses in a general-purpose map (hash, control bytes, then the key behind a pointer). Here
//! one open-addressing array of 16-byte slots holds everything a lookup of a word of up to 8 bytes needs — the
//! word itself, its length and its id — so such a lookup (about three in four) touches one cache line; longer
//! words are compared against a shared byte buffer. The array (32 Ki slots for tox-block's 20 k words, 512 KB)
//! stays in the L2 cache.

/// One slot: the word (inline if at most 8 bytes, else its offset in `long_words`), its length (0: empty), id.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    word: u64,
    len: u32,
    id: u32,
}

#[derive(Debug, Clone)]
pub(super) struct WordIndex {
    slots: Vec<Slot>,
    long_words: Vec<u8>,
}

/// A word of at most 8 bytes as a number (little-endian, zero-filled); with the length, unique.
pub(super) fn packed(word: &[u8]) -> u64 {
    // A byte loop rather than `copy_from_slice`: in the debug profile that is a checked call to memcpy.
    word.iter().rev().fold(0, |packed, &b| packed << 8 | u64::from(b))
}

/// [`packed`] bytes of ASCII with `A`–`Z` lowercased, all eight at once: a byte's high bit after adding
/// `0x80 − 'A'` says `b ≥ 'A'`, after adding `0x80 − '['` says `b > 'Z'` (no carry crosses bytes below 0x80).
pub(super) fn ascii_lowercase_packed(ascii: u64) -> u64 {
    const BYTES: u64 = 0x0101_0101_0101_0101;
    let at_least_a = ascii + (0x80 - u64::from(b'A')) * BYTES;
    let above_z = ascii + (0x80 - u64::from(b'[')) * BYTES;
    let upper = at_least_a & !above_z & (0x80 * BYTES);
    ascii | upper >> 2
}

const K: u64 = 0x517c_c1b7_2722_0a95;

/// Multiply-rotate hash over 8-byte chunks. The table is fixed, so text cannot lengthen its probe chains
/// beyond what its ~20 k words make; a keyed hash is not needed.
fn hash(word: &[u8]) -> u64 {
    if word.len() <= 8 {
        return short_hash(packed(word), word.len());
    }
    let mut h = word.len() as u64;
    for chunk in word.chunks(8) {
        h = (h.rotate_left(5) ^ packed(chunk)).wrapping_mul(K);
    }
    h
}

/// [`hash`] of a word of at most 8 bytes, from its [`packed`] form.
fn short_hash(packed: u64, len: usize) -> u64 {
    ((len as u64).rotate_left(5) ^ packed).wrapping_mul(K)
}

impl WordIndex {
    /// Builds the table from (word, id) pairs of distinct words; empty words (which no tokenizer emits) are
    /// left out.
    pub(super) fn new<'a>(words: impl IntoIterator<Item = (&'a [u8], u32)>) -> Self {
        let words: Vec<(&[u8], u32)> = words.into_iter().filter(|(w, _)| !w.is_empty()).collect();
        // At most half full, so probe chains stay short.
        let capacity = (2 * words.len()).next_power_of_two().max(16);
        let mut index = Self {
            slots: vec![Slot::default(); capacity],
            long_words: Vec::new(),
        };
        for (word, id) in words {
            let at = index.probe(word);
            if index.slots[at].len != 0 {
                continue; // a repeated word keeps its first id
            }
            let stored = if word.len() <= 8 {
                packed(word)
            } else {
                index.long_words.extend_from_slice(word);
                (index.long_words.len() - word.len()) as u64
            };
            index.slots[at] = Slot {
                word: stored,
                len: word.len() as u32,
                id,
            };
        }
        index
    }

    /// The slot holding `word`, or the empty slot where it would go.
    fn probe(&self, word: &[u8]) -> usize {
        if word.len() <= 8 {
            return self.probe_short(packed(word), word.len());
        }
        self.probe_from(hash(word), |slot| {
            let start = slot.word as usize;
            slot.len as usize == word.len() && &self.long_words[start..start + word.len()] == word
        })
    }

    fn probe_short(&self, packed: u64, len: usize) -> usize {
        self.probe_from(short_hash(packed, len), |slot| {
            slot.len as usize == len && slot.word == packed
        })
    }

    /// Linear probing from the home slot of `hash` (its high bits, which the multiply mixes best) to the first
    /// slot that is empty or `holds` the word.
    fn probe_from(&self, hash: u64, holds: impl Fn(Slot) -> bool) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = (hash >> (64 - self.slots.len().trailing_zeros())) as usize;
        loop {
            let slot = self.slots[at];
            if slot.len == 0 || holds(slot) {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// The id of `word`, if it is in the table.
    pub(super) fn get(&self, word: &[u8]) -> Option<u32> {
        if word.is_empty() || word.len() > u32::MAX as usize {
            return None;
        }
        let slot = self.slots[self.probe(word)];
        (slot.len != 0).then_some(slot.id)
    }

    /// [`Self::get`] for a word of 1 to 8 bytes given [`packed`].
    pub(super) fn get_short(&self, packed: u64, len: usize) -> Option<u32> {
        debug_assert!((1..=8).contains(&len));
        let slot = self.slots[self.probe_short(packed, len)];
        (slot.len != 0).then_some(slot.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_word_and_nothing_else() {
        let words: Vec<String> = (0..5000).map(|i| format!("w{i}{}", "x".repeat(i % 13))).collect();
        let index = WordIndex::new(words.iter().enumerate().map(|(i, w)| (w.as_bytes(), i as u32 + 1)));
        for (i, w) in words.iter().enumerate() {
            assert_eq!(index.get(w.as_bytes()), Some(i as u32 + 1), "{w}");
        }
        for absent in ["", "w", "w0x", "w12", "w1xxxxxxxxxxxxx", "\0w1x", "w1x\0"] {
            assert_eq!(index.get(absent.as_bytes()), None, "{absent:?}");
        }
    }

    #[test]
    fn packed_lowercase_is_ascii_lowercase() {
        for b in 0..128_u8 {
            assert_eq!(
                ascii_lowercase_packed(u64::from(b)),
                u64::from(b.to_ascii_lowercase()),
                "{b}"
            );
        }
        for word in ["HeLLo", "AZaz@[`{", "", "Q", "12345678", "ZZZZZZZZ"] {
            let lower = word.to_ascii_lowercase();
            assert_eq!(
                ascii_lowercase_packed(packed(word.as_bytes())),
                packed(lower.as_bytes()),
                "{word}"
            );
        }
    }

    #[test]
    fn short_words_differ_from_zero_padded_ones() {
        let index = WordIndex::new([(&b"a"[..], 1), (&b"a\0"[..], 2), (&b""[..], 3)]);
        assert_eq!(index.get(b"a"), Some(1));
        assert_eq!(index.get(b"a\0"), Some(2));
        assert_eq!(index.get(b"a\0\0"), None);
        assert_eq!(index.get(b""), None);
        assert_eq!(index.get_short(packed(b"a\0"), 2), Some(2));
    }
}
