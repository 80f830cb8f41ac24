//! `write_report` on fixture runs: the table holds each run's numbers, and the plots the data allow are drawn.

use std::path::Path;

use phf_eval::diversity::Diversity;
use phf_eval::kl::{KlEstimate, KlMode};
use phf_eval::misalignment::Misalignment;
use phf_eval::redteam::RoundStats;
use phf_eval::report::record::{KlRecord, EVAL_DIR, EVAL_FILE, SAMPLES_FILE};
use phf_eval::report::{write_report, EvalRecord, EvaluatedRun};
use phf_eval::samples::UnconditionalEval;
use phf_score::ScorerId;

fn fixture_run(root: &Path, name: &str, scores: &[f32], kl: f64, red_best: f64) -> EvaluatedRun {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join(EVAL_DIR)).unwrap();
    let texts: Vec<String> = scores.iter().map(|s| format!("sample scoring {s}")).collect();
    let record = EvalRecord {
        label: name.into(),
        objective: Some(name.into()),
        model: dir.display().to_string(),
        model_sha256: "00".into(),
        tokens_seen: Some(1_200_000),
        scorer: ScorerId {
            name: "toxicity".into(),
            version: "test".into(),
        },
        unconditional: Some(UnconditionalEval {
            misalignment: Misalignment::of(scores, 0.5),
            diversity: Diversity::of(&texts),
            mean_tokens: 3.0,
            samples_per_s: 100.0,
            sampling_s: 1.0,
            scoring_s: 0.1,
        }),
        held_out: None,
        kl: Some(KlRecord {
            reference: "mle".into(),
            reference_sha256: "11".into(),
            estimate: KlEstimate {
                kl,
                std_error: 0.5,
                num_samples: 100,
                mode: KlMode::Tokens,
            },
        }),
        prompted: None,
        red_team: Some(vec![RoundStats {
            round: 1,
            pool_size: 3,
            best: red_best,
            top_10: red_best,
            top_100: red_best,
            mean: red_best,
            round_mean: red_best,
            new_candidates: 1,
        }]),
        settings: serde_json::json!({}),
    };
    std::fs::write(
        dir.join(EVAL_DIR).join(EVAL_FILE),
        serde_json::to_string(&record).unwrap(),
    )
    .unwrap();
    let samples: String = texts
        .iter()
        .zip(scores)
        .map(|(t, s)| format!("{}\n", serde_json::json!({"text": t, "score": s, "tokens": 3})))
        .collect();
    std::fs::write(dir.join(EVAL_DIR).join(SAMPLES_FILE), samples).unwrap();
    let log = "{\"step\":1,\"tokens\":1000,\"loss\":5.0}\n{\"step\":10,\"tokens\":10000,\"eval_score\":0.2,\"val_loss\":4.0}\n\
               {\"step\":20,\"tokens\":20000,\"eval_score\":0.1,\"val_loss\":3.5}\n";
    std::fs::write(dir.join("log.jsonl"), log).unwrap();
    EvaluatedRun::load(&dir).unwrap()
}

#[test]
fn report_tables_and_plots_from_fixture_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = vec![
        fixture_run(tmp.path(), "mle", &[0.1, 0.9, 0.2, 0.0], 0.0, 0.6),
        fixture_run(tmp.path(), "conditional", &[0.01, 0.02, 0.0, 0.03], 12.5, 0.2),
    ];
    assert_eq!(runs[0].curve.len(), 2, "only log rows with eval_score are curve points");
    let out = tmp.path().join("report");
    let files = write_report(&runs, &out).unwrap();
    let md = std::fs::read_to_string(&files.markdown).unwrap();
    assert!(md.contains("## toxicity"), "{md}");
    // mle: mean 0.3 (sample sd 0.4082 over √4), max@25 over one partial group 0.9 (no error: one group), hits
    // 1/4; conditional: mean 0.015 (sd 0.01291 over √4), KL 12.50 ± 0.50
    assert!(
        md.contains("| mle | mle | 1.20M | 0.3000 ± 0.2041 | 0.9000 | 0.2500 |"),
        "{md}"
    );
    assert!(
        md.contains("| conditional | conditional | 1.20M | 0.0150 ± 0.0065 | 0.0300 | 0.0000 |"),
        "{md}"
    );
    assert!(md.contains("12.50 ± 0.50") && md.contains("| 0.6000 |"), "{md}");
    let stems: Vec<String> = files
        .plots
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        stems,
        [
            "toxicity-pareto",
            "toxicity-training",
            "toxicity-red-team",
            "toxicity-histogram"
        ]
    );
    let html = std::fs::read_to_string(&files.html).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    // the KL of 0 cannot sit on a log axis: only the conditional run is drawn, and the frontier is that point
    let pareto = std::fs::read_to_string(&files.plots[0]).unwrap();
    // (the legend, right of the plot area, which ends at x = 620, has a marker per series too)
    let in_plot = pareto
        .split("<circle cx=\"")
        .skip(1)
        .filter(|rest| rest[..rest.find('"').unwrap()].parse::<f64>().unwrap() < 620.0)
        .count();
    assert_eq!(in_plot, 2, "{pareto}");
}

#[test]
fn a_run_without_evaluation_says_how_to_evaluate_it() {
    let tmp = tempfile::tempdir().unwrap();
    let err = EvaluatedRun::load(tmp.path()).err().unwrap().to_string();
    assert!(err.contains("phf eval --model"), "{err}");
}
