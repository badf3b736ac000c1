"""Every condition type through the vectorised evaluator, with time passed in (no clock)."""

from __future__ import annotations

from alerting.carry_over import carried_rules, carry_map, take_over
from alerting.evaluate import FIRING, OK, PENDING, Entity, Evaluator, SeriesState
from alerting.metric_ids import AIR_AQI_ID, DEVICE_ONLINE_ID, metric_id
from alerting.reading_batch import Batch
from alerting.rules import Rule, default_rules, rule_from_dict

T0 = 1_764_115_200_000
GD = Entity("d:1", "p1", "e1", "gd01", "gas_detector", zone="C1", gateway="gw01")
GD2 = Entity("d:2", "p1", "e1", "gd02", "gas_detector", zone="C2", gateway="gw01")
CEMS = Entity("d:3", "p1", "e1", "cems01", "stack_cems", attributes={"o2_ref_pct": 6})
AIR = Entity("d:4", "p1", "e1", "aq01", "air_station")
GW = Entity("g:1", "p1", "e1", "gw01", "gateway")
ENTITIES = [GD, GD2, CEMS, AIR, GW]


def rule(**kw: object) -> Rule:
    base: dict[str, object] = {
        "id": "r",
        "metric": "safety.lel_pct",
        "severity": "major",
        "category": "safety",
        "condition": {"op": ">=", "threshold": 25},
    }
    return rule_from_dict({**base, **kw})


def feed(ev: Evaluator, entity: int, metric: str, points: list[tuple[int, float]]) -> list[tuple[str, int, int]]:
    mid = metric_id(metric)
    out = ev.evaluate(
        Batch.of([entity] * len(points), [mid] * len(points), [T0 + t for t, _ in points], [v for _, v in points]),
        now_ms=T0 + max(t for t, _ in points),
    )
    return [(t.to, t.entity, t.ts_ms - T0) for t in out]


SO2_ABOVE_50 = rule(
    id="so2",
    metric="stack.so2_mgm3",
    category="emissions",
    transform="o2_reference",
    condition={"op": ">", "threshold": 50},
)


def make(*rules: Rule) -> Evaluator:
    return Evaluator(rules, ENTITIES, now_ms=T0)


def test_gt_ge_lt_le_fire_and_resolve() -> None:
    cases = [(">", 25, 25.0, 25.1), (">=", 25, 24.9, 25.0), ("<", 19.5, 19.5, 19.4), ("<=", 19.5, 19.6, 19.5)]
    for op, thr, quiet, loud in cases:
        ev = make(rule(condition={"op": op, "threshold": thr}))
        assert feed(ev, 0, "safety.lel_pct", [(0, quiet)]) == []
        assert feed(ev, 0, "safety.lel_pct", [(1000, loud)]) == [("firing", 0, 1000)], op
        assert feed(ev, 0, "safety.lel_pct", [(2000, loud)]) == []
        assert feed(ev, 0, "safety.lel_pct", [(3000, quiet)]) == [("resolved", 0, 3000)], op


def test_outside_band() -> None:
    ev = make(rule(metric="ww.ph", category="emissions", condition={"band": [6, 9]}))
    assert feed(ev, 0, "ww.ph", [(0, 7.0), (1, 6.0), (2, 9.0)]) == []
    assert feed(ev, 0, "ww.ph", [(3, 5.9)]) == [("firing", 0, 3)]
    assert feed(ev, 0, "ww.ph", [(4, 7.0)]) == [("resolved", 0, 4)]
    assert feed(ev, 0, "ww.ph", [(5, 9.1)]) == [("firing", 0, 5)]


def test_only_scoped_series_and_each_series_separately() -> None:
    ev = make(rule(scope={"zones": ["C2"]}))
    assert feed(ev, 0, "safety.lel_pct", [(0, 60.0)]) == []
    assert feed(ev, 1, "safety.lel_pct", [(0, 60.0)]) == [("firing", 1, 0)]
    ev = make(rule())
    batch = Batch.of([0, 1, 0, 1], [metric_id("safety.lel_pct")] * 4, [T0, T0, T0 + 1, T0 + 1], [30, 10, 10, 30])
    got = sorted((t.to, t.entity, t.ts_ms - T0) for t in ev.evaluate(batch, now_ms=T0 + 1))
    assert got == [("firing", 0, 0), ("firing", 1, 1), ("resolved", 0, 1)]


