"""vmm_run.py - VMs running under the hypervisor: TestOS guests side by side on GICv2 and GICv3,
isolation (a bad guest is stopped, the others go on), SYSTEM_OFF of one VM, stop and start again,
consoles, logs and refusals of bad guests."""

import os
import re
import struct
import tempfile
import time

from cases import case
from cases.vmm import host, make_image
from harness import Config, Skip, TestFailure, timeout_scale

GUEST_TIMEOUT = 240  # seconds of host time for a TestOS VM to finish its checks under QEMU
TESTOS_CHECKS_2CPU = 14  # 11 + 3 per secondary vCPU (guest/testos/README.md)


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def testos_bin(t):
    with open(os.path.join(t.build_dir, "guests", "testos", "testos.bin"), "rb") as f:
        return f.read()


def testos_cfg(name, bootargs="", smp=2, memory="64M"):
    cfg = (f"name = {name}\nkernel = /guests/testos/testos.bin\nload_addr = 0x40080000\n"
           f"smp = {smp}\nmemory = {memory}\n")
    return cfg + (f"bootargs = {bootargs}\n" if bootargs else "")


def insn(*words):
    return b"".join(struct.pack("<I", w) for w in words)


# A raw guest that stores x0 to IPA 0x48000000 - beyond its 16 MiB of RAM, where the host keeps
# its own memory - then spins:  movz x1, #0x4800, lsl #16; str x0, [x1]; b .
BAD_WRITE = insn(0xD2A90001, 0xF9000020, 0x14000000)
BAD_CFG = ("name = wild\nkernel = wild.bin\nload_addr = 0x40080000\nsmp = 1\nmemory = 16M\n"
           "on_fault = stop\n")

# A raw guest that takes the external abort of the same store in its own vector table and powers
# off if ESR_EL1, FAR_EL1, ELR_EL1 and SPSR_EL1 are what the Arm ARM says, else resets:
#   adr x1, vectors; msr vbar_el1, x1; isb; movz x1, #0x4800, lsl #16
#   fault: str x0, [x1]; b .
#   vectors + 0x200 (current EL, SP_ELx, synchronous):
#   mrs x2, esr_el1; mov x3, #0x96000050 (EC 0x25, IL, WnR, FSC 0x10); cmp x2, x3; b.ne bad
#   mrs x2, far_el1; cmp x2, x1; b.ne bad; mrs x2, elr_el1; adr x3, fault; cmp x2, x3; b.ne bad
#   mrs x2, spsr_el1; cmp x2, #0x3c5; b.ne bad
#   PSCI SYSTEM_OFF over hvc;  bad: PSCI SYSTEM_RESET over hvc
ABORT_VECTORS = 0x800
ABORT_CHECK = (insn(0x10004001, 0xD518C001, 0xD5033FDF, 0xD2A90001, 0xF9000020, 0x14000000)
               .ljust(ABORT_VECTORS + 0x200, b"\0")
               + insn(0xD5385202, 0xD2800A03, 0xF2B2C003, 0xEB03005F, 0x540001C1, 0xD5386002,
                      0xEB01005F, 0x54000161, 0xD5384022, 0x10FFAF63, 0xEB03005F, 0x540000E1,
                      0xD5384002, 0xF10F145F, 0x54000081, 0x52800100, 0x72B08000, 0xD4000002,
                      0x52800120, 0x72B08000, 0xD4000002))
ABORT_CFG = "name = taker\nkernel = taker.bin\nload_addr = 0x40080000\nsmp = 1\nmemory = 16M\n"


def guests(t, extra=None):
    g = {"testos": {"testos.bin": testos_bin(t)}}
    g.update(extra or {})
    return g


def boot(t, directory, gic, guest_files, smp=2):
    img = make_image(directory, guest_files)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
             "-device", "virtio-blk-device,drive=hd0"]
    return t.boot(Config(hv=True, gic=gic, smp=smp, extra_args=drive))


def wait_all(q, patterns, start, timeout=GUEST_TIMEOUT):
    """Wait until every regex in patterns appears in the console after offset start (any order).

    VM output comes whenever the guest prints, so a line may follow the shell's prompt: the
    patterns are not anchored at the start of a line."""
    limit = timeout * timeout_scale()
    deadline = time.monotonic() + limit
    regexes = [re.compile(p, re.M) for p in patterns]
    while True:
        text = q.output[start:]
        missing = [r.pattern for r in regexes if not r.search(text)]
        if not missing:
            return text
        if re.search(r"TESTOS FAIL|PANIC|panic:", text):
            raise TestFailure(f"failure while waiting for {missing}:\n{text[-3000:]}")
        if time.monotonic() > deadline or not q.running:
            raise TestFailure(f"timed out after {limit:g} s waiting for {missing}")
        time.sleep(0.2)
        q.nudge()


