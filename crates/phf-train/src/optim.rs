//! AdamW (Loshchilov & Hutter) with PyTorch's update rule, weight decay on matrices only (SPEC §4), global-norm
//! gradient clipping, and state that is saved with every checkpoint so a resumed run continues exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

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

pub struct AdamW {
    pub config: AdamWConfig,
    params: BTreeMap<String, Param>,
    step: i64,
}

impl AdamW {
    /// Weight decay applies to parameters with two or more dimensions (the matrices), not to biases, LayerNorm
    /// gains or — following nanoGPT and the HF Trainer's LayerNorm/bias exclusion — anything one-dimensional.
    pub fn new(named: impl IntoIterator<Item = (String, Tensor)>, config: AdamWConfig) -> AdamW {
        let params = named
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
        AdamW {
            config,
            params,
            step: 0,
        }
    }

    pub fn steps_taken(&self) -> i64 {
        self.step
    }

    pub fn zero_grad(&mut self) {
        for p in self.params.values_mut() {
            let mut g = p.tensor.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
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

    /// Scales all gradients so that their global L2 norm is at most `max_norm`; returns the norm before.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
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
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
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
        let before = opt.clip_grad_norm(1.0);
        assert!((before - 10.0).abs() < 1e-5);
        let after = w.grad().norm().double_value(&[]);
        assert!((after - 1.0).abs() < 1e-4, "{after}");
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
        opt.step(0.1);
        assert!((m.double_value(&[0, 0]) - 0.95).abs() < 1e-6);
        assert!((b.double_value(&[0]) - 1.0).abs() < 1e-6);
    }
}
