"""vmm_disk.py - a guest's virtio-blk disk under the hypervisor, driven by TestOS's own driver
(bootargs blkread, blkwrite, blkloop): a 32 MiB read in one descriptor arrives intact, a 3 MiB
write lands in the image file, and `guest stop` ends a VM in the middle of a large read and gives
its memory back."""

import os
import random
import re
import subprocess
import tempfile
import zlib

from cases import case
from cases.vmm import MTOOLS_ENV, make_image
from cases.vmm_run import GUEST_TIMEOUT, mark, testos_bin, wait_all
from harness import BOOT_TIMEOUT, Config, TestFailure

DISK_BYTES = 40 << 20
# What guest/testos/blk.c moves: 32 MiB from sector 8; 3 MiB at sector 70000.
READ_OFFSET, READ_BYTES = 8 * 512, 32 << 20
WRITE_OFFSET, WRITE_BYTES = 70000 * 512, 3 << 20
VM_MIB = 64
PAGES_RE = r"^pages: (\d+) total, (\d+) free"
STOP_TIMEOUT = 5  # seconds: guest stop waits for the worker's current step only


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def disk_cfg(bootargs):
    return ("name = disk\nkernel = /guests/testos/testos.bin\nload_addr = 0x40080000\n"
            f"smp = 1\nmemory = {VM_MIB}M\nbootargs = {bootargs}\n"
            "device = virtio-blk,image=disk.img\n")


def disk_image():
    """40 MiB of reproducible noise: every byte TestOS reads is known here."""
    return random.Random(0x5eed).randbytes(DISK_BYTES)


def boot(t, directory, gic, bootargs, disk, drive_opts="", icount=True):
    guests = {"testos": {"testos.bin": testos_bin(t)},
              "disk": {"guest.cfg": disk_cfg(bootargs), "disk.img": disk}}
    img = make_image(directory, guests)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0{drive_opts}",
             "-device", "virtio-blk-device,drive=hd0"]
    return t.boot(Config(hv=True, gic=gic, smp=2, extra_args=drive, icount=icount)), img


def free_pages(q):
    out = q.command("mem")
    m = re.search(PAGES_RE, out, re.M)
    check(m, f"no pages line in mem:\n{out}")
    return int(m.group(2))


def write_pattern():
    return bytes((i * 7 + (i >> 11)) & 0xff for i in range(WRITE_BYTES))


def read_crc(text, prefix=r"\[disk\] "):
    m = re.search(prefix + r"TESTOS BLK read 33554432 bytes from sector 8: crc32 0x([0-9a-f]{8})",
                  text)
    check(m, f"no read line from TestOS:\n{text[-2000:]}")
    return int(m.group(1), 16)


@case("vmm/disk-testos-bare-gic3")
def _bare(t):
    """TestOS's driver against QEMU's own virtio-blk (no hypervisor): the same exercises pass, so
    a failure under Avatar points at the hypervisor."""
    disk = disk_image()
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.write(disk)
        q = t.qemu(Config(gic=3, smp=1, mem="128M",
                          binary_path=os.path.join(t.build_dir, "guests", "testos", "testos.bin"),
                          extra_args=["-append", "blkwrite blkread",
                                      "-global", "virtio-mmio.force-legacy=false",
                                      "-drive", f"if=none,file={img},format=raw,id=hd0",
                                      "-device", "virtio-blk-device,drive=hd0"]))
        q.expect(r"^TESTOS BLK done\n", BOOT_TIMEOUT)
        check(q.wait_exit() == 0, "QEMU did not exit cleanly after TestOS powered off")
        text = q.output
        check(read_crc(text, "") == zlib.crc32(disk[READ_OFFSET:READ_OFFSET + READ_BYTES]),
              f"TestOS read the wrong bytes from QEMU's disk:\n{text[-2000:]}")
        with open(img, "rb") as f:
            check(f.read()[WRITE_OFFSET:WRITE_OFFSET + WRITE_BYTES] == write_pattern(),
                  "QEMU's disk does not hold what TestOS wrote")


@case("vmm/disk-read-32m-gic2")
def _read(t):
    """One read request with a single 32 MiB data descriptor: the CRC TestOS computes over what
    arrived in its RAM is the CRC of those bytes of the image file."""
    disk = disk_image()
    with tempfile.TemporaryDirectory() as d:
        q, _ = boot(t, d, 2, "blkread", disk)
        start = mark(q)
        out = q.command("guest start disk")
        check(f"guest disk: started (1 vCPU, {VM_MIB} MiB)" in out, f"guest start disk:\n{out}")
        text = wait_all(q, [r"\[disk\] TESTOS BLK done",
                            r"guest disk: powered off \(PSCI SYSTEM_OFF from vCPU 0\)"], start)
        want = zlib.crc32(disk[READ_OFFSET:READ_OFFSET + READ_BYTES])
        got = read_crc(text)
        check(got == want, f"TestOS read crc32 0x{got:08x}, the image holds 0x{want:08x}")


