//! `phf bench overlap`: how much of the gradient all-reduce the overlapped path (c10d::Reducer, during the
//! backward pass) hides, against the flat all-reduce after the backward pass and against no all-reduce at all,
//! on real training updates (forward, backward and the reduction; no optimizer step) of a preset model.
//!
//! The three kinds of update take turns in every round, so a machine whose load drifts slows them alike. Per kind
//! the median over the rounds of: the forward pass, the backward pass (for the overlapped kind it includes the
//! wait for the last buckets) and the all-reduce after it (flat kind). The exposed communication is what the
//! backward pass and the all-reduce after it cost beyond the backward pass without all-reduce of the same round
//! (median over rounds); the hidden share is 1 - exposed(overlap) / exposed(flat).
//! Each round also checks that the flat and the overlapped update averaged the same gradients (same dropout
//! masks). Without torchrun's variables it runs as a group of one process (the collectives' code path, e.g.
//! NCCL on a machine with one GPU).

use std::time::Instant;

use super::bench::{mle_loss, preset, BenchRank};
use anyhow::{bail, Result};
use clap::Args;
use phf_dist::{DataParallel, GradientSync, ReducerOptions, SyncMode};
use phf_lm::{DeviceSpec, Gpt};
use tch::{Kind, Tensor};

#[derive(Args)]
pub struct OverlapArgs {
    /// Model preset: tiny, small or gpt2.
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// Sequences per rank in one forward pass.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Timed rounds (one update of each kind per round), after the warm-up.
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Untimed rounds first, while allocators, caches and the Reducer's buckets settle
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// `cpu`, `cuda` or `cuda:N` (GPU N)
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind3 {
    NoAllReduce,
    Flat,
    Overlap,
}

const KINDS: [(Kind3, &str); 3] = [
    (Kind3::NoAllReduce, "no_all_reduce"),
    (Kind3::Flat, "flat"),
    (Kind3::Overlap, "overlap"),
];

pub fn overlap(a: &OverlapArgs) -> Result<()> {
    let BenchRank {
        launch,
        spec,
        device,
        backend,
    } = BenchRank::from_env(a.device)?;
    let dp = DataParallel::join_group(&launch, backend)?; // a group even of one: the collectives' code path
    if let Some(threads) = dp
        .cpu_threads()
        .filter(|_| std::env::var_os("OMP_NUM_THREADS").is_none())
    {
        tch::set_num_threads(threads as i32);
    }
    let config = preset(&a.preset)?;
    tch::manual_seed(0);
    let model = Gpt::new(config.clone(), device);
    let mut params: Vec<(String, Tensor)> = model
        .vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    params.sort_by(|a, b| a.0.cmp(&b.0)); // the flat all-reduce needs the same order on every rank
    let mut sync = GradientSync::new(&dp, &params, SyncMode::Overlap(ReducerOptions::default()))?;
    if !sync.overlapped() {
        bail!("the overlapped all-reduce is unavailable here: {}", sync.describe());
    }
    let grads = || -> Vec<Tensor> { params.iter().map(|(_, p)| p.grad()).filter(Tensor::defined).collect() };
    let tokens = Tensor::randint(
        config.vocab_size as i64,
        [a.batch_size as i64, config.n_ctx as i64],
        (Kind::Int64, device),
    );
    let scores = Tensor::zeros_like(&tokens).to_kind(Kind::Float);
    let sync_device = || {
        if let tch::Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64);
        }
    };
    // [kind][round] = (forward, backward, all-reduce after backward) seconds
    let mut times: Vec<Vec<[f64; 3]>> = vec![Vec::new(); KINDS.len()];
    let (mut flat_grads, mut max_grad_diff) = (None::<Tensor>, 0f64);
    for round in 0..a.warmup + a.rounds {
        for (k, (kind, _)) in KINDS.iter().enumerate() {
            for mut g in grads() {
                let _ = g.zero_();
            }
            tch::manual_seed(round as i64); // the same dropout masks for the three kinds of a round
            let t0 = Instant::now();
            sync.before_forward(*kind == Kind3::Overlap)?;
            let loss = mle_loss(&model, &tokens, &scores);
            sync_device();
            let t1 = Instant::now();
            sync.backward(&loss, *kind == Kind3::Overlap)?;
            sync_device();
            let t2 = Instant::now();
            if *kind == Kind3::Flat {
                dp.average(&grads(), "all-reduce of gradients")?;
                sync_device();
            }
            let t3 = Instant::now();
            if *kind != Kind3::NoAllReduce {
                // the averaged gradients of the flat and the overlapped update of this round must agree
                let g = Tensor::cat(&grads().iter().map(|g| g.reshape([-1])).collect::<Vec<_>>(), 0);
                match kind {
                    Kind3::Flat => flat_grads = Some(g),
                    _ => {
                        let diff = flat_grads
                            .as_ref()
                            .map_or(f64::NAN, |f| (f - &g).abs().max().double_value(&[]));
                        max_grad_diff = max_grad_diff.max(diff);
                    }
                }
            }
            if round >= a.warmup {
                times[k].push([
                    (t1 - t0).as_secs_f64(),
                    (t2 - t1).as_secs_f64(),
                    (t3 - t2).as_secs_f64(),
                ]);
            }
        }
    }
    let median = |k: usize, part: usize| {
        let mut v: Vec<f64> = times[k].iter().map(|t| t[part]).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let update = |k: usize| {
        let mut v: Vec<f64> = times[k].iter().map(|t| t.iter().sum()).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let mut row = serde_json::json!({
        "impl": "phf", "bench": "overlap", "preset": a.preset, "device": spec.to_string(),
        "backend": backend.to_string(), "rank": dp.rank(), "world_size": dp.world_size(),
        "batch_size_per_rank": a.batch_size, "rounds": a.rounds, "threads": tch::get_num_threads(),
        "gradient_bytes": grads().iter().map(|g| g.numel() * 4).sum::<usize>(),
    });
    for (k, (_, name)) in KINDS.iter().enumerate() {
        row[*name] = serde_json::json!({
            "update_s": update(k), "forward_s": median(k, 0), "backward_s": median(k, 1),
            "all_reduce_after_backward_s": median(k, 2),
        });
    }
    // paired by round: what the backward pass and the all-reduce after it cost beyond the backward pass without
    // all-reduce of the same round (neighbours in time, so load changes cancel out)
    let exposed = |k: usize| {
        let mut v: Vec<f64> = (0..times[k].len())
            .map(|r| times[k][r][1] + times[k][r][2] - times[0][r][1])
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (exposed_flat, exposed_overlap) = (exposed(1), exposed(2));
    row["exposed_all_reduce_flat_s"] = exposed_flat.into();
    row["exposed_all_reduce_overlap_s"] = exposed_overlap.into();
    row["hidden_share"] = (1.0 - exposed_overlap / exposed_flat).into();
    row["speedup_overlap_vs_flat"] = (update(1) / update(2)).into();
    row["overlap_vs_flat_max_abs_grad_diff"] = max_grad_diff.into();
    println!("{row}");
    Ok(())
}
