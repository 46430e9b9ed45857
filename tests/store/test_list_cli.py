"""`orchestrator list` against a real SQLite database (no Asterisk: changes are refused cleanly;
the live change itself is tested on the real Asterisk in tests/e2e/test_flows.py)."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.main import app
from tests.flow_plans import flow_plan

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_AMI_PORT", "1")  # nothing listens there: "Asterisk is unreachable"
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(flow_plan("acme")))
    assert runner.invoke(app, ["apply", "--offline", str(plan)]).exit_code == 0
    return tmp_path


def test_show_lists_and_entries(env: Path) -> None:
    shown = runner.invoke(app, ["list", "show", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == [{"list": "members", "entries": 0}]
    assert json.loads(runner.invoke(app, ["list", "show", "acme", "members", "--json"]).stdout) == []
    ghost = runner.invoke(app, ["list", "show", "acme", "ghost"])
    assert ghost.exit_code == 2 and "no list 'ghost'" in ghost.output
    assert runner.invoke(app, ["list", "show", "nobody"]).exit_code == 2


def test_bad_changes_are_refused_before_asterisk_and_nothing_is_stored(env: Path) -> None:
    bad = runner.invoke(app, ["list", "add", "acme", "members", "12ab"])
    assert bad.exit_code == 2 and "value" in bad.output and "1 to 32 digits" in bad.output
    ghost = runner.invoke(app, ["list", "add", "acme", "ghost", "123"])
    assert ghost.exit_code == 2 and "no list 'ghost'" in ghost.output
    down = runner.invoke(app, ["list", "add", "acme", "members", "123456782"])
    assert down.exit_code == 3, down.output  # Asterisk unreachable
    assert json.loads(runner.invoke(app, ["list", "show", "acme", "members", "--json"]).stdout) == []
