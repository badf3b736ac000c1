"""Emission limits per outlet: the one table that statistics, alarms and the page judge against.

An outlet's limits come from the registry: the enterprise's permit limits as device attributes
(``limits: {metric: value}``) win; otherwise the default of the outlet's source type applies. The
defaults, each with its source (see also ``docs/regulatory-figures.md``):

- coal-fired power units (``power_boiler``): ultra-low emission limits, dust 10, SO2 35, NOx 50
  mg/m³ at 6 % O2 (环发〔2015〕164号 ultra-low emission plan; reference O2 of GB 13223-2011).
  Only power units: an industrial boiler is not judged by them.
- gas turbines (``gas_turbine``): GB 13223-2011 table 1, natural-gas turbine units, dust 5,
  SO2 35, NOx 50 mg/m³ at 15 % O2 (verify).
- industrial boilers (``coal_boiler``, ``oil_boiler``, ``gas_boiler``): GB 13271-2014 table 2
  (new boilers, "general") or table 3 (special limits, attribute ``limit_class: special``), at
  9 % O2 for coal and 3.5 % for oil and gas (GB 13271-2014 table 4, reference oxygen; verify the
  figures against the printed tables).
- wastewater outlets: GB 8978-1996 table 4 (units built after 1998-01-01), one grade for every
  pollutant (attribute ``discharge_grade``, default 1): COD 100/150/500 mg/L, NH3-N 15/25/none,
  pH 6-9 in every grade.

Stack limits are stated at the reference O2 and apply to O2-corrected concentrations
C_ref = C × (21 − O2_ref) / (21 − O2). Above :data:`O2_CEILING_PCT` the source is taken as not
firing and a reading is not evaluable (the correction factor grows without bound as O2 nears
21 %): no HJ 75-2017 clause fixing such a ceiling could be read here, so this is the platform's
documented choice (19 %, per outlet attribute ``o2_ceiling_pct``), marked verify.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

STACK_POLLUTANTS = ("stack.so2_mgm3", "stack.nox_mgm3", "stack.dust_mgm3")
# Concentrations the instrument already corrected to the reference O2 (HJ 212 -ZsRtd/-ZsAvg).
CORRECTED_OF: Mapping[str, str] = MappingProxyType(
    {
        "stack.so2_zs_mgm3": "stack.so2_mgm3",
        "stack.nox_zs_mgm3": "stack.nox_mgm3",
        "stack.dust_zs_mgm3": "stack.dust_mgm3",
    }
)
WASTEWATER_POLLUTANTS = ("ww.cod_mgl", "ww.nh3n_mgl")
O2_CEILING_PCT = 19.0  # above it the source is not firing: not evaluable (documented choice; verify)
STACK_KIND = "stack_cems"
WASTEWATER_KIND = "wastewater"


@dataclass(frozen=True, slots=True)
class SourceDefault:
    """Default limits of one source type (mg/m³ at ``o2_ref_pct``) and where they come from."""

    o2_ref_pct: float
    general: Mapping[str, float]
    special: Mapping[str, float] | None
    source: str


def _mg(dust: float, so2: float, nox: float) -> Mapping[str, float]:
    return MappingProxyType({"stack.dust_mgm3": dust, "stack.so2_mgm3": so2, "stack.nox_mgm3": nox})


STACK_DEFAULTS: Mapping[str, SourceDefault] = MappingProxyType(
    {
        "power_boiler": SourceDefault(
            6.0,
            _mg(10, 35, 50),
            None,
            "ultra-low emission limits for coal-fired power units (发改能源〔2014〕2093号, 环发〔2015〕164号)",
        ),
        "gas_turbine": SourceDefault(15.0, _mg(5, 35, 50), None, "GB 13223-2011 table 1, gas turbine (verify)"),
        "coal_boiler": SourceDefault(
            9.0, _mg(50, 300, 300), _mg(30, 200, 200), "GB 13271-2014 table 2 / table 3 (special), coal-fired boiler"
        ),
        "oil_boiler": SourceDefault(
            3.5, _mg(30, 200, 250), _mg(30, 100, 200), "GB 13271-2014 table 2 / table 3 (special), oil-fired boiler"
        ),
        "gas_boiler": SourceDefault(
            3.5, _mg(20, 50, 200), _mg(20, 50, 150), "GB 13271-2014 table 2 / table 3 (special), gas-fired boiler"
        ),
    }
)

# GB 8978-1996 table 4, "other dischargers", by grade; None: the grade sets no limit.
WASTEWATER_GRADES: Mapping[int, Mapping[str, float | None]] = MappingProxyType(
    {
        1: MappingProxyType({"ww.cod_mgl": 100.0, "ww.nh3n_mgl": 15.0}),
        2: MappingProxyType({"ww.cod_mgl": 150.0, "ww.nh3n_mgl": 25.0}),
        3: MappingProxyType({"ww.cod_mgl": 500.0, "ww.nh3n_mgl": None}),
    }
)
WASTEWATER_PH_BAND = (6.0, 9.0)  # GB 8978-1996 table 4, every grade
WASTEWATER_SOURCE = "GB 8978-1996 table 4 grade {grade}"
DEFAULT_DISCHARGE_GRADE = 1


@dataclass(frozen=True, slots=True)
class Limit:
    value: float
    unit: str
    source: str  # "permit" or the default's standard
    at_reference_o2: bool  # compare O2-corrected concentrations


@dataclass(frozen=True, slots=True)
class OutletLimits:
    """What one outlet is judged against; ``problems`` name attributes that were ignored."""

    limits: Mapping[str, Limit] = field(default_factory=dict)
    o2_ref_pct: float | None = None
    o2_ceiling_pct: float = O2_CEILING_PCT
    problems: tuple[str, ...] = ()

    def limit(self, metric: str) -> Limit | None:
        """The limit of a metric; an instrument-corrected (-Zs) metric takes its pollutant's."""
        return self.limits.get(CORRECTED_OF.get(metric, metric))

    def threshold(self, metric: str) -> float:
        lim = self.limit(metric)
        return math.nan if lim is None else lim.value

    def as_dict(self) -> dict[str, Any]:
        return {
            "o2_ref_pct": self.o2_ref_pct,
            "o2_ceiling_pct": self.o2_ceiling_pct,
            "limits": {m: {"value": x.value, "unit": x.unit, "source": x.source} for m, x in self.limits.items()},
            "problems": list(self.problems),
        }


