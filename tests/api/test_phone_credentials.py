"""Agent phones' SIP accounts through the API (real SQLite, offline: a rotation writes pjsip.inc,
tests/e2e/test_agent_phones.py has it with Asterisk): only the tenant's own endpoint agents, 404
for a phone-number agent, and an audit trail that never holds the password."""

from __future__ import annotations

import json
import stat

from aiohttp.test_utils import TestClient
from sqlmodel import Session, select

from orchestrator.api.context import ApiConfig
from orchestrator.services.callcentre.phone_secrets import sip_digest
from orchestrator.store import models
from orchestrator.store.engine import make_engine
from tests.api.helpers import Tokens, bearer, number, plan

URL = "/api/v1/tenants/{tenant}/agents/{agent}/credentials"
ACME_PLAN = plan("acme", number("0800 000 0101", dest="queue:support"),
                 agents={"cat": {"endpoint": "cat-desk"}, "ann": {"number": "020 111 0001"}},
                 queues={"support": {"agents": ["cat", "ann"]}})


async def applied(client: TestClient, tokens: Tokens) -> None:
    resp = await client.put("/api/v1/tenants/acme/plan", json=ACME_PLAN, headers=bearer(tokens.acme))
    assert resp.status == 200, await resp.text()


def audit_rows(config: ApiConfig) -> list[models.AuditEntry]:
    with Session(make_engine(config.settings.db_url)) as session:
        return list(session.exec(select(models.AuditEntry)))


async def test_credentials_of_the_tenants_own_phone(client: TestClient, tokens: Tokens, config: ApiConfig) -> None:
    await applied(client, tokens)
    resp = await client.get(URL.format(tenant="acme", agent="cat"), headers=bearer(tokens.acme))
    assert resp.status == 200, await resp.text()
    account = await resp.json()
    password = account.pop("password")
    s = config.settings
    assert account == {"tenant": "acme", "agent": "cat", "endpoint": "acme.cat-desk", "username": "acme.cat-desk",
                       "realm": "svcnum", "registrar": f"{s.bind_host}:{s.sip_port}", "transport": "udp"}
    secret = s.secrets_dir / "agent-phones" / "acme.cat-desk"
    assert secret.read_text().strip() == password and stat.S_IMODE(secret.stat().st_mode) == 0o600

    # Who looked is in the audit log; the password is not.
    rows = [r for r in audit_rows(config) if r.action == "agent.credentials"]
    assert [(r.tenant, r.target, r.outcome) for r in rows] == [("acme", "cat (acme.cat-desk)", "ok")]
    entries = await (await client.get("/api/v1/tenants/acme/audit", headers=bearer(tokens.acme))).text()
    assert "agent.credentials" in entries and password not in entries
    assert password not in json.dumps([r.model_dump(mode="json") for r in audit_rows(config)])


async def test_another_tenant_a_number_agent_or_an_unknown_agent_is_404(client: TestClient, tokens: Tokens,
                                                                         config: ApiConfig) -> None:
    await applied(client, tokens)
    for tenant, agent, token, says in (
            ("acme", "cat", tokens.globex, "no tenant 'acme'"),  # another tenant's token: as if there were none
            ("acme", "ann", tokens.acme, "agent 'ann' of tenant 'acme' is a phone number, not a SIP phone"),
            ("acme", "zed", tokens.acme, "tenant 'acme' has no agent 'zed'"),
            ("acme", "cat.desk", tokens.acme, "no agent")):
        for method, url in (("GET", URL), ("POST", URL + "/rotate")):
            resp = await client.request(method, url.format(tenant=tenant, agent=agent), headers=bearer(token))
            body = await resp.json()
            assert resp.status == 404, (method, agent, body)
            assert says in body["errors"][0]["rule"], body
    assert not [r for r in audit_rows(config) if r.action.startswith("agent.credentials")]


async def test_rotate_gives_a_new_password_and_writes_its_digest(client: TestClient, tokens: Tokens,
                                                                 config: ApiConfig) -> None:
    await applied(client, tokens)
    url = URL.format(tenant="acme", agent="cat")
    old = (await (await client.get(url, headers=bearer(tokens.acme))).json())["password"]
    resp = await client.post(f"{url}/rotate", headers=bearer(tokens.acme))
    assert resp.status == 200, await resp.text()
    new = (await resp.json())["password"]
    assert new != old and (await (await client.get(url, headers=bearer(tokens.acme))).json())["password"] == new
    pjsip_inc = (config.etc_dir / "svc" / "pjsip.inc").read_text()  # offline: written, loaded at start
    assert sip_digest("acme.cat-desk", new) in pjsip_inc and sip_digest("acme.cat-desk", old) not in pjsip_inc
    rows = [r for r in audit_rows(config) if r.action == "agent.credentials.rotate"]
    assert [(r.tenant, r.target, r.outcome, r.detail) for r in rows] == [("acme", "cat (acme.cat-desk)", "ok", None)]
    assert not any(p in json.dumps([r.model_dump(mode="json") for r in audit_rows(config)]) for p in (old, new))
