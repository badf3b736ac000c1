"""The stored telemetry that average and rate windows resume from, after a restart or for a new
rule. Ingest writes it; alerting only reads it."""

from __future__ import annotations

from collections.abc import Sequence

from alerting.store_sql import Conn, ts
from smartpark.catalogue import COUNTED_FLAGS


def window_readings(
    conn: Conn, *, metric_ids: Sequence[int], device_ids: Sequence[int], start_ms: int, end_ms: int, limit: int
) -> list[tuple[int, int, int, float]]:
    """(device_id, metric_id, ts ms, value) of the valid stored readings (ingest's), oldest first."""
    # the readings that count (catalogue.COUNTED_FLAGS), as the evaluator judges them live
    return conn.execute(
        "SELECT device_id, metric_id, (extract(epoch FROM ts) * 1000)::int8, value FROM telemetry"
        " WHERE ts >= %s AND ts <= %s AND metric_id = ANY(%s) AND device_id = ANY(%s) AND flag = ANY(%s)"
        " ORDER BY ts LIMIT %s",
        (ts(start_ms), ts(end_ms), list(metric_ids), list(device_ids), sorted(COUNTED_FLAGS), limit),
    ).fetchall()
