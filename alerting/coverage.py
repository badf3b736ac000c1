"""How much of each park's safety telemetry the alarms saw, against what storage holds.

A reading that reaches storage but never reaches the alerting service raises no alarm, and the
service's heartbeat stays fresh: a stale member session of its shared subscription (Mosquitto
hands it its share whether connected or not), a topic filter or ACL that misses a gateway. So
the service counts the safety readings it judges per park and 15-minute bucket of their own time
(:class:`Tally`, written to alerting_coverage, migration 0765), and :func:`compare` sets them
beside the stored counts of the same buckets (rollup_15m) once those are rolled up. Alerting may
judge more than is stored (a duplicate, a reading ingest rejects), never fewer when it sees all.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import tuple_row

from smartpark.catalogue import METRICS, Category

Q_MS = 900_000
SAFETY_METRICS = tuple(m.id for m in METRICS if m.category is Category.SAFETY)
MISSING_SHARE = 0.01  # judged below 99 % of stored: part of the stream did not reach the alarms
CLOSED_AFTER_S = 180  # a bucket is compared once it has ended this long ago (rolled up, late readings in)
LOOK_BACK_BUCKETS = 4


class Tally:
    """Safety readings judged, per (park, bucket), until written."""

    def __init__(self) -> None:
        self.counts: dict[tuple[int, int], int] = defaultdict(int)
        self._safety = np.zeros(max(SAFETY_METRICS) + 1, dtype=bool)
        self._safety[list(SAFETY_METRICS)] = True

    def add(
        self,
        *,
        park_of_entity: npt.NDArray[np.int64],
        entity: npt.NDArray[Any],
        metric: npt.NDArray[Any],
        ts_ms: npt.NDArray[np.int64],
    ) -> None:
        known = (metric >= 0) & (metric < self._safety.size)
        keep = np.zeros(metric.shape, dtype=bool)
        keep[known] = self._safety[metric[known]]
        if not keep.any():
            return
        key = (park_of_entity[entity[keep]] << 32) | (ts_ms[keep] // Q_MS)  # park, bucket number
        keys, n = np.unique(key, return_counts=True)
        for k, c in zip(keys.tolist(), n.tolist(), strict=True):
            self.counts[(k >> 32, (k & 0xFFFFFFFF) * Q_MS)] += c

    def write(self, conn: psycopg.Connection[Any]) -> int:
        """Add the counts to alerting_coverage in a transaction of their own, then start again
        (kept when the write fails, for the next try)."""
        if not self.counts:
            return 0
        park, bucket, n = zip(*((p, b, k) for (p, b), k in self.counts.items()), strict=True)
        with conn.transaction():
            conn.execute(
                "INSERT INTO alerting_coverage (park_id, bucket, readings)"
                " SELECT p, to_timestamp(b / 1000.0), n FROM unnest(%s::int[], %s::int8[], %s::int8[]) AS u(p, b, n)"
                " ON CONFLICT (park_id, bucket)"
                " DO UPDATE SET readings = alerting_coverage.readings + excluded.readings",
                (list(park), list(bucket), list(n)),
            )
        written = len(self.counts)
        self.counts.clear()
        return written


def compare(
    conn: psycopg.Connection[Any], *, park_ids: list[int] | None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The recent closed buckets where the alarms judged fewer safety readings than storage holds:
    park, bucket start, judged, stored. Empty: every stored safety reading reached the alarms.

    Buckets before the first the alarms ever judged of a park are not named (a platform's first
    start, history loaded before alerting ran); a park they never judged at all is."""
    end = (now or datetime.now(UTC)).timestamp() - CLOSED_AFTER_S
    last = int(end * 1000) // Q_MS * Q_MS - Q_MS  # the last bucket that ended before ``end``
    first = last - (LOOK_BACK_BUCKETS - 1) * Q_MS
    with conn.cursor(row_factory=tuple_row) as cur:  # the API's connections give dicts
        rows = cur.execute(
            "WITH stored AS ("
            " SELECT e.park_id, r.bucket, sum(r.count)::bigint AS n FROM rollup_15m r"
            " JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)"
            " WHERE r.bucket BETWEEN to_timestamp(%(first)s / 1000.0) AND to_timestamp(%(last)s / 1000.0)"
            " AND r.metric_id = ANY(%(metrics)s) AND (%(parks)s::int[] IS NULL OR e.park_id = ANY(%(parks)s))"
            " GROUP BY 1, 2)"
            " SELECT s.park_id, p.code, s.bucket, coalesce(c.readings, 0), s.n FROM stored s"
            " JOIN parks p USING (park_id)"
            " LEFT JOIN alerting_coverage c ON c.park_id = s.park_id AND c.bucket = s.bucket"
            " LEFT JOIN LATERAL (SELECT min(bucket) AS first FROM alerting_coverage f WHERE f.park_id = s.park_id)"
            " AS f ON true"
            " WHERE coalesce(c.readings, 0) < s.n * (1 - %(share)s) AND (f.first IS NULL OR s.bucket >= f.first)"
            " ORDER BY s.bucket, s.park_id",
            {"first": first, "last": last, "metrics": list(SAFETY_METRICS), "parks": park_ids, "share": MISSING_SHARE},
        ).fetchall()
    return [{"park_id": p, "park": code, "bucket": b, "judged": int(j), "stored": int(n)} for p, code, b, j, n in rows]


def expire(conn: psycopg.Connection[Any], *, keep_days: int = 7) -> int:
    """Drop counts older than anyone compares (called with the service's tally writes)."""
    cur = conn.execute("DELETE FROM alerting_coverage WHERE bucket < now() - %s * interval '1 day'", (keep_days,))
    return cur.rowcount or 0
