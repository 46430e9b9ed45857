"""Live call-centre control end to end: agent state by the CLI (never by a carrier call claiming
the agent's number), supervisor listen-in, moving a waiting caller and raising its priority."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain.plan import parse_plan
from orchestrator.services.callcentre import supervisor
from tests.e2e.queue_stack import NIGHT, TENANT, Centre, agent_number, cc_plan, centre, number_of

__all__ = ["centre"]
pytestmark = pytest.mark.e2e
SUPERVISOR = "+31205550091"  # ends in 1: the carrier answers for the supervisor


def national(e164: str) -> str:
    return "0" + e164[3:]


async def first_agent(c: Centre, number: str) -> str:
    since = len(c.events.events)
    assert (await c.call(number, hold_s=1.0, connected=True)).answered  # returns once the agent's leg has cleared
    return c.answered("live", since)[0]


async def test_agent_codes_are_not_taken_from_a_carrier_call(centre: Centre) -> None:
    """A carrier call to *56 whose caller ID is liz's number changes nothing: caller IDs are only
    claims (issue 14). Agents with a SIP phone use it (test_agent_phones); others the CLI or API."""
    liz = national(agent_number(8, 1))
    assert await first_agent(centre, number_of(50)) == "liz"
    since = len(centre.events.events)
    # from-carrier has no '*' extensions: 404, before any channel exists.
    assert not (await centre.call("*56", caller=liz, hold_s=0.5, refused=True)).answered
    assert await first_agent(centre, number_of(50)) == "liz"
    assert not [e for e in centre.events.events[since:] if e.get("UserEvent") == "SvcAgent"]
    assert await centre.ami.db_get(f"svc-agent/{TENANT}", "liz") in (None, "", "available")


def cli(runtime: Any, engine_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    s = runtime.settings
    env = {**os.environ, "SVC_STATE_DIR": str(s.state_dir), "SVC_INSTANCE": s.instance_name,
           "SVC_BIND_HOST": s.bind_host, "SVC_AMI_PORT": str(s.ami_port), "SVC_AMI_USER": s.ami_user,
           "SVC_AMI_SECRET": s.ami_secret, "SVC_DB_URL": engine_url}
    exe = Path(sys.executable).parent / "orchestrator"  # the installed console script
    return subprocess.run([str(exe), *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


async def test_agent_state_over_the_cli(centre: Centre) -> None:
    url = str(centre.engine.url)
    r = await asyncio.to_thread(cli, centre.runtime, url, "agent", "pause", "liz", "-t", TENANT, "--reason", "lunch")
    assert r.returncode == 0, r.stderr
    r = await asyncio.to_thread(cli, centre.runtime, url, "agent", "list", "-t", TENANT)
    assert any(line.split()[:3] == ["liz", "unavailable", "(lunch)"] for line in r.stdout.splitlines()), r.stdout
    assert await first_agent(centre, number_of(50)) == "max"
    r = await asyncio.to_thread(cli, centre.runtime, url, "agent", "login", "liz", "-t", TENANT)
    assert r.returncode == 0, r.stderr
    assert await first_agent(centre, number_of(50)) == "liz"
    r = await asyncio.to_thread(cli, centre.runtime, url, "agent", "logout", "nobody", "-t", TENANT)
    assert r.returncode == 2 and "no agent 'nobody'" in r.stderr


@pytest.mark.parametrize("mode", ["whisper", "barge"])
async def test_supervisor_whisper_and_barge_join_the_agents_call(centre: Centre, mode: str) -> None:
    since = len(centre.events.events)
    checked = asyncio.Event()
    connected = centre.events.agent_connected(number_of(50))
    # The caller stays on until the spy was checked (then 1 s), however slow the machine.
    call = asyncio.create_task(centre.call(number_of(50), hold_s=1.0, connected=True,
                                           release_on=lambda e: checked.is_set() and connected(e)))
    connect = await centre.wait(since, connected)
    assert connect["Queue"] == f"{TENANT}.live"
    await supervisor.spy(centre.ami, TENANT, connect["MemberName"], f"PJSIP/{SUPERVISOR}@carrier", mode)
    spy = await centre.wait(since, lambda e: e.get("Event") == "ChanSpyStart", timeout=10)
    assert spy["SpyeeChannel"].startswith("PJSIP/carrier-")  # the agent's own leg
    shown = await centre.ami.command(f"core show channel {spy['SpyerChannel']}")
    options = "qwEg" if mode == "whisper" else "qBEg"
    assert "Application: ChanSpy" in shown
    assert f"Data: ,{options}({TENANT}.{connect['MemberName']})" in shown, shown
    checked.set()
    assert (await call).answered


async def test_supervisor_listens_in_silently(centre: Centre) -> None:
    since = len(centre.events.events)
    checked = asyncio.Event()
    connected = centre.events.agent_connected(number_of(50))
    call = asyncio.create_task(centre.call(number_of(50), hold_s=1.0, connected=True,
                                           release_on=lambda e: checked.is_set() and connected(e)))
    connect = await centre.wait(since, connected)
    assert connect["Queue"] == f"{TENANT}.live"
    caller_channel = connect["Channel"]
    dials = [e for e in centre.events.events[since:] if e.get("Event") == "DialBegin"]
    legs = [e["DestChannel"] for e in dials if e.get("DialString", "").startswith(agent_number(8, 1))]
    assert legs, [(e.get("DialString"), e.get("DestChannel")) for e in dials]
    agent_leg = legs[0]
    channel = supervisor.supervisor_channel(parse_plan(cc_plan()), SUPERVISOR)
    assert channel == f"PJSIP/{SUPERVISOR}@carrier"
    await supervisor.spy(centre.ami, TENANT, connect["MemberName"], channel, "listen")
    spy = await centre.wait(since, lambda e: e.get("Event") == "ChanSpyStart", timeout=10)
    assert spy["SpyeeChannel"] == agent_leg  # a spy channel on the agent's call
    assert spy["SpyerChannel"].startswith("PJSIP/carrier-")
    # The caller was told nothing: no application ran on the caller's channel after the spy came.
    started = centre.events.events.index(spy)
    assert not [e for e in centre.events.events[started:]
                if e.get("Channel") == caller_channel and e.get("Event") == "Newexten"
                and e.get("Application") in ("Playback", "ChanSpy")]
    checked.set()
    assert (await call).answered


async def test_move_waiting_caller_and_raise_priority(centre: Centre) -> None:
    since = len(centre.events.events)
    # 'tiny': nobody answers; the caller stays until the agent of the queue it is moved to answers.
    call = asyncio.create_task(centre.call(number_of(11), hold_s=1.0, connected=True))
    join = await centre.wait(
        since, lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == f"{TENANT}.tiny")
    channel = join["Channel"]
    await supervisor.set_priority(centre.ami, TENANT, channel, 7)
    waiting = {w.channel: w for w in await supervisor.waiting_calls(centre.ami, TENANT)}
    assert waiting[channel].priority == 7 and waiting[channel].queue == "tiny"
    await supervisor.move_call(centre.ami, TENANT, channel, "wrap")
    moved = await centre.wait(since, lambda e: e.get("Event") == "AgentConnect" and e.get("Channel") == channel)
    assert moved["Queue"] == f"{TENANT}.wrap"
    with pytest.raises(Exception, match="no caller"):
        await supervisor.move_call(centre.ami, "other-tenant", channel, "wrap")
    assert (await call).answered


async def test_move_waiting_caller_to_a_skill(centre: Centre) -> None:
    """Moved to help/billing, the caller waits in the billing queue: dan (billing) gets it, not eve."""
    since = len(centre.events.events)
    call = asyncio.create_task(centre.call(number_of(11), hold_s=1.0, connected=True))  # until moved and answered
    join = await centre.wait(
        since, lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == f"{TENANT}.tiny")
    name, skill = supervisor.move_target(parse_plan(cc_plan()), "help/billing")
    await supervisor.move_call(centre.ami, TENANT, join["Channel"], name, skill)
    moved = await centre.wait(since, lambda e: e.get("Event") == "AgentConnect" and e.get("Channel") == join["Channel"])
    assert (moved["Queue"], moved["MemberName"]) == (f"{TENANT}.help.billing", "dan")
    assert (await call).answered


async def test_api_agent_state_night_and_tenant_isolation(centre: Centre, tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from orchestrator.api.app import create_app
    from orchestrator.api.context import ApiConfig
    from tests.api.helpers import bearer, make_token

    url = str(centre.engine.url)
    rt = centre.runtime
    config = ApiConfig(settings=rt.settings.with_(db_url=url), etc_dir=rt.etc_dir, sounds_dir=rt.sounds_dir,
                       uploads_dir=tmp_path / "uploads", asterisk_path=rt.asterisk_path)
    mine, other = bearer(make_token(url, TENANT)), bearer(make_token(url, "someone-else"))
    base = f"/api/v1/tenants/{TENANT}"
    async with TestClient(TestServer(create_app(config))) as client:
        resp = await client.put(f"{base}/agents/liz/state", json={"state": "unavailable", "reason": "coffee"},
                                headers=mine)
        assert resp.status == 200, await resp.text()
        agents = {a["agent"]: a for a in (await (await client.get(f"{base}/agents", headers=mine)).json())["agents"]}
        assert agents["liz"]["state"] == "unavailable" and agents["liz"]["reason"] == "coffee"
        assert await first_agent(centre, number_of(50)) == "max"
        resp = await client.put(f"{base}/agents/liz/state", json={"state": "available"}, headers=mine)
        assert resp.status == 200
        assert await first_agent(centre, number_of(50)) == "liz"
        # Another tenant's token sees none of it: 404, and nothing changes.
        for method, path, body in (("put", f"{base}/agents/liz/state", {"state": "logged-out"}),
                                   ("get", f"{base}/agents", None),
                                   ("put", f"{base}/queues/nightq/night", {"mode": "on"})):
            resp = await client.request(method, path, json=body, headers=other)
            assert resp.status == 404, (path, await resp.text())
        assert await centre.ami.db_get(f"svc-agent/{TENANT}", "liz") == "available"
        resp = await client.put(f"{base}/queues/nightq/night", json={"mode": "on"}, headers=mine)
        assert resp.status == 200
        centre.carrier.clear()
        assert (await centre.call(number_of(40), hold_s=1.0)).answered
        assert centre.carrier.invites() == [NIGHT]
        resp = await client.put(f"{base}/queues/nightq/night", json={"mode": "auto"}, headers=mine)
        assert resp.status == 200
        resp = await client.put(f"{base}/queues/nosuch/night", json={"mode": "on"}, headers=mine)
        assert resp.status == 404
        # The supervisor's phone: never a premium number, never a channel typed in by the client.
        for who in ("09061234567", "112", "PJSIP/carrier", "other-tenant.desk", "nosuch-phone"):
            resp = await client.post(f"{base}/agents/liz/spy", json={"supervisor": who}, headers=mine)
            assert resp.status == 422, (who, await resp.text())


async def test_agent_pauses_survive_an_asterisk_restart_without_the_orchestrator(centre: Centre) -> None:
    """Queue members come back from queues.conf available; Asterisk itself puts the pauses AstDB
    holds back at start (cli.conf startup_commands → svc-agent-restore), with no orchestrator
    process running. Last in this module: it restarts the shared Asterisk."""
    from orchestrator.asterisk.ami import Ami
    from orchestrator.services.callcentre import control

    await control.set_agent_state(centre.ami, TENANT, "liz", "logged-out")
    await control.set_agent_state(centre.ami, TENANT, "max", "unavailable", "training")
    rt = centre.runtime
    rt.down()
    rt.up(faketime_file=rt.clock_file)
    s = rt.settings
    async with Ami.from_settings(s) as fresh:
        # The startup command runs right after boot and pauses the members one after the other
        # (liz, then max): wait until both are restored, not only the first (a poll could fall
        # between the two). The deadline only ends a wait that failed.
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            states = {a.agent: a for a in await control.agent_states(fresh, TENANT)}
            restored = states["liz"].state != "available" and states["max"].state != "available"
            if restored or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        assert (states["liz"].state, states["max"].state, states["max"].reason) == \
            ("logged-out", "unavailable", "training")
        assert states["eve"].state == "available"  # never paused: stays available
        for agent in ("liz", "max"):
            await control.set_agent_state(fresh, TENANT, agent, "available")
