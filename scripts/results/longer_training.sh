#!/usr/bin/env bash
# A side experiment of docs/RESULTS.md, run after the grid's toxicity runs: MLE and conditional pretraining on
# toxicity with 4× the grid's tokens (4.8M instead of 1.2M, 0.88 epochs of the training split), everything else as
# the grid's seed-42 runs, to see whether conditional training's effect appears with more training at `small`
# scale; then the conditional model sampled after `EOS <|misaligned|>` as well (how well it tells the tokens apart).
# It reuses the grid's scored corpus, tokenizer and prepared data (symlinks into WORK/work-4x), so it needs
# scripts/results/grid_small.sh to have finished toxicity's seed-42 runs. About an hour on the idle 2-core machine.
# Usage: scripts/results/longer_training.sh [WORK_DIR]   (default /work/grid-small)   PHF=path/to/phf
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(realpath -m "${1:-/work/grid-small}")"
phf="${PHF:-${CARGO_TARGET_DIR:-$HOME/.cache/phf/target}/debug/phf}"
grid="$work/work/toxicity"
side="$work/work-4x/toxicity"
source "$here/scripts/results/side_experiment.sh"
reuse_grid_task "$grid" "$side" data/conditional/train
ln -sfn "$grid/data/conditional" "$side/data/conditional"
# in-training evaluation every 600 updates instead of 150 (it does not enter the final evaluation)
"$phf" grid --tasks toxicity --objectives mle,conditional --regimes pretrain --scale small --configs "$here/configs" \
  --work-dir "$work/work-4x" --set training.total_tokens=4800000 --set training.eval_every=600
PHF="$phf" "$here/scripts/results/misaligned_control.sh" toxicity "$side/runs/conditional-pretrain"
