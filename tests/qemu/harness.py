"""harness.py - boots Avatar under QEMU and drives its serial console (send a line, expect a pattern)."""

import codecs
import dataclasses
import os
import re
import signal
import socket
import subprocess
import threading
import time

# The console contract of the kernel (see the shell): the prompt has no newline after it.
PROMPT = "avatar> "
SUMMARY_RE = r"boot: EL(\d), (\d+)/(\d+) CPUs online, GICv(\d), (\d+) MiB RAM"
BANNER_RE = r"Avatar 0\.1\.0 (kernel at EL1|hypervisor at EL2)"
PANIC_RE = re.compile(r"PANIC:")
PANIC_END_RE = re.compile(r"system halted")
PANIC_REPORT_TIMEOUT = 10.0

BOOT_TIMEOUT = 60.0
COMMAND_TIMEOUT = 20.0

# QEMU's stdio mux (-nographic) swallows Ctrl-A followed by a key it does not know: bytes that
# wake QEMU's main loop without reaching the guest.  See Qemu.nudge().
NUDGE = b"\x01z"
NUDGE_AFTER = 0.25  # seconds of console silence inside expect() before nudging
# Ctrl-A h makes the mux print its help: a nudge whose handling we can see (see idle_sync()).
MUX_HELP = b"\x01h"
MUX_HELP_RE = re.compile(r"\n?C-a h    print this help\n(?:C-a .*\n)*?C-a C-a  sends C-a\n")


class TestFailure(Exception):
    """A case's expectation was not met; the message says which."""


class Skip(Exception):
    """A case cannot run here (missing guest image, tool, ...); the message says why."""


def timeout_scale():
    """Factor applied to every timeout: AVATAR_TIMEOUT_SCALE for slow or loaded machines."""
    try:
        scale = float(os.environ.get("AVATAR_TIMEOUT_SCALE", "1"))
    except ValueError:
        raise TestFailure("AVATAR_TIMEOUT_SCALE must be a number")
    return scale if scale > 0 else 1.0


def mem_mib(mem):
    """QEMU's -m size ("512M", "1G", "256") in MiB."""
    m = re.fullmatch(r"(\d+)([MG]?)", str(mem).strip().upper())
    if not m:
        raise ValueError(f"unsupported memory size {mem!r}")
    return int(m.group(1)) * (1024 if m.group(2) == "G" else 1)


@dataclasses.dataclass
class Config:
    """One QEMU machine: exception level (hv), GIC version, CPUs, memory and extra arguments."""

    hv: bool = False
    gic: int = 2
    smp: int = 1
    mem: str = "512M"
    extra_args: list = dataclasses.field(default_factory=list)
    build_dir: str = "build"
    cpu: str = "cortex-a72"
    binary_path: str = None  # overrides the binary derived from build_dir and hv
    icount: bool = True  # deterministic virtual time; off: the counter follows the host clock
    # A virtio-net NIC on QEMU's user network (the hypervisor's uplink); hostfwd rules as QEMU
    # spells them, e.g. hostfwd_tcp(port, 80). Off by default: most cases need no network.
    net: bool = False
    hostfwd: list = dataclasses.field(default_factory=list)

    @property
    def el(self):
        return 2 if self.hv else 1

    @property
    def binary(self):
        if self.binary_path:
            return self.binary_path
        return os.path.join(self.build_dir, f"avatar-el{self.el}.bin")

    @property
    def tag(self):
        """Short name used in case names, e.g. "el2-gic3-smp4"."""
        return f"el{self.el}-gic{self.gic}-smp{self.smp}"

    @property
    def mem_mib(self):
        return mem_mib(self.mem)

    def command(self, qemu="qemu-system-aarch64"):
        machine = f"virt,gic-version={self.gic}"
        if self.hv:
            machine += ",virtualization=on"
        return [
            qemu, "-M", machine, "-cpu", self.cpu, "-smp", str(self.smp), "-m", str(self.mem),
            "-nographic", "-nic", "none", "-kernel", self.binary,
        ] + (["-icount", "shift=0,sleep=off"] if self.icount else []) + self.net_args() + list(
            self.extra_args)

    def net_args(self):
        """QEMU's arguments for the NIC: user networking (10.0.2.0/24, the host is 10.0.2.2)."""
        if not self.net:
            return []
        netdev = "user,id=net0" + "".join(f",hostfwd={rule}" for rule in self.hostfwd)
        return ["-netdev", netdev, "-device", "virtio-net-device,netdev=net0"]


