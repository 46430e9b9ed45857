"""API fixtures: the aiohttp app on a real SQLite database, without Asterisk (offline)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from tests.api.helpers import Tokens, allocate, make_token, offline_config

# The numbers the operator allocated to the test tenants: 0800 000 0101-0120 to acme, -0201-0220
# to globex. Everything else is unallocated.
ACME_NUMBERS = tuple(f"+3180000001{i:02d}" for i in range(1, 21))
GLOBEX_NUMBERS = tuple(f"+3180000002{i:02d}" for i in range(1, 21))


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> ApiConfig:
    return offline_config(tmp_path, SVC_DB_URL=db_url)


@pytest.fixture
def tokens(config: ApiConfig) -> Tokens:
    url = config.settings.db_url
    config.settings.state_dir.mkdir(parents=True, exist_ok=True)
    allocate(url, "acme", *ACME_NUMBERS)
    allocate(url, "globex", *GLOBEX_NUMBERS)
    return Tokens(acme=make_token(url, "acme"), globex=make_token(url, "globex"),
                  admin=make_token(url, None, admin=True))


@pytest.fixture
async def client(config: ApiConfig, tokens: Tokens) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(config))) as c:
        yield c
