"""Agents that are SIP phones, end to end (real Asterisk 22, sipp; tests/harness/sip_phone.py): the
phone registers with digest auth as its PJSIP endpoint ``<tenant>.<endpoint>``, from loopback like
the carrier; queue calls reach it and it talks; it rings together with a phone-number agent in a
ringall queue; it changes its state with *55 / *56 / *57. A wrong password, a carrier call naming
the phone, and "From: carrier" from another address are refused. Adding a phone reloads PJSIP
without dropping the call in progress or the registration. Asterisk qualifies the phone every
QUALIFY_S seconds: one that stops answering is Unavailable and skipped by the queues until it is
back. A password rotated through the API refuses the old password and takes the new one."""

from __future__ import annotations

import asyncio
import re
import stat
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.generate.render import QUALIFY_TIMEOUT_S
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.services.callcentre.phone_secrets import PhoneSecrets
from orchestrator.store import engine as store_engine
from tests.api.helpers import bearer, make_token
from tests.e2e.events import EventLog, first_channels, held_call
from tests.harness.clock import set_clock_offset
from tests.harness.sip_phone import Phone
from tests.harness.sipp import CallResult, free_port, place_call

pytestmark = pytest.mark.e2e

TENANT = "ph"
PHONE = "ph.desk7"  # the agent 'desk' has endpoint 'desk7'
SOLO, BOTH, PAIR = "08000000401", "08000000402", "08000000403"
NEVER_ANSWERS = "+31201119993"  # the carrier lets it ring for ever (last digit 3)
ANSWERS = "+31201119991"  # the carrier answers at once (last digit 1)
CALLER = "0201234567"
RINGS_ONLY = "0201234563"  # the phone rings for this caller, never answers (agent_phone.xml: last digit 3)
QUALIFY_S = 2  # SVC_PHONE_QUALIFY_SECONDS for these tests (production: 30)
# Phone gone -> Unreachable: at most one qualify period, then the qualify timeout (both read from
# Asterisk's AOR, see Stack.qualify_bound), plus this for Asterisk's own timers and threads on a
# busy machine. Measured in Asterisk's clock (the events' Timestamp), so the test's own lag and
# the AMI connection's are not part of it.
SCHEDULING_SLACK_S = 2.0
WAIT_S = 30.0  # how long a test waits for a condition that is not itself the bound under test


def phone_plan(*, second_phone: bool = False) -> dict[str, Any]:
    agents: dict[str, Any] = {"desk": {"endpoint": "desk7"}, "nora": {"number": NEVER_ANSWERS},
                              "ann": {"number": ANSWERS}}
    if second_phone:
        agents["eve"] = {"endpoint": "desk8"}
    queues = {"solo": {"agents": ["desk"], "ring_time": 10, "max_wait": 30},
              "both": {"strategy": "ringall", "agents": ["desk", "nora"], "ring_time": 10, "max_wait": 30},
              # fixed: the phone first, the number agent only when the phone cannot take the call
              "pair": {"strategy": "fixed", "agents": ["desk", "ann"], "ring_time": 10, "max_wait": 30}}
    numbers = [{"number": n, "routings": {"main": [{"number": f"queue:{q}"}]}, "active": "main"}
               for n, q in ((SOLO, "solo"), (BOTH, "both"), (PAIR, "pair"))]
    return {"tenant": TENANT, "agents": agents, "queues": queues, "numbers": numbers}


