"""Finding and repairing what a crashed apply left, without Asterisk (what `asterisk up` does
before it starts Asterisk): real files in a temporary folder, a real SQLite database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.services.consistency import problems, repair
from orchestrator.store import versions as version_store
from orchestrator.store.engine import make_engine


def test_the_link_goes_back_to_the_committed_version_and_the_journal_waits_for_asterisk(tmp_path: Path) -> None:
    files = DialplanFiles(tmp_path / "etc")
    committed = files.write({"entry.conf": "[svc-entry]\n; A\n"})
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with Session(engine) as session:
        version_store.set_committed_dialplan(session, str(committed.path.resolve()), "gen", loaded=True)
        session.commit()
        assert problems(session, files) == []
        # A crashed apply: journal written, link switched to B, the database never committed.
        crashed = files.stage_changes({"entry.conf": "[svc-entry]\n; B\n"}, set())
        files.begin({"tenant": "acme", "version": crashed.name, "started": "now", "numbers": []})
        files.switch(crashed)
        found = problems(session, files)
        assert len(found) == 2 and "did not finish" in found[0] and "not the version" in found[1]
        said: list[str] = []
        assert asyncio.run(repair(session, files, None, said.append)) == found
        assert files.current() == committed.path.resolve()
        assert files.read(["entry.conf"])["entry.conf"].endswith("; A\n")
        # Asterisk may still run B: only a reload (with AMI) ends the journal.
        assert files.journal() is not None and "did not finish" in problems(session, files)[0]
        assert said[0].startswith("repairing:")


def test_an_offline_apply_is_reported_until_asterisk_loads_it(tmp_path: Path) -> None:
    files = DialplanFiles(tmp_path / "etc")
    version = files.write({"entry.conf": "[svc-entry]\n"})
    with Session(make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")) as session:
        version_store.set_committed_dialplan(session, str(version.path.resolve()), "gen", loaded=False)
        session.commit()
        assert "offline apply" in problems(session, files)[0]
