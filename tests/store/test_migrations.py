"""Schema migrations (orchestrator/store/migrations), on SQLite and PostgreSQL: the migrated schema
is the models' schema, and a database made by the release before migrations (git 9e66f28) is
upgraded by `orchestrator db upgrade` with every row kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.domain.plan import parse_plan
from orchestrator.errors import SchemaOutdated
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import models, schema
from orchestrator.store import plans as repo
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.engine import make_engine
from tests.plans import basis_number, tenant_plan
from tests.store import legacy_9e66f28 as old

runner = CliRunner()
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> str:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_DB_URL", db_url)
    return db_url


def test_the_migrated_schema_is_the_models_schema(db_url: str) -> None:
    """A model changed without a migration fails here (docs/database.md: adding a migration)."""
    engine = make_engine(db_url)  # empty: created by running every migration
    assert schema.state(engine).up_to_date
    with engine.connect() as conn:
        diff = compare_metadata(schema.migration_context(conn, compare_type=True), SQLModel.metadata)
    assert diff == []
    engine.dispose()


def _legacy_rows(session: Session) -> None:
    """What a running installation of 9e66f28 holds: a plan, its history, API, calls, recordings."""
    tenant = old.Tenant(name="acme", created_at=AT, test_number="+31881234567")
    session.add(tenant)
    session.flush()
    assert tenant.id is not None
    session.add(old.Announcement(tenant_id=tenant.id, name="hi", sound="hello-world", text="Hallo"))
    number = old.ServiceNumber(tenant_id=tenant.id, position=0, e164="+318001234567", national="08001234567",
                               kind="0800", package="basis", active_routing="main", block_anonymous=True,
                               welcome_announcement="hi", max_concurrent_calls=4)
    session.add(number)
    session.flush()
    assert number.id is not None
    main = old.Routing(service_number_id=number.id, name="main", position=0)
    evening = old.Routing(service_number_id=number.id, name="evening", position=1)
    session.add_all([main, evening])
    session.flush()
    assert main.id is not None and evening.id is not None
    session.add_all([old.Destination(routing_id=main.id, position=0, e164="+31201234567", ring_time=20),
                     old.Destination(routing_id=main.id, position=1, e164="+31301234567", ring_time=15),
                     old.Destination(routing_id=evening.id, position=0, e164="+31401234567", ring_time=30),
                     old.SwitchMoment(service_number_id=number.id, at_epoch=1798758000, routing="evening"),
                     old.BlacklistEntry(service_number_e164="+318001234567", caller="+31612345678", source="plan",
                                        added_at=AT),
                     old.BlacklistEntry(service_number_e164="+318001234567", caller="+31687654321", source="dtmf",
                                        added_at=AT),
                     old.AppliedVersion(applied_at=AT, tenant="acme", numbers=1, files=3, dialplan_dir="v1",
                                        summary="1 number", plan_json=json.dumps({"tenant": "acme"})),
                     old.NumberDigest(e164="+318001234567", tenant="acme", digest="d1"),
                     old.TenantDigest(tenant="acme", salt="s1"),
                     old.DialplanState(id=1, dialplan_dir="v1", generator="g1"),
                     old.ApiToken(token_hash="ab" * 32, tenant="acme", role="tenant", created_at=AT, last_used_at=AT),
                     old.AuditEntry(at=AT, token_id=1, actor="token 1 (tenant acme)", tenant="acme",
                                    action="plan.apply", detail="{}"),
                     old.UploadedAnnouncement(tenant="acme", name="jingle", path="/x/jingle.wav",
                                              source_type="audio/wav", source_bytes=16000, seconds=1.0, created_at=AT),
                     old.CallRecord(call_id="1700000000.1", service_number="+318001234567", tenant="acme",
                                    caller="+31612345678", started_at=AT, answered_at=AT, ended_at=AT,
                                    routing="main", destination="+31201234567", outcome="answered", wait_s=2.5,
                                    talk_s=61.25, dial_status="ANSWER"),
                     old.NumberRecordingPolicy(service_number_e164="+318001234567", tenant="acme", policy="always"),
                     old.TenantRecordingSettings(tenant="acme", retention="7y"),
                     old.Recording(call_id="1700000000.1", tenant="acme", service_number="+318001234567",
                                   caller="+31612345678", started_at=AT, duration_s=61.25, policy="always",
                                   key_id="k1", retention_until=AT, path="/x/1.rec", size_bytes=9999, created_at=AT),
                     old.RecordingKeep(call_id="1700000000.2", source="api", at=AT),
                     old.TenantCallCentre(tenant="acme", plan_json=json.dumps({"agents": {}, "queues": {}}))])
    session.commit()


MOVED = "dialplanstate"  # migration 0003 moves its row to committeddialplan


def _snapshot(engine: Engine, *, skip: frozenset[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the old release had (but ``skip``), as the database returns it."""
    out = {}
    with engine.connect() as conn:
        for name, table in old.Legacy.metadata.tables.items():
            if name in skip:
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [dict(r) for r in rows]
    return out


