#!/usr/bin/env python3
"""run.py - the `make bench` driver: boots Avatar under icount and prints figures as a Markdown table.

Under `-icount shift=0,sleep=off` one instruction is one nanosecond of virtual time, so the
figures are exact instruction counts that repeat from run to run.  A benchmark fails only when
the system under test does not work (no boot, no figure); slowness is never a failure.
"""

import argparse
import pathlib
import re
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "qemu"))

import harness  # noqa: E402
from harness import Config  # noqa: E402

BENCHES = []  # generators (build_dir) yielding (figure, value) rows, run in order


def bench(fn):
    """Register a benchmark: a generator of the build directory yielding (figure, value) rows.

    Yield each figure as soon as it is measured, so one that fails later does not hide it.
    """
    BENCHES.append(fn)
    return fn


def describe(cfg):
    return f"EL{cfg.el}, GICv{cfg.gic}, SMP={cfg.smp}"


def first_prompt_ns(cfg):
    """Boot cfg, wait for the prompt, and read the virtual time of the first prompt from uptime."""
    with harness.Qemu(cfg) as q:
        try:
            q.wait_boot()
            out = q.command("uptime")
        except harness.TestFailure as e:
            raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
        m = re.search(r"first prompt at (\d+) ns", out)
        if not m:
            raise harness.TestFailure(f"uptime printed no 'first prompt at <ns> ns':\n{out}")
        return int(m.group(1))


def with_console(message, q, lines=30):
    """message followed by the last console lines, for a figure that could not be measured."""
    return "\n".join([message, "  last console lines:"] + ["    | " + l for l in q.tail(lines)])


def guest_disk(directory, size_mib, guests):
    """A FAT32 host.img of size_mib in directory with guests ({name: [host files]}) copied to
    /guests/<name>/; returns QEMU's arguments to attach it."""
    import os
    import subprocess
    img = os.path.join(directory, "host.img")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run(["bash", str(ROOT / "scripts/create_host_img.sh"), "-s", str(size_mib), "-o",
                    img, "-f"], check=True, stdout=subprocess.DEVNULL)
    dirs = ["::/guests"] + [f"::/guests/{name}" for name in guests]
    cmds = [["mmd", "-i", img] + dirs]
    cmds += [["mcopy", "-i", img] + [str(f) for f in files] + [f"::/guests/{name}/"]
             for name, files in guests.items()]
    for cmd in cmds:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return ["-drive", f"if=none,id=hd0,format=raw,file={img}", "-device",
            "virtio-blk-device,drive=hd0"]


@bench
def boot_to_prompt(build_dir):
    for hv in (False, True):
        cfg = Config(hv=hv, gic=2, smp=1, build_dir=build_dir)
        yield f"boot to prompt ({describe(cfg)})", first_prompt_ns(cfg)


FSBENCH_RE = (r"^fsbench: (write|read|create) (\d+) (bytes|files) in (\d+) ns, "
              r"(\d+) ns idle$")


def fsbench(q, line):
    """Run one fsbench command; returns (amount, instructions the CPU executed).

    Virtual time the CPU spent idle (in WFI while the benchmark slept on the disk) is skipped
    ahead by icount (sleep=off), not executed, so it is subtracted.
    """
    out = q.command(line, timeout=600)
    m = re.search(FSBENCH_RE, out, re.M)
    if not m:
        raise harness.TestFailure(f"'{line}' printed:\n{out}")
    return int(m.group(2)), int(m.group(4)) - int(m.group(5))


