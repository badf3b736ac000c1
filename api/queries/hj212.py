"""Data loggers' clocks as the HJ 212 server last found them (hj212_logger_clock), within the
caller's scope: a park's operators their park, an enterprise its own devices, a regulator the
devices that measure its categories."""

from __future__ import annotations

from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, tenant

_SQL = """
SELECT c.device_id, d.code AS device, e.code AS enterprise, p.code AS park, d.attributes->>'hj212_mn' AS mn,
       c.checked_at, c.skew_s, c.set_at, c.set_skew_s, c.sets
FROM hj212_logger_clock c
JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)
WHERE {where}
ORDER BY p.code, e.code, d.code
"""


def logger_clocks(conn: psycopg.Connection[Any], p: Principal, *, park_id: int | None = None) -> list[dict[str, Any]]:
    w = tenant(Where(), p, park="e.park_id", enterprise="d.enterprise_id", device="d.device_id")
    w.when(park_id, "e.park_id = %(pid)s", "pid")
    return conn.execute(_SQL.format(where=w.sql), w.params).fetchall()
