"""Writes the carrier's DTMF pcaps (python3 deploy/sipp/make_dtmf_pcap.py): RFC 4733 telephone-events
(one RTP stream, increasing sequence numbers and timestamps), as sipp's play_pcap_audio replays them.

* dtmf_star9.pcap: '*' '9' (active blocking);
* dtmf_star44.pcap: '*' '4' '4' (recording: keep, on demand);
* dtmf_star46.pcap: '*' '4' '6' (recording: start, on demand with start);
* dtmf_start_stop.pcap: '*46', 2 s later '*47' (start, then stop);
* dtmf_pause_toggle.pcap: '*45', 2 s later '*45' again (pause, then resume).

Debian's dtmf_2833_star.pcap and dtmf_2833_9.pcap cannot be played one after the other: they share an
SSRC and the 9 has the lower sequence numbers and timestamp, so Asterisk drops it as old. For the
same reason a code pressed twice in one call must be in ONE pcap (hence dtmf_start_stop.pcap)."""
import struct
import sys
from pathlib import Path

EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
PCAPS = {"dtmf_star9.pcap": [("*9", 0.0)], "dtmf_star44.pcap": [("*44", 0.0)],
         "dtmf_star46.pcap": [("*46", 0.0)], "dtmf_start_stop.pcap": [("*46", 2.0), ("*47", 0.0)],
         "dtmf_pause_toggle.pcap": [("*45", 2.0), ("*45", 0.0)]}


AUDIO_PT, SILENCE = 0, b"\xff" * 160  # PCMU (Asterisk answers 0 8 101), one 20 ms frame of silence


def packets(presses: list[tuple[str, float]], *, lead: float = 0.0, talk: float = 0.0) -> list[tuple[float, bytes]]:
    """RTP packets (time, bytes) of one stream: each key is 7 telephone-event packets 20 ms apart,
    then 0.3 s and the press's gap before the next. The first key at ``lead`` s.

    ``talk`` > 0: the caller also sends audio (PCMU silence, 20 ms frames) from 0 s until the end of
    the keys and at least ``talk`` s, like a phone does. That is what makes the call's RTP port its
    own: Asterisk's strict RTP learning (res_rtp_asterisk.c, 5 s) takes a stream from another
    address once it has 4 sequential packets while the known source is silent. A caller silent
    until its first key lets a stray stream (an ended call's sender whose RTP port Asterisk has
    just given to this call) be heard as keys; every packet of the caller's own stream resets such
    a candidate, so with audio flowing from the start it never qualifies."""
    events: list[tuple[float, int, int, bool, bytes]] = []  # (t, ts, payload type, marker, payload)
    t = lead
    busy: list[tuple[float, float]] = []
    for code, gap_after in presses:
        for ch in code:
            ts = 8000 + round(t * 8000)
            for i in range(7):
                end = i >= 4
                duration = min(i + 1, 5) * 160
                payload = struct.pack(">BBH", EVENTS[ch], (0x80 if end else 0) | 10, duration)
                events.append((t + i * 0.02, ts, 101, i == 0, payload))
            busy.append((t - 0.01, t + 0.13))
            t += 7 * 0.02 + 0.3
        t += gap_after
    if talk > 0:
        n = 0
        while n * 0.02 < max(talk, t):
            at = n * 0.02
            if not any(a <= at <= b for a, b in busy):
                events.append((at, 8000 + n * 160, AUDIO_PT, n == 0, SILENCE))
            n += 1
    events.sort(key=lambda e: e[0])
    out = []
    for seq, (at, ts, pt, marker, payload) in enumerate(events, start=1000):
        header = struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq, ts, 0x5356434E)
        out.append((at, header + payload))
    return out


def write(path: Path, presses: list[tuple[str, float]], *, lead: float = 0.0, talk: float = 0.0) -> None:
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, rtp in packets(presses, lead=lead, talk=talk):
            udp = struct.pack(">HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                             bytes([127, 0, 0, 1])) + udp
            eth = b"\0" * 12 + b"\x08\x00" + ip
            sec = 1_000_000_000 + int(t)
            fh.write(struct.pack("<IIII", sec, int(round((t % 1) * 1e6)), len(eth), len(eth)) + eth)


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    for name, presses in PCAPS.items():
        write(folder / name, presses)
