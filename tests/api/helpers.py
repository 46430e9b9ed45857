"""Shared bits of the API tests: settings in a temporary folder, tokens, plans, audio files."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from orchestrator.api.context import ApiConfig
from orchestrator.settings import Settings, load_settings
from orchestrator.store import api_repository, tenancy
from orchestrator.store.engine import make_engine

ANSWERING = "+31205550011"  # the test carrier answers destinations ending in 1


def offline_settings(tmp: Path, **extra: str) -> Settings:
    return load_settings({"SVC_STATE_DIR": str(tmp / "state"), "SVC_AMI_SECRET": "x", "SVC_ARI_SECRET": "x",
                          "SVC_ROOTFS_CACHE": str(tmp / "no-rootfs"), **extra})


def offline_config(tmp: Path, **extra: str) -> ApiConfig:
    settings = offline_settings(tmp, **extra)
    etc, sounds = tmp / "etc", tmp / "sounds"
    etc.mkdir(parents=True, exist_ok=True)
    sounds.mkdir(parents=True, exist_ok=True)
    return ApiConfig(settings=settings, etc_dir=etc, sounds_dir=sounds, uploads_dir=tmp / "uploads", offline=True)


def make_token(db_url: str, tenant: str | None, *, admin: bool = False) -> str:
    engine = make_engine(db_url)
    with Session(engine) as session:
        _row, token = api_repository.create_token(session, tenant=tenant, role="admin" if admin else "tenant")
        session.commit()
    engine.dispose()
    return token


def allocate(db_url: str, tenant: str, *numbers: str) -> None:
    """What the operator does before a tenant may use a number (``orchestrator number allocate``)."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        for e164 in numbers:
            tenancy.allocate(session, e164, tenant, "test")
        session.commit()
    engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def plan(tenant: str, *numbers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"tenant": tenant, "numbers": list(numbers), **extra}


def number(n: str, dest: str = ANSWERING, **extra: Any) -> dict[str, Any]:
    return {"number": n, "routings": {"main": [{"number": dest}]}, "active": "main", **extra}


def sine_wav(path: Path, seconds: float = 1.0) -> Path:
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds), "sine", "440"],
                   check=True, capture_output=True)
    return path


@dataclass(frozen=True)
class Tokens:
    acme: str
    globex: str
    admin: str


Factory = Callable[..., Any]
