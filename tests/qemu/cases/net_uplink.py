"""net_uplink.py - the hypervisor's uplink: a Linux VM with a virtio-net device on the default
switch gets an address from QEMU's user network by DHCP through Avatar's own NIC, fetches a file
with wget from an HTTP server this test runs on 127.0.0.1 (10.0.2.2 to the VM), and serves a page
with busybox httpd that the test fetches through a hostfwd port on 127.0.0.1. Only loopback
addresses are used on the test machine."""

import functools
import gzip
import hashlib
import http.server
import os
import random
import re
import tempfile
import threading
import time
import urllib.request

from cases import case
from cases.linux import DETERMINISTIC, LINUX_TIMEOUT, READY, attach, detach, sh
from cases.vmm import make_image
from cases.vmm_run import mark, wait_all
from harness import Config, Skip, TestFailure, free_port, hostfwd_tcp, timeout_scale

NET_UP = r"\[{name}\] .*AVATAR-NET-UP eth0 (\d+\.\d+\.\d+\.\d+)\r?\n"
UPLINK_RE = r"uplink: virtio-net is port uplink of switch sw0"
# `net status`: the uplink NIC's own counters, and the switch's view of the uplink port.
UPLINK_STATUS_RE = (r"^uplink: virtio-net 0x[0-9a-f]+ irq \d+ \(virtio-mmio v\d\): rx (\d+) frames "
                    r"(\d+) bytes, tx (\d+) frames (\d+) bytes; drops: rx bad length (\d+), "
                    r"tx ring full (\d+), tx bad length (\d+);")
PORT_STATUS_RE = r"^  port uplink: rx (\d+) frames (\d+) bytes, tx (\d+) frames (\d+) bytes"
BLOB_BYTES = 384 << 10  # the file the VM fetches: some hundred KiB of seeded random bytes


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def net_linux_files(t):
    """The Linux guest's Image and initramfs, if they can bring up eth0; else Skip saying why."""
    d = os.path.join(t.build_dir, "guests", "linux")
    files = {}
    for name in ("Image", "initrd.cpio.gz"):
        path = os.path.join(d, name)
        if not os.path.exists(path):
            raise Skip(f"{path} is missing: run `make linux-guest`")
        with open(path, "rb") as f:
            files[name] = f.read()
    cpio = gzip.decompress(files["initrd.cpio.gz"])
    for needed in (b"virtio_net.ko", b"udhcpc/default.script"):
        if needed not in cpio:
            raise Skip(f"the Linux initramfs has no {needed.decode()}: rebuild it with "
                       "`make linux-guest` (scripts/get_linux_guest.sh)")
    return files


def net_guest_cfg(name):
    return (f"name = {name}\nkernel = /guests/linux/Image\ninitrd = /guests/linux/initrd.cpio.gz\n"
            "smp = 1\nmemory = 128M\n"
            "bootargs = console=ttyAMA0 earlycon=pl011,0x09000000 rdinit=/init nokaslr\n"
            "device = virtio-net\n")


def boot_with_vm(t, directory, name, hostfwd=()):
    """Avatar (HV, NIC on QEMU's user network) with Linux VM name on sw0, booted until its DHCP
    lease; returns (qemu, the VM's address)."""
    guests = {"linux": net_linux_files(t), name: {"guest.cfg": net_guest_cfg(name)}}
    img = make_image(directory, guests)
    drive = ["-drive", f"if=none,file={img},format=raw,id=hd0",
             "-device", "virtio-blk-device,drive=hd0"]
    q = t.boot(Config(hv=True, gic=2, smp=2, net=True, hostfwd=list(hostfwd),
                      extra_args=drive + DETERMINISTIC))
    check(re.search(UPLINK_RE, q.output), "no uplink at boot:\n" + "\n".join(q.tail(40)))
    start = mark(q)
    out = q.command(f"guest start {name}", timeout=LINUX_TIMEOUT)
    check(f"guest {name}: started" in out, f"guest start {name}:\n{out}")
    text = wait_all(q, [READY.format(name=name), NET_UP.format(name=name)], start, LINUX_TIMEOUT)
    address = re.search(NET_UP.format(name=name), text).group(1)
    # QEMU's user network leases from 10.0.2.15 up: an address from elsewhere is not its DHCP.
    check(address.startswith("10.0.2."), f"{name} leased {address}, not from QEMU's 10.0.2.0/24")
    return q, address


