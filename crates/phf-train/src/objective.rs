//! The training objectives of the paper (SPEC §3) share one interface: given the model's outputs on a batch of
//! packed blocks and the per-token misalignment scores, return a loss to minimise and the named components to
//! log. Filtering and conditional training are data transforms followed by MLE.

use tch::{Kind, Reduction, Tensor};

/// PyTorch's default `ignore_index` for cross-entropy.
const IGNORE_INDEX: i64 = -100;

/// One batch as an objective sees it.
pub struct ObjectiveInput<'a> {
    /// `(B, T, V)` next-token logits: position t predicts token t+1.
    pub logits: &'a Tensor,
    /// `(B, T)` int64 token ids.
    pub tokens: &'a Tensor,
    /// `(B, T)` f32 misalignment score of each token's segment (SPEC §2).
    pub token_scores: &'a Tensor,
    /// `(B, T)` AWR value estimates, when the model has a value head.
    pub values: Option<&'a Tensor>,
}

impl ObjectiveInput<'_> {
    /// `(B·(T-1),)` the predicted tokens, 1..T-1.
    pub fn labels(&self) -> Tensor {
        let (_, t) = self.tokens.size2().expect("tokens are (B, T)");
        self.tokens.narrow(1, 1, t - 1).reshape([-1])
    }

    /// `(B·(T-1),)` the score of each predicted token (`token_scores[:, 1:]`, SPEC §3).
    pub fn label_scores(&self) -> Tensor {
        let (_, t) = self.token_scores.size2().expect("token scores are (B, T)");
        self.token_scores.narrow(1, 1, t - 1).reshape([-1])
    }

    /// `(B·(T-1),)` per-token cross-entropy `-log p(label)`.
    ///
    /// Computed at all T positions against the next token with the last position's label ignored, then the
    /// last column dropped: slicing the `(B, T, V)` logits instead would copy them (and their gradient), as
    /// much memory traffic as the loss itself.
    pub fn token_cross_entropy(&self) -> Tensor {
        let (b, t, v) = self.logits.size3().expect("logits are (B, T, V)");
        let ignored = Tensor::full([b, 1], IGNORE_INDEX, (Kind::Int64, self.tokens.device()));
        let next = Tensor::cat(&[self.tokens.narrow(1, 1, t - 1), ignored], 1); // (B, T)
        let ce = self.logits.reshape([b * t, v]).cross_entropy_loss::<Tensor>(
            &next.reshape([-1]),
            None,
            Reduction::None,
            IGNORE_INDEX,
            0.0,
        );
        ce.reshape([b, t]).narrow(1, 0, t - 1).reshape([-1])
    }
}

/// A loss and what to log about it. Components are detached scalars, read only when logged.
pub struct ObjectiveOutput {
    pub loss: Tensor,
    pub components: Vec<(&'static str, Tensor)>,
}

pub trait Objective: Send {
    /// The paper's name of the objective (`mle`, `unlikelihood`, `awr`, ...).
    fn name(&self) -> &'static str;
    /// Whether the model needs AWR's value head.
    fn needs_value_head(&self) -> bool {
        false
    }
    fn loss(&self, input: &ObjectiveInput) -> ObjectiveOutput;
}

/// Maximum likelihood: the mean cross-entropy over all B×(T-1) predicted tokens. With filtered or
/// control-token-conditioned data it is also the filtering and conditional objectives (SPEC §3).
pub struct Mle;

impl Objective for Mle {
    fn name(&self) -> &'static str {
        "mle"
    }
    fn loss(&self, input: &ObjectiveInput) -> ObjectiveOutput {
        let loss = input.token_cross_entropy().mean(Kind::Float);
        ObjectiveOutput {
            components: vec![("lm_loss", loss.detach())],
            loss,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mle_is_the_mean_cross_entropy_of_next_tokens() {
        // Uniform logits over V=4: every next token costs ln 4.
        let logits = Tensor::zeros([2, 3, 4], (Kind::Float, tch::Device::Cpu));
        let tokens = Tensor::from_slice(&[0i64, 1, 2, 3, 2, 1]).view([2, 3]);
        let scores = Tensor::zeros([2, 3], (Kind::Float, tch::Device::Cpu));
        let input = ObjectiveInput {
            logits: &logits,
            tokens: &tokens,
            token_scores: &scores,
            values: None,
        };
        let out = Mle.loss(&input);
        assert!((out.loss.double_value(&[]) - 4f64.ln()).abs() < 1e-6);
        assert_eq!(Vec::<i64>::try_from(input.labels()).unwrap(), vec![1, 2, 2, 1]);
    }
}
