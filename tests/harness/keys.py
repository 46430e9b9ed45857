"""A caller who presses keys: RFC 4733 telephone-events in a pcap that sipp replays into the call
once it is answered (``play_pcap_audio``), one scenario file per call.

Keys are a flow simulator key string (``"1,2,123#,-"``). Each key is one press (0.14 s of events,
0.3 s quiet, then ``gap`` s); ``-`` is a silence of ``pause_for(timeout)`` s, longer than one wait of
the block (its longest prompt plus its timeout), so it times out once, and shorter than two waits.
Leading pauses delay the first key. After the keys the caller waits for Asterisk's BYE (or hangs up
itself after ``wait`` s).

Like a phone, the caller sends audio (silence) from the answer on, at least ``TALK_S`` s: longer
than Asterisk's strict RTP learning (5 s), so from its first packet the call's RTP port takes only
this caller's stream (deploy/sipp/make_dtmf_pcap.py says why a silent caller could hear another
call's keys).

Timing under load: sipp replays the pcap on a schedule from its start (send_packets.c do_sleep),
so when the machine stalls sipp's thread for s seconds, the next key is s late and the ones after
it catch up. A key that is late by more than (timeout - key spacing) splits a digit entry or eats
a menu's wait. Hence keys are 0.44 s apart, the e2e flows wait ``timeout`` >= 4 s (3.5 s of slack),
and ``-`` sits in the middle of its window (about 2 s of slack each side).
"""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

from tests.harness.sipp import SCENARIOS, CallResult, place_call

_spec = importlib.util.spec_from_file_location("make_dtmf_pcap", SCENARIOS / "make_dtmf_pcap.py")
assert _spec is not None and _spec.loader is not None
_pcap: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pcap)

PRESS_S = 7 * 0.02 + 0.3  # make_dtmf_pcap: 7 packets of 20 ms, then 0.3 s before the next key
LEAD_S = 0.5  # from the answer to the first key (or leading pause)
TALK_S = 6.0  # audio at least this long: past Asterisk's 5 s of strict RTP learning
PROMPT_S = (0.44, 0.93)  # the flows' shortest and longest prompt: beep.gsm, beep&beep (+50 ms)


def pause_for(timeout: float) -> float:
    """A silence that makes a block waiting ``timeout`` s time out exactly once: the middle of
    (one longest wait, two shortest waits)."""
    return ((timeout + PROMPT_S[1]) + 2 * (timeout + PROMPT_S[0])) / 2


def timeline(keys: str, gap: float, pause: float) -> tuple[float, list[tuple[str, float]], float]:
    """(initial delay, [(key, silence after)], duration of the key part)."""
    presses: list[tuple[str, float]] = []
    delay = 0.0
    for k in (c for c in keys if c not in ", "):
        if k == "-":
            if presses:
                key, after = presses[-1]
                presses[-1] = (key, after + pause - PRESS_S)
            else:
                delay += pause
        else:
            presses.append((k, gap))
    return delay, presses, sum(PRESS_S + after for _k, after in presses)


def scenario(workdir: Path, keys: str, *, pause: float, gap: float = 0.0, wait: float = 15.0) -> Path:
    delay, presses, length = timeline(keys, gap, pause)
    tag = uuid.uuid4().hex[:10]
    pcap = workdir / f"keys-{tag}.pcap"
    _pcap.write(pcap, presses, lead=LEAD_S + delay, talk=TALK_S)
    text = (SCENARIOS / "caller_dtmf.xml").read_text()
    head, _, _ = text.partition('<pause milliseconds="1000"/>')
    bye_tail = text[text.index("<send retrans=\"500\">", text.index('<label id="answered"/>')):]
    body = (f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'
            f'  <recv request="BYE" timeout="{int((LEAD_S + delay + length + wait) * 1000)}" ontimeout="self_bye"/>\n'
            '  <send><![CDATA[\n\n      SIP/2.0 200 OK\n      [last_Via:]\n      [last_From:]\n      [last_To:]\n'
            '      [last_Call-ID:]\n      [last_CSeq:]\n      Content-Length: 0\n\n    ]]></send>\n'
            '  <nop next="end"/>\n  <label id="self_bye"/>\n  ')
    out = workdir / f"caller-keys-{tag}.xml"
    out.write_text(head + body + bye_tail)
    return out


def call_with_keys(sip_port: int, number: str, caller: str, keys: str, *, workdir: Path, timeout: float,
                   anonymous: bool = False, wait: float = 15.0) -> CallResult:
    """One sipp call that presses ``keys`` into flows whose menus and inputs wait ``timeout`` s."""
    workdir.mkdir(parents=True, exist_ok=True)
    pause = pause_for(timeout)
    delay, _presses, length = timeline(keys, 0.0, pause)
    path = scenario(workdir, keys, pause=pause, wait=wait)
    return place_call(sip_port, number, caller, anonymous=anonymous, workdir=workdir, scenario=str(path),
                      timeout=delay + length + wait + 60.0)
