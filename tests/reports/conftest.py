"""Report and export fixtures: the API's client and tenancy, and a park month of figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from smartpark.catalogue import BY_CODE
from tests.api.conftest import api_limits, client, tenancy  # noqa: F401  (fixtures used here)

MONTH = date(2026, 11, 1)  # Asia/Shanghai calendar; 30 days
DAYS = 30
DAY_KWH = {"e1": 1000.0, "e2": 250.0}  # each enterprise's electricity per day


def fill_month(db: psycopg.Connection[Any], park_id: int, ents: dict[str, int]) -> None:
    """Daily and monthly indicators of November 2026: e1 1 000 kWh and e2 250 kWh a day, e1
    30 minutes of exceedance on the 3rd; park rows the sums; e1's economic report."""
    with db.transaction():
        for code, eid in ents.items():
            kwh = DAY_KWH[code]
            db.execute(
                "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh, tce_equivalent, co2_t,"
                " so2_kg, exceedance_minutes, readings)"
                " SELECT %(p)s, %(e)s, d::date, %(kwh)s, %(kwh)s * 0.1229 / 1000, %(kwh)s * 0.55 / 1000, 1.5,"
                " CASE WHEN d::date = %(m)s::date + 2 AND %(e1)s THEN 30 ELSE 0 END, 96"
                " FROM generate_series(%(m)s::date, %(m)s::date + %(n)s - 1, interval '1 day') d",
                {"p": park_id, "e": eid, "kwh": kwh, "m": MONTH, "n": DAYS, "e1": code == "e1"},
            )
        db.execute(
            "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh, tce_equivalent, co2_t,"
            " so2_kg, exceedance_minutes, readings)"
            " SELECT park_id, NULL, day, sum(electricity_kwh), sum(tce_equivalent), sum(co2_t), sum(so2_kg),"
            " sum(exceedance_minutes), sum(readings) FROM indicator_daily WHERE park_id = %s"
            " AND enterprise_id IS NOT NULL GROUP BY park_id, day",
            (park_id,),
        )
        db.execute(
            "INSERT INTO indicator_monthly (park_id, enterprise_id, month, electricity_kwh, tce_equivalent, co2_t,"
            " so2_kg, exceedance_minutes, readings, output_value, value_added, tax, fixed_asset_investment,"
            " employees, land_area_mu, enterprises)"
            " SELECT park_id, enterprise_id, %(m)s, sum(electricity_kwh), sum(tce_equivalent), sum(co2_t),"
            " sum(so2_kg), sum(exceedance_minutes), sum(readings),"
            " CASE WHEN enterprise_id IS NULL OR enterprise_id = %(e1)s THEN 5000 END,"
            " CASE WHEN enterprise_id IS NULL OR enterprise_id = %(e1)s THEN 1200 END, NULL, NULL, NULL, NULL, 2"
            " FROM indicator_daily WHERE park_id = %(p)s AND day >= %(m)s AND day < %(m)s::date + %(n)s"
            " GROUP BY park_id, enterprise_id",
            {"p": park_id, "m": MONTH, "n": DAYS, "e1": ents["e1"]},
        )
        db.execute(
            "INSERT INTO economic_monthly (enterprise_id, month, output_value, value_added, source)"
            " VALUES (%s, %s, 5000, 1200, 'test')",
            (ents["e1"], MONTH),
        )


def local(day: date, hour: int = 0) -> datetime:
    """A park-local (UTC+8) hour as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def rollup_day(db: psycopg.Connection[Any], device: int, metric: str, day: date, *, base: float) -> None:
    """96 fifteen-minute rollups of a local day: mean ``base + i`` in bucket i, consumption 0.25 × i."""
    db.execute(
        "INSERT INTO rollup_15m (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts, last,"
        " last_ts, consumption)"
        " SELECT %(d)s, %(m)s, %(t0)s + i * interval '15 minutes', 15, 15 * (%(b)s + i), %(b)s + i, %(b)s + i,"
        " %(b)s + i, %(b)s + i, %(t0)s + i * interval '15 minutes', %(b)s + i, %(t0)s + i * interval '15 minutes',"
        " 0.25 * i FROM generate_series(0, 95) i",
        {"d": device, "m": BY_CODE[metric].id, "t0": local(day), "b": base},
    )


@pytest.fixture
def ids(db: psycopg.Connection[Any], tenancy: Any) -> dict[str, int]:  # noqa: F811
    from tests.api.conftest import device_id

    return {
        "e1.em1": device_id(db, tenancy.e1, "em1"),
        "e1.wm1": device_id(db, tenancy.e1, "wm1"),
        "e1.cems1": device_id(db, tenancy.e1, "cems1"),
        "e2.em1": device_id(db, tenancy.e2, "em1"),
    }
