"""Golden files of the generated dialplan, and asterisklint over them.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 pytest tests/unit/test_golden.py
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.plan import parse_plan
from orchestrator.render import render_dialplan

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "demo"


def rendered() -> dict[str, str]:
    plan = parse_plan(yaml.safe_load((ROOT / "orchestrator" / "demo-plan.yaml").read_text()))
    return render_dialplan(compile_plan(plan, {"welcome-demo": "hello-world"}))


def test_dialplan_matches_golden_files() -> None:
    files = rendered()
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir(parents=True)
        for name, text in files.items():
            (GOLDEN / name).write_text(text)
    expected = {p.name: p.read_text() for p in GOLDEN.glob("*.conf")}
    assert files == expected


def test_rendering_is_deterministic() -> None:
    assert rendered() == rendered()


def test_asterisklint_accepts_generated_dialplan(tmp_path: Path) -> None:
    svc = tmp_path / "svc"
    svc.mkdir()
    includes = []
    for name, text in rendered().items():
        (svc / name).write_text(text)
        includes.append(f'#include "svc/{name}"')
    (tmp_path / "extensions.conf").write_text(
        "[general]\n[globals]\n[from-carrier]\nexten => _X.,1,Goto(svc-entry,${EXTEN},1)\n"
        + "\n".join(includes) + "\n"
    )
    lint = Path(sys.executable).with_name("asterisklint")
    proc = subprocess.run(
        [str(lint), "dialplan-check", "--asterisk-version", "22", "extensions.conf"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "" and proc.stderr.strip() == ""
