"""The built-in sound set a plan's ``sound:`` may name: Asterisk's core sounds, listed in
``builtin-sounds.txt`` next to this module (package data, read once)."""

from __future__ import annotations

from importlib import resources


def _names() -> frozenset[str]:
    text = (resources.files("orchestrator.domain") / "builtin-sounds.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


BUILTIN_SOUND_NAMES = _names()
