"""Reports over the API (issue 16): JSON or CSV by Accept, bad input 422 naming the field, another
tenant 404, saved layouts. The figures themselves are checked per kind in tests/store/test_reports.py."""

from __future__ import annotations

import csv
import io

from aiohttp.test_utils import TestClient

from orchestrator.api.context import ApiConfig
from orchestrator.store.engine import make_engine
from tests.api.helpers import Tokens, bearer
from tests.store import report_calls as rc

NOVEMBER = {"from": "2026-11-01", "to": "2026-12-01", "interval": "month"}


def _load(config: ApiConfig) -> None:
    engine = make_engine(config.settings.db_url)
    rc.load(engine)
    engine.dispose()


async def test_volume_as_json_and_as_csv(client: TestClient, tokens: Tokens, config: ApiConfig) -> None:
    _load(config)
    resp = await client.get("/api/v1/tenants/acme/reports/volume", params=NOVEMBER, headers=bearer(tokens.acme))
    assert resp.status == 200 and resp.content_type == "application/json"
    body = await resp.json()
    assert body["parameters"]["tenant"] == "acme" and body["parameters"]["interval"] == "month"
    (table,) = body["tables"]
    total = dict(zip(table["columns"], table["rows"][-1], strict=True))
    assert (total["interval"], total["offered"], total["answered"]) == ("total", 26, 17)

    resp = await client.get("/api/v1/tenants/acme/reports/volume", params=NOVEMBER,
                            headers={**bearer(tokens.acme), "Accept": "text/csv"})
    assert resp.status == 200 and resp.content_type == "text/csv"
    text = await resp.text()
    assert text.startswith("# kind: volume\n# tenant: acme\n")
    data = [line for line in text.splitlines() if not line.startswith("#")]
    parsed = list(csv.DictReader(io.StringIO("\n".join(data))))
    assert [(r["interval"], r["offered"]) for r in parsed] == [("2026-11-01T00:00+01:00", "26"), ("total", "26")]


async def test_bad_input_is_422_naming_the_field(client: TestClient, tokens: Tokens, config: ApiConfig) -> None:
    _load(config)
    cases = [("volume", {"from": "2026-12-01", "to": "2026-11-01"}, "to"),
             ("revenue", NOVEMBER, "kind"),
             ("volume", {**NOVEMBER, "interval": "week"}, "from"),  # 1 November is a Sunday
             ("queues", {**NOVEMBER, "queue": "support"}, "queue"),
             ("volume", {**NOVEMBER, "number": "0800 9999999"}, "number"),  # beta's number
             ("callers", {**NOVEMBER, "more_than": "many"}, "more_than"),
             ("volume", {**NOVEMBER, "colour": "red"}, "colour")]  # an unknown filter
    for kind, params, field in cases:
        resp = await client.get(f"/api/v1/tenants/acme/reports/{kind}", params=params, headers=bearer(tokens.acme))
        assert resp.status == 422, (kind, params, await resp.text())
        assert field in [e["field"] for e in (await resp.json())["errors"]], (kind, params)


async def test_another_tenants_reports_are_404(client: TestClient, tokens: Tokens, config: ApiConfig) -> None:
    _load(config)
    resp = await client.get("/api/v1/tenants/acme/reports/volume", params=NOVEMBER, headers=bearer(tokens.globex))
    assert resp.status == 404
    resp = await client.get("/api/v1/tenants/acme/report-layouts", headers=bearer(tokens.globex))
    assert resp.status == 404


async def test_saved_layouts(client: TestClient, tokens: Tokens, config: ApiConfig) -> None:
    _load(config)
    url = "/api/v1/tenants/acme/report-layouts"
    resp = await client.put(f"{url}/monthly", json={"kinds": ["volume", "finance"], "interval": "month"},
                            headers=bearer(tokens.acme))
    assert resp.status == 200, await resp.text()
    resp = await client.put(f"{url}/bad", json={"kinds": ["volume"], "queue": "support"}, headers=bearer(tokens.acme))
    assert resp.status == 422
    listed = await (await client.get(url, headers=bearer(tokens.acme))).json()
    assert [x["name"] for x in listed["layouts"]] == ["monthly"]
    resp = await client.get(f"{url}/monthly/report", params={"from": "2026-11-01", "to": "2026-12-01"},
                            headers=bearer(tokens.acme))
    assert resp.status == 200
    done = (await resp.json())["reports"]
    assert [r["parameters"]["kind"] for r in done] == ["volume", "finance"]
    assert (await client.delete(f"{url}/monthly", headers=bearer(tokens.acme))).status == 204
    assert (await client.delete(f"{url}/monthly", headers=bearer(tokens.acme))).status == 404
