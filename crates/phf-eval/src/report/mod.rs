//! `phf report`: one table per task (a row per evaluated run: misalignment, diversity, capability) and the
//! paper's plots — misalignment vs KL from the reference with the Pareto frontier (log axes, as Fig. 1),
//! misalignment over training tokens, red-team scores per round and score histograms — as Markdown with SVG files
//! beside it and as one self-contained HTML page.

pub mod record;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub use record::{EvalRecord, EvaluatedRun};

use crate::svg::{histogram, pareto_frontier, Plot, Series, Style};
use crate::EvalError;

/// A table: header and rows of cells, rendered to Markdown and HTML alike.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "| {} |\n|{}\n",
            self.header.join(" | "),
            "---|".repeat(self.header.len())
        );
        for row in &self.rows {
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
        s
    }

    fn html(&self) -> String {
        let cell = |tag: &str, c: &str| format!("<{tag}>{}</{tag}>", html_escape(c));
        let mut s = String::from("<table><tr>");
        s.extend(self.header.iter().map(|h| cell("th", h)));
        s.push_str("</tr>");
        for row in &self.rows {
            s.push_str("<tr>");
            s.extend(row.iter().map(|c| cell("td", c)));
            s.push_str("</tr>");
        }
        s.push_str("</table>\n");
        s
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => {
            if v != 0.0 && v.abs() < 10f64.powi(-(digits as i32)) {
                format!("{v:.2e}")
            } else {
                format!("{v:.digits$}")
            }
        }
        _ => "–".into(),
    }
}

/// `value ± standard error` when there is one.
fn num_se(v: Option<f64>, se: Option<f64>, digits: usize) -> String {
    match se {
        Some(se) if se.is_finite() && v.is_some_and(f64::is_finite) => {
            format!("{} ± {}", num(v, digits), num(Some(se), digits))
        }
        _ => num(v, digits),
    }
}

/// Standard error of the mean of `values` (sample standard deviation over √n); None below two values.
fn standard_error(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((var / n as f64).sqrt())
}

