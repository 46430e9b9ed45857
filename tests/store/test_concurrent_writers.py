"""Every writer of a running installation at once, on SQLite and PostgreSQL: the live controller's
call records (20 calls/s), applies, the REST API applying another tenant's plan, and the
recordings worker. Each has its own engine (its own connections), as the separate services do.
Nothing may fail ("database is locked", a unique-key race) and no row may be lost."""

from __future__ import annotations

import asyncio
import base64
import struct
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlmodel import Session, col, func, select

from orchestrator.api.app import create_app
from orchestrator.cli.common import with_asterisk
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.live.calls import FinishedCall, Outcome
from orchestrator.live.records import to_row
from orchestrator.services.apply import apply_document
from orchestrator.services.recordings.keys import parse_keys
from orchestrator.services.recordings.store import ingest
from orchestrator.store import call_records
from orchestrator.store import models as m
from orchestrator.store import plans as repo
from orchestrator.store.engine import make_engine
from tests.api.helpers import allocate, bearer, make_token, offline_config, offline_settings
from tests.api.test_openapi import Server
from tests.plans import basis_number

CALLS, CALLS_PER_S = 160, 20  # 8 s of load
APPLIES = 4
RECORDINGS = 20
KEYS = parse_keys("k1:" + base64.b64encode(b"\x07" * 32).decode(), "test")


def acme_document(round_: int) -> dict[str, Any]:
    """200 numbers; each round sends them elsewhere, so every apply rewrites all of them."""
    dest = f"020 555 {round_:04d}"
    return {"tenant": "acme", "numbers": [
        basis_number(number=f"0800{1000000 + i}", routings={"main": [{"number": dest}]}, active="main", switches=[])
        for i in range(200)]}


def globex_document(round_: int) -> dict[str, Any]:
    return {"tenant": "globex", "numbers": [
        {"number": f"0800{2000000 + i}", "routings": {"main": [{"number": f"030 555 {round_:04d}"}]}, "active": "main"}
        for i in range(50)]}


def finished_call(i: int) -> FinishedCall:
    start = datetime.now(UTC)
    return FinishedCall(call_id=f"1800000000.{i}", number="+318001000000", tenant="acme", caller="+31612345678",
                        started_at=start, answered_at=start, ended_at=start + timedelta(seconds=30),
                        routing="main", destination="+31205550000", outcome=Outcome.ANSWERED, reason=None,
                        wait_s=1.0, talk_s=30.0, dial_status="ANSWER", end_observed=True)


def wav(seconds: float = 0.2) -> bytes:
    frames = b"\x00\x01" * int(8000 * seconds)
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)  # PCM, mono, 8 kHz, 16 bit
    return (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt " + fmt
            + b"data" + struct.pack("<I", len(frames)) + frames)


class Writers:
    """Runs each writer in its own thread; remembers what failed."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.spans: dict[str, tuple[float, float]] = {}  # when each writer started and finished
        self.threads: list[threading.Thread] = []
        self.start = threading.Event()

    def add(self, name: str, work: Callable[[], None]) -> None:
        def run() -> None:
            self.start.wait()
            began = time.monotonic()
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - every failure is the test's finding
                self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            self.spans[name] = (began, time.monotonic())
        self.threads.append(threading.Thread(target=run, name=name))

    def run(self) -> None:
        for t in self.threads:
            t.start()
        self.start.set()
        for t in self.threads:
            t.join(300)
            assert not t.is_alive(), f"{t.name} did not finish"


def test_controller_api_apply_and_recordings_write_at_once(db_url: str, tmp_path: Path) -> None:
    api_config = offline_config(tmp_path / "api", SVC_DB_URL=db_url)
    api_config.settings.state_dir.mkdir(parents=True)
    token = make_token(db_url, "globex")  # also creates the schema, before the writers race
    allocate(db_url, "globex", *(f"+31800{2000000 + i}" for i in range(50)))  # the operator's, before the tenant's plan
    cli_settings = offline_settings(tmp_path / "cli", SVC_DB_URL=db_url)
    cli_settings.state_dir.mkdir(parents=True)
    spool, store = tmp_path / "spool", tmp_path / "recordings"
    (spool / "done").mkdir(parents=True)
    writers = Writers()

    def controller() -> None:
        engine = make_engine(db_url)
        began = time.monotonic()
        for i in range(CALLS):
            time.sleep(max(0.0, began + i / CALLS_PER_S - time.monotonic()))  # the offered load: 20 calls/s
            call_records.save(engine, [to_row(finished_call(i))])  # what the controller's RecordWriter does
        engine.dispose()

    def applies() -> None:
        for r in range(APPLIES):
            report = asyncio.run(with_asterisk(cli_settings, lambda session, target, r=r: apply_document(
                acme_document(r), session, target, now=datetime.now(AMSTERDAM), base_dir=tmp_path), offline=True))
            assert report is not None

    def api() -> None:
        with Server(create_app(api_config)) as server:
            for r in range(APPLIES):
                resp = requests.put(f"{server.url}/api/v1/tenants/globex/plan", json=globex_document(r),
                                    headers=bearer(token), timeout=120)
                assert resp.status_code == 200, resp.text

    def recordings() -> None:
        engine = make_engine(db_url)
        stored = 0
        for i in range(RECORDINGS):
            name = f"{1800000000 + i}@1800000100.{i}@318001000000@31612345678@always@acme.wav"
            (spool / "done" / name).write_bytes(wav())
            result = ingest(engine, spool, store, KEYS)
            assert result.failed == [], result.failed
            stored += len(result.stored)
            time.sleep(0.3)  # a recording finishes every 0.3 s
        assert stored == RECORDINGS
        engine.dispose()

    for name, work in (("controller", controller), ("apply", applies), ("api", api), ("recordings", recordings)):
        writers.add(name, work)
    writers.run()
    assert writers.errors == []
    starts, ends = zip(*writers.spans.values(), strict=True)
    assert max(starts) < min(ends), writers.spans  # all four were writing at the same time

    engine = make_engine(db_url)
    with Session(engine) as s:
        call_ids = s.exec(select(m.CallRecord.call_id)).all()
        assert sorted(call_ids) == sorted(f"1800000000.{i}" for i in range(CALLS))
        assert s.exec(select(func.count()).select_from(m.Recording)).one() == RECORDINGS
        versions = s.exec(select(m.AppliedVersion.tenant).order_by(col(m.AppliedVersion.id))).all()
        assert sorted(versions) == ["acme"] * APPLIES + ["globex"] * APPLIES
        assert repo.load_plan(s, "acme") == parse_plan(acme_document(APPLIES - 1))
        assert repo.load_plan(s, "globex") == parse_plan(globex_document(APPLIES - 1))
        audited = s.exec(select(m.AuditEntry.action).where(m.AuditEntry.tenant == "globex")).all()
        assert audited.count("plan.apply") == APPLIES
    engine.dispose()
