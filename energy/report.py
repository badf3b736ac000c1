"""The energy views of a month or a range of days: time-of-use cost with demand, and balance.

Meters are a tree's; figures come from the 15-minute and hourly rollups through the numpy
core. A meter's prices are its ``attributes`` (``floating_kwh``, ``fixed_kwh``,
``demand_kw_month``, ``demand_method``: actual, contract or capacity with ``capacity_kva``)
with its ``tariff`` schedule; a meter without prices has kWh per period and no cost. Totals
add the meters that count (``Meter.counts``) only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import psycopg

from aggregation.calendar import local_day_start
from energy import balance as bal
from energy import changes
from energy import demand as dem
from energy.reads import HOUR_MS, hourly, quarters
from energy.tariffs import PERIODS, SCHEDULES, Prices
from energy.tou import Calendar, edge_moves, tou
from energy.tree import Meter, Tree, TreeError, virtual_matrix

MAX_DAYS = 31
DEFAULT_SCHEDULE = "nm_west_2023"


def _schedule(m: Meter) -> str:
    code = m.tariff or DEFAULT_SCHEDULE
    if code not in SCHEDULES:
        raise TreeError(f"meter {m.code!r}.tariff: {code!r} is not one of {', '.join(SCHEDULES)}")
    return code


def prices_of(m: Meter) -> Prices | None:
    a = m.attributes
    schedule = _schedule(m)  # an unknown schedule is refused with or without prices
    if "floating_kwh" not in a:
        return None
    try:
        return Prices(
            floating_kwh=float(a["floating_kwh"]),  # type: ignore[arg-type]
            fixed_kwh=float(a.get("fixed_kwh", 0.0)),  # type: ignore[arg-type]
            demand_kw_month=float(a.get("demand_kw_month", 0.0)),  # type: ignore[arg-type]
            schedule=schedule,
        )
    except (TypeError, ValueError) as exc:
        raise TreeError(f"meter {m.code!r}.attributes: {exc}") from exc


def _round(a: Any) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), 6).tolist()


def cost(
    conn: psycopg.Connection[Any], *, tree: Tree, meters: Sequence[Meter], timezone: str, first: date, last: date
) -> dict[str, Any]:
    """kWh and cost per meter, day and period over ``first`` .. ``last``, the month's demand of
    each meter with a contract, and the totals of the meters that count."""
    if (last - first).days + 1 > MAX_DAYS or last < first:
        raise ValueError(f"from {first} to {last}: 1 to {MAX_DAYS} days")
    physical = [m for m in meters if m.device is not None and m.carrier == "electricity"]
    prices = [prices_of(m) for m in physical]
    of_meter = [_schedule(m) for m in physical]
    codes = tuple(sorted(set(of_meter))) or (DEFAULT_SCHEDULE,)
    cal = Calendar.of(first, last, timezone, codes)
    sched = np.asarray([codes.index(c) for c in of_meter], dtype=np.int64)
    end = local_day_start(last + timedelta(days=1), timezone)
    devices = [m.device for m in physical if m.device is not None]
    q = quarters(conn, devices=devices, carrier="electricity", start_ms=cal.start_ms, end_ms=end)
    none = np.zeros((13, len(PERIODS)))
    table = (
        np.stack([p.period_prices() if p else none for p in prices]) if physical else np.zeros((0, 13, len(PERIODS)))
    )
    kw: dict[str, Any] = {"series": q.series, "bucket_ms": q.bucket, "schedule_of_series": sched, "codes": codes}
    found = changes.of_devices(conn, devices=devices, start_ms=cal.start_ms, end_ms=end)
    swaps = []
    for c in found:
        change = changes.Change(c["device_id"], c["metric_id"], c["at_ms"], c["old_final"], c["new_initial"])
        near = changes.around(conn, change=change)
        if near is not None:
            swaps.append((change, near))
    swapped, rows = changes.moves(cal, q, swaps, devices=devices, schedule_of_series=sched, codes=codes)
    edges = edge_moves(cal, first=q.first, first_ts=q.first_ts, last=q.last, last_ts=q.last_ts, skip=rows, **kw)
    moves = tuple(np.concatenate([a, b]) for a, b in zip(edges, swapped, strict=True))
    t = tou(cal, consumption=q.kwh, n_series=len(physical), prices=table, moves=moves, **kw)  # type: ignore[arg-type]
    month = np.zeros(q.series.size, np.int64)  # one month (or part of one) per answer
    kwh = q.kwh.copy()  # the rollups count a change as its exact parts, never a reset's demand
    d = dem.monthly_max(series=q.series, bucket_ms=q.bucket, kwh=kwh, month=month, n_series=len(physical), n_months=1)
    out_meters = []
    for i, (m, p) in enumerate(zip(physical, prices, strict=True)):
        contract = m.contracted_kw
        charge = None
        if p is not None and p.demand_kw_month > 0:
            method = str(m.attributes.get("demand_method", "actual"))
            kva = float(m.attributes.get("capacity_kva", 0.0))  # type: ignore[arg-type]
            charge = float(dem.charge(d.max_kw[i, 0], contract or 0.0, p.demand_kw_month, method, kva))  # type: ignore[arg-type]
        out_meters.append(
            {
                "code": m.code,
                "role": m.role,
                "enterprise_id": m.enterprise,
                "counts": m.counts,
                "tariff": _schedule(m),
                "kwh": _round(t.kwh[i].sum(axis=0)),
                "cost": _round(t.cost[i].sum(axis=0)) if p else None,
                "daily_kwh": _round(t.kwh[i]),
                "daily_cost": _round(t.cost[i]) if p else None,
                "demand_kw": float(d.max_kw[i, 0]),
                "demand_at_ms": int(d.at_ms[i, 0]) if d.at_ms[i, 0] >= 0 else None,
                "contracted_kw": contract,
                "demand_level": str(dem.level(d.max_kw[i, 0], np.nan if contract is None else contract)),
                "demand_charge": charge,
            }
        )
    counted = np.asarray([m.counts for m in physical], dtype=bool)
    virtual = [m for m in meters if m.role == "virtual" and m.carrier == "electricity"]
    # virtual meters from the same arrays: coefficients × the physical meters' kWh per period
    per_period = t.kwh.sum(axis=1)
    codes_here = [m.code for m in physical]
    return {
        "periods": list(PERIODS),
        "days": [dd.isoformat() for dd in cal.days],
        "meters": out_meters,
        "virtual": [
            {"code": v.code, "formula": v.formula, "kwh": _virtual(tree, v, codes_here, per_period)} for v in virtual
        ],
        "total": {
            "kwh": _round(t.kwh[counted].sum(axis=(0, 1))),
            "cost": _round(t.cost[counted].sum(axis=(0, 1))),
            "daily_kwh": _round(t.kwh[counted].sum(axis=0)),
            "daily_cost": _round(t.cost[counted].sum(axis=0)),
            "demand_charge": sum(x["demand_charge"] or 0.0 for x, c in zip(out_meters, counted, strict=True) if c),
        },
        "meter_changes": found,
        "sources": {c: {"source": SCHEDULES[c].source, "verify": list(SCHEDULES[c].verify)} for c in codes},
    }


def _virtual(tree: Tree, v: Meter, physical: list[str], per_period: Any) -> Any:
    """A virtual meter's kWh per period, None when it names a meter outside this answer."""
    try:
        return _round((virtual_matrix(tree, [v.code], physical) @ per_period)[0])
    except TreeError:
        return None


