"""user_busybox.py - Debian's busybox-static in native mode: its shell (`busybox sh`) runs a script of
applet and shell cases (pipelines, $(...), redirections, traps, jobs, exit statuses) whose output is
checked exactly; interactively it prints its prompt and ^C at the console ends a foreground job.

busybox comes from Debian by package name: the .deb scripts/get_linux_guest.sh caches in
guest/linux/cache/ (`make test` runs it first), else `apt-get download busybox-static:arm64`.
"""

import glob
import os
import re
import subprocess
import tempfile

from cases import case
from cases.kernel_user import make_disk, check, host
from harness import PROMPT, Config, Skip, TestFailure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CACHE = os.path.join(ROOT, "guest", "linux", "cache")
PACKAGE = "busybox-static:arm64"
SCRIPT_TIMEOUT = 600
MARK = "@@"

# (name, script, expected output, expected exit status). Each runs as `sh /t/<name>.sh 2>&1`.
CASES = [
    # Pipelines.
    ("pipe-tr", "echo abc | tr a-z A-Z", "ABC\n", 0),
    ("pipe-sort-head", "seq 1 100 | sort -rn | head -3", "100\n99\n98\n", 0),
    ("pipe-three", "printf 'b\\na\\nc\\n' | sort | tr -d '\\n'; echo", "abc\n", 0),
    ("pipe-wc", "seq 1 1000 | wc -l", "1000\n", 0),
    ("pipe-long", "seq 1 20000 | tail -1", "20000\n", 0),
    ("pipe-100k", "head -c 100000 /dev/zero | wc -c", "100000\n", 0),
    ("pipe-status-last", "true | false; echo $?", "1\n", 0),
    ("pipe-status-true", "false | true; echo $?", "0\n", 0),
    ("pipe-grep-count", "printf 'x1\\ny2\\nx3\\n' | grep x | wc -l", "2\n", 0),
    ("pipe-reader-leaves", "seq 1 100000 | head -2", "1\n2\n", 0),
    ("pipe-yes-head", "yes | head -3", "y\ny\ny\n", 0),
    ("pipe-read-builtin", "echo 'a b' | { read x y; echo $y$x; }", "ba\n", 0),
    ("pipe-while-read", "seq 3 | while read n; do echo n$n; done", "n1\nn2\nn3\n", 0),
    ("pipe-xargs", "echo 1 2 3 | xargs -n1 echo n", "n 1\nn 2\nn 3\n", 0),
    ("pipe-tee", "echo teed | tee /t/tee1 >/dev/null; cat /t/tee1", "teed\n", 0),
    # Command substitution and expansion.
    ("subst", "echo $(echo x y)", "x y\n", 0),
    ("subst-nested", "echo $(echo $(echo deep))", "deep\n", 0),
    ("subst-backtick", "echo `echo tick`", "tick\n", 0),
    ("subst-pipeline", "a=$(seq 1 3 | tr '\\n' ,); echo $a", "1,2,3,\n", 0),
    ("subst-status", "x=$(exit 4); echo $?", "4\n", 0),
    ("arith", "echo $((6 * 7))", "42\n", 0),
    ("string-ops", "s=abcdef; echo ${#s} ${s#ab} ${s%ef}", "6 cdef abcd\n", 0),
    # Redirections.
    ("redir-out", "echo one > /t/o1; cat /t/o1", "one\n", 0),
    ("redir-append", "echo one > /t/o2; echo two >> /t/o2; cat /t/o2", "one\ntwo\n", 0),
    ("redir-in", "echo data > /t/o3; tr a-z A-Z < /t/o3", "DATA\n", 0),
    ("redir-stderr-pipe", "ls /nonexistent 2>&1 | grep -c nonexistent", "1\n", 0),
    ("redir-stderr-file", "ls /nonexistent 2> /t/o4; grep -c nonexistent /t/o4", "1\n", 0),
    ("redir-devnull", "echo hidden > /dev/null; echo shown", "shown\n", 0),
    ("redir-heredoc", "cat <<EOF\nhello here\nEOF", "hello here\n", 0),
    ("redir-group-stderr", "{ echo to-err >&2; } 2>&1 | cat", "to-err\n", 0),
    ("redir-exec-fd", "exec 3> /t/o5; echo via3 >&3; exec 3>&-; cat /t/o5", "via3\n", 0),
    ("redir-truncate", "echo long-line > /t/o6; echo s > /t/o6; cat /t/o6", "s\n", 0),
    ("unlink-open-file", "echo kept > /t/u1; exec 3< /t/u1; rm /t/u1; [ -e /t/u1 ] || cat <&3; exec 3<&-",
     "kept\n", 0),
    ("dev-null-read", "cat /dev/null; echo rc=$?", "rc=0\n", 0),
    ("dev-urandom", "head -c 1000 /dev/urandom | wc -c; [ \"$(head -c 16 /dev/urandom | od -An -tx1)\" != "
     "\"$(head -c 16 /dev/urandom | od -An -tx1)\" ] && echo differ", "1000\ndiffer\n", 0),
    ("dev-zero-dd", "dd if=/dev/zero bs=512 count=4 2>/dev/null | wc -c", "2048\n", 0),
    ("dev-ls", "ls -1 /dev; ls -l /dev/null | cut -c1", "console\nnull\nrandom\ntty\nurandom\nzero\nc\n", 0),
    ("dev-stat-char", "stat -c '%F %t,%T' /dev/null; [ -c /dev/zero ] && echo chr; find /dev -type c | wc -l",
     "character special file 1,3\nchr\n6\n", 0),
    ("dev-missing", "cat /dev/nope 2>&1 | grep -c 'No such file'; (: > /dev/nope) 2>/dev/null || echo refused",
     "1\nrefused\n", 0),
    # Signals and traps.
    ("trap-int", "trap 'echo got INT' INT; kill -INT $$; echo after", "got INT\nafter\n", 0),
    ("trap-term", "trap 'echo got TERM' TERM; kill $$; echo after", "got TERM\nafter\n", 0),
    ("trap-exit", "trap 'echo bye' EXIT; echo hi", "hi\nbye\n", 0),
    ("trap-usr1-from-child", "trap 'echo usr1' USR1; (kill -USR1 $$); echo done", "usr1\ndone\n", 0),
    ("trap-ignore", "trap '' INT; kill -INT $$; echo survived", "survived\n", 0),
    ("kill-background", "sleep 100 & kill $!; wait $!; echo $?", "Terminated\n143\n", 0),
    ("kill-zero", "kill -0 $$ && echo alive", "alive\n", 0),
    ("sigint-default", "sh -c 'kill -INT $$'; echo $?", "130\n", 0),
    ("sigpipe-status", "yes | head -1 >/dev/null; echo ${PIPESTATUS:-ok}", "ok\n", 0),
    # Jobs.
    ("bg-wait", "sleep 1 & echo started; wait; echo waited", "started\nwaited\n", 0),
    ("bg-many", "for i in 1 2 3; do (echo job$i > /t/j$i) & done; wait; cat /t/j1 /t/j2 /t/j3",
     "job1\njob2\njob3\n", 0),
    ("bg-wait-status", "(exit 5) & wait $!; echo $?", "5\n", 0),
    ("bg-pid", "sleep 0 & [ \"$!\" -gt 0 ] && echo ok; wait", "ok\n", 0),
    # Exit statuses and control flow.
    ("status-true-false", "true; echo $?; false; echo $?", "0\n1\n", 0),
    ("status-not-found", "nosuchcmd 2>/dev/null; echo $?", "127\n", 0),
    ("status-sh-exit", "sh -c 'exit 42'; echo $?", "42\n", 0),
    ("status-subshell", "(exit 3); echo $?", "3\n", 0),
    ("status-script-exit", "echo before; exit 7", "before\n", 7),
    ("and-or", "false && echo no || echo yes", "yes\n", 0),
    ("negate", "! false && echo negated", "negated\n", 0),
    ("for-loop", "for i in 1 2 3; do printf $i; done; echo", "123\n", 0),
    ("case", "case foo in f*) echo matched;; esac", "matched\n", 0),
    ("function", "f() { echo arg=$1; return 3; }; f one; echo $?", "arg=one\n3\n", 0),
    ("test-numbers", "[ 3 -lt 5 ] && echo less", "less\n", 0),
    # Applets.
    ("basename", "basename /a/b/c.txt .txt", "c\n", 0),
    ("dirname", "dirname /a/b/c", "/a/b\n", 0),
    ("expr", "expr 3 + 4", "7\n", 0),
    ("printf", "printf '%05d|%s\\n' 42 hi", "00042|hi\n", 0),
    ("sed", "echo hello world | sed 's/world/there/'", "hello there\n", 0),
    ("awk", "echo 'a b c' | awk '{print $2}'", "b\n", 0),
    ("cut", "echo a:b:c | cut -d: -f2", "b\n", 0),
    ("uniq", "printf 'a\\na\\nb\\n' | uniq | wc -l", "2\n", 0),
    ("md5sum", "printf abc | md5sum", "900150983cd24fb0d6963f7d28e17f72  -\n", 0),
    ("od", "printf AB | od -An -tx1", " 41 42\n", 0),
    ("mkdir-rm", "mkdir /t/d1 && echo x > /t/d1/f && ls /t/d1 && rm -r /t/d1 && [ ! -e /t/d1 ] && echo gone",
     "f\ngone\n", 0),
    ("cp-mv", "echo c > /t/c1; cp /t/c1 /t/c2; mv /t/c2 /t/c3; cat /t/c3; [ -e /t/c2 ] || echo moved",
     "c\nmoved\n", 0),
    ("env", "FOO=bar env | grep ^FOO=", "FOO=bar\n", 0),
    ("cd-pwd", "cd /t && pwd", "/t\n", 0),
    ("ppid", "[ $PPID -gt 0 ] && echo ppid", "ppid\n", 0),
    ("date-year", "date +%Y | grep -c '^[0-9][0-9][0-9][0-9]$'", "1\n", 0),
    ("uname", "uname -s", "Avatar\n", 0),
    ("sleep-fraction", "sleep 0.1 && echo slept", "slept\n", 0),
    # System information and limits.
    ("ulimit-n", "ulimit -n", "64\n", 0),
    ("ulimit-raise-refused", "ulimit -n 1000 2>/dev/null || echo refused", "refused\n", 0),
    ("chmod-read-only", "echo x > /t/ro; chmod a-w /t/ro; (echo y > /t/ro) 2>/dev/null || echo denied; "
     "chmod u+w /t/ro; echo z > /t/ro && cat /t/ro", "denied\nz\n", 0),
    ("chmod-ls-mode", "echo x > /t/ro2; chmod 444 /t/ro2; ls -l /t/ro2 | cut -c1-10", "-r--r--r--\n", 0),
    ("touch-date", "touch -d '2001-02-03 04:05:06' /t/tm; date -r /t/tm '+%Y-%m-%d %H:%M:%S'",
     "2001-02-03 04:05:06\n", 0),
    ("touch-creates", "touch /t/new1 && [ -f /t/new1 ] && echo made", "made\n", 0),
    ("readlink-exe", "readlink /proc/self/exe", "/bin/busybox\n", 0),
    ("ln-refused", "ln -s /t/x /t/y 2>/dev/null; echo $?", "1\n", 0),
    # /proc.
    ("proc-uptime", "wc -w < /proc/uptime", "2\n", 0),
    ("proc-meminfo", "grep -c '^MemTotal: *[1-9][0-9]* kB$' /proc/meminfo", "1\n", 0),
    ("proc-mounts", "grep -c '^proc /proc proc ' /proc/mounts; grep -c ' / fat32 ' /proc/mounts", "1\n1\n", 0),
    ("proc-self-cmdline", "cat /proc/self/cmdline | tr '\\0' ,; echo", "cat,/proc/self/cmdline,\n", 0),
    ("proc-pid-stat", "[ \"$(cut -d' ' -f1,3 /proc/$$/stat)\" = \"$$ R\" ] && echo ok", "ok\n", 0),
    ("proc-status-ppid", "[ \"$(grep ^PPid: /proc/$$/status | cut -f2)\" = \"$PPID\" ] && echo ok", "ok\n", 0),
    ("proc-ls-has-pid", "ls /proc | grep -c \"^$$\\$\"", "1\n", 0),
    ("ps-lists-child", "sleep 5 & ps -o pid,ppid | grep -c \"^ *$! *$$$\"; kill $!", "1\n", 0),
    ("uptime-load", "uptime | grep -c 'load average: [0-9]*[.][0-9][0-9], [0-9]*[.][0-9][0-9], "
     "[0-9]*[.][0-9][0-9]$'", "1\n", 0),
]


