#!/usr/bin/env bash
# Installs libtorch for phf from the PyPI torch wheel into a per-user cache outside the repository.
#
# Only what a CPU run needs: the torch wheel itself (--no-deps) plus the CUDA runtime and CUPTI wheels that
# libtorch_cpu.so links against (it finds them through its own RPATH, $ORIGIN/../../nvidia/cu13/lib).
# `import torch` does not work in this minimal install, and phf does not need it to.
# Idempotent: a second run finds the install, checks it, and says so.
set -euo pipefail

TORCH_VERSION=2.11.0
CUDA_RUNTIME=nvidia-cuda-runtime==13.0.96
CUDA_CUPTI=nvidia-cuda-cupti==13.0.85
CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
DEST="$CACHE/libtorch-$TORCH_VERSION"
LIB="$DEST/torch/lib"

if [ -f "$DEST/.complete" ] && [ -f "$LIB/libtorch_cpu.so" ]; then
  echo "libtorch $TORCH_VERSION already installed at $DEST (nothing to do)"
  exit 0
fi

command -v python3 >/dev/null || { echo "error: python3 with pip is needed to fetch the torch wheel from PyPI" >&2; exit 1; }
command -v g++ >/dev/null || { echo "error: g++ is needed to build tch's C++ wrapper: apt-get install g++" >&2; exit 1; }

echo "installing libtorch $TORCH_VERSION (torch wheel, CPU runtime only) into $DEST ..."
rm -rf "$DEST.partial"
python3 -m pip install --quiet --no-deps --target "$DEST.partial" \
  "torch==$TORCH_VERSION" "$CUDA_RUNTIME" "$CUDA_CUPTI"
[ -f "$DEST.partial/torch/lib/libtorch_cpu.so" ] || { echo "error: the torch wheel did not contain torch/lib/libtorch_cpu.so" >&2; exit 1; }
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
touch "$DEST/.complete"
echo "libtorch $TORCH_VERSION installed at $DEST ($(du -sh "$DEST" | cut -f1))"
