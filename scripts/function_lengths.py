#!/usr/bin/env python3
"""Lists the longest functions in the tree's C and C++ sources, longest first.

  python3 scripts/function_lengths.py [--top N] [--over N] [FOLDER ...]
      (default folders: hal runtime partitioner tools plugins; --top 15)

A function is counted from the first line of its signature to the line that closes its body at
the signature's indentation, so blank lines and comments inside count. A body opens where a line
ends in '{' after a ')' (optionally followed by const, noexcept, override or a trailing return
type) and the line is not a control statement, a lambda or an initialiser. A heuristic for the
formatting used in this tree (clang-format, two-space indents); it counts lambdas inside a function
as part of it. Exits 1 when --over N is given and some function is longer than N lines."""
import argparse
import os
import re
import subprocess
import sys

OPENS_BODY = re.compile(r'^\s*[^\s#/].*\)\s*(const)?\s*(noexcept)?\s*(override)?\s*(->\s*[\w:<>,\s]+)?\{\s*$')
CONTROL = re.compile(r'^\s*(if|for|while|switch|catch|else|do)\b')


def sources(folders):
    listed = subprocess.check_output(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '--'] + folders)
    return [f for f in listed.decode().split('\n') if f.endswith(('.c', '.cpp', '.h')) and os.path.isfile(f)]


def signature_start(lines, i):
    start = i
    while start > 0:
        prev = lines[start - 1]
        if not prev.strip() or prev.rstrip().endswith((';', '{', '}', ':')) or prev.lstrip().startswith(('//', '#', '*', '/*')):
            break
        start -= 1
    return start


def body_end(lines, start, indent):
    j = start + 1
    while j < len(lines):
        line = lines[j]
        if line == indent + '}' or line.startswith((indent + '};', indent + '});', indent + '}  //', indent + '} //')):
            return j
        j += 1
    return j


def functions(path):
    lines = open(path, errors='replace').read().split('\n')
    for i, line in enumerate(lines):
        if not OPENS_BODY.match(line) or CONTROL.match(line):
            continue
        head = line.split('(')[0]
        if '=' in head or 'return' in head or line.lstrip().startswith(('[', '}', ')')):
            continue
        start = signature_start(lines, i)
        indent = re.match(r'^(\s*)', lines[start]).group(1)
        end = body_end(lines, i, indent)
        yield end - start + 1, start + 1, lines[i].strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folders', nargs='*', default=['hal', 'runtime', 'partitioner', 'tools', 'plugins'])
    parser.add_argument('--top', type=int, default=15)
    parser.add_argument('--over', type=int, default=0)
    args = parser.parse_args()
    found = [(n, f, line, text) for f in sources(args.folders) for n, line, text in functions(f)]
    found.sort(reverse=True)
    for n, f, line, text in found[:args.top]:
        print(f'{n:5d}  {f}:{line}  {text[:80]}')
    over = [x for x in found if args.over and x[0] > args.over]
    if args.over:
        print(f'{len(over)} function(s) over {args.over} lines among {len(found)}')
    return 1 if over else 0


if __name__ == '__main__':
    sys.exit(main())
