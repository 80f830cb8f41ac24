//! `phf grid` keeps what an earlier sitting made. Before it builds on a kept scored corpus or prepared data, these
//! checks make sure they are what this grid would make now: a scorer or threshold changed since would otherwise
//! be trained on silently.

use std::path::Path;

use anyhow::{bail, Context, Result};
use phf_data::{Shard, Threshold};

use super::summary::sibling;

/// The kept `scored` corpus was made by `task`'s scorer at this build's version, cut by `segmenter`, as recorded
/// in its `.meta.json` (a corpus without one is not checked).
pub fn check_scored(scored: &Path, task: &str, segmenter: &str) -> Result<()> {
    let meta_path = sibling(scored, ".meta.json");
    let Ok(text) = std::fs::read_to_string(&meta_path) else {
        return Ok(());
    };
    let meta: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", meta_path.display()))?;
    let now = phf_score::scorer_by_name(task)?.id();
    let was = (
        meta["scorer_name"].as_str(),
        meta["scorer_version"].as_str(),
        meta["segmenter"].as_str(),
    );
    if was != (Some(&*now.name), Some(&*now.version), Some(segmenter)) {
        bail!(
            "{}: scored by {}@{}, cut into {}, but this grid scores with {now}, cut into {segmenter}. Move {} (the \
             task's whole folder) aside to score and train it again, or finish the grid with the scorer that made \
             it (for PII, PHF_PII_NAMES=ner-fp32 gives the fp32 NER's scores)",
            scored.display(),
            was.0.unwrap_or("?"),
            was.1.unwrap_or("?"),
            was.2.unwrap_or("?"),
            scored.parent().unwrap_or(scored).display()
        );
    }
    Ok(())
}

/// The kept data in `out` was prepared with `threshold` (as given: `0.000286` or `q0.9`), or with none.
pub fn check_prepared(out: &Path, threshold: Option<Threshold>) -> Result<()> {
    let shard = Shard::open(&out.join("train"))?;
    let was = shard
        .header()
        .transform
        .attributes
        .first()
        .map(|a| a.threshold_given.clone());
    let now = threshold.map(|t| t.to_string());
    if was != now {
        bail!(
            "{}: prepared with threshold {}, but this grid uses {}. Move it aside, with the runs trained on it, to \
             prepare it again",
            out.display(),
            was.as_deref().unwrap_or("none"),
            now.as_deref().unwrap_or("none")
        );
    }
    Ok(())
}
