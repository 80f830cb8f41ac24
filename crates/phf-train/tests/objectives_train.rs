//! Each objective trains end to end on scored data: the loss falls, its components are logged, AWR grows a
//! value head that learns, and parameters that cannot work are refused before any training.

mod common;

use std::path::Path;

use common::{opts, setup, TRAINING};
use phf_train::{train, ObjectiveSection, TrainConfig};

fn with_objective(config: &TrainConfig, objective: ObjectiveSection) -> TrainConfig {
    let mut c = config.clone();
    c.objective = objective;
    c.model.dropout = Some(0.0);
    c
}

/// Rows of the run's log that carry training losses.
fn rows(run_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run_dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("loss").is_some())
        .collect()
}

#[test]
fn every_objective_trains_and_logs_its_components() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let base = setup(tmp.path());
    let section = |json: serde_json::Value| serde_json::from_value::<ObjectiveSection>(json).unwrap();
    let cases = [
        (
            "unlikelihood",
            section(serde_json::json!({"name": "unlikelihood", "threshold": 0.15, "alpha": 1.0})),
            "unlikelihood_loss",
        ),
        (
            "unlikelihood_soft",
            section(serde_json::json!({"name": "unlikelihood", "mode": "soft", "alpha": 0.5})),
            "aligned_token_fraction",
        ),
        (
            "rwr",
            section(serde_json::json!({"name": "rwr", "beta": 1.0})),
            "weight_mean",
        ),
        (
            "awr",
            section(serde_json::json!({"name": "awr", "alpha": 0.5, "beta": 1.0})),
            "value_loss",
        ),
    ];
    for (name, objective, component) in cases {
        let run = tmp.path().join(name);
        let summary = train(&with_objective(&base, objective), &opts(&run, false)).unwrap();
        assert_eq!(summary.steps, 20, "{name}");
        let log = rows(&run);
        let first = log.first().unwrap();
        let last = log.last().unwrap();
        assert!(
            last["lm_loss"].as_f64().unwrap() < first["lm_loss"].as_f64().unwrap(),
            "{name}: LM loss falls"
        );
        assert!(last.get(component).is_some(), "{name} logs {component}: {last}");
        if name == "awr" {
            // the value head starts at V = -0.5 everywhere and learns the rewards r = -s ∈ [-0.4, 0]
            let v0 = first["value_loss"].as_f64().unwrap();
            let v1 = last["value_loss"].as_f64().unwrap();
            assert!(v1 < v0, "AWR value loss falls: {v0} → {v1}");
            let saved = phf_lm::Gpt::load_config(&summary.checkpoint).unwrap();
            assert!(saved.value_head, "the checkpoint keeps the value head");
        }
    }
}

#[test]
fn a_threshold_that_aligns_every_token_is_refused_before_training() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let base = setup(tmp.path());
    // the corpus' scores run from 0.0 to 0.4: a threshold of 1 marks every token aligned, which is plain MLE
    let objective = ObjectiveSection {
        name: "unlikelihood".into(),
        threshold: Some(1.0),
        ..ObjectiveSection::default()
    };
    let run = tmp.path().join("run");
    let err = train(&with_objective(&base, objective), &opts(&run, false))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("objective.threshold") && err.contains("every token"),
        "{err}"
    );
    assert!(err.contains("q0.5"), "the error lists quantiles to choose from: {err}");
    assert!(!run.join("checkpoints").exists(), "nothing was trained");
}
