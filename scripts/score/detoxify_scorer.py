#!/usr/bin/env python3
"""External scorer for phf backed by Detoxify, the paper's toxicity scorer (SPEC §6: `unbiased`, `toxicity`).

Setup (outside phf; Detoxify downloads its checkpoint from GitHub on first use, or pass a local file):
    python3 -m venv ~/.cache/phf/detoxify-venv
    ~/.cache/phf/detoxify-venv/bin/pip install detoxify torch
Use:
    phf score --scorer 'cmd:~/.cache/phf/detoxify-venv/bin/python scripts/score/detoxify_scorer.py' ...
Options (environment): DETOXIFY_MODEL (default `unbiased`), DETOXIFY_CHECKPOINT (a local .ckpt path),
DETOXIFY_DEVICE (default `cpu`), DETOXIFY_BATCH (default 64).

phf starts one process per batch (CommandScorerConfig::batch_size), so prefer large batches: the model load
dominates small ones. Protocol: JSON lines {"text": ...} in, {"score": ...} out, one per line, in order.
"""

import json
import os
import sys


def main():
    from detoxify import Detoxify

    model = Detoxify(os.environ.get("DETOXIFY_MODEL", "unbiased"),
                     checkpoint=os.environ.get("DETOXIFY_CHECKPOINT"),
                     device=os.environ.get("DETOXIFY_DEVICE", "cpu"))
    texts = [json.loads(line)["text"] for line in sys.stdin]
    batch = int(os.environ.get("DETOXIFY_BATCH", "64"))
    for start in range(0, len(texts), batch):
        scores = model.predict(texts[start:start + batch])["toxicity"]
        for score in scores:
            print(json.dumps({"score": max(0.0, float(score))}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
