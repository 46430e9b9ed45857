"""One tenant's apply must not block everyone (issue 14, section 5), with concurrent clients on
a real SQLite file: while a 3,000-number apply runs, another connection reads the whole time
without an error, and the apply takes the write lock only to commit (it stages the plan once the
files are written and commits at once): shown by the order of what both did, not by timing. A plan over the documented
limit is refused, naming the field, before anything is stored."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
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


class Trace:
    """One ordered record of what the apply and the other client did, from several threads: the
    order of the entries is the evidence (no clocks)."""

    def __init__(self) -> None:
        self.entries: list[str] = []
        self._lock = threading.Lock()

    def add(self, what: str) -> int:
        with self._lock:
            self.entries.append(what)
            return len(self.entries) - 1

    def index(self, what: str) -> int:
        return self.entries.index(what)


class TracedFiles(DialplanFiles):
    """The apply's dialplan folder, recording when the new version is written and switched to.
    Once the new version is on disk (the apply's files step, before anything is switched or
    committed), another client takes SQLite's write lock and gives it back: it must be free then."""

    def __init__(self, etc_dir: Path, trace: Trace, db: Path) -> None:
        super().__init__(etc_dir)
        self.trace, self.db = trace, db

    def _written(self) -> None:
        con = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")  # fails at once ("database is locked") if a writer holds it
            con.execute("ROLLBACK")
            self.trace.add("other client: took the write lock")
        except sqlite3.OperationalError as exc:
            self.trace.add(f"other client: {exc}")
        finally:
            con.close()
        self.trace.add("files: written")

    def stage(self, *args: Any, **kwargs: Any) -> Any:
        self.trace.add("files: writing")
        written = super().stage(*args, **kwargs)
        self._written()
        return written

    def stage_changes(self, *args: Any, **kwargs: Any) -> Any:
        self.trace.add("files: writing")
        written = super().stage_changes(*args, **kwargs)
        self._written()
        return written

    def switch(self, *args: Any, **kwargs: Any) -> Any:
        switched = super().switch(*args, **kwargs)
        self.trace.add("files: switched")
        return switched


class Probe(threading.Thread):
    """Another client: reads, and tries to take the write lock without waiting, over and over.
    Each try is recorded before it starts and its outcome after it ended: a try that found the
    lock taken overlapped a write transaction that began before the outcome and ended after the
    try began."""

    def __init__(self, db: Path, trace: Trace) -> None:
        super().__init__(daemon=True)
        self.db, self.trace, self.stop = db, trace, threading.Event()
        self.reads, self.read_errors = 0, []  # type: ignore[var-annotated]
        self.busy: list[tuple[int, int]] = []  # (index of the try, index of its outcome) when locked

    def run(self) -> None:
        con = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        while not self.stop.is_set():
            tried = self.trace.add("probe: try")
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
                self.trace.add("probe: took the write lock")
            except sqlite3.OperationalError:
                self.busy.append((tried, self.trace.add("probe: write lock busy")))
            try:
                con.execute("SELECT count(*) FROM servicenumber").fetchall()
                self.reads += 1
            except sqlite3.OperationalError as exc:
                self.read_errors.append(str(exc))
            self.stop.wait(0.003)  # the probe's period, not a wait for a result
        con.close()


def target(tmp_path: Path) -> ApplyTarget:
    return ApplyTarget(DialplanFiles(tmp_path / "etc"), tmp_path / "sounds", str, None)


def trace_writes(engine: Any, session: Session, trace: Trace) -> None:
    """Record the apply's SQL writes (SQLite takes its write lock at a transaction's first write)
    and the end of its transactions (recorded after the database released the lock)."""

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            trace.add("apply: write")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(session, "after_commit", lambda _s: trace.add("apply: committed"))
    event.listen(session, "after_rollback", lambda _s: trace.add("apply: rolled back"))


def test_reads_go_on_and_the_write_lock_is_taken_only_to_commit_a_big_apply(tmp_path: Path) -> None:
    db = tmp_path / "orchestrator.db"
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        plan_store.save_plan(session, parse_plan(tenant_plan(*numbers(1, 9000000)) | {"tenant": "other"}))
        session.commit()
    trace = Trace()
    probe = Probe(db, trace)
    probe.start()
    files = TracedFiles(tmp_path / "etc", trace, db)
    with Session(engine) as session:
        trace_writes(engine, session, trace)
        report = asyncio.run(apply_document(tenant_plan(*numbers(3000, 1000000)), session,
                                            ApplyTarget(files, tmp_path / "sounds", str, None),
                                            now=datetime.now(AMSTERDAM)))
    probe.stop.set()
    probe.join()
    assert report.numbers == 3000
    assert probe.read_errors == [] and probe.reads > 10, (probe.read_errors[:5], probe.reads)
    entries = trace.entries
    apply = [(i, e) for i, e in enumerate(entries) if not e.startswith("probe")]
    # The apply's one write transaction is its commit: it starts after the files were written and
    # switched to, and nothing but SQL happens in it (validating, compiling, rendering and writing
    # 3,000 files all happen before it, outside any lock): another client took the write lock once
    # the files were on disk, and the first write came after the switch.
    first = trace.index("apply: write")
    assert [e for i, e in apply if i < first] == [
        "files: writing", "other client: took the write lock", "files: written", "files: switched"], apply[:8]
    assert {e for i, e in apply if i > first} == {"apply: write", "apply: committed"}, {e for _, e in apply}
    committed = trace.index("apply: committed")
    assert [e for i, e in apply if i > committed] == []  # one transaction: nothing written after
    # The probe, reading and trying the write lock all along, found it taken only while that
    # transaction was open.
    outside = [(tried, outcome) for tried, outcome in probe.busy if not (outcome > first and tried < committed)]
    assert outside == [], (f"{len(outside)} of {len(probe.busy)} tries found the write lock taken outside the "
                           f"apply's transaction (entries {first}..{committed}): {outside[:5]}; "
                           f"around them: {[entries[max(0, t - 3):o + 3] for t, o in outside[:2]]}")


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
