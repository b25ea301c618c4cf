"""vmm_limits.py - more guests than a small fixed table holds, and long guest names: every
manifest is listed, the last ones start, and two names that differ only at the end keep their
console lines apart."""

import re
import tempfile

from cases import case
from cases.vmm import list_rows
from cases.vmm_run import boot, check, guests, mark, testos_cfg, wait_all

MANY = 40  # file manifests, beside the 3 built-in guests (the registry once stopped at 32)
# 31 characters, the longest a guest name may be; they differ only in the last two.
LONG = "a-guest-name-of-31-characters{:02d}"


@case("vmm/many-guests-long-names")
def _many(t):
    names = [LONG.format(i) for i in range(MANY)]
    check(all(len(n) == 31 for n in names), f"test names are not 31 characters: {names[0]}")
    with tempfile.TemporaryDirectory() as d:
        extra = {f"g{i:02d}": {"guest.cfg": testos_cfg(n, smp=1, memory="16M")}
                 for i, n in enumerate(names)}
        q = boot(t, d, 3, guests(t, extra))
        out = q.command("guest list", timeout=60)
        rows = list_rows(out)
        missing = [n for n in names if n not in rows]
        check(not missing, f"guest list lacks {missing}:\n{out}")
        check(re.search(rf"^{MANY + 3} guests", out, re.M), f"no summary of {MANY + 3}:\n{out}")
        start = mark(q)
        for n in names[-2:]:
            out = q.command(f"guest start {n}")
            check(f"guest {n}: started" in out, f"guest start {n}:\n{out}")
        wait_all(q, [rf"\[{re.escape(n)}\] TESTOS PASS \d+ checks$" for n in names[-2:]]
                 + [rf"guest {re.escape(n)}: powered off" for n in names[-2:]], start)
