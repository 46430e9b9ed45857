"""The database schema as a use case: its state, and upgrading it (``orchestrator db``)."""

from __future__ import annotations

from orchestrator.store import schema
from orchestrator.store.engine import make_engine
from orchestrator.store.schema import SchemaState

UPGRADE_COMMAND = schema.UPGRADE_COMMAND


def state(db_url: str) -> SchemaState:
    engine = make_engine(db_url, check_schema=False)
    try:
        return schema.state(engine)
    finally:
        engine.dispose()


def upgrade(db_url: str) -> tuple[SchemaState, SchemaState]:
    """Run the migrations the database has not had; (before, after)."""
    engine = make_engine(db_url, check_schema=False)
    try:
        return schema.upgrade(engine)
    finally:
        engine.dispose()
