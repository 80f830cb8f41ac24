//! `phf grid`: the paper's comparison — tasks × objectives × regimes (pretraining; finetuning from the MLE
//! checkpoint at half the budget) at one scale — as one resumable job: corpus, scoring, tokenizer, the plain /
//! filtering / conditional data, every run, its evaluation, and one report across all. Finished stages are kept
//! (a `done` marker per run, `eval/eval.json` per evaluation), so a rerun after an interruption picks up where it
//! stopped; an interrupted run resumes from its latest checkpoint.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use phf_data::{Shard, Threshold};
use phf_eval::report::{write_report, EvaluatedRun};
use phf_lm::DeviceSpec;
use phf_train::config::sets_soft_mode;
use phf_train::presets::Presets;
use phf_train::{checkpoint, train, DataParallel, SyncMode, TrainOptions};

use super::corpus_fetch::{fetch_corpus, FetchArgs, TaskArg};
use super::eval::{evaluate, EvalArgs};
use super::grid_kept;
use super::prepare::{PrepareArgs, Transform};
use super::score::ScoreArgs;

pub const OBJECTIVES: [&str; 6] = ["mle", "filtering", "conditional", "unlikelihood", "rwr", "awr"];

#[derive(Args, Clone)]
pub struct GridArgs {
    /// Tasks (toxicity, pii, pep8), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "toxicity")]
    pub tasks: Vec<String>,
    /// Objectives, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "mle,filtering,conditional,unlikelihood,rwr,awr"
    )]
    pub objectives: Vec<String>,
    /// `pretrain` (from scratch) and/or `finetune` (from the MLE run's checkpoint at half the budget).
    #[arg(long, value_delimiter = ',', default_value = "pretrain,finetune")]
    pub regimes: Vec<String>,
    /// Scale preset (configs/scales/NAME.toml).
    #[arg(long, default_value = "small")]
    pub scale: String,
    /// Where the scored corpora, prepared data, runs, evaluations and the report go (reused on a rerun)
    #[arg(long, default_value = "runs/grid")]
    pub work_dir: PathBuf,
    /// A task's documents as JSONL (`{"text": ...}` per line), e.g. `pep8=code.jsonl` (repeatable); by default
    /// the training split of `phf corpus fetch --task TASK`.
    #[arg(long = "corpus", value_name = "TASK=JSONL")]
    pub corpora: Vec<String>,
    /// A task's conditional threshold instead of the grid's (toxicity q0.9, PII and PEP8 0), also toxicity's
    /// unlikelihood threshold: a score, or `qP` for a quantile of the segment scores, e.g. `toxicity=q0.05`
    /// (repeatable). Data kept from another threshold is refused, not reused.
    #[arg(long = "threshold", value_name = "TASK=T")]
    pub thresholds: Vec<String>,
    /// A task's filtering threshold on documents' avg_score instead of the grid's (toxicity and PII q0.9, PEP8
    /// 0.002361), e.g. `pii=0.000286` (repeatable).
    #[arg(long = "filter-threshold", value_name = "TASK=T")]
    pub filter_thresholds: Vec<String>,
    /// Folder of the presets (tasks/, objectives/, scales/)
    #[arg(long, default_value = "configs")]
    pub configs: PathBuf,
    /// Override a config key of every run, e.g. `--set training.total_tokens=600000` (repeatable); an
    /// `objective.KEY` goes to the runs whose objective takes KEY, e.g. `--set objective.beta=1` to RWR and AWR.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Unconditional samples per evaluation.
    #[arg(long, default_value_t = 1024)]
    pub eval_samples: usize,
    /// Reference samples for the KL (the MLE run is the reference).
    #[arg(long, default_value_t = 512)]
    pub kl_samples: usize,
    /// Prompts mined from the scored corpus for the prompted evaluation (0 skips it).
    #[arg(long, default_value_t = 50)]
    pub prompts: usize,
    /// Also red-team every model (3 rounds × 2 trials × 8 responses, 32 continuations each).
    #[arg(long)]
    pub red_team: bool,
    /// `cpu`, `cuda` or `cuda:N` (GPU N)
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Training seeds, comma-separated: every run is repeated once per seed (initialisation and data order; the
    /// data and its split stay the same). Runs with seed 42 keep their plain names (`mle-pretrain`), the others
    /// get the seed (`mle-pretrain-seed43`); the report adds a table over seeds. The KL reference is always
    /// seed 42's MLE run, and finetuning starts from the MLE run of its own seed.
    #[arg(long, value_delimiter = ',', default_value = "42")]
    pub seeds: Vec<u64>,
}

