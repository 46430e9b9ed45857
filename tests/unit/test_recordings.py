"""Call recording, pure parts: keys, AES-256-GCM at rest, retention, plan rules, dialplan."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.asterisk.runtime import REPO_CONF_DIR, AsteriskRuntime
from orchestrator.domain.compile import compile_plan
from orchestrator.domain.plan import parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.errors import NotFound, PlanInvalid, RecordingKeyError, RecordingTampered
from orchestrator.generate.render import render_dialplan
from orchestrator.services.recordings import crypto
from orchestrator.services.recordings.keys import load_keyring, parse_keys
from orchestrator.services.recordings.store import append_meta, parse_name, pauses_from, read_meta, retention_until
from orchestrator.settings import load_settings
from tests.plans import basis_number, tenant_plan

K1 = base64.b64encode(b"\x01" * 32).decode()
K2 = base64.b64encode(b"\x02" * 32).decode()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_round_trip_and_rotation() -> None:
    old = parse_keys(f"k1:{K1}", "old")
    blob = crypto.encrypt(b"RIFF audio", old.current, "123.4")
    rotated = parse_keys(f"k2:{K2},k1:{K1}", "rotated")  # new key first, old one kept for reading
    assert rotated.current.id == "k2"
    assert crypto.decrypt(blob, rotated, "123.4") == b"RIFF audio"
    assert b"RIFF" not in blob


def test_wrong_missing_key_and_tampering_are_told_apart() -> None:
    blob = crypto.encrypt(b"audio" * 100, parse_keys(f"k1:{K1}", "a").current, "1.1")
    with pytest.raises(RecordingKeyError, match="not the key"):
        crypto.decrypt(blob, parse_keys(f"k1:{K2}", "b"), "1.1")
    with pytest.raises(RecordingKeyError, match="not among the configured keys"):
        crypto.decrypt(blob, parse_keys(f"k9:{K1}", "c"), "1.1")
    ring = parse_keys(f"k1:{K1}", "a")
    for pos in (len(blob) - 1, len(blob) - 30):  # tag, ciphertext
        flipped = bytearray(blob)
        flipped[pos] ^= 0x80
        with pytest.raises(RecordingTampered):
            crypto.decrypt(bytes(flipped), ring, "1.1")
    with pytest.raises(RecordingTampered):
        crypto.decrypt(blob[:40], ring, "1.1")
    with pytest.raises(RecordingTampered, match="belongs to call"):
        crypto.decrypt(blob, ring, "2.2")


@pytest.mark.parametrize("text", ["", "k1", f"k1:{K1[:-4]}", "k1:!!!", f"k1:{K1},k1:{K2}", f"bad id:{K1}"])
def test_bad_keys_are_clear_errors(text: str) -> None:
    with pytest.raises(RecordingKeyError):
        parse_keys(text, "SVC_RECORDING_KEYS")


def test_keyring_sources(tmp_path: Path) -> None:
    assert load_keyring(tmp_path, {"SVC_RECORDING_KEYS": f"a:{K1}"}).current.id == "a"
    f = tmp_path / "keys"
    f.write_text(f"# rotated 2026-01\nnew:{K2}\nold:{K1}\n")
    assert [k.id for k in load_keyring(tmp_path, {"SVC_RECORDING_KEY_FILE": str(f)}).keys] == ["new", "old"]
    generated = load_keyring(tmp_path, {})  # no configuration: one random key, kept 0600
    path = tmp_path / "secrets" / "recording-keys"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_keyring(tmp_path, {}).current == generated.current
    assert "secret" not in repr(generated.current) and K1 not in repr(generated)


def test_retention() -> None:
    start = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    assert retention_until(start, "90d") == datetime(2024, 5, 29, 12, 0, tzinfo=UTC)
    assert retention_until(start, "7y") == datetime(2031, 2, 28, 12, 0, tzinfo=UTC)


def test_file_name_metadata() -> None:
    f = parse_name(Path("1767225600@1767225600.12@318000000701@x@always_with_pause@my_tenant-1.wav"))
    assert (f.call_id, f.service_number, f.caller, f.policy.value, f.tenant) == (
        "1767225600.12", "+318000000701", "", "always_with_pause", "my_tenant-1")


def test_rules() -> None:
    plan = parse_plan(tenant_plan(
        basis_number(recording={"policy": "never", "announce": "default-final"}),
        basis_number(number="0800 000 0009", recording={"policy": "always", "announce": "nope"}),
        basis_number(number="0800 000 0008", recording={"policy": "on_demand_with_start"}),  # valid now
        recording_retention="8y"))
    fields = {v.field for v in check_plan(plan, NOW)}
    assert {"numbers[0].recording.announce", "numbers[1].recording.announce", "recording_retention"} <= fields
    assert not any(f.startswith("numbers[2]") for f in fields)
    with pytest.raises(PlanInvalid) as err:
        parse_plan(tenant_plan(basis_number(recording={"policy": "sometimes"}), recording_retention="90 days"))
    assert {v.field for v in err.value.violations} == {"numbers[0].recording.policy", "recording_retention"}


def test_dialplan_records_only_when_asked_and_never_to_113() -> None:
    plan = parse_plan(tenant_plan(
        basis_number(recording={"policy": "always", "announce": "default-final"},
                     routings={"main": [{"number": "020 555 0101"}, {"number": "0800 0113"}]}, active="main",
                     switches=[]),
        basis_number(number="0800 000 0009")))
    files = render_dialplan(compile_plan(plan, {}))
    recorded = files["n-318001234567.conf"]
    assert "Gosub(svc-rec,start,1(always,acme,vm-goodbye))" in recorded
    assert recorded.count("Gosub(svc-rec") == 1  # 0800-0113 is dialled without it
    assert "svc-rec" not in files["n-318000000009.conf"]
    assert "[svc-rec]" in files["recording.conf"]


def test_recording_codes_are_configurable_distinct_and_rendered() -> None:
    env = {"SVC_AMI_SECRET": "x", "SVC_ARI_SECRET": "y", "SVC_STATE_DIR": "/tmp/svc-unit"}
    rt = AsteriskRuntime(load_settings({**env, "SVC_RECORDING_KEEP_CODE": "#44"}))
    text = rt._fill((REPO_CONF_DIR / "features.conf").read_text(), rt.placeholders(), "features.conf")
    assert "svcreckeep => #44,self,Gosub(svc-rec-keep,s,1)" in text
    assert "svcrecstart => *46,peer,Gosub(svc-rec-startstop,start,1)" in text
    assert "svcrecstop => *47,peer,Gosub(svc-rec-startstop,stop,1)" in text
    with pytest.raises(ValueError, match="must differ"):
        load_settings({**env, "SVC_RECORDING_KEEP_CODE": "*9"})
    with pytest.raises(ValueError, match="SVC_RECORDING_STOP_CODE"):
        load_settings({**env, "SVC_RECORDING_STOP_CODE": "*4;7"})


def _post_process(spool: Path, name: str, call: str, policy: str) -> None:
    subprocess.run(["/bin/sh", str(REPO_CONF_DIR / "svc-rec-done.sh"), str(spool), name, call, policy], check=True)


def test_post_process_deletes_unkept_on_demand_and_moves_the_rest(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for call, policy in (("1.1", "on_demand"), ("1.2", "on_demand"), ("1.3", "always")):
        (incoming / f"9@{call}@31800@x@{policy}@t.wav").write_bytes(b"RIFF")
    (incoming / "1.1.meta").write_text("agent=+31205550011\n")  # answered, never kept
    (incoming / "1.2.meta").write_text("agent=+31205550016\nkeep=dtmf\n")
    _post_process(tmp_path, "9@1.1@31800@x@on_demand@t", "1.1", "on_demand")
    _post_process(tmp_path, "9@1.2@31800@x@on_demand@t", "1.2", "on_demand")
    _post_process(tmp_path, "9@1.3@31800@x@always@t", "1.3", "always")  # no side file at all
    assert list(incoming.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [
        "9@1.2@31800@x@on_demand@t.meta", "9@1.2@31800@x@on_demand@t.wav", "9@1.3@31800@x@always@t.wav"]
    assert read_meta(tmp_path / "done" / "9@1.2@31800@x@on_demand@t.meta") == {
        "agent": ["+31205550016"], "keep": ["dtmf"]}


def test_side_file_only_for_a_recording_in_progress(tmp_path: Path) -> None:
    (tmp_path / "incoming").mkdir()
    assert not append_meta(tmp_path, "1.5", "keep", "api")
    assert list((tmp_path / "incoming").iterdir()) == []  # a late mark leaves no stray file
    (tmp_path / "incoming" / "9@1.5@31800@x@on_demand@t.wav").write_bytes(b"")
    assert append_meta(tmp_path, "1.5", "keep", "api") and append_meta(tmp_path, "1.5", "pause", "100.5")
    assert read_meta(tmp_path / "incoming" / "1.5.meta") == {"keep": ["api"], "pause": ["100.5"]}
    for bad in ("*", "1.5@x", "../1.5", "1.5/..", ""):  # a call id goes into a glob and a file name
        with pytest.raises(NotFound):
            append_meta(tmp_path, bad, "keep", "api")


def test_pauses_are_offsets_from_the_answer() -> None:
    meta = {"pause": ["101.0", "105.5"], "resume": ["103.25"]}
    assert pauses_from(meta, answered_at=100.0, seconds=8.0) == [[1.0, 3.25], [5.5, 8.0]]  # last one open
    assert pauses_from({"resume": ["101"]}, 100.0, 5.0) == []  # a resume without a pause is ignored
    assert pauses_from({"pause": ["90"], "resume": ["120"]}, 100.0, 5.0) == [[0.0, 5.0]]  # clamped


def test_in_call_codes_only_where_the_policy_has_them() -> None:
    policies = ["always", "always_with_pause", "on_demand", "on_demand_with_start"]
    plan = parse_plan(tenant_plan(*(basis_number(number=f"0800 000 001{i}", recording={"policy": p})
                                    for i, p in enumerate(policies))))
    files = render_dialplan(compile_plan(plan, {}))
    features = {p: next(line for line in files[f"n-31800000001{i}.conf"].splitlines() if "DYNAMIC_FEATURES" in line)
                for i, p in enumerate(policies)}
    assert features["always"].endswith("=svcblock)")
    assert features["always_with_pause"].endswith("=svcblock#svcrecpause)")
    assert features["on_demand"].endswith("=svcblock#svcreckeep#svcrecpause)")
    assert features["on_demand_with_start"].endswith("=svcblock#svcrecstart#svcrecstop#svcrecpause)")
    # Who answered is noted on answer (Dial option U) wherever calls are recorded.
    assert "U(svc-rec-answered^+" in files["n-318000000010.conf"]


def test_pause_event_from_the_dialplan() -> None:
    from orchestrator.live import events as ev

    msg = {"Event": "UserEvent", "UserEvent": "SvcRecordingPause", "Uniqueid": "2.0", "Linkedid": "2.0",
           "Channel": "PJSIP/carrier-0", "Number": "+318000000710", "Call": "2.0-2", "Paused": "1"}
    event = ev.parse(msg, datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(event, ev.RecordingPause)
    assert (event.call_id, event.recording, event.paused) == ("2.0", "2.0-2", True)


def test_orphan_side_file_dropped_after_a_while(tmp_path: Path) -> None:
    import os

    from orchestrator.services.recordings.store import ingest

    done = tmp_path / "spool" / "done"
    done.mkdir(parents=True)
    old, fresh = done / "9@1.1@31800@x@always@t.meta", done / "9@1.2@31800@x@always@t.meta"
    old.write_text("agent=+31205550011\n")
    fresh.write_text("agent=+31205550011\n")
    os.utime(old, (0, 0))
    keys = parse_keys("k1:" + base64.b64encode(bytes(32)).decode(), "t")
    assert ingest(None, tmp_path / "spool", tmp_path / "store", keys).stored == []
    assert not old.exists() and fresh.exists()  # the fresh one may still get its recording