def test_a_database_of_the_previous_release_is_upgraded_with_nothing_lost(env: str) -> None:
    legacy = create_engine(env)
    old.Legacy.metadata.create_all(legacy)  # what 9e66f28's make_engine did
    with Session(legacy) as session:
        _legacy_rows(session)
    before = _snapshot(legacy)
    assert sum(map(len, before.values())) == 24 and all(before.values())  # every table has rows

    refused = runner.invoke(app, ["history"])
    assert refused.exit_code == 1
    assert "schema is behind" in refused.output and "`orchestrator db upgrade`" in refused.output
    assert _snapshot(legacy) == before  # the refusal changed nothing

    done = runner.invoke(app, ["db", "upgrade"])
    assert done.exit_code == 0, done.output
    assert f"{schema.BEFORE_MIGRATIONS} -> {schema.head()}" in done.output
    assert _snapshot(legacy, skip=frozenset({MOVED})) == {k: v for k, v in before.items() if k != MOVED}
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "already current" in again.output

    history = runner.invoke(app, ["history", "--json"])
    assert history.exit_code == 0, history.output
    assert [(v["what"], v["applied (UTC)"]) for v in json.loads(history.stdout)] == [
        ("1 number", "2026-11-20 09:30:00")]
    engine = make_engine(env)
    with Session(engine) as session:  # the old rows read as a plan, and new rows get fresh ids
        plan = repo.load_plan(session, "acme")
        assert plan.numbers[0].routings["main"][1].number == "+31301234567"
        assert blacklist_store.blacklist(session, "+318001234567") == ["+31612345678", "+31687654321"]
        repo.save_plan(session, parse_plan(tenant_plan(basis_number(number="0800 765 4321"), tenant="globex")))
        version = models.AppliedVersion(tenant="globex", numbers=1, files=1, dialplan_dir="v2", summary="new")
        version_store.record_version(session, version)
        session.commit()
        assert version.id == 2
        committed = version_store.committed_dialplan(session)  # the old DialplanState row, not known loaded
        assert committed is not None
        assert (committed.dialplan_dir, committed.generator, committed.loaded) == ("v1", "g1", False)
    engine.dispose()
    legacy.dispose()


def test_a_database_older_still_gets_its_missing_tables(env: str) -> None:
    """Releases before 9e66f28 had fewer tables (create_all only ever added tables)."""
    legacy = create_engine(env)
    kept = ["tenant", "servicenumber", "routing", "destination"]
    old.Legacy.metadata.create_all(legacy, tables=[old.Legacy.metadata.tables[t] for t in kept])
    with legacy.begin() as conn:
        conn.execute(text("INSERT INTO tenant (name, created_at) VALUES ('acme', :at)"), {"at": AT})
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(env)
    with Session(engine) as session:
        assert tenant_store.tenants(session) == ["acme"]
        assert repo.load_plan(session, "acme").numbers == []
    engine.dispose()
    legacy.dispose()


def test_a_schema_newer_than_this_release_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    with pytest.raises(SchemaOutdated, match="newer than this orchestrator knows"):
        make_engine(db_url)


def test_db_status_names_the_command_when_behind(env: str) -> None:
    legacy = create_engine(env)
    old.Legacy.metadata.create_all(legacy)
    legacy.dispose()
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 1 and "run `orchestrator db upgrade`" in result.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    status = runner.invoke(app, ["db", "status", "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["up_to_date"] is True


@pytest.mark.parametrize("command", [["serve"], ["api", "serve", "--offline"], ["recordings", "list"], ["numbers"],
                                     ["apply", "--offline", "plan.yaml"]])
def test_every_service_refuses_a_schema_behind(env: str, command: list[str], tmp_path: Path) -> None:
    """The live controller, the API, the recordings worker and the CLI all stop before touching it."""
    legacy = create_engine(env)
    old.Legacy.metadata.create_all(legacy)
    before = _snapshot(legacy)
    legacy.dispose()
    (tmp_path / "plan.yaml").write_text(json.dumps(tenant_plan(basis_number())))  # YAML is a superset of JSON
    result = runner.invoke(app, [str(tmp_path / a) if a == "plan.yaml" else a for a in command])
    assert result.exit_code == 1
    assert "schema is behind" in result.output and "run `orchestrator db upgrade`" in result.output
    legacy = create_engine(env)
    assert _snapshot(legacy) == before  # nothing stored
    legacy.dispose()


def test_every_migration_goes_down_to_an_empty_database_and_up_again(db_url: str) -> None:
    """Each migration's downgrade undoes its upgrade: down to base leaves no table of ours, up
    again gives the models' schema."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(schema._config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert not schema.state(engine).up_to_date
    schema.upgrade(engine)
    assert schema.state(engine).up_to_date
    with engine.connect() as conn:
        assert compare_metadata(schema.migration_context(conn, compare_type=True), SQLModel.metadata) == []
    engine.dispose()
