"""Signal properties: monotone registers with marked resets, load shapes, episodes, determinism."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from device_sim.model import SimDevice, SimGateway, SimPark, generate_model, sim_parks
from device_sim.signals import EPISODE, RESET, ROLLOVER, KindBlock, ParkSignals, SignalConfig

T0 = 1_764_000_000 - 1_764_000_000 % 86_400 - 8 * 3600  # a local (UTC+8) midnight, 2025-11
HOUR = 3600
DAY = 86_400


def park_of(*devices: tuple[str, str, str, dict[str, Any]], seed: int = 1) -> SimPark:
    """A one-gateway park of (code, kind, industry, attributes) devices."""
    from smartpark.catalogue import DEVICE_KINDS

    devs = tuple(
        SimDevice("p", f"e-{industry}", industry, "gw01", code, kind, DEVICE_KINDS[kind], attrs)
        for code, kind, industry, attrs in devices
    )
    return SimPark("p", "Asia/Shanghai", seed, (SimGateway("p", "e", "gw01", "u", "pw", devs),))


def by_kind(blocks: list[KindBlock]) -> dict[str, KindBlock]:
    return {b.kind: b for b in blocks}


def concat(parts: list[list[KindBlock]], kind: str) -> tuple[np.ndarray, np.ndarray]:
    blocks = [by_kind(p)[kind] for p in parts]
    return (
        np.concatenate([b.values for b in blocks], axis=2),
        np.concatenate([b.events for b in blocks], axis=2),
    )


@pytest.fixture(scope="module")
def demo() -> SimPark:
    return sim_parks(generate_model(enterprises=40, seed=7))[0]


def test_counters_never_decrease_except_at_a_marked_reset_or_rollover() -> None:
    small = {"register_max": 5000.0, "rated_per_h": 40.0}
    park = park_of(
        ("em01", "elec_meter", "metallurgy", {"register_max": 20000.0, "rated_kw": 300, "pv_kw": 80}),
        ("wm01", "water_meter", "food", small),
        ("gm01", "gas_meter", "pharma", small),
        ("cs01", "coal_scale", "coal_chemical", {"register_max": 1e8, "rated_per_h": 10}),
    )
    sim = ParkSignals(park, SignalConfig(reset_per_day=0.3))
    interval = 900
    ts = T0 + np.arange(0, 30 * DAY, interval)
    # Cut the month into uneven blocks: registers must continue across block boundaries.
    cuts = [0, 1, 7, 500, 1301, len(ts)]
    parts = [sim.block(ts[a:b], interval) for a, b in itertools.pairwise(cuts)]
    seen = {RESET: 0, ROLLOVER: 0}
    for kind in ("elec_meter", "water_meter", "gas_meter", "coal_scale"):
        values, events = concat(parts, kind)
        counters = [0, 1] if kind == "elec_meter" else [0]
        for j in counters:
            v, ev = values[:, j, :], events[:, j, :]
            drops = np.diff(v, axis=1) < 0
            marked = (ev[:, 1:] & (RESET | ROLLOVER)) > 0
            assert not np.any(drops & ~marked), kind
            assert np.all(v >= 0)
            seen[RESET] += int(np.sum((ev & RESET) > 0))
            seen[ROLLOVER] += int(np.sum((ev & ROLLOVER) > 0))
    assert seen[RESET] > 0 and seen[ROLLOVER] > 0  # the test saw both kinds of drop


def test_rollover_wraps_at_the_declared_register_max() -> None:
    park = park_of(("wm01", "water_meter", "food", {"register_max": 1000.0, "rated_per_h": 30.0}))
    sim = ParkSignals(park, SignalConfig(reset_per_day=0))
    ts = T0 + np.arange(0, 10 * DAY, 600)
    b = by_kind(sim.block(ts, 600))["water_meter"]
    v, ev = b.values[0, 0], b.events[0, 0]
    rolls = np.flatnonzero(ev & ROLLOVER)
    assert len(rolls) >= 3
    assert np.all(v <= 1000.0)
    for i in rolls:
        # Consumption across the wrap is small and positive once max + one step (1) is added back.
        assert 0 <= v[i] + 1001.0 - v[i - 1] < 30.0 * 600 / 3600 * 2
    assert np.all(v == np.floor(v))  # a register of whole units shows whole units


def test_register_is_the_integral_of_the_load() -> None:
    park = park_of(("em01", "elec_meter", "new_materials", {"rated_kw": 2000, "register_max": 1e8}))
    sim = ParkSignals(park, SignalConfig(reset_per_day=0))
    ts = T0 + np.arange(0, 3 * DAY + 1, 60)
    b = by_kind(sim.block(ts, 60))["elec_meter"]
    energy = b.values[0, 0, -1] - b.values[0, 0, 0]
    from_power = np.sum(b.values[0, 2, :-1]) * 60 / 3600
    assert energy == pytest.approx(from_power, rel=0.02)


def test_any_cut_of_the_timeline_gives_the_same_readings(demo: SimPark) -> None:
    ts = T0 + np.arange(0, 6 * HOUR, 300)
    whole = ParkSignals(demo).block(ts, 300)
    fresh = ParkSignals(demo)  # another instance, ticks one at a time and out of order
    singles = {int(i): fresh.block(ts[i : i + 1], 300) for i in (50, 3, 0, 71, 20)}
    for kind, block in by_kind(whole).items():
        for i, parts in singles.items():
            np.testing.assert_array_equal(by_kind(parts)[kind].values[:, :, 0], block.values[:, :, i])


def test_seed_decides_the_signals() -> None:
    model = generate_model(enterprises=3, seed=7)
    ts = T0 + np.arange(0, DAY, 600)
    a = by_kind(ParkSignals(sim_parks(model)[0]).block(ts, 600))
    b = by_kind(ParkSignals(sim_parks(model)[0]).block(ts, 600))
    c = by_kind(ParkSignals(sim_parks(model, seed=8)[0]).block(ts, 600))
    for kind in a:
        np.testing.assert_array_equal(a[kind].values, b[kind].values)
    assert any(not np.array_equal(a[k].values, c[k].values) for k in a)


def hourly_load(industry: str, days: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Mean power by local hour on weekdays and on weekends, relative to rated."""
    park = park_of(*[(f"em{i}", "elec_meter", industry, {"rated_kw": 1000}) for i in range(8)])
    ts = T0 + np.arange(0, days * DAY, 600)
    power = by_kind(ParkSignals(park).block(ts, 600))["elec_meter"].values[:, 2, :].mean(axis=0) / 1000
    local = ts + 8 * HOUR
    hour = (local % DAY) // HOUR
    weekday = ((local - 1_736_121_600) // DAY) % 7  # 0 = Monday
    week = np.array([power[(hour == h) & (weekday < 5)].mean() for h in range(24)])
    weekend = np.array([power[(hour == h) & (weekday >= 5)].mean() for h in range(24)])
    return week, weekend


def test_day_shift_industry_loads_the_day_and_rests_at_night_and_weekends() -> None:
    week, weekend = hourly_load("new_materials")
    assert week[10] > 3 * week[3]  # two shifts 08–24, night standby
    assert week[16] < week[15]  # shift change dip
    assert weekend[10] < 0.7 * week[10]


def test_metallurgy_runs_on_night_power_and_backs_off_at_peak_tariff() -> None:
    week, _ = hourly_load("metallurgy")
    assert week[3] > 1.3 * week[19]
    assert week[3] > 1.3 * week[11]


def test_continuous_process_is_flat_with_shift_change_dips() -> None:
    week, weekend = hourly_load("coal_chemical")
    assert week.max() / week.min() < 1.15
    assert week[8] < week[12]
    assert weekend.mean() == pytest.approx(week.mean(), rel=0.1)


def test_emissions_follow_load_with_oxygen_opposite() -> None:
    park = park_of(
        *[
            (f"c{i}", "stack_cems", "new_materials", {"source_type": "coal_boiler", "rated_flow_m3h": 1e5})
            for i in range(4)
        ]
    )
    ts = T0 + np.arange(0, 7 * DAY, 900)
    v = by_kind(ParkSignals(park, SignalConfig(exceed_per_day=0)).block(ts, 900))["stack_cems"].values
    so2, o2, flow = v[:, 0].ravel(), v[:, 3].ravel(), v[:, 4].ravel()
    assert np.corrcoef(flow, o2)[0, 1] < -0.5
    assert np.corrcoef(flow, so2)[0, 1] > 0.3
    assert 6 < np.median(o2) < 15


def test_ambient_air_swings_over_days_and_is_smooth_within_an_hour() -> None:
    park = park_of(("aq01", "air_station", "park_operations", {}))
    ts = T0 + np.arange(0, 21 * DAY, 600)
    pm25 = by_kind(ParkSignals(park).block(ts, 600))["air_station"].values[0, 0]
    daily = pm25.reshape(21, -1).mean(axis=1)
    assert daily.max() > 2 * daily.min()  # stagnant versus windy days
    assert np.corrcoef(pm25[:-6], pm25[6:])[0, 1] > 0.8  # one hour apart: still alike


def test_gas_leaks_and_fires_are_rare_episodes_that_rise_and_fall() -> None:
    park = park_of(
        *[(f"gd{i}", "gas_detector", "coal_chemical", {}) for i in range(20)],
        *[(f"fa{i}", "fire_alarm", "logistics", {}) for i in range(20)],
    )
    config = SignalConfig(leak_per_day=0.5, fire_per_day=0.5)
    ts = T0 + np.arange(0, 10 * DAY, 60)
    blocks = by_kind(ParkSignals(park, config).block(ts, 60))
    gas = blocks["gas_detector"]
    lel, inside = gas.values[:, 0], (gas.events[:, 0] & EPISODE) > 0
    assert 0 < inside.mean() < 0.1
    assert lel[~inside].max() < 5 and lel[inside].max() > 25
    for i in range(lel.shape[0]):
        starts = np.flatnonzero(np.diff(inside[i].astype(int)) == 1) + 1
        for s in starts:
            stop = s + np.argmin(inside[i, s:]) if not inside[i, -1] else lel.shape[1]
            episode = lel[i, s:stop]
            peak = int(np.argmax(episode))
            assert episode[peak] > episode[0] and episode[peak] > episode[-1]
    fire = blocks["fire_alarm"].values[:, 0]
    assert set(np.unique(fire)) == {0.0, 1.0}
    assert fire.mean() < 0.05


def test_values_stay_inside_the_catalogue_ranges(demo: SimPark) -> None:
    from smartpark.catalogue import BY_CODE

    ts = T0 + np.arange(0, DAY, 900)
    for block in ParkSignals(demo).block(ts, 900):
        for j, code in enumerate(block.metrics):
            m = BY_CODE[code]
            assert np.all(block.values[:, j] >= m.min_value) and np.all(block.values[:, j] <= m.max_value)


def test_ticks_before_the_epoch_are_refused(demo: SimPark) -> None:
    with pytest.raises(ValueError, match="before the simulation epoch"):
        ParkSignals(demo).block([1_600_000_000], 60)
