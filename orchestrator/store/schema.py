"""The database schema's version. Alembic migrations (store/migrations/versions) take any
database from the release before migrations existed, or from any later release, to the schema of
this code. They are run from here, with no alembic.ini: ``orchestrator db upgrade`` on an
existing database, and automatically on an empty one (a fresh machine needs no extra step).

Every command that opens the database checks the version first and refuses, naming the command
that fixes it, when the schema is behind: running on it would fail later and half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.errors import SchemaOutdated, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_COMMAND = "orchestrator db upgrade"
BEFORE_MIGRATIONS = "the release before migrations"  # tables but no alembic_version (up to 9e66f28)


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None, "store/migrations/versions has no migration"
    return found


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no alembic_version (empty, or made before migrations)
    empty: bool  # no table at all
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.empty:
            return "empty"
        return self.current or BEFORE_MIGRATIONS


def state(engine: Engine) -> SchemaState:
    try:
        with engine.connect() as conn:
            empty = not inspect(conn).get_table_names()
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {engine.url!r}: {exc}") from exc
    return SchemaState(current, empty, head())


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Run every migration the database has not had, in one transaction where the database
    allows DDL in one (PostgreSQL; SQLite too, statement by statement otherwise)."""
    before = state(engine)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"upgrading the database schema failed, nothing was changed where the database "
                         f"allows it: {exc}") from exc
    return before, state(engine)


def ensure_current(engine: Engine) -> None:
    """Create an empty database at the newest schema; refuse one whose schema is not current."""
    found = state(engine)
    if found.up_to_date:
        return
    if found.empty:
        try:
            upgrade(engine)
        except StoreError:
            if not state(engine).up_to_date:  # another process created it at the same moment: fine
                raise
        return
    if found.current is not None and found.current not in _known():
        raise SchemaOutdated(f"the database schema is at {found.current}, newer than this orchestrator "
                             f"knows (it needs {found.head}): upgrade the orchestrator")
    raise SchemaOutdated(f"the database schema is behind (at {found.describe()}, this orchestrator needs "
                         f"{found.head}): run `{UPGRADE_COMMAND}`")


@cache
def _known() -> frozenset[str]:
    return frozenset(s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions())


def migration_context(conn: Connection, **options: Any) -> MigrationContext:
    """For comparing the migrated schema with the models (tests, `db check`)."""
    return MigrationContext.configure(conn, opts=options)
