"""History and rollback cover call flows (issue 15): real SQLite, the real apply use case writing
real files (no Asterisk: nothing to reload)."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services.apply import ApplyTarget, apply_document
from orchestrator.services.rollback import rollback
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from orchestrator.store import versions as version_store
from tests.flow_plans import flow_plan


async def test_rollback_puts_the_flow_and_its_file_back(tmp_path: Path) -> None:
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'svc.db'}")
    target = ApplyTarget(DialplanFiles(tmp_path / "etc"), tmp_path / "sounds", lambda p: str(p), None)
    first = flow_plan("hist")
    second = copy.deepcopy(first)
    second["flows"]["support"]["blocks"]["main"]["exits"]["1"] = "billing"
    second["layout"] = {"support": {"main": {"x": 500, "y": 1}}}
    now = datetime.now(AMSTERDAM)
    flow_file = tmp_path / "etc" / "svc" / "fl-hist-support.conf"
    with Session(engine) as session:
        await apply_document(first, session, target, now=now)
        before = flow_file.read_text()
        await apply_document(second, session, target, now=now)
        assert flow_file.read_text() != before
        assert plan_store.load_plan(session, "hist") == parse_plan(second)
        assert len(version_store.history(session, tenant="hist")) == 2

        await rollback(None, "hist", session, target, now=now)
        assert plan_store.load_plan(session, "hist") == parse_plan(first)  # flows, layout and lists
        assert flow_file.read_text() == before
        versions = version_store.history(session, tenant="hist")
        assert len(versions) == 3 and "rollback to version" in versions[0].summary
