"""AMI adapter on panoramisk: a login that fails fast, a timeout on every action, and
panoramisk's quirks kept in this file.

Quirks handled here (see docs/asterisk.md): panoramisk reconnects forever on its own when the first
connection fails, so ``connect`` waits for the login with a deadline and closes on failure; a
successful ``QueueAdd`` never resolves its future unless sent with ``as_list=False``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from orchestrator.errors import AsteriskError, AsteriskUnavailable

EventHandler = Callable[[Manager, Message], Awaitable[None] | None]


class Ami:
    def __init__(self, host: str, port: int, user: str, secret: str, *, timeout: float = 10.0,
                 events: bool | str = False) -> None:
        """``events``: False for none, True for all, or AMI event classes such as "call,user"."""
        self.host, self.port, self.timeout = host, port, timeout
        self._logged_in: asyncio.Future[bool] | None = None
        self._manager = Manager(
            host=host, port=port, username=user, secret=secret,
            events=events if isinstance(events, str) else ("on" if events else "off"),
            ping_delay=10, reconnect_timeout=2,
            on_login=self._on_login, on_connect=lambda _m: None,
            on_disconnect=lambda _m, _exc: None,
        )

    def _on_login(self, _manager: Manager) -> None:
        if self._logged_in is not None and not self._logged_in.done():
            self._logged_in.set_result(True)

    async def connect(self) -> Ami:
        loop = asyncio.get_running_loop()
        self._manager.loop = loop
        self._logged_in = loop.create_future()
        self._manager.connect()
        try:
            async with asyncio.timeout(self.timeout):  # not wait_for: see orchestrator/aio.py
                await self._logged_in
        except TimeoutError as exc:
            self.close()
            raise AsteriskUnavailable(
                f"cannot log in to Asterisk's AMI at {self.host}:{self.port} within "
                f"{self.timeout:.0f} s (is it running? `orchestrator asterisk status`)"
            ) from exc
        return self

    def close(self) -> None:
        # Closing a half-open connection may fail; there is nothing left to release then.
        with contextlib.suppress(Exception):
            self._manager.close()

    async def __aenter__(self) -> Ami:
        return await self.connect()

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()

    def on_event(self, pattern: str, handler: EventHandler) -> None:
        self._manager.register_event(pattern, handler)

    async def action(self, fields: dict[str, Any], *, as_list: bool | None = None) -> Any:
        try:
            future = self._manager.send_action(fields, as_list=as_list)
            async with asyncio.timeout(self.timeout):  # not wait_for: see orchestrator/aio.py
                result = await future
        except TimeoutError as exc:
            raise AsteriskError(f"AMI {fields.get('Action')} got no answer in {self.timeout:.0f} s") from exc
        except (ConnectionError, OSError) as exc:
            raise AsteriskUnavailable(f"AMI connection lost during {fields.get('Action')}: {exc}") from exc
        return result

    async def checked(self, fields: dict[str, Any]) -> Message:
        """An action that must succeed; raises with Asterisk's own message otherwise."""
        resp = await self.action(fields, as_list=False)
        if isinstance(resp, list):
            resp = resp[0]
        if not resp.success:
            raise AsteriskError(f"AMI {fields.get('Action')} failed: {resp.get('Message', resp)}")
        return resp

    async def command(self, cli: str) -> str:
        """Run a CLI command and return its output text."""
        resp = await self.checked({"Action": "Command", "Command": cli})
        output = resp.get("Output", "")
        if isinstance(output, list):
            return "\n".join(output)
        return str(output)

    async def db_put(self, family: str, key: str, value: str) -> None:
        await self.checked({"Action": "DBPut", "Family": family, "Key": key, "Val": value})

    async def db_del(self, family: str, key: str) -> bool:
        resp = await self.action({"Action": "DBDel", "Family": family, "Key": key}, as_list=False)
        return bool(resp.success)

    async def db_deltree(self, family: str) -> None:
        # Fails with "Database entry not found" when the family is empty: that is fine.
        await self.action({"Action": "DBDelTree", "Family": family}, as_list=False)

    async def db_get(self, family: str, key: str) -> str | None:
        """Value of an AstDB key, or None. DBGet answers with a DBGetResponse event."""
        # as_list=None: panoramisk sees "will follow" on a hit; a miss is a single Error response.
        resp = await self.action({"Action": "DBGet", "Family": family, "Key": key}, as_list=None)
        for msg in resp if isinstance(resp, list) else [resp]:
            if msg.get("Event") == "DBGetResponse":
                return str(msg.get("Val"))
        return None
