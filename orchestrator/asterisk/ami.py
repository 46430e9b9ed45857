"""AMI adapter on panoramisk: a login that fails fast, a timeout on every action, typed verbs,
and panoramisk's quirks kept in this file.

This is the only place an AMI action (or a CLI command sent over AMI) is written: the rest of
the orchestrator calls the verbs below and gets typed answers (``ami_results``) or our errors.

Quirks handled here (see docs/asterisk.md): panoramisk reconnects forever on its own when the first
connection fails, so ``connect`` waits for the login with a deadline and closes on failure; a
successful ``QueueAdd`` never resolves its future unless sent with ``as_list=False``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from orchestrator.asterisk.ami_results import Channel, QueueStatus, channels, queue_status
from orchestrator.errors import AsteriskError, AsteriskUnavailable, NotFound
from orchestrator.settings import Settings

# What the live controller receives: panoramisk's types under our names, so only this module
# imports panoramisk.
AmiEvent = Message
AmiManager = Manager

EventHandler = Callable[[Manager, Message], Awaitable[None] | None]
_ENDPOINT = re.compile(r"^\s*Endpoint:\s+([^\s/<]+)", re.M)


class Ami:
    def __init__(self, host: str, port: int, user: str, secret: str, *, timeout: float = 10.0,
                 events: bool | str = False) -> None:
        """``events``: False for none, True for all, or AMI event classes such as "call,user"."""
        self.host, self.port, self.timeout = host, port, timeout
        self._logged_in: asyncio.Future[bool] | None = None
        self.logged_in = False  # for a started (following) connection: logged in right now
        self.logins = 0
        self._login_cb: Callable[[], None] = lambda: None
        self._manager = Manager(
            host=host, port=port, username=user, secret=secret,
            events=events if isinstance(events, str) else ("on" if events else "off"),
            ping_delay=10, reconnect_timeout=2,
            on_login=self._on_login, on_connect=lambda _m: None,
            on_disconnect=lambda _m, _exc: None,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 10.0, events: bool | str = False) -> Ami:
        """The one way to build an AMI link from the settings (host, port, user, secret)."""
        return cls(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret,
                   timeout=timeout, events=events)

    def _on_login(self, _manager: Manager) -> None:
        self.logged_in = True
        self.logins += 1
        if self._logged_in is not None and not self._logged_in.done():
            self._logged_in.set_result(True)
        self._login_cb()

    async def connect(self) -> Ami:
        loop = asyncio.get_running_loop()
        self._manager.loop = loop
        self._logged_in = loop.create_future()
        self._manager.connect()
        try:
            async with asyncio.timeout(self.timeout):  # not wait_for: see orchestrator/live/aio.py
                await self._logged_in
        except TimeoutError as exc:
            self.close()
            raise AsteriskUnavailable(
                f"cannot log in to Asterisk's AMI at {self.host}:{self.port} within "
                f"{self.timeout:.0f} s (is it running? `orchestrator asterisk status`)"
            ) from exc
        return self

    def start(self, on_login: Callable[[], None], on_disconnect: Callable[[Any], None]) -> None:
        """Connect and keep connecting: panoramisk logs in again by itself every
        ``reconnect_timeout`` seconds after a lost connection (also when the very first attempt
        fails). ``on_login`` runs after every (re)login, ``on_disconnect`` on every loss."""
        self._login_cb = on_login

        def lost(_manager: Manager, exc: Any) -> None:
            self.logged_in = False
            on_disconnect(exc)

        self._manager.on_disconnect = lost
        self._manager.loop = asyncio.get_running_loop()
        self._manager.connect()

    def close(self) -> None:
        # panoramisk keeps no handle of a pending reconnect (call_later), so a close while
        # disconnected would be undone by it: disarm connect() on this manager first.
        self._manager.connect = lambda *_a, **_k: None
        # Closing a half-open connection may fail; there is nothing left to release then.
        with contextlib.suppress(Exception):
            self._manager.close()
        self.logged_in = False  # panoramisk calls no on_disconnect for a close of ours

    async def __aenter__(self) -> Ami:
        return await self.connect()

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()

    def on_event(self, pattern: str, handler: EventHandler) -> None:
        self._manager.register_event(pattern, handler)

    # --- sending (the error mapping: foreign errors become ours here) -------------------------

    async def _action(self, fields: dict[str, Any], *, as_list: bool | None = None,
                      timeout: float | None = None) -> Any:
        """``timeout``: for actions whose work grows with the deployment (a full dialplan reload)."""
        limit = self.timeout if timeout is None else timeout
        try:
            future = self._manager.send_action(fields, as_list=as_list)
            async with asyncio.timeout(limit):  # not wait_for: see orchestrator/live/aio.py
                result = await future
        except TimeoutError as exc:
            raise AsteriskError(f"AMI {fields.get('Action')} got no answer in {limit:.0f} s") from exc
        except (ConnectionError, OSError) as exc:
            raise AsteriskUnavailable(f"AMI connection lost during {fields.get('Action')}: {exc}") from exc
        return result

    async def _single(self, fields: dict[str, Any], *, timeout: float | None = None) -> Message:
        resp = await self._action(fields, as_list=False, timeout=timeout)
        return resp[0] if isinstance(resp, list) else resp

    async def _checked(self, fields: dict[str, Any], *, timeout: float | None = None) -> Message:
        """An action that must succeed; raises with Asterisk's own message otherwise."""
        resp = await self._single(fields, timeout=timeout)
        if not resp.success:
            raise AsteriskError(f"AMI {fields.get('Action')} failed: {resp.get('Message', resp)}")
        return resp

    async def _listing(self, fields: dict[str, Any]) -> list[Message]:
        resp = await self._action(fields, as_list=True)
        return list(resp) if isinstance(resp, list) else [resp]

    # --- CLI commands --------------------------------------------------------------------------

    async def command(self, cli: str, *, timeout: float | None = None) -> str:
        """Run a CLI command and return its output text."""
        resp = await self._checked({"Action": "Command", "Command": cli}, timeout=timeout)
        output = resp.get("Output", "")
        if isinstance(output, list):
            return "\n".join(output)
        return str(output)

    async def dialplan_show(self, context: str) -> str:
        return await self.command(f"dialplan show {context}")

    async def dialplan_reload(self, *, timeout: float | None = None) -> str:
        """``timeout``: a full reload takes longer the more contexts there are (asterisk/push.py)."""
        return await self.command("dialplan reload", timeout=timeout)

    async def reload_pjsip(self) -> None:
        """Re-read pjsip.conf (Asterisk 22 has no ``pjsip reload``); raises unless it worked."""
        out = await self.command("module reload res_pjsip.so")
        if "reloaded successfully" not in out:
            raise AsteriskError(f"PJSIP reload answered: {out.strip()[:200]}")

    async def pjsip_endpoints(self) -> set[str]:
        """The names of the PJSIP endpoints Asterisk runs now."""
        return set(_ENDPOINT.findall(await self.command("pjsip show endpoints")))

    async def reload_queues(self, *, music: bool) -> None:
        """Re-read queues.conf (and musiconhold.conf): waiting callers stay where they are."""
        if music:
            await self.command("moh reload")
        out = await self.command("queue reload all")
        if "No such command" in out:
            raise AsteriskError(f"queue reload answered: {out.strip()[:200]}")

    async def has_queue(self, name: str) -> bool:
        out = await self.command(f"queue show {name}")
        return "No such queue" not in out and name in out

    # --- the dialplan, edited in place (asterisk/push.py) ---------------------------------------

    async def extension_add(self, context: str, exten: str, priority: int, app: str, data: str) -> None:
        """Add or replace one priority of the running dialplan (no reload)."""
        await self._checked({"Action": "DialplanExtensionAdd", "Context": context, "Extension": exten,
                            "Priority": str(priority), "Application": app, "ApplicationData": data,
                            "Replace": "yes"})

    async def extension_remove(self, context: str, exten: str, priority: int | None = None) -> None:
        """One priority, or (``priority`` None) the whole extension."""
        fields = {"Action": "DialplanExtensionRemove", "Context": context, "Extension": exten}
        if priority is not None:
            fields["Priority"] = str(priority)
        await self._checked(fields)

    async def remove_context(self, context: str, *, missing_ok: bool = False) -> None:
        """``missing_ok``: a context that is gone already (a full reload since) is no error."""
        if not missing_ok:
            await self.command(f"dialplan remove context {context}")
            return
        resp = await self._single({"Action": "Command", "Command": f"dialplan remove context {context}"})
        output = resp.get("Output", "")
        text = "\n".join(output) if isinstance(output, list) else str(output)
        if not resp.success and "no such context" not in text.lower() and "no existence" not in text.lower():
            raise AsteriskError(f"dialplan remove context {context} failed: {text.strip()[:200]}")

    async def has_context(self, context: str) -> bool:
        resp = await self._single({"Action": "Command", "Command": f"dialplan show {context}"})
        output = resp.get("Output", "")
        return f"[ Context '{context}'" in ("\n".join(output) if isinstance(output, list) else str(output))

    async def group_count(self, group: str, category: str) -> int:
        """How many channels are in GROUP(category)=group now (Getvar without a channel: Asterisk
        evaluates the function on a dummy channel)."""
        resp = await self._checked({"Action": "Getvar", "Variable": f"GROUP_COUNT({group}@{category})"})
        try:
            return int(resp.get("Value") or 0)
        except ValueError as exc:
            raise AsteriskError(f"GROUP_COUNT({group}@{category}) answered {resp.get('Value')!r}") from exc

    # --- AstDB ---------------------------------------------------------------------------------

    async def db_put(self, family: str, key: str, value: str) -> None:
        await self._checked({"Action": "DBPut", "Family": family, "Key": key, "Val": value})

    async def db_del(self, family: str, key: str) -> bool:
        return bool((await self._single({"Action": "DBDel", "Family": family, "Key": key})).success)

    async def db_deltree(self, family: str) -> None:
        # Fails with "Database entry not found" when the family is empty: that is fine.
        await self._action({"Action": "DBDelTree", "Family": family}, as_list=False)

    async def db_get(self, family: str, key: str) -> str | None:
        """Value of an AstDB key, or None. DBGet answers with a DBGetResponse event."""
        # as_list=None: panoramisk sees "will follow" on a hit; a miss is a single Error response.
        resp = await self._action({"Action": "DBGet", "Family": family, "Key": key}, as_list=None)
        for msg in resp if isinstance(resp, list) else [resp]:
            if msg.get("Event") == "DBGetResponse":
                return str(msg.get("Val"))
        return None

    # --- channels ------------------------------------------------------------------------------

    async def channels(self) -> list[Channel]:
        """Every channel Asterisk has now (CoreShowChannels)."""
        return channels(await self._listing({"Action": "CoreShowChannels"}))

    async def getvar(self, channel: str, variable: str) -> str:
        """A channel variable (or function), "" when unset or the channel is gone."""
        resp = await self._single({"Action": "Getvar", "Channel": channel, "Variable": variable})
        return str(resp.get("Value") or "") if resp.success else ""

    async def setvar(self, channel: str, variable: str, value: str) -> None:
        await self._checked({"Action": "Setvar", "Channel": channel, "Variable": variable, "Value": value})

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self._checked({"Action": "Hangup", "Channel": channel, "Cause": str(cause)})

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        await self._checked({"Action": "Redirect", "Channel": channel, "Context": context, "Exten": exten,
                            "Priority": str(priority)})

    async def originate_app(self, channel: str, app: str, data: str, *, caller_id: str, timeout_s: int) -> None:
        """Ring ``channel``; once answered it runs ``app(data)`` (asynchronously: this returns at once)."""
        resp = await self._single({"Action": "Originate", "Channel": channel, "Application": app, "Data": data,
                                   "Async": "true", "CallerID": caller_id, "Timeout": str(timeout_s * 1000)})
        if not resp.success:
            raise AsteriskError(f"Originate of {channel} failed: {resp.get('Message')}")

    async def recording_mark(self, mark: str, name: str, value: str) -> bool:
        """Have this node's dialplan (svc-rec-mark) append ``mark=value`` to the side file of the
        recording ``name`` (EPOCH@CALLID@...) while it is in progress; False when this node is not
        writing it (or refused the values).
        AMI may not write files itself (Asterisk refuses FILE() to AMI: "Variable not set")."""
        if mark not in ("keep", "pause", "resume"):
            raise ValueError(f"unknown recording mark {mark!r}")
        # Synchronous: the answer comes once the Local channel's dialplan answered (written) or hung up.
        resp = await self._single({"Action": "Originate", "Channel": f"Local/{mark}@svc-rec-mark/n",
                                   "Application": "NoOp", "Async": "false", "Timeout": "5000",
                                   "Variable": [f"SVC_MARK_NAME={name}", f"SVC_MARK_VALUE={value}"]})
        return bool(resp.success)

    async def mute_recording(self, channel: str, muted: bool) -> None:
        """Silence (or not) both directions of the MixMonitor on ``channel``."""
        await self._checked({"Action": "MixMonitorMute", "Channel": channel, "Direction": "both",
                            "State": "1" if muted else "0"})

    # --- queues --------------------------------------------------------------------------------

    async def queue_status(self) -> QueueStatus:
        """Every queue member and waiting caller as app_queue sees them now."""
        return queue_status(await self._listing({"Action": "QueueStatus"}))

    async def queue_pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """Pause (with ``reason``) or unpause ``interface`` in every queue it is a member of;
        NotFound when it is in none."""
        fields = {"Action": "QueuePause", "Interface": interface, "Paused": "true" if paused else "false"}
        if paused and reason:
            fields["Reason"] = reason
        resp = await self._single(fields)
        if not resp.success and "not found" in str(resp.get("Message", "")).lower():
            raise NotFound(f"{interface} is a member of no queue")
        if not resp.success:
            raise AsteriskError(f"QueuePause failed: {resp.get('Message')}")

    async def queue_priority(self, queue: str, channel: str, priority: int) -> None:
        await self._checked({"Action": "QueueChangePriorityCaller", "Queue": queue, "Caller": channel,
                            "Priority": str(priority)})
