#!/usr/bin/env bash
# Exports the offensive-language scorer's model (PyPI alt-profanity-check 1.9.1, MIT) into a per-user cache the
# Rust scorer loads:
#   $PHF_CACHE/scorers/alt-profanity-check-1.9.1/{model.safetensors,vectorizer.json,manifest.json}   (PHF_CACHE: ~/.cache/phf)
# The model is a pickled scikit-learn pipeline, so this makes a venv ($PHF_CACHE/offensive-venv) with the wheel
# (sha256 checked) and the scikit-learn it pins (1.9.1), then runs scripts/score/export_offensive.py. The same venv
# is the Python reference for the parity fixture and the benchmark. Idempotent; --force redoes the export.
set -euo pipefail

VERSION=1.9.1
WHEEL_SHA256=cccb8ce072306bac21188670777a25cfb1de978aa8c7a93c8e4a43c03b3945c3
CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
DEST="$CACHE/scorers/alt-profanity-check-$VERSION"
VENV="$CACHE/offensive-venv"
DOWNLOADS="$CACHE/downloads"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "${1:-}" != "--force" ] && [ -f "$DEST/manifest.json" ] && [ -f "$DEST/model.safetensors" ] && [ -f "$DEST/vectorizer.json" ]; then
  echo "alt-profanity-check $VERSION already exported to $DEST (nothing to do; --force to redo)"
  exit 0
fi

command -v python3 >/dev/null || { echo "error: python3 (with venv and pip) is needed for the export" >&2; exit 1; }

WHEEL="$DOWNLOADS/alt_profanity_check-$VERSION-py3-none-any.whl"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import profanity_check" 2>/dev/null; then
  echo "creating $VENV with alt-profanity-check $VERSION and its pinned scikit-learn ..."
  python3 -m venv "$VENV"
  if [ ! -f "$WHEEL" ]; then
    "$VENV/bin/pip" download --quiet --no-deps --dest "$DOWNLOADS" "alt-profanity-check==$VERSION"
  fi
  echo "$WHEEL_SHA256  $WHEEL" | sha256sum --check --quiet - \
    || { echo "error: $WHEEL does not have the expected sha256; delete it and rerun" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet "$WHEEL"   # pulls scikit-learn==1.9.1 and joblib==1.6.0 (the wheel's pins)
fi

rm -rf "$DEST.partial"
"$VENV/bin/python" "$HERE/export_offensive.py" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "offensive scorer ready: $DEST"
