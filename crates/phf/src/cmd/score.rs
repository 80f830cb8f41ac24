//! `phf score`: a corpus in, one reference-schema record per document out, every segment scored by a reward
//! function (SPEC §2, §6). Streams in constant memory; `--shard i/n` splits a corpus across machines.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use phf_score::corpus::{resolve_inputs, score_corpus, CorpusError, CorpusReader, CorpusStats, RunOptions, Shard};
use phf_score::{scorer_by_name, Segmenter};

use super::summary::sibling;

#[derive(Args)]
pub struct ScoreArgs {
    /// Documents: `.jsonl` (one {"text": ...} object per line; other fields such as `id` are carried into the
    /// output), `.txt` (one document per file), folders of these (searched recursively, sorted), or `-` for JSON
    /// lines on standard input.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Reward function: `toxicity`, `toxicity:<label>`, `pii`, `pep8`, `offensive`, or `cmd:<command>` for your
    /// own scorer speaking JSON lines (e.g. `cmd:python3 scripts/score/example_scorer.py`).
    #[arg(long)]
    pub scorer: String,
    /// How documents are cut into scored segments: `sentences` (prose), `lines` (code) or `none` (the whole
    /// document is one segment).
    #[arg(long, default_value = "sentences")]
    pub segment: Segmenter,
    /// Output JSONL, one record per document: `texts`, `scores`, `avg_score`, `num_sents`, the carried fields,
    /// `scorer`, `scorer_version`. Written to a hidden file beside it and renamed when complete, so a failed run
    /// leaves nothing behind. Standard output when omitted.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Provenance JSON (inputs, scorer and version, segmenter, shard, counts, seconds). Defaults to
    /// `<out>.meta.json`; with output on standard output, written only when given.
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// Score only shard `i` of `n` (0-based): document k, counted in input order across all files, belongs to
    /// shard k mod n. Run `0/n` … `n-1/n` on n machines; together the outputs hold every document once.
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Documents per scoring batch: all their segments go to the scorer in one (parallel) call.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// No progress output; the final summary line is still printed.
    #[arg(long)]
    pub quiet: bool,
    /// After scoring, summarise the score distribution (quantiles, share above the paper's thresholds, mean):
    /// printed, written to `<out>.summary.json`, and drawn to `<out>.hist.png` (see `phf corpus summary`).
    #[arg(long, requires = "out")]
    pub summary: bool,
}

