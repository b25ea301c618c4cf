"""vmm.py - the hypervisor's guest manifests and images through the `guest` shell commands."""

import os
import re
import struct
import subprocess
import tempfile

from cases import case
from harness import Config, Skip, TestFailure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")

# Guests on the test image: directory -> {file name: bytes}.  Built-in guests (testos, nimbos,
# linux) are listed too, with their kernels absent from this image.
RAW_CFG = """# a raw binary entered at its load address
name = rawos
kernel = k.bin
load_addr = 0x40080000
smp = 2
memory = 16M
"""
ELF_CFG = "kernel = k.elf\r\nmemory = 32M\r\nbootargs = \"quiet  loglevel=3\"\r\n"
IMG_CFG = """name = imgos
kernel = Image
initrd = rd.gz
smp = 4
memory = 1G
bootargs = console=ttyAMA0 rdinit=/init
device = virtio-blk,image=disk.img,readonly
passthrough = virtio-mmio@0x0a003a00,size=0x200,irq=78
"""
MISSING_CFG = "kernel = nothere.bin\n"
BROKEN_CFG = "kernel = bad.elf\n"
SHORT_CFG = "name = shortimg\nkernel = short.img\n"
BAD_CFG = "kernel = k.bin\nname = bad\nsmp = 12\n"
DUP_CFG = "name = TestOS\nkernel = k.bin\n"


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def elf(machine=183, phoff=64):
    """An ELF64 executable: one R+X PT_LOAD of 0x1000 bytes at 0x40080000, entry +0x40."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x40080040, phoff, 0, 0, 64,
                               56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0x1000, 0x40080000, 0x40080000, 0x1000, 0x2000,
                       0x1000)
    body = bytes((i * 7 + 1) & 0xff for i in range(0x1000))
    return (ehdr + phdr).ljust(0x1000, b"\0") + body


def arm64_image(text_offset, image_size, length):
    """An arm64 Image header (Linux booting.rst) followed by filler up to length bytes."""
    header = struct.pack("<IIQQQQQQII", 0x91005a4d, 0x14000000, text_offset, image_size, 0xa,
                         0, 0, 0, 0x644d5241, 0)
    return header + bytes(length - len(header))


GUESTS = {
    "raw": {"guest.cfg": RAW_CFG, "k.bin": bytes(range(256)) * 32},
    "elfos": {"guest.cfg": ELF_CFG, "k.elf": elf()},
    "img": {"guest.cfg": IMG_CFG, "Image": arm64_image(0x80000, 0x200000, 0x8000),
            "rd.gz": b"\x1f\x8b" + bytes(70000), "disk.img": bytes(64 * 1024)},
    "missing": {"guest.cfg": MISSING_CFG},
    "broken": {"guest.cfg": BROKEN_CFG, "bad.elf": elf(machine=62)},
    # image_size smaller than the file: a corrupt header.
    "short": {"guest.cfg": SHORT_CFG, "short.img": arm64_image(0x80000, 0x1000, 0x4000)},
    "bad": {"guest.cfg": BAD_CFG, "k.bin": b"\0" * 64},
    "dup": {"guest.cfg": DUP_CFG, "k.bin": b"\0" * 64},
    "notes": {"readme.txt": b"a directory without a guest.cfg is not a guest\n"},
}


def host(*argv):
    r = subprocess.run(argv, env=MTOOLS_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise TestFailure(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout.decode()}")


def make_image(directory, guests=GUESTS, size_mib=64):
    """host.img made by the project script, with the guests' files copied in by mtools."""
    img = os.path.join(directory, "host.img")
    host("bash", os.path.join(ROOT, "scripts/create_host_img.sh"), "-s", str(size_mib), "-o", img,
         "-f")
    host("mmd", "-i", img, "::/guests")
    for name, files in guests.items():
        host("mmd", "-i", img, f"::/guests/{name}")
        for fname, content in files.items():
            src = os.path.join(directory, f"{name}-{fname}")
            with open(src, "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
            host("mcopy", "-i", img, src, f"::/guests/{name}/{fname}")
    return img


def boot(t, directory, gic=2, guests=GUESTS):
    img = make_image(directory, guests)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
             "-device", "virtio-blk-device,drive=hd0"]
    return t.boot(Config(hv=True, gic=gic, smp=2, extra_args=drive))


def list_rows(out):
    """`guest list` rows: name -> (id, vcpus, memory, present, kernel, source)."""
    rows = {}
    for m in re.finditer(r"^(\d+)\s+(\S+)\s+(\d+)\s+(\d+ [MG]iB)\s+(yes|no)\s+(\S+)\s+(\S+)$",
                         out, re.M):
        rows[m.group(2)] = (int(m.group(1)),) + m.groups()[2:]
    return rows


