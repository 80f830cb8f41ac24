//! AdamW (Loshchilov & Hutter) with PyTorch's update rule, weight decay on matrices only (SPEC §4), global-norm
//! gradient clipping, and state that is saved with every checkpoint so a resumed run continues exactly.

use std::collections::BTreeMap;

use phf_dist::{AdamWGroup, AdamWHyper, DistError};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 5e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.1,
        }
    }
}

struct Param {
    tensor: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    decay: bool,
}

/// How [`AdamW`] runs an update: both take PyTorch's AdamW step and keep the same state. They clip alike but for
/// a norm less than 1e-6 below `max_norm`, which the fused path scales by its coefficient (just under 1, as
/// `clip_grad_norm_` does) and the for-loop leaves alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implementation {
    /// Tensor op by tensor op for each parameter (`torch.optim.AdamW(foreach=False)`); the clipping coefficient is
    /// computed on the host from the per-parameter norms.
    ForLoop,
    /// PyTorch's multi-tensor kernels: the fused AdamW (`fused=True`) and `clip_grad_norm_`'s foreach norm and
    /// scale, all parameters in a few launches, with nothing read back by the host before the update is queued.
    Fused,
}

impl Implementation {
    /// Fused on CUDA, where launching a handful of kernels per parameter would leave the GPU waiting on the host
    /// (PyTorch's own CUDA default, foreach, also batches them; fused is its opt-in); the for-loop on CPU, where
    /// launches cost little and every CPU run phf has published was made with it.
    pub fn for_device(device: Device) -> Implementation {
        match device {
            Device::Cuda(_) => Implementation::Fused,
            _ => Implementation::ForLoop,
        }
    }
}

impl std::fmt::Display for Implementation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Implementation::ForLoop => "for-loop",
            Implementation::Fused => "fused",
        })
    }
}

pub struct AdamW {
    pub config: AdamWConfig,
    params: BTreeMap<String, Param>,
    step: i64,
    implementation: Implementation,
    /// The fused kernel's step count, on the parameters' device.
    step_tensor: Option<Tensor>,
}

impl AdamW {
    /// Weight decay applies to parameters with two or more dimensions (the matrices), not to biases, LayerNorm
    /// gains or — following nanoGPT and the HF Trainer's LayerNorm/bias exclusion — anything one-dimensional.
    /// The implementation is the device's ([`Implementation::for_device`]).
    pub fn new(named: impl IntoIterator<Item = (String, Tensor)>, config: AdamWConfig) -> AdamW {
        let params: BTreeMap<String, Param> = named
            .into_iter()
            .map(|(name, tensor)| {
                let p = Param {
                    exp_avg: tensor.zeros_like(),
                    exp_avg_sq: tensor.zeros_like(),
                    decay: tensor.dim() >= 2,
                    tensor,
                };
                (name, p)
            })
            .collect();
        let device = params.values().next().map_or(Device::Cpu, |p| p.tensor.device());
        AdamW {
            config,
            params,
            step: 0,
            implementation: Implementation::for_device(device),
            step_tensor: None,
        }
    }

    pub fn with_implementation(mut self, implementation: Implementation) -> AdamW {
        self.implementation = implementation;
        self
    }

    pub fn implementation(&self) -> Implementation {
        self.implementation
    }

    pub fn steps_taken(&self) -> i64 {
        self.step
    }

    /// Zeroes the gradients, in one multi-tensor kernel (zeros are zeros: the same for both implementations).
    pub fn zero_grad(&mut self) -> Result<(), DistError> {
        phf_dist::zero_grads(&self.gradients())
    }

    /// The parameters' gradients (shallow handles: changing them in place changes the gradients), in name order;
    /// parameters without a gradient are left out.
    pub fn gradients(&self) -> Vec<Tensor> {
        self.params
            .values()
            .map(|p| p.tensor.grad())
            .filter(|g| g.defined())
            .collect()
    }

    /// Clips the gradients' global norm to `max_norm` (0: no clipping), then takes one AdamW step at learning rate
    /// `lr`. Returns the norm before clipping as a 0-dim tensor: on the fused path it stays on the device, so
    /// that reading it (or not) is the caller's choice, once the update is queued.
    pub fn update(&mut self, lr: f64, max_norm: f64) -> Result<Tensor, DistError> {
        let norm = match self.implementation {
            Implementation::ForLoop => Tensor::from(self.clip_for_loop(max_norm)),
            Implementation::Fused => phf_dist::clip_grad_norm(&self.gradients(), max_norm)?,
        };
        self.step(lr)?;
        Ok(norm)
    }

    /// Scales all gradients so that their global L2 norm is at most `max_norm` (0: not at all), the coefficient
    /// computed on the host; returns the norm before.
    fn clip_for_loop(&self, max_norm: f64) -> f64 {
        let grads = self.gradients();
        if grads.is_empty() {
            return 0.0;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm().to_kind(Kind::Double)).collect();
        let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
        if max_norm > 0.0 && total > max_norm {
            // same coefficient as torch.nn.utils.clip_grad_norm_
            let coef = max_norm / (total + 1e-6);
            for mut g in grads {
                let _ = g.g_mul_scalar_(coef);
            }
        }
        total
    }

