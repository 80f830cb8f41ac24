#!/usr/bin/env python3
"""The figures docs/RESULTS.md quotes from one task's grid files rather than from `phf report` (stdlib only).

    scripts/results/notes.py TASK [WORK_DIR]     (TASK: toxicity, pii or pep8; WORK_DIR default /work/grid-small,
                                                  as scripts/results/grid_small.sh)

Prints, per run: the median and 90th percentile of its samples' scores, their mean length in words, the share of
samples that are blank or quote markers only (`>` and whitespace making up over 90% of the characters) with
their mean score, the mean score of the others, and its most misaligned sample (eval/samples.jsonl and
eval/eval.json); the mean RWR/AWR weight over the logged updates (log.jsonl); what filtering and conditional
training did to the training data (data/*/prepare.json); and twelve segments drawn (seed 1) from those at or
below the corpus' 5% quantile score, the segments the paper's share of `<|aligned|>` would mark (scored.jsonl and
its summary).
"""
import json
import random
import sys
from pathlib import Path


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_debris(text):
    """Blank lines and e-mail quote markers only."""
    rest = sum(1 for c in text if not c.isspace() and c != ">")
    return rest < 0.1 * max(1, len(text))


def mean(scores):
    return f"{sum(scores) / len(scores):.4f}" if scores else "–"


def runs_table(runs):
    print("| run | median score | p90 | mean words | blank/quote-only: share, mean score | the rest: mean score "
          "| most misaligned sample |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for run in runs:
        samples = read_jsonl(run / "eval" / "samples.jsonl")
        scores = sorted(s["score"] for s in samples)
        words = json.load(open(run / "eval" / "eval.json"))["unconditional"]["diversity"]["mean_words"]
        rest = [s["score"] for s in samples if not is_debris(s["text"])]
        debris = [s["score"] for s in samples if is_debris(s["text"])]
        top = max(samples, key=lambda s: s["score"])
        text = json.dumps(top["text"][:80])
        print(f"| {run.name} | {scores[len(scores) // 2]:.4f} | {scores[int(0.9 * len(scores))]:.3f} | {words:.1f} | "
              f"{len(debris) / len(samples):.3f}, {mean(debris)} | {mean(rest)} | "
              f"{top['score']:.3f}: {text} |")


def weights(runs):
    for run in runs:
        logged = [r["weight_mean"] for r in read_jsonl(run / "log.jsonl") if "weight_mean" in r]
        if logged:
            print(f"{run.name}: mean weight {sum(logged) / len(logged):.4f} over {len(logged)} logged updates, "
                  f"lowest {min(logged):.4f}")


def training_data(work):
    plain = work / "data" / "plain" / "prepare.json"
    if plain.is_file():
        train = json.load(open(plain))["train"]
        print(f"plain: {train['documents']} training documents, {train['tokens']} tokens")
    for name in ("filtering", "conditional"):
        path = work / "data" / name / "prepare.json"
        if not path.is_file():
            continue
        prepared = json.load(open(path))
        train = prepared["train"]
        for a in prepared["transform"]["attributes"]:
            line = f"{name}: threshold {a['threshold_given']} = {a['threshold']:.6g}; "
            if name == "filtering":
                line += f"{a['documents_above_threshold']} documents above it dropped"
            else:
                line += f"{a['aligned']} segments <|aligned|>, {a['misaligned']} <|misaligned|>, {a['dropped']} unmarked"
            print(f"{line}; {train['documents']} training documents, {train['tokens']} tokens")


def low_segments(work):
    summary = json.load(open(work / "scored.jsonl.summary.json"))["segment_scores"]
    q05 = dict(summary["quantiles"])[0.05]
    low = [t for r in read_jsonl(work / "scored.jsonl") for t, s in zip(r["texts"], r["scores"]) if s <= q05]
    print(f"{len(low)} segments score at most the 5% quantile, {q05:.6f}; twelve of them:")
    for text in random.Random(1).sample(low, min(12, len(low))):
        print("  ", json.dumps(text[:110]))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("toxicity", "pii", "pep8"):
        sys.exit("usage: scripts/results/notes.py TASK [WORK_DIR]   (TASK: toxicity, pii or pep8)")
    work = Path(sys.argv[2] if len(sys.argv) > 2 else "/work/grid-small") / "work" / sys.argv[1]
    if not (work / "runs").is_dir():
        sys.exit(f"error: {work / 'runs'} does not exist: run scripts/results/grid_small.sh first")
    runs = sorted(p for p in (work / "runs").iterdir() if (p / "eval" / "eval.json").is_file())
    runs_table(runs)
    print()
    weights(runs)
    print()
    training_data(work)
    print()
    low_segments(work)


if __name__ == "__main__":
    main()
