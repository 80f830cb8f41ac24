//! Progress of a long step on stderr: on a terminal one line rewritten in place; elsewhere (a log file, CI, a
//! grid's captured output) whole lines: a counter at every tenth of its total, and every status line (`say`), so
//! logs stay readable.

use std::io::IsTerminal;

pub struct Progress {
    label: String,
    terminal: bool,
    /// The last tenth of the total printed as a line (not on a terminal).
    shown: Option<usize>,
}

impl Progress {
    /// `label` starts every line, e.g. `phf eval: sampled`.
    pub fn new(label: impl Into<String>) -> Self {
        Self::to(label, std::io::stderr().is_terminal())
    }

    fn to(label: impl Into<String>, terminal: bool) -> Self {
        Self {
            label: label.into(),
            terminal,
            shown: None,
        }
    }

    /// `done` of `total`: what is printed, if anything.
    fn count_text(&mut self, done: usize, total: usize) -> Option<String> {
        let text = format!("{} {done}/{total}", self.label);
        if self.terminal {
            return Some(format!("\r{text}"));
        }
        let tenth = done * 10 / total.max(1);
        (self.shown.is_none_or(|shown| tenth > shown)).then(|| {
            self.shown = Some(tenth);
            format!("{text}\n")
        })
    }

    /// Reports `done` of `total`.
    pub fn count(&mut self, done: usize, total: usize) {
        if let Some(text) = self.count_text(done, total) {
            eprint!("{text}");
        }
    }

    /// Reports a status line (e.g. a red-teaming round).
    pub fn say(&self, line: &str) {
        match self.terminal {
            true => eprint!("\r{} {line}   ", self.label),
            false => eprintln!("{} {line}", self.label),
        }
    }

    /// Ends the step's line on a terminal, with `tail` (e.g. its speed) after it; elsewhere prints `tail` alone.
    pub fn end(self, tail: &str) {
        match (self.terminal, tail.is_empty()) {
            (true, _) => eprintln!("{tail}"),
            (false, false) => eprintln!("{}{tail}", self.label),
            (false, true) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn off_a_terminal_a_line_per_tenth() {
        let mut p = Progress::to("sampled", false);
        let lines: Vec<String> = (1..=100).filter_map(|done| p.count_text(done, 100)).collect();
        assert_eq!(lines.len(), 11, "{lines:?}");
        assert_eq!(lines[0], "sampled 1/100\n");
        assert_eq!(lines[1], "sampled 10/100\n");
        assert_eq!(lines[10], "sampled 100/100\n");
        let mut few = Progress::to("prompted", false);
        let lines: Vec<String> = (1..=3).filter_map(|done| few.count_text(done, 3)).collect();
        assert_eq!(lines, ["prompted 1/3\n", "prompted 2/3\n", "prompted 3/3\n"]);
    }

    #[test]
    fn on_a_terminal_every_count_rewrites_the_line() {
        let mut p = Progress::to("sampled", true);
        assert_eq!(p.count_text(5, 100).as_deref(), Some("\rsampled 5/100"));
        assert_eq!(p.count_text(6, 100).as_deref(), Some("\rsampled 6/100"));
    }
}
