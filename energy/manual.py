"""Manual readings: entered on the page or imported, corrected only by superseding.

The one writer of ``energy_manual_readings``. A correction is a new row naming the one it
supersedes, with who, when and why; the old row keeps its value and gets ``superseded_by``, so
the audit trail of a reading is its chain, never an overwritten value. Each accepted reading and
each correction also lands in telemetry, flagged manual, through telemetry's owner
(``ingest.store.store_manual``) with its bucket queued, so the rollups and indicators count the
current value. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.rows import tuple_row

from aggregation.store import ms_sql
from energy.reads import dict_rows
from ingest.store import store_manual

Source = Literal["page", "import"]
MAX_IMPORT = 10_000  # readings in one import
MAX_REASON = 500


class ManualError(ValueError):
    pass


class Superseded(ManualError):
    """The reading to correct has been corrected already: correct the newest one."""


@dataclass(frozen=True, slots=True)
class Entry:
    device: int
    metric: int
    ts_ms: int
    value: float


def enter(conn: psycopg.Connection[Any], *, entries: Sequence[Entry], source: Source, by: str) -> list[int]:
    """New readings; their ids in order."""
    if len(entries) > MAX_IMPORT:
        raise ManualError(f"readings: {len(entries)} in one import; at most {MAX_IMPORT}")
    ids = []
    with conn.cursor(row_factory=tuple_row) as cur:
        for e in entries:
            cur.execute(
                "INSERT INTO energy_manual_readings (device_id, metric_id, ts, value, source, entered_by)"
                f" VALUES (%s, %s, {ms_sql('%s::int8')}, %s, %s, %s) RETURNING reading_id",
                (e.device, e.metric, e.ts_ms, e.value, source, by),
            )
            row = cur.fetchone()
            assert row is not None
            ids.append(int(row[0]))
            store_manual(cur, device_id=e.device, metric_id=e.metric, ts_ms=e.ts_ms, value=e.value)
    return ids


def correct(conn: psycopg.Connection[Any], *, reading_id: int, value: float, by: str, reason: str) -> int:
    """A new reading superseding ``reading_id`` (same device, metric and time); its id."""
    if not reason.strip() or len(reason) > MAX_REASON:
        raise ManualError(f"reason: a correction says why, in 1 to {MAX_REASON} characters")
    with conn.cursor(row_factory=tuple_row) as cur:
        old = cur.execute(
            "SELECT device_id, metric_id, ts, source, superseded_by, (extract(epoch FROM ts) * 1000)::int8"
            " FROM energy_manual_readings"
            " WHERE reading_id = %s FOR UPDATE",
            (reading_id,),
        ).fetchone()
        if old is None:
            raise ManualError(f"no manual reading {reading_id}")
        if old[4] is not None:
            raise Superseded(f"reading {reading_id} is superseded by {old[4]}; correct that one")
        cur.execute(
            "INSERT INTO energy_manual_readings (device_id, metric_id, ts, value, source, entered_by, reason,"
            " supersedes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING reading_id",
            (old[0], old[1], old[2], value, old[3], by, reason.strip(), reading_id),
        )
        row = cur.fetchone()
        assert row is not None
        cur.execute(
            "UPDATE energy_manual_readings SET superseded_by = %s WHERE reading_id = %s", (int(row[0]), reading_id)
        )
        store_manual(cur, device_id=int(old[0]), metric_id=int(old[1]), ts_ms=int(old[5]), value=value)
    return int(row[0])


def trail(conn: psycopg.Connection[Any], *, devices: Sequence[int], start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """Every version of the devices' manual readings in the range, oldest first: current ones have
    ``superseded_by`` null; a correction names the reading (and so the value) it replaced."""
    return dict_rows(
        conn,
        "SELECT r.reading_id, r.device_id, r.metric_id, (extract(epoch FROM r.ts) * 1000)::int8 AS ts_ms,"
        " r.value, r.source, r.entered_by, r.entered_at, r.reason, r.supersedes, o.value AS old_value,"
        " r.superseded_by FROM energy_manual_readings r"
        " LEFT JOIN energy_manual_readings o ON o.reading_id = r.supersedes"
        f" WHERE r.device_id = ANY(%s) AND r.ts >= {ms_sql('%s::int8')} AND r.ts < {ms_sql('%s::int8')}"
        " ORDER BY r.ts, r.reading_id",
        (list(devices), start_ms, end_ms),
    )


def device_of(conn: psycopg.Connection[Any], *, reading_id: int) -> int | None:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT device_id FROM energy_manual_readings WHERE reading_id = %s", (reading_id,)
        ).fetchone()
    return None if row is None else int(row[0])
