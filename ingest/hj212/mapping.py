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

# What each data command becomes. Minute (2051), hourly (2061) and daily (2031) data are averages
# of the real-time data (2011) of the same instrument: stored under the same metrics they count
# every reading twice or more in means, emitted mass and exceedances. So exactly one command per
# logger becomes telemetry, the finest of those configured for it (the attribute ``hj212_cn``,
# else the server's default: real-time); the coarser ones are the logger's own averages, counted
# as kept for reconciliation (reason ``cn_reconciliation``) and not stored as telemetry. A logger
# that uploads minute data only is configured ``hj212_cn: ["2051"]``.
FINEST_FIRST = (codes.CN_REALTIME, codes.CN_MINUTE, codes.CN_HOURLY, codes.CN_DAILY)
DEFAULT_STORE_CNS = (codes.CN_REALTIME,)


def telemetry_cn(store_cns: Collection[str]) -> str | None:
    """The one data command whose readings become telemetry: the finest configured."""
    return next((cn for cn in FINEST_FIRST if cn in store_cns), None)


# Reasons a reading is not stored that are not errors of the sender.
UNMAPPED_CODE = "unmapped_code"  # a pollutant the catalogue has no metric for
UNMAPPED_ST = "unmapped_st"  # a system code the gateway does not take
NOT_IN_CATALOGUE = "metric_not_in_catalogue"  # target metric not (yet) in the catalogue
NOT_STORED_CN = "cn_not_stored"  # a command the device is configured not to store
RECONCILIATION = "cn_reconciliation"  # a coarser average of the telemetry command: not telemetry


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
    store_cns: Collection[str] = DEFAULT_STORE_CNS,
    known: Callable[[str], bool] = catalogue.BY_CODE.__contains__,
) -> tuple[list[Mapped], list[Skipped]]:
    """Catalogue readings of one data packet, and what was left out and why.

    Only the packets of :func:`telemetry_cn` of ``store_cns`` are mapped; the other configured
    data commands are averages of the same readings (see :data:`FINEST_FIRST`).
    """
    if packet.cn not in codes.VALUE_SUFFIX:
        return [], [Skipped(NOT_STORED_CN, f"CN={packet.cn} carries no monitoring data")]
    if packet.cn in store_cns and packet.cn != telemetry_cn(store_cns):
        return [], [
            Skipped(
                RECONCILIATION,
                f"CN={packet.cn} ({codes.DATA_CNS[packet.cn]}) averages the CN={telemetry_cn(store_cns)} telemetry"
                f" of MN={packet.mn}: kept for reconciliation, not stored as telemetry",
            )
        ]
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
