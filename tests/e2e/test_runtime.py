"""The Asterisk runtime itself: it comes up as 22.x on loopback only, calls go through it to the
sipp carrier with the carrier's four behaviours, `dialplan reload` works, the fake clock moves
${EPOCH} (also inside the dialplan), and Privacy: id marks a caller anonymous."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.asterisk.runtime import AsteriskRuntime
from tests.harness.clock import epoch, set_clock_offset
from tests.harness.sipp import Carrier, place_call, place_calls

pytestmark = pytest.mark.e2e

PREFIX = "99999"  # test-only entry numbers; more specific than any generated pattern
DAY = 86400


@pytest.fixture(scope="module")
def test_dialplan(runtime: AsteriskRuntime) -> Iterator[int]:
    """A throwaway addition to svc-entry (removed afterwards): 99999<n> dials <n> at the carrier;
    99998... dials by the clock, 99997... by caller presentation. Yields the clock threshold."""
    threshold = int(time.time()) + 3 * DAY
    folder = runtime.generated_dir.resolve()  # the folder the svc symlink points at, if any
    path = folder / "zz-runtime-test.conf"
    path.write_text(f"""
[svc-entry]
exten => _{PREFIX}.,1,Dial(PJSIP/${{EXTEN:{len(PREFIX)}}}@carrier,4)
 same => n,Hangup()
exten => _99998.,1,Set(DEST=${{IF($[${{EPOCH}} > {threshold}]?+31200000011:+31200000001)}})
 same => n,Dial(PJSIP/${{DEST}}@carrier,4)
exten => _99997.,1,Set(DEST=${{IF($["${{CALLERID(num-pres):0:6}}" = "prohib"]?+31200000021:+31200000031)}})
 same => n,Dial(PJSIP/${{DEST}}${{CALLERID(num)}}@carrier,4)
