"""Issue 14 through the CLI on a real SQLite database (apply --offline): the operator's apply
allocates free numbers to the plan's tenant but never takes another tenant's, removing many or
all numbers needs --allow-removal, --if-version refuses a stale version, and `number allocate /
release / allocations`."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.main import app
from tests.plans import basis_number, tenant_plan

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_ROOTFS_CACHE", str(tmp_path / "no-rootfs"))
    monkeypatch.setenv("SVC_AMI_SECRET", "test-secret")
    monkeypatch.setenv("SVC_ARI_SECRET", "test-secret")
    return tmp_path


def write(tmp: Path, plan: dict, name: str = "plan.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(plan))
    return path


def numbers(count: int, tenant: str = "acme") -> dict:
    return {**tenant_plan(*(basis_number(number=f"0800 000 0{101 + i}") for i in range(count))), "tenant": tenant}


def allocations(tenant: str | None = None) -> list[list[str]]:
    result = runner.invoke(app, ["number", "allocations", *(["--tenant", tenant] if tenant else [])])
    assert result.exit_code == 0, result.output
    return [line.split("\t")[:2] for line in result.stdout.splitlines()]


def test_the_operators_apply_allocates_free_numbers_but_never_another_tenants(env: Path) -> None:
    result = runner.invoke(app, ["apply", "--offline", str(write(env, numbers(2)))])
    assert result.exit_code == 0, result.output
    assert "allocated 2 unallocated number(s) to tenant 'acme'" in result.output
    assert allocations() == [["+318000000101", "acme"], ["+318000000102", "acme"]]
    result = runner.invoke(app, ["apply", "--offline", str(write(env, numbers(1, "globex"), "g.yaml"))])
    assert result.exit_code == 2
    assert "numbers[0].number: allocated to tenant 'acme'; release it first" in result.output
    # Release is refused while acme's plan uses it; allocating it to globex needs the release.
    assert runner.invoke(app, ["number", "allocate", "0800 000 0102", "--tenant", "globex"]).exit_code == 2
    assert runner.invoke(app, ["number", "release", "0800 000 0102"]).exit_code == 2
    assert runner.invoke(app, ["apply", "--offline", str(write(env, numbers(1)))]).exit_code == 0
    assert runner.invoke(app, ["number", "release", "0800 000 0102"]).exit_code == 0
    result = runner.invoke(app, ["number", "allocate", "0800 000 0102", "--tenant", "globex"])
    assert result.exit_code == 0, result.output
    assert allocations("globex") == [["+318000000102", "globex"]]
    assert runner.invoke(app, ["number", "allocate", "12", "--tenant", "globex"]).exit_code == 2


def test_removing_all_or_many_numbers_needs_allow_removal(env: Path) -> None:
    assert runner.invoke(app, ["apply", "--offline", str(write(env, numbers(7)))]).exit_code == 0
    result = runner.invoke(app, ["apply", "--offline", str(write(env, numbers(1)))])  # drops 6
    assert result.exit_code == 2 and "--allow-removal" in result.output
    empty = write(env, {"tenant": "acme", "numbers": []}, "empty.yaml")
    assert runner.invoke(app, ["apply", "--offline", str(empty)]).exit_code == 2
    assert len(yaml.safe_load(runner.invoke(app, ["export"]).stdout)["numbers"]) == 7
    result = runner.invoke(app, ["apply", "--offline", "--allow-removal", str(empty)])
    assert result.exit_code == 0, result.output


def test_if_version_refuses_a_stale_version(env: Path) -> None:
    assert runner.invoke(app, ["apply", "--offline", str(write(env, numbers(1)))]).exit_code == 0
    history = runner.invoke(app, ["history", "--tenant", "acme", "--json"])
    import json

    [first] = json.loads(history.stdout)
    version = str(first["id"])
    result = runner.invoke(app, ["apply", "--offline", "--if-version", version, str(write(env, numbers(2)))])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["apply", "--offline", "--if-version", version, str(write(env, numbers(3)))])
    assert result.exit_code == 2 and f"no longer at version {version}" in result.output
    assert len(yaml.safe_load(runner.invoke(app, ["export"]).stdout)["numbers"]) == 2
