"""net.py - guest networking: virtio-net NICs on the hypervisor's switch. Two Linux VMs on one
switch ping each other and move 16 MiB with busybox nc, checksums equal at both ends; `net status`
counts their traffic and has learnt both addresses."""

import os
import re
import tempfile

from cases import case
from cases.linux import DETERMINISTIC, LINUX_TIMEOUT, READY, attach, detach, linux_files, sh
from cases.vmm import make_image
from cases.vmm_run import mark, wait_all
from harness import Config, Skip, TestFailure

MAC_A = "02:00:00:00:03:01"  # given in neta's manifest; netb's is derived from its name
NC_MIB = 16


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def linux_or_skip(t):
    if not all(os.path.exists(os.path.join(t.build_dir, "guests", "linux", f))
               for f in ("Image", "initrd.cpio.gz")):
        raise Skip("no Linux guest material in the build (make linux-guest)")
    return linux_files(t)


def net_cfg(name, device):
    return {"guest.cfg": (f"name = {name}\nkernel = /guests/linux/Image\n"
                          "initrd = /guests/linux/initrd.cpio.gz\nsmp = 1\nmemory = 192M\n"
                          "bootargs = console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init "
                          f"nokaslr\ndevice = {device}\n")}


def boot(t, directory, gic, guests):
    img = make_image(directory, guests, 96)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
             "-device", "virtio-blk-device,drive=hd0"]
    return t.boot(Config(hv=True, gic=gic, smp=2, extra_args=drive + DETERMINISTIC))


def start_linux(q, names):
    start = mark(q)
    for name in names:
        out = q.command(f"guest start {name}", timeout=LINUX_TIMEOUT)
        check(f"guest {name}: started" in out, f"guest start {name}:\n{out}")
    wait_all(q, [READY.format(name=n) for n in names], start, LINUX_TIMEOUT)


def configure(q, name, address):
    """A static address (no DHCP server on a switch without uplink): udhcpc goes first."""
    attach(q, name)
    sh(q, f"killall udhcpc; ifconfig eth0 {address} netmask 255.255.255.0 up; "
          "echo ADDR-$(cat /sys/class/net/eth0/address)-END", r"ADDR-([0-9a-f:]+)-END")
    mac = re.findall(r"ADDR-([0-9a-f:]+)-END", q.output)[-1]
    detach(q)
    return mac


def port_row(status, name):
    m = re.search(rf"port {name}: rx (\d+) frames (\d+) bytes, tx (\d+) frames (\d+) bytes, "
                  r"drops: length (\d+), refused (\d+)", status)
    check(m, f"no port {name} in net status:\n{status}")
    return [int(x) for x in m.groups()]


