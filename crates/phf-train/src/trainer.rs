//! The training loop: batches from the shuffled shard, the objective's loss, gradient accumulation to the
//! effective batch, clipping, AdamW on a linear schedule, validation loss, logs and checkpoints, and exact resume.
//!
//! Data-parallel (phf-dist): `training.batch_size` is the global batch; each of the `WORLD_SIZE` processes reads
//! its own `batch_size / WORLD_SIZE` rows of every step, gradients are averaged over the processes after the
//! backward passes and before clipping, so every replica takes the same AdamW step; rank 0 logs and checkpoints.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use phf_data::loader::SequentialBatches;
use phf_data::{Loader, Shard, Tokenizer};
use phf_dist::{DataParallel, GradientSync, MatmulPrecision, SyncMode};
use phf_lm::{device, DeviceSpec, Gpt};
use sha2::{Digest, Sha256};
use tch::{Device, Kind, Tensor};

use crate::checkpoint::{self, TrainState};
use crate::config::TrainConfig;
use crate::finetune::init_from;
use crate::light_eval::LightEval;
use crate::log::RunLog;
use crate::objective::{Mle, Objective, ObjectiveInput};
use crate::optim::{AdamW, LinearSchedule};
use crate::prefetch::Prefetcher;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Data(#[from] phf_data::DataError),
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error(transparent)]
    Device(#[from] phf_lm::device::DeviceError),
    #[error(transparent)]
    Dist(#[from] phf_dist::DistError),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// A data file named by the config that cannot be opened: the error says which key names it.
fn keyed<T>(key: &str, opened: Result<T, phf_data::DataError>) -> Result<T, TrainError> {
    opened.map_err(|e| TrainError::Invalid(format!("config key {key}: {e}")))
}

/// The training shard's header, copied into the run directory.
pub const DATA_HEADER_FILE: &str = "data_header.json";

/// How to run, beyond the config itself.
pub struct TrainOptions {
    pub run_dir: PathBuf,
    /// Continue from the run directory's latest checkpoint.
    pub resume: bool,
    /// Show a progress bar (on a terminal) or progress lines (elsewhere).
    pub progress: bool,
    /// This process's place in a data-parallel run (`DataParallel::from_env()` reads torchrun's variables), or
    /// `DataParallel::single()`.
    pub data_parallel: DataParallel,
    /// When the gradients are averaged over the ranks (`SyncMode::from_env()` reads PHF_DIST_OVERLAP); ignored by
    /// a single process.
    pub gradient_sync: SyncMode,
}

/// The peak assumed for MFU on a GPU when `training.peak_tflops` is unset: H100/H200 SXM, dense bf16.
pub const DEFAULT_GPU_PEAK_TFLOPS: f64 = 989.0;

/// What a finished (or time-boxed) run reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainSummary {
    pub steps: u64,
    pub total_steps: u64,
    pub tokens_seen: u64,
    pub last_train_loss: f64,
    pub val_loss: Option<f64>,
    /// Unigram entropy of the training tokens (nats): the loss of a model that ignores context.
    pub unigram_entropy: Option<f64>,
    pub elapsed_s: f64,
    /// All processes together.
    pub tokens_per_s: f64,
    /// Model FLOPs utilisation of this invocation: tokens/s × FLOPs per token / (peak × processes).
    pub mfu: Option<f64>,
    pub checkpoint: PathBuf,
    pub rank: usize,
    pub world_size: usize,
    /// SHA-256 of the final parameters (data-parallel runs): equal on every rank, which the run checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters_sha256: Option<String>,
}

/// Everything a run needs, set up once: model, optimizer, data and schedule.
struct Run {
    config: TrainConfig,
    config_toml: String,
    model: Gpt,
    optimizer: AdamW,
    objective: Box<dyn Objective>,
    loader: Prefetcher,
    train_shard: Arc<Shard>,
    valid: Option<Shard>,
    schedule: LinearSchedule,
    eos: u32,
    block_size: usize,
    unigram_entropy: Option<f64>,
    /// Tokens the initial checkpoint saw (finetuning regime), counted in `tokens_seen`.
    initial_tokens: u64,
    /// Samples scored at every validation (`[eval]`), when configured.
    light_eval: Option<LightEval>,
    /// TFLOP/s of one device, for MFU.
    peak_tflops: Option<f64>,
}

pub fn train(config: &TrainConfig, opts: &TrainOptions) -> Result<TrainSummary, TrainError> {
    let dp = &opts.data_parallel;
    let mut run = Run::new(config, dp)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TrainError::Io { path, source }
    };
    std::fs::create_dir_all(&opts.run_dir).map_err(io(&opts.run_dir))?;
    let existing = checkpoint::latest(&opts.run_dir)?;
    let mut state = match (&existing, opts.resume) {
        (Some(dir), true) => {
            let state = checkpoint::load(dir, &run.model, &mut run.optimizer)?;
            run.loader
                .loader_mut()
                .expect("no batch is read before resuming")
                .set_position(state.loader)?;
            state
        }
        (Some(dir), false) => {
            return Err(TrainError::Invalid(format!(
                "{} already holds a checkpoint ({}): pass --resume to continue it, or choose another --run-dir",
                opts.run_dir.display(),
                dir.display()
            )))
        }
        (None, true) => {
            return Err(TrainError::Invalid(format!(
                "--resume: {} has no checkpoint to resume from",
                opts.run_dir.display()
            )))
        }
        (None, false) => {
            let log = opts.run_dir.join(crate::log::LOG_FILE);
            if dp.is_main() && log.is_file() {
                eprintln!(
                    "phf train: {} holds a run that stopped before its first checkpoint: starting it again (its \
                     {} is replaced)",
                    opts.run_dir.display(),
                    crate::log::LOG_FILE
                );
            }
            TrainState {
                step: 0,
                tokens_seen: run.initial_tokens,
                loader: run.loader.position(),
                elapsed_s: 0.0,
            }
        }
    };
    // every replica starts from rank 0's parameters (the same seed gives the same ones; this makes sure)
    dp.broadcast_from_main(&run.model.vs.trainable_variables(), "broadcast of rank 0's parameters")?;
    // gradients averaged over the ranks during the backward pass (c10d::Reducer) unless PHF_DIST_OVERLAP=0
    let mut sync = GradientSync::new(dp, &trainable_named(&run.model), opts.gradient_sync)?;
    if dp.is_main() {
        let config_path = opts.run_dir.join(checkpoint::RUN_CONFIG_FILE);
        std::fs::write(&config_path, &run.config_toml).map_err(io(&config_path))?;
        // the data's provenance beside the config: tokenizer hash, counts and the resolved transform (threshold,
        // control tokens, drop rate) that `phf prepare` applied
        let header_path = opts.run_dir.join(DATA_HEADER_FILE);
        let header = serde_json::to_string_pretty(run.train_shard.header()).expect("shard header serialises");
        std::fs::write(&header_path, header).map_err(io(&header_path))?;
    }

    let total_steps = run.schedule.total_steps;
    let last_step = match run.config.training.max_steps {
        0 => total_steps,
        m => m.min(total_steps),
    };
    let mut log = match dp.is_main() {
        true => RunLog::open(&opts.run_dir, state.step, total_steps, opts.progress).map_err(io(&opts.run_dir))?,
        false => RunLog::silent(&opts.run_dir),
    };
    log.println(&format!(
        "phf train: {} ({:.2}M parameters, {}), objective {}, AdamW {}, {} updates of {} tokens, {}",
        run.config.model.preset,
        run.model.config.num_params() as f64 / 1e6,
        device::describe(run.model.device()),
        objective_label(&run.config.objective.name, run.objective.name()),
        run.optimizer.implementation(),
        total_steps,
        run.tokens_per_step(),
        if state.step > 0 {
            format!("resuming at update {}", state.step)
        } else {
            "from scratch".into()
        },
    ));
    if dp.world_size() > 1 {
        log.println(&format!(
            "data-parallel: {} processes ({}), {} of the batch's {} sequences each",
            dp.world_size(),
            dp.backend().map_or("no group".into(), |b| b.to_string()),
            run.config.training.batch_size / dp.world_size(),
            run.config.training.batch_size
        ));
        log.println(&format!("data-parallel: {}", sync.describe()));
    }
    if let Some(peak) = run.peak_tflops {
        log.println(&format!(
            "MFU = tokens/s × {:.3e} FLOPs/token (6N + 12·L·d·T) / ({peak} TFLOP/s × {} device(s)); set \
             training.peak_tflops for another device",
            run.model.config.flops_per_token(),
            dp.world_size()
        ));
    }

    let t = &run.config.training;
    let (log_every, eval_every, ckpt_every) = (t.log_every.max(1), t.eval_every, t.checkpoint_every);
    let keep = t.keep_checkpoints;
    let mut last_loss = f64::NAN;
    let mut val_loss = None;
    let mut window = (Instant::now(), 0u64);
    let session_start = Instant::now();
    let (elapsed_before, tokens_before) = (state.elapsed_s, state.tokens_seen);
    let mut last_ckpt = None;
    let (peak_tflops, flops_per_token) = (run.peak_tflops, run.model.config.flops_per_token());
    let mfu = |tok_s: f64| Some(tok_s * flops_per_token / (peak_tflops? * 1e12 * dp.world_size() as f64));
    while state.step < last_step {
        let row = run.update(state.step, dp, &mut sync)?;
        state.step += 1;
        state.tokens_seen += run.tokens_per_step();
        state.loader = run.loader.position();
        state.elapsed_s = elapsed_before + session_start.elapsed().as_secs_f64();
        window.1 += run.tokens_per_step();
        last_loss = row.loss;
        let done = state.step == last_step;
        if state.step % log_every == 0 || done {
            let tok_s = window.1 as f64 / window.0.elapsed().as_secs_f64().max(1e-9);
            window = (Instant::now(), 0);
            let mut json = row.to_json(state.step, state.tokens_seen, tok_s);
            json["elapsed_s"] = state.elapsed_s.into();
            let mut line = format!("loss {:.4}  lr {:.2e}  {:.0} tok/s", row.loss, row.lr, tok_s);
            if let Some(m) = mfu(tok_s) {
                json["mfu"] = m.into();
                line += &format!("  MFU {:.1}%", 100.0 * m);
            }
            log.write_row(&json).map_err(io(log.path()))?;
            log.progress(state.step, &line, true);
        } else {
            log.progress(state.step, "", false);
        }
        let evaluate = (run.valid.is_some() || run.light_eval.is_some())
            && ((eval_every > 0 && state.step % eval_every == 0) || done);
        if evaluate {
            let mut json = serde_json::json!({"step": state.step, "tokens": state.tokens_seen});
            let mut line = format!("update {}:", state.step);
            if run.valid.is_some() {
                let v = run.validation_loss(dp)?;
                val_loss = Some(v);
                json["val_loss"] = v.into();
                line += &format!(" validation loss {v:.4} (perplexity {:.1})", v.exp());
            }
            // rank 0 alone samples: other ranks do not log
            if let Some(light) = run.light_eval.as_ref().filter(|_| dp.is_main()) {
                let eval = light.run(&run.model)?;
                let score = eval["eval_score"].as_f64().unwrap_or(f64::NAN);
                line += &format!(" misalignment {score:.4} over {} samples", eval["eval_samples"]);
                json.as_object_mut()
                    .expect("row is an object")
                    .extend(eval.as_object().cloned().unwrap_or_default());
            }
            log.write_row(&json).map_err(io(log.path()))?;
            log.println(&line);
        }
        let ckpt_due = (ckpt_every > 0 && state.step % ckpt_every == 0) || done;
        if ckpt_due && !dp.is_main() {
            last_ckpt = Some(checkpoint::step_dir(&opts.run_dir, state.step)); // rank 0 writes it
        } else if ckpt_due {
            let dir = checkpoint::save(
                &opts.run_dir,
                &run.model,
                &run.optimizer,
                &state,
                &run.config_toml,
                run.eos,
                keep,
            )?;
            last_ckpt = Some(dir);
        }
    }
    log.finish();
    let checkpoint = match last_ckpt {
        Some(dir) => dir,
        None => existing.unwrap_or_default(),
    };
    // throughput of this invocation only (a resumed run's earlier sessions ran at their own speed)
    let session_s = session_start.elapsed().as_secs_f64();
    let session_tokens = state.tokens_seen - tokens_before;
    let tokens_per_s = session_tokens as f64 / session_s.max(1e-9);
    let parameters_sha256 = match dp.world_size() {
        1 => None,
        _ => Some(check_replicas_agree(&run.model, dp)?),
    };
    Ok(TrainSummary {
        steps: state.step,
        total_steps,
        tokens_seen: state.tokens_seen,
        last_train_loss: last_loss,
        val_loss,
        unigram_entropy: run.unigram_entropy,
        elapsed_s: state.elapsed_s,
        tokens_per_s,
        mfu: mfu(tokens_per_s),
        checkpoint,
        rank: dp.rank(),
        world_size: dp.world_size(),
        parameters_sha256,
    })
}

