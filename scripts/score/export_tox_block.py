#!/usr/bin/env python3
"""Export the tox-block 0.1.2 toxicity model from its wheel into files the Rust scorer loads.

tox-block (PyPI, MIT, by Pascal Bliem) ships a Keras BiLSTM trained on the Jigsaw 2018 toxic-comment data and a
pickled Keras tokenizer. This script reads both without TensorFlow:

- `tox_block/trained_models/lstm_model_0.1.2.h5` with h5py: the embedding, the forward/backward LSTM kernels
  and the two dense layers;
- `tox_block/trained_models/encoder_0.1.2.pkl` (tox_block's `TokenSequencer` holding a
  `keras_preprocessing.text.Tokenizer`) with stand-in classes, so neither tox_block nor Keras need importing.

It writes, into the output directory:
- `model.safetensors`: the weights as float32 in Keras layouts (kernels are `(input, 4*units)`, gates i,f,c,o);
- `tokenizer.json`: the tokenizer settings and the word index restricted to ids < num_words (the only ones
  the model can see);
- `manifest.json`: provenance (wheel sha256, Keras version, architecture) and the labels.

Usage: export_tox_block.py WHEEL OUT_DIR      (needs numpy and h5py only)
"""

import argparse
import hashlib
import io
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

MODEL_MEMBER = "tox_block/trained_models/lstm_model_0.1.2.h5"
ENCODER_MEMBER = "tox_block/trained_models/encoder_0.1.2.pkl"
LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
# tox_block/config/config.py: the sequence length the model was trained on.
MAX_SEQUENCE_LENGTH = 100

# h5 dataset path (under model_weights/) -> exported tensor name.
WEIGHTS = {
    "embedding/embedding/embeddings:0": "embedding",
    "bidirectional/bidirectional/forward_lstm/kernel:0": "forward.kernel",
    "bidirectional/bidirectional/forward_lstm/recurrent_kernel:0": "forward.recurrent_kernel",
    "bidirectional/bidirectional/forward_lstm/bias:0": "forward.bias",
    "bidirectional/bidirectional/backward_lstm/kernel:0": "backward.kernel",
    "bidirectional/bidirectional/backward_lstm/recurrent_kernel:0": "backward.recurrent_kernel",
    "bidirectional/bidirectional/backward_lstm/bias:0": "backward.bias",
    "dense/dense/kernel:0": "dense.kernel",
    "dense/dense/bias:0": "dense.bias",
    "dense_1/dense_1/kernel:0": "dense_1.kernel",
    "dense_1/dense_1/bias:0": "dense_1.bias",
}


class _StandIn:
    """Accepts any pickled object state; replaces tox_block's and Keras' classes while unpickling."""

    def __setstate__(self, state):
        self.__dict__.update(state)


class _StandInUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith(("tox_block", "keras", "tensorflow")):
            return type(name, (_StandIn,), {})
        if module in ("collections", "builtins"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the tokenizer pickle")


def read_weights(h5_bytes):
    """Returns (tensors, keras_version, model_config) from the Keras h5 file."""
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        keras_version = f.attrs["keras_version"]
        keras_version = keras_version.decode() if isinstance(keras_version, bytes) else str(keras_version)
        config = json.loads(f.attrs["model_config"])
        tensors = {}
        for path, name in WEIGHTS.items():
            tensors[name] = np.ascontiguousarray(f["model_weights"][path][()], dtype="<f4")
    return tensors, keras_version, config


def check_architecture(config, tensors):
    """Fails loudly if the model is not the BiLSTM the Rust port implements."""
    layers = {layer["class_name"]: layer["config"] for layer in config["config"]["layers"]}
    lstm = layers["Bidirectional"]["layer"]["config"]
    expected = {"recurrent_activation": "hard_sigmoid", "activation": "tanh", "return_sequences": True,
                "use_bias": True, "go_backwards": False}
    for key, value in expected.items():
        if lstm[key] != value:
            sys.exit(f"error: LSTM {key} is {lstm[key]!r}, the Rust port assumes {value!r}")
    if layers["Bidirectional"]["merge_mode"] != "concat":
        sys.exit("error: Bidirectional merge_mode must be concat")
    if "GlobalMaxPooling1D" not in layers:
        sys.exit("error: expected a GlobalMaxPooling1D layer")
    if layers["Embedding"].get("mask_zero"):
        sys.exit("error: the Rust port assumes mask_zero = false (padding ids are embedded, not masked)")
    activations = [layer["config"]["activation"] for layer in config["config"]["layers"]
                   if layer["class_name"] == "Dense"]
    if activations != ["relu", "sigmoid"]:
        sys.exit(f"error: dense activations are {activations}, the Rust port assumes relu then sigmoid")
    shapes = {name: list(t.shape) for name, t in tensors.items()}
    return {"units": lstm["units"], "recurrent_activation": "hard_sigmoid (Keras 2: clip(0.2x+0.5, 0, 1))",
            "dense_activations": activations, "shapes": shapes}


def read_tokenizer(pkl_bytes):
    sequencer = _StandInUnpickler(io.BytesIO(pkl_bytes)).load()
    tok = sequencer.tokenizer
    if tok.char_level or tok.oov_token is not None:
        sys.exit("error: the Rust port assumes a word-level tokenizer without an OOV token")
    num_words = int(tok.num_words)
    word_index = {w: int(i) for w, i in tok.word_index.items() if int(i) < num_words}
    return {
        "filters": tok.filters,
        "lower": bool(tok.lower),
        "split": tok.split,
        "num_words": num_words,
        "max_sequence_length": int(sequencer.max_sequence_length),
        "padding": "pre",
        "truncating": "pre",
        "word_index": word_index,
    }


def write_safetensors(path, tensors, metadata):
    """safetensors layout: u64 little-endian header size, JSON header, then the raw little-endian data."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        data = tensors[name].tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
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
    parser.add_argument("wheel", type=Path, help="tox_block-0.1.2-py3-none-any.whl")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()

    wheel_bytes = args.wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as wheel:
        h5_bytes = wheel.read(MODEL_MEMBER)
        pkl_bytes = wheel.read(ENCODER_MEMBER)

    tensors, keras_version, config = read_weights(h5_bytes)
    architecture = check_architecture(config, tensors)
    tokenizer = read_tokenizer(pkl_bytes)
    if tokenizer["max_sequence_length"] != MAX_SEQUENCE_LENGTH:
        sys.exit(f"error: unexpected max_sequence_length {tokenizer['max_sequence_length']}")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_safetensors(args.out_dir / "model.safetensors", tensors, {"source": "tox-block 0.1.2"})
    (args.out_dir / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    manifest = {
        "model": "tox-block",
        "version": "0.1.2",
        "wheel_sha256": hashlib.sha256(wheel_bytes).hexdigest(),
        "keras_version": keras_version,
        "labels": LABELS,
        "architecture": architecture,
    }
    # Written last: its presence marks a complete export.
    (args.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"exported tox-block 0.1.2 ({len(tokenizer['word_index'])} words, "
          f"{sum(t.size for t in tensors.values())} parameters) to {args.out_dir}")


if __name__ == "__main__":
    main()
