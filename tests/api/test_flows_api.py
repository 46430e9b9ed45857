"""Call flows over the API (issue 15): list, read, validate (changes in words), put (offline:
applied to files; tests/e2e/test_flow_changes.py shows a flow change on the real Asterisk)."""

from __future__ import annotations

import copy

from aiohttp.test_utils import TestClient

from tests.api.helpers import Tokens, bearer
from tests.api.test_api import errors, put_plan
from tests.flow_plans import flow_plan

BASE = "/api/v1/tenants/acme/flows"


def acme_plan() -> dict:
    body = flow_plan("acme")
    body["numbers"][0]["number"], body["numbers"][1]["number"] = "0800 000 0101", "0800 000 0102"
    return body


async def test_flows_read_validate_and_put(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    body = acme_plan()
    assert (await put_plan(client, tokens.acme, "acme", body)).status == 200
    listed = await (await client.get(BASE, headers=h)).json()
    assert listed == {"tenant": "acme", "flows": [{"name": "support", "start": "hours", "blocks": 12,
                                                  "numbers": ["+318000000101", "+318000000102"]}]}
    shown = await (await client.get(f"{BASE}/support", headers=h)).json()
    assert shown["flow"]["blocks"]["main"]["exits"]["1"] == "sales"
    assert (await client.get(f"{BASE}/ghost", headers=h)).status == 404

    new = copy.deepcopy(body["flows"]["support"])
    new["blocks"]["main"]["exits"]["1"] = "billing"
    resp = await client.post(f"{BASE}/support/validate", json=new, headers=h)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["changes"] == [
        "flow 'support': menu 'main': key 1 now goes to dial 'billing' instead of 'sales'"]

    bad = copy.deepcopy(new)
    bad["blocks"]["main"]["exits"]["2"] = "nowhere"
    resp = await client.post(f"{BASE}/support/validate", json=bad, headers=h)
    assert resp.status == 422
    assert any(e["field"].startswith("flows.support.blocks.main.exits") for e in await errors(resp))
    resp = await client.put(f"{BASE}/support", json=bad, headers=h)
    assert resp.status == 422  # nothing stored
    assert (await (await client.get(f"{BASE}/support", headers=h)).json())["flow"] == shown["flow"]

    resp = await client.put(f"{BASE}/support", json=new, headers=h)
    assert resp.status == 200, await resp.text()
    applied = await resp.json()
    assert applied["changes"] == ["flow 'support': menu 'main': key 1 now goes to dial 'billing' instead of 'sales'"]
    assert (await (await client.get(f"{BASE}/support", headers=h)).json())["flow"]["blocks"]["main"]["exits"][
        "1"] == "billing"
    plan = await (await client.get("/api/v1/tenants/acme/plan", headers=h)).json()
    assert plan["layout"] == body["layout"] and plan["lists"] == ["members"]  # the rest of the plan stays
    audit = await (await client.get("/api/v1/tenants/acme/audit", headers=h)).json()
    assert [e["action"] for e in audit["entries"] if e["outcome"] == "ok"][0] == "flow.put"

    other = bearer(tokens.globex)
    assert (await client.get(BASE, headers=other)).status == 404
    assert (await client.put(f"{BASE}/support", json=new, headers=other)).status == 404


async def test_simulate_with_keys_follows_the_flow(client: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.acme)
    assert (await put_plan(client, tokens.acme, "acme", acme_plan())).status == 200
    url = "/api/v1/tenants/acme/numbers/+318000000101/simulate"
    resp = await client.post(url, json={"caller": "0101234567", "digits": "2,*,1"}, headers=h)
    assert resp.status == 200, await resp.text()
    out = await resp.json()
    assert out["flow"] == "support" and out["outcome"] == "answered" and out["destinations"] == ["+31205550011"]
    assert [(b["block"], b["event"]) for b in out["blocks"]][2:] == [("main", "2"), ("sub", "back"), ("main", "1"),
                                                                   ("sales", "answered")]
    resp = await client.post(url, json={"digits": "1;Dial(x)"}, headers=h)
    assert resp.status == 422 and (await errors(resp))[0]["field"] == "digits"