pub fn run(a: ScoreArgs) -> Result<()> {
    if a.batch_size == 0 {
        bail!("--batch-size must be at least 1 (documents per scoring batch)");
    }
    let scorer = scorer_by_name(&a.scorer)?;
    let id = scorer.id();
    let sources = resolve_inputs(&a.input)?;
    let mut reader = CorpusReader::new(sources.clone(), a.shard);
    let options = RunOptions {
        segmenter: a.segment,
        batch_documents: a.batch_size,
        ..RunOptions::default()
    };
    let meta_path = a
        .meta
        .clone()
        .or_else(|| a.out.as_ref().map(|out| sibling(out, ".meta.json")));

    let start = Instant::now();
    let mut progress = Progress::new(reader.total_bytes(), a.quiet);
    let stats = match &a.out {
        Some(path) => {
            let mut out = PartialFile::create(path)?;
            let stats = score_corpus(scorer.as_ref(), &options, &mut reader, out.writer(), |s| {
                progress.update(s)
            })?;
            out.commit()?;
            stats
        }
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            match score_corpus(scorer.as_ref(), &options, &mut reader, &mut out, |s| progress.update(s)) {
                Ok(stats) => stats,
                // The reader of our output went away (`phf score ... | head`): stop quietly, as Unix tools do.
                Err(CorpusError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    progress.finish();
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    progress.finish();

    if let Some(meta_path) = &meta_path {
        let meta = serde_json::json!({
            "phf_version": env!("CARGO_PKG_VERSION"),
            "inputs": a.input,
            "files": sources.iter().map(|s| &s.path).collect::<Vec<_>>(),
            "output": a.out,
            "scorer": a.scorer,
            "scorer_name": id.name,
            "scorer_version": id.version,
            "segmenter": a.segment.name(),
            "shard": a.shard.to_string(),
            "documents": stats.documents,
            "documents_in_input": stats.documents_seen,
            "empty_documents": stats.empty_documents,
            "segments": stats.segments,
            "mean_segment_score": stats.mean_segment_score(),
            "bytes_read": stats.bytes_read,
            "seconds": seconds,
        });
        let mut file = PartialFile::create(meta_path)?;
        serde_json::to_writer_pretty(file.writer(), &meta)?;
        writeln!(file.writer())?;
        file.commit()?;
    }
    eprintln!("{}", summary(&stats, seconds, a.shard));
    if let (true, Some(out)) = (a.summary, &a.out) {
        super::summary::summarise(
            std::slice::from_ref(out),
            &phf_data::score_summary::paper_thresholds(),
            &sibling(out, ".summary.json"),
            &sibling(out, ".hist.png"),
        )?;
    }
    Ok(())
}

/// The last line a run prints: what was scored and how fast.
fn summary(stats: &CorpusStats, seconds: f64, shard: Shard) -> String {
    let mb = stats.bytes_read as f64 / 1e6;
    let mean = stats
        .mean_segment_score()
        .map_or_else(|| "n/a".into(), |m| format!("{m:.6}"));
    let shard = if shard == Shard::ALL {
        String::new()
    } else {
        format!(" (shard {shard} of {} documents)", stats.documents_seen)
    };
    format!(
        "scored {} documents{shard}, {} segments ({} empty documents), {mb:.1} MB in {seconds:.1}s \
         ({:.2} MB/s); mean segment score {mean}",
        stats.documents,
        stats.segments,
        stats.empty_documents,
        mb / seconds.max(1e-9),
    )
}

/// An output file written under a hidden temporary name beside its destination and renamed into place by
/// `commit`; dropped uncommitted (an error), it removes the temporary file.
struct PartialFile {
    dest: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl PartialFile {
    fn create(dest: &Path) -> Result<Self> {
        if dest.is_dir() {
            bail!(
                "{} is a directory: pass a file name such as scored.jsonl",
                dest.display()
            );
        }
        let name = dest
            .file_name()
            .with_context(|| format!("{} does not name a file", dest.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".partial-{}", std::process::id()));
        let temp = dest.with_file_name(temp_name);
        let file = File::create(&temp).with_context(|| {
            format!(
                "cannot create {} (for {}): does its folder exist and is it writable?",
                temp.display(),
                dest.display()
            )
        })?;
        Ok(PartialFile {
            dest: dest.to_path_buf(),
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("writer taken only by commit")
    }

    fn commit(mut self) -> Result<()> {
        let writer = self.writer.take().expect("commit runs once");
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", self.temp.display()))?;
        file.sync_all()
            .with_context(|| format!("writing {}", self.temp.display()))?;
        std::fs::rename(&self.temp, &self.dest)
            .with_context(|| format!("renaming {} to {}", self.temp.display(), self.dest.display()))?;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Progress on stderr: an indicatif bar (or spinner, on standard input) on a terminal; elsewhere a line every
/// few seconds, so logs of long runs show throughput without filling up.
struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    last_line: Instant,
    quiet: bool,
}

/// How often a non-terminal progress line is printed.
const LINE_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    fn new(total_bytes: Option<u64>, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = match total_bytes {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}")
                        .expect("valid template"),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("valid template"),
                ),
            };
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            start: now,
            last_line: now,
            quiet,
        }
    }

    fn update(&mut self, stats: &CorpusStats) {
        let seconds = self.start.elapsed().as_secs_f64().max(1e-9);
        let mb = stats.bytes_read as f64 / 1e6;
        let msg = format!(
            "{} documents, {} segments, {mb:.1} MB, {:.2} MB/s",
            stats.documents,
            stats.segments,
            mb / seconds
        );
        if let Some(bar) = &self.bar {
            bar.set_position(stats.bytes_read);
            bar.set_message(msg);
        } else if !self.quiet && self.last_line.elapsed() >= LINE_EVERY {
            self.last_line = Instant::now();
            eprintln!("scoring: {msg}");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
