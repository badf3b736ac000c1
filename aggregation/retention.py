"""Retention: drop whole chunks older than each table's configured age (TimescaleDB drop_chunks).

Raw telemetry is usually kept for months, rollups for years; 0 days keeps a table forever. The
Apache-2 edition has no retention policies, so the scheduler calls this itself. Refused input
(rejected_messages) is diagnostics that anyone able to connect can add to: a month by default.
The HJ 212 packet log (hj212_packets, a plain table) is deleted by age through its owner, half a
year by default: long enough for a bureau to ask a quarter's history again, and packets still
queued for a target are kept whatever their age.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregation.store import Conn
from forwarding.store import expire_packets
from smartpark.settings import AggregationSettings

TABLES = ("telemetry", "rollup_15m", "rollup_1h", "rollup_1d", "rejected_messages")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    telemetry_days: int = 90
    rollup_15m_days: int = 400
    rollup_1h_days: int = 1100
    rollup_1d_days: int = 0  # forever
    rejected_messages_days: int = 30
    hj212_packets_days: int = 180

    def __post_init__(self) -> None:
        for table in (*TABLES, "hj212_packets"):
            days = getattr(self, f"{table}_days")
            if not 0 <= days <= 36_500:
                raise ValueError(f"retention of {table}: {days} days is outside 0..36500")

    @classmethod
    def of(cls, settings: AggregationSettings) -> RetentionPolicy:
        return cls(
            settings.telemetry_retention_days,
            settings.rollup_15m_retention_days,
            settings.rollup_1h_retention_days,
            settings.rollup_1d_retention_days,
            settings.rejected_messages_retention_days,
            settings.hj212_packets_retention_days,
        )

    def days(self, table: str) -> int:
        return int(getattr(self, f"{table}_days"))


def apply_retention(conn: Conn, *, policy: RetentionPolicy) -> dict[str, int]:
    """Drop old chunks; returns the number of chunks dropped per table (rows of hj212_packets)."""
    dropped: dict[str, int] = {}
    for table in TABLES:
        days = policy.days(table)
        if days == 0:
            continue
        rows = conn.execute(
            "SELECT drop_chunks(%s::regclass, older_than => %s * interval '1 day')", (table, days)
        ).fetchall()
        dropped[table] = len(rows)
    if policy.hj212_packets_days:
        dropped["hj212_packets"] = expire_packets(conn, older_than_days=policy.hj212_packets_days)  # rows, not chunks
    return dropped
