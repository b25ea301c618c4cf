"""linux.py - Debian's arm64 kernel with a busybox initramfs (scripts/get_linux_guest.sh) as an
Avatar guest: boot on GICv2 and GICv3 hosts, SMP, commands through the console, poweroff and
reboot of that VM only, and Linux beside TestOS and beside another Linux."""

import os
import re
import tempfile

from cases import case
from cases.vmm import make_image
from cases.vmm_run import mark, testos_bin, testos_cfg, wait_all
from harness import Config, TestFailure

READY = r"\[{name}\] AVATAR-LINUX-READY (\d+) cpus"
LINUX_TIMEOUT = 300
# Deterministic runs (docs/design.md, "Determinism"): no DTB randomness, a fixed clock; the guest has nokaslr.
DETERMINISTIC = ["-M", "dtb-randomness=off", "-rtc", "base=2026-01-01T00:00:00"]


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def linux_files(t):
    d = os.path.join(t.build_dir, "guests", "linux")
    files = {}
    for name in ("Image", "initrd.cpio.gz"):
        path = os.path.join(d, name)
        if not os.path.exists(path):
            raise TestFailure(f"{path} is missing: run `make linux-guest` (make test does)")
        with open(path, "rb") as f:
            files[name] = f.read()
    return files


def linux2_cfg():
    return ("name = linux2\nkernel = /guests/linux/Image\ninitrd = /guests/linux/initrd.cpio.gz\n"
            "smp = 2\nmemory = 128M\n"
            "bootargs = console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init nokaslr\n")


def boot(t, directory, gic, extra=None):
    guests = {"linux": linux_files(t), "testos": {"testos.bin": testos_bin(t)}}
    guests.update(extra or {})
    img = make_image(directory, guests)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
             "-device", "virtio-blk-device,drive=hd0"]
    return t.boot(Config(hv=True, gic=gic, smp=2, extra_args=drive + DETERMINISTIC))


def attach(q, name):
    q.send(f"guest console {name}")
    q.expect(rf"\[console: {name};")


def detach(q):
    q.write("\x1d")
    q.expect(r"\[console: back to the hypervisor shell\]\n")
    q.expect(r"avatar> ")


def sh(q, command, pattern, timeout=60):
    """Type a command into the attached Linux shell and wait for pattern in its output."""
    q.write(command + "\r")
    return q.expect(pattern, timeout)


for gic in (2, 3):
    @case(f"linux/boot-shell-poweroff-gic{gic}")
    def _boot(t, gic=gic):
        """Linux boots to its shell with both vCPUs; a command's output comes back through the
        console; its poweroff stops that VM only and the hypervisor shell goes on."""
        with tempfile.TemporaryDirectory() as d:
            q = boot(t, d, gic)
            start = mark(q)
            out = q.command("guest start linux")
            check("guest linux: started (2 vCPUs, 128 MiB)" in out, f"guest start linux:\n{out}")
            text = wait_all(q, [READY.format(name="linux")], start, LINUX_TIMEOUT)
            check(re.search(READY.format(name="linux").replace("(\\d+)", "2"), text),
                  f"Linux did not bring up 2 CPUs:\n{text[-3000:]}")
            check(re.search(rf"\[linux\] .*GICv{gic}", text) or gic == 2,
                  f"Linux did not find a GICv{gic}:\n{text[-3000:]}")
            attach(q, "linux")
            sh(q, "echo sum=$((6*7)) cpus=$(nproc) arch=$(uname -m)",
               r"sum=42 cpus=2 arch=aarch64")
            sh(q, "grep -c ^processor /proc/cpuinfo", r"^2\r?\n")
            q.write("poweroff\r")
            q.expect(r"guest linux: powered off \(PSCI SYSTEM_OFF from vCPU \d\)", LINUX_TIMEOUT)
            q.expect(r"\[console: linux is no longer running\]\n")
            q.expect(r"avatar> ")
            out = q.command("guest status")
            check(re.search(r"^linux\s+stopped .*powered off", out, re.M), f"guest status:\n{out}")
            out = q.command("version")
            check("Avatar" in out, f"the hypervisor shell stopped answering:\n{out}")


