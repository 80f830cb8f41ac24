//! The shipped example external scorer (`scripts/score/example_scorer.py`) through `scorer_by_name`, on
//! awkward input. Skipped with a message where `python3` is absent.

use std::path::Path;
use std::process::Command;

use phf_score::scorer_by_name;

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn example_scorer_scores_a_batch() {
    if !python3_available() {
        eprintln!("skipping: python3 not found");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/score/example_scorer.py");
    let scorer = scorer_by_name(&format!("cmd:python3 '{}'", script.display())).unwrap();
    let long = "a".repeat(1 << 20);
    let texts = [
        "ALL CAPS",
        "no caps",
        "",
        "Half HALF",
        "nul\0BYTE",
        "mixed\r\nNEW\rlines\n",
        "ÜBER",
        long.as_str(),
    ];
    let scores = scorer.score(&texts).unwrap();
    assert!(scores.scorer.name.starts_with("cmd:python3"));
    // Upper-case letters / letters, counted by hand: "Half HALF" 5/8, "nulBYTE" 4/7, "mixedNEWlines" 3/13.
    let expected = [1.0, 0.0, 0.0, 5.0 / 8.0, 4.0 / 7.0, 3.0 / 13.0, 1.0, 0.0];
    for (got, want) in scores.scores.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{:?} vs {expected:?}", scores.scores);
    }
    assert_eq!(scores.scores.len(), expected.len());
}

/// `scripts/score/detoxify_scorer.py` against a stand-in `detoxify` module (the real model needs a checkpoint
/// download): checks the script's protocol handling and its batching across `DETOXIFY_BATCH`, not Detoxify.
#[test]
fn detoxify_script_speaks_the_protocol() {
    if !python3_available() {
        eprintln!("skipping: python3 not found");
        return;
    }
    let stand_in = tempfile::tempdir().unwrap();
    std::fs::write(
        stand_in.path().join("detoxify.py"),
        "class Detoxify:\n    def __init__(self, name, checkpoint=None, device='cpu'):\n        assert name == 'unbiased'\n    \
         def predict(self, texts):\n        return {'toxicity': [len(t) / 100 for t in texts]}\n",
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/score/detoxify_scorer.py");
    let command = format!(
        "PYTHONPATH='{}' DETOXIFY_BATCH=2 python3 '{}'",
        stand_in.path().display(),
        script.display()
    );
    let scorer = scorer_by_name(&format!("cmd:{command}")).unwrap();
    let fifty = "x".repeat(50);
    let texts = ["a", "", "hello\nworld", fifty.as_str(), "\0"];
    let scores = scorer.score_batch(&texts).unwrap();
    let expected = [0.01, 0.0, 0.11, 0.5, 0.01];
    assert_eq!(scores.len(), expected.len());
    for (got, want) in scores.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{scores:?}");
    }
}