@dataclass
class Stack:
    runtime: Any
    carrier: Any
    ami: Ami
    events: EventLog
    target: ApplyTarget
    engine: Engine
    phone: Phone
    workdir: Path
    progress: list[str] = field(default_factory=list)
    applied: dict[str, Any] = field(default_factory=dict)  # the plan last applied

    async def apply(self, data: dict[str, Any]) -> None:
        self.applied = data
        with Session(self.engine) as session:
            await apply_plan(parse_plan(data), session, self.target, now=datetime.now(AMSTERDAM),
                             progress=self.progress.append)

    async def call(self, to: str, hold_s: float = 1.5, caller: str = CALLER, local_ip: str = "127.0.0.1", *,
                   connected: bool = False, release_on: Callable[[dict[str, Any]], bool] | None = None,
                   refused: bool = False) -> CallResult:
        """One call; returns when all its channels have hung up (not only the caller's), so its
        last events never land in the next test's window. ``connected``: the caller stays until
        an agent answered (AgentConnect; or until an event matching ``release_on``), then
        ``hold_s``; else it hangs up ``hold_s`` after
        Asterisk answered it (the queue answers before it rings anyone). ``refused``: Asterisk
        refuses the call before it creates a channel (401, 404)."""
        mark = self.events.mark()
        place = partial(place_call, self.runtime.settings.sip_port, to, caller, workdir=self.workdir,
                        hold_s=hold_s, timeout=60, local_ip=local_ip)
        if connected:
            result = await held_call(self.events, lambda hold: place(hold=hold), to, release_on)
        else:
            result = await asyncio.to_thread(place)
        await self.events.settled(mark, calls=first_channels(result, refused=refused))
        return result

    async def wait(self, since: int, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0
                   ) -> dict[str, Any]:
        return await self.events.wait_for(predicate, timeout, since=since)

    def queue_events(self, kind: str, queue: str, since: int) -> list[str]:
        return [e["MemberName"] for e in self.events.events[since:]
                if e.get("Event") == kind and e.get("Queue") == f"{TENANT}.{queue}"]

    async def contact_status(self) -> str:
        """The phone's contact status in ``pjsip show contacts`` (Avail, Unavail, NonQual, …)."""
        out = await self.ami.command("pjsip show contacts")
        m = re.search(rf"Contact:\s+{re.escape(PHONE)}/\S+\s+\S+\s+(\w+)", out)
        return m.group(1) if m else "none"

    async def qualify_frequency(self) -> int:
        """What Asterisk runs for the phone's AOR."""
        m = re.search(r"qualify_frequency\s*:\s*(\d+)", await self.ami.command(f"pjsip show aor {PHONE}"))
        assert m is not None
        return int(m.group(1))

    async def qualify_bound(self) -> float:
        """The longest a phone can be gone before Asterisk says so: the AOR's qualify period, then
        its qualify timeout (as Asterisk runs them), plus SCHEDULING_SLACK_S."""
        out = await self.ami.command(f"pjsip show aor {PHONE}")
        m = re.search(r"qualify_timeout\s*:\s*([\d.]+)", out)
        assert m is not None, out
        timeout = float(m.group(1))
        assert timeout == min(QUALIFY_TIMEOUT_S, QUALIFY_S / 2), out  # as rendered for this period
        return await self.qualify_frequency() + timeout + SCHEDULING_SLACK_S

    async def until_contact(self, status: str, timeout: float = WAIT_S) -> float:
        """Seconds until the phone's contact has ``status``."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while (seen := await self.contact_status()) != status:
            if loop.time() - started > timeout:
                raise AssertionError(f"contact still {seen}, not {status}, after {timeout} s")
            await asyncio.sleep(0.1)
        return loop.time() - started

    async def rtp_count(self, channel: str, what: str) -> int:
        return int(await self.ami.getvar(channel, f"CHANNEL(rtcp,{what})") or 0)


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("phones")
    s = runtime.settings
    log = EventLog()
    ami = Ami.from_settings(s, events=True)
    ami.on_event("*", log.record)
    await ami.connect()
    target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami,
                         secrets_dir=s.secrets_dir, phone_qualify_s=QUALIFY_S)
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'phones.db'}")
    password = PhoneSecrets(s.secrets_dir).password(PHONE)
    phone = Phone(s.sip_port, PHONE, password, tmp)
    st = Stack(runtime, carrier, ami, log, target, engine, phone, tmp)
    await st.apply(phone_plan())
    assert await asyncio.to_thread(phone.register) == [401, 200]  # challenged, then registered
    phone.start()
    await st.until_contact("Avail")  # qualified: it answers Asterisk's OPTIONS
    try:
        yield st
    finally:
        phone.stop()
        ami.close()


async def test_phone_registers_as_its_endpoint_though_it_shares_the_carriers_address(stack: Stack) -> None:
    # With endpoint_identifier_order = ip first, this REGISTER from 127.0.0.1 would be the carrier's.
    out = await stack.ami.command(f"pjsip show aor {PHONE}")
    assert f"{PHONE}/sip:{PHONE}@127.0.0.1:{stack.phone.port}" in out
    assert "Avail" in out or "NonQual" in out
    # The password was generated for this instance: owner-only, never in a log or the apply's output.
    secret = stack.runtime.settings.secrets_dir / "agent-phones" / PHONE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = stack.phone.password
    assert password not in "\n".join(stack.progress)
    assert password not in Path(stack.runtime.log_file).read_text(errors="replace")
    assert password not in (stack.runtime.etc_dir / "svc" / "pjsip.inc").read_text()


async def test_wrong_password_is_refused_and_the_phone_stays_registered(stack: Stack) -> None:
    codes = await asyncio.to_thread(stack.phone.register, "not-the-password", port=free_port())
    assert codes[0] == 401 and codes[-1] in (401, 403) and 200 not in codes, codes
    out = await stack.ami.command(f"pjsip show aor {PHONE}")
    assert f"127.0.0.1:{stack.phone.port}" in out  # remove_existing did not hand the slot to the impostor


async def test_queue_call_reaches_the_registered_phone_which_talks(stack: Stack) -> None:
    since, before = len(stack.events.events), len(stack.phone.invites())
    counted = asyncio.Event()
    connected = stack.events.agent_connected(SOLO)
    # The caller stays on until the RTP counters were read (then 0.5 s), however slow the machine.
    call = asyncio.create_task(stack.call(SOLO, hold_s=0.5, connected=True,
                                          release_on=lambda e: counted.is_set() and connected(e)))
    connect = await stack.wait(since, connected)
    assert connect["MemberName"] == "desk" and connect["Queue"] == "ph.solo"
    leg = next(e["Channel"] for e in stack.events.events[since:] if e.get("Event") == "Newchannel"
               and e.get("Channel", "").startswith(f"PJSIP/{PHONE}-"))
    # The phone plays G.711 from its answer on (50 packets a second): > 50 each way. The deadline
    # only ends the wait (a busy machine plays the pcap late); the counts are the assertion.
    deadline = asyncio.get_running_loop().time() + 10.0
    try:
        while True:
            heard_from_phone = await stack.rtp_count(leg, "rxcount")
            sent_to_caller = await stack.rtp_count(connect["Channel"], "txcount")
            if min(heard_from_phone, sent_to_caller) > 50 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
    finally:
        counted.set()
    result = await call
    assert result.answered and result.returncode == 0
    assert heard_from_phone > 50, f"Asterisk got {heard_from_phone} RTP packets from the phone"
    assert sent_to_caller > 50, f"the caller got {sent_to_caller} RTP packets"
    assert [user for user, _caller in stack.phone.invites()[before:]] == [PHONE]
    assert stack.phone.invites()[-1][1] == CALLER  # the phone shows who calls


async def test_ringall_rings_the_phone_and_the_number_agent(stack: Stack) -> None:
    # Both ring at the same time, and stay ringing: the phone does not answer this caller (its
    # number ends in 3, see agent_phone.xml). Had it answered at once, app_queue could drop nora's
    # Local channel before it sent its INVITE to the carrier (seen on a busy machine).
    since, before = len(stack.events.events), len(stack.phone.invites())
    stack.carrier.clear()

    def both_ringing() -> bool:
        return NEVER_ANSWERS in stack.carrier.invites() and len(stack.phone.invites()) > before

    # The caller stays until both INVITEs have arrived (checked at every queue event), then 0.5 s.
    result = await stack.call(BOTH, hold_s=0.5, caller=RINGS_ONLY, connected=True,
                              release_on=lambda e: e.get("Event") == "AgentCalled" and both_ringing())
    assert result.answered
    assert sorted(stack.queue_events("AgentCalled", "both", since)) == ["desk", "nora"]
    assert NEVER_ANSWERS in stack.carrier.invites()  # nora's phone number, via the carrier
    assert len(stack.phone.invites()) == before + 1  # and desk's SIP phone, at the same time
    assert stack.phone.invites()[-1][1] == RINGS_ONLY
    assert stack.queue_events("AgentConnect", "both", since) == []  # both rang until the caller left


async def test_phone_changes_its_agents_state_with_the_codes(stack: Stack) -> None:
    try:
        for code, stored, paused in (("*56", "logged-out", True), ("*57", "unavailable:phone", True),
                                     ("*55", "available", False)):
            codes = await asyncio.to_thread(stack.phone.dial, code)
            assert codes[-1] == 200 and 401 in codes, (code, codes)  # challenged, then answered
            assert await stack.ami.db_get(f"svc-agent/{TENANT}", "desk") == stored
            member = next(line for line in (await stack.ami.command("queue show ph.solo")).splitlines()
                          if "desk" in line)
            assert ("paused" in member) == paused, (code, member)
    finally:
        await stack.ami.command("queue unpause member Local/desk@svca-ph")


async def test_carrier_calls_naming_a_phone_or_the_carrier_are_challenged(stack: Stack) -> None:
    since = len(stack.events.events)
    named_like_phone = await stack.call(SOLO, caller=PHONE, refused=True)  # From user = the phone, from the carrier
    assert not named_like_phone.answered and named_like_phone.final_code == 401
    # The carrier is its address, not its name: "From: carrier" from 127.0.0.2 finds no endpoint.
    elsewhere = await stack.call(SOLO, caller="carrier", local_ip="127.0.0.2", refused=True)
    assert not elsewhere.answered and elsewhere.final_code == 401
    assert not [e for e in stack.events.events[since:] if e.get("Event") == "QueueCallerJoin"]
    assert (await stack.call(SOLO, connected=True)).answered  # an ordinary caller from the carrier still gets through


async def test_adding_a_phone_reloads_pjsip_without_dropping_the_call_or_the_registration(stack: Stack) -> None:
    since = len(stack.events.events)
    applied = asyncio.Event()
    connected = stack.events.agent_connected(SOLO)
    # The caller stays on until the apply is done, then 1 s, then hangs up itself. Had the reload
    # dropped the call, Asterisk's BYE would have ended it before its release (held_call fails).
    call = asyncio.create_task(stack.call(SOLO, hold_s=1.0, connected=True,
                                          release_on=lambda e: applied.is_set() and connected(e)))
    connect = await stack.wait(since, connected)
    stack.progress.clear()
    await stack.apply(phone_plan(second_phone=True))
    applied.set()
    assert "PJSIP reloaded; verified 2 agent phones" in stack.progress
    assert "Unable to find" not in await stack.ami.command("pjsip show endpoint ph.desk8")
    result = await call  # returns once every channel of the call has hung up
    assert result.answered and result.returncode == 0  # released after the apply, then the caller hung up
    # This call's legs share the caller's Linkedid (caller -> Local;1/;2 -> the phone's PJSIP leg).
    # Counting every phone-leg Hangup after ``since`` also counted the previous test's call, whose
    # phone leg Asterisk hangs up after that caller's sipp has already returned.
    ends = [e for e in stack.events.events[since:] if e.get("Event") == "Hangup"
            and e.get("Linkedid") == connect["Linkedid"] and e.get("Channel", "").startswith(f"PJSIP/{PHONE}-")]
    assert [e["Cause"] for e in ends] == ["16"]  # one phone leg, normal clearing after the caller's BYE
    # The phone is still registered: the next call reaches it without a new REGISTER.
    before = len(stack.phone.invites())
    assert (await stack.call(SOLO, connected=True)).answered
    assert len(stack.phone.invites()) == before + 1
    assert PhoneSecrets(stack.runtime.settings.secrets_dir).password(PHONE) == stack.phone.password


NOT_INUSE, UNAVAILABLE = "1", "5"  # Asterisk device states in QueueMemberStatus


def _is(event: str, **fields: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("Event") == event and all(e.get(k) == v for k, v in fields.items())


def asterisk_time(event: dict[str, Any]) -> float:
    """When Asterisk sent ``event`` (manager.conf: timestampevents = yes), on its own clock."""
    return float(event["Timestamp"])


async def test_a_phone_that_stops_answering_is_skipped_until_it_is_back(stack: Stack) -> None:
    loop = asyncio.get_running_loop()
    # Asterisk runs on a fake clock: with offset 0 its event Timestamps are on this process's clock.
    await asyncio.to_thread(set_clock_offset, stack.runtime, 0)
    bound = await stack.qualify_bound()
    await stack.until_contact("Avail")
    since = len(stack.events.events)
    assert (await stack.call(PAIR, connected=True)).answered
    assert stack.queue_events("AgentConnect", "pair", since) == ["desk"]  # alive, the phone comes first

    # The phone's sipp ends without unregistering: the contact stays, Asterisk's OPTIONS go unanswered.
    since = len(stack.events.events)
    stack.phone.stop()
    gone = time.time()  # from here on no OPTIONS is answered
    unreachable = await stack.wait(since, _is("ContactStatus", AOR=PHONE, ContactStatus="Unreachable"),
                                   timeout=WAIT_S)
    unreachable_s = asterisk_time(unreachable) - gone
    answered = [round(t - gone, 2) for t in stack.phone.options_received()][-4:]
    said = [line for line in Path(stack.runtime.log_file).read_text(errors="replace").splitlines()
            if PHONE in line and ("Reachable" in line or "Unreachable" in line)][-4:]
    assert unreachable_s <= bound, (f"Unreachable {unreachable_s:.2f} s after the phone stopped (bound {bound} s);"
                                    f" last OPTIONS answered at {answered} s; Asterisk: {said}")
    # app_queue follows the endpoint's device state (the member's state interface): 5 = unavailable.
    unavailable = await stack.wait(
        since, _is("QueueMemberStatus", Queue="ph.pair", MemberName="desk", Status=UNAVAILABLE), timeout=WAIT_S)
    unavailable_s = asterisk_time(unavailable) - gone
    assert asterisk_time(unavailable) - asterisk_time(unreachable) <= 3.0  # at once, not at a later poll
    assert await stack.contact_status() == "Unavail"
    member = next(line for line in (await stack.ami.command("queue show ph.pair")).splitlines() if "desk" in line)
    assert "Unavailable" in member, member
    print(f"\nphone gone -> contact Unreachable {unreachable_s:.2f} s, queue member unavailable {unavailable_s:.2f} s "
          f"(qualify every {QUALIFY_S} s, bound {bound:.1f} s)")

    # The next call goes to the number agent at once: the dead phone is not rung first.
    since = len(stack.events.events)
    started = loop.time()
    result = await stack.call(PAIR, connected=True)
    assert result.answered
    assert stack.queue_events("AgentCalled", "pair", since) == ["ann"]
    assert stack.queue_events("AgentConnect", "pair", since) == ["ann"]
    assert not [e for e in stack.events.events[since:] if e.get("Event") == "Newchannel"
                and e.get("Channel", "").startswith(f"PJSIP/{PHONE}-")]
    print(f"call while the phone is gone answered by ann, call took {loop.time() - started:.2f} s")

    # The phone registers again and answers: available, and the fixed queue rings it first again.
    since = len(stack.events.events)
    assert await asyncio.to_thread(stack.phone.register) == [401, 200]
    stack.phone.start()
    back = time.time()  # from here on the phone answers again
    available = await stack.wait(
        since, _is("QueueMemberStatus", Queue="ph.pair", MemberName="desk", Status=NOT_INUSE), timeout=WAIT_S)
    back_s = asterisk_time(available) - back
    assert back_s <= bound, f"available {back_s:.2f} s after the phone answers again (bound {bound} s)"
    print(f"phone back -> queue member available {back_s:.2f} s after it answers again")
    await stack.until_contact("Avail")
    since, before = len(stack.events.events), len(stack.phone.invites())
    assert (await stack.call(PAIR, connected=True)).answered
    assert stack.queue_events("AgentConnect", "pair", since) == ["desk"]
    assert len(stack.phone.invites()) == before + 1


async def test_rotated_password_through_the_api_refuses_the_old_one(stack: Stack, tmp_path: Path) -> None:
    s = stack.runtime.settings.with_(db_url=str(stack.engine.url), phone_qualify_s=QUALIFY_S)
    config = ApiConfig(settings=s, etc_dir=stack.runtime.etc_dir, sounds_dir=stack.runtime.sounds_dir,
                       uploads_dir=tmp_path / "uploads", asterisk_path=stack.runtime.asterisk_path)
    token = make_token(s.db_url, TENANT)
    old = stack.phone.password
    async with TestClient(TestServer(create_app(config))) as client:
        resp = await client.post(f"/api/v1/tenants/{TENANT}/agents/desk/credentials/rotate", headers=bearer(token))
        assert resp.status == 200, await resp.text()
        account = await resp.json()
    new = account["password"]
    assert new != old and account["endpoint"] == PHONE
    assert account["registrar"] == f"{s.bind_host}:{s.sip_port}"
    assert new not in Path(stack.runtime.log_file).read_text(errors="replace")
    # The registration made with the old password stays (until it expires or the phone registers).
    assert f"127.0.0.1:{stack.phone.port}" in await stack.ami.command(f"pjsip show aor {PHONE}")

    refused = await asyncio.to_thread(stack.phone.register, old, port=free_port())
    assert refused == [401, 401]  # challenged, then refused with a new challenge

    stack.phone.stop()  # the phone is provisioned with the new password and registers from its port
    try:
        assert await asyncio.to_thread(stack.phone.register, new) == [401, 200]
    finally:
        stack.phone.password = new
        stack.phone.start()
    await stack.until_contact("Avail")
    before = len(stack.phone.invites())
    assert (await stack.call(SOLO, connected=True)).answered
    assert len(stack.phone.invites()) == before + 1
    # The next apply keeps the new password and stays incremental (the rotation moved the stored
    # dialplan state to the version it wrote).
    stack.progress.clear()
    await stack.apply(stack.applied)
    assert any("as applied before" in line for line in stack.progress), stack.progress
    assert not any("PJSIP reloaded" in line for line in stack.progress), stack.progress


async def test_a_changed_qualify_period_reaches_asterisk_on_the_next_apply(stack: Stack) -> None:
    original = stack.target
    try:
        # Only pjsip.inc would change, which an incremental apply leaves alone: the setting counts
        # as part of the build, so this apply renders everything.
        stack.target = replace(original, phone_qualify_s=QUALIFY_S + 1)
        stack.progress.clear()
        await stack.apply(stack.applied)
        assert any("or a changed setting" in line for line in stack.progress), stack.progress
        assert "PJSIP reloaded; verified 2 agent phones" in stack.progress
        assert await stack.qualify_frequency() == QUALIFY_S + 1
    finally:
        stack.target = original
        await stack.apply(stack.applied)
    assert await stack.qualify_frequency() == QUALIFY_S
