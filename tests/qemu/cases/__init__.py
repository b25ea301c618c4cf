"""cases - the registry of whole-system test cases; each module here is one area (boot, fs, vmm, ...).

A case is a function taking a Context and raising TestFailure (or AssertionError) to fail and
Skip to skip.  Register it with @case("<area>/<name>"), where <area> is the module's name, or
the part before its first '_' (vmm_testos.py registers vmm/... cases):

    @case("boot/poweroff-el1")
    def _(t):
        q = t.boot(Config(hv=False))
        q.send("poweroff")
        ...

Matrices register one case per configuration from a loop (bind the loop variable as a default
argument: `def _(t, cfg=cfg)`).
"""

import dataclasses
import os
import re

import harness

CASES = {}  # name -> function, in registration order

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)+")


def case(name):
    """Register the decorated function as the case called name ("<area>/...")."""

    def register(fn):
        module = fn.__module__.rpartition(".")[2]
        area = module.partition("_")[0]
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"case name {name!r}: use lower-case words separated by '/'")
        if not name.startswith(area + "/"):
            raise ValueError(f"case {name!r} is defined in {module}.py; its name must begin with {area}/")
        if name in CASES:
            raise ValueError(f"case {name!r} is registered twice")
        CASES[name] = fn
        return fn

    return register


class Context:
    """What a running case gets: the build directory and QEMU instances it starts.

    Every QEMU started through the context is killed when the case ends, and the console
    of the last one is what the runner shows when the case fails.
    """

    def __init__(self, name, build_dir="build", log_dir=None):
        self.name = name
        self.build_dir = build_dir
        self.log_dir = log_dir
        self.machines = []

    def qemu(self, config):
        """Start QEMU for config (on our build directory) without waiting for anything."""
        config = dataclasses.replace(config, build_dir=self.build_dir)
        log = None
        if self.log_dir:
            suffix = f"-{len(self.machines)}" if self.machines else ""
            log = os.path.join(self.log_dir, self.name.replace("/", "_") + suffix + ".log")
        q = harness.Qemu(config, log_path=log)
        self.machines.append(q)
        return q.start()

    def boot(self, config, timeout=harness.BOOT_TIMEOUT):
        """Start QEMU for config and wait for the first prompt; the summary match is q.summary."""
        q = self.qemu(config)
        q.wait_boot(timeout)
        return q

    def close(self):
        for q in self.machines:
            q.kill()

    def tail(self, n=30):
        return self.machines[-1].tail(n) if self.machines else []
