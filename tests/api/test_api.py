"""The REST API on a real SQLite database without Asterisk (applies are offline): auth, the
tenant boundary, 422 shapes, plans, simulation, history, audit, announcements."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select
from typer.testing import CliRunner

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from orchestrator.store import models
from orchestrator.store.engine import make_engine
from tests.api.helpers import Tokens, bearer, make_token, number, offline_config, plan, sine_wav

ACME = "+318000000101"
GLOBEX = "+318000000201"
ACME_PLAN = plan("acme", number("0800 000 0101"), number("0800 000 0102", blocking={"anonymous": True}))


async def put_plan(client: TestClient, token: str, tenant: str, body: dict[str, Any]) -> aiohttp.ClientResponse:
    return await client.put(f"/api/v1/tenants/{tenant}/plan", json=body, headers=bearer(token))


async def errors(resp: aiohttp.ClientResponse) -> list[dict[str, str]]:
    body = await resp.json()
    assert set(body) == {"errors"}
    for e in body["errors"]:
        assert set(e) == {"field", "rule"}
    return list(body["errors"])


# --- authentication -------------------------------------------------------------------------------


async def test_no_token_or_a_wrong_one_is_401(client: TestClient) -> None:
    resp = await client.get("/api/v1/tenants/acme/numbers")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await errors(resp))[0]["field"] == "token"
    resp = await client.get("/api/v1/tenants/acme/numbers", headers=bearer("svc_not-a-real-token"))
    assert resp.status == 401


async def test_openapi_is_public(client: TestClient) -> None:
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    assert (await resp.json())["openapi"].startswith("3.")


async def test_tokens_are_hashed_at_rest_and_revocable(client: TestClient, config: ApiConfig, tokens: Tokens) -> None:
    engine = make_engine(config.settings.db_url)
    with Session(engine) as session:
        rows = list(session.exec(select(models.ApiToken)))
        stored = json.dumps([r.model_dump(mode="json") for r in rows])
        assert tokens.acme not in stored and tokens.admin not in stored
        acme = next(r for r in rows if r.tenant == "acme")
        assert (await client.get("/api/v1/tenants", headers=bearer(tokens.acme))).status == 200
        session.refresh(acme)
        assert acme.last_used_at is not None
        from datetime import UTC, datetime

        from orchestrator.store import api_repository
        api_repository.revoke_token(session, acme.id or 0, datetime.now(UTC))
        session.commit()
    assert (await client.get("/api/v1/tenants", headers=bearer(tokens.acme))).status == 401


def test_token_create_cli_prints_the_token_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.cli.main import app

    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SVC_AMI_SECRET", "x")
    monkeypatch.setenv("SVC_ARI_SECRET", "x")
    runner = CliRunner()
    result = runner.invoke(app, ["api", "token", "create", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("svc_") and len(token) > 40
    listed = runner.invoke(app, ["api", "token", "list"])
    assert "acme" in listed.stdout and token not in listed.stdout
    assert runner.invoke(app, ["api", "token", "create"]).exit_code == 2  # neither --tenant nor --admin
    assert runner.invoke(app, ["api", "token", "create", "--admin"]).exit_code == 0


# --- the tenant boundary --------------------------------------------------------------------------


async def test_a_tenant_cannot_read_or_change_another_tenants_numbers(client: TestClient, tokens: Tokens,
                                                                       tmp_path: Path) -> None:
    assert (await put_plan(client, tokens.acme, "acme", ACME_PLAN)).status == 200
    assert (await put_plan(client, tokens.globex, "globex", plan("globex", number("0800 000 0201")))).status == 200
    g = bearer(tokens.globex)
    # Reads through acme's URLs: 404, exactly like a tenant that does not exist.
    for path in ("plan", "numbers", f"numbers/{ACME}", f"numbers/{ACME}/blacklist", "history", "audit",
                 "announcements", "live"):
        resp = await client.get(f"/api/v1/tenants/acme/{path}", headers=g)
        assert resp.status == 404, path
        assert (await client.get(f"/api/v1/tenants/nobody/{path}", headers=g)).status == 404
    # acme's number through globex's own URLs: not found either.
    assert (await client.get(f"/api/v1/tenants/globex/numbers/{ACME}", headers=g)).status == 404
    assert (await client.post(f"/api/v1/tenants/globex/numbers/{ACME}/simulate", json={}, headers=g)).status == 404
    assert (await client.post(f"/api/v1/tenants/globex/numbers/{ACME}/blacklist", json={"caller": "0201234567"},
                              headers=g)).status == 404
    assert (await client.delete(f"/api/v1/tenants/acme/numbers/{ACME}/blacklist/0201234567",
                                headers=g)).status == 404
    # Changes through acme's URLs.
    assert (await put_plan(client, tokens.globex, "acme", ACME_PLAN)).status == 404
    assert (await client.post("/api/v1/tenants/acme/plan/validate", json=ACME_PLAN, headers=g)).status == 404
    with sine_wav(tmp_path / "x.wav").open("rb") as fh:
        form = aiohttp.FormData({"name": "hijack"})
        form.add_field("file", fh, filename="x.wav")
        assert (await client.post("/api/v1/tenants/acme/announcements", data=form, headers=g)).status == 404
    # Taking acme's number into globex's plan: refused, without saying whose it is.
    resp = await put_plan(client, tokens.globex, "globex", plan("globex", number("0800 000 0101")))
    assert resp.status == 422
    errs = await errors(resp)
    assert errs == [{"field": "numbers[0].number", "rule": "this number is not allocated to this tenant"}]
    assert "acme" not in json.dumps(errs)
    # ...and acme still has everything.
    a = await client.get("/api/v1/tenants/acme/numbers", headers=bearer(tokens.acme))
    assert [n["number"] for n in (await a.json())["numbers"]] == [ACME, "+318000000102"]
    # Tenant lists: own tenant only; the admin sees all, reads any tenant, and the whole audit log.
    assert await (await client.get("/api/v1/tenants", headers=g)).json() == {"tenants": ["globex"]}
    admin = bearer(tokens.admin)
    assert await (await client.get("/api/v1/tenants", headers=admin)).json() == {"tenants": ["acme", "globex"]}
    assert (await client.get(f"/api/v1/tenants/acme/numbers/{ACME}", headers=admin)).status == 200
    assert (await client.get("/api/v1/audit", headers=g)).status == 403
    assert (await client.get("/api/v1/audit", headers=admin)).status == 200


# --- plans and 422 shapes -------------------------------------------------------------------------


async def test_invalid_plan_is_422_with_every_field_path_and_rule(client: TestClient, tokens: Tokens) -> None:
    bad = plan("acme", number("0800 000 0101", dest="112", active="ghost"),
               {"number": "0800 000 0102", "routings": {"main": [{"number": ANSWER}]}, "active": "main",
                "colour": "red"})
    resp = await put_plan(client, tokens.acme, "acme", bad)
    assert resp.status == 422
    fields = {e["field"]: e["rule"] for e in await errors(resp)}
    assert "numbers[0].routings.main[0].number" in fields
    assert "numbers[1].colour" in fields and fields["numbers[1].colour"] == "unknown field"
    # Nothing was stored.
    assert (await client.get("/api/v1/tenants/acme/plan", headers=bearer(tokens.acme))).status == 404


ANSWER = "+31205550011"


async def test_rule_violations_all_at_once(client: TestClient, tokens: Tokens) -> None:
    bad = plan("globex", number("0800 000 0101", active="ghost"),
               number("0800 000 0102", blocking={"message": "nope"}))
    resp = await client.post("/api/v1/tenants/acme/plan/validate", json=bad, headers=bearer(tokens.acme))
    assert resp.status == 422
    fields = [e["field"] for e in await errors(resp)]
    assert "tenant" in fields and "numbers[0].active" in fields and "numbers[1].blocking.message" in fields


async def test_not_json_is_400(client: TestClient, tokens: Tokens) -> None:
    resp = await client.put("/api/v1/tenants/acme/plan", data=b"{nope",
                            headers={**bearer(tokens.acme), "Content-Type": "application/json"})
    assert resp.status == 400
    assert (await errors(resp))[0]["field"] == "body"


async def test_validate_changes_nothing_then_apply_and_round_trip(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    body = {k: v for k, v in ACME_PLAN.items() if k != "tenant"}  # the tenant defaults to the URL's
    resp = await client.post("/api/v1/tenants/acme/plan/validate", json=body, headers=h)
    assert resp.status == 200 and await resp.json() == {"valid": True, "tenant": "acme", "numbers": 2}
    assert (await client.get("/api/v1/tenants/acme/plan", headers=h)).status == 404
    assert (await client.get("/api/v1/tenants/acme/numbers", headers=h)).status == 200

    resp = await put_plan(client, tokens.acme, "acme", body)
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report["numbers"] == 2 and report["reload_ms"] is None and report["notes"]
    got = await (await client.get("/api/v1/tenants/acme/plan", headers=h)).json()
    assert got["numbers"][0]["number"] == ACME
    # What GET gives, PUT takes back unchanged.
    assert (await put_plan(client, tokens.acme, "acme", got)).status == 200
    assert await (await client.get("/api/v1/tenants/acme/plan", headers=h)).json() == got

    detail = await (await client.get("/api/v1/tenants/acme/numbers/0800 000 0102", headers=h)).json()
    assert detail["national"].replace(" ", "") == "08000000102" and detail["plan"]["blocking"]["anonymous"] is True
    assert (await client.get("/api/v1/tenants/acme/numbers/12", headers=h)).status == 422

    history = await (await client.get("/api/v1/tenants/acme/history", headers=h)).json()
    assert len(history["versions"]) == 2 and history["versions"][0]["tenant"] == "acme"
    audit = await (await client.get("/api/v1/tenants/acme/audit", headers=h)).json()
    assert [e["action"] for e in audit["entries"]] == ["plan.apply", "plan.apply"]
    assert audit["entries"][0]["actor"].endswith("(tenant acme)") and audit["entries"][0]["detail"]["numbers"] == 2
    assert (await client.get("/api/v1/tenants/acme/audit?limit=0", headers=h)).status == 422


async def test_simulate_gives_the_simulators_stable_json(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    await put_plan(client, tokens.acme, "acme", ACME_PLAN)
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/simulate",
                             json={"caller": "0201234567", "at": "2026-12-24 17:30"}, headers=h)
    assert resp.status == 200
    result = await resp.json()
    assert result["outcome"] == "answered" and result["answered_by"] == ANSWER
    assert result["at"].startswith("2026-12-24T17:30")
    resp = await client.post("/api/v1/tenants/acme/numbers/0800 000 0102/simulate", json={"withheld": True}, headers=h)
    assert (await resp.json())["reason"] == "anonymous"
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/simulate",
                             json={"at": "tomorrow", "busy": ["12"], "speed": 3}, headers=h)
    assert resp.status == 422
    assert {e["field"] for e in await errors(resp)} == {"speed"}  # shape errors first
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/simulate",
                             json={"at": "tomorrow", "busy": ["12"]}, headers=h)
    assert {e["field"] for e in await errors(resp)} == {"at", "busy[0]"}


async def test_blacklist_reads_offline_and_live_changes_need_asterisk(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    await put_plan(client, tokens.acme, "acme", plan("acme", number("0800 000 0101",
                                                                    blocking={"blacklist": ["0201112222"]})))
    got = await (await client.get(f"/api/v1/tenants/acme/numbers/{ACME}/blacklist", headers=h)).json()
    assert [(e["caller"], e["source"]) for e in got["entries"]] == [("+31201112222", "plan")]
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/blacklist", json={"caller": "0203334444"},
                             headers=h)
    assert resp.status == 503 and (await errors(resp))[0]["field"] == "asterisk"
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/blacklist", json={"caller": "not a number"},
                             headers=h)
    assert resp.status == 422 and (await errors(resp))[0]["field"] == "caller"


# --- announcements --------------------------------------------------------------------------------


async def upload(client: TestClient, token: str, name: str, path: Path, filename: str | None = None,
                 tenant: str = "acme") -> aiohttp.ClientResponse:
    with path.open("rb") as fh:
        form = aiohttp.FormData({"name": name})
        form.add_field("file", fh, filename=filename or path.name, content_type="audio/wav")
        return await client.post(f"/api/v1/tenants/{tenant}/announcements", data=form, headers=bearer(token))


async def test_non_audio_named_wav_is_refused(client: TestClient, tokens: Tokens, tmp_path: Path) -> None:
    fake = tmp_path / "welcome.wav"
    fake.write_text("<html>this is not audio, whatever the name says</html>\n")
    resp = await upload(client, tokens.acme, "welcome", fake)
    assert resp.status == 415
    assert (await errors(resp))[0]["field"] == "file"
    tiny = tmp_path / "tiny.wav"
    tiny.write_bytes(b"RIFF")
    assert (await upload(client, tokens.acme, "welcome", tiny)).status == 415
    # A WAV header over garbage: sox refuses it, 422.
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunkjunk")
    resp = await upload(client, tokens.acme, "welcome", broken)
    assert resp.status == 422 and (await errors(resp))[0]["field"] == "file"
    listed = await (await client.get("/api/v1/tenants/acme/announcements", headers=bearer(tokens.acme))).json()
    assert listed == {"announcements": []}
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]  # nothing left behind


async def test_wav_upload_used_by_a_plan_cannot_be_deleted(client: TestClient, tokens: Tokens, config: ApiConfig,
                                                           tmp_path: Path) -> None:
    h = bearer(tokens.acme)
    # The name says .mp3, the bytes say WAV: the bytes win.
    resp = await upload(client, tokens.acme, "welcome-2026", sine_wav(tmp_path / "in.wav"), filename="a.mp3")
    assert resp.status == 201, await resp.text()
    info = await resp.json()
    assert info["content_type"] == "audio/wav" and 0.95 < info["seconds"] < 1.05 and info["used_by"] == []
    assert (await upload(client, tokens.acme, "welcome-2026", tmp_path / "in.wav")).status == 409
    assert (await upload(client, tokens.acme, "Bad Name", tmp_path / "in.wav")).status == 422

    with_welcome = plan("acme", number("0800 000 0101", announcements={"welcome": "hello"}),
                        announcements={"hello": {"file": "welcome-2026"}})
    resp = await put_plan(client, tokens.acme, "acme", with_welcome)
    assert resp.status == 200, await resp.text()
    assert (config.sounds_dir / "acme" / "hello.wav").is_file()  # converted into the tenant's sounds
    got = await (await client.get("/api/v1/tenants/acme/plan", headers=h)).json()
    assert got["announcements"]["hello"]["file"] == "welcome-2026"  # a name, never a server path

    shown = await (await client.get("/api/v1/tenants/acme/announcements/welcome-2026", headers=h)).json()
    assert shown["used_by"] == ["announcements.hello", "numbers[0].announcements.welcome"]
    resp = await client.delete("/api/v1/tenants/acme/announcements/welcome-2026", headers=h)
    assert resp.status == 409 and "numbers[0].announcements.welcome" in (await errors(resp))[0]["rule"]

    assert (await put_plan(client, tokens.acme, "acme", plan("acme", number("0800 000 0101")))).status == 200
    assert (await client.delete("/api/v1/tenants/acme/announcements/welcome-2026", headers=h)).status == 204
    assert (await client.get("/api/v1/tenants/acme/announcements/welcome-2026", headers=h)).status == 404
    audit = await (await client.get("/api/v1/tenants/acme/audit", headers=h)).json()
    actions = [e["action"] for e in audit["entries"] if e["outcome"] == "ok"]  # refused ones are audited too
    assert actions == ["announcement.delete", "plan.apply", "plan.apply", "announcement.upload"]


async def test_plans_cannot_point_the_server_at_a_path(client: TestClient, tokens: Tokens) -> None:
    sneaky = plan("acme", number("0800 000 0101", announcements={"welcome": "x"}),
                  announcements={"x": {"file": "/etc/passwd"}})
    resp = await put_plan(client, tokens.acme, "acme", sneaky)
    assert resp.status == 422
    assert (await errors(resp))[0]["field"] == "announcements.x.file"


async def test_mp3_upload(client: TestClient, tokens: Tokens, tmp_path: Path) -> None:
    import subprocess

    mp3 = tmp_path / "in.mp3"
    made = subprocess.run(["sox", "-n", "-r", "22050", "-c", "1", str(mp3), "synth", "2", "sine", "440"],
                          capture_output=True)
    # deploy/install-system-deps.sh installs libsox-fmt-mp3, which sox needs for MP3
    assert made.returncode == 0, made.stderr
    resp = await upload(client, tokens.acme, "jingle", mp3, filename="jingle.wav")
    assert resp.status == 201, await resp.text()
    info = await resp.json()
    assert info["content_type"] == "audio/mpeg" and 1.9 < info["seconds"] < 2.2


async def test_upload_limits(tmp_path: Path, db_url: str) -> None:
    config = offline_config(tmp_path, SVC_API_MAX_UPLOAD_BYTES="20000", SVC_API_MAX_ANNOUNCEMENT_SECONDS="0.5",
                            SVC_DB_URL=db_url)
    config.settings.state_dir.mkdir(parents=True)
    token = make_token(config.settings.db_url, "acme")
    async with TestClient(TestServer(create_app(config))) as client:
        resp = await upload(client, token, "long", sine_wav(tmp_path / "long.wav", 1.0))  # 16 kB, 1 s
        assert resp.status == 422 and "at most 0.5 s" in (await errors(resp))[0]["rule"]
        resp = await upload(client, token, "big", sine_wav(tmp_path / "big.wav", 2.0))  # 32 kB
        assert resp.status == 413


# --- live figures ------------------------------------------------------------------------------


async def test_live_figures_show_only_the_tenants_own_numbers(tmp_path: Path, tokens: Tokens,
                                                             config: ApiConfig) -> None:
    """Figures written by the live controller's own writer into a real redis-server."""
    from collections import Counter
    from datetime import datetime

    from orchestrator.domain.plan import AMSTERDAM
    from orchestrator.live.calls import DayCounters
    from orchestrator.live.notifier import Figures, RedisFigures
    from tests.harness.redis_server import RedisServer

    with RedisServer(tmp_path / "redis") as redis:
        # One moment for the figures written and the API reading "today" (a run across midnight).
        moment = datetime.now(AMSTERDAM)
        live_config = replace(config, settings=replace(config.settings, redis_url=redis.url), now=lambda: moment)
        day = DayCounters(moment.date())
        day.total.update({"answered": 5, "busy": 1})
        day.by_number.update({("answered", ACME): 3, ("answered", GLOBEX): 2, ("busy", GLOBEX): 1})
        day.by_tenant.update({("answered", "acme"): 3, ("answered", "globex"): 2, ("busy", "globex"): 1})
        writer = RedisFigures(redis.url)
        queues = {"acme.desk": {"waiting": 3, "longest_wait_s": 12.5, "nodes_reporting": 1, "nodes": 2},
                  "globex.desk": {"waiting": 7}}
        await writer.write(Figures(Counter({ACME: 2, GLOBEX: 4}), Counter({"acme": 2, "globex": 4}), day, queues))
        await writer.close()
        async with TestClient(TestServer(create_app(live_config))) as client:
            assert (await put_plan(client, tokens.acme, "acme", ACME_PLAN)).status == 200
            globex_plan = plan("globex", number("0800 000 0201"))
            assert (await put_plan(client, tokens.globex, "globex", globex_plan)).status == 200
            resp = await client.get("/api/v1/tenants/acme/live", headers=bearer(tokens.acme))
            body = await resp.json()
            assert resp.status == 200, body
            assert body["in_progress"] == 2 and body["in_progress_by_number"] == {ACME: 2}
            assert body["today"] == {"answered": 3} and body["today_by_number"] == {ACME: {"answered": 3}}
            assert body["updated_at"] is not None
            # Only its own queues, typed; a cluster's figures say how many nodes they cover.
            assert body["queues"] == {"desk": {"waiting": 3, "longest_wait_s": 12.5, "nodes_reporting": 1, "nodes": 2}}
            assert (await client.get("/api/v1/tenants/acme/live", headers=bearer(tokens.globex))).status == 404
            redis.stop()
            resp = await client.get("/api/v1/tenants/acme/live", headers=bearer(tokens.acme))
            assert resp.status == 503 and (await errors(resp))[0]["field"] == "live"


