#!/usr/bin/env python3
"""Robustness check of the native `pep8` scorer beyond clean code: damaged copies of stdlib files.

Corpora hold truncated and garbled code, where tokenizer errors (E901) and odd token streams decide the
counts. This writes N randomly damaged stdlib files (truncated, a span cut out, a stray quote/bracket/tab/
backslash inserted, lines shuffled, or a 3 kB window) to DIR and a fixture in pep8_reference.py's format (with
absolute paths into DIR) for the parity test; nothing of it is committed:

    ~/.cache/phf/pep8-venv/bin/python scripts/score/pep8_damaged_reference.py --dir /tmp/pep8-damaged \\
        --out /tmp/pep8_damaged.json --seed 3
    PHF_PEP8_FIXTURE=/tmp/pep8_damaged.json cargo test -p phf-score --test pep8_parity -- --nocapture

Files on which pycodestyle itself crashes (it can, on some garbage) are left out.
"""

import argparse
import io
import json
import os
import random
import sys
import sysconfig

import pycodestyle

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pep8_reference import CollectingReport  # noqa: E402

INSERTS = ['\t', '  ', '(', ')', '"', "'''", '\\\n', '#', ':', '\n    ', ' = ', '[', 'lambda']


def damage(text, rng):
    n = len(text)
    kind = rng.randrange(6)
    if kind == 0 and n:
        return text[:rng.randrange(n)]
    if kind == 1 and n:
        a = rng.randrange(n)
        return text[:a] + text[a + rng.randrange(1, 200):]
    if kind == 2 and n:
        a = rng.randrange(n)
        return text[:a] + rng.choice(INSERTS) + text[a:]
    if kind == 3:
        lines = text.splitlines(True)
        rng.shuffle(lines)
        return ''.join(lines[:200])
    if kind == 4 and n:
        a = rng.randrange(n)
        return text[a:a + 3000]
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dir', required=True, help='folder for the damaged files')
    parser.add_argument('--out', required=True, help='fixture to write (JSON)')
    parser.add_argument('--seed', type=int, default=3)
    parser.add_argument('-n', type=int, default=600, help='stdlib files to damage (default 600)')
    args = parser.parse_args()

    stdlib = sysconfig.get_paths()['stdlib']
    paths = []
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in ('site-packages', '__pycache__'))
        paths += [os.path.join(root, f) for f in sorted(files) if f.endswith('.py')]
    paths.sort()
    rng = random.Random(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    style = pycodestyle.StyleGuide(reporter=CollectingReport)
    report = style.options.report
    files = []
    for i, path in enumerate(rng.sample(paths, min(args.n, len(paths)))):
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        text = damage(text, rng)
        if any(c in text for c in '\r\ufeff\x0c'):
            continue
        dst = os.path.join(os.path.abspath(args.dir), f'{i:04d}.py')
        with open(dst, 'w', encoding='utf-8') as f:
            f.write(text)
        try:
            lines = io.StringIO(text).readlines()
            pycodestyle.Checker(dst, lines=lines, options=style.options, report=report).check_all()
        except Exception as e:  # pycodestyle's own bugs on garbage input
            print(f'pycodestyle crashed on {dst}: {e!r}', file=sys.stderr)
            continue
        by_code = {}
        for line, code in report.found:
            by_code.setdefault(code, []).append(line)
        n = sum(len(v) for v in by_code.values())
        files.append({'path': dst, 'chars': len(text), 'violations': n, 'score': n / len(text) if text else 0.0,
                      'lines': {code: sorted(v) for code, v in sorted(by_code.items())}})
    fixture = {'reference': f'pycodestyle {pycodestyle.__version__}, default options, damaged stdlib files',
               'python': sys.version, 'stdlib': stdlib, 'seed': args.seed, 'files': files}
    with open(args.out, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
    print(f'{len(files)} damaged files, {sum(x["violations"] for x in files)} violations -> {args.out}')


if __name__ == '__main__':
    main()
