"""vmm_testos.py - TestOS, the guest Avatar runs, on bare QEMU (no hypervisor): its self-checks on
GICv2 and GICv3 with 1 and 4 CPUs, started at EL2 (smc conduit), the NimbOS-like build, the bench and
interactive modes, and a broken device tree.  Inside an Avatar VM it must behave the same way."""

import os
import re
import subprocess
import tempfile

from cases import case
from harness import BOOT_TIMEOUT, Config, Skip, TestFailure

RESULT_RE = r"^TESTOS (PASS (\d+) checks|FAIL .*)\n"
BENCH_RE = re.compile(r"^TESTOS BENCH (\S+) (\d+)\n", re.M)
# Checks in the device-tree build: dtb, vectors-svc, vectors-brk, mmu, gic-id, psci-version,
# psci-features, memory, timer-virt, timer-phys, smp; then per secondary CPU cpu-online,
# cpu-timer-virt and sgi; uart-rx only when input is waiting.
BASE_CHECKS = 11
PER_SECONDARY = 3
# NimbOS-like build: vectors-svc, vectors-brk, mmu, gic-id, memory, timer-phys.
NIMBOS_CHECKS = 6
BENCHES = ("gicd_typer_read", "pl011_fr_read", "sysreg_trap_read", "vtimer_round_trip",
           "sgi_self_round_trip", "vtimer_irq_latency", "wfi_wake_100us", "wfi_wake_1ms",
           "sgi_round_trip")
# Bare QEMU executes each of these as the single instruction it is.
SINGLE_INSTRUCTION = ("hvc_psci_version", "smc_psci_version", "gicd_typer_read", "pl011_fr_read",
                      "sysreg_trap_read")


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def expected_checks(smp):
    return BASE_CHECKS + PER_SECONDARY * (smp - 1)


def testos(t, gic=2, smp=1, nimbos=False, hv=False, mem="256M", extra_args=()):
    """A Config that boots TestOS itself with -kernel (hv: QEMU starts it at EL2)."""
    name = "testos-nimbos.bin" if nimbos else "testos.bin"
    return Config(hv=hv, gic=gic, smp=smp, mem=mem, extra_args=list(extra_args),
                  binary_path=os.path.join(t.build_dir, "guests", "testos", name))


def result(q):
    """Wait for TestOS's one result line; return the number of checks it passed."""
    m = q.expect(RESULT_RE, BOOT_TIMEOUT)
    check(m.group(2) is not None, f"TestOS reported '{m.group(1)}'")
    return int(m.group(2))


def powers_off(q):
    """QEMU must exit by itself (PSCI SYSTEM_OFF) with status 0."""
    status = q.wait_exit()
    check(status == 0, f"QEMU exited with status {status} after TestOS")


for gic in (2, 3):
    for smp in (1, 4):

        @case(f"vmm/testos-bare-gic{gic}-smp{smp}")
        def _bare(t, gic=gic, smp=smp):
            q = t.qemu(testos(t, gic, smp))
            n = result(q)
            check(n == expected_checks(smp),
                  f"TestOS passed {n} checks, expected {expected_checks(smp)} for {smp} CPUs")
            out = q.output
            check(f"GICv{gic}," in out, f"TestOS did not find GICv{gic} in the DTB")
            online = re.findall(r"^testos: ok cpu-online \(cpu(\d+) ", out, re.M)
            check(sorted(map(int, online)) == list(range(1, smp)),
                  f"secondaries reported: {online}, expected cpu1..cpu{smp - 1}")
            powers_off(q)

    @case(f"vmm/testos-bare-el2-smc-gic{gic}-smp2")
    def _el2(t, gic=gic):
        # virtualization=on: QEMU starts TestOS at EL2 and its DTB names the smc conduit.
        q = t.qemu(testos(t, gic, 2, hv=True))
        q.expect(r"^testos: ok dtb \(.*PSCI over smc\)\n", BOOT_TIMEOUT)
        n = result(q)
        check(n == expected_checks(2), f"TestOS passed {n} checks, expected {expected_checks(2)}")
        powers_off(q)

    @case(f"vmm/testos-bare-bench-gic{gic}-smp2")
    def _bench(t, gic=gic):
        q = t.qemu(testos(t, gic, 2, extra_args=["-append", "bench"]))
        n = result(q)
        check(n == expected_checks(2), f"TestOS passed {n} checks, expected {expected_checks(2)}")
        q.expect(r"^TESTOS BENCH done\n", BOOT_TIMEOUT)
        figures = {m.group(1): int(m.group(2)) for m in BENCH_RE.finditer(q.output)}
        names = ("hvc_psci_version",) + BENCHES
        missing = [b for b in names if b not in figures]
        check(not missing, f"no BENCH line for {missing}; got {figures}")
        for b in SINGLE_INSTRUCTION:
            if b in figures:
                check(1 <= figures[b] <= 2,
                      f"{b}: {figures[b]} instructions bare, expected 1 (loop overhead not "
                      f"subtracted right?)")
        powers_off(q)


