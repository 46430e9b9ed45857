"""What handlers share, held by the aiohttp application (no module-level state): the settings,
the database engine and AMI connection opened by ``app.py``'s cleanup contexts, and the lock that
serialises changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.errors import AsteriskUnavailable
from orchestrator.services.apply import ApplyTarget
from orchestrator.settings import Settings
from orchestrator.store.session import Engine, Session


def _now() -> datetime:
    return datetime.now(AMSTERDAM)


@dataclass(frozen=True)
class ApiConfig:
    """How the API reaches the database, the dialplan files, the sounds and Asterisk."""

    settings: Settings
    etc_dir: Path  # Asterisk's etc folder (the generated dialplan lives under it)
    sounds_dir: Path  # Asterisk's sounds folder (announcements are converted into it on apply)
    uploads_dir: Path  # uploaded announcements, per tenant, kept between applies
    asterisk_path: Callable[[Path], str] = str  # host path -> path as Asterisk sees it
    offline: bool = False  # no AMI: applies only write files; live blacklist changes are refused
    now: Callable[[], datetime] = _now


@dataclass
class ApiState:
    config: ApiConfig
    # Applies and live changes must not interleave: an apply re-syncs AstDB blacklists.
    change_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


STATE = web.AppKey("state", ApiState)
ENGINE = web.AppKey("engine", Engine)
AMI = web.AppKey("ami", Ami)


def state(request: web.Request) -> ApiState:
    return request.app[STATE]


def config(request: web.Request) -> ApiConfig:
    return request.app[STATE].config


def session(request: web.Request) -> Session:
    return Session(request.app[ENGINE])


def ami(request: web.Request) -> Ami:
    found = request.app.get(AMI)
    if found is None:
        raise AsteriskUnavailable("the API runs offline (no AMI connection); live changes need Asterisk")
    return found


def apply_target(request: web.Request) -> ApplyTarget:
    c = config(request)
    return ApplyTarget(DialplanFiles(c.etc_dir), c.sounds_dir, c.asterisk_path, request.app.get(AMI),
                       secrets_dir=c.settings.secrets_dir, phone_qualify_s=c.settings.phone_qualify_s)