def test_for_duration_pending_then_firing_or_cancelled() -> None:
    ev = make(rule(**{"for": "10s"}))
    assert feed(ev, 0, "safety.lel_pct", [(0, 30.0)]) == [("pending", 0, 0)]
    assert feed(ev, 0, "safety.lel_pct", [(5000, 30.0)]) == []
    assert ev.series_state("r", "d:1") == PENDING
    assert feed(ev, 0, "safety.lel_pct", [(10000, 31.0)]) == [("firing", 0, 10000)]
    ev = make(rule(**{"for": "10s"}))
    assert feed(ev, 0, "safety.lel_pct", [(0, 30.0), (4000, 20.0)]) == [("pending", 0, 0), ("cancelled", 0, 4000)]
    assert ev.series_state("r", "d:1") == OK


def test_for_duration_fires_on_the_clock_without_new_readings() -> None:
    ev = make(rule(**{"for": "10s"}))
    feed(ev, 0, "safety.lel_pct", [(0, 30.0)])
    assert ev.tick(now_ms=T0 + 9_999) == []
    fired = ev.tick(now_ms=T0 + 10_000)
    assert [(t.to, t.entity, t.value) for t in fired] == [("firing", 0, 30.0)]


def test_hysteresis_holds_until_clear_level() -> None:
    ev = make(rule(hysteresis=5))
    assert feed(ev, 0, "safety.lel_pct", [(0, 26.0)]) == [("firing", 0, 0)]
    assert feed(ev, 0, "safety.lel_pct", [(1, 24.0), (2, 20.5)]) == []
    assert ev.series_state("r", "d:1") == FIRING
    assert feed(ev, 0, "safety.lel_pct", [(3, 19.9)]) == [("resolved", 0, 3)]
    low = make(rule(condition={"op": "<", "threshold": 19.5}, hysteresis=0.3, metric="safety.o2_pct"))
    assert feed(low, 0, "safety.o2_pct", [(0, 19.0), (1, 19.7)]) == [("firing", 0, 0)]
    assert feed(low, 0, "safety.o2_pct", [(2, 19.8)]) == [("resolved", 0, 2)]
    band = make(rule(metric="ww.ph", condition={"band": [6, 9]}, hysteresis=0.5))
    assert feed(band, 0, "ww.ph", [(0, 9.2), (1, 8.8)]) == [("firing", 0, 0)]
    assert feed(band, 0, "ww.ph", [(2, 8.4)]) == [("resolved", 0, 2)]


def test_average_over_window() -> None:
    ev = make(rule(condition={"type": "avg", "window": "60s", "op": ">", "threshold": 10}))
    assert feed(ev, 0, "safety.lel_pct", [(0, 0.0), (20_000, 0.0), (40_000, 29.0)]) == []  # mean 9.67
    assert feed(ev, 0, "safety.lel_pct", [(50_000, 12.0)]) == [("firing", 0, 50_000)]  # mean 10.25
    # 0 and 0 leave the window: mean of 29, 12, 0 drops below 10 only once the big values leave
    assert feed(ev, 0, "safety.lel_pct", [(90_000, 0.0)]) == []
    assert feed(ev, 0, "safety.lel_pct", [(111_000, 0.0)]) == [("resolved", 0, 111_000)]


def test_window_slides_on_the_periodic_pass() -> None:
    ev = make(rule(condition={"type": "avg", "window": "60s", "op": ">", "threshold": 10}))
    feed(ev, 0, "safety.lel_pct", [(0, 50.0), (30_000, 0.0)])
    assert ev.series_state("r", "d:1") == FIRING
    assert [t.to for t in ev.tick(now_ms=T0 + 61_000)] == ["resolved"]  # only the 0 is left


def test_rate_of_change_over_window() -> None:
    cond = {"type": "rate", "window": "10s", "op": ">", "threshold": 0.5}
    ev = make(rule(metric="safety.pressure_mpa", condition=cond))
    pts = [(0, 1.0), (5000, 1.2), (9000, 1.4)]
    assert feed(ev, 0, "safety.pressure_mpa", pts) == []
    assert feed(ev, 0, "safety.pressure_mpa", [(10_000, 1.6)]) == [("firing", 0, 10_000)]  # +0.6 in 10 s
    assert feed(ev, 0, "safety.pressure_mpa", [(20_000, 1.6)]) == [("resolved", 0, 20_000)]


