//! `phf sample`: text from a trained model, with the sampling settings of SPEC §5 as defaults.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use phf_data::Tokenizer;
use phf_lm::{generate, DeviceSpec, Gpt, SampleOptions};
use phf_train::checkpoint;

use super::control::{BanControl, ControlTokens};

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
    let model_dir = resolve_model_dir(&a.model)?;
    let tokenizer_path = match &a.tokenizer {
        Some(p) => p.clone(),
        None => tokenizer_of_run(&model_dir)?,
    };
    let tokenizer = Tokenizer::load(&tokenizer_path)?;
    let model = Gpt::load(&model_dir, a.device.resolve()?)?;
    if tokenizer.vocab_size() > model.config.vocab_size {
        bail!(
            "{} has {} tokens but the model {} has only {} embedding rows: pass the tokenizer the model was trained with",
            tokenizer_path.display(),
            tokenizer.vocab_size(),
            model_dir.display(),
            model.config.vocab_size
        );
    }
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
    let eos = tokenizer.eos_id();
    let mut ids = vec![eos as i64];
    ids.extend(control_ids.iter().map(|&t| i64::from(t)));
    ids.extend(tokenizer.encode(prompt).into_iter().map(i64::from));
    if ids.len() >= model.config.n_ctx {
        bail!(
            "the prompt is {} tokens; the model's context is {}",
            ids.len(),
            model.config.n_ctx
        );
    }
    let samples = generate(model, &ids, eos as i64, opts, |done| {
        eprint!("\rsampled {done}/{}", opts.num_samples)
    });
    eprintln!();
    let control = ControlTokens::of(tokenizer);
    Ok(samples.iter().map(|s| tokenizer.decode(&control.strip(s))).collect())
}

/// A run directory resolves to its latest checkpoint; a model directory is used as is.
pub fn resolve_model_dir(path: &Path) -> Result<PathBuf> {
    if path.join(phf_lm::weights::WEIGHTS_FILE).exists() {
        return Ok(path.to_path_buf());
    }
    match checkpoint::latest(path)? {
        Some(dir) => Ok(dir),
        None => bail!(
            "{} is neither a model directory (no model.safetensors) nor a run with checkpoints: pass the \
             --run-dir of a `phf train` run, or one of its checkpoints/step-N folders",
            path.display()
        ),
    }
}

/// The tokenizer named in the `run.toml` saved beside a checkpoint.
fn tokenizer_of_run(model_dir: &Path) -> Result<PathBuf> {
    let text = checkpoint::config_text(model_dir).with_context(|| {
        format!(
            "{} has no run.toml naming its tokenizer: pass --tokenizer",
            model_dir.display()
        )
    })?;
    let config = phf_train::TrainConfig::from_toml(&text, &[], &model_dir.join(checkpoint::RUN_CONFIG_FILE))?;
    Ok(config.data.tokenizer)
}
