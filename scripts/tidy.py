#!/usr/bin/python3
"""Runs clang-tidy (the repository's .clang-tidy) on the lines changed since a base commit.

    scripts/tidy.py [--base COMMIT] [--build-dir DIR] [-j N]

The base defaults to the commit in .ci/tidy-base: the last commit CI passed on, moved forward
at each stop, so CI checks what the stop changed. Every translation unit that changed, or whose
header beside it changed, is checked with a line filter covering every changed line of every
file, so a finding in a changed header line is reported through any unit that includes it.
Findings on lines that did not change are not reported (the code base predates the config).
Every finding is an error: the script exits 1 when any is reported.

Written by hand rather than with clang-tidy-diff (Debian's clang-tidy package) because that
script exits 0 whatever clang-tidy finds, and checks headers only when they are compiled alone.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE_SUFFIXES = (".cc", ".h")
CHECKED_DIRS = ("src/", "fuzz/", "bench/", "tests/", "python/")


def changed_lines(base):
    """{path relative to ROOT: [[first, last], ...]} for lines added or changed since base."""
    diff = subprocess.run(
        ["git", "diff", "-U0", "--no-color", "--no-ext-diff", base, "--"],
        cwd=ROOT, check=True, capture_output=True, text=True, errors="replace").stdout
    lines = {}
    name = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            name = target[2:] if target.startswith("b/") else None
            continue
        match = re.match(r"^@@ .* \+(\d+)(?:,(\d+))? @@", line)
        if match and name:
            first = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            if count > 0:
                lines.setdefault(name, []).append([first, first + count - 1])
    return {
        path: ranges for path, ranges in lines.items()
        if path.endswith(SOURCE_SUFFIXES) and path.startswith(CHECKED_DIRS)
    }


def has_commit(rev):
    return subprocess.run(["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=ROOT,
                          capture_output=True).returncode == 0


def units_to_check(changed, database):
    """The compiled units whose own file, or the header beside it, changed."""
    compiled = {}
    for entry in database:
        path = pathlib.Path(entry["directory"], entry["file"]).resolve()
        try:
            compiled[str(path.relative_to(ROOT))] = str(path)
        except ValueError:
            continue  # a unit outside the source tree (generated)
    units = set()
    for path in changed:
        if path.endswith(".cc") and path in compiled:
            units.add(compiled[path])
        elif path.endswith(".h"):
            stem = path[:-2]
            for partner in (stem + ".cc", stem + "_test.cc"):
                if partner in compiled:
                    units.add(compiled[partner])
    return sorted(units)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="commit to diff against (default: .ci/tidy-base)")
    parser.add_argument("--build-dir", default="build-asan",
                        help="a build directory with compile_commands.json (default build-asan)")
    parser.add_argument("-j", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    base = args.base
    if not base:
        base = (ROOT / ".ci" / "tidy-base").read_text(encoding="utf-8").split()[0]
    if not has_commit(base):
        # A shallow clone lacks the base: check what the last commit changed instead.
        fallback = "HEAD~1" if has_commit("HEAD~1") else None
        print(f"tidy: base {base[:12]} is not in this clone; checking the changes since "
              f"{fallback or 'nothing (no parent commit either)'}", file=sys.stderr)
        if fallback is None:
            return 0
        base = fallback
    database_path = ROOT / args.build_dir / "compile_commands.json"
    try:
        database = json.loads(database_path.read_text(encoding="utf-8"))
    except OSError as error:
        print(f"tidy: {database_path}: {error.strerror} (configure the build first)",
              file=sys.stderr)
        return 2
    try:
        changed = changed_lines(base)
    except subprocess.CalledProcessError as error:
        print(f"tidy: git diff {base}: {error.stderr.strip()}", file=sys.stderr)
        return 2
    units = units_to_check(changed, database)
    print(f"tidy: {len(changed)} changed files since {base[:12]}, {len(units)} units to check")
    if not units:
        return 0
    line_filter = json.dumps(
        [{"name": str(ROOT / path), "lines": ranges} for path, ranges in sorted(changed.items())],
        separators=(",", ":"))

    def tidy(unit):
        result = subprocess.run(
            ["clang-tidy", "--quiet", f"-p={ROOT / args.build_dir}",
             f"--line-filter={line_filter}", "--warnings-as-errors=*", unit],
            cwd=ROOT, capture_output=True, text=True, errors="replace")
        return unit, result.returncode, result.stdout

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        for unit, code, out in pool.map(tidy, units):
            if code != 0:
                failed.append(unit)
                sys.stdout.write(out)
    if failed:
        print(f"tidy: findings in {len(failed)} of {len(units)} units:", file=sys.stderr)
        for unit in failed:
            print(f"  {pathlib.Path(unit).relative_to(ROOT)}", file=sys.stderr)
        return 1
    print(f"tidy: {len(units)} units clean on the changed lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
