"""The stack's Redis settings: a generated password when none is given, never shown in messages;
the URL forms the stack's Redis understands (loopback port, unix socket) and the ones it refuses
to start a server for; its configuration; a daemon's pid file that points at another program."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from orchestrator.errors import StackError
from orchestrator.processes.daemon import Daemon
from orchestrator.processes.redis_server import LocalRedis, target_of
from orchestrator.settings import load_settings, redacted

ENV = {"SVC_AMI_SECRET": "a", "SVC_ARI_SECRET": "b"}


def test_without_a_url_redis_gets_a_generated_password_kept_in_the_secrets(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SVC_REDIS_URL", "SVC_REDIS_PASSWORD", "SVC_REDIS_SOCKET", "SVC_REDIS_PORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SVC_STATE_DIR", str(tmp_path))
    first, second = load_settings().redis_url, load_settings().redis_url
    secret = tmp_path / "secrets" / "SVC_REDIS_PASSWORD"
    password = secret.read_text().strip()
    assert first == second == f"redis://:{password}@127.0.0.1:6379/0"
    assert len(password) >= 24 and stat.S_IMODE(secret.stat().st_mode) == 0o600
    monkeypatch.setenv("SVC_REDIS_SOCKET", "/run/r.sock")
    assert load_settings().redis_url == f"unix://:{password}@/run/r.sock?db=0"


def test_given_settings_win() -> None:
    assert load_settings({**ENV, "SVC_REDIS_PASSWORD": "pw", "SVC_REDIS_PORT": "7000"}).redis_url \
        == "redis://:pw@127.0.0.1:7000/0"
    assert load_settings({**ENV, "SVC_REDIS_URL": "redis://h:1/2"}).redis_url == "redis://h:1/2"


def test_passwords_never_reach_a_message() -> None:
    assert redacted("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redacted("unix://:s3cret@/run/r.sock?db=0") == "unix://:***@/run/r.sock?db=0"
    assert redacted("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(StackError) as err:
        target_of("http://:s3cret@h/")
    assert "s3cret" not in str(err.value) and "SVC_REDIS_URL" in str(err.value)


def test_urls_the_stack_runs_a_redis_for(tmp_path: Path) -> None:
    assert target_of("redis://:p@127.0.0.1:7000/0").local
    assert target_of("redis://:p@localhost/0").port == 6379
    assert not target_of("redis://:p@10.0.0.5:6379/0").local
    sock = target_of("unix://:p%40x@/run/r.sock?db=0")
    assert sock.local and sock.socket_path == "/run/r.sock" and sock.password == "p@x"


@pytest.mark.parametrize(("url", "why"), [("redis://127.0.0.1:7000/0", "has no password"),
                                          ("redis://:p@10.0.0.5:7000/0", "not on loopback"),
                                          ("redis://:p w@127.0.0.1:7000/0", "space, quote or backslash")])
def test_a_redis_it_will_not_start(tmp_path: Path, url: str, why: str) -> None:
    settings = load_settings({**ENV, "SVC_STATE_DIR": str(tmp_path), "SVC_REDIS_URL": url})
    with pytest.raises(StackError, match=why):
        LocalRedis(settings, tmp_path / "run").start()
    assert not (tmp_path / "run").exists()


def test_the_redis_configuration_binds_where_the_url_says(tmp_path: Path) -> None:
    tcp = LocalRedis(load_settings({**ENV, "SVC_STATE_DIR": str(tmp_path), "SVC_REDIS_URL": "redis://:pw@127.0.0.1:7001/0"}),
                     tmp_path).config()
    assert "bind 127.0.0.1\nport 7001\n" in tcp and 'requirepass "pw"' in tcp and "protected-mode yes" in tcp
    unix = LocalRedis(load_settings({**ENV, "SVC_STATE_DIR": str(tmp_path), "SVC_REDIS_URL": "unix://:pw@/r.sock"}),
                      tmp_path).config()
    assert "port 0\nunixsocket /r.sock\nunixsocketperm 700\n" in unix


def test_a_pid_file_naming_another_program_is_not_ours(tmp_path: Path) -> None:
    daemon = Daemon("live", (sys.executable, "-m", "orchestrator", "serve"), tmp_path, "orchestrator serve")
    assert daemon.pid() is None  # no pid file
    daemon.pid_file.write_text(f"{os.getpid()}\n")  # pytest's pid: alive, but not the live controller
    assert daemon.pid() is None
    assert daemon.stop() is False and not daemon.pid_file.exists()
