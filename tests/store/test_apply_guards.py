"""The apply's guards on a real SQLite database, offline (no Asterisk): their checks only read
while the plan is validated and rendered, and their writes happen in the apply's one final
transaction, so a plan version that moved on after the check still fails the commit (the API's
412) and stores nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.errors import VersionConflict
from orchestrator.services.apply import ApplyTarget, apply_document
from orchestrator.services.apply_guards import ApplyGuards
from orchestrator.store import tenancy
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.engine import make_engine
from tests.plans import basis_number, tenant_plan


def plan(count: int) -> dict:
    return {**tenant_plan(*(basis_number(number=f"0800 000 0{101 + i}") for i in range(count))), "tenant": "acme"}


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    target = ApplyTarget(DialplanFiles(tmp_path / "etc"), tmp_path / "sounds", str, None)
    yield engine, target, db
    engine.dispose()


def _write_lock_free(db: Path) -> bool:
    """Whether another connection can take SQLite's write lock right now (no wait)."""
    other = sqlite3.connect(db, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_version_committed_after_the_check_fails_the_commit_and_nothing_is_stored(setup) -> None:  # type: ignore[no-untyped-def]
    engine, target, db = setup
    now = datetime.now(AMSTERDAM)
    with Session(engine) as session:
        asyncio.run(apply_document(plan(1), session, target, now=now))
        base = tenancy.plan_version(session, "acme")
        committed = version_store.committed_dialplan(session)
        assert base > 0 and committed is not None
        link = target.files.current()
    lock_free_while_rendering: list[bool] = []

    def meanwhile(message: str) -> None:
        # After the checks and the rendering, before the commit: another process changes the plan.
        if message.startswith("wrote "):
            lock_free_while_rendering.append(_write_lock_free(db))
            with Session(engine) as other:
                tenancy.claim_plan_version(other, "acme", base)
                tenancy.set_plan_version(other, "acme", base + 100)
                other.commit()

    with Session(engine) as session, pytest.raises(VersionConflict):
        asyncio.run(apply_document(plan(2), session, target, now=now, progress=meanwhile,
                                   guards=ApplyGuards(if_version=base)))
    assert lock_free_while_rendering == [True]  # the checks and the claim of free numbers wrote nothing yet
    with Session(engine) as session:
        assert tenant_store.tenant_numbers(session, "acme") == ["+318000000101"]
        assert tenancy.allocations(session, ["+318000000102"]) == {}  # the free number was not claimed
        assert tenancy.plan_version(session, "acme") == base + 100
        assert version_store.committed_dialplan(session).dialplan_dir == committed.dialplan_dir  # type: ignore[union-attr]
    assert target.files.current() == link  # the offline link is back on the committed version


def test_a_stale_version_is_refused_before_anything_is_rendered(setup) -> None:  # type: ignore[no-untyped-def]
    engine, target, _db = setup
    now = datetime.now(AMSTERDAM)
    said: list[str] = []
    with Session(engine) as session:
        asyncio.run(apply_document(plan(1), session, target, now=now))
        base = tenancy.plan_version(session, "acme")
        with pytest.raises(VersionConflict):
            asyncio.run(apply_document(plan(2), session, target, now=now, progress=said.append,
                                       guards=ApplyGuards(if_version=base - 1)))
    assert not any(s.startswith("wrote ") for s in said)
