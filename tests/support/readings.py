"""Test helpers: store readings the way ingest does (telemetry + telemetry_touched)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def store_readings(db: psycopg.Connection[Any], rows: Sequence[tuple[int, int, int, float]], flag: int = 0) -> None:
    """(device_id, metric_id, ts ms, value) rows, with their touched buckets, in one transaction."""
    dev, met, ts, val = (list(c) for c in zip(*rows, strict=True))
    with db.transaction():
        db.execute(
            "WITH ins AS (INSERT INTO telemetry (ts, device_id, metric_id, value, flag)"
            " SELECT timestamptz 'epoch' + t * interval '1 millisecond', d, m, v, %(flag)s"
            " FROM unnest(%(d)s::int[], %(m)s::int[], %(t)s::int8[], %(v)s::float8[]) AS u(d, m, t, v)"
            " ON CONFLICT DO NOTHING RETURNING device_id, metric_id, ts)"
            " INSERT INTO telemetry_touched (device_id, metric_id, bucket)"
            " SELECT DISTINCT device_id, metric_id, time_bucket('15 minutes', ts) FROM ins"
            " ON CONFLICT DO NOTHING",
            {"d": dev, "m": met, "t": ts, "v": val, "flag": flag},
        )


def device_id(db: psycopg.Connection[Any], park: dict[str, Any], enterprise: str, code: str) -> int:
    row = db.execute(
        "SELECT d.device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
        " JOIN parks p USING (park_id) WHERE p.code = %s AND e.code = %s AND d.code = %s",
        (park["parks"][0]["code"], enterprise, code),
    ).fetchone()
    assert row is not None
    return int(row[0])