def test_no_data_fires_on_time_and_resolves_on_data() -> None:
    ev = make(rule(metric="*", condition={"type": "nodata", "window": "2m"}, scope={"kinds": ["gas_detector"]}))
    assert feed(ev, 0, "safety.lel_pct", [(0, 1.0)]) == []
    assert ev.tick(now_ms=T0 + 119_999) == []
    fired = ev.tick(now_ms=T0 + 120_000)
    # gd01 was last seen at T0, gd02 never: silent since the evaluator started (T0)
    assert sorted((t.to, t.entity) for t in fired) == [("firing", 0), ("firing", 1)]
    assert ev.tick(now_ms=T0 + 200_000) == []
    back = ev.evaluate(Batch.of([1], [metric_id("safety.o2_pct")], [T0 + 200_000], [20.9]), now_ms=T0 + 200_001)
    assert [(t.to, t.entity, t.ts_ms - T0) for t in back] == [("resolved", 1, 200_001)]


def test_device_offline_from_status_readings() -> None:
    ev = make(
        rule(
            id="gw-off",
            metric="device.online",
            condition={"op": "<", "threshold": 0.5},
            scope={"kinds": ["gateway"]},
            **{"for": "30s"},
        )
    )
    b = Batch.of([4], [DEVICE_ONLINE_ID], [T0], [0.0])
    assert [t.to for t in ev.evaluate(b, now_ms=T0)] == ["pending"]
    assert [t.to for t in ev.tick(now_ms=T0 + 30_000)] == ["firing"]
    back = Batch.of([4], [DEVICE_ONLINE_ID], [T0 + 40_000], [1.0])
    assert [t.to for t in ev.evaluate(back, now_ms=T0 + 40_000)] == ["resolved"]


def test_stack_limits_after_o2_reference_correction() -> None:
    ev = make(SO2_ABOVE_50)
    so2, o2 = metric_id("stack.so2_mgm3"), metric_id("stack.o2_pct")
    # no O2 yet: the reading cannot be judged, and is counted
    assert ev.evaluate(Batch.of([2], [so2], [T0], [40.0]), now_ms=T0) == []
    assert ev.unevaluable == 1
    # standards.md: 40 mg/m³ at 10 % O2 -> 54.55 mg/m³ at 6 %: above 50 although 40 is not
    out = ev.evaluate(Batch.of([2, 2], [o2, so2], [T0 + 1, T0 + 1], [10.0, 40.0]), now_ms=T0 + 1)
    assert [(t.to, round(t.value or 0, 2)) for t in out] == [("firing", 54.55)]
    out = ev.evaluate(Batch.of([2, 2], [o2, so2], [T0 + 2, T0 + 2], [6.0, 40.0]), now_ms=T0 + 2)
    assert [t.to for t in out] == ["resolved"]
    # in one batch each concentration is corrected with the O2 measured with it
    batch = Batch.of([2, 2, 2, 2], [o2, so2, o2, so2], [T0 + 3, T0 + 3, T0 + 4, T0 + 4], [6.0, 45.0, 15.0, 30.0])
    assert [(t.to, round(t.value or 0, 2)) for t in ev.evaluate(batch, now_ms=T0 + 4)] == [("firing", 75.0)]


def test_aqi_levels_from_station_concentrations() -> None:
    ev = make(rule(id="aqi", metric="air.aqi", category="environment", condition={"op": ">", "threshold": 100}))
    pm25 = metric_id("air.pm25_ugm3")
    assert ev.evaluate(Batch.of([3], [pm25], [T0], [50.0]), now_ms=T0) == []
    out = ev.evaluate(Batch.of([3], [pm25], [T0 + 1], [200.0]), now_ms=T0 + 1)
    # the AQI of the hourly mean (50 + 200) / 2 = 125 on HJ 633-2012 table 1 (PM2.5 24 h 115-150
    # -> IAQI 150-200): 150 + 50 × 10 / 35 = 164.29 -> 165
    assert [(t.to, t.value) for t in out] == [("firing", 165.0)]
    assert metric_id("air.aqi") == AIR_AQI_ID


