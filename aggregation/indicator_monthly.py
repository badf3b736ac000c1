"""Monthly indicator rows of a park's months: the sums of the daily rows, the enterprises'
economic reports, the intensities matched over the enterprises that reported both, and the
park's industrial concentration."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from aggregation import indicators as ind
from aggregation import store
from aggregation.indicator_columns import ECONOMIC, QUANTITIES
from aggregation.indicator_store import Park, save_monthly

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
    save_monthly(conn, park_id=park.park_id, rows=rows)
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
