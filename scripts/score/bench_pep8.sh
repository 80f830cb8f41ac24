#!/usr/bin/env bash
# Benchmark (not a test): the native `pep8` scorer against pycodestyle 2.15 on the same input, in one run.
# Prints MB/s (bytes of UTF-8 source per second) of both and the ratio (goal: >= 20x pycodestyle per core).
#
#   scripts/score/bench_pep8.sh            # env: PEP8_STEP (default 5), MIN_SECONDS (default 3)
#
# Input: the CPython standard library files that scripts/score/pep8_reference.py selects for the parity fixture
# (every PEP8_STEP-th .py file that is UTF-8, has no \r and compiles; ~355 files, ~5.5 MB at step 5), scored
# whole, each side repeatedly until MIN_SECONDS have passed. pycodestyle runs in one Python process (one core);
# the Rust side is examples/bench_scorers.rs (`pep8` scorer, dev profile with optimised dependencies) once on
# one thread (RAYON_NUM_THREADS=1, the ratio's basis) and once on all cores.
# pycodestyle comes from $PHF_CACHE/pep8-venv (default ~/.cache/phf), created here if missing.
set -euo pipefail

CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
VENV="$CACHE/pep8-venv"
STEP="${PEP8_STEP:-5}"
export MIN_SECONDS="${MIN_SECONDS:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

if ! "$VENV/bin/python" -c "import pycodestyle; assert pycodestyle.__version__.startswith('2.15')" 2>/dev/null; then
  echo "creating $VENV (pycodestyle 2.15) ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'pycodestyle==2.15.*'
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
(cd "$ROOT" && cargo build --quiet -p phf-score --example bench_scorers)
BENCH="$CARGO_TARGET_DIR/debug/examples/bench_scorers"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "timing pycodestyle ..." >&2
"$VENV/bin/python" "$HERE/pep8_bench_reference.py" "$WORK/input.jsonl" "$STEP" > "$WORK/python.json"
echo "timing the native pep8 scorer ..." >&2
RAYON_NUM_THREADS=1 "$BENCH" pep8 "$WORK/input.jsonl" 18446744073709551615 "$MIN_SECONDS" > "$WORK/rust1.json"
"$BENCH" pep8 "$WORK/input.jsonl" 18446744073709551615 "$MIN_SECONDS" > "$WORK/rustn.json"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/python.json" "$WORK/rust1.json" "$WORK/rustn.json" <<'PY'
import json, sys
py, r1, rn = (json.load(open(p)) for p in sys.argv[1:])
print(f"input: {py['docs']} stdlib files, {py['bytes'] / 1e6:.2f} MB")
print(f"pycodestyle 2.15 (1 core):        {py['mb_per_s']:8.3f} MB/s   mean score {py['mean_score']:.6f}")
print(f"native pep8 (1 thread):           {r1['mb_per_s']:8.3f} MB/s   mean score {r1['mean_score']:.6f}")
print(f"native pep8 ({rn['threads']} threads):          {rn['mb_per_s']:8.3f} MB/s")
print(f"ratio, one core each: {r1['mb_per_s'] / py['mb_per_s']:.1f}x (goal >= 20x); all cores: "
      f"{rn['mb_per_s'] / py['mb_per_s']:.1f}x")
PY
