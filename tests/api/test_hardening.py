"""Issue 14, sections 2, 4 and 6, against the real API app on a real SQLite database (offline:
these are refused before anything reaches Asterisk): removals need a confirmation, plans carry a
version (ETag / If-Match, raced by concurrent clients), JSON needs its content type, tenants cannot
reach each other's sounds or claim numbers the operator did not allocate to them, and bad input
is a 4xx that is audited and shows no server path."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import Session, select

from orchestrator.api.context import ApiConfig
from orchestrator.errors import VersionConflict
from orchestrator.store import models, tenancy
from orchestrator.store.engine import make_engine
from tests.api.helpers import Tokens, bearer, number, plan, sine_wav

PLAN = "/api/v1/tenants/acme/plan"
ACME = "+318000000101"


def numbers_plan(tenant: str, first: int, count: int) -> dict[str, Any]:
    base = 100 if tenant == "acme" else 200
    return plan(tenant, *(number(f"0800 000 0{base + i}") for i in range(first, first + count)))


async def put(client: TestClient, token: str, body: Any, *, query: str = "", **headers: str) -> aiohttp.ClientResponse:
    return await client.put(f"{PLAN}{query}", data=json.dumps(body),
                            headers={**bearer(token), "Content-Type": "application/json", **headers})


async def listed(client: TestClient, token: str, tenant: str = "acme") -> list[str]:
    resp = await client.get(f"/api/v1/tenants/{tenant}/numbers", headers=bearer(token))
    return [n["number"] for n in (await resp.json())["numbers"]]


async def errors(resp: aiohttp.ClientResponse) -> list[dict[str, str]]:
    body = await resp.json()
    assert set(body) == {"errors"}, body
    return list(body["errors"])


def audit_rows(config: ApiConfig) -> list[models.AuditEntry]:
    engine = make_engine(config.settings.db_url)
    with Session(engine) as session:
        rows = list(session.exec(select(models.AuditEntry).order_by(models.AuditEntry.id)))  # type: ignore[arg-type]
    engine.dispose()
    return rows


# --- 2. removals are explicit; plans carry a version; JSON is JSON ---------------------------------


async def test_an_empty_plan_removes_nothing_without_confirmation(client: TestClient, tokens: Tokens) -> None:
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 2))).status == 200
    resp = await put(client, tokens.acme, {})
    assert resp.status == 409
    [err] = await errors(resp)
    assert err["field"] == "confirm_removal" and "removes 2 service number(s)" in err["rule"]
    assert await listed(client, tokens.acme) == [ACME, "+318000000102"]
    resp = await put(client, tokens.acme, {}, query="?confirm_removal=true")
    assert resp.status == 200, await resp.text()
    assert await listed(client, tokens.acme) == []


async def test_dropping_more_than_five_numbers_needs_confirmation(client: TestClient, tokens: Tokens) -> None:
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 8))).status == 200
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 2))).status == 409  # drops 6
    assert len(await listed(client, tokens.acme)) == 8
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 3))).status == 200  # drops 5
    assert len(await listed(client, tokens.acme)) == 3
    assert (await put(client, tokens.acme, {}, query="?confirm_removal=nope")).status == 422


async def test_json_bodies_need_the_json_content_type(client: TestClient, tokens: Tokens) -> None:
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 2))).status == 200
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        resp = await client.put(PLAN, data=b"{}", headers={**bearer(tokens.acme), "Content-Type": content_type})
        assert resp.status == 415, content_type
        assert (await errors(resp))[0]["field"] == "Content-Type"
    assert len(await listed(client, tokens.acme)) == 2
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/simulate", data=b"{}",
                             headers={**bearer(tokens.acme), "Content-Type": "text/plain"})
    assert resp.status == 415
    # Parameters of the media type are fine.
    resp = await client.post(f"/api/v1/tenants/acme/numbers/{ACME}/simulate", data=b"{}",
                             headers={**bearer(tokens.acme), "Content-Type": "application/json; charset=utf-8"})
    assert resp.status == 200


async def test_concurrent_puts_on_the_same_version_one_wins_the_other_gets_412(
        client: TestClient, tokens: Tokens) -> None:
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 1))).status == 200
    got = await client.get(PLAN, headers=bearer(tokens.acme))
    etag = got.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    # Two clients (own connections) edit what they read and PUT it at the same time.
    url = str(client.make_url(PLAN))
    bodies = [numbers_plan("acme", 1, 2), numbers_plan("acme", 1, 3)]

    async def edit(body: dict[str, Any]) -> tuple[int, str | None]:
        headers = {**bearer(tokens.acme), "If-Match": etag}
        async with aiohttp.ClientSession() as session, session.put(url, json=body, headers=headers) as resp:
            return resp.status, resp.headers.get("ETag")

    results = await asyncio.gather(*(edit(b) for b in bodies))
    assert sorted(status for status, _ in results) == [200, 412]
    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    new_etag = results[winner][1]
    assert new_etag is not None and new_etag != etag
    assert len(await listed(client, tokens.acme)) == winner + 2  # the winner's plan, not a mix
    now = await client.get(PLAN, headers=bearer(tokens.acme))
    assert now.headers["ETag"] == new_etag
    # The loser's version is stale; with the new one it goes through.
    resp = await put(client, tokens.acme, bodies[1 - winner], **{"If-Match": etag})
    assert resp.status == 412 and (await errors(resp))[0]["field"] == "If-Match"
    assert (await put(client, tokens.acme, bodies[1 - winner], **{"If-Match": new_etag})).status == 200
    assert (await put(client, tokens.acme, bodies[winner], **{"If-Match": '"nonsense"'})).status == 412


async def test_a_change_from_outside_the_api_makes_the_etag_stale(client: TestClient, tokens: Tokens,
                                                                  config: ApiConfig) -> None:
    """Another process (the CLI, another API worker) applies between GET and PUT: 412."""
    from datetime import datetime

    from orchestrator.asterisk.dialplan_files import DialplanFiles
    from orchestrator.domain.plan import AMSTERDAM
    from orchestrator.services.apply import ApplyTarget, apply_document

    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 1))).status == 200
    etag = (await client.get(PLAN, headers=bearer(tokens.acme))).headers["ETag"]
    engine = make_engine(config.settings.db_url)
    target = ApplyTarget(DialplanFiles(config.etc_dir), config.sounds_dir, str, None)
    with Session(engine) as session:
        await apply_document(numbers_plan("acme", 1, 2), session, target, now=datetime.now(AMSTERDAM))
    engine.dispose()
    resp = await put(client, tokens.acme, numbers_plan("acme", 1, 3), **{"If-Match": etag})
    assert resp.status == 412
    assert len(await listed(client, tokens.acme)) == 2


def test_the_version_claim_is_atomic_across_connections(db_url: str) -> None:
    """Two transactions (as two processes would have) read the same version; the first claims it
    and commits a new one while the second waits on the database's write lock: the second is a
    VersionConflict, never a second commit on the same version."""
    engine = make_engine(db_url)
    with Session(engine) as s:
        tenancy.claim_plan_version(s, "acme", None)
        tenancy.set_plan_version(s, "acme", 7)
        s.commit()
    first = Session(engine)
    assert tenancy.claim_plan_version(first, "acme", 7) == 7  # holds the write lock now
    outcome: list[object] = []

    def second() -> None:
        with Session(engine) as s:
            try:
                outcome.append(tenancy.claim_plan_version(s, "acme", 7))  # read 7, then waits to write
            except VersionConflict as exc:
                outcome.append(exc)

    t = threading.Thread(target=second)
    t.start()
    t.join(0.5)
    assert t.is_alive()  # waiting for the first one's lock
    tenancy.set_plan_version(first, "acme", 8)
    first.commit()
    first.close()
    t.join(10)
    [result] = outcome
    assert isinstance(result, VersionConflict)
    with Session(engine) as s:
        assert tenancy.plan_version(s, "acme") == 8
    engine.dispose()


# --- 4. tenants cannot reach each other ----------------------------------------------------------


async def test_a_sound_is_a_built_in_name_never_a_path_into_another_tenant(
        client: TestClient, tokens: Tokens, config: ApiConfig, tmp_path: Path) -> None:
    g = bearer(tokens.globex)
    with sine_wav(tmp_path / "secret.wav").open("rb") as fh:
        form = aiohttp.FormData({"name": "secret"})
        form.add_field("file", fh, filename="secret.wav")
        assert (await client.post("/api/v1/tenants/globex/announcements", data=form, headers=g)).status == 201
    body = plan("globex", number("0800 000 0201", announcements={"welcome": "s"}),
                announcements={"s": {"file": "secret"}})
    assert (await client.put("/api/v1/tenants/globex/plan", json=body, headers=g)).status == 200
    [converted] = (config.sounds_dir / "globex").glob("s.wav")
    [uploaded] = [p for p in (config.uploads_dir / "globex").rglob("*") if p.is_file()]
    for sound in (str(converted.with_suffix("")), str(uploaded.with_suffix("")), "../globex/s", "globex/s",
                  "recordings/s", "custom/s", "/var/lib/asterisk/sounds/x", "hello-world/../../s", "no-such-sound"):
        sneaky = plan("acme", number("0800 000 0101", announcements={"welcome": "w"}),
                      announcements={"w": {"sound": sound}})
        resp = await put(client, tokens.acme, sneaky)
        assert resp.status == 422, sound
        errs = await errors(resp)
        assert [e["field"] for e in errs] == ["announcements.w.sound"], (sound, errs)
        assert "globex" not in json.dumps(errs) or "globex" in sound
    assert (await client.get(PLAN, headers=bearer(tokens.acme))).status == 404  # nothing stored
    for sound in ("hello-world", "digits/1", "vm-goodbye"):  # the built-in set
        ok = plan("acme", number("0800 000 0101", announcements={"welcome": "w"}),
                  announcements={"w": {"sound": sound}})
        assert (await put(client, tokens.acme, ok)).status == 200, sound


async def test_a_tenant_may_use_only_numbers_allocated_to_it(client: TestClient, tokens: Tokens) -> None:
    a, g, admin = bearer(tokens.acme), bearer(tokens.globex), bearer(tokens.admin)
    assert (await client.put("/api/v1/tenants/globex/plan", json=numbers_plan("globex", 1, 1), headers=g)).status == 200
    # Unallocated numbers (as in the finding) and globex's number: the same answer, no owner named.
    for n in ("0800 999 9991", "116000", "0800 000 0201", "0800 000 0202"):
        resp = await put(client, tokens.acme, plan("acme", number(n)))
        assert resp.status == 422, n
        assert await errors(resp) == [{"field": "numbers[0].number",
                                       "rule": "this number is not allocated to this tenant"}], n
        resp = await client.put(f"/api/v1/tenants/acme/numbers/{n}", json=number(n), headers=a)
        assert resp.status == 422 and "not allocated" in json.dumps(await errors(resp)), n
    resp = await client.post("/api/v1/tenants/acme/plan/validate", json=plan("acme", number("0800 999 9991")),
                             headers=a)
    assert resp.status == 422
    assert await listed(client, tokens.acme) == []
    # Only the operator allocates.
    alloc = "/api/v1/allocations/0800 999 9991"
    assert (await client.put(alloc, json={"tenant": "acme"}, headers=a)).status == 403
    assert (await client.delete("/api/v1/allocations/+318000000201", headers=g)).status == 403
    resp = await client.put(alloc, json={"tenant": "acme"}, headers=admin)
    assert resp.status == 201, await resp.text()
    assert await resp.json() == {"number": "+318009999991", "tenant": "acme"}
    assert (await client.put(alloc, json={"tenant": "acme"}, headers=admin)).status == 200  # already
    resp = await client.put(alloc, json={"tenant": "globex"}, headers=admin)
    assert resp.status == 409 and "release it first" in (await errors(resp))[0]["rule"]
    assert (await put(client, tokens.acme, plan("acme", number("0800 999 9991")))).status == 200
    mine = await (await client.get("/api/v1/tenants/acme/allocations", headers=a)).json()
    assert "+318009999991" in [x["number"] for x in mine["allocations"]]
    assert (await client.get("/api/v1/tenants/globex/allocations", headers=a)).status == 404
    # A number in use is not released; once out of the plan it is.
    resp = await client.delete("/api/v1/allocations/+318009999991", headers=admin)
    assert resp.status == 409
    assert (await put(client, tokens.acme, plan("acme", number("0800 000 0101")))).status == 200
    assert (await client.delete("/api/v1/allocations/+318009999991", headers=admin)).status == 204
    assert (await put(client, tokens.acme, plan("acme", number("0800 999 9991")))).status == 422
    every = await (await client.get("/api/v1/allocations?tenant=acme", headers=admin)).json()
    assert "+318009999991" not in [x["number"] for x in every["allocations"]]
    actions = [e["action"] for e in (await (await client.get("/api/v1/audit", headers=admin)).json())["entries"]]
    assert "number.allocate" in actions and "number.release" in actions


# --- 6. API edges ----------------------------------------------------------------------------------


async def test_deep_json_and_huge_integers_are_4xx_not_500(client: TestClient, tokens: Tokens) -> None:
    a = {**bearer(tokens.acme), "Content-Type": "application/json"}
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 1))).status == 200
    deep = "[" * 100_000 + "]" * 100_000
    for method, path in (("PUT", PLAN), ("POST", f"{PLAN}/validate"), ("PUT", f"/api/v1/tenants/acme/numbers/{ACME}"),
                         ("POST", f"/api/v1/tenants/acme/numbers/{ACME}/simulate")):
        resp = await client.request(method, path, data=deep, headers=a)
        assert resp.status == 400, (method, path)
        assert (await errors(resp))[0]["field"] == "body"
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(100):
        inner["x"] = {}
        inner = inner["x"]
    resp = await client.put(PLAN, data=json.dumps({"numbers": [], "deep": nested}), headers=a)
    assert resp.status == 400
    huge = number("0800 000 0101", max_concurrent_calls=2**70)
    resp = await client.put(f"/api/v1/tenants/acme/numbers/{ACME}", data=json.dumps(huge), headers=a)
    assert resp.status == 422
    assert await errors(resp) == [{"field": "max_concurrent_calls", "rule": "a whole number of at most 64 bits"}]
    resp = await client.put(PLAN, data=json.dumps(plan("acme", number("0800 000 0101", colour=-(2**64)))), headers=a)
    assert resp.status == 422 and (await errors(resp))[0]["field"] == "numbers[0].colour"
    assert await listed(client, tokens.acme) == [ACME]


async def test_failed_requests_are_audited(client: TestClient, tokens: Tokens, config: ApiConfig) -> None:
    await put(client, tokens.acme, plan("acme", number("0800 000 0101", dest="0906 123 4567")))  # 422
    await client.put(PLAN, data=b"{}", headers={**bearer(tokens.acme), "Content-Type": "text/plain"})  # 415
    await client.put("/api/v1/tenants/globex/plan", json={}, headers=bearer(tokens.acme))  # 404 (not its tenant)
    await client.put(PLAN, json={}, headers=bearer("svc_wrong"))  # 401
    await client.get("/api/v1/audit", headers=bearer(tokens.acme))  # 403
    rows = [r for r in audit_rows(config) if r.outcome != "ok"]
    seen = [(r.tenant, r.outcome, json.loads(r.detail or "{}").get("status")) for r in rows]
    assert seen == [("acme", "rejected", 422), ("acme", "rejected", 415), ("acme", "rejected", 404),
                    (None, "rejected", 401), ("acme", "rejected", 403)]
    assert rows[0].action == "PUT /api/v1/tenants/{tenant}/plan" and rows[0].actor.endswith("(tenant acme)")
    assert json.loads(rows[0].detail or "{}")["errors"][0]["field"] == "numbers[0].routings.main[0].number"
    assert rows[3].actor == "anonymous"
    # globex does not see acme's attempt on its URL; acme sees its own failures.
    g = await (await client.get("/api/v1/tenants/globex/audit", headers=bearer(tokens.globex))).json()
    assert g["entries"] == []
    own = await (await client.get("/api/v1/tenants/acme/audit", headers=bearer(tokens.acme))).json()
    assert [e["outcome"] for e in own["entries"]].count("rejected") == 4


async def test_error_messages_show_no_server_paths(client: TestClient, tokens: Tokens, config: ApiConfig,
                                                   tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunkjunk")
    with broken.open("rb") as fh:
        form = aiohttp.FormData({"name": "x"})
        form.add_field("file", fh, filename="broken.wav", content_type="audio/wav")
        resp = await client.post("/api/v1/tenants/acme/announcements", data=form, headers=bearer(tokens.acme))
    assert resp.status == 422
    text = await resp.text()
    assert "WAVE chunk fmt not found" in text  # the useful part stays
    assert str(tmp_path) not in text and "/tmp" not in text and "uploads" not in text, text
    for row in audit_rows(config):
        assert str(tmp_path) not in (row.detail or "")


@pytest.mark.parametrize("rule", [
    "cannot convert /srv/svcnum/uploads/acme/.incoming-1.wav: sox FAIL formats: can't open input file "
    "`/srv/svcnum/uploads/acme/.incoming-1.wav': WAVE chunk fmt not found",
    "cannot read /var/lib/x/y.conf: No such file or directory",
])
def test_paths_are_taken_out_of_rules(rule: str) -> None:
    from orchestrator.api.errors import without_paths

    clean = without_paths(rule)
    assert "/srv" not in clean and "/var" not in clean and "<path>" in clean


def test_rules_without_paths_stay_as_they_are() -> None:
    from orchestrator.api.errors import without_paths

    for rule in ("a built-in sound name such as 'digits/1'", "write it as 'YYYY-MM-DD HH:MM' (Europe/Amsterdam)",
                 "send 'Authorization: Bearer <token>'", "0800 000 0101 and 020/123"):
        assert without_paths(rule) == rule


async def test_one_number_changes_are_conditional_on_the_plan_version_too(client: TestClient, tokens: Tokens) -> None:
    """PUT/DELETE of one number take the same ETag as the whole plan: an edit based on what was
    read is refused (412, nothing changed) once someone else changed the plan in between."""
    assert (await put(client, tokens.acme, numbers_plan("acme", 1, 2))).status == 200
    url, h = f"/api/v1/tenants/acme/numbers/{ACME}", bearer(tokens.acme)
    read = (await client.get(url, headers=h)).headers["ETag"]
    assert read == (await client.get(PLAN, headers=h)).headers["ETag"]
    # someone else changes the plan (another number) after our read
    other = await client.put("/api/v1/tenants/acme/numbers/+318000000102",
                             json=number("0800 000 0102", "+31205550019"), headers={**h, "If-Match": read})
    assert other.status == 200 and other.headers["ETag"] != read
    ours = number("0800 000 0101", "+31205550018")
    resp = await client.put(url, json=ours, headers={**h, "If-Match": read})
    assert resp.status == 412 and (await errors(resp))[0]["field"] == "If-Match"
    shown = (await (await client.get(url, headers=h)).json())["plan"]
    assert "+31205550018" not in json.dumps(shown) and shown["routings"]["main"][0]["number"]
    resp = await client.delete(url, headers={**h, "If-Match": read})
    assert resp.status == 412 and await listed(client, tokens.acme) == [ACME, "+318000000102"]
    # with the current version both go through, each giving the next version
    resp = await client.put(url, json=ours, headers={**h, "If-Match": other.headers["ETag"]})
    assert resp.status == 200 and resp.headers["ETag"] != other.headers["ETag"]
    resp = await client.delete(url, headers={**h, "If-Match": resp.headers["ETag"]})
    assert resp.status == 200 and await listed(client, tokens.acme) == ["+318000000102"]
