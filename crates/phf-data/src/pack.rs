//! Packing documents into fixed-length blocks of token ids with per-token scores, exactly as SPEC §2:
//!
//! - a document becomes `EOS + seg1 + seg2 + ...`;
//! - each segment is tokenized *separately*, so BPE never merges across a segment boundary;
//! - every token carries the score of its segment, and the leading EOS carries the *first* segment's score;
//! - token streams are concatenated across documents and cut into blocks of `block_size`; a trailing partial
//!   block is dropped.

use crate::document::Document;
use crate::error::{DataError, Result};
use crate::tokenizer::Tokenizer;

/// One packed block: `block_size` token ids and their scores.
pub type Block = (Vec<u32>, Vec<f32>);

/// Accumulates documents and hands out complete blocks.
pub struct Packer<'t> {
    tokenizer: &'t Tokenizer,
    block_size: usize,
    /// Tokens not yet cut into a block (always fewer than `block_size` after [`Packer::pop_block`] drains).
    tokens: Vec<u32>,
    scores: Vec<f32>,
    documents: u64,
    tokens_pushed: u64,
}

impl<'t> Packer<'t> {
    /// A packer for blocks of `block_size` tokens (SPEC §4: 1024 at paper scale).
    pub fn new(tokenizer: &'t Tokenizer, block_size: usize) -> Result<Self> {
        if block_size < 2 {
            return Err(DataError::Config(format!(
                "block_size {block_size} is too small: a block needs at least 2 tokens (one to predict from, one to predict)"
            )));
        }
        Ok(Packer {
            tokenizer,
            block_size,
            tokens: Vec::with_capacity(2 * block_size),
            scores: Vec::with_capacity(2 * block_size),
            documents: 0,
            tokens_pushed: 0,
        })
    }

    /// Tokenizes each segment of `doc` separately and appends `EOS + segments`.
    pub fn push(&mut self, doc: &Document) {
        let segments: Vec<Vec<u32>> = doc.texts.iter().map(|t| self.tokenizer.encode(t)).collect();
        self.push_encoded(&segments, &doc.scores);
    }

    /// Appends a document whose segments are already tokenized (e.g. in parallel with
    /// [`Tokenizer::encode_batch`]). `scores` has one value per segment; a document without segments adds nothing.
    pub fn push_encoded(&mut self, segments: &[Vec<u32>], scores: &[f32]) {
        debug_assert_eq!(segments.len(), scores.len(), "one score per segment");
        let Some(&first_score) = scores.first() else {
            return;
        };
        self.documents += 1;
        let before = self.tokens.len();
        self.tokens.push(self.tokenizer.eos_id());
        self.scores.push(first_score);
        for (ids, &score) in segments.iter().zip(scores) {
            self.tokens.extend_from_slice(ids);
            self.scores.extend(std::iter::repeat_n(score, ids.len()));
        }
        self.tokens_pushed += (self.tokens.len() - before) as u64;
    }

    /// The next complete block, if one is ready.
    pub fn pop_block(&mut self) -> Option<Block> {
        if self.tokens.len() < self.block_size {
            return None;
        }
        let tokens = self.tokens.drain(..self.block_size).collect();
        let scores = self.scores.drain(..self.block_size).collect();
        Some((tokens, scores))
    }

    /// Tokens waiting for the next block.
    pub fn pending(&self) -> usize {
        self.tokens.len()
    }

    /// Documents pushed so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Tokens pushed so far, EOS included.
    pub fn tokens_pushed(&self) -> u64 {
        self.tokens_pushed
    }

    /// The block length.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Ends the stream: the complete blocks still held, and how many tokens of the trailing partial block were
    /// dropped (SPEC §2).
    pub fn finish(mut self) -> (Vec<Block>, usize) {
        let mut blocks = Vec::new();
        while let Some(block) = self.pop_block() {
            blocks.push(block);
        }
        (blocks, self.tokens.len())
    }
}

/// Packs `docs` in one go; for tests and small corpora.
pub fn pack_all<'a>(
    tokenizer: &Tokenizer,
    block_size: usize,
    docs: impl IntoIterator<Item = &'a Document>,
) -> Result<Vec<Block>> {
    let mut packer = Packer::new(tokenizer, block_size)?;
    let mut blocks = Vec::new();
    for doc in docs {
        packer.push(doc);
        while let Some(block) = packer.pop_block() {
            blocks.push(block);
        }
    }
    blocks.extend(packer.finish().0);
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::tiny_gpt2;

    fn doc(texts: &[&str], scores: &[f32]) -> Document {
        Document {
            texts: texts.iter().map(|t| t.to_string()).collect(),
            scores: scores.to_vec(),
            attribute_scores: Default::default(),
            source: None,
        }
    }

    // Ids of the tiny GPT-2 vocab: h0 e1 l2 o3 Ġ4 w5 r6 d7 he8 ll9 hell10 hello11 EOS12.

    #[test]
    fn golden_layout_eos_first_score_and_partial_block_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tok = tiny_gpt2(dir.path());
        let a = doc(&["hello", " world"], &[0.1, 0.9]);
        let b = doc(&["hello"], &[0.0]);
        // Stream: EOS hello | Ġ w o r l d | EOS hello -> blocks of 4, the last 2 tokens dropped.
        let mut packer = Packer::new(&tok, 4).expect("packer");
        packer.push(&a);
        packer.push(&b);
        assert_eq!(packer.tokens_pushed(), 10);
        let (blocks, dropped) = packer.finish();
        assert_eq!(
            blocks,
            vec![
                (vec![12, 11, 4, 5], vec![0.1, 0.1, 0.9, 0.9]),
                (vec![3, 6, 2, 7], vec![0.9, 0.9, 0.9, 0.9]),
            ]
        );
        assert_eq!(dropped, 2);
    }

    #[test]
    fn segments_are_tokenized_separately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tok = tiny_gpt2(dir.path());
        assert_eq!(tok.encode("hello"), vec![11]);
        // "hel" + "lo" never merge into "hello": he l | l o.
        let blocks = pack_all(&tok, 5, [&doc(&["hel", "lo"], &[0.5, 0.25])]).expect("pack");
        assert_eq!(blocks, vec![(vec![12, 8, 2, 2, 3], vec![0.5, 0.5, 0.5, 0.25, 0.25])]);
    }

    #[test]
    fn leading_eos_takes_first_segment_score_even_when_it_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tok = tiny_gpt2(dir.path());
        let blocks = pack_all(&tok, 2, [&doc(&["", "he"], &[0.7, 0.2])]).expect("pack");
        assert_eq!(blocks, vec![(vec![12, 8], vec![0.7, 0.2])]);
    }

    #[test]
    fn blocks_span_documents_and_pop_as_soon_as_complete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tok = tiny_gpt2(dir.path());
        let mut packer = Packer::new(&tok, 3).expect("packer");
        packer.push(&doc(&["he"], &[0.0]));
        assert_eq!(packer.pop_block(), None);
        assert_eq!(packer.pending(), 2);
        packer.push(&doc(&["he"], &[1.0]));
        assert_eq!(packer.pop_block(), Some((vec![12, 8, 12], vec![0.0, 0.0, 1.0])));
        assert_eq!(packer.pop_block(), None);
        assert_eq!(packer.documents(), 2);
        assert_eq!(packer.finish(), (vec![], 1));
    }

    #[test]
    fn block_size_must_be_at_least_two() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tok = tiny_gpt2(dir.path());
        assert!(Packer::new(&tok, 1).is_err());
        assert!(Packer::new(&tok, 0).is_err());
    }
}
