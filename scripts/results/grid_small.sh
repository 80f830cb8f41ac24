#!/usr/bin/env bash
# The grid behind docs/RESULTS.md: every task × objective × regime at `small` scale with training seed 42, and
# each task's pretraining runs of MLE, filtering and conditional training again with seeds 43 and 44 (single runs
# differ by as much as the effects measured; toxicity and its seeds first, then PII and PEP8, then their seeds),
# then one report over every run, copied into docs/results/.
# Resumable: rerun the same command after an interruption and finished stages are kept. Each invocation appends
# its start, end and commit to WORK/times.log, so the wall time of a grid run over several sittings is their sum.
# Usage: scripts/results/grid_small.sh [WORK_DIR]   (default /work/grid-small; keep it outside the repository)
#   PHF=path/to/phf (default: the Makefile's build), NICE=10 to leave other work the CPU first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(realpath -m "${1:-/work/grid-small}")"
phf="${PHF:-${CARGO_TARGET_DIR:-$HOME/.cache/phf/target}/debug/phf}"
[ -x "$phf" ] || { echo "error: no phf binary at $phf: run \`make build\` or set PHF" >&2; exit 1; }
mkdir -p "$work"
echo "start $(date -u +%FT%TZ) commit $(git -C "$here" rev-parse HEAD) load $(cut -d' ' -f1-3 /proc/loadavg)" \
  >> "$work/times.log"
grid() { nice -n "${NICE:-0}" "$phf" grid --scale small --configs "$here/configs" --work-dir "$work/work" "$@"; }
status=0
grid --tasks toxicity || status=$?
[ "$status" -ne 0 ] || grid --tasks toxicity --objectives mle,filtering,conditional --regimes pretrain \
  --seeds 42,43,44 || status=$?
[ "$status" -ne 0 ] || grid --tasks pii,pep8 || status=$?
[ "$status" -ne 0 ] || grid --tasks pii,pep8 --objectives mle,filtering,conditional --regimes pretrain \
  --seeds 42,43,44 || status=$?
[ "$status" -ne 0 ] || "$phf" report "$work"/work/*/runs/* -o "$work/work/report-all" > /dev/null || status=$?
echo "end $(date -u +%FT%TZ) status $status" >> "$work/times.log"
[ "$status" -eq 0 ] || exit "$status"
mkdir -p "$here/docs/results"
cp "$work/work/report-all/report.md" "$here/docs/results/report.md"
cp -r "$work/work/report-all/plots" "$here/docs/results/"
echo "grid done: tables and plots in docs/results/; wall time per sitting in $work/times.log"
