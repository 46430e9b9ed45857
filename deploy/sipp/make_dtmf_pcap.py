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


def packets(presses: list[tuple[str, float]]) -> list[tuple[float, bytes]]:
    seq, ts, t = 1000, 8000, 0.0
    out = []
    for code, gap_after in presses:
        for ch in code:
            for i in range(7):
                end = i >= 4
                duration = min(i + 1, 5) * 160
                payload = struct.pack(">BBH", EVENTS[ch], (0x80 if end else 0) | 10, duration)
                marker = 0x80 if i == 0 else 0
                rtp = struct.pack(">BBHII", 0x80, marker | 101, seq, ts, 0x5356434E) + payload
                out.append((t, rtp))
                seq += 1
                t += 0.02
            ts += 160 * 20
            t += 0.3
        t += gap_after
        ts += int(gap_after * 8000)
    return out


def write(path: Path, presses: list[tuple[str, float]]) -> None:
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, rtp in packets(presses):
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