/// The seed of the runs named without one, and of the KL reference.
pub const FIRST_SEED: u64 = 42;

/// A run's directory name: `OBJECTIVE-REGIME`, then `-seedN` unless the seed is [`FIRST_SEED`].
pub fn run_name(objective: &str, regime: &str, seed: u64) -> String {
    if seed == FIRST_SEED {
        format!("{objective}-{regime}")
    } else {
        format!("{objective}-{regime}-seed{seed}")
    }
}

/// The per-task data choices at CPU scale: thresholds and the segmenter.
struct TaskData {
    segment: &'static str,
    /// Conditional and unlikelihood (hard) threshold.
    threshold: Threshold,
    /// Filtering threshold on documents' avg_score.
    filter_threshold: Threshold,
    drop: f64,
}

fn task_data(task: &str) -> Result<TaskData> {
    let q = |v: &str| v.parse::<Threshold>().map_err(anyhow::Error::msg);
    Ok(match task {
        // tox-block's probabilities do not share Detoxify's scale (SPEC §3's 0.00056 / 0.00078): the most toxic
        // 10% of sentences are misaligned, and documents above that score are filtered
        "toxicity" => TaskData {
            segment: "sentences",
            threshold: q("q0.9")?,
            filter_threshold: q("q0.9")?,
            drop: 0.01,
        },
        // PII scores are rates per character, the paper's measure, and conditional training keeps its threshold
        // (any PII is misaligned). Its filtering threshold (0.000286) does not carry over: in this corpus of
        // e-mails, headers and signatures included, 99.7% of documents average above it (it kept 24 of 9,576),
        // so filtering drops documents above the same q0.9 as toxicity's (5% of documents here)
        "pii" => TaskData {
            segment: "sentences",
            threshold: q("0")?,
            filter_threshold: q("q0.9")?,
            drop: 0.01,
        },
        // PEP8 keeps the paper's thresholds: 7.7% of lines have a violation, and filtering drops 24% of documents
        "pep8" => TaskData {
            segment: "lines",
            threshold: q("0")?,
            filter_threshold: q("0.002361")?,
            drop: 0.1,
        },
        _ => bail!("--tasks {task}: not a task; choose toxicity, pii or pep8"),
    })
}

pub fn run(a: GridArgs) -> Result<()> {
    for o in &a.objectives {
        if !OBJECTIVES.contains(&o.as_str()) {
            bail!(
                "--objectives {o}: not an objective; choose from {}",
                OBJECTIVES.join(", ")
            );
        }
    }
    for r in &a.regimes {
        if r != "pretrain" && r != "finetune" {
            bail!("--regimes {r}: choose pretrain and/or finetune");
        }
    }
    if a.seeds.is_empty() {
        bail!("--seeds: give at least one training seed, e.g. --seeds 42,43,44");
    }
    for (flag, values) in [
        ("--corpus", &a.corpora),
        ("--threshold", &a.thresholds),
        ("--filter-threshold", &a.filter_thresholds),
    ] {
        for value in values {
            let Some((task, given)) = value.split_once('=') else {
                bail!("{flag} {value}: write TASK=VALUE, e.g. {flag} toxicity=...");
            };
            if !a.tasks.iter().any(|t| t == task) {
                bail!(
                    "{flag} {value}: `{task}` is not one of this grid's tasks ({})",
                    a.tasks.join(", ")
                );
            }
            // a bad threshold is refused now, not after the tasks before its own have run
            if flag != "--corpus" {
                if let Err(e) = given.parse::<Threshold>() {
                    bail!("{flag} {value}: {e}");
                }
            }
        }
    }
    for arg in &a.overrides {
        let Some(key) = objective_key(arg) else { continue };
        if key == "name" {
            bail!("--set {arg}: the grid's objectives are chosen with --objectives");
        }
        if !a.objectives.iter().any(|o| takes_key(o, key)) {
            bail!(
                "--set {arg}: none of this grid's objectives ({}) takes `{key}`",
                a.objectives.join(", ")
            );
        }
    }
    let work = std::path::absolute(&a.work_dir)?;
    let mut evaluated = Vec::new();
    for task in &a.tasks {
        evaluated.extend(run_task(&a, task, &work.join(task))?);
    }
    let report = write_report(&evaluated, &work.join("report"))?;
    println!("{}", std::fs::read_to_string(&report.markdown)?);
    eprintln!(
        "phf grid: report in {} and {}",
        report.markdown.display(),
        report.html.display()
    );
    Ok(())
}

