"""Packets for the HJ 212 tests, built with the project's own frame encoder where possible."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hj212.encode import Pollutant, data_packets
from hj212.frame import encode_frame

APPENDIX = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;"
    b"MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)
MN = "88888880000001"
PW = "123456"


def data_frame(
    cn: str = "2011",
    cp: str = "DataTime=20260126080000;a21026-Rtd=35.2,a21026-ZsRtd=40.1,a21026-Flag=N",
    *,
    st: str = "31",
    flag: int = 5,
    mn: str = MN,
    pw: str = PW,
    qn: str = "20260126080000123",
    extra: str = "",
) -> bytes:
    return encode_frame(f"QN={qn};ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};{extra}CP=&&{cp}&&")


def upload(
    pollutants: Sequence[Pollutant], *, cn: str = "2011", minute: int = 0, qn: str = "20260126080000123", **kw: Any
) -> list[bytes]:
    """Frames of one stack upload at 2026-01-26 08:mm from the test logger."""
    return data_packets(
        qn=qn, st="31", cn=cn, pw=PW, mn=MN, data_time=datetime(2026, 1, 26, 8, minute), pollutants=pollutants, **kw
    )
