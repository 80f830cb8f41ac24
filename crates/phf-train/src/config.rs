//! The run configuration: one TOML file with `[model]`, `[optimizer]`, `[data]`, `[objective]`, `[training]` and
//! `[eval]` sections, `--set section.key=value` overrides on top, unknown keys rejected. The resolved config is
//! saved beside every checkpoint, so a run can be reproduced from its folder alone.

use std::path::{Path, PathBuf};

use phf_lm::{DeviceSpec, GptConfig};
use serde::{Deserialize, Serialize};

use crate::objectives::ObjectiveSection;
use crate::optim::{AdamWConfig, Implementation};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("--set {arg}: {message}")]
    Override { arg: String, message: String },
    #[error("config key {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("config key {0}")]
    Objective(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub model: ModelSection,
    #[serde(default)]
    pub optimizer: OptimizerSection,
    pub data: DataSection,
    #[serde(default)]
    pub objective: ObjectiveSection,
    #[serde(default)]
    pub training: TrainingSection,
    #[serde(default)]
    pub eval: EvalSection,
}

/// Evaluation during training (SPEC §5, the paper's curves): at every validation (`training.eval_every` and at
/// the end), sample from the model and score the samples; logged beside the validation loss against tokens seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalSection {
    /// The task's scorer (`toxicity`, `pii`, `pep8`, …); empty turns evaluation during training off.
    pub scorer: String,
    /// Unconditional samples per evaluation.
    pub num_samples: usize,
    /// Tokens per sample (capped by the context).
    pub max_new_tokens: usize,
    /// Control tokens after EOS for conditional models; empty = `aligned` when the tokenizer has it.
    pub control: Vec<String>,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            scorer: String::new(),
            num_samples: 128,
            max_new_tokens: 64,
            control: Vec::new(),
        }
    }
}

/// A preset (`tiny`, `small`, `gpt2`) with optional per-key overrides. The vocabulary size always comes from
/// the tokenizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub preset: String,
    pub n_ctx: Option<usize>,
    pub n_embd: Option<usize>,
    pub n_layer: Option<usize>,
    pub n_head: Option<usize>,
    pub dropout: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerSection {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Warm-up length as a fraction of all updates (SPEC §4: 1%).
    pub warmup: f64,
    /// Maximum global gradient norm; 0 disables clipping.
    pub grad_clip: f64,
    /// `"for-loop"` or `"fused"` (PyTorch's multi-tensor kernels); unset: fused on CUDA, the for-loop on CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
}

impl Default for OptimizerSection {
    fn default() -> Self {
        let a = AdamWConfig::default();
        OptimizerSection {
            lr: a.lr,
            beta1: a.beta1,
            beta2: a.beta2,
            eps: a.eps,
            weight_decay: a.weight_decay,
            warmup: 0.01,
            grad_clip: 1.0,
            implementation: None,
        }
    }
}

impl OptimizerSection {
    pub fn adamw(&self) -> AdamWConfig {
        AdamWConfig {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
        }
    }
}

/// Paths are relative to the directory the config file is in (or the working directory for `--set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Shard directory written by `phf prepare` (`.../train`).
    pub train: PathBuf,
    /// Validation shard directory (`.../valid`).
    pub valid: Option<PathBuf>,
    pub tokenizer: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingSection {
    pub device: DeviceSpec,
    pub seed: u64,
    /// Sequences per forward pass.
    pub batch_size: usize,
    /// Forward passes per update: the effective batch is batch_size × grad_accum sequences.
    pub grad_accum: usize,
    /// Training budget in tokens (B × T per sequence counted); sets the number of updates.
    pub total_tokens: u64,
    pub log_every: u64,
    /// Validation loss every this many updates (0: only at the end).
    pub eval_every: u64,
    /// Validation batches per evaluation (0: the whole validation shard).
    pub eval_batches: usize,
    /// Checkpoint every this many updates (0: only at the end).
    pub checkpoint_every: u64,
    /// Stop after this many updates even if the budget is not spent (for time-boxed runs); 0 = no limit.
    pub max_steps: u64,
    /// Checkpoints kept on disk, newest first (0 = all).
    pub keep_checkpoints: usize,
    /// Finetuning regime: start from this MLE checkpoint (or run directory); `total_tokens` is then the budget
    /// shared with its pretraining, and the tokens it saw are skipped.
    pub init_from: Option<PathBuf>,
    /// Peak dense throughput of one device in TFLOP/s, against which MFU is logged. Unset: 989 on CUDA (H100/H200
    /// SXM, bf16 without sparsity), no MFU on CPU.
    pub peak_tflops: Option<f64>,
}

