//! Throughput of one phf scorer on a JSON-lines file of texts: the Rust half of
//! `scripts/score/bench_scorers.sh`, which runs the Python references on the same input and prints the ratios.
//!
//! Usage: cargo run -p phf-score --example bench_scorers -- SCORER INPUT.jsonl [MAX_BYTES] [MIN_SECONDS]
//!
//! SCORER is any `scorer_by_name` name (`toxicity`, `offensive`, `pii`, ...). INPUT holds one `{"text": ...}` per
//! line; only the first MAX_BYTES bytes of text are used (whole documents; default: all). The batch is scored
//! repeatedly until MIN_SECONDS (default 3) have passed, so short inputs are still timed reliably. Threads:
//! rayon's default (all cores) unless `RAYON_NUM_THREADS` says otherwise. Model loading is not timed: as the
//! Python side does, the first two texts are scored once before the clock starts.
//!
//! The PII scorer's NER caches what it computes from each word alone. Scoring the same batch again would find
//! every word cached, which a long run over a corpus never does; so before each timed pass the cache is emptied and
//! refilled, untimed, from the next WARM_BYTES (default 500 kB) of documents in INPUT, as they would be by the
//! documents before it in a long run.
//! Prints one JSON line: {"side": "rust", "scorer", "docs", "bytes", "warm_bytes", "seconds", "cpu_seconds",
//! "mb_per_s", "threads", "mean_score"}; `seconds` is wall-clock per round, `cpu_seconds` the process's CPU time per round (all threads),
//! which shows how much of the wall-clock time a busy machine gave to the run.

use std::time::{Duration, Instant};

use phf_score::scorer_by_name;

fn usage() -> ! {
    eprintln!("usage: bench_scorers SCORER INPUT.jsonl [MAX_BYTES] [MIN_SECONDS]");
    std::process::exit(2)
}

/// CPU time used by this process so far, all threads.
fn process_cpu_seconds() -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write; the clock id is a constant the kernel knows.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.iter().any(|a| a == "-h" || a == "--help") {
        usage();
    }
    let max_bytes: usize = args
        .get(2)
        .map_or(usize::MAX, |a| a.parse().unwrap_or_else(|_| usage()));
    let min_seconds: f64 = args.get(3).map_or(3.0, |a| a.parse().unwrap_or_else(|_| usage()));
    let input = std::fs::read_to_string(&args[1]).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", args[1]);
        std::process::exit(1)
    });

    let warm_bytes: usize = std::env::var("WARM_BYTES").map_or(500_000, |v| v.parse().unwrap_or_else(|_| usage()));
    let mut texts: Vec<String> = Vec::new();
    let mut warm_texts: Vec<String> = Vec::new();
    let (mut bytes, mut warm) = (0, 0);
    for (n, line) in input.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            eprintln!("{}:{}: {e}", args[1], n + 1);
            std::process::exit(1)
        });
        let Some(text) = value["text"].as_str() else {
            eprintln!("{}:{}: no string field `text`", args[1], n + 1);
            std::process::exit(1)
        };
        if warm_texts.is_empty() && bytes + text.len() <= max_bytes {
            bytes += text.len();
            texts.push(text.to_owned());
        } else if warm + text.len() <= warm_bytes {
            warm += text.len();
            warm_texts.push(text.to_owned());
        } else {
            break;
        }
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let warm_texts: Vec<&str> = warm_texts.iter().map(String::as_str).collect();

    let scorer = scorer_by_name(&args[0]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let score = |texts: &[&str]| {
        scorer.score_batch(texts).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        })
    };
    score(&texts[..texts.len().min(2)]);
    let (mut timed, mut cpu_timed) = (Duration::ZERO, 0.0);
    let mut rounds = 0u32;
    let mut sum = 0.0f64;
    while rounds == 0 || timed < Duration::from_secs_f64(min_seconds) {
        if let Ok(Some(ner)) = phf_score::pii::entity_recognizer() {
            ner.clear_cache();
        }
        score(&warm_texts);
        let (start, cpu_start) = (Instant::now(), process_cpu_seconds());
        let scores = score(&texts);
        timed += start.elapsed();
        cpu_timed += process_cpu_seconds() - cpu_start;
        sum = scores.iter().map(|&s| f64::from(s)).sum();
        rounds += 1;
    }
    let seconds = timed.as_secs_f64() / f64::from(rounds);
    let cpu_seconds = cpu_timed / f64::from(rounds);
    let result = serde_json::json!({
        "side": "rust",
        "scorer": args[0],
        "docs": texts.len(),
        "bytes": bytes,
        "warm_bytes": warm,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "mb_per_s": bytes as f64 / 1e6 / seconds,
        "threads": rayon::current_num_threads(),
        "mean_score": sum / texts.len().max(1) as f64,
    });
    println!("{result}");
}
