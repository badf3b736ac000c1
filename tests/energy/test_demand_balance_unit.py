"""Demand against contract and the energy balance (pure), worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from energy import balance, demand


def test_the_months_demand_is_its_largest_quarter_hour_times_four() -> None:
    # meter 0: 10, 30, 20 kWh in three quarter hours of month 0 -> 120 kW at the second; meter 1:
    # 5 kWh in month 1 -> 20 kW; meter 1 has nothing in month 0
    d = demand.monthly_max(
        series=np.array([0, 0, 0, 1]),
        bucket_ms=np.array([0, 900_000, 1_800_000, 5_000_000]),
        kwh=np.array([10.0, 30.0, 20.0, 5.0]),
        month=np.array([0, 0, 0, 1]),
        n_series=2,
        n_months=2,
    )
    assert d.max_kw.tolist() == [[120.0, 0.0], [0.0, 20.0]]
    assert d.at_ms.tolist() == [[900_000, -1], [-1, 5_000_000]]


def test_alarm_levels_against_the_contract() -> None:
    got = demand.level([80.0, 90.0, 100.0, 50.0], [100.0, 100.0, 100.0, np.nan])
    assert got.tolist() == ["ok", "approaching", "exceeded", "none"]


def test_demand_charge_actual_and_contract_with_the_105_percent_rule() -> None:
    # contract 1000 kW at 30 yuan/kW: 1040 kW is within 105 %: 30 000; 1100 kW: 50 kW above
    # 1050 paid twice: (1000 + 2 × 50) × 30 = 33 000 (1583号, verify)
    assert demand.charge(1040.0, 1000.0, 30.0, "contract") == pytest.approx(30_000.0)
    assert demand.charge(1100.0, 1000.0, 30.0, "contract") == pytest.approx(33_000.0)
    assert demand.charge(800.0, 1000.0, 30.0, "actual") == pytest.approx(24_000.0)
    assert demand.charge(800.0, 1000.0, 20.0, "capacity", 1250.0) == pytest.approx(25_000.0)  # 1250 kVA × 20
    with pytest.raises(ValueError, match="demand method"):
        demand.charge(1.0, 1.0, 1.0, "other")  # type: ignore[arg-type]


def test_balance_loss_and_its_alarms() -> None:
    # intake 100 per hour; children 97, 90, 102, and nothing measured in the last hour
    b = balance.balance([100.0, 100.0, 100.0, 0.0], [[50.0, 45.0, 51.0, 0.0], [47.0, 45.0, 51.0, 0.0]])
    assert b.loss.tolist() == [3.0, 10.0, -2.0, 0.0]
    assert b.loss_pct[:3].tolist() == [3.0, 10.0, -2.0] and np.isnan(b.loss_pct[3])
    assert b.alarm.tolist() == [False, True, True, False]  # 10 % lost; 2 % more than the parent


def test_night_flow_points_to_a_leak() -> None:
    day = np.full(24, 10.0)
    day[2:5] = [1.0, 0.5, 0.8]  # a quiet night: 0.5 / mean
    leaking = np.full(24, 10.0)
    leaking[2:5] = 6.0  # 6 at night against a mean of (21 × 10 + 3 × 6) / 24 = 9.5: 0.63
    nf = balance.night_flow(np.concatenate([day, leaking]))
    assert nf.minimum.tolist() == [0.5, 6.0]
    assert nf.leak.tolist() == [False, True]
    assert nf.ratio[1] == pytest.approx(6.0 / 9.5)


def test_unit_consumption_worked_by_hand() -> None:
    from energy import products

    # 2.5 tce in the month, 80 % of it for 1000 t of urea: 2.5 × 1000 × 0.8 / 1000 = 2.0 kgce/t
    got = products.unit_consumption(2.5, products.Output("urea", "t", 1000.0, 0.8, 1.5))
    assert got["kgce_per_unit"] == pytest.approx(2.0) and got["above_limit"] is True
    assert products.unit_consumption(None, products.Output("urea", "t", 1.0))["kgce_per_unit"] is None
    with pytest.raises(products.OutputError, match="given twice"):
        products.check([products.Output("a", "t", 1.0, 0.5), products.Output("a", "t", 1.0, 0.5)])
