//! Data-parallel `phf train` on CPU, two processes on loopback (c10d Gloo), started the way torchrun starts them
//! (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT):
//! - after K updates both ranks hold the same parameters, equal within 1e-5 to one process over the same global
//!   batch, with the same losses along the way (gradients all-reduced during the backward pass, c10d::Reducer);
//! - the flat post-backward all-reduce (PHF_DIST_OVERLAP=0) ends on the same parameters, also with AWR's value
//!   head;
//! - a run stopped and resumed at the same world size ends where the uninterrupted run ends, and its checkpoint
//!   samples on one process;
//! - a rank that dies, or a batch that does not split over the ranks, is an error, not a hang.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use phf_data::{prepare, PrepareOptions, Tokenizer};
use tch::Tensor;

const TORCHRUN_VARS: [&str; 7] = [
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "PHF_DIST_TIMEOUT_S",
    "PHF_DIST_OVERLAP",
];

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// A deterministic scored corpus, its tokenizer and 32-token shards under `dir/data`; returns the run config.
/// Dropout is off: each rank draws its own dropout masks, so only a dropout-free run can equal one process.
fn setup(dir: &Path, total_tokens: u64) -> PathBuf {
    let lines: Vec<String> = (0..120usize)
        .map(|d| {
            let texts: Vec<String> = (0..6)
                .map(|k| format!("Document {d} sentence {k} says {} things. ", (d * 7 + k * 3) % 11))
                .collect();
            let scores: Vec<f32> = (0..6).map(|k| ((d + k) % 5) as f32 * 0.1).collect();
            serde_json::json!({ "texts": texts, "scores": scores }).to_string()
        })
        .collect();
    std::fs::write(dir.join("docs.jsonl"), lines.join("\n") + "\n").expect("write corpus");
    let tok = Tokenizer::train_bpe(lines.into_iter(), 300).expect("train tokenizer");
    tok.save(&dir.join("tokenizer.json")).expect("save tokenizer");
    let opts = PrepareOptions {
        block_size: 32,
        valid_fraction: 0.1,
        seed: 1,
        progress: false,
    };
    prepare(&[dir.join("docs.jsonl")], &tok, &opts, &dir.join("data")).expect("prepare");
    let config = dir.join("run.toml");
    let text = format!(
        r#"[model]
preset = "tiny"
n_ctx = 32
n_embd = 32
n_head = 2
dropout = 0.0
[optimizer]
lr = 3e-3
[data]
train = "data/train"
valid = "data/valid"
tokenizer = "tokenizer.json"
[training]
batch_size = 4
grad_accum = 2
total_tokens = {total_tokens}
log_every = 1
eval_every = 3
eval_batches = 2
checkpoint_every = 3
"#
    );
    std::fs::write(&config, text).expect("write run.toml");
    config
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `phf args...` as one rank of `world` (None: a plain single process, whatever this test's environment holds).
fn phf(args: &[&str], rank: Option<(usize, usize, u16)>) -> Child {
    phf_command(args, rank).spawn().expect("run the phf binary")
}

fn phf_command(args: &[&str], rank: Option<(usize, usize, u16)>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_phf"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    for var in TORCHRUN_VARS {
        cmd.env_remove(var);
    }
    if let Some((rank, world, port)) = rank {
        cmd.env("RANK", rank.to_string())
            .env("LOCAL_RANK", rank.to_string())
            .env("WORLD_SIZE", world.to_string())
            .env("MASTER_ADDR", "127.0.0.1")
            .env("MASTER_PORT", port.to_string())
            .env("PHF_DIST_TIMEOUT_S", "60");
    }
    cmd
}

/// Waits for a process; one still running after `limit` is killed and reported as hung. A guard against
/// hangs, not a timing assertion.
fn finish(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("poll phf").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect phf");
            panic!(
                "phf hung for {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("collect phf")
}

fn succeeded(out: &Output, who: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{who} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("phf train prints its summary as JSON")
}

fn train_args<'a>(config: &'a Path, run_dir: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--config", s(config), "--run-dir", s(run_dir), "--quiet"];
    args.extend_from_slice(extra);
    args
}

/// Runs `args` as ranks 0 and 1 of 2; returns both summaries.
fn two_ranks(args: &[&str]) -> [serde_json::Value; 2] {
    two_ranks_with(args, &[])
}

/// `two_ranks` with extra environment variables.
fn two_ranks_with(args: &[&str], env: &[(&str, &str)]) -> [serde_json::Value; 2] {
    let port = free_port();
    let ranks = [0, 1].map(|r| {
        let mut child = phf_command(args, Some((r, 2, port)));
        child.envs(env.iter().copied());
        child.spawn().expect("run the phf binary")
    });
    let outs = ranks.map(|c| finish(c, Duration::from_secs(300)));
    [succeeded(&outs[0], "rank 0"), succeeded(&outs[1], "rank 1")]
}

fn weights(run_dir: &Path) -> BTreeMap<String, Tensor> {
    let ckpt = std::fs::read_to_string(run_dir.join("checkpoints/latest")).expect("latest checkpoint");
    let file = run_dir.join("checkpoints").join(ckpt.trim()).join("model.safetensors");
    Tensor::read_safetensors(&file)
        .expect("read weights")
        .into_iter()
        .collect()
}

fn max_abs_diff(a: &BTreeMap<String, Tensor>, b: &BTreeMap<String, Tensor>) -> f64 {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    a.iter()
        .map(|(name, t)| (t - &b[name]).abs().max().double_value(&[]))
        .fold(0.0, f64::max)
}

/// (step, loss) of training rows and (step, val_loss) of validation rows in a run's log.
fn losses(run_dir: &Path, key: &str) -> Vec<(u64, f64)> {
    std::fs::read_to_string(run_dir.join("log.jsonl"))
        .expect("log.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON row"))
        .filter_map(|v| Some((v["step"].as_u64()?, v.get(key)?.as_f64()?)))
        .collect()
}

