"""Hostile caller IDs through the real Asterisk (issue 14, finding 3): every way a number can be
written in From, P-Asserted-Identity or the display name reaches the same decision as its plain
E.164 form; anything without a usable number is withheld; the network's Privacy header decides
"withheld" first; agent state codes are never taken from a carrier call; replies to callers name
nothing internal."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.store import engine as store_engine
from tests.e2e.events import EventLog, connect_events
from tests.harness.sipp import CallResult, Identity, place_call

pytestmark = pytest.mark.e2e

TENANT = "cid"
GUARDED, FOREIGN_BLOCKED, REGIONS, OPEN = "08000300001", "08000300002", "08000300003", "08000300004"
ANSWER, AMS, OTHER = "+31205550011", "+31205550021", "+31205550031"
AGENT = "+31201110001"  # ann, a phone-number agent: the carrier answers her (last digit 1)
BLACKLISTED = "020 999 0000"
# Every way the blacklisted +31 20 999 0000 was presented and answered (issue 14).
BLACKLISTED_FORMS = ["+31209990000", "0209990000", "0031209990000", "31209990000", "+0031209990000",
                     "++31209990000", "+310209990000", "+31(0)209990000", "+31 20 999 0000", "+31-20-999-00-00",
                     "0031 (0)20 999 0000", "+31,209990000"]
MOBILE_FORMS = ["0612345678", "+31612345678", "+0031612345678", "++31612345678", "+310612345678",
                "0031(0)6 1234 5678"]
AMSTERDAM_FORMS = ["0201234567", "+0031201234567", "++31201234567", "+31(0)201234567", "31201234567"]
WITHHELD_FORMS = ["", "+", "00", "+anonymous", "restricted+", "anonymous", "0", "+31", "++", "+0031", "123"]


def plan() -> dict[str, Any]:
    def number(n: str, **extra: Any) -> dict[str, Any]:
        return {"number": n, "routings": {"main": [{"number": ANSWER}]}, "active": "main", **extra}

    return {
        "tenant": TENANT,
        "agents": {"ann": {"number": AGENT}},
        "queues": {"desk": {"agents": ["ann"], "ring_time": 10, "max_wait": 20}},
        "numbers": [
            number(GUARDED, blocking={"anonymous": True, "mobile": True, "blacklist": [BLACKLISTED]}),
            number(FOREIGN_BLOCKED, blocking={"foreign": True}),
            {"number": REGIONS, "package": "standaard", "active": "main",
             "routings": {"main": [{"number": OTHER}], "ams": [{"number": AMS}]},
             "regions": {"exits": [{"name": "ams", "areas": ["020"], "to": "ams"}], "other": "active"}},
            number(OPEN),
            {"number": "08000300005", "routings": {"main": [{"number": "queue:desk"}]}, "active": "main"},
        ],
    }


class Stack:
    def __init__(self, runtime: Any, carrier: Any, ami: Any, events: EventLog, workdir: Path) -> None:
        self.runtime, self.carrier, self.ami, self.events, self.workdir = runtime, carrier, ami, events, workdir

    async def call(self, to: str, identity: Identity, hold_s: float = 0.3, channel: bool = True) -> CallResult:
        """``channel``: the call reaches the dialplan, so wait for its end (its events are in)."""
        self.carrier.clear()
        self.events.clear()
        result = await asyncio.to_thread(place_call, self.runtime.settings.sip_port, to, "caller",
                                         workdir=self.workdir, identity=identity, hold_s=hold_s)
        if channel:
            await self.events.wait_for(lambda e: e.get("Event") == "Hangup")
        return result

    def reasons(self) -> list[str]:
        return [e["Reason"] for e in self.events.svc() if e.get("Step") == "blocked"]


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("callerid")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'cid.db'}")
    s = runtime.settings
    ami, events = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
    with Session(engine) as session:
        await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
    yield Stack(runtime, carrier, ami, events, tmp)
    ami.close()


@pytest.mark.parametrize("form", BLACKLISTED_FORMS)
@pytest.mark.parametrize("header", ["from", "pai"])
async def test_blacklist_holds_in_every_form(stack: Stack, form: str, header: str) -> None:
    identity = Identity(form) if header == "from" else Identity("0301234567", pai=form)
    r = await stack.call(GUARDED, identity)
    assert (r.final_code, stack.reasons(), stack.carrier.invites()) == (403, ["blacklist"], [])


async def test_display_name_is_not_the_number(stack: Stack) -> None:
    r = await stack.call(GUARDED, Identity("0301234567", display="+31209990000"))
    assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]
    r = await stack.call(GUARDED, Identity("anonymous", display="+31209990000"))
    assert (r.final_code, stack.reasons()) == (403, ["anonymous"])


@pytest.mark.parametrize("form", MOBILE_FORMS)
async def test_mobile_blocking_in_every_form(stack: Stack, form: str) -> None:
    r = await stack.call(GUARDED, Identity(form))
    assert (r.final_code, stack.reasons()) == (403, ["mobile"])


@pytest.mark.parametrize("form", AMSTERDAM_FORMS)
async def test_dutch_caller_in_every_form_is_neither_foreign_nor_abroad(stack: Stack, form: str) -> None:
    r = await stack.call(FOREIGN_BLOCKED, Identity(form))
    assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]
    r = await stack.call(REGIONS, Identity(form))
    assert r.final_code == 200 and stack.carrier.invites() == [AMS]


@pytest.mark.parametrize("form", ["+442079460123", "0044(0)2079460123", "+0044 20 7946 0123"])
async def test_foreign_caller_in_every_form_is_foreign(stack: Stack, form: str) -> None:
    r = await stack.call(FOREIGN_BLOCKED, Identity(form))
    assert (r.final_code, stack.reasons()) == (403, ["foreign"])
    r = await stack.call(REGIONS, Identity(form))
    assert r.final_code == 200 and stack.carrier.invites() == [OTHER]


@pytest.mark.parametrize("form", WITHHELD_FORMS)
async def test_no_usable_number_is_withheld(stack: Stack, form: str) -> None:
    r = await stack.call(GUARDED, Identity(form))
    assert (r.final_code, stack.reasons()) == (403, ["anonymous"])
    r = await stack.call(REGIONS, Identity(form))  # and routes as "other", not by a fragment
    assert r.final_code == 200 and stack.carrier.invites() == [OTHER]


@pytest.mark.parametrize("privacy", ["id", "ID", "header;id", "user", "header", "id;critical", "session"])
@pytest.mark.parametrize("pai", [True, False])
async def test_network_privacy_decides_withheld_first(stack: Stack, privacy: str, pai: bool) -> None:
    """A full Dutch number, but the network says it is not to be shown: anything but "none" in
    Privacy withholds, with or without a P-Asserted-Identity (Asterisk alone looks only with one)."""
    def identity(n: str) -> Identity:
        return Identity(n, pai=n, privacy=privacy) if pai else Identity(n, privacy=privacy)

    r = await stack.call(GUARDED, identity("0301234567"))
    assert (r.final_code, stack.reasons()) == (403, ["anonymous"])
    r = await stack.call(REGIONS, identity("0201234567"))
    assert r.final_code == 200 and stack.carrier.invites() == [OTHER]


async def test_privacy_none_hides_nothing(stack: Stack) -> None:
    r = await stack.call(GUARDED, Identity("0301234567", pai="+31301234567", privacy="none"))
    assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]
    r = await stack.call(REGIONS, Identity("0301234567", pai="0201234567", privacy="none"))
    assert r.final_code == 200 and stack.carrier.invites() == [AMS]


@pytest.mark.parametrize("value", ["${SHELL(touch /tmp/svc-pwned)}", "$[1+1]", "x)|Goto(svc-lib",
                                   '0201234567"),Goto(s,1', "0201234567\\,\"(", "${CALLERID(num)}"])
async def test_caller_strings_are_never_evaluated(stack: Stack, value: str) -> None:
    identities = [Identity(value), Identity("0301234567", pai=value)]
    if "[" not in value:  # sipp would read [..] in a display name as its own keyword
        identities.append(Identity("0301234567", display=value))
    for identity in identities:
        r = await stack.call(OPEN, identity)
        assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]
    assert not Path("/tmp/svc-pwned").exists()


@pytest.mark.parametrize("code", ["*56", "*57", "*55"])
@pytest.mark.parametrize("form", [AGENT, "0201110001", "+0031201110001"])
async def test_agent_codes_never_from_a_carrier_call(stack: Stack, code: str, form: str) -> None:
    before = await stack.ami.db_get(f"svc-agent/{TENANT}", "ann")
    for identity in (Identity(form), Identity("0301234567", pai=form)):
        r = await stack.call(code, identity, channel=False)
        assert r.final_code == 404  # from-carrier has no such extension: no channel, no event
        assert not [e for e in stack.events.events if e.get("UserEvent") == "SvcAgent"]
    assert await stack.ami.db_get(f"svc-agent/{TENANT}", "ann") == before


INTERNAL = re.compile(r"\b(r\d+d\d+|svc[a-z]*-[\w.-]*|s|h|start|end|blk\w*|queue-\w+|Local)@", re.I)


async def test_replies_name_nothing_internal(stack: Stack) -> None:
    """Every response Asterisk sends the caller (ringing, answer, blocked): no identity header
    names a node, context or channel of ours."""
    for to, identity in ((OPEN, Identity("0201234567")), (GUARDED, Identity("0209990000")),
                         (REGIONS, Identity("0201234567")), ("08000300005", Identity("0201234567"))):
        r = await stack.call(to, identity, hold_s=0.5)
        assert r.message_log is not None
        received = [b for b in r.message_log.read_text(errors="replace").split("message received")[1:]
                    if re.search(r"^\s*SIP/2\.0 \d{3}", b.split("\n", 2)[-1], re.M)]
        assert received
        for block in received:
            identity_headers = re.findall(r"^(?:P-Asserted-Identity|Remote-Party-ID|P-Preferred-Identity)\s*:.*$",
                                          block, re.M | re.I)
            assert not any(INTERNAL.search(h) for h in identity_headers), identity_headers
