"""A park of many metered enterprises, written straight into the database (no ingest, no rollup
job): each enterprise has a gateway, a main electricity meter with a contracted capacity and
sub-meters below it, the main meters' 15-minute rollups from the park's local month start to
``now_ms``, and every meter's hourly rollup of the hour the balance alarms judge.

It is what the energy alarms read (:mod:`alerting.energy_levels`) at the size of a large park, for
the benchmark of those figures and the test that they never hold a gas alarm back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from alerting.energy_levels import settled_hour
from energy.reads import COUNTER_OF


@dataclass(frozen=True, slots=True)
class MeteredPark:
    park_id: int
    code: str
    enterprises: int
    meters: int
    rollup_rows: int  # 15-minute rows of the main meters this month


def build(
    conn: psycopg.Connection[Any],
    *,
    code: str,
    enterprises: int = 2000,
    subs: int = 3,
    now_ms: int,
    timezone: str = "Asia/Shanghai",
) -> MeteredPark:
    """Enterprises p00000.. each with meters m0 (main, 100 kW contracted) and m1..m<subs>."""
    kwh = COUNTER_OF["electricity"]
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO parks (code, name, timezone) VALUES (%s, %s, %s) RETURNING park_id", (code, code, timezone)
        ).fetchone()
        assert row is not None
        pid = int(row[0])
        conn.execute(
            "INSERT INTO enterprises (park_id, code, name) SELECT %s, 'p' || lpad(i::text, 5, '0'),"
            " 'enterprise ' || i FROM generate_series(0, %s - 1) AS i",
            (pid, enterprises),
        )
        conn.execute(
            "INSERT INTO gateways (enterprise_id, code, mqtt_username)"
            " SELECT enterprise_id, 'gw', %s || '-' || code FROM enterprises WHERE park_id = %s",
            (code, pid),
        )
        conn.execute(
            "INSERT INTO devices (enterprise_id, gateway_id, code, kind, zone)"
            " SELECT e.enterprise_id, g.gateway_id, 'm' || k, 'elec_meter', 'M' FROM enterprises e"
            " JOIN gateways g USING (enterprise_id), generate_series(0, %s) AS k WHERE e.park_id = %s",
            (subs, pid),
        )
        conn.execute(
            "INSERT INTO device_metrics (device_id, metric_id) SELECT d.device_id, %s FROM devices d"
            " JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s",
            (kwh, pid),
        )
        conn.execute(
            "INSERT INTO energy_meters (park_id, enterprise_id, code, carrier, role, device_id, contracted_kw)"
            " SELECT %s, e.enterprise_id, e.code || '.m0', 'electricity', 'main', d.device_id, 100.0"
            " FROM devices d JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s AND d.code = 'm0'",
            (pid, pid),
        )
        conn.execute(
            "INSERT INTO energy_meters (park_id, enterprise_id, code, carrier, role, device_id, parent_id)"
            " SELECT %s, e.enterprise_id, e.code || '.' || d.code, 'electricity', 'sub', d.device_id, m.meter_id"
            " FROM devices d JOIN enterprises e USING (enterprise_id)"
            " JOIN energy_meters m ON m.enterprise_id = e.enterprise_id AND m.role = 'main'"
            " WHERE e.park_id = %s AND d.code <> 'm0'",
            (pid, pid),
        )
    _rollups(conn, park_id=pid, metric_id=kwh, now_ms=now_ms, subs=subs)
    row = conn.execute(
        "SELECT count(*) FROM rollup_15m r JOIN energy_meters m USING (device_id) WHERE m.park_id = %s", (pid,)
    ).fetchone()
    assert row is not None
    return MeteredPark(pid, code, enterprises, enterprises * (1 + subs), int(row[0]))


_COLS = "device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts, last, last_ts, consumption"


def _rollups(conn: psycopg.Connection[Any], *, park_id: int, metric_id: int, now_ms: int, subs: int) -> None:
    """Main meters: a quarter hour of 15 to 25 kWh (60 to 100 kW) since the local month began.
    Every meter: the judged hour, the subs sharing 90 % of their main's 80 kWh (a 10 % loss)."""
    conn.execute(
        f"INSERT INTO rollup_15m ({_COLS})"
        " SELECT m.device_id, %(m)s, b, 1, 0, 0, 0, 0, 0, b, 0, b, 15 + 10 * random()"
        " FROM energy_meters m JOIN parks p USING (park_id), generate_series("
        "  date_trunc('month', to_timestamp(%(now)s / 1000.0) AT TIME ZONE p.timezone) AT TIME ZONE p.timezone,"
        "  to_timestamp(%(now)s / 1000.0) - interval '15 minutes', interval '15 minutes') AS b"
        " WHERE m.park_id = %(p)s AND m.role = 'main'",
        {"m": metric_id, "now": now_ms, "p": park_id},
    )
    conn.execute(
        f"INSERT INTO rollup_1h ({_COLS})"
        " SELECT device_id, %(m)s, h, 4, 0, 0, 0, 0, 0, h, 0, h, CASE role WHEN 'main' THEN 80.0 ELSE %(sub)s END"
        " FROM energy_meters, to_timestamp(%(h)s / 1000.0) AS h WHERE park_id = %(p)s",
        {"m": metric_id, "h": settled_hour(now_ms), "p": park_id, "sub": 72.0 / subs},
    )
