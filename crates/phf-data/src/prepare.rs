//! The `prepare` stage of the pipeline (DESIGN.md): scored documents in, `train` and `valid` shards out.
//!
//! Documents are streamed, assigned to a split by a hash of `(seed, document index)` (so the split is fixed by the
//! seed and does not depend on batch sizes or thread counts), tokenized segment by segment in parallel, packed as
//! SPEC §2 says, and written to shards. The output directory appears whole or not at all.
//!
//! [`prepare_with_transform`] also applies an objective-specific transform ([`crate::transform`]): filtering or
//! conditional control tokens. Its thresholds may be quantiles of the corpus' scores, so it first reads the input
//! once to collect them ([`ScoreScan`]); the split assignment is the same as without a transform, so a filtering run
//! holds out a subset of the documents an MLE run holds out, and the transform applies to both splits.
//!
//! [`prepare_part`] packs one part of the corpus (`--shard i/n`, see [`crate::shard_parts`]) so that `n` machines
//! share the work; the `n` parts open together as one shard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::error::{DataError, Result};
use crate::fsutil::{write_atomically, StagingDir};
use crate::pack::Packer;
use crate::reader::{CorpusReader, ReadStats};
use crate::shard::{Provenance, ShardHeader, HEADER_FILE};
use crate::shard_parts::CorpusPart;
use crate::shard_writer::{ShardSpec, ShardWriter};
use crate::threshold::ScoreScan;
use crate::tokenizer::Tokenizer;
use crate::transform::{TransformCounts, TransformKind, TransformOptions, TransformRecord, Transformer};

/// The report written to `<out_dir>/prepare.json`; its presence marks a complete `prepare` output.
pub const REPORT_FILE: &str = "prepare.json";
/// The tokenizer used, copied beside the shards so the output folder is self-contained; with conditional training's
/// control tokens added, so its hash is the shards' `tokenizer_hash`.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Documents tokenized together; large enough to keep every core busy, small enough to stream.
const CHUNK_DOCUMENTS: usize = 512;

/// Options of [`prepare()`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepareOptions {
    /// Tokens per block (SPEC §4: 1024 at paper scale).
    pub block_size: usize,
    /// Expected fraction of documents that go to `valid`, in `[0, 1)`.
    pub valid_fraction: f64,
    /// Seeds the train/valid assignment.
    pub seed: u64,
    /// Print a progress line to stderr every few seconds.
    pub progress: bool,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            block_size: 1024,
            valid_fraction: 0.01,
            seed: 42,
            progress: false,
        }
    }
}

/// Counts for one split.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SplitReport {
    /// Documents assigned to the split.
    pub documents: u64,
    /// Blocks written.
    pub blocks: u64,
    /// Tokens written (`blocks × block_size`).
    pub tokens: u64,
    /// Tokens of the trailing partial block, dropped (SPEC §2).
    pub dropped_tokens: u64,
    /// See [`ShardHeader::unigram_entropy_nats`].
    pub unigram_entropy_nats: f64,
}

impl SplitReport {
    fn new(header: &ShardHeader, dropped_tokens: u64) -> Self {
        SplitReport {
            documents: header.num_documents,
            blocks: header.num_blocks,
            tokens: header.num_tokens,
            dropped_tokens,
            unigram_entropy_nats: header.unigram_entropy_nats,
        }
    }
}

/// What [`prepare()`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrepareReport {
    pub out_dir: PathBuf,
    pub tokenizer_hash: String,
    pub options: PrepareOptions,
    /// The part of the corpus packed (`0/1`: all of it).
    pub part: CorpusPart,
    /// Files read.
    pub files: u64,
    pub bytes_read: u64,
    /// Documents of this part (both splits; filtering may drop some of them).
    pub documents: u64,
    /// Documents of the whole input (equal to `documents` unless a part was packed).
    pub documents_in_input: u64,
    /// Documents skipped (empty, or rejected by the mail rules).
    pub skipped_documents: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub train: SplitReport,
    pub valid: SplitReport,
    /// The transform with its resolved numbers; counts over both splits (each shard header has its own).
    pub transform: TransformRecord,
    pub seconds: f64,
}