@case("linux/reboot-gic3")
def _reboot(t):
    """reboot in Linux restarts that VM, which boots to its shell again."""
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 3)
        start = mark(q)
        q.command("guest start linux")
        wait_all(q, [READY.format(name="linux")], start, LINUX_TIMEOUT)
        attach(q, "linux")
        start = mark(q)
        q.write("reboot\r")
        wait_all(q, [r"guest linux: reset \(PSCI SYSTEM_RESET from vCPU \d\)",
                     r"guest linux: restarted", READY.format(name="linux")], start, LINUX_TIMEOUT)


@case("linux/with-testos-gic2")
def _with_testos(t):
    """Linux and TestOS at the same time: TestOS passes all its checks while Linux boots."""
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 2)
        start = mark(q)
        q.command("guest start linux")
        q.command("guest start testos")
        wait_all(q, [READY.format(name="linux"), r"\[testos\] TESTOS PASS 14 checks"], start,
                 LINUX_TIMEOUT)
        attach(q, "linux")
        sh(q, "echo still $((40+2))", r"still 42")
        detach(q)


@case("linux/two-linux-gic3")
def _two(t):
    """Two Linux VMs at the same time, each with its own console."""
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 3, {"linux2": {"guest.cfg": linux2_cfg()}})
        start = mark(q)
        q.command("guest start linux")
        q.command("guest start linux2")
        wait_all(q, [READY.format(name="linux"), READY.format(name="linux2")], start,
                 LINUX_TIMEOUT)
        attach(q, "linux2")
        sh(q, "echo I am $((1+1))nd", r"I am 2nd")
        detach(q)
        out = q.command("guest log linux2")
        check("[linux2] I am 2nd" in out and "AVATAR-LINUX-READY" in out, f"log:\n{out}")


DISK_CFG = ("name = lxdisk\nkernel = /guests/linux/Image\ninitrd = /guests/linux/initrd.cpio.gz\n"
            "smp = 2\nmemory = 128M\n"
            "bootargs = console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init nokaslr\n"
            "device = virtio-blk,image=disk.img\n")


@case("linux/virtio-disk-gic2")
def _disk(t):
    """The guest's virtio-blk disk is an image file on host.img: Linux sees /dev/vda, makes a FAT
    file system on it and writes a file; after the VM stops, the host finds what it wrote in the
    image file."""
    import subprocess
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 2, {"lxdisk": {"guest.cfg": DISK_CFG, "disk.img": bytes(8 << 20)}})
        start = mark(q)
        out = q.command("guest start lxdisk")
        check("guest lxdisk: started" in out, f"guest start lxdisk:\n{out}")
        wait_all(q, [READY.format(name="lxdisk")], start, LINUX_TIMEOUT)
        attach(q, "lxdisk")
        sh(q, "cat /sys/block/vda/size", r"^16384\r?\n")
        sh(q, "mkdosfs /dev/vda >/dev/null && echo mkfs-ok", r"^mkfs-ok")
        sh(q, "mount /dev/vda /mnt && echo written by linux > /mnt/hello.txt && umount /mnt "
              "&& echo disk-ok", r"^disk-ok")
        sh(q, "mount /dev/vda /mnt && cat /mnt/hello.txt", r"^written by linux")
        start = mark(q)
        q.write("umount /mnt; poweroff\r")
        wait_all(q, [r"guest lxdisk: powered off", r"lxdisk is no longer running\]\navatar> "],
                 start, LINUX_TIMEOUT)
        q.send("poweroff")  # the hypervisor writes everything back, then QEMU exits
        check(q.wait_exit() == 0, "QEMU did not power off cleanly")
        img = os.path.join(d, "host.img")
        disk = os.path.join(d, "out-disk.img")
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        subprocess.run(["mcopy", "-o", "-i", img, "::/guests/lxdisk/disk.img", disk], check=True,
                       env=env)
        # busybox mkdosfs always makes FAT32, which mtools reads as FAT16 on a disk this small
        # (it goes by the cluster count), so look for the guest's bytes in the image directly.
        with open(disk, "rb") as f:
            data = f.read()
        check(data[510:512] == b"\x55\xaa" and data[82:87] == b"FAT32",
              f"no FAT32 boot sector from the guest's mkdosfs: {data[:96]!r}")
        check(b"written by linux\n" in data, "the file the guest wrote is not in disk.img")


