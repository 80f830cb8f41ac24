//! Two real processes on loopback: c10d's Gloo collectives through the shim, and the failures that must be errors
//! rather than hangs (no rank 0, a missing rank, a rank that dies, a rank that stops answering).
//!
//! Each multi-process test re-runs this test binary as its ranks: the parent spawns `<this exe> <test name>` with
//! the torchrun variables and PHF_DIST_TEST_WORKER set, and the same test function then plays its rank.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use phf_dist::{Backend, DataParallel, DistError, Launch, ProcessGroup, ReduceOp};
use tch::{Kind, Tensor};

const WORKER: &str = "PHF_DIST_TEST_WORKER";

fn is_worker() -> bool {
    std::env::var(WORKER).is_ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn spawn_rank(test: &str, rank: usize, world: usize, port: u16, timeout_s: f64) -> Child {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(WORKER, "1")
        .env("RANK", rank.to_string())
        .env("LOCAL_RANK", rank.to_string())
        .env("WORLD_SIZE", world.to_string())
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env(phf_dist::TIMEOUT_ENV, timeout_s.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn a rank")
}

/// Waits for a rank; a rank still running after `limit` is killed and reported as hung (a guard against hangs,
/// not a timing assertion: the ranks' own timeouts are a few seconds).
fn finish(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("poll rank").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect rank");
            panic!(
                "a rank hung for {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("collect rank")
}

fn assert_success(out: &Output, who: &str) {
    assert!(
        out.status.success(),
        "{who} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_two_ranks(test: &str, timeout_s: f64) -> [Output; 2] {
    let port = free_port();
    let ranks = [0, 1].map(|r| spawn_rank(test, r, 2, port, timeout_s));
    ranks.map(|c| finish(c, Duration::from_secs(120)))
}

fn group_from_env() -> ProcessGroup {
    let launch = Launch::from_env()
        .expect("torchrun variables")
        .expect("WORLD_SIZE is set");
    ProcessGroup::join(&launch, Backend::Gloo).expect("join the group")
}

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).reshape([-1])).expect("f32 values")
}

#[test]
fn collectives_agree_across_two_ranks() {
    if !is_worker() {
        for (r, out) in run_two_ranks("collectives_agree_across_two_ranks", 30.0)
            .iter()
            .enumerate()
        {
            assert_success(out, &format!("rank {r}"));
        }
        return;
    }
    let mut group = group_from_env();
    let r = group.rank() as f64;
    // rank r holds a = (r+1)·[1..12] (3×4) and b = 10r + [0..5]; tiny buckets force several c10d calls
    group.set_bucket_bytes(24);
    let a = (Tensor::arange(12, (Kind::Float, tch::Device::Cpu)) + 1.0).view([3, 4]) * (r + 1.0);
    let b = Tensor::arange(5, (Kind::Float, tch::Device::Cpu)) + 10.0 * r;
    group
        .all_reduce(&[a.shallow_clone(), b.shallow_clone()], ReduceOp::Mean, "mean")
        .unwrap();
    let want_a: Vec<f32> = (1..=12).map(|i| i as f32 * 1.5).collect(); // mean of ×1 and ×2
    let want_b: Vec<f32> = (0..5).map(|i| i as f32 + 5.0).collect(); // mean of +0 and +10
    assert_eq!(values(&a), want_a);
    assert_eq!(values(&b), want_b);

    for (op, want) in [(ReduceOp::Sum, 1.0), (ReduceOp::Min, 0.0), (ReduceOp::Max, 1.0)] {
        let x = Tensor::from_slice(&[r as f32]);
        group.all_reduce(std::slice::from_ref(&x), op, "scalar").unwrap();
        assert_eq!(values(&x), vec![want], "{op:?}");
    }

    let c = Tensor::full([4], r + 7.0, (Kind::Double, tch::Device::Cpu));
    group.broadcast(std::slice::from_ref(&c), 0, "broadcast").unwrap();
    assert_eq!(values(&c), vec![7.0; 4]);
}

#[test]
fn data_parallel_sums_and_extremes_over_two_ranks() {
    if !is_worker() {
        for (r, out) in run_two_ranks("data_parallel_sums_and_extremes_over_two_ranks", 30.0)
            .iter()
            .enumerate()
        {
            assert_success(out, &format!("rank {r}"));
        }
        return;
    }
    let dp = DataParallel::from_env().unwrap();
    let r = dp.rank() as f64;
    assert_eq!((dp.world_size(), dp.is_main()), (2, r == 0.0));
    assert_eq!(dp.sum(&[r, 1.0], "sum").unwrap(), vec![1.0, 2.0]);
    assert_eq!(dp.min_max(r * 3.0, "min_max").unwrap(), (0.0, 3.0));
    // parameters that require grad can be overwritten by a broadcast (what the trainer does at the start)
    let w = (Tensor::ones([3], (Kind::Float, tch::Device::Cpu)) * r).set_requires_grad(true);
    dp.broadcast_from_main(std::slice::from_ref(&w), "broadcast").unwrap();
    assert_eq!(values(&w.detach()), vec![0.0; 3]);
}

#[test]
fn joining_without_rank_0_is_an_error() {
    let launch = Launch {
        rank: 1,
        world_size: 2,
        local_rank: 1,
        local_world_size: Some(2),
        master_addr: "127.0.0.1".into(),
        master_port: free_port(), // nobody listens there
        timeout: Duration::from_secs(2),
    };
    let err = ProcessGroup::join(&launch, Backend::Gloo)
        .err()
        .expect("no rank 0 to join");
    let msg = err.to_string();
    assert!(matches!(err, DistError::Join { .. }), "{msg}");
    assert!(
        msg.contains("rank 1 of 2 could not join") && msg.contains("PHF_DIST_TIMEOUT_S"),
        "{msg}"
    );
}

#[test]
fn rank_0_waiting_for_a_missing_rank_is_an_error() {
    let launch = Launch {
        rank: 0,
        world_size: 2,
        local_rank: 0,
        local_world_size: Some(2),
        master_addr: "127.0.0.1".into(),
        master_port: free_port(),
        timeout: Duration::from_secs(2),
    };
    let msg = ProcessGroup::join(&launch, Backend::Gloo)
        .err()
        .expect("rank 1 never comes")
        .to_string();
    assert!(msg.contains("rank 0 of 2 could not join"), "{msg}");
}

#[test]
fn a_rank_that_dies_fails_the_others_next_collective() {
    if !is_worker() {
        let [rank0, rank1] = run_two_ranks("a_rank_that_dies_fails_the_others_next_collective", 30.0);
        assert_success(&rank0, "rank 0");
        assert_eq!(rank1.status.code(), Some(3), "rank 1 should have died with status 3");
        return;
    }
    let group = group_from_env();
    let x = Tensor::from_slice(&[1.0f32]);
    group
        .all_reduce(std::slice::from_ref(&x), ReduceOp::Sum, "first all-reduce")
        .unwrap();
    if group.rank() == 1 {
        std::process::exit(3); // dies abruptly, sockets closed by the kernel
    }
    let err = group
        .all_reduce(std::slice::from_ref(&x), ReduceOp::Sum, "all-reduce of gradients")
        .expect_err("rank 1 is gone");
    let msg = err.to_string();
    eprintln!("rank 0 saw: {msg}");
    assert!(msg.contains("all-reduce of gradients failed on rank 0 of 2"), "{msg}");
}

#[test]
fn a_rank_that_stops_answering_times_out() {
    if !is_worker() {
        let [rank0, rank1] = run_two_ranks("a_rank_that_stops_answering_times_out", 2.0);
        assert_success(&rank0, "rank 0");
        assert_success(&rank1, "rank 1");
        return;
    }
    let group = group_from_env();
    let x = Tensor::from_slice(&[1.0f32]);
    group
        .all_reduce(std::slice::from_ref(&x), ReduceOp::Sum, "first all-reduce")
        .unwrap();
    if group.rank() == 1 {
        // alive but silent for longer than the 2 s timeout; then leaves without another collective
        std::thread::sleep(Duration::from_secs(8));
        std::process::exit(0);
    }
    let msg = group
        .all_reduce(std::slice::from_ref(&x), ReduceOp::Sum, "all-reduce of gradients")
        .expect_err("rank 1 does not answer")
        .to_string();
    eprintln!("rank 0 saw: {msg}");
    assert!(msg.contains("failed on rank 0 of 2"), "{msg}");
}
