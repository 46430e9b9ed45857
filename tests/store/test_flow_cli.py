"""`orchestrator flow show|export` against a real SQLite database (apply --offline)."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.domain.plan import parse_plan
from tests.flow_plans import flow_plan

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(flow_plan("acme")))
    assert runner.invoke(app, ["apply", "--offline", str(plan)]).exit_code == 0
    return tmp_path


def test_show_prints_the_tree_and_the_numbers(env: Path) -> None:
    shown = runner.invoke(app, ["flow", "show", "support"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == "tenant 'acme', flow 'support' (at most 200 blocks per call, then hangup)"
    assert "          key 2 → menu 'sub' (timeout 2 s, 3 tries, * = back)" in lines
    assert lines[-1] == "run by: 08003000001, 08003000002"
    missing = runner.invoke(app, ["flow", "show", "ghost"])
    assert missing.exit_code == 2 and "no flow 'ghost'" in missing.output


def test_export_formats(env: Path) -> None:
    exported = runner.invoke(app, ["flow", "export", "support", "--format", "json"])
    assert exported.exit_code == 0, exported.output
    again = flow_plan("acme") | {"flows": json.loads(exported.stdout)}
    assert parse_plan(again).flows == parse_plan(flow_plan("acme")).flows
    assert runner.invoke(app, ["flow", "export", "support", "--format", "dot"]).stdout.startswith('digraph "support"')
    assert runner.invoke(app, ["flow", "export", "support", "--format", "mermaid"]).stdout.startswith("flowchart LR")
    assert runner.invoke(app, ["flow", "export", "support", "--format", "png"]).exit_code == 2


def test_a_name_two_tenants_use_needs_the_tenant(env: Path) -> None:
    other = flow_plan("globex")
    for i, n in enumerate(other["numbers"]):
        n["number"] = f"0800 400 000{i + 1}"
    path = env / "globex.yaml"
    path.write_text(yaml.safe_dump(other))
    assert runner.invoke(app, ["apply", "--offline", str(path)]).exit_code == 0
    both = runner.invoke(app, ["flow", "show", "support"])
    assert both.exit_code == 2 and "acme, globex" in both.output and "--tenant" in both.output
    one = runner.invoke(app, ["flow", "show", "support", "--tenant", "globex"])
    assert one.exit_code == 0 and one.stdout.startswith("tenant 'globex'")
    assert "08004000001" in one.stdout.splitlines()[-1]
