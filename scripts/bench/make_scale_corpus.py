#!/usr/bin/env python3
"""Writes a large JSONL corpus for throughput measurements by cycling the documents of fetched corpora.

    make_scale_corpus.py --bytes 1000000000 --out big.jsonl CORPUS_DIR [CORPUS_DIR ...]

CORPUS_DIR is a folder written by `phf corpus fetch` (train.jsonl, validation.jsonl, test.jsonl). Documents are
taken in file order, round-robin over the folders, and the cycle repeats until the texts hold at least --bytes
bytes of UTF-8; each copy keeps its `text` and `source` and gets the id `<id>~<copy>`. Deterministic: the same
inputs give the same file. Nothing here is committed data: the output is rebuilt from the fetched corpora.
"""

import argparse
import json
import os
import sys


def documents(folder):
    docs = []
    for split in ("train", "validation", "test"):
        with open(os.path.join(folder, f"{split}.jsonl"), encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                docs.append((record["text"], record["source"], record["id"]))
    if not docs:
        sys.exit(f"{folder}: no documents; run `phf corpus fetch` first")
    return docs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="+", help="folders written by `phf corpus fetch`")
    parser.add_argument("--bytes", type=float, required=True, help="stop once the texts hold this many bytes")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    per_folder = [documents(folder) for folder in args.corpus]
    # Round-robin over folders so every stretch of the output mixes the sources.
    longest = max(len(d) for d in per_folder)
    order = [d[i] for i in range(longest) for d in per_folder if i < len(d)]
    target = int(args.bytes)
    written = docs = copy = 0
    tmp = args.out + ".partial"
    with open(tmp, "w", encoding="utf-8") as out:
        while written < target:
            for text, source, doc_id in order:
                out.write(json.dumps({"text": text, "source": source, "id": f"{doc_id}~{copy}"}) + "\n")
                written += len(text.encode("utf-8"))
                docs += 1
                if written >= target:
                    break
            copy += 1
    os.replace(tmp, args.out)
    print(f"wrote {args.out}: {docs} documents, {written} bytes of text, {copy} passes over {len(order)} documents")


if __name__ == "__main__":
    main()
