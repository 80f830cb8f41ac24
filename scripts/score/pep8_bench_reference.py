#!/usr/bin/env python3
"""Python half of scripts/score/bench_pep8.sh: writes the benchmark input and times pycodestyle on it.

    pep8_bench_reference.py OUT.jsonl [STEP]

Writes the stdlib files pep8_reference.py selects (every STEP-th, default 5) as {"text": ...} lines to OUT.jsonl,
then checks them all with pycodestyle 2.15 (default options, in memory: reading files is not timed) until
MIN_SECONDS (env, default 3) have passed, and prints one JSON line like examples/bench_scorers.rs:
{"side": "python", "scorer": "pep8", "docs", "bytes", "seconds", "mb_per_s", "threads": 1, "mean_score"}.
Run it with the venv that has pycodestyle (see pep8_reference.py).
"""

import io
import json
import os
import sys
import sysconfig
import time

import pycodestyle

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pep8_reference import select_files  # noqa: E402


def main():
    out = sys.argv[1]
    step = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    texts = [text for _, text in select_files(sysconfig.get_paths()['stdlib'], step)]
    with open(out, 'w', encoding='utf-8') as f:
        for text in texts:
            f.write(json.dumps({'text': text}, ensure_ascii=False) + '\n')
    n_bytes = sum(len(t.encode('utf-8')) for t in texts)

    style = pycodestyle.StyleGuide(reporter=pycodestyle.BaseReport)  # default options, nothing printed
    report = style.options.report
    min_seconds = float(os.environ.get('MIN_SECONDS', '3'))
    rounds, start = 0, time.perf_counter()
    while rounds == 0 or time.perf_counter() - start < min_seconds:
        scores = []
        for text in texts:
            lines = io.StringIO(text).readlines()
            n = pycodestyle.Checker(lines=lines, options=style.options, report=report).check_all()
            scores.append(n / len(text) if text else 0.0)
        rounds += 1
    seconds = (time.perf_counter() - start) / rounds
    print(json.dumps({
        'side': 'python', 'scorer': 'pep8', 'docs': len(texts), 'bytes': n_bytes, 'seconds': seconds,
        'mb_per_s': n_bytes / 1e6 / seconds, 'threads': 1, 'mean_score': sum(scores) / max(len(scores), 1),
    }))


if __name__ == '__main__':
    main()
