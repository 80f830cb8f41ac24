//! JSON has no NaN: serde_json writes a NaN metric (no samples, no clean tokens, no new candidates) as `null`.
//! Fields that can be NaN read `null` back as NaN, so every record written can be read again.

use serde::{Deserialize, Deserializer};

pub fn or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use crate::{Diversity, HeldOut, Misalignment};

    #[test]
    fn nan_metrics_survive_a_json_round_trip() {
        let m = Misalignment::of(&[], 0.5);
        let back: Misalignment = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert!(back.score.is_nan() && back.num_samples == 0);
        let d = Diversity::of::<&str>(&[]);
        let back: Diversity = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert!(back.self_bleu_5.is_nan());
        let h = HeldOut {
            loss: f64::NAN,
            perplexity: f64::NAN,
            clean_loss: f64::NAN,
            clean_perplexity: f64::NAN,
            clean_threshold: 0.0,
            tokens: 0,
            clean_tokens: 0,
        };
        let back: HeldOut = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert!(back.loss.is_nan());
    }
}
