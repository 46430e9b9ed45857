"""`orchestrator report` on a real database (SQLite and PostgreSQL): formats, layouts,
forget-callers, and bad input exiting 2 with the field named (never an empty report)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.store.engine import make_engine
from tests.store import report_calls as rc

runner = CliRunner()
NOVEMBER = ["--tenant", "acme", "--from", "2026-11-01", "--to", "2026-12-01", "--interval", "month"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_DB_URL", db_url)
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    engine = make_engine(db_url)
    rc.load(engine)
    engine.dispose()
    return tmp_path


def test_formats(env: Path) -> None:
    done = runner.invoke(app, ["report", "volume", *NOVEMBER, "--format", "json"])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["parameters"]["to_is"].startswith("exclusive") and body["tables"][0]["rows"][-1][1] == 26

    done = runner.invoke(app, ["report", "callers", *NOVEMBER, "--format", "csv"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert "# kind: callers" in lines and "# table: repeat_callers" in lines
    first = lines.index("# table: callers") + 1
    assert next(csv.reader(io.StringIO(lines[first]))) == ["interval", "calls", "withheld", "unique_callers",
                                                          "repeat_callers", "repeat_calls"]

    done = runner.invoke(app, ["report", "queues", *NOVEMBER])
    assert done.exit_code == 0 and "== queues ==" in done.stdout and "service_level" in done.stdout

    out = env / "finance.xlsx"
    done = runner.invoke(app, ["report", "finance", *NOVEMBER, "--format", "xlsx", "-o", str(out)])
    assert done.exit_code == 0, done.output
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["parameters", "finance"]
    params = {row[0]: row[1] for row in book["parameters"].iter_rows(values_only=True)}
    assert params["kind"] == "finance" and params["tenant"] == "acme"
    total = list(book["finance"].iter_rows(values_only=True))[-1]
    assert total[0] == "total" and total[-1] == "3.25"


@pytest.mark.parametrize(("args", "field"), [
    (["report", "volume", *NOVEMBER, "--format", "pdf"], "format"),
    (["report", "volume", *NOVEMBER[:-1], "week"], "from"),
    (["report", "volume", "--tenant", "acme", "--from", "2026-12-01", "--to", "2026-11-01"], "to"),
    (["report", "queues", *NOVEMBER, "--queue", "support"], "queue"),
    (["report", "volume", *NOVEMBER, "--number", "0800 9999999"], "number"),
    (["report", "volume", *NOVEMBER, "--format", "xlsx"], "output"),
])
def test_bad_input_exits_2_naming_the_field(env: Path, args: list[str], field: str) -> None:
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    assert f"  - {field}:" in done.stderr and done.stdout == ""


def test_unknown_kind_and_tenant_exit_2(env: Path) -> None:
    assert runner.invoke(app, ["report", "revenue", *NOVEMBER]).exit_code == 2
    done = runner.invoke(app, ["report", "volume", "--tenant", "gamma", "--from", "2026-11-01", "--to", "2026-12-01"])
    assert done.exit_code == 2 and "no tenant 'gamma'" in done.stderr


def test_layouts_and_forget_callers(env: Path) -> None:
    done = runner.invoke(app, ["report", "layout", "save", "--tenant", "acme", "monthly", "--kinds", "volume,finance",
                               "--interval", "month"])
    assert done.exit_code == 0, done.output
    assert "monthly: volume, finance per month" in runner.invoke(app, ["report", "layout", "list", "--tenant",
                                                                       "acme"]).stdout
    done = runner.invoke(app, ["report", "layout", "run", "--tenant", "acme", "monthly", "--from", "2026-11-01",
                               "--to", "2026-12-01", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert [r["parameters"]["kind"] for r in json.loads(done.stdout)["reports"]] == ["volume", "finance"]
    assert runner.invoke(app, ["report", "layout", "delete", "--tenant", "acme", "monthly"]).exit_code == 0
    assert runner.invoke(app, ["report", "layout", "delete", "--tenant", "acme", "monthly"]).exit_code == 2
    done = runner.invoke(app, ["report", "forget-callers", "--days", "0"])
    # 31 of acme + 1 of beta, less the withheld one (nothing to remove)
    assert done.exit_code == 0 and "removed the caller number from 31 call record(s)" in done.stdout
