#!/usr/bin/env bash
# A side experiment of docs/RESULTS.md, run after the grid's toxicity runs: conditional pretraining with the share
# of <|aligned|> sentences the paper reports (~5%, SPEC §3: threshold q0.05) instead of the grid's q0.9 (90%),
# everything else as the grid's conditional-pretrain run; then both conditional runs (and this one) sampled after
# `EOS <|misaligned|>` as well, to see whether the models learned what the control tokens mean.
# It reuses the grid's scored corpus, tokenizer, plain data and MLE reference (symlinks into WORK/work-q05), so it
# needs scripts/results/grid_small.sh to have finished toxicity's seed-42 runs.
# Usage: scripts/results/conditional_share.sh [WORK_DIR]   (default /work/grid-small)   PHF=path/to/phf
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(realpath -m "${1:-/work/grid-small}")"
phf="${PHF:-${CARGO_TARGET_DIR:-$HOME/.cache/phf/target}/debug/phf}"
grid="$work/work/toxicity"
side="$work/work-q05/toxicity"
source "$here/scripts/results/side_experiment.sh"
reuse_grid_task "$grid" "$side" runs/mle-pretrain/done runs/conditional-pretrain/done runs/conditional-finetune/done
ln -sfn "$grid/runs/mle-pretrain" "$side/runs/mle-pretrain"
"$phf" grid --tasks toxicity --objectives conditional --regimes pretrain --scale small --configs "$here/configs" \
  --work-dir "$work/work-q05" --threshold toxicity=q0.05
PHF="$phf" "$here/scripts/results/misaligned_control.sh" toxicity "$grid/runs/conditional-pretrain" \
  "$grid/runs/conditional-finetune" "$side/runs/conditional-pretrain"
