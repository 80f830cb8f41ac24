#!/usr/bin/env bash
# Side-by-side benchmark of phf against PyTorch on this machine, in one run, reported as ratios:
#   train:  training tokens/s of `small` (batch 16 × 256, AdamW, clipping) vs the same GPT-2 in PyTorch eager
#   sample: KV-cached sampling tokens/s (64 sequences × 128 new tokens, temperature 0.7, top-p 0.9) vs Hugging Face
#           `generate`, on random weights and, when MODEL is given, on that trained model (a phf run or model
#           directory, which transformers loads as is)
# and the peak memory of each process. Each measurement is taken ROUNDS times, phf and PyTorch alternating, and
# the median is reported, so a busy moment on the machine does not decide a ratio.
# Usage: scripts/bench/run.sh PHF_BINARY PYTHON [MODEL]   (`make bench` passes the first two)
set -euo pipefail
phf=$1 python=$2 model=${3:-}
rounds=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $rounds rounds"
run() { local file=$1; shift; echo "+ $*" >&2; "$@" 2>/dev/null | tail -n 1 >> "$out/$file.jsonl"; }
model_dir=""
if [ -n "$model" ]; then
  # a run directory resolves to its latest checkpoint (what `phf sample --model` does)
  if [ -f "$model/model.safetensors" ]; then model_dir=$model; else model_dir="$model/checkpoints/$(cat "$model/checkpoints/latest")"; fi
fi
for _ in $(seq "$rounds"); do
  run phf_train "$phf" bench train --preset small --batch-size 16 --steps 10 --warmup 2
  run pt_train "$python" "$here/train_pytorch.py" --preset small --batch-size 16 --steps 10 --warmup 2
  run phf_sample "$phf" bench sample --preset small --batch-size 64 --new-tokens 128
  run pt_sample "$python" "$here/sample_pytorch.py" --preset small --batch-size 64 --new-tokens 128
  if [ -n "$model_dir" ]; then
    run phf_sample_trained "$phf" bench sample --model "$model_dir" --batch-size 64 --new-tokens 128
    run pt_sample_trained "$python" "$here/sample_pytorch.py" --model "$model_dir" --batch-size 64 --new-tokens 128
  fi
done
python3 - "$out" <<'PY'
import json, statistics, sys
from pathlib import Path
d = Path(sys.argv[1])
def load(name):
    f = d / f"{name}.jsonl"
    return [json.loads(l) for l in f.read_text().splitlines()] if f.exists() else []
print("| bench | phf tok/s | PyTorch tok/s | ratio (median) | phf peak MiB | PyTorch peak MiB |")
print("|---|---|---|---|---|---|")
for label, ours, theirs in [("train, small, random init", "phf_train", "pt_train"),
                            ("sample, small, random weights", "phf_sample", "pt_sample"),
                            ("sample, small, trained model", "phf_sample_trained", "pt_sample_trained")]:
    a, b = load(ours), load(theirs)
    if not a or not b:
        continue
    ta = statistics.median(r["tokens_per_s"] for r in a)
    tb = statistics.median(r["tokens_per_s"] for r in b)
    ratio = statistics.median(x["tokens_per_s"] / y["tokens_per_s"] for x, y in zip(a, b))
    ma = max(r["peak_rss_mb"] for r in a)
    mb = max(r["peak_rss_mb"] for r in b)
    print(f"| {label} | {ta:.0f} | {tb:.0f} | {ratio:.2f}× | {ma:.0f} | {mb:.0f} |")
PY
