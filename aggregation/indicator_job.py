"""Daily and monthly indicators per enterprise and park, from rollups and economic reports.

Consumes ``aggregation_dirty_days`` (queued by the rollup job and the economic import) and
recomputes those local days, then the months holding them, in one transaction per batch. Each
park's days are computed in a savepoint of their own, and if that fails each day alone: a
(park, day) that fails is recorded with its error (``aggregation.failures``), queued again and
left alone until its retry time, and every other park and day proceeds. Park
rows (enterprise_id NULL) are the sums of the park's enterprises; every enterprise gets a row
for every recomputed day, zeros included, so "no consumption" and "not computed" differ.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from aggregation import apportion, arrays, emissions, failures, job, store
from aggregation import coefficients as co
from aggregation import conversions as cv
from aggregation import indicators as ind
from aggregation.calendar import local_date, local_day_start, zone
from aggregation.rollup import Readings, counter_deltas
from smartpark.catalogue import BY_ID, DEVICE_KINDS, MetricKind, metric
from smartpark.timebase import datetime_from_ms
from storage.coldfs import ColdStore

log = logging.getLogger(__name__)

CARRIER_COLUMN = {
    "electricity": "electricity_kwh",
    "electricity_export": "electricity_export_kwh",
    "natural_gas": "natural_gas_nm3",
    "steam": "steam_t",
    "heat": "heat_gj",
    "raw_coal": "raw_coal_t",
    "water": "water_m3",
}
# Indicator columns, in the groups the statistics report them in.
ENERGY_COLUMNS = (*CARRIER_COLUMN.values(), "steam_heat_gj", "tce_equivalent", "tce_equal", "co2_t")
# Figures NULL when a coefficient is missing for the year (their notes say why).
NULLABLE = frozenset({"tce_equal", "co2_t"})
EMISSION_COLUMNS = emissions.COLUMNS
QUANTITIES = (*ENERGY_COLUMNS, *EMISSION_COLUMNS, "readings")
ECONOMIC = ("output_value", "value_added", "tax", "fixed_asset_investment", "employees", "rd_expense")


@dataclass(frozen=True, slots=True)
class Park:
    park_id: int
    timezone: str
    grid_region: str
    land_area_mu: float | None
    enterprises: dict[int, float | None]  # enterprise_id -> land area (mu)
    industries: dict[int, str] = field(default_factory=dict)  # enterprise_id -> industry code


def _park(conn: store.Conn, park_id: int) -> Park | None:
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
        " AND r.bucket = ANY(%(starts)s::timestamptz[]) GROUP BY 1, 2, 3, 4",
        {"ents": list(park.enterprises), "starts": starts},
    ).fetchall():
        row = rows.get((ent, day_of_start.get(start_ms, date.min)))
        if row is not None and mass is not None:
            row["steam_heat_gj"] += float(cv.steam_heat_gj(mass, _enthalpy(device, enthalpy)))


# Plausible enthalpy of process steam (kJ/kg): above water at 100 °C, below superheated steam of
# 25 MPa / 600 °C (IAPWS-IF97 about 3490 kJ/kg) with a margin.
ENTHALPY_RANGE_KJ_KG = (420.0, 4000.0)


def _enthalpy(device: int, declared: Any) -> float:
    default = co.STEAM_ENTHALPY_DEFAULT_KJ_KG.value
    if declared is None:
        return default
    lo, hi = ENTHALPY_RANGE_KJ_KG
    if isinstance(declared, bool) or not isinstance(declared, int | float) or not lo <= declared <= hi:
        log.warning(
            "device %d: steam_enthalpy_kj_kg=%r is not a number in [%s, %s] kJ/kg; %s used",
            device,
            declared,
            lo,
            hi,
            default,
        )
        return default
    return float(declared)


def daily(
    conn: store.Conn,
    *,
    park: Park,
    days: list[date],
    gaps: Gaps | None = None,
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
        " GROUP BY 1, 2, 3",
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
            _store_moves(conn, park=park, days=fresh, moves=_fresh_moves(gaps, park=park, days=fresh))
        _apply_moves(conn, park=park, days=days, rows=rows)
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
    _upsert(conn, "indicator_daily", "day", park.park_id, rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Gaps:
    """Intervals between successive valid readings of a park's energy and water counters that
    cross a local midnight, with the consumption the rollups credit to the later reading."""

    device: np.ndarray
    enterprise: np.ndarray
    metric: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    delta: np.ndarray
    raw_from_ms: int  # days from here on were searched in raw telemetry (older: expired)


def _counter_series(conn: store.Conn, park: Park) -> tuple[list[int], list[int]]:
    """(device, metric) of the park's counters that feed a carrier column."""
    devs, mets = [], []
    for dev, kind in conn.execute(
        "SELECT device_id, kind FROM devices WHERE enterprise_id = ANY(%s) ORDER BY device_id",
        (list(park.enterprises),),
    ).fetchall():
        for code in DEVICE_KINDS.get(kind, ()):
            m = metric(code)
            if m.kind is MetricKind.COUNTER and m.carrier in CARRIER_COLUMN:
                devs.append(dev)
                mets.append(m.id)
    return devs, mets


