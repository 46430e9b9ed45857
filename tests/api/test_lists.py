"""Digit lists over the API (offline: reads work, live changes need Asterisk; see
tests/api/test_api_e2e.py for the live change on the real Asterisk)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.api.helpers import Tokens, bearer
from tests.api.test_api import errors, put_plan
from tests.flow_plans import flow_plan


async def test_lists_read_offline_and_changes_need_asterisk(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    body = flow_plan("acme")
    body["numbers"][0]["number"], body["numbers"][1]["number"] = "0800 000 0101", "0800 000 0102"
    resp = await put_plan(client, tokens.acme, "acme", body)
    assert resp.status == 200, await resp.text()
    got = await (await client.get("/api/v1/tenants/acme/lists", headers=h)).json()
    assert got == {"tenant": "acme", "lists": [{"name": "members", "entries": 0}]}
    got = await (await client.get("/api/v1/tenants/acme/lists/members", headers=h)).json()
    assert got == {"tenant": "acme", "list": "members", "entries": []}
    resp = await client.get("/api/v1/tenants/acme/lists/ghost", headers=h)
    assert resp.status == 404 and "no list 'ghost'" in (await errors(resp))[0]["rule"]

    resp = await client.post("/api/v1/tenants/acme/lists/members", json={"value": "123456782"}, headers=h)
    assert resp.status == 503 and (await errors(resp))[0]["field"] == "asterisk"
    resp = await client.post("/api/v1/tenants/acme/lists/members", json={"value": "12ab"}, headers=h)
    assert resp.status == 422 and (await errors(resp))[0]["field"] == "value"
    resp = await client.post("/api/v1/tenants/acme/lists/ghost", json={"value": "123"}, headers=h)
    assert resp.status == 404
    resp = await client.delete("/api/v1/tenants/acme/lists/members/123456782", headers=h)
    assert resp.status == 404  # not on the list: nothing to remove, Asterisk not asked
    got = await (await client.get("/api/v1/tenants/acme/lists/members", headers=h)).json()
    assert got["entries"] == []  # nothing was stored

    # Another tenant's lists do not exist for this token.
    other = bearer(tokens.globex)
    assert (await client.get("/api/v1/tenants/acme/lists", headers=other)).status == 404
    assert (await client.post("/api/v1/tenants/acme/lists/members", json={"value": "1"}, headers=other)).status == 404
