"""Announcements: which sound Playback gets for a name, importing audio files with sox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestrator.asterisk.media import convert_for_asterisk, prompt_path, synthesise
from orchestrator.domain.flow import Prompt
from orchestrator.domain.flow_compile import text_sound_key
from orchestrator.domain.plan import TenantPlan


def resolve_sounds(plan: TenantPlan, sounds_dir: Path, asterisk_path: Callable[[Path], str],
                   base_dir: Path | None = None, *, import_files: bool = True) -> dict[str, str]:
    """Map the plan's announcement names to Playback arguments, importing ``file:`` ones."""
    out: dict[str, str] = {}
    for name, a in plan.announcements.items():
        if a.sound is not None:
            out[name] = a.sound
            continue
        assert a.file is not None
        target = sounds_dir / plan.tenant / f"{name}.wav"
        if import_files:
            source = Path(a.file)
            if not source.is_absolute() and base_dir is not None:
                source = base_dir / source
            convert_for_asterisk(source, target)
        out[name] = asterisk_path(target.with_suffix(""))
    out.update(tariff_prompts(plan, sounds_dir / "prompts", asterisk_path, generate=import_files))
    out.update(flow_prompts(plan, sounds_dir / "prompts", asterisk_path, generate=import_files))
    return out


def flow_prompts(plan: TenantPlan, cache_dir: Path, asterisk_path: Callable[[Path], str],
                 *, generate: bool = True) -> dict[str, str]:
    """Dutch speech (espeak-ng) for the flows' text prompts, so a flow can be tried before its
    recordings exist; each text is synthesised once (cached by its hash)."""
    texts = {value["text"] for flow in plan.flows.values() for block in flow.blocks.values()
             for value in block.params.values() if isinstance(value, dict) and isinstance(value.get("text"), str)}
    out = {}
    for text in sorted(texts):
        Prompt.model_validate({"text": text})  # the rules checked it; keep odd text out of espeak
        path = synthesise(cache_dir, text) if generate else prompt_path(cache_dir, text)
        out[text_sound_key(text)] = asterisk_path(path.with_suffix(""))
    return out


def tariff_prompts(plan: TenantPlan, cache_dir: Path, asterisk_path: Callable[[Path], str],
                   *, generate: bool = True) -> dict[str, str]:
    """Generated tariff announcements of the plan's 090x numbers that have no own recording."""
    from orchestrator.domain.compile import tariff_sound_key
    from orchestrator.domain.tariffs import announcement_text

    out = {}
    for n in plan.numbers:
        t = n.tariff
        if t is None or t.announcement is not None:
            continue
        text = announcement_text(t.per_call, t.per_minute, t.max_call_cost)
        path = synthesise(cache_dir, text) if generate else prompt_path(cache_dir, text)
        out[tariff_sound_key(n.number)] = asterisk_path(path.with_suffix(""))
    return out