/// One output split being written.
struct Split<'t> {
    packer: Packer<'t>,
    writer: ShardWriter,
    counts: TransformCounts,
}

impl Split<'_> {
    fn drain(&mut self) -> Result<()> {
        while let Some((tokens, scores)) = self.packer.pop_block() {
            self.writer.write_block(&tokens, &scores)?;
        }
        Ok(())
    }
}

/// Reads `inputs`, packs them with `tokenizer` and writes `out_dir/train`, `out_dir/valid`, `out_dir/prepare.json`
/// and `out_dir/tokenizer.json`. An existing `out_dir` is replaced only if it is an earlier `prepare` output.
pub fn prepare(
    inputs: &[PathBuf],
    tokenizer: &Tokenizer,
    opts: &PrepareOptions,
    out_dir: &Path,
) -> Result<PrepareReport> {
    prepare_with_transform(inputs, tokenizer, opts, &TransformOptions::default(), out_dir)
}

/// [`prepare()`] with an objective-specific transform (SPEC §3). For conditional training the control tokens are
/// added to a copy of `tokenizer`; that extended tokenizer is the one written to `out_dir/tokenizer.json` and whose
/// hash the shards record. The drop decisions are seeded by `opts.seed`.
pub fn prepare_with_transform(
    inputs: &[PathBuf],
    tokenizer: &Tokenizer,
    opts: &PrepareOptions,
    transform: &TransformOptions,
    out_dir: &Path,
) -> Result<PrepareReport> {
    prepare_part(inputs, tokenizer, opts, transform, CorpusPart::ALL, out_dir)
}

