//! Exact resume: 20 updates straight give the same losses and the same batches as 10 updates, a stop, and
//! `--resume` for 10 more — with dropout on and gradient accumulation, so the RNG and loader state both matter.

mod common;

use common::{opts, setup, trajectory, TRAINING};
use phf_data::Tokenizer;
use phf_train::optim::Implementation;
use phf_train::{checkpoint, train};

#[test]
fn resumed_run_continues_exactly() {
    resumes_exactly(Implementation::ForLoop);
}

/// The fused AdamW keeps its step count on the device: a resumed run must set it from the checkpoint.
#[test]
fn resumed_run_with_fused_adamw_continues_exactly() {
    resumes_exactly(Implementation::Fused);
}

fn resumes_exactly(implementation: Implementation) {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let mut config = setup(tmp.path());
    config.optimizer.implementation = Some(implementation);
    let straight = tmp.path().join("straight");
    let summary = train(&config, &opts(&straight, false)).unwrap();
    assert_eq!(summary.steps, 20);

    let split = tmp.path().join("split");
    let mut first_half = config.clone();
    first_half.training.max_steps = 10;
    assert_eq!(train(&first_half, &opts(&split, false)).unwrap().steps, 10);
    let resumed = train(&config, &opts(&split, true)).unwrap();
    assert_eq!(resumed.steps, 20);

    let (a, b) = (trajectory(&straight), trajectory(&split));
    assert_eq!(a.len(), 20);
    assert_eq!(
        a, b,
        "losses and batches of the resumed run differ from the straight run"
    );
    assert!(a[19].1 < a[0].1, "the loss falls: {} → {}", a[0].1, a[19].1);
    assert_eq!(summary.val_loss, resumed.val_loss);
}

#[test]
fn a_run_directory_is_neither_overwritten_nor_resumed_from_nothing() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let mut config = setup(tmp.path());
    config.training.max_steps = 2;
    config.training.checkpoint_every = 1;
    let run = tmp.path().join("run");
    let err = train(&config, &opts(&run, true)).unwrap_err().to_string();
    assert!(err.contains("no checkpoint"), "{err}");
    train(&config, &opts(&run, false)).unwrap();
    let err = train(&config, &opts(&run, false)).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");
    // keep_checkpoints = 2: only the newest two remain, and `latest` names the newest; no temp dirs are left.
    let header: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join(phf_train::trainer::DATA_HEADER_FILE)).unwrap())
            .unwrap();
    assert_eq!(header["block_size"], 32, "the run records its data's header");
    let latest = checkpoint::latest(&run).unwrap().unwrap();
    assert!(latest.ends_with("step-00000002"), "{}", latest.display());
    let names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn shards_made_with_another_tokenizer_are_refused() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let mut config = setup(tmp.path());
    let other = Tokenizer::train_bpe(["some other text entirely".to_string()].into_iter(), 280).unwrap();
    let other_path = tmp.path().join("other.json");
    other.save(&other_path).unwrap();
    config.data.tokenizer = other_path;
    let err = train(&config, &opts(&tmp.path().join("run"), false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tokenizer") && err.contains("phf prepare"), "{err}");
}
