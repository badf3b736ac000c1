"""One packet as a JSON-ready dict: what `smartpark hj212 decode` prints (pure)."""

from __future__ import annotations

from typing import Any

from hj212 import errors
from hj212.errors import Hj212Error
from hj212.frame import parse_frame
from hj212.packet import Packet, parse_segment

# Faults found before the CRC could be checked: crc_ok is unknown (null) for them.
_BEFORE_CRC = frozenset({errors.BAD_HEADER, errors.BAD_LENGTH, errors.BAD_TRAILER, errors.BAD_ENCODING})


def describe(raw: bytes) -> dict[str, Any]:
    """valid, crc_ok, error (reason and detail), header fields, readings and pollutant problems."""
    line = raw.rstrip(b"\r\n")
    try:
        frame = parse_frame(line, tail_required=False)
    except Hj212Error as exc:
        crc_ok = None if exc.reason in _BEFORE_CRC else False
        return {"valid": False, "crc_ok": crc_ok, "error": _error(exc)}
    try:
        packet = parse_segment(frame.segment)
    except Hj212Error as exc:
        return {"valid": False, "crc_ok": True, "error": _error(exc)}
    first = packet.problems[0] if packet.problems else None
    return {
        "valid": first is None,
        "crc_ok": True,
        "error": None if first is None else {"reason": first.reason, "detail": first.detail},
        **header(packet),
        "readings": [
            {"code": r.code, "raw_code": r.raw_code, "suffix": r.suffix, "value": r.value, "flag": r.flag}
            for r in packet.readings
        ],
        "params": dict(packet.params),
        "problems": [{"reason": p.reason, "detail": p.detail, "key": p.key} for p in packet.problems],
    }


def header(packet: Packet) -> dict[str, Any]:
    return {
        "qn": packet.qn,
        "st": packet.st,
        "cn": packet.cn,
        "pw": packet.pw,
        "mn": packet.mn,
        "flag": packet.flag,
        "version": packet.version,
        "reply_required": packet.wants_reply,
        "pnum": packet.pnum,
        "pno": packet.pno,
        "data_time": packet.data_time.isoformat() if packet.data_time else None,
    }


def _error(exc: Hj212Error) -> dict[str, str]:
    return {"reason": exc.reason, "detail": exc.detail}