impl Default for TrainingSection {
    fn default() -> Self {
        TrainingSection {
            device: DeviceSpec::Cpu,
            seed: 42,
            batch_size: 16,
            grad_accum: 1,
            total_tokens: 1_000_000,
            log_every: 10,
            eval_every: 100,
            eval_batches: 20,
            checkpoint_every: 200,
            max_steps: 0,
            keep_checkpoints: 2,
            init_from: None,
            peak_tflops: None,
        }
    }
}

impl TrainConfig {
    /// Reads a TOML file, applies `--set` overrides, resolves relative data paths against the file's folder.
    pub fn load(path: &Path, overrides: &[String]) -> Result<TrainConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.into(),
            message: e.to_string(),
        })?;
        let mut config = Self::from_toml(&text, overrides, path)?;
        let base = std::path::absolute(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .map_err(|e| ConfigError::File {
            path: path.into(),
            message: e.to_string(),
        })?;
        config.data.resolve_relative(&base);
        if let Some(p) = config.training.init_from.as_mut().filter(|p| p.is_relative()) {
            *p = base.join(&*p);
        }
        Ok(config)
    }

    /// Parses TOML text plus overrides; `origin` names the source in errors.
    pub fn from_toml(text: &str, overrides: &[String], origin: &Path) -> Result<TrainConfig, ConfigError> {
        let value: toml::Value = toml::from_str(text).map_err(|e| ConfigError::File {
            path: origin.into(),
            message: e.to_string(),
        })?;
        Self::from_value(value, overrides, origin)
    }

    /// Reads a TOML value (a file's, or merged presets) with `--set` overrides applied on top. A bad key or value
    /// is blamed on the `--set` argument that gave it, or else on `origin`.
    pub fn from_value(mut value: toml::Value, overrides: &[String], origin: &Path) -> Result<TrainConfig, ConfigError> {
        for arg in overrides {
            apply_override(&mut value, arg)?;
        }
        // Blames the last `--set` of the first of `suspects` that one gave (a suspect `a.b` also matches a `--set`
        // of `a.b.c`), or else `origin`. `message` is what follows `config key {key}: `, or with `key_in_message`
        // the whole text after `config key `.
        let blame_as = |suspects: &[&str], message: String, key_in_message: bool| {
            let key = suspects[0];
            let set_by = suspects.iter().find_map(|suspect| {
                overrides.iter().rev().find(|arg| {
                    arg.split_once('=').is_some_and(|(k, _)| {
                        let k = k.trim();
                        k == *suspect || k.strip_prefix(suspect).is_some_and(|rest| rest.starts_with('.'))
                    })
                })
            });
            match set_by {
                Some(arg) => ConfigError::Override {
                    arg: arg.clone(),
                    message,
                },
                None => ConfigError::File {
                    path: origin.into(),
                    message: match key_in_message {
                        true => format!("config key {message}"),
                        false => format!("config key {key}: {message}"),
                    },
                },
            }
        };
        let blame = |key: &str, message: String| blame_as(&[key], message, false);
        let config: TrainConfig = value
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| match culprit_key(&value) {
                Some((key, message)) => blame(&key, message),
                None => ConfigError::File {
                    path: origin.into(),
                    message: e.message().to_string(),
                },
            })?;
        config.validate().map_err(|e| match e {
            ConfigError::Invalid { key, message } => blame(&key, message),
            ConfigError::Objective(text) => {
                // the key the message names, else the choices that decide which keys are allowed or required
                let key = text.split([' ', ':']).next().unwrap_or_default().to_string();
                blame_as(&[&key, "objective.name", "objective.mode"], text, true)
            }
            other => other,
        })?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("TrainConfig serialises to TOML")
    }

    /// The model shape: the preset, the section's overrides, and the tokenizer's vocabulary size.
    pub fn gpt_config(&self, vocab_size: usize, value_head: bool) -> Result<GptConfig, ConfigError> {
        let m = &self.model;
        let mut g = GptConfig::preset(&m.preset).ok_or_else(|| ConfigError::Invalid {
            key: "model.preset".into(),
            message: format!(
                "unknown preset `{}`; choose one of {:?}",
                m.preset,
                phf_lm::config::PRESETS
            ),
        })?;
        g.vocab_size = vocab_size;
        g.n_ctx = m.n_ctx.unwrap_or(g.n_ctx);
        g.n_embd = m.n_embd.unwrap_or(g.n_embd);
        g.n_layer = m.n_layer.unwrap_or(g.n_layer);
        g.n_head = m.n_head.unwrap_or(g.n_head);
        g.dropout = m.dropout.unwrap_or(g.dropout);
        g.value_head = value_head;
        g.validate().map_err(|message| ConfigError::Invalid {
            key: "model".into(),
            message,
        })?;
        Ok(g)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| {
            Err(ConfigError::Invalid {
                key: key.into(),
                message,
            })
        };
        let t = &self.training;
        if t.batch_size == 0 {
            return invalid("training.batch_size", "must be positive".into());
        }
        if t.grad_accum == 0 {
            return invalid("training.grad_accum", "must be positive".into());
        }
        if t.total_tokens == 0 {
            return invalid("training.total_tokens", "must be positive".into());
        }
        if let Some(p) = t.peak_tflops.filter(|p| !(*p > 0.0 && p.is_finite())) {
            return invalid(
                "training.peak_tflops",
                format!("must be a positive number of TFLOP/s, got {p}"),
            );
        }
        let o = &self.optimizer;
        if !(o.lr > 0.0 && o.lr.is_finite()) {
            return invalid("optimizer.lr", format!("must be a positive number, got {}", o.lr));
        }
        if !(0.0..1.0).contains(&o.warmup) {
            return invalid(
                "optimizer.warmup",
                format!("is a fraction of all updates in [0, 1), got {}", o.warmup),
            );
        }
        for (key, beta) in [("optimizer.beta1", o.beta1), ("optimizer.beta2", o.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return invalid(key, format!("must be in [0, 1), got {beta}"));
            }
        }
        if GptConfig::preset(&self.model.preset).is_none() {
            return invalid(
                "model.preset",
                format!(
                    "unknown preset `{}`; choose one of {:?}",
                    self.model.preset,
                    phf_lm::config::PRESETS
                ),
            );
        }
        self.objective.build().map_err(ConfigError::Objective)?;
        Ok(())
    }
}

