"""What each generated file is for: the one place that knows the file roles.

- shared dialplan (lib, holidays, recording): every number calls into them; a change needs a full
  reload (an AMI push cannot replace a library other contexts jump into mid-call).
- entry: the one-line Gotos from each dialled form to a number's context.
- number files (``n-<digits>.conf``): one context per service number.
- call-centre dialplan (``cc-<tenant>.conf``, ``agentcodes.conf``).
- call flows (``fl-<tenant>-<flow>.conf``): one context set per Premium flow, shared by every number
  that names it; a flow change is pushed like a number file.
- configuration (queues, music on hold, agent phones): not dialplan; included by queues.conf,
  musiconhold.conf and pjsip.conf, reloaded by their own modules.
- private: readable by the owner only (the phones' password digests are as good as the passwords
  against this Asterisk).
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.domain.naming import (
    AGENT_CODES_FILE,
    ENTRY_FILE,
    HOLIDAYS_FILE,
    LIB_FILE,
    MOH_FILE,
    PJSIP_FILE,
    QUEUES_FILE,
    RECORDING_FILE,
    call_centre_file,
)

SHARED_FILES = (LIB_FILE, HOLIDAYS_FILE, RECORDING_FILE)
CONFIG_FILES = (QUEUES_FILE, MOH_FILE, PJSIP_FILE)
PRIVATE_FILES = frozenset({PJSIP_FILE})
__all__ = ["AGENT_CODES_FILE", "CONFIG_FILES", "ENTRY_FILE", "PRIVATE_FILES", "SHARED_FILES",
           "call_centre_files", "is_config", "is_flow_file", "is_number_file", "lint_set",
           "needs_full_reload"]


def is_number_file(name: str) -> bool:
    return name.startswith("n-") and name.endswith(".conf")


def is_flow_file(name: str) -> bool:
    return name.startswith("fl-") and name.endswith(".conf")


def is_config(name: str) -> bool:
    return name in CONFIG_FILES


def call_centre_files(tenant: str) -> list[str]:
    """The dialplan files a tenant's call centre renders into (with the shared agent codes)."""
    return [call_centre_file(tenant), AGENT_CODES_FILE]


def needs_full_reload(names: list[str]) -> str | None:
    """Why changing these files cannot be pushed context by context, if so."""
    if any(name in SHARED_FILES for name in names):
        return "the shared library or holidays changed"
    return None


def lint_set(written: Mapping[str, str], files: Mapping[str, str]) -> dict[str, str]:
    """What to lint: the files about to be written, with the shared ones they call into (the
    agent phones' context in cc-<tenant>.conf calls svc-agent-state in agentcodes.conf)."""
    if not written:
        return {}
    return dict(written) | {name: text for name, text in files.items()
                            if name in SHARED_FILES or name.startswith("cc-") or name == AGENT_CODES_FILE
                            or is_flow_file(name)}
