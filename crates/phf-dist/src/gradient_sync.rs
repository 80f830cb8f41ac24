//! How a training loop averages its gradients over the ranks: during the backward pass (c10d::Reducer, the
//! default) or after it (the flat bucketed all-reduce, `PHF_DIST_OVERLAP=0`, kept for comparison and as a
//! fallback). One process alone does neither. Either way the gradients that reach clipping and the optimizer are
//! the average over the ranks of each rank's gradient accumulated over the update's micro-batches.

use tch::Tensor;

use crate::{Backend, DataParallel, DistError, Reducer, ReducerOptions};

/// `0` averages the gradients after the backward pass instead of during it.
pub const OVERLAP_ENV: &str = "PHF_DIST_OVERLAP";
/// `1` lets parameters go without a gradient in some updates (DDP's find_unused_parameters; costs a search of
/// the autograd graph and an extra small all-reduce per update).
pub const FIND_UNUSED_ENV: &str = "PHF_DIST_FIND_UNUSED_PARAMETERS";

/// When the gradients are all-reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Bucket by bucket during the last micro-batch's backward pass (c10d::Reducer).
    Overlap(ReducerOptions),
    /// In flat buckets after the backward passes.
    Flat,
}

impl SyncMode {
    /// From `PHF_DIST_OVERLAP` and `PHF_DIST_FIND_UNUSED_PARAMETERS`.
    pub fn from_env() -> Result<SyncMode, DistError> {
        let overlap = flag(OVERLAP_ENV, true)?;
        let find_unused_parameters = flag(FIND_UNUSED_ENV, false)?;
        Ok(match overlap {
            true => SyncMode::Overlap(ReducerOptions {
                find_unused_parameters,
                ..ReducerOptions::default()
            }),
            false => SyncMode::Flat,
        })
    }
}

fn flag(var: &'static str, default: bool) -> Result<bool, DistError> {
    parse_flag(var, std::env::var(var).ok().as_deref(), default)
}

fn parse_flag(var: &'static str, value: Option<&str>, default: bool) -> Result<bool, DistError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "on") => Ok(true),
        Some("0" | "false" | "off") => Ok(false),
        Some(other) => Err(DistError::Env {
            var,
            value: other.into(),
            message: "must be 1 or 0".into(),
        }),
    }
}

/// One rank's gradient averaging for a model's parameters.
pub struct GradientSync {
    reducer: Option<Reducer>,
    grouped: bool,
    note: String,
}

impl GradientSync {
    /// For `params` (the trainable parameters, named; every rank must pass the same names): `mode` on a group,
    /// nothing for one process. The overlapped path needs the parameters on the backend's device (host memory
    /// for Gloo, the GPU for NCCL); Gloo with GPU parameters falls back to the flat path, which stages the
    /// gradients through the host.
    pub fn new(dp: &DataParallel, params: &[(String, Tensor)], mode: SyncMode) -> Result<GradientSync, DistError> {
        let Some(group) = dp.group() else {
            return Ok(GradientSync {
                reducer: None,
                grouped: false,
                note: "one process: no all-reduce".into(),
            });
        };
        let on_gpu = params.iter().any(|(_, t)| t.device().is_cuda());
        let options = match mode {
            SyncMode::Overlap(_) if on_gpu && dp.backend() == Some(Backend::Gloo) => {
                let note = format!(
                    "gradients all-reduced after the backward pass (Gloo with GPU parameters: the overlapped \
                     all-reduce needs NCCL), flat {} MB buckets",
                    group.bucket_bytes() >> 20
                );
                return Ok(GradientSync {
                    reducer: None,
                    grouped: true,
                    note,
                });
            }
            SyncMode::Overlap(options) => options,
            SyncMode::Flat => {
                let note = format!(
                    "gradients all-reduced after the backward pass, flat {} MB buckets ({OVERLAP_ENV}=0)",
                    group.bucket_bytes() >> 20
                );
                return Ok(GradientSync {
                    reducer: None,
                    grouped: true,
                    note,
                });
            }
        };
        let mut sorted: Vec<(String, Tensor)> = params.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0)); // the same order on every rank
        let reducer = Reducer::new(group, &sorted, options)?;
        let note = format!(
            "gradients all-reduced during the backward pass (c10d::Reducer, buckets {} MB, the first {} MB{})",
            options.bucket_bytes >> 20,
            options.first_bucket_bytes >> 20,
            if options.find_unused_parameters {
                ", find_unused_parameters"
            } else {
                ""
            }
        );
        Ok(GradientSync {
            reducer: Some(reducer),
            grouped: true,
            note,
        })
    }

    /// Whether the gradients are reduced during the backward pass.
    pub fn overlapped(&self) -> bool {
        self.reducer.is_some()
    }

    /// What this rank does, for the log.
    pub fn describe(&self) -> &str {
        &self.note
    }

    /// Before every training forward pass; `last`: the update's last micro-batch.
    pub fn before_forward(&mut self, last: bool) -> Result<(), DistError> {
        match &mut self.reducer {
            Some(r) => r.before_forward(last),
            None => Ok(()),
        }
    }

    /// `loss.backward()`; on the update's last micro-batch (`last`) the overlapped path averages the accumulated
    /// gradients over the ranks during it.
    pub fn backward(&mut self, loss: &Tensor, last: bool) -> Result<(), DistError> {
        let reducer = self.reducer.as_mut().filter(|_| last);
        match reducer {
            Some(r) => {
                r.prepare_for_backward(loss)?;
                // a collective that fails inside the backward pass (a rank that died) comes out of autograd
                loss.f_backward()
                    .map_err(|e| r.failed("all-reduce of gradients during the backward pass", e.to_string()))?;
                r.finish()
            }
            None => loss
                .f_backward()
                .map_err(|e| DistError::Torch(format!("backward pass: {e}"))),
        }
    }

    /// After the update's backward passes: the flat path averages `gradients` over the ranks now (the overlapped
    /// path already has).
    pub fn average_after_backward(&self, dp: &DataParallel, gradients: &[Tensor]) -> Result<(), DistError> {
        match self.grouped && self.reducer.is_none() {
            true => dp.average(gradients, "all-reduce of gradients"),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_one_and_zero_and_name_the_variable_otherwise() {
        assert!(parse_flag(OVERLAP_ENV, None, true).unwrap());
        assert!(!parse_flag(OVERLAP_ENV, Some("0"), true).unwrap());
        assert!(parse_flag(FIND_UNUSED_ENV, Some(" 1 "), false).unwrap());
        let err = parse_flag(OVERLAP_ENV, Some("yes please"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains(OVERLAP_ENV) && err.contains("1 or 0"), "{err}");
    }
}
