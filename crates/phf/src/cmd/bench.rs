//! `phf bench train|sample|all-reduce|overlap`: throughput of the training step, of KV-cached sampling on random weights
//! and tokens, and of the data-parallel gradient all-reduce, printed as one JSON line. `make bench` runs these beside the same model in PyTorch
//! (scripts/bench/) and reports the ratios; timings are never asserted in tests.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use phf_dist::{Backend, Launch, ProcessGroup, ReduceOp};
use phf_lm::{generate, DeviceSpec, Gpt, GptConfig, SampleOptions};
use phf_train::optim::{AdamW, AdamWConfig, Implementation};
use phf_train::trainer::rank_device;
use phf_train::{Mle, Objective, ObjectiveInput};
use tch::{Kind, Tensor};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Training tokens/s: forward, backward, clipping and AdamW on full blocks.
    Train(BenchArgs),
    /// Sampling tokens/s: batched generation with a KV cache (temperature 0.7, top-p 0.9).
    Sample(BenchArgs),
    /// Seconds per all-reduce of a preset's gradients over the data-parallel group that torchrun's variables
    /// describe (a group of one process when they are unset): the communication cost of one update. The backend
    /// is NCCL on a GPU and Gloo otherwise (PHF_DIST_BACKEND overrides).
    AllReduce(AllReduceArgs),
    /// Training updates at several ranks with the gradient all-reduce overlapping the backward pass (c10d's
    /// Reducer), after it (flat) and without it: how much of the communication the overlap hides.
    Overlap(super::bench_overlap::OverlapArgs),
}

#[derive(Args)]
pub struct AllReduceArgs {
    /// Model preset whose parameter shapes give the gradients: tiny, small or gpt2.
    #[arg(long, default_value = "gpt2")]
    pub preset: String,
    /// Timed all-reduces (after the warm-up).
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    /// Untimed steps first, while allocators and caches warm up
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// `cpu`, `cuda` or `cuda:N` (GPU N)
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Model preset: tiny, small or gpt2.
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// Sequences per step (training) or generated together (sampling).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Timed training steps (after the warm-up).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Untimed steps first, while allocators and caches warm up
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// Tokens generated per sequence (sampling).
    #[arg(long, default_value_t = 128)]
    pub new_tokens: usize,
    /// `cpu`, `cuda` or `cuda:N` (GPU N)
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Sample from a trained model (a run or model directory) instead of random weights: a trained model's
    /// peaked distributions are what nucleus sampling meets in practice.
    #[arg(long)]
    pub model: Option<std::path::PathBuf>,
    /// How AdamW and clipping run (training): `auto` is what `phf train` does (fused kernels on CUDA, the
    /// for-loop on CPU).
    #[arg(long, value_enum, default_value_t = OptimizerArg::Auto)]
    pub optimizer: OptimizerArg,
    /// Peak dense TFLOP/s of the device, for the reported MFU (training). Default: 989 on CUDA (H100/H200 SXM,
    /// bf16), none on CPU.
    #[arg(long)]
    pub peak_tflops: Option<f64>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OptimizerArg {
    Auto,
    ForLoop,
    Fused,
}

pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Train(a) => train(&a),
        BenchCommand::Sample(a) => sample(&a),
        BenchCommand::AllReduce(a) => all_reduce(&a),
        BenchCommand::Overlap(a) => super::bench_overlap::overlap(&a),
    }
}

fn model(a: &BenchArgs) -> Result<Gpt> {
    if let Some(dir) = &a.model {
        return Ok(Gpt::load(&super::model::resolve_model_dir(dir)?, a.device.resolve()?)?);
    }
    let Some(config) = GptConfig::preset(&a.preset) else {
        bail!(
            "unknown preset `{}`; choose one of {:?}",
            a.preset,
            phf_lm::config::PRESETS
        )
    };
    tch::manual_seed(0);
    Ok(Gpt::new(config, a.device.resolve()?))
}

