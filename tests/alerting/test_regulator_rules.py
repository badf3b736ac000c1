"""The regulators' rules through the alerting service on the real broker and database:
"data logger silent for N minutes" (condition logger_silent) and "effective transmission rate
below X % today" (metric data.effective_rate_today_pct)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from alerting import lifecycle
from alerting.lifecycle import AlertFilter
from alerting.rules import RuleError, rule_from_dict
from smartpark.catalogue import BY_CODE
from smartpark.settings import Settings
from tests.support.alerting import Gateway, running, scoped
from tests.support.readings import device_id, store_readings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _alerts(db: psycopg.Connection[Any], park: dict[str, Any], rule_id: str) -> list[tuple[str, str]]:
    pid = db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()
    assert pid is not None
    rows = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid[0],), rule_id=rule_id))
    return [(r["labels"]["device"], r["state"]) for r in reversed(rows)]


def test_a_silent_data_logger_fires_and_other_silent_devices_do_not(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    code = park["parks"][0]["code"]
    cems = device_id(db, park, "e1", "cems1")
    db.execute(
        'UPDATE devices SET attributes = attributes || \'{"hj212_mn": "LS0001", "hj212_pw": "123456"}\''
        " WHERE device_id = %s",
        (cems,),
    )
    rules = scoped(
        code,
        {
            "id": "t-logger-silent",
            "metric": "*",
            "category": "emissions",
            "condition": {"type": "logger_silent", "window": "1500ms"},
            "scope": {"kinds": ["stack_cems", "wastewater"]},
        },
    )
    gw = Gateway(park)
    try:
        with running(settings, rules, parks=[code]):
            # every series of the rule starts its window together: all silent ones fire in one tick
            wait_until(lambda: _alerts(db, park, "t-logger-silent"), what="the silent logger's alarm")
            # e2's wastewater monitor ww1 is as silent, but not a data logger
            assert _alerts(db, park, "t-logger-silent") == [("cems1", "firing")]
            gw.send({"cems1": {"stack.o2_pct": 9.0}})
            wait_until(lambda: _alerts(db, park, "t-logger-silent") == [("cems1", "resolved")], what="resolved")
    finally:
        gw.close()


def _zone_past_noon() -> str:
    """A fixed-offset zone where it is now between 12:00 and 18:00: its midnight lies 12 h or more back."""
    utc_hour = datetime.now(UTC).hour
    for offset in range(-12, 15):
        if 12 <= (utc_hour + offset) % 24 < 18:
            return f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT+5 is UTC-5
    raise AssertionError("unreachable: some offset puts it past noon")


def test_effective_transmission_rate_below_the_threshold_today_fires_and_clears(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    code = park["parks"][0]["code"]
    wm = device_id(db, park, "e1", "wm1")
    water = BY_CODE["water.volume_m3"].id
    registered = datetime.now(UTC) - timedelta(hours=5, minutes=30)
    # one reading an hour, registered 5½ h ago, today: 5 owed (floor(5.5 h / 1 h)) for the next half hour
    db.execute("UPDATE parks SET timezone = %s WHERE code = %s", (_zone_past_noon(), code))
    db.execute(
        "UPDATE devices SET created_at = %s, attributes = attributes || '{\"interval_s\": 3600}' WHERE device_id = %s",
        (registered, wm),
    )
    at = [int((registered + timedelta(minutes=10 + 60 * k)).timestamp() * 1000) for k in range(5)]
    store_readings(db, [(wm, water, at[k], 100.0 + k) for k in range(3)])  # valid (flag N)
    store_readings(db, [(wm, water, at[3], 103.0)], flag=1)  # stopped (F): received, not valid
    # 4 of 5 received, 3 of 4 valid: 80 % × 75 % = 60 %
    rules = scoped(
        code,
        {
            "id": "t-rate",
            "metric": "data.effective_rate_today_pct",
            "category": "energy",
            "condition": {"op": "<", "threshold": 90},
            "hysteresis": 1,
            "scope": {"devices": ["e1/wm1"]},
        },
    )
    with running(settings, rules, parks=[code], transmission_every_s=0.2):
        wait_until(lambda: _alerts(db, park, "t-rate") == [("wm1", "firing")], what="the rate alarm")
        pid = db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()
        assert pid is not None
        (alert,) = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid[0],), rule_id="t-rate"))
        assert alert["trigger_value"] == pytest.approx(60.0)
        store_readings(db, [(wm, water, at[4], 104.0)])
        db.execute("UPDATE telemetry SET flag = 0 WHERE device_id = %s AND ts = to_timestamp(%s / 1000.0)", (wm, at[3]))
        wait_until(lambda: _alerts(db, park, "t-rate") == [("wm1", "resolved")], what="100 % clears it")


def test_the_rule_kinds_are_checked() -> None:
    base = {"id": "x", "severity": "minor", "category": "emissions"}
    with pytest.raises(RuleError, match="watches metric"):
        rule_from_dict({**base, "metric": "stack.o2_pct", "condition": {"type": "logger_silent", "window": "5m"}})
    with pytest.raises(RuleError, match="needs a window"):
        rule_from_dict({**base, "metric": "*", "condition": {"type": "logger_silent"}})
    with pytest.raises(RuleError, match="judged as a value"):
        rule_from_dict(
            {
                **base,
                "metric": "data.effective_rate_today_pct",
                "condition": {"type": "avg", "op": "<", "threshold": 90, "window": "1h"},
            }
        )
