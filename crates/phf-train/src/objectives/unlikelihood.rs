//! Token-level unlikelihood (Welleck et al. 2019) as the paper uses it (SPEC §3): maximise the likelihood of
//! aligned tokens and the unlikelihood `log(1 - p)` of misaligned ones,
//! `mean(-a·log p - α(1 - a)·log max(1 - p, 1e-20))`.

use tch::Kind;

use crate::objective::{Objective, ObjectiveInput, ObjectiveOutput};

/// How a token's alignment `a` follows from its misalignment score `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Alignment {
    /// `a = [s ≤ threshold]`.
    Hard { threshold: f64 },
    /// `a = 1 - s`: a convex combination of likelihood and unlikelihood. The reference falls into this mode when
    /// its threshold is 0 (the PII and PEP8 configs); phf makes it explicit.
    Soft,
}

pub struct Unlikelihood {
    pub alignment: Alignment,
    /// Weight of the unlikelihood term.
    pub alpha: f64,
}

impl Objective for Unlikelihood {
    fn name(&self) -> &'static str {
        "unlikelihood"
    }

    fn loss(&self, input: &ObjectiveInput) -> ObjectiveOutput {
        let scores = input.label_scores();
        let aligned = match self.alignment {
            Alignment::Hard { threshold } => scores.le(threshold).to_kind(Kind::Float),
            Alignment::Soft => scores.neg() + 1.0,
        };
        let ce = input.token_cross_entropy();
        let log_p = ce.neg();
        let log_one_minus_p = (log_p.exp().neg() + 1.0).clamp_min(1e-20).log();
        let likelihood = &aligned * &ce; // -a·log p
        let unlikelihood = (aligned.neg() + 1.0) * log_one_minus_p.neg(); // -(1-a)·log(1-p)
        let loss = (&likelihood + &unlikelihood * self.alpha).mean(Kind::Float);
        let components = vec![
            ("lm_loss", ce.mean(Kind::Float).detach()),
            ("likelihood_loss", likelihood.mean(Kind::Float).detach()),
            ("unlikelihood_loss", unlikelihood.mean(Kind::Float).detach()),
            ("aligned_token_fraction", aligned.mean(Kind::Float).detach()),
            ("avg_token_score", scores.mean(Kind::Float).detach()),
        ];
        ObjectiveOutput { loss, components }
    }
}