fn train(a: &BenchArgs) -> Result<()> {
    let model = model(a)?;
    if model.device().is_cuda() {
        // as in `phf train`: fp32 matmuls outside bf16 may use TF32
        phf_dist::set_float32_matmul_precision(phf_dist::MatmulPrecision::High)?;
    }
    let c = &model.config;
    let (b, t) = (a.batch_size as i64, c.n_ctx as i64);
    let tokens = Tensor::randint(c.vocab_size as i64, [b, t], (Kind::Int64, model.device()));
    let scores = Tensor::zeros([b, t], (Kind::Float, model.device()));
    let mut opt = AdamW::new(model.vs.variables(), AdamWConfig::default());
    opt = match a.optimizer {
        OptimizerArg::Auto => opt,
        OptimizerArg::ForLoop => opt.with_implementation(Implementation::ForLoop),
        OptimizerArg::Fused => opt.with_implementation(Implementation::Fused),
    };
    let optimizer = opt.implementation().to_string();
    let mut step = || {
        opt.zero_grad()?;
        let loss = mle_loss(&model, &tokens, &scores);
        loss.backward();
        let _norm = opt.update(5e-4, 1.0)?; // not read back, as the PyTorch side does not
        Ok::<_, phf_dist::DistError>(loss)
    };
    for _ in 0..a.warmup {
        let _ = step()?;
    }
    synchronize(&model);
    let start = Instant::now();
    let mut loss = Tensor::from(0.0);
    for _ in 0..a.steps {
        loss = step()?;
    }
    let _ = loss.double_value(&[]);
    synchronize(&model);
    let seconds = start.elapsed().as_secs_f64();
    let tokens_per_s = (a.steps as i64 * b * t) as f64 / seconds;
    let mut row = report(
        "train",
        a,
        &model,
        tokens_per_s,
        seconds,
        Some(tokens_per_s * c.flops_per_token()),
    );
    row["optimizer"] = optimizer.into();
    println!("{row}");
    Ok(())
}

fn sample(a: &BenchArgs) -> Result<()> {
    let model = model(a)?;
    let opts = SampleOptions {
        num_samples: a.batch_size,
        batch_size: a.batch_size,
        max_new_tokens: a.new_tokens,
        // Generate exactly new_tokens per sequence, as the PyTorch side does (no early EOS).
        min_new_tokens: a.new_tokens,
        ..SampleOptions::default()
    };
    let warm = SampleOptions {
        max_new_tokens: 8,
        min_new_tokens: 8,
        ..opts.clone()
    };
    generate(&model, &[0], 0, &warm, |_| {});
    let start = Instant::now();
    let samples = generate(&model, &[0], 0, &opts, |_| {});
    synchronize(&model);
    let seconds = start.elapsed().as_secs_f64();
    let generated: usize = samples.iter().map(Vec::len).sum();
    println!(
        "{}",
        report("sample", a, &model, generated as f64 / seconds, seconds, None)
    );
    Ok(())
}

/// One rank of a communication benchmark: from the torchrun variables, or a world of one on a free local port.
pub(super) struct BenchRank {
    pub launch: Launch,
    /// This rank's device (`cuda:LOCAL_RANK` when `cuda` was asked for).
    pub spec: DeviceSpec,
    pub device: tch::Device,
    pub backend: Backend,
}

impl BenchRank {
    pub fn from_env(device: DeviceSpec) -> Result<BenchRank> {
        let launch = match Launch::from_env()? {
            Some(launch) => launch,
            None => Launch {
                rank: 0,
                world_size: 1,
                local_rank: 0,
                local_world_size: Some(1),
                master_addr: "127.0.0.1".into(),
                master_port: std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port(),
                timeout: std::time::Duration::from_secs_f64(phf_dist::DEFAULT_TIMEOUT_S),
            },
        };
        let spec = rank_device(device, launch.local_rank);
        let gpu = match spec {
            DeviceSpec::Cuda(index) => Some(index),
            DeviceSpec::Cpu => None,
        };
        Ok(BenchRank {
            device: spec.resolve()?,
            backend: Backend::from_env(gpu)?,
            launch,
            spec,
        })
    }
}

