#!/usr/bin/env python3
"""check_includes.py - fail on an #include against the layer rule of docs/architecture.md.

Every C or assembly file and every header belongs to a layer, found from its path; a file may
include headers of the layers its own layer lists in ALLOWED, and no other. The known exceptions
of today are in KNOWN, each with the seam that will remove it; any other violation fails, and so
does a KNOWN entry that no longer happens (the list must shrink with the code).
Usage: scripts/check_includes.py [ROOT]   (prints one line per violation; exit 1 if any)
"""

import pathlib
import re
import subprocess
import sys

# Who may include whom (docs/architecture.md, "Layers"). hw holds hardware facts only.
ALLOWED = {
    "hw": {"hw"},
    "lib": {"lib", "hw"},
    "arch": {"arch", "core", "lib", "hw"},
    "core": {"core", "arch", "lib", "hw"},
    "block": {"block", "core", "arch", "lib", "hw"},
    "drivers": {"drivers", "block", "core", "arch", "lib", "hw"},
    "fs": {"fs", "block", "core", "arch", "lib", "hw"},
    "proc": {"proc", "fs", "block", "drivers", "core", "arch", "lib", "hw"},
    "vmm": {"vmm", "fs", "block", "drivers", "core", "arch", "lib", "hw"},
    "shell": {"shell", "vmm", "proc", "fs", "block", "drivers", "core", "arch", "lib", "hw"},
    "testos": {"lib", "hw"},
}

# The native user-process layer: modules kept in kernel/ and arch/ today (folders come later).
PROC_MODULES = {
    "kernel": {"aspace", "vma", "elf", "exec", "fault", "fd", "futex", "proc", "uthread", "tty",
               "tty_ldisc", "syscall", "sys_fs", "sys_path", "sys_mem", "sys_proc", "sys_sched",
               "pipe", "pipe_buf", "signal", "sys_signal", "sys_poll", "devfs", "sys_info", "procfs",
               "chrdev", "page_cache",
               "poll"},
    "arch": {"uvm", "uaccess", "uentry"},
}

# Today's violations: (file, included header) -> the seam that removes it (issue 15).
KNOWN = {
    ("kernel/main.c", "drivers/*"): "the console and block devices behind ops; the GIC version from irq",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
SOURCE_SUFFIXES = (".c", ".h", ".S")


def module_layer(area, name):
    """The layer of module `name` in folder `area` (kernel, arch, drivers, ...)."""
    if name in PROC_MODULES.get(area, set()):
        return "proc"
    if area == "kernel":
        return "core"
    return area if area in ALLOWED else None


def file_layer(path):
    """The layer of a source or header file, or None for files the rule does not cover."""
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    if parts[0] == "include" and len(parts) == 3:
        return module_layer(parts[1], stem)
    if parts[0] == "arch" and len(parts) >= 3:
        return module_layer("arch", stem)
    if parts[0] == "guest":
        return "testos" if len(parts) > 2 and parts[1] == "testos" else "vmm"
    if parts[0] in ("kernel", "drivers", "block", "lib", "fs", "vmm", "shell"):
        return module_layer(parts[0], stem)
    return None  # tests/, app/ (musl programs), bench/, scripts/


def header_layer(header):
    """The layer of an included header: <area/x.h> under include/, else not Avatar's own."""
    parts = header.split("/")
    if len(parts) != 2:
        return None
    return module_layer(parts[0], parts[1].rsplit(".", 1)[0])


def known(path, header):
    area = header.split("/")[0] + "/*"
    return next((k for k in ((path, header), (path, area), (path, "*")) if k in KNOWN), None)


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=root, check=True, capture_output=True, text=True).stdout.split()
    bad, used = [], set()
    for path in sorted(f for f in files if f.endswith(SOURCE_SUFFIXES)):
        layer = file_layer(path)
        if layer is None or not (root / path).is_file():
            continue
        text = (root / path).read_text(errors="replace")
        for header in INCLUDE_RE.findall(text):
            target = header_layer(header)
            if target is None or not (root / "include" / header).is_file():
                continue  # a C library header, or a private one beside the file
            if target in ALLOWED[layer]:
                continue
            entry = known(path, header)
            if entry:
                used.add(entry)
                continue
            bad.append(f"{path}: includes {header}: layer {layer} may not include layer {target}")
    for entry in sorted(set(KNOWN) - used):
        bad.append(f"scripts/check_includes.py: KNOWN {entry} no longer happens: remove it")
    for line in bad:
        print(line)
    print(f"include directions: {len(bad)} violation(s), {len(used)} known exception(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
