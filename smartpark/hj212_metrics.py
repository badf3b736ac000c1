"""Which catalogue metric each HJ 212 pollutant code is, both ways (pure).

One table for every side that speaks HJ 212: the gateway reading loggers' packets into catalogue
readings (``ingest.hj212.mapping``) and whatever sends catalogue readings as a data logger does
(the simulator's CEMS, a forwarder to an upstream platform).

The table is keyed by the packet's system code (ST), because the same pollutant code means a
stack concentration in mg/m³ under ST=31 and an ambient concentration under ST=22. Units follow
HJ 212-2017 appendix B: flue-gas flow (a00000) in m³/s and wastewater flow (w00000) in L/s, which
the catalogue keeps in m³/h. -ZsRtd/-ZsAvg (concentrations corrected to the reference O2) are a
different quantity from the measured one and have their own metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hj212 import codes
from hj212.encode import Pollutant


@dataclass(frozen=True, slots=True)
class Target:
    metric: str
    scale: float = 1.0  # catalogue value = HJ 212 value × scale
    corrected: str | None = None  # metric of the O2-corrected (-Zs…) figure


# Edition: HJ 212-2017 appendix B codes and units.
TARGETS: Mapping[str, Mapping[str, Target]] = MappingProxyType(
    {
        codes.ST_AIR_SOURCE: MappingProxyType(
            {
                "a21026": Target("stack.so2_mgm3", corrected="stack.so2_zs_mgm3"),
                "a21002": Target("stack.nox_mgm3", corrected="stack.nox_zs_mgm3"),
                "a34013": Target("stack.dust_mgm3", corrected="stack.dust_zs_mgm3"),
                "a19001": Target("stack.o2_pct"),
                "a00000": Target("stack.flow_m3h", scale=3600.0),  # m³/s -> m³/h
            }
        ),
        codes.ST_WATER_SOURCE: MappingProxyType(
            {
                "w01018": Target("ww.cod_mgl"),
                "w21003": Target("ww.nh3n_mgl"),
                "w01001": Target("ww.ph"),
                "w00000": Target("ww.flow_m3h", scale=3.6),  # L/s -> m³/h
            }
        ),
        codes.ST_AMBIENT_AIR: MappingProxyType(
            {
                "a34004": Target("air.pm25_ugm3"),
                "a34002": Target("air.pm10_ugm3"),
                "a21026": Target("air.so2_ugm3"),
                "a21004": Target("air.no2_ugm3"),
                "a05024": Target("air.o3_ugm3"),
                "a21005": Target("air.co_mgm3"),
            }
        ),
    }
)


# The inverse, for data loggers: catalogue metric -> (ST, code, scale).
SOURCES: Mapping[str, tuple[str, str, float]] = MappingProxyType(
    {
        **{t.metric: (st, code, t.scale) for st, table in TARGETS.items() for code, t in table.items()},
        **{
            t.corrected: (st, code, t.scale)
            for st, table in TARGETS.items()
            for code, t in table.items()
            if t.corrected
        },
    }
)


def split_carried(values: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Readings grouped by the HJ 212 system (ST) that carries them; key "" for those none does.

    One packet carries one ST, so a device with readings of several systems sends several.
    """
    out: dict[str, dict[str, float]] = {}
    for metric, value in values.items():
        st = SOURCES[metric][0] if metric in SOURCES else ""
        out.setdefault(st, {})[metric] = value
    return out


def pollutants_of(
    values: Mapping[str, float], *, cn: str = codes.CN_REALTIME, flags: Mapping[str, str] | None = None
) -> tuple[str, list[Pollutant]]:
    """(ST, pollutants) of catalogue readings: codes, units and field suffix per the standard."""
    plain, corrected = codes.VALUE_SUFFIX.get(cn, ("Rtd", "ZsRtd"))
    st: str | None = None
    fields: dict[str, dict[str, float]] = {}
    flag_of: dict[str, str] = {}
    for metric, value in values.items():
        try:
            src_st, code, scale = SOURCES[metric]
        except KeyError:
            raise ValueError(f"metric {metric!r} has no HJ 212 pollutant code") from None
        if st is not None and src_st != st:
            raise ValueError(f"metric {metric!r} belongs to ST={src_st}, not ST={st}")
        st = src_st
        suffix = corrected if metric == TARGETS[src_st][code].corrected else plain
        fields.setdefault(code, {})[suffix] = value / scale
        if flags and metric in flags:
            flag_of[code] = flags[metric]
    if st is None:
        raise ValueError("no readings to send")
    return st, [Pollutant(code, v, flag_of.get(code, "N")) for code, v in fields.items()]
