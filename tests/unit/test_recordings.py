"""Call recording, pure parts: keys, AES-256-GCM at rest, retention, plan rules, dialplan."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.plan import parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.errors import PlanInvalid, RecordingKeyError, RecordingTampered
from orchestrator.recordings import crypto
from orchestrator.recordings.keys import load_keyring, parse_keys
from orchestrator.recordings.store import parse_name, retention_until
from orchestrator.render import render_dialplan
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
        basis_number(number="0800 000 0008", recording={"policy": "on_demand_with_start"}),
        recording_retention="8y"))
    fields = {v.field for v in check_plan(plan, NOW)}
    assert {"numbers[0].recording.announce", "numbers[1].recording.announce", "numbers[2].recording.policy",
            "recording_retention"} <= fields
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
