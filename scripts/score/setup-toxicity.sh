#!/usr/bin/env bash
# Exports the toxicity scorer's model (PyPI tox-block 0.1.2, MIT) into a per-user cache the Rust scorer loads:
#   $PHF_CACHE/scorers/tox-block-0.1.2/{model.safetensors,tokenizer.json,manifest.json}   (PHF_CACHE: ~/.cache/phf)
# Makes a small venv with numpy + h5py (no TensorFlow), downloads the wheel with pip (checking its sha256) and
# runs scripts/score/export_tox_block.py. Idempotent: a second run finds the export and says so; --force redoes it.
set -euo pipefail

VERSION=0.1.2
WHEEL_SHA256=ed3a934f77d456f5324a6ae1b55bd9a3d404f6ebdb30aedad73dea5a2f01b7ed
CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
DEST="$CACHE/scorers/tox-block-$VERSION"
VENV="$CACHE/tox-export-venv"
DOWNLOADS="$CACHE/downloads"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "${1:-}" != "--force" ] && [ -f "$DEST/manifest.json" ] && [ -f "$DEST/model.safetensors" ] && [ -f "$DEST/tokenizer.json" ]; then
  echo "tox-block $VERSION already exported to $DEST (nothing to do; --force to redo)"
  exit 0
fi

command -v python3 >/dev/null || { echo "error: python3 (with venv and pip) is needed for the export" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import h5py, numpy" 2>/dev/null; then
  echo "creating $VENV with numpy and h5py ..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet numpy h5py
fi

WHEEL="$DOWNLOADS/tox_block-$VERSION-py3-none-any.whl"
if [ ! -f "$WHEEL" ]; then
  echo "downloading tox-block==$VERSION ..."
  "$VENV/bin/pip" download --quiet --no-deps --dest "$DOWNLOADS" "tox-block==$VERSION"
fi
echo "$WHEEL_SHA256  $WHEEL" | sha256sum --check --quiet - \
  || { echo "error: $WHEEL does not have the expected sha256; delete it and rerun" >&2; exit 1; }

rm -rf "$DEST.partial"
"$VENV/bin/python" "$HERE/export_tox_block.py" "$WHEEL" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "toxicity scorer ready: $DEST"