GPIO_CFG = ("name = lxgpio\nkernel = /guests/linux/Image\ninitrd = /guests/linux/initrd.cpio.gz\n"
            "smp = 1\nmemory = 128M\nbootargs = console=ttyAMA0 rdinit=/init nokaslr\n"
            "passthrough = pl061@0x09030000,size=0x1000,irq=39\n")
VIRTIO_PT_CFG = ("name = lxvirtio\nkernel = /guests/linux/Image\n"
                 "passthrough = virtio-mmio@0x0a003a00,size=0x200,irq=77\n")


for gic in (2, 3):
    @case(f"linux/passthrough-gpio-gic{gic}")
    def _passthrough(t, gic=gic):
        """QEMU virt's PL061 GPIO controller (which the host does not use) given to a Linux VM:
        Linux probes the real device through its stage-2 mapping, and the real interrupt (QEMU's
        power button, GPIO 3, SPI 7) reaches that VM. A virtio-mmio slot is refused (DMA, no
        SMMU)."""
        with tempfile.TemporaryDirectory() as d:
            q = boot(t, d, gic, {"lxgpio": {"guest.cfg": GPIO_CFG},
                                 "lxvirtio": {"guest.cfg": VIRTIO_PT_CFG}})
            out = q.command("guest start lxvirtio")
            check(re.search(r"guest lxvirtio: passthrough virtio-mmio@0xa003a00: its pages "
                            r"0xa003000-0xa003fff hold a virtio-mmio slot", out),
                  f"a virtio-mmio passthrough was not refused:\n{out}")
            start = mark(q)
            out = q.command("guest start lxgpio")
            check("guest lxgpio: started" in out, f"guest start lxgpio:\n{out}")
            wait_all(q, [READY.format(name="lxgpio")], start, LINUX_TIMEOUT)
            attach(q, "lxgpio")
            sh(q, "cat /sys/class/gpio/gpiochip*/label", r"^9030000\.pl061\r?\n")
            sh(q, "b=$(cat /sys/class/gpio/gpiochip*/base); echo $((b+3)) > /sys/class/gpio/export"
                  " && echo both > /sys/class/gpio/gpio$((b+3))/edge && echo edge-ok", r"^edge-ok")
            sh(q, "grep pl061 /proc/interrupts", r"^\s*\d+:\s+0 9030000\.pl061\s+3 Edge")
            # QEMU's monitor (Ctrl-A c) presses the power button: the PL061 raises SPI 7.
            q.write("\x01c")
            q.expect(r"\(qemu\) ")
            q.write("system_powerdown\r")
            q.expect(r"\(qemu\) ")
            q.write("\x01c")
            q.write("\r")
            sh(q, "grep pl061 /proc/interrupts", r"^\s*\d+:\s+[1-9]\d* 9030000\.pl061\s+3 Edge")
            detach(q)


