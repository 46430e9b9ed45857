"""IR → Asterisk dialplan text. Pure: flows in, {file name: text} out.

Layout (reload time measured in DESIGN.md): a small entry context of one-line Gotos, one small
context per service number in its own file, and a shared library. One file per number also lets
a later incremental apply rewrite just the numbers that changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import jinja2

from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.ir_queues import CallCentre
from orchestrator.domain.numbers import ServiceNumberId

TEMPLATES = Path(__file__).resolve().parent.parent / "dialplan_templates"


def dialled_forms(number: ServiceNumberId) -> list[str]:
    """Every form in which the carrier may present a call to this number."""
    forms = [number.national, number.e164, number.digits]
    return list(dict.fromkeys(forms))  # de-duplicated, order kept


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # dialplan, not HTML; every interpolated value is validated upstream
    )
    env.filters["dialled_forms"] = dialled_forms
    return env


def number_file(flow: NumberFlow) -> str:
    return f"n-{flow.number.digits}.conf"


def render_dialplan(flows: Iterable[NumberFlow], trunk: str = "carrier") -> dict[str, str]:
    env = _environment()
    flows = sorted(flows, key=lambda f: f.number.e164)
    files = {
        "lib.conf": env.get_template("lib.conf.j2").render(),
        "recording.conf": env.get_template("recording.conf.j2").render(),  # svc-rec (call recording)
        "entry.conf": env.get_template("entry.conf.j2").render(flows=flows),
    }
    holidays = sorted(set().union(*(f.holidays for f in flows))) if flows else []
    files["holidays.conf"] = env.get_template("holidays.conf.j2").render(holidays=holidays)
    number_template = env.get_template("number.conf.j2")
    for flow in flows:
        files[number_file(flow)] = number_template.render(flow=flow, trunk=trunk)
    return files


# Not dialplan: written into the same versioned folder, but included by queues.conf and
# musiconhold.conf (extensions.conf includes svc/*.conf, hence the other extension).
QUEUES_FILE = "queues.inc"
MOH_FILE = "moh.inc"


def render_call_centres(centres: Iterable[CallCentre], trunk: str = "carrier") -> tuple[dict[str, str], dict[str, str]]:
    """(dialplan files, queue/MOH configuration files). Tenants without call centres add no file
    to the dialplan, so their generated output stays as it was."""
    env = _environment()
    centres = sorted((c for c in centres if not c.empty), key=lambda c: c.tenant)
    dialplan = {f"cc-{c.tenant}.conf": env.get_template("callcentre.conf.j2").render(cc=c, trunk=trunk)
                for c in centres}
    by_number: dict[str, list[tuple[str, str, str]]] = {}
    for c in centres:
        for a in c.agents:
            if a.number:
                by_number.setdefault(a.number, []).append((c.tenant, a.name, a.interface))
    if by_number:
        dialplan["agentcodes.conf"] = env.get_template("agentcodes.conf.j2").render(
            agents_by_number=sorted(by_number.items()))
    config = {
        QUEUES_FILE: env.get_template("queues.inc.j2").render(centres=centres),
        MOH_FILE: env.get_template("moh.inc.j2").render(centres=centres),
    }
    return dialplan, config