def test_hourly_aqi_is_the_aqi_of_the_hourly_mean_not_the_mean_of_aqis() -> None:
    """Issue 16 item 8: PM2.5 alternating 0 and 250 µg/m³ for an hour. Mean 125 -> IAQI 165
    (HJ 633-2012 table 1, 150 + 50 × (125 − 115) / (150 − 115) = 164.3, rounded up); the mean of
    the per-reading IAQIs (0 and 300) would be 150."""
    ev = make(rule(id="aqi", metric="air.aqi", category="environment", condition={"op": ">", "threshold": 150}))
    pm25 = metric_id("air.pm25_ugm3")
    ts = [T0 + i * 60_000 for i in range(60)]
    out = ev.evaluate(Batch.of([3] * 60, [pm25] * 60, ts, [0.0, 250.0] * 30), now_ms=ts[-1])
    assert [(t.to, t.value) for t in out][-1] == ("firing", 165.0)
    # an hour later the old readings have left the window: the AQI is that of the new hour only
    later = T0 + 2 * 3_600_000
    out = ev.evaluate(Batch.of([3], [pm25], [later], [10.0]), now_ms=later)
    assert [(t.to, t.value) for t in out] == [("resolved", 15.0)]  # 50 × 10 / 35 = 14.3 -> 15


def test_stack_and_air_station_in_one_batch() -> None:
    ev = make(
        SO2_ABOVE_50,
        rule(id="aqi", metric="air.aqi", category="environment", condition={"op": ">", "threshold": 100}),
    )
    ids = [metric_id(c) for c in ("stack.o2_pct", "stack.so2_mgm3", "air.pm25_ugm3", "air.no2_ugm3")]
    out = ev.evaluate(Batch.of([2, 2, 3, 3], ids, [T0] * 4, [10.0, 40.0, 200.0, 50.0]), now_ms=T0)
    assert sorted(t.rule.id for t in out) == ["aqi", "so2"]
    assert ev.o2[2] == 10.0


def test_state_survives_export_and_import() -> None:
    ev = make(rule(hysteresis=5), rule(id="slow", **{"for": "1m"}))
    feed(ev, 0, "safety.lel_pct", [(0, 30.0)])
    saved = ev.export_state()
    assert sorted((s.rule_id, s.entity_key, s.state) for s in saved) == [("r", "d:1", FIRING), ("slow", "d:1", PENDING)]
    again = make(rule(hysteresis=5), rule(id="slow", **{"for": "1m"}))
    assert again.import_state(saved) == 2
    assert feed(again, 0, "safety.lel_pct", [(1000, 31.0)]) == []  # no duplicate firing
    assert [t.to for t in again.tick(now_ms=T0 + 60_000)] == ["firing"]
    assert sorted(feed(again, 0, "safety.lel_pct", [(70_000, 10.0)])) == [("resolved", 0, 70_000)] * 2


def test_history_and_late_readings_raise_nothing() -> None:
    ev = make(rule())
    lel = metric_id("safety.lel_pct")
    hour = 3_600_000
    # a back-fill of last month: old readings are not news
    assert ev.evaluate(Batch.of([0], [lel], [T0 - 30 * 24 * hour], [90.0]), now_ms=T0) == []
    assert ev.evaluate(Batch.of([0], [lel], [T0 + hour], [90.0]), now_ms=T0) == []  # from the future
    assert ev.stale == 2
    assert [t.to for t in ev.evaluate(Batch.of([0], [lel], [T0], [30.0]), now_ms=T0)] == ["firing"]
    # a reading older than one already judged cannot clear the alarm
    assert ev.evaluate(Batch.of([0], [lel], [T0 - 1000], [1.0]), now_ms=T0) == []
    assert ev.out_of_order == 1 and ev.series_state("r", "d:1") == FIRING