@case("vmm/testos-bare-nimbos-gic2")
def _nimbos(t):
    # NimbOS's contract: no DTB, GICv2, EL1 physical timer, SYSTEM_OFF over hvc; 16-128 MiB.
    q = t.qemu(testos(t, 2, 1, nimbos=True, mem="128M"))
    q.expect(r"^TestOS 0\.1 \(NimbOS-like", BOOT_TIMEOUT)
    n = result(q)
    check(n == NIMBOS_CHECKS, f"NimbOS-like TestOS passed {n} checks, expected {NIMBOS_CHECKS}")
    check("testos: ok timer-phys (cpu0: PPI 30," in q.output, "the physical timer was not PPI 30")
    check("timer-virt" not in q.output, "the NimbOS-like build used the virtual timer")
    powers_off(q)


@case("vmm/testos-bare-nimbos-refuses-gic3")
def _nimbos_gic3(t):
    # Its fixed GICv2 view does not exist on a GICv3 machine: a clear FAIL, not a crash.
    q = t.qemu(testos(t, 3, 1, nimbos=True, mem="128M"))
    q.expect(r"^TESTOS FAIL gic-id: GICD_PIDR2 0x[0-9a-f]+: ArchRev \d+ on a GICv2\n",
             BOOT_TIMEOUT)
    powers_off(q)


@case("vmm/testos-bare-interactive-gic3-smp2")
def _interactive(t):
    q = t.qemu(testos(t, 3, 2, extra_args=["-append", "interactive"]))
    result(q)
    q.expect(r"^TESTOS INTERACTIVE", BOOT_TIMEOUT)
    q.send("hello testos")
    q.expect(r"^TESTOS ECHO hello testos\n")
    q.send("poweroff")
    q.expect(r"^TESTOS ECHO poweroff\n")
    powers_off(q)


@case("vmm/testos-bare-uart-rx-gic2")
def _uart_rx(t):
    # Input typed before TestOS reaches its last check is taken by the receive interrupt.
    q = t.qemu(testos(t, 2, 1))
    q.write("x")
    n = result(q)
    check("testos: ok uart-rx (" in q.output, "no uart-rx check with input waiting")
    check(n == expected_checks(1) + 1, f"TestOS passed {n} checks, expected {expected_checks(1) + 1}")
    powers_off(q)


@case("vmm/testos-bare-dtb-without-timer")
def _bad_dtb(t):
    # QEMU's own DTB with the timer's compatible string spoilt: TestOS must say what is missing.
    with tempfile.TemporaryDirectory() as tmp:
        good, bad = os.path.join(tmp, "virt.dtb"), os.path.join(tmp, "bad.dtb")
        dump = subprocess.run(
            ["qemu-system-aarch64", "-M", f"virt,gic-version=2,dumpdtb={good}", "-cpu",
             "cortex-a72", "-m", "256M", "-nographic", "-nic", "none"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        if dump.returncode != 0 or not os.path.isfile(good):
            raise Skip(f"QEMU cannot dump its DTB: {dump.stderr.decode(errors='replace')}")
        with open(good, "rb") as f:
            blob = f.read()
        check(b"arm,armv8-timer" in blob, "QEMU's DTB has no arm,armv8-timer compatible")
        with open(bad, "wb") as f:
            f.write(blob.replace(b"arm,armv8-timer", b"arm,armv8-tixer"))
        q = t.qemu(testos(t, 2, 1, extra_args=["-dtb", bad]))
        q.expect(r"^TESTOS FAIL dtb: no arm,armv8-timer node with 4 interrupts\n", BOOT_TIMEOUT)
        powers_off(q)
