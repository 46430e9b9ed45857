"""Recording keys: AES-256 keys with an id, the first one current (new recordings), the others kept
for reading older recordings (rotation: put the new key first, keep the old ones after it).

Sources, first found wins:
* ``SVC_RECORDING_KEYS`` = ``keyid:base64key,keyid2:base64key2`` (32-byte keys);
* ``SVC_RECORDING_KEY_FILE`` = a file with one ``keyid:base64key`` per line (``#`` comments);
* otherwise ``$SVC_STATE_DIR/secrets/recording-keys``, generated once (mode 0600) with one random key,
  like the AMI secret: never a stock key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import RecordingKeyError

KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
KEY_BYTES = 32  # AES-256


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes

    def __repr__(self) -> str:  # never print key material
        return f"Key({self.id!r})"


@dataclass(frozen=True)
class Keyring:
    keys: tuple[Key, ...]  # the first is current
    source: str  # where they came from, for error messages (never the keys themselves)

    @property
    def current(self) -> Key:
        return self.keys[0]

    def get(self, key_id: str) -> Key | None:
        return next((k for k in self.keys if k.id == key_id), None)


def parse_keys(text: str, source: str) -> Keyring:
    keys: list[Key] = []
    for n, raw in enumerate(re.split(r"[,\n]", text), start=1):
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        key_id, sep, b64 = item.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID.fullmatch(key_id):
            raise RecordingKeyError(f"{source}: entry {n} is not 'keyid:base64key' (key id: letters, digits, _ . -)")
        try:
            secret = base64.b64decode(b64.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RecordingKeyError(f"{source}: key {key_id!r} is not valid base64") from exc
        if len(secret) != KEY_BYTES:
            raise RecordingKeyError(f"{source}: key {key_id!r} has {len(secret)} bytes; AES-256 needs {KEY_BYTES}")
        if any(k.id == key_id for k in keys):
            raise RecordingKeyError(f"{source}: key id {key_id!r} appears twice")
        keys.append(Key(key_id, secret))
    if not keys:
        raise RecordingKeyError(f"{source}: no recording keys")
    return Keyring(tuple(keys), source)


def new_key_line(key_id: str = "k1") -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def load_keyring(state_dir: Path, env: Mapping[str, str] | None = None) -> Keyring:
    e = os.environ if env is None else env
    if e.get("SVC_RECORDING_KEYS"):
        return parse_keys(e["SVC_RECORDING_KEYS"], "SVC_RECORDING_KEYS")
    path = Path(e["SVC_RECORDING_KEY_FILE"]) if e.get("SVC_RECORDING_KEY_FILE") else None
    if path is None:
        path = state_dir / "secrets" / "recording-keys"
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(new_key_line() + "\n")
            except FileExistsError:
                pass  # another process generated it first
            except OSError as exc:
                raise RecordingKeyError(f"cannot create the recording key file {path}: {exc}") from exc
    try:
        text = path.read_text()
    except OSError as exc:
        raise RecordingKeyError(f"cannot read the recording key file {path}: {exc}") from exc
    return parse_keys(text, str(path))
