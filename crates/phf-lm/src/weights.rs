//! Model files: `model.safetensors` with Hugging Face `GPT2LMHeadModel` names and layouts, and a `config.json`
//! that is both HF's `GPT2Config` and (under the `phf` key) phf's own [`GptConfig`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use crate::config::GptConfig;
use crate::model::Gpt;

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: tensor `{name}` is missing; was this file written by phf or transformers' GPT2LMHeadModel?")]
    Missing { path: PathBuf, name: String },
    #[error("{path}: tensor `{name}` has shape {found:?}, the model expects {expected:?} (see config.json)")]
    Shape {
        path: PathBuf,
        name: String,
        found: Vec<i64>,
        expected: Vec<i64>,
    },
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

fn file_err(path: &Path, message: impl ToString) -> WeightsError {
    WeightsError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Writes `bytes`-producing `write` to `path` through a temporary file and a rename, so readers never see a
/// torn file.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), WeightsError>,
) -> Result<(), WeightsError> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| file_err(path, e))
}

impl Gpt {
    /// Saves weights and config into `dir` (created if needed). `eos` is recorded as HF's bos/eos token id.
    pub fn save(&self, dir: &Path, eos: u32) -> Result<(), WeightsError> {
        std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
        let mut named: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        write_atomically(&dir.join(WEIGHTS_FILE), |tmp| {
            let cpu: Vec<(String, Tensor)> = named
                .iter()
                .map(|(n, t)| (n.clone(), t.to_device(Device::Cpu).contiguous()))
                .collect();
            Ok(Tensor::write_safetensors(&cpu, tmp)?)
        })?;
        let mut json = self.config.to_hf_json(eos);
        json["phf"] = serde_json::to_value(&self.config).expect("GptConfig serialises");
        let text = serde_json::to_string_pretty(&json).expect("JSON value serialises");
        write_atomically(&dir.join(CONFIG_FILE), |tmp| {
            std::fs::write(tmp, text).map_err(|e| file_err(tmp, e))
        })
    }

    /// Reads the `GptConfig` saved in `dir/config.json`.
    pub fn load_config(dir: &Path) -> Result<GptConfig, WeightsError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| file_err(&path, e))?;
        match json.get("phf") {
            Some(phf) => serde_json::from_value(phf.clone()).map_err(|e| file_err(&path, format!("key `phf`: {e}"))),
            None => GptConfig::from_hf_json(&json).map_err(|e| file_err(&path, e)),
        }
    }

    /// Loads a model saved by [`Gpt::save`], or a Hugging Face GPT-2 directory (`config.json` +
    /// `model.safetensors`).
    pub fn load(dir: &Path, device: Device) -> Result<Gpt, WeightsError> {
        let config = Gpt::load_config(dir)?;
        let model = Gpt::new(config, device);
        model.load_weights(&dir.join(WEIGHTS_FILE))?;
        Ok(model)
    }

    /// Copies every parameter from a safetensors file, checking names and shapes (a plain `copy_` would
    /// broadcast a wrong-shaped tensor silently).
    pub fn load_weights(&self, path: &Path) -> Result<(), WeightsError> {
        let stored: HashMap<String, Tensor> = Tensor::read_safetensors(path)
            .map_err(|e| file_err(path, format!("cannot read safetensors: {e}")))?
            .into_iter()
            .collect();
        tch::no_grad(|| {
            for (name, mut var) in self.vs.variables() {
                // transformers' GPT2Model files (the hub's `gpt2`) name tensors without the `transformer.` prefix
                let bare = name.strip_prefix("transformer.").unwrap_or(&name);
                let src = stored
                    .get(&name)
                    .or_else(|| stored.get(bare))
                    .ok_or_else(|| WeightsError::Missing {
                        path: path.to_path_buf(),
                        name: name.clone(),
                    })?;
                if src.size() != var.size() {
                    return Err(WeightsError::Shape {
                        path: path.to_path_buf(),
                        name,
                        found: src.size(),
                        expected: var.size(),
                    });
                }
                var.f_copy_(&src.to_kind(Kind::Float))?;
            }
            Ok(())
        })
    }

    /// A copy of this model with `extra` more vocabulary rows (control tokens) and, if asked, a value head.
    /// New embedding rows are the mean of the existing rows plus 0.01·N(0, 1) (SPEC §3); seed with
    /// `tch::manual_seed` for reproducibility.
    pub fn with_extra_tokens(&self, extra: usize, value_head: bool) -> Gpt {
        let mut config = self.config.clone();
        config.vocab_size += extra;
        config.value_head |= value_head;
        let grown = Gpt::new(config, self.device());
        let old = self.vs.variables();
        tch::no_grad(|| {
            for (name, mut var) in grown.vs.variables() {
                let Some(src) = old.get(&name) else { continue }; // a new value head stays zero
                if name == "transformer.wte.weight" && extra > 0 {
                    let mean = src.mean_dim(0, true, Kind::Float); // (1, d)
                    let rows =
                        mean.repeat([extra as i64, 1]) + Tensor::randn_like(&mean.repeat([extra as i64, 1])) * 0.01;
                    var.copy_(&Tensor::cat(&[src.shallow_clone(), rows], 0));
                } else {
                    var.copy_(src);
                }
            }
        });
        let mut grown = grown;
        grown.set_precision(self.precision());
        grown
    }
}
