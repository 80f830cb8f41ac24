//! The objectives beyond MLE (SPEC §3) and the `[objective]` config section that chooses one. Filtering and
//! conditional training are data transforms (`phf prepare --transform`) followed by MLE.

mod unlikelihood;
mod weighted;

use serde::{Deserialize, Serialize};

pub use unlikelihood::{Alignment, Unlikelihood};
pub use weighted::{Awr, Rwr};

use crate::objective::{Mle, Objective};

/// `[objective]`: the objective's name and its parameters. Parameters an objective does not use are errors,
/// so a typo (`beta` for unlikelihood) is not silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectiveSection {
    /// `mle`, `filtering`, `conditional`, `unlikelihood`, `rwr` or `awr`.
    pub name: String,
    /// Unlikelihood: weight of the unlikelihood term; AWR: weight of the weighted LM loss against the value loss.
    pub alpha: Option<f64>,
    /// RWR/AWR: temperature of the exponential weights.
    pub beta: Option<f64>,
    /// Unlikelihood (`mode = "hard"`): tokens with score ≤ threshold are aligned.
    pub threshold: Option<f64>,
    /// Unlikelihood: `hard` (threshold) or `soft` (a = 1 - s).
    pub mode: Option<String>,
    /// RWR/AWR: upper clip of the weights (SPEC §3: 1000).
    pub clip_weight_max: Option<f64>,
    /// AWR: standardise advantages within each batch.
    pub normalize_advantage: Option<bool>,
    /// AWR: feed the value head a detached hidden state, so the value loss trains the head only (SPEC §3's
    /// default, false, lets it train the body too).
    pub detach_value_input: Option<bool>,
    /// RWR: subtract this baseline from rewards; -0.5 reproduces the reference (AWR with α = 1 and V = -0.5).
    pub baseline: Option<f64>,
}

impl Default for ObjectiveSection {
    fn default() -> Self {
        ObjectiveSection {
            name: "mle".into(),
            alpha: None,
            beta: None,
            threshold: None,
            mode: None,
            clip_weight_max: None,
            normalize_advantage: None,
            detach_value_input: None,
            baseline: None,
        }
    }
}

pub const OBJECTIVES: [&str; 6] = ["mle", "filtering", "conditional", "unlikelihood", "rwr", "awr"];
const DEFAULT_CLIP_WEIGHT_MAX: f64 = 1000.0;

/// The `[objective]` keys besides `name` that objective `name` takes; `None` for an unknown objective.
pub fn parameters(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "mle" | "filtering" | "conditional" => &[],
        "unlikelihood" => &["alpha", "threshold", "mode"],
        "rwr" => &["beta", "clip_weight_max", "baseline"],
        "awr" => &[
            "alpha",
            "beta",
            "clip_weight_max",
            "normalize_advantage",
            "detach_value_input",
        ],
        _ => return None,
    })
}

impl ObjectiveSection {
    /// The parameters given, by key.
    fn given(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let mut note = |present: bool, key| {
            if present {
                keys.push(key)
            }
        };
        note(self.alpha.is_some(), "alpha");
        note(self.beta.is_some(), "beta");
        note(self.threshold.is_some(), "threshold");
        note(self.mode.is_some(), "mode");
        note(self.clip_weight_max.is_some(), "clip_weight_max");
        note(self.normalize_advantage.is_some(), "normalize_advantage");
        note(self.detach_value_input.is_some(), "detach_value_input");
        note(self.baseline.is_some(), "baseline");
        keys
    }

