#!/usr/bin/env python3
"""Make crates/phf-score/tests/fixtures/sentences_spacy.jsonl: how spaCy's rule-based sentencizer splits texts.

The reference cut documents with spaCy's `Sentencizer` after the English tokenizer; the Rust splitter
(crates/phf-score/src/segment/sentences.rs) mirrors it, and its test measures agreement on these texts: the
documents below plus every text of toxicity_parity.jsonl. All texts were written for phf.

    python3 -m venv ~/.cache/phf/spacy-venv && ~/.cache/phf/spacy-venv/bin/pip install spacy
    ~/.cache/phf/spacy-venv/bin/python scripts/score/make_sentence_fixtures.py
"""

import json
from pathlib import Path

import spacy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "crates/phf-score/tests/fixtures"

DOCUMENTS = [
    "The meeting starts at 9 a.m. sharp. Please be on time.",
    "Dr. Watson and Mrs. Hudson live at Baker St. in London. They are friends.",
    "I paid $3.50 for coffee. That is too much! Isn't it?",
    "The U.S. and the U.K. signed the deal. Markets rose 2.5% on Monday.",
    "She said, \"I'm leaving.\" Then she left. Nobody followed (not even Tom).",
    "Version 2.0 is out. Download it from https://example.com/download. Enjoy.",
    "Contact me at jane@example.com. I reply within a day.",
    "First line\nSecond line\n\nA new paragraph. With two sentences.",
    "Wait... Is that it? Yes... I think so.",
    "Hello!!! Anyone there??? No?!",
    "Chapter 1. The Beginning. It was a dark and stormy night.",
    "Prices: apples 1.20, pears 0.80. Total: 2.00.",
    "He works for Acme Corp. in Ohio. The company makes anvils.",
    "The results (see Fig. 3) were clear. We stopped the trial.",
    "It's 5 p.m. now. Let's go home.",
    "Lists:\n- one.\n- two.\n- three.",
    "No. I won't. Not today.",
    "Jan. 5 was cold. Feb. was worse.",
    "Use e.g. or i.e. carefully. They differ.",
    "The end.",
    "no punctuation at all",
    "Trailing spaces.   ",
    "Tabs\tinside.\tAnd after.",
    "Windows\r\nnewlines. Here.\r\nDone.",
    "Quote at end: 'done.' Next sentence.",
    "«Bonjour.» Il est parti. — Vraiment?",
    "¿Qué tal? ¡Muy bien! Gracias.",
    "A sentence with an emoji 😊. Another one 🎉!",
    "Mr.Smith wrote this.It has no spaces.Really.",
    "Numbers like 1.000.000 and 3,14 stay whole. Right.",
    "The U.S.A. is big. So is Canada.",
    "Prof. Lee, Ph.D., spoke. Sen. Warren listened.",
    "What?\nReally.\nYes!",
    "   Leading spaces. And more.",
    "Ends with a question?",
    "One sentence; with a semicolon: and a colon.",
    "He yelled \"Stop!\" and ran. We followed.",
    "See section 4.2. It explains everything.",
    "x. y. z.",
    "A.B.C. news reported it. Then it stopped.",
]


def main():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    texts = list(DOCUMENTS)
    with open(FIXTURES / "toxicity_parity.jsonl", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if "text" in record and len(record["text"]) <= 4000:  # the very long ones add bulk, not cases
                texts.append(record["text"])
    out = FIXTURES / "sentences_spacy.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps({"_meta": {"reference": f"spaCy {spacy.__version__} blank('en') + sentencizer",
                                      "script": "scripts/score/make_sentence_fixtures.py"}}) + "\n")
        for text in texts:
            sentences = [s.text_with_ws for s in nlp(text).sents]
            assert "".join(sentences) == text
            f.write(json.dumps({"text": text, "sentences": sentences}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} documents to {out}")


if __name__ == "__main__":
    main()
