//! Parity of the native `pep8` scorer with pycodestyle 2.15 (default options) on the local CPython standard
//! library. The fixture `fixtures/pep8_stdlib.json` holds, per file, the path relative to the stdlib, its
//! length in characters and the lines of each violation pycodestyle reported, never the file's contents; it
//! was written by `scripts/score/pep8_reference.py`. This test reads the same files from the local stdlib, so
//! it skips (with a message) where the Python version or the stdlib path differs from the fixture's.
//!
//! Prints per-code agreement (violations matched on file, line and code) with `--nocapture`:
//!
//!     cargo test -p phf-score --test pep8_parity -- --nocapture
//!
//! `PHF_PEP8_FIXTURE=/path/to/fixture.json` runs it against another fixture in the same format (e.g. from
//! `pep8_reference.py --step 1`, or damaged files from `scripts/score/pep8_damaged_reference.py`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

use phf_score::pep8::check;
use serde_json::Value;

/// Pearson correlation of per-file scores required (SPEC §6 parity goal).
const MIN_PEARSON: f64 = 0.99;

/// The committed fixture, or another one made by the same script (e.g. `--step 1`, the whole stdlib) named by
/// `PHF_PEP8_FIXTURE`.
fn fixture() -> Value {
    let path = match std::env::var_os("PHF_PEP8_FIXTURE") {
        Some(path) => Path::new(&path).to_path_buf(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pep8_stdlib.json"),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// `(sys.version, stdlib path)` of the local `python3`, if there is one.
fn local_python() -> Option<(String, String)> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, sysconfig; print(sys.version); print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    // `sys.version` can span two lines (build info); the stdlib path is the last line.
    let all: Vec<&str> = lines.by_ref().collect();
    let (stdlib, version) = all.split_last()?;
    Some((version.join("\n"), stdlib.to_string()))
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Matched (true positive), extra (ours only) and missed (pycodestyle only) violations of one code.
#[derive(Default)]
struct Agreement {
    matched: usize,
    extra: usize,
    missed: usize,
}

#[test]
fn per_file_scores_match_pycodestyle_on_the_stdlib() {
    let fixture = fixture();
    let want_version = fixture["python"].as_str().expect("python");
    let stdlib = fixture["stdlib"].as_str().expect("stdlib");
    match local_python() {
        Some((version, path)) if version == want_version && path == stdlib => {}
        other => {
            println!(
                "SKIPPED pep8 parity: the fixture was made with Python {want_version:?} at {stdlib}, this machine \
                 has {other:?}; regenerate it with scripts/score/pep8_reference.py"
            );
            return;
        }
    }
    let files = fixture["files"].as_array().expect("files");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut by_code: BTreeMap<String, Agreement> = BTreeMap::new();
    let mut worst: Vec<(f64, String, usize, usize)> = Vec::new();
    for file in files {
        let rel = file["path"].as_str().expect("path");
        let text = std::fs::read_to_string(Path::new(stdlib).join(rel)).expect("stdlib file readable");
        let chars = text.chars().count();
        assert_eq!(
            chars as u64,
            file["chars"].as_u64().expect("chars"),
            "{rel} changed since the fixture"
        );
        let found = check(&text);
        // Multisets of (line, code): ours against pycodestyle's.
        let mut mine: HashMap<(usize, &str), usize> = HashMap::new();
        for v in &found {
            *mine.entry((v.line, v.code)).or_default() += 1;
        }
        let mut reference: HashMap<(usize, String), usize> = HashMap::new();
        let mut n_ref = 0;
        for (code, lines) in file["lines"].as_object().expect("lines") {
            for line in lines.as_array().expect("line list") {
                *reference
                    .entry((line.as_u64().expect("line") as usize, code.clone()))
                    .or_default() += 1;
                n_ref += 1;
            }
        }
        for ((line, code), &n) in &reference {
            let m = mine.get(&(*line, code.as_str())).copied().unwrap_or(0);
            let a = by_code.entry(code.clone()).or_default();
            a.matched += n.min(m);
            a.missed += n.saturating_sub(m);
        }
        for ((line, code), &m) in &mine {
            let n = reference.get(&(*line, code.to_string())).copied().unwrap_or(0);
            by_code.entry(code.to_string()).or_default().extra += m.saturating_sub(n);
        }
        // Violations per character; an empty file scores 0, as in the scorer.
        let per_char = |n: usize| if chars == 0 { 0.0 } else { n as f64 / chars as f64 };
        let (a, b) = (per_char(found.len()), per_char(n_ref));
        worst.push(((a - b).abs(), rel.to_string(), found.len(), n_ref));
        ours.push(a);
        theirs.push(b);
    }
    let r = pearson(&ours, &theirs);
    println!(
        "pep8 parity on {} files: Pearson r = {r:.5} (need {MIN_PEARSON})",
        files.len()
    );
    println!(
        "{:<6} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "code", "matched", "extra", "missed", "precision", "recall"
    );
    let (mut tm, mut te, mut tmi) = (0, 0, 0);
    for (code, a) in &by_code {
        let p = a.matched as f64 / (a.matched + a.extra).max(1) as f64;
        let rc = a.matched as f64 / (a.matched + a.missed).max(1) as f64;
        println!(
            "{code:<6} {:>8} {:>8} {:>8} {p:>9.3} {rc:>7.3}",
            a.matched, a.extra, a.missed
        );
        (tm, te, tmi) = (tm + a.matched, te + a.extra, tmi + a.missed);
    }
    println!(
        "{:<6} {tm:>8} {te:>8} {tmi:>8} {:>9.3} {:>7.3}",
        "all",
        tm as f64 / (tm + te).max(1) as f64,
        tm as f64 / (tm + tmi).max(1) as f64
    );
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("largest per-file score gaps (file, ours, pycodestyle):");
    for (_, rel, mine, reference) in worst.iter().take(5) {
        println!("  {rel}: {mine} vs {reference}");
    }
    assert!(r >= MIN_PEARSON, "Pearson {r:.5} below {MIN_PEARSON}");
}
