//! Which library carries the collectives: Gloo (host memory, TCP) or NCCL (GPU memory, NVLink/InfiniBand).

use std::fmt;

use crate::DistError;

/// Chooses the backend: `gloo` or `nccl`; unset, NCCL for GPU training and Gloo otherwise.
pub const BACKEND_ENV: &str = "PHF_DIST_BACKEND";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// c10d's ProcessGroupGloo: reduces in host memory (GPU tensors are staged through it), over TCP.
    Gloo,
    /// NCCL on CUDA device `device`, called on libtorch's current stream.
    Nccl { device: usize },
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Gloo => write!(f, "Gloo"),
            Backend::Nccl { device } => write!(f, "NCCL on cuda:{device}"),
        }
    }
}

impl Backend {
    /// From `PHF_DIST_BACKEND`; `cuda_device` is this rank's GPU when it trains on one.
    pub fn from_env(cuda_device: Option<usize>) -> Result<Backend, DistError> {
        Self::from_setting(std::env::var(BACKEND_ENV).ok().as_deref(), cuda_device)
    }

    pub fn from_setting(setting: Option<&str>, cuda_device: Option<usize>) -> Result<Backend, DistError> {
        match (setting.map(str::trim), cuda_device) {
            (None | Some(""), Some(device)) | (Some("nccl"), Some(device)) => Ok(Backend::Nccl { device }),
            (None | Some("") | Some("gloo"), _) => Ok(Backend::Gloo),
            (Some("nccl"), None) => Err(DistError::Env {
                var: BACKEND_ENV,
                value: "nccl".into(),
                message: "NCCL needs a GPU: train on cuda, or use gloo".into(),
            }),
            (Some(other), _) => Err(DistError::Env {
                var: BACKEND_ENV,
                value: other.into(),
                message: "must be gloo or nccl".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nccl_for_gpus_gloo_otherwise_unless_chosen() {
        assert_eq!(
            Backend::from_setting(None, Some(2)).unwrap(),
            Backend::Nccl { device: 2 }
        );
        assert_eq!(Backend::from_setting(None, None).unwrap(), Backend::Gloo);
        assert_eq!(Backend::from_setting(Some("gloo"), Some(0)).unwrap(), Backend::Gloo);
        let err = Backend::from_setting(Some("nccl"), None).unwrap_err().to_string();
        assert!(err.contains("PHF_DIST_BACKEND") && err.contains("GPU"), "{err}");
        let err = Backend::from_setting(Some("mpi"), None).unwrap_err().to_string();
        assert!(err.contains("gloo or nccl"), "{err}");
    }
}
