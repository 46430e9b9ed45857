"""Alembic's entry point, run by orchestrator/store/schema.py on a connection it passes in
(config.attributes["connection"]); there is no alembic.ini and no URL here."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from orchestrator.store import models  # noqa: F401 - registers every table on SQLModel.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through orchestrator.store.schema (orchestrator db upgrade)")

# render_as_batch: SQLite cannot ALTER most of a table; Alembic's batch mode copies it instead,
# so one migration works on both databases.
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True,
                  compare_type=True)
if connection.dialect.name == "postgresql":
    # Two services started at once on a new database: the second waits, then finds it current.
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(724201)")
with context.begin_transaction():
    context.run_migrations()
