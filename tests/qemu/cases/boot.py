"""boot.py - boot in every mode, GIC and CPU count; the shell's basic commands, poweroff and panic."""

import dataclasses
import itertools
import re
import time

from cases import case
from harness import BOOT_TIMEOUT, PROMPT, SUMMARY_RE, Config, TestFailure, timeout_scale

# A line may carry more fields after these (the kernel appends IPI counters).
CPU_LINE_RE = re.compile(r"^cpu(\d+): online mpidr 0x([0-9a-fA-F]+) ticks (\d+)\b", re.M)
CPUS_TOTAL_RE = re.compile(r"^(\d+)/(\d+) CPUs online$", re.M)
REQUIRED_COMMANDS = {"cpus", "mem", "uptime", "poweroff", "panic-test", "version", "help"}
CPUS_SECONDS = 20  # host-clock budget for every CPU's tick count to move
BANNER = {1: "Avatar 0.1.0 kernel at EL1", 2: "Avatar 0.1.0 hypervisor at EL2"}

MATRIX = [Config(hv=hv, gic=gic, smp=smp)
          for hv, gic, smp in itertools.product((False, True), (2, 3), (1, 4))]


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def parse_cpus(out, smp):
    """Parse `cpus` output into {cpu: ticks}, checking every CPU is listed once and online."""
    ticks, mpidrs = {}, set()
    for m in CPU_LINE_RE.finditer(out):
        cpu = int(m.group(1))
        check(cpu not in ticks, f"cpu{cpu} listed twice:\n{out}")
        ticks[cpu] = int(m.group(3))
        mpidrs.add(int(m.group(2), 16))
    check(sorted(ticks) == list(range(smp)),
          f"expected cpu0..cpu{smp - 1} online, got {sorted(ticks)}:\n{out}")
    check(len(mpidrs) == smp, f"MPIDRs are not distinct:\n{out}")
    total = CPUS_TOTAL_RE.search(out)
    check(total is not None, f"no '<n>/<m> CPUs online' line in:\n{out}")
    check(total.group(0) == f"{smp}/{smp} CPUs online",
          f"expected '{smp}/{smp} CPUs online', got '{total.group(0)}'")
    return ticks


for cfg in MATRIX:

    @case(f"boot/banner-{cfg.tag}")
    def _banner(t, cfg=cfg):
        q = t.qemu(cfg)
        # Whole lines (up to the newline): the console may deliver a line in pieces.
        first = q.expect(r"^(Avatar 0\.1\.0 .*)\n", BOOT_TIMEOUT).group(1)
        check(first == BANNER[cfg.el], f"banner is '{first}', expected '{BANNER[cfg.el]}'")
        summary = q.expect(r"^(boot: .*)\n", BOOT_TIMEOUT).group(1)
        m = re.fullmatch(SUMMARY_RE, summary)
        check(m is not None, f"malformed summary '{summary}'")
        el, online, total, gic, mib = (int(x) for x in m.groups())
        check(el == cfg.el, f"summary says EL{el}, expected EL{cfg.el}")
        check((online, total) == (cfg.smp, cfg.smp),
              f"summary says {online}/{total} CPUs online, expected {cfg.smp}/{cfg.smp}")
        check(gic == cfg.gic, f"summary says GICv{gic}, expected GICv{cfg.gic}")
        check(mib == cfg.mem_mib, f"summary says {mib} MiB RAM, expected {cfg.mem_mib}")
        q.expect(re.escape(PROMPT), BOOT_TIMEOUT)

    @case(f"boot/cpus-{cfg.tag}")
    def _cpus(t, cfg=cfg):
        # QEMU 7.2's icount sometimes stops warping virtual time over idle stretches after
        # console input, which would freeze the tick; this case asks whether every CPU's timer
        # ticks, so it runs on the host clock instead and polls (bounded) until all have moved.
        live = dataclasses.replace(cfg, icount=False)
        q = t.boot(live)
        before = parse_cpus(q.command("cpus"), cfg.smp)
        deadline = time.monotonic() + CPUS_SECONDS * timeout_scale()
        while True:
            after = parse_cpus(q.command("cpus"), cfg.smp)
            stuck = [cpu for cpu in range(cfg.smp) if after[cpu] <= before[cpu]]
            if not stuck:
                return
            if time.monotonic() > deadline:
                raise TestFailure("ticks did not grow in %d s of cpus runs: %s" % (
                    CPUS_SECONDS, ", ".join(f"cpu{cpu} {before[cpu]} then {after[cpu]}"
                                            for cpu in stuck)))


