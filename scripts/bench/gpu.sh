#!/usr/bin/env bash
# GPU benchmark, ready for a machine with one NVIDIA GPU and torch 2.11 preinstalled, where nothing can be
# downloaded or compiled. Runs in under 10 minutes in all (each step has a time limit, all within a 540 s budget):
#   1. training tokens/s and MFU of the `gpt2` preset (124M, 1024-token blocks, bf16, AdamW, clipping) in phf,
#      PyTorch eager and torch.compile (Hugging Face GPT2LMHeadModel with SDPA, bf16 autocast), side by side, at
#      micro-batch 16 (the gpt2 scale's) and 32 (and, last of all, phf at 16 with its for-loop AdamW);
#   2. the gradient all-reduce of one update in a group of one process: NCCL (its code path: unique id through
#      the TCPStore, the current stream, the watchdog) and Gloo (staged through host memory); then training
#      updates whose all-reduce overlaps the backward pass (c10d::Reducer on NCCL), checked against the flat one;
#   3. the full `phf train` loop on that GPU (input prefetch, pinned memory, TF32, MFU in the log) on a corpus
#      generated on the spot, as one process and as 2 data-parallel ranks (Gloo, both on GPU 0).
# MFU = tokens/s × FLOPs per token / peak, FLOPs per token = 6N + 12·L·d·T (N: parameters without the position
# embedding; PaLM appendix B), peak = PEAK_TFLOPS (default 989: H100/H200 SXM dense bf16), the same for all three.
#
# The phf binary is the one built on the CPU machine (`make gpu-bench-binary` puts a stripped release build in
# target/gpu-bench/phf); it runs against this machine's libtorch (torch's lib/ folder put on LD_LIBRARY_PATH) and
# finds CUDA by dlopen-ing libtorch_cuda.so from there.
# Usage: scripts/bench/gpu.sh [PHF_BINARY]     results go to $OUT (default ./gpu-bench-out) as four files, since
#        a device run brings back at most 8: results.md, results.jsonl (raw JSON lines), progress.log, and
#        logs.tar.gz (each step's stdout and stderr, the training runs' logs), packed on exit.
#        Env: PYTHON (default python3), PEAK_TFLOPS, STEPS (timed steps, default 30);
#        DEVICE=cpu PRESET=tiny STEPS=2 rehearse the script's plumbing on a CPU machine.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
phf=$(realpath "${1:-target/gpu-bench/phf}")
python=${PYTHON:-python3}
out=${OUT:-$PWD/gpu-bench-out}
peak=${PEAK_TFLOPS:-989}
steps=${STEPS:-30}
device=${DEVICE:-cuda}
preset=${PRESET:-gpt2}
scratch=$(mktemp -d)
logs="$scratch/logs"
work="$scratch/train"
mkdir -p "$out" "$logs" "$work"
pack() {  # the checkpoints and packed data are large and not needed back
  rm -rf "$work/run-1gpu/checkpoints" "$work/run-2ranks/checkpoints" "$work/data"
  tar czf "$out/logs.tar.gz" -C "$scratch" logs train && rm -rf "$scratch"
}
trap pack EXIT
start=$(date +%s)
say() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$out/progress.log"; }

# Runs `name limit cmd...` with stdout to logs/$name.out and stderr to logs/$name.log; false when it failed.
# No step runs past the script's budget (BUDGET_S, default 540 s): later steps are shortened or skipped.
budget=${BUDGET_S:-540}
step() {
  local name=$1 limit=$2; shift 2
  local left=$(( budget - ($(date +%s) - start) ))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 15 ]; then say "$name SKIPPED: the ${budget} s budget is spent"; return 1; fi
  say "$name (limit ${limit} s): $*"
  timeout -k 10 "$limit" "$@" >"$logs/$name.out" 2>"$logs/$name.log" && return 0
  say "$name FAILED (exit $?): see logs/$name.log in logs.tar.gz"; tail -n 5 "$logs/$name.log"; return 1
}
# A step whose JSON output (one line, or `phf train`'s pretty summary) becomes a row of results.jsonl.
bench() {
  local name=$1
  step "$@" || return 0
  "$python" -c 'import json, sys
text = open(sys.argv[1]).read()
row = json.loads(text[text.index("{"):] if text.lstrip().startswith("{") else text.strip().splitlines()[-1])
row["bench"] = sys.argv[2]
print(json.dumps(row))' "$logs/$name.out" "$name" >>"$out/results.jsonl" || say "$name: no JSON result"
}