""")
    assert "Dialplan reloaded" in runtime.rx("dialplan reload")
    try:
        yield threshold
    finally:
        path.unlink(missing_ok=True)
        runtime.rx("dialplan reload")


def test_asterisk_22_is_up(runtime: AsteriskRuntime) -> None:
    status = runtime.status()
    assert status["running"] and status["pid"]
    assert str(status["version"]).startswith("22.")
    assert "Asterisk 22." in runtime.rx("core show version")
    assert runtime.is_running()
    # Every placeholder was filled in.
    for conf in runtime.etc_dir.glob("*.conf"):
        assert not re.search(r"@[A-Z_]+@", conf.read_text()), conf.name


def _sockets_of(pid: int) -> list[tuple[str, str]]:
    out = subprocess.run(["ss", "-Hlntup"], capture_output=True, text=True, check=True).stdout
    return [(ln.split()[0], ln.split()[4]) for ln in out.splitlines() if f"pid={pid}," in ln]


def test_listens_on_loopback_only(runtime: AsteriskRuntime, carrier: Carrier, tmp_path: Path,
                                  test_dialplan: int) -> None:
    s = runtime.settings
    pid = runtime.status()["pid"]
    seen: list[tuple[str, str]] = []
    # Look while a call is up too, so RTP sockets are included.
    call = threading.Thread(target=place_call, args=(s.sip_port, f"{PREFIX}0205550011", "0201234567"),
                            kwargs={"hold_s": 2.0, "workdir": tmp_path})
    call.start()
    deadline = time.monotonic() + 10
    while not any(p == "udp" and s.rtp_start <= int(a.rsplit(":", 1)[1]) <= s.rtp_end for p, a in seen) \
            and call.is_alive() and time.monotonic() < deadline:  # until the call's RTP socket is open
        seen = _sockets_of(pid)
        time.sleep(0.05)
    call.join()
    seen += _sockets_of(pid)
    addrs = {(proto, addr) for proto, addr in seen}
    assert ("tcp", f"127.0.0.1:{s.ami_port}") in addrs
    assert ("tcp", f"127.0.0.1:{s.http_port}") in addrs
    assert ("udp", f"127.0.0.1:{s.sip_port}") in addrs
    assert any(p == "udp" and a.startswith("127.0.0.1:") and s.rtp_start <= int(a.rsplit(":", 1)[1]) <= s.rtp_end
               for p, a in addrs), f"no RTP socket on loopback during the call: {addrs}"
    wildcard = {(p, a) for p, a in addrs if not a.startswith("127.0.0.1:")}
    # The only exception: PJSIP's DNS resolver client sockets (one IPv4, one IPv6, ephemeral
    # ports, created whenever resolv.conf lists a name server; Asterisk 22 has no switch for it).
    # They are not listeners of any service and we dial IP addresses only.
    assert all(p == "udp" for p, _ in wildcard), wildcard
    assert len(wildcard) <= 2, wildcard
    ours = {s.sip_port, s.ami_port, s.http_port}
    assert not any(int(a.rsplit(":", 1)[1]) in ours or s.rtp_start <= int(a.rsplit(":", 1)[1]) <= s.rtp_end
                   for _, a in wildcard), wildcard


@pytest.mark.parametrize(("dest", "code"), [("+31205550011", 200), ("+31205550002", 486),
                                             ("+31205550004", 503)])
def test_call_reaches_carrier(runtime: AsteriskRuntime, carrier: Carrier, tmp_path: Path, test_dialplan: int,
                              dest: str, code: int) -> None:
    carrier.clear()
    r = place_call(runtime.settings.sip_port, PREFIX + dest.lstrip("+"), "+31201234567", hold_s=0.5,
                   workdir=tmp_path)
    assert carrier.invites() == [dest.lstrip("+")]
    assert r.final_code == code, r.responses
    assert r.answered == (code == 200)


def test_no_answer_times_out_in_dial(runtime: AsteriskRuntime, carrier: Carrier, tmp_path: Path,
                                     test_dialplan: int) -> None:
    carrier.clear()
    r = place_call(runtime.settings.sip_port, f"{PREFIX}0205550003", "0201234567", workdir=tmp_path)
    assert carrier.invites() == ["0205550003"]
    assert 180 in r.responses
    assert r.final_code >= 400 and not r.answered
    assert r.duration_s >= 3.5  # Dial's 4 s ring time, then the failure


def test_concurrent_calls(runtime: AsteriskRuntime, carrier: Carrier, tmp_path: Path, test_dialplan: int) -> None:
    carrier.clear()
    started = time.monotonic()
    results = place_calls(runtime.settings.sip_port, f"{PREFIX}0205550011", "0201234567", count=3,
                          hold_s=3.0, workdir=tmp_path)
    assert [r.final_code for r in results] == [200, 200, 200]
    assert time.monotonic() - started < 6  # held at the same time, not one after another
    assert carrier.invites() == ["0205550011"] * 3


def test_dialplan_reload(runtime: AsteriskRuntime, test_dialplan: int) -> None:
    assert "Dialplan reloaded" in runtime.rx("dialplan reload")
    assert f"_{PREFIX}." in runtime.rx("dialplan show svc-entry")


def test_clock_offset_moves_epoch(runtime: AsteriskRuntime, carrier: Carrier, tmp_path: Path,
                                  test_dialplan: int) -> None:
    port = runtime.settings.sip_port
    try:
        assert abs(epoch(runtime) - time.time()) < 3
        carrier.clear()
        assert place_call(port, "999980", "0201234567", hold_s=0.2, workdir=tmp_path).final_code == 200
        set_clock_offset(runtime, 7 * DAY)  # returns once Asterisk's clock has moved
        assert abs(epoch(runtime) - time.time() - 7 * DAY) < 3
        assert place_call(port, "999980", "0201234567", hold_s=0.2, workdir=tmp_path).final_code == 200
        set_clock_offset(runtime, -DAY)
        assert abs(epoch(runtime) - time.time() + DAY) < 3
        assert carrier.invites() == ["+31200000001", "+31200000011"]  # the dialplan saw the new time
    finally:
        set_clock_offset(runtime, 0)
    assert abs(epoch(runtime) - time.time()) < 3


def test_privacy_marks_caller_anonymous(runtime: AsteriskRuntime, carrier: Carrier, tmp_path: Path,
                                        test_dialplan: int) -> None:
    port = runtime.settings.sip_port
    carrier.clear()
    assert place_call(port, "999970", "0201234567", hold_s=0.2, workdir=tmp_path).final_code == 200
    assert place_call(port, "999970", "0201234567", anonymous=True, hold_s=0.2, workdir=tmp_path).final_code == 200
    # Presentation allowed -> ...31, withheld -> ...21; the number itself still arrives (PAI).
    assert carrier.invites() == ["+312000000310201234567", "+312000000210201234567"]


def test_up_is_idempotent(runtime: AsteriskRuntime) -> None:
    pid = runtime.status()["pid"]
    runtime.up()
    assert runtime.status()["pid"] == pid


def test_recording_spool_is_in_ram(runtime: AsteriskRuntime) -> None:
    """Plain audio of calls in progress never reaches a disk: the spool (incoming/ and done/, one
    mount so the post-process's mv stays a rename) is a tmpfs, mounted before Asterisk started."""
    from orchestrator.asterisk import spool

    where = spool.spool_dir(runtime.instance_dir)
    mounts = subprocess.run(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "--target", str(where)],
                            capture_output=True, text=True, check=True).stdout.split()
    assert mounts[0] == "tmpfs" and "noexec" in mounts[1] and "mode=700" in mounts[1], mounts
    assert runtime.status()["recordings"].startswith("tmpfs (size ")
    # A second `up` (Asterisk already running) leaves the mount alone; a folder with recordings
    # not yet taken by the worker is never hidden under a new mount.
    runtime.up()
    assert spool.state(where).in_ram
    elsewhere = runtime.instance_dir / "var" / "spool" / "spare"
    (elsewhere / "done").mkdir(parents=True, exist_ok=True)
    (elsewhere / "done" / "a.wav").write_bytes(b"RIFF")
    kept = spool.ensure_in_ram(elsewhere, 16)
    assert not kept.in_ram and "not yet taken" in kept.why
    assert spool.ensure_in_ram(elsewhere, 0).why == "SVC_RECORDING_SPOOL_MB=0"
    # What `asterisk down` does: an empty RAM spool goes, one with a waiting recording stays.
    (elsewhere / "done" / "a.wav").unlink()
    assert spool.ensure_in_ram(elsewhere, 16).in_ram
    (elsewhere / "done").mkdir()
    (elsewhere / "done" / "b.wav").write_bytes(b"RIFF")
    assert not spool.release(elsewhere, only_if_empty=True) and spool.state(elsewhere).in_ram
    (elsewhere / "done" / "b.wav").unlink()
    assert spool.release(elsewhere, only_if_empty=True) and not spool.state(elsewhere).in_ram