# A user's device tree for the VM, deliberately off where the VM decides: 4 CPUs, 1 GiB, smc,
# other bootargs. Avatar must patch those and keep the devices as written.
USER_DTS = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    compatible = "linux,dummy-virt"; interrupt-parent = <&gic>;
    psci { compatible = "arm,psci-1.0", "arm,psci-0.2"; method = "smc"; };
    cpus {
        #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a72"; reg = <0>; enable-method = "psci"; };
        cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a72"; reg = <1>; enable-method = "psci"; };
        cpu@2 { device_type = "cpu"; compatible = "arm,cortex-a72"; reg = <2>; enable-method = "psci"; };
        cpu@3 { device_type = "cpu"; compatible = "arm,cortex-a72"; reg = <3>; enable-method = "psci"; };
    };
    memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40000000>; };
    gic: intc@8000000 {
        compatible = "arm,cortex-a15-gic"; #interrupt-cells = <3>; #address-cells = <0>;
        interrupt-controller; reg = <0x0 0x8000000 0x0 0x1000>, <0x0 0x8010000 0x0 0x2000>;
    };
    timer { compatible = "arm,armv8-timer"; always-on;
        interrupts = <1 13 0xf08>, <1 14 0xf08>, <1 11 0xf08>, <1 10 0xf08>; };
    clk: apb-pclk { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; };
    pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x0 0x9000000 0x0 0x1000>;
        interrupts = <0 1 4>; clocks = <&clk>, <&clk>; clock-names = "uartclk", "apb_pclk"; };
    chosen { bootargs = "console=ttyAMA0 user-dtb-bootargs"; stdout-path = "/pl011@9000000"; };
};
"""
USER_DTB_CFG = ("name = lxdtb\nkernel = /guests/linux/Image\ninitrd = /guests/linux/initrd.cpio.gz\n"
                "dtb = user.dtb\nsmp = 2\nmemory = 128M\n"
                "bootargs = console=ttyAMA0 rdinit=/init nokaslr avatar-patched\n")


@case("linux/user-dtb-patched-gic2")
def _user_dtb(t):
    """A manifest's own dtb is patched to the VM: CPUs cut to smp, memory to the VM's RAM, PSCI
    to hvc, bootargs and initrd from the manifest; Linux boots with it."""
    import subprocess
    with tempfile.TemporaryDirectory() as d:
        dtb = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", "-"],
                             input=USER_DTS.encode(), stdout=subprocess.PIPE, check=True).stdout
        q = boot(t, d, 2, {"lxdtb": {"guest.cfg": USER_DTB_CFG, "user.dtb": dtb}})
        start = mark(q)
        out = q.command("guest start lxdtb")
        check("guest lxdtb: started (2 vCPUs, 128 MiB)" in out, f"guest start lxdtb:\n{out}")
        wait_all(q, [READY.format(name="lxdtb").replace("(\\d+)", "2")], start, LINUX_TIMEOUT)
        attach(q, "lxdtb")
        sh(q, "cat /proc/cmdline", r"avatar-patched")
        sh(q, "grep MemTotal /proc/meminfo", r"MemTotal:\s+1[0-2]\d{4} kB")
        sh(q, "cat /proc/device-tree/psci/method; echo", r"^hvc")
        detach(q)


HOST_DATE_RE = r"date: (\d+) s since the epoch"
RTC_BASE = 1767225600  # 2026-01-01T00:00:00 UTC, DETERMINISTIC's -rtc base


@case("linux/rtc-wall-clock-gic2")
def _rtc(t):
    """Linux's clock comes from its PL031 (rtc-pl031, hctosys): `date +%s` in the guest is the
    hypervisor's wall clock (its `date`, from the host's RTC) to within a couple of seconds. Its
    alarm interrupt comes on time while Linux sleeps without touching the RTC. A guest that sets
    its RTC (hwclock -w) moves only its own clock."""
    with tempfile.TemporaryDirectory() as d:
        q = boot(t, d, 2)
        start = mark(q)
        q.command("guest start linux")
        text = wait_all(q, [READY.format(name="linux")], start, LINUX_TIMEOUT)
        check("rtc-pl031" in text and "setting system clock to 2026-01-01" in text,
              f"Linux did not take its time from the PL031:\n{text[-3000:]}")
        before = int(re.search(HOST_DATE_RE, q.command("date")).group(1))
        attach(q, "linux")
        guest = int(sh(q, "echo guest-now $(date +%s)", r"guest-now (\d+)\r?\n").group(1))
        detach(q)
        after = int(re.search(HOST_DATE_RE, q.command("date")).group(1))
        check(RTC_BASE <= before and before - 2 <= guest <= after + 2,
              f"guest date {guest} is not within the host's {before}..{after} (+-2 s)")
        attach(q, "linux")
        m = sh(q, "echo +2 > /sys/class/rtc/rtc0/wakealarm && sleep 4 && echo alarm-irqs "
                  "$(grep rtc-pl031 /proc/interrupts)", r"alarm-irqs\s+\d+:((?:\s+\d+)+)\s+\D")
        check(sum(int(n) for n in m.group(1).split()) == 1,
              f"the RTC alarm interrupt came {m.group(1)} times, want once")
        sh(q, "date -s @1000000000 >/dev/null && hwclock -w && echo rtc-now "
              "$(cat /sys/class/rtc/rtc0/since_epoch)", r"rtc-now (1000000\d\d\d)\r?\n")
        detach(q)
        host = int(re.search(HOST_DATE_RE, q.command("date")).group(1))
        check(after <= host <= after + 60, f"the host's clock moved with the guest's: {host}")
