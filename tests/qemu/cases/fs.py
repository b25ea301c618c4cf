"""fs.py - storage: virtio-blk (modern and legacy virtio-mmio), the block cache (`blk`), and files (`fs`)."""

import os
import re
import tempfile

from cases import case
from harness import Config, TestFailure

SECTOR = 512
RAMP = bytes(range(256)) * 4
# Odd on purpose: the last 4 KiB cache block of the disk is short.
IMAGE_SECTORS = 16387
HEXDUMP_RE = re.compile(r"^([0-9a-f]{8,}):((?: [0-9a-f]{2}){16})  \|.{16}\|$", re.M)
PROBE_RE = r"^virtio-blk: (vd[a-z]) 0x([0-9a-f]{8}) irq (\d+): (\d+) sectors \((\d+) MiB\)(.*)\n"
INFO_RE = (r"^(vd[a-z]): virtio-mmio v(\d)( \(legacy\))? at 0x([0-9a-f]+) irq (\d+), (\d+) sectors "
           r"of (\d+) bytes \((\d+) MiB\)(.*)$")
DRIVER_STATS_RE = (r"^vda: requests (\d+), errors (\d+), most in flight (\d+), "
                   r"interrupts (\d+)$")
CACHE_STATS_RE = (r"^cache vda: hits (\d+), misses (\d+), writebacks (\d+), evictions (\d+), "
                  r"device reads (\d+), device writes (\d+), syncs (\d+), direct (\d+); (\d+) of (\d+) blocks "
                  r"used, (\d+) dirty \((\d+) bytes each\)$")

MODERN = ["-global", "virtio-mmio.force-legacy=false"]
LEGACY = ["-global", "virtio-mmio.force-legacy=true"]
# (tag, machine, transport arguments, virtio-mmio version blk info must report)
TRANSPORTS = [
    ("modern-el1", Config(hv=False, gic=2, smp=2), MODERN, 2),
    ("legacy-el2", Config(hv=True, gic=3, smp=2), LEGACY, 1),
]


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def sector_bytes(lba):
    """The known content of sector lba: its number in ASCII, then a ramp that depends on lba."""
    head = b"LBA%08d" % lba
    start = (lba * 7) & 0xff
    return head + RAMP[start:start + SECTOR - len(head)]


def make_image(directory, nsectors=IMAGE_SECTORS):
    path = os.path.join(directory, "disk.img")
    with open(path, "wb") as f:
        for lba in range(nsectors):
            f.write(sector_bytes(lba))
    return path


def read_image(path, lba, count=1):
    with open(path, "rb") as f:
        f.seek(lba * SECTOR)
        return f.read(count * SECTOR)


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def drive(path, extra=""):
    return ["-drive", f"if=none,id=hd0,format=raw,file={path}{extra}",
            "-device", "virtio-blk-device,drive=hd0"]


def machine(base, transport, drive_args):
    return Config(hv=base.hv, gic=base.gic, smp=base.smp, extra_args=transport + drive_args)


def probe_line(q):
    """The driver's boot line for the disk (printed before the prompt)."""
    m = re.search(PROBE_RE, q.output, re.M)
    check(m, "no 'virtio-blk: vda ...' line at boot")
    return m


def parse_hexdump(out, lba, count):
    """The bytes of a `blk read` dump, checking it covers exactly sectors [lba, lba+count)."""
    data = bytearray()
    for m in HEXDUMP_RE.finditer(out):
        addr = int(m.group(1), 16)
        check(addr == lba * SECTOR + len(data),
              f"hexdump line at 0x{addr:x}, expected 0x{lba * SECTOR + len(data):x}:\n{out}")
        data += bytes(int(x, 16) for x in m.group(2).split())
    check(len(data) == count * SECTOR,
          f"hexdump has {len(data)} bytes, expected {count * SECTOR}:\n{out}")
    return bytes(data)


