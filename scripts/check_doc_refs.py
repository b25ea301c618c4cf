#!/usr/bin/env python3
"""check_doc_refs.py - fail when code or docs cite a Markdown file the repository does not have.

A reference is a word ending in `.md` in a tracked source, build or Markdown file (test data in
string literals aside: see DATA). It resolves against the repository root, then the citing file's
folder; a path that leaves the repository (`../`) never resolves: the design text the code cites
lives in docs/.
Usage: scripts/check_doc_refs.py [ROOT]   (one line per dangling reference; exit 1 if any)
"""

import pathlib
import re
import subprocess
import sys

SUFFIXES = (".c", ".h", ".S", ".py", ".sh", ".md", ".mk", ".ld.S", "Makefile")
REF_RE = re.compile(r"(?<![\w./-])((?:\.\./|[\w-]+/)*[\w-]+\.md)\b")
# File names the file-system tests create inside disk images: data, not citations.
DATA = {"tests/qemu/cases/fs.py"}


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True,
                           text=True).stdout.split()
    bad = []
    for path in files:
        if not path.endswith(SUFFIXES) or path in DATA or not (root / path).is_file():
            continue
        text = (root / path).read_text(errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            for ref in REF_RE.findall(line):
                here = (root / path).parent
                if ".." not in ref.split("/") and ((root / ref).is_file() or (here / ref).is_file()):
                    continue
                bad.append(f"{path}:{lineno}: {ref} is not a file in the repository")
    for line in bad:
        print(line)
    print(f"documentation references: {len(bad)} dangling")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
