//! Held-out cross-entropy and perplexity (SPEC §5, capability): over every token of a validation shard, and over
//! its clean tokens only (tokens whose segment scores at most a threshold), so a model that learned to avoid
//! misaligned text is not credited for merely failing to predict it.

use phf_data::loader::SequentialBatches;
use phf_data::Shard;
use phf_lm::Gpt;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    /// Mean next-token cross-entropy (nats) over all predicted tokens.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub loss: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub perplexity: f64,
    /// The same over tokens scoring `≤ clean_threshold`; NaN when there are none.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub clean_loss: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub clean_perplexity: f64,
    pub clean_threshold: f64,
    pub tokens: u64,
    pub clean_tokens: u64,
}

/// Cross-entropy over up to `max_blocks` blocks of `shard` (0 = all) in `batch_size` batches.
pub fn held_out_loss(
    model: &Gpt,
    shard: &Shard,
    clean_threshold: f64,
    batch_size: usize,
    max_blocks: usize,
) -> HeldOut {
    let max_batches = match max_blocks {
        0 => usize::MAX,
        n => n.div_ceil(batch_size.max(1)),
    };
    let (mut total, mut clean_total, mut n, mut clean_n) = (0.0f64, 0.0f64, 0u64, 0u64);
    tch::no_grad(|| {
        for batch in SequentialBatches::new(shard, batch_size.max(1)).take(max_batches) {
            let (b, t) = (batch.batch_size as i64, batch.block_size as i64);
            let device = model.device();
            let tokens = Tensor::from_slice(&batch.tokens).view([b, t]).to(device);
            let logits = model.forward(&tokens.narrow(1, 0, t - 1), false).logits;
            let targets = tokens.narrow(1, 1, t - 1);
            let nll = logits
                .log_softmax(-1, Kind::Float)
                .gather(-1, &targets.unsqueeze(-1), false)
                .squeeze_dim(-1)
                .neg()
                .to(tch::Device::Cpu);
            let nll = Vec::<f32>::try_from(nll.reshape([-1])).expect("float vector");
            for (row, nll_row) in nll.chunks(t as usize - 1).enumerate() {
                let scores = &batch.scores[row * t as usize + 1..(row + 1) * t as usize];
                for (&l, &s) in nll_row.iter().zip(scores) {
                    total += f64::from(l);
                    n += 1;
                    if f64::from(s) <= clean_threshold {
                        clean_total += f64::from(l);
                        clean_n += 1;
                    }
                }
            }
        }
    });
    let mean = |sum: f64, count: u64| if count == 0 { f64::NAN } else { sum / count as f64 };
    let (loss, clean_loss) = (mean(total, n), mean(clean_total, clean_n));
    HeldOut {
        loss,
        perplexity: loss.exp(),
        clean_loss,
        clean_perplexity: clean_loss.exp(),
        clean_threshold,
        tokens: n,
        clean_tokens: clean_n,
    }
}

/// The alignment threshold of SPEC §3 per task: tokens of segments scoring at most this are "clean".
pub fn default_clean_threshold(scorer_name: &str) -> f64 {
    match scorer_name.split(':').next().unwrap_or(scorer_name) {
        "toxicity" => 0.00056,
        _ => 0.0,
    }
}
