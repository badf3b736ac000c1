"""Outlet limits: permit first, then defaults by source type, each pinned to its standard."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smartpark.limits import O2_CEILING_PCT, o2_corrected, outlet_limits

SO2, NOX, DUST = "stack.so2_mgm3", "stack.nox_mgm3", "stack.dust_mgm3"


def _values(kind: str, **attrs: object) -> dict[str, float]:
    return {m: x.value for m, x in outlet_limits(kind, attrs).limits.items()}


def test_ultra_low_limits_apply_to_coal_power_units_only() -> None:
    # 环发〔2015〕164号: dust 10, SO2 35, NOx 50 mg/m³ at 6 % O2, coal-fired power units
    power = outlet_limits("stack_cems", {"source_type": "power_boiler"})
    assert _values("stack_cems", source_type="power_boiler") == {DUST: 10, SO2: 35, NOX: 50}
    assert power.o2_ref_pct == 6.0
    # GB 13271-2014 table 2 (new coal-fired boilers): particulates 50, SO2 300, NOx 300 at 9 %
    coal = outlet_limits("stack_cems", {"source_type": "coal_boiler"})
    assert _values("stack_cems", source_type="coal_boiler") == {DUST: 50, SO2: 300, NOX: 300}
    assert coal.o2_ref_pct == 9.0
    # table 3 special limits: 30 / 200 / 200
    assert _values("stack_cems", source_type="coal_boiler", limit_class="special") == {DUST: 30, SO2: 200, NOX: 200}
    # gas-fired boiler, table 2: 20 / 50 / 200 at 3.5 %; table 3: NOx 150
    assert _values("stack_cems", source_type="gas_boiler") == {DUST: 20, SO2: 50, NOX: 200}
    assert _values("stack_cems", source_type="gas_boiler", limit_class="special")[NOX] == 150
    assert outlet_limits("stack_cems", {"source_type": "gas_boiler"}).o2_ref_pct == 3.5


def test_the_permit_wins_and_bad_attributes_are_named() -> None:
    o = outlet_limits("stack_cems", {"source_type": "coal_boiler", "limits": {SO2: 100, NOX: "x"}})
    assert o.limits[SO2].value == 100 and o.limits[SO2].source == "permit"
    assert o.limits[NOX].value == 300  # the bad permit figure is ignored, the default stays
    assert any("'x'" in p for p in o.problems)
    unknown = outlet_limits("stack_cems", {"source_type": "incinerator"})
    assert not unknown.limits and "incinerator" in unknown.problems[0]
    # the instrument-corrected (-Zs) series is judged against its pollutant's limit
    assert o.limit("stack.so2_zs_mgm3") == o.limits[SO2]


def test_wastewater_takes_one_grade_for_every_pollutant() -> None:
    # GB 8978-1996 table 4: grade 1 COD 100, NH3-N 15; grade 3 COD 500 and no NH3-N limit
    assert _values("wastewater") == {"ww.cod_mgl": 100, "ww.nh3n_mgl": 15}
    assert _values("wastewater", discharge_grade=2) == {"ww.cod_mgl": 150, "ww.nh3n_mgl": 25}
    assert _values("wastewater", discharge_grade=3) == {"ww.cod_mgl": 500}
    assert "discharge_grade 7" in outlet_limits("wastewater", {"discharge_grade": 7}).problems[0]


def test_o2_correction_and_its_ceiling() -> None:
    # issue 16 item 1: SO2 30 mg/m³ at 12 % O2, reference 9 %: 30 × (21 − 9) / (21 − 12) = 40
    assert float(o2_corrected(30.0, 12.0, 9.0)) == pytest.approx(40.0)
    # standards.md 3: 40 at 10 % to 6 %: 40 × 15 / 11 = 54.55
    assert float(o2_corrected(40.0, 10.0, 6.0)) == pytest.approx(54.545, abs=1e-3)
    # item 5: 1 mg/m³ at 20.9 % would be 120 at 9 %: above the 19 % ceiling, not evaluable
    assert math.isnan(float(o2_corrected(1.0, 20.9, 9.0)))
    # at the ceiling itself still evaluable: 1 × 12 / 2 = 6
    assert float(o2_corrected(1.0, O2_CEILING_PCT, 9.0)) == pytest.approx(6.0)
    out = o2_corrected(np.array([30.0, 30.0]), np.array([12.0, np.nan]), 9.0)
    assert out[0] == pytest.approx(40.0) and math.isnan(out[1])
