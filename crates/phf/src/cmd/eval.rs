//! `phf eval`: SPEC §5 on one model — unconditional samples scored for misalignment and diversity, held-out loss
//! (all and clean tokens), KL from a reference LM, prompted evaluation and red-teaming — written to
//! `<run>/eval/` (eval.json, samples.jsonl, prompted.jsonl, red_team.json) for `phf report`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use phf_data::{Shard, Tokenizer};
use phf_eval::control::{BanControl, ControlTokens};
use phf_eval::heldout::default_clean_threshold;
use phf_eval::kl::{draw_reference_samples, reference_sample_options, KlMode, ReferenceSamples, Scored};
use phf_eval::misalignment::default_hit_threshold;
use phf_eval::prompted::{evaluate_prompted, mine_prompts, prompted_sample_options, read_prompts, MineFrom};
use phf_eval::redteam::{red_team, RedTeamOptions};
use phf_eval::report::record::{
    KlRecord, SampleRecord, EVAL_DIR, EVAL_FILE, PROMPTED_FILE, RED_TEAM_FILE, SAMPLES_FILE,
};
use phf_eval::report::{task_table, EvalRecord, EvaluatedRun};
use phf_eval::samples::evaluate_unconditional;
use phf_eval::{file_sha256, held_out_loss, kl_from_reference, Sampler};
use phf_lm::{DeviceSpec, SampleOptions};
use phf_score::Scorer;

use super::model::LoadedModel;
use super::progress::Progress;

#[derive(Args, Clone)]
pub struct EvalArgs {
    /// A run directory (its latest checkpoint), a checkpoint, or a Hugging Face GPT-2 directory.
    #[arg(long, short)]
    pub model: PathBuf,
    /// tokenizer.json; defaults to the one named in the run's config.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// The task's scorer: toxicity, pii, pep8, offensive, toxicity:<label> or cmd:<command>.
    #[arg(long)]
    pub scorer: String,
    /// Control tokens after EOS (conditional models); default `aligned` when the tokenizer has it.
    #[arg(long, value_delimiter = ',')]
    pub control: Vec<String>,
    /// Control tokens the model may not generate; default: misaligned for pep8, all otherwise.
    #[arg(long, value_enum)]
    pub ban_control: Option<BanControl>,
    /// Unconditional samples (0 skips them).
    #[arg(long, short = 'n', default_value_t = 4096)]
    pub num_samples: usize,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Default 128 tokens (640 for pep8), capped by the model's context.
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    #[arg(long, default_value_t = 10)]
    pub min_new_tokens: usize,
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f64,
    #[arg(long, default_value_t = 0.9)]
    pub top_p: f64,
    /// A sample is a hit above this score (default 0.5 for toxicity/offensive, 0 for pii/pep8).
    #[arg(long)]
    pub hit_threshold: Option<f64>,
    /// Validation shard for held-out loss (default: the run's data.valid); `none` skips it.
    #[arg(long)]
    pub valid: Option<PathBuf>,
    /// The tokenizer the validation shard was made with, when it is not the model's: the model's must be it plus
    /// the model's control tokens (a conditional model's loss on plain text).
    #[arg(long)]
    pub valid_tokenizer: Option<PathBuf>,
    /// Tokens scoring at most this are clean (default: the task's SPEC §3 threshold).
    #[arg(long)]
    pub clean_threshold: Option<f64>,
    /// Blocks of the validation shard to use (0 = all).
    #[arg(long, default_value_t = 0)]
    pub valid_blocks: usize,
    /// Reference LM for the KL: a phf run/checkpoint or a Hugging Face GPT-2 directory.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    #[arg(long)]
    pub reference_tokenizer: Option<PathBuf>,
    /// Samples drawn from the reference for the KL estimate.
    #[arg(long, default_value_t = 1024)]
    pub kl_samples: usize,
    /// Where reference samples are cached (default ~/.cache/phf/kl-samples).
    #[arg(long)]
    pub kl_cache: Option<PathBuf>,
    /// Prompted evaluation: prompts from a JSONL file ("prompt" or "text" per line).
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// Prompted evaluation: prompts mined from a scored held-out corpus (`phf score` output).
    #[arg(long, conflicts_with = "prompts")]
    pub mine_prompts: Option<PathBuf>,
    /// Prompts used (first N of the file, or the N most misaligned mined).
    #[arg(long, default_value_t = 100)]
    pub num_prompts: usize,
    /// Run red-teaming (seed prompts from --prompts/--mine-prompts).
    #[arg(long)]
    pub red_team: bool,
    /// The red LM (default: the evaluated model).
    #[arg(long)]
    pub red_lm: Option<PathBuf>,
    #[arg(long)]
    pub red_tokenizer: Option<PathBuf>,
    /// Control tokens prompting the red LM, e.g. `misaligned` for a conditional red LM.
    #[arg(long, value_delimiter = ',')]
    pub red_control: Vec<String>,
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    #[arg(long, default_value_t = 10)]
    pub trials: usize,
    #[arg(long, default_value_t = 20)]
    pub responses: usize,
    #[arg(long, default_value_t = 512)]
    pub continuations: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Output directory (default <run>/eval).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl EvalArgs {
    /// The command line's defaults for `model` (what `phf eval --model MODEL --scorer pii` would use).
    pub fn defaults(model: &Path) -> EvalArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: EvalArgs,
        }
        let model = model.to_string_lossy();
        <Cli as clap::Parser>::parse_from(["phf-eval", "--model", &model, "--scorer", "pii"]).args
    }
}

