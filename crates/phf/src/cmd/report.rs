//! `phf report`: the evaluated runs side by side — a Markdown page with one table per task and SVG plots, and the
//! same as one self-contained HTML file.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use phf_eval::report::{write_report, EvaluatedRun};

#[derive(Args)]
pub struct ReportArgs {
    /// Run directories evaluated with `phf eval`.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Output directory for report.md, report.html and plots/.
    #[arg(long, short, default_value = "report")]
    pub out: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let runs = a
        .runs
        .iter()
        .map(|d| EvaluatedRun::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    if runs.is_empty() {
        bail!("no runs to report");
    }
    let files = write_report(&runs, &a.out)?;
    println!("{}", std::fs::read_to_string(&files.markdown)?);
    eprintln!(
        "phf report: wrote {}, {} and {} plots",
        files.markdown.display(),
        files.html.display(),
        files.plots.len()
    );
    Ok(())
}