for el in (1, 2):
    base = Config(hv=(el == 2))

    @case(f"boot/poweroff-el{el}")
    def _poweroff(t, base=base):
        q = t.boot(base)
        q.send("poweroff")
        q.expect(r"powering off")
        status = q.wait_exit(30)
        check(status == 0, f"QEMU exited with status {status}, expected 0")

    @case(f"boot/panic-el{el}")
    def _panic(t, base=base):
        q = t.boot(base)
        q.allow_panic = True
        q.send("panic-test")
        start = q.expect(r"PANIC:").start()
        end = q.expect(r"system halted").end()
        report = q.output[start:end]
        for reg in ("ESR", "FAR", "ELR"):
            check(re.search(rf"\b{reg}\w*\W+(0x)?[0-9a-fA-F]+\b", report),
                  f"no {reg} value in the panic report")
        missing = [f"x{i}" for i in range(31) if not re.search(rf"\bx{i}\b", report)]
        check(not missing, f"registers missing from the panic report: {' '.join(missing)}")
        check("backtrace:" in report, "no 'backtrace:' in the panic report")
        check(q.running, "QEMU exited after the panic; the system should halt, not power off")

    # W^X: a store into kernel text and a jump into kernel data must both take permission
    # faults (fault status 0b0011xx: permission fault at level 0-3, Arm ARM D17.2.40).
    for what, ec in (("text", 0x25), ("data", 0x21)):

        @case(f"boot/wx-{what}-el{el}")
        def _wx(t, base=base, what=what, ec=ec):
            q = t.boot(base)
            q.allow_panic = True
            q.send(f"panic-test {what}")
            m = q.expect(r"ESR_EL\d 0x([0-9a-f]+) ")
            esr = int(m.group(1), 16)
            check(esr >> 26 == ec, f"ESR 0x{esr:x}: class 0x{esr >> 26:x}, expected 0x{ec:x}")
            check(esr & 0x3c == 0x0c, f"ESR 0x{esr:x}: not a permission fault")
            q.expect(r"system halted")
            check("did not fault" not in q.output, "the W^X violation went through")

    @case(f"boot/version-el{el}")
    def _version(t, base=base):
        q = t.boot(base)
        out = q.command("version")
        check(re.search(r"^Avatar 0\.1\.0 ", out, re.M), f"version printed:\n{out}")

    @case(f"boot/line-editing-el{el}")
    def _line_editing(t, base=base):
        q = t.boot(base)
        for typed in ("verx\x7fsion", "vex\x08rsion", "xx\x7f\x7fversion"):
            out = q.command(typed)
            check("unknown command" not in out, f"{typed!r} was not edited into 'version':\n{out}")
            check(re.search(r"^Avatar 0\.1\.0 ", out, re.M), f"{typed!r} printed:\n{out}")

    @case(f"boot/unknown-command-el{el}")
    def _unknown(t, base=base):
        q = t.boot(base)
        out = q.command("frobnicate")
        check(re.search(r"^unknown command: frobnicate\b", out, re.M), f"printed:\n{out}")

    @case(f"boot/help-el{el}")
    def _help(t, base=base):
        q = t.boot(base)
        out = q.command("help")
        listed = set(re.findall(r"^  (\S+) {2,}\S", out, re.M))  # names padded to a column
        missing = REQUIRED_COMMANDS - listed
        check(not missing, f"help does not list {sorted(missing)}:\n{out}")

    @case(f"boot/uptime-el{el}")
    def _uptime(t, base=base):
        q = t.boot(base)
        out = q.command("uptime")
        m = re.search(r"^uptime: (\d+) ns; first prompt at (\d+) ns; CPUs idle (\d+) ns$", out,
                      re.M)
        check(m, f"uptime printed:\n{out}")
        now, first, idle = int(m.group(1)), int(m.group(2)), int(m.group(3))
        check(0 < first < now, f"expected 0 < first prompt ({first}) < uptime ({now})")
        # The CPUs cannot have slept longer than they have been up (under icount a sleep may
        # take no virtual time at all: idle can be 0).
        check(0 <= idle < now * base.smp, f"idle {idle} ns, uptime {now} ns, {base.smp} CPUs")

    @case(f"boot/mem-el{el}")
    def _mem(t, el=el):
        # Not the default size, so a hard-coded 512 MiB would show.
        q = t.boot(Config(hv=(el == 2), mem="384M"))
        check(q.summary.group(5) == "384", f"summary says {q.summary.group(5)} MiB RAM, expected 384")
        out = q.command("mem")
        m = re.search(r"RAM: (\d+) MiB", out)
        check(m, f"mem printed no 'RAM: <N> MiB':\n{out}")
        check(m.group(1) == "384", f"mem says RAM: {m.group(1)} MiB, expected 384")


@case("boot/hv-needs-el2")
def _hv_needs_el2(t):
    """The hypervisor build on a machine without EL2 explains itself instead of hanging silently."""
    cfg = Config(hv=True, gic=2, smp=1, build_dir=t.build_dir)
    cfg_no_el2 = Config(hv=False, gic=2, smp=1, binary_path=cfg.binary)
    q = t.qemu(cfg_no_el2)
    q.expect(r"Avatar hypervisor: started below EL2; run QEMU with -M virt,virtualization=on")