for gic in (2, 3):
    @case(f"net/two-linux-ping-nc-gic{gic}")
    def _ping_nc(t, gic=gic):
        """Two Linux VMs with `device = virtio-net` on the default switch: the NICs have the
        manifest's MAC and one derived from the name (locally administered, unicast); they ping
        each other, then 16 MiB of random data goes from one to the other with nc and both
        md5sums agree. `net status` shows both ports with that traffic, no drops on the sender's
        side, and both addresses learnt."""
        with tempfile.TemporaryDirectory() as d:
            lx = linux_or_skip(t)
            q = boot(t, d, gic, {"linux": lx,
                                 "neta": net_cfg("neta", f"virtio-net,mac={MAC_A}"),
                                 "netb": net_cfg("netb", "virtio-net,switch=sw0")})
            out = q.command("net status")
            check("no switch" in out, f"net status before any NIC:\n{out}")
            out = q.command("guest info neta")
            check(f"virtio-net switch=sw0 mac={MAC_A}" in out, f"guest info neta:\n{out}")
            start_linux(q, ["neta", "netb"])
            mac_a = configure(q, "neta", "10.0.3.1")
            mac_b = configure(q, "netb", "10.0.3.2")
            check(mac_a == MAC_A, f"neta's MAC is {mac_a}, its manifest says {MAC_A}")
            check(re.fullmatch(r"02(:[0-9a-f]{2}){5}", mac_b) and mac_b != mac_a,
                  f"netb's derived MAC {mac_b}")

            attach(q, "netb")
            sh(q, "ping -c 3 10.0.3.1", r"3 packets transmitted, 3 packets received", timeout=120)
            detach(q)
            attach(q, "neta")
            sh(q, "ping -c 2 10.0.3.2", r"2 packets transmitted, 2 packets received", timeout=120)
            sh(q, "(nc -l -p 5000 | md5sum > /tmp/r.md5) & echo BG-$((1+1))-STARTED",
               r"BG-2-STARTED")
            detach(q)

            attach(q, "netb")
            sh(q, f"dd if=/dev/urandom of=/tmp/s bs=1M count={NC_MIB} 2>/dev/null; "
                  "echo SUM-$(md5sum < /tmp/s | cut -c1-32)-END", r"SUM-([0-9a-f]{32})-END")
            sent = re.findall(r"SUM-([0-9a-f]{32})-END", q.output)[-1]
            sh(q, "nc 10.0.3.1 5000 < /tmp/s; echo NC-EXIT-$?", r"NC-EXIT-\d+", timeout=600)
            detach(q)

            attach(q, "neta")
            sh(q, "wait; echo GOT-$(cut -c1-32 /tmp/r.md5)-END", r"GOT-([0-9a-f]*)-END",
               timeout=300)
            got = re.findall(r"GOT-([0-9a-f]*)-END", q.output)[-1]
            detach(q)
            check(got == sent, f"nc: sent md5 {sent}, received {got}")

            status = q.command("net status")
            check("switch sw0: 2 ports, 2 addresses learnt" in status, f"net status:\n{status}")
            check(re.search(rf"mac {mac_a} on neta", status) and
                  re.search(rf"mac {mac_b} on netb", status), f"learnt addresses:\n{status}")
            a, b = port_row(status, "neta"), port_row(status, "netb")
            check(b[1] > NC_MIB << 20 and a[3] > NC_MIB << 20,
                  f"netb sent {b[1]} bytes, neta got {a[3]}: less than {NC_MIB} MiB\n{status}")
            check(b[4] == 0 and a[4] == 0, f"length drops:\n{status}")
            m = re.search(r"nic netb \S+ on sw0: tx (\d+) frames, rx (\d+) frames, drops: tx bad "
                          r"descriptor 0, tx bad length 0", status)
            check(m and int(m.group(1)) > (NC_MIB << 20) // 1514, f"netb's NIC:\n{status}")


HOSTILE_ROUNDS = 50 + 1  # guest/testos/nethostile.c: TX_ROUNDS, and one after the reset


@case("net/hostile-guest-gic2")
def _hostile(t):
    """TestOS as a hostile driver (bootarg nethostile) on the same switch as two Linux VMs: its
    looping, out-of-RAM, oversized, zero-length, device-writable and wrapping transmit chains are
    given back and counted by reason (and only its good frames sent), its broken rings get
    DEVICE_NEEDS_RESET and it recovers by a reset; its receive buffers outside its RAM, readable,
    looping or indirect are given back unused and counted. Meanwhile the Linux pair pings both
    ways, the shell answers, and after `guest stop hostile` the pair still talks."""
    from cases.vmm_run import testos_bin, testos_cfg
    with tempfile.TemporaryDirectory() as d:
        lx = linux_or_skip(t)
        hostile = testos_cfg("hostile", "nethostile", smp=1) + "device = virtio-net\n"
        q = boot(t, d, 2, {"linux": lx, "testos": {"testos.bin": testos_bin(t)},
                           "hostile": {"guest.cfg": hostile},
                           "neta": net_cfg("neta", f"virtio-net,mac={MAC_A}"),
                           "netb": net_cfg("netb", "virtio-net")})
        start = mark(q)
        out = q.command("guest start hostile")
        check("guest hostile: started" in out, f"guest start hostile:\n{out}")
        wait_all(q, [r"\[hostile\] TESTOS NETHOSTILE rx: bad buffers posted"], start)
        text = q.output[start:]
        check("TESTOS NETHOSTILE rings: the device asks for a reset" in text and
              "TESTOS NETHOSTILE reset: the device works again" in text, f"hostile:\n{text}")
        status = q.command("net status")
        want = (rf"nic hostile \S+ on sw0: tx {HOSTILE_ROUNDS} frames, rx 0 frames, drops: tx bad "
                rf"descriptor {4 * HOSTILE_ROUNDS}, tx bad length {2 * HOSTILE_ROUNDS}, "
                r"rx no buffer \d+, rx bad buffer 0, ring errors 1")
        check(re.search(want, status), f"net status, want /{want}/:\n{status}")

        start_linux(q, ["neta", "netb"])
        configure(q, "neta", "10.0.3.1")
        configure(q, "netb", "10.0.3.2")
        attach(q, "netb")
        sh(q, "ping -c 3 10.0.3.1", r"3 packets transmitted, 3 packets received", timeout=120)
        detach(q)
        attach(q, "neta")
        sh(q, "ping -c 3 10.0.3.2", r"3 packets transmitted, 3 packets received", timeout=120)
        detach(q)
        out = q.command("version", timeout=10)
        check("Avatar" in out, f"version:\n{out}")
        status = q.command("net status")
        m = re.search(r"nic hostile \S+ on sw0: tx \d+ frames, rx 0 frames, drops: .*"
                      r"rx bad buffer (\d+), ring errors 1", status)
        check(m and int(m.group(1)) > 0,
              f"the frames flooded to hostile found no bad buffer counted:\n{status}")
        check(re.search(r"\[hostile\] .*(FAIL|bytes)", q.output) is None,
              "hostile reported a failure:\n" + q.output[-2000:])

        out = q.command("guest stop hostile", timeout=60)
        check("stopped by the shell" in out, f"guest stop hostile:\n{out}")
        status = q.command("net status")
        check("switch sw0: 2 ports" in status and "nic hostile" not in status,
              f"hostile's port is still there:\n{status}")
        attach(q, "netb")
        sh(q, "ping -c 2 10.0.3.1", r"2 packets transmitted, 2 packets received", timeout=120)
        detach(q)
