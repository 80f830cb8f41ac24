//! `phf prepare`: documents → train/valid shards of fixed-length token blocks with per-token scores (SPEC §2), with
//! the objective-specific transform of SPEC §3 (filtering, conditional control tokens).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use phf_data::prepare::{prepare_part, PrepareOptions};
use phf_data::{AttributeSpec, CorpusPart, Threshold, Tokenizer, TransformKind, TransformOptions};

#[derive(Args)]
pub struct PrepareArgs {
    /// Documents: JSONL in the reference schema (`texts`/`scores`, plus `scores_<attribute>` for further
    /// attributes), `.txt` files, or folders of them.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// tokenizer.json from `phf tokenizer train` (its hash is recorded in the shards; conditional training adds its
    /// control tokens and writes the extended tokenizer to <out>/tokenizer.json: train with that one).
    #[arg(long)]
    pub tokenizer: PathBuf,
    /// Output folder; `train/` and `valid/` shards are written inside it.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Tokens per block (the model's context; 1024 at paper scale).
    #[arg(long, default_value_t = 256)]
    pub block_size: usize,
    /// Share of documents held out for validation (chosen by a seeded hash of each document's position).
    #[arg(long, default_value_t = 0.05)]
    pub valid_fraction: f64,
    /// Seeds the train/valid split and which control tokens are dropped.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// plain: as is (MLE, unlikelihood, RWR, AWR); filtering: drop documents whose avg_score > threshold;
    /// conditional: prefix each segment with <|aligned|> (score <= threshold) or <|misaligned|>.
    #[arg(long, value_enum, default_value_t = Transform::Plain)]
    pub transform: Transform,
    /// Misalignment-score threshold of filtering/conditional: a score (0.00056) or a quantile of the corpus'
    /// segment scores (q0.05 = the 5% least misaligned segments are aligned). One per attribute with --attributes,
    /// comma-separated.
    #[arg(long, alias = "thresholds", value_delimiter = ',', value_parser = parse_threshold)]
    pub threshold: Vec<Threshold>,
    /// Conditional: probability of leaving out a segment's control token (the paper: 0.01, PEP8 0.1).
    #[arg(long, default_value_t = 0.01, value_parser = parse_drop)]
    pub drop: f64,
    /// Multi-attribute conditioning/filtering, e.g. `toxicity,pii`: the first attribute's scores are `scores` (and
    /// fill the per-token scores), each further one reads `scores_<name>`; each segment gets one control token per
    /// attribute in this order (<|toxicity:aligned|><|pii:misaligned|>). Give one --thresholds value per attribute.
    #[arg(long, value_delimiter = ',')]
    pub attributes: Vec<String>,
    /// Pack only part i of n (0-based) so n machines share the work: document k (in input order) belongs to part
    /// k mod n; its split and control tokens are decided as in an unsharded run, and quantile thresholds are
    /// resolved on the whole corpus. Each part writes <out>/train/part-i-of-n and <out>/valid/part-i-of-n; once all n
    /// are in one <out> (a shared folder, or copied together), training reads <out>/train as one shard.
    #[arg(long, default_value = "0/1", value_parser = parse_part)]
    pub shard: CorpusPart,
}

fn parse_part(s: &str) -> Result<CorpusPart, String> {
    s.parse()
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transform {
    Plain,
    Filtering,
    Conditional,
}

fn parse_threshold(s: &str) -> Result<Threshold, String> {
    s.parse()
}

fn parse_drop(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..1.0).contains(&x) => Ok(x),
        _ => Err(format!("`{s}` is not a fraction in [0, 1)")),
    }
}

/// The library's transform options from the flags; errors name the flag to change.
fn transform_options(a: &PrepareArgs) -> Result<TransformOptions> {
    let kind = match a.transform {
        Transform::Plain => TransformKind::Plain,
        Transform::Filtering => TransformKind::Filtering,
        Transform::Conditional => TransformKind::Conditional,
    };
    let names: Vec<Option<String>> = if a.attributes.is_empty() {
        a.threshold.iter().map(|_| None).collect()
    } else {
        a.attributes.iter().map(|n| Some(n.trim().to_string())).collect()
    };
    if !a.attributes.is_empty() && names.len() != a.threshold.len() {
        bail!(
            "--attributes names {} attributes but --thresholds gives {} values: give one threshold per attribute, \
             in the same order",
            names.len(),
            a.threshold.len()
        );
    }
    if a.attributes.is_empty() && a.threshold.len() > 1 {
        bail!(
            "--threshold has {} values: name the attributes they belong to with --attributes",
            a.threshold.len()
        );
    }
    let attributes = names
        .into_iter()
        .zip(&a.threshold)
        .map(|(name, &threshold)| AttributeSpec { name, threshold })
        .collect();
    let opts = TransformOptions {
        kind,
        attributes,
        drop: a.drop,
    };
    opts.validate()?;
    Ok(opts)
}

pub fn run(a: PrepareArgs) -> Result<()> {
    let report = prepare_report(a)?;
    println!("{report}");
    Ok(())
}

/// `phf prepare` for a pipeline: the JSON report goes to standard error with the progress.
pub fn prepare_quietly(a: PrepareArgs) -> Result<()> {
    let report = prepare_report(a)?;
    eprintln!("{report}");
    Ok(())
}

fn prepare_report(a: PrepareArgs) -> Result<String> {
    let transform = transform_options(&a)?;
    let tokenizer = Tokenizer::load(&a.tokenizer)?;
    let opts = PrepareOptions {
        block_size: a.block_size,
        valid_fraction: a.valid_fraction,
        seed: a.seed,
        progress: true,
    };
    let report = prepare_part(&a.input, &tokenizer, &opts, &transform, a.shard, &a.out)
        .with_context(|| format!("phf prepare into {}", a.out.display()))?;
    Ok(serde_json::to_string_pretty(&report)?)
}