@bench
def file_system(build_dir):
    """16 MiB sequential write (with sync) and read, 1000 file creations: FAT32 on virtio-blk."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        img = str(pathlib.Path(d) / "bench.img")
        subprocess.run(["bash", str(ROOT / "scripts/create_host_img.sh"), "-s", "64", "-o", img,
                        "-f"], check=True, stdout=subprocess.DEVNULL)
        cfg = Config(hv=False, gic=2, smp=1, build_dir=build_dir,
                     extra_args=["-drive", f"if=none,id=hd0,format=raw,file={img}",
                                 "-device", "virtio-blk-device,drive=hd0"])
        with harness.Qemu(cfg) as q:
            q.wait_boot()
            size, ins = fsbench(q, "fsbench write /big.bin 16")
            yield "FAT32 sequential write 16 MiB + sync (EL1), per byte", round(ins / size, 2)
            # The write goes to the disk around the cache: the first read is cold.
            size, ins = fsbench(q, "fsbench read /big.bin")
            yield "file read 16 MiB, cold (EL1, FAT32), per byte", round(ins / size, 2)
            size, ins = fsbench(q, "fsbench read /big.bin")
            yield "file read 16 MiB, warm re-read (EL1, FAT32), per byte", round(ins / size, 2)
            # The same file through read(2) from a user program (app/bench.c): one more copy,
            # to user memory, and a system call per 64 KiB.
            out = q.command("run bench file /big.bin", timeout=600)
            m = re.search(r"^bench: file re-read \(read\(2\), 64 KiB a call\), per MiB (\d+) ns$",
                          out, re.M)
            if not m:
                raise harness.TestFailure(f"`run bench file /big.bin` printed:\n{out}")
            yield ("file read 16 MiB, warm re-read, read(2) from EL0, per byte",
                   round(int(m.group(1)) / (1 << 20), 2))
            count, ins = fsbench(q, "fsbench create /many 1000")
            yield "FAT32 create a file, 1000 in one directory (EL1), per file", ins // count


USER_BENCH_RE = r"^bench: (.+) (\d+) ns$"
# `run bench` (app/bench.c) line -> figure name.
USER_BENCH_ROWS = [
    ("getpid", "getpid system call round trip (EL0, SMP=1)"),
    ("thread switch (futex ping-pong, per switch)", "thread switch, two threads ping-pong via futex"),
    ("fork+exit+wait", "fork + exit + wait (EL0)"),
    ("page fault (demand-zero)", "page fault, demand-zero page (EL0)"),
    ("uncontended mutex lock+unlock", "uncontended pthread mutex lock + unlock (EL0)"),
    ("pipe throughput, per MiB", "pipe throughput, 4 KiB writes, writer and reader on one CPU, per byte"),
    ("signal round trip (kill self, handler, sigreturn)",
     "signal round trip: kill self, handler, sigreturn (EL0)"),
]
# Figures printed per MiB, reported per byte.
USER_BENCH_PER_MIB = {"pipe throughput, per MiB"}


@bench
def user_mode(build_dir):
    """User programs at EL0: system call, thread switch, fork, page fault, mutex (app/bench.c)."""
    cfg = Config(hv=False, gic=2, smp=1, build_dir=build_dir)
    with harness.Qemu(cfg) as q:
        try:
            q.wait_boot()
            out = q.command("run bench", timeout=600)
        except harness.TestFailure as e:
            raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
    figures = {m.group(1): int(m.group(2)) for m in re.finditer(USER_BENCH_RE, out, re.M)}
    for what, figure in USER_BENCH_ROWS:
        if what not in figures:
            raise harness.TestFailure(f"`run bench` printed no '{what}' figure:\n{out}")
        value = figures[what]
        yield figure, round(value / (1 << 20), 2) if what in USER_BENCH_PER_MIB else value


GUEST_BENCH_RE = r"\[bench\] TESTOS BENCH (\S+) (\d+)"
# TestOS bench line -> figure (guest/testos/README.md "Benchmarks"; docs/design.md, "Benchmarks").
GUEST_BENCH_ROWS = [
    ("hvc_psci_version", "hvc PSCI_VERSION round trip"),
    ("gicd_typer_read", "guest read of GICD_TYPER (vGIC distributor)"),
    ("pl011_fr_read", "guest read of PL011 FR (emulated UART)"),
    ("sysreg_trap_read", "trapped system-register read (ACTLR_EL1)"),
    ("vtimer_round_trip", "virtual timer IRQ round trip (fire, handler, EOI), per IRQ"),
    ("sgi_self_round_trip", "SGI to self round trip (send, handler, EOI), per IRQ"),
    ("vtimer_irq_latency", "virtual timer latency, guest busy: deadline to IRQ vector (median)"),
    ("wfi_wake_100us", "timer wake-up latency, guest in WFI, 100 us deadline (median)"),
    ("wfi_wake_1ms", "timer wake-up latency, guest in WFI, 1 ms deadline (median)"),
    ("sgi_round_trip", "cross-vCPU IPI round trip, receiver in WFI (vCPU0 -> vCPU1 -> vCPU0)"),
]


@bench
def hypervisor(build_dir):
    """TestOS's bench mode inside a 2-vCPU VM on SMP=2: the exits a guest pays for. On SMP=1 both
    vCPUs share the one CPU, so the IPI round trip there includes two vCPU switches."""
    import subprocess
    import tempfile
    for gic, smp in ((2, 2), (3, 2), (2, 1)):
        with tempfile.TemporaryDirectory() as d:
            img = str(pathlib.Path(d) / "bench.img")
            cfgfile = pathlib.Path(d) / "guest.cfg"
            cfgfile.write_text("name = bench\nkernel = /guests/testos/testos.bin\n"
                               "load_addr = 0x40080000\nsmp = 2\nmemory = 64M\nbootargs = bench\n")
            env = dict(__import__("os").environ, MTOOLS_SKIP_CHECK="1")
            subprocess.run(["bash", str(ROOT / "scripts/create_host_img.sh"), "-s", "64", "-o", img,
                            "-f"], check=True, stdout=subprocess.DEVNULL)
            for cmd in (["mmd", "-i", img, "::/guests", "::/guests/testos", "::/guests/bench"],
                        ["mcopy", "-i", img, str(pathlib.Path(build_dir) / "guests/testos/testos.bin"),
                         "::/guests/testos/testos.bin"],
                        ["mcopy", "-i", img, str(cfgfile), "::/guests/bench/guest.cfg"]):
                subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            cfg = Config(hv=True, gic=gic, smp=smp, build_dir=build_dir,
                         extra_args=["-drive", f"if=none,id=hd0,format=raw,file={img}",
                                     "-device", "virtio-blk-device,drive=hd0"])
            with harness.Qemu(cfg) as q:
                try:
                    q.wait_boot()
                    q.send("guest start bench")
                    q.expect(r"\[bench\] TESTOS BENCH done", 600)
                except harness.TestFailure as e:
                    raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
                out = q.output
            figures = {m.group(1): int(m.group(2)) for m in re.finditer(GUEST_BENCH_RE, out)}
            if smp == 1:
                if "sgi_round_trip" not in figures:
                    raise harness.TestFailure(f"no sgi_round_trip figure:\n{out[-3000:]}")
                yield ("virtual IPI round trip with both vCPUs on one CPU (two vCPU switches, "
                       f"GICv{gic})"), figures["sgi_round_trip"]
                continue
            for what, figure in GUEST_BENCH_ROWS:
                if what not in figures:
                    raise harness.TestFailure(f"TestOS printed no '{what}' figure:\n{out[-3000:]}")
                yield f"{figure} (Avatar VM, GICv{gic})", figures[what]


LINUX_READY_RE = r"AVATAR-LINUX-READY (\d+) cpus, counter (\d+) (\d+)"
LINUX_BOOTARGS = "console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init nokaslr"


@bench
def linux_boot(build_dir):
    """The same Debian kernel and initramfs to the same marker line, under Avatar (a 2-vCPU VM on
    SMP=2) and bare on QEMU (SMP=2): the guest's virtual counter at the marker (it starts at zero
    with the VM, or at reset bare) in instructions, and the host seconds each run took."""
    import tempfile
    import time
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    bare = Config(hv=False, gic=2, smp=2, mem="128M", binary_path=str(image), build_dir=build_dir,
                  extra_args=["-initrd", str(initrd), "-append", LINUX_BOOTARGS] + det)
    with harness.Qemu(bare) as q:
        t0 = time.monotonic()
        m = q.expect(LINUX_READY_RE, 600)
        bare_wall = time.monotonic() - t0
    bare_ins = int(m.group(2)) * 1_000_000_000 // int(m.group(3))
    yield "Linux boot to its shell, bare QEMU (SMP=2)", bare_ins
    with tempfile.TemporaryDirectory() as d:
        disk = guest_disk(d, 64, {"linux": [image, initrd]})
        cfg = Config(hv=True, gic=2, smp=2, build_dir=build_dir, extra_args=disk + det)
        with harness.Qemu(cfg) as q:
            try:
                q.wait_boot()
                q.send("guest start linux")
                q.expect(r"guest linux: started", 600)
                t0 = time.monotonic()
                m = q.expect(LINUX_READY_RE, 600)
                vm_wall = time.monotonic() - t0
            except harness.TestFailure as e:
                raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
    vm_ins = int(m.group(2)) * 1_000_000_000 // int(m.group(3))
    yield "Linux boot to its shell, Avatar VM (2 vCPUs, SMP=2)", vm_ins
    yield "Linux boot, Avatar / bare, instructions (goal <= 1.10)", round(vm_ins / bare_ins, 3)
    yield "Linux boot, Avatar / bare, host seconds", round(vm_wall / bare_wall, 2)


def newc_cpio(files):
    """A cpio archive (newc, as the kernel's initramfs unpacker reads) of {path: (mode, bytes)}."""
    out = bytearray()

    def entry(name, mode, data, ino):
        name_b = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
        out.extend(b"070701" + b"".join(b"%08x" % f for f in fields) + name_b)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, (mode, data)) in enumerate(sorted(files.items()), 1):
        entry(name, mode, data, ino)
    entry("TRAILER!!!", 0, b"", 0)
    return bytes(out)


