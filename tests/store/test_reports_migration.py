"""Migration 0004 on a database with call records (SQLite and PostgreSQL): the old records get
empty report columns and are counted in the rollups, so reports over old periods are complete."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, text

from orchestrator.services import reports
from orchestrator.store import schema
from orchestrator.store import tenants as tenant_store
from orchestrator.store.engine import make_engine
from orchestrator.store.session import Session


def test_upgrade_rolls_up_the_records_already_there(db_url: str) -> None:
    raw = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with raw.begin() as conn:
        command.upgrade(schema._config(conn), "0003")
        for i, (at, outcome) in enumerate([(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "answered"),  # 02:30+02:00
                                           (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "answered"),  # 02:30+01:00
                                           (datetime(2026, 10, 25, 1, 40, tzinfo=UTC), "busy")]):
            conn.execute(text("INSERT INTO callrecord (call_id, service_number, tenant, caller, started_at, ended_at, "
                              "outcome, wait_s, talk_s, dial_status, end_observed, note) VALUES (:id, '+318001234567', "
                              "'acme', '+31201234567', :at, :at, :outcome, 1.0, 2.0, '', true, '')"),
                         {"id": f"old-{i}", "at": at, "outcome": outcome})
    with raw.begin() as conn:
        command.upgrade(schema._config(conn), "head")
    raw.dispose()
    engine = make_engine(db_url)
    with Session(engine) as s:
        tenant_store.tenant_row(s, "acme", create=True)
        s.commit()
    report = reports.report(engine, reports.Request("acme", "volume", "2026-10-25", "2026-10-26", "hour"))
    got = {r[0]: r for r in report.tables[0].rows}
    assert (got["2026-10-25T02:00+02:00"][1], got["2026-10-25T02:00+01:00"][1:4]) == (1, [2, 1, 1])
    engine.dispose()
