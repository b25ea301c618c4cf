#!/usr/bin/env python3
"""run.py - runs the whole-system QEMU test cases in tests/qemu/cases/ and prints PASS/FAIL/SKIP per case."""

import argparse
import concurrent.futures
import importlib
import os
import pathlib
import signal
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from cases import CASES, Context  # noqa: E402

TAIL_LINES = 30
_print_lock = threading.Lock()


def load_cases():
    """Import every module in cases/, which registers its cases."""
    for path in sorted((HERE / "cases").glob("*.py")):
        if path.name != "__init__.py":
            importlib.import_module(f"cases.{path.stem}")
    return CASES


def run_case(name, fn, build_dir, log_dir):
    """Run one case; return (status, report lines)."""
    t = Context(name, build_dir, log_dir)
    try:
        fn(t)
        return "PASS", [f"PASS {name}"]
    except harness.Skip as e:
        return "SKIP", [f"SKIP {name}: {e}"]
    except (harness.TestFailure, AssertionError) as e:
        reason = str(e) or type(e).__name__
        lines = [f"FAIL {name}: {_first_line(reason)}"] + _indent(reason.splitlines()[1:])
    except Exception as e:  # a bug in the case itself, reported like a failure
        lines = [f"FAIL {name}: {type(e).__name__}: {_first_line(str(e))}"]
        lines += _indent(traceback.format_exc().splitlines())
    finally:
        t.close()
    tail = t.tail(TAIL_LINES)
    if tail:
        lines.append(f"  last {len(tail)} console lines:")
        lines += _indent(tail, "    | ")
    return "FAIL", lines


def _first_line(text):
    return text.splitlines()[0] if text else ""


def _indent(lines, prefix="    "):
    return [prefix + line for line in lines]


def report(lines):
    with _print_lock:
        print("\n".join(lines), flush=True)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build", help="build directory (default: build)")
    ap.add_argument("-k", metavar="SUBSTR", action="append",
                    help="run only cases whose name contains SUBSTR (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("-j", type=int, default=2, metavar="N", help="parallel QEMUs (default: 2)")
    ap.add_argument("--log-dir", help="console logs directory (default: BUILD/qemu-logs)")
    args = ap.parse_args()

    cases = load_cases()
    names = [n for n in cases if not args.k or any(k in n for k in args.k)]
    if args.list:
        print("\n".join(names))
        return 0
    log_dir = args.log_dir or os.path.join(args.build, "qemu-logs")

    signal.signal(signal.SIGTERM, _terminate)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    started = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j))
    try:
        futures = {pool.submit(run_case, n, cases[n], args.build, log_dir): n for n in names}
        for fut in concurrent.futures.as_completed(futures):
            status, lines = fut.result()
            counts[status] += 1
            report(lines)
    except KeyboardInterrupt:
        harness.kill_all(stop=True)
        pool.shutdown(wait=False, cancel_futures=True)
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        harness.kill_all()
    pool.shutdown()
    print(f"qemu: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped"
          f" in {time.monotonic() - started:.1f} s; console logs in {log_dir}", flush=True)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
