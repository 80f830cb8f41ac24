//! `phf corpus summary` (and `phf score --summary`): the score distribution of a scored corpus, printed, written as
//! JSON ([`phf_data::score_summary`]) and drawn as a histogram PNG.
//!
//! The PNG is drawn by plotters' bitmap backend; text goes through ab_glyph with a TrueType font this program reads
//! itself (`$PHF_FONT`, else DejaVu Sans or Liberation Sans where Debian/Fedora/Arch put them), so no fontconfig or
//! other system library is involved. Without any font the bars are drawn unlabelled and the JSON, which holds every
//! number of the picture, is its legend.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use clap::Args;
use phf_data::score_summary::{paper_thresholds, ScoreSummary};
use phf_data::{CorpusReader, Threshold};
use plotters::prelude::*;

#[derive(Args)]
pub struct SummaryArgs {
    /// Scored corpus: the JSONL of `phf score` (reference schema), or folders of them.
    #[arg(required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Thresholds to report the share above (absolute, or quantiles such as q0.05), comma-separated; default the
    /// paper's thresholds of the three tasks and the toxicity hit level 0.5.
    #[arg(long, value_delimiter = ',', value_parser = parse_threshold)]
    pub thresholds: Vec<Threshold>,
    /// Summary JSON; default `<first input>.summary.json`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Histogram PNG; default `<first input>.hist.png`.
    #[arg(long)]
    pub png: Option<PathBuf>,
}

fn parse_threshold(s: &str) -> Result<Threshold, String> {
    s.parse()
}

pub fn run(a: &SummaryArgs) -> Result<()> {
    let thresholds = if a.thresholds.is_empty() {
        paper_thresholds()
    } else {
        a.thresholds.iter().map(|&t| (t, "given".to_string())).collect()
    };
    let out = a.out.clone().unwrap_or_else(|| sibling(&a.input[0], ".summary.json"));
    let png = a.png.clone().unwrap_or_else(|| sibling(&a.input[0], ".hist.png"));
    summarise(&a.input, &thresholds, &out, &png)
}

/// Reads the scored `inputs`, prints the summary and writes it to `json` and `png`.
pub fn summarise(inputs: &[PathBuf], thresholds: &[(Threshold, String)], json: &Path, png: &Path) -> Result<()> {
    let reader = CorpusReader::open(inputs)?;
    let names = inputs.iter().map(|p| p.display().to_string()).collect();
    let summary = ScoreSummary::collect(names, reader, thresholds)?;
    eprint!("{}", summary.to_text());
    std::fs::write(json, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    let labelled = draw_histogram(&summary, png).with_context(|| format!("drawing {}", png.display()))?;
    eprintln!(
        "wrote {} and {}{}",
        json.display(),
        png.display(),
        if labelled {
            String::new()
        } else {
            format!(
                " (no TrueType font found, so the histogram has no labels; set PHF_FONT=<file.ttf>; its numbers are \
                 in {})",
                json.display()
            )
        }
    );
    Ok(())
}

/// `<path><suffix>`, e.g. `scored.jsonl` → `scored.jsonl.meta.json`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Fonts tried in order after `$PHF_FONT`.
const FONT_CANDIDATES: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers the first readable font as plotters' `sans-serif`, once; whether one was found.
fn register_font() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let from_env = std::env::var_os("PHF_FONT").map(PathBuf::from);
        let candidates = from_env.into_iter().chain(FONT_CANDIDATES.iter().map(PathBuf::from));
        for path in candidates {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            // plotters keeps the font for the life of the program.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return true;
            }
        }
        false
    })
}

/// Draws the segment-score histogram (log-scale counts; the red bar counts the scores above its range; vertical
/// lines mark the thresholds in range). Returns whether it has text labels.
fn draw_histogram(summary: &ScoreSummary, path: &Path) -> Result<bool> {
    let labelled = register_font();
    let h = &summary.histogram;
    let width = h.bin_width();
    let x_end = h.top + width;
    let y_top = (h.counts.iter().copied().chain([h.above]).max().unwrap_or(1).max(1) as f64) * 2.0;
    let root = BitMapBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(15);
    if labelled {
        let caption = format!(
            "{} segments ({:.1}% score 0); red bar: above {:.3e}",
            summary.segments,
            100.0 * summary.segment_scores.share_zero,
            h.top
        );
        builder
            .caption(caption, ("sans-serif", 20))
            .x_label_area_size(45)
            .y_label_area_size(65);
    }
    let mut chart = builder.build_cartesian_2d(0f64..x_end, (0.5f64..y_top).log_scale())?;
    if labelled {
        chart
            .configure_mesh()
            .x_desc("misalignment score of a segment")
            .y_desc("segments (log scale)")
            .x_label_formatter(&|x| format!("{x:.3e}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
    }
    let bars = h.counts.iter().enumerate().filter(|(_, &c)| c > 0).map(|(i, &c)| {
        let x0 = i as f64 * width;
        Rectangle::new([(x0, 0.5), (x0 + width, c as f64)], BLUE.mix(0.7).filled())
    });
    chart.draw_series(bars)?;
    if h.above > 0 {
        chart.draw_series([Rectangle::new(
            [(h.top, 0.5), (x_end, h.above as f64)],
            RED.mix(0.7).filled(),
        )])?;
    }
    let lines = summary
        .thresholds
        .iter()
        .filter(|t| t.threshold > 0.0 && t.threshold < h.top)
        .map(|t| PathElement::new([(t.threshold, 0.5), (t.threshold, y_top)], BLACK.mix(0.5)));
    chart.draw_series(lines)?;
    root.present()?;
    Ok(labelled)
}
