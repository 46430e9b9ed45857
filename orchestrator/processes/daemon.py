"""A background process of the one-machine stack (`orchestrator run`): started detached with its
output in a log file, found again through its pid file, stopped with SIGTERM (then SIGKILL).

Why not the caller's process group or pipes: the stack outlives the command that started it, and
a daemon holding the caller's stdout would keep anyone reading that output waiting forever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import StackError

STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Daemon:
    name: str  # also the pid and log file names
    argv: tuple[str, ...]
    run_dir: Path  # pid files and logs
    marker: str  # a word in its command line: guards against a recycled pid

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of the running process, or None (no pid file, gone, a zombie, or another program)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            return None
        if self.marker not in cmdline or "\nState:\tZ" in status:
            return None
        return pid

    def start(self, env: Mapping[str, str], ready: Callable[[], bool], timeout: float = 30.0) -> int:
        """Start it unless it runs; return its pid once ``ready()`` holds. Raises StackError (with
        the end of its log) when it exits or is not ready in time; a late one is stopped."""
        running = self.pid()
        if running is not None:
            return running
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # logs name callers' numbers
        try:
            fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with open(fd, "ab") as log:
                proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        env=dict(env), start_new_session=True, close_fds=True)
        except OSError as exc:
            raise StackError(f"cannot start {self.name} ({self.argv[0]}): {exc}") from exc
        self.pid_file.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(f"{self.name} exited with {proc.returncode} at start; "
                                 f"end of {self.log_file}:\n{self.log_tail()}")
            if ready():
                return proc.pid
            time.sleep(0.1)
        self.stop()
        raise StackError(f"{self.name} was not ready within {timeout:.0f} s; end of {self.log_file}:\n"
                         f"{self.log_tail()}")

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; True when it was running. Idempotent."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 3.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.pid() is not None:
                time.sleep(0.05)
            if self.pid() is None:
                break
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"({self.log_file} not readable)"


def find_process(marker: str, state_dir: Path) -> int | None:
    """A running process with ``marker`` in its command line and this SVC_STATE_DIR in its
    environment: the same service started by something else than `orchestrator run` (a container
    of the same pod, systemd). Needs to see its /proc entry (root, a shared process namespace)."""
    want = f"SVC_STATE_DIR={state_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if marker in cmdline and want in (entry / "environ").read_bytes().split(b"\0"):
                return int(entry.name)
        except OSError:
            continue
    return None


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """GET ``url`` answers 200 (a health probe)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False