/// [`prepare_with_transform`] of one part of the corpus (see [`crate::shard_parts`] for the layout under
/// `out_dir`); `CorpusPart::ALL` writes the plain layout.
pub fn prepare_part(
    inputs: &[PathBuf],
    tokenizer: &Tokenizer,
    opts: &PrepareOptions,
    transform: &TransformOptions,
    part: CorpusPart,
    out_dir: &Path,
) -> Result<PrepareReport> {
    if part == CorpusPart::ALL {
        let staging = StagingDir::create(out_dir)?;
        let report = pack(inputs, tokenizer, opts, transform, part, out_dir, staging.path())?;
        staging.commit(REPORT_FILE)?;
        return Ok(report);
    }
    if out_dir.join(REPORT_FILE).is_file() || out_dir.join("train").join(HEADER_FILE).is_file() {
        return Err(DataError::Input {
            path: out_dir.to_path_buf(),
            msg: "holds the output of an unsharded `phf prepare`: give the parts of `--shard i/n` another --out".into(),
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|e| DataError::io(out_dir, e))?;
    let staging = StagingDir::create(&out_dir.join(format!(".{}", part.dir_name())))?;
    let report = pack(inputs, tokenizer, opts, transform, part, out_dir, staging.path())?;
    publish_part(staging.path(), out_dir, part)?;
    Ok(report)
}

/// Moves a finished part from its staging folder into `out_dir`: shards first, the shared tokenizer (which must
/// match the other parts'), the report last; the staging folder is removed when its guard drops.
fn publish_part(staged: &Path, out_dir: &Path, part: CorpusPart) -> Result<()> {
    let tokenizer_path = out_dir.join(TOKENIZER_FILE);
    let staged_tokenizer = staged.join(TOKENIZER_FILE);
    if tokenizer_path.is_file() {
        let ours = Tokenizer::load(&staged_tokenizer)?.hash();
        let theirs = Tokenizer::load(&tokenizer_path)?.hash();
        if ours != theirs {
            return Err(DataError::Input {
                path: tokenizer_path,
                msg: format!(
                    "belongs to other parts (tokenizer {theirs}) but part {part} was made with {ours}: every part \
                     needs the same tokenizer and transform"
                ),
            });
        }
    } else {
        let bytes = std::fs::read(&staged_tokenizer).map_err(|e| DataError::io(&staged_tokenizer, e))?;
        write_atomically(&tokenizer_path, &bytes)?;
    }
    for split in ["train", "valid"] {
        let parent = out_dir.join(split);
        std::fs::create_dir_all(&parent).map_err(|e| DataError::io(&parent, e))?;
        let dest = parent.join(part.dir_name());
        if dest.exists() {
            if !dest.join(HEADER_FILE).is_file() {
                return Err(DataError::Input {
                    path: dest,
                    msg: "exists and is not a shard: remove it or choose another output".into(),
                });
            }
            std::fs::remove_dir_all(&dest).map_err(|e| DataError::io(&dest, e))?;
        }
        let from = staged.join(split);
        std::fs::rename(&from, &dest).map_err(|e| DataError::io(&from, e))?;
    }
    let report = out_dir.join(format!("prepare-{}.json", part.dir_name()));
    std::fs::rename(staged.join(REPORT_FILE), &report).map_err(|e| DataError::io(&report, e))?;
    Ok(())
}

/// Packs the documents of `part` into `train/` and `valid/` shards under `dir`, with the report and tokenizer.
fn pack(
    inputs: &[PathBuf],
    tokenizer: &Tokenizer,
    opts: &PrepareOptions,
    transform: &TransformOptions,
    part: CorpusPart,
    out_dir: &Path,
    dir: &Path,
) -> Result<PrepareReport> {
    if !(0.0..1.0).contains(&opts.valid_fraction) {
        return Err(DataError::Config(format!(
            "valid_fraction {} must be in [0, 1)",
            opts.valid_fraction
        )));
    }
    transform.validate()?;
    let started = Instant::now();
    let required: Vec<String> = transform.score_fields().into_iter().flatten().collect();
    let mut tokenizer = tokenizer.clone();
    let transformer = if transform.kind == TransformKind::Plain {
        Transformer::plain()
    } else {
        // First pass: the scores the thresholds are resolved against (see `crate::threshold`).
        let reader = CorpusReader::open(inputs)?.require_attributes(&required);
        let scan = ScoreScan::collect(reader, &transform.score_fields())?;
        Transformer::new(transform, opts.seed, &scan, &mut tokenizer)?
    };
    let tokenizer = &tokenizer;
    let mut reader = CorpusReader::open(inputs)?.require_attributes(&required);
    let spec = ShardSpec::new(tokenizer, opts.block_size);
    let make_split = |name: &str| -> Result<Split<'_>> {
        Ok(Split {
            packer: Packer::new(tokenizer, opts.block_size)?,
            writer: ShardWriter::create(&dir.join(name), spec.clone())?,
            counts: transformer.counts(),
        })
    };
    let mut train = make_split("train")?;
    let mut valid = make_split("valid")?;

    let mut progress = Progress::new(opts.progress);
    // Global document index: it decides the part, the split and the drop decisions, so parts agree with a whole run.
    let mut index = 0u64;
    let mut part_documents = 0u64;
    let mut chunk: Vec<(u64, Document)> = Vec::with_capacity(CHUNK_DOCUMENTS);
    loop {
        chunk.clear();
        let mut read = 0;
        for doc in reader.by_ref().take(CHUNK_DOCUMENTS * part.count as usize) {
            let doc = doc?;
            if part.contains(index) {
                chunk.push((index, doc));
            }
            index += 1;
            read += 1;
        }
        if read == 0 {
            break;
        }
        part_documents += chunk.len() as u64;
        let segments: Vec<&str> = chunk
            .iter()
            .flat_map(|(_, d)| d.texts.iter().map(String::as_str))
            .collect();
        let mut encoded = tokenizer.encode_batch(&segments).into_iter();
        for (index, doc) in &chunk {
            let ids: Vec<Vec<u32>> = encoded.by_ref().take(doc.texts.len()).collect();
            let split = if is_valid(opts.seed, *index, opts.valid_fraction) {
                &mut valid
            } else {
                &mut train
            };
            if let Some(ids) = transformer.apply(*index, doc, ids, &mut split.counts)? {
                split.packer.push_encoded(&ids, &doc.scores);
                split.drain()?;
            }
        }
        progress.update(
            reader.stats(),
            train.packer.tokens_pushed() + valid.packer.tokens_pushed(),
        );
    }

    let stats = reader.stats().clone();
    let inputs_str: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let mut total_counts = transformer.counts();
    let mut finish = |split: Split<'_>, name: &str| -> Result<SplitReport> {
        let Split {
            packer,
            mut writer,
            counts,
        } = split;
        writer.set_transform(transformer.record(&counts));
        total_counts.add(&counts);
        let documents = packer.documents();
        let (blocks, dropped) = packer.finish();
        for (tokens, scores) in &blocks {
            writer.write_block(tokens, scores)?;
        }
        let provenance = Provenance {
            inputs: inputs_str.clone(),
            created_by: format!("phf-data {}", env!("CARGO_PKG_VERSION")),
            split: Some(name.to_string()),
            seed: Some(opts.seed),
            valid_fraction: Some(opts.valid_fraction),
            part: (part != CorpusPart::ALL).then(|| part.to_string()),
        };
        let header = writer.finish(documents, stats.skipped, provenance)?;
        Ok(SplitReport::new(&header, dropped as u64))
    };
    let train = finish(train, "train")?;
    let valid = finish(valid, "valid")?;

    let report = PrepareReport {
        out_dir: out_dir.to_path_buf(),
        tokenizer_hash: spec.tokenizer_hash,
        options: opts.clone(),
        part,
        files: stats.files,
        bytes_read: stats.bytes_read,
        documents: part_documents,
        documents_in_input: stats.documents,
        skipped_documents: stats.skipped,
        skipped_by_reason: stats.skipped_by_reason,
        train,
        valid,
        transform: transformer.record(&total_counts),
        seconds: started.elapsed().as_secs_f64(),
    };
    tokenizer.save(&dir.join(TOKENIZER_FILE))?;
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| DataError::Config(format!("cannot serialise the prepare report: {e}")))?;
    write_atomically(&dir.join(REPORT_FILE), json.as_bytes())?;
    progress.done(&report);
    Ok(report)
}