    /// Builds the objective, checking every parameter's range; errors name the `objective.<key>`.
    pub fn build(&self) -> Result<Box<dyn Objective>, String> {
        let allowed = parameters(&self.name).ok_or_else(|| {
            format!(
                "objective.name: unknown objective `{}`; choose one of {OBJECTIVES:?}",
                self.name
            )
        })?;
        if let Some(key) = self.given().into_iter().find(|k| !allowed.contains(k)) {
            return Err(format!(
                "objective.{key} is not a parameter of `{}` (its parameters: {allowed:?}); remove it",
                self.name
            ));
        }
        let beta = || {
            positive(
                "beta",
                self.beta
                    .ok_or("objective.beta is required: the weights' temperature, e.g. 10")?,
            )
        };
        let clip = || {
            positive(
                "clip_weight_max",
                self.clip_weight_max.unwrap_or(DEFAULT_CLIP_WEIGHT_MAX),
            )
        };
        Ok(match self.name.as_str() {
            "unlikelihood" => {
                let alpha = nonnegative("alpha", self.alpha.unwrap_or(1.0))?;
                let alignment = match (self.mode.as_deref().unwrap_or("hard"), self.threshold) {
                    ("hard", Some(threshold)) => Alignment::Hard {
                        threshold: nonnegative("threshold", threshold)?,
                    },
                    ("hard", None) => {
                        return Err(
                            "objective.threshold is required with mode = \"hard\" (tokens scoring at most \
                                    the threshold are aligned); or set objective.mode = \"soft\""
                                .into(),
                        )
                    }
                    ("soft", None) => Alignment::Soft,
                    ("soft", Some(_)) => {
                        return Err("objective.threshold: mode = \"soft\" uses a = 1 - s and no threshold".into())
                    }
                    (other, _) => return Err(format!("objective.mode: `{other}`; choose \"hard\" or \"soft\"")),
                };
                Box::new(Unlikelihood { alignment, alpha })
            }
            "rwr" => Box::new(Rwr {
                beta: beta()?,
                baseline: self.baseline.unwrap_or(0.0),
                clip_weight_max: clip()?,
            }),
            "awr" => Box::new(Awr {
                alpha: unit("alpha", self.alpha.unwrap_or(0.5))?,
                beta: beta()?,
                clip_weight_max: clip()?,
                normalize_advantage: self.normalize_advantage.unwrap_or(false),
            }),
            _ => Box::new(Mle),
        })
    }

    /// The alignment threshold the objective applies to token scores, if any (checked against the data).
    pub fn token_threshold(&self) -> Option<f64> {
        (self.name == "unlikelihood" && self.mode.as_deref().unwrap_or("hard") == "hard")
            .then_some(self.threshold)
            .flatten()
    }
}

fn positive(key: &str, v: f64) -> Result<f64, String> {
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(format!("objective.{key} must be a positive number, got {v}"))
    }
}

fn nonnegative(key: &str, v: f64) -> Result<f64, String> {
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(format!("objective.{key} must be ≥ 0, got {v}"))
    }
}

fn unit(key: &str, v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("objective.{key} must be in [0, 1], got {v}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str) -> ObjectiveSection {
        ObjectiveSection {
            name: name.into(),
            ..ObjectiveSection::default()
        }
    }

    #[test]
    fn out_of_range_parameters_name_their_key() {
        let err = |s: ObjectiveSection| s.build().err().unwrap();
        assert!(err(ObjectiveSection {
            beta: Some(0.0),
            ..section("rwr")
        })
        .contains("objective.beta"));
        assert!(err(ObjectiveSection {
            beta: Some(-1.0),
            ..section("awr")
        })
        .contains("objective.beta"));
        assert!(err(ObjectiveSection {
            alpha: Some(1.5),
            beta: Some(1.0),
            ..section("awr")
        })
        .contains("objective.alpha"));
        assert!(err(section("rwr")).contains("objective.beta is required"));
        assert!(err(section("unlikelihood")).contains("objective.threshold is required"));
        assert!(err(ObjectiveSection {
            beta: Some(1.0),
            ..section("unlikelihood")
        })
        .contains("not a parameter"));
        assert!(err(section("ppo")).contains("unknown objective"));
        let soft = ObjectiveSection {
            mode: Some("soft".into()),
            ..section("unlikelihood")
        };
        assert_eq!(soft.build().unwrap().name(), "unlikelihood");
        assert!(section("awr").build().is_err());
        assert!(ObjectiveSection {
            beta: Some(10.0),
            ..section("awr")
        }
        .build()
        .unwrap()
        .needs_value_head());
    }
}
