"""The product passes a shifted test clock on to Asterisk and keeps it away from redis-server
(docs/testing.md, "Running the tests at a chosen moment")."""

from __future__ import annotations

import pytest

from orchestrator.asterisk.runtime import LIBFAKETIME, inherited_clock_offset
from orchestrator.errors import AsteriskError
from orchestrator.processes.redis_server import without_fake_clock


@pytest.mark.parametrize(("spec", "offset"), [("+1652110s", 1652110), ("-86400s", -86400), ("+0s", 0), ("+30", 30)])
def test_asterisk_gets_the_offset_this_process_runs_with(monkeypatch: pytest.MonkeyPatch, spec: str,
                                                         offset: int) -> None:
    monkeypatch.setenv("LD_PRELOAD", f"/tmp/svc-clock-shim-1.so {LIBFAKETIME}")
    monkeypatch.setenv("FAKETIME", spec)
    assert inherited_clock_offset() == offset


def test_no_preload_no_offset_and_other_forms_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.setenv("FAKETIME", "+100s")
    assert inherited_clock_offset() == 0  # FAKETIME without the library fakes nothing
    monkeypatch.setenv("LD_PRELOAD", LIBFAKETIME)
    monkeypatch.setenv("FAKETIME", "@2026-12-25 10:00:00")
    with pytest.raises(AsteriskError, match="only a fixed offset"):
        inherited_clock_offset()


def test_redis_runs_on_the_real_clock() -> None:
    env = {"LD_PRELOAD": f"/opt/other.so {LIBFAKETIME}", "FAKETIME": "+5s", "PATH": "/bin"}
    assert without_fake_clock(env) == {"LD_PRELOAD": "/opt/other.so", "PATH": "/bin"}
    assert without_fake_clock({"LD_PRELOAD": LIBFAKETIME}) == {}
