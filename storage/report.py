"""What storage costs: bytes per reading of every table and chunk, growth per day, and what the
configured retention will hold, so the retention and tiering settings are chosen on figures.

The sizes are TimescaleDB's own (hypertable_detailed_size, chunks_detailed_size) and PostgreSQL's
pg_total_relation_size for plain tables: heap, indexes and TOAST together. Row counts are the
planner's estimates (fresh after ANALYZE) unless ``exact`` asks for count(*), which reads every row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from storage import manifest
from storage.retention import Policy
from storage.sql import tuples

Conn = psycopg.Connection[Any]
GROWTH_DAYS = 7  # growth per day: the mean of the last complete days' chunks of raw telemetry


@dataclass(frozen=True, slots=True)
class ChunkSize:
    chunk: str
    range_start: str
    range_end: str
    rows: int
    bytes: int
    bytes_per_row: float | None


@dataclass(frozen=True, slots=True)
class TableSize:
    table: str
    hypertable: bool
    rows: int
    bytes: int
    bytes_per_row: float | None
    chunks: list[ChunkSize] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Projection:
    """Raw telemetry at today's rate held for the configured days, hot and cold."""

    readings_per_day: float
    hot_bytes_per_reading: float | None
    cold_bytes_per_reading: float | None
    hot_days: int
    cold_days: int  # the longest category's retention beyond the hot days (0: no cold tier or forever)
    hot_bytes: float | None
    cold_bytes: float | None


@dataclass(frozen=True, slots=True)
class Report:
    at: str
    tables: list[TableSize]
    cold: list[dict[str, Any]]
    growth_readings_per_day: float
    growth_bytes_per_day: float | None
    projection: Projection

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def per_row(size: int, rows: int) -> float | None:
    return round(size / rows, 2) if rows > 0 else None


def project(*, readings_per_day: float, hot_bpr: float | None, cold_bpr: float | None, policy: Policy) -> Projection:
    """Pure: the bytes the policy will hold at a steady rate."""
    longest = max(policy.category_days.values())
    forever = 0 in policy.category_days.values()
    cold_days = 0 if not policy.cold or forever else max(longest - policy.hot_days, 0)
    hot_days = policy.raw_drop_days()
    return Projection(
        readings_per_day=round(readings_per_day, 1),
        hot_bytes_per_reading=hot_bpr,
        cold_bytes_per_reading=cold_bpr,
        hot_days=hot_days,
        cold_days=cold_days,
        hot_bytes=None if hot_bpr is None or hot_days == 0 else round(readings_per_day * hot_bpr * hot_days),
        cold_bytes=None if cold_bpr is None else round(readings_per_day * cold_bpr * cold_days),
    )


def _rows(conn: Conn, relation: str, *, exact: bool) -> int:
    if exact:
        row = tuples(conn, f"SELECT count(*) FROM {relation}").fetchone()
    else:
        row = tuples(
            conn, "SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = %s::regclass", (relation,)
        ).fetchone()
    return int(row[0]) if row else 0


def tables(conn: Conn, *, exact: bool = False) -> list[TableSize]:
    hypertables = [
        r[0]
        for r in tuples(
            conn,
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
            " WHERE hypertable_schema = 'public' ORDER BY 1",
        ).fetchall()
    ]
    out = []
    for ht in hypertables:
        chunks = []
        for schema, name, start, end, size in tuples(
            conn,
            "SELECT c.chunk_schema, c.chunk_name, c.range_start, c.range_end, s.total_bytes"
            " FROM timescaledb_information.chunks c JOIN chunks_detailed_size(%s::regclass) s"
            " ON s.chunk_schema = c.chunk_schema AND s.chunk_name = c.chunk_name"
            " WHERE c.hypertable_schema = 'public' AND c.hypertable_name = %s ORDER BY c.range_start",
            (ht, ht),
        ).fetchall():
            rows = _rows(conn, f'"{schema}"."{name}"', exact=exact)
            chunks.append(
                ChunkSize(name, start.isoformat(), end.isoformat(), rows, int(size), per_row(int(size), rows))
            )
        total = tuples(
            conn, "SELECT coalesce(sum(total_bytes), 0)::int8 FROM hypertable_detailed_size(%s::regclass)", (ht,)
        ).fetchone()
        size = int(total[0]) if total else 0
        rows = sum(c.rows for c in chunks)
        out.append(TableSize(ht, True, rows, size, per_row(size, rows), chunks))
    plain = tuples(
        conn,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relname = ANY(%s) ORDER BY 1",
        (hypertables,),
    ).fetchall()
    for (name,) in plain:
        size_row = tuples(conn, "SELECT pg_total_relation_size(%s::regclass)", (name,)).fetchone()
        size = int(size_row[0]) if size_row else 0
        rows = _rows(conn, name, exact=exact)
        out.append(TableSize(name, False, rows, size, per_row(size, rows)))
    return out


def build(conn: Conn, *, policy: Policy, exact: bool = False, now: datetime | None = None) -> Report:
    at = now or datetime.now(UTC)
    sizes = tables(conn, exact=exact)
    raw = next((t for t in sizes if t.table == "telemetry"), None)
    # complete days only: today's chunk is still filling
    today = at.replace(hour=0, minute=0, second=0, microsecond=0)
    recent = [
        c
        for c in (raw.chunks if raw else [])
        if today - timedelta(days=GROWTH_DAYS) <= datetime.fromisoformat(c.range_start)
        and datetime.fromisoformat(c.range_end) <= today
    ]
    per_day = sum(c.rows for c in recent) / len(recent) if recent else 0.0
    hot_bpr = raw.bytes_per_row if raw else None
    cold = manifest.totals(conn)
    cold_raw = next((c for c in cold if c["hypertable"] == "telemetry"), None)
    cold_bpr = per_row(int(cold_raw["bytes"]), int(cold_raw["rows"])) if cold_raw else None
    return Report(
        at=at.isoformat(),
        tables=sizes,
        cold=cold,
        growth_readings_per_day=round(per_day, 1),
        growth_bytes_per_day=None if hot_bpr is None else round(per_day * hot_bpr),
        projection=project(readings_per_day=per_day, hot_bpr=hot_bpr, cold_bpr=cold_bpr, policy=policy),
    )


def human(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"


def render(report: Report) -> str:
    """The readable table of `smartpark storage report`."""
    lines = [f"storage at {report.at}", "", f"{'table':<28}{'rows':>14}{'size':>12}{'B/row':>10}"]
    for t in sorted(report.tables, key=lambda t: -t.bytes):
        lines.append(f"{t.table:<28}{t.rows:>14}{human(t.bytes):>12}{t.bytes_per_row or '-':>10}")
        for ch in t.chunks[-3:] if t.table == "telemetry" else []:
            lines.append(
                f"  {ch.chunk:<26}{ch.rows:>14}{human(ch.bytes):>12}{ch.bytes_per_row or '-':>10} {ch.range_start[:10]}"
            )
    for cold in report.cold:
        name, bpr = cold["hypertable"] + " (cold)", per_row(cold["bytes"], cold["rows"]) or "-"
        lines.append(f"{name:<28}{cold['rows']:>14}{human(cold['bytes']):>12}{bpr:>10}")
    p = report.projection
    lines += [
        "",
        f"growth: {report.growth_readings_per_day:.0f} readings/day, {human(report.growth_bytes_per_day)}/day hot",
        f"projection: hot {p.hot_days} days = {human(p.hot_bytes)}; cold {p.cold_days} days = {human(p.cold_bytes)}",
    ]
    return "\n".join(lines)
