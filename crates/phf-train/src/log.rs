//! The run log: one JSON object per line in `<run>/log.jsonl` (training rows and validation rows), and a
//! progress bar with ETA on a terminal or a plain progress line every `log_every` updates elsewhere (neither with
//! `--quiet`). In a data-parallel run only rank 0 logs; the other ranks hold a [`RunLog::silent`] one.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

pub const LOG_FILE: &str = "log.jsonl";

pub struct RunLog {
    path: PathBuf,
    /// None: a silent log (data-parallel ranks other than 0).
    file: Option<File>,
    bar: Option<ProgressBar>,
    /// Progress lines off a terminal (off with `--quiet`, as the bar is).
    lines: bool,
    total_steps: u64,
}

impl RunLog {
    /// Opens the log for appending. On resume, rows written after the checkpoint being resumed (`keep_through`
    /// updates) are dropped first, so the log reads as one uninterrupted run.
    pub fn open(run_dir: &Path, keep_through: u64, total_steps: u64, progress: bool) -> std::io::Result<RunLog> {
        let path = run_dir.join(LOG_FILE);
        if path.exists() {
            let kept: Vec<String> = BufReader::new(File::open(&path)?)
                .lines()
                .map_while(Result::ok)
                .filter(|line| {
                    let step = serde_json::from_str::<serde_json::Value>(line)
                        .ok()
                        .and_then(|v| v["step"].as_u64());
                    step.is_some_and(|s| s <= keep_through)
                })
                .collect();
            let tmp = path.with_extension("jsonl.tmp");
            std::fs::write(&tmp, kept.iter().map(|l| format!("{l}\n")).collect::<String>())?;
            std::fs::rename(&tmp, &path)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let bar = (progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total_steps);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} updates [{elapsed_precise} < {eta_precise}] {msg}")
                    .expect("valid template"),
            );
            bar.set_position(keep_through);
            bar
        });
        Ok(RunLog {
            path,
            file: Some(file),
            bar,
            lines: progress,
            total_steps,
        })
    }

    /// A log that writes and prints nothing.
    pub fn silent(run_dir: &Path) -> RunLog {
        RunLog {
            path: run_dir.join(LOG_FILE),
            file: None,
            bar: None,
            lines: false,
            total_steps: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write_row(&mut self, row: &serde_json::Value) -> std::io::Result<()> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        writeln!(file, "{row}")?;
        file.flush()
    }

    /// Advances the bar to `step`; `line` is shown beside it, or printed when there is no terminal.
    pub fn progress(&self, step: u64, line: &str, print: bool) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step);
                bar.set_message(line.to_string());
            }
            None if print && self.lines => eprintln!("[{step}/{}] {line}", self.total_steps),
            None => {}
        }
    }

    /// A message that must not be overwritten by the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.file.is_some() => eprintln!("{line}"),
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
