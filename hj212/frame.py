"""The HJ 212 frame: ``##`` + 4-digit length + data segment + 4 hex CRC + CR LF.

:func:`parse_frame` checks one frame; :class:`FrameScanner` cuts a TCP byte stream into frames
and reports what lies between them (garbage, truncated frames) instead of dropping it silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from hj212 import errors
from hj212.crc import crc_hex
from hj212.errors import Hj212Error

HEAD = b"##"
TAIL = b"\r\n"
MAX_SEGMENT = 9999  # what a 4-digit decimal length can say
MAX_FRAME = len(HEAD) + 4 + MAX_SEGMENT + 4 + len(TAIL)
_HEX = frozenset(b"0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class Frame:
    segment: str
    crc: str  # as received (case kept)


def parse_frame(frame: bytes, *, tail_required: bool = True) -> Frame:
    """The data segment of one frame, its length and CRC checked (CRC case-insensitive)."""
    if tail_required:
        if not frame.endswith(TAIL):
            raise Hj212Error(errors.BAD_TRAILER, f"frame does not end with CR LF: {_show(frame[-8:])}")
        frame = frame[: -len(TAIL)]
    elif frame.endswith(TAIL):
        frame = frame[: -len(TAIL)]
    if not frame.startswith(HEAD):
        raise Hj212Error(errors.BAD_HEADER, f"frame does not start with ##: {_show(frame[:8])}")
    length_field = frame[2:6]
    if len(length_field) != 4 or not length_field.isdigit():
        raise Hj212Error(errors.BAD_LENGTH, f"length field {_show(length_field)} is not 4 decimal digits")
    declared = int(length_field)
    actual = len(frame) - 6 - 4
    if actual != declared:
        raise Hj212Error(
            errors.BAD_LENGTH,
            f"length field says {declared} bytes but the data segment has {max(actual, 0)}",
        )
    raw_segment = frame[6 : 6 + declared]
    crc_field = frame[6 + declared :]
    if len(crc_field) != 4 or not all(c in _HEX for c in crc_field):
        raise Hj212Error(errors.BAD_CRC, f"CRC field {_show(crc_field)} is not 4 hex digits")
    try:
        segment = raw_segment.decode("ascii")
    except UnicodeDecodeError as exc:
        raise Hj212Error(errors.BAD_ENCODING, f"data segment byte {raw_segment[exc.start]:#04x} is not ASCII") from exc
    received = crc_field.decode("ascii")
    computed = crc_hex(raw_segment)
    if received.upper() != computed:
        raise Hj212Error(errors.BAD_CRC, f"CRC {received} does not match computed {computed}")
    return Frame(segment, received)


def encode_frame(segment: str) -> bytes:
    raw = segment.encode("ascii")
    if len(raw) > MAX_SEGMENT:
        raise ValueError(f"data segment of {len(raw)} bytes exceeds {MAX_SEGMENT}")
    return b"%s%04d%s%s%s" % (HEAD, len(raw), raw, crc_hex(raw).encode("ascii"), TAIL)


@dataclass(frozen=True, slots=True)
class Junk:
    """Bytes that are not a frame: garbage between frames, a truncated or endless frame."""

    reason: str  # errors.GARBAGE, errors.TRUNCATED or errors.TOO_LONG
    size: int
    preview: str

    @property
    def detail(self) -> str:
        return f"{self.size} bytes of {self.reason.replace('_', ' ')}: {self.preview}"


def _junk(reason: str, raw: bytes) -> Junk:
    return Junk(reason, len(raw), _show(raw[:40]))


class FrameScanner:
    """Cuts a byte stream into candidate frames (``##`` … CR LF).

    A frame ends at the first CR LF (neither ``#`` nor CR LF appears inside a data segment), so a
    wrong length field costs one frame, not the stream; a ``##`` before that CR LF means the
    previous frame was cut off (the logger reconnected or restarted mid-packet).
    """

    __slots__ = ("_buf", "_max_frame")

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buf = bytearray()
        self._max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes | Junk]:
        buf = self._buf
        buf += data
        out: list[bytes | Junk] = []
        while buf:
            start = buf.find(HEAD)
            if start < 0:
                # keep a lone trailing '#': it may be the first half of the next head
                keep = 1 if buf.endswith(b"#") else 0
                if len(buf) > keep:
                    out.append(_junk(errors.GARBAGE, bytes(buf[: len(buf) - keep])))
                    del buf[: len(buf) - keep]
                break
            while start + 2 < len(buf) and buf[start + 2] == 0x23:  # '###…': the last two open
                start += 1
            if start > 0:
                out.append(_junk(errors.GARBAGE, bytes(buf[:start])))
                del buf[:start]
            end = buf.find(TAIL, 2)
            nxt = buf.find(HEAD, 2, end if end >= 0 else len(buf))
            if nxt >= 0:
                out.append(_junk(errors.TRUNCATED, bytes(buf[:nxt])))
                del buf[:nxt]
                continue
            if end < 0:
                if len(buf) > self._max_frame:
                    out.append(_junk(errors.TOO_LONG, bytes(buf)))
                    buf.clear()
                break
            out.append(bytes(buf[: end + 2]))
            del buf[: end + 2]
        return out

    def close(self) -> Junk | None:
        """What is left when the connection ends: a frame cut off mid-packet, if any."""
        if not self._buf:
            return None
        junk = _junk(errors.TRUNCATED if self._buf.startswith(HEAD) else errors.GARBAGE, bytes(self._buf))
        self._buf.clear()
        return junk

    @property
    def pending(self) -> int:
        return len(self._buf)


def _show(raw: bytes) -> str:
    return repr(raw.decode("ascii", "backslashreplace"))
