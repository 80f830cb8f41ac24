//! Reading what the setup scripts export for the model-based scorers (toxicity, offensive, the PII scorer's NER):
//! where the exports live, their JSON files and their float32 safetensors. Each caller turns a format problem
//! into its own error, which names its setup script.

use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;

use crate::error::{Result, ScoreError};

/// Where setup scripts export a scorer's model: `$PHF_CACHE/scorers/NAME`, with `$PHF_CACHE` defaulting to
/// `$HOME/.cache/phf`.
pub(crate) fn scorer_cache_dir(name: &str) -> PathBuf {
    let cache = std::env::var_os("PHF_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        home.unwrap_or_default().join(".cache").join("phf")
    });
    cache.join("scorers").join(name)
}

/// The bytes of an exported file.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| ScoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// An exported JSON file; a parse failure goes through `format_err`.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path, format_err: impl Fn(String) -> ScoreError) -> Result<T> {
    serde_json::from_slice(&read_bytes(path)?).map_err(|e| format_err(e.to_string()))
}

/// Tensor `name`, which must be float32 of shape `shape`; the error is the reason, for the caller's error.
pub(crate) fn f32_tensor(st: &SafeTensors<'_>, name: &str, shape: &[usize]) -> std::result::Result<Vec<f32>, String> {
    let view = st.tensor(name).map_err(|e| format!("tensor `{name}`: {e}"))?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(format!(
            "tensor `{name}` is {:?} {:?}, expected F32 {shape:?}",
            view.dtype(),
            view.shape()
        ));
    }
    Ok(view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}