impl DataSection {
    fn resolve_relative(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.train);
        join(&mut self.tokenizer);
        if let Some(v) = self.valid.as_mut() {
            join(v);
        }
    }
}

/// The `section.key` that makes `value` fail to deserialise, with serde's message: serde names an unknown field
/// but not its section, and a bad value (`device = "tpu"`) by neither. Each key is tried alone in its section, so
/// a "missing field" error (another key's absence) does not count.
fn culprit_key(value: &toml::Value) -> Option<(String, String)> {
    fn check<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<(), String> {
        toml::Value::Table(table)
            .try_into::<T>()
            .map(drop)
            .map_err(|e| e.message().to_string())
    }
    for (section, body) in value.as_table()? {
        let check_section =
            match section.as_str() {
                "model" => check::<ModelSection>,
                "optimizer" => check::<OptimizerSection>,
                "data" => check::<DataSection>,
                "training" => check::<TrainingSection>,
                "objective" => check::<ObjectiveSection>,
                "eval" => check::<EvalSection>,
                _ => return Some((
                    section.clone(),
                    "not a section of the run config: use [model], [optimizer], [data], [objective], [training] or \
                     [eval]"
                        .into(),
                )),
            };
        let Some(body) = body.as_table() else {
            return Some((section.clone(), format!("[{section}] must be a table of keys")));
        };
        for (key, v) in body {
            let alone = toml::Table::from_iter([(key.clone(), v.clone())]);
            match check_section(alone) {
                Err(message) if !message.starts_with("missing field") => {
                    let fix = if message.starts_with("unknown field") {
                        ": fix the spelling or remove the key"
                    } else {
                        ""
                    };
                    return Some((format!("{section}.{key}"), format!("{message}{fix}")));
                }
                _ => {}
            }
        }
    }
    None
}

/// A `--set` value as TOML (`5e-4`, `true`, `"cuda:0"`), or else the plain string.
fn override_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {}", raw.trim()))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()))
}

/// Whether the `--set` arguments choose unlikelihood's threshold-free weight (`objective.mode=soft`, the last
/// `objective.mode` given).
pub fn sets_soft_mode(overrides: &[String]) -> bool {
    last_override(overrides, "objective.mode").is_some_and(|mode| mode.as_str() == Some("soft"))
}

/// The value the last `--set key=value` among `overrides` gives `key` (`objective.mode`), if one does.
pub fn last_override(overrides: &[String], key: &str) -> Option<toml::Value> {
    overrides
        .iter()
        .rev()
        .filter_map(|arg| arg.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, raw)| override_value(raw))
}