/// Standard errors of a run's `score` and `max@25` from its samples' scores (the maxima of the same contiguous
/// groups of 25 as [`crate::misalignment::Misalignment`]); None when the samples were not kept.
fn score_errors(scores: &[f64]) -> (Option<f64>, Option<f64>) {
    let group_max: Vec<f64> = scores
        .chunks_exact(crate::misalignment::MAX_AT_GROUP)
        .map(|g| g.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .collect();
    (standard_error(scores), standard_error(&group_max))
}

/// The comparison table of one task; `score` and `max@25` carry their standard errors over samples when the
/// run's samples are loaded.
pub fn task_table(runs: &[&EvaluatedRun]) -> Table {
    let header = [
        "run",
        "objective",
        "tokens",
        "score",
        "max@25",
        "hits",
        "distinct-2",
        "self-BLEU-5",
        "held-out loss",
        "clean loss",
        "KL",
        "prompted max",
        "red-team best",
    ];
    let rows = runs
        .iter()
        .map(|r| {
            let e = &r.record;
            let u = e.unconditional.as_ref();
            let (score_se, max_se) = score_errors(&r.sample_scores);
            vec![
                e.label.clone(),
                e.objective.clone().unwrap_or_else(|| "–".into()),
                e.tokens_seen.map_or("–".into(), |t| format!("{:.2}M", t as f64 / 1e6)),
                num_se(u.map(|u| u.misalignment.score), score_se, 4),
                num_se(u.map(|u| u.misalignment.score_max_at_25), max_se, 4),
                num(u.map(|u| u.misalignment.num_hits), 4),
                num(u.map(|u| u.diversity.distinct_2), 3),
                num(u.map(|u| u.diversity.self_bleu_5), 3),
                num(e.held_out.as_ref().map(|h| h.loss), 3),
                num(e.held_out.as_ref().map(|h| h.clean_loss), 3),
                e.kl.as_ref().map_or("–".into(), |k| {
                    format!(
                        "{} ± {}",
                        num(Some(k.estimate.kl), 2),
                        num(Some(k.estimate.std_error), 2)
                    )
                }),
                num(e.prompted.as_ref().map(|p| p.expected_max_score), 4),
                num(e.red_team.as_ref().and_then(|r| r.last()).map(|r| r.best), 4),
            ]
        })
        .collect();
    Table {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

/// The run a label names without its training seed: `phf grid --seeds` names the repeats of `mle-pretrain`
/// `mle-pretrain-seed43`, …, and the first seed's run keeps the plain name.
pub fn without_seed(label: &str) -> &str {
    match label.rsplit_once("-seed") {
        Some((run, seed)) if !seed.is_empty() && seed.bytes().all(|b| b.is_ascii_digit()) => run,
        _ => label,
    }
}

/// Runs repeated with different training seeds, summarised: per run (label without its seed) with at least two
/// seeds, the mean of each measure over the seeds ± its standard error over the seeds. None when no run was
/// repeated. Differences between objectives smaller than these errors are seed noise, however small the errors
/// over samples in the per-run table.
pub fn seed_table(runs: &[&EvaluatedRun]) -> Option<Table> {
    let mut groups: BTreeMap<&str, Vec<&EvaluatedRun>> = BTreeMap::new();
    for r in runs {
        groups.entry(without_seed(&r.record.label)).or_default().push(r);
    }
    groups.retain(|_, g| g.len() >= 2);
    if groups.is_empty() {
        return None;
    }
    let over_seeds = |group: &[&EvaluatedRun], measure: &dyn Fn(&EvalRecord) -> Option<f64>, digits: usize| {
        let values: Vec<f64> = group.iter().filter_map(|r| measure(&r.record)).collect();
        if values.len() < group.len() {
            return "–".to_string();
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        num_se(Some(mean), standard_error(&values), digits)
    };
    let header = [
        "run",
        "objective",
        "seeds",
        "score",
        "max@25",
        "held-out loss",
        "KL",
        "prompted max",
    ];
    let rows = groups
        .into_iter()
        .map(|(run, group)| {
            fn misalignment(e: &EvalRecord) -> Option<&crate::misalignment::Misalignment> {
                e.unconditional.as_ref().map(|u| &u.misalignment)
            }
            vec![
                run.to_string(),
                group[0].record.objective.clone().unwrap_or_else(|| "–".into()),
                group.len().to_string(),
                over_seeds(&group, &|e| misalignment(e).map(|m| m.score), 4),
                over_seeds(&group, &|e| misalignment(e).map(|m| m.score_max_at_25), 4),
                over_seeds(&group, &|e| e.held_out.as_ref().map(|h| h.loss), 3),
                over_seeds(&group, &|e| e.kl.as_ref().map(|k| k.estimate.kl), 2),
                over_seeds(&group, &|e| e.prompted.as_ref().map(|p| p.expected_max_score), 4),
            ]
        })
        .collect();
    Some(Table {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows,
    })
}

/// The plots of one task, by file stem.
pub fn task_plots(task: &str, runs: &[&EvaluatedRun]) -> Vec<(String, Plot)> {
    let mut plots = Vec::new();
    let kl_points: Vec<(String, (f64, f64))> = runs
        .iter()
        .filter_map(|r| {
            let kl = r.record.kl.as_ref()?.estimate.kl;
            let score = r.record.unconditional.as_ref()?.misalignment.score;
            Some((r.record.label.clone(), (kl, score)))
        })
        .collect();
    if !kl_points.is_empty() {
        let mut series: Vec<Series> = kl_points
            .iter()
            .map(|(label, p)| Series {
                name: label.clone(),
                points: vec![*p],
                style: Style::Points,
            })
            .collect();
        let frontier = pareto_frontier(&kl_points.iter().map(|(_, p)| *p).collect::<Vec<_>>());
        series.push(Series {
            name: "Pareto frontier".into(),
            points: frontier,
            style: Style::Dashed,
        });
        plots.push((
            format!("{task}-pareto"),
            Plot {
                title: format!("{task}: misalignment vs KL from the reference"),
                x_label: "KL from reference (nats, log)".into(),
                y_label: "misalignment score (log)".into(),
                log_x: true,
                log_y: true,
                series,
            },
        ));
    }
    let curves: Vec<Series> = runs
        .iter()
        .filter(|r| !r.curve.is_empty())
        .map(|r| Series {
            name: r.record.label.clone(),
            points: r.curve.iter().map(|c| (c.tokens as f64, c.eval_score)).collect(),
            style: Style::LinePoints,
        })
        .collect();
    if !curves.is_empty() {
        plots.push((
            format!("{task}-training"),
            Plot {
                title: format!("{task}: misalignment during training"),
                x_label: "tokens seen".into(),
                y_label: "misalignment score (log)".into(),
                log_y: true,
                series: curves,
                ..Plot::default()
            },
        ));
    }
    let red: Vec<Series> = runs
        .iter()
        .filter_map(|r| {
            let rounds = r.record.red_team.as_ref()?;
            Some(Series {
                name: r.record.label.clone(),
                points: rounds.iter().map(|s| (s.round as f64, s.best)).collect(),
                style: Style::LinePoints,
            })
        })
        .collect();
    if !red.is_empty() {
        plots.push((
            format!("{task}-red-team"),
            Plot {
                title: format!("{task}: best red-team prompt score per round"),
                x_label: "round".into(),
                y_label: "score of the best prompt".into(),
                series: red,
                ..Plot::default()
            },
        ));
    }
    let all: Vec<f64> = runs.iter().flat_map(|r| r.sample_scores.iter().copied()).collect();
    if !all.is_empty() {
        let hi = all.iter().copied().fold(0.0, f64::max).max(1e-9);
        let hist: Vec<Series> = runs
            .iter()
            .filter(|r| !r.sample_scores.is_empty())
            .map(|r| Series {
                name: r.record.label.clone(),
                points: histogram(&r.sample_scores, 20, 0.0, hi),
                style: Style::Steps,
            })
            .collect();
        plots.push((
            format!("{task}-histogram"),
            Plot {
                title: format!("{task}: scores of unconditional samples"),
                x_label: "score".into(),
                y_label: "share of samples".into(),
                series: hist,
                ..Plot::default()
            },
        ));
    }
    plots
}

/// Files a report wrote.
pub struct ReportFiles {
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub plots: Vec<PathBuf>,
}

/// Writes `report.md`, `report.html` and `plots/*.svg` into `out` for the evaluated `runs`.
pub fn write_report(runs: &[EvaluatedRun], out: &Path) -> Result<ReportFiles, EvalError> {
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| EvalError::io(&plots_dir, e))?;
    let mut by_task: BTreeMap<String, Vec<&EvaluatedRun>> = BTreeMap::new();
    for r in runs {
        by_task.entry(r.record.scorer.name.clone()).or_default().push(r);
    }
    let mut md = String::from("# phf report\n\n");
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>phf report</title><style>body{font-family:sans-serif;\
         max-width:1100px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;\
         text-align:right}</style></head><body><h1>phf report</h1>\n",
    );
    let mut plot_files = Vec::new();
    for (task, task_runs) in &by_task {
        let scorer = &task_runs[0].record.scorer;
        let _ = write!(md, "## {task}\n\nScorer: {scorer}. Runs: {}.\n\n", task_runs.len());
        let _ = writeln!(
            html,
            "<h2>{}</h2><p>Scorer: {}.</p>",
            html_escape(task),
            html_escape(&scorer.to_string())
        );
        let table = task_table(task_runs);
        md.push_str(&table.markdown());
        md.push('\n');
        html.push_str(&table.html());
        if let Some(seeds) = seed_table(task_runs) {
            let title = "Across training seeds (mean ± standard error over seeds)";
            let _ = write!(md, "{title}:\n\n{}\n", seeds.markdown());
            let _ = writeln!(html, "<p>{title}:</p>{}", seeds.html());
        }
        for (stem, plot) in task_plots(task, task_runs) {
            let svg = plot.to_svg();
            let path = plots_dir.join(format!("{stem}.svg"));
            std::fs::write(&path, &svg).map_err(|e| EvalError::io(&path, e))?;
            let _ = write!(md, "![{}](plots/{stem}.svg)\n\n", plot.title);
            let _ = writeln!(html, "<div>{svg}</div>");
            plot_files.push(path);
        }
    }
    md.push_str(&legend());
    html.push_str(&format!("<pre>{}</pre></body></html>\n", html_escape(&legend())));
    let markdown = out.join("report.md");
    std::fs::write(&markdown, md).map_err(|e| EvalError::io(&markdown, e))?;
    let html_path = out.join("report.html");
    std::fs::write(&html_path, html).map_err(|e| EvalError::io(&html_path, e))?;
    Ok(ReportFiles {
        markdown,
        html: html_path,
        plots: plot_files,
    })
}

fn legend() -> String {
    "Columns: score = mean misalignment of unconditional samples (SPEC §5); max@25 = mean over groups of 25 samples \
     of the group maximum (both ± their standard error over samples); hits = share of samples above the hit threshold; distinct-2 and self-BLEU-5 over words; \
     held-out loss = nats/token on the validation split (clean: tokens whose segment scores at most the threshold); \
     KL = mean(log p_ref − log p_model) over reference samples ± standard error; prompted max = expected maximum \
     score over 25 continuations per prompt; red-team best = the best prompt's score after the last round.\n"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_errors_of_the_score_and_of_max_at_25() {
        // 50 samples: two groups of 25 whose maxima are 0.2 and 0.6
        let mut scores = vec![0.0; 50];
        scores[3] = 0.2;
        scores[30] = 0.6;
        let (score_se, max_se) = score_errors(&scores);
        // mean 0.016; Σ(x − mean)² = 0.04 + 0.36 − 50·0.016² = 0.3872; sd² = 0.3872 / 49
        let want = (0.3872f64 / 49.0 / 50.0).sqrt();
        assert!((score_se.unwrap() - want).abs() < 1e-12);
        // maxima 0.2 and 0.6: sd 0.2828, over √2: 0.2
        assert!((max_se.unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(score_errors(&[0.5]), (None, None));
        assert_eq!(num_se(Some(0.3), Some(0.2041), 4), "0.3000 ± 0.2041");
        assert_eq!(num_se(Some(0.3), None, 4), "0.3000");
    }

    fn run(label: &str, loss: f64) -> EvaluatedRun {
        let record = EvalRecord {
            label: label.into(),
            objective: Some(label.split('-').next().unwrap_or_default().into()),
            model: String::new(),
            model_sha256: String::new(),
            tokens_seen: None,
            scorer: phf_score::scorer::ScorerId {
                name: "toxicity".into(),
                version: "test".into(),
            },
            unconditional: None,
            held_out: Some(crate::heldout::HeldOut {
                loss,
                perplexity: loss.exp(),
                clean_loss: loss,
                clean_perplexity: loss.exp(),
                clean_threshold: 0.5,
                tokens: 100,
                clean_tokens: 100,
            }),
            kl: None,
            prompted: None,
            red_team: None,
            settings: serde_json::Value::Null,
        };
        EvaluatedRun {
            dir: PathBuf::new(),
            record,
            sample_scores: Vec::new(),
            curve: Vec::new(),
        }
    }

    #[test]
    fn runs_repeated_over_seeds_are_summarised_over_the_seeds() {
        assert_eq!(without_seed("mle-pretrain-seed43"), "mle-pretrain");
        assert_eq!(without_seed("mle-pretrain"), "mle-pretrain");
        assert_eq!(without_seed("odd-seedling"), "odd-seedling");
        let runs = [
            run("mle-pretrain", 5.0),
            run("mle-pretrain-seed43", 6.0),
            run("mle-pretrain-seed44", 7.0),
            run("conditional-pretrain", 5.5),
        ];
        let refs: Vec<&EvaluatedRun> = runs.iter().collect();
        let table = seed_table(&refs).expect("mle was repeated");
        // only the repeated run: mean 6, sd 1, standard error 1/√3
        assert_eq!(table.rows.len(), 1, "{:?}", table.rows);
        let row = &table.rows[0];
        assert_eq!(&row[..3], ["mle-pretrain", "mle", "3"]);
        assert_eq!(row[5], format!("6.000 ± {:.3}", 1.0 / 3f64.sqrt()));
        assert_eq!(row[3], "–", "no samples were scored");
        assert!(seed_table(&refs[3..]).is_none(), "nothing repeated, no table");
    }
}
