"""What the indicator job reads of a park (its time zone, grid region, enterprises and land),
and the one place that writes ``indicator_daily`` and ``indicator_monthly``: the rows of a
park's days or months, each inserted or replaced. The caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aggregation import store


@dataclass(frozen=True, slots=True)
class Park:
    park_id: int
    timezone: str
    grid_region: str
    land_area_mu: float | None
    enterprises: dict[int, float | None]  # enterprise_id -> land area (mu)
    industries: dict[int, str] = field(default_factory=dict)  # enterprise_id -> industry code


def load_park(conn: store.Conn, park_id: int) -> Park | None:
    row = conn.execute(
        "SELECT timezone, grid_region, land_area_mu FROM parks WHERE park_id = %s", (park_id,)
    ).fetchone()
    if row is None:
        return None
    ents = conn.execute(
        "SELECT enterprise_id, land_area_mu, industry FROM enterprises WHERE park_id = %s ORDER BY enterprise_id",
        (park_id,),
    ).fetchall()
    return Park(park_id, row[0], row[1], row[2], {e: land for e, land, _ in ents}, {e: i for e, _, i in ents})


def _upsert(
    conn: store.Conn, table: str, period: str, park_id: int, rows: dict[tuple[int | None, date], dict[str, Any]]
) -> None:
    if not rows:
        return
    cols = list(next(iter(rows.values())))
    names = ", ".join(["park_id", "enterprise_id", period, *cols, "computed_at"])
    marks = ", ".join(["%s"] * (3 + len(cols)) + ["now()"])
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*cols, "computed_at"])
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})"
            f" ON CONFLICT ON CONSTRAINT {table}_key DO UPDATE SET {updates}",
            [(park_id, e, d, *(r[c] for c in cols)) for (e, d), r in rows.items()],
        )


def save_daily(conn: store.Conn, *, park_id: int, rows: dict[tuple[int | None, date], dict[str, Any]]) -> None:
    """Rows keyed (enterprise_id, day); enterprise_id None: the park's total."""
    _upsert(conn, "indicator_daily", "day", park_id, rows)


def save_monthly(conn: store.Conn, *, park_id: int, rows: dict[tuple[int | None, date], dict[str, Any]]) -> None:
    """Rows keyed (enterprise_id, first day of the month); enterprise_id None: the park's total."""
    _upsert(conn, "indicator_monthly", "month", park_id, rows)
