"""Encoders: the platform's replies (9011, 9014) and data packets as a data logger sends them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from hj212 import codes
from hj212.frame import encode_frame

MAX_CP_SEGMENT = 1024  # HJ 212-2017: a data segment of at most 1024 characters


def qn_of(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"


def flag_of(version: str, *, reply: bool, split: bool = False) -> int:
    try:
        bits = codes.VERSION_BITS[version]
    except KeyError:
        raise ValueError(f"unknown HJ 212 version {version!r}") from None
    return bits << 2 | (codes.FLAG_SPLIT if split else 0) | (codes.FLAG_REPLY if reply else 0)


def segment(
    *,
    qn: str | None,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    flag: int,
    cp: str,
    pnum: int | None = None,
    pno: int | None = None,
) -> str:
    head = f"QN={qn};" if qn is not None else ""
    split = f"PNUM={pnum};PNO={pno};" if pnum is not None else ""
    return f"{head}ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};{split}CP=&&{cp}&&"


def _reply(cn: str, cp: str, *, qn: str, pw: str, mn: str, version: str) -> bytes:
    flag = flag_of(version, reply=False)
    return encode_frame(segment(qn=qn, st=codes.ST_SYSTEM, cn=cn, pw=pw, mn=mn, flag=flag, cp=cp))


def request_reply(*, qn: str, pw: str, mn: str, qn_rtn: int, version: str = "2017") -> bytes:
    """9011: the answer to a request (QnRtn 1 ready, 3 wrong password, 4 unknown MN, …)."""
    return _reply(codes.CN_REQUEST_REPLY, f"QnRtn={qn_rtn}", qn=qn, pw=pw, mn=mn, version=version)


def data_reply(*, qn: str, pw: str, mn: str, version: str = "2017") -> bytes:
    """9014: the platform received the data packet identified by QN."""
    return _reply(codes.CN_DATA_REPLY, "", qn=qn, pw=pw, mn=mn, version=version)


def format_value(value: float) -> str:
    """The shortest text that reads back as the same float, without exponents."""
    if not math.isfinite(value):
        raise ValueError(f"value {value!r} is not finite")
    text = repr(float(value))
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    elif text.endswith(".0"):
        text = text[:-2]
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Pollutant:
    """One pollutant's fields in a data packet: ``code-Suffix=value``… and its ``-Flag``."""

    code: str
    values: Mapping[str, float]  # suffix -> value
    flag: str | None = "N"
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. {"EFlag": "A01"}

    def render(self) -> str:
        parts = [f"{self.code}-{s}={format_value(v)}" for s, v in self.values.items()]
        parts += [f"{self.code}-{s}={v}" for s, v in self.extra.items()]
        if self.flag is not None:
            parts.append(f"{self.code}-Flag={self.flag}")
        return ",".join(parts)


def data_packets(
    *,
    qn: str,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    data_time: datetime,
    pollutants: Sequence[Pollutant],
    version: str = "2017",
    reply: bool = True,
    max_segment: int = MAX_CP_SEGMENT,
) -> list[bytes]:
    """Frames of one data upload, split into PNUM/PNO packets when one would be too long.

    Every part repeats DataTime, so each can be read on its own as the standard allows.
    """
    stamp = f"DataTime={data_time.strftime('%Y%m%d%H%M%S')}"
    rendered = [p.render() for p in pollutants]
    split = flag_of(version, reply=reply, split=True)
    parts = split_frames(
        rendered, stamp=stamp, qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=split, max_segment=max_segment, what="pollutant"
    )
    if len(parts) > 1:
        return parts
    cp = ";".join([stamp, *rendered])
    return [encode_frame(segment(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag_of(version, reply=reply), cp=cp))]


def split_frames(
    items: Sequence[str],
    *,
    stamp: str,
    qn: str,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    flag: int,
    max_segment: int,
    what: str,
) -> list[bytes]:
    """PNUM/PNO frames of ``items``, packed in order into as few parts of at most ``max_segment``
    characters as they fit, each repeating ``stamp`` (DataTime) so that it reads on its own.
    ``flag`` carries the split bit; ``what`` names an item that alone is too long in the error."""
    overhead = len(segment(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag, cp=stamp, pnum=9999, pno=9999))
    groups: list[list[str]] = [[]]
    size = overhead
    for item in items:
        if overhead + len(item) + 1 > max_segment:
            raise ValueError(f"{what} {item[:20]!r}… alone exceeds {max_segment} characters")
        if groups[-1] and size + len(item) + 1 > max_segment:
            groups.append([])
            size = overhead
        groups[-1].append(item)
        size += len(item) + 1
    return [
        encode_frame(
            segment(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag, cp=";".join([stamp, *g]), pnum=len(groups), pno=i)
        )
        for i, g in enumerate(groups, start=1)
    ]
