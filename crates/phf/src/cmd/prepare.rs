//! `phf prepare`: documents → train/valid shards of fixed-length token blocks with per-token scores (SPEC §2).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use phf_data::prepare::{prepare, PrepareOptions};
use phf_data::Tokenizer;

#[derive(Args)]
pub struct PrepareArgs {
    /// Documents: JSONL in the reference schema (`texts`/`scores`), `.txt` files, or folders of them.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// tokenizer.json from `phf tokenizer train` (its hash is recorded in the shards).
    #[arg(long)]
    pub tokenizer: PathBuf,
    /// Output folder; `train/` and `valid/` shards are written inside it.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Tokens per block (the model's context; 1024 at paper scale).
    #[arg(long, default_value_t = 256)]
    pub block_size: usize,
    /// Share of documents held out for validation (chosen by a seeded hash of each document's position).
    #[arg(long, default_value_t = 0.05)]
    pub valid_fraction: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(a: PrepareArgs) -> Result<()> {
    let tokenizer = Tokenizer::load(&a.tokenizer)?;
    let opts = PrepareOptions {
        block_size: a.block_size,
        valid_fraction: a.valid_fraction,
        seed: a.seed,
        progress: true,
    };
    let report = prepare(&a.input, &tokenizer, &opts, &a.out)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
