"""linux_io.py - the Linux guest and the host's disk path: `guest start` costs the same whichever
CPU the shell runs on (the disk's completion interrupt wakes a waiter on any CPU), and a soak of
two Linux VMs writing, reading back and verifying their virtio disks while TestOS restarts and
the shell answers. AVATAR_SOAK_SECONDS makes the soak longer (default 120 s of host time)."""

import os
import re
import tempfile
import time

from cases import case
from cases.linux import DETERMINISTIC, LINUX_TIMEOUT, READY, attach, detach, linux_files, sh
from cases.vmm import make_image
from cases.vmm_run import TESTOS_CHECKS_2CPU, mark, testos_bin, testos_cfg, wait_all
from harness import Config, TestFailure

STARTED_RE = r"guest linux: started \(2 vCPUs, 128 MiB\) in (\d+) ms"
SOAK_SECONDS = int(os.environ.get("AVATAR_SOAK_SECONDS", "120"))
SOAK_MIB = 8  # written, read back and compared per round


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def boot(t, directory, gic, guests, size_mib=64, icount=True):
    img = make_image(directory, guests, size_mib)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
             "-device", "virtio-blk-device,drive=hd0"]
    return t.boot(Config(hv=True, gic=gic, smp=2, extra_args=drive + DETERMINISTIC,
                         icount=icount))


for gic in (2, 3):
    @case(f"linux/start-from-either-cpu-gic{gic}")
    def _either_cpu(t, gic=gic):
        """`guest start linux` with the shell pinned to CPU 0, then to CPU 1, three times each: each
        loads the kernel and initramfs (about 40 MiB); the slower CPU's best start takes at most
        twice the faster one's. The disk interrupt goes to CPU 0; a shell on CPU 1 used to notice
        its completions only at its next tick, 50-100 times slower. On the host clock: under
        icount an idle wait for the disk costs whatever is left of the tick, on either CPU."""
        with tempfile.TemporaryDirectory() as d:
            q = boot(t, d, gic, {"linux": linux_files(t)}, icount=False)
            times = {}
            for cpu in (0, 1) * 3:
                out = q.command(f"pin shell {cpu}")
                check(re.search(rf"^pin: thread \d+ may run on 0x0{1 << cpu}$", out, re.M),
                      f"pin shell {cpu}:\n{out}")
                start = mark(q)
                out = q.command("guest start linux", timeout=LINUX_TIMEOUT)
                m = re.search(STARTED_RE, out)
                check(m, f"guest start linux on CPU {cpu}:\n{out}")
                times.setdefault(cpu, []).append(int(m.group(1)))
                wait_all(q, [r"\[linux\] .*Booting Linux"], start, LINUX_TIMEOUT)  # it runs
                out = q.command("guest stop linux", timeout=60)
                check("stopped by the shell" in out, f"guest stop linux:\n{out}")
            best = {cpu: min(v) for cpu, v in times.items()}
            fast, slow = min(best.values()), max(best.values())
            check(slow <= 2 * fast, f"guest start linux took {times} ms from CPU 0 / CPU 1")


SOAK_LOOP = (
    "i=0; while true; do i=$((i+1)); "
    f"dd if=/dev/urandom of=/tmp/w bs=1M count={SOAK_MIB} 2>/dev/null; "
    "dd if=/tmp/w of=/dev/vda bs=1M conv=fsync 2>/dev/null; "
    "echo 3 > /proc/sys/vm/drop_caches; "
    f"a=$(md5sum < /tmp/w); b=$(dd if=/dev/vda bs=1M count={SOAK_MIB} 2>/dev/null | md5sum); "
    '[ "$a" = "$b" ] && echo SOAK-OK $i || echo SOAK-BAD $i; done &')


def disk_guest(name):
    return {"guest.cfg": (f"name = {name}\nkernel = /guests/linux/Image\n"
                          "initrd = /guests/linux/initrd.cpio.gz\nsmp = 2\nmemory = 128M\n"
                          "bootargs = console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init "
                          "nokaslr\ndevice = virtio-blk,image=disk.img\n"),
            "disk.img": bytes(32 << 20)}


@case("linux/disk-soak-gic2")
def _soak(t):
    """Two Linux VMs write random data to their virtio disks with fsync, drop their caches, read
    it back and compare, round after round, while TestOS is started again and again beside them
    and the hypervisor shell keeps answering; at the end every round of both was good."""
    with tempfile.TemporaryDirectory() as d:
        files = {"linux": linux_files(t), "testos": {"testos.bin": testos_bin(t)},
                 "soak1": disk_guest("soak1"), "soak2": disk_guest("soak2"),
                 "small": {"guest.cfg": testos_cfg("small")}}
        q = boot(t, d, 2, files, size_mib=160)
        for name in ("soak1", "soak2"):
            start = mark(q)
            out = q.command(f"guest start {name}", timeout=LINUX_TIMEOUT)
            check(f"guest {name}: started" in out, f"guest start {name}:\n{out}")
            wait_all(q, [READY.format(name=name)], start, LINUX_TIMEOUT)
            attach(q, name)
            sh(q, "echo go", r"^go")
            q.write(SOAK_LOOP + "\r")
            detach(q)
        soak_start = mark(q)
        deadline = time.monotonic() + SOAK_SECONDS
        testos_runs = 0
        while time.monotonic() < deadline:
            start = mark(q)
            out = q.command("guest start small", timeout=120)
            check("guest small: started" in out, f"guest start small:\n{out}")
            wait_all(q, [rf"\[small\] TESTOS PASS {TESTOS_CHECKS_2CPU} checks$",
                         r"guest small: powered off"], start)
            testos_runs += 1
            out = q.command("version", timeout=10)  # the shell answers at once, under load
            check("Avatar" in out, f"version printed:\n{out}")
        text = q.output[soak_start:]
        bad = re.findall(r"^\[soak\d\] SOAK-BAD \d+$", text, re.M)
        check(not bad, "rounds read back other data than they wrote: " + ", ".join(bad))
        for name in ("soak1", "soak2"):
            rounds = re.findall(rf"\[{name}\] SOAK-OK (\d+)", text)
            check(len(rounds) >= 2, f"{name}: only {len(rounds)} good rounds in {SOAK_SECONDS} s")
            out = q.command(f"guest stop {name}", timeout=60)
            check("stopped by the shell" in out, f"guest stop {name}:\n{out}")
        check(testos_runs >= 2, f"TestOS ran only {testos_runs} times")
