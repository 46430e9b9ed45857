"""Encryption at rest: one AES-256-GCM message per recording file.

File layout (all of it before the nonce is also the GCM associated data, so the key id, the key
check and the call id cannot be changed without the tag failing)::

    b"SVCREC1\n" | u8 len | key id | 8-byte key check | u16 len | call id | 12-byte nonce | ciphertext+tag

The key check (first 8 bytes of HMAC-SHA256(key, label)) tells "wrong key" apart from "altered
file": with the right key a failing tag can only mean the bytes changed. It reveals nothing usable
about the key (a 64-bit MAC of a constant).

The whole recording is one message, in memory: 8 kHz 16-bit audio is ~58 MB per hour.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orchestrator.errors import RecordingError, RecordingKeyError, RecordingTampered
from orchestrator.services.recordings.keys import Key, Keyring

MAGIC = b"SVCREC1\n"
NONCE_BYTES = 12
CHECK_BYTES = 8
_CHECK_LABEL = b"svcnum recording key check v1"


def key_check(key: Key) -> bytes:
    return hmac.new(key.secret, _CHECK_LABEL, hashlib.sha256).digest()[:CHECK_BYTES]


def _header(key: Key, call_id: str) -> bytes:
    kid, cid = key.id.encode(), call_id.encode()
    return MAGIC + struct.pack("B", len(kid)) + kid + key_check(key) + struct.pack(">H", len(cid)) + cid


def encrypt(plain: bytes, key: Key, call_id: str) -> bytes:
    header = _header(key, call_id)
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonce; one message per file and key
    return header + nonce + AESGCM(key.secret).encrypt(nonce, plain, header + nonce)


def read_header(blob: bytes) -> tuple[str, bytes, str, int]:
    """(key id, key check, call id, offset of the nonce)."""
    try:
        if not blob.startswith(MAGIC):
            raise ValueError("not a recording file")
        pos = len(MAGIC)
        (klen,) = struct.unpack_from("B", blob, pos)
        pos += 1
        key_id = blob[pos:pos + klen].decode()
        pos += klen
        check = blob[pos:pos + CHECK_BYTES]
        pos += CHECK_BYTES
        (clen,) = struct.unpack_from(">H", blob, pos)
        pos += 2
        call_id = blob[pos:pos + clen].decode()
        pos += clen
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise RecordingTampered("the file is not an intact encrypted recording (bad header)") from exc
    if len(blob) < pos + NONCE_BYTES + 16:
        raise RecordingTampered("the file is truncated")
    return key_id, check, call_id, pos


def decrypt(blob: bytes, keyring: Keyring, call_id: str) -> bytes:
    """The plain recording; RecordingKeyError for a missing/wrong key, RecordingTampered for altered bytes."""
    key_id, check, stored_call, pos = read_header(blob)
    key = keyring.get(key_id)
    if key is None:
        raise RecordingKeyError(f"the recording was encrypted with key {key_id!r}, which is not among the "
                                f"configured keys ({keyring.source}); add it to read older recordings")
    if not hmac.compare_digest(key_check(key), check):
        raise RecordingKeyError(f"key {key_id!r} from {keyring.source} is not the key this recording was "
                                "encrypted with (wrong key for this key id)")
    if stored_call != call_id:
        raise RecordingTampered(f"the file belongs to call {stored_call!r}, not {call_id!r}")
    nonce = blob[pos:pos + NONCE_BYTES]
    try:
        return AESGCM(key.secret).decrypt(nonce, blob[pos + NONCE_BYTES:], blob[:pos + NONCE_BYTES])
    except InvalidTag as exc:
        raise RecordingTampered("the recording fails its integrity check (AES-GCM tag): the file was altered "
                                "or truncated") from exc
    except ValueError as exc:
        raise RecordingError(f"cannot decrypt the recording: {exc}") from exc