@case("vmm/guest-list-el2")
def _list(t):
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d)
        out = q.command("guest list")
        check(re.search(r"^ID\s+NAME\s+VCPUS\s+MEMORY\s+PRESENT\s+KERNEL\s+SOURCE$", out, re.M),
              f"no header in guest list:\n{out}")
        rows = list_rows(out)
        want = {
            "testos": (0, "2", "64 MiB", "no", "/guests/testos/testos.bin", "built-in"),
            "nimbos": (1, "1", "128 MiB", "no", "/guests/nimbos/nimbos.bin", "built-in"),
            "linux": (2, "2", "128 MiB", "no", "/guests/linux/Image", "built-in"),
            "rawos": ("2", "16 MiB", "yes", "/guests/raw/k.bin", "/guests/raw/guest.cfg"),
            "elfos": ("1", "32 MiB", "yes", "/guests/elfos/k.elf", "/guests/elfos/guest.cfg"),
            "imgos": ("4", "1 GiB", "yes", "/guests/img/Image", "/guests/img/guest.cfg"),
            "missing": ("1", "64 MiB", "no", "/guests/missing/nothere.bin",
                        "/guests/missing/guest.cfg"),
            "broken": ("1", "64 MiB", "yes", "/guests/broken/bad.elf",
                       "/guests/broken/guest.cfg"),
            "shortimg": ("1", "64 MiB", "yes", "/guests/short/short.img",
                         "/guests/short/guest.cfg"),
        }
        check(set(rows) == set(want), f"guests listed: {sorted(rows)}, want {sorted(want)}:\n{out}")
        for name, fields in want.items():
            got = rows[name] if len(fields) == 6 else rows[name][1:]
            check(got == fields, f"{name}: listed as {rows[name]}, want {fields}")
        ids = sorted(r[0] for r in rows.values())
        check(ids == list(range(len(ids))), f"ids are not 0..{len(ids) - 1}: {ids}")
        check("refused: /guests/bad/guest.cfg:3: smp must be 1..8, got 12" in out,
              f"the bad manifest's refusal is missing:\n{out}")
        check("refused: /guests/dup/guest.cfg: guest name 'TestOS' is already taken by built-in "
              "guest 'testos'" in out, f"the duplicate's refusal is missing:\n{out}")
        check(re.search(r"^9 guests, 2 manifests refused$", out, re.M), f"no summary:\n{out}")
        # Ids stay put across scans.
        again = list_rows(q.command("guest list"))
        check(again == rows, f"second guest list differs:\n{again}\nvs\n{rows}")


@case("vmm/guest-info-el2")
def _info(t):
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d)
        out = q.command("guest info imgos")
        for line in (r"guest \d+: imgos",
                     r"  source:    /guests/img/guest\.cfg",
                     r"  kernel:    /guests/img/Image \(32768 bytes\)",
                     r"  dtb:       none",
                     r"  initrd:    /guests/img/rd\.gz \(70002 bytes\)",
                     r"  load_addr: default for the kernel's format",
                     r"  entry:     default for the kernel's format",
                     r"  vcpus:     4",
                     r"  memory:    1 GiB at IPA 0x40000000-0x7fffffff",
                     r"  bootargs:  console=ttyAMA0 rdinit=/init",
                     r"  device 0:  virtio-blk image=/guests/img/disk\.img readonly",
                     r"  device 1:  passthrough virtio-mmio@0xa003a00 size 0x200 irq 78"):
            check(re.search("^" + line + "$", out, re.M), f"guest info imgos: no /{line}/ in:\n{out}")
        out = q.command("guest info 1")
        check(re.search(r"^guest 1: nimbos$", out, re.M)
              and re.search(r"^  source:    built-in$", out, re.M)
              and re.search(r"^  kernel:    /guests/nimbos/nimbos\.bin \(no such file or directory\)$",
                            out, re.M)
              and re.search(r"^  load_addr: 0x40080000$", out, re.M)
              and re.search(r"^  entry:     0x40080000$", out, re.M)
              and re.search(r"^  devices:   none$", out, re.M),
              f"guest info 1:\n{out}")
        out = q.command("guest info elfos")
        check(re.search(r"^  bootargs:  quiet  loglevel=3$", out, re.M),
              f"quoted bootargs lost their blanks:\n{out}")
        out = q.command("guest info nosuch")
        check("guest: no guest 'nosuch' (see guest list)" in out, f"unknown guest:\n{out}")
        out = q.command("guest info")
        check("usage: guest list | info <id|name> | validate <id|name>" in out, f"usage:\n{out}")


@case("vmm/guest-validate-good-el2")
def _validate_good(t):
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d)
        for name, line in (
                ("rawos", "guest rawos: valid (raw, entry 0x40080000, 16 MiB RAM, 2 vCPUs)"),
                ("elfos", "guest elfos: valid (ELF64, entry 0x40080040, 32 MiB RAM, 1 vCPU)"),
                ("IMGOS", "guest imgos: valid (arm64 Image, entry 0x40080000, 1024 MiB RAM, "
                          "4 vCPUs)")):
            out = q.command(f"guest validate {name}")
            check(out.strip() == line, f"guest validate {name}:\n{out}")