def expect_sectors(q, disk, lba, count, expected):
    out = q.command(f"blk read {disk} {lba}" + (f" {count}" if count != 1 else ""))
    got = parse_hexdump(out, lba, count)
    if got != expected:
        first = next(i for i in range(len(got)) if got[i] != expected[i])
        raise TestFailure(f"blk read {disk} {lba} {count}: byte {first} is 0x{got[first]:02x}, "
                          f"expected 0x{expected[first]:02x}")


def stats(q):
    out = q.command("blk stats")
    drv = re.search(DRIVER_STATS_RE, out, re.M)
    cache = re.search(CACHE_STATS_RE, out, re.M)
    check(drv and cache, f"blk stats printed:\n{out}")
    names = ("hits", "misses", "writebacks", "evictions", "dev_reads", "dev_writes", "syncs",
             "direct", "used", "nblocks", "dirty", "block_bytes")
    result = dict(zip(("requests", "errors", "in_flight", "interrupts"),
                      (int(x) for x in drv.groups())))
    result.update(zip(names, (int(x) for x in cache.groups())))
    return result


def expect_sum(q, image, lba, count, raw):
    out = q.command(f"blk sum vda {lba} {count}" + (" raw" if raw else ""), timeout=60)
    m = re.search(r"^fnv1a64 (\d+)\+(\d+)( raw)?: 0x([0-9a-f]{16})$", out, re.M)
    check(m, f"blk sum printed:\n{out}")
    want = fnv1a64(read_image(image, lba, count))
    check(int(m.group(4), 16) == want,
          f"blk sum {lba}+{count}{' raw' if raw else ''}: 0x{m.group(4)}, image has 0x{want:016x}")


