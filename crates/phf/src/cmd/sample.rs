//! `phf sample`: text from a trained model, with the sampling settings of SPEC §5 as defaults.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use phf_data::Tokenizer;
use phf_eval::control::{BanControl, ControlTokens};
use phf_eval::Sampler;
use phf_lm::{DeviceSpec, Gpt, SampleOptions};

use super::model::LoadedModel;
use super::progress::Progress;

#[derive(Args)]
pub struct SampleArgs {
    /// A run directory (its latest checkpoint is used) or a checkpoint/model directory.
    #[arg(long, short)]
    pub model: PathBuf,
    /// tokenizer.json; defaults to the one named in the run's config.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Text to continue; samples start after EOS either way, as GPT-2's documents do.
    #[arg(long, default_value = "")]
    pub prompt: String,
    #[arg(long, short = 'n', default_value_t = 8)]
    pub num_samples: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 128)]
    pub max_new_tokens: usize,
    /// EOS is banned until this many tokens are generated.
    #[arg(long, default_value_t = 10)]
    pub min_new_tokens: usize,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f64,
    /// Nucleus mass (1 = off).
    #[arg(long, default_value_t = 0.9)]
    pub top_p: f64,
    /// Keep the k most likely tokens (0 = off).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Token ids never to generate (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ban: Vec<i64>,
    /// Conditional generation: control tokens after the EOS of the prompt, e.g. `aligned`, or
    /// `toxicity:aligned,pii:aligned` for a multi-attribute model (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub control: Vec<String>,
    /// Control tokens the model may not generate: all (toxicity, PII), misaligned (PEP8), none.
    #[arg(long, value_enum, default_value_t = BanControl::All)]
    pub ban_control: BanControl,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Also write the samples as JSONL (`{"text": ...}` per line).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: SampleArgs) -> Result<()> {
    let LoadedModel { model, tokenizer, .. } = LoadedModel::load(&a.model, a.tokenizer.as_deref(), &a.device)?;
    let control = ControlTokens::of(&tokenizer);
    let control_ids = control.prompt_ids(&a.control)?;
    let opts = SampleOptions {
        num_samples: a.num_samples,
        batch_size: a.batch_size,
        max_new_tokens: a.max_new_tokens,
        min_new_tokens: a.min_new_tokens,
        temperature: a.temperature,
        top_p: a.top_p,
        top_k: a.top_k,
        banned_tokens: a.ban.iter().copied().chain(control.banned(a.ban_control)).collect(),
        seed: a.seed,
    };
    opts.validate().map_err(anyhow::Error::msg)?;
    let texts = sample_texts(&model, &tokenizer, &control_ids, &a.prompt, &opts)?;
    let mut out = match &a.out {
        Some(p) => Some(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => None,
    };
    for (i, text) in texts.iter().enumerate() {
        println!("--- sample {} ---\n{}{}", i + 1, a.prompt, text);
        if let Some(f) = out.as_mut() {
            writeln!(f, "{}", serde_json::json!({ "prompt": a.prompt, "text": text }))?;
        }
    }
    Ok(())
}

/// Samples continuations of `EOS + control tokens + prompt` and decodes them, control tokens stripped.
pub fn sample_texts(
    model: &Gpt,
    tokenizer: &Tokenizer,
    control_ids: &[u32],
    prompt: &str,
    opts: &SampleOptions,
) -> Result<Vec<String>> {
    let sampler = Sampler {
        model,
        tokenizer,
        control: control_ids.to_vec(),
        banned: Vec::new(),
    };
    let mut progress = Progress::new("sampled");
    let set = sampler.sample(prompt, opts, |done| progress.count(done, opts.num_samples))?;
    progress.end("");
    Ok(set.texts)
}
