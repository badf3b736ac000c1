"""Gas detector alarm setpoints per GB/T 50493-2019, rounded toward safety.

GB/T 50493-2019 5.5.2 (standards.md 5): combustible gas, first level at most 25 % LEL and second
at most 50 % LEL; toxic gas, first level at most 100 % of the occupational exposure limit (OEL)
and second at most 200 %. Exposure limits are GBZ 2.1 figures in mg/m³ (verify), detectors read
ppm: ppm = mg/m³ × 24.04 / M (20 °C, 101.325 kPa). The standard sets upper bounds ("at most"),
so a setpoint is rounded *down* to the detector's resolution (0.1 ppm): CO 20 mg/m³ is 17.165 ppm
and alarms at 17.1, not at 17.2 (which would let 17.17 ppm, above the limit, pass). Oxygen alarms
at 19.5 % (low, rounds up) and 23.5 % vol (high, rounds down) are already exact.

The default alert rules (alerting/default_rules.yaml) and the page take these figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType

MOLAR_VOLUME_L = Decimal("24.04")  # L/mol at 20 °C and 101.325 kPa
RESOLUTION_PPM = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class ToxicGas:
    metric: str
    molar_mass: Decimal  # g/mol
    oel_mg_m3: Decimal  # the exposure limit the first level is set at
    oel_kind: str  # MAC or PC-TWA (GBZ 2.1)


TOXIC: Mapping[str, ToxicGas] = MappingProxyType(
    {
        "safety.h2s_ppm": ToxicGas("safety.h2s_ppm", Decimal("34.08"), Decimal(10), "MAC"),
        "safety.co_ppm": ToxicGas("safety.co_ppm", Decimal("28.01"), Decimal(20), "PC-TWA"),
    }
)
LEL_LEVELS_PCT = (25.0, 50.0)  # GB/T 50493-2019 5.5.2
O2_BAND_PCT = (19.5, 23.5)  # low and high oxygen alarms, % vol


def toward_safety(value: Decimal, *, high_alarm: bool = True, step: Decimal = RESOLUTION_PPM) -> float:
    """A setpoint on the detector's step: down for an alarm on rising values, up for falling."""
    q = (value / step).to_integral_value(ROUND_FLOOR if high_alarm else ROUND_CEILING)
    return float(q * step)


def ppm(mg_m3: Decimal, molar_mass: Decimal) -> Decimal:
    return mg_m3 * MOLAR_VOLUME_L / molar_mass


def toxic_levels(metric: str) -> tuple[float, float]:
    """(first level, second level) in ppm: 100 % and 200 % of the OEL, rounded toward safety."""
    try:
        g = TOXIC[metric]
    except KeyError:
        raise KeyError(f"no exposure limit for {metric!r}; known: {sorted(TOXIC)}") from None
    return toward_safety(ppm(g.oel_mg_m3, g.molar_mass)), toward_safety(ppm(2 * g.oel_mg_m3, g.molar_mass))


def levels() -> dict[str, tuple[float, float]]:
    """Every two-level setpoint by metric (the page colours readings with them)."""
    out = {"safety.lel_pct": LEL_LEVELS_PCT}
    out.update({m: toxic_levels(m) for m in TOXIC})
    assert all(math.isfinite(x) for pair in out.values() for x in pair)
    return out