def test_windows_primed_from_stored_readings_resume_after_a_restart() -> None:
    avg = rule(
        id="so2-avg",
        metric="stack.so2_mgm3",
        category="emissions",
        transform="o2_reference",
        condition={"type": "avg", "window": "1h", "op": ">", "threshold": 35},
        hysteresis=2,
    )
    so2, o2 = metric_id("stack.so2_mgm3"), metric_id("stack.o2_pct")
    ev = make(avg)
    assert ev.window_metrics() == ({so2, o2}, 3600.0)
    minute = 60_000
    # the last 50 minutes, stored: 45 mg/m³ at reference O2 (o2_ref 6 = measured 6)
    hist = [(2, m, T0 - i * minute, x) for i in range(1, 51) for m, x in ((o2, 6.0), (so2, 45.0))]
    assert ev.prime(Batch.of(*zip(*hist, strict=True))) == 50
    ev.import_state([SeriesState("so2-avg", "d:3", FIRING, T0 - 50 * minute, 45.0)])
    # one low reading after the restart does not clear an hourly average that is still high
    out = ev.evaluate(Batch.of([2, 2], [o2, so2], [T0, T0], [6.0, 10.0]), now_ms=T0)
    assert out == [] and ev.series_state("so2-avg", "d:3") == FIRING


def test_manual_reset_lets_a_new_alarm_rise() -> None:
    ev = make(rule())
    feed(ev, 0, "safety.lel_pct", [(0, 30.0)])
    ev.reset("r", "d:1")
    assert feed(ev, 0, "safety.lel_pct", [(1, 30.0)]) == [("firing", 0, 1)]


def test_default_rule_set_on_a_gas_leak() -> None:
    ev = Evaluator(default_rules(), ENTITIES, now_ms=T0)
    lel = metric_id("safety.lel_pct")
    batch = Batch.of([0, 0, 0], [lel] * 3, [T0, T0 + 1000, T0 + 2000], [5.0, 30.0, 55.0])
    out = [(t.rule.id, t.to, t.ts_ms - T0) for t in ev.evaluate(batch, now_ms=T0 + 2000)]
    assert out == [("lel-level1", "firing", 1000), ("lel-level2", "firing", 2000)]


def test_each_outlet_is_judged_against_its_own_limit_at_reference_o2() -> None:
    """Issue 16 items 1, 4, 5. SO2 30 mg/m³ measured at 12 % O2 is 30 × 12 / 9 = 40 at 9 % (coal
    boiler) and 30 × 15 / 9 = 50 at 6 % (power unit). The power unit's ultra-low limit 35 is
    exceeded; the coal boiler's GB 13271-2014 table 2 limit 300 is not; an outlet with a permit
    of 38 at 9 % is. Readings at O2 above 19 % are not evaluable."""
    coal = Entity("d:10", "p1", "e1", "c1", "stack_cems", attributes={"source_type": "coal_boiler"})
    power = Entity("d:11", "p1", "e1", "c2", "stack_cems", attributes={"source_type": "power_boiler"})
    permit = Entity(
        "d:12",
        "p1",
        "e1",
        "c3",
        "stack_cems",
        attributes={"source_type": "coal_boiler", "limits": {"stack.so2_mgm3": 38}},
    )
    unknown = Entity("d:13", "p1", "e1", "c4", "stack_cems")
    so2_rule = rule(
        id="so2",
        metric="stack.so2_mgm3",
        category="emissions",
        transform="o2_reference",
        condition={"op": ">", "threshold": "outlet_limit"},
    )
    ev = Evaluator([so2_rule], [coal, power, permit, unknown], now_ms=T0)
    o2, so2 = metric_id("stack.o2_pct"), metric_id("stack.so2_mgm3")
    batch = Batch.of([0, 0, 1, 1, 2, 2, 3, 3], [o2, so2] * 4, [T0] * 8, [12.0, 30.0] * 4)
    out = ev.evaluate(batch, now_ms=T0)
    assert sorted((ev.entities[t.entity].code, round(t.value or 0, 6)) for t in out) == [("c2", 50.0), ("c3", 40.0)]
    assert not ev.applies[0, 3]  # no source type, no permit: no limit to judge against
    # not firing: O2 20.9 % -> 1 mg/m³ would read 120 at 9 %; not evaluable, no alarm, no clear
    before = ev.unevaluable
    quiet = ev.evaluate(Batch.of([0, 0, 1, 1], [o2, so2, o2, so2], [T0 + 1] * 4, [20.9, 1.0, 20.9, 1.0]), now_ms=T0 + 1)
    assert quiet == [] and ev.unevaluable == before + 2


