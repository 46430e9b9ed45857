"""Golden files of the generated dialplan, and asterisklint over them.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 pytest tests/unit/test_golden.py
"""

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.naming import PJSIP_FILE
from orchestrator.domain.plan import parse_plan
from orchestrator.generate.render import render_agent_phones, render_dialplan
from orchestrator.services.callcentre.phone_secrets import sip_digest
from orchestrator.settings import DEFAULT_PHONE_QUALIFY_S
from tests.plans import standaard_number, tenant_plan

ROOT = Path(__file__).resolve().parents[2]
HOLIDAYS = holiday_dates(date(2026, 11, 23))  # fixed, so the golden files do not age


def demo() -> dict[str, str]:
    plan = parse_plan(yaml.safe_load((ROOT / "orchestrator" / "demo-plan.yaml").read_text()))
    return render_dialplan(compile_plan(plan, {"welcome-demo": "hello-world"}, HOLIDAYS))


def standaard() -> dict[str, str]:
    plan = parse_plan(tenant_plan(standaard_number()))
    return render_dialplan(compile_plan(plan, {}, HOLIDAYS))


def callcentre() -> dict[str, str]:
    """Queues, hunt groups and agents (issue 6): dialplan plus the queue and MOH configuration."""
    from orchestrator.domain.compile_queues import compile_call_centre
    from orchestrator.generate.render import render_call_centres
    from tests.unit.test_queues import plan as cc_plan

    data = cc_plan(hunt_groups={"sales": {"agents": ["ann", "bob"], "strategy": "uniform", "no_answer": "020 555 0003",
                                          "night": {"to": "020 555 0009", "week": {"sat": [{"start": "00:00",
                                                                                            "end": "24:00"}]}}}})
    data["queues"]["support"].update(tier="premium", music="hold", comfort="hold", timeout="hunt:sales",
                                     full="020 555 0003", night={"to": "020 555 0009"})
    data["announcements"] = {"hold": {"sound": "queue-periodic-announce"}}
    plan = parse_plan(data)
    from orchestrator.domain.rules import check_plan
    from tests.plans import NOW

    assert check_plan(plan, NOW) == []
    centre = compile_call_centre(plan, {"hold": "queue-periodic-announce"})
    dialplan, config = render_call_centres([centre])
    # The agent phones (pjsip.inc) with a fixed password: only its digest may appear.
    phones = render_agent_phones([centre], {"acme.cat-desk": sip_digest("acme.cat-desk", "golden-password")},
                                 DEFAULT_PHONE_QUALIFY_S)
    assert "golden-password" not in phones
    return render_dialplan(compile_plan(plan, {}, HOLIDAYS)) | dialplan | config | {PJSIP_FILE: phones}


def flows() -> dict[str, str]:
    """Premium call flows (issue 15): two numbers share one flow, rendered once as its own file."""
    from orchestrator.domain.flow_compile import compile_flows
    from orchestrator.domain.rules import check_plan
    from tests.flow_plans import flow_plan
    from tests.plans import NOW

    plan = parse_plan(flow_plan())
    assert check_plan(plan, NOW) == []
    return render_dialplan(compile_plan(plan, {}, HOLIDAYS), holidays=HOLIDAYS,
                           call_flows=compile_flows(plan.tenant, plan.flows, {}, HOLIDAYS))


PLANS = {"demo": demo, "standaard": standaard, "callcentre": callcentre, "flows": flows}


@pytest.mark.parametrize("name", PLANS)
def test_dialplan_matches_golden_files(name: str) -> None:
    files = PLANS[name]()
    golden = ROOT / "tests" / "golden" / name
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        golden.mkdir(parents=True)
        for fname, text in files.items():
            (golden / fname).write_text(text)
    expected = {p.name: p.read_text() for p in golden.iterdir() if p.is_file()}
    assert files == expected


def test_rendering_is_deterministic() -> None:
    assert demo() == demo() and standaard() == standaard() and callcentre() == callcentre()


@pytest.mark.parametrize("name", PLANS)
def test_asterisklint_accepts_generated_dialplan(name: str, tmp_path: Path) -> None:
    svc = tmp_path / "svc"
    svc.mkdir()
    includes = []
    for fname, text in PLANS[name]().items():
        if not fname.endswith(".conf"):
            continue  # queues.inc / moh.inc / pjsip.inc are not dialplan
        (svc / fname).write_text(text)
        includes.append(f'#include "svc/{fname}"')
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