/// Every stage of one task; returns its evaluated runs.
pub fn run_task(a: &GridArgs, task: &str, dir: &Path) -> Result<Vec<EvaluatedRun>> {
    let mut td = task_data(task)?;
    // (the values were checked by `run`)
    if let Some(t) = for_task(&a.thresholds, task) {
        td.threshold = t.parse().map_err(anyhow::Error::msg)?;
    }
    if let Some(t) = for_task(&a.filter_thresholds, task) {
        td.filter_threshold = t.parse().map_err(anyhow::Error::msg)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let corpus = task_corpus(a, task)?;
    let scored = dir.join("scored.jsonl");
    stage(
        &scored,
        &format!("{task}: scoring the corpus ({} segments)", td.segment),
        || {
            super::score::run(ScoreArgs {
                input: vec![corpus.clone()],
                scorer: task.to_string(),
                segment: td.segment.parse().map_err(anyhow::Error::msg)?,
                out: Some(scored.clone()),
                meta: None,
                shard: "0/1".parse().map_err(anyhow::Error::msg)?,
                batch_size: 256,
                quiet: false,
                summary: true,
            })
        },
    )?;
    grid_kept::check_scored(&scored, task, td.segment)?;
    let tokenizer = dir.join("tokenizer.json");
    stage(
        &tokenizer,
        &format!("{task}: training an 8192-token BPE tokenizer"),
        || {
            super::tokenizer::train_on(std::slice::from_ref(&scored), 8192)?.save(&tokenizer)?;
            Ok(())
        },
    )?;
    // blocks as long as the scale's context
    // (read from the MLE preset, without the `--set objective.*` meant for other objectives)
    let model_overrides: Vec<String> = a
        .overrides
        .iter()
        .filter(|arg| objective_key(arg).is_none())
        .cloned()
        .collect();
    let scale_config = Presets {
        root: &a.configs,
        task,
        objective: "mle",
        scale: &a.scale,
    }
    .load(&model_overrides)?;
    let block_size = scale_config.gpt_config(1, false)?.n_ctx;
    let prepare = |name: &str, transform: Transform, threshold: Option<Threshold>| -> Result<PathBuf> {
        let out = dir.join("data").join(name);
        stage(&out.join("valid"), &format!("{task}: packing {name} data"), || {
            super::prepare::prepare_quietly(PrepareArgs {
                input: vec![scored.clone()],
                tokenizer: tokenizer.clone(),
                out: out.clone(),
                block_size,
                valid_fraction: 0.05,
                seed: 42,
                transform,
                threshold: threshold.into_iter().collect(),
                drop: td.drop,
                attributes: Vec::new(),
                shard: phf_data::CorpusPart::ALL,
            })
        })?;
        grid_kept::check_prepared(&out, threshold)?;
        Ok(out)
    };
    let plain = prepare("plain", Transform::Plain, None)?;
    let needs = |o: &str| a.objectives.iter().any(|x| x == o);
    let filtering = if needs("filtering") {
        Some(prepare("filtering", Transform::Filtering, Some(td.filter_threshold))?)
    } else {
        None
    };
    let conditional = if needs("conditional") || needs("unlikelihood") {
        Some(prepare("conditional", Transform::Conditional, Some(td.threshold))?)
    } else {
        None
    };
    // the resolved conditional threshold doubles as unlikelihood's hard threshold
    let resolved_threshold = match &conditional {
        Some(c) => Shard::open(&c.join("train"))?
            .header()
            .transform
            .attributes
            .first()
            .map(|r| r.threshold),
        None => None,
    };

    let runs_dir = dir.join("runs");
    // the KL reference of every run
    let reference = runs_dir.join(run_name("mle", "pretrain", FIRST_SEED));
    let wants = |regime: &str| a.regimes.iter().any(|r| r == regime);
    // (objective, regime, seed) in order: the reference first, then per seed its MLE pretraining (finetuning
    // starts from it) and the other runs
    let mut plan: Vec<(&str, &str, u64)> = vec![("mle", "pretrain", FIRST_SEED)];
    for &seed in &a.seeds {
        if seed != FIRST_SEED && (wants("finetune") || (wants("pretrain") && needs("mle"))) {
            plan.push(("mle", "pretrain", seed));
        }
        for regime in ["pretrain", "finetune"].into_iter().filter(|r| wants(r)) {
            plan.extend(
                a.objectives
                    .iter()
                    .filter(|o| *o != "mle")
                    .map(|o| (o.as_str(), regime, seed)),
            );
        }
    }
    // toxicity's unlikelihood gets the resolved threshold unless --set objective.mode=soft asks for the
    // threshold-free weight
    let soft = sets_soft_mode(&a.overrides);
    let mut runs = Vec::new();
    for (objective, regime, seed) in plan {
        let data = match objective {
            "filtering" => filtering.clone(),
            "conditional" => conditional.clone(),
            _ => Some(plain.clone()),
        }
        .expect("every objective's data is prepared above");
        let mut overrides = vec![
            format!("data.train={}", data.join("train").display()),
            format!("data.valid={}", data.join("valid").display()),
            format!("data.tokenizer={}", tokenizer_of(&data, &tokenizer).display()),
            format!("training.device={}", a.device),
            format!("eval.scorer={task}"),
            "eval.num_samples=64".to_string(),
            format!("training.seed={seed}"),
        ];
        if objective == "unlikelihood" && task == "toxicity" && !soft {
            if let Some(t) = resolved_threshold {
                overrides.push(format!("objective.threshold={t}"));
            }
        }
        if regime == "finetune" {
            let mle = runs_dir.join(run_name("mle", "pretrain", seed));
            overrides.push(format!("training.init_from={}", half_checkpoint(&mle)?.display()));
        }
        // `objective.KEY` only where this run's objective takes KEY (checked against the grid's objectives in `run`)
        overrides.extend(
            a.overrides
                .iter()
                .filter(|arg| objective_key(arg).is_none_or(|key| takes_key(objective, key)))
                .cloned(),
        );
        let run_dir = runs_dir.join(run_name(objective, regime, seed));
        train_run(a, task, objective, &run_dir, overrides)?;
        let asked = a.seeds.contains(&seed) && (objective != "mle" || needs("mle"));
        if asked {
            let valid = plain.join("valid");
            runs.push(evaluate_run(
                a, task, &run_dir, &reference, &scored, &valid, &tokenizer,
            )?);
        }
    }
    Ok(runs)
}

/// `path` exists: say so and keep it; otherwise run `make`.
fn stage(path: &Path, what: &str, make: impl FnOnce() -> Result<()>) -> Result<()> {
    if path.exists() {
        eprintln!("phf grid: {what}: {} exists, kept", path.display());
        return Ok(());
    }
    eprintln!("phf grid: {what}");
    make()
}

/// A task's documents: `--corpus TASK=FILE`, or the training split of `phf corpus fetch --task TASK` (prepare
/// holds out its own validation split from it; the corpus' validation and test splits stay unseen).
fn task_corpus(a: &GridArgs, task: &str) -> Result<PathBuf> {
    if let Some(path) = for_task(&a.corpora, task) {
        return Ok(PathBuf::from(path));
    }
    let task_arg = match task {
        "toxicity" => TaskArg::Toxicity,
        "pii" => TaskArg::Pii,
        _ => TaskArg::Pep8,
    };
    let dir = fetch_corpus(&FetchArgs {
        task: task_arg,
        out: None,
        validation_fraction: 0.05,
        test_fraction: 0.05,
        force: false,
    })?;
    Ok(dir.join("train.jsonl"))
}

/// KEY of a `--set objective.KEY=VALUE`.
fn objective_key(arg: &str) -> Option<&str> {
    arg.split_once('=')?.0.trim().strip_prefix("objective.")
}

/// Whether `objective` has the `[objective]` key `key`.
fn takes_key(objective: &str, key: &str) -> bool {
    phf_train::objectives::parameters(objective).is_some_and(|keys| keys.contains(&key))
}

/// The value of the last `TASK=VALUE` argument for `task` (the arguments' form is checked by [`run`]).
fn for_task<'a>(args: &'a [String], task: &str) -> Option<&'a str> {
    args.iter()
        .rev()
        .filter_map(|arg| arg.split_once('='))
        .find(|(t, _)| *t == task)
        .map(|(_, value)| value)
}