@case("net/uplink-absent-gic2")
def _absent(t):
    """Without a NIC the hypervisor boots as before: no uplink, no error printed, and `net
    status` says there is none. With one, boot names it and its port."""
    q = t.boot(Config(hv=True, gic=2, smp=1))
    check(not re.search(r"virtio-net|uplink", q.output), f"boot without a NIC printed:\n{q.output}")
    out = q.command("net status")
    check(re.search(r"^uplink: none \(no virtio-net NIC on this machine\)$", out, re.M),
          f"net status:\n{out}")
    q.kill()
    q = t.boot(Config(hv=True, gic=2, smp=1, net=True))
    check(re.search(r"^virtio-net: 0x[0-9a-f]{8} irq \d+: virtio-mmio v[12], \d+/\d+ buffers",
                    q.output, re.M) and re.search(UPLINK_RE, q.output),
          f"boot with a NIC printed:\n{q.output}")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, fmt, *args):
        _Quiet.requests.append((self.client_address[0], self.path))


@case("net/uplink-wget-from-host-gic2")
def _wget(t):
    """The VM gets its address by DHCP from QEMU's user network through the uplink, then wget
    fetches a 384 KiB random file from an HTTP server on the test machine's 127.0.0.1 (10.0.2.2
    in the VM); the MD5 the VM computes equals the file's, and the server saw the request."""
    with tempfile.TemporaryDirectory() as d:
        www = os.path.join(d, "www")
        os.mkdir(www)
        blob = random.Random(13).randbytes(BLOB_BYTES)
        with open(os.path.join(www, "blob.bin"), "wb") as f:
            f.write(blob)
        handler = functools.partial(_Quiet, directory=www)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            q, _ = boot_with_vm(t, d, "web")
            attach(q, "web")
            m = sh(q, f"wget -q -O /tmp/blob http://10.0.2.2:{port}/blob.bin && "
                      "echo got=$(md5sum < /tmp/blob) size=$(wc -c < /tmp/blob)",
                   r"got=([0-9a-f]{32})\s*-? size=(\d+)\r?\n", timeout=300)
            check(int(m.group(2)) == BLOB_BYTES, f"the VM got {m.group(2)} bytes, not {BLOB_BYTES}")
            want = hashlib.md5(blob).hexdigest()
            check(m.group(1) == want, f"MD5 in the VM {m.group(1)}, of the file {want}")
            check(("127.0.0.1", "/blob.bin") in _Quiet.requests,
                  f"the server logged {_Quiet.requests}, not a GET of /blob.bin from 127.0.0.1")
            detach(q)
            out = q.command("net status")
            nic = re.search(UPLINK_STATUS_RE, out, re.M)
            port = re.search(PORT_STATUS_RE, out, re.M)
            check(nic and port, f"net status shows no uplink counters:\n{out}")
            rx_frames, rx_bytes, tx_frames = (int(nic.group(i)) for i in (1, 2, 3))
            # The file came in through the NIC in whole frames, and all of it went into the switch.
            check(rx_bytes > BLOB_BYTES and rx_frames > BLOB_BYTES // 1514,
                  f"the NIC received {rx_frames} frames, {rx_bytes} bytes for a {BLOB_BYTES}-byte "
                  f"file:\n{out}")
            check(int(port.group(1)) == rx_frames and tx_frames == int(port.group(3)) > 0,
                  f"NIC and switch port disagree (or nothing was sent):\n{out}")
            check(all(int(nic.group(i)) == 0 for i in (5, 6, 7)), f"the uplink dropped frames:\n{out}")
        finally:
            server.shutdown()
            server.server_close()


def page_text():
    """The page the VM serves, made there with seq and known here: about 50 KiB."""
    return "".join(f"{i}\n" for i in range(1, 10001))


def fetch(url, timeout):
    """GET url until it answers (httpd may not be listening yet) or timeout passes."""
    limit = timeout * timeout_scale()
    deadline = time.monotonic() + limit
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.status, r.read()
        except OSError as e:
            last = e
            time.sleep(1)
    raise TestFailure(f"GET {url} did not answer within {limit:g} s: {last}")


@case("net/uplink-hostfwd-httpd-gic2")
def _httpd(t):
    """The VM runs busybox httpd on port 80; the test fetches the page through QEMU's hostfwd from
    a free port on 127.0.0.1 (into Avatar's NIC, across the switch into the VM) and gets exactly
    the text the VM generated."""
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        q, _ = boot_with_vm(t, d, "www", hostfwd=[hostfwd_tcp(port, 80)])
        attach(q, "www")
        sh(q, "mkdir -p /www && seq 1 10000 > /www/page.txt && httpd -p 80 -h /www && "
              "echo httpd=$((40+2))", r"httpd=42")
        status, body = fetch(f"http://127.0.0.1:{port}/page.txt", 300)
        check(status == 200, f"HTTP status {status}")
        want = page_text().encode()
        check(body == want, f"got {len(body)} bytes (MD5 {hashlib.md5(body).hexdigest()}), "
                            f"want {len(want)} (MD5 {hashlib.md5(want).hexdigest()})")
