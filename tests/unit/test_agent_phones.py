"""Agents that are SIP phones: PJSIP names per tenant, the generated pjsip.inc, their passwords,
and the check after a PJSIP reload (no Asterisk here; tests/e2e/test_agent_phones.py has it)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.compile_queues import compile_call_centre
from orchestrator.domain.ir_queues import CallCentre
from orchestrator.domain.naming import PJSIP_FILE
from orchestrator.domain.plan import parse_plan
from orchestrator.errors import AsteriskError, SecretError
from orchestrator.generate.files import PRIVATE_FILES
from orchestrator.generate.render import render_agent_phones, render_call_centres
from orchestrator.services.callcentre import phones
from orchestrator.services.callcentre.phone_secrets import PhoneSecrets, sip_digest
from orchestrator.settings import DEFAULT_PHONE_QUALIFY_S, load_settings
from tests.unit.test_queues import errors, plan

ROOT = Path(__file__).resolve().parents[2]


def centre(tenant: str, **endpoints: str) -> CallCentre:
    """A tenant whose agents (name -> endpoint) are phones, all in one queue."""
    data: dict[str, Any] = {"tenant": tenant, "agents": {a: {"endpoint": e} for a, e in endpoints.items()},
                            "queues": {"q": {"agents": list(endpoints)}}, "numbers": []}
    return compile_call_centre(parse_plan(data), {})


def sections(text: str) -> list[tuple[str, str]]:
    """(name, template) of each section of a pjsip.inc."""
    return re.findall(r"^\[([^\]]+)\]\((svc-agent-[a-z]+)\)$", text, re.M)


def fake_digests(*centres: CallCentre) -> dict[str, str]:
    return {a.endpoint: "0" * 32 for c in centres for a in c.agents if a.endpoint}


def test_phone_is_named_tenant_dot_endpoint_everywhere() -> None:
    cc = compile_call_centre(parse_plan(plan()), {})
    cat = next(a for a in cc.agents if a.name == "cat")
    assert cat.endpoint == "acme.cat-desk" and cat.dial == "PJSIP/acme.cat-desk"
    members = [m for qf in cc.queues for q in qf.queues.values() for m in q.members if m.agent == "cat"]
    assert members and {m.state_interface for m in members} == {"PJSIP/acme.cat-desk"}
    assert [a.endpoint for a in cc.agents if a.name != "cat"] == [None, None]  # phone numbers


def test_two_tenants_never_share_a_phone_name() -> None:
    # A hyphen joining tenant and endpoint would give "a-b-c" twice; a dot cannot occur in either.
    one, two = centre("a-b", ann="c"), centre("a", bob="b-c")
    same1, same2 = centre("acme", ann="desk"), centre("beta", ann="desk")
    everyone = [one, two, same1, same2]
    text = render_agent_phones(everyone, fake_digests(*everyone), 30)
    names = [name for name, template in sections(text) if template == "svc-agent-phone"]
    assert sorted(names) == ["a-b.c", "a.b-c", "acme.desk", "beta.desk"]
    for template in ("svc-agent-auth", "svc-agent-aor"):
        assert sorted(n for n, t in sections(text) if t == template) == sorted(names)
    assert "[carrier]" not in text  # never the trunk's name either
    # Each phone calls into its own tenant's state codes.
    assert "[acme.desk](svc-agent-phone)\nauth = acme.desk\naors = acme.desk\ncontext = svce-acme\n" in text
    assert "[beta.desk](svc-agent-phone)\nauth = beta.desk\naors = beta.desk\ncontext = svce-beta\n" in text


def test_same_endpoint_twice_in_one_tenant_is_refused() -> None:
    data = plan(agents={"ann": {"endpoint": "desk"}, "bob": {"endpoint": "Desk"}, "cat": {"endpoint": "other"}},
                queues={"support": {"agents": ["ann", "bob", "cat"]}}, numbers=[])
    assert errors(data) == {"agents.bob.endpoint": "endpoint 'Desk' is already agent 'ann''s"}


def test_pjsip_inc_holds_digests_not_passwords(tmp_path: Path) -> None:
    cc = centre("acme", ann="desk1", bob="desk2")
    text = phones.config([cc], tmp_path, 30)[PJSIP_FILE]
    store = PhoneSecrets(tmp_path)
    for name in ("acme.desk1", "acme.desk2"):
        password = store.password(name)
        assert password not in text
        assert f"[{name}](svc-agent-auth)\nusername = {name}\nrealm = svcnum\n" \
               f"password_digest = MD5:{sip_digest(name, password)}\n" in text
    assert phones.config([cc], tmp_path, 30) == {PJSIP_FILE: text}  # passwords are kept: same file again


def test_phones_are_qualified_every_configured_period() -> None:
    cc = centre("acme", ann="desk1")
    aor = render_agent_phones([cc], fake_digests(cc), 30).split("[acme.desk1](svc-agent-aor)\n")[1].split("\n\n")[0]
    assert aor == "qualify_frequency = 30\nqualify_timeout = 3.0"  # production: PJSIP's default timeout
    short = render_agent_phones([cc], fake_digests(cc), 2)
    assert "qualify_frequency = 2\nqualify_timeout = 1.0\n" in short  # a short period: half of it


def test_qualify_period_setting() -> None:
    env = {"SVC_AMI_SECRET": "x", "SVC_ARI_SECRET": "x"}
    assert load_settings(env).phone_qualify_s == DEFAULT_PHONE_QUALIFY_S == 30
    assert load_settings(env | {"SVC_PHONE_QUALIFY_SECONDS": "2"}).phone_qualify_s == 2
    for bad in ("0", "-5", "3601"):
        with pytest.raises(ValueError, match="SVC_PHONE_QUALIFY_SECONDS"):
            load_settings(env | {"SVC_PHONE_QUALIFY_SECONDS": bad})


def test_rotation_replaces_the_password_privately_and_can_put_it_back(tmp_path: Path) -> None:
    store = PhoneSecrets(tmp_path / "secrets")
    old = store.password("acme.desk")
    new = store.rotate("acme.desk")
    assert new != old and len(new) >= 24 and store.password("acme.desk") == new
    path = tmp_path / "secrets" / "agent-phones" / "acme.desk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["acme.desk"]  # no temp file left
    store.keep("acme.desk", old)
    assert PhoneSecrets(tmp_path / "secrets").password("acme.desk") == old


def test_digest_is_rfc2617_ha1() -> None:
    # The example in Asterisk's pjsip.conf.sample: echo -n "fred:asterisk:mypass" | openssl dgst -md5
    assert sip_digest("fred", "mypass", realm="asterisk") == "43a8d9be3da524f9a59ca0593d7b1b5d"


def test_passwords_random_per_phone_kept_private_and_stable(tmp_path: Path) -> None:
    store = PhoneSecrets(tmp_path / "secrets")
    first = store.password("acme.desk")
    assert len(first) >= 24 and first != store.password("beta.desk")
    assert PhoneSecrets(tmp_path / "secrets").password("acme.desk") == first  # another process, same one
    path = tmp_path / "secrets" / "agent-phones" / "acme.desk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["acme.desk", "beta.desk"]  # no temp files left


def test_no_phones_needs_no_secrets_but_phones_do() -> None:
    numbers_only = compile_call_centre(parse_plan(plan(agents={"ann": {"number": "020 111 0001"}},
                                                       queues={"q": {"agents": ["ann"]}}, numbers=[])), {})
    text = phones.config([numbers_only], None, 30)[PJSIP_FILE]
    assert sections(text) == [] and text.startswith("; Agent phones")
    with pytest.raises(SecretError):
        phones.config([centre("acme", ann="desk")], None, 30)


def test_phones_get_the_state_codes_context() -> None:
    dialplan, _config = render_call_centres([centre("acme", ann="desk1", bob="desk2")])
    text = dialplan["cc-acme.conf"]
    context = text.split("[svce-acme]")[1].split("\n[")[0]
    assert 'GotoIf($["${CHANNEL(endpoint)}" = "acme.desk1"]?p1)' in context
    assert "Gosub(svc-agent-state,${SVC_CODE},1(Local/bob@svca-acme,acme,bob))" in context
    assert "exten => _*5[567]," in context and "Dial(" not in context  # nothing but the codes
    assert "[svc-agent-state]" in dialplan["agentcodes.conf"]  # even without phone-number agents


def test_static_pjsip_conf_identifies_phones_by_username_and_the_carrier_by_address() -> None:
    conf = (ROOT / "asterisk_conf" / "pjsip.conf").read_text()
    assert re.search(r"^endpoint_identifier_order = username,ip$", conf, re.M)
    carrier = conf.split("[carrier]\ntype = endpoint\n")[1].split("\n[")[0]
    assert re.search(r"^identify_by = ip$", carrier, re.M)
    phone = conf.split("[svc-agent-phone](!)\n")[1].split("\n[")[0]
    assert re.search(r"^identify_by = username$", phone, re.M)
    assert re.search(r"^direct_media = no$", phone, re.M) and "media_address = @BIND_HOST@" in phone
    aor = conf.split("[svc-agent-aor](!)\n")[1].split("\n[")[0]
    assert "max_contacts = 1" in aor and "remove_existing = yes" in aor
    assert conf.rstrip().endswith('#tryinclude "svc/pjsip.inc"')  # after the templates it uses
    modules = (ROOT / "asterisk_conf" / "modules.conf").read_text()
    for module in ("res_pjsip_endpoint_identifier_user.so", "res_pjsip_registrar.so"):
        assert f"load = {module}" in modules


def test_pjsip_inc_is_written_owner_only(tmp_path: Path) -> None:
    files = DialplanFiles(tmp_path)
    version = files.write({"a.conf": "; dialplan\n", PJSIP_FILE: "; phones\n"}, private=PRIVATE_FILES)
    assert stat.S_IMODE((version.path / PJSIP_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((version.path / "a.conf").stat().st_mode) & 0o044  # the rest as before
    again = files.write({"a.conf": "; dialplan 2\n", PJSIP_FILE: "; phones\n"},
                        unchanged_files={"a.conf": "; dialplan\n", PJSIP_FILE: "; phones\n"}, private=PRIVATE_FILES)
    assert stat.S_IMODE((again.path / PJSIP_FILE).stat().st_mode) == 0o600  # linked, still private


class FakeAmi(Ami):
    """The real adapter's verbs over canned CLI output (no connection is ever made)."""

    def __init__(self, endpoints_out: str, reload_out: str = "Module 'res_pjsip.so' reloaded successfully.") -> None:
        super().__init__("127.0.0.1", 1, "u", "s")
        self.commands: list[str] = []
        self.outputs = {"module reload res_pjsip.so": reload_out, "pjsip show endpoints": endpoints_out}

    async def command(self, cli: str) -> str:
        self.commands.append(cli)
        return self.outputs[cli]