def _positive(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def outlet_limits(kind: str, attributes: Mapping[str, Any] | None) -> OutletLimits:
    """Limits of a device of ``kind`` with registry ``attributes`` (see the module docstring)."""
    a = attributes or {}
    problems: list[str] = []
    out: dict[str, Limit] = {}
    o2_ref: float | None = None
    if kind == STACK_KIND:
        source_type = a.get("source_type")
        default = STACK_DEFAULTS.get(str(source_type)) if source_type is not None else None
        if default is None:
            problems.append(f"source_type {source_type!r} has no default limits; known: {sorted(STACK_DEFAULTS)}")
        else:
            cls = a.get("limit_class", "general")
            table = default.special if cls == "special" else default.general
            if cls not in ("general", "special") or table is None:
                problems.append(f"limit_class {cls!r} does not apply to {source_type!r}; general limits used")
                table = default.general
            label = f"{default.source}{' special' if cls == 'special' and default.special else ''}"
            out.update({m: Limit(v, "mg/m³", label, True) for m, v in table.items()})
            o2_ref = default.o2_ref_pct
        given_ref = a.get("o2_ref_pct")
        if given_ref is not None:
            ref = _positive(given_ref)
            if ref is None or ref >= 21:
                problems.append(f"o2_ref_pct {given_ref!r} is not a percentage below 21; ignored")
            else:
                o2_ref = ref
        units, corrected = "mg/m³", True
        known: tuple[str, ...] = STACK_POLLUTANTS
    elif kind == WASTEWATER_KIND:
        grade = a.get("discharge_grade", DEFAULT_DISCHARGE_GRADE)
        if grade not in WASTEWATER_GRADES:
            problems.append(f"discharge_grade {grade!r} is not 1, 2 or 3; grade {DEFAULT_DISCHARGE_GRADE} used")
            grade = DEFAULT_DISCHARGE_GRADE
        for m, v in WASTEWATER_GRADES[grade].items():
            if v is not None:
                out[m] = Limit(v, "mg/L", WASTEWATER_SOURCE.format(grade=grade), False)
        units, corrected = "mg/L", False
        known = WASTEWATER_POLLUTANTS
    else:
        return OutletLimits()
    permit = a.get("limits")
    if permit is not None and not isinstance(permit, Mapping):
        problems.append(f"limits {permit!r} is not an object of metric: value")
        permit = {}
    for metric, raw in (permit or {}).items():
        value = _positive(raw)
        if metric not in known or value is None:
            problems.append(f"permit limit {metric!r}: {raw!r} ignored (metrics {known}, positive numbers)")
            continue
        out[metric] = Limit(value, units, "permit", corrected)
    ceiling = O2_CEILING_PCT
    if "o2_ceiling_pct" in a:
        c = _positive(a["o2_ceiling_pct"])
        if c is None or c >= 21 or (o2_ref is not None and c <= o2_ref):
            problems.append(f"o2_ceiling_pct {a['o2_ceiling_pct']!r} is not between the reference O2 and 21; ignored")
        else:
            ceiling = c
    if corrected and out and o2_ref is None:
        problems.append("no reference O2 (source_type or o2_ref_pct): stack limits cannot be judged")
        out = {}
    return OutletLimits(MappingProxyType(out), o2_ref, ceiling, tuple(problems))


def o2_corrected(conc: Any, o2_pct: Any, o2_ref_pct: Any, ceiling_pct: Any = O2_CEILING_PCT) -> Any:
    """C × (21 − O2_ref) / (21 − O2) (HJ 75-2017 折算; standards.md 3), NaN where O2 is above the
    ceiling (source not firing: not evaluable) or unknown. Works on scalars and numpy arrays."""
    import numpy as np

    c, o2 = np.asarray(conc, dtype=np.float64), np.asarray(o2_pct, dtype=np.float64)
    ref, ceil = np.asarray(o2_ref_pct, dtype=np.float64), np.asarray(ceiling_pct, dtype=np.float64)
    ok = np.isfinite(o2) & (o2 <= ceil) & np.isfinite(ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ok, c * (21.0 - ref) / (21.0 - np.where(ok, o2, 0.0)), np.nan)
    return out


def reference() -> dict[str, Any]:
    """The default tables as data, for the page and for operators checking what applies."""
    return {
        "o2_ceiling_pct": O2_CEILING_PCT,
        "stack": {
            k: {
                "o2_ref_pct": d.o2_ref_pct,
                "general": dict(d.general),
                "special": None if d.special is None else dict(d.special),
                "source": d.source,
            }
            for k, d in STACK_DEFAULTS.items()
        },
        "wastewater": {
            str(g): {
                "limits": {m: v for m, v in t.items()},
                "ph_band": list(WASTEWATER_PH_BAND),
                "source": WASTEWATER_SOURCE.format(grade=g),
            }
            for g, t in WASTEWATER_GRADES.items()
        },
        "default_discharge_grade": DEFAULT_DISCHARGE_GRADE,
    }
