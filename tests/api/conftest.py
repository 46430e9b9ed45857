"""API fixtures: the aiohttp app on a real SQLite database, without Asterisk (offline)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from tests.api.helpers import Tokens, make_token, offline_config


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> ApiConfig:
    return offline_config(tmp_path, SVC_DB_URL=db_url)


@pytest.fixture
def tokens(config: ApiConfig) -> Tokens:
    url = config.settings.db_url
    config.settings.state_dir.mkdir(parents=True, exist_ok=True)
    return Tokens(acme=make_token(url, "acme"), globex=make_token(url, "globex"),
                  admin=make_token(url, None, admin=True))


@pytest.fixture
async def client(config: ApiConfig, tokens: Tokens) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(config))) as c:
        yield c
