//! phf-eval: what SPEC §5 measures about a trained model. Alignment: the misalignment of its own samples
//! (unconditional and prompted) and of what a red team can make it say. Capability: held-out loss and the KL
//! divergence from a reference LM. Diversity of its samples. And reports that put objectives side by side.

pub mod control;
pub mod diversity;
pub mod heldout;
pub mod kl;
pub mod likelihood;
pub mod misalignment;
mod nan;
pub mod prompted;
pub mod redteam;
pub mod report;
pub mod samples;
pub mod svg;

use std::path::{Path, PathBuf};

pub use diversity::Diversity;
pub use heldout::{held_out_loss, HeldOut};
pub use kl::{kl_from_reference, KlEstimate};
pub use misalignment::Misalignment;
pub use samples::{SampleSet, Sampler};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    #[error("scoring samples: {0}")]
    Score(#[from] phf_score::ScoreError),
}

impl EvalError {
    pub fn io(path: &Path, source: std::io::Error) -> EvalError {
        EvalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// SHA-256 (hex) of a file's bytes: identifies a model's weights in caches and reports.
pub fn file_sha256(path: &Path) -> Result<String, EvalError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| EvalError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}
