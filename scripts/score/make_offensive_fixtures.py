#!/usr/bin/env python3
"""Make crates/phf-score/tests/fixtures/offensive_parity.jsonl: texts and alt-profanity-check 1.9.1's own
`predict_prob`, plus the tf-idf features (sorted vocabulary indices) its vectorizer finds in each text.

Texts: every text of tests/fixtures/toxicity_parity.jsonl (written for that fixture by
scripts/score/make_toxicity_fixtures.py; clean, profane, insults, threats, identity attacks, negations, unicode,
edge cases, very long), then the texts below, written for this fixture to exercise the tf-idf tokenizer:
vocabulary words with accents and non-Latin scripts, combining marks (not `\\w` in Python), underscores and digits,
case mappings that change length, stop words and repeated terms.

Run it in the venv scripts/score/setup-offensive.sh makes:
    ~/.cache/phf/offensive-venv/bin/python scripts/score/make_offensive_fixtures.py \\
        crates/phf-score/tests/fixtures/toxicity_parity.jsonl OUT.jsonl
"""

import json
import sys

EXTRA = {
    "vocab_unicode": [
        "Beyoncé is great",
        "BEYONCÉ IS GREAT",
        "pokémon cards for sale",
        "Beyonce\u0301 with a combining accent",
        "José and the Pokémon",
        "βcommand ετητης μελ",
        "ΒCOMMAND in capitals",
        "見学 連絡 迷惑",
        "聖やや 竜龙",
        "ውይይት",
        "snunɐw",
        "dαlus expért trácht míkka",
        "ΣΊΣΥΦΟΣ ΟΔΟΣ",
        "İstanbul idiot İDİOT",
        "ǅungla ǆ Ǆ",
        "ﬁne ﬂuffy ﬀ",
        "straße STRASSE",
        "हिन्दी मूर्ख",
        "नमस्ते idiot",
        "Ⅻ chapters ½ done ²³",
        "٣٤٥ ١٢ digits",
        "fuck\u0301ing with a combining mark",
        "idi\u200dot zero width joiner",
        "ｉｄｉｏｔ fullwidth",
    ],
    "tokens": [
        "snake_case_identifier and __dunder__ words",
        "a_b _ __ ___ x_",
        "ab cd ef g h i j",
        "x1 y2 3z 42 007 000000",
        "0px 100px width",
        "e-mail co-operate re-enter",
        "don't can't won't shouldn't",
        "it's you're they're",
        "word.word,word;word:word!word?word",
        "(parenthesised) [bracketed] {braced} <angled>",
        "http://www.example.com/path?query=stupid&x=1",
        "stupid_idiot stupid-idiot stupid.idiot",
        "shit" * 20,
        " ".join(["shit"] * 20),
        "the and of a to in is you that it",
        "the the the idiot the the",
        "You you YOU yOu idiot IDIOT Idiot",
    ],
    "offensive": [
        "go to hell you bastard",
        "what a bitch",
        "suck my dick",
        "you are a cunt",
        "screw you and your stupid rules",
        "dumb ass motherfucker",
        "shut the fuck up",
        "I hate you so much, you retard",
        "stfu noob",
        "you're a wanker and a twat",
        "son of a bitch",
        "eat shit and die",
    ],
    "long": [
        " ".join(["this sentence is perfectly polite and calm"] * 300),
        " ".join(["this sentence is perfectly polite and calm"] * 300) + " fuck",
        "fuck " + "word " * 5000,
        ("lorem ipsum dolor sit amet " * 2000).strip(),
        "é" * 10000,
        "idiot\n" * 1000,
    ],
}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    from importlib import metadata

    import numpy as np
    import sklearn
    from profanity_check import predict_prob
    from profanity_check import profanity_check as pc

    items = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if "_meta" not in record:
                items.append((record["category"], record["text"]))
    for category, texts in EXTRA.items():
        items += [(category, t) for t in texts]

    texts = [t for _, t in items]
    probs = predict_prob(texts)
    features = pc.vectorizer.transform(texts)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        meta = {"_meta": {"reference": "alt-profanity-check 1.9.1 predict_prob; features: vectorizer.transform indices",
                          "alt_profanity_check": metadata.version("alt-profanity-check"),
                          "scikit_learn": sklearn.__version__, "numpy": np.__version__,
                          "python": sys.version.split()[0], "script": "scripts/score/make_offensive_fixtures.py"}}
        f.write(json.dumps(meta) + "\n")
        for i, ((category, text), prob) in enumerate(zip(items, probs)):
            row = features[[i]]
            row.sort_indices()
            record = {"category": category, "text": text, "features": [int(j) for j in row.indices],
                      "prob": float(prob)}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} texts to {sys.argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    main()
