"""Moving a test Asterisk's wall clock (it runs under libfaketime: ``runtime.up(faketime_file=...)``),
and reading it back (${EPOCH}). Test-only: the product never fakes time."""

from __future__ import annotations

import os
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.asterisk.runtime import AsteriskRuntime, inherited_clock_offset
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.errors import AsteriskError, AsteriskUnavailable

CLOCK_TIMEOUT = 15.0  # under load (CI, two cores) the move was seen to take over 5 s


def ahead(moment: datetime, delta: timedelta) -> datetime:
    """``moment`` + ``delta`` of real time, in Amsterdam: not wall-clock arithmetic (``aware +
    timedelta`` is: across a DST change it is an hour off, or lands in the hour that does not
    exist, which a plan refuses). Moved on past the repeated hour of October's change, so that
    its text as plans write moments ("YYYY-MM-DD HH:MM") names exactly this instant."""
    t = (moment.astimezone(UTC) + delta).astimezone(AMSTERDAM)
    while t.replace(fold=0).utcoffset() != t.replace(fold=1).utcoffset():
        t = (t.astimezone(UTC) + timedelta(hours=1)).astimezone(AMSTERDAM)
    return t


def set_clock_offset(runtime: AsteriskRuntime, seconds: int, *, wait: bool = True) -> None:
    """Move Asterisk's wall clock to this process's time + seconds (this process's clock may
    itself be shifted: tests/harness/at.py; the file holds the offset from the real clock).

    libfaketime re-reads the file only when its 1 s cache has expired, which it checks at whole
    seconds: the change takes up to ~2.1 s (measured). With ``wait`` this returns once Asterisk's
    ${EPOCH} shows the new offset, so callers need no sleeps."""
    try:
        clock = Path(runtime.clock_record.read_text().strip())
    except OSError as exc:
        raise AsteriskError("Asterisk was not started with a fake clock (up(faketime_file=...))") from exc
    tmp = clock.with_name(f".{clock.name}.tmp-{os.getpid()}")
    tmp.write_text(f"{int(seconds) + inherited_clock_offset():+d}s\n")
    tmp.chmod(0o644)
    tmp.replace(clock)
    if not wait:
        return
    deadline = time.monotonic() + CLOCK_TIMEOUT
    seen: list[int | None] = []
    while not _moved(runtime, seconds, seen):
        if time.monotonic() > deadline:
            raise AsteriskError(f"Asterisk's clock did not move to offset {seconds} s within {CLOCK_TIMEOUT:.0f} s "
                                f"(its EPOCH minus this host's clock, last reads: {seen[-3:]})")
        time.sleep(0.1)


def _moved(runtime: AsteriskRuntime, seconds: int, seen: list[int | None]) -> bool:
    """Whether Asterisk's ${EPOCH} shows real time + ``seconds``. Asterisk read its clock at some
    moment between ``before`` and ``after``, and EPOCH drops the fraction: so the value lies in
    [before + seconds - 1, after + seconds], however long the AMI round trip took on a loaded
    machine (comparing with the time after the answer alone failed whenever that took over 0.5 s).
    A read that fails counts as not moved: an AMI connection accepted just as the fake clock leaps
    forward by hours fails Asterisk's (wall-clock) auth timeout and is closed."""
    before = time.time()
    try:
        value = epoch(runtime)
    except AsteriskError:
        seen.append(None)
        return False
    after = time.time()
    seen.append(round(value - after))
    return before + seconds - 1.5 <= value <= after + seconds + 0.5


def epoch(runtime: AsteriskRuntime) -> int:
    """Asterisk's ${EPOCH} (its wall clock, faked or not), read with AMI Getvar over a plain
    socket (synchronous, for the tests' threads)."""
    s = runtime.settings
    request = (f"Action: Login\r\nActionID: login\r\nUsername: {s.ami_user}\r\nSecret: {s.ami_secret}\r\n"
               "Events: off\r\n\r\nAction: Getvar\r\nActionID: epoch\r\nVariable: EPOCH\r\n\r\n"
               "Action: Logoff\r\n\r\n")
    data = b""
    try:
        with socket.create_connection((s.bind_host, s.ami_port), timeout=5) as sock:
            sock.sendall(request.encode())
            while b"Goodbye" not in data and b"Thanks for all the fish" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise AsteriskUnavailable(f"AMI at {s.bind_host}:{s.ami_port} not reachable: {exc}") from exc
    text = data.decode(errors="replace")
    m = re.search(r"ActionID: epoch\r\n(?:[^\r\n]*\r\n)*?Value: (\d+)", text)
    if m is None:
        raise AsteriskError(f"AMI Getvar EPOCH failed: {text.strip()[-300:]}")
    return int(m.group(1))
