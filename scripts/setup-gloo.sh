#!/usr/bin/env bash
# Installs Gloo's C++ headers for phf-dist's c10d shim into a per-user cache outside the repository.
#
# libtorch_cpu.so already contains Gloo and ProcessGroupGloo; the torch wheel ships c10d's headers but not Gloo's,
# which ProcessGroupGloo.hpp includes. Debian's `libgloo-dev` has them. Headers only: nothing is installed
# system-wide and nothing from the package is linked (so a phf binary runs where libgloo is absent).
# `apt-get download` + `dpkg -x` need no root. Idempotent: a second run finds the headers and says so.
# On a machine without apt, fetch the .deb elsewhere and set GLOO_DEB=/path/to/libgloo-dev_*.deb.
set -euo pipefail

CACHE="${PHF_CACHE:-$HOME/.cache/phf}"
DEST="$CACHE/gloo-headers"

if [ -f "$DEST/.complete" ] && [ -f "$DEST/usr/include/gloo/algorithm.h" ]; then
  echo "Gloo headers already installed at $DEST ($(cat "$DEST/.complete")) (nothing to do)"
  exit 0
fi

command -v dpkg >/dev/null || { echo "error: dpkg is needed to unpack libgloo-dev (or set GLOO_DEB and install dpkg)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deb=${GLOO_DEB:-}
if [ -z "$deb" ]; then
  command -v apt-get >/dev/null || {
    echo "error: apt-get is needed to fetch Debian's libgloo-dev headers; or download libgloo-dev_*.deb and set GLOO_DEB" >&2
    exit 1
  }
  echo "fetching Debian's libgloo-dev (Gloo's headers, ~50 kB) into $DEST ..."
  (cd "$work" && apt-get download -q libgloo-dev 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
  deb=$(ls "$work"/libgloo-dev_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || { echo "error: apt-get download libgloo-dev fetched nothing: run apt-get update, or set GLOO_DEB" >&2; exit 1; }
fi
rm -rf "$DEST.partial"
dpkg -x "$deb" "$DEST.partial"
[ -f "$DEST.partial/usr/include/gloo/algorithm.h" ] || { echo "error: $deb has no usr/include/gloo/algorithm.h" >&2; exit 1; }
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
basename "$deb" > "$DEST/.complete"
echo "Gloo headers installed at $DEST ($(basename "$deb"))"