say "machine: $(nproc) cores; $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -n 1)"
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || {
  say "error: $python cannot import torch"; exit 1; }
say "torch $("$python" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)') at $torch_lib"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -x "$phf" ] || { say "error: no phf binary at $phf (build it with \`make gpu-bench-binary\` and carry target/gpu-bench)"; exit 1; }
missing=$(ldd "$phf" 2>&1 | grep -E "not found|version .* not found" || true)
[ -z "$missing" ] || say "warning: the phf binary lacks libraries here: $missing"
say "phf: $("$phf" --version 2>&1)"
: >"$out/results.jsonl"

# 1. the training step, side by side
for batch in 16 32; do
  bench "phf_b$batch" 90 "$phf" bench train --preset "$preset" --device "$device" --batch-size "$batch" --steps "$steps" \
    --warmup 5 --peak-tflops "$peak"
  if [ "$batch" = 16 ] && ! grep -q '"bench": "phf_b16"' "$out/results.jsonl"; then
    say "error: phf's first step failed here (its log's end is above): stopping now to leave device time for a rerun"
    exit 1
  fi
  bench "eager_b$batch" 90 "$python" "$here/train_pytorch.py" --preset "$preset" --device "$device" --batch-size "$batch" \
    --steps "$steps" --warmup 5
done
bench compile_b16 180 "$python" "$here/train_pytorch.py" --preset "$preset" --device "$device" --batch-size 16 \
  --steps "$steps" --warmup 5 --compile

# 2. the gradient all-reduce of one update (gpt2: 0.5 GB) in a group of one: NCCL, and Gloo staged through the host
bench allreduce_nccl 60 "$phf" bench all-reduce --preset "$preset" --device "$device"
PHF_DIST_BACKEND=gloo bench allreduce_gloo 60 "$phf" bench all-reduce --preset "$preset" --device "$device"
# ... and overlapping the backward pass: c10d::Reducer over phf's NCCL backend (its own stream, CUDA futures),
# training updates with the all-reduce during the backward pass, after it (flat) and without it, in a group of one;
# checks that the flat and the overlapped update average the same gradients
bench overlap_nccl 60 "$phf" bench overlap --preset "$preset" --device "$device" --batch-size 8 --rounds 5

# 3. the whole training loop: a generated corpus, a tokenizer, 1024-token shards, then `phf train`
"$python" - "$work/corpus.jsonl" <<'PY'
import json, random, sys
random.seed(0)
words = [w for w in "the a model learns predicts every token of its data from short long sentences in blocks and "
         "then samples text with care while our team checks each run for loss gradient update step".split()]
with open(sys.argv[1], "w") as f:
    for d in range(3000):
        texts = [" ".join(random.choice(words) for _ in range(random.randint(8, 30))) + ". " for _ in range(8)]
        f.write(json.dumps({"texts": texts, "scores": [random.random() * 0.1 for _ in texts]}) + "\n")
PY
block=$("$python" -c "print({'tiny': 128, 'small': 256}.get('$preset', 1024))")
step tokenizer 30 "$phf" tokenizer train -i "$work/corpus.jsonl" --vocab-size 2048 -o "$work/tokenizer.json"
step prepare 30 "$phf" prepare --input "$work/corpus.jsonl" --tokenizer "$work/tokenizer.json" --out "$work/data" \
  --block-size "$block" --valid-fraction 0.02
