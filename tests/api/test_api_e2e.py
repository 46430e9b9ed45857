"""The API against the real Asterisk 22: a plan applied through PUT routes a real SIP call, an
uploaded WAV plays in it (AMI Newexten Playback), and a blacklist POST blocks the next call live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from orchestrator.asterisk.spool import spool_dir
from orchestrator.services.recordings import store
from tests.api.helpers import ANSWERING, allocate, bearer, make_token, number, plan, sine_wav
from tests.e2e.events import EventLog, connect_events, first_channels, until
from tests.harness.sipp import place_call

pytestmark = pytest.mark.e2e

SERVICE = "+318000000901"


@pytest.fixture
async def api(runtime: Any, tmp_path: Path, db_url: str) -> AsyncIterator[tuple[TestClient, str, EventLog]]:  # noqa: F811
    settings = runtime.settings.with_(db_url=db_url)
    config = ApiConfig(settings=settings, etc_dir=runtime.etc_dir, sounds_dir=runtime.sounds_dir,
                       uploads_dir=tmp_path / "uploads", asterisk_path=runtime.asterisk_path)
    token = make_token(settings.db_url, "e2e")
    allocate(settings.db_url, "e2e", "+318000000901", "+318000000902", "+318000000911")
    s = runtime.settings
    ami, events = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    try:
        async with TestClient(TestServer(create_app(config))) as client:
            yield client, token, events
    finally:
        ami.close()


async def test_plan_applied_through_the_api_routes_a_real_call_and_plays_the_upload(
        api: tuple[TestClient, str, EventLog], runtime: Any, carrier: Any, tmp_path: Path) -> None:  # noqa: F811
    client, token, events = api
    h = bearer(token)
    with sine_wav(tmp_path / "hello.wav", 1.0).open("rb") as fh:
        form = aiohttp.FormData({"name": "hello-upload"})
        form.add_field("file", fh, filename="hello.wav")
        resp = await client.post("/api/v1/tenants/e2e/announcements", data=form, headers=h)
    assert resp.status == 201, await resp.text()

    body = plan("e2e", number("0800 000 0901", dest=ANSWERING, announcements={"welcome": "hello"}),
                announcements={"hello": {"file": "hello-upload"}})
    resp = await client.put("/api/v1/tenants/e2e/plan", json=body, headers=h)
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report["reload_ms"] is not None and report["verified_contexts"] >= 2

    carrier.clear()
    events.clear()
    mark = events.mark()
    result = await asyncio.to_thread(place_call, runtime.settings.sip_port, SERVICE, "0201234567",
                                     workdir=tmp_path / "calls")
    await events.settled(mark, calls=first_channels(result, refused=False))  # every leg hung up
    assert result.answered and carrier.invites() == [ANSWERING]
    played = [e["AppData"] for e in events.events
              if e.get("Event") == "Newexten" and e.get("Application") == "Playback"]
    expected = runtime.asterisk_path(runtime.sounds_dir / "e2e" / "hello")
    assert any(expected in d for d in played), played

    # Live blacklist through the API: the very next call is blocked, no reload.
    resp = await client.post(f"/api/v1/tenants/e2e/numbers/{SERVICE}/blacklist", json={"caller": "0201234567"},
                             headers=h)
    assert resp.status == 201
    carrier.clear()
    blocked = await asyncio.to_thread(place_call, runtime.settings.sip_port, SERVICE, "0201234567",
                                      workdir=tmp_path / "calls")
    assert not blocked.answered and carrier.invites() == []
    resp = await client.delete(f"/api/v1/tenants/e2e/numbers/{SERVICE}/blacklist/+31201234567", headers=h)
    assert resp.status == 204
    audit = await (await client.get("/api/v1/tenants/e2e/audit", headers=h)).json()
    assert [e["action"] for e in audit["entries"]] == ["blacklist.remove", "blacklist.add", "plan.apply",
                                                       "announcement.upload"]


async def test_recording_keep_and_pause_through_the_api(
        api: tuple[TestClient, str, EventLog], runtime: Any, carrier: Any, tmp_path: Path,  # noqa: F811
        db_url: str) -> None:
    """keep / pause / resume on a real call in progress; another tenant's or a made-up call is 404."""
    client, token, events = api
    h = bearer(token)
    body = plan("e2e", number("0800 000 0911", recording={"policy": "on_demand"}))
    resp = await client.put("/api/v1/tenants/e2e/plan", json=body, headers=h)
    assert resp.status == 200, await resp.text()
    spool = spool_dir(runtime.instance_dir)
    events.clear()
    call = asyncio.create_task(asyncio.to_thread(place_call, runtime.settings.sip_port, "+318000000911",
                                                 "0201234567", hold_s=3.0, workdir=tmp_path / "calls",
                                                 scenario="caller_audio.xml"))
    event = await events.wait_for(lambda e: e.get("UserEvent") == "SvcRecording", timeout=10)
    call_id = event["Name"].split("@")[1]
    await events.wait_for(lambda e: e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER")
    # MixMonitor(b) creates the file with the first bridged audio; keep/pause need it.
    await until(lambda: any((spool / "incoming").glob(f"*@{call_id}@*.wav")), 10, "the recording file")
    base = f"/api/v1/tenants/e2e/recordings/calls/{call_id}"
    resp = await client.post(f"{base}/keep", headers=h)
    assert resp.status == 200 and (await resp.json())["kept"] is True, await resp.text()
    assert (await client.post(f"{base}/pause", headers=h)).status == 200
    assert (await client.post(f"{base}/resume", headers=h)).status == 200
    other = make_token(db_url, "other")  # the fixture's database
    assert (await client.post(f"/api/v1/tenants/other/recordings/calls/{call_id}/keep",
                              headers=bearer(other))).status == 404
    assert (await client.post("/api/v1/tenants/e2e/recordings/calls/*/keep", headers=h)).status == 404
    assert (await call).answered
    deadline = asyncio.get_running_loop().time() + 5
    while not list((spool / "done").glob(f"*@{call_id}@*.wav")) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    [kept] = list((spool / "done").glob(f"*@{call_id}@*.wav"))  # kept: not deleted at hang-up
    meta = store.read_meta(kept.with_suffix(".meta"))
    assert meta["keep"] == ["api"] and len(meta["pause"]) == 1 and len(meta["resume"]) == 1
    kept.unlink()
    kept.with_suffix(".meta").unlink()
    audit = await (await client.get("/api/v1/tenants/e2e/audit", headers=h)).json()
    done = [e["action"] for e in audit["entries"] if e["outcome"] == "ok"]  # refused ones are audited too
    assert done[:3] == ["recording.resume", "recording.pause", "recording.keep"]


async def test_one_number_changed_and_removed_through_the_api_routes_real_calls(
        api: tuple[TestClient, str, EventLog], runtime: Any, carrier: Any, tmp_path: Path) -> None:  # noqa: F811
    client, token, _events = api
    h = bearer(token)
    other = "+31205550031"  # also answers (ends in 1)
    body = plan("e2e", number("0800 000 0901"), number("0800 000 0902"))
    assert (await client.put("/api/v1/tenants/e2e/plan", json=body, headers=h)).status == 200

    async def call() -> tuple[bool, list[str]]:
        carrier.clear()
        result = await asyncio.to_thread(place_call, runtime.settings.sip_port, SERVICE, "0201234567",
                                         workdir=tmp_path / "calls")
        return result.answered, carrier.invites()

    assert await call() == (True, [ANSWERING])
    resp = await client.put(f"/api/v1/tenants/e2e/numbers/{SERVICE}", json=number("0800 000 0901", dest=other),
                            headers=h)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["verified_contexts"] >= 1
    assert await call() == (True, [other])
    assert (await client.delete(f"/api/v1/tenants/e2e/numbers/{SERVICE}", headers=h)).status == 200
    assert await call() == (False, [])  # unallocated now
    assert "There is no existence" in runtime.rx("dialplan show svc-318000000901")


async def test_digit_list_change_through_the_api_reaches_astdb_live(
        api: tuple[TestClient, str, EventLog], runtime: Any, tmp_path: Path) -> None:  # noqa: F811
    from tests.flow_plans import flow_plan

    client, token, _events = api
    h = bearer(token)
    body = flow_plan("e2e")
    body["numbers"] = [{"number": "0800 000 0911", "package": "premium", "flow": "support"}]
    resp = await client.put("/api/v1/tenants/e2e/plan", json=body, headers=h)
    assert resp.status == 200, await resp.text()
    before = runtime.rx("core show settings")
    resp = await client.post("/api/v1/tenants/e2e/lists/members", json={"value": "123456782"}, headers=h)
    assert resp.status == 201 and await resp.json() == {"value": "123456782", "added": True}
    assert "/svc-list/e2e/members/123456782" in runtime.rx("database show svc-list/e2e/members")
    again = await client.post("/api/v1/tenants/e2e/lists/members", json={"value": "123456782"}, headers=h)
    assert again.status == 200 and (await again.json())["added"] is False
    got = await (await client.get("/api/v1/tenants/e2e/lists/members", headers=h)).json()
    assert got["entries"] == ["123456782"]
    resp = await client.delete("/api/v1/tenants/e2e/lists/members/123456782", headers=h)
    assert resp.status == 204
    assert "123456782" not in runtime.rx("database show svc-list/e2e/members")
    # No reload was involved.
    reload_line = [ln for ln in before.splitlines() if "Last reload time" in ln]
    assert reload_line and reload_line[0] in runtime.rx("core show settings")
    audit = await (await client.get("/api/v1/tenants/e2e/audit", headers=h)).json()
    assert [e["action"] for e in audit["entries"]][:2] == ["list.remove", "list.add"]


async def test_a_tenant_cannot_claim_an_unallocated_number_until_the_operator_allocates_it(
        api: tuple[TestClient, str, EventLog], runtime: Any, carrier: Any, tmp_path: Path,  # noqa: F811
        db_url: str) -> None:
    """Issue 14: '0800 999 9991 answered 201' for any tenant. Now 422 and calls to it stay
    unallocated in the real Asterisk, until an admin token allocates it to the tenant."""
    client, token, _events = api
    h = bearer(token)
    free = "+318009999991"
    admin = bearer(make_token(db_url, None, admin=True))  # the fixture's database

    async def call() -> tuple[bool, list[str]]:
        carrier.clear()
        result = await asyncio.to_thread(place_call, runtime.settings.sip_port, free, "0201234567",
                                         workdir=tmp_path / "calls")
        return result.answered, carrier.invites()

    resp = await client.put(f"/api/v1/tenants/e2e/numbers/{free}", json=number("0800 999 9991"), headers=h)
    assert resp.status == 422, await resp.text()
    assert await call() == (False, [])
    resp = await client.put(f"/api/v1/allocations/{free}", json={"tenant": "e2e"}, headers=admin)
    assert resp.status == 201, await resp.text()
    resp = await client.put(f"/api/v1/tenants/e2e/numbers/{free}", json=number("0800 999 9991"), headers=h)
    assert resp.status == 201, await resp.text()
    assert await call() == (True, [ANSWERING])
    # The Asterisk is the session's; the next test (the other database) starts without this number.
    assert (await client.delete(f"/api/v1/tenants/e2e/numbers/{free}", headers=h)).status == 200
    assert await call() == (False, [])
