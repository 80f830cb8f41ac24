//! `phf train` with evaluation during training, then `phf eval` (samples, held-out loss, KL, prompted, red team)
//! and `phf report` through the binary on a tiny model, and the errors a user can run into.

use std::path::Path;
use std::process::{Command, Output};

use phf_data::Tokenizer;

fn phf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phf"))
        .args(args)
        .output()
        .expect("run the phf binary")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "phf failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tiny run trained with `[eval] scorer = "pii"`: returns its directory.
fn trained_run(dir: &Path) -> std::path::PathBuf {
    let lines: Vec<String> = (0..60)
        .map(|i| {
            let texts = [
                format!("Mail me at user{i}@example.com today. "),
                "The meeting is at noon.\n".to_string(),
            ];
            serde_json::json!({"texts": texts, "scores": [0.03, 0.0]}).to_string()
        })
        .collect();
    let corpus = dir.join("docs.jsonl");
    std::fs::write(&corpus, lines.join("\n") + "\n").unwrap();
    let tok = Tokenizer::train_bpe(lines.into_iter(), 300).unwrap();
    tok.save(&dir.join("tokenizer.json")).unwrap();
    let data = dir.join("data");
    ok(&phf(&[
        "prepare",
        "--input",
        s(&corpus),
        "--tokenizer",
        s(&dir.join("tokenizer.json")),
        "--out",
        s(&data),
        "--block-size",
        "32",
        "--valid-fraction",
        "0.2",
    ]));
    let config = dir.join("run.toml");
    std::fs::write(
        &config,
        r#"[model]
preset = "tiny"
n_ctx = 64
n_embd = 32
n_head = 2
[data]
train = "data/train"
valid = "data/valid"
tokenizer = "tokenizer.json"
[training]
batch_size = 4
total_tokens = 1024
eval_every = 4
[eval]
scorer = "pii"
num_samples = 8
max_new_tokens = 12
"#,
    )
    .unwrap();
    let run = dir.join("run");
    ok(&phf(&[
        "train",
        "--config",
        s(&config),
        "--run-dir",
        s(&run),
        "--quiet",
    ]));
    run
}

