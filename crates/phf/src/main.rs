//! `phf`: pretraining language models with human feedback (Korbak et al. 2023, "Pretraining Language Models
//! with Human Preferences"). Each pipeline stage is a subcommand that reads the previous stage's files.

// The argument structs' doc comments are clap's `--help` text, written for a terminal (`<out>`, `[model]`).
#[allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]
mod cmd;

/// Rust's allocations (tokenizers, scorers, JSON) go to mimalloc: tokenizing a corpus is dominated by small
/// allocations, and glibc's malloc/free took ~35% of `phf prepare`'s CPU time (perf). Measured on the same 20 MB
/// scored corpus, `phf prepare` needed 11.7 s of CPU with glibc and 8.0 s with mimalloc (docs/BENCHMARKS.md, corpus
/// scale). libtorch allocates through glibc as before, so `phf_lm::allocator`'s settings still apply to it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Pretrain GPT-2-style language models with human feedback: score a corpus, pack it with per-token scores,
/// train with MLE or a PHF objective, sample and evaluate.
///
/// Pipeline: tokenizer train → score → prepare → train → eval → report. `phf demo` runs it end to end on a real corpus.
#[derive(Parser)]
#[command(name = "phf", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train or convert a tokenizer (writes tokenizer.json).
    #[command(subcommand)]
    Tokenizer(cmd::tokenizer::TokenizerCommand),
    /// Score every segment of a corpus with a reward function (toxicity, PII, ...).
    Score(cmd::score::ScoreArgs),
    /// Corpora as documents: export any readable input as JSON lines for `phf score`, fetch the demo corpus.
    #[command(subcommand)]
    Corpus(cmd::corpus::CorpusCommand),
    /// Tokenize and pack documents into fixed-length blocks with per-token scores (train/valid shards).
    Prepare(cmd::prepare::PrepareArgs),
    /// Train a model from a TOML config; checkpoints and logs go to the run directory.
    Train(cmd::train::TrainArgs),
    /// Sample text from a trained model.
    Sample(cmd::sample::SampleArgs),
    /// Evaluate a model (SPEC §5): misalignment and diversity of its samples, held-out loss, KL from a reference,
    /// prompted evaluation, red-teaming.
    Eval(Box<cmd::eval::EvalArgs>),
    /// Tables and plots comparing evaluated runs (Markdown + SVG, and self-contained HTML).
    Report(cmd::report::ReportArgs),
    /// The paper's comparison: tasks × objectives × regimes at one scale, evaluated and reported (resumable).
    Grid(Box<cmd::grid::GridArgs>),
    /// Measure training and sampling throughput (see `make bench` for the side-by-side with PyTorch).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// The main job: fetch and score a real corpus, train `small` MLE and conditional models, evaluate, report.
    Demo(cmd::demo::DemoArgs),
}

fn main() {
    phf_lm::allocator::tune_for_training();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tokenizer(c) => cmd::tokenizer::run(c),
        Command::Score(a) => cmd::score::run(a),
        Command::Corpus(c) => cmd::corpus::run(c),
        Command::Prepare(a) => cmd::prepare::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Sample(a) => cmd::sample::run(a),
        Command::Eval(a) => cmd::eval::run(*a),
        Command::Report(a) => cmd::report::run(a),
        Command::Grid(a) => cmd::grid::run(*a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Bench(c) => cmd::bench::run(c),
    };
    if let Err(err) = result {
        eprintln!("error: {}", describe(&err));
        std::process::exit(1);
    }
}

/// The error and its causes, `: `-joined, leaving out a cause whose text an earlier message already quotes (most
/// of phf's errors put their source in their own message, e.g. `path: No such file or directory`).
fn describe(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::describe;
    use anyhow::Context;

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        /// An error that quotes its source in its own message, as most of phf's do.
        #[derive(Debug)]
        struct Quoting {
            source: std::io::Error,
        }
        impl std::fmt::Display for Quoting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "data/x.json: {}", self.source)
            }
        }
        impl std::error::Error for Quoting {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let err = anyhow::Error::new(Quoting { source: io() });
        assert_eq!(describe(&err), "data/x.json: No such file or directory");
        let err = Err::<(), _>(io()).context("reading data/x.json").unwrap_err();
        assert_eq!(describe(&err), "reading data/x.json: No such file or directory");
    }
}
