#!/usr/bin/env bash
# Issue 6's speed target: `phf eval` of 4,096 unconditional samples × 128 tokens from a `small` model (T 0.7,
# top-p 0.9, min 10 tokens), scored by the toxicity scorer, in ≤ 2 minutes on the 2-core CPU. Prints the wall
# time of the whole command and eval.json's sampling/scoring split.
# Usage: scripts/bench/eval_speed.sh PHF_BINARY MODEL [SCORER]   (MODEL: a `small` run or checkpoint; SCORER
# defaults to toxicity, which needs scripts/score/setup-toxicity.sh; pii needs nothing)
set -euo pipefail
phf=$1 model=$2 scorer=${3:-toxicity}
out=$(mktemp -d)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$phf" eval --model "$model" --scorer "$scorer" -n 4096 --batch-size 256 --max-new-tokens 128 --valid none \
  --out "$out" >/dev/null
end=$(date +%s.%N)
python3 - "$out/eval.json" "$start" "$end" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["unconditional"]
wall = float(sys.argv[3]) - float(sys.argv[2])
n = e["misalignment"]["num_samples"]
print(f"{n} samples, mean {e['mean_tokens']:.1f} tokens: sampling {e['sampling_s']:.1f} s "
      f"({n * e['mean_tokens'] / e['sampling_s']:.0f} tokens/s), scoring {e['scoring_s']:.1f} s, "
      f"whole command {wall:.1f} s (target ≤ 120 s)")
PY