def mark(q):
    return len(q.output)


for gic in (2, 3):
    @case(f"vmm/two-testos-smp2-gic{gic}")
    def _two(t, gic=gic):
        """Two TestOS VMs with 2 vCPUs each on 2 CPUs: both pass all their checks, then power
        off (SYSTEM_OFF stops each VM only: the shell still answers)."""
        with tempfile.TemporaryDirectory() as d:
            q = boot(t, d, gic, guests(t, {"second": {"guest.cfg": testos_cfg("second")}}))
            start = mark(q)
            out = q.command("guest start testos")
            check("guest testos: started (2 vCPUs, 64 MiB)" in out, f"guest start testos:\n{out}")
            out = q.command("guest start second")
            check("guest second: started (2 vCPUs, 64 MiB)" in out, f"guest start second:\n{out}")
            text = wait_all(q, [rf"\[testos\] TESTOS PASS {TESTOS_CHECKS_2CPU} checks$",
                                rf"\[second\] TESTOS PASS {TESTOS_CHECKS_2CPU} checks$",
                                r"guest testos: powered off \(PSCI SYSTEM_OFF from vCPU \d\)$",
                                r"guest second: powered off \(PSCI SYSTEM_OFF from vCPU \d\)$"],
                            start)
            check(re.search(rf"\[testos\] testos: ok dtb \(2 CPUs, GICv{gic}", text, re.M),
                  f"TestOS did not see 2 vCPUs and GICv{gic}:\n{text[-3000:]}")
            out = q.command("guest status")
            check(re.search(r"^testos\s+stopped .*powered off", out, re.M)
                  and re.search(r"^second\s+stopped .*powered off", out, re.M),
                  f"guest status after both powered off:\n{out}")
            out = q.command("version")
            check("Avatar" in out, f"the shell stopped answering:\n{out}")


for gic in (2, 3):
    @case(f"vmm/three-vms-two-cpus-gic{gic}")
    def _three(t, gic=gic):
        """Three 2-vCPU VMs on two physical CPUs: every one makes progress to its result line."""
        with tempfile.TemporaryDirectory() as d:
            extra = {n: {"guest.cfg": testos_cfg(n)} for n in ("vm2", "vm3")}
            q = boot(t, d, gic, guests(t, extra))
            start = mark(q)
            for n in ("testos", "vm2", "vm3"):
                out = q.command(f"guest start {n}")
                check(f"guest {n}: started" in out, f"guest start {n}:\n{out}")
            wait_all(q, [rf"\[{n}\] TESTOS PASS {TESTOS_CHECKS_2CPU} checks$"
                         for n in ("testos", "vm2", "vm3")], start)


for gic in (2, 3):
    @case(f"vmm/isolation-bad-write-gic{gic}")
    def _isolation(t, gic=gic):
        """A guest writing outside its RAM (where the host's memory is) is stopped with a report, and
        another powers itself off; a VM running beside them goes on and still answers its console."""
        with tempfile.TemporaryDirectory() as d:
            extra = {"wild": {"guest.cfg": BAD_CFG, "wild.bin": BAD_WRITE},
                     "echo": {"guest.cfg": testos_cfg("echo", "interactive")}}
            q = boot(t, d, gic, guests(t, extra))
            start = mark(q)
            q.command("guest start echo")
            wait_all(q, [r"\[echo\] TESTOS PASS \d+ checks$", r"\[echo\] TESTOS INTERACTIVE"], start)
            start = mark(q)
            q.command("guest start wild")
            wait_all(q, [r"guest wild: vCPU 0: 8-byte write at IPA 0x48000000: outside its RAM "
                                r"and devices \(ESR 0x[0-9a-f]+, PC 0x40080004\)$"], start)
            # One VM's SYSTEM_OFF stops that VM only.
            start = mark(q)
            q.command("guest start testos")
            wait_all(q, [r"guest testos: powered off \(PSCI SYSTEM_OFF"], start)
            out = q.command("guest status")
            check(re.search(r"^wild\s+stopped", out, re.M) and re.search(r"^echo\s+running", out, re.M)
                  and re.search(r"^testos\s+stopped", out, re.M), f"guest status:\n{out}")
            q.send("guest console echo")
            q.expect(r"\[console: echo; Ctrl-\] back to the shell")
            q.write("still alive\r")
            q.expect(r"TESTOS ECHO still alive")
            q.write("\x1d")
            q.expect(r"\[console: back to the hypervisor shell\]\n")
            q.expect(r"avatar> ")


