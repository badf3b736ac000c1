"""The frames an upstream platform receives: a recorded packet under the target's MN and password.

Pure. The CP is the one recorded from the data logger (2017 pollutant codes, data flags as
received); the header is the target's (MN, PW, protocol version, whether a reply is wanted).
A CP too long for one packet is split into PNUM/PNO parts that each repeat DataTime, as the
standard allows, so every part can be read on its own.
"""

from __future__ import annotations

from collections import defaultdict

from hj212 import codes
from hj212.encode import MAX_CP_SEGMENT, flag_of, format_value, segment, split_frames
from hj212.frame import encode_frame
from hj212.packet import Packet


def render_cp(packet: Packet) -> str:
    """The CP body of a data packet: DataTime, then each pollutant's fields and its -Flag.

    2005 codes are written as their 2017 codes; values are written back in their shortest exact
    form; the -Flag of each pollutant is the one received.
    """
    if packet.data_time is None:
        raise ValueError(f"CN={packet.cn} packet without DataTime cannot be forwarded")
    per_code: dict[str, list[str]] = defaultdict(list)
    flags: dict[str, str | None] = {}
    for r in packet.readings:
        per_code[r.code].append(f"{r.code}-{r.suffix}={format_value(r.value)}")
        flags[r.code] = r.flag
    plain: list[str] = []
    for key, value in packet.params:
        code, dash, suffix = key.partition("-")
        if dash:
            new = codes.code_2017(code)
            per_code[new].append(f"{new}-{suffix}={value}")
            flags.setdefault(new, None)
        else:
            plain.append(f"{key}={value}")
    items = [f"DataTime={packet.data_time.strftime('%Y%m%d%H%M%S')}", *plain]
    for code, fields in per_code.items():
        flag = flags.get(code)
        items.append(",".join([*fields, f"{code}-Flag={flag}"] if flag else fields))
    return ";".join(items)


def frames(
    *,
    cp: str,
    qn: str,
    st: str,
    cn: str,
    mn: str,
    pw: str,
    version: str,
    reply: bool,
    max_segment: int = MAX_CP_SEGMENT,
) -> list[bytes]:
    """One frame, or PNUM/PNO parts when the segment would exceed ``max_segment`` characters."""
    stamp, _, rest = cp.partition(";")
    if not stamp.startswith("DataTime="):
        raise ValueError(f"recorded CP {cp[:40]!r} does not start with DataTime")
    items = [i for i in rest.split(";") if i]
    one = segment(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag_of(version, reply=reply), cp=";".join([stamp, *items]))
    if len(one) <= max_segment:
        return [encode_frame(one)]
    split = flag_of(version, reply=reply, split=True)
    return split_frames(
        items, stamp=stamp, qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=split, max_segment=max_segment, what="CP item"
    )