/// The MLE loss of a training forward pass over `tokens`: what the training benchmarks time.
pub(super) fn mle_loss(model: &Gpt, tokens: &Tensor, scores: &Tensor) -> Tensor {
    let out = model.forward(tokens, true);
    let input = ObjectiveInput {
        logits: &out.logits,
        tokens,
        token_scores: scores,
        values: None,
    };
    Mle.loss(&input).loss
}

/// A model preset by name, or an error listing them.
pub(super) fn preset(name: &str) -> Result<GptConfig> {
    match GptConfig::preset(name) {
        Some(config) => Ok(config),
        None => bail!("unknown preset `{name}`; choose one of {:?}", phf_lm::config::PRESETS),
    }
}

fn all_reduce(a: &AllReduceArgs) -> Result<()> {
    let BenchRank {
        launch,
        spec,
        device,
        backend,
    } = BenchRank::from_env(a.device)?;
    let group = ProcessGroup::join(&launch, backend)?;
    let config = preset(&a.preset)?;
    tch::manual_seed(0);
    let model = Gpt::new(config, device);
    let grads: Vec<Tensor> = model.vs.trainable_variables().iter().map(Tensor::randn_like).collect();
    let bytes: i64 = grads.iter().map(|g| g.numel() as i64 * 4).sum();
    for _ in 0..a.warmup {
        group.all_reduce(&grads, ReduceOp::Mean, "warm-up all-reduce")?;
    }
    let start = Instant::now();
    for _ in 0..a.iters {
        group.all_reduce(&grads, ReduceOp::Mean, "all-reduce")?;
    }
    if let tch::Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
    let seconds = start.elapsed().as_secs_f64() / a.iters.max(1) as f64;
    let n = launch.world_size as f64;
    // bus bandwidth: what a ring all-reduce moves per rank, 2(n-1)/n of the buffer (nccl-tests' convention)
    let algbw = bytes as f64 / seconds;
    let row = serde_json::json!({
        "impl": "phf", "bench": "all-reduce", "preset": a.preset, "device": spec.to_string(),
        "backend": backend.to_string(), "rank": launch.rank, "world_size": launch.world_size, "bytes": bytes,
        "seconds_per_all_reduce": seconds, "algbw_gb_s": algbw / 1e9, "busbw_gb_s": algbw * 2.0 * (n - 1.0) / n / 1e9,
    });
    println!("{row}");
    Ok(())
}

fn synchronize(model: &Gpt) {
    if let tch::Device::Cuda(i) = model.device() {
        tch::Cuda::synchronize(i as i64);
    }
}

/// The JSON line to print. MFU = tokens/s × FLOPs per token (6N + 12·L·d·T) / peak FLOP/s.
fn report(
    kind: &str,
    a: &BenchArgs,
    model: &Gpt,
    tokens_per_s: f64,
    seconds: f64,
    flops: Option<f64>,
) -> serde_json::Value {
    let peak_tflops = a.peak_tflops.or(model
        .device()
        .is_cuda()
        .then_some(phf_train::trainer::DEFAULT_GPU_PEAK_TFLOPS));
    let mfu = flops.zip(peak_tflops).map(|(f, p)| f / (p * 1e12));
    serde_json::json!({
        "impl": "phf", "bench": kind, "preset": a.preset, "model": a.model.as_ref().map(|m| m.display().to_string()), "device": a.device.to_string(),
        "batch_size": a.batch_size, "tokens_per_s": tokens_per_s, "seconds": seconds,
        "params": model.config.num_params(), "flops_per_s": flops,
        "flops_per_token": model.config.flops_per_token(), "peak_tflops": peak_tflops, "mfu": mfu,
        "threads": tch::get_num_threads(), "peak_rss_mb": peak_rss_mb(),
    })
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