def find_gaps(conn: store.Conn, *, park: Park, days: list[date], raw_from_ms: int = 0) -> Gaps:
    """The intervals across the local midnights that bound ``days`` (one probe each way per
    counter and midnight), with each one's consumption by the rollups' counter rule. Days that
    start before ``raw_from_ms`` (raw telemetry expired) are not searched."""
    devs, mets = _counter_series(conn, park)
    days = [d for d in days if local_day_start(d, park.timezone) >= raw_from_ms]
    bounds = sorted({local_day_start(d, park.timezone) for d in days} | {_next_start(d, park) for d in days})
    found = conn.execute(
        "SELECT DISTINCT s.d, s.m, p.t, p.v, n.t, n.v"
        " FROM unnest(%(d)s::int[], %(m)s::int[]) AS s(d, m) CROSS JOIN unnest(%(b)s::int8[]) AS b(b)"
        " JOIN LATERAL (SELECT (extract(epoch FROM t.ts) * 1000)::int8 AS t, t.value AS v, t.ts FROM telemetry t"
        f"  WHERE t.device_id = s.d AND t.metric_id = s.m AND t.flag IN {store.VALID_SQL}"
        f"  AND t.ts < {store.ms_sql('b.b')} ORDER BY t.ts DESC LIMIT 1) p ON true"
        " JOIN LATERAL (SELECT (extract(epoch FROM t.ts) * 1000)::int8 AS t, t.value AS v, t.ts FROM telemetry t"
        f"  WHERE t.device_id = s.d AND t.metric_id = s.m AND t.flag IN {store.VALID_SQL}"
        f"  AND t.ts >= {store.ms_sql('b.b')} ORDER BY t.ts LIMIT 1) n ON true"
        # An interval whose buckets still wait for the rollup job is not yet credited to the later
        # reading's day: moving it now would leave that day negative. The rollup job marks the
        # days dirty when it has written them, and the interval is apportioned then.
        " WHERE NOT EXISTS (SELECT 1 FROM telemetry_touched q WHERE q.device_id = s.d AND q.metric_id = s.m"
        "  AND q.bucket >= time_bucket('15 minutes', p.ts) AND q.bucket <= n.ts)"
        " AND NOT EXISTS (SELECT 1 FROM rollup_claimed q WHERE q.device_id = s.d AND q.metric_id = s.m"
        "  AND q.bucket >= time_bucket('15 minutes', p.ts) AND q.bucket <= n.ts)",
        {"d": devs, "m": mets, "b": bounds},
    ).fetchall()
    dev = np.asarray([r[0] for r in found], dtype=np.int64)
    met = np.asarray([r[1] for r in found], dtype=np.int64)
    t0 = np.asarray([r[2] for r in found], dtype=np.int64)
    t1 = np.asarray([r[4] for r in found], dtype=np.int64)
    n = len(found)
    # each interval as its own two-reading series: its consumption by the rollups' rule
    pair = np.repeat(np.arange(n, dtype=np.int64), 2)
    r = Readings.of(pair, np.column_stack([t0, t1]).ravel(), np.asarray([(a[3], a[5]) for a in found]).ravel())
    devices = store.devices(conn, device_ids=dev)
    params = job.series_params(arrays.unique(store.pack(dev, met)), devices, default_interval_s=job.DEFAULT_INTERVAL_S)
    idx = params.index(store.pack(dev, met))[pair] if n else np.zeros(0, np.int64)
    d = counter_deltas(
        r,
        register_max=params.register_max[idx],
        register_step=params.register_step[idx],
        max_rate_per_s=params.max_rate_per_s[idx],
    )
    ent = np.asarray([devices[int(i)].enterprise_id for i in dev.tolist()], dtype=np.int64)
    return Gaps(dev, ent, met, t0, t1, d.delta[1::2], raw_from_ms)


