//! External-command scorer (SPEC §6): lets users plug in any model, e.g. Detoxify, as a reward function.
//!
//! Protocol, one process per batch: the command (run by `sh -c`) reads JSON lines `{"text": "..."}` on stdin
//! until end of input and writes one line `{"score": <number >= 0>}` per input line, in order, then exits 0.
//! A process per batch keeps the protocol trivially simple for script authors (read all, score, print) and
//! makes every failure attributable to one batch; heavy models amortise their start-up over large batches.
//! Failures — cannot start, non-zero exit, no answer within the timeout, a malformed line, too few or too
//! many lines — are errors that name the command and what to change, never a panic or a silent zero.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Result, ScoreError};
use crate::scorer::{Scorer, ScorerId};

/// How much of a failing command's stderr is kept for the error message.
const STDERR_TAIL_BYTES: usize = 4096;

/// Settings of an external scorer.
#[derive(Debug, Clone)]
pub struct CommandScorerConfig {
    /// Shell command line, run with `sh -c`.
    pub command: String,
    /// Most texts sent to one process; larger batches are cut into several processes, run one after another.
    pub batch_size: usize,
    /// Wall-clock limit for one process (start-up included); on expiry its process group is killed.
    pub timeout: Duration,
}

/// Overrides [`CommandScorerConfig::batch_size`] where scorers are made by name (`cmd:<command>`).
pub const BATCH_SIZE_VAR: &str = "PHF_CMD_BATCH_SIZE";
/// Overrides [`CommandScorerConfig::timeout`] (seconds) where scorers are made by name.
pub const TIMEOUT_VAR: &str = "PHF_CMD_TIMEOUT_S";

impl CommandScorerConfig {
    /// Defaults suited to a model-backed scorer: batches of 256 texts, 10 minutes each.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            batch_size: 256,
            timeout: Duration::from_secs(600),
        }
    }

    /// [`CommandScorerConfig::new`] with the batch size and timeout of `PHF_CMD_BATCH_SIZE` and
    /// `PHF_CMD_TIMEOUT_S` where they are set (`var` reads a variable), e.g. larger batches for a model whose
    /// start-up dominates.
    pub fn from_env(command: impl Into<String>, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut config = Self::new(command);
        // a day at most: enough for any batch, and far from overflowing a deadline
        let positive = |name: &str, most: u64| -> Result<Option<u64>> {
            let Some(text) = var(name).filter(|t| !t.trim().is_empty()) else {
                return Ok(None);
            };
            match text.trim().parse::<u64>() {
                Ok(n) if (1..=most).contains(&n) => Ok(Some(n)),
                _ => Err(ScoreError::Invalid(format!(
                    "{name}={text:?}: expected a whole number from 1 to {most}, or leave {name} unset for the default"
                ))),
            }
        };
        if let Some(n) = positive(BATCH_SIZE_VAR, u32::MAX as u64)? {
            config.batch_size = n as usize;
        }
        if let Some(s) = positive(TIMEOUT_VAR, 86_400)? {
            config.timeout = Duration::from_secs(s);
        }
        Ok(config)
    }
}

/// A scorer that delegates to an external command speaking JSON lines.
#[derive(Debug, Clone)]
pub struct CommandScorer {
    config: CommandScorerConfig,
}

impl CommandScorer {
    pub fn new(config: CommandScorerConfig) -> Self {
        Self { config }
    }

    /// Runs one process on `texts` and returns its scores.
    fn run_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let command = &self.config.command;
        let io_err = |source| ScoreError::ExternalIo {
            command: command.clone(),
            source,
        };
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills the whole pipeline `sh -c` may have started.
            .process_group(0)
            .spawn()
            .map_err(|source| ScoreError::ExternalSpawn {
                command: command.clone(),
                source,
            })?;

