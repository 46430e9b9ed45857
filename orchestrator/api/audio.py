"""Uploaded audio: the type is told by the bytes (never by the file name); services/announcements.py
then has sox convert it to what Asterisk plays (asterisk/media.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AudioType:
    mime: str
    suffix: str  # sox picks its reader by the suffix, so the upload is saved under this one


WAV = AudioType("audio/wav", ".wav")
MP3 = AudioType("audio/mpeg", ".mp3")
SNIFF_BYTES = 12


def _mp3_frame(h: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, and no reserved version, layer, bitrate or rate."""
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return False
    version, layer = (h[1] >> 3) & 0b11, (h[1] >> 1) & 0b11
    bitrate, rate = h[2] >> 4, (h[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and rate != 0b11


def sniff(head: bytes) -> AudioType | None:
    """WAV (RIFF/WAVE header) or MP3 (ID3 tag or a frame header), from the first bytes."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:3] == b"ID3" or _mp3_frame(head):
        return MP3
    return None