for gic in (2, 3):
    @case(f"vmm/fault-injects-abort-gic{gic}")
    def _inject(t, gic=gic):
        """By default (on_fault = inject) a store outside RAM and devices becomes a synchronous
        external abort in the guest, with the registers the guest checks itself; it is reported
        once. A guest without a vector table keeps faulting, is not reported again, and stops."""
        with tempfile.TemporaryDirectory() as d:
            extra = {"taker": {"guest.cfg": ABORT_CFG, "taker.bin": ABORT_CHECK},
                     "loop": {"guest.cfg": BAD_CFG.replace("wild", "loop").replace(
                         "on_fault = stop\n", ""), "loop.bin": BAD_WRITE}}
            q = boot(t, d, gic, guests(t, extra))
            start = mark(q)
            q.command("guest start taker")
            text = wait_all(q, [r"guest taker: (powered off|reset) \(PSCI"], start)
            check("guest taker: powered off (PSCI SYSTEM_OFF from vCPU 0)" in text,
                  f"the guest found its abort registers wrong (it reset):\n{text}")
            check("guest taker: vCPU 0: 8-byte write at IPA 0x48000000: outside its RAM and devices: "
                  "external abort injected (PC 0x40080010; not reported again)" in text,
                  f"no report of the injected abort:\n{text}")
            start = mark(q)
            q.command("guest start loop")
            wait_all(q, [r"guest loop: vCPU 0: 8-byte write at IPA 0x48000000: .*external abort "
                         r"injected \(PC 0x40080004"], start)
            out = q.command("guest status")
            check(re.search(r"^loop\s+running", out, re.M), f"guest status:\n{out}")
            out = q.command("guest stop loop", timeout=60)
            check("guest loop: stopped by the shell (guest stop)" in out, f"guest stop loop:\n{out}")
            check(q.output[start:].count("external abort injected") == 1,
                  f"the abort was reported more than once:\n{q.output[start:]}")


for gic in (2, 3):
    @case(f"vmm/stop-start-log-gic{gic}")
    def _stop_start(t, gic=gic):
        """guest stop of a running VM, then guest start of the same VM; its log keeps its lines."""
        with tempfile.TemporaryDirectory() as d:
            q = boot(t, d, gic, guests(t, {"echo": {"guest.cfg": testos_cfg("echo", "interactive")}}))
            for round_ in range(2):
                start = mark(q)
                out = q.command("guest start echo")
                check("guest echo: started" in out, f"round {round_}: guest start echo:\n{out}")
                wait_all(q, [r"\[echo\] TESTOS INTERACTIVE"], start)
                out = q.command("guest start echo")
                check("guest echo: already running" in out, f"second start while running:\n{out}")
                out = q.command("guest status")
                check(re.search(r"^echo\s+running\s+2 vCPUs", out, re.M)
                      and re.search(r"^  vcpu0 \S+\s+cpu", out, re.M)
                      and re.search(r"^  vcpu1 ", out, re.M), f"guest status:\n{out}")
                out = q.command("guest log echo")
                check(re.search(r"\[echo\] TESTOS PASS \d+ checks$", out, re.M),
                      f"guest log echo:\n{out}")
                out = q.command("guest stop echo", timeout=60)
                check("guest echo: stopped by the shell (guest stop)" in out, f"guest stop:\n{out}")
                out = q.command("guest stop echo")
                check("guest echo: not running" in out, f"stopping a stopped VM:\n{out}")


@case("vmm/refusals")
def _refusals(t):
    """Starting a guest whose image is missing or malformed is refused with a message."""
    with tempfile.TemporaryDirectory() as d:
        extra = {"missing": {"guest.cfg": "kernel = nothere.bin\n"},
                 "short": {"guest.cfg": "name = shortimg\nkernel = short.img\n",
                           "short.img": b"MZ" + bytes(100)}}
        q = boot(t, d, 2, guests(t, extra))
        out = q.command("guest start missing")
        check(re.search(r"guest missing: kernel /guests/missing/nothere\.bin: no such file", out,
                        re.M) and "not started" in out, f"guest start missing:\n{out}")
        out = q.command("guest start nosuch")
        check("guest: no guest 'nosuch'" in out, f"guest start nosuch:\n{out}")
        out = q.command("guest status")
        check("no VMs" in out, f"a refused guest left a VM behind:\n{out}")


# A raw guest that asks for PSCI SYSTEM_RESET over hvc, and so restarts for ever:
#   movz w0, #0x9; movk w0, #0x8400, lsl #16; hvc #0; b .
RESET_LOOP = insn(0x52800120, 0x72B08000, 0xD4000002, 0x14000000)
RESET_CFG = "name = again\nkernel = again.bin\nload_addr = 0x40080000\nsmp = 1\nmemory = 8M\n"


