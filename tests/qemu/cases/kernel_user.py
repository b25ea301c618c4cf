"""kernel_user.py - user mode: programs from app/ run at EL0 through the shell's `run`, on SMP=1 and 4
(migrate, which moves threads between CPUs, on SMP=2 and 4).

Each test program prints "PASS <check>" / "FAIL <check>: ..." lines and "<prog>: N passed, M
failed"; a case runs one program and wants its summary with nothing failed. Crashes, kill, the
console as a terminal and programs loaded from /bin on the disk are checked from the outside.
"""

import os
import re
import subprocess
import tempfile

from cases import case
from harness import PROMPT, Config, TestFailure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
FAIL_RE = re.compile(r"^FAIL .*$", re.M)
CRASH_RE = r"^pid (\d+) \(crash\): {what} at (0x[0-9a-f]+) pc (0x[0-9a-f]+)\n"
SPIN_THREADS = 4
IDLE_CHECKS = 20
PROCS_ROW_RE = re.compile(r"^ *(\d+) +(\d+) (\S+) +(live|zombie) +(\d+) +(-?\d+) +(\d+) +(\d+)$", re.M)

# Test programs: (name, arguments, needs the disk, timeout in seconds).
PROGRAMS = [
    ("systest", "", True, 300),
    ("forktest", "", False, 300),
    ("threads", "16 2000", False, 300),
    ("prodcons", "3000", False, 300),
    ("prio", "", False, 120),
    ("sleeptest", "", False, 120),
    ("memhog", "", False, 600),
    ("sysfuzz", "200 200", False, 600),
    ("sigtest", "", False, 300),
]


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def host(*argv):
    r = subprocess.run(argv, env=MTOOLS_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode:
        raise TestFailure(f"{' '.join(argv)} failed:\n{r.stdout.decode(errors='replace')}")


def make_disk(directory, bin_files=None):
    """A fresh 64 MiB FAT32 image; bin_files maps /bin names to host files to put there."""
    img = os.path.join(directory, "user.img")
    host("bash", os.path.join(ROOT, "scripts/create_host_img.sh"), "-s", "64", "-o", img, "-f")
    if bin_files:
        host("mmd", "-i", img, "::/bin")
        for name, src in bin_files.items():
            host("mcopy", "-o", "-i", img, src, f"::/bin/{name}")
    return img


def machine(smp, img=None):
    extra = []
    if img:
        extra = ["-drive", f"if=none,id=hd0,format=raw,file={img}",
                 "-device", "virtio-blk-device,drive=hd0"]
    return Config(hv=False, gic=2, smp=smp, extra_args=extra)


def run_test_program(q, name, args, timeout):
    out = q.command(f"run {name} {args}".strip(), timeout=timeout)
    summary = re.search(rf"^{name}: (\d+) passed, (\d+) failed$", out, re.M)
    failures = FAIL_RE.findall(out)
    check(summary, f"`run {name}` printed no summary:\n{out}")
    check(not failures and summary.group(2) == "0",
          f"{name}: {summary.group(2)} checks failed:\n" + "\n".join(failures))
    check(int(summary.group(1)) > 0, f"{name} checked nothing:\n{out}")
    check("run: " not in out, f"`run` reported a failure:\n{out}")
    return out


for smp in (1, 4):
    for name, args, disk, timeout in PROGRAMS:

        @case(f"kernel/user-{name}-smp{smp}")
        def _program(t, smp=smp, name=name, args=args, disk=disk, timeout=timeout):
            with tempfile.TemporaryDirectory() as d:
                q = t.boot(machine(smp, make_disk(d) if disk else None))
                out = run_test_program(q, name, args, timeout)
                if name == "threads" and smp > 1:
                    check(re.search(rf"on {smp} CPUs$", out, re.M),
                          f"threads did not use all {smp} CPUs:\n{out}")
                # Everything the program made goes: no process, no committed memory. (An orphan
                # may still finish its last sleep: let virtual time run while the shell idles.)
                for _ in range(IDLE_CHECKS):
                    procs = q.command("procs")
                    if re.search(r"^0 processes; user memory committed 0 of \d+ KiB$", procs, re.M):
                        break
                    q.idle_sync()
                else:
                    raise TestFailure(f"left behind after {name}:\n{procs}")

    @case(f"kernel/user-hello-smp{smp}")
    def _hello(t, smp=smp):
        q = t.boot(machine(smp))
        out = q.command('run hello one "two words" 3')
        check(re.fullmatch(r"hello from pid (\d+): hello one two words 3\n", out),
              f"`run hello` printed:\n{out}")
        pid = int(re.match(r"hello from pid (\d+)", out).group(1))
        out = q.command("run /bin/hello")
        check(out == f"hello from pid {pid + 1}: /bin/hello\n", f"`run /bin/hello` printed:\n{out}")


# A thread moved to an idle CPU must run there at once (SMP only: there is no other CPU on one).
MIGRATE_ROUNDS = 50
for smp in (2, 4):

    @case(f"kernel/user-migrate-smp{smp}")
    def _migrate(t, smp=smp):
        q = t.boot(machine(smp))
        out = run_test_program(q, "migrate", str(MIGRATE_ROUNDS), 120)
        want = f"migrate: {MIGRATE_ROUNDS} + {MIGRATE_ROUNDS} rounds passed over {smp} CPUs\n"
        check(want in out, f"migrate did not run {MIGRATE_ROUNDS} rounds on {smp} CPUs:\n{out}")


# Durability: what a program fsyncs (or syncs) is on the disk image when QEMU is killed right
# after; a file written after it, unsynced, is not (the kill does lose what the caches hold).
DURABLE_LINES = 1500  # app/durable.c


def durable_text(how):
    return "".join(f"{how} line {i:05d}\n" for i in range(DURABLE_LINES))


def mtype(img, path):
    r = subprocess.run(["mtype", "-i", img, "::" + path], env=MTOOLS_ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode(errors="replace")


for how in ("fsync", "sync"):

    @case(f"kernel/user-durable-{how}-el1")
    def _durable(t, how=how):
        path = f"/{how}.txt"
        with tempfile.TemporaryDirectory() as d:
            img = make_disk(d)
            q = t.boot(machine(1, img))
            q.send(f"run durable {how} {path}")
            q.expect(rf"^durable: {re.escape(path)} synced by {how}\n")
            q.expect(rf"^durable: {re.escape(path)}\.unsynced written, not synced: pull the plug")
            q.kill()  # no shutdown: only what reached the disk survives
            rc, text = mtype(img, path)
            check(rc == 0 and text == durable_text(how),
                  f"{path} after {how} and a kill: mtype status {rc}, {len(text)} bytes:\n"
                  + text[:300])
            rc, text = mtype(img, path + ".unsynced")
            check(text != durable_text(how),
                  f"{path}.unsynced reached the disk unsynced: the kill did not lose the caches")


CRASHES = [
    ("null", "segmentation fault", "0x0"),
    ("kernel", "segmentation fault", "0xffffff8000000000"),
    ("text", "segmentation fault", None),
    ("exec", "segmentation fault", None),
    ("stack", "segmentation fault", None),
]


@case("kernel/user-crash-survives-el1")
def _crash(t):
    q = t.boot(machine(2))
    for how, what, addr in CRASHES:
        out = q.command(f"run crash {how}")
        m = re.search(CRASH_RE.format(what=what), out, re.M)
        check(m, f"`run crash {how}`: no '{what}' report:\n{out}")
        if addr:
            check(m.group(2) == addr, f"crash {how}: fault address {m.group(2)}, expected {addr}")
        # Exactly one line about it: the program's own line, then the report, nothing more.
        check(out == f"crash: {how}\n" + m.group(0), f"`run crash {how}` printed more:\n{out}")
        check(q.command("run hello after").endswith("hello after\n"), "hello failed after a crash")
    for how in ("illegal", "sysreg"):
        out = q.command(f"run crash {how}")
        check(re.search(r"^pid \d+ \(crash\): illegal instruction at pc 0x[0-9a-f]+\n", out, re.M),
              f"`run crash {how}` printed:\n{out}")
    out = q.command("version")
    check(out.startswith("Avatar 0.1.0 kernel at EL1"), f"the shell is not well:\n{out}")


@case("kernel/user-kill-el1")
def _kill(t):
    q = t.boot(machine(4))
    out = q.command(f"run spin {SPIN_THREADS} &")
    m = re.fullmatch(r"\[(\d+)\] spin\n", out)
    check(m, f"`run spin &` printed:\n{out}")
    pid = int(m.group(1))
    for _ in range(50):
        out = q.command("procs")
        rows = {int(r[0]): r for r in PROCS_ROW_RE.findall(out)}
        if pid in rows and int(rows[pid][4]) == SPIN_THREADS:
            break
    else:
        raise TestFailure(f"procs never showed spin with {SPIN_THREADS} threads:\n{out}")
    check(rows[pid][2] == "spin" and rows[pid][1] == "0" and rows[pid][3] == "live",
          f"procs row for spin: {rows[pid]}")
    # spin says so once all its threads run; wait for it, so it cannot land in kill's output.
    if "threads spinning" not in q.output:
        q.expect(r"spin: \d+ threads spinning\n")
    # The shell (priority 40) answers although four threads spin; kill ends them all.
    check(q.command(f"kill {pid}") == "", "kill printed something")
    for _ in range(50):
        out = q.command("procs")
        if re.search(r"^0 processes; user memory committed 0 of", out, re.M):
            break
    else:
        raise TestFailure(f"spin still listed after kill:\n{out}")
    # The process is gone once its last thread has left it; that thread may still be on its
    # way out of the scheduler (preempted by the shell itself), so give it a few looks.
    for _ in range(50):
        out = q.command("ps")
        if "spin" not in out:
            break
    else:
        raise TestFailure(f"spin threads left in ps:\n{out}")
    out = q.command(f"kill {pid}")
    check(out == f"kill: {pid}: no such process\n", f"second kill printed:\n{out}")
    out = q.command("kill x")
    check(out.startswith("usage: kill"), f"`kill x` printed:\n{out}")


@case("kernel/user-console-input-el1")
def _console(t):
    q = t.boot(machine(1))
    q.send("run cat")
    q.expect(r"run cat\n")
    q.send("hello tty")
    q.expect(r"hello tty\nhello tty\n")  # the echo, then cat's copy
    q.write("\x04")  # ^D: end of file
    q.expect(re.escape(PROMPT))
    q.send("run cat")
    q.expect(r"run cat\n")
    q.write("\x03")  # ^C ends the program that reads
    q.expect(r"\^C\nrun: cat killed by signal 2\n")
    q.expect(re.escape(PROMPT))


@case("kernel/user-programs-from-disk-el1")
def _disk(t):
    build = os.path.join(t.build_dir, "app")
    with tempfile.TemporaryDirectory() as d:
        junk = os.path.join(d, "junk")
        with open(junk, "w") as f:
            f.write("#!/bin/sh\n" + "echo not an ELF\n" * 8)
        truncated = os.path.join(d, "truncated")
        with open(os.path.join(build, "hello"), "rb") as f, open(truncated, "wb") as g:
            g.write(f.read()[:300])
        img = make_disk(d, {
            "greet": os.path.join(build, "hello"),  # on the disk only
            "hello": os.path.join(build, "crash"),  # the disk's hello wins over the built-in one
            "junk": junk,
            "truncated": truncated,
        })
        q = t.boot(machine(1, img))
        out = q.command("run greet x")
        check(re.fullmatch(r"hello from pid \d+: greet x\n", out), f"`run greet` printed:\n{out}")
        out = q.command("run hello")
        check(out.startswith("crash: null\n"), f"/bin/hello on the disk did not win:\n{out}")
        out = q.command("run junk")
        check(out == "run: junk: exec format error: no ELF magic\n", f"`run junk` printed:\n{out}")
        out = q.command("run truncated")
        check(out.startswith("run: truncated: exec format error: "), f"`run truncated`:\n{out}")
        out = q.command("run threads 2 10")  # built in, not on the disk
        check(re.search(r"^threads: \d+ passed, 0 failed$", out, re.M),
              f"built-in threads failed:\n{out}")


@case("kernel/user-run-errors-el1")
def _errors(t):
    q = t.boot(machine(1))
    out = q.command("run nosuch")
    check(out == "run: nosuch: no such file or directory\n", f"`run nosuch` printed:\n{out}")
    out = q.command("run")
    check(out.startswith("usage: run"), f"`run` printed:\n{out}")
    out = q.command("run crash none")
    check(out == "crash: none\ncrash: survived none?\nrun: crash exited with status 1\n",
          f"a failing exit status is not reported:\n{out}")
    check(q.command("procs").startswith("  PID  PPID NAME"), "procs header")


@case("kernel/user-absent-in-hypervisor-el2")
def _hv(t):
    q = t.boot(Config(hv=True, gic=2, smp=1))
    out = q.command("run hello")
    check(out == "unknown command: run (try 'help')\n", f"`run` at EL2 printed:\n{out}")