        let input = encode_batch(texts);
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(mut stdin), Some(stdout), Some(mut stderr)) = (stdin, stdout, stderr) else {
            kill_group(&mut child);
            return Err(io_err(std::io::Error::other("child pipes were not created")));
        };
        // Feed, drain and collect on their own threads so a command that writes before reading all its
        // input, or never reads at all, cannot deadlock us; the timeout below always gets control back.
        // A broken pipe on stdin (the command exits early) is reported through the exit status or line count.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let reader: JoinHandle<std::io::Result<Vec<String>>> =
            std::thread::spawn(move || BufReader::new(stdout).lines().collect());
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            tail_lossy(&buf, STDERR_TAIL_BYTES)
        });

        let status = wait_with_timeout(&mut child, self.config.timeout).map_err(io_err)?;
        let Some(status) = status else {
            kill_group(&mut child);
            let _ = (writer.join(), reader.join(), stderr_reader.join());
            return Err(ScoreError::ExternalTimeout {
                command: command.clone(),
                batch: texts.len(),
                timeout: self.config.timeout,
            });
        };
        let _ = writer.join();
        let stderr_tail = stderr_reader.join().unwrap_or_default();
        if !status.success() {
            let _ = reader.join();
            return Err(ScoreError::ExternalCrashed {
                command: command.clone(),
                status: status.to_string(),
                stderr: stderr_tail,
            });
        }
        let lines = reader
            .join()
            .map_err(|_| io_err(std::io::Error::other("stdout reader thread panicked")))?
            .map_err(io_err)?;
        parse_scores(command, &lines, texts.len())
    }
}

impl Scorer for CommandScorer {
    fn id(&self) -> ScorerId {
        ScorerId {
            name: format!("cmd:{}", self.config.command),
            version: "external".into(),
        }
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let mut scores = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.config.batch_size.max(1)) {
            scores.extend(self.run_batch(chunk)?);
        }
        Ok(scores)
    }
}

/// One `{"text": ...}` line per text; serde_json escapes newlines and control characters (NUL included), so
/// every text is exactly one line.
fn encode_batch(texts: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(texts.iter().map(|t| t.len() + 12).sum());
    for text in texts {
        // Serialising a map of one string cannot fail.
        if let Ok(line) = serde_json::to_vec(&serde_json::json!({ "text": text })) {
            out.extend_from_slice(&line);
        }
        out.push(b'\n');
    }
    out
}

/// Checks the line count and parses each `{"score": x}` line, requiring a finite `x >= 0`.
fn parse_scores(command: &str, lines: &[String], expected: usize) -> Result<Vec<f32>> {
    // A trailing blank line (e.g. an extra `print()`) is tolerated; blank lines elsewhere are malformed.
    let mut lines = lines;
    while lines.len() > expected && lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines = &lines[..lines.len() - 1];
    }
    if lines.len() != expected {
        return Err(ScoreError::ExternalLineCount {
            command: command.into(),
            expected,
            got: lines.len(),
        });
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let malformed = |reason: &str| ScoreError::ExternalMalformed {
                command: command.into(),
                line: i + 1,
                reason: reason.into(),
                excerpt: line.chars().take(120).collect(),
            };
            let value: serde_json::Value = serde_json::from_str(line).map_err(|e| malformed(&e.to_string()))?;
            let score = value.get("score").ok_or_else(|| malformed("no `score` key"))?;
            let score = score.as_f64().ok_or_else(|| malformed("`score` is not a number"))?;
            if !score.is_finite() || score < 0.0 {
                return Err(malformed("`score` must be finite and >= 0"));
            }
            Ok(score as f32)
        })
        .collect()
}