LINUX_BENCH_DONE = "AVB$((6*7))"


@bench
def linux_user_mode(build_dir):
    """The same static app/bench.c binary on Linux 6.1 (Debian's kernel, bare QEMU, SMP=1, as in
    linux_boot): its pipe, signal and file re-read figures, beside Avatar's rows. The binary goes
    in as a second initramfs archive after the usual one; the file is 16 MiB in Linux's tmpfs, so
    its re-read is Linux's page cache."""
    import gzip
    import tempfile
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    prog = pathlib.Path(build_dir) / "app" / "bench"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    if not prog.exists():
        raise harness.TestFailure(f"{prog} is missing: make all")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    with tempfile.TemporaryDirectory() as d:
        both = pathlib.Path(d) / "initrd.cpio.gz"
        extra = newc_cpio({"bin/avbench": (0o100755, prog.read_bytes())})
        both.write_bytes(initrd.read_bytes() + gzip.compress(extra))
        cfg = Config(hv=False, gic=2, smp=1, mem="256M", binary_path=str(image),
                     build_dir=build_dir,
                     extra_args=["-initrd", str(both), "-append", LINUX_BOOTARGS] + det)
        with harness.Qemu(cfg) as q:
            q.expect(LINUX_READY_RE, 600)
            # Until its random generator is seeded, Linux 6.1 runs it on every system call
            # (the kernel stack offset): ~9,000 instructions a getpid. Reading /dev/random
            # waits for the seeding, as the figures of a running system assume.
            q.write("head -c 1 /dev/random >/dev/null; "
                    "dd if=/dev/zero of=/tmp/f bs=1M count=16 2>/dev/null; "
                    f"/bin/avbench file /tmp/f; /bin/avbench; echo {LINUX_BENCH_DONE}\r")
            q.expect(r"^AVB42", 1800)
            out = q.output
    figures = {m.group(1): int(m.group(2)) for m in re.finditer(USER_BENCH_RE, out, re.M)}
    rows = [(what, figure) for what, figure in USER_BENCH_ROWS]
    rows.append(("file re-read (read(2), 64 KiB a call), per MiB",
                 "file read 16 MiB, warm re-read, read(2) from EL0, per byte"))
    for what, figure in rows:
        if what not in figures:
            raise harness.TestFailure(f"Linux: avbench printed no '{what}' figure:\n{out[-3000:]}")
        value = figures[what]
        per_mib = what in USER_BENCH_PER_MIB or what.endswith("per MiB")
        yield f"{figure}, Linux 6.1 bare QEMU", round(value / (1 << 20), 2) if per_mib else value


