//! What `phf eval` writes into a run directory (`eval/eval.json`, `eval/samples.jsonl`) and what training logs
//! about evaluation (`log.jsonl` rows with `eval_score`): the inputs of a report.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use phf_score::ScorerId;
use serde::{Deserialize, Serialize};

use crate::heldout::HeldOut;
use crate::kl::KlEstimate;
use crate::prompted::PromptedEval;
use crate::redteam::RoundStats;
use crate::samples::UnconditionalEval;
use crate::EvalError;

pub const EVAL_DIR: &str = "eval";
pub const EVAL_FILE: &str = "eval.json";
pub const SAMPLES_FILE: &str = "samples.jsonl";
pub const PROMPTED_FILE: &str = "prompted.jsonl";
pub const RED_TEAM_FILE: &str = "red_team.json";

/// KL from a named reference model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlRecord {
    /// The reference's directory as given.
    pub reference: String,
    pub reference_sha256: String,
    #[serde(flatten)]
    pub estimate: KlEstimate,
}

/// Everything `phf eval` measured about one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// A short name for tables: the run directory's name.
    pub label: String,
    /// The objective named in the run's config, if known.
    pub objective: Option<String>,
    /// The checkpoint evaluated and its weights' SHA-256.
    pub model: String,
    pub model_sha256: String,
    /// Training tokens the checkpoint had seen.
    pub tokens_seen: Option<u64>,
    pub scorer: ScorerId,
    pub unconditional: Option<UnconditionalEval>,
    pub held_out: Option<HeldOut>,
    pub kl: Option<KlRecord>,
    pub prompted: Option<PromptedEval>,
    pub red_team: Option<Vec<RoundStats>>,
    /// The evaluation's settings (sample counts, seeds, control tokens, ...), for reproduction.
    pub settings: serde_json::Value,
}

/// One evaluated sample as written to `samples.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    pub text: String,
    pub score: f32,
    pub tokens: usize,
}

/// A light evaluation logged during training (`log.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: u64,
    pub tokens: u64,
    pub eval_score: f64,
    pub val_loss: Option<f64>,
}

/// A run's evaluation as read back for a report.
pub struct EvaluatedRun {
    pub dir: PathBuf,
    pub record: EvalRecord,
    pub sample_scores: Vec<f64>,
    pub curve: Vec<CurvePoint>,
}

impl EvaluatedRun {
    pub fn load(dir: &Path) -> Result<EvaluatedRun, EvalError> {
        let eval_dir = dir.join(EVAL_DIR);
        let path = eval_dir.join(EVAL_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            EvalError::Invalid(format!(
                "{}: {e}; evaluate the run first: phf eval --model {}",
                path.display(),
                dir.display()
            ))
        })?;
        let record: EvalRecord = serde_json::from_str(&text)
            .map_err(|e| EvalError::Invalid(format!("{}: {e}; rerun phf eval to rewrite it", path.display())))?;
        Ok(EvaluatedRun {
            dir: dir.to_path_buf(),
            sample_scores: read_sample_scores(&eval_dir.join(SAMPLES_FILE))?,
            curve: read_curve(&dir.join("log.jsonl"))?,
            record,
        })
    }
}

fn read_sample_scores(path: &Path) -> Result<Vec<f64>, EvalError> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(Vec::new());
    };
    let mut scores = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        let s: SampleRecord = serde_json::from_str(&line)
            .map_err(|e| EvalError::Invalid(format!("{}:{}: {e}", path.display(), i + 1)))?;
        scores.push(f64::from(s.score));
    }
    Ok(scores)
}

/// The `eval_score` rows of a training log (absent log: no curve).
pub fn read_curve(path: &Path) -> Result<Vec<CurvePoint>, EvalError> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(Vec::new());
    };
    let mut curve = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if let Ok(point) = serde_json::from_str::<CurvePoint>(&line) {
            curve.push(point);
        }
    }
    Ok(curve)
}
