"""Transmission, validity and effective transmission rates, worked out by hand.

Rule (aggregation/completeness.py; 环发〔2009〕88号 and the provincial assessment rules, verify):
传输率 = received / expected, 有效率 = valid / received, 有效传输率 = 传输率 × 有效率.
"""

from __future__ import annotations

import numpy as np
import pytest

from aggregation.completeness import expected_readings, grouped, rates


def a(*v: float) -> np.ndarray:
    return np.array(v, dtype=float)


def test_a_full_day_at_one_reading_a_minute() -> None:
    # 86 400 s / 60 s = 1 440 expected; 1 368 received (95 %); 1 300 with flag N
    expected = expected_readings(a(86_400), a(60))
    r = rates(expected, a(1368), a(1300))
    assert expected[0] == 1440
    assert r.transmission[0] == pytest.approx(0.95)
    assert r.validity[0] == pytest.approx(1300 / 1368)  # 0.9503
    assert r.effective[0] == pytest.approx(0.95 * 1300 / 1368)  # = 1300 / 1440 = 0.9028
    assert r.effective[0] == pytest.approx(0.902777, abs=1e-6)


def test_only_whole_intervals_of_the_part_of_the_day_passed_are_owed() -> None:
    # 06:00:59 into the day at 5-minute data: 21 659 s / 300 s = 72.2 -> 72
    assert expected_readings(a(6 * 3600 + 59), a(300))[0] == 72
    assert expected_readings(a(-5), a(60))[0] == 0  # a device registered after the day
    with pytest.raises(ValueError, match="interval_s"):
        expected_readings(a(60), a(0))


def test_surplus_readings_never_lift_transmission_above_one() -> None:
    r = rates(a(1440), a(2880), a(2880))
    assert (r.transmission[0], r.validity[0], r.effective[0]) == (1.0, 1.0, 1.0)


def test_nothing_received_is_zero_effective_and_no_validity() -> None:
    r = rates(a(1440, 0), a(0, 0), a(0, 0))
    assert r.transmission[0] == 0 and np.isnan(r.validity[0]) and r.effective[0] == 0
    assert np.isnan(r.transmission[1]) and np.isnan(r.effective[1])  # nothing owed: no rate
    assert r.row(0)["validity_rate"] is None
    with pytest.raises(ValueError, match="valid readings exceed"):
        rates(a(10), a(1), a(2))


def test_a_group_adds_its_series_before_taking_rates() -> None:
    # enterprise 7: device A, 60 s, everything (1 440 valid); device B, 300 s, silent all day (288 owed)
    # enterprise 8: device C, 60 s, 720 received of which 360 valid, plus a surplus series D
    # (1 440 owed, 2 880 sent, all valid): D counts 1 440, its surplus cannot hide C's gap
    keys = np.array([7, 7, 8, 8])
    expected = a(1440, 288, 1440, 1440)
    received = a(1440, 0, 720, 2880)
    valid = a(1440, 0, 360, 2880)
    uniq, r = grouped(keys, expected, received, valid)
    assert uniq.tolist() == [7, 8]
    # 7: 1 440 / 1 728 = 0.8333 transmitted, all valid
    assert r.transmission[0] == pytest.approx(1440 / 1728)
    assert r.validity[0] == 1.0
    assert r.effective[0] == pytest.approx(1440 / 1728)
    # 8: received 720 + 1 440 = 2 160 of 2 880; valid 360 + 1 440 = 1 800
    assert r.transmission[1] == pytest.approx(2160 / 2880)  # 0.75
    assert r.validity[1] == pytest.approx(1800 / 2160)
    assert r.effective[1] == pytest.approx(1800 / 2880)  # 0.625