/// The parameters that train, named (the Reducer hooks them; every rank names the same ones).
fn trainable_named(model: &Gpt) -> Vec<(String, Tensor)> {
    model
        .vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect()
}

/// SHA-256 of the parameters (in name order, as little-endian bytes), after checking that every rank has the same:
/// replicas that drifted apart would silently train different models.
fn check_replicas_agree(model: &Gpt, dp: &DataParallel) -> Result<String, TrainError> {
    let mut named: Vec<(String, Tensor)> = model.vs.variables().into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha256::new();
    for (name, t) in &named {
        hasher.update(name.as_bytes());
        let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
        let values = Vec::<f32>::try_from(t.reshape([-1])).map_err(|e| TrainError::Invalid(e.to_string()))?;
        for v in values {
            hasher.update(v.to_le_bytes());
        }
    }
    let digest = hasher.finalize();
    // the first 48 bits, exact in an f64, are compared across ranks
    let head = digest[..6].iter().fold(0u64, |acc, &b| (acc << 8) | b as u64) as f64;
    let (lo, hi) = dp.min_max(head, "comparison of the ranks' final parameters")?;
    if lo != hi {
        return Err(TrainError::Invalid(format!(
            "rank {} of {}: the replicas' parameters differ after training, so the ranks trained different models \
             (nondeterministic kernels or a rank reading other data?); the checkpoint holds rank 0's",
            dp.rank(),
            dp.world_size()
        )));
    }
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// One update's numbers for the log.
struct UpdateRow {
    loss: f64,
    components: Vec<(&'static str, f64)>,
    lr: f64,
    grad_norm: f64,
    /// FNV-1a of the batch's token ids: lets a resumed run prove it saw the same batches.
    batch_hash: u64,
}

impl UpdateRow {
    fn to_json(&self, step: u64, tokens: u64, tok_s: f64) -> serde_json::Value {
        let mut row = serde_json::json!({
            "step": step, "tokens": tokens, "loss": self.loss, "lr": self.lr,
            "grad_norm": self.grad_norm, "tok_per_s": tok_s, "batch_hash": format!("{:016x}", self.batch_hash),
        });
        for (name, value) in &self.components {
            row[*name] = (*value).into();
        }
        row
    }
}

impl Run {
    fn new(config: &TrainConfig, dp: &DataParallel) -> Result<Run, TrainError> {
        let device = rank_device(config.training.device, dp.local_rank()).resolve()?;
        if device.is_cuda() {
            // fp32 matmuls left outside bf16 (e.g. the value head) may use TF32 tensor cores
            phf_dist::set_float32_matmul_precision(MatmulPrecision::High)?;
        }
        let world = dp.world_size();
        check_world_size(config, world)?;
        let tokenizer = keyed("data.tokenizer", Tokenizer::load(&config.data.tokenizer))?;
        let train = keyed("data.train", Shard::open(&config.data.train))?;
        train.check_tokenizer(&tokenizer)?;
        let valid = match &config.data.valid {
            Some(path) => {
                let shard = keyed("data.valid", Shard::open(path))?;
                shard.check_tokenizer(&tokenizer)?;
                (shard.num_blocks() > 0).then_some(shard)
            }
            None => None,
        };
        let objective = config.objective.build().map_err(TrainError::Invalid)?;
        if let Some(threshold) = config.objective.token_threshold() {
            check_threshold_splits(&train, threshold)?;
        }
        let gpt = config.gpt_config(tokenizer.vocab_size(), objective.needs_value_head())?;
        let block_size = train.block_size();
        if block_size > gpt.n_ctx {
            return Err(TrainError::Invalid(format!(
                "{}: blocks of {block_size} tokens do not fit the model's context (model.n_ctx = {}): \
                 set model.n_ctx = {block_size} or re-run `phf prepare` with a smaller block size",
                config.data.train.display(),
                gpt.n_ctx
            )));
        }
        if train.num_blocks() < config.training.batch_size {
            return Err(TrainError::Invalid(format!(
                "{}: {} blocks is fewer than one batch (training.batch_size = {})",
                config.data.train.display(),
                train.num_blocks(),
                config.training.batch_size
            )));
        }
        let unigram_entropy = Some(train.header().unigram_entropy_nats);
        let seed = config.training.seed;
        tch::manual_seed(seed as i64);
        let (mut model, initial_tokens) = match &config.training.init_from {
            Some(path) => {
                let start = init_from(path, &gpt, &tokenizer, device)?;
                (start.model, start.tokens_seen)
            }
            None => (Gpt::new(gpt, device), 0),
        };
        model.set_detach_value_input(config.objective.detach_value_input.unwrap_or(false));
        let mut optimizer = AdamW::new(model.vs.variables(), config.optimizer.adamw());
        if let Some(implementation) = config.optimizer.implementation {
            optimizer = optimizer.with_implementation(implementation);
        }
        let train = Arc::new(train);
        let mut loader =
            Loader::new(train.clone(), config.training.batch_size / world, seed)?.with_rank(dp.rank(), world)?;
        // finetuning continues the data stream where the checkpoint left it (SPEC §4)
        loader.skip_blocks(initial_tokens / block_size as u64);
        let tokens_per_step = (config.training.batch_size * config.training.grad_accum * block_size) as u64;
        let remaining = config
            .training
            .total_tokens
            .checked_sub(initial_tokens)
            .filter(|&r| r > 0)
            .ok_or_else(|| {
                TrainError::Invalid(format!(
                    "training.total_tokens = {} is the budget shared with the checkpoint of training.init_from, which \
                 already saw {initial_tokens} tokens: raise it",
                    config.training.total_tokens
                ))
            })?;
        let total_steps = remaining.div_ceil(tokens_per_step).max(1);
        let schedule = LinearSchedule {
            peak_lr: config.optimizer.lr,
            warmup_steps: (config.optimizer.warmup * total_steps as f64).round() as u64,
            total_steps,
        };
        let peak_tflops = config
            .training
            .peak_tflops
            .or(device.is_cuda().then_some(DEFAULT_GPU_PEAK_TFLOPS));
        Ok(Run {
            config: config.clone(),
            config_toml: config.to_toml(),
            model,
            optimizer,
            objective,
            loader: Prefetcher::new(loader, device),
            train_shard: train,
            valid,
            schedule,
            eos: tokenizer.eos_id(),
            block_size,
            unigram_entropy,
            initial_tokens,
            light_eval: LightEval::new(&config.eval, &tokenizer, config.training.seed)?,
            peak_tflops,
        })
    }

    fn tokens_per_step(&self) -> u64 {
        let t = &self.config.training;
        (t.batch_size * t.grad_accum * self.block_size) as u64
    }

    fn device(&self) -> Device {
        self.model.device()
    }

    /// Update number `step` (0-based): grad_accum forward/backward passes, gradients averaged over the
    /// data-parallel ranks (during the last backward pass, or after it: `sync`), clip, AdamW.
    fn update(&mut self, step: u64, dp: &DataParallel, sync: &mut GradientSync) -> Result<UpdateRow, TrainError> {
        // Dropout draws from libtorch's global generator: reseeding it from (seed, step) makes every update
        // reproducible without saving generator state, so a resumed run continues exactly. Each rank draws its
        // own masks (rank 0 those of a single-process run).
        tch::manual_seed(
            (self.config.training.seed as i64)
                .wrapping_mul(1_000_003)
                .wrapping_add(step as i64)
                .wrapping_add((dp.rank() as i64).wrapping_mul(0x9e37_79b9_7f4a_7c15_u64 as i64)),
        );
        self.optimizer.zero_grad()?;
        let accum = self.config.training.grad_accum;
        // each micro-batch's loss, then its components, left on the device until the update is queued: reading
        // them as they come would make the host wait for every micro-batch
        let mut values: Vec<Tensor> = Vec::new();
        let mut names: Vec<&'static str> = Vec::new();
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for micro in 0..accum {
            // only the last micro-batch's backward pass all-reduces (DDP's no_sync before it): still exact, as the
            // gradients are accumulated locally first
            let last = micro + 1 == accum;
            sync.before_forward(last)?;
            let fetched = self.loader.next_batch().map_err(TrainError::Invalid)?;
            for &t in &fetched.batch.tokens {
                hash = (hash ^ t as u64).wrapping_mul(0x0100_0000_01b3);
            }
            let (tokens, scores) = (fetched.tokens, fetched.scores);
            let out = self.model.forward(&tokens, true);
            let input = ObjectiveInput {
                logits: &out.logits,
                tokens: &tokens,
                token_scores: &scores,
                values: out.values.as_ref(),
            };
            let result = self.objective.loss(&input);
            sync.backward(&(&result.loss / accum as f64), last)?;
            let these: Vec<&'static str> = result.components.iter().map(|(name, _)| *name).collect();
            if micro == 0 {
                names = these;
            } else if these != names {
                return Err(TrainError::Invalid(format!(
                    "update {}: objective `{}` reported the loss components {these:?} for micro-batch {}, {names:?} \
                     for the first",
                    step + 1,
                    self.objective.name(),
                    micro + 1
                )));
            }
            values.push(result.loss.detach().to_kind(Kind::Double));
            values.extend(result.components.iter().map(|(_, v)| v.detach().to_kind(Kind::Double)));
        }
        // every rank's batch counts equally: the mean over ranks of their means is the global batch's mean
        sync.average_after_backward(dp, &self.optimizer.gradients())?;
        // the update is queued before anything is read back, so that the host waits for the device once, here (a
        // loss that is not finite stops the run below, before anything is saved)
        let lr = self.schedule.lr(step);
        let grad_norm = self.optimizer.update(lr, self.config.optimizer.grad_clip)?;
        let values = Vec::<f64>::try_from(Tensor::stack(&values, 0).to_device(Device::Cpu))
            .map_err(|e| TrainError::Invalid(format!("reading the losses back from the device: {e}")))?;
        let grad_norm = grad_norm.double_value(&[]);
        let mut loss_sum = 0.0;
        let mut components: Vec<(&'static str, f64)> = names.iter().map(|&name| (name, 0.0)).collect();
        for micro in values.chunks(1 + names.len()) {
            loss_sum += micro[0];
            for (c, v) in components.iter_mut().zip(&micro[1..]) {
                c.1 += v / accum as f64;
            }
        }
        let mut numbers: Vec<f64> = components.iter().map(|c| c.1).collect();
        numbers.push(loss_sum / accum as f64);
        let totals = dp.sum(&numbers, "all-reduce of the loss")?;
        let world = dp.world_size() as f64;
        for (c, total) in components.iter_mut().zip(&totals) {
            c.1 = total / world;
        }
        let loss = totals[totals.len() - 1] / world;
        if !loss.is_finite() {
            return Err(TrainError::Invalid(format!(
                "update {}: the loss is {loss}; lower optimizer.lr or check the data's scores",
                step + 1
            )));
        }
        Ok(UpdateRow {
            loss,
            components,
            lr,
            grad_norm,
            batch_hash: hash,
        })
    }

    fn batch_tensors(&self, batch: &phf_data::Batch) -> (Tensor, Tensor) {
        let (b, t) = (batch.batch_size as i64, batch.block_size as i64);
        let tokens = Tensor::from_slice(&batch.tokens).view([b, t]).to(self.device());
        let scores = Tensor::from_slice(&batch.scores).view([b, t]).to(self.device());
        (tokens, scores)
    }

    /// Mean next-token cross-entropy on the validation shard (the first `eval_batches` batches, in order), each
    /// rank evaluating its share of the blocks.
    fn validation_loss(&self, dp: &DataParallel) -> Result<f64, TrainError> {
        let Some(valid) = &self.valid else { return Ok(f64::NAN) };
        let b = self.config.training.batch_size / dp.world_size();
        let max_batches = match self.config.training.eval_batches {
            0 => usize::MAX,
            n => n,
        };
        let (mut total, mut count) = (0.0, 0usize);
        tch::no_grad(|| {
            for batch in SequentialBatches::new(valid, b)
                .with_rank(dp.rank(), dp.world_size())
                .take(max_batches)
            {
                let (tokens, scores) = self.batch_tensors(&batch);
                let out = self.model.forward(&tokens, false);
                let input = ObjectiveInput {
                    logits: &out.logits,
                    tokens: &tokens,
                    token_scores: &scores,
                    values: None,
                };
                let loss = Mle.loss(&input).loss.to_kind(Kind::Double).double_value(&[]);
                total += loss * batch.batch_size as f64;
                count += batch.batch_size;
            }
        });
        let sums = dp.sum(&[total, count as f64], "all-reduce of the validation loss")?;
        Ok(if sums[1] > 0.0 { sums[0] / sums[1] } else { f64::NAN })
    }
}

/// `training.batch_size` is the global batch: it must split evenly over `world_size` processes.
pub fn check_world_size(config: &TrainConfig, world_size: usize) -> Result<(), TrainError> {
    let b = config.training.batch_size;
    if b.is_multiple_of(world_size) {
        return Ok(());
    }
    Err(TrainError::Invalid(format!(
        "training.batch_size = {b} is the global batch, split over WORLD_SIZE = {world_size} processes: make it a \
         multiple of {world_size} (e.g. --set training.batch_size={})",
        b.div_ceil(world_size) * world_size
    )))
}

/// With several processes per machine, rank `LOCAL_RANK` uses GPU `N + LOCAL_RANK` for a configured `cuda:N`.
pub fn rank_device(spec: DeviceSpec, local_rank: usize) -> DeviceSpec {
    match spec {
        DeviceSpec::Cuda(n) => DeviceSpec::Cuda(n + local_rank),
        cpu => cpu,
    }
}

/// An alignment threshold that makes every token aligned, or none, turns the objective into plain MLE (or
/// plain unlikelihood): almost certainly a mistake, so it is refused with the scores' quantiles to choose from.
fn check_threshold_splits(shard: &Shard, threshold: f64) -> Result<(), TrainError> {
    // a strided sample of up to ~1M token scores is plenty to tell "none" and "all" from "some"
    let stride = (shard.num_blocks() / 4096).max(1);
    let mut scores: Vec<f32> = (0..shard.num_blocks())
        .step_by(stride)
        .flat_map(|i| shard.block_scores(i).iter().copied())
        .collect();
    if scores.is_empty() {
        return Ok(());
    }
    let aligned = scores.iter().filter(|&&s| f64::from(s) <= threshold).count();
    if aligned > 0 && aligned < scores.len() {
        return Ok(());
    }
    scores.sort_by(f32::total_cmp);
    let q = |p: f64| scores[((scores.len() - 1) as f64 * p).round() as usize];
    Err(TrainError::Invalid(format!(
        "config key objective.threshold = {threshold} marks {} token of {} aligned: token-score quantiles are q0.05 = {}, q0.5 = {}, q0.95 = {}, max = {}; pick a threshold between them",
        if aligned == 0 { "no" } else { "every" },
        shard.path().display(),
        q(0.05),
        q(0.5),
        q(0.95),
        q(1.0),
    )))
}

/// The configured objective, with its loss when that has another name: filtering and conditional training are
/// MLE on their own data.
fn objective_label(configured: &str, loss: &str) -> String {
    if configured == loss {
        configured.to_string()
    } else {
        format!("{configured} ({loss} loss on its data)")
    }
}
