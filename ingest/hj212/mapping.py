"""HJ 212 packets -> the platform's catalogue readings, as the gateway stores them (pure).

Which pollutant code is which metric is the table of :mod:`smartpark.hj212_metrics`, shared with
the data loggers that send readings the other way. Which field is the reading: the real-time
value (-Rtd) of 2011 data and the average (-Avg) of minute, hourly and daily data
(:data:`hj212.codes.VALUE_SUFFIX`). -ZsRtd/-ZsAvg are concentrations corrected to the reference O2
and are a different quantity from the measured one (limits apply to them, emitted mass uses the
measured one); they get their own metrics. Storing both under one metric would collide on
(device, metric, ts) and keep whichever came first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from hj212 import codes
from hj212.packet import Packet
from smartpark import catalogue
from smartpark.hj212_metrics import TARGETS

# Reasons a reading is not stored that are not errors of the sender.
UNMAPPED_CODE = "unmapped_code"  # a pollutant the catalogue has no metric for
UNMAPPED_ST = "unmapped_st"  # a system code the gateway does not take
NOT_IN_CATALOGUE = "metric_not_in_catalogue"  # target metric not (yet) in the catalogue
NOT_STORED_CN = "cn_not_stored"  # a command the device is configured not to store


@dataclass(frozen=True, slots=True)
class Mapped:
    metric: str
    ts_ms: int
    value: float
    flag: int  # smartpark.catalogue.HJ212_FLAGS: only 0 (N) is valid monitoring data


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str
    detail: str


def to_epoch_ms(local: datetime, tz: tzinfo) -> int:
    """DataTime is the logger's local (Beijing) time without an offset."""
    return round(local.replace(tzinfo=tz).timestamp() * 1000)


def map_packet(
    packet: Packet,
    *,
    tz: tzinfo,
    store_cns: Collection[str] = (codes.CN_REALTIME, codes.CN_MINUTE),
    known: Callable[[str], bool] = catalogue.BY_CODE.__contains__,
) -> tuple[list[Mapped], list[Skipped]]:
    """Catalogue readings of one data packet, and what was left out and why.

    Hourly and daily data are by default not stored: they are averages of the real-time and
    minute data the aggregation core rolls up itself, and storing both would count twice.
    """
    if packet.cn not in codes.VALUE_SUFFIX:
        return [], [Skipped(NOT_STORED_CN, f"CN={packet.cn} carries no monitoring data")]
    if packet.cn not in store_cns:
        return [], [
            Skipped(
                NOT_STORED_CN, f"CN={packet.cn} ({codes.DATA_CNS[packet.cn]}) data are not stored for MN={packet.mn}"
            )
        ]
    table = TARGETS.get(packet.st)
    if table is None:
        return [], [Skipped(UNMAPPED_ST, f"ST={packet.st} is not a system the gateway takes")]
    assert packet.data_time is not None  # parse_segment requires it for data commands
    ts_ms = to_epoch_ms(packet.data_time, tz)
    plain, corrected = codes.VALUE_SUFFIX[packet.cn]
    out: list[Mapped] = []
    skipped: list[Skipped] = []
    for r in packet.readings:
        if r.suffix not in (plain, corrected):
            continue
        target = table.get(r.code)
        if target is None:
            skipped.append(
                Skipped(UNMAPPED_CODE, f"pollutant {r.raw_code}-{r.suffix} under ST={packet.st} has no metric")
            )
            continue
        metric = target.metric if r.suffix == plain else target.corrected
        if metric is None:
            skipped.append(Skipped(UNMAPPED_CODE, f"{r.raw_code}-{r.suffix} has no O2-corrected metric"))
            continue
        if not known(metric):
            skipped.append(Skipped(NOT_IN_CATALOGUE, f"{r.raw_code}-{r.suffix} -> {metric} is not in the catalogue"))
            continue
        flag = catalogue.HJ212_FLAGS[r.flag or "N"]
        # a unit conversion must not invent digits: 10.000556 m³/s is 36002.0016 m³/h, not …0015999
        value = r.value if target.scale == 1.0 else round(r.value * target.scale, 6)
        out.append(Mapped(metric, ts_ms, value, flag))
    return out, skipped


def to_payload(mapped: list[Mapped]) -> bytes:
    """Device telemetry as the MQTT contract has it, one entry per timestamp.

    Data flags travel as ``"flags": {metric: flag}`` beside ``values`` (only the non-N ones).
    """
    import json

    entries: dict[int, dict[str, Any]] = {}
    for m in mapped:
        entry = entries.setdefault(m.ts_ms, {"ts": m.ts_ms, "values": {}})
        entry["values"][m.metric] = m.value
        if m.flag != catalogue.FLAG_VALID:
            entry.setdefault("flags", {})[m.metric] = m.flag
    body = list(entries.values())
    return json.dumps(body[0] if len(body) == 1 else body, separators=(",", ":")).encode()