for tag, base, transport, version in TRANSPORTS:

    @case(f"fs/blk-read-{tag}")
    def _read(t, base=base, transport=transport, version=version):
        with tempfile.TemporaryDirectory() as tmp:
            image = make_image(tmp)
            q = t.boot(machine(base, transport, drive(image)))
            probe = probe_line(q)
            check(probe.group(1) == "vda" and int(probe.group(4)) == IMAGE_SECTORS
                  and probe.group(5) == "8" and probe.group(6) == "",
                  f"probe line: {probe.group(0)!r}")

            out = q.command("blk info")
            m = re.search(INFO_RE, out, re.M)
            check(m, f"blk info printed:\n{out}")
            check(int(m.group(2)) == version, f"transport v{m.group(2)}, expected v{version}")
            check(int(m.group(6)) == IMAGE_SECTORS and m.group(7) == "512" and m.group(8) == "8",
                  f"capacity: {m.group(0)!r}")
            check(m.group(9) == "", f"unexpected flags: {m.group(0)!r}")
            feats = re.search(r"^  features:(.*)$", out, re.M)
            check(feats and "flush" in feats.group(1).split(), f"no flush feature:\n{out}")
            check(("version_1" in feats.group(1).split()) == (version == 2),
                  f"VERSION_1 negotiated wrongly for v{version}:\n{out}")

            for lba in (0, 1, 4095, 8192, IMAGE_SECTORS - 1):
                expect_sectors(q, "0", lba, 1, sector_bytes(lba))
            # A span across a cache block boundary, by name.
            expect_sectors(q, "vda", 7, 2, sector_bytes(7) + sector_bytes(8))
            # Again: now from the cache, so no new device reads.
            before = stats(q)
            expect_sectors(q, "vda", 6, 3, sector_bytes(6) + sector_bytes(7) + sector_bytes(8))
            after = stats(q)
            check(after["dev_reads"] == before["dev_reads"] and after["hits"] == before["hits"] + 2,
                  f"re-read was not served by the cache: {before} then {after}")

            # 2 MiB raw: 1 MiB reads split into 64 KiB requests, all in flight together.
            expect_sum(q, image, 100, 4096, raw=True)
            # Through the cache: more than its first 1 MiB, starting mid-block, ending in the
            # short last block. The hypervisor's fixed cache lets the whole blocks in between
            # bypass it (large device requests); the native kernel's grows into free RAM and
            # keeps them. Either way what the cache held stays there.
            expect_sum(q, image, IMAGE_SECTORS - 3000, 3000, raw=False)
            st = stats(q)
            check(st["in_flight"] >= 16, f"at most {st['in_flight']} requests in flight")
            check(st["errors"] == 0, f"{st['errors']} request errors")
            check(0 < st["interrupts"] <= st["requests"],
                  f"{st['interrupts']} interrupts for {st['requests']} requests")
            if base.hv:
                check(st["direct"] >= 1 and st["evictions"] == 0 and st["used"] < st["nblocks"],
                      f"cache: {st}")
            else:
                check(st["direct"] == 0 and st["evictions"] == 0 and st["nblocks"] > 256
                      and st["used"] >= 3000 // 8, f"cache did not grow: {st}")
                before = stats(q)
                expect_sum(q, image, IMAGE_SECTORS - 3000, 3000, raw=False)
                after = stats(q)
                check(after["dev_reads"] == before["dev_reads"], f"re-read: {before} then {after}")

            # Bad arguments get a message, not a request.
            out = q.command(f"blk read 0 {IMAGE_SECTORS}")
            check("past the end" in out, f"read past the end printed:\n{out}")
            out = q.command("blk read vdz 0")
            check("no disk 'vdz'" in out, f"unknown disk printed:\n{out}")
            out = q.command("blk read 0 12x")
            check("bad sector number" in out, f"bad number printed:\n{out}")
            check(stats(q)["requests"] == st["requests"], "a rejected command reached the disk")

    @case(f"fs/blk-write-sync-{tag}")
    def _write(t, base=base, transport=transport):
        with tempfile.TemporaryDirectory() as tmp:
            image = make_image(tmp)
            q = t.boot(machine(base, transport, drive(image)))
            # Boot already read the first block (the root mount looks for FAT32 there).
            boot_reads = stats(q)["dev_reads"]
            # Sectors 1003..3102: the partial blocks at both ends (1003..1007, 3096..3102) are
            # written back later; the 261 whole blocks between go to the disk now, as two
            # transfers of at most 1 MiB, each split into 64 KiB requests all in flight.
            out = q.command("blk write 0 1003 2100 0xa5")
            check(re.search(r"^wrote 2100 sectors at 1003 ", out, re.M), f"blk write printed:\n{out}")
            out = q.command("blk write vda 5000 1 7")
            check("wrote 1 sectors at 5000" in out, f"blk write printed:\n{out}")
            check(read_image(image, 1008, 2088) == b"\xa5" * 2088 * SECTOR,
                  "the whole blocks of the write did not reach the image at once")
            for lba, n in ((1003, 5), (3096, 7), (5000, 1)):
                check(read_image(image, lba, n) == b"".join(sector_bytes(s)
                                                            for s in range(lba, lba + n)),
                      f"write-back sectors {lba}..{lba + n - 1} changed before blk sync")
            expect_sectors(q, "0", 3102, 2, b"\xa5" * SECTOR + sector_bytes(3103))
            st = stats(q)
            check(st["dirty"] == 3 and st["dev_writes"] == 2 and st["direct"] == 2,
                  f"before sync: {st}")
            check(st["in_flight"] >= 16, f"the large write had {st['in_flight']} requests in flight")

            out = q.command("blk sync")
            check(re.search(r"^synced$", out, re.M), f"blk sync printed:\n{out}")
            check(read_image(image, 1003, 2100) == b"\xa5" * 2100 * SECTOR,
                  "sectors 1003..3102 are not 0xa5 in the image after sync")
            check(read_image(image, 5000) == b"\x07" * SECTOR, "sector 5000 not written")
            for lba in (1002, 3103, 4999, 5001):
                check(read_image(image, lba) == sector_bytes(lba), f"sector {lba} was changed")
            st = stats(q)
            check(st["dirty"] == 0 and st["writebacks"] == 3 and st["syncs"] == 1,
                  f"after sync: {st}")
            # Only the dirty sectors went out: one run per written-back block.
            check(st["dev_writes"] == 5 and st["dev_reads"] == boot_reads + 1, f"after sync: {st}")
            check(st["errors"] == 0, f"{st['errors']} request errors")


@case("fs/blk-read-only-el1")
def _read_only(t):
    with tempfile.TemporaryDirectory() as tmp:
        image = make_image(tmp)
        q = t.boot(machine(Config(), MODERN, drive(image, ",readonly=on")))
        probe = probe_line(q)
        check(probe.group(6) == " read-only", f"probe line: {probe.group(0)!r}")
        out = q.command("blk info")
        check(re.search(r"^vda: .*, read-only$", out, re.M), f"blk info printed:\n{out}")
        check(re.search(r"^  features:.* ro( |$)", out, re.M), f"no ro feature:\n{out}")
        out = q.command("blk write 0 10 1 0")
        check("failed: -30 (read-only disk)" in out, f"write to a read-only disk printed:\n{out}")
        out = q.command("blk sync")
        check(re.search(r"^synced$", out, re.M), f"blk sync printed:\n{out}")
        expect_sectors(q, "0", 10, 1, sector_bytes(10))
        check(read_image(image, 10) == sector_bytes(10), "the read-only image changed")


@case("fs/blk-io-error-el1")
def _io_error(t):
    with tempfile.TemporaryDirectory() as tmp:
        image = make_image(tmp)
        conf = os.path.join(tmp, "blkdebug.conf")
        with open(conf, "w") as f:
            f.write('[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "800"\n')
        args = ["-drive", f"if=none,id=hd0,format=raw,file.driver=blkdebug,file.config={conf},"
                f"file.image.filename={image}", "-device", "virtio-blk-device,drive=hd0"]
        q = t.boot(machine(Config(smp=2), MODERN, args))
        # Sector 800 starts cache block 100 (800..807): any sector of it fails, every time.
        for lba in (803, 800):
            out = q.command(f"blk read 0 {lba}")
            check(f"blk: read of sector {lba} failed: -5 (I/O error)" in out,
                  f"read of the failing sector {lba} printed:\n{out}")
        out = q.command("blk sum 0 780 40 raw")
        check("failed: -5 (I/O error)" in out, f"raw read over the bad sector printed:\n{out}")
        expect_sectors(q, "0", 808, 1, sector_bytes(808))
        expect_sectors(q, "0", 799, 1, sector_bytes(799))
        st = stats(q)
        check(st["errors"] >= 3, f"{st['errors']} errors counted, expected at least 3")


@case("fs/blk-no-disk-el1")
def _no_disk(t):
    q = t.boot(Config())
    out = q.command("blk info")
    check(re.search(r"^no virtio-blk disks$", out, re.M), f"blk info printed:\n{out}")
    out = q.command("blk read 0 0")
    check("no disk '0'" in out, f"blk read without a disk printed:\n{out}")
    out = q.command("blk sync")
    check(re.search(r"^synced$", out, re.M), f"blk sync printed:\n{out}")
    out = q.command("blk")
    check("usage: blk" in out, f"blk alone printed:\n{out}")


# ---- FAT32 through the VFS and the `fs` shell commands, checked against mtools on the host ----

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
LONG_NAME = "A long file name with spaces.txt"
HOST_TEXT = "first line\nsecond line, from the host\n"


def host(*argv, check_rc=True):
    """Run a host tool; returns its stdout (text)."""
    import subprocess
    r = subprocess.run(argv, env=MTOOLS_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = r.stdout.decode("utf-8", errors="replace")
    if check_rc and r.returncode != 0:
        raise TestFailure(f"{' '.join(argv)} exited {r.returncode}:\n{out}")
    return out


def make_fat_image(directory):
    """A 64 MiB FAT32 image made by the project script and filled by mcopy."""
    img = os.path.join(directory, "host.img")
    host("bash", os.path.join(ROOT, "scripts/create_host_img.sh"), "-s", "64", "-o", img, "-f")
    src = os.path.join(directory, "src.txt")
    with open(src, "w") as f:
        f.write(HOST_TEXT)
    host("mmd", "-i", img, "::/docs")
    host("mmd", "-i", img, "::/docs/deep")
    host("mcopy", "-i", img, src, f"::/docs/{LONG_NAME}")
    host("mcopy", "-i", img, src, "::/docs/deep/short.txt")
    return img


def fat_machine(hv, img):
    return Config(hv=hv, gic=3 if hv else 2, smp=2, extra_args=drive(img))


for hv in (False, True):
    el = "el2" if hv else "el1"

    @case(f"fs/fat-read-host-files-{el}")
    def _fat_read(t, hv=hv):
        with tempfile.TemporaryDirectory() as d:
            img = make_fat_image(d)
            q = t.boot(fat_machine(hv, img))
            check(re.search(r"^fs: / is FAT32 on vda, \d+ MiB, \d+ MiB free$", q.output, re.M),
                  "no 'fs: / is FAT32 on vda' line at boot")
            out = q.command("fs ls /docs")
            check(LONG_NAME + "\n" in out.replace("\r", ""), f"fs ls /docs:\n{out}")
            check(re.search(r"^d +0 .* deep/$", out, re.M), f"fs ls /docs has no deep/:\n{out}")
            out = q.command(f'fs cat "/docs/{LONG_NAME}"')
            check(out.replace("\r", "") == HOST_TEXT, f"fs cat printed {out!r}")
            out = q.command("fs cat /DOCS/Deep/SHORT.TXT")
            check(out.replace("\r", "") == HOST_TEXT, f"case-insensitive fs cat printed {out!r}")
            out = q.command("fs cat /docs/missing.txt")
            check("no such file or directory" in out, f"missing file: {out!r}")
            out = q.command("fs info")
            check(re.search(r"^/: fat32 on vda, ", out, re.M), f"fs info:\n{out}")

    @case(f"fs/fat-write-then-host-reads-{el}")
    def _fat_write(t, hv=hv):
        with tempfile.TemporaryDirectory() as d:
            img = make_fat_image(d)
            q = t.boot(fat_machine(hv, img))
            for line in ("fs mkdir /notes",
                         "fs write /notes/hello.txt hello from avatar",
                         'fs write "/notes/Mixed Case Name.md" second file',
                         "fs cp /notes/hello.txt /notes/copy.txt",
                         "fs mv /docs/deep/short.txt /notes/moved.txt",
                         "fs write /scratch.txt to be removed",
                         "fs rm /scratch.txt",
                         "fs mkdir /empty",
                         "fs rm /empty"):
                out = q.command(line)
                check(out.strip() == "", f"'{line}' printed {out!r}")
            out = q.command("fs rm /notes")
            check("directory not empty" in out, f"fs rm of a full directory printed {out!r}")
            out = q.command("fs cat /notes/copy.txt")
            check(out.replace("\r", "") == "hello from avatar\n", f"fs cat copy: {out!r}")
            q.send("poweroff")
            q.expect("powering off")
            check(q.wait_exit() == 0, "QEMU did not exit with status 0 after poweroff")
            # What the shell wrote is on the image, exactly, and the volume is consistent.
            check(host("mtype", "-i", img, "::/notes/hello.txt") == "hello from avatar\n",
                  "mtype hello.txt differs")
            check(host("mtype", "-i", img, "::/notes/Mixed Case Name.md") == "second file\n",
                  "mtype of the long name differs")
            check(host("mtype", "-i", img, "::/notes/copy.txt") == "hello from avatar\n",
                  "mtype copy.txt differs")
            check(host("mtype", "-i", img, "::/notes/moved.txt") == HOST_TEXT,
                  "mtype moved.txt differs")
            listing = host("mdir", "-b", "-i", img, "::/notes")
            for name in ("hello.txt", "Mixed Case Name.md", "copy.txt", "moved.txt"):
                check(f"::/notes/{name}" in listing, f"mdir ::/notes lacks {name}:\n{listing}")
            for gone in ("::/scratch.txt", "::/empty"):
                out = host("mdir", "-b", "-i", img, "::/", check_rc=False)
                check(gone not in out, f"{gone} still on the image:\n{out}")
            out = host("mdir", "-b", "-i", img, "::/docs/deep", check_rc=False)
            check("short.txt" not in out, f"short.txt still in /docs/deep after mv:\n{out}")
            fsck = host("fsck.fat", "-n", img, check_rc=False)
            check("differences" not in fsck.lower() and "error" not in fsck.lower()
                  and "orphan" not in fsck.lower(), f"fsck.fat -n complains:\n{fsck}")


@case("fs/fat-not-fat-el1")
def _fat_not_fat(t):
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "zero.img")
        with open(img, "wb") as f:
            f.truncate(8 << 20)
        q = t.boot(Config(hv=False, gic=2, smp=1, extra_args=drive(img)))
        check(re.search(r"^fs: vda is not a usable FAT32 volume: .+$", q.output, re.M),
              "no clear message for a disk that is not FAT32")
        out = q.command("fs ls /")
        check("fs ls /: no such file or directory" in out, f"fs ls without a volume: {out!r}")
        out = q.command("version")
        check(out.startswith("Avatar "), "the shell stopped working")


@case("fs/page-cache-grows-and-gives-back-el1")
def _page_cache_pressure(t):
    """The native cache grows to hold a 48 MiB file read twice (the second read reaches the disk
    not at all), then gives its clean blocks back when memhog takes all the memory it may commit:
    memhog passes and the cache shrank. The file reads again afterwards, and fsck.fat is happy."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "host.img")
        host("bash", os.path.join(ROOT, "scripts/create_host_img.sh"), "-s", "96", "-o", img, "-f")
        q = t.boot(Config(hv=False, gic=2, smp=1, mem="160M", extra_args=drive(img)))
        for line, want in (("fsbench write /big.bin 48", "write"), ("fsbench read /big.bin", "read")):
            out = q.command(line, timeout=600)
            check(re.search(rf"^fsbench: {want} 50331648 bytes in", out, re.M), f"{line}:\n{out}")
        grown = stats(q)
        check(grown["nblocks"] >= 48 * 256, f"cache did not grow: {grown}")
        out = q.command("fsbench read /big.bin", timeout=600)
        check("fsbench: read 50331648 bytes" in out, f"second read:\n{out}")
        again = stats(q)
        check(again["dev_reads"] == grown["dev_reads"], f"re-read reached the disk: {again}")
        out = q.command("run memhog", timeout=600)
        summary = re.search(r"^memhog: (\d+) passed, (\d+) failed$", out, re.M)
        check(summary and summary.group(2) == "0" and not re.search(r"^FAIL", out, re.M),
              f"memhog beside a full cache:\n{out}")
        after = stats(q)
        check(after["nblocks"] < grown["nblocks"], f"the cache gave nothing back: {after}")
        out = q.command("fsbench read /big.bin", timeout=600)
        check("fsbench: read 50331648 bytes" in out, f"read after memhog:\n{out}")
        q.command("sync")
        fsck = host("fsck.fat", "-n", img, check_rc=False)
        check("differences" not in fsck.lower() and "error" not in fsck.lower(),
              f"fsck.fat -n complains:\n{fsck}")
