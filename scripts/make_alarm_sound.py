"""Writes dashboards/web/sounds/critical.wav: the page's sound for a new critical alarm.

Generated, not recorded, so the file's source is this script: three pulses alternating 880 Hz
and 660 Hz (a two-tone alert), 0.9 s, 16-bit mono at 16 kHz, with 10 ms fades so no pulse clicks.
Run it again after changing the tone: `python scripts/make_alarm_sound.py`.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
PULSE_S = 0.15
TONES = (880.0, 660.0, 880.0, 660.0, 880.0, 660.0)
FADE_S = 0.01
VOLUME = 0.5


def samples() -> list[int]:
    out = []
    n = int(RATE * PULSE_S)
    fade = int(RATE * FADE_S)
    for f in TONES:
        for i in range(n):
            env = min(1.0, i / fade, (n - 1 - i) / fade)
            out.append(int(32767 * VOLUME * env * math.sin(2 * math.pi * f * i / RATE)))
    return out


def main() -> None:
    path = Path(__file__).resolve().parents[1] / "dashboards" / "web" / "sounds" / "critical.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples()))
    print(path)


if __name__ == "__main__":
    main()
