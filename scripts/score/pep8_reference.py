#!/usr/bin/env python3
"""Reference PEP8 violations for the native `pep8` scorer's parity test (crates/phf-score/tests/pep8_parity.rs).

Runs pycodestyle 2.15 with its default options (max line 79; default ignore list E121, E123, E126, E226, E24,
E704, W503, W504) over a deterministic selection of the local CPython standard library and writes, per file, the
path relative to the stdlib, its length in characters, and the line numbers of its violations per code. The
files' contents are never written: the parity test reads them from the same local stdlib, and skips when the
recorded `python` version or `stdlib` path differs from the machine's.

Selection: every .py file under the stdlib (site-packages excluded), sorted by relative path, every `--step`-th
one, keeping files that decode as UTF-8 without a BOM, contain no `\\r`, and compile (pycodestyle reports a
syntax error, E901/E902, on the others: not real code to score).

    python3 -m venv ~/.cache/phf/pep8-venv
    ~/.cache/phf/pep8-venv/bin/pip install 'pycodestyle==2.15.*'
    ~/.cache/phf/pep8-venv/bin/python scripts/score/pep8_reference.py \
        --out crates/phf-score/tests/fixtures/pep8_stdlib.json

Use the venv's python: it must be the same interpreter version as `python3` on the machine running the test.
"""

import argparse
import io
import json
import os
import sys
import sysconfig
import warnings

import pycodestyle


class CollectingReport(pycodestyle.BaseReport):
    """Keeps (line, code) of every reported (not ignored) violation of the current file."""

    def init_file(self, filename, lines, expected, line_offset):
        super().init_file(filename, lines, expected, line_offset)
        self.found = []

    def error(self, line_number, offset, text, check):
        code = super().error(line_number, offset, text, check)
        if code:
            self.found.append((line_number, code))
        return code


def select_files(stdlib, step):
    paths = []
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in ('site-packages', '__pycache__'))
        for name in files:
            if name.endswith('.py'):
                paths.append(os.path.relpath(os.path.join(root, name), stdlib))
    paths.sort()
    for rel in paths[::step]:
        with open(os.path.join(stdlib, rel), 'rb') as f:
            raw = f.read()
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            continue
        if text.startswith('\ufeff') or '\r' in text:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')  # SyntaxWarnings of test data are not our concern
                compile(text, rel, 'exec', dont_inherit=True)
        except (SyntaxError, ValueError):
            continue
        yield rel, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='fixture to write (JSON)')
    parser.add_argument('--step', type=int, default=5, help='take every STEP-th stdlib file (default 5)')
    args = parser.parse_args()

    stdlib = sysconfig.get_paths()['stdlib']
    style = pycodestyle.StyleGuide(reporter=CollectingReport)  # default options, no config files
    assert style.options.max_line_length == 79
    report = style.options.report
    files = []
    for rel, text in select_files(stdlib, args.step):
        lines = io.StringIO(text).readlines()  # split at \n only, as pycodestyle reads a file
        report.init_file(rel, lines, None, 0)
        pycodestyle.Checker(rel, lines=lines, options=style.options, report=report).check_all()
        by_code = {}
        for line, code in report.found:
            by_code.setdefault(code, []).append(line)
        n = sum(len(v) for v in by_code.values())
        files.append({
            'path': rel,
            'chars': len(text),
            'violations': n,
            'score': n / len(text) if text else 0.0,
            'lines': {code: sorted(v) for code, v in sorted(by_code.items())},
        })
    fixture = {
        'reference': f'pycodestyle {pycodestyle.__version__}, default options',
        'python': sys.version,
        'stdlib': stdlib,
        'step': args.step,
        'files': files,
    }
    with open(args.out, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
        f.write('\n')
    print(f'{len(files)} files, {sum(x["violations"] for x in files)} violations -> {args.out}')


if __name__ == '__main__':
    main()