fn assert_close(a: &[(u64, f64)], b: &[(u64, f64)], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for ((sa, la), (sb, lb)) in a.iter().zip(b) {
        assert_eq!(sa, sb, "{what}");
        assert!((la - lb).abs() < tol, "{what} at update {sa}: {la} vs {lb}");
    }
}

#[test]
fn two_ranks_end_where_one_process_ends_on_the_same_global_batch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 6 updates of 4 sequences × 2 accumulation steps × 32 tokens
    let config = setup(tmp.path(), 6 * 4 * 2 * 32);
    let (single, dp, flat, resumed) = (
        tmp.path().join("single"),
        tmp.path().join("dp"),
        tmp.path().join("flat"),
        tmp.path().join("resumed"),
    );

    let one = succeeded(
        &finish(phf(&train_args(&config, &single, &[]), None), Duration::from_secs(300)),
        "single process",
    );
    assert_eq!(one["steps"], 6);
    assert_eq!(one["world_size"], 1);

    let [rank0, rank1] = two_ranks(&train_args(&config, &dp, &[]));
    assert_eq!((rank0["rank"].as_u64(), rank1["rank"].as_u64()), (Some(0), Some(1)));
    assert_eq!(rank0["world_size"], 2);
    assert_eq!(
        rank0["tokens_seen"], one["tokens_seen"],
        "the batch is global: same tokens per update"
    );
    let digest = rank0["parameters_sha256"]
        .as_str()
        .expect("a data-parallel run reports its digest");
    assert_eq!(
        rank1["parameters_sha256"].as_str(),
        Some(digest),
        "every rank holds the same parameters"
    );

    let diff = max_abs_diff(&weights(&single), &weights(&dp));
    eprintln!("2 ranks vs 1 process after 6 updates: max |Δθ| = {diff:e}");
    assert!(diff < 1e-5, "2 ranks vs 1 process: parameters differ by {diff}");
    assert_close(&losses(&single, "loss"), &losses(&dp, "loss"), 1e-5, "training loss");
    assert_close(
        &losses(&single, "val_loss"),
        &losses(&dp, "val_loss"),
        1e-5,
        "validation loss",
    );

    // the flat post-backward all-reduce (PHF_DIST_OVERLAP=0) ends where the overlapped one (the default) ends
    let [flat0, _] = two_ranks_with(&train_args(&config, &flat, &[]), &[("PHF_DIST_OVERLAP", "0")]);
    let flat_diff = max_abs_diff(&weights(&flat), &weights(&dp));
    eprintln!(
        "overlapped vs flat all-reduce after 6 updates: max |Δθ| = {flat_diff:e}, digests {} / {digest}",
        flat0["parameters_sha256"]
    );
    assert!(
        flat_diff < 1e-6,
        "overlapped vs flat all-reduce: parameters differ by {flat_diff}"
    );
    assert_close(
        &losses(&flat, "loss"),
        &losses(&dp, "loss"),
        1e-6,
        "training loss, flat vs overlapped",
    );

    // stopped after 3 updates, then resumed at the same world size: ends where the uninterrupted run ended
    two_ranks(&train_args(&config, &resumed, &["--set", "training.max_steps=3"]));
    let [again, _] = two_ranks(&train_args(
        &config,
        &resumed,
        &["--resume", "--set", "training.max_steps=0"],
    ));
    assert_eq!(again["steps"], 6);
    assert_eq!(
        again["parameters_sha256"].as_str(),
        Some(digest),
        "resume continues exactly"
    );

    // the data-parallel checkpoint is an ordinary one: it samples on one process
    let sample = finish(
        phf(
            &["sample", "--model", s(&dp), "-n", "2", "--max-new-tokens", "16"],
            None,
        ),
        Duration::from_secs(120),
    );
    assert!(sample.status.success(), "{}", String::from_utf8_lossy(&sample.stderr));
    assert!(String::from_utf8_lossy(&sample.stdout).contains("--- sample 2 ---"));
}

