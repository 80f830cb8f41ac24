//! Exact resume: 20 updates straight give the same losses and the same batches as 10 updates, a stop, and
//! `--resume` for 10 more — with dropout on and gradient accumulation, so the RNG and loader state both matter.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use phf_data::{prepare, PrepareOptions, Tokenizer};
use phf_train::{checkpoint, train, TrainConfig, TrainOptions};

/// Training draws dropout masks from libtorch's process-wide generator, so tests that train take turns.
static TRAINING: Mutex<()> = Mutex::new(());

/// A small deterministic corpus of sentences (no external data needed).
fn write_corpus(dir: &Path) -> PathBuf {
    let subjects = [
        "the model",
        "a reader",
        "our team",
        "the corpus",
        "every token",
        "this run",
    ];
    let verbs = ["learns", "predicts", "scores", "packs", "samples", "checks"];
    let objects = [
        "the next word",
        "short sentences",
        "its own output",
        "the data",
        "a block",
        "the loss",
    ];
    let mut lines = String::new();
    for d in 0..120usize {
        let sentences: Vec<String> = (0..6)
            .map(|s| {
                let k = d * 7 + s * 3;
                format!(
                    "{} {} {}.",
                    subjects[k % 6],
                    verbs[(k / 6) % 6],
                    objects[(k / 36 + s) % 6]
                )
            })
            .collect();
        let scores: Vec<f32> = (0..6).map(|s| ((d + s) % 5) as f32 * 0.1).collect();
        lines += &serde_json::json!({ "texts": sentences.iter().map(|s| format!("{s} ")).collect::<Vec<_>>(), "scores": scores }).to_string();
        lines.push('\n');
    }
    let path = dir.join("docs.jsonl");
    std::fs::write(&path, lines).unwrap();
    path
}

fn setup(dir: &Path) -> TrainConfig {
    let corpus = write_corpus(dir);
    let texts = std::fs::read_to_string(&corpus).unwrap();
    let tok = Tokenizer::train_bpe(texts.lines().map(String::from), 300).unwrap();
    let tok_path = dir.join("tokenizer.json");
    tok.save(&tok_path).unwrap();
    let opts = PrepareOptions {
        block_size: 32,
        valid_fraction: 0.1,
        seed: 1,
        progress: false,
    };
    prepare(&[corpus], &tok, &opts, &dir.join("data")).unwrap();
    let text = format!(
        r#"
[model]
preset = "tiny"
n_ctx = 32
n_embd = 32
n_head = 2
dropout = 0.1
[optimizer]
lr = 3e-3
[data]
train = "{0}/data/train"
valid = "{0}/data/valid"
tokenizer = "{0}/tokenizer.json"
[training]
batch_size = 4
grad_accum = 2
total_tokens = 5120
log_every = 1
eval_every = 5
eval_batches = 2
checkpoint_every = 10
"#,
        dir.display()
    );
    TrainConfig::from_toml(&text, &[], Path::new("test.toml")).unwrap()
}

/// (step, loss, batch_hash) of every training row in a run's log.
fn trajectory(run_dir: &Path) -> Vec<(u64, f64, String)> {
    std::fs::read_to_string(run_dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("loss").is_some())
        .map(|v| {
            (
                v["step"].as_u64().unwrap(),
                v["loss"].as_f64().unwrap(),
                v["batch_hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn opts(run_dir: &Path, resume: bool) -> TrainOptions {
    TrainOptions {
        run_dir: run_dir.to_path_buf(),
        resume,
        progress: false,
    }
}

#[test]
fn resumed_run_continues_exactly() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let config = setup(tmp.path());
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
