"""vmm_isolation.py - what one VM leaves in a physical CPU must not reach another: PMU and debug
registers, breakpoints and watchpoints, EL0's access to the cycle counter, counting at EL2, and
IMPLEMENTATION DEFINED registers (an UNDEF for the guest, not a VM stop).  TestOS's bootargs
pmuprobe=write|read (guest/testos/pmuprobe.c) do the probing."""

import re
import subprocess
import tempfile

from cases import case
from cases.vmm_run import boot, check, guests, mark, testos_cfg, wait_all

PROBES = ("pmuprobe-el0", "pmuprobe-clean", "pmuprobe-debug", "pmuprobe-el2-cycles",
          "pmuprobe-undef")


def qemu_traps_tidcp():
    """QEMU implements HCR_EL2.TIDCP from 8.1 on; before, IMPLEMENTATION DEFINED registers never
    trap to EL2, whatever the hypervisor sets."""
    out = subprocess.run(["qemu-system-aarch64", "--version"], capture_output=True, text=True,
                         check=False).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (8, 1)


for gic in (2, 3):
    @case(f"vmm/pmu-debug-isolation-gic{gic}")
    def _pmu_debug(t, gic=gic):
        """VM A (pmuprobe=write) sets markers in its PMU and debug registers, arms a breakpoint and
        a watchpoint and opens the cycle counter to EL0, then waits; VM B (pmuprobe=read) on the
        same single physical CPU must see none of it; then A must find all of it again."""
        with tempfile.TemporaryDirectory() as d:
            extra = {"pmua": {"guest.cfg": testos_cfg("pmua", "pmuprobe=write", smp=1,
                                                      memory="16M")},
                     "pmub": {"guest.cfg": testos_cfg("pmub", "pmuprobe=read", smp=1,
                                                      memory="16M")}}
            q = boot(t, d, gic, guests(t, extra), smp=1)
            start = mark(q)
            q.command("guest start pmua")
            wait_all(q, [r"\[pmua\] testos: ok pmuprobe-own \(armed:", r"\[pmua\] TESTOS PMUPROBE armed"],
                     start)
            start = mark(q)
            q.command("guest start pmub")
            text = wait_all(q, [r"\[pmub\] TESTOS PMUPROBE done",
                                r"guest pmub: powered off \(PSCI SYSTEM_OFF"], start)
            for p in PROBES + (("pmuprobe-sgi-regs",) if gic == 3 else ()):
                check(re.search(rf"\[pmub\] testos: ok {p} \(", text),
                      f"no '{p}' line from VM B:\n{text[-3000:]}")
            impdef = "S3_1_C15_C2_0" if qemu_traps_tidcp() else "S3_3_C9_C13_2"  # else PMXEVCNTR
            check(re.search(rf"guest pmub: vCPU 0: read of system register {impdef} at PC "
                            r"0x[0-9a-f]+: undefined instruction for the guest \(reported once\)",
                            text), f"no console line naming {impdef}:\n{text[-3000:]}")
            check(len(re.findall(r"guest pmub: vCPU 0: .* \(reported once\)", text)) == 1,
                  f"the UNDEF line came more than once:\n{text[-3000:]}")
            if qemu_traps_tidcp():
                check("[pmub] TESTOS PMUPROBE impdef UNDEF" in text,
                      f"the IMPDEF register did not UNDEF:\n{text[-3000:]}")
            # A kept everything while B ran on its CPU.
            start = mark(q)
            q.send("guest console pmua")
            q.expect(r"\[console: pmua;")
            q.write("\r")
            # It powers off when done, which hands the keyboard back to the shell.
            text = wait_all(q, [r"guest pmua: powered off \(PSCI SYSTEM_OFF",
                                r"\[console: pmua is no longer running\]"], start)
            check(re.search(r"testos: ok pmuprobe-own \(after input:", text)
                  and re.search(r"testos: ok pmuprobe-undef \(", text),
                  f"VM A after VM B ran:\n{text[-3000:]}")