#[test]
fn awr_value_head_is_reduced_during_the_backward_pass_like_after_it() {
    // AWR adds the value head, whose only gradient comes from the value loss: the overlapped all-reduce must
    // reduce it every update (every trainable parameter must get a gradient) and end where the flat one ends
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = setup(tmp.path(), 3 * 4 * 2 * 32);
    let (overlapped, flat) = (tmp.path().join("overlapped"), tmp.path().join("flat"));
    let awr = [
        "--set",
        "objective.name=awr",
        "--set",
        "objective.alpha=0.5",
        "--set",
        "objective.beta=10",
    ];
    let [rank0, rank1] = two_ranks(&train_args(&config, &overlapped, &awr));
    assert_eq!(rank0["parameters_sha256"], rank1["parameters_sha256"]);
    two_ranks_with(&train_args(&config, &flat, &awr), &[("PHF_DIST_OVERLAP", "0")]);
    let (a, b) = (weights(&overlapped), weights(&flat));
    assert!(
        a.keys().any(|k| k.contains("value_head")),
        "AWR trains a value head: {:?}",
        a.keys()
    );
    let diff = max_abs_diff(&a, &b);
    eprintln!("AWR, overlapped vs flat all-reduce after 3 updates: max |Δθ| = {diff:e}");
    assert!(diff < 1e-6, "AWR, overlapped vs flat: parameters differ by {diff}");
}

#[test]
fn a_rank_that_dies_stops_the_others_with_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = setup(tmp.path(), 1 << 30); // far more updates than the test lets run
    let run_dir = tmp.path().join("run");
    let args = train_args(&config, &run_dir, &[]);
    let port = free_port();
    let rank0 = phf(&args, Some((0, 2, port)));
    let mut rank1 = phf(&args, Some((1, 2, port)));
    // once training is under way (rank 0 has logged two updates), rank 1 dies
    let start = Instant::now();
    let logged = || std::fs::read_to_string(run_dir.join("log.jsonl")).map_or(0, |l| l.lines().count());
    while logged() < 2 && start.elapsed() < Duration::from_secs(240) {
        std::thread::sleep(Duration::from_millis(100));
    }
    rank1.kill().expect("kill rank 1");
    let _ = rank1.wait();
    let out = finish(rank0, Duration::from_secs(120));
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("rank 0, after rank 1 was killed:\n{err}");
    assert!(!out.status.success(), "rank 0 should fail when rank 1 dies:\n{err}");
    assert!(err.contains("failed on rank 0 of 2"), "{err}");
    assert!(err.contains("another rank has probably stopped"), "{err}");
}

#[test]
fn a_batch_that_does_not_split_over_the_ranks_is_refused_before_joining() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = setup(tmp.path(), 1024);
    let run_dir = tmp.path().join("run");
    // rank 0 of 3 with nobody else started: the error must come at once, not after waiting for the others
    let out = finish(
        phf(&train_args(&config, &run_dir, &[]), Some((0, 3, free_port()))),
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("training.batch_size = 4") && err.contains("WORLD_SIZE = 3") && err.contains("batch_size=6"),
        "{err}"
    );
}