def _next_start(d: date, park: Park) -> int:
    return local_day_start(d + timedelta(days=1), park.timezone)


def gap_days(gaps: Gaps, park: Park) -> set[date]:
    """Every local day an interval touches: all of them change when it is apportioned."""
    out: set[date] = set()
    for a, b in zip(gaps.t0.tolist(), gaps.t1.tolist(), strict=True):
        d, last = local_date(a, zone(park.timezone)), local_date(b, zone(park.timezone))
        while d <= last:
            out.add(d)
            d += timedelta(days=1)
    return out


def _fresh_moves(gaps: Gaps, *, park: Park, days: list[date]) -> dict[tuple[int, int, date], float]:
    """Per (device, metric, day) of ``days``: what linear apportionment of the gaps moves."""
    out: dict[tuple[int, int, date], float] = defaultdict(float)
    if gaps.t0.size == 0:
        return out
    span = sorted(gap_days(gaps, park) | set(days))
    every = [span[0] + timedelta(days=i) for i in range((span[-1] - span[0]).days + 1)]
    bounds = np.asarray([local_day_start(d, park.timezone) for d in every] + [_next_start(every[-1], park)])
    m = apportion.moves(gaps.t0, gaps.t1, gaps.delta, bounds)
    wanted = set(days)  # the caller extends days over every gap, so nothing of a gap is left out
    for i, k, amount in zip(m.interval.tolist(), m.day.tolist(), m.amount.tolist(), strict=True):
        if every[k] in wanted:
            out[(int(gaps.device[i]), int(gaps.metric[i]), every[k])] += amount
    return out


def _store_moves(conn: store.Conn, *, park: Park, days: list[date], moves: dict[tuple[int, int, date], float]) -> None:
    """Replace the stored moves of the park's counters on ``days``."""
    conn.execute(
        "DELETE FROM consumption_moves c USING devices d WHERE d.device_id = c.device_id"
        " AND d.enterprise_id = ANY(%s) AND c.day = ANY(%s)",
        (list(park.enterprises), days),
    )
    keep = [(d, m, day, a) for (d, m, day), a in moves.items() if a != 0.0]
    if keep:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO consumption_moves (device_id, metric_id, day, amount) VALUES (%s, %s, %s, %s)", keep
            )


def _apply_moves(
    conn: store.Conn, *, park: Park, days: list[date], rows: dict[tuple[int | None, date], dict[str, Any]]
) -> None:
    """Add the stored moves of ``days`` to the carrier columns (steam also to its heat)."""
    for ent, device, metric_id, day, amount, enthalpy in conn.execute(
        "SELECT d.enterprise_id, c.device_id, c.metric_id, c.day, c.amount, d.attributes->'steam_enthalpy_kj_kg'"
        " FROM consumption_moves c JOIN devices d USING (device_id)"
        " WHERE d.enterprise_id = ANY(%s) AND c.day = ANY(%s)",
        (list(park.enterprises), days),
    ).fetchall():
        row = rows.get((ent, day))
        carrier = BY_ID[metric_id].carrier if metric_id in BY_ID else None
        if row is None or carrier not in CARRIER_COLUMN:
            continue
        row[CARRIER_COLUMN[carrier]] += amount
        if carrier == "steam":
            row["steam_heat_gj"] += float(cv.steam_heat_gj(amount, _enthalpy(device, enthalpy)))


def _iso(ms: int) -> str:
    return datetime_from_ms(ms).isoformat()


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


STORED_INTENSITIES = (
    "tce_per_output",
    "tce_per_value_added",
    "co2_per_output",
    "output_per_mu",
    "tax_per_mu",
    "investment_per_mu",
)


