"""Kamailio as a process: write its files (generate/kamailio.py renders them), start it, ask it
over its control socket (``kamcmd``, the ctl module's binrpc) which nodes it sends calls to.

Kamailio's own errors (a config it refuses, a socket that does not answer) become EdgeError here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.domain.cluster import Node
from orchestrator.errors import EdgeError
from orchestrator.generate import kamailio as render
from orchestrator.generate.kamailio import Edge

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMCMD = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
START_TIMEOUT = 10.0
# kamcmd's dispatcher.list: one DEST block per destination; FLAGS is two letters, the first
# A(ctive) / I(nactive) / D(isabled), the second P(robing) or X.
_DEST = re.compile(r"URI:\s*(?P<uri>\S+)\s+FLAGS:\s*(?P<flags>\w+)", re.S)


@dataclass(frozen=True)
class Destination:
    uri: str
    flags: str  # e.g. "AP", "AX", "IP", "DX"

    @property
    def active(self) -> bool:
        return self.flags.startswith("A")


def write_files(edge: Edge, nodes: list[Node]) -> None:
    edge.run_dir.mkdir(parents=True, exist_ok=True)
    for path, text in render.files(edge, nodes).items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


def check_config(edge: Edge) -> None:
    """``kamailio -c``: the generated file parses, its modules load."""
    proc = _run([KAMAILIO, "-c", "-f", str(edge.cfg_file)], timeout=20)
    if proc.returncode != 0:
        raise EdgeError(f"Kamailio refuses {edge.cfg_file}: {_tail(proc.stderr)}")


class Kamailio:
    def __init__(self, edge: Edge, log_file: Path) -> None:
        self.edge = edge
        self.log_file = log_file
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.edge.run_dir / "kamailio.pid"

    def start(self) -> None:
        """Start Kamailio in the foreground of a new session (our child) and wait until its
        control socket answers."""
        self.edge.ctl_socket.unlink(missing_ok=True)
        cmd = [KAMAILIO, "-DD", "-f", str(self.edge.cfg_file), "-P", str(self.pid_file),
               "-Y", str(self.edge.run_dir), "-w", str(self.edge.run_dir)]
        with open(self.log_file, "ab") as log:
            try:
                self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                raise EdgeError(f"cannot start Kamailio: {exc}") from exc
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EdgeError(f"Kamailio exited with {self._proc.returncode}: {_tail(self._read_log())}")
            if self.edge.ctl_socket.exists():
                with contextlib.suppress(EdgeError):
                    self.rpc("core.version")
                    return
            time.sleep(0.05)
        self.stop()
        raise EdgeError(f"Kamailio did not answer on {self.edge.ctl_socket} within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._proc = None

    def _read_log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def rpc(self, *command: str) -> str:
        proc = _run([KAMCMD, "-s", f"unix:{self.edge.ctl_socket}", *command], timeout=5)
        if proc.returncode != 0:
            raise EdgeError(f"kamcmd {' '.join(command)}: {_tail(proc.stdout + proc.stderr)}")
        return proc.stdout

    def destinations(self) -> dict[str, Destination]:
        """The dispatcher's destinations by URI, with their state as Kamailio sees it now."""
        return {m.group("uri"): Destination(m.group("uri"), m.group("flags"))
                for m in _DEST.finditer(self.rpc("dispatcher.list"))}

    def fence(self, uri: str) -> None:
        """Send this node no calls and stop probing it (disabled), whatever it answers, until
        ``admit``: a node that runs a stale plan but still answers SIP."""
        self.rpc("dispatcher.set_state", "d", str(render.DISPATCHER_SET), uri)

    def admit(self, uri: str) -> None:
        """Probe it again: it takes calls once its probe succeeds (its ready extension)."""
        self.rpc("dispatcher.set_state", "ip", str(render.DISPATCHER_SET), uri)

    def reload_nodes(self) -> None:
        """Read dispatcher.list again (a node added or removed); states of kept nodes restart as probing."""
        self.rpc("dispatcher.reload")


def _run(cmd: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise EdgeError(f"cannot run {cmd[0]}: not installed (apt install kamailio)") from exc
    except subprocess.TimeoutExpired as exc:
        raise EdgeError(f"{' '.join(cmd[:3])} did not finish within {timeout:.0f} s") from exc


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
