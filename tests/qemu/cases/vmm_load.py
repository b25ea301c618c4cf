"""vmm_load.py - the hypervisor's core goes on while a VM loads: a guest that reloads a 112 MiB
initrd from host.img on every one of its resets, in its own vCPU thread, beside TestOS started and
run to completion again and again (the disk waits sleep, no lock is held spinning across I/O)."""

import os
import tempfile

from cases import case
from cases.vmm import make_image
from cases.vmm_run import RESET_LOOP, TESTOS_CHECKS_2CPU, mark, testos_bin, wait_all
from harness import Config, TestFailure

BIG_INITRD_MIB = 112
TESTOS_RUNS = 30
# The reset loop guest of vmm_run.py with a big initrd: every SYSTEM_RESET builds the VM again,
# reloading all of it from the disk in that VM's vCPU thread.
LOADER_CFG = ("name = loader\nkernel = again.bin\nload_addr = 0x40080000\nsmp = 1\n"
              f"memory = 160M\ninitrd = /guests/loader/big.bin\n")


def check(cond, message):
    if not cond:
        raise TestFailure(message)


@case("vmm/testos-beside-a-loading-vm-gic2")
def _beside_loader(t):
    """TestOS, started 30 times one after the other, passes all its checks every time (both of
    its vCPUs come online and run) while another VM reloads a 112 MiB initrd over and over."""
    with tempfile.TemporaryDirectory() as d:
        files = {"testos": {"testos.bin": testos_bin(t)},
                 "loader": {"guest.cfg": LOADER_CFG, "again.bin": RESET_LOOP,
                            "big.bin": os.urandom(BIG_INITRD_MIB << 20)}}
        img = make_image(d, files, size_mib=256)
        drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
                 "-device", "virtio-blk-device,drive=hd0"]
        # On the host clock: under icount, virtual time jumps to the next deadline whenever
        # every CPU waits for the disk, so `guest stop`'s 5 s bound would pass during one read.
        q = t.boot(Config(hv=True, gic=2, smp=2, mem="1G", extra_args=drive, icount=False))
        start = mark(q)
        out = q.command("guest start loader", timeout=300)
        check("guest loader: started (1 vCPU, 160 MiB)" in out, f"guest start loader:\n{out}")
        wait_all(q, [r"guest loader: restarted"], start)
        loop_start = mark(q)
        for run in range(TESTOS_RUNS):
            start = mark(q)
            out = q.command("guest start testos", timeout=300)
            check("guest testos: started (2 vCPUs, 64 MiB)" in out,
                  f"run {run + 1}: guest start testos:\n{out}")
            wait_all(q, [rf"\[testos\] TESTOS PASS {TESTOS_CHECKS_2CPU} checks$",
                         r"guest testos: powered off"], start)
        # The loads really overlapped the runs: most TestOS results came while the loader was
        # between its reset and the end of its reload.
        loading, overlapped = False, 0
        for line in q.output[loop_start:].splitlines():
            if "guest loader: reset" in line:
                loading = True
            elif "guest loader: restarted" in line:
                loading = False
            elif "[testos] TESTOS PASS" in line:
                overlapped += loading
        check(overlapped >= TESTOS_RUNS // 2,
              f"only {overlapped} of {TESTOS_RUNS} TestOS runs ended while the big initrd loaded")
        start = mark(q)
        wait_all(q, [r"guest loader: restarted"], start)  # and it still goes on
        out = q.command("guest stop loader", timeout=60)
        check("stopped by the shell" in out, f"guest stop loader:\n{out}")
