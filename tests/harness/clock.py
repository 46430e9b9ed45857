"""Moving a test Asterisk's wall clock (it runs under libfaketime: ``runtime.up(faketime_file=...)``),
and reading it back (${EPOCH}). Test-only: the product never fakes time."""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.errors import AsteriskError, AsteriskUnavailable

CLOCK_TIMEOUT = 15.0  # under load (CI, two cores) the move was seen to take over 5 s


def set_clock_offset(runtime: AsteriskRuntime, seconds: int, *, wait: bool = True) -> None:
    """Move Asterisk's wall clock to real time + seconds.

    libfaketime re-reads the file only when its 1 s cache has expired, which it checks at whole
    seconds: the change takes up to ~2.1 s (measured). With ``wait`` this returns once Asterisk's
    ${EPOCH} shows the new offset, so callers need no sleeps."""
    try:
        clock = Path(runtime.clock_record.read_text().strip())
    except OSError as exc:
        raise AsteriskError("Asterisk was not started with a fake clock (up(faketime_file=...))") from exc
    tmp = clock.with_name(f".{clock.name}.tmp-{os.getpid()}")
    tmp.write_text(f"{'+' if seconds >= 0 else '-'}{abs(int(seconds))}s\n")
    tmp.chmod(0o644)
    tmp.replace(clock)
    if not wait:
        return
    deadline = time.monotonic() + CLOCK_TIMEOUT
    while not abs(_epoch_or_nan(runtime) - time.time() - seconds) <= 1.5:  # NaN: retry
        if time.monotonic() > deadline:
            raise AsteriskError(f"Asterisk's clock did not move to offset {seconds} s within {CLOCK_TIMEOUT:.0f} s")
        time.sleep(0.1)


def _epoch_or_nan(runtime: AsteriskRuntime) -> float:
    """EPOCH, or NaN when the AMI session was cut: an AMI connection accepted just as the fake
    clock leaps forward by hours fails Asterisk's (wall-clock) auth timeout and is closed."""
    try:
        return float(epoch(runtime))
    except AsteriskError:
        return float("nan")


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
