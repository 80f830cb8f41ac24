#!/usr/bin/env bash
# Side-by-side benchmark of phf against PyTorch on this machine, in one run, reported as ratios:
# training tokens/s (`small`, batch 16 × 256) vs PyTorch eager, and KV-cached sampling tokens/s (64 × 128 new
# tokens) vs Hugging Face generate; peak memory of each process.
# Usage: scripts/bench/run.sh PHF_BINARY PYTHON [PRESET]   (`make bench` passes both)
set -euo pipefail
phf=$1 python=$2 preset=${3:-small}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() { echo "+ $*" >&2; "$@" 2>/dev/null | tail -n 1; }
run "$phf" bench train --preset "$preset" --batch-size 16 --steps 10 --warmup 2 > "$out/phf_train.json"
run "$python" "$here/train_pytorch.py" --preset "$preset" --batch-size 16 --steps 10 --warmup 2 > "$out/pt_train.json"
run "$phf" bench sample --preset "$preset" --batch-size 64 --new-tokens 128 > "$out/phf_sample.json"
run "$python" "$here/sample_pytorch.py" --preset "$preset" --batch-size 64 --new-tokens 128 > "$out/pt_sample.json"
python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
d = Path(sys.argv[1])
r = {n: json.loads((d / f"{n}.json").read_text()) for n in ["phf_train", "pt_train", "phf_sample", "pt_sample"]}
print(f"| bench | phf tok/s | PyTorch tok/s | ratio | phf peak MiB | PyTorch peak MiB |")
print(f"|---|---|---|---|---|---|")
for kind, ours, theirs in [("train", "phf_train", "pt_train"), ("sample", "phf_sample", "pt_sample")]:
    a, b = r[ours], r[theirs]
    print(f"| {kind} ({a['preset']}) | {a['tokens_per_s']:.0f} | {b['tokens_per_s']:.0f} | "
          f"{a['tokens_per_s'] / b['tokens_per_s']:.2f}× | {a['peak_rss_mb']:.0f} | {b['peak_rss_mb']:.0f} |")
PY