def test_repeated_instant_keeps_the_first_reading_as_storage_does() -> None:
    """Storage keeps the first of two readings of one device, metric and ts (ON CONFLICT DO
    NOTHING); the O2 correction pairs SO2 and O2 of that instant the same way. Hand-worked with
    standards.md §3 (GB 13223): c' = c (21 - 6) / (21 - O2): 40 at 9 % O2 is 50.0, not above 50; the
    repeat (44 at 12 %) would have given 73.3 and fired."""
    ev = make(SO2_ABOVE_50)
    so2, o2 = metric_id("stack.so2_mgm3"), metric_id("stack.o2_pct")
    same_batch = Batch.of([2, 2, 2, 2], [o2, so2, o2, so2], [T0] * 4, [9.0, 40.0, 12.0, 44.0])
    assert ev.evaluate(same_batch, now_ms=T0) == []
    assert ev.duplicates == 2 and ev.o2[2] == 9.0
    # the repeat arriving in a later batch changes nothing either
    later = Batch.of([2, 2], [o2, so2], [T0, T0], [12.0, 44.0])
    assert ev.evaluate(later, now_ms=T0 + 5) == []
    assert ev.duplicates == 3 and ev.o2[2] == 9.0  # the O2 repeat is not judged by a rule, only not kept
    assert ev.series_state("so2", "d:3") == OK


def test_a_repeated_gas_reading_neither_raises_nor_clears() -> None:
    ev = make(rule(hysteresis=5))
    assert feed(ev, 0, "safety.lel_pct", [(0, 10.0), (0, 30.0)]) == []  # first of the instant: 10
    assert feed(ev, 0, "safety.lel_pct", [(1, 30.0)]) == [("firing", 0, 1)]
    assert feed(ev, 0, "safety.lel_pct", [(1, 0.0)]) == []  # a repeat of t=1 does not resolve it
    assert ev.series_state("r", "d:1") == FIRING


def test_take_over_carries_state_windows_and_o2_by_key() -> None:
    lel = rule(hysteresis=5)
    avg = rule(id="avg", metric="safety.co_ppm", condition={"type": "avg", "window": "1m", "op": ">", "threshold": 10})
    old = Evaluator([lel, avg], [GD, GD2, CEMS], now_ms=T0)
    feed(old, 1, "safety.lel_pct", [(0, 30.0)])  # GD2 firing
    feed(old, 0, "safety.co_ppm", [(0, 20.0)])  # GD pending nothing, but its window holds 20
    old.evaluate(Batch.of([2], [metric_id("stack.o2_pct")], [T0], [9.0]), now_ms=T0)
    new_gd = Entity("d:9", "p1", "e1", "gd09", "gas_detector")
    tighter = rule(
        id="avg", metric="safety.co_ppm", condition={"type": "avg", "window": "1m", "op": ">", "threshold": 5}
    )
    # entities in another order, one new; the lel rule unchanged, the avg rule changed
    new = Evaluator([lel, tighter], [new_gd, CEMS, GD2, GD], now_ms=T0)
    assert carried_rules(new, old) == {0}
    take_over(new, old, carry_map(new, old))
    assert new.series_state("r", "d:2") == FIRING and new.series_state("r", "d:9") == OK
    assert new.o2[1] == 9.0
    assert (1, 3) not in new.windows  # a changed rule's windows are primed afresh, not carried
    # the carried firing series resolves as it would have in the old evaluator
    out = new.evaluate(Batch.of([2], [metric_id("safety.lel_pct")], [T0 + 10], [19.0]), now_ms=T0 + 10)
    assert [(t.to, new.entities[t.entity].key) for t in out] == [("resolved", "d:2")]


def test_take_over_carries_windows_of_an_unchanged_rule() -> None:
    avg = rule(id="avg", metric="safety.co_ppm", condition={"type": "avg", "window": "1m", "op": ">", "threshold": 10})
    old = Evaluator([avg], [GD], now_ms=T0)
    feed(old, 0, "safety.co_ppm", [(0, 8.0), (1000, 9.0)])
    new = Evaluator([avg], [GD2, GD], now_ms=T0)
    take_over(new, old)
    # (8 + 9 + 16) / 3 = 11 > 10: only true if the carried window still holds 8 and 9
    out = new.evaluate(Batch.of([1], [metric_id("safety.co_ppm")], [T0 + 2000], [16.0]), now_ms=T0 + 2000)
    assert [(t.to, t.value) for t in out] == [("firing", 11.0)]