def _month_sums() -> str:
    # a figure missing on one day is missing for the month: a partial sum would pass for a whole
    return ", ".join(f"CASE WHEN bool_and({q} IS NOT NULL) THEN sum({q}) END" for q in QUANTITIES)


def merge_notes(notes: list[dict[str, str]]) -> dict[str, str]:
    """One note per figure from the notes of the days of a period (distinct texts, in order)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for n in notes:
        for figure, text in n.items():
            if text not in texts[figure]:
                texts[figure].append(text)
    return {f: " | ".join(t) for f, t in sorted(texts.items())}


def monthly(conn: store.Conn, *, park: Park, months: list[date]) -> int:
    rows: dict[tuple[int | None, date], dict[str, Any]] = {
        (e, m): dict.fromkeys(QUANTITIES, 0.0) for e in [*park.enterprises, None] for m in months
    }
    for ent, month, notes, *vals in conn.execute(
        f"SELECT enterprise_id, date_trunc('month', day)::date,"
        f" coalesce(jsonb_agg(notes ORDER BY day) FILTER (WHERE notes <> '{{}}'), '[]'), {_month_sums()}"
        " FROM indicator_daily WHERE park_id = %s AND date_trunc('month', day)::date = ANY(%s) GROUP BY 1, 2",
        (park.park_id, months),
    ).fetchall():
        if (ent, month) in rows:
            rows[(ent, month)].update(zip(QUANTITIES, vals, strict=True))
            rows[(ent, month)]["notes"] = merge_notes(notes)
    econ: dict[tuple[int, date], tuple[Any, ...]] = {
        (r[0], r[1]): r[2:]
        for r in conn.execute(
            f"SELECT enterprise_id, month, {', '.join(ECONOMIC)} FROM economic_monthly"
            " WHERE enterprise_id = ANY(%s) AND month = ANY(%s)",
            (list(park.enterprises), months),
        ).fetchall()
    }
    for (ent, month), row in rows.items():
        members = list(park.enterprises) if ent is None else [ent]
        reported = [econ[(e, month)] for e in members if (e, month) in econ]
        for i, name in enumerate(ECONOMIC):
            vals = [r[i] for r in reported if r[i] is not None]
            row[name] = sum(vals) if vals else None
        row["land_area_mu"] = park.land_area_mu if ent is None else park.enterprises[ent]
        row["enterprises"] = len(members)
        matched = ind.matched_intensities(
            _cells(rows, econ, members, month),
            land=park.enterprises,
            total_land=row["land_area_mu"],
        )
        row.update({k: matched.values[k] for k in STORED_INTENSITIES})
        row["leading_industry_share"] = _concentration(park, econ, members, month) if ent is None else None
        row["coverage"] = Jsonb(matched.coverage)
        row["notes"] = Jsonb(row.get("notes") or {})
    _upsert(conn, "indicator_monthly", "month", park.park_id, rows)
    return len(rows)


def _concentration(
    park: Park, econ: dict[tuple[int, date], tuple[Any, ...]], members: list[int], month: date
) -> float | None:
    """Article 21's industrial concentration of the month, over the enterprises that reported output."""
    out_i = ECONOMIC.index("output_value")
    reported = [e for e in members if (e, month) in econ and econ[(e, month)][out_i] is not None]
    share = ind.leading_industry_share(
        [park.industries.get(e, "other") for e in reported], [econ[(e, month)][out_i] for e in reported]
    )
    return share if np.isfinite(share) else None


def _cells(
    rows: dict[tuple[int | None, date], dict[str, Any]],
    econ: dict[tuple[int, date], tuple[Any, ...]],
    members: list[int],
    month: date,
) -> dict[str, np.ndarray]:
    """The (enterprise, month) cells of one subject-month for :func:`ind.matched_intensities`."""
    nan = float("nan")

    def num(v: Any) -> float:
        return nan if v is None else float(v)

    cells: dict[str, list[Any]] = defaultdict(list)
    for e in members:
        r = rows[(e, month)]
        cells["enterprise"].append(e)
        cells["energy_reported"].append(r["readings"] > 0)
        for name in ind.ENERGY_FIGURES:
            cells[name].append(num(r[name]))
        for i, name in enumerate(ECONOMIC):
            cells[name].append(num(econ[(e, month)][i]) if (e, month) in econ else nan)
    return {k: np.asarray(v) for k, v in cells.items()}