/// Waits for the child until `timeout`; `Ok(None)` means it is still running.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Kills the child's whole process group (see `process_group(0)` above) and reaps the child.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals a process group we created; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `max` bytes of `bytes` as text, cut at a char boundary.
fn tail_lossy(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(max)..]).into_owned();
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer(command: &str) -> CommandScorer {
        let mut config = CommandScorerConfig::new(command);
        config.batch_size = 3;
        config.timeout = Duration::from_secs(20);
        CommandScorer::new(config)
    }

    /// A shell scorer: one `{"score": 1}` per input line.
    const ONES: &str = r#"while IFS= read -r line; do echo '{"score": 1}'; done"#;

    #[test]
    fn scores_in_batches() {
        let texts = ["a", "b\nwith newline", "", "nul \0 byte", "e"];
        assert_eq!(scorer(ONES).score_batch(&texts).unwrap(), vec![1.0; 5]);
    }

    #[test]
    fn empty_batch_starts_nothing() {
        assert!(scorer("exit 1").score_batch(&[]).unwrap().is_empty());
    }

    #[test]
    fn crash_reports_status_and_stderr() {
        let err = scorer("echo 'model exploded' >&2; exit 3")
            .score_batch(&["x"])
            .unwrap_err();
        assert!(matches!(err, ScoreError::ExternalCrashed { .. }), "{err}");
        assert!(err.to_string().contains("model exploded"), "{err}");
    }

    #[test]
    fn hang_is_killed_after_the_timeout() {
        let mut s = scorer("sleep 30");
        s.config.timeout = Duration::from_millis(300);
        let err = s.score_batch(&["x"]).unwrap_err();
        assert!(matches!(err, ScoreError::ExternalTimeout { batch: 1, .. }), "{err}");
    }

    fn assert_two_lines_expected_one_got(err: &ScoreError) {
        let counts = match err {
            ScoreError::ExternalLineCount { expected, got, .. } => Some((*expected, *got)),
            _ => None,
        };
        assert_eq!(counts, Some((2, 1)), "{err}");
    }

    #[test]
    fn too_few_lines_is_an_error() {
        let err = scorer(r#"cat >/dev/null; echo '{"score": 0.5}'"#)
            .score_batch(&["a", "b"])
            .unwrap_err();
        assert_two_lines_expected_one_got(&err);
    }

    #[test]
    fn malformed_lines_are_errors() {
        for (output, reason) in [
            ("not json", "expected"),
            (r#"{"value": 1}"#, "no `score` key"),
            (r#"{"score": "high"}"#, "not a number"),
            (r#"{"score": -1}"#, ">= 0"),
        ] {
            let err = scorer(&format!("cat >/dev/null; echo '{output}'"))
                .score_batch(&["a"])
                .unwrap_err();
            assert!(matches!(err, ScoreError::ExternalMalformed { line: 1, .. }), "{err}");
            assert!(err.to_string().contains(reason), "{err}");
        }
    }

    #[test]
    fn missing_program_is_a_crash_with_shell_message() {
        let err = scorer("/nonexistent/scorer-binary").score_batch(&["a"]).unwrap_err();
        assert!(matches!(err, ScoreError::ExternalCrashed { .. }), "{err}");
    }

    #[test]
    fn command_that_ignores_stdin_does_not_deadlock() {
        // 10 MB of input is far more than a pipe buffer; the command never reads it.
        let big = "y".repeat(10 << 20);
        let err = scorer("echo '{\"score\": 0}'; exit 0")
            .score_batch(&[&big, "b"])
            .unwrap_err();
        assert_two_lines_expected_one_got(&err);
    }

    #[test]
    fn id_names_the_command() {
        assert_eq!(scorer("my-scorer --fast").id().name, "cmd:my-scorer --fast");
    }

    #[test]
    fn batch_size_and_timeout_come_from_the_environment_where_set() {
        let from = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            CommandScorerConfig::from_env("c", move |name| {
                pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
        };
        let default = from(&[(BATCH_SIZE_VAR, " ")]).unwrap();
        assert_eq!((default.batch_size, default.timeout), (256, Duration::from_secs(600)));
        let set = from(&[(BATCH_SIZE_VAR, "4096"), (TIMEOUT_VAR, " 30 ")]).unwrap();
        assert_eq!((set.batch_size, set.timeout), (4096, Duration::from_secs(30)));
        for bad in ["0", "-1", "many"] {
            let err = from(&[(BATCH_SIZE_VAR, bad)]).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("PHF_CMD_BATCH_SIZE=\"{bad}\": expected a whole number")),
                "{err}"
            );
        }
        let err = from(&[(TIMEOUT_VAR, "18446744073709551615")]).unwrap_err().to_string();
        assert!(err.contains("from 1 to 86400"), "{err}");
    }
}
