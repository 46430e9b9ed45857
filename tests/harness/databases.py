"""Empty databases for the tests, of each kind the orchestrator supports (SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.harness.postgres import PostgresServer


class Databases:
    """Empty databases of each kind the orchestrator supports. PostgreSQL is started on first
    use (a test session with no PostgreSQL test starts none) and stopped at the end."""

    KINDS = ("sqlite", "postgresql")

    def __init__(self) -> None:
        self._server: PostgresServer | None = None

    @property
    def server(self) -> PostgresServer:
        if self._server is None:
            self._server = PostgresServer().start()
        return self._server

    def new(self, kind: str, folder: Path) -> str:
        """The URL of a new empty database; ``folder`` holds a SQLite file."""
        if kind == "sqlite":
            folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{folder / f'db-{uuid.uuid4().hex[:8]}.db'}"
        return self.server.url(self.server.create_database())

    def like(self, url: str, folder: Path) -> str:
        """A new empty database of the same kind as ``url``."""
        return self.new("sqlite" if url.startswith("sqlite") else "postgresql", folder)

    def drop(self, url: str) -> None:
        if not url.startswith("sqlite") and self._server is not None:
            self._server.drop_database(url.split("/")[-1].split("?")[0])

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()