for gic in (2, 3):
    @case(f"vmm/system-reset-restarts-gic{gic}")
    def _reset(t, gic=gic):
        """SYSTEM_RESET restarts that VM (memory and vCPUs built again) while another keeps running;
        guest stop ends the cycle."""
        with tempfile.TemporaryDirectory() as d:
            extra = {"again": {"guest.cfg": RESET_CFG, "again.bin": RESET_LOOP},
                     "echo": {"guest.cfg": testos_cfg("echo", "interactive")}}
            q = boot(t, d, gic, guests(t, extra))
            start = mark(q)
            q.command("guest start echo")
            wait_all(q, [r"\[echo\] TESTOS INTERACTIVE"], start)
            start = mark(q)
            q.command("guest start again")
            text = wait_all(q, [r"guest again: reset \(PSCI SYSTEM_RESET from vCPU 0\)\n"
                                r"(.|\n)*guest again: restarted\n(.|\n)*guest again: restarted\n"
                                r"(.|\n)*guest again: restarted\n"], start)
            check(text.count("guest again: restarted") >= 3, f"fewer than 3 restarts:\n{text}")
            out = q.command("guest stop again", timeout=60)
            check("guest again: stopped by the shell (guest stop)" in out, f"guest stop again:\n{out}")
            q.send("guest console echo")
            q.expect(r"\[console: echo;")
            q.write("after resets\r")
            q.expect(r"TESTOS ECHO after resets")
            q.write("\x1d")
            q.expect(r"\[console: back to the hypervisor shell\]\n")
            q.expect(r"avatar> ")


@case("vmm/nimbos-contract-testos")
def _nimbos_like(t):
    """The NimbOS-like TestOS build as the built-in nimbos guest: a GICv2 view, the EL1 physical
    timer (PPI 30), no device tree, SYSTEM_OFF over hvc - docs/design.md, "The NimbOS contract"."""
    with open(os.path.join(t.build_dir, "guests", "testos", "testos-nimbos.bin"), "rb") as f:
        nimbos_like = f.read()
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 2, guests(t, {"nimbos": {"nimbos.bin": nimbos_like}}))
        start = mark(q)
        out = q.command("guest start nimbos")
        check("guest nimbos: started (1 vCPU, 128 MiB)" in out, f"guest start nimbos:\n{out}")
        wait_all(q, [r"\[nimbos\] TESTOS PASS 6 checks",
                     r"guest nimbos: powered off \(PSCI SYSTEM_OFF from vCPU 0\)"], start)


@case("vmm/nimbos-upstream")
def _nimbos(t):
    """An unmodified upstream nimbos.bin (usertests build): the user's at guest/nimbos/nimbos.bin,
    else the team's shared fixture beside the repository (../shared/guests/nimbos/nimbos.bin); it
    must finish its user tests."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    candidates = [os.path.join(root, "guest", "nimbos", "nimbos.bin"),
                  os.path.join(os.path.dirname(root), "shared", "guests", "nimbos", "nimbos.bin")]
    path = next((p for p in candidates if os.path.exists(p)), None)
    if not path:
        raise Skip("no nimbos.bin at guest/nimbos/ (build NimbOS's usertests and put it there) "
                   "nor at ../shared/guests/nimbos/")
    with open(path, "rb") as f:
        nimbos = f.read()
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 2, guests(t, {"nimbos": {"nimbos.bin": nimbos}}))
        start = mark(q)
        q.command("guest start nimbos")
        wait_all(q, [r"\[nimbos\] .*usertests passed!"], start, timeout=600)


@case("vmm/console-switch")
def _console_switch(t):
    """guest console gives the keyboard to one VM; Ctrl-T n moves it to the next; focus mode
    shows only the focused VM's output."""
    with tempfile.TemporaryDirectory() as d:
        extra = {n: {"guest.cfg": testos_cfg(n, "interactive", smp=1, memory="16M")}
                 for n in ("left", "right")}
        q = boot(t, d, 3, guests(t, extra))
        start = mark(q)
        q.command("guest start left")
        q.command("guest start right")
        wait_all(q, [r"\[left\] TESTOS INTERACTIVE", r"\[right\] TESTOS INTERACTIVE"], start)
        q.send("guest console left")
        q.expect(r"\[console: left;")
        q.write("one\r")
        q.expect(r"TESTOS ECHO one")
        q.write("\x14n")
        q.expect(r"\[console: right;")
        q.write("two\r")
        q.expect(r"TESTOS ECHO two")
        q.write("\x1d")
        q.expect(r"\[console: back to the hypervisor shell\]\n")
        q.expect(r"avatar> ")
        out = q.command("guest log right")
        check("[right] TESTOS ECHO two" in out and "ECHO one" not in out,
              f"right's log:\n{out}")
        out = q.command("guest log left")
        check("[left] TESTOS ECHO one" in out and "ECHO two" not in out, f"left's log:\n{out}")
