//! Shared set-up of the training integration tests: a small deterministic scored corpus, its tokenizer and
//! shards, and a run config for the `tiny` model.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use phf_data::{prepare, PrepareOptions, Tokenizer};
use phf_train::{TrainConfig, TrainOptions};

/// Training draws dropout masks from libtorch's process-wide generator, so tests that train take turns.
pub static TRAINING: Mutex<()> = Mutex::new(());

/// Packs `dir/docs.jsonl` with `tokenizer` into blocks of 32 tokens under `dir/out` (`train/` and `valid/`).
pub fn pack(dir: &Path, tokenizer: &Tokenizer, out: &str) {
    let opts = PrepareOptions {
        block_size: 32,
        valid_fraction: 0.1,
        seed: 1,
        progress: false,
    };
    prepare(&[dir.join("docs.jsonl")], tokenizer, &opts, &dir.join(out)).unwrap();
}

/// A small deterministic corpus of sentences (no external data needed).
pub fn write_corpus(dir: &Path) -> PathBuf {
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

pub fn setup(dir: &Path) -> TrainConfig {
    let corpus = write_corpus(dir);
    let texts = std::fs::read_to_string(&corpus).unwrap();
    let tok = Tokenizer::train_bpe(texts.lines().map(String::from), 300).unwrap();
    let tok_path = dir.join("tokenizer.json");
    tok.save(&tok_path).unwrap();
    pack(dir, &tok, "data");
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
pub fn trajectory(run_dir: &Path) -> Vec<(u64, f64, String)> {
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

pub fn opts(run_dir: &Path, resume: bool) -> TrainOptions {
    TrainOptions {
        run_dir: run_dir.to_path_buf(),
        resume,
        progress: false,
        data_parallel: phf_train::DataParallel::single(),
        gradient_sync: phf_train::SyncMode::Flat,
    }
}
