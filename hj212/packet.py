"""The data segment of HJ 212: header fields and the CP command parameters.

``QN=…;ST=..;CN=….;PW=……;MN=….;Flag=.;[PNUM=..;PNO=..;]CP=&&DataTime=…;code-Suffix=v,…;…&&``

A header that cannot be trusted makes the whole packet unusable (:class:`Hj212Error`); a bad
field of one pollutant costs only that pollutant and is reported in :attr:`Packet.problems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from hj212 import codes, errors
from hj212.errors import Hj212Error
from hj212.frame import parse_frame

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_QN = re.compile(r"\d{17}")
_DIGITS = re.compile(r"\d{1,7}")
_MN = re.compile(r"[0-9A-Za-z_\-]{1,32}")
_PW = re.compile(r"[\x21-\x7e]{1,16}")
_KEY = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)?")
HEADER_FIELDS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
REQUIRED = ("ST", "CN", "PW", "MN")


@dataclass(frozen=True, slots=True)
class Reading:
    code: str  # HJ 212-2017 pollutant code (2005 codes translated)
    raw_code: str  # as sent
    suffix: str  # Rtd, Avg, ZsRtd, …
    value: float
    flag: str | None  # the pollutant's -Flag (N, F, M, S, D, C, T, B); None when not sent


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    detail: str
    key: str


@dataclass(frozen=True, slots=True)
class Packet:
    qn: str | None
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    pnum: int | None
    pno: int | None
    data_time: datetime | None  # local time of the logger, naive as in the packet
    readings: tuple[Reading, ...]
    params: tuple[tuple[str, str], ...]  # other CP items (RtdInterval, -EFlag, -SampleTime …)
    problems: tuple[Problem, ...] = field(default=())

    @property
    def version(self) -> str:
        return codes.VERSIONS[self.flag >> 2]

    @property
    def wants_reply(self) -> bool:
        return bool(self.flag & codes.FLAG_REPLY)

    @property
    def is_split(self) -> bool:
        return bool(self.flag & codes.FLAG_SPLIT)


def _datetime(digits: str) -> datetime:
    # strptime is a third of the decoding time; the digits were checked by the caller
    return datetime(
        int(digits[0:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
    )


def parse_time(text: str, what: str) -> datetime:
    if len(text) != 14 or not text.isdigit():
        raise Hj212Error(errors.BAD_DATATIME, f"{what} {text!r} is not YYYYMMDDhhmmss")
    try:
        return _datetime(text)
    except ValueError as exc:
        raise Hj212Error(errors.BAD_DATATIME, f"{what} {text!r} is not a valid time") from exc


def parse_number(text: str) -> float:
    # float() alone would accept 'nan', 'inf', '1_000' and surrounding blanks
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return float(text)


def _header(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise Hj212Error(errors.BAD_FIELD, f"header item {part!r} has no '='")
        if key in out:
            raise Hj212Error(errors.BAD_FIELD, f"header field {key} appears twice")
        out[key] = value
    return out


def _int_field(header: dict[str, str], key: str, lo: int, hi: int) -> int | None:
    raw = header.get(key)
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise Hj212Error(errors.BAD_FIELD, f"{key} {raw!r} is not an integer in {lo}..{hi}")
    return int(raw)


def _check_header(h: dict[str, str]) -> None:
    for key in REQUIRED:
        if not h.get(key):
            raise Hj212Error(errors.MISSING_FIELD, f"header field {key} is missing")
    if "QN" in h and not _QN.fullmatch(h["QN"]):
        raise Hj212Error(errors.BAD_FIELD, f"QN {h['QN']!r} is not YYYYMMDDhhmmsszzz")
    if "QN" in h:
        try:
            _datetime(h["QN"][:14])
        except ValueError as exc:
            raise Hj212Error(errors.BAD_FIELD, f"QN {h['QN']!r} is not a valid time") from exc
    if not h["ST"].isdigit() or len(h["ST"]) > 5:
        raise Hj212Error(errors.BAD_FIELD, f"ST {h['ST']!r} is not a system code")
    if not h["CN"].isdigit() or len(h["CN"]) > 7:
        raise Hj212Error(errors.BAD_FIELD, f"CN {h['CN']!r} is not a command number")
    if not _PW.fullmatch(h["PW"]):
        raise Hj212Error(errors.BAD_FIELD, f"PW of {len(h['PW'])} characters is not a password")
    if not _MN.fullmatch(h["MN"]):
        raise Hj212Error(errors.BAD_FIELD, f"MN {h['MN'][:40]!r} is not a device identifier")


def parse_segment(segment: str) -> Packet:
    cp_at = segment.find("CP=&&")
    if cp_at < 0:
        raise Hj212Error(errors.MISSING_FIELD, "CP=&&…&& is missing")
    if not segment.endswith("&&") or len(segment) < cp_at + 7:
        raise Hj212Error(errors.BAD_FIELD, f"CP does not end with &&: {segment[-12:]!r}")
    if cp_at and segment[cp_at - 1] != ";":
        raise Hj212Error(errors.BAD_FIELD, "CP is not separated from the header by ';'")
    h = _header(segment[:cp_at])
    _check_header(h)
    flag = _int_field(h, "Flag", 0, 255) or 0
    if flag >> 2 not in codes.VERSIONS:
        raise Hj212Error(errors.BAD_FIELD, f"Flag {flag} carries unknown protocol version {flag >> 2}")
    pnum = _int_field(h, "PNUM", 1, 9999)
    pno = _int_field(h, "PNO", 1, 9999)
    if flag & codes.FLAG_SPLIT:
        if pnum is None or pno is None:
            raise Hj212Error(errors.MISSING_FIELD, f"Flag {flag} marks a split packet but PNUM/PNO are missing")
        if pno > pnum:
            raise Hj212Error(errors.BAD_SPLIT, f"PNO {pno} is greater than PNUM {pnum}")
    body = segment[cp_at + 5 : -2]
    data_time, readings, params, problems = _parse_cp(body)
    if h["CN"] in codes.DATA_CNS and data_time is None:
        raise Hj212Error(errors.MISSING_FIELD, f"DataTime is missing from CN={h['CN']} data")
    return Packet(
        qn=h.get("QN"),
        st=h["ST"],
        cn=h["CN"],
        pw=h["PW"],
        mn=h["MN"],
        flag=flag,
        pnum=pnum,
        pno=pno,
        data_time=data_time,
        readings=tuple(readings),
        params=tuple(params),
        problems=tuple(problems),
    )


def _parse_cp(
    body: str,
) -> tuple[datetime | None, list[Reading], list[tuple[str, str]], list[Problem]]:
    data_time: datetime | None = None
    params: list[tuple[str, str]] = []
    problems: list[Problem] = []
    # pollutant -> suffix -> raw text, in the order sent
    fields: dict[str, dict[str, str]] = {}
    for group in body.split(";"):
        for item in group.split(","):
            if not item:
                continue
            key, eq, value = item.partition("=")
            if not eq or not _KEY.fullmatch(key):
                problems.append(Problem(errors.BAD_FIELD, f"CP item {item[:40]!r} is not key=value", key))
                continue
            if key == "DataTime":
                data_time = parse_time(value, "DataTime")  # every reading depends on it
                continue
            code, dash, suffix = key.partition("-")
            if not dash:
                params.append((key, value))
                continue
            per_code = fields.setdefault(code, {})
            if suffix in per_code:
                problems.append(Problem(errors.BAD_FIELD, f"{key} appears twice", key))
                continue
            per_code[suffix] = value
    readings: list[Reading] = []
    for code, per_code in fields.items():
        flag = per_code.get("Flag")
        if flag is not None and flag not in codes.DATA_FLAGS:
            problems.append(
                Problem(errors.BAD_FLAG, f"{code}-Flag {flag!r} is not one of N F M S D C T B", f"{code}-Flag")
            )
            continue  # without a trustworthy flag none of its values can be judged valid
        for suffix, raw in per_code.items():
            key = f"{code}-{suffix}"
            if suffix in codes.NUMERIC_SUFFIXES:
                try:
                    number = parse_number(raw)
                except ValueError:
                    problems.append(Problem(errors.BAD_VALUE, f"{key} value {raw[:40]!r} is not a number", key))
                    continue
                readings.append(Reading(codes.code_2017(code), code, suffix, number, flag))
            elif suffix in codes.TIME_SUFFIXES:
                try:
                    parse_time(raw, key)
                except Hj212Error as exc:
                    problems.append(Problem(exc.reason, exc.detail, key))
                    continue
                params.append((key, raw))
            elif suffix != "Flag":
                params.append((key, raw))
    return data_time, readings, params, problems


def decode_frame(frame: bytes, *, tail_required: bool = True) -> Packet:
    """Frame bytes -> packet: the whole pure path used by the server and the CLI."""
    return parse_segment(parse_frame(frame, tail_required=tail_required).segment)