@case("vmm/disk-write-3m-gic3")
def _write(t):
    """A 3 MiB write from two descriptors (the first ending 512 bytes past 1 MiB), read back by
    TestOS, and found in the image file once the host has powered off; nothing around it moved."""
    disk = disk_image()
    pattern = write_pattern()
    with tempfile.TemporaryDirectory() as d:
        q, img = boot(t, d, 3, "blkwrite", disk)
        start = mark(q)
        out = q.command("guest start disk")
        check("guest disk: started" in out, f"guest start disk:\n{out}")
        text = wait_all(q, [r"\[disk\] TESTOS BLK done",
                            r"guest disk: powered off \(PSCI SYSTEM_OFF from vCPU 0\)"], start)
        m = re.search(r"\[disk\] TESTOS BLK wrote 3145728 bytes at sector 70000: crc32 "
                      r"0x([0-9a-f]{8}), read back equal", text)
        check(m, f"no write line from TestOS:\n{text[-2000:]}")
        check(int(m.group(1), 16) == zlib.crc32(pattern),
              f"TestOS read back crc32 0x{m.group(1)}, its pattern has 0x{zlib.crc32(pattern):08x}")
        q.send("poweroff")
        check(q.wait_exit() == 0, "QEMU did not power off cleanly")
        out_disk = os.path.join(d, "out-disk.img")
        subprocess.run(["mcopy", "-o", "-i", img, "::/guests/disk/disk.img", out_disk],
                       check=True, env=MTOOLS_ENV)
        with open(out_disk, "rb") as f:
            after = f.read()
        check(len(after) == DISK_BYTES, f"disk.img is {len(after)} bytes now")
        check(after[WRITE_OFFSET:WRITE_OFFSET + WRITE_BYTES] == pattern,
              "the image file does not hold what TestOS wrote")
        check(after[:WRITE_OFFSET] == disk[:WRITE_OFFSET]
              and after[WRITE_OFFSET + WRITE_BYTES:] == disk[WRITE_OFFSET + WRITE_BYTES:],
              "bytes outside the written range changed")


@case("vmm/disk-stop-during-read-gic2")
def _stop(t):
    """TestOS reads 32 MiB in one request from a host disk QEMU throttles to 4 MiB/s, so the request
    takes 8 s; `guest stop` ends the VM in the middle of it in less than a second (the disk worker
    stops between steps of 1 MiB, a quarter of a second each, where serving the request inside the
    vCPU's trap kept the VM for the whole request), its threads are gone and its memory is back.
    Without -icount: the throttle runs on the host's clock, and under icount the idle guest's clock
    would race past the hypervisor's 5 s stop wait."""
    with tempfile.TemporaryDirectory() as d:
        q, _ = boot(t, d, 2, "blkloop", disk_image(), ",throttling.bps-read=4194304", icount=False)
        before = free_pages(q)
        start = mark(q)
        out = q.command("guest start disk")
        check("guest disk: started" in out, f"guest start disk:\n{out}")
        wait_all(q, [r"\[disk\] TESTOS BLK reading 33554432 bytes from sector 8 \(round 1\)"],
                 start, GUEST_TIMEOUT)
        running = free_pages(q)
        check(running <= before - VM_MIB * 256,
              f"free pages {before} before the VM, {running} with it: its RAM is not counted")
        out = q.command("ps")
        check(re.search(r"^\s*\d+ disk/vd0\s", out, re.M), f"no disk worker thread in ps:\n{out}")
        out = q.command("guest stop disk", timeout=STOP_TIMEOUT)
        check("still stopping" not in out and "guest disk: stopped by the shell (guest stop)" in out,
              f"guest stop disk:\n{out}")
        took = re.search(r"^guest disk: stop took (\d+) ms$", out, re.M)
        check(took and int(took.group(1)) < 1000, f"guest stop disk took too long:\n{out}")
        check("TESTOS BLK read 33554432" not in q.output[start:],
              "the read finished before the stop: the stop did not happen during a request")
        out = q.command("guest status")
        check(re.search(r"^disk\s+stopped", out, re.M), f"guest status after the stop:\n{out}")
        out = q.command("ps")
        check(not re.search(r"disk/", out), f"threads of the VM left after its stop:\n{out}")
        after = free_pages(q)
        check(after >= before - 64,
              f"free pages {before} before the VM, {after} after its stop: its memory is not back")
