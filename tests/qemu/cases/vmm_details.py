"""vmm_details.py - guest-facing details: more guests than a small fixed table holds and long guest
names (every manifest listed, the last ones start, names that differ only at the end keep their
console lines apart); a stage-2 fault on a guest's own table walk reported as such."""

import re
import tempfile

from cases import case
from cases.vmm import list_rows
from cases.vmm_run import boot, check, guests, mark, testos_cfg, wait_all

MANY = 40  # file manifests, beside the 3 built-in guests (the registry once stopped at 32)
# 31 characters, the longest a guest name may be; they differ only in the last two.
LONG = "a-guest-name-of-31-characters{:02d}"


@case("vmm/many-guests-long-names")
def _many(t):
    names = [LONG.format(i) for i in range(MANY)]
    check(all(len(n) == 31 for n in names), f"test names are not 31 characters: {names[0]}")
    with tempfile.TemporaryDirectory() as d:
        extra = {f"g{i:02d}": {"guest.cfg": testos_cfg(n, smp=1, memory="16M")}
                 for i, n in enumerate(names)}
        q = boot(t, d, 3, guests(t, extra))
        out = q.command("guest list", timeout=60)
        rows = list_rows(out)
        missing = [n for n in names if n not in rows]
        check(not missing, f"guest list lacks {missing}:\n{out}")
        check(re.search(rf"^{MANY + 3} guests", out, re.M), f"no summary of {MANY + 3}:\n{out}")
        start = mark(q)
        for n in names[-2:]:
            out = q.command(f"guest start {n}")
            check(f"guest {n}: started" in out, f"guest start {n}:\n{out}")
        wait_all(q, [rf"\[{re.escape(n)}\] TESTOS PASS \d+ checks$" for n in names[-2:]]
                 + [rf"guest {re.escape(n)}: powered off" for n in names[-2:]], start)


# A raw guest that turns its MMU on with TTBR0_EL1 at IPA 0x48000000, beyond its 16 MiB of RAM:
# the next instruction fetch walks a table that is not there (a stage-2 fault with ISS.S1PTW).
#   movz x1, #0x4800, lsl #16; msr ttbr0_el1, x1; mov x1, #0x19 (T0SZ 25); msr tcr_el1, x1; isb
#   mrs x1, sctlr_el1; orr x1, x1, #1; msr sctlr_el1, x1; isb; b .
S1PTW_GUEST = b"".join(w.to_bytes(4, "little") for w in (
    0xd2a90001, 0xd5182001, 0xd2800321, 0xd5182041, 0xd5033fdf, 0xd5381001, 0xb2400021,
    0xd5181001, 0xd5033fdf, 0x14000000))
S1PTW_CFG = "name = walker\nkernel = w.bin\nload_addr = 0x40080000\nsmp = 1\nmemory = 16M\n"


@case("vmm/stage1-walk-fault-report")
def _s1ptw(t):
    """A stage-2 fault on the guest's own table walk is reported as one, with the table entry's
    IPA page from HPFAR_EL2 (not FAR's page offset added to it)."""
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 2, guests(t, {"walker": {"guest.cfg": S1PTW_CFG, "w.bin": S1PTW_GUEST}}),
                 smp=1)
        start = mark(q)
        q.command("guest start walker")
        wait_all(q, [r"guest walker: vCPU 0: stage-1 table walk for the instruction fetch of VA "
                     r"0x40080020: table entry in IPA page 0x48000000, outside its memory "
                     r"\(ESR 0x[0-9a-f]+, PC 0x40080020\)$"], start)


@case("vmm/psci-cpu-suspend")
def _suspend(t):
    """PSCI CPU_SUSPEND: a standby state returns once the wake-up interrupt is pending (as WFI
    does), a power-down state comes back at its entry point with context_id in x0."""
    with tempfile.TemporaryDirectory() as d:
        cfg = testos_cfg("susp", "cpususpend", smp=1, memory="16M")
        q = boot(t, d, 3, guests(t, {"susp": {"guest.cfg": cfg}}), smp=1)
        start = mark(q)
        q.command("guest start susp")
        wait_all(q, [r"\[susp\] testos: ok cpu-suspend \(standby returned after the wake-up; "
                     r"power-down resumed at the entry point with the context_id\)$",
                     r"guest susp: powered off"], start)
