#!/usr/bin/env python3
"""A tiny external scorer for phf: how loud a text is (the fraction of its letters in upper case).

Protocol (see crates/phf-score/src/external.rs): read JSON lines {"text": ...} on stdin until end of input,
write one line {"score": <number >= 0>} per input line, in order, and exit 0. Plug it in with
    phf score --scorer 'cmd:python3 scripts/score/example_scorer.py' ...
or, from Rust, `phf_score::scorer_by_name("cmd:python3 scripts/score/example_scorer.py")`.
"""

import json
import sys


def shouting_score(text):
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(c.isupper() for c in letters) / len(letters)


def main():
    for line in sys.stdin:
        text = json.loads(line)["text"]
        print(json.dumps({"score": shouting_score(text)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