DD_MIB = 256  # bare Linux counts idle time in 10 ms jiffies: enough work to make that small
DD_CMDS = (("null", "true"),
           ("write", f"dd if=/dev/zero of=/dev/vda bs=1M count={DD_MIB} conv=fsync"),
           ("read", f"dd if=/dev/vda of=/dev/null bs=1M count={DD_MIB}"))
DD_ROWS = {"write": f"Linux guest dd {DD_MIB} MiB to its virtio disk, conv=fsync",
           "read": f"Linux guest dd {DD_MIB} MiB from its virtio disk, cold cache"}
# cntvct prints "<counter> <frequency>": DD c0 f c1 f idle0 idle1.
DD_DONE_RE = r"\nDD (\d+) (\d+) (\d+) \d+ (\d+) (\d+)\n"
# Virtual time the guest's clock saw, and the CPUs' idle time from /proc/stat (USER_HZ jiffies).
DD_STAT = "awk '/^cpu /{print $5+$6}' /proc/stat"
DD_DROP = "sync; echo 3 > /proc/sys/vm/drop_caches; echo drop$((6*7))"


def dd_guest_command(cmd):
    return (f"I=$({DD_STAT}); A=$(/bin/cntvct); {cmd} 2>/dev/null; B=$(/bin/cntvct); "
            f"J=$({DD_STAT}); echo \"DD $A $B $I $J\"")


def dd_executed(q, cmd, idle_ns):
    """Run cmd in the guest's shell (attached): instructions the CPU executed meanwhile, that is
    the guest's elapsed virtual time less idle time (idle_ns(q, m) from the dd marker line)."""
    q.write(DD_DROP + "\r")
    q.expect(r"drop42", 300)
    q.write(dd_guest_command(cmd) + "\r")
    m = q.expect(DD_DONE_RE, 1800)
    elapsed = (int(m.group(3)) - int(m.group(1))) * 10**9 // int(m.group(2))
    return elapsed - idle_ns(q, m)


@bench
def linux_disk(build_dir):
    """A Linux guest's own disk I/O, instructions per byte, with 1 vCPU on SMP=1: dd to and from
    a virtio-blk disk under Avatar (an image file on host.img) and bare on QEMU (the same file as
    QEMU's disk). Executed = virtual time less idle time (bare: /proc/stat; Avatar: its `uptime`
    idle figure, read around the dd with the console detached); an empty command's cost is
    subtracted."""
    import os
    import random
    import tempfile
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    per_byte = {}
    with tempfile.TemporaryDirectory() as d:
        disk = os.path.join(d, "disk.img")
        rnd = random.Random(1)
        with open(disk, "wb") as f:
            for _ in range(DD_MIB):
                f.write(rnd.randbytes(1 << 20))
        bare = Config(hv=False, gic=2, smp=1, mem="256M", binary_path=str(image),
                      build_dir=build_dir,
                      extra_args=["-initrd", str(initrd), "-append", LINUX_BOOTARGS,
                                  "-drive", f"if=none,file={disk},format=raw,id=hd0",
                                  "-device", "virtio-blk-device,drive=hd0"] + det)
        with harness.Qemu(bare) as q:
            q.expect(LINUX_READY_RE, 600)

            def bare_idle(q, m):
                return (int(m.group(5)) - int(m.group(4))) * 10**7

            costs = {name: dd_executed(q, cmd, bare_idle) for name, cmd in DD_CMDS}
        for name in DD_ROWS:
            per_byte[("bare", name)] = (costs[name] - costs["null"]) / (DD_MIB << 20)
            yield f"{DD_ROWS[name]}, bare QEMU, per byte", round(per_byte[("bare", name)], 2)

        cfg_file = os.path.join(d, "guest.cfg")
        with open(cfg_file, "w") as f:
            f.write("name = lxdisk\nkernel = /guests/linux/Image\n"
                    "initrd = /guests/linux/initrd.cpio.gz\nsmp = 1\nmemory = 256M\n"
                    f"bootargs = {LINUX_BOOTARGS}\ndevice = virtio-blk,image=disk.img\n")
        host_disk = guest_disk(d, 128 + DD_MIB, {"linux": [image, initrd],
                                                 "lxdisk": [cfg_file, disk]})
        cfg = Config(hv=True, gic=2, smp=1, mem="512M", build_dir=build_dir,
                     extra_args=host_disk + det)
        with harness.Qemu(cfg) as q:
            try:
                q.wait_boot()
                q.send("guest start lxdisk")
                q.expect(LINUX_READY_RE, 900)
                costs = {}
                for name, cmd in DD_CMDS:
                    # The dd runs detached from the console: the uptime lines around it give the
                    # host CPUs' idle time (the guest's own is not what the host executes).
                    q.send("guest console lxdisk")
                    q.expect(r"\[console: lxdisk;")
                    q.write(DD_DROP + "\r")
                    q.expect(r"drop42", 300)
                    q.write("\x1d")
                    q.expect(r"avatar> ")
                    before = avatar_idle(q)
                    q.send("guest console lxdisk")
                    q.expect(r"\[console: lxdisk;")
                    q.write(dd_guest_command(cmd) + "\r")
                    m = q.expect(DD_DONE_RE, 1800)
                    q.write("\x1d")
                    q.expect(r"avatar> ")
                    after = avatar_idle(q)
                    elapsed_host = after[0] - before[0]
                    costs[name] = elapsed_host - (after[1] - before[1])
            except harness.TestFailure as e:
                raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
        for name in DD_ROWS:
            avatar = (costs[name] - costs["null"]) / (DD_MIB << 20)
            yield f"{DD_ROWS[name]}, Avatar VM, per byte", round(avatar, 2)
            yield (f"{DD_ROWS[name]}, Avatar / bare (goal <= 1.15)",
                   round(avatar / per_byte[("bare", name)], 3))


