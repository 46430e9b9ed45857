"""Session fixtures for every test that needs Asterisk (tests/e2e, tests/api): one real Asterisk 22
per test session (own ports, own secrets, own instance folder, a fake clock the tests can move)
and one sipp carrier behind it. And the databases: ``db_url`` runs a test once on a SQLite file
and once on a real PostgreSQL (one server per test session, a fresh database per test)."""

from __future__ import annotations

import secrets
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.settings import load_settings
from tests.harness.databases import Databases
from tests.harness.sipp import Carrier, free_port, rtp_ports


def _free_tcp_port() -> int:
    return free_port(socket.SOCK_STREAM)


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskRuntime]:
    state = tmp_path_factory.mktemp("state")
    udp = set()
    while len(udp) < 2:  # SIP and carrier must differ
        udp.add(free_port())
    sip_port, carrier_port = sorted(udp)
    rtp_start, rtp_end = rtp_ports(4000)
    env = {
        "SVC_STATE_DIR": str(state),
        "SVC_INSTANCE": f"e2e-{uuid.uuid4().hex[:6]}",
        "SVC_BIND_HOST": "127.0.0.1",
        "SVC_SIP_PORT": str(sip_port),
        "SVC_AMI_PORT": str(_free_tcp_port()),
        "SVC_HTTP_PORT": str(_free_tcp_port()),
        "SVC_RTP_START": str(rtp_start),
        "SVC_RTP_END": str(rtp_end),
        "SVC_CARRIER_HOST": "127.0.0.1",
        "SVC_CARRIER_PORT": str(carrier_port),
        "SVC_AMI_USER": "e2e",
        "SVC_AMI_SECRET": secrets.token_urlsafe(16),
        "SVC_ARI_USER": "e2e",
        "SVC_ARI_SECRET": secrets.token_urlsafe(16),
    }
    rt = AsteriskRuntime(load_settings(env))
    rt.ensure_installed()
    rt.prepare()
    rt.up(faketime_file=rt.clock_file)
    try:
        yield rt
    finally:
        rt.down()
        rt.release_spool()
        if rt.chrooted:  # the instance lives inside the shared rootfs: leave nothing behind
            shutil.rmtree(rt.instance_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def carrier(runtime: AsteriskRuntime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Carrier]:
    workdir: Path = tmp_path_factory.mktemp("carrier")
    with Carrier(runtime.settings.carrier_port, workdir) as c:
        yield c



@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    dbs = Databases()
    try:
        yield dbs
    finally:
        dbs.close()


@pytest.fixture(params=Databases.KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, databases: Databases) -> Iterator[str]:
    """An empty database of each kind: the test runs once on SQLite and once on PostgreSQL."""
    url = databases.new(request.param, tmp_path)
    try:
        yield url
    finally:
        databases.drop(url)


@pytest.fixture
def postgres_url(tmp_path: Path, databases: Databases) -> Iterator[str]:
    """An empty PostgreSQL database, for what only PostgreSQL has."""
    url = databases.new("postgresql", tmp_path)
    try:
        yield url
    finally:
        databases.drop(url)


@pytest.fixture(scope="module", params=Databases.KINDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  databases: Databases) -> Iterator[str]:
    """``db_url`` for module-scoped fixtures (a stack shared by a module's tests)."""
    url = databases.new(request.param, tmp_path_factory.mktemp("db"))
    try:
        yield url
    finally:
        databases.drop(url)
