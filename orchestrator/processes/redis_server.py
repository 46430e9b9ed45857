"""The stack's own Redis: Debian's redis-server on loopback, in its own folder, with a password.

It serves the URL in the settings (SVC_REDIS_URL, or the default one with the generated password,
settings.py): host, port and password come from there, so the live controller, `orchestrator
status` and this server cannot disagree. A URL without a password, or not on loopback, is not
one the stack starts a server for: that Redis is someone else's to run.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from orchestrator.errors import StackError
from orchestrator.processes.daemon import Daemon, listening
from orchestrator.settings import Settings, redacted

LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    password: str
    socket_path: str | None = None  # unix://: a socket instead of host and port

    @property
    def local(self) -> bool:
        if self.socket_path is not None or self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def target_of(url: str) -> RedisTarget:
    parts = urlsplit(url)
    if parts.scheme == "unix" and parts.path:
        return RedisTarget("", 0, unquote(parts.password or ""), parts.path)
    if parts.scheme != "redis" or not parts.hostname:
        raise StackError(f"SVC_REDIS_URL {redacted(url)!r}: expected redis://[:password@]host:port/db "
                         "or unix://[:password@]/path?db=N")
    return RedisTarget(parts.hostname, parts.port or 6379, unquote(parts.password or ""))


def without_fake_clock(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without libfaketime (``LD_PRELOAD``, ``FAKETIME``): redis-server cannot start under
    it (jemalloc's start-up recurses into clock_gettime). Only when this process runs with a
    shifted clock (the tests at a chosen moment, docs/testing.md); Redis only counts relative
    expiry times, so the real clock is as good."""
    out = {k: v for k, v in env.items() if k != "FAKETIME"}
    preload = [p for p in out.pop("LD_PRELOAD", "").split() if "faketime" not in os.path.basename(p)]
    if preload:
        out["LD_PRELOAD"] = " ".join(preload)
    return out


class LocalRedis:
    def __init__(self, settings: Settings, run_dir: Path) -> None:
        self.target = target_of(settings.redis_url)
        self.url = redacted(settings.redis_url)
        self.dir = settings.state_dir / "redis"
        self.daemon = Daemon("redis", (self.binary(), str(self.dir / "redis.conf")), run_dir, "redis-server")

    @staticmethod
    def binary() -> str:
        return shutil.which("redis-server") or "/usr/bin/redis-server"

    def config(self) -> str:
        t = self.target
        listen = (f"port 0\nunixsocket {t.socket_path}\nunixsocketperm 700\n" if t.socket_path
                  else f"bind {t.host}\nport {t.port}\n")
        # Snapshots keep today's figures over a restart; no AOF: the figures are rebuilt from
        # Asterisk anyway (live controller re-sync), durability beyond that buys nothing.
        return (f"{listen}protected-mode yes\nrequirepass \"{t.password}\"\n"
                f"dir {self.dir}\ndbfilename figures.rdb\nappendonly no\nsave 60 1\n"
                f"daemonize no\nlogfile \"\"\n")

    def start(self) -> int:
        t = self.target
        if not t.local:
            raise StackError(f"Redis {self.url} is not on loopback: the stack starts only a local one "
                             "(leave SVC_REDIS_URL unset, or run that Redis yourself)")
        if not t.password:
            raise StackError(f"Redis {self.url} has no password: the stack never starts a Redis without one "
                             "(set SVC_REDIS_PASSWORD, or leave SVC_REDIS_URL unset for a generated one)")
        if any(c.isspace() or c in '"\\' for c in t.password):
            raise StackError("the Redis password holds a space, quote or backslash; choose another")
        if not os.path.exists(self.binary()):
            raise StackError("redis-server is not installed: run `make deps` (Debian package redis-server)")
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        conf = self.dir / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the password
        with os.fdopen(fd, "w") as fh:
            fh.write(self.config())
        if self.daemon.pid() is None and t.socket_path is None and listening(t.host, t.port):
            raise StackError(f"port {t.host}:{t.port} is taken by another program: "
                             "set SVC_REDIS_PORT to a free port")
        return self.daemon.start(without_fake_clock(os.environ), self.answers, timeout=15)

    def answers(self) -> bool:
        """Redis accepts our password and answers PING (a raw RESP exchange: no key is touched)."""
        t = self.target
        try:
            with _connect(t) as sock:
                sock.sendall(_command("AUTH", t.password) + _command("PING"))
                reply = b""
                while reply.count(b"\r\n") < 2:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    reply += chunk
        except OSError:
            return False
        return reply == b"+OK\r\n+PONG\r\n"


def _connect(t: RedisTarget) -> socket.socket:
    if t.socket_path is None:
        return socket.create_connection((t.host, t.port), timeout=1)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(1)
    try:
        sock.connect(t.socket_path)
    except OSError:
        sock.close()
        raise
    return sock


def _command(*words: str) -> bytes:
    out = [f"*{len(words)}\r\n".encode()]
    for w in words:
        data = w.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)