NET_MIB = 16  # VM-to-host transfer through QEMU's user network: enough to dwarf the set-up
NET_UP_RE = r"AVATAR-NET-UP eth0 (\d+\.\d+\.\d+\.\d+)\r?\n"


class ByteSink:
    """A TCP listener on 127.0.0.1 that counts what each connection sends until it closes."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.received = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            n = 0
            with conn:
                while True:
                    data = conn.recv(1 << 16)
                    if not data:
                        break
                    n += len(data)
            self.received.append(n)

    def close(self):
        self.sock.close()


def net_commands(port):
    return (("null", "true"),
            ("send", f"dd if=/dev/zero bs=64k count={NET_MIB * 16} 2>/dev/null | "
                     f"nc 10.0.2.2 {port}"))


BARE_NET = {}  # build directory -> linux_net's bare figure, measured once per run


def bare_net_per_byte(build_dir):
    """linux_net's bare row: a Linux guest (1 vCPU, SMP=1) on bare QEMU sends NET_MIB MiB with
    busybox nc to a listener this script runs on 127.0.0.1 (10.0.2.2 through QEMU's user
    network, the slirp stack inside the same QEMU process); instructions per byte, the guest's
    virtual time less its idle time (/proc/stat) around the send, an empty command's cost
    subtracted. Measured once per run: linux_vm_to_vm compares with it too."""
    if build_dir in BARE_NET:
        return BARE_NET[build_dir]
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    sink = ByteSink()
    want = NET_MIB << 20
    try:
        bare = Config(hv=False, gic=2, smp=1, mem="256M", binary_path=str(image),
                      build_dir=build_dir, net=True,
                      extra_args=["-initrd", str(initrd), "-append", LINUX_BOOTARGS] + det)
        with harness.Qemu(bare) as q:
            try:
                q.expect(LINUX_READY_RE, 600)
                q.expect(NET_UP_RE, 300)
                costs = {name: dd_executed(q, cmd, bare_idle)
                         for name, cmd in net_commands(sink.port)}
            except harness.TestFailure as e:
                raise harness.TestFailure(with_console(f"bare Linux: {e}", q))
        if sink.received[-1:] != [want]:
            raise harness.TestFailure(f"bare: the listener got {sink.received}, not {want} bytes")
    finally:
        sink.close()
    BARE_NET[build_dir] = (costs["send"] - costs["null"]) / want
    return BARE_NET[build_dir]


def bare_idle(q, m):
    """A bare Linux guest's idle time between the two /proc/stat readings of a DD_DONE_RE line
    (USER_HZ = 100: 10 ms jiffies)."""
    return (int(m.group(5)) - int(m.group(4))) * 10**7


@bench
def linux_net(build_dir):
    """A Linux guest sends NET_MIB MiB with busybox nc to a listener this script runs on
    127.0.0.1 (10.0.2.2 through QEMU's user network), instructions per byte with 1 vCPU on SMP=1:
    bare on QEMU with a virtio-net-device (bare_net_per_byte), and in an Avatar VM whose
    virtio-net device is switched to Avatar's own NIC (the uplink). Executed = virtual time less
    idle time, an empty command's cost subtracted, as for linux_disk."""
    import os
    import tempfile
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    bare_per_byte = bare_net_per_byte(build_dir)
    yield f"Linux guest nc {NET_MIB} MiB to the host, bare QEMU, per byte", \
        round(bare_per_byte, 2)
    sink = ByteSink()
    want = NET_MIB << 20
    try:
        with tempfile.TemporaryDirectory() as d:
            cfg_file = os.path.join(d, "guest.cfg")
            with open(cfg_file, "w") as f:
                f.write("name = lxnet\nkernel = /guests/linux/Image\n"
                        "initrd = /guests/linux/initrd.cpio.gz\nsmp = 1\nmemory = 256M\n"
                        f"bootargs = {LINUX_BOOTARGS}\ndevice = virtio-net\n")
            host_disk = guest_disk(d, 128, {"linux": [image, initrd], "lxnet": [cfg_file]})
            cfg = Config(hv=True, gic=2, smp=1, mem="512M", build_dir=build_dir, net=True,
                         extra_args=host_disk + det)
            with harness.Qemu(cfg) as q:
                try:
                    q.wait_boot()
                    q.send("guest start lxnet")
                    q.expect(LINUX_READY_RE, 900)
                    q.expect(NET_UP_RE, 300)
                    costs = {}
                    for name, cmd in net_commands(sink.port):
                        before = avatar_idle(q)
                        q.send("guest console lxnet")
                        q.expect(r"\[console: lxnet;")
                        q.write(dd_guest_command(cmd) + "\r")
                        q.expect(DD_DONE_RE, 1800)
                        q.write("\x1d")
                        q.expect(r"avatar> ")
                        after = avatar_idle(q)
                        costs[name] = (after[0] - before[0]) - (after[1] - before[1])
                except harness.TestFailure as e:
                    raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
        if sink.received[-1:] != [want]:
            raise harness.TestFailure(f"Avatar: the listener got {sink.received}, not {want} bytes")
        avatar = (costs["send"] - costs["null"]) / want
        yield f"Linux guest nc {NET_MIB} MiB to the host, Avatar VM via the uplink, per byte", \
            round(avatar, 2)
        yield "Linux guest nc to the host, Avatar / bare (goal <= 1.3)", round(avatar / bare_per_byte, 3)
    finally:
        sink.close()


VM2VM_MIB = 64
RECV_RE = r"\[lxb\] .*RECV (\d+)"


# The bare receiver's nc, timed as dd_guest_command times a command: RECV <bytes> then DD's fields.
BARE_RECV_RE = r"\nRECV (\d*) (\d+) (\d+) (\d+) \d+ (\d+) (\d+)\n"


def bare_recv_command(cmd):
    return (f"I=$({DD_STAT}); A=$(/bin/cntvct); N=$({cmd}); B=$(/bin/cntvct); J=$({DD_STAT}); "
            f"echo \"RECV $N $A $B $I $J\"")


class Nudger:
    """Nudges QEMUs from a thread every harness.NUDGE_AFTER seconds: while the script waits on
    one bare QEMU's console, the other must not sit idle with a frozen icount clock either (see
    harness.Qemu.nudge; expect() nudges only the QEMU it waits on)."""

    def __init__(self, qemus):
        import threading
        self.qemus = qemus
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(harness.NUDGE_AFTER):
            for q in self.qemus:
                q.nudge()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        return False


def bare_vm_to_vm_per_byte(build_dir):
    """The same two Linux guests as linux_vm_to_vm on bare QEMU: two QEMU processes (1 vCPU each,
    -icount shift=0,sleep=off like every bare row), each with a virtio-net-device on a socket
    netdev, the two joined by one TCP connection on 127.0.0.1 (QEMU's point-to-point link: each
    frame goes length-prefixed from one QEMU process to the other; no switch, no host stack in
    the guests' path but the loopback connection itself).
    Static addresses 10.0.3.1 (sender) and 10.0.3.2 (receiver); the sender pipes VM2VM_MIB MiB
    of zeros into busybox nc, the receiver counts them with wc -c.

    Counted: instructions BOTH QEMUs' guest CPUs executed for the transfer. Each guest times
    its own side, its virtual time (cntvct) less its idle time (/proc/stat) around the command:
    the sender around dd | nc (dd_guest_command, as every bare row), the receiver around
    nc -l | wc -c (bare_recv_command; its wait for the sender is idle time). From each side the
    same wrapper around `true` (its fork/exec and /proc/stat reads) is subtracted. Not counted:
    QEMU's own device emulation on the host (as in every bare row: icount counts guest
    instructions only)."""
    import time
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    want = VM2VM_MIB << 20
    port = harness.free_port()
    ends = {"tx": f"listen=127.0.0.1:{port}", "rx": f"connect=127.0.0.1:{port}"}
    cfgs = {name: Config(hv=False, gic=2, smp=1, mem="256M", binary_path=str(image),
                         build_dir=build_dir,
                         extra_args=["-initrd", str(initrd), "-append", LINUX_BOOTARGS,
                                     "-netdev", f"socket,id=n0,{end}",
                                     "-device", "virtio-net-device,netdev=n0"] + det)
            for name, end in ends.items()}
    with harness.Qemu(cfgs["tx"]) as tx:
        # The connecting QEMU fails at once if nothing listens yet: QEMU opens the socket before
        # the guest starts, so the kernel's first line means it listens.
        try:
            tx.expect(r"Booting Linux", 60)
        except harness.TestFailure as e:
            raise harness.TestFailure(with_console(f"bare Linux (sender): {e}", tx))
        with harness.Qemu(cfgs["rx"]) as rx, Nudger([tx, rx]):
            q = tx
            try:
                for q, addr in ((tx, "10.0.3.1"), (rx, "10.0.3.2")):
                    q.expect(LINUX_READY_RE, 600)
                    # No DHCP server on the link: stop udhcpc, so it neither sends nor
                    # deconfigures eth0.
                    q.write(f"killall udhcpc; ifconfig eth0 {addr} netmask 255.255.255.0 up; "
                            f"echo up$((6*7))\r")
                    q.expect(r"^up42", 60)
                q = rx
                q.write(bare_recv_command("true") + "\r")
                m = q.expect(BARE_RECV_RE, 300)
                rx_null = bare_recv_cost(m)
                q = tx
                tx_null = dd_executed(tx, "true", bare_idle)
                q = rx
                rx.write(DD_DROP + "\r")
                rx.expect(r"drop42", 300)
                rx.write(bare_recv_command("nc -l -p 5000 | wc -c") + "\r")
                time.sleep(2)  # the listener is up long before the sender's nc connects
                q = tx
                tx_send = dd_executed(tx, f"dd if=/dev/zero bs=64k count={VM2VM_MIB * 16} "
                                          f"2>/dev/null | nc 10.0.3.2 5000", bare_idle)
                q = rx
                m = rx.expect(BARE_RECV_RE, 600)
                got, rx_recv = int(m.group(1)), bare_recv_cost(m)
            except harness.TestFailure as e:
                raise harness.TestFailure(with_console(f"bare Linux (two QEMUs): {e}", q))
    if got != want:
        raise harness.TestFailure(f"bare QEMU receiver got {got} bytes, not {want}")
    return (tx_send - tx_null) / want, (rx_recv - rx_null) / want


def bare_recv_cost(m):
    """Instructions executed between the cntvct readings of a BARE_RECV_RE line."""
    elapsed = (int(m.group(4)) - int(m.group(2))) * 10**9 // int(m.group(3))
    return elapsed - (int(m.group(6)) - int(m.group(5))) * 10**7


@bench
def linux_vm_to_vm(build_dir):
    """VM-to-VM networking, instructions per byte of a VM2VM_MIB MiB busybox nc transfer between
    two Linux guests (1 vCPU each, the same kernel and initramfs everywhere), and the issue's goal
    (VM-to-VM under Avatar cheaper than bare QEMU's user-mode path). The rows count:

    - Avatar: two VMs lxa -> lxb on one Avatar switch, one QEMU with SMP=1. Everything the
      machine's one CPU executed for the transfer (both guests, the switch and the rest of the
      hypervisor): virtual time less the hypervisor's idle time (`uptime`) around the sender's
      command, the same around `true` subtracted. Addresses come from QEMU's DHCP through the
      uplink; the transfer itself stays inside the switch.
    - bare two-QEMU: the same two guests, each alone on a bare QEMU, joined by a socket netdev
      (bare_vm_to_vm_per_byte): the sender's and the receiver's guest instructions, each side
      timed by its own guest (its virtual time less its idle time), summed. QEMU's host-side
      socket and virtio emulation is not counted, as no bare row counts QEMU itself.
    - bare user-mode path: linux_net's bare row (bare_net_per_byte): one guest sending NET_MIB
      MiB to the host through QEMU's user network; the guest's instructions only, so one
      sending stack, where the VM-to-VM rows count a sender and a receiver.
    - The ratios: the Avatar row over each bare row."""
    import os
    import tempfile
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    det = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]
    want = VM2VM_MIB << 20
    with tempfile.TemporaryDirectory() as d:
        guests = {"linux": [image, initrd]}
        for name in ("lxa", "lxb"):
            os.makedirs(os.path.join(d, name))
            cfg_file = os.path.join(d, name, "guest.cfg")
            with open(cfg_file, "w") as f:
                f.write(f"name = {name}\nkernel = /guests/linux/Image\n"
                        "initrd = /guests/linux/initrd.cpio.gz\nsmp = 1\nmemory = 128M\n"
                        f"bootargs = {LINUX_BOOTARGS}\ndevice = virtio-net\n")
            guests[name] = [cfg_file]
        host_disk = guest_disk(d, 128, guests)
        cfg = Config(hv=True, gic=2, smp=1, mem="512M", build_dir=build_dir, net=True,
                     extra_args=host_disk + det)
        with harness.Qemu(cfg) as q:
            try:
                q.wait_boot()
                addr = {}
                for name in ("lxa", "lxb"):
                    q.send(f"guest start {name}")
                    m = q.expect(rf"\[{name}\] .*AVATAR-NET-UP eth0 (\d+\.\d+\.\d+\.\d+)\r?\n", 900)
                    addr[name] = m.group(1)
                q.send("guest console lxb")
                q.expect(r"\[console: lxb;")
                q.write("(n=$(nc -l -p 5000 | wc -c); echo RECV $n) &\r")
                q.write("\x1d")
                q.expect(r"avatar> ")
                costs = {}
                sent_at = len(q.output)
                cmds = (("null", "true"),
                        ("send", f"dd if=/dev/zero bs=64k count={VM2VM_MIB * 16} 2>/dev/null | "
                                 f"nc {addr['lxb']} 5000"))
                for name, cmd in cmds:
                    before = avatar_idle(q)
                    q.send("guest console lxa")
                    q.expect(r"\[console: lxa;")
                    q.write(dd_guest_command(cmd) + "\r")
                    q.expect(DD_DONE_RE, 1800)
                    q.write("\x1d")
                    q.expect(r"avatar> ")
                    after = avatar_idle(q)
                    costs[name] = (after[0] - before[0]) - (after[1] - before[1])
                # lxb's line may come before or after lxa's marker line.
                m = re.search(RECV_RE, q.output[sent_at:]) or q.expect(RECV_RE, 300)
                got = int(m.group(1))
            except harness.TestFailure as e:
                raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))
    if got != want:
        raise harness.TestFailure(f"VM lxb received {got} bytes, not {want}")
    avatar = (costs["send"] - costs["null"]) / want
    yield (f"Linux VM to Linux VM nc {VM2VM_MIB} MiB on one switch (Avatar, SMP=1), per byte",
           round(avatar, 2))
    tx, rx = bare_vm_to_vm_per_byte(build_dir)
    yield (f"Linux VM to Linux VM nc {VM2VM_MIB} MiB, bare: two QEMUs on a socket netdev, sender "
           "guest, per byte"), round(tx, 2)
    yield (f"Linux VM to Linux VM nc {VM2VM_MIB} MiB, bare: two QEMUs on a socket netdev, "
           "receiver guest, per byte"), round(rx, 2)
    yield (f"Linux VM to Linux VM nc {VM2VM_MIB} MiB, bare: two QEMUs on a socket netdev, both "
           "guests, per byte"), round(tx + rx, 2)
    user = bare_net_per_byte(build_dir)
    yield (f"Linux guest nc {NET_MIB} MiB to the host, bare QEMU user-mode path (linux_net), "
           "per byte"), round(user, 2)
    yield "Linux VM to VM, Avatar / bare two-QEMU VM to VM", round(avatar / (tx + rx), 3)
    yield "Linux VM to VM, Avatar / bare user-mode path (goal < 1)", round(avatar / user, 3)


