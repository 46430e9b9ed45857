"""Call flows over the API (issue 15): list, read, validate (changes in words), put (offline:
applied to files; tests/e2e/test_flow_changes.py shows a flow change on the real Asterisk)."""

from __future__ import annotations

import copy

from aiohttp.test_utils import TestClient

from orchestrator.api.context import ApiConfig
from tests.api.helpers import Tokens, allocate, bearer
from tests.api.test_api import errors, put_plan
from tests.flow_plans import flow_plan

BASE = "/api/v1/tenants/acme/flows"
TEST_NUMBER = "+31880000101"


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


async def test_draft_tried_on_the_test_number_then_promoted(client: TestClient, tokens: Tokens,
                                                           config: ApiConfig) -> None:
    """A draft goes on the test number only (as flow support-draft); promote makes it the live
    flow and links the numbers given. Bad input names its field and stores nothing."""
    h = bearer(tokens.acme)
    allocate(config.settings.db_url, "acme", TEST_NUMBER)
    body = acme_plan()
    body["numbers"].append({"number": "0800 000 0103", "routings": {"main": [{"number": "020 555 0099"}]},
                            "active": "main", "package": "premium"})
    assert (await put_plan(client, tokens.acme, "acme", body)).status == 200
    draft = copy.deepcopy(body["flows"]["support"])
    draft["blocks"]["main"]["exits"]["1"] = "billing"

    # No test number yet: the error names it, nothing is stored.
    resp = await client.put(f"{BASE}/support/draft", json=draft, headers=h)
    assert resp.status == 422 and [e["field"] for e in await errors(resp)] == ["test_number"]
    body["test_number"] = "088 000 0101"
    assert (await put_plan(client, tokens.acme, "acme", body)).status == 200
    before = await (await client.get("/api/v1/tenants/acme/plan", headers=h)).json()

    broken = copy.deepcopy(draft)
    broken["blocks"]["main"]["exits"]["2"] = "nowhere"
    resp = await client.put(f"{BASE}/support/draft", json=broken, headers=h)
    assert resp.status == 422
    fields = [e["field"] for e in await errors(resp)]
    assert "draft.blocks.main.exits.2" in fields and all(f.startswith("draft.blocks.") for f in fields)
    assert (await client.get(f"{BASE}/support/draft", headers=h)).status == 404
    assert (await client.post(f"{BASE}/support/promote", json={}, headers=h)).status == 404  # no draft
    assert await (await client.get("/api/v1/tenants/acme/plan", headers=h)).json() == before

    resp = await client.put(f"{BASE}/support/draft", json=draft, headers=h)
    assert resp.status == 200, await resp.text()
    tried = await resp.json()
    assert tried["test_number"] == TEST_NUMBER and tried["running"] == ["+318000000101", "+318000000102"]
    assert tried["changes"] == ["flow 'support': menu 'main': key 1 now goes to dial 'billing' instead of 'sales'"]
    shown = await (await client.get(f"{BASE}/support/draft", headers=h)).json()
    assert shown["flow"]["blocks"]["main"]["exits"]["1"] == "billing"
    live = await (await client.get(f"{BASE}/support", headers=h)).json()
    assert live["flow"]["blocks"]["main"]["exits"]["1"] == "sales"  # the live flow is untouched
    assert live["numbers"] == ["+318000000101", "+318000000102"]
    flows = await (await client.get(BASE, headers=h)).json()
    assert {f["name"]: f["numbers"] for f in flows["flows"]} == {"support": ["+318000000101", "+318000000102"],
                                                                 "support-draft": [TEST_NUMBER]}

    # Promote: another tenant's number, an unknown one and the test number itself are refused.
    resp = await client.post(f"{BASE}/support/promote", json={"numbers": ["0800 000 0201", "0800 000 0119",
                                                                          "088 000 0101"]}, headers=h)
    assert resp.status == 422
    assert [e["field"] for e in await errors(resp)] == ["numbers[0]", "numbers[1]", "numbers[2]"]
    assert (await (await client.get(f"{BASE}/support", headers=h)).json())["flow"] == live["flow"]
    resp = await client.post(f"{BASE}/support/promote", json={"numbers": ["0800 000 0103"]}, headers=h)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["running"] == ["+318000000101", "+318000000102", "+318000000103"]
    flows = await (await client.get(BASE, headers=h)).json()
    assert {f["name"]: f["numbers"] for f in flows["flows"]} == {
        "support": ["+318000000101", "+318000000102", "+318000000103", TEST_NUMBER]}
    assert (await (await client.get(f"{BASE}/support", headers=h)).json())["flow"]["blocks"]["main"]["exits"][
        "1"] == "billing"
    audit = await (await client.get("/api/v1/tenants/acme/audit", headers=h)).json()
    assert [e["action"] for e in audit["entries"] if e["outcome"] == "ok"][:2] == ["flow.promote", "flow.try"]
    assert (await client.put(f"{BASE}/support/draft", json=draft, headers=bearer(tokens.globex))).status == 404
