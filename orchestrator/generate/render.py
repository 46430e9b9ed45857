"""IR → Asterisk dialplan text. Pure: flows in, {file name: text} out.

Layout (reload times measured in docs/asterisk.md): a small entry context of one-line Gotos, one small
context per service number in its own file, and a shared library. One file per number also lets
a later incremental apply rewrite just the numbers that changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from orchestrator.domain import callerid, naming
from orchestrator.domain.flow_ir import CompiledFlow, flow_version_context
from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.ir_queues import SIP_REALM, CallCentre
from orchestrator.domain.naming import (
    AGENT_CODES_FILE,
    ENTRY_FILE,
    HOLIDAYS_FILE,
    LIB_FILE,
    MOH_FILE,
    QUEUES_FILE,
    RECORDING_FILE,
    call_centre_file,
    number_context,
    number_file_name,
    phone_context,
)
from orchestrator.domain.numbers import ServiceNumberId

TEMPLATES = Path(__file__).resolve().parents[2] / "dialplan_templates"
_VERSION = "@flow-version@"  # stands for a flow's version context until its digest is known


def dialled_forms(number: ServiceNumberId) -> list[str]:
    """Every form in which the carrier may present a call to this number."""
    forms = [number.national, number.e164, number.digits]
    return list(dict.fromkeys(forms))  # de-duplicated, order kept


# The caller-ID normaliser's table, as lib.conf.j2 renders it (the simulator reads the same module).
CALLERID_TABLE = {
    "prefix_rules": callerid.PREFIX_RULES,
    "stray_zero_codes": callerid.stray_zero_codes(),
    "short_callers": callerid.SHORT_CALLERS,
    "min_digits": callerid.min_digits(),
    "max_digits": callerid.MAX_DIGITS,
    "privacy_letters": callerid.PRIVACY_LETTERS,
    "privacy_shown": callerid.PRIVACY_SHOWN,
}


def _environment(cache_dir: Path | None = None) -> jinja2.Environment:
    """``cache_dir`` keeps compiled templates between processes: compiling number.conf.j2 costs
    ~80 ms, more than rendering the number it is used for."""
    cache = None
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(cache_dir))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=cache,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # dialplan, not HTML; every interpolated value is validated upstream
    )
    env.filters["dialled_forms"] = dialled_forms
    env.globals["names"] = naming  # contexts, families and queues are spelled in domain/naming.py
    return env


def number_file(flow: NumberFlow) -> str:
    return number_file_name(flow.number.e164)


@dataclass(frozen=True)
class EntryRow:
    """What the entry context needs of a number: its forms and its context (no compiling)."""

    number: ServiceNumberId

    @property
    def context(self) -> str:
        return number_context(self.number.digits)


class Renderer:
    """The templates, loaded once; each method renders one file."""

    def __init__(self, trunk: str = "carrier", cache_dir: Path | None = None) -> None:
        self.env = _environment(cache_dir)
        self.trunk = trunk

    def shared(self, holidays: Iterable[str]) -> dict[str, str]:
        return {
            LIB_FILE: self.env.get_template("lib.conf.j2").render(callerid=CALLERID_TABLE),
            RECORDING_FILE: self.env.get_template("recording.conf.j2").render(),  # svc-rec
            HOLIDAYS_FILE: self.env.get_template("holidays.conf.j2").render(holidays=sorted(holidays)),
        }

    def entry(self, numbers: Iterable[ServiceNumberId]) -> dict[str, str]:
        rows = [EntryRow(n) for n in sorted(numbers, key=lambda n: n.e164)]
        return {ENTRY_FILE: self.env.get_template("entry.conf.j2").render(flows=rows)}

    def flow(self, flow: CompiledFlow) -> dict[str, str]:
        """A call flow's own file: rendered and loaded once, whatever the number of numbers on it.
        Its version context is named after what it holds: rendered with a placeholder, then named."""
        text = self.env.get_template("flow.conf.j2").render(flow=flow, trunk=self.trunk, context=_VERSION)
        digest = hashlib.sha256(text.encode()).hexdigest()
        return {flow.file: text.replace(_VERSION, flow_version_context(flow.tenant, flow.name, digest))}

    def number(self, flow: NumberFlow) -> dict[str, str]:
        template = self.env.get_template("number.conf.j2")  # compiled once, then Jinja's cache
        return {number_file(flow): template.render(flow=flow, trunk=self.trunk)}


def render_dialplan(flows: Iterable[NumberFlow], trunk: str = "carrier",
                    holidays: Iterable[str] | None = None,
                    call_flows: Iterable[CompiledFlow] = ()) -> dict[str, str]:
    """Every file of the dialplan. ``holidays`` default to those the flows' rosters use.
    ``call_flows``: the Premium call flows, one file each."""
    r = Renderer(trunk)
    flows = sorted(flows, key=lambda f: f.number.e164)
    call_flows = list(call_flows)
    if holidays is None:
        holidays = set().union(*(f.holidays for f in flows), *(c.holidays for c in call_flows))
    files = r.shared(holidays) | r.entry(f.number for f in flows)
    for flow in flows:
        files |= r.number(flow)
    for call_flow in call_flows:
        files |= r.flow(call_flow)
    return files


def generator_digest() -> str:
    """Digest of what turns a plan into dialplan: the templates and the compiler's source. A new
    release changes it, and the next apply renders every number again (domain/digest.py)."""
    package = Path(__file__).resolve().parents[1]
    sources = [*sorted(TEMPLATES.glob("*.j2")), *sorted((package / "domain").glob("*.py")),
               *sorted((package / "generate").glob("*.py")), package / "services" / "sounds.py"]
    h = hashlib.sha256()
    for path in sources:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def render_call_centres(centres: Iterable[CallCentre], trunk: str = "carrier") -> tuple[dict[str, str], dict[str, str]]:
    """(dialplan files, queue/MOH configuration files). Tenants without call centres add no file
    to the dialplan, so their generated output stays as it was."""
    env = _environment()
    centres = sorted((c for c in centres if not c.empty), key=lambda c: c.tenant)
    dialplan = {call_centre_file(c.tenant): env.get_template("callcentre.conf.j2").render(cc=c, trunk=trunk)
                for c in centres}
    members = sorted({(c.tenant, m.agent, m.interface) for c in centres for qf in c.queues
                      for q in qf.queues.values() for m in q.members})
    # svc-agent-state (in agentcodes.conf) serves the phones' state codes; svc-agent-restore the members.
    if members or any(a.endpoint for c in centres for a in c.agents):
        dialplan[AGENT_CODES_FILE] = env.get_template("agentcodes.conf.j2").render(queue_members=members)
    config = {
        QUEUES_FILE: env.get_template("queues.inc.j2").render(centres=centres),
        MOH_FILE: env.get_template("moh.inc.j2").render(centres=centres),
    }
    return dialplan, config


@dataclass(frozen=True)
class PhoneSection:
    tenant: str
    agent: str
    name: str  # PJSIP endpoint, aor and auth: <tenant>.<endpoint>
    context: str
    realm: str
    digest: str  # MD5 of name:realm:password


# PJSIP's default qualify timeout; a shorter qualify period (tests) gets half its length instead.
QUALIFY_TIMEOUT_S = 3.0


def render_agent_phones(centres: Iterable[CallCentre], digests: Mapping[str, str], qualify_s: int) -> str:
    """The PJSIP objects of every endpoint agent of every tenant. ``digests`` maps endpoint names
    to the MD5 digest of ``name:realm:password``, so no password reaches the generated file.
    Every ``qualify_s`` seconds Asterisk sends each phone an OPTIONS; unanswered, the phone's
    endpoint turns Unavailable and app_queue (state interface ``PJSIP/<name>``) stops ringing it."""
    phones = [PhoneSection(c.tenant, a.name, a.endpoint, phone_context(c.tenant), SIP_REALM, digests[a.endpoint])
              for c in sorted(centres, key=lambda c: c.tenant)
              for a in sorted(c.agents, key=lambda a: a.endpoint or "") if a.endpoint]
    return _environment().get_template("pjsip.inc.j2").render(
        phones=phones, qualify_frequency=qualify_s, qualify_timeout=min(QUALIFY_TIMEOUT_S, qualify_s / 2))
