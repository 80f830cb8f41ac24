//! `phf train`: a run from a TOML config or from presets (`--task --objective --scale`), `--set section.key=value`
//! overrides on top, or `--resume` of a run. Started by torchrun (or with its variables set), each process is one
//! rank of a data-parallel run (docs/SCALING.md).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use phf_dist::{Backend, Launch, SyncMode};
use phf_lm::DeviceSpec;
use phf_train::checkpoint;
use phf_train::presets::Presets;
use phf_train::trainer::rank_device;
use phf_train::{check_world_size, train, DataParallel, TrainConfig, TrainOptions};

#[derive(Args)]
pub struct TrainArgs {
    /// Run config (TOML: [model], [optimizer], [data], [objective], [training]); not needed with --resume.
    #[arg(long, short, conflicts_with_all = ["task", "objective", "scale"])]
    pub config: Option<PathBuf>,
    /// Preset task (configs/tasks/NAME.toml: toxicity, pii, pep8); with --objective and --scale.
    #[arg(long, requires_all = ["objective", "scale"])]
    pub task: Option<String>,
    /// Preset objective (configs/objectives/NAME.toml: mle, filtering, conditional, unlikelihood, rwr, awr).
    #[arg(long, requires_all = ["task", "scale"])]
    pub objective: Option<String>,
    /// Preset scale (configs/scales/NAME.toml: tiny, small, gpt2).
    #[arg(long, requires_all = ["task", "objective"])]
    pub scale: Option<String>,
    /// Folder of the presets.
    #[arg(long, default_value = "configs")]
    pub configs: PathBuf,
    /// Override a config key, e.g. `--set optimizer.lr=3e-4 --set training.device=cuda:0` (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Where checkpoints, log.jsonl and the resolved run.toml go.
    #[arg(long)]
    pub run_dir: PathBuf,
    /// Continue the run in --run-dir from its latest checkpoint, with its saved config (plus any --set).
    #[arg(long)]
    pub resume: bool,
    /// No progress bar or progress lines.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: TrainArgs) -> Result<()> {
    if a.resume && checkpoint::latest(&a.run_dir)?.is_none() {
        bail!(
            "--resume: {} has no checkpoint to resume from: start the run without --resume (with --config), \
             or point --run-dir at a run that has saved one",
            a.run_dir.display()
        );
    }
    let config = resolve_config(&a)?;
    // torchrun's RANK, WORLD_SIZE, ... when set: this process is one rank of a data-parallel run
    let data_parallel = match Launch::from_env()? {
        Some(launch) => {
            check_world_size(&config, launch.world_size)?; // before waiting for the other ranks
                                                           // NCCL for GPU training (the GPU must be there, and CUDA loaded, before joining), else Gloo
            let gpu = match rank_device(config.training.device, launch.local_rank) {
                DeviceSpec::Cuda(index) => DeviceSpec::Cuda(index).resolve().map(|_| Some(index))?,
                DeviceSpec::Cpu => None,
            };
            DataParallel::join(&launch, Backend::from_env(gpu)?)?
        }
        None => DataParallel::single(),
    };
    // several ranks on one machine share its cores, unless OMP_NUM_THREADS says otherwise
    if let Some(threads) = data_parallel
        .cpu_threads()
        .filter(|_| std::env::var_os("OMP_NUM_THREADS").is_none())
    {
        tch::set_num_threads(threads as i32);
    }
    let opts = TrainOptions {
        run_dir: a.run_dir.clone(),
        resume: a.resume,
        progress: !a.quiet,
        data_parallel,
        gradient_sync: SyncMode::from_env()?,
    };
    let summary = train(&config, &opts)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

fn resolve_config(a: &TrainArgs) -> Result<TrainConfig> {
    if let (Some(task), Some(objective), Some(scale)) = (&a.task, &a.objective, &a.scale) {
        let presets = Presets {
            root: &a.configs,
            task,
            objective,
            scale,
        };
        return Ok(presets.load(&a.overrides)?);
    }
    match (&a.config, a.resume) {
        (Some(path), _) => Ok(TrainConfig::load(path, &a.overrides)?),
        (None, true) => {
            let saved = a.run_dir.join(checkpoint::RUN_CONFIG_FILE);
            let text = std::fs::read_to_string(&saved)
                .with_context(|| format!("--resume: cannot read the run's config {}", saved.display()))?;
            Ok(TrainConfig::from_toml(&text, &a.overrides, &saved)?)
        }
        (None, false) => bail!(
            "give a run config with --config FILE, or presets with --task, --objective and --scale \
             (or --resume an existing --run-dir)"
        ),
    }
}
