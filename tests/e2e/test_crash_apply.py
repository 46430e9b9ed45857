"""kill -9 an apply at each of its steps; the next plain apply must route real calls right.

Issue 14, section 1: an apply killed after it switched the files made the next apply report
"unchanged" while Asterisk still dialled the old destination. Each case here runs the real CLI
against the test Asterisk, kills it (SIGKILL, through the SVC_TEST_CRASH_AT hook) at one step
boundary, checks that `orchestrator asterisk status` names the disagreement (when there is one),
applies again, and places a real call: the carrier must get the INVITE for the new destination.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.services.consistency import problems
from orchestrator.services.crashpoints import ENV, STEPS
from orchestrator.store.engine import make_engine
from tests.harness.sipp import place_call

pytestmark = pytest.mark.e2e

OLD, NEW = "+31205550111", "+31205550221"
# Steps after which Asterisk, the files or the database may disagree until the next apply.
DISAGREE = {"journaled", "switched", "loaded", "synced", "staged", "committed"}


def plan(first: str) -> dict[str, Any]:
    """Two numbers, so changing the first is an incremental apply (the path that trusted files)."""
    def entry(n: str, dest: str) -> dict[str, Any]:
        return {"number": n, "routings": {"main": [{"number": dest}]}, "active": "main",
                "blocking": {"blacklist": ["+31201110000"] if dest == NEW else []}}
    return {"tenant": "crash", "numbers": [entry("0800 300 0101", first), entry("0800 300 0102", OLD)]}


def cli(runtime: Any, db: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    s = runtime.settings
    env = {**os.environ, "SVC_STATE_DIR": str(s.state_dir), "SVC_INSTANCE": s.instance_name,
           "SVC_BIND_HOST": s.bind_host, "SVC_AMI_PORT": str(s.ami_port), "SVC_AMI_USER": s.ami_user,
           "SVC_AMI_SECRET": s.ami_secret, "SVC_SIP_PORT": str(s.sip_port), "SVC_DB_URL": f"sqlite:///{db}"}
    env.pop(ENV, None)
    if crash_at is not None:
        env[ENV] = crash_at
    exe = Path(sys.executable).parent / "orchestrator"
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


async def dialled(runtime: Any, carrier: Any, workdir: Path) -> list[str]:
    carrier.clear()
    result = await asyncio.to_thread(place_call, runtime.settings.sip_port, "08003000101", "0201234567",
                                     hold_s=0.2, workdir=workdir)
    assert result.final_code == 200
    return carrier.invites()


@pytest.mark.parametrize("step", STEPS)
async def test_a_killed_apply_is_repaired_by_the_next_one(step: str, runtime: Any, carrier: Any,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    old_file, new_file = tmp_path / "old.json", tmp_path / "new.json"
    old_file.write_text(json.dumps(plan(OLD)))
    new_file.write_text(json.dumps(plan(NEW)))
    first = await asyncio.to_thread(cli, runtime, db, "apply", str(old_file))
    assert first.returncode == 0, first.stderr
    assert await dialled(runtime, carrier, tmp_path) == [OLD]
    files = DialplanFiles(runtime.etc_dir)
    leftover = files.versions / ".20000101T000000-0123456789.tmp"  # what a write killed mid-way leaves
    leftover.mkdir()

    killed = await asyncio.to_thread(cli, runtime, db, "apply", str(new_file), crash_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Session(make_engine(f"sqlite:///{db}")) as session:
        found = problems(session, files)
    assert bool(found) == (step in DISAGREE), found
    status = await asyncio.to_thread(cli, runtime, db, "asterisk", "status")
    assert ("consistent" in status.stdout) == (step not in DISAGREE), status.stdout

    again = await asyncio.to_thread(cli, runtime, db, "apply", str(new_file))
    assert again.returncode == 0, again.stderr
    assert ("repairing" in again.stderr) == (step in DISAGREE), again.stderr
    assert await dialled(runtime, carrier, tmp_path) == [NEW]
    with Session(make_engine(f"sqlite:///{db}")) as session:
        assert problems(session, files) == []
    assert files.journal() is None and not leftover.exists()
    # A full reload of what the files say keeps the new routing: files and Asterisk agree.
    runtime.rx("dialplan reload")
    assert await dialled(runtime, carrier, tmp_path) == [NEW]
    # AstDB has the new blacklist entry of the second plan (written again after a crash).
    assert "+31201110000" in runtime.rx("database show svc-bl/318003000101")