SHOW = """
 Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>
==========================================================================================

 Endpoint:  acme.desk1                                           Unavailable   0 of inf
     InAuth:  acme.desk1/acme.desk1
 Endpoint:  acme.desk2/Bob <201>                                 Not in use    0 of inf
 Endpoint:  carrier                                              Not in use    0 of inf
"""


async def test_push_reloads_only_on_change_and_checks_every_phone() -> None:
    cc = centre("acme", ann="desk1", bob="desk2")
    ami: Any = FakeAmi(SHOW)
    await phones.push(ami, {PJSIP_FILE: "x"}, {PJSIP_FILE: "x"}, [cc], lambda _s: None)
    assert ami.commands == []
    said: list[str] = []
    await phones.push(ami, {}, {PJSIP_FILE: "x"}, [cc], said.append)
    assert ami.commands == ["module reload res_pjsip.so", "pjsip show endpoints"]
    assert said == ["PJSIP reloaded; verified 2 agent phones"]


async def test_verify_names_missing_and_left_over_phones() -> None:
    ami: Any = FakeAmi(SHOW)
    with pytest.raises(AsteriskError, match=r"missing: \['acme.desk3'\], left over: \['acme.desk2'\]"):
        await phones.verify(ami, {"acme.desk1", "acme.desk3"})
    with pytest.raises(AsteriskError, match="PJSIP reload answered"):
        await phones.reload(FakeAmi(SHOW, reload_out="The module 'res_pjsip.so' is not loaded"))  # type: ignore[arg-type]
