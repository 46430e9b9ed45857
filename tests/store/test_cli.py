"""The CLI against a real SQLite database (no Asterisk: apply --offline)."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.main import app
from tests.plans import basis_number, tenant_plan

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_DB_URL", db_url)
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    return tmp_path


def write(tmp: Path, plan: dict) -> Path:
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("apply", "validate", "export", "simulate", "blacklist", "asterisk", "run"):
        assert command in result.output


def test_invalid_plan_exits_2_with_every_violation(env: Path) -> None:
    plan = tenant_plan(basis_number(active="ghost", routings={"main": [{"number": "112"}]}, switches=[]))
    result = runner.invoke(app, ["validate", str(write(env, plan))])
    assert result.exit_code == 2
    assert "numbers[0].routings.main[0].number" in result.output
    assert "emergency" in result.output


def test_bad_yaml_is_a_clear_error(env: Path) -> None:
    path = env / "broken.yaml"
    path.write_text("tenant: [unclosed\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_offline_apply_then_export_round_trips(env: Path) -> None:
    plan = tenant_plan(basis_number(blocking={"anonymous": True, "blacklist": ["0201234567"]}))
    result = runner.invoke(app, ["apply", "--offline", str(write(env, plan))])
    assert result.exit_code == 0, result.output
    exported = runner.invoke(app, ["export"])
    assert exported.exit_code == 0
    data = yaml.safe_load(exported.stdout)
    assert data["tenant"] == "acme"
    assert data["numbers"][0]["number"] == "+318001234567"
    assert data["numbers"][0]["blocking"]["blacklist"] == ["+31201234567"]
    assert data["numbers"][0]["switches"] == [{"at": "2099-12-24 17:30", "routing": "evening"}]
    # The export is itself a valid plan.
    again = runner.invoke(app, ["validate", str(write(env, data))])
    assert again.exit_code == 0, again.output


def test_invalid_apply_stores_nothing(env: Path) -> None:
    bad = tenant_plan(basis_number(max_concurrent_calls=0))
    assert runner.invoke(app, ["apply", "--offline", str(write(env, bad))]).exit_code == 2
    exported = runner.invoke(app, ["export"])
    assert exported.exit_code == 2 and "tenants are: none" in exported.output


def test_simulate_json_and_text(env: Path) -> None:
    plan = tenant_plan(basis_number())
    assert runner.invoke(app, ["apply", "--offline", str(write(env, plan))]).exit_code == 0
    result = runner.invoke(app, ["simulate", "0800 1234567", "--caller", "0201234567",
                                 "--at", "2026-12-01 10:00", "--no-answer", "020 555 0001", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["destinations"] == ["+31205550001", "+31205550002"]
    assert out["answered_by"] == "+31205550002"
    text = runner.invoke(app, ["simulate", "08001234567", "--caller", "", "--at", "2099-12-24 17:30"])
    assert text.exit_code == 0
    assert "check anonymous: blocked" in text.stdout and "Outcome: blocked (anonymous)" in text.stdout


def test_simulate_unknown_number(env: Path) -> None:
    result = runner.invoke(app, ["simulate", "0800 7654321", "--caller", "0201234567"])
    assert result.exit_code == 2 and "not a configured service number" in result.output


def test_plan_shows_changes_and_changes_nothing(env: Path) -> None:
    first = tenant_plan(basis_number())
    assert runner.invoke(app, ["apply", "--offline", str(write(env, first))]).exit_code == 0
    second = tenant_plan(basis_number(blocking={"anonymous": False}))
    result = runner.invoke(app, ["plan", str(write(env, second))])
    assert result.exit_code == 0, result.output
    assert "0800 123 4567:" in result.stdout and "no longer blocks anonymous callers" in result.stdout
    exported = yaml.safe_load(runner.invoke(app, ["export"]).stdout)
    assert exported["numbers"][0]["blocking"]["anonymous"] is True  # plan changed nothing


def test_plan_reports_every_violation(env: Path) -> None:
    bad = tenant_plan(basis_number(number="088 123 4567", active="nope", blocking={"mobile": True}))
    result = runner.invoke(app, ["plan", str(write(env, bad))])
    assert result.exit_code == 2
    assert "numbers[0].active" in result.output and "numbers[0].blocking.mobile" in result.output


def test_history_lists_applies(env: Path) -> None:
    assert runner.invoke(app, ["apply", "--offline", str(write(env, tenant_plan(basis_number())))]).exit_code == 0
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 0 and "acme" in result.stdout and "applied: 1 numbers, full rebuild" in result.stdout


def test_number_show_and_json_plan_files(env: Path) -> None:
    plan_file = env / "plan.json"
    plan_file.write_text(json.dumps(tenant_plan(basis_number(max_concurrent_calls=3))))
    assert runner.invoke(app, ["apply", "--offline", str(plan_file)]).exit_code == 0
    shown = runner.invoke(app, ["number", "show", "0800 1234567"])
    assert shown.exit_code == 0, shown.output
    assert "of tenant 'acme', package basis" in shown.stdout
    assert "routing main: +31205550001 (20 s) -> +31205550002 (15 s) -> +442079460001 (20 s)" in shown.stdout
    assert "blocks: withheld" in shown.stdout and "at most 3 calls at once" in shown.stdout
    as_json = json.loads(runner.invoke(app, ["number", "show", "+318001234567", "--json"]).stdout)
    assert as_json["tenant"] == "acme" and as_json["routings"]["evening"] == [{"number": "+31105550001",
                                                                               "ring_time": 20}]
    missing = runner.invoke(app, ["number", "show", "0800 7654321"])
    assert missing.exit_code == 2 and "08007654321 is not a configured service number" in missing.output
    listed = runner.invoke(app, ["number", "list"])
    assert listed.exit_code == 0 and "0800" in listed.stdout


def test_lists_as_json_for_scripts(env: Path) -> None:
    assert runner.invoke(app, ["apply", "--offline", str(write(env, tenant_plan(basis_number())))]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["numbers", "--json"]).stdout)
    assert listed == [{"number": "08001234567", "e164": "+318001234567", "kind": "0800", "package": "basis",
                       "tenant": "acme", "active": "main"}]
    versions = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert [v["tenant"] for v in versions] == ["acme"] and versions[0]["numbers"] == 1


def test_recordings_list_shows_pauses_and_who_kept_it(env: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session

    from orchestrator.settings import load_settings
    from orchestrator.store import models
    from orchestrator.store.engine import make_engine

    assert "no recordings" in runner.invoke(app, ["recordings", "list"]).output
    settings = load_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    started = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    with Session(make_engine(settings.db_url)) as session:
        session.add(models.Recording(call_id="1700000000.7", tenant="acme", service_number="+318001234567",
                                     caller="", agent="+31205550001", started_at=started, duration_s=42.04,
                                     policy="always_with_pause", key_id="k1", path="/x.enc", size_bytes=10,
                                     retention_until=started + timedelta(days=30),
                                     pauses_json="[[3.02, 5.5], [10.0, 12.25]]", kept_by=None))
        session.commit()
    listed = runner.invoke(app, ["recordings", "list"])
    assert listed.exit_code == 0, listed.output
    line = listed.stdout.splitlines()[1]
    assert "2026-11-24 10:30:00" in line  # Amsterdam time
    assert "withheld" in line and "42.0" in line and "3.0-5.5 10.0-12.2" in line
    as_json = json.loads(runner.invoke(app, ["recordings", "list", "--json"]).stdout)
    assert as_json[0]["pauses"] == [[3.02, 5.5], [10.0, 12.25]] and as_json[0]["kept_by"] is None
