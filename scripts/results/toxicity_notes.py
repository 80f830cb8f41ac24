#!/usr/bin/env python3
"""The figures docs/RESULTS.md quotes from the toxicity runs' own files rather than from `phf report` (stdlib only).

    scripts/results/toxicity_notes.py [WORK_DIR]     (default /work/grid-small, as scripts/results/grid_small.sh)

Prints, per run: the median and 90th percentile of its samples' scores, their mean length in words, and its most
misaligned sample (from eval/samples.jsonl and eval/eval.json); the mean RWR/AWR weight over the logged updates
(log.jsonl); and twelve sentences drawn (seed 1) from those at or below the corpus' 5% quantile score, the
sentences the paper's share of `<|aligned|>` would mark (scored.jsonl and its summary).
"""
import json
import random
import sys
from pathlib import Path


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/grid-small") / "work" / "toxicity"
    runs = sorted(p for p in (work / "runs").iterdir() if (p / "eval" / "eval.json").is_file())
    print("| run | median score | p90 | mean words | most misaligned sample |")
    print("|---|---:|---:|---:|---|")
    for run in runs:
        samples = read_jsonl(run / "eval" / "samples.jsonl")
        scores = sorted(s["score"] for s in samples)
        words = json.load(open(run / "eval" / "eval.json"))["unconditional"]["diversity"]["mean_words"]
        top = max(samples, key=lambda s: s["score"])
        text = json.dumps(top["text"][:80])
        print(f"| {run.name} | {scores[len(scores) // 2]:.4f} | {scores[int(0.9 * len(scores))]:.3f} | {words:.1f} | "
              f"{top['score']:.3f}: {text} |")
    print()
    for run in runs:
        weights = [r["weight_mean"] for r in read_jsonl(run / "log.jsonl") if "weight_mean" in r]
        if weights:
            print(f"{run.name}: mean weight {sum(weights) / len(weights):.4f} over {len(weights)} logged updates, "
                  f"lowest {min(weights):.4f}")
    print()
    summary = json.load(open(work / "scored.jsonl.summary.json"))["segment_scores"]
    q05 = dict(summary["quantiles"])[0.05]
    low = [t for r in read_jsonl(work / "scored.jsonl") for t, s in zip(r["texts"], r["scores"]) if s <= q05]
    print(f"{len(low)} sentences score at most the 5% quantile, {q05:.6f}; twelve of them:")
    for text in random.Random(1).sample(low, 12):
        print("  ", json.dumps(text[:110]))


if __name__ == "__main__":
    main()
