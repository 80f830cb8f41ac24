//! Loading a model to sample or evaluate: a `phf train` run directory (its latest checkpoint), a checkpoint, or a
//! Hugging Face GPT-2 directory, with its tokenizer (named in the run's config, or `tokenizer.json` beside it).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use phf_data::Tokenizer;
use phf_lm::{DeviceSpec, Gpt};
use phf_train::{checkpoint, TrainConfig};

pub struct LoadedModel {
    /// The directory holding `model.safetensors`.
    pub dir: PathBuf,
    pub model: Gpt,
    pub tokenizer: Tokenizer,
    /// The run's resolved config, when the model comes from `phf train`.
    pub config: Option<TrainConfig>,
}

impl LoadedModel {
    pub fn load(path: &Path, tokenizer: Option<&Path>, device: &DeviceSpec) -> Result<LoadedModel> {
        let dir = resolve_model_dir(path)?;
        let config = run_config(&dir)?;
        let tokenizer_path = match (tokenizer, &config) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(c)) => c.data.tokenizer.clone(),
            (None, None) if dir.join("tokenizer.json").exists() => dir.join("tokenizer.json"),
            (None, None) => bail!(
                "{} has neither a run.toml naming its tokenizer nor a tokenizer.json: pass --tokenizer",
                dir.display()
            ),
        };
        let tokenizer = Tokenizer::load(&tokenizer_path)?;
        let model = Gpt::load(&dir, device.resolve()?)?;
        if tokenizer.vocab_size() > model.config.vocab_size {
            bail!(
                "{} has {} tokens but the model {} has only {} embedding rows: pass the tokenizer the model was \
                 trained with",
                tokenizer_path.display(),
                tokenizer.vocab_size(),
                dir.display(),
                model.config.vocab_size
            );
        }
        Ok(LoadedModel {
            dir,
            model,
            tokenizer,
            config,
        })
    }

    /// Training tokens the checkpoint had seen, when it is one.
    pub fn tokens_seen(&self) -> Option<u64> {
        checkpoint::read_state(&self.dir).ok().map(|s| s.tokens_seen)
    }
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
             --run-dir of a `phf train` run, one of its checkpoints/step-N folders, or a Hugging Face GPT-2 folder",
            path.display()
        ),
    }
}

/// The config saved beside a checkpoint, if there is one.
fn run_config(model_dir: &Path) -> Result<Option<TrainConfig>> {
    let path = model_dir.join(checkpoint::RUN_CONFIG_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = checkpoint::config_text(model_dir).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(TrainConfig::from_toml(&text, &[], &path)?))
}
