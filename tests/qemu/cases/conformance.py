"""conformance.py - KVM's arm64 conformance suite (kvm-unit-tests, unmodified binaries) in Avatar VMs.

Each case of the suite's unittests.cfg becomes a guest (kernel = its .flat at 0x4008_0000, initrd
= environ, bootargs = its test_args) on an Avatar host with 2 CPUs; many run one after another in
one QEMU, and each VM's `EXIT: STATUS=n` is its result (1 pass, 77 skip).  What each case must do
per GIC version is in tests/qemu/conformance.txt (docs/architecture.md, "Tests")."""

import os
import re
import shlex
import tempfile
import time

from cases import case
from cases.vmm import ROOT, make_image
from harness import Config, Skip, TestFailure, timeout_scale

# The team's fixture, beside the repository (the suite is GPL and kept out of the tree).
SUITE = os.path.join(os.path.dirname(ROOT), "shared", "conformance", "kvm-unit-tests")
EXPECTATIONS = os.path.join(ROOT, "tests", "qemu", "conformance.txt")
HOST_CPUS = 2
BASE_SMP = HOST_CPUS  # $MAX_SMP of a case's base instance
SMP_VARIANTS = (4, 8)  # the SMP cases also run with this many vCPUs on the HOST_CPUS
SMP_CASES = ("selftest-smp", "psci", "gicv2-ipi", "gicv3-ipi", "gicv2-active", "gicv3-active")
DEFAULT_MEMORY_MIB = 128  # QEMU's default -m, what the suite's arm/run gives a test
TEST_TIMEOUT = 90  # seconds of host time per test: the suite's default, or 3 x its own timeout
XFAIL_TIMEOUT = 20  # seconds for a case listed as an exception
KINDS = ("pass", "xfail", "norun")
TAIL_LINES = 25


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def parse_unittests(path):
    """unittests.cfg -> [(name, {key: value})] in file order."""
    cases, cur = [], None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            m = re.fullmatch(r"\[(.+)\]", line)
            if m:
                cur = {}
                cases.append((m.group(1), cur))
            elif cur is not None and "=" in line:
                key, _, value = line.partition("=")
                cur[key.strip()] = value.strip()
    return cases


def smp_value(expr, max_smp):
    """The suite's smp field: a number, $MAX_SMP or $((($MAX_SMP < n)?$MAX_SMP:n))."""
    if not expr:
        return 1
    expr = expr.replace("$MAX_SMP", str(max_smp))
    m = re.fullmatch(r"\$\(\(\((\d+) < (\d+)\)\?(\d+):(\d+)\)\)", expr)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        return int(m.group(3)) if a < b else int(m.group(4))
    return int(expr)


# Built by the suite (arm/pl031.flat) but not listed in its unittests.cfg.
EXTRA_CASES = [("pl031", {"file": "pl031.flat"})]


def instances(suite_cases):
    """Every test we run: dict with name, flat, args, smp, memory_mib and the GICs it needs."""
    out = []
    for name, c in suite_cases:
        m = re.search(r"gic-version=(\d)", c.get("qemu_params", ""))
        gics = (int(m.group(1)),) if m else (2, 3)
        mem = re.search(r"-m (\d+)", c.get("qemu_params", ""))
        args = c.get("test_args", "")
        args = " ".join(shlex.split(args)) if args else ""
        limit = re.fullmatch(r"(\d+)s?", c.get("timeout", ""))
        base = dict(flat=c["file"], args=args, gics=gics,
                    timeout=int(limit.group(1)) * 3 if limit else TEST_TIMEOUT,
                    memory_mib=int(mem.group(1)) if mem else DEFAULT_MEMORY_MIB)
        out.append(dict(base, name=name, smp=smp_value(c.get("smp"), BASE_SMP)))
        if name in SMP_CASES:
            for n in SMP_VARIANTS:
                out.append(dict(base, name=f"{name}-smp{n}", smp=smp_value(c.get("smp"), n)))
    return out


def parse_expectations(path):
    """conformance.txt -> {(instance, gic): (kind, reason)}."""
    table = {}
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 3)
            if len(fields) < 3 or fields[2] not in KINDS or not re.fullmatch(r"[23](,[23])?",
                                                                               fields[1]):
                raise TestFailure(f"{path}:{lineno}: want '<case> <2|3|2,3> <{'|'.join(KINDS)}> "
                                  f"[reason]', got: {line}")
            reason = fields[3] if len(fields) > 3 else ""
            if fields[2] != "pass" and not reason:
                raise TestFailure(f"{path}:{lineno}: an exception needs its reason")
            for gic in fields[1].split(","):
                table[(fields[0], int(gic))] = (fields[2], reason)
    return table


def suite_or_skip():
    if not os.path.isfile(os.path.join(SUITE, "unittests.cfg")):
        raise Skip(f"no kvm-unit-tests fixture at {SUITE} (the team's shared conformance folder "
                   "beside the repository)")
    return instances(parse_unittests(os.path.join(SUITE, "unittests.cfg")) + EXTRA_CASES)


def guest_cfg(inst):
    cfg = (f"name = {inst['name']}\nkernel = /guests/kut/{inst['flat']}\n"
           f"initrd = /guests/kut/environ\nload_addr = 0x40080000\nsmp = {inst['smp']}\n"
           f"memory = {inst['memory_mib']}M\n")
    return cfg + (f"bootargs = {inst['args']}\n" if inst["args"] else "")