/// Conditional data carries its extended tokenizer; other data the task's.
fn tokenizer_of(data: &Path, task_tokenizer: &Path) -> PathBuf {
    let own = data.join("tokenizer.json");
    if own.exists() {
        own
    } else {
        task_tokenizer.to_path_buf()
    }
}

/// Trains (or resumes, or skips) one run; MLE keeps a checkpoint at half its updates for the finetuning regime.
fn train_run(a: &GridArgs, task: &str, objective: &str, run_dir: &Path, mut overrides: Vec<String>) -> Result<()> {
    let done = run_dir.join("done");
    let name = format!("{task}/{}", run_dir.file_name().unwrap_or_default().to_string_lossy());
    if done.exists() {
        eprintln!("phf grid: {name}: trained, kept");
        return Ok(());
    }
    // the grid's own settings reach the presets as `--set` arguments too: the run's name says which run failed
    let in_run = || format!("{name} (its config is the presets, the grid's settings and --set)");
    let presets = Presets {
        root: &a.configs,
        task,
        objective,
        scale: &a.scale,
    };
    if objective == "mle" {
        let config = presets.load(&overrides).with_context(in_run)?;
        let block = config.gpt_config(1, false)?.n_ctx as u64;
        let per_step = (config.training.batch_size * config.training.grad_accum) as u64 * block;
        let steps = config.training.total_tokens.div_ceil(per_step);
        overrides.push(format!("training.checkpoint_every={}", (steps / 2).max(1)));
        overrides.push("training.keep_checkpoints=0".into());
    }
    let config = presets.load(&overrides).with_context(in_run)?;
    let resume = checkpoint::latest(run_dir)?.is_some();
    eprintln!("phf grid: {name}: training{}", if resume { " (resuming)" } else { "" });
    train(
        &config,
        &TrainOptions {
            run_dir: run_dir.to_path_buf(),
            resume,
            progress: true,
            data_parallel: DataParallel::single(),
            gradient_sync: SyncMode::Flat,
        },
    )
    .with_context(|| format!("{name}: training"))?;
    std::fs::write(&done, "").with_context(|| format!("writing {}", done.display()))?;
    Ok(())
}

