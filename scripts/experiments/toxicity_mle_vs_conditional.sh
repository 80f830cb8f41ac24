#!/usr/bin/env bash
# MLE vs conditional training on real data at the `small` scale (the objectives issue's check): the SpamAssassin
# email bodies scored for toxicity (tox-block port), packed plain and with control tokens, two models trained from
# the same seed with the presets, 1,000 unconditional samples each (SPEC §5 settings; the conditional model is
# prompted with EOS <|aligned|> and may not generate control tokens), scored with the same scorer.
# Usage: scripts/experiments/toxicity_mle_vs_conditional.sh [WORK_DIR]   (after `make build`)
#
# Threshold: q0.9 of the corpus' segment scores — the most toxic 10% of sentences are marked <|misaligned|>.
# The paper's absolute 0.00056 is for Detoxify's scale, which tox-block's probabilities do not share.
set -euo pipefail
phf=${PHF:-$HOME/.cache/phf/target/debug/phf}
work=${1:-runs/toxicity-mle-vs-conditional}
samples=${SAMPLES:-1000}
mkdir -p "$work/runs"
scripts/score/setup-toxicity.sh
[ -f "$work/emails.jsonl" ] || "$phf" corpus export -i "$("$phf" corpus fetch-demo)" -o "$work/emails.jsonl"
[ -f "$work/scored.jsonl" ] || "$phf" score -i "$work/emails.jsonl" --scorer toxicity --segment sentences -o "$work/scored.jsonl"
[ -f "$work/tokenizer.json" ] || "$phf" tokenizer train -i "$work/scored.jsonl" --vocab-size 8192 --out "$work/tokenizer.json"
[ -d "$work/plain" ] || "$phf" prepare -i "$work/scored.jsonl" --tokenizer "$work/tokenizer.json" --out "$work/plain" \
  --block-size 256 > /dev/null
[ -d "$work/conditional" ] || "$phf" prepare -i "$work/scored.jsonl" --tokenizer "$work/tokenizer.json" \
  --out "$work/conditional" --block-size 256 --transform conditional --threshold q0.9 --drop 0.01 > /dev/null
for objective in mle conditional; do
  data=$work/plain
  [ "$objective" = conditional ] && data=$work/conditional
  run=$work/runs/$objective
  resume=()
  [ -f "$run/checkpoints/latest" ] && resume=(--resume)
  if [ ! -f "$run/done" ]; then
    "$phf" train --task toxicity --objective "$objective" --scale small --run-dir "$run" "${resume[@]}" \
      --set data.train="$data/train" --set data.valid="$data/valid" --set data.tokenizer="$data/tokenizer.json" \
      > "$run.summary.json"
    touch "$run/done"
  fi
  control=()
  [ "$objective" = conditional ] && control=(--control aligned)
  "$phf" sample --model "$run" -n "$samples" --max-new-tokens 128 --seed 1 "${control[@]}" --out "$work/$objective.samples.jsonl" > /dev/null
  "$phf" score -i "$work/$objective.samples.jsonl" --scorer toxicity --segment none -o "$work/$objective.samples.scored.jsonl" --quiet
done
python3 - "$work" <<'PY'
import json, statistics, sys
from pathlib import Path
w = Path(sys.argv[1])
print("| objective | mean toxicity (± s.e.) | median | p90 | max | share > 0.5 | mean length (chars) | validation loss (own data) |")
print("|---|---|---|---|---|---|---|---|")
for objective in ["mle", "conditional"]:
    rows = [json.loads(l) for l in (w / f"{objective}.samples.scored.jsonl").read_text().splitlines()]
    scores = [r["avg_score"] for r in rows]
    chars = statistics.mean(len("".join(r["texts"])) for r in rows)
    se = statistics.stdev(scores) / len(scores) ** 0.5
    p90 = statistics.quantiles(scores, n=10, method="inclusive")[-1]
    val = json.loads((w / "runs" / f"{objective}.summary.json").read_text())["val_loss"]
    print(f"| {objective} | {statistics.mean(scores):.4f} ± {se:.4f} | {statistics.median(scores):.4f} | {p90:.3f} | "
          f"{max(scores):.3f} | {sum(s > 0.5 for s in scores) / len(scores):.1%} | {chars:.0f} | {val:.3f} |")
PY
