"""`orchestrator deploy systemd`: units that point at this installation, checked by systemd itself
(`systemd-analyze verify`), and an environment file that keeps secrets to root."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.services.deploy import UNITS

runner = CliRunner()


def test_units_are_valid_for_systemd_and_point_at_this_installation(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("SVC_STATE_DIR", str(state))
    monkeypatch.setenv("SVC_AMI_SECRET", "not-a-stock-secret")
    monkeypatch.setenv("SVC_API_PORT", "8181")
    out, env_file = tmp_path / "units", tmp_path / "etc" / "svcnum.env"
    result = runner.invoke(app, ["deploy", "systemd", "--out", str(out), "--env-file", str(env_file)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(UNITS)
    for name in UNITS:
        text = (out / name).read_text()
        assert "@" not in text.replace("multi-user", ""), name  # every placeholder filled
        assert f"EnvironmentFile={env_file}" in text
        exec_start = next(ln for ln in text.splitlines() if ln.startswith("ExecStart="))
        binary = Path(exec_start.removeprefix("ExecStart=").split()[0])
        assert binary == Path(sys.executable).parent / "orchestrator" and binary.exists()
    assert "PIDFile=" in (out / "svcnum-asterisk.service").read_text()
    verify = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in out.iterdir())],
                            capture_output=True, text=True, timeout=60, check=False)
    assert verify.returncode == 0 and verify.stderr.strip() == "" and verify.stdout.strip() == "", verify
    # The environment file: this shell's settings, 0600, and never overwritten without asking.
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    env = env_file.read_text().splitlines()
    assert f"SVC_STATE_DIR={state}" in env and "SVC_API_PORT=8181" in env and "SVC_AMI_SECRET=not-a-stock-secret" in env
    env_file.write_text("SVC_STATE_DIR=/srv/kept\n")
    assert runner.invoke(app, ["deploy", "systemd", "--out", str(out), "--env-file", str(env_file)]).exit_code == 0
    assert env_file.read_text() == "SVC_STATE_DIR=/srv/kept\n"