# --- one number at a time -------------------------------------------------------------------------


async def test_one_number_changed_added_and_removed_without_the_whole_plan(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    assert (await put_plan(client, tokens.acme, "acme", ACME_PLAN)).status == 200
    changed = number("0800 000 0101", dest="+31205550021", max_concurrent_calls=2)
    resp = await client.put(f"/api/v1/tenants/acme/numbers/{ACME}", json=changed, headers=h)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["total_numbers"] == 2
    shown = await (await client.get(f"/api/v1/tenants/acme/numbers/{ACME}", headers=h)).json()
    assert shown["plan"]["routings"]["main"][0]["number"] == "+31205550021"
    assert shown["plan"]["max_concurrent_calls"] == 2
    # A new number is added at the end (201); the others are untouched.
    resp = await client.put("/api/v1/tenants/acme/numbers/+318000000103", json=number("0800 000 0103"), headers=h)
    assert resp.status == 201
    listed = await (await client.get("/api/v1/tenants/acme/numbers", headers=h)).json()
    assert [n["number"] for n in listed["numbers"]] == [ACME, "+318000000102", "+318000000103"]
    # Errors name the entry's own fields, and nothing changes.
    bad = number("0800 000 0101", dest="0906 123 4567")
    resp = await client.put(f"/api/v1/tenants/acme/numbers/{ACME}", json=bad, headers=h)
    assert resp.status == 422
    assert [e["field"] for e in await errors(resp)] == ["routings.main[0].number"]
    resp = await client.put(f"/api/v1/tenants/acme/numbers/{ACME}", json=number("0800 000 0102"), headers=h)
    assert resp.status == 422 and "the URL" in json.dumps(await errors(resp))
    # Another tenant's number cannot be taken or removed through one's own URL.
    assert (await put_plan(client, tokens.globex, "globex", plan("globex", number("0800 000 0201")))).status == 200
    resp = await client.put(f"/api/v1/tenants/acme/numbers/{GLOBEX}", json=number("0800 000 0201"), headers=h)
    assert resp.status == 422 and "not allocated" in json.dumps(await errors(resp))
    assert (await client.delete(f"/api/v1/tenants/acme/numbers/{GLOBEX}", headers=h)).status == 404
    assert (await client.delete(f"/api/v1/tenants/globex/numbers/{GLOBEX}", headers=h)).status == 404
    # Removing one.
    assert (await client.delete("/api/v1/tenants/acme/numbers/+318000000102", headers=h)).status == 200
    listed = await (await client.get("/api/v1/tenants/acme/numbers", headers=h)).json()
    assert [n["number"] for n in listed["numbers"]] == [ACME, "+318000000103"]
    history = await (await client.get("/api/v1/tenants/acme/history", headers=h)).json()
    assert [v["summary"].split(":")[0] for v in history["versions"][:3]] == [
        "number +318000000102 removed", "number +318000000103 added", f"number {ACME} changed"]
    audit = await (await client.get("/api/v1/tenants/acme/audit", headers=h)).json()
    done = [e["action"] for e in audit["entries"] if e["outcome"] == "ok"]  # refused ones are audited too
    assert done[:3] == ["number.delete", "number.put", "number.put"]
