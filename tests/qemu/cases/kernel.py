"""kernel.py - the scheduler and synchronisation: the in-kernel self-tests (`ktest`), `ps`, `pin`,
`load`."""

import re

from cases import case
from harness import Config, TestFailure

# Every test `ktest` runs, in order; each prints exactly one line.
KTESTS = ["threads", "mutex", "semaphore", "condvar", "pingpong", "pi", "preempt", "nopreempt",
          "rr", "sleep", "balance", "affinity"]
KTEST_LINE_RE = re.compile(r"^ktest (\S+): (PASS|FAIL)\b(.*)$", re.M)
KTEST_TIMEOUT = 300
PS_HEADER = "  ID NAME             STATE     PRI  CPU  AFFINITY     TICKS  RAN-ON"
PS_ROW_RE = re.compile(r"^ *(\d+) (\S+) +(running|ready|blocked|sleeping|dead|idle) +(idle|\d+\^?) +"
                       r"(\d+) +0x([0-9a-f]+) +(\d+) +0x([0-9a-f]+)$", re.M)
PIN_RE = re.compile(r"^pin: thread (\d+) may run on 0x([0-9a-f]+)\n$")
LOAD_THREADS = 8
LOAD_MS = 400

KTEST_CONFIGS = [Config(hv=False, gic=2, smp=1), Config(hv=False, gic=2, smp=4),
                 Config(hv=True, gic=3, smp=4)]


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def parse_ps(out):
    """ps output as a list of dicts, after checking its header and its thread count line."""
    check(PS_HEADER in out, f"ps printed no header:\n{out}")
    rows = [dict(id=int(m[1]), name=m[2], state=m[3], prio=m[4], cpu=int(m[5]),
                 affinity=int(m[6], 16), ticks=int(m[7]), ran_on=int(m[8], 16))
            for m in PS_ROW_RE.finditer(out)]
    total = re.search(r"^(\d+) threads$", out, re.M)
    check(total and int(total.group(1)) == len(rows),
          f"ps listed {len(rows)} rows but says {total.group(0) if total else 'nothing'}:\n{out}")
    ids = [r["id"] for r in rows]
    check(len(set(ids)) == len(ids), f"ps shows a thread id twice:\n{out}")
    return rows


for cfg in KTEST_CONFIGS:

    @case(f"kernel/ktest-{cfg.tag}")
    def _ktest(t, cfg=cfg):
        q = t.boot(cfg)
        out = q.command("ktest", timeout=KTEST_TIMEOUT)
        results = {m.group(1): (m.group(2), m.group(3).strip()) for m in KTEST_LINE_RE.finditer(out)}
        missing = [name for name in KTESTS if name not in results]
        check(not missing, f"ktest printed no line for {missing}:\n{out}")
        failed = [f"{name}: {detail}" for name, (verdict, detail) in results.items()
                  if verdict != "PASS"]
        check(not failed, "ktest failures:\n" + "\n".join(failed))
        check(re.search(rf"^ktest: {len(KTESTS)} passed, 0 failed$", out, re.M),
              f"no 'ktest: {len(KTESTS)} passed, 0 failed' summary:\n{out}")
        # The tests leave no thread behind: the same threads as at boot.
        rows = parse_ps(q.command("ps"))
        check(sorted(r["name"] for r in rows) ==
              sorted([f"idle{i}" for i in range(cfg.smp)] + ["shell"]),
              f"threads left after ktest: {[r['name'] for r in rows]}")


@case("kernel/ktest-one-and-unknown-el1")
def _ktest_one(t):
    q = t.boot(Config(smp=2))
    out = q.command("ktest mutex")
    lines = KTEST_LINE_RE.findall(out)
    check([name for name, _, _ in lines] == ["mutex"], f"`ktest mutex` ran {lines}:\n{out}")
    check(lines[0][1] == "PASS", f"ktest mutex failed:\n{out}")
    out = q.command("ktest nosuch")
    check(re.search(r"^ktest: no test 'nosuch'; tests: " + " ".join(KTESTS) + "$", out, re.M),
          f"`ktest nosuch` printed:\n{out}")