@dataclass(slots=True)
class IndicatorStats:
    claimed: int = 0
    days: int = 0
    daily_rows: int = 0
    monthly_rows: int = 0
    failed_days: int = 0

    def add(self, other: IndicatorStats) -> None:
        self.days += other.days
        self.daily_rows += other.daily_rows
        self.monthly_rows += other.monthly_rows
        self.failed_days += other.failed_days


def refresh_indicators(
    conn: store.Conn,
    *,
    batch: int = 400,
    gap_apportionment: apportion.Apportionment = "linear",
    raw_from_ms: int = 0,
    cold: ColdStore | None = None,
) -> IndicatorStats:
    """One batch of dirty (park, day) in one transaction, each park (and if need be each day) in
    a savepoint of its own. With linear gap apportionment the days an interval across midnight
    spans are recomputed together, so the shares always add up; ``raw_from_ms``: where raw
    telemetry begins (retention), before which stored moves stand; ``cold``: the cold tier, read
    for the raw data of days moved there (the emissions' stopped hours)."""
    stats = IndicatorStats()
    with conn.transaction():
        dirty = store.claim_dirty_days(conn, limit=batch)
        stats.claimed = sum(len(d) for d in dirty.values())
        for park_id, days in dirty.items():
            park = _park(conn, park_id)
            if park is None:
                log.warning("indicator queue names park %d, which does not exist; skipped", park_id)
                continue
            linear = gap_apportionment == "linear"
            stats.add(_isolated(conn, park, days, linear=linear, raw_from_ms=raw_from_ms, cold=cold))
    return stats


def _compute(
    conn: store.Conn, park: Park, days: list[date], *, linear: bool, raw_from_ms: int, cold: ColdStore | None
) -> IndicatorStats:
    done = IndicatorStats()
    gaps = None
    if linear:
        gaps = find_gaps(conn, park=park, days=days, raw_from_ms=raw_from_ms)
        more = gap_days(gaps, park) - set(days)
        if more:
            days = sorted({*days, *more})
            gaps = find_gaps(conn, park=park, days=days, raw_from_ms=raw_from_ms)
    done.days = len(days)
    done.daily_rows = daily(conn, park=park, days=days, gaps=gaps, linear=linear, cold=cold)
    done.monthly_rows = monthly(conn, park=park, months=sorted({d.replace(day=1) for d in days}))
    return done


def _isolated(
    conn: store.Conn, park: Park, days: list[date], *, linear: bool, raw_from_ms: int, cold: ColdStore | None = None
) -> IndicatorStats:
    """The days of a park together; if that fails, each day alone, so that a failing day holds
    back nothing but itself."""
    try:
        with conn.transaction():
            done = _compute(conn, park, days, linear=linear, raw_from_ms=raw_from_ms, cold=cold)
            failures.clear(conn, job="indicators", park_id=park.park_id, days=days)
        return done
    except Exception as exc:  # any error of this park's input: isolate it, never the others
        if len(days) > 1:
            done = IndicatorStats()
            for d in days:
                done.add(_isolated(conn, park, [d], linear=linear, raw_from_ms=raw_from_ms, cold=cold))
            return done
        attempts = failures.record(
            conn, job="indicators", park_id=park.park_id, day=days[0], error=failures.describe(exc)
        )
        store.mark_dirty_park_days(conn, park_days=[(park.park_id, days[0])])
        log.error(
            "indicators of park %d on %s failed (%d in a row; retried in %.0f s): %s",
            park.park_id,
            days[0],
            attempts,
            failures.retry_delay_s(attempts),
            failures.describe(exc),
        )
        return IndicatorStats(failed_days=1)


def drain(
    conn: store.Conn,
    *,
    batch: int = 400,
    max_batches: int = 100,
    gap_apportionment: apportion.Apportionment = "linear",
    raw_from_ms: int = 0,
    cold: ColdStore | None = None,
) -> list[IndicatorStats]:
    done = []
    for _ in range(max_batches):
        s = refresh_indicators(
            conn, batch=batch, gap_apportionment=gap_apportionment, raw_from_ms=raw_from_ms, cold=cold
        )
        if s.claimed == 0:
            break
        done.append(s)
    return done
