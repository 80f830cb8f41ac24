#!/usr/bin/env python3
"""The figures docs/RESULTS.md quotes from one task's grid files rather than from `phf report` (stdlib only).

    scripts/results/notes.py TASK [WORK_DIR]     (TASK: toxicity, pii or pep8; WORK_DIR default /work/grid-small,
                                                  as scripts/results/grid_small.sh)
    scripts/results/notes.py TASK GRID_WORK_DIR  (a `phf grid --work-dir`, e.g. a side experiment's
                                                  /work/grid-small/work-4x: its TASK folder)

Prints, per run: the median and 90th percentile of its samples' scores, their mean length in words, the share of
samples that are blank or quote markers only (`>` and whitespace making up over 90% of the characters) with
their mean score, the mean score of the others, and its most misaligned sample (eval/samples.jsonl and
eval/eval.json); for PII, the share of samples with an e-mail header line, after each control token sampled
(eval-misaligned/ from scripts/results/misaligned_control.sh); the mean RWR/AWR weight over the logged updates
(log.jsonl); for objectives run at several seeds, each seed's score and held-out loss against MLE's at the same
seed; what filtering and conditional training did to the training data (data/*/prepare.json) and where
the segments marked `<|aligned|>` come from (the corpus' `source` field); and twelve
segments drawn (seed 1) from those at or below the corpus' 5% quantile score, the segments the paper's share of
`<|aligned|>` would mark (scored.jsonl and its summary).
"""
import json
import random
import re
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


# a line that starts like an e-mail header field (the PII corpus is half header blocks)
HEADER = re.compile(r"^(Received|From|To|Cc|Subject|Date|Message-Id|Return-Path|Delivered-To|Sender|Errors-To|"
                    r"Precedence|MIME-Version|In-Reply-To|References|List-[A-Za-z-]+|X-[A-Za-z-]+|"
                    r"Content-[A-Za-z-]+):", re.M | re.I)


def headers_table(runs):
    """PII: how many samples write e-mail headers, after each control token the run was sampled with."""
    print("| run | prompt | samples with a header line: share, mean score | the others: mean score |")
    print("|---|---|---:|---:|")
    for run in runs:
        for prompt, folder in (("plain / <|aligned|>", "eval"), ("<|misaligned|>", "eval-misaligned")):
            if not (run / folder / "samples.jsonl").is_file():
                continue
            samples = read_jsonl(run / folder / "samples.jsonl")
            headers, others = [], []
            for s in samples:
                (headers if HEADER.search(s["text"]) else others).append(s["score"])
            print(f"| {run.name} | {prompt} | {len(headers) / len(samples):.3f}, {mean(headers)} | {mean(others)} |")


def seeds_table(runs):
    """Each objective run at several training seeds, against MLE pretraining at the same seed: the score, and the
    held-out loss's difference from MLE's, unrounded until printed."""
    evals = {run.name: json.load(open(run / "eval" / "eval.json")) for run in runs}
    seeded = sorted({m.group(1) for name in evals if (m := re.fullmatch(r"(.+)-seed\d+", name))})
    if not seeded:
        return
    print("| run | seeds | scores | mean score | held-out loss − MLE's at the same seed | mean |")
    print("|---|---|---|---:|---|---:|")
    for base in seeded:
        names = [base] + sorted(n for n in evals if re.fullmatch(re.escape(base) + r"-seed\d+", n))
        mle = {n: n.replace(base, "mle-pretrain", 1) for n in names}
        scores = [evals[n]["unconditional"]["misalignment"]["score"] for n in names]
        losses = [evals[n]["held_out"]["loss"] - evals[mle[n]]["held_out"]["loss"] for n in names if mle[n] in evals]
        print(f"| {base} | 42, " + ", ".join(n.rsplit("-seed", 1)[1] for n in names[1:]) + " | "
              + " / ".join(f"{x:.4f}" for x in scores) + f" | {sum(scores) / len(scores):.5f} | "
              + " / ".join(f"{x:+.3f}" for x in losses) + f" | {sum(losses) / max(1, len(losses)):+.3f} |")


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


def aligned_sources(work, scored):
    """Where the segments conditional training marks `<|aligned|>` come from (the corpus' `source` field)."""
    path = work / "data" / "conditional" / "prepare.json"
    if not path.is_file():
        return
    threshold = json.load(open(path))["transform"]["attributes"][0]["threshold"]
    sources, short, total, above = {}, 0, 0, []
    for r in scored:
        for text, score in zip(r["texts"], r["scores"]):
            if score > threshold:
                above.append(score)
            else:
                total += 1
                sources[r.get("source", "?")] = sources.get(r.get("source", "?"), 0) + 1
                short += len(text.split()) <= 3
    shares = ", ".join(f"{name} {n / total:.3f}" for name, n in sorted(sources.items(), key=lambda kv: -kv[1]))
    print(f"{total} segments of scored.jsonl at or below the conditional threshold ({threshold:.6g}): {shares}; "
          f"{short / total:.3f} of them 3 words or fewer")
    above.sort()
    print(f"{len(above)} segments above it: mean score {sum(above) / len(above):.4f}, "
          f"median {above[len(above) // 2]:.4f}")


def low_segments(work, scored):
    summary = json.load(open(work / "scored.jsonl.summary.json"))["segment_scores"]
    q05 = dict(summary["quantiles"])[0.05]
    low = [t for r in scored for t, s in zip(r["texts"], r["scores"]) if s <= q05]
    print(f"{len(low)} segments score at most the 5% quantile, {q05:.6f}; twelve of them:")
    for text in random.Random(1).sample(low, min(12, len(low))):
        print("  ", json.dumps(text[:110]))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("toxicity", "pii", "pep8"):
        sys.exit("usage: scripts/results/notes.py TASK [WORK_DIR]   (TASK: toxicity, pii or pep8)")
    root = Path(sys.argv[2] if len(sys.argv) > 2 else "/work/grid-small")
    work = root / "work" / sys.argv[1]
    if not work.is_dir() and (root / sys.argv[1]).is_dir():
        work = root / sys.argv[1]
    if not (work / "runs").is_dir():
        sys.exit(f"error: {work / 'runs'} does not exist: run scripts/results/grid_small.sh first")
    runs = sorted(p for p in (work / "runs").iterdir() if (p / "eval" / "eval.json").is_file())
    runs_table(runs)
    print()
    seeds_table(runs)
    print()
    if sys.argv[1] == "pii":
        headers_table(runs)
        print()
    weights(runs)
    print()
    training_data(work)
    scored = read_jsonl(work / "scored.jsonl")  # read once: the corpus is tens of MB
    aligned_sources(work, scored)
    print()
    low_segments(work, scored)


if __name__ == "__main__":
    main()
