"""The one-machine stack (`orchestrator run`, `orchestrator stack up|down|status`): Asterisk 22,
Redis, the live controller, the REST API and the recordings worker on this machine, loopback by
default.

Asterisk is the runtime's (asterisk/runtime.py); Redis and our three services are background
processes with pid files and logs in ``state_dir/run`` (processes/). Each service reads its
settings from the same environment and state folder as the command that started it, so the
generated secrets (AMI, ARI, Redis password) are the same everywhere. Starting is idempotent: a
part that runs is left alone; each new one must pass its health probe before the next starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.processes.daemon import Daemon, find_process, http_ok
from orchestrator.processes.redis_server import LocalRedis
from orchestrator.settings import Settings

ANY_ADDRESS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Part:
    """One part of the stack as `orchestrator status` shows it."""

    name: str
    running: bool
    healthy: bool  # its health probe answered
    pid: int | None
    where: str  # where it listens (or what it watches)
    note: str = ""  # its log, or why it is not healthy

    def line(self) -> str:
        state = "up" if self.running and self.healthy else ("unhealthy" if self.running else "down")
        pid = f"pid {self.pid}" if self.pid else "-"
        return f"{self.name:<18} {state:<9} {pid:<10} {self.where}" + (f"  ({self.note})" if self.note else "")


class Stack:
    def __init__(self, settings: Settings, runtime: AsteriskRuntime, python: str,
                 progress: Callable[[str], None] = lambda s: None) -> None:
        self.settings = settings
        self.runtime = runtime
        self.progress = progress
        self.python = python  # the interpreter of this installation: the services run the same code
        self.run_dir = settings.state_dir / "run"
        self.redis = LocalRedis(settings, self.run_dir)
        host = "127.0.0.1" if settings.bind_host in ANY_ADDRESS else settings.bind_host
        self.health_url = f"http://{host}:{settings.live_port}/health"
        self.api_url = f"http://{host}:{settings.api_port}/"
        self.live = self._daemon("live", ("serve",))
        self.api = self._daemon("api", ("api", "serve"))
        self.recordings = self._daemon("recordings", ("recordings", "watch"))

    def _daemon(self, name: str, args: tuple[str, ...]) -> Daemon:
        return Daemon(name, (self.python, "-m", "orchestrator", *args), self.run_dir, "orchestrator " + " ".join(args))

    def _env(self) -> dict[str, str]:
        return {**os.environ, "SVC_STATE_DIR": str(self.settings.state_dir), "PYTHONUNBUFFERED": "1"}

    def _start(self, daemon: Daemon, ready: Callable[[], bool], what: str) -> None:
        was = daemon.pid()
        pid = daemon.start(self._env(), ready)
        self.progress(f"{daemon.name:<10} {'already running' if was else 'up'} (pid {pid}): {what}")

    def up_services(self) -> None:
        """Redis, the live controller, the REST API and the recordings worker, in that order
        (Asterisk is up already: the live controller's health needs its AMI)."""
        s = self.settings
        if self.redis.target.local:
            was = self.redis.daemon.pid()
            pid = self.redis.start()
            self.progress(f"{'redis':<10} {'already running' if was else 'up'} (pid {pid}): {self.redis.url}")
        else:
            self.progress(f"{'redis':<10} not started here: {self.redis.url} is not on loopback")
        self._start(self.live, lambda: http_ok(self.health_url), f"{self.health_url}, /metrics")
        self._start(self.api, lambda: http_ok(self.api_url + "openapi.json"),
                    f"{self.api_url} (OpenAPI: {self.api_url}openapi.json) on {s.bind_host}")
        self._start(self.recordings, lambda: "watching" in self._log(self.recordings),
                    f"watching {self.runtime.paths.spool / 'done'}")

    @staticmethod
    def _log(daemon: Daemon) -> str:
        try:
            return daemon.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def down(self) -> list[str]:
        """Stop every part, Asterisk last (calls in progress are cut); names what was running."""
        stopped = [d.name for d in (self.api, self.live, self.recordings, self.redis.daemon) if d.stop()]
        if self.runtime.is_running():
            self.runtime.down()
            stopped.append("asterisk")
        return stopped

    def status(self) -> list[Part]:
        s = self.settings
        ast = self.runtime.status()
        parts = [Part("Asterisk", bool(ast["running"]), ast["version"] is not None and bool(ast["running"]),
                      ast["pid"], f"SIP {ast['sip']}, AMI {ast['ami']}, ARI/HTTP {ast['http']}",
                      f"version {ast['version']}" if ast["running"] else "")]
        redis_pid = self.redis.daemon.pid() or find_process("redis-server", s.state_dir)
        answers = self.redis.answers()
        parts.append(Part("Redis", redis_pid is not None or answers, answers, redis_pid, self.redis.url,
                          "" if answers or redis_pid is None else "does not answer PING with our password"))
        services: list[tuple[Daemon, str, str, Callable[[], bool]]] = [
            (self.live, "live controller", self.health_url, lambda: http_ok(self.health_url)),
            (self.api, "REST API", f"{self.api_url} (bound to {s.bind_host}:{s.api_port})",
             lambda: http_ok(self.api_url + "openapi.json")),
            (self.recordings, "recordings worker", f"watching {self.runtime.paths.spool / 'done'}", lambda: True)]
        for daemon, name, where, healthy in services:
            pid = daemon.pid() or find_process(daemon.marker, s.state_dir)
            ok = pid is not None and healthy()
            parts.append(Part(name, pid is not None, ok, pid, where, _note(daemon.log_file, pid, ok)))
        return parts


def _note(log: Path, pid: int | None, healthy: bool) -> str:
    if pid is None:
        return ""
    return "" if healthy else f"not answering its health probe; see {log}"
