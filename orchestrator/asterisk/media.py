"""Audio for Asterisk: any audio file converted with sox, and generated Dutch prompts
(text-to-speech with espeak-ng's Dutch voice, converted by sox).

Prompts are cached by a hash of their text and voice: the same tariff text is synthesised once,
however many numbers use it, and a file name changes when the text does.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

from orchestrator.errors import PromptFailed, SoundImportFailed

VOICE = "nl"



def prompt_path(cache_dir: Path, text: str, voice: str = VOICE) -> Path:
    digest = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()[:16]
    return cache_dir / f"tts-{digest}.wav"


def synthesise(cache_dir: Path, text: str, voice: str = VOICE) -> Path:
    """The prompt for ``text`` as an 8 kHz mono WAV (generated once, then from the cache).
    A ``.txt`` beside it keeps the text, so what a caller hears can be read back."""
    target = prompt_path(cache_dir, text, voice)
    if target.exists():
        return target
    if shutil.which("espeak-ng") is None:
        raise PromptFailed("espeak-ng is not installed (Debian package 'espeak-ng')")
    cache_dir.mkdir(parents=True, exist_ok=True)
    raw = target.with_name(f".{target.stem}.raw.wav")
    proc = subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raw.unlink(missing_ok=True)
        raise PromptFailed(f"espeak-ng failed: {proc.stderr.strip()}")
    try:
        convert_for_asterisk(raw, target)
    finally:
        raw.unlink(missing_ok=True)
    target.with_suffix(".txt").write_text(text + "\n")
    return target


def convert_for_asterisk(source: Path, target: Path) -> None:
    """Any audio sox reads → 8 kHz mono 16-bit WAV, what Asterisk plays without transcoding
    from slin. Written next to the target and renamed, so a half-converted file never plays."""
    if shutil.which("sox") is None:
        raise SoundImportFailed("sox is not installed (Debian package 'sox')")
    if not source.is_file():
        raise SoundImportFailed(f"announcement file {source} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.wav")
    proc = subprocess.run(
        ["sox", str(source), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(tmp)],
        capture_output=True, text=True, timeout=120,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise SoundImportFailed(f"cannot convert {source}: {proc.stderr.strip()}")
    tmp.replace(target)


def wav_seconds(path: Path) -> float:
    """Length of a converted (PCM) WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (wave.Error, EOFError, OSError) as exc:
        raise SoundImportFailed(f"the converted file is not a readable WAV: {exc}") from exc
