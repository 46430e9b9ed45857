"""A small ARI client on aiohttp: REST calls and the ``/ari/events`` websocket with reconnect.

aiohttp 3.14 deprecates ``BasicAuth``, so the ``Authorization`` header is built here. Routing never
depends on ARI (it lives in the dialplan); the controller keeps the websocket open so that calls
handed to its Stasis application later (queues, recording) are not left hanging: after every
(re)connect, channels still sitting in the application from before are hung up.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from orchestrator.errors import AsteriskError, AsteriskUnavailable

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Ari:
    def __init__(self, host: str, port: int, user: str, secret: str, *, app: str = "svc-live",
                 timeout: float = 5.0, max_backoff_s: float = 5.0) -> None:
        self.base = f"http://{host}:{port}/ari"
        self.app = app
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_backoff_s = max_backoff_s
        self.connected = False
        self.connects = 0
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def request(self, method: str, path: str, **params: str) -> Any:
        try:
            async with self._http().request(method, f"{self.base}{path}", params=params) as resp:
                body = await resp.text()
                if resp.status >= 400:
                    raise AsteriskError(f"ARI {method} {path}: {resp.status} {body[:200]}")
                return json.loads(body) if body else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AsteriskUnavailable(f"ARI {method} {path} failed: {exc!r}") from exc

    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", "/asterisk/info")
        return result

    async def _clean_up_stasis(self) -> None:
        """Hang up channels left in our application by a previous (dropped) connection."""
        channels = await self.request("GET", "/channels")
        for ch in channels or []:
            if ch.get("dialplan", {}).get("app_name") == "Stasis" and \
                    str(ch.get("dialplan", {}).get("app_data", "")).split(",")[0] == self.app:
                log.warning("ARI: hanging up channel %s left in Stasis(%s)", ch.get("id"), self.app)
                try:
                    await self.request("DELETE", f"/channels/{ch['id']}")
                except AsteriskError as exc:  # it may have gone meanwhile
                    log.info("ARI: channel %s already gone: %s", ch.get("id"), exc)

    async def run(self, on_event: EventHandler | None = None) -> None:
        """Keep the events websocket open until cancelled, reconnecting with backoff."""
        backoff, warned = 0.5, False
        url = f"{self.base}/events?app={self.app}&subscribeAll=false"
        while True:
            try:
                ws_timeout = aiohttp.ClientWSTimeout(ws_close=5)
                async with self._http().ws_connect(url, heartbeat=10, timeout=ws_timeout) as ws:
                    self.connected, backoff = True, 0.5
                    self.connects += 1
                    log.info("ARI events connected (%s)", self.app)
                    await self._clean_up_stasis()
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT and on_event is not None:
                            await on_event(json.loads(msg.data))
                        elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                            break
            except (aiohttp.ClientError, OSError, TimeoutError, AsteriskError) as exc:
                if self.connected or not warned:  # once per outage, not once per retry
                    log.warning("ARI events unavailable, retrying with backoff: %r", exc)
                    warned = True
            else:
                log.warning("ARI events disconnected; reconnecting")
                warned = False
            self.connected = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
