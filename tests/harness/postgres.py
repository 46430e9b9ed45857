"""A throw-away PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster made by
initdb in a temporary folder, reachable only through a Unix socket in that folder (no TCP port,
so parallel test runs on one machine cannot collide), stopped and removed afterwards.

initdb and postgres refuse to run as root. When the tests run as root (CI containers, this
machine), the server runs as the unprivileged `postgres` system user that Debian's package
creates, through runuser; the folder is handed to that user. Otherwise it runs as the caller.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

import psycopg

SERVICE_USER = "postgres"  # created by Debian's postgresql-common
SUPERUSER = "postgres"  # the cluster's bootstrap role; the tests connect as it (trust, socket only)
PORT = 5432  # only names the socket file (.s.PGSQL.5432): the server listens on no TCP port

# A test database needs no durability: without fsync a CREATE DATABASE and a test's commits cost
# milliseconds instead of waiting on the disk, which matters with every DB test run twice.
# The server's time zone is deliberately not UTC (as on a Dutch operator's server): timestamps must
# not depend on it.
SERVER_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300",
                  "listen_addresses=", "timezone=Europe/Amsterdam")


def bindir() -> Path:
    """Where initdb and pg_ctl are: Debian keeps them out of PATH, per major version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: run deploy/install-system-deps.sh (Debian package postgresql)")
    return Path(initdb).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = bindir()
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="svc-pg-"))  # not pytest's tmp: that is 0700 for root
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._running = False

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")

    def start(self) -> PostgresServer:
        if self.as_root:
            try:
                user = pwd.getpwnam(SERVICE_USER)
            except KeyError as exc:
                raise RuntimeError(f"running as root needs the {SERVICE_USER!r} system user (Debian package "
                                   "postgresql creates it): initdb refuses to run as root") from exc
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        options = " ".join(f"-c {o}" for o in (*SERVER_OPTIONS, f"unix_socket_directories={self.dir}",
                                                   f"port={PORT}"))
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options)
        self._running = True
        return self

    def stop(self) -> None:
        try:
            if self._running:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
                self._running = False
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3) for one of the server's databases, over the socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.dir}&port={PORT}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=str(self.dir), port=PORT, user=SUPERUSER, dbname="postgres", autocommit=True)

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:  # FORCE: a test may leave an engine's pooled connection open
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