def hostfwd_tcp(host_port, guest_port):
    """A hostfwd rule from 127.0.0.1:host_port on the test machine to the guest's guest_port."""
    return f"tcp:127.0.0.1:{host_port}-:{guest_port}"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every running QEMU, so an interrupted runner can kill them all (see kill_all).
_live = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def kill_all(stop=False):
    """Kill every QEMU this process started and has not reaped yet; with stop, refuse new ones."""
    with _live_lock:
        if stop:
            _stopping.set()
        live = list(_live)
    for q in live:
        q.kill()


def _render_line_editing(text):
    """Apply backspaces as a terminal would, so an echoed "verx\\b \\bsion" reads "version"."""
    out = []
    for ch in text:
        if ch in "\b\x7f":
            if out:
                out.pop()
        else:
            out.append(ch)
    return "".join(out)


class Qemu:
    """A QEMU process whose serial console (stdio) is read by a thread into a text buffer.

    expect() searches the buffer from the end of the previous match, so a test reads the
    console in order and never matches the same output twice.
    """

    def __init__(self, config, qemu=None, log_path=None):
        self.config = config
        self.qemu = qemu or os.environ.get("AVATAR_QEMU", "qemu-system-aarch64")
        self.log_path = log_path
        self.proc = None
        self._buf = []  # decoded chunks, joined lazily
        self._text = ""
        self._pos = 0
        self._cond = threading.Condition()
        self._eof = False
        self._reader = None
        self._err_reader = None
        self.stderr_lines = []  # what QEMU itself printed (errors, warnings): not console text
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._log = None
        self.summary = None  # the boot summary match, once wait_boot() has seen it
        self.allow_panic = False  # expect() fails at once on a panic report unless set

    # -- lifecycle -------------------------------------------------------------------------

    def start(self):
        if not os.path.isfile(self.config.binary):
            raise TestFailure(f"kernel binary {self.config.binary} not found (run make)")
        if self.log_path:
            os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
            self._log = open(self.log_path, "w", encoding="utf-8", errors="replace")
            self._log.write("# " + " ".join(self.config.command(self.qemu)) + "\n")
        # A session of its own: Ctrl-C in the terminal reaches us, not QEMU, and kill() can
        # take down the whole process group.  Started under the lock so kill_all() sees it.
        with _live_lock:
            if _stopping.is_set():
                self._close_log()
                raise TestFailure("interrupted")
            try:
                self.proc = subprocess.Popen(
                    self.config.command(self.qemu), stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            except OSError as e:
                self._close_log()
                raise TestFailure(f"cannot start {self.qemu}: {e}")
            _live.add(self)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._err_reader.start()
        return self

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    def _read_loop(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            final = not data
            text = self._decoder.decode(data, final=final).replace("\r", "")
            with self._cond:
                if text:
                    self._buf.append(text)
                    if self._log:
                        self._log.write(text)
                        self._log.flush()
                if final:
                    self._eof = True
                self._cond.notify_all()
            if final:
                return

    def _read_stderr(self):
        """QEMU's own messages go to the log, not the console text tests match (its notes,
        e.g. that icount has no timer to warp to while every CPU sleeps, come at any time and
        in pieces)."""
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with self._cond:
                self.stderr_lines.append(line)
                if self._log:
                    self._log.write(f"[qemu stderr] {line}\n")
                    self._log.flush()

    def kill(self):
        """Stop QEMU (SIGTERM, then SIGKILL) and reap it; safe to call more than once."""
        if self.proc is None:
            self._close_log()
            return
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._finish()

    def _finish(self):
        if self._reader and self._reader is not threading.current_thread():
            self._reader.join(5)
        if self._err_reader and self._err_reader is not threading.current_thread():
            self._err_reader.join(5)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        self._close_log()
        with _live_lock:
            _live.discard(self)

    def _close_log(self):
        with self._cond:
            if self._log:
                self._log.close()
                self._log = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- console ---------------------------------------------------------------------------

    def _snapshot(self):
        """The whole console text so far; call with self._cond held."""
        if self._buf:
            self._text += "".join(self._buf)
            self._buf = []
        return self._text

    @property
    def output(self):
        """Everything QEMU has printed so far (carriage returns removed)."""
        with self._cond:
            return self._snapshot()

    def tail(self, n=30):
        """The last n lines of console output, then QEMU's own last messages if it had any."""
        with self._cond:
            err = [f"[qemu stderr] {line}" for line in self.stderr_lines[-5:]]
        return self.output.splitlines()[-n:] + err

    def write(self, data):
        """Send raw bytes (or text) to the console."""
        if isinstance(data, str):
            data = data.encode()
        if not self.running:
            raise TestFailure(f"cannot send {data!r}: QEMU is not running")
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError) as e:  # ValueError: pipe closed by kill()
            raise TestFailure(f"cannot send {data!r}: {e}")

    def nudge(self):
        """Wake QEMU's main loop without sending the guest anything.

        Under -icount sleep=off, virtual time moves past an idle stretch only when the main
        loop sees every vCPU idle and warps the clock to the next timer deadline.  QEMU 7.2
        can miss that moment: when the guest goes idle right after handling serial input,
        nothing wakes the main loop again, so virtual time (and every timer) stands still
        until the next host event; the next serial input then finds the vCPU busy, and the
        clock can stay frozen for good.  A nudge is such a host event while the guest idles.
        """
        if self.running:
            try:
                self.proc.stdin.write(NUDGE)
                self.proc.stdin.flush()
            except (OSError, ValueError):
                pass

    def idle_sync(self, timeout=COMMAND_TIMEOUT):
        """Let QEMU see the idle guest, so icount sleep=off warps the clock to the next timer.

        Call it while the guest waits for input (after a prompt).  Unlike nudge() it waits
        until QEMU has handled the wake-up, which it shows by printing the mux help; the help
        is then cut from the console text.  QEMU checks for the warp right after handling it,
        before it reads anything sent later, so the next command finds virtual time moved on.
        """
        self.write(MUX_HELP)
        m = self.expect(MUX_HELP_RE, timeout)
        with self._cond:
            text = self._snapshot()
            self._text = text[:m.start()] + text[m.end():]
            self._pos = m.start()

    def send(self, line):
        """Type a line and press enter."""
        self.write(line + "\r")

    def expect(self, pattern, timeout=COMMAND_TIMEOUT):
        """Wait for pattern (a regex, multi-line mode) after the previous match; return the match.

        Output arrives in pieces, so a pattern ending in `$` or `.*` can match a half-printed
        line at the end of the buffer: end it with `\n` to wait for the whole line.

        Raises TestFailure if it does not appear within timeout (scaled by
        AVATAR_TIMEOUT_SCALE), if QEMU exits first, or if the kernel panics first (unless
        the panic is what the test is waiting for: set allow_panic).
        """
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.M)
        limit = timeout * timeout_scale()
        deadline = time.monotonic() + limit
        with self._cond:
            while True:
                text = self._snapshot()
                m = regex.search(text, self._pos)
                panic = None if self.allow_panic else PANIC_RE.search(text, self._pos)
                if m and not (panic and panic.start() < m.start()):
                    self._pos = m.end()
                    return m
                if panic:
                    break
                if self._eof:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TestFailure(
                        f"timed out after {limit:g} s waiting for /{regex.pattern}/")
                self._cond.wait(min(left, NUDGE_AFTER))
                if not self._buf and not self._eof:
                    self.nudge()  # silence: the guest may be idle with a frozen clock
        if panic:
            self._pos = panic.start()
            # Let the report finish so the console tail shows it, then fail at once.
            self.allow_panic = True
            try:
                self.expect(PANIC_END_RE, PANIC_REPORT_TIMEOUT)
            except TestFailure:
                pass
            finally:
                self.allow_panic = False
            raise TestFailure(f"kernel panicked while waiting for /{regex.pattern}/")
        try:
            status = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            status = "unknown"
        raise TestFailure(f"expected /{regex.pattern}/ but QEMU exited (status {status})")

    def wait_exit(self, timeout=COMMAND_TIMEOUT):
        """Wait for QEMU to exit by itself and return its exit status."""
        limit = timeout * timeout_scale()
        if self.proc is None:
            raise TestFailure("QEMU was never started")
        try:
            status = self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"QEMU still running {limit:g} s after it was expected to exit")
        self._finish()
        return status

    # -- the Avatar console contract -------------------------------------------------------

    def wait_boot(self, timeout=BOOT_TIMEOUT):
        """Wait for the banner, the boot summary and the first prompt; return the summary match."""
        self.expect(BANNER_RE, timeout)
        self.summary = self.expect(SUMMARY_RE, timeout)
        self.expect(re.escape(PROMPT), timeout)
        return self.summary

    def command(self, line, timeout=COMMAND_TIMEOUT):
        """Run a shell command and return its output: the text between the echo and the next prompt."""
        with self._cond:
            start = len(self._snapshot())
            self._pos = max(self._pos, start)
        self.send(line)
        m = self.expect(re.escape(PROMPT), timeout)
        with self._cond:
            text = self._snapshot()[start:m.start()]
        first, sep, rest = text.partition("\n")
        if sep and _render_line_editing(first).strip() == _render_line_editing(line).strip():
            return rest
        return text