@case("vmm/guest-validate-testos-el2")
def _validate_testos(t):
    """The built-in testos guest with the TestOS that `make` builds in its place."""
    path = os.path.join(t.build_dir, "guests", "testos", "testos.bin")
    if not os.path.isfile(path):
        raise Skip(f"{path} not built (make builds it)")
    with open(path, "rb") as f:
        testos = f.read()
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, guests={"testos": {"testos.bin": testos}})
        out = q.command("guest validate testos")
        check(out.strip() == "guest testos: valid (arm64 Image, entry 0x40080000, 64 MiB RAM, "
              "2 vCPUs)", f"guest validate testos:\n{out}")
        rows = list_rows(q.command("guest list"))
        check(rows.get("testos", (None,) * 4)[3] == "yes", f"testos not present: {rows}")


@case("vmm/guest-validate-missing-el2")
def _validate_missing(t):
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d)
        out = q.command("guest validate missing")
        check(out.strip().splitlines() == [
            "guest missing: kernel /guests/missing/nothere.bin: no such file or directory",
            "guest missing: invalid (1 problem)"], f"guest validate missing:\n{out}")
        out = q.command("guest validate 2")
        check(out.strip().splitlines() == [
            "guest linux: initrd /guests/linux/initrd.cpio.gz: no such file or directory",
            "guest linux: kernel /guests/linux/Image: no such file or directory",
            "guest linux: invalid (2 problems)"], f"guest validate 2 (linux):\n{out}")


@case("vmm/guest-validate-malformed-el2")
def _validate_malformed(t):
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, gic=3)
        out = q.command("guest validate broken")
        check(out.strip().splitlines() == [
            "guest broken: kernel /guests/broken/bad.elf: ELF machine 62 is not AArch64 (183)",
            "guest broken: invalid (1 problem)"], f"guest validate broken:\n{out}")
        out = q.command("guest validate shortimg")
        check(out.strip().splitlines() == [
            "guest shortimg: kernel /guests/short/short.img: image_size 0x1000 is smaller than "
            "the file (0x4000 bytes)",
            "guest shortimg: invalid (1 problem)"], f"guest validate shortimg:\n{out}")
        # Nothing was hurt: a good guest still validates and the shell answers.
        out = q.command("guest validate rawos")
        check("guest rawos: valid (raw" in out, f"guest validate rawos after bad ones:\n{out}")


@case("vmm/guest-bad-manifest-el2")
def _bad_manifest(t):
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d)
        out = q.command("guest validate bad")
        check("guest: no guest 'bad' (see guest list)" in out, f"guest validate bad:\n{out}")
        out = q.command("guest list")
        check("refused: /guests/bad/guest.cfg:3: smp must be 1..8, got 12" in out,
              f"no refusal in guest list:\n{out}")
        check("rawos" in list_rows(out), f"the good guests are no longer listed:\n{out}")
        # Fixed on the disk from the shell, it is accepted on the next scan.
        q.command("fs write /guests/bad/guest.cfg kernel = k.bin")
        out = q.command("guest list")
        rows = list_rows(out)
        check("bad" in rows and rows["bad"][4] == "/guests/bad/k.bin",
              f"the fixed manifest is not listed:\n{out}")
        check(re.search(r"^10 guests, 1 manifest refused$", out, re.M), f"summary:\n{out}")
        out = q.command("guest validate bad")
        check("guest bad: valid (raw, entry 0x40000000, 64 MiB RAM, 1 vCPU)" in out,
              f"guest validate bad after the fix:\n{out}")


@case("vmm/guest-list-no-disk-el2")
def _no_disk(t):
    """Without a volume only the built-in guests are there, none of them present."""
    q = t.boot(Config(hv=True, gic=2, smp=2))
    out = q.command("guest list")
    rows = list_rows(out)
    check(sorted(rows) == ["linux", "nimbos", "testos"], f"guest list without a disk:\n{out}")
    check(all(r[3] == "no" for r in rows.values()), f"a kernel is present without a disk:\n{out}")
    check(re.search(r"^3 guests, 0 manifests refused$", out, re.M), f"summary:\n{out}")
    out = q.command("guest validate nimbos")
    check(out.strip().splitlines() == [
        "guest nimbos: kernel /guests/nimbos/nimbos.bin: no such file or directory",
        "guest nimbos: invalid (1 problem)"], f"guest validate nimbos:\n{out}")


@case("vmm/guest-absent-el1")
def _absent_el1(t):
    q = t.boot(Config(hv=False))
    out = q.command("guest list")
    check("unknown command: guest" in out, f"guest in the native kernel:\n{out}")
