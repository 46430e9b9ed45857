"""One tenant's apply must not block everyone (issue 14, section 5), with concurrent clients on
a real SQLite file: while a 3,000-number apply runs, another connection reads the whole time
without an error, and the apply holds the write lock only for a short part of its run (it
stages the plan once the files are written and commits at once). A plan over the documented
limit is refused, naming the field, before anything is stored."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.asterisk.push import reload_dialplan, reload_timeout
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.errors import PlanInvalid
from orchestrator.services.apply import MAX_NUMBERS_PER_PLAN, ApplyTarget, apply_document
from orchestrator.store import plans as plan_store
from orchestrator.store import versions as version_store
from orchestrator.store.engine import make_engine
from tests.plans import basis_number, tenant_plan


def numbers(count: int, start: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        n = basis_number()
        n["number"] = f"0800{start + i:07d}"
        out.append(n)
    return out


class Probe(threading.Thread):
    """Another client: reads, and tries to take the write lock without waiting, every few ms."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db, self.stop = db, threading.Event()
        self.reads, self.read_errors, self.held = 0, [], []  # type: ignore[var-annotated]

    def run(self) -> None:
        con = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        locked_since: float | None = None
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
                if locked_since is not None:
                    self.held.append(now - locked_since)
                    locked_since = None
            except sqlite3.OperationalError:
                locked_since = locked_since if locked_since is not None else now
            try:
                con.execute("SELECT count(*) FROM servicenumber").fetchall()
                self.reads += 1
            except sqlite3.OperationalError as exc:
                self.read_errors.append(str(exc))
            self.stop.wait(0.003)  # the probe's period, not a wait for a result
        con.close()


def target(tmp_path: Path) -> ApplyTarget:
    return ApplyTarget(DialplanFiles(tmp_path / "etc"), tmp_path / "sounds", str, None)


def test_reads_go_on_and_the_write_lock_is_short_during_a_big_apply(tmp_path: Path) -> None:
    db = tmp_path / "orchestrator.db"
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        plan_store.save_plan(session, parse_plan(tenant_plan(*numbers(1, 9000000)) | {"tenant": "other"}))
        session.commit()
    probe = Probe(db)
    probe.start()
    started = time.monotonic()
    with Session(engine) as session:
        report = asyncio.run(apply_document(tenant_plan(*numbers(3000, 1000000)), session, target(tmp_path),
                                            now=datetime.now(AMSTERDAM)))
    took = time.monotonic() - started
    probe.stop.set()
    probe.join()
    assert report.numbers == 3000
    assert probe.read_errors == [] and probe.reads > 10
    longest = max(probe.held, default=0.0)
    # The write transaction is the staging of the rows and the commit; validating, compiling,
    # rendering and writing 3,000 files happen before it, outside any lock.
    assert longest < took / 4, f"write lock held {longest:.2f} s of a {took:.2f} s apply"


def test_a_plan_over_the_limit_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    document = {"tenant": "big", "numbers": [{"number": "x"}] * (MAX_NUMBERS_PER_PLAN + 1)}
    with Session(engine) as session, pytest.raises(PlanInvalid) as caught:
        asyncio.run(apply_document(document, session, target(tmp_path), now=datetime.now(AMSTERDAM)))
    assert caught.value.violations[0].field == "numbers"
    assert str(MAX_NUMBERS_PER_PLAN) in caught.value.violations[0].rule
    with Session(engine) as session:
        assert version_store.history(session) == [] and plan_store.current_plan(session, "big") is None


class TimedAmi:
    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    async def dialplan_reload(self, *, timeout: float | None = None) -> str:
        self.timeouts.append(timeout)
        return "Dialplan reloaded."


def test_the_full_reload_timeout_grows_with_the_numbers() -> None:
    """A fixed 10 s made every full reload of ~8,000+ numbers fail under load."""
    ami = TimedAmi()
    asyncio.run(reload_dialplan(ami, 8000))  # type: ignore[arg-type]
    asyncio.run(reload_dialplan(ami, 50000))  # type: ignore[arg-type]
    assert ami.timeouts == [reload_timeout(8000), reload_timeout(50000)]
    assert 10 < reload_timeout(0) < reload_timeout(8000) < reload_timeout(50000)
    assert reload_timeout(50000) > 4 * 15.3  # the measured 50,000-number reload, with room for load
