"""What every database must keep exactly, SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session, select

from orchestrator.store import models as m
from orchestrator.store import versions as repo
from orchestrator.store.engine import make_engine


def test_timestamps_round_trip_as_utc_whatever_the_server_zone(db_url: str) -> None:
    """The test PostgreSQL runs in Europe/Amsterdam: a UTC instant must come back unshifted."""
    engine = make_engine(db_url)
    started = datetime(2026, 7, 1, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=2)))  # 08:00 UTC
    with Session(engine) as s:
        s.add(m.CallRecord(call_id="1.1", service_number="+318001234567", tenant="acme", caller="",
                           started_at=started.astimezone(UTC), ended_at=started.astimezone(UTC), outcome="answered",
                           wait_s=1.5))
        s.commit()
    with Session(engine) as s:
        row = s.exec(select(m.CallRecord)).one()
        back = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)
        assert back == started
        assert s.exec(select(m.CallRecord.id).where(m.CallRecord.started_at >= datetime(2026, 7, 1, 8, 0, tzinfo=UTC),
                                                    m.CallRecord.started_at < datetime(2026, 7, 1, 8, 1, tzinfo=UTC))
                      ).one() == row.id
    engine.dispose()


def test_postgresql_urls_use_psycopg_3(postgres_url: str) -> None:
    engine = make_engine(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


def test_postgresql_sessions_are_in_utc(postgres_url: str) -> None:
    """The server's zone is Europe/Amsterdam; our sessions show stored instants in UTC."""
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW timezone").scalar() == "UTC"
    engine.dispose()


def test_two_services_writing_the_first_dialplan_state_at_once(db_url: str) -> None:
    """Both read "no row yet"; the second waits for the first's commit, then must update, not
    fail on the key (the API and a CLI apply on a new database)."""
    engine = make_engine(db_url)
    first, second = Session(engine), Session(engine)
    try:
        assert repo.committed_dialplan(first) is None and repo.committed_dialplan(second) is None
        second.commit()  # SQLite: no read snapshot held while the first writes
        repo.set_committed_dialplan(first, "v1", "g1", loaded=False)
        outcome: list[BaseException | None] = []

        def write_second() -> None:
            try:
                repo.set_committed_dialplan(second, "v2", "g2", loaded=True)
                second.commit()
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                outcome.append(exc)

        thread = threading.Thread(target=write_second)
        thread.start()
        _until_waiting(engine, thread)
        first.commit()
        thread.join(30)
        assert outcome == [None]
        with Session(engine) as s:
            state = repo.committed_dialplan(s)
            assert state is not None and (state.dialplan_dir, state.generator) == ("v2", "g2")
    finally:
        first.close()
        second.close()
        engine.dispose()


def _until_waiting(engine: Any, thread: threading.Thread) -> None:
    """PostgreSQL: until the second session waits on the first's lock (pg_stat_activity says so).
    SQLite shows no waiter; there the writer gets half a second to reach the busy wait."""
    if engine.dialect.name != "postgresql":
        thread.join(0.5)
        return
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                   " AND datname = current_database()").scalar() == 0:
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            conn.rollback()
            time.sleep(0.02)


def test_applies_wait_for_each_other(db_url: str) -> None:
    """An apply's reads of every plan must not see half of another apply (PostgreSQL read committed
    hands out each statement's own snapshot): the second apply's lock waits for the first's commit."""
    engine = make_engine(db_url)
    first, second = Session(engine), Session(engine)
    acquired: list[float] = []
    try:
        repo.lock_applies(first)
        thread = threading.Thread(target=lambda: (repo.lock_applies(second), acquired.append(time.monotonic())))
        thread.start()
        _until_waiting(engine, thread)
        committed = time.monotonic()
        first.commit()
        thread.join(30)
        assert len(acquired) == 1 and acquired[0] >= committed
    finally:
        second.rollback()
        first.close()
        second.close()
        engine.dispose()