/// Whether document `index` goes to `valid`: a splitmix64 hash of `(seed, index)` read as a uniform in `[0, 1)`.
pub fn is_valid(seed: u64, index: u64, valid_fraction: f64) -> bool {
    let h = splitmix64(seed ^ splitmix64(index));
    // The top 53 bits give an exactly representable uniform double.
    ((h >> 11) as f64 / (1u64 << 53) as f64) < valid_fraction
}

/// Steele et al.'s SplitMix64 finaliser: a fixed, platform-independent 64-bit mix.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Trains a byte-level BPE of `vocab_size` on the segments of `inputs` (see [`Tokenizer::train_bpe`]), streaming;
/// stops at the first bad record and returns its error.
pub fn train_tokenizer(inputs: &[PathBuf], vocab_size: usize) -> Result<(Tokenizer, ReadStats)> {
    let mut reader = CorpusReader::open(inputs)?;
    let first_error: Mutex<Option<DataError>> = Mutex::new(None);
    let segments = reader
        .by_ref()
        .map_while(|doc| match doc {
            Ok(doc) => Some(doc.texts),
            Err(e) => {
                if let Ok(mut slot) = first_error.lock() {
                    *slot = Some(e);
                }
                None
            }
        })
        .flatten();
    let tokenizer = Tokenizer::train_bpe(segments, vocab_size);
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok((tokenizer?, reader.stats().clone()))
}

/// Periodic progress lines on stderr.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    fn update(&mut self, stats: &ReadStats, tokens: u64) {
        if !self.enabled || self.last.elapsed().as_secs_f64() < 5.0 {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        eprintln!(
            "prepare: {} documents ({} skipped), {} tokens, {:.1} MB read, {:.2} MB/s",
            stats.documents,
            stats.skipped,
            tokens,
            stats.bytes_read as f64 / 1e6,
            stats.bytes_read as f64 / 1e6 / secs
        );
    }

    fn done(&self, report: &PrepareReport) {
        if self.enabled {
            eprintln!(
                "prepare: done in {:.1}s: {} documents ({} skipped); train {} blocks, valid {} blocks -> {}",
                report.seconds,
                report.documents,
                report.skipped_documents,
                report.train.blocks,
                report.valid.blocks,
                report.out_dir.display()
            );
        }
    }
}

#[cfg(test)]
#[path = "prepare_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "prepare_transform_tests.rs"]
mod transform_tests;
