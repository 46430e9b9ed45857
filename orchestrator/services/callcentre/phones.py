"""Agent phones on Asterisk (issue 6: an agent is a phone number or a SIP endpoint): the PJSIP
configuration of every endpoint agent for an apply, and loading it into Asterisk.

PJSIP objects cannot be changed one by one over AMI, so a change reloads res_pjsip's configuration
(``module reload res_pjsip.so``; Asterisk 22 has no ``pjsip reload``). Calls in progress keep their
endpoint, and registrations (contacts in AstDB) survive the reload."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.ir_queues import CallCentre
from orchestrator.domain.naming import PJSIP_FILE
from orchestrator.errors import AsteriskError, SecretError
from orchestrator.generate.render import render_agent_phones
from orchestrator.services.callcentre.phone_secrets import PhoneSecrets


def endpoints(centres: Iterable[CallCentre]) -> set[str]:
    return {a.endpoint for c in centres for a in c.agents if a.endpoint}


def config(centres: list[CallCentre], secrets_dir: Path | None, qualify_s: int) -> dict[str, str]:
    """``{pjsip.inc: text}`` for every tenant's phones; a phone new to this instance gets its password now."""
    names = endpoints(centres)
    if not names:
        return {PJSIP_FILE: render_agent_phones(centres, {}, qualify_s)}
    if secrets_dir is None:
        raise SecretError("the plans have endpoint agents, but this apply has no secrets folder for their passwords")
    store = PhoneSecrets(secrets_dir)
    return {PJSIP_FILE: render_agent_phones(centres, {name: store.digest(name) for name in sorted(names)}, qualify_s)}


async def push(ami: Ami, old: dict[str, str], new: dict[str, str], centres: list[CallCentre],
               progress: Callable[[str], None]) -> None:
    """Reload PJSIP when the phones' configuration changed, and check Asterisk has exactly those phones."""
    if old.get(PJSIP_FILE) == new.get(PJSIP_FILE):
        return
    await reload(ami)
    names = endpoints(centres)
    await verify(ami, names)
    progress(f"PJSIP reloaded; verified {len(names)} agent phones")


async def reload(ami: Ami) -> None:
    await ami.reload_pjsip()


async def verify(ami: Ami, expected: set[str]) -> None:
    """Asterisk runs exactly the expected phones: an object PJSIP refused (a bad option) is missing,
    a removed one must be gone. Phones are the endpoints with a dot; the carrier has none."""
    running = {name for name in await ami.pjsip_endpoints() if "." in name}
    if running != expected:
        missing, extra = sorted(expected - running), sorted(running - expected)
        raise AsteriskError(f"after reloading PJSIP, agent phones missing: {missing or 'none'}, "
                            f"left over: {extra or 'none'}")
