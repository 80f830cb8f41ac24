//! Sharded preparation: `n` machines each run `phf prepare --shard i/n` on the same inputs and pack a disjoint part
//! of the corpus; training opens the `n` parts together as one shard.
//!
//! Document `k` (0-based, counted over all inputs in order, empty documents not counted) belongs to part
//! `k mod n`. Each part keeps the whole run's decisions — a document's train/valid split and its control-token
//! drops are seeded by its global `k`, and quantile thresholds are resolved on the whole corpus (every part reads
//! all scores in its first pass) — so the parts together hold exactly the documents, splits and control tokens of
//! an unsharded run; only the cut into blocks differs (each part drops its own trailing partial block).
//!
//! Part `i` of `n` is written to `<out>/train/part-<i>-of-<n>/` and `<out>/valid/part-<i>-of-<n>/` (shards),
//! `<out>/prepare-part-<i>-of-<n>.json` and `<out>/tokenizer.json` (the same file from every part). [`open_parts`]
//! opens `<out>/train` as one shard once all `n` parts are there, after checking they were made alike.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::shard::{open_one, MappedPart, ShardHeader, UNIGRAM_FILE};
use crate::shard_writer::unigram_entropy_nats;
use crate::transform::TransformRecord;

/// Part `index` of `count` of a corpus; `0/1` is the whole corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusPart {
    pub index: u64,
    pub count: u64,
}

impl CorpusPart {
    /// The whole corpus.
    pub const ALL: CorpusPart = CorpusPart { index: 0, count: 1 };

    /// Whether document `k` belongs to this part.
    pub fn contains(&self, k: u64) -> bool {
        k % self.count == self.index
    }

    /// `part-<i>-of-<n>`, the part's folder name.
    pub fn dir_name(&self) -> String {
        format!("part-{}-of-{}", self.index, self.count)
    }

    /// Parses a folder name written by [`CorpusPart::dir_name`].
    fn from_dir_name(name: &str) -> Option<CorpusPart> {
        let (i, n) = name.strip_prefix("part-")?.split_once("-of-")?;
        let (index, count) = (i.parse().ok()?, n.parse().ok()?);
        (index < count).then_some(CorpusPart { index, count })
    }
}

impl fmt::Display for CorpusPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for CorpusPart {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "write the part as `i/n` with 0 <= i < n, e.g. `0/4` … `3/4` for four machines";
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("invalid shard `{s}`: {usage}"))?;
        let index: u64 = i.trim().parse().map_err(|_| format!("invalid shard `{s}`: {usage}"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("invalid shard `{s}`: {usage}"))?;
        if count == 0 || index >= count {
            return Err(format!("invalid shard `{s}`: {usage}"));
        }
        Ok(CorpusPart { index, count })
    }
}

/// Opens the `part-<i>-of-<n>` shards in `dir` as one (see the module docs); `None` if `dir` holds no parts.
pub(crate) fn open_parts(dir: &Path) -> Result<Option<(ShardHeader, Vec<MappedPart>)>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut found: Vec<CorpusPart> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| CorpusPart::from_dir_name(&e.file_name().to_string_lossy()))
        .collect();
    if found.is_empty() {
        return Ok(None);
    }
    found.sort_by_key(|p| (p.count, p.index));
    let count = found[0].count;
    if found.iter().any(|p| p.count != count) {
        let names: Vec<String> = found.iter().map(CorpusPart::dir_name).collect();
        return Err(DataError::shard(
            dir,
            format!(
                "holds parts of different splits of the corpus ({}): keep the parts of one `--shard i/n` run",
                names.join(", ")
            ),
        ));
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !found.iter().any(|p| p.index == *i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(DataError::shard(
            dir,
            format!(
                "is missing parts {}: run `phf prepare --shard <part>` for each (or copy their folders here)",
                missing.join(", ")
            ),
        ));
    }

    let mut headers = Vec::new();
    let mut parts = Vec::new();
    let mut first_block = 0usize;
    for part in &found {
        let part_dir = dir.join(part.dir_name());
        let (header, mapped) = open_one(&part_dir, first_block)?;
        if header.provenance.part.as_deref() != Some(part.to_string().as_str()) {
            return Err(DataError::shard(
                &part_dir,
                format!(
                    "its header says it is part {:?}, not {part}: the folder was renamed; re-run `phf prepare --shard \
                     {part}`",
                    header.provenance.part
                ),
            ));
        }
        first_block += header.num_blocks as usize;
        headers.push(header);
        parts.push(mapped);
    }
    let header = combined_header(dir, &headers, count)?;
    Ok(Some((header, parts)))
}

/// The header of the parts taken together: counts summed, the unigram entropy of the summed token counts; every
/// part must have been made with the same tokenizer, block size, transform and inputs.
fn combined_header(dir: &Path, headers: &[ShardHeader], count: u64) -> Result<ShardHeader> {
    let first = &headers[0];
    let settings = |h: &ShardHeader| {
        let mut provenance = h.provenance.clone();
        provenance.part = None;
        (
            h.tokenizer_hash.clone(),
            h.vocab_size,
            h.eos_id,
            h.block_size,
            h.token_dtype,
            provenance,
            without_counts(&h.transform),
        )
    };
    for (i, h) in headers.iter().enumerate().skip(1) {
        if settings(h) != settings(first) {
            return Err(DataError::shard(
                dir,
                format!(
                    "part {i}/{count} was made differently from part 0/{count} (tokenizer, block size, inputs, seed, \
                     split or transform differ): prepare every part with the same command, changing only --shard"
                ),
            ));
        }
    }
    let mut unigram = vec![0u64; first.vocab_size];
    for (i, h) in headers.iter().enumerate() {
        let path = dir
            .join(CorpusPart { index: i as u64, count }.dir_name())
            .join(UNIGRAM_FILE);
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        if bytes.len() != h.vocab_size * 8 {
            return Err(DataError::shard(
                dir,
                format!(
                    "{} has {} bytes, expected {} (a u64 count per token id): re-run that part",
                    path.display(),
                    bytes.len(),
                    h.vocab_size * 8
                ),
            ));
        }
        for (total, c) in unigram.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut le = [0u8; 8];
            le.copy_from_slice(c);
            *total += u64::from_le_bytes(le);
        }
    }
    let mut header = first.clone();
    header.num_blocks = headers.iter().map(|h| h.num_blocks).sum();
    header.num_tokens = headers.iter().map(|h| h.num_tokens).sum();
    header.num_documents = headers.iter().map(|h| h.num_documents).sum();
    header.unigram_entropy_nats = unigram_entropy_nats(&unigram);
    header.provenance.part = Some(format!("all/{count}"));
    header.transform = summed_transform(headers);
    Ok(header)
}

/// The transform's settings, its counts zeroed, to compare parts.
fn without_counts(t: &TransformRecord) -> TransformRecord {
    let mut t = t.clone();
    t.attributes.iter_mut().for_each(|a| a.counts = Default::default());
    t.documents_filtered = t.documents_filtered.map(|_| 0);
    t
}

/// The first part's transform with every part's counts added.
fn summed_transform(headers: &[ShardHeader]) -> TransformRecord {
    let mut total = headers[0].transform.clone();
    for h in &headers[1..] {
        for (a, b) in total.attributes.iter_mut().zip(&h.transform.attributes) {
            a.counts.add(&b.counts);
        }
        if let (Some(x), Some(y)) = (total.documents_filtered.as_mut(), h.transform.documents_filtered) {
            *x += y;
        }
    }
    total
}

#[cfg(test)]
#[path = "shard_parts_tests.rs"]
mod tests;