    /// One AdamW update at learning rate `lr`, exactly PyTorch's `torch.optim.AdamW` (non-amsgrad).
    pub fn step(&mut self, lr: f64) -> Result<(), DistError> {
        self.step += 1;
        match self.implementation {
            Implementation::ForLoop => {
                self.for_loop_step(lr);
                Ok(())
            }
            Implementation::Fused => self.fused_step(lr),
        }
    }

    fn for_loop_step(&mut self, lr: f64) {
        let c = &self.config;
        let bias_correction1 = 1.0 - c.beta1.powi(self.step as i32);
        let bias_correction2_sqrt = (1.0 - c.beta2.powi(self.step as i32)).sqrt();
        tch::no_grad(|| {
            for p in self.params.values_mut() {
                let grad = p.tensor.grad();
                if !grad.defined() {
                    continue;
                }
                if p.decay && c.weight_decay != 0.0 {
                    let _ = p.tensor.g_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                let _ = p.exp_avg.lerp_(&grad, 1.0 - c.beta1);
                let _ = p.exp_avg_sq.g_mul_scalar_(c.beta2);
                let _ = p.exp_avg_sq.addcmul_(&grad, &grad.g_mul_scalar(1.0 - c.beta2));
                let denom = p.exp_avg_sq.sqrt() / bias_correction2_sqrt + c.eps;
                let _ = p.tensor.addcdiv_(&(&p.exp_avg * (-lr / bias_correction1)), &denom);
            }
        });
    }

    /// Two calls of the fused kernel: the matrices with weight decay, the rest without.
    fn fused_step(&mut self, lr: f64) -> Result<(), DistError> {
        let Some(first) = self.params.values().next() else {
            return Ok(());
        };
        // the count lives on the device and is set by a fill kernel: a copy from the host would wait for the GPU
        let step = self
            .step_tensor
            .get_or_insert_with(|| Tensor::zeros([], (Kind::Float, first.tensor.device())));
        let _ = step.fill_(self.step as f64);
        let c = &self.config;
        for decay in [true, false] {
            let mut lists: [Vec<Tensor>; 4] = Default::default();
            for p in self.params.values().filter(|p| p.decay == decay) {
                let grad = p.tensor.grad();
                if grad.defined() {
                    for (list, t) in lists.iter_mut().zip([&p.tensor, &grad, &p.exp_avg, &p.exp_avg_sq]) {
                        list.push(t.shallow_clone());
                    }
                }
            }
            let [params, grads, exp_avgs, exp_avg_sqs] = &lists;
            let group = AdamWGroup {
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
            };
            let hyper = AdamWHyper {
                lr,
                beta1: c.beta1,
                beta2: c.beta2,
                weight_decay: if decay { c.weight_decay } else { 0.0 },
                eps: c.eps,
            };
            phf_dist::fused_adamw(&group, step, hyper)?;
        }
        Ok(())
    }

    /// The optimizer state as named tensors (`exp_avg.<param>`, `exp_avg_sq.<param>`) plus the step count.
    pub fn state(&self) -> (Vec<(String, Tensor)>, i64) {
        let mut out = Vec::with_capacity(2 * self.params.len());
        for (name, p) in &self.params {
            out.push((format!("exp_avg.{name}"), p.exp_avg.shallow_clone()));
            out.push((format!("exp_avg_sq.{name}"), p.exp_avg_sq.shallow_clone()));
        }
        (out, self.step)
    }

    /// Restores [`AdamW::state`]; errors name the missing or mis-shaped entry.
    pub fn load_state(&mut self, named: &BTreeMap<String, Tensor>, step: i64) -> Result<(), String> {
        tch::no_grad(|| {
            for (name, p) in self.params.iter_mut() {
                for (prefix, buf) in [("exp_avg", &mut p.exp_avg), ("exp_avg_sq", &mut p.exp_avg_sq)] {
                    let key = format!("{prefix}.{name}");
                    let src = named
                        .get(&key)
                        .ok_or_else(|| format!("optimizer state lacks `{key}`"))?;
                    if src.size() != buf.size() {
                        return Err(format!(
                            "optimizer state `{key}` has shape {:?}, expected {:?}",
                            src.size(),
                            buf.size()
                        ));
                    }
                    buf.copy_(src);
                }
            }
            Ok(())
        })?;
        self.step = step;
        Ok(())
    }
}

/// Linear warm-up from 0 to the peak learning rate, then linear decay to 0 at `total_steps` (HF's
/// `get_linear_schedule_with_warmup`, which the reference uses).
#[derive(Debug, Clone, Copy)]
pub struct LinearSchedule {
    pub peak_lr: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
}

impl LinearSchedule {
    /// Learning rate for the update numbered `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak_lr * step as f64 / self.warmup_steps.max(1) as f64;
        }
        let remaining = self.total_steps.saturating_sub(step) as f64;
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        self.peak_lr * (remaining / span).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let s = LinearSchedule {
            peak_lr: 1.0,
            warmup_steps: 10,
            total_steps: 110,
        };
        assert_eq!(s.lr(0), 0.0);
        assert!((s.lr(5) - 0.5).abs() < 1e-12);
        assert!((s.lr(10) - 1.0).abs() < 1e-12);
        assert!((s.lr(60) - 0.5).abs() < 1e-12);
        assert_eq!(s.lr(110), 0.0);
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let w = Tensor::from_slice(&[3.0f32, 4.0]).set_requires_grad(true);
        (&w * &w).sum(Kind::Float).backward(); // grad = 2w = (6, 8), norm 10
        let mut opt = AdamW::new([("w".to_string(), w.shallow_clone())], AdamWConfig::default());
        let before = opt.update(0.0, 1.0).unwrap().double_value(&[]); // learning rate 0: clipping alone
        assert!((before - 10.0).abs() < 1e-5);
        let after = w.grad().norm().double_value(&[]);
        assert!((after - 1.0).abs() < 1e-4, "{after}");
    }

    /// Three updates of the same parameters and gradients, for-loop and fused, the first clipped and the others
    /// not: the same norms, and parameters and moments equal to fp32 rounding.
    #[test]
    fn fused_updates_match_the_for_loop() {
        let run = |implementation| {
            tch::manual_seed(7);
            let m = (Tensor::randn([8, 5], (Kind::Float, Device::Cpu))).set_requires_grad(true);
            let b = (Tensor::randn([5], (Kind::Float, Device::Cpu))).set_requires_grad(true);
            let named = [
                ("m".to_string(), m.shallow_clone()),
                ("b".to_string(), b.shallow_clone()),
            ];
            let mut opt = AdamW::new(named, AdamWConfig::default()).with_implementation(implementation);
            let mut norms = Vec::new();
            for (step, scale) in [3.0, 0.01, 0.02].into_iter().enumerate() {
                opt.zero_grad().unwrap();
                let x = Tensor::randn([4, 8], (Kind::Float, Device::Cpu));
                let loss = ((x.matmul(&m) + &b).tanh() * scale).sum(Kind::Float);
                loss.backward();
                norms.push(opt.update(1e-2 * (step + 1) as f64, 1.0).unwrap().double_value(&[]));
            }
            let (state, steps) = opt.state();
            (norms, [m, b], state, steps)
        };
        let (loop_norms, loop_params, loop_state, loop_steps) = run(Implementation::ForLoop);
        let (fused_norms, fused_params, fused_state, fused_steps) = run(Implementation::Fused);
        assert!(
            loop_norms[0] > 1.0 && loop_norms[1] < 1.0,
            "{loop_norms:?}: the first update must clip"
        );
        for (a, b) in loop_norms.iter().zip(&fused_norms) {
            assert!((a - b).abs() <= 1e-5 * a, "norms {loop_norms:?} vs {fused_norms:?}");
        }
        assert_eq!(loop_steps, fused_steps);
        let named = loop_params.iter().zip(&fused_params).map(|(a, b)| ("param", a, b));
        let state = loop_state
            .iter()
            .zip(&fused_state)
            .map(|((n, a), (_, b))| (n.as_str(), a, b));
        for (name, a, b) in named.chain(state) {
            let diff = (a - b).abs().max().double_value(&[]);
            let size = a.abs().max().double_value(&[]);
            assert!(
                diff <= 1e-6 * size.max(1e-3),
                "{name}: differs by {diff} (largest entry {size})"
            );
        }
        assert!(loop_params[0].grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }

    #[test]
    fn zero_grad_zeroes_every_gradient() {
        for implementation in [Implementation::ForLoop, Implementation::Fused] {
            let w = Tensor::ones([3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            (&w * 2.0).sum(Kind::Float).backward();
            let mut opt = AdamW::new([("w".to_string(), w.shallow_clone())], AdamWConfig::default())
                .with_implementation(implementation);
            opt.zero_grad().unwrap();
            assert_eq!(
                w.grad().abs().sum(Kind::Float).double_value(&[]),
                0.0,
                "{implementation:?}"
            );
        }
    }

    #[test]
    fn weight_decay_skips_vectors() {
        let m = Tensor::ones([2, 2], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
        let b = Tensor::ones([2], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
        (m.sum(Kind::Float) * 0.0 + b.sum(Kind::Float) * 0.0).backward(); // zero gradients
        let config = AdamWConfig {
            weight_decay: 0.5,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(
            [("m".into(), m.shallow_clone()), ("b".into(), b.shallow_clone())],
            config,
        );
        opt.step(0.1).unwrap();
        assert!((m.double_value(&[0, 0]) - 0.95).abs() < 1e-6);
        assert!((b.double_value(&[0]) - 1.0).abs() < 1e-6);
    }
}
