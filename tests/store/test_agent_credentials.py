"""`orchestrator agent credentials`: an endpoint agent's SIP account for provisioning its phone,
against a real SQLite database (apply --offline, no Asterisk). The password is generated once,
kept 0600 in the state folder's secrets, and shown nowhere else; --rotate replaces it and writes
pjsip.inc again (with Asterisk: tests/e2e/test_agent_phones.py)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.services.callcentre.phone_secrets import sip_digest

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_DB_URL", db_url)
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_SIP_PORT", "5099")
    return tmp_path


def write(tmp: Path, plan: dict[str, Any]) -> Path:
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def cc_plan(**agents: Any) -> dict[str, Any]:
    agents = agents or {"cat": {"endpoint": "cat-desk"}, "ann": {"number": "020 111 0001"}}
    return {"tenant": "acme", "agents": agents, "queues": {"support": {"agents": sorted(agents)}},
            "numbers": [{"number": "0800 1234567", "routings": {"main": [{"number": "queue:support"}]},
                         "active": "main"}]}


def credentials(*args: str) -> Any:
    return runner.invoke(app, ["agent", "credentials", *args])


def test_credentials_stable_across_applies_and_never_in_plan_or_apply_output(env: Path) -> None:
    plan_file = write(env, cc_plan())
    applied = runner.invoke(app, ["apply", "--offline", str(plan_file)])
    assert applied.exit_code == 0, applied.output
    shown = credentials("cat", "-t", "acme", "--json")
    assert shown.exit_code == 0, shown.output
    account = json.loads(shown.stdout)
    password = account.pop("password")
    assert account == {"tenant": "acme", "agent": "cat", "endpoint": "acme.cat-desk", "username": "acme.cat-desk",
                       "realm": "svcnum", "registrar": "127.0.0.1:5099", "transport": "udp"}
    secret = env / "state" / "secrets" / "agent-phones" / "acme.cat-desk"
    assert secret.read_text().strip() == password and stat.S_IMODE(secret.stat().st_mode) == 0o600

    # A change elsewhere in the plan, applied again: same password; neither plan nor apply shows it.
    changed = cc_plan(cat={"endpoint": "cat-desk", "wrapup": 20}, ann={"number": "020 111 0001"})
    planned = runner.invoke(app, ["plan", str(write(env, changed))])
    again = runner.invoke(app, ["apply", "--offline", str(write(env, changed))])
    assert planned.exit_code == 0 and again.exit_code == 0, planned.output + again.output
    for result in (applied, planned, again):
        assert password not in result.output
    assert json.loads(credentials("cat", "-t", "acme", "--json").stdout)["password"] == password
    text = credentials("cat", "-t", "acme")
    assert text.exit_code == 0 and f"password       {password}" in text.stdout


def test_credentials_of_a_number_agent_or_unknown_agent_exit_2(env: Path) -> None:
    assert runner.invoke(app, ["apply", "--offline", str(write(env, cc_plan()))]).exit_code == 0
    number = credentials("ann", "-t", "acme")
    assert number.exit_code == 2 and "phone number, not a SIP phone" in number.output
    unknown = credentials("zed", "-t", "acme")
    assert unknown.exit_code == 2 and "no agent 'zed'" in unknown.output


def test_rotate_offline_writes_a_new_password_and_pjsip_inc(env: Path) -> None:
    assert runner.invoke(app, ["apply", "--offline", str(write(env, cc_plan()))]).exit_code == 0
    old = json.loads(credentials("cat", "-t", "acme", "--json").stdout)["password"]
    (pjsip_inc,) = env.rglob("svc/pjsip.inc")
    assert sip_digest("acme.cat-desk", old) in pjsip_inc.read_text()
    rotated = credentials("cat", "-t", "acme", "--rotate", "--offline", "--json")
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.stdout)["password"]
    assert new != old and json.loads(credentials("cat", "-t", "acme", "--json").stdout)["password"] == new
    text = pjsip_inc.read_text()  # the svc link now points at a new version
    assert sip_digest("acme.cat-desk", new) in text and sip_digest("acme.cat-desk", old) not in text
    assert new not in text and new not in rotated.stderr
    number = credentials("ann", "-t", "acme", "--rotate", "--offline")
    assert number.exit_code == 2 and "phone number, not a SIP phone" in number.output
