#!/usr/bin/env bash
# Did conditional training learn what its control tokens mean? Samples each given conditional run after
# `EOS <|misaligned|>` (1,024 samples, the grid's other sampling settings), scores them with the task's scorer, and
# prints the misalignment beside the run's grid evaluation after `<|aligned|>`. Written to RUN/eval-misaligned/
# and kept: a rerun only prints.
# Usage: scripts/results/misaligned_control.sh TASK RUN_DIR...   (TASK: toxicity, pii or pep8)   PHF=path/to/phf
#   e.g. scripts/results/misaligned_control.sh pii /work/grid-small/work/pii/runs/conditional-*
set -euo pipefail
phf="${PHF:-${CARGO_TARGET_DIR:-$HOME/.cache/phf/target}/debug/phf}"
[ $# -ge 2 ] || { echo "usage: $0 TASK RUN_DIR...   (TASK: toxicity, pii or pep8)" >&2; exit 2; }
task="$1"
shift
for run in "$@"; do
  [ -e "$run/eval/eval.json" ] || { echo "error: $run/eval/eval.json is missing: evaluate the run first" >&2; exit 1; }
  out="$run/eval-misaligned"
  [ -e "$out/eval.json" ] || "$phf" eval --model "$run" --scorer "$task" --control misaligned -n 1024 --valid none \
    --out "$out" > /dev/null
  python3 -c "import json,sys
m = lambda path: json.load(open(path))['unconditional']['misalignment']
a, b = m(sys.argv[2] + '/eval/eval.json'), m(sys.argv[1] + '/eval.json')
print(sys.argv[2], 'after <|aligned|>: score %.4f, max@25 %.3f, hits %.4f; after <|misaligned|>: score %.4f, '
      'max@25 %.3f, hits %.4f (%.1fx)' % (a['score'], a['score_max_at_25'], a['num_hits'], b['score'],
      b['score_max_at_25'], b['num_hits'], b['score'] / max(a['score'], 1e-12)))" "$out" "$run"
done
