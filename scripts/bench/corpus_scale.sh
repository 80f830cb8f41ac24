#!/usr/bin/env bash
# Benchmark (not a test): a ~1 GB corpus scored for PII and prepared into GPT-2-token shards, with wall time,
# throughput (MB/s of input text, tokens/s) and peak resident memory of each stage. Issue: corpora, item 4.
#
#   scripts/bench/corpus_scale.sh [PHF_BINARY]      (default: $CARGO_TARGET_DIR/debug/phf, the project's profile)
#
# Environment: WORK (default /tmp/phf-scale: ~3.5 GB of disk), BYTES (default 1e9 bytes of text), BLOCK (1024).
# Steps:
#   1. `phf corpus fetch --task pii` and `--task toxicity` (cached after the first run);
#   2. scripts/bench/make_scale_corpus.py cycles their documents into $WORK/big.jsonl until BYTES of text;
#   3. `phf score --scorer pii --segment sentences` → $WORK/scored.jsonl (streaming, all cores);
#   4. `phf prepare` (plain transform, GPT-2 tokenizer, blocks of BLOCK) → $WORK/prepared;
#   5. `phf prepare --transform conditional --threshold q0.05` (two passes: quantile scan, then packing);
#   6. `phf corpus summary` of the scored corpus (keeps every score in memory to sort for the quantiles).
# Each stage runs under /usr/bin/time -v; the load average before each stage is printed, because other jobs on a
# shared machine slow every figure down.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PHF="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/phf/target}/debug/phf}"
WORK="${WORK:-/tmp/phf-scale}"
BYTES="${BYTES:-1000000000}"
BLOCK="${BLOCK:-1024}"
mkdir -p "$WORK"

pii="$("$PHF" corpus fetch --task pii)"
toxicity="$("$PHF" corpus fetch --task toxicity)"
if [ ! -s "$WORK/big.jsonl" ] || [ "$(cat "$WORK/big.bytes" 2>/dev/null)" != "$BYTES" ]; then
    python3 "$ROOT/scripts/bench/make_scale_corpus.py" --bytes "$BYTES" --out "$WORK/big.jsonl" "$pii" "$toxicity"
    echo "$BYTES" > "$WORK/big.bytes"
fi
[ -s "$WORK/gpt2.json" ] || "$PHF" tokenizer gpt2 --out "$WORK/gpt2.json"

# run NAME COMMAND...: times COMMAND, keeps its stdout in $WORK/NAME.out and time's report in $WORK/NAME.time
run() {
    local name="$1"
    shift
    echo "== $name (load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)" >&2
    /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out"
}
field() { grep -F "$2" "$WORK/$1.time" | sed 's/.*: //'; }
seconds() {
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.03" → 62.03
    field "$1" "Elapsed (wall clock)" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'
}

rm -rf "$WORK/prepared" "$WORK/prepared-conditional"
run score "$PHF" score --input "$WORK/big.jsonl" --scorer pii --segment sentences --out "$WORK/scored.jsonl" --quiet
run prepare "$PHF" prepare --input "$WORK/scored.jsonl" --tokenizer "$WORK/gpt2.json" --out "$WORK/prepared" \
    --block-size "$BLOCK"
run prepare-conditional "$PHF" prepare --input "$WORK/scored.jsonl" --tokenizer "$WORK/gpt2.json" \
    --out "$WORK/prepared-conditional" --block-size "$BLOCK" --transform conditional --threshold q0.05

run summary "$PHF" corpus summary "$WORK/scored.jsonl"

text_bytes=$(python3 -c "
import json, sys
n = 0
with open('$WORK/big.jsonl', encoding='utf-8') as f:
    for line in f:
        n += len(json.loads(line)['text'].encode('utf-8'))
print(n)")
python3 - "$WORK" "$text_bytes" "$(seconds score)" "$(field score 'Maximum resident')" \
    "$(seconds prepare)" "$(field prepare 'Maximum resident')" \
    "$(seconds prepare-conditional)" "$(field prepare-conditional 'Maximum resident')" \
    "$(seconds summary)" "$(field summary 'Maximum resident')" <<'PY'
import json, os, sys
work, text_bytes = sys.argv[1], int(sys.argv[2])
score_s, score_kb, prep_s, prep_kb, cond_s, cond_kb, sum_s, sum_kb = map(float, sys.argv[3:11])
scored_bytes = os.path.getsize(os.path.join(work, "scored.jsonl"))
meta = json.load(open(os.path.join(work, "scored.jsonl.meta.json")))
def report(name):
    r = json.load(open(os.path.join(work, name, "prepare.json")))
    return r, sum(r[s]["tokens"] + r[s]["dropped_tokens"] for s in ("train", "valid"))
prep, prep_tokens = report("prepared")
cond, cond_tokens = report("prepared-conditional")
mb = text_bytes / 1e6
print(f"input: {mb:.0f} MB of text in {meta['documents']} documents; scored JSONL {scored_bytes / 1e6:.0f} MB, "
      f"{meta['segments']} segments; {prep_tokens} GPT-2 tokens packed (EOS included)")
print("| stage | wall s | MB/s of text | tokens/s | peak RSS MiB |")
print("|---|---:|---:|---:|---:|")
print(f"| score (pii, sentences) | {score_s:.0f} | {mb / score_s:.2f} | | {score_kb / 1024:.0f} |")
print(f"| prepare (plain) | {prep_s:.0f} | {mb / prep_s:.2f} | {prep_tokens / prep_s:,.0f} | {prep_kb / 1024:.0f} |")
print(f"| prepare (conditional, q0.05) | {cond_s:.0f} | {mb / cond_s:.2f} | {cond_tokens / cond_s:,.0f} | "
      f"{cond_kb / 1024:.0f} |")
print(f"| summary of the scored corpus | {sum_s:.0f} | {mb / sum_s:.2f} | | {sum_kb / 1024:.0f} |")
print(f"| score + prepare (plain) | {score_s + prep_s:.0f} | {mb / (score_s + prep_s):.2f} | | |")
PY