cat >"$work/run.toml" <<EOF
[model]
preset = "$preset"
[data]
train = "data/train"
valid = "data/valid"
tokenizer = "tokenizer.json"
[training]
device = "$device"
batch_size = 16
grad_accum = 4
total_tokens = $((80 * 16 * 4 * block))
log_every = 10
eval_every = 0
eval_batches = 4
checkpoint_every = 0
peak_tflops = $peak
EOF
bench train_1gpu 100 "$phf" train --config "$work/run.toml" --run-dir "$work/run-1gpu" --quiet
# two ranks on the one GPU (both LOCAL_RANK 0), torchrun's variables set by hand; Gloo, since NCCL refuses two
# ranks on one GPU
port=$((29500 + RANDOM % 1000))
for r in 1 0; do
  RANK=$r LOCAL_RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port PHF_DIST_TIMEOUT_S=120 PHF_DIST_BACKEND=gloo \
    bench "train_2ranks_rank$r" 100 "$phf" train --config "$work/run.toml" --run-dir "$work/run-2ranks" --quiet \
    --set training.total_tokens=$((20 * 16 * 4 * block)) &
done
wait

# last, as the least needed: phf's AdamW and clipping op by op per parameter (what CPU runs use) instead of the
# fused kernels, to show what fusing gains
bench phf_b16_forloop 60 "$phf" bench train --preset "$preset" --device "$device" --batch-size 16 --steps "$steps" \
  --warmup 5 --peak-tflops "$peak" --optimizer for-loop

# the table
"$python" - "$out" "$peak" <<'PY' | tee "$out/results.md"
import json, sys
from pathlib import Path
out, peak = Path(sys.argv[1]), float(sys.argv[2])
rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l.strip().startswith("{")]
steps = [r for r in rows if "impl" in r and "batch_size" in r]
fpt = next((r["flops_per_token"] for r in steps if r.get("flops_per_token")), None)
print(f"| implementation | micro-batch | tokens/s | MFU (peak {peak:g} TFLOP/s) | vs PyTorch eager |")
print("|---|---|---|---|---|")
eager = {r["batch_size"]: r["tokens_per_s"] for r in steps if r["impl"] == "pytorch-eager"}
label = lambda r: r["impl"] + (f" ({r['optimizer']} AdamW)" if "optimizer" in r else "")
for r in sorted(steps, key=lambda r: (r["batch_size"], label(r))):
    mfu = r["tokens_per_s"] * fpt / (peak * 1e12) if fpt else float("nan")
    ratio = r["tokens_per_s"] / eager[r["batch_size"]] if r["batch_size"] in eager else float("nan")
    print(f"| {label(r)} | {r['batch_size']} | {r['tokens_per_s']:.0f} | {100 * mfu:.1f}% | {ratio:.2f}× |")
print()
print(f"FLOPs per token (6N + 12·L·d·T): {fpt}")
for r in rows:
    if r["bench"].startswith("allreduce_"):
        print(f"- all-reduce of the {r['preset']} gradients ({r['bytes'] / 1e6:.0f} MB), {r['backend']}, group of "
              f"{r['world_size']}: {1000 * r['seconds_per_all_reduce']:.1f} ms")
for r in rows:
    if r["bench"].startswith("overlap_"):
        o, f, n = r["overlap"], r["flat"], r["no_all_reduce"]
        print(f"- update of {r['preset']} ({r['batch_size_per_rank']} sequences), {r['backend']}, group of "
              f"{r['world_size']}: no all-reduce {1000 * n['update_s']:.1f} ms, flat {1000 * f['update_s']:.1f} ms, "
              f"overlapped {1000 * o['update_s']:.1f} ms; overlapped vs flat gradients: max |diff| "
              f"{r['overlap_vs_flat_max_abs_grad_diff']:.2e}")
for r in rows:
    if r["bench"].startswith("train_"):
        mfu = r.get("mfu")
        print(f"- phf train, {r['bench']}: {r['tokens_per_s']:.0f} tokens/s (all ranks), MFU "
              f"{'n/a' if mfu is None else f'{100 * mfu:.1f}%'}, {r['steps']} updates, last loss "
              f"{r['last_train_loss']:.3f}, world size {r['world_size']}")
PY
say "done in $(( $(date +%s) - start )) s; results in $out"