/// Applies `section.key=value`; the value is parsed as TOML (`5e-4`, `true`, `"cuda:0"`), falling back to a
/// plain string so `training.device=cuda:0` works unquoted.
pub fn apply_override(root: &mut toml::Value, arg: &str) -> Result<(), ConfigError> {
    let err = |message: &str| ConfigError::Override {
        arg: arg.into(),
        message: message.into(),
    };
    let (key, raw) = arg.split_once('=').ok_or_else(|| err("expected section.key=value"))?;
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(err("the key must name a section and a key, e.g. optimizer.lr=3e-4"));
    }
    let value = override_value(raw);
    let mut table = root.as_table_mut().ok_or_else(|| err("the config is not a table"))?;
    for part in &parts[..parts.len() - 1] {
        table = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .ok_or_else(|| err(&format!("`{part}` is a value, not a section")))?;
    }
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[model]
preset = "tiny"
[data]
train = "data/train"
tokenizer = "tok.json"
"#;

    fn parse(text: &str, overrides: &[&str]) -> Result<TrainConfig, ConfigError> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        TrainConfig::from_toml(text, &o, Path::new("run.toml"))
    }

    #[test]
    fn overrides_apply_with_types() {
        let c = parse(BASE, &["optimizer.lr=3e-4", "training.device=cpu", "model.n_layer=3"]).unwrap();
        assert_eq!(c.optimizer.lr, 3e-4);
        assert_eq!(c.model.n_layer, Some(3));
        assert_eq!(c.gpt_config(100, false).unwrap().n_layer, 3);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let err = parse(BASE, &["optimizer.learning_rate=1"]).unwrap_err().to_string();
        assert!(
            err.starts_with("--set optimizer.learning_rate=1: unknown field `learning_rate`"),
            "{err}"
        );
        let err = parse(&format!("{BASE}\n[extra]\nx = 1\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("extra"), "{err}");
        let err = parse(&format!("{BASE}[optimizer]\nlrr = 1\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("run.toml: config key optimizer.lrr: unknown field"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_value_is_blamed_on_the_set_that_gave_it_or_else_on_the_file() {
        let file = format!("{BASE}[training]\nbatch_size = 0\n[objective]\nname = \"unlikelyhood\"\n");
        let err = parse(&file, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with("run.toml: config key training.batch_size: must be positive"),
            "{err}"
        );
        let err = parse(&file, &["training.batch_size=4"]).unwrap_err().to_string();
        assert!(
            err.starts_with("run.toml: config key objective.name: unknown objective"),
            "{err}"
        );
        let err = parse(BASE, &["training.batch_size=-3"]).unwrap_err().to_string();
        assert!(err.starts_with("--set training.batch_size=-3: invalid value"), "{err}");
        let err = parse(BASE, &["objective.name=rwr", "objective.beta=0"])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--set objective.beta=0: objective.beta must be"),
            "{err}"
        );
        // an unknown section or a nested key is reported by its section or table
        let err = parse(BASE, &["optimiser.lr=1"]).unwrap_err().to_string();
        assert!(err.starts_with("--set optimiser.lr=1: not a section"), "{err}");
        let err = parse(BASE, &["objective.rwr.beta=1"]).unwrap_err().to_string();
        assert!(
            err.starts_with("--set objective.rwr.beta=1: unknown field `rwr`"),
            "{err}"
        );
        // a parameter that the objective chosen by --set does not take
        let rwr = format!("{BASE}[objective]\nname = \"rwr\"\nbeta = 1.0\n");
        assert_eq!(parse(&rwr, &[]).unwrap().objective.name, "rwr");
        let err = parse(&rwr, &["objective.name=unlikelihood"]).unwrap_err().to_string();
        assert!(
            err.starts_with("--set objective.name=unlikelihood: objective.beta is not a parameter"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = parse(BASE, &["training.batch_size=0"]).unwrap_err().to_string();
        assert!(err.contains("training.batch_size"), "{err}");
        let err = parse(BASE, &["model.preset=huge"]).unwrap_err().to_string();
        assert!(err.contains("model.preset") && err.contains("huge"), "{err}");
        let err = parse(BASE, &["training.device=tpu"]).unwrap_err().to_string();
        assert!(err.contains("training.device") && err.contains("tpu"), "{err}");
        let err = parse(BASE, &["nodot"]).unwrap_err().to_string();
        assert!(err.contains("section.key=value"), "{err}");
    }

    #[test]
    fn resolved_config_round_trips_through_toml() {
        let c = parse(BASE, &[]).unwrap();
        let again = parse(&c.to_toml(), &[]).unwrap();
        assert_eq!(c, again);
        assert!(!c.to_toml().contains("implementation"), "unset, it is not written");
        let fused = parse(BASE, &["optimizer.implementation=fused"]).unwrap();
        assert_eq!(fused.optimizer.implementation, Some(Implementation::Fused));
        assert_eq!(parse(&fused.to_toml(), &[]).unwrap(), fused);
    }

    #[test]
    fn optimizer_implementation_names_its_choices() {
        let c = parse(BASE, &["optimizer.implementation=for-loop"]).unwrap();
        assert_eq!(c.optimizer.implementation, Some(Implementation::ForLoop));
        let err = parse(BASE, &["optimizer.implementation=foreach"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("implementation") && err.contains("for-loop") && err.contains("fused"),
            "{err}"
        );
    }
}
