"""Retention by category of data, not by table: the one module that drops chunks.

Raw telemetry holds every category in one hypertable, so a chunk cannot go before its longest-kept
category allows, unless it is first moved to the cold tier (storage.tiering), whose files are per
category and expire each at its own age. Emissions and ambient-air raw data are kept at least
five years (排污许可管理条例 Art. 19, docs/storage.md); energy and safety by configuration; the
rollups by their own ages; refused input (rejected_messages) at most a year, since anyone able to
connect can add to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from forwarding.store import expire_packets
from smartpark.settings import StorageSettings

Conn = psycopg.Connection[Any]
CATEGORIES = ("emissions", "environment", "energy", "safety")
AGGREGATES = ("rollup_15m", "rollup_1h", "rollup_1d", "rejected_messages")


@dataclass(frozen=True, slots=True)
class Policy:
    """Days each kind of data is kept (0: forever) and whether a cold tier takes raw chunks."""

    hot_days: int  # raw telemetry in the database
    category_days: dict[str, int]  # raw telemetry, hot and cold together
    table_days: dict[str, int]  # the rollups and rejected_messages
    cold: bool
    hj212_packets_days: int = 180  # the HJ 212 packet log, a plain table (0: forever)

    def __post_init__(self) -> None:
        named = {"telemetry (hot)": self.hot_days, "hj212_packets": self.hj212_packets_days}
        for name, days in {**named, **self.category_days, **self.table_days}.items():
            if not 0 <= days <= 36_500:
                raise ValueError(f"retention of {name}: {days} days is outside 0..36500")
        if set(self.category_days) != set(CATEGORIES):
            raise ValueError(f"retention needs the categories {CATEGORIES}, got {sorted(self.category_days)}")

    @classmethod
    def of(cls, storage: StorageSettings, *, hot_days: int) -> Policy:
        return cls(
            hot_days=hot_days,
            category_days={c: getattr(storage, f"{c}_days") for c in CATEGORIES},
            table_days={t: getattr(storage, f"{t}_days") for t in AGGREGATES},
            cold=storage.cold_url is not None,
            hj212_packets_days=storage.hj212_packets_days,
        )

    def raw_drop_days(self) -> int:
        """Age at which a raw chunk leaves the database (0: never).

        With a cold tier it moves there at the hot age; without one it stays until every
        category's retention has passed, so no category is cut short.
        """
        if self.cold:
            return self.hot_days
        if 0 in self.category_days.values():
            return 0
        return max(self.hot_days, *self.category_days.values()) if self.hot_days else 0

    def cold_cutoff(self, category: str, today: date) -> date | None:
        """Cold files of a category from days before this are deleted (None: kept forever)."""
        days = self.category_days[category]
        return None if days == 0 else today - timedelta(days=days)


def old_chunks(conn: Conn, *, hypertable: str, older_than: datetime) -> list[dict[str, Any]]:
    """The chunks of a hypertable wholly before ``older_than``, oldest first."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT chunk_schema, chunk_name, range_start, range_end FROM timescaledb_information.chunks"
            " WHERE hypertable_schema = 'public' AND hypertable_name = %s AND range_end <= %s"
            " ORDER BY range_start",
            (hypertable, older_than),
        ).fetchall()


def drop_one_chunk(conn: Conn, *, hypertable: str, range_start: datetime, range_end: datetime) -> int:
    """Drop the chunk covering exactly [range_start, range_end) (the caller's transaction)."""
    rows = conn.execute(
        "SELECT drop_chunks(%s::regclass, older_than => %s::timestamptz, newer_than => %s::timestamptz)",
        (hypertable, range_end, range_start),
    ).fetchall()
    return len(rows)


def drop_older(conn: Conn, *, table: str, days: int) -> int:
    """Drop a table's chunks older than ``days`` (0: none); the number dropped."""
    if days == 0:
        return 0
    rows = conn.execute(
        "SELECT drop_chunks(%s::regclass, older_than => %s * interval '1 day')", (table, days)
    ).fetchall()
    return len(rows)


def apply(conn: Conn, *, policy: Policy) -> dict[str, int]:
    """Drop what the policy lets go, outside the cold tier: the rollups, rejected messages and,
    without a cold tier, raw chunks past every category's retention. Chunks dropped per table."""
    dropped = {table: drop_older(conn, table=table, days=policy.table_days[table]) for table in AGGREGATES}
    if not policy.cold:
        dropped["telemetry"] = drop_older(conn, table="telemetry", days=policy.raw_drop_days())
    if policy.hj212_packets_days:  # rows, not chunks, through the log's owner
        dropped["hj212_packets"] = expire_packets(conn, older_than_days=policy.hj212_packets_days)
    return dropped