/// The MLE run's checkpoint at half its updates (kept by `train_run`).
fn half_checkpoint(mle: &Path) -> Result<PathBuf> {
    let state = checkpoint::read_state(&checkpoint::latest(mle)?.context("the MLE run has no checkpoint")?)?;
    let half = state.step.div_ceil(2);
    let mut dirs: Vec<(u64, PathBuf)> = std::fs::read_dir(mle.join("checkpoints"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((checkpoint::read_state(&e.path()).ok()?.step, e.path())))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .find(|(step, _)| *step >= half)
        .map(|(_, p)| p)
        .context("the MLE run kept no checkpoint at half its updates: retrain it with phf grid")
}

/// Evaluates a run unless its evaluation is already there. Held-out loss is on the plain validation split for
/// every run, so capability is compared on the same text: a run's own split would be filtered (filtering) or hold
/// control tokens (conditional).
fn evaluate_run(
    a: &GridArgs,
    task: &str,
    run_dir: &Path,
    mle: &Path,
    scored: &Path,
    valid: &Path,
    valid_tokenizer: &Path,
) -> Result<EvaluatedRun> {
    let record = run_dir
        .join(phf_eval::report::record::EVAL_DIR)
        .join(phf_eval::report::record::EVAL_FILE);
    if !record.exists() {
        eprintln!(
            "phf grid: {task}/{}: evaluating",
            run_dir.file_name().unwrap_or_default().to_string_lossy()
        );
        let args = EvalArgs {
            scorer: task.to_string(),
            num_samples: a.eval_samples,
            valid: Some(valid.to_path_buf()),
            valid_tokenizer: Some(valid_tokenizer.to_path_buf()),
            reference: Some(mle.to_path_buf()),
            kl_samples: a.kl_samples,
            mine_prompts: (a.prompts > 0).then(|| scored.to_path_buf()),
            num_prompts: a.prompts,
            red_team: a.red_team && a.prompts > 0,
            rounds: 3,
            trials: 2,
            responses: 8,
            continuations: 32,
            device: a.device,
            ..EvalArgs::defaults(run_dir)
        };
        evaluate(&args)?;
    }
    Ok(EvaluatedRun::load(run_dir)?)
}
