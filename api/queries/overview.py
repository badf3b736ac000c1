"""Counts for the ops-centre overview."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, required, tenant


def counts(conn: psycopg.Connection[Any], p: Principal, *, park_id: int | None, since: datetime) -> dict[str, int]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.when(park_id, "e.park_id = %(pid)s", "pid")
    w.params["since"] = since
    row = required(
        conn.execute(
            "SELECT count(DISTINCT e.enterprise_id) AS enterprises, count(d.device_id) AS devices,"
            " count(r.device_id) AS devices_reporting"
            " FROM enterprises e LEFT JOIN devices d USING (enterprise_id)"
            " LEFT JOIN (SELECT DISTINCT device_id FROM telemetry_latest WHERE ts >= %(since)s) r"
            "  ON r.device_id = d.device_id"
            f" WHERE {w.sql}",
            w.params,
        ).fetchone()
    )
    return {k: int(row[k]) for k in ("enterprises", "devices", "devices_reporting")}
