//! Shared by the phf-eval integration tests: tiny random models, a tokenizer, and one turn at libtorch's global
//! random generator at a time (sampling seeds it).

use phf_data::Tokenizer;
use phf_lm::{Gpt, GptConfig};

pub fn rng_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn tokenizer() -> Tokenizer {
    let text = "call me at home. my email is on the card. the cat sat on the mat.".to_string();
    Tokenizer::train_bpe(std::iter::repeat_n(text, 4), 300).expect("train a tokenizer")
}

/// A random tiny GPT over `vocab` tokens; `scale` shrinks the initialisation so distributions stay broad.
pub fn model(seed: i64, vocab: usize, scale: f64) -> Gpt {
    tch::manual_seed(seed);
    let mut c = GptConfig::preset("tiny").expect("preset");
    c.vocab_size = vocab;
    c.n_ctx = 32;
    c.n_embd = 32;
    c.n_head = 2;
    c.init_std *= scale;
    Gpt::new(c, tch::Device::Cpu)
}
