#!/usr/bin/env python3
"""Export the alt-profanity-check 1.9.1 model from its installed package into files the Rust scorer loads.

alt-profanity-check (PyPI, MIT) ships two joblib pickles: a scikit-learn `TfidfVectorizer` and a
`CalibratedClassifierCV` over `LinearSVC` (sigmoid calibration, one calibrated classifier per CV fold). Its
`predict_prob(texts)` is `model.predict_proba(vectorizer.transform(texts))[:, 1]`. Unpickling needs the exact
scikit-learn it was trained with (1.9.1), so run this in the venv `scripts/score/setup-offensive.sh` makes.

It writes, into the output directory:
- `vectorizer.json`: the tokenizer settings (lowercase, token pattern, n-gram range, stop words, sublinear tf,
  norm), the vocabulary as a list of terms in feature order, and `word_char_ranges`: the code points this
  Python's `re` treats as `\\w` (`str.isalnum()` or `_`), so the Rust tokenizer follows the reference's Unicode
  tables rather than its own;
- `model.safetensors` (float64): `idf` (n_features), and per calibrated classifier k: `coef` (k, n_features),
  `intercept` (k), and the sigmoid calibration `a`, `b` (k), where p_k = 1 / (1 + exp(a_k * f_k + b_k));
- `manifest.json`: provenance (package, scikit-learn, Python and Unicode versions) and the ensemble semantics.

Usage: export_offensive.py OUT_DIR        (in a venv with alt-profanity-check==1.9.1 and scikit-learn==1.9.1)
"""

import argparse
import json
import struct
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

PACKAGE_VERSION = "1.9.1"
# The Rust tokenizer implements this pattern (maximal runs of >= 2 word characters), nothing else.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def fail(message):
    sys.exit(f"error: {message}; the Rust port does not implement this")


def check_vectorizer(v):
    if not isinstance(v, TfidfVectorizer):
        fail(f"vectorizer is a {type(v).__name__}, expected TfidfVectorizer")
    expected = {"analyzer": "word", "token_pattern": TOKEN_PATTERN, "tokenizer": None, "preprocessor": None,
                "strip_accents": None, "binary": False, "use_idf": True, "input": "content"}
    for key, value in expected.items():
        if getattr(v, key) != value:
            fail(f"vectorizer {key} is {getattr(v, key)!r}, expected {value!r}")
    if v.norm not in ("l1", "l2", None):
        fail(f"vectorizer norm {v.norm!r}")


def word_char_ranges():
    """Inclusive code-point ranges of Python `re`'s Unicode `\\w` (CPython: `isalnum()` or `_`)."""
    ranges, start = [], None
    for cp in range(sys.maxunicode + 2):
        is_word = cp <= sys.maxunicode and (chr(cp).isalnum() or cp == ord("_"))
        if is_word and start is None:
            start = cp
        elif not is_word and start is not None:
            ranges.append([start, cp - 1])
            start = None
    return ranges


def export_classifiers(model, n_features):
    if not isinstance(model, CalibratedClassifierCV) or model.method != "sigmoid":
        fail("model must be a CalibratedClassifierCV with method='sigmoid'")
    if list(model.classes_) != [0, 1]:
        fail(f"model classes are {list(model.classes_)}, expected [0, 1]")
    coef, intercept, a, b = [], [], [], []
    for c in model.calibrated_classifiers_:
        svc = c.estimator
        if not isinstance(svc, LinearSVC) or list(svc.classes_) != [0, 1] or len(c.calibrators) != 1:
            fail("each calibrated classifier must hold one binary LinearSVC and one calibrator")
        if svc.coef_.shape != (1, n_features):
            fail(f"LinearSVC coef_ has shape {svc.coef_.shape}, expected (1, {n_features})")
        coef.append(np.asarray(svc.coef_[0], dtype="<f8"))
        intercept.append(float(np.ravel(svc.intercept_)[0]))
        a.append(float(c.calibrators[0].a_))
        b.append(float(c.calibrators[0].b_))
    return {"coef": np.stack(coef), "intercept": np.array(intercept, dtype="<f8"),
            "a": np.array(a, dtype="<f8"), "b": np.array(b, dtype="<f8")}


def write_safetensors(path, tensors, metadata):
    """safetensors layout: u64 little-endian header size, JSON header, then the raw little-endian data."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)  # align the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()

    installed = metadata.version("alt-profanity-check")
    if installed != PACKAGE_VERSION:
        sys.exit(f"error: alt-profanity-check {installed} is installed, expected {PACKAGE_VERSION}")
    from profanity_check import profanity_check as pc

    v, model = pc.vectorizer, pc.model
    check_vectorizer(v)
    vocabulary = [None] * len(v.vocabulary_)
    for term, index in v.vocabulary_.items():
        vocabulary[index] = term
    if any(term is None for term in vocabulary):
        fail("vocabulary indices are not 0..n")
    stop_words = sorted(v.get_stop_words() or [])
    tensors = export_classifiers(model, len(vocabulary))
    tensors["idf"] = np.asarray(v.idf_, dtype="<f8")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_safetensors(args.out_dir / "model.safetensors", tensors, {"source": f"alt-profanity-check {PACKAGE_VERSION}"})
    vectorizer = {
        "lowercase": bool(v.lowercase),
        "token_pattern": v.token_pattern,
        "ngram_range": list(v.ngram_range),
        "stop_words": stop_words,
        "sublinear_tf": bool(v.sublinear_tf),
        "norm": v.norm,
        "vocabulary": vocabulary,
        "word_char_ranges": word_char_ranges(),
    }
    (args.out_dir / "vectorizer.json").write_text(json.dumps(vectorizer, ensure_ascii=False), encoding="utf-8")
    manifest = {
        "model": "alt-profanity-check",
        "version": PACKAGE_VERSION,
        "scikit_learn": sklearn.__version__,
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "n_features": len(vocabulary),
        "n_classifiers": len(model.calibrated_classifiers_),
        "predict_prob": "mean over calibrated classifiers k of 1 / (1 + exp(a_k * (coef_k . x + intercept_k) + b_k)), "
                        "x = tf-idf row (counts * idf, then normalised)",
    }
    # Written last: its presence marks a complete export.
    (args.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"exported alt-profanity-check {PACKAGE_VERSION} ({len(vocabulary)} terms, "
          f"{len(model.calibrated_classifiers_)} calibrated LinearSVCs) to {args.out_dir}")


if __name__ == "__main__":
    main()
