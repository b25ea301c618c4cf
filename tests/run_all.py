#!/usr/bin/env python3
"""run_all.py - the `make test` driver: unit-test binaries, then the QEMU tests; one summary line."""

import argparse
import os
import pathlib
import re
import signal
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
UNIT_TIMEOUT = 300  # seconds per unit-test binary
RESULT_RE = re.compile(r"^(PASS|FAIL|SKIP) (\S+?)(:|$)")


def run_runner(name, argv, env, counts):
    """Run one runner, echoing its output live and counting its PASS/FAIL/SKIP lines."""
    print(f"== {name}", flush=True)
    failed_lines = 0
    try:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError as e:
        print(f"FAIL {name}: cannot run: {e}", flush=True)
        counts["FAIL"] += 1
        return
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            print(line, flush=True)
            m = RESULT_RE.match(line)
            if m:
                counts[m.group(1)] += 1
                failed_lines += m.group(1) == "FAIL"
        status = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        raise
    # A runner that crashed (sanitizer abort, bad exit) without naming a failed case still fails.
    if status != 0 and not failed_lines:
        how = f"killed by {_signal_name(-status)}" if status < 0 else f"exited with status {status}"
        print(f"FAIL {name}: {how} without reporting a failed case", flush=True)
        counts["FAIL"] += 1


def _signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def unit_runners(build):
    unit_dir = ROOT / build / "unit"
    if not unit_dir.is_dir():
        return []
    return sorted(p for p in unit_dir.glob("test_*") if p.is_file() and os.access(p, os.X_OK))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build", help="build directory (default: build)")
    ap.add_argument("-k", metavar="SUBSTR", help="run only cases whose name contains SUBSTR")
    ap.add_argument("-j", type=int, default=2, metavar="N", help="parallel QEMUs (default: 2)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--unit-only", action="store_true", help="only the host unit tests")
    only.add_argument("--qemu-only", action="store_true", help="only the QEMU tests")
    args = ap.parse_args()

    env = dict(os.environ, AVATAR_BUILD=args.build)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    try:
        if not args.qemu_only:
            for binary in unit_runners(args.build):
                # A hang (e.g. a loop on corrupt input) must fail, not stall CI: 5 minutes each.
                argv = ["timeout", "-k", "10", str(UNIT_TIMEOUT), str(binary)]
                argv += [args.k] if args.k else []
                name = str(binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary)
                run_runner(name, argv, env, counts)
        if not args.unit_only:
            argv = [sys.executable, str(ROOT / "tests/qemu/run.py"), "--build", args.build,
                    "-j", str(args.j)] + (["-k", args.k] if args.k else [])
            run_runner("tests/qemu/run.py", argv, env, counts)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

    summary = f"{counts['PASS']} passed, {counts['FAIL']} failed"
    if counts["SKIP"]:
        summary += f", {counts['SKIP']} skipped"
    print(summary, flush=True)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
