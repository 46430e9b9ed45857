"""Basis package end to end: real SIP calls (sipp) through the real Asterisk 22 running the
generated dialplan. The carrier (sipp UAS) answers destinations by their last digit:
1 answers, 2 busy, 3 rings without answer, 4 unreachable (503)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.errors import ApplyFailed, PlanInvalid
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.services.blacklist import change_blacklist
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from tests.e2e.events import EventLog, connect_events, digits, first_channels, until
from tests.harness.clock import ahead, set_clock_offset
from tests.harness.sipp import Hold, place_call

pytestmark = pytest.mark.e2e

ANSWER, BUSY, NOANSWER, UNREACHABLE = "+31205550011", "+31205550002", "+31205550003", "+31205550004"
ANSWER_2 = "+31105550021"


def number(n: str, routings: dict[str, list[dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    return {"number": n, "routings": routings, "active": next(iter(routings)), **extra}


def basis_plan(switch_at: datetime) -> dict[str, Any]:
    return {
        "tenant": "e2e",
        "numbers": [
            number("0800 000 0001", {"main": [{"number": ANSWER}]},
                   blocking={"anonymous": True, "mobile": True},
                   announcements={"welcome": "default-final", "whisper": "default-whisper"}),
            number("0800 000 0002", {"main": [{"number": NOANSWER, "ring_time": 5},
                                              {"number": BUSY}, {"number": ANSWER}]}),
            number("0800 000 0003", {"main": [{"number": NOANSWER, "ring_time": 5},
                                              {"number": UNREACHABLE}]},
                   announcements={"final": "default-final"}),
            number("088 000 0004", {"main": [{"number": ANSWER}]}, blocking={"foreign": True}),
            number("0800 000 0005", {"main": [{"number": ANSWER}]}, max_concurrent_calls=2),
            number("0800 000 0006", {"main": [{"number": ANSWER}], "evening": [{"number": ANSWER_2}]},
                   switches=[{"at": switch_at.strftime("%Y-%m-%d %H:%M"), "routing": "evening"}]),
        ],
    }


class Stack:
    def __init__(self, runtime: Any, carrier: Any, engine: Any, ami: Any, events: EventLog, workdir: Path) -> None:
        self.runtime, self.carrier, self.engine, self.ami, self.events = runtime, carrier, engine, ami, events
        self.workdir = workdir
        self.files = DialplanFiles(runtime.etc_dir)
        self.target = ApplyTarget(self.files, runtime.sounds_dir, runtime.asterisk_path, ami)

    async def apply(self, plan: dict[str, Any]) -> Any:
        with Session(self.engine) as session:
            return await apply_plan(parse_plan(plan), session, self.target, now=datetime.now(AMSTERDAM))

    async def call(self, to: str, caller: str = "0201234567", *, refused: bool = False, **kw: Any) -> Any:
        """``refused``: Asterisk refuses the call before it creates a channel (404)."""
        self.carrier.clear()
        self.events.clear()
        mark = self.events.mark()
        result = await asyncio.to_thread(
            place_call, self.runtime.settings.sip_port, to, caller, workdir=self.workdir, **kw)
        # every leg hung up: the call's last AMI events are in
        await self.events.settled(mark, calls=first_channels(result, refused=refused))
        return result


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("basis")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'e2e.db'}")
    s = runtime.settings
    ami, events = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    st = Stack(runtime, carrier, engine, ami, events, tmp)
    st.switch_at = ahead(datetime.now(AMSTERDAM), timedelta(hours=2)).replace(second=0, microsecond=0)
    await st.apply(basis_plan(st.switch_at))
    yield st
    ami.close()


async def test_active_routing_welcome_and_whisper(stack: Stack) -> None:
    r = await stack.call("08000000001")
    assert r.final_code == 200
    assert stack.carrier.invites() == [ANSWER]
    steps = stack.events.steps("+318000000001")
    assert steps.index("play") < steps.index("dial")
    whisper = [e for e in stack.events.events if e.get("Event") == "Newexten"
               and e.get("Context") == "svc-whisper" and e.get("Application") == "Playback"]
    assert whisper, "the whisper did not play"
    assert whisper[0]["Channel"].startswith("PJSIP/carrier-")  # on the answering side
    assert whisper[0]["AppData"] == "beep"


async def test_number_dialled_in_e164_form(stack: Stack) -> None:
    r = await stack.call("+318000000001")
    assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]


async def test_overflow_after_no_answer_and_busy(stack: Stack) -> None:
    r = await stack.call("08000000002")
    assert r.final_code == 200
    assert stack.carrier.invites() == [NOANSWER, BUSY, ANSWER]
    statuses = [e["Status"] for e in stack.events.svc("+318000000002") if e.get("Step") == "dialed"]
    assert statuses == ["NOANSWER", "BUSY"]


async def test_unreachable_last_then_final_message(stack: Stack) -> None:
    r = await stack.call("08000000003")
    assert stack.carrier.invites() == [NOANSWER, UNREACHABLE]
    assert r.final_code == 480
    events = stack.events.svc("+318000000003")
    assert [e["Status"] for e in events if e.get("Step") == "dialed"][0] == "NOANSWER"
    assert [e.get("Purpose") for e in events if e.get("Step") == "play"] == ["final"]
    assert events[-2].get("Step") == "end" or any(e.get("Step") == "end" for e in events)


@pytest.mark.parametrize(
    ("to", "caller", "kw", "reason"),
    [
        ("08000000001", "anonymous", {"anonymous": True}, "anonymous"),
        ("08000000001", "0612345678", {}, "mobile"),
        ("0880000004", "+442079460123", {}, "foreign"),
    ],
)
async def test_blocking(stack: Stack, to: str, caller: str, kw: dict[str, Any], reason: str) -> None:
    r = await stack.call(to, caller, **kw)
    assert r.final_code == 403
    assert stack.carrier.invites() == []
    blocked = [e for e in stack.events.svc() if e.get("Step") == "blocked"]
    assert [e["Reason"] for e in blocked] == [reason]


async def test_mobile_and_foreign_pass_where_not_blocked(stack: Stack) -> None:
    assert (await stack.call("0880000004", "0612345678")).final_code == 200  # 088 has no mobile block
    assert (await stack.call("08000000001", "+442079460123")).final_code == 200  # no foreign block


async def test_blacklist_change_without_reload(stack: Stack) -> None:
    before = stack.files.current()
    reloaded_at = last_reload_time(stack)
    caller = "+31201112233"
    assert (await stack.call("08000000001", "020 111 2233")).final_code == 200
    with Session(stack.engine) as session:
        await change_blacklist(session, stack.ami, "+318000000001", caller, add=True, source="cli")
    r = await stack.call("08000000001", "0201112233")
    assert r.final_code == 403 and stack.carrier.invites() == []
    assert [e["Reason"] for e in stack.events.svc() if e.get("Step") == "blocked"] == ["blacklist"]
    with Session(stack.engine) as session:
        await change_blacklist(session, stack.ami, "+318000000001", caller, add=False, source="cli")
    assert (await stack.call("08000000001", "0201112233")).final_code == 200
    assert stack.files.current() == before
    assert last_reload_time(stack) == reloaded_at  # no dialplan reload happened


def last_reload_time(stack: Stack) -> str:
    lines = [ln for ln in stack.runtime.rx("core show settings").splitlines() if "Last reload time" in ln]
    assert len(lines) == 1
    return lines[0]


async def test_max_simultaneous_calls(stack: Stack) -> None:
    """Two calls up on a number limited to two (held until released: a fixed hold could end before
    the third call starts on a busy machine), then a third is refused busy."""
    stack.carrier.clear()
    port, to = stack.runtime.settings.sip_port, "08000000005"
    since = len(stack.events.events)
    holds = [Hold(), Hold()]
    held = [asyncio.ensure_future(asyncio.to_thread(
        place_call, port, to, "0201234567", hold_s=0.2, workdir=stack.workdir, hold=h)) for h in holds]
    try:
        await until(lambda: len(_answered_calls(stack.events, to, since)) == 2 or any(c.done() for c in held), 60, "")
        assert len(_answered_calls(stack.events, to, since)) == 2, (
            f"the two first calls were not both answered: {[c.result().responses for c in held if c.done()]}; "
            f"{stack.events.call_events(to, since)}")
        third = await asyncio.to_thread(place_call, port, to, "0201234567", hold_s=0.2, workdir=stack.workdir)
    finally:
        for h in holds:
            if h.port:
                h.release()
        results = await asyncio.gather(*held)
    assert sorted(r.final_code for r in [*results, third]) == [200, 200, 486]
    assert third.final_code == 486
    assert stack.carrier.invites() == [ANSWER, ANSWER]


def _answered_calls(events: EventLog, exten: str, since: int) -> set[str]:
    """Calls to ``exten`` whose destination answered (DialEnd ANSWER; its Linkedid is the caller's)."""
    return {e.get("Linkedid", "") for e in events.events[since:]
            if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER"
            and events.dialled.get(e.get("Linkedid", "")) == digits(exten)}


async def test_switch_moment_takes_effect(stack: Stack) -> None:
    assert (await stack.call("08000000006")).final_code == 200
    assert stack.carrier.invites() == [ANSWER]
    ahead = int(stack.switch_at.timestamp() - time.time()) + 90
    set_clock_offset(stack.runtime, ahead)
    try:
        assert (await stack.call("08000000006")).final_code == 200
        assert stack.carrier.invites() == [ANSWER_2]
    finally:
        set_clock_offset(stack.runtime, 0)


async def test_unknown_number_is_unallocated(stack: Stack) -> None:
    r = await stack.call("08009999999", refused=True)
    assert r.final_code == 404 and stack.carrier.invites() == []


async def test_invalid_plan_changes_nothing(stack: Stack) -> None:
    before = stack.files.current()
    bad = basis_plan(stack.switch_at)
    bad["numbers"][0]["routings"]["main"] = [{"number": "0906 1234"}]
    with pytest.raises(PlanInvalid):
        await stack.apply(bad)
    assert stack.files.current() == before
    with Session(stack.engine) as session:
        stored = plan_store.load_plan(session, "e2e")
    assert stored.numbers[0].routings["main"][0].number == ANSWER
    assert (await stack.call("08000000001")).final_code == 200


class CorruptingFiles(DialplanFiles):
    """Fault injection: the written version loses a number's context (as a disk fault would), so
    the read-back before loading must fail and the previous version come back."""

    def _write(self, texts: dict[str, str], base: Path | None, keep: list[str], private: Any) -> Any:
        out = super()._write(texts, base, keep, private)
        path = self.locate(out.path, "n-318000000001.conf")
        path.unlink()  # a hard link: leave the previous version's file alone
        path.write_text("[svc-318000000001]\nexten => s,1,NoOp(broken)\n")
        return out


async def test_failed_verification_rolls_back(stack: Stack) -> None:
    before = stack.files.current()
    target = ApplyTarget(CorruptingFiles(stack.runtime.etc_dir), stack.runtime.sounds_dir,
                         stack.runtime.asterisk_path, stack.ami)
    changed = basis_plan(stack.switch_at)
    changed["numbers"][0]["routings"]["main"] = [{"number": ANSWER_2}]
    with Session(stack.engine) as session, pytest.raises(ApplyFailed, match="previous dialplan is active"):
        await apply_plan(parse_plan(changed), session, target, now=datetime.now(AMSTERDAM))
    assert stack.files.current() == before
    r = await stack.call("08000000001")
    assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]  # still the old routing
    with Session(stack.engine) as session:
        assert plan_store.load_plan(session, "e2e").numbers[0].routings["main"][0].number == ANSWER


async def test_dialled_string_cannot_steer_the_dialplan(stack: Stack) -> None:
    """The Request-URI is caller-supplied: commas in it must not turn Goto into a jump elsewhere."""
    r = await stack.call("0800,svc-318000000001,r1d1", refused=True)
    assert r.final_code == 404 and stack.carrier.invites() == []
