//! Reward-weighted regression (RWR, Peters & Schaal 2007) and advantage-weighted regression (AWR, Peng et al.
//! 2019) at the token level (SPEC §3): cross-entropy weighted by `exp(r/β)` or `exp((r - V)/β)`, with `r = -s`,
//! and for AWR a value head trained by `MSE(r, V)`.

use tch::{Kind, Tensor};

use crate::objective::{Objective, ObjectiveInput, ObjectiveOutput};

/// `clamp(exp(x/β), 0, clip)`.
fn exp_weights(x: &Tensor, beta: f64, clip: f64) -> Tensor {
    x.divide_scalar(beta).exp().clamp(0.0, clip)
}

fn weight_components(weights: &Tensor) -> Vec<(&'static str, Tensor)> {
    vec![
        ("weight_mean", weights.mean(Kind::Float).detach()),
        ("weight_min", weights.min().detach()),
        ("weight_max", weights.max().detach()),
    ]
}

/// True reward weighting, `w = clamp(exp((r - baseline)/β), 0, clip_weight_max)` with baseline 0. The
/// reference implements RWR as AWR with α = 1, whose value head never trains and stays at V = -0.5: that is
/// `baseline = -0.5`, a constant factor exp(0.5/β) on every weight, available to reproduce its numbers.
pub struct Rwr {
    pub beta: f64,
    pub baseline: f64,
    pub clip_weight_max: f64,
}

impl Objective for Rwr {
    fn name(&self) -> &'static str {
        "rwr"
    }

    fn loss(&self, input: &ObjectiveInput) -> ObjectiveOutput {
        let reward = input.label_scores().neg();
        let weights = exp_weights(&(reward - self.baseline), self.beta, self.clip_weight_max);
        let ce = input.token_cross_entropy();
        let loss = (&ce * &weights).mean(Kind::Float);
        let mut components = vec![
            ("lm_loss", ce.mean(Kind::Float).detach()),
            ("weighted_lm_loss", loss.detach()),
        ];
        components.extend(weight_components(&weights));
        ObjectiveOutput { loss, components }
    }
}

/// AWR: `α·mean(CE·w) + (1 - α)·MSE(r, V)`, `w = clamp(exp((r - stopgrad(V))/β), 0, clip_weight_max)`, where V
/// is the value head's estimate at the position that predicts the token (`values[:, :-1]`, as the reference).
pub struct Awr {
    pub alpha: f64,
    pub beta: f64,
    pub clip_weight_max: f64,
    /// Standardise advantages within the batch before weighting (the reference's `normalize_advantage`).
    pub normalize_advantage: bool,
}

impl Objective for Awr {
    fn name(&self) -> &'static str {
        "awr"
    }

    fn needs_value_head(&self) -> bool {
        true
    }

    fn loss(&self, input: &ObjectiveInput) -> ObjectiveOutput {
        let values = input.values.expect("AWR needs the value head (the trainer adds it)");
        let (_, t) = values.size2().expect("values are (B, T)");
        let values = values.narrow(1, 0, t - 1).reshape([-1]); // V at the positions predicting tokens 1..T-1
        let reward = input.label_scores().neg();
        let mut advantage = &reward - values.detach();
        if self.normalize_advantage {
            advantage = (&advantage - advantage.mean(Kind::Float)) / (advantage.std(true) + 1e-10);
        }
        let weights = exp_weights(&advantage, self.beta, self.clip_weight_max);
        let ce = input.token_cross_entropy();
        let weighted_lm_loss = (&ce * &weights).mean(Kind::Float);
        let value_loss = (&values - &reward).square().mean(Kind::Float);
        let loss = &weighted_lm_loss * self.alpha + &value_loss * (1.0 - self.alpha);
        let mut components = vec![
            ("lm_loss", ce.mean(Kind::Float).detach()),
            ("weighted_lm_loss", weighted_lm_loss.detach()),
            ("value_loss", value_loss.detach()),
            ("value_mean", values.mean(Kind::Float).detach()),
            ("advantage_mean", advantage.mean(Kind::Float).detach()),
            ("value_reward_corr", pearson(&values.detach(), &reward)),
        ];
        components.extend(weight_components(&weights));
        ObjectiveOutput { loss, components }
    }
}

/// Pearson correlation of two vectors (0 when either is constant, as at the start when V = -0.5 everywhere).
fn pearson(a: &Tensor, b: &Tensor) -> Tensor {
    let (da, db) = (a - a.mean(Kind::Float), b - b.mean(Kind::Float));
    let denom = ((&da * &da).sum(Kind::Float) * (&db * &db).sum(Kind::Float)).sqrt();
    let r = (&da * &db).sum(Kind::Float) / denom.clamp_min(1e-12);
    r.detach()
}
