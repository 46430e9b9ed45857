"""Run a command (the test suite) as if it were started at another moment.

    python -m tests.harness.at 2026-12-25T10:00:00+01:00 pytest -q tests/unit
    SVC_TEST_NOW=2026-12-25T10:00:00+01:00 make test        # the same, through the Makefile

The command runs under libfaketime with a fixed offset (``FAKETIME=+Ns``): its wall clock
starts at that moment and then runs at normal speed; monotonic clocks (timeouts, asyncio) are
not faked. Child processes inherit the preload and the offset (sipp, PostgreSQL, the
orchestrator's own processes; not redis-server, which cannot start under libfaketime and only
counts relative expiry times), and every Asterisk the tests or the product start gets it too
(``runtime.inherited_clock_offset``; a test's movable clock file starts from it). A small
preloaded shim (clock_shim.c, built with cc on first use) mends what libfaketime 0.9.10 gets
wrong: Python's monotonic sleeps and file times. So everything agrees on the shifted time, as
on a machine whose clock really showed that moment.

Moments worth trying (docs/testing.md): a Sunday night, 23:59:30 (crossing midnight), the DST
change nights, Christmas, King's Day (27 April), New Year's Eve, a quarter-hour boundary."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from orchestrator.asterisk.runtime import LIBFAKETIME, inherited_clock_offset

# The thread-safe build: the test process runs threads (asyncio.to_thread, sipp helpers).
LIBFAKETIME_MT = LIBFAKETIME.replace("libfaketime.so", "libfaketimeMT.so")
SHIM_SOURCE = Path(__file__).with_name("clock_shim.c")


def clock_shim() -> Path:
    """The compiled clock_shim.c (see there why), built once per source version."""
    source = SHIM_SOURCE.read_bytes()
    built = Path(tempfile.gettempdir()) / f"svc-clock-shim-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if not built.exists():
        tmp = built.with_name(f"{built.name}.{os.getpid()}")
        try:
            subprocess.run(["cc", "-Wall", "-Werror", "-shared", "-fPIC", "-O2", "-o", str(tmp), str(SHIM_SOURCE),
                            "-ldl"], check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(f"cannot build {SHIM_SOURCE.name} (a C compiler, cc, is needed): {exc}") from exc
        tmp.replace(built)
    return built


def fake_env(moment: datetime, env: dict[str, str]) -> dict[str, str]:
    """``env`` plus libfaketime's variables that shift the clock to ``moment`` (aware) from now."""
    if moment.tzinfo is None:
        raise SystemExit(f"{moment.isoformat()}: give the moment with its UTC offset, e.g. +01:00")
    real_now = time.time() - inherited_clock_offset()  # run from an already shifted process: no double shift
    offset = round(moment.timestamp() - real_now)
    preload = env.get("LD_PRELOAD", "")
    if LIBFAKETIME_MT not in preload:  # the shim first: its functions win over libfaketime's
        preload = " ".join(p for p in (str(clock_shim()), preload, LIBFAKETIME_MT) if p)
    # Both spellings of "do not fake the monotonic clock": libfaketime renamed it in 0.9.10.
    return env | {"LD_PRELOAD": preload, "FAKETIME": f"{'+' if offset >= 0 else '-'}{abs(offset)}s",
                  "FAKETIME_DONT_FAKE_MONOTONIC": "1", "DONT_FAKE_MONOTONIC": "1",
                  "NO_FAKE_STAT": "1",  # file times: the shim's (clock_shim.c)
                  "SVC_TEST_NOW": moment.isoformat()}


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m tests.harness.at 2026-12-25T10:00:00+01:00 COMMAND [ARGS...]")
    try:
        moment = datetime.fromisoformat(argv[0])
    except ValueError as exc:
        raise SystemExit(f"{argv[0]!r}: not an ISO 8601 moment (2026-12-25T10:00:00+01:00)") from exc
    env = fake_env(moment, dict(os.environ))
    print(f"clock: {moment.isoformat()} (FAKETIME={env['FAKETIME']})", file=sys.stderr, flush=True)
    os.execvpe(argv[1], argv[1:], env)


if __name__ == "__main__":
    main(sys.argv[1:])
