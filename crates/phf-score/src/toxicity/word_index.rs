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
fn packed(word: &[u8]) -> u64 {
    // A byte loop rather than `copy_from_slice`: in the debug profile that is a checked call to memcpy.
    word.iter().rev().fold(0, |packed, &b| packed << 8 | u64::from(b))
}

/// Multiply-rotate hash over 8-byte chunks. The table is fixed, so text cannot lengthen its probe chains
/// beyond what its ~20 k words make; a keyed hash is not needed.
fn hash(word: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = word.len() as u64;
    for chunk in word.chunks(8) {
        h = (h.rotate_left(5) ^ packed(chunk)).wrapping_mul(K);
    }
    h
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

    /// The slot holding `word`, or the empty slot where it would go (linear probing from its home slot, taken
    /// from the hash's high bits, which the multiply mixes best).
    fn probe(&self, word: &[u8]) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = (hash(word) >> (64 - self.slots.len().trailing_zeros())) as usize;
        loop {
            let slot = self.slots[at];
            if slot.len == 0 || self.holds(slot, word) {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    fn holds(&self, slot: Slot, word: &[u8]) -> bool {
        if slot.len as usize != word.len() {
            false
        } else if word.len() <= 8 {
            slot.word == packed(word)
        } else {
            let start = slot.word as usize;
            &self.long_words[start..start + word.len()] == word
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
    fn short_words_differ_from_zero_padded_ones() {
        let index = WordIndex::new([(&b"a"[..], 1), (&b"a\0"[..], 2), (&b""[..], 3)]);
        assert_eq!(index.get(b"a"), Some(1));
        assert_eq!(index.get(b"a\0"), Some(2));
        assert_eq!(index.get(b"a\0\0"), None);
        assert_eq!(index.get(b""), None);
    }
}
