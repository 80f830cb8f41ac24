//! Checkpoints: everything needed to continue a run exactly — weights, optimizer moments, the update count,
//! the data loader's position and the resolved config. The dropout RNG needs no saving: it is reseeded from
//! (seed, step) before every update. A checkpoint is written into `step-N.tmp/` and renamed into place, and
//! `latest` is replaced by a rename too, so a crash never leaves a torn checkpoint behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use phf_data::LoaderPosition;
use phf_lm::Gpt;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::optim::AdamW;

pub const CHECKPOINTS_DIR: &str = "checkpoints";
const LATEST: &str = "latest";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const STATE_FILE: &str = "state.json";
pub const RUN_CONFIG_FILE: &str = "run.toml";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Weights(#[from] phf_lm::WeightsError),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

fn io_err(path: &Path, e: impl ToString) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Where a run stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Updates taken.
    pub step: u64,
    pub tokens_seen: u64,
    pub loader: LoaderPosition,
    /// Wall-clock seconds spent training so far (across resumes).
    pub elapsed_s: f64,
}

/// Writes a checkpoint for `state.step` and points `latest` at it; keeps the newest `keep` (0 = all).
pub fn save(
    run_dir: &Path,
    model: &Gpt,
    optimizer: &AdamW,
    state: &TrainState,
    config_toml: &str,
    eos: u32,
    keep: usize,
) -> Result<PathBuf, CheckpointError> {
    let root = run_dir.join(CHECKPOINTS_DIR);
    let dir = step_dir(run_dir, state.step);
    let name = dir
        .file_name()
        .expect("step dir has a name")
        .to_string_lossy()
        .into_owned();
    let tmp = root.join(format!("{name}.tmp"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    model.save(&tmp, eos)?;
    let (moments, steps) = optimizer.state();
    let cpu: Vec<(String, Tensor)> = moments
        .iter()
        .map(|(n, t)| (n.clone(), t.to_device(tch::Device::Cpu)))
        .collect();
    Tensor::write_safetensors(&cpu, tmp.join(OPTIMIZER_FILE))?;
    let state_json = serde_json::json!({ "train": state, "optimizer_steps": steps });
    write(
        &tmp.join(STATE_FILE),
        &serde_json::to_string_pretty(&state_json).expect("state serialises"),
    )?;
    write(&tmp.join(RUN_CONFIG_FILE), config_toml)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    }
    std::fs::rename(&tmp, &dir).map_err(|e| io_err(&dir, e))?;
    let latest_tmp = root.join(format!("{LATEST}.tmp"));
    write(&latest_tmp, &name)?;
    std::fs::rename(&latest_tmp, root.join(LATEST)).map_err(|e| io_err(&root.join(LATEST), e))?;
    if keep > 0 {
        prune(&root, keep)?;
    }
    Ok(dir)
}

/// Where the checkpoint of update `step` goes.
pub fn step_dir(run_dir: &Path, step: u64) -> PathBuf {
    run_dir.join(CHECKPOINTS_DIR).join(format!("step-{step:08}"))
}

fn write(path: &Path, text: &str) -> Result<(), CheckpointError> {
    std::fs::write(path, text).map_err(|e| io_err(path, e))
}

/// Removes all but the newest `keep` finished checkpoints.
fn prune(root: &Path, keep: usize) -> Result<(), CheckpointError> {
    let mut steps: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| io_err(root, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("step-") && !n.ends_with(".tmp"))
        })
        .collect();
    steps.sort();
    let excess = steps.len().saturating_sub(keep);
    for old in &steps[..excess] {
        std::fs::remove_dir_all(old).map_err(|e| io_err(old, e))?;
    }
    Ok(())
}

/// The newest complete checkpoint of a run, if any.
pub fn latest(run_dir: &Path) -> Result<Option<PathBuf>, CheckpointError> {
    let root = run_dir.join(CHECKPOINTS_DIR);
    let pointer = root.join(LATEST);
    if !pointer.exists() {
        return Ok(None);
    }
    let name = std::fs::read_to_string(&pointer).map_err(|e| io_err(&pointer, e))?;
    let dir = root.join(name.trim());
    if !dir.is_dir() {
        return Err(io_err(
            &pointer,
            format!("points at {}, which does not exist", dir.display()),
        ));
    }
    Ok(Some(dir))
}

/// The training state saved with a checkpoint (update count, tokens seen, loader position).
pub fn read_state(dir: &Path) -> Result<TrainState, CheckpointError> {
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| io_err(&state_path, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| io_err(&state_path, e))?;
    serde_json::from_value(json["train"].clone()).map_err(|e| io_err(&state_path, format!("key `train`: {e}")))
}

/// Restores weights and optimizer state from `dir` into an already-built model and optimizer.
pub fn load(dir: &Path, model: &Gpt, optimizer: &mut AdamW) -> Result<TrainState, CheckpointError> {
    model.load_weights(&dir.join(phf_lm::weights::WEIGHTS_FILE))?;
    let opt_path = dir.join(OPTIMIZER_FILE);
    let moments: BTreeMap<String, Tensor> = Tensor::read_safetensors(&opt_path)
        .map_err(|e| io_err(&opt_path, e))?
        .into_iter()
        .map(|(n, t)| (n, t.to_device(model.device())))
        .collect();
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| io_err(&state_path, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| io_err(&state_path, e))?;
    let state: TrainState =
        serde_json::from_value(json["train"].clone()).map_err(|e| io_err(&state_path, format!("key `train`: {e}")))?;
    let steps = json["optimizer_steps"]
        .as_i64()
        .ok_or_else(|| io_err(&state_path, "key `optimizer_steps` is missing"))?;
    optimizer
        .load_state(&moments, steps)
        .map_err(|m| io_err(&opt_path, m))?;
    Ok(state)
}

/// The resolved config saved with a checkpoint.
pub fn config_text(dir: &Path) -> Result<String, CheckpointError> {
    let path = dir.join(RUN_CONFIG_FILE);
    std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))
}
