# Sourced by the side experiments of docs/RESULTS.md (conditional_share.sh, longer_training.sh): they reuse a grid
# task's scored corpus, tokenizer and plain data through symlinks, so only their own runs are new.

# reuse_grid_task GRID_TASK_DIR SIDE_TASK_DIR NEEDED...: fails, naming it, if a NEEDED path (relative to
# GRID_TASK_DIR) is missing, then links the grid task's corpus, tokenizer and data/plain into SIDE_TASK_DIR.
reuse_grid_task() {
  local grid="$1" side="$2" need f
  shift 2
  for need in scored.jsonl data/plain/train "$@"; do
    [ -e "$grid/$need" ] || { echo "error: $grid/$need is missing: run scripts/results/grid_small.sh first" >&2; return 1; }
  done
  mkdir -p "$side/data" "$side/runs"
  for f in scored.jsonl scored.jsonl.meta.json scored.jsonl.summary.json tokenizer.json data/plain; do
    ln -sfn "$grid/$f" "$side/$f"
  done
}
