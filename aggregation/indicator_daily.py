"""Daily indicator rows of a park's days: consumption per carrier from the daily rollups (with
the moves of linear gap apportionment), the heat of steam, emitted mass and exceedance minutes,
standard coal and CO2; a row for every enterprise and day, zeros included, and the park's sums."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from aggregation import consumption_moves, emissions, store
from aggregation import indicators as ind
from aggregation.calendar import local_day_start
from aggregation.indicator_columns import CARRIER_COLUMN, QUANTITIES
from aggregation.indicator_store import Park, save_daily
from aggregation.steam_heat import meter_heat_gj
from energy.counted import counted_sql
from smartpark.timebase import datetime_from_ms
from storage.coldfs import ColdStore

log = logging.getLogger(__name__)
COUNTED = counted_sql("d.device_id")  # the meter tree: sub-meters and park meters are not added


def _energy_columns(rows: dict[tuple[int | None, date], dict[str, Any]], park: Park) -> None:
    """Fill tce and CO2 from the carrier columns (vectorised per statistics year), and the notes
    on missing or substituted coefficients: a year without a coefficient loses that figure only."""
    keys = list(rows)
    for year in sorted({d.year for _, d in keys}):
        ks = [k for k in keys if k[1].year == year]
        carriers = {c: np.asarray([rows[k][col] for k in ks]) for c, col in CARRIER_COLUMN.items()}
        steam_heat = np.asarray([rows[k]["steam_heat_gj"] for k in ks])
        e = ind.energy(carriers, year=year, region=park.grid_region, steam_heat_gj=steam_heat)
        if e.notes:
            log.info("park %d, %d: %s", park.park_id, year, e.notes)
        for i, k in enumerate(ks):
            for col in ("tce_equivalent", "tce_equal", "co2_t"):
                v = float(e.values[col][i])
                rows[k][col] = v if np.isfinite(v) else None
            rows[k]["notes"] = Jsonb(e.notes)


def _steam_heat(
    conn: store.Conn,
    *,
    park: Park,
    starts: list[str],
    day_of_start: dict[int, date],
    rows: dict[tuple[int | None, date], dict[str, Any]],
) -> None:
    """Heat above feedwater of each day's steam, meter by meter at its own enthalpy."""
    for ent, start_ms, device, enthalpy, mass in conn.execute(
        "SELECT d.enterprise_id, (extract(epoch FROM r.bucket) * 1000)::int8, d.device_id,"
        " d.attributes->'steam_enthalpy_kj_kg', sum(r.consumption)"
        " FROM rollup_1d r JOIN devices d USING (device_id) JOIN metrics m USING (metric_id)"
        " WHERE m.carrier = 'steam' AND d.enterprise_id = ANY(%(ents)s)"
        f" AND r.bucket = ANY(%(starts)s::timestamptz[]) AND {COUNTED} GROUP BY 1, 2, 3, 4",
        {"ents": list(park.enterprises), "starts": starts},
    ).fetchall():
        row = rows.get((ent, day_of_start.get(start_ms, date.min)))
        if row is not None and mass is not None:
            row["steam_heat_gj"] += meter_heat_gj(device, mass, enthalpy)


def daily(
    conn: store.Conn,
    *,
    park: Park,
    days: list[date],
    gaps: consumption_moves.Gaps | None = None,
    linear: bool = False,
    cold: ColdStore | None = None,
) -> int:
    """Daily rows of ``days``. ``linear``: consumption across midnight shared by time, with the
    moves of ``gaps`` (found in raw telemetry) replacing the stored ones of their days; days
    whose raw telemetry has expired keep their stored moves."""
    rows: dict[tuple[int | None, date], dict[str, Any]] = {
        (e, d): dict.fromkeys(QUANTITIES, 0.0) for e in park.enterprises for d in days
    }
    starts = [local_day_start(d, park.timezone) for d in days]
    day_of_start = dict(zip(starts, days, strict=True))
    for ent, start_ms, carrier, consumption, readings in conn.execute(
        "SELECT d.enterprise_id, (extract(epoch FROM r.bucket) * 1000)::int8, m.carrier,"
        " sum(r.consumption), sum(r.count)"
        " FROM rollup_1d r JOIN devices d USING (device_id) JOIN metrics m USING (metric_id)"
        " WHERE d.enterprise_id = ANY(%(ents)s) AND r.bucket = ANY(%(starts)s::timestamptz[])"
        f" AND {COUNTED} GROUP BY 1, 2, 3",
        {"ents": list(park.enterprises), "starts": [_iso(s) for s in starts]},
    ).fetchall():
        row = rows.get((ent, day_of_start.get(start_ms, date.min)))
        if row is None:
            continue
        if carrier in CARRIER_COLUMN and consumption is not None:
            row[CARRIER_COLUMN[carrier]] += consumption
        row["readings"] += readings
    _steam_heat(conn, park=park, starts=[_iso(s) for s in starts], day_of_start=day_of_start, rows=rows)
    if linear:
        if gaps is not None:
            fresh = sorted({d for d in days if local_day_start(d, park.timezone) >= gaps.raw_from_ms})
            consumption_moves.store_moves(
                conn, park=park, days=fresh, moves=consumption_moves.fresh_moves(gaps, park=park, days=fresh)
            )
        consumption_moves.apply_moves(conn, park=park, days=days, rows=rows)
    # emitted mass and exceedance minutes: hourly means judged as HJ 75-2017 does (aggregation.emissions)
    for key, figures in emissions.daily_figures(
        conn, enterprises=park.enterprises, days=days, timezone=park.timezone, cold=cold
    ).items():
        if key in rows:
            for column, value in figures.items():
                rows[key][column] += value
    for d in days:  # park totals
        rows[(None, d)] = {q: sum(rows[(e, d)][q] for e in park.enterprises) for q in QUANTITIES}
    _energy_columns(rows, park)
    save_daily(conn, park_id=park.park_id, rows=rows)
    return len(rows)


def _iso(ms: int) -> str:
    return datetime_from_ms(ms).isoformat()