@case("kernel/ps-el1")
def _ps(t):
    smp = 4
    q = t.boot(Config(smp=smp))
    rows = parse_ps(q.command("ps"))
    idle = {r["name"]: r for r in rows if r["name"].startswith("idle")}
    check(sorted(idle) == [f"idle{i}" for i in range(smp)], f"idle threads: {sorted(idle)}")
    for i in range(smp):
        r = idle[f"idle{i}"]
        check(r["cpu"] == i and r["affinity"] == 1 << i and r["prio"] == "idle",
              f"idle{i} should be pinned to cpu{i} at the idle priority: {r}")
    shell = [r for r in rows if r["name"] == "shell"]
    check(len(shell) == 1, f"expected one shell thread: {rows}")
    check(shell[0]["state"] == "running" and shell[0]["prio"] == "40",
          f"the shell runs ps at priority 40: {shell[0]}")
    check(shell[0]["affinity"] == (1 << smp) - 1, f"the shell may run anywhere: {shell[0]}")


@case("kernel/pin-el1")
def _pin(t):
    q = t.boot(Config(smp=2))

    def pin(thread, cpu, mask):
        out = q.command(f"pin {thread} {cpu}")
        m = PIN_RE.fullmatch(out)
        check(m and int(m.group(2), 16) == mask, f"`pin {thread} {cpu}` printed:\n{out}")
        return int(m.group(1))

    def shell_row():
        rows = [r for r in parse_ps(q.command("ps")) if r["name"] == "shell"]
        check(len(rows) == 1, f"expected one shell thread: {rows}")
        return rows[0]

    # The shell moves itself: ps (which the shell runs) shows it running on the CPU it was sent to.
    for cpu in (1, 0, 1):
        shell_id = pin("shell", cpu, 1 << cpu)
        r = shell_row()
        check(r["id"] == shell_id and r["state"] == "running" and r["cpu"] == cpu and
              r["affinity"] == 1 << cpu and r["ran_on"] & (1 << cpu),
              f"after `pin shell {cpu}` the shell should run on cpu{cpu} only: {r}")
    check(pin(shell_id, "all", 0x3) == shell_id, "`pin <id> all` named another thread")
    check(shell_row()["affinity"] == 0x3, "`pin shell all` did not free the shell")
    idle0 = [r["id"] for r in parse_ps(q.command("ps")) if r["name"] == "idle0"][0]
    for line, want in [
        ("pin", "usage: pin <thread id|name> <cpu|all>\n"),
        ("pin shell 2", "pin: 2 is not an online CPU (online: 0x03)\n"),
        ("pin shell one", "pin: one is not an online CPU (online: 0x03)\n"),
        ("pin nosuch 0", "pin: no thread called nosuch\n"),
        ("pin 9999 0", "pin: no thread 9999\n"),
        ("pin idle0 1", f"pin: thread {idle0} is a CPU's idle thread: it stays there\n"),
    ]:
        out = q.command(line)
        check(out == want, f"`{line}` printed:\n{out}")
    check(shell_row()["affinity"] == 0x3, "a refused pin changed the shell's affinity")


@case("kernel/load-keeps-shell-responsive-el1")
def _load(t):
    smp = 4
    q = t.boot(Config(smp=smp))
    out = q.command(f"load {LOAD_THREADS} {LOAD_MS}")
    check(f"load: {LOAD_THREADS} threads spinning for {LOAD_MS} ms at priority 10" in out,
          f"load printed:\n{out}")
    # The shell (priority 40) preempts the spinners (10): it answers while they still run.
    rows = parse_ps(q.command("ps"))
    load = [r for r in rows if r["name"] == "load"]
    check(len(load) == LOAD_THREADS, f"ps shows {len(load)} load threads, expected {LOAD_THREADS}")
    for r in load:
        check(r["state"] in ("running", "ready") and r["prio"] == "10",
              f"a load thread should be runnable at priority 10: {r}")
    running = {r["cpu"] for r in load if r["state"] == "running"}
    check(len(running) >= smp - 1, f"load threads run on cpus {sorted(running)} only")
    # Once their time is up they exit and, being detached, disappear.
    for _ in range(200):
        rows = parse_ps(q.command("ps"))
        if not any(r["name"] == "load" for r in rows):
            break
    else:
        raise TestFailure(f"load threads still listed: {rows}")
    out = q.command("load 0 10")
    check(out.startswith("usage: load"), f"`load 0 10` printed:\n{out}")
