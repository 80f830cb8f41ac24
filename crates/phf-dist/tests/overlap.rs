//! The gradient all-reduce that overlaps the backward pass (c10d::Reducer through the shim) against what it must
//! equal: on two real ranks over loopback Gloo, with gradient accumulation and buckets small enough that several
//! all-reduces run during one backward pass, every rank's parameters after K SGD updates are those of one
//! process that averages the two ranks' accumulated gradients itself, and those of the flat post-backward path.
//! Also: a parameter without a gradient is a clear error, or allowed with find_unused_parameters.
//!
//! Each multi-process test re-runs this binary as its ranks (see collectives.rs).

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use phf_dist::{DataParallel, GradientSync, ReducerOptions, SyncMode};
use tch::{Device, Kind, Tensor};

const WORKER: &str = "PHF_DIST_TEST_WORKER";
const STEPS: usize = 3;
const ACCUM: usize = 2;
const LR: f64 = 0.1;

fn is_worker() -> bool {
    std::env::var(WORKER).is_ok()
}

fn run_two_ranks(test: &str) -> [Output; 2] {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port");
    let spawn = |rank: usize| -> Child {
        Command::new(std::env::current_exe().expect("test binary path"))
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(WORKER, "1")
            .env("RANK", rank.to_string())
            .env("LOCAL_RANK", rank.to_string())
            .env("WORLD_SIZE", "2")
            .env("MASTER_ADDR", "127.0.0.1")
            .env("MASTER_PORT", port.to_string())
            .env(phf_dist::TIMEOUT_ENV, "60")
            .env("OMP_NUM_THREADS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn a rank")
    };
    [spawn(0), spawn(1)].map(|mut child| {
        // a guard against hangs, not a timing assertion
        let start = Instant::now();
        while child.try_wait().expect("poll rank").is_none() {
            if start.elapsed() > Duration::from_secs(300) {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().expect("collect rank")
    })
}

fn assert_success(outs: &[Output; 2]) {
    for (r, out) in outs.iter().enumerate() {
        assert!(
            out.status.success(),
            "rank {r} failed: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A 3-layer MLP, named; the same on every rank (fixed seed). `extra` adds a parameter the loss may leave out.
fn model(extra: bool) -> Vec<(String, Tensor)> {
    tch::manual_seed(7);
    let opts = (Kind::Float, Device::Cpu);
    let mut shapes = vec![
        ("l1.w", vec![64, 48]),
        ("l1.b", vec![48]),
        ("l2.w", vec![48, 32]),
        ("l2.b", vec![32]),
    ];
    shapes.push(("l3.w", vec![32, 1]));
    if extra {
        shapes.push(("side.w", vec![64, 1]));
    }
    shapes
        .into_iter()
        .map(|(n, s)| (n.to_string(), (Tensor::randn(s, opts) * 0.2).set_requires_grad(true)))
        .collect()
}

fn param<'a>(params: &'a [(String, Tensor)], name: &str) -> &'a Tensor {
    &params.iter().find(|(n, _)| n == name).expect("parameter").1
}

/// Micro-batch `micro` of update `step` on rank `rank`: inputs (8, 64) and targets (8, 1).
fn batch(rank: usize, step: usize, micro: usize) -> (Tensor, Tensor) {
    tch::manual_seed(1000 + (rank * 100 + step * 10 + micro) as i64);
    let opts = (Kind::Float, Device::Cpu);
    (Tensor::randn([8, 64], opts), Tensor::randn([8, 1], opts))
}

/// Mean squared error of the MLP; `side` adds the extra parameter's term.
fn loss(params: &[(String, Tensor)], x: &Tensor, y: &Tensor, side: bool) -> Tensor {
    let h = (x.matmul(param(params, "l1.w")) + param(params, "l1.b")).tanh();
    let h = (h.matmul(param(params, "l2.w")) + param(params, "l2.b")).tanh();
    let mut out = h.matmul(param(params, "l3.w"));
    if side {
        out += x.matmul(param(params, "side.w"));
    }
    (out - y).square().mean(Kind::Float)
}

fn sgd(params: &[(String, Tensor)]) {
    tch::no_grad(|| {
        for (_, p) in params {
            let mut p = p.shallow_clone();
            let g = p.grad();
            if g.defined() {
                let _ = p.f_sub_(&(g * LR)).unwrap();
            }
        }
    });
}

fn zero_grad(params: &[(String, Tensor)]) {
    for (_, p) in params {
        let mut g = p.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
}

/// This rank's K updates through `mode`; `side(rank)` says whether the extra parameter is in the rank's loss.
fn train_rank(dp: &DataParallel, mode: SyncMode, extra: bool, side: impl Fn(usize) -> bool) -> Vec<(String, Tensor)> {
    let params = model(extra);
    let mut sync = GradientSync::new(dp, &params, mode).expect("gradient sync");
    assert_eq!(sync.overlapped(), matches!(mode, SyncMode::Overlap(_)));
    for step in 0..STEPS {
        zero_grad(&params);
        for micro in 0..ACCUM {
            let last = micro + 1 == ACCUM;
            sync.before_forward(last).expect("before forward");
            let (x, y) = batch(dp.rank(), step, micro);
            let l = loss(&params, &x, &y, side(dp.rank())) / ACCUM as f64;
            sync.backward(&l, last).expect("backward");
        }
        let grads: Vec<Tensor> = params.iter().map(|(_, p)| p.grad()).filter(|g| g.defined()).collect();
        sync.average_after_backward(dp, &grads).expect("flat all-reduce");
        sgd(&params);
    }
    params
}

/// The same K updates in one process that computes both ranks' accumulated gradients and averages them.
fn train_combined(extra: bool, side: impl Fn(usize) -> bool) -> Vec<(String, Tensor)> {
    let params = model(extra);
    for step in 0..STEPS {
        let mut sums: Vec<Tensor> = params.iter().map(|(_, p)| p.zeros_like()).collect();
        for rank in 0..2 {
            zero_grad(&params);
            for micro in 0..ACCUM {
                let (x, y) = batch(rank, step, micro);
                (loss(&params, &x, &y, side(rank)) / ACCUM as f64).backward();
            }
            for (s, (_, p)) in sums.iter_mut().zip(&params) {
                let g = p.grad();
                if g.defined() {
                    *s += g;
                }
            }
        }
        tch::no_grad(|| {
            for (s, (_, p)) in sums.iter().zip(&params) {
                let _ = p.shallow_clone().f_sub_(&(s / 2.0 * LR)).unwrap();
            }
        });
    }
    params
}

fn max_abs_diff(a: &[(String, Tensor)], b: &[(String, Tensor)]) -> f64 {
    a.iter()
        .zip(b)
        .map(|((na, ta), (nb, tb))| {
            assert_eq!(na, nb);
            (ta - tb).abs().max().double_value(&[])
        })
        .fold(0.0, f64::max)
}

/// Buckets of 2 KB (the first 1 KB): the 12 KB first layer is a bucket alone and the rest spread over several.
fn small_buckets(find_unused_parameters: bool) -> SyncMode {
    SyncMode::Overlap(ReducerOptions {
        bucket_bytes: 2048,
        first_bucket_bytes: 1024,
        find_unused_parameters,
    })
}

#[test]
fn overlapped_all_reduce_matches_one_process_and_the_flat_path() {
    if !is_worker() {
        assert_success(&run_two_ranks(
            "overlapped_all_reduce_matches_one_process_and_the_flat_path",
        ));
        return;
    }
    let dp = DataParallel::from_env().expect("join");
    let overlapped = train_rank(&dp, small_buckets(false), false, |_| false);
    let flat = train_rank(&dp, SyncMode::Flat, false, |_| false);
    let combined = train_combined(false, |_| false);
    let start = model(false);
    assert!(
        max_abs_diff(&overlapped, &start) > 1e-3,
        "the updates must move the parameters"
    );
    let vs_combined = max_abs_diff(&overlapped, &combined);
    let vs_flat = max_abs_diff(&overlapped, &flat);
    eprintln!(
        "rank {}: overlapped vs one process {vs_combined:e}, vs flat {vs_flat:e}",
        dp.rank()
    );
    assert!(
        vs_combined < 1e-6,
        "overlapped vs one process over both ranks' batches: {vs_combined}"
    );
    assert!(vs_flat < 1e-6, "overlapped vs flat all-reduce: {vs_flat}");
    // and every rank holds the same parameters
    let flat_params: Vec<Tensor> = overlapped.iter().map(|(_, p)| p.detach().reshape([-1])).collect();
    let mine = Tensor::cat(&flat_params, 0);
    let theirs = mine.copy();
    dp.broadcast_from_main(std::slice::from_ref(&theirs), "rank 0's parameters")
        .unwrap();
    assert_eq!((&mine - &theirs).abs().max().double_value(&[]), 0.0);
}

#[test]
fn a_parameter_without_gradient_is_an_error_unless_unused_parameters_are_searched() {
    if !is_worker() {
        assert_success(&run_two_ranks(
            "a_parameter_without_gradient_is_an_error_unless_unused_parameters_are_searched",
        ));
        return;
    }
    let dp = DataParallel::from_env().expect("join");
    // find_unused_parameters: the side parameter is in rank 0's loss only, so its gradient is rank 0's over 2
    let searched = train_rank(&dp, small_buckets(true), true, |rank| rank == 0);
    let combined = train_combined(true, |rank| rank == 0);
    let diff = max_abs_diff(&searched, &combined);
    assert!(diff < 1e-6, "find_unused_parameters vs one process: {diff}");

    // without it, a parameter no rank uses leaves its bucket unreduced: an error that says what to do
    let params = model(true);
    let mut sync = GradientSync::new(&dp, &params, small_buckets(false)).unwrap();
    sync.before_forward(true).unwrap();
    let (x, y) = batch(dp.rank(), 0, 0);
    let err = sync
        .backward(&loss(&params, &x, &y, false), true)
        .expect_err("side.w gets no gradient");
    let msg = err.to_string();
    eprintln!("rank {} saw: {msg}", dp.rank());
    assert!(
        msg.contains("without a gradient in this update: side.w;") && msg.contains(phf_dist::FIND_UNUSED_ENV),
        "{msg}"
    );
}