@bench
def linux_start(build_dir):
    """`guest start linux` (RAM, the kernel and initramfs from host.img, the device tree) with
    the hypervisor shell pinned to CPU 0 and then to CPU 1, on SMP=2: milliseconds as the start
    reports them, the mean of three, on the host clock (QEMU without icount). Not an instruction
    count: under icount, while every CPU waits for the disk virtual time jumps to the next tick,
    so that figure is mostly how many waits fell before which tick (measured: 12 s and 0.3 s)."""
    import tempfile
    lx = pathlib.Path(build_dir) / "guests" / "linux"
    image, initrd = lx / "Image", lx / "initrd.cpio.gz"
    if not image.exists():
        raise harness.TestFailure(f"{image} is missing: make linux-guest")
    with tempfile.TemporaryDirectory() as d:
        disk = guest_disk(d, 64, {"linux": [image, initrd]})
        cfg = Config(hv=True, gic=2, smp=2, build_dir=build_dir, icount=False, extra_args=disk)
        with harness.Qemu(cfg) as q:
            try:
                q.wait_boot()
                for cpu in (0, 1):
                    q.command(f"pin shell {cpu}")
                    ms = []
                    for _ in range(3):
                        out = q.command("guest start linux", timeout=600)
                        m = re.search(r"guest linux: started .* in (\d+) ms", out)
                        if not m:
                            raise harness.TestFailure(f"guest start linux printed:\n{out}")
                        ms.append(int(m.group(1)))
                        q.command("guest stop linux", timeout=120)
                    yield (f"guest start linux, shell on CPU {cpu} (SMP=2), host ms",
                           sum(ms) // len(ms))
            except harness.TestFailure as e:
                raise harness.TestFailure(with_console(f"{describe(cfg)}: {e}", q))


def avatar_idle(q):
    """(virtual ns since reset, ns all CPUs spent idle) from the hypervisor shell's uptime."""
    out = q.command("uptime")
    m = re.search(r"^uptime: (\d+) ns; .*; CPUs idle (\d+) ns$", out, re.M)
    if not m:
        raise harness.TestFailure(f"uptime printed:\n{out}")
    return int(m.group(1)), int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory (default: build)")
    ap.add_argument("-k", metavar="SUBSTR", help="run only benchmarks whose name contains SUBSTR")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args()

    benches = [b for b in BENCHES if not args.k or args.k in b.__name__]
    if args.list:
        print("\n".join(b.__name__ for b in benches))
        return 0

    failed = []
    print("| figure | instructions |")
    print("|---|---|", flush=True)
    try:
        for b in benches:
            try:
                for figure, value in b(args.build):
                    print(f"| {figure} | {value} |", flush=True)
            except harness.Skip as e:
                print(f"bench skipped: {b.__name__}: {e}", file=sys.stderr, flush=True)
            except harness.TestFailure as e:
                failed.append(f"{b.__name__}: {e}")
    except KeyboardInterrupt:
        harness.kill_all(stop=True)
        return 130
    finally:
        harness.kill_all()
    for f in failed:
        print(f"bench failed: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