def busybox_deb():
    """Debian's busybox-static .deb: the cached one, else downloaded by package name."""
    debs = sorted(glob.glob(os.path.join(CACHE, "busybox-static_*.deb")))
    if not debs:
        os.makedirs(CACHE, exist_ok=True)
        r = subprocess.run(["apt-get", "download", PACKAGE], cwd=CACHE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        debs = sorted(glob.glob(os.path.join(CACHE, "busybox-static_*.deb")))
        if r.returncode or not debs:
            raise Skip(f"{PACKAGE} is not in {CACHE} and `apt-get download` failed: "
                       + r.stdout.decode(errors="replace").strip()[-200:])
    return debs[-1]


def busybox_disk(directory, files=None):
    """A disk with Debian's busybox at /bin/busybox and files (name -> text) under /t."""
    host("dpkg-deb", "-x", busybox_deb(), os.path.join(directory, "deb"))
    img = make_disk(directory, {"busybox": os.path.join(directory, "deb", "bin", "busybox")})
    if files:
        host("mmd", "-i", img, "::/t")
        for name, text in files.items():
            path = os.path.join(directory, name)
            with open(path, "w") as f:
                f.write(text)
            host("mcopy", "-o", "-i", img, path, f"::/t/{name}")
    return img


def machine(smp, img, icount=True):
    return Config(hv=False, gic=2, smp=smp, icount=icount,
                  extra_args=["-drive", f"if=none,id=hd0,format=raw,file={img}",
                              "-device", "virtio-blk-device,drive=hd0"])


def script_files():
    files = {f"{name}.sh": text + "\n" for name, text, _, _ in CASES}
    files["all.sh"] = "".join(
        f"echo '{MARK}case {name}'\nsh /t/{name}.sh 2>&1\necho \"{MARK}status $?\"\n"
        for name, _, _, _ in CASES) + f"echo '{MARK}end'\n"
    return files


def check_script_output(out):
    """Compare each case's output and status; fail listing every case that differs."""
    check(f"{MARK}end\n" in out, f"the script did not finish:\n{out[-2000:]}")
    got = {}
    for m in re.finditer(rf"^{MARK}case (\S+)\n(.*?)^{MARK}status (\d+)\n", out, re.M | re.S):
        got[m.group(1)] = (m.group(2), int(m.group(3)))
    bad = []
    for name, _, want, status in CASES:
        if name not in got:
            bad.append(f"{name}: no output")
        elif got[name] != (want, status):
            bad.append(f"{name}: got {got[name][0]!r} status {got[name][1]}, "
                       f"want {want!r} status {status}")
    check(not bad, f"{len(bad)} of {len(CASES)} busybox cases failed:\n" + "\n".join(bad))


for smp in (1, 2):

    @case(f"user/busybox-script-smp{smp}")
    def _script(t, smp=smp):
        with tempfile.TemporaryDirectory() as d:
            q = t.boot(machine(smp, busybox_disk(d, script_files())))
            out = q.command("run /bin/busybox sh /t/all.sh", timeout=SCRIPT_TIMEOUT)
            check_script_output(out)
            check("run: " not in out, f"`run` reported a failure:\n{out[-2000:]}")


@case("user/busybox-run-quoting")
def _quoting(t):
    with tempfile.TemporaryDirectory() as d:
        q = t.boot(machine(1, busybox_disk(d)))
        out = q.command("run /bin/busybox sh -c 'echo a | cat'")
        check(out == "a\n", f"sh -c with a pipeline printed:\n{out}")
        out = q.command("""run /bin/busybox printf '[%s]' "a  b" 'c  d' e\\ f "x\\"y" 'it'\\''s'""")
        check(out == "[a  b][c  d][e f][x\"y][it's]",
              f"quoted words reached the program as:\n{out!r}")
        out = q.command("run /bin/busybox echo 'unterminated")
        check(out == "unterminated ' quote\n", f"an open quote gave:\n{out!r}")


@case("user/busybox-interactive-ctrl-c")
def _interactive(t):
    # Real time (no icount): under icount an idle guest's clock jumps to the next timer, so a
    # foreground `sleep 100` would end by itself before ^C could reach it.
    with tempfile.TemporaryDirectory() as d:
        q = t.boot(machine(1, busybox_disk(d), icount=False))
        q.send("run /bin/busybox sh")
        prompt = r"/ # (?:\x1b\[6n)?"  # lineedit asks where the cursor is (ESC [ 6 n)
        q.expect(prompt)
        check("job control turned off" not in q.output,
              "busybox sh found no controlling terminal:\n" + "\n".join(q.tail(10)))
        q.send("echo hello | tr a-z A-Z")
        q.expect(r"\nHELLO\n")
        q.expect(prompt)
        # ^C goes once the foreground job shows it runs (its own output), not before: until
        # the child has taken the terminal (TIOCSPGRP), SIGINT would reach the shell instead,
        # as on Linux.
        q.send("sh -c 'echo child; exec sleep 100'")
        q.expect(r"\nchild\n")
        q.write("\x03")
        q.expect(r"\^C\n")
        q.expect(prompt, timeout=30)
        q.send("echo status $?")
        q.expect(r"\nstatus 130\n")
        q.expect(prompt)
        # A foreground job reading the terminal gets the line typed (typed ahead, before it
        # runs, the shell's raw mode leaves it unechoed: so look for the job's answer only).
        q.send("sh -c 'read x; echo got-$x; exec sleep 100'")
        q.send("abc")
        q.expect(r"\ngot-abc\n")
        q.write("\x03")
        q.expect(prompt, timeout=30)
        q.send("echo status $?")
        q.expect(r"\nstatus 130\n")
        q.expect(prompt)
        q.send("exit")
        q.expect(re.escape(PROMPT))
        out = q.command("procs")
        check(re.search(r"^0 processes;", out, re.M), f"processes left after exit:\n{out}")


@case("user/busybox-boot-shell")
def _boot_shell(t):
    """`shell = /bin/busybox sh` in /etc/avatar.conf: busybox sh is the console's shell at boot
    (a real terminal: pipelines, its prompt), and avatar> comes when it exits. A bad line in the
    file gets a message naming it, and the Avatar shell starts as usual."""
    with tempfile.TemporaryDirectory() as d:
        img = busybox_disk(d)
        conf = os.path.join(d, "avatar.conf")
        with open(conf, "w") as f:
            f.write("# the console's shell\nshell = /bin/busybox sh\n")
        host("mmd", "-i", img, "::/etc")
        host("mcopy", "-o", "-i", img, conf, "::/etc/avatar.conf")
        q = t.qemu(machine(1, img))
        q.expect(r"^/etc/avatar\.conf: starting /bin/busybox sh\n", 120)
        prompt = r"/ # (?:\x1b\[6n)?"
        q.expect(prompt, 60)
        check(PROMPT not in q.output, "avatar> came before the boot shell exited")
        q.send("echo boot shell | tr a-z A-Z")
        q.expect(r"\nBOOT SHELL\n")
        q.expect(prompt)
        q.send("exit")
        q.expect(r"/etc/avatar\.conf: /bin/busybox sh exited; this is the Avatar shell\n")
        q.expect(re.escape(PROMPT))
        out = q.command("version")
        check(out.startswith("Avatar "), f"the Avatar shell after the boot shell: {out!r}")
        q.kill()
        with open(conf, "w") as f:
            f.write("shell /bin/busybox sh\n")
        host("mcopy", "-o", "-i", img, conf, "::/etc/avatar.conf")
        q = t.boot(machine(1, img))
        check(re.search(r"^/etc/avatar\.conf: line 1: no '=' \(lines are key = value\)$", q.output,
                        re.M), "no message for a bad /etc/avatar.conf:\n" + "\n".join(q.tail(10)))


@case("user/busybox-ctrl-z-fg")
def _ctrl_z(t):
    """^Z stops the foreground job (busybox sh reports it Stopped and gets the prompt back);
    `fg` continues it in the foreground (its SIGCONT trap says so), where ^C then ends it. Real
    time, as for ^C; each key goes once the job has shown it is where the key should find it."""
    job = "sh -c 'trap \"echo cont\" CONT; echo child; while true; do sleep 1; done'"
    with tempfile.TemporaryDirectory() as d:
        q = t.boot(machine(1, busybox_disk(d), icount=False))
        q.send("run /bin/busybox sh")
        prompt = r"/ # (?:\x1b\[6n)?"
        q.expect(prompt)
        q.send(job)
        q.expect(r"\nchild\n")
        q.write("\x1a")
        q.expect(r"\^Z\n")
        q.expect(r"\[1\]\+ +Stopped +sh -c", 30)
        q.expect(prompt)
        q.send("jobs")
        q.expect(r"\[1\]\+ +Stopped +sh -c")
        q.expect(prompt)
        q.send("fg")
        q.expect(r"\ncont\n", 30)
        q.write("\x03")
        q.expect(r"\^C\n")
        q.expect(prompt, timeout=30)
        q.send("echo status $?; jobs; echo jobs-done")
        out = q.expect(r"\nstatus (\d+)\n((?:.*\n)*?)jobs-done\n")
        check(out.group(1) == "130" and "Stopped" not in out.group(2),
              f"after ^C in the continued job: {out.group(0)!r}")
        q.expect(prompt)
        q.send("exit")
        q.expect(re.escape(PROMPT))
