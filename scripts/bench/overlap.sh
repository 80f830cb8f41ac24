#!/usr/bin/env bash
# The gradient all-reduce overlapping the backward pass (c10d::Reducer) against the flat all-reduce after it, at 2
# data-parallel ranks on this machine (Gloo over loopback, one CPU thread per rank): `phf bench overlap` on both
# ranks, then a table from rank 0's JSON line. The machine's load before and after is printed beside the figures
# (a busy machine slows every kind of update; they take turns in every round, so the comparison stays fair).
# Usage: scripts/bench/overlap.sh [PHF_BINARY] [PRESET] [BATCH_PER_RANK] [ROUNDS]
#        defaults: $CARGO_TARGET_DIR/debug/phf (~/.cache/phf/target unless set; this workspace's dev profile is
#        optimised), small, 4, 10.
set -euo pipefail
phf=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/phf/target}/debug/phf}
preset=${2:-small}
batch=${3:-4}
rounds=${4:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=$((29500 + RANDOM % 2000))
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for r in 1 0; do
  OMP_NUM_THREADS=1 RANK=$r LOCAL_RANK=$r WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$phf" bench overlap --preset "$preset" --batch-size "$batch" --rounds "$rounds" >"$out/rank$r.json" 2>"$out/rank$r.log" &
done
wait
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out/rank0.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(json.dumps(r))
print(f"\n{r['preset']}, {r['batch_size_per_rank']} sequences per rank, {r['world_size']} ranks, {r['backend']}, "
      f"{r['threads']} thread(s) per rank, gradients {r['gradient_bytes'] / 1e6:.1f} MB, median of {r['rounds']} rounds\n")
print("| update | forward | backward | all-reduce after backward | update total |")
print("|---|---|---|---|---|")
for k, name in [("no_all_reduce", "no all-reduce"), ("flat", "flat (PHF_DIST_OVERLAP=0)"), ("overlap", "overlapped (c10d::Reducer)")]:
    t = r[k]
    print(f"| {name} | {1000 * t['forward_s']:.0f} ms | {1000 * t['backward_s']:.0f} ms | "
          f"{1000 * t['all_reduce_after_backward_s']:.0f} ms | {1000 * t['update_s']:.0f} ms |")
print(f"\nexposed all-reduce: flat {1000 * r['exposed_all_reduce_flat_s']:.0f} ms, overlapped "
      f"{1000 * r['exposed_all_reduce_overlap_s']:.0f} ms; hidden share {100 * r['hidden_share']:.0f}%; "
      f"update speed-up {r['speedup_overlap_vs_flat']:.2f}x; flat vs overlapped gradients max |diff| "
      f"{r['overlap_vs_flat_max_abs_grad_diff']:.1e}")
PY