def run_one(q, inst, limit):
    """Start one test VM and wait limit seconds at most for its end; return (status or None,
    its console lines)."""
    name = inst["name"]
    start = len(q.output)
    out = q.command(f"guest start {name}", timeout=60)
    if f"guest {name}: started" not in out:
        return None, out.splitlines()
    prefix = f"[{name}]"
    # A VM's line may follow the shell's prompt.
    exit_re = re.compile(rf"(?:^|> ){re.escape(prefix)} EXIT: STATUS=(\d+)$", re.M)
    # The VM's end: SYSTEM_OFF, or a stop report (a fault, a failed start ...); not the note of
    # an external abort injected into it.
    end_re = re.compile(
        rf"(?:^|> )guest {re.escape(name)}: (?!started|.*external abort injected)(.*)$", re.M)
    limit *= timeout_scale()
    deadline = time.monotonic() + limit
    status = None
    while True:
        text = q.output[start:]
        m = exit_re.search(text)
        if m:
            status = int(m.group(1))
        end = end_re.search(text)
        if end and "\n" in text[end.end():end.end() + 1]:
            break
        if not q.running or "PANIC" in text:
            raise TestFailure(f"the host died during {name}")
        if time.monotonic() > deadline:
            q.command(f"guest stop {name}", timeout=60)
            text = q.output[start:] + f"\n(timed out after {limit:g} s)"
            status = None
            break
        time.sleep(0.1)
        q.nudge()
    lines = [ln for ln in text.splitlines()
             if prefix in ln or f"guest {name}:" in ln or "timed out" in ln]
    return status, lines


def run_group(t, gic, names):
    all_inst = suite_or_skip()
    table = parse_expectations(EXPECTATIONS)
    known = {i["name"] for i in all_inst}
    stale = sorted({n for n, _ in table} - known)
    check(not stale, f"{os.path.basename(EXPECTATIONS)} names cases the suite does not have: {stale}")
    grouped = [n for g in GROUPS.values() for n in g]
    check(sorted(grouped) == sorted(known), "every case of the suite must be in exactly one group: "
          f"{sorted(known.symmetric_difference(grouped))}")
    group = [i for i in all_inst if i["name"] in names and gic in i["gics"]]
    missing = [i["name"] for i in group if (i["name"], gic) not in table]
    check(not missing, f"not in {os.path.basename(EXPECTATIONS)} for GICv{gic}: {missing}")
    todo = [i for i in group if table[(i["name"], gic)][0] != "norun"]
    flats = sorted({i["flat"] for i in todo})
    files = {f: read(os.path.join(SUITE, "arm", f)) for f in flats}
    files["environ"] = read(os.path.join(SUITE, "environ"))
    guests = {"kut": files}
    guests.update({i["name"]: {"guest.cfg": guest_cfg(i)} for i in todo})
    problems, report = [], []
    with tempfile.TemporaryDirectory() as d:
        img = make_image(d, guests)
        drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
                 "-device", "virtio-blk-device,drive=hd0"]
        # Not under icount: the suite waits with counter delays (mdelay), which icount's one
        # instruction per nanosecond makes minutes long. One TCG thread still runs both CPUs.
        q = t.boot(Config(hv=True, gic=gic, smp=HOST_CPUS, mem="1G", icount=False,
                          extra_args=drive + ["-accel", "tcg,thread=single"]))
        for inst in todo:
            kind, reason = table[(inst["name"], gic)]
            began = time.monotonic()
            # An exception is not expected to finish: it gets less time than a test that must.
            limit = inst["timeout"] if kind == "pass" else min(inst["timeout"], XFAIL_TIMEOUT)
            status, lines = run_one(q, inst, limit)
            result = {1: "pass", 77: "skip", None: "no exit"}.get(status, f"fail ({status})")
            report.append(f"{inst['name']:28} gicv{gic} smp{inst['smp']}  {result:10} "
                          f"{time.monotonic() - began:5.1f} s  "
                          f"(expected {kind}{': ' + reason if reason else ''})")
            if kind == "pass" and status != 1:
                problems.append(f"{inst['name']} must pass on GICv{gic} but ended with "
                                f"{result}:\n  " + "\n  ".join(lines[-TAIL_LINES:]))
            elif kind == "xfail" and status == 1:
                problems.append(f"{inst['name']} passes on GICv{gic} but is listed as an "
                                f"exception ({reason}): make it 'pass' in conformance.txt")
    print("\n".join(report), flush=True)
    check(not problems, "\n".join(problems) + "\n" + "\n".join(report))


# Groups of tests per Avatar boot, so two groups of each GIC run side by side under -j 2.
GROUPS = {
    "basic": ("selftest-setup", "selftest-vectors-kernel", "selftest-vectors-user", "selftest-smp",
              "psci", "timer", "micro-bench", "cache", "fpu-context", "pl031", "pci-test",
              "mte-sync", "mte-async", "mte-asymm"),
    "pmu-debug": ("pmu-cycle-counter", "pmu-event-introspection", "pmu-event-counter-config",
                  "pmu-basic-event-count", "pmu-mem-access", "pmu-mem-access-reliability",
                  "pmu-sw-incr", "pmu-chained-counters", "pmu-chained-sw-incr",
                  "pmu-chain-promotion", "pmu-overflow-interrupt", "debug-bp", "debug-bp-migration",
                  "debug-wp", "debug-wp-migration", "debug-sstep", "debug-sstep-migration"),
    "gic": ("gicv2-ipi", "gicv2-mmio", "gicv2-mmio-up", "gicv2-mmio-3p", "gicv3-ipi",
            "gicv2-active", "gicv3-active", "its-introspection", "its-trigger", "its-migration",
            "its-pending-migration", "its-migrate-unmapped-collection"),
    "smp": tuple(f"{c}-smp{n}" for c in SMP_CASES for n in SMP_VARIANTS),
}

for _gic in (2, 3):
    for _group, _names in GROUPS.items():
        @case(f"conformance/gic{_gic}-{_group}")
        def _conformance(t, gic=_gic, names=_names):
            run_group(t, gic, names)