pub fn run(a: EvalArgs) -> Result<()> {
    let (record, out) = evaluate(&a)?;
    // the table reads only the record: no need to read the samples back
    let run = EvaluatedRun {
        dir: out.clone(),
        record,
        sample_scores: Vec::new(),
        curve: Vec::new(),
    };
    println!("{}", task_table(&[&run]).markdown());
    eprintln!("phf eval: wrote {}", out.join(EVAL_FILE).display());
    Ok(())
}

/// The tokenizer at `path`, after checking that `model`'s is it plus the model's control tokens, so that the ids
/// of text it tokenized mean the same to the model.
fn base_of(model: &Tokenizer, path: &Path, control: &ControlTokens) -> Result<Tokenizer> {
    let base = Tokenizer::load(path)?;
    let mut extended = base.clone();
    let tokens = control.tokens();
    extended.add_special_tokens(&tokens.iter().map(String::as_str).collect::<Vec<_>>());
    if extended.hash() != model.hash() {
        bail!(
            "--valid-tokenizer {}: the model's tokenizer is not this one plus its control tokens ({}); give the \
             tokenizer the validation shard was prepared with",
            path.display(),
            tokens.join(", ")
        );
    }
    Ok(base)
}

/// Runs every evaluation the arguments ask for and writes the results; returns the record and its directory.
pub fn evaluate(a: &EvalArgs) -> Result<(EvalRecord, PathBuf)> {
    let target = LoadedModel::load(&a.model, a.tokenizer.as_deref(), &a.device)?;
    let out = match &a.out {
        Some(o) => o.clone(),
        None if a.model.join(phf_lm::weights::WEIGHTS_FILE).exists() => target.dir.join(EVAL_DIR),
        None => a.model.join(EVAL_DIR),
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let scorer = phf_score::scorer_by_name(&a.scorer)?;
    let task = scorer.id().name;
    let pep8 = task == "pep8";
    let hit_threshold = a.hit_threshold.unwrap_or_else(|| default_hit_threshold(&task));
    let control = ControlTokens::of(&target.tokenizer);
    let control_names = match (&a.control[..], control.is_empty()) {
        ([], true) => Vec::new(),
        ([], false) => vec!["aligned".to_string()],
        (names, _) => names.to_vec(),
    };
    let ban = a
        .ban_control
        .unwrap_or(if pep8 { BanControl::Misaligned } else { BanControl::All });
    let sampler = Sampler {
        model: &target.model,
        tokenizer: &target.tokenizer,
        control: control.prompt_ids(&control_names)?,
        banned: control.banned(ban),
    };
    let prompt_len = 1 + sampler.control.len();
    let max_new = a.max_new_tokens.unwrap_or(if pep8 { 640 } else { 128 });
    let max_new = max_new.min(target.model.config.n_ctx - prompt_len);
    let model_sha256 = file_sha256(&target.dir.join(phf_lm::weights::WEIGHTS_FILE))?;
    let mut record = EvalRecord {
        label: run_label(&a.model),
        objective: target.config.as_ref().map(|c| c.objective.name.clone()),
        model: target.dir.display().to_string(),
        model_sha256,
        tokens_seen: target.tokens_seen(),
        scorer: scorer.id(),
        unconditional: None,
        held_out: None,
        kl: None,
        prompted: None,
        red_team: None,
        settings: serde_json::json!({
            "control": control_names, "ban_control": format!("{ban:?}").to_lowercase(), "seed": a.seed,
            "num_samples": a.num_samples, "max_new_tokens": max_new, "min_new_tokens": a.min_new_tokens,
            "temperature": a.temperature, "top_p": a.top_p, "hit_threshold": hit_threshold,
        }),
    };

    if a.num_samples > 0 {
        let opts = SampleOptions {
            num_samples: a.num_samples,
            batch_size: a.batch_size,
            max_new_tokens: max_new,
            min_new_tokens: a.min_new_tokens.min(max_new),
            temperature: a.temperature,
            top_p: a.top_p,
            top_k: 0,
            banned_tokens: Vec::new(),
            seed: a.seed,
        };
        let mut progress = Progress::new("phf eval: sampled");
        let set = sampler.sample("", &opts, |done| progress.count(done, a.num_samples))?;
        progress.end(&format!(
            " ({:.1} s, {:.0} samples/s)",
            set.seconds,
            set.texts.len() as f64 / set.seconds.max(1e-9)
        ));
        let (eval, scores) = evaluate_unconditional(scorer.as_ref(), &set, hit_threshold, false)?;
        eprintln!(
            "phf eval: scored {} samples with {} in {:.1} s",
            set.texts.len(),
            scorer.id(),
            eval.scoring_s
        );
        write_samples(&out.join(SAMPLES_FILE), &set.texts, &scores, &set.num_tokens)?;
        record.unconditional = Some(eval);
    }

    let valid = match (&a.valid, &target.config) {
        (Some(p), _) if p.as_os_str() == "none" => None,
        (Some(p), _) => Some(p.clone()),
        (None, Some(c)) => c.data.valid.clone(),
        (None, None) => None,
    };
    if let Some(valid) = valid {
        let shard = Shard::open(&valid)?;
        match &a.valid_tokenizer {
            Some(path) => shard.check_tokenizer(&base_of(&target.tokenizer, path, &control)?)?,
            None => shard.check_tokenizer(&target.tokenizer)?,
        }
        let threshold = a.clean_threshold.unwrap_or_else(|| default_clean_threshold(&task));
        eprintln!("phf eval: held-out loss on {}", valid.display());
        record.held_out = Some(held_out_loss(&target.model, &shard, threshold, 16, a.valid_blocks));
    }

    if let Some(reference_dir) = &a.reference {
        let reference = LoadedModel::load(reference_dir, a.reference_tokenizer.as_deref(), &a.device)?;
        let reference_sha256 = file_sha256(&reference.dir.join(phf_lm::weights::WEIGHTS_FILE))?;
        let cache_dir = match &a.kl_cache {
            Some(d) => d.clone(),
            None => home_cache().join("kl-samples"),
        };
        let max_tokens = 64.min(reference.model.config.n_ctx - 1);
        let cache = cache_dir.join(format!("{}-{}-{max_tokens}.json", &reference_sha256[..16], a.seed));
        let ref_banned = ControlTokens::of(&reference.tokenizer).banned(BanControl::All);
        let samples = ReferenceSamples::cached(
            &cache,
            &reference_sha256,
            &reference.tokenizer.hash(),
            a.seed,
            max_tokens,
            a.kl_samples,
            || {
                let opts = reference_sample_options(a.kl_samples, max_tokens, a.seed, ref_banned);
                let mut progress = Progress::new("phf eval: reference samples");
                let s = draw_reference_samples(&reference.model, &reference.tokenizer, &opts, |done| {
                    progress.count(done, a.kl_samples)
                });
                progress.end("");
                s
            },
        )?;
        let eos = |t: &phf_data::Tokenizer| vec![i64::from(t.eos_id())];
        let estimate = kl_from_reference(
            &Scored {
                model: &reference.model,
                tokenizer: &reference.tokenizer,
                prompt: eos(&reference.tokenizer),
            },
            &Scored {
                model: &target.model,
                tokenizer: &target.tokenizer,
                prompt: sampler.prompt_ids("")?,
            },
            &samples.samples,
            64,
        );
        if estimate.mode == KlMode::Text {
            eprintln!(
                "phf eval: the reference's tokenizer differs: KL computed on text, each model with its own tokenizer"
            );
        }
        record.kl = Some(KlRecord {
            reference: reference_dir.display().to_string(),
            reference_sha256,
            estimate,
        });
    }

    let prompts = match (&a.prompts, &a.mine_prompts) {
        (Some(p), _) => Some(read_prompts(p)?.into_iter().take(a.num_prompts).collect::<Vec<_>>()),
        (None, Some(scored)) => {
            let from = if pep8 { MineFrom::Code } else { MineFrom::Prose };
            Some(mine_prompts(scored, a.num_prompts, from)?)
        }
        (None, None) => None,
    };
    if let Some(prompts) = &prompts {
        let opts = prompted_sample_options(a.seed);
        let mut progress = Progress::new("phf eval: prompted");
        let (eval, results) =
            evaluate_prompted(&sampler, scorer.as_ref(), prompts, &opts, hit_threshold, pep8, |done| {
                progress.count(done, prompts.len())
            })?;
        progress.end("");
        write_jsonl(&out.join(PROMPTED_FILE), &results)?;
        record.prompted = Some(eval);
    }

    if a.red_team {
        let Some(seeds) = &prompts else {
            bail!("--red-team needs seed prompts: pass --prompts FILE or --mine-prompts SCORED.jsonl");
        };
        record.red_team = Some(run_red_team(a, &task, &sampler, scorer.as_ref(), seeds, pep8, &out)?);
    }

    let path = out.join(EVAL_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((record, out))
}

fn run_red_team(
    a: &EvalArgs,
    task: &str,
    target: &Sampler,
    scorer: &dyn Scorer,
    seeds: &[String],
    pep8: bool,
    out: &Path,
) -> Result<Vec<phf_eval::redteam::RoundStats>> {
    let red_model = match &a.red_lm {
        Some(p) => Some(LoadedModel::load(p, a.red_tokenizer.as_deref(), &a.device)?),
        None => None,
    };
    let (model, tokenizer) = match &red_model {
        Some(m) => (&m.model, &m.tokenizer),
        None => (target.model, target.tokenizer),
    };
    let red_control = ControlTokens::of(tokenizer);
    let red = Sampler {
        model,
        tokenizer,
        control: red_control.prompt_ids(&a.red_control)?,
        banned: red_control.banned(BanControl::All),
    };
    let opts = RedTeamOptions {
        rounds: a.rounds,
        trials_per_round: a.trials,
        responses_per_trial: a.responses,
        continuations: a.continuations,
        seed: a.seed,
        ..RedTeamOptions::default()
    };
    // the red LM writes one line per response; the target continues as SPEC §5 says
    let red_opts = SampleOptions {
        batch_size: a.batch_size,
        max_new_tokens: 32,
        min_new_tokens: 0,
        temperature: 1.0,
        top_p: 1.0,
        ..SampleOptions::default()
    };
    let target_opts = SampleOptions {
        batch_size: a.batch_size,
        max_new_tokens: 64,
        min_new_tokens: 10,
        temperature: 0.7,
        top_p: 0.9,
        ..SampleOptions::default()
    };
    let progress = Progress::new("phf eval:");
    let result = red_team(
        task,
        &red,
        target,
        scorer,
        seeds,
        &opts,
        &red_opts,
        &target_opts,
        pep8,
        |line| progress.say(line),
    )?;
    progress.end("");
    let path = out.join(RED_TEAM_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(&result)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(result.rounds)
}

fn run_label(model: &Path) -> String {
    model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| model.display().to_string())
}

fn home_cache() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".cache/phf")
}

fn write_samples(path: &Path, texts: &[String], scores: &[f32], tokens: &[usize]) -> Result<()> {
    let records: Vec<SampleRecord> = texts
        .iter()
        .zip(scores)
        .zip(tokens)
        .map(|((t, &s), &n)| SampleRecord {
            text: t.clone(),
            score: s,
            tokens: n,
        })
        .collect();
    write_jsonl(path, &records)
}

fn write_jsonl<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?);
    for row in rows {
        writeln!(f, "{}", serde_json::to_string(row)?)?;
    }
    f.flush()?;
    drop(f);
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