def balance(
    conn: psycopg.Connection[Any], *, parent: Meter, children: Sequence[Meter], timezone: str, first: date, last: date
) -> dict[str, Any]:
    """A parent meter against the sum of ``children``, hour by hour over whole local days."""
    if (last - first).days + 1 > MAX_DAYS or last < first:
        raise ValueError(f"from {first} to {last}: 1 to {MAX_DAYS} days")
    start = local_day_start(first, timezone)
    hours = (local_day_start(last + timedelta(days=1), timezone) - start) // HOUR_MS
    devices = [m.device for m in (parent, *children) if m.device is not None]
    h = hourly(conn, devices=devices, carrier=parent.carrier, start_ms=start, hours=hours)
    b = bal.balance(h[0], h[1:] if len(devices) > 1 else np.zeros((1, hours)))
    out: dict[str, Any] = {
        "parent": parent.code,
        "children": [c.code for c in children],
        "carrier": parent.carrier,
        "start_ms": start,
        "parent_hourly": _round(b.parent),
        "children_hourly": _round(b.children),
        "loss_pct_hourly": [None if np.isnan(x) else round(float(x), 4) for x in b.loss_pct],
        "alarm_hours": [start + int(i) * HOUR_MS for i in np.flatnonzero(b.alarm)],
        "loss": float(b.loss.sum()),
        "loss_pct": None if b.parent.sum() <= 0 else round(100.0 * float(b.loss.sum() / b.parent.sum()), 4),
        "limits_pct": {"loss": bal.LOSS_LIMIT_PCT, "gain": bal.GAIN_LIMIT_PCT},
    }
    if parent.carrier == "water" and hours % 24 == 0:
        nf = bal.night_flow(h[0])
        out["night_flow"] = {
            "minimum": _round(nf.minimum),
            "ratio": [None if np.isnan(x) else round(float(x), 4) for x in nf.ratio],
            "leak": nf.leak.tolist(),
            "limit_ratio": bal.NIGHT_FLOW_RATIO,
        }
    return out