#[test]
fn train_eval_report_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let run = trained_run(tmp.path());
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    let evals: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("eval_score").is_some())
        .collect();
    assert_eq!(evals.len(), 2, "updates 4 and 8: {log}");
    assert!(
        evals.iter().all(|v| v["val_loss"].is_f64() && v["eval_samples"] == 8),
        "{evals:?}"
    );

    let prompts = tmp.path().join("prompts.jsonl");
    std::fs::write(
        &prompts,
        "{\"prompt\": \"Mail me at\"}\n{\"prompt\": \"The meeting\"}\n",
    )
    .unwrap();
    let out = phf(&[
        "eval",
        "--model",
        s(&run),
        "--scorer",
        "pii",
        "-n",
        "30",
        "--batch-size",
        "16",
        "--max-new-tokens",
        "12",
        "--reference",
        s(&run),
        "--kl-samples",
        "16",
        "--kl-cache",
        s(&tmp.path().join("kl")),
        "--prompts",
        s(&prompts),
        "--red-team",
        "--rounds",
        "1",
        "--trials",
        "1",
        "--responses",
        "2",
        "--continuations",
        "2",
    ]);
    ok(&out);
    let eval_dir = run.join("eval");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eval_dir.join("eval.json")).unwrap()).unwrap();
    assert_eq!(record["unconditional"]["misalignment"]["num_samples"], 30);
    assert_eq!(record["kl"]["kl"], 0.0, "a model against itself");
    assert_eq!(record["kl"]["mode"], "tokens");
    assert_eq!(record["prompted"]["num_prompts"], 2);
    assert_eq!(record["red_team"].as_array().unwrap().len(), 1);
    assert!(record["held_out"]["loss"].as_f64().unwrap() > 0.0);
    assert_eq!(
        std::fs::read_to_string(eval_dir.join("samples.jsonl"))
            .unwrap()
            .lines()
            .count(),
        30
    );
    assert!(eval_dir.join("red_team.json").is_file() && eval_dir.join("prompted.jsonl").is_file());
    assert!(String::from_utf8_lossy(&out.stdout).contains("| run | objective |"));

    let report = tmp.path().join("report");
    ok(&phf(&["report", s(&run), "--out", s(&report)]));
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("## pii") && md.contains("| run | mle |"), "{md}");
    assert!(report.join("plots/pii-training.svg").is_file() && report.join("report.html").is_file());

    // the errors a user meets
    let out = phf(&[
        "eval",
        "--model",
        s(&run),
        "--scorer",
        "pii",
        "-n",
        "2",
        "--control",
        "aligned",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not trained with conditional training"));
    let out = phf(&["eval", "--model", s(&run), "--scorer", "nonsense", "-n", "2"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("nonsense"));
    let out = phf(&["eval", "--model", s(&run), "--scorer", "pii", "-n", "2", "--red-team"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--red-team needs seed prompts"));
    let out = phf(&["report", s(tmp.path())]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("phf eval --model"));
}

#[test]
fn grid_runs_both_regimes_reports_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..80)
        .map(|i| {
            let text = if i % 3 == 0 {
                format!("Write to person{i}@example.org or call. The plan is fine.\n")
            } else {
                format!("The plan for day {i} is fine. We meet at noon.\n")
            };
            serde_json::json!({ "text": text }).to_string()
        })
        .collect();
    let corpus = tmp.path().join("docs.jsonl");
    std::fs::write(&corpus, lines.join("\n") + "\n").unwrap();
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let work = tmp.path().join("grid");
    let corpus_arg = format!("pii={}", s(&corpus));
    let args = [
        "grid",
        "--tasks",
        "pii",
        "--objectives",
        "mle,conditional",
        "--regimes",
        "pretrain,finetune",
        "--scale",
        "tiny",
        "--corpus",
        &corpus_arg,
        "--configs",
        s(&configs),
        "--work-dir",
        s(&work),
        "--set",
        "training.total_tokens=8192",
        "--set",
        "model.n_ctx=32",
        "--eval-samples",
        "8",
        "--kl-samples",
        "8",
        "--prompts",
        "2",
    ];
    let out = phf(&args);
    ok(&out);
    let md = std::fs::read_to_string(work.join("report/report.md")).unwrap();
    for run in ["mle-pretrain", "conditional-pretrain", "conditional-finetune"] {
        assert!(md.contains(&format!("| {run} |")), "{run} missing from\n{md}");
    }
    // every run's held-out loss is on the same text, the plain validation split (the conditional split holds
    // control tokens besides)
    let held_out_tokens = |run: &str| {
        let record = std::fs::read_to_string(work.join(format!("pii/runs/{run}/eval/eval.json"))).unwrap();
        let record: serde_json::Value = serde_json::from_str(&record).unwrap();
        record["held_out"]["tokens"].as_u64().unwrap()
    };
    assert_eq!(held_out_tokens("mle-pretrain"), held_out_tokens("conditional-pretrain"));
    assert_eq!(held_out_tokens("mle-pretrain"), held_out_tokens("conditional-finetune"));
    // a --valid-tokenizer the model's does not extend is refused, by name
    let other = tmp.path().join("other-tokenizer.json");
    ok(&phf(&[
        "tokenizer",
        "train",
        "-i",
        s(&corpus),
        "--vocab-size",
        "270",
        "-o",
        s(&other),
    ]));
    let conditional = work.join("pii/runs/conditional-pretrain");
    let valid = work.join("pii/data/plain/valid");
    let out = phf(&[
        "eval",
        "--model",
        s(&conditional),
        "--scorer",
        "pii",
        "-n",
        "2",
        "--max-new-tokens",
        "4",
        "--valid",
        s(&valid),
        "--valid-tokenizer",
        s(&other),
        "--out",
        s(&tmp.path().join("refused")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("other-tokenizer.json: the model's tokenizer is not"),
        "{stderr}"
    );
    // the finetuning run starts from the MLE run's half-way checkpoint: half the budget was already seen
    let log = std::fs::read_to_string(work.join("pii/runs/conditional-finetune/log.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert!(first["tokens"].as_u64().unwrap() > 4096, "{first}");
    // a rerun finds everything done
    let again = phf(&args);
    ok(&again);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("conditional-finetune: trained, kept") && !stderr.contains("evaluating"),
        "{stderr}"
    );
    // a second training seed: MLE repeated under its own name and seed, seed 42's run kept, and the report
    // summarises the two over seeds
    let mut seeded: Vec<&str> = args.to_vec();
    seeded[4] = "mle";
    seeded[6] = "pretrain";
    seeded.extend(["--seeds", "42,43"]);
    let out = phf(&seeded);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pii/mle-pretrain: trained, kept"), "{stderr}");
    let config = std::fs::read_to_string(work.join("pii/runs/mle-pretrain-seed43/run.toml")).unwrap();
    assert!(config.contains("seed = 43"), "{config}");
    let md = std::fs::read_to_string(work.join("report/report.md")).unwrap();
    assert!(
        md.contains("Across training seeds") && md.contains("| mle-pretrain | mle | 2 |"),
        "{md}"
    );
    // kept stages made otherwise than this grid would make them now are refused, by file and what differs
    let refused = |file: &Path, from: &str, to: &str, says: &str| {
        let kept = std::fs::read_to_string(file).unwrap();
        assert!(kept.contains(from), "{kept}");
        std::fs::write(file, kept.replace(from, to)).unwrap();
        let out = phf(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{stderr}");
        std::fs::write(file, kept).unwrap();
    };
    let scorer = phf_score::scorer_by_name("pii").unwrap().id().version;
    refused(
        &work.join("pii/scored.jsonl.meta.json"),
        &format!("\"scorer_version\": \"{scorer}\""),
        "\"scorer_version\": \"native-0\"",
        &format!("scored by pii@native-0, cut into sentences, but this grid scores with pii@{scorer}"),
    );
    refused(
        &work.join("pii/data/conditional/train/header.json"),
        "\"threshold_given\": \"0\"",
        "\"threshold_given\": \"q0.5\"",
        "prepared with threshold q0.5, but this grid uses 0",
    );
    ok(&phf(&args));
    // --threshold replaces a task's conditional threshold (the kept data, made with 0, is then refused), and
    // names only this grid's tasks
    let with = |extra: [&'static str; 2]| {
        let mut more: Vec<&str> = args.to_vec();
        more.extend(extra);
        let out = phf(&more);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = with(["--threshold", "pii=q0.5"]);
    assert!(
        stderr.contains("prepared with threshold 0, but this grid uses q0.5"),
        "{stderr}"
    );
    // `--set objective.KEY` reaches the runs whose objective takes KEY, and no others (a new seed, so that both
    // runs are trained now)
    let mut unlikelihood: Vec<&str> = args.to_vec();
    unlikelihood[4] = "mle,unlikelihood";
    unlikelihood[6] = "pretrain";
    unlikelihood.extend(["--seeds", "45", "--set", "objective.alpha=0.5"]);
    ok(&phf(&unlikelihood));
    let config = |run: &str| std::fs::read_to_string(work.join(format!("pii/runs/{run}/run.toml"))).unwrap();
    let (mle, unlikely) = (config("mle-pretrain-seed45"), config("unlikelihood-pretrain-seed45"));
    assert!(unlikely.contains("alpha = 0.5"), "{unlikely}");
    assert!(!mle.contains("alpha"), "{mle}");
    let stderr = with(["--set", "objective.beta=1"]);
    assert!(
        stderr.contains("none of this grid's objectives (mle, conditional) takes `beta`"),
        "{stderr}"
    );
    let stderr = with(["--threshold", "pii=q1.5"]);
    assert!(stderr.contains("--threshold pii=q1.5: "), "{stderr}");
    assert!(
        !stderr.contains("phf grid: pii:"),
        "refused only once the task had started:\n{stderr}"
    );
    let stderr = with(["--filter-threshold", "toxicity=q0.5"]);
    assert!(
        stderr.contains("--filter-threshold toxicity=q0.5: `toxicity` is not one of this grid's tasks (pii)"),
        "{stderr}"
    );
}
