"""The AMI adapter's typed verbs: the actions they send and how Asterisk's answers map to our
errors (panoramisk's manager replaced by a recorder; no connection is made)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from panoramisk.message import Message

from orchestrator.asterisk.ami import Ami
from orchestrator.errors import AsteriskError, AsteriskUnavailable, NotFound
from orchestrator.settings import load_settings


def answer(**fields: str) -> Message:
    return Message(fields)


class Recorder:
    def __init__(self, *answers: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        self.answers = list(answers)

    def send_action(self, fields: dict[str, Any], as_list: bool | None = None) -> asyncio.Future[Any]:
        self.sent.append(fields)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        result = self.answers.pop(0)
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
        return future


def ami_with(*answers: Any) -> tuple[Ami, Recorder]:
    ami = Ami.from_settings(load_settings({"SVC_AMI_SECRET": "x", "SVC_ARI_SECRET": "y",
                                          "SVC_STATE_DIR": "/tmp/svc-unit"}), timeout=1)
    recorder = Recorder(*answers)
    ami._manager.send_action = recorder.send_action  # type: ignore[method-assign]
    return ami, recorder


async def test_queue_pause_sends_the_reason_and_maps_not_found() -> None:
    ami, sent = ami_with(answer(Response="Success"), answer(Response="Error", Message="Interface not found"),
                         answer(Response="Error", Message="Permission denied"))
    await ami.queue_pause("Local/ann@svca-acme", True, "lunch")
    assert sent.sent[0] == {"Action": "QueuePause", "Interface": "Local/ann@svca-acme", "Paused": "true",
                            "Reason": "lunch"}
    with pytest.raises(NotFound):
        await ami.queue_pause("Local/zed@svca-acme", False)
    assert "Reason" not in sent.sent[1]
    with pytest.raises(AsteriskError, match="Permission denied"):
        await ami.queue_pause("Local/ann@svca-acme", False)


async def test_failures_and_lost_connections_become_our_errors() -> None:
    ami, _ = ami_with(answer(Response="Error", Message="No such channel"), ConnectionResetError("gone"))
    with pytest.raises(AsteriskError, match="Hangup failed: No such channel"):
        await ami.hangup("PJSIP/x-1")
    with pytest.raises(AsteriskUnavailable, match="connection lost during Redirect"):
        await ami.redirect("PJSIP/x-1", "svca-acme", "desk.moved")


async def test_getvar_is_empty_for_a_gone_channel_and_pjsip_reload_is_checked() -> None:
    ami, sent = ami_with(answer(Response="Error", Message="No such channel"),
                         answer(Response="Success", Output="The module 'res_pjsip.so' is not loaded"))
    assert await ami.getvar("PJSIP/gone-1", "SVC_NUMBER") == ""
    with pytest.raises(AsteriskError, match="PJSIP reload answered"):
        await ami.reload_pjsip()
    assert sent.sent[1] == {"Action": "Command", "Command": "module reload res_pjsip.so"}


class Silent(Recorder):
    """Asterisk that never answers: the action's own timeout must end the wait."""

    def send_action(self, fields: dict[str, Any], as_list: bool | None = None) -> asyncio.Future[Any]:
        self.sent.append(fields)
        return asyncio.get_running_loop().create_future()


async def test_dialplan_edits_and_the_reload_timeout() -> None:
    ami, sent = ami_with(answer(Response="Success"), answer(Response="Error", Message="No such extension"))
    await ami.extension_add("svcn-1", "s", 2, "Goto", "x,s,1")
    assert sent.sent[0] == {"Action": "DialplanExtensionAdd", "Context": "svcn-1", "Extension": "s",
                            "Priority": "2", "Application": "Goto", "ApplicationData": "x,s,1", "Replace": "yes"}
    with pytest.raises(AsteriskError, match="No such extension"):
        await ami.extension_remove("svcn-1", "s")
    assert sent.sent[1] == {"Action": "DialplanExtensionRemove", "Context": "svcn-1", "Extension": "s"}
    silent = Silent()
    ami._manager.send_action = silent.send_action  # type: ignore[method-assign]
    with pytest.raises(AsteriskError, match="no answer in 0 s"):  # 0.05 s, not the link's 1 s
        await ami.dialplan_reload(timeout=0.05)
    assert silent.sent == [{"Action": "Command", "Command": "dialplan reload"}]
