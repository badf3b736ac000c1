"""Statistics per role and period, AQI of the HJ 633 worked example, class and evaluation,
economic reports (enterprises submit their own, operators import), the overview."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from smartpark.catalogue import BY_CODE
from tests.api.conftest import Tenancy

pytestmark = pytest.mark.integration


def _daily(
    db: psycopg.Connection[Any],
    park_id: int,
    enterprise_id: int | None,
    day: date,
    kwh: float,
    so2_kg: float,
) -> None:
    db.execute(
        "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh,"
        " tce_equivalent, co2_t,"
        " so2_kg, readings) VALUES (%s, %s, %s, %s, %s, %s, %s, 96)",
        (park_id, enterprise_id, day, kwh, kwh * 0.1229 / 1000, kwh * 0.55 / 1000, so2_kg),
    )


def _monthly(
    db: psycopg.Connection[Any],
    park_id: int,
    enterprise_id: int | None,
    month: date,
    *,
    output: float | None,
    tce: float,
    employees: int,
    land: float = 3000,
) -> None:
    db.execute(
        "INSERT INTO indicator_monthly (park_id, enterprise_id, month, tce_equivalent, co2_t,"
        " output_value,"
        " value_added, tax, fixed_asset_investment, employees, land_area_mu, enterprises, readings)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 2, 2976)",
        (
            park_id,
            enterprise_id,
            month,
            tce,
            tce * 2,
            output,
            None if output is None else output / 4,
            None if output is None else output / 20,
            None if output is None else output / 10,
            employees,
            land,
        ),
    )


@pytest.fixture
def stats(db: psycopg.Connection[Any], tenancy: Tenancy) -> None:
    t = tenancy
    for d, kwh in ((date(2026, 2, 1), 1_000_000.0), (date(2026, 2, 2), 500_000.0)):
        _daily(db, t.park_id, None, d, kwh, 12.0)
        _daily(db, t.park_id, t.e1, d, kwh / 2, 12.0)
        _daily(db, t.park_id, t.e2, d, kwh / 2, 0.0)
    # An air station of e1 with the HJ 633 worked example as daily means on 2026-02-01 (2012
    # tables) and on 2026-11-01 (HJ 633-2026 in force: new PM2.5 breakpoints).
    dev = db.execute(
        "INSERT INTO devices (enterprise_id, code, kind) VALUES (%s, 'aq1', 'air_station') RETURNING device_id",
        (t.e1,),
    ).fetchone()[0]  # type: ignore[index]
    example = (
        ("air.pm25_ugm3", 80),
        ("air.pm10_ugm3", 120),
        ("air.so2_ugm3", 20),
        ("air.no2_ugm3", 45),
        ("air.co_mgm3", 1.2),
    )
    # buckets at local midnight (Asia/Shanghai) of 2026-02-01 and 2026-11-01
    for bucket in (datetime(2026, 1, 31, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC)):
        for code, mean in example:
            db.execute(
                "INSERT INTO rollup_1d (device_id, metric_id, bucket, count, sum, min, max, mean,"
                " first,"
                " first_ts, last, last_ts) VALUES (%s, %s, %s, 2, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    dev,
                    BY_CODE[code].id,
                    bucket,
                    2 * mean,
                    mean,
                    mean,
                    mean,
                    mean,
                    bucket,
                    mean,
                    bucket,
                ),
            )
    _daily(db, t.park_id, None, date(2026, 11, 1), 0.0, 0.0)
    for m in range(1, 13):
        _monthly(db, t.park_id, None, date(2037, m, 1), output=10_000.0, tce=100.0, employees=1000 + m)
        # the park's two enterprises: e2 has not reported December
        _monthly(db, t.park_id, t.e1, date(2037, m, 1), output=5_000.0, tce=50.0, employees=500, land=300)
        e2_output = None if m == 12 else 5_000.0
        _monthly(db, t.park_id, t.e2, date(2037, m, 1), output=e2_output, tce=50.0, employees=500, land=120)
        _monthly(db, t.other_park_id, None, date(2037, m, 1), output=200_000.0, tce=100.0, employees=500)


def _get(client: TestClient, t: Tenancy, who: str, path: str, **params: Any) -> Any:
    return client.get(path, headers=t.headers(who), params=params)


def _park_stats(client: TestClient, t: Tenancy, who: str, start: str, end: str, **params: Any) -> Any:
    """``who``'s statistics of the tenancy's own park from ``start`` to ``end``."""
    path = f"/api/v1/statistics/parks/{t.park_id}"
    return _get(client, t, who, path, **{"from": start, "to": end}, **params)


def test_park_days_with_energy_emissions_and_aqi(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    r = _park_stats(client, t, "operator", "2026-02-01", "2026-02-03", period="day")
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["period"] for row in rows] == ["2026-02-01", "2026-02-02"]
    assert rows[0]["energy"]["electricity_kwh"] == 1_000_000.0
    assert rows[0]["energy"]["tce_equivalent"] == pytest.approx(122.9)  # GB/T 2589 worked example
    assert rows[0]["emissions"]["so2_kg"] == 12.0
    aqi = rows[0]["aqi"]
    assert (aqi["aqi"], aqi["primary"], aqi["category"]) == (107, ["PM25"], "轻度污染")
    assert aqi["iaqi"] == {"PM25": 107, "PM10": 85, "SO2": 20, "NO2": 57, "CO": 30}
    assert rows[1]["aqi"] is None
    later = _park_stats(client, t, "operator", "2026-11-01", "2026-11-02").json()["rows"][0]["aqi"]
    # HJ 633-2026: PM2.5 80 lies in 60..115 -> (150 - 100) / (115 - 60) x (80 - 60) + 100 -> 119
    assert (later["aqi"], later["iaqi"]["PM25"]) == (119, 119)


def test_categories_shape_what_a_regulator_sees(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    env = _park_stats(client, t, "env_regulator", "2026-02-01", "2026-02-02").json()["rows"][0]
    assert env["energy"] is None and env["emissions"]["so2_kg"] == 12.0 and env["aqi"]["aqi"] == 107
    emg = _park_stats(client, t, "emg_regulator", "2026-02-01", "2026-02-02").json()["rows"][0]
    assert emg["energy"] is None and emg["emissions"] is None and emg["aqi"] is None


def test_enterprise_reads_its_own_statistics_only(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    span = {"from": "2026-02-01", "to": "2026-02-03"}
    own = _get(client, t, "enterprise", f"/api/v1/statistics/enterprises/{t.e1}", **span)
    assert own.status_code == 200 and own.json()["rows"][0]["energy"]["electricity_kwh"] == 500_000.0
    assert _get(client, t, "enterprise", f"/api/v1/statistics/enterprises/{t.e2}", **span).status_code == 404
    for outsider in ("enterprise", "other_operator"):
        r = _park_stats(client, t, outsider, "2026-02-01", "2026-02-03")
        assert r.status_code == 404, outsider


def test_year_sums_months_with_class_and_evaluation(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    r = _park_stats(client, t, "operator", "2037-01-01", "2038-01-01", period="year")
    (year,) = r.json()["rows"]
    assert year["economic"]["output_value"] == 120_000.0  # 12 months x 10 000 (10⁴ yuan)
    assert year["economic"]["employees"] == 1012  # the stock at the last month
    assert year["energy"]["tce_equivalent"] == 1200.0
    # issue 16 item 16: e2's December energy (50 tce) has no output beside it and stays out:
    # (12 × 50 + 11 × 50) / (12 × 5000 + 11 × 5000) = 1150 / 115000 = 0.01 (not 1200 / 115000)
    assert year["intensities"]["tce_per_output"] == pytest.approx(0.01)
    assert year["coverage"]["tce_per_output"] == {"reported": 23, "of": 24, "unit": "enterprise-months"}
    # output per mu needs every month: e1 alone, 12 × 5000 / its 300 mu = 200
    assert year["intensities"]["output_per_mu"] == pytest.approx(200.0)
    assert year["coverage"]["output_per_mu"] == {"reported": 1, "of": 2, "unit": "enterprises"}
    month = _park_stats(client, t, "operator", "2037-12-01", "2038-01-01", period="month").json()["rows"][0]
    assert month["intensities"]["tce_per_output"] == pytest.approx(50 / 5000)
    assert month["coverage"]["tce_per_output"] == {"reported": 1, "of": 2, "unit": "enterprise-months"}
    assert year["evaluation"]["park_class"] == 2  # 12亿 yuan >= 10亿
    ev = {row["park_id"]: row for row in _get(client, t, "admin", "/api/v1/statistics/evaluation", year=2037).json()}
    assert ev[t.other_park_id]["park_class"] == 1  # 240亿 yuan >= 150亿
    assert {ev[t.park_id]["rank"], ev[t.other_park_id]["rank"]} <= set(range(1, ev[t.park_id]["ranked_parks"] + 1))
    own = ev[t.park_id]
    assert own["method"] == {
        "applies_from": 2021,
        "source": own["method"]["source"],
        "assumption": True,
    } and own["method"]["source"].startswith("assumption")
    assert not any(row["rewarded"] and row["penalised"] for row in ev.values())
    # Article 12's reference indicators: 12 × 500 tax (10⁴ yuan), 2 enterprises
    assert own["reference"]["tax"] == 6000.0 and own["reference"]["enterprises"] == 2
    # Article 21: concentration and R&D served; e1 (coal chemical) makes 60 000 of 115 000
    art = year["article_21"]
    assert art["industrial_concentration"]["leading_industry_share"] == pytest.approx(60_000 / 115_000)
    assert art["total_scale"]["output_value"] == 120_000.0
    assert set(art["science_innovation"]) == {"rd_expense", "rd_intensity"}
    only_own = _get(client, t, "operator", "/api/v1/statistics/evaluation", year=2037).json()
    assert [row["park_id"] for row in only_own] == [t.park_id]
    assert _get(client, t, "enterprise", "/api/v1/statistics/evaluation", year=2037).status_code == 403
    # before the first year a method applies to: a specific refusal, not a server error
    before = _get(client, t, "admin", "/api/v1/statistics/evaluation", year=2020)
    assert before.status_code == 422 and "2021" in before.json()["detail"]
    assert _get(client, t, "admin", "/api/v1/statistics/evaluation", year=2021).status_code == 200


def test_three_years_below_the_designated_class_and_a_lone_park(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Article 22: a park designated class 1 (150亿 yuan = 1 500 000 × 10⁴) that makes
    120 000 a year in 2044, 2045 and 2046 has three consecutive years below: downgrade review.
    It is the only park with 2044-2046 figures: not ranked, so not 'rank 1, rewarded'."""
    t = tenancy
    db.execute(
        "UPDATE parks SET attributes = attributes || '{\"designated_class\": 1}'::jsonb WHERE park_id = %s",
        (t.park_id,),
    )
    for y in (2044, 2045, 2046):
        for m in range(1, 13):
            _monthly(db, t.park_id, None, date(y, m, 1), output=10_000.0, tce=100.0, employees=100)
    ev = {r["park_id"]: r for r in _get(client, t, "admin", "/api/v1/statistics/evaluation", year=2046).json()}
    own = ev[t.park_id]
    assert (own["designated_class"], own["below_class_years"], own["downgrade_review"]) == (1, 3, True)
    assert own["park_class"] == 2  # 12亿 >= 10亿
    assert (own["rank"], own["ranked_parks"], own["rewarded"], own["penalised"]) == (None, 0, False, False)
    two_years = {r["park_id"]: r for r in _get(client, t, "admin", "/api/v1/statistics/evaluation", year=2045).json()}
    assert (two_years[t.park_id]["below_class_years"], two_years[t.park_id]["downgrade_review"]) == (2, False)


def test_economic_reports(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    body = {"output_value": 1234.5, "value_added": 300.0, "tax": 55.0, "employees": 120, "rd_expense": 12.5}
    own = client.put(f"/api/v1/economic-reports/{t.e1}/2026-10-01", headers=t.headers("enterprise"), json=body)
    assert own.status_code == 200, own.text
    assert own.json()["output_value"] == 1234.5 and own.json()["rd_expense"] == 12.5  # Article 21
    other = client.put(f"/api/v1/economic-reports/{t.e2}/2026-10-01", headers=t.headers("enterprise"), json=body)
    assert other.status_code == 404
    bad = client.put(f"/api/v1/economic-reports/{t.e1}/2026-10-15", headers=t.headers("enterprise"), json=body)
    assert bad.status_code == 400 and "2026-10-15" in bad.json()["detail"]
    assert (
        client.put(f"/api/v1/economic-reports/{t.e1}/2026-10-01", headers=t.headers("readonly"), json=body).status_code
        == 403
    )
    imp = client.post(
        "/api/v1/economic-reports/import",
        headers=t.headers("operator"),
        json={
            "source": "statistics bureau",
            "reports": [
                {"enterprise_id": t.e2, "month": "2026-10-01", "output_value": 10.0},
                {"enterprise_id": t.e2, "month": "2026-09-01", "output_value": 9.0},
            ],
        },
    )
    assert imp.json() == {"imported": 2}

    def months(**span: str) -> list[str]:
        r = client.get(
            "/api/v1/economic-reports",
            headers=t.headers("operator"),
            params={"enterprise_id": t.e2, **span},
        )
        assert r.status_code == 200, r.text
        return [x["month"] for x in r.json()["items"]]

    assert months() == ["2026-10-01", "2026-09-01"]  # newest first
    assert months(**{"from": "2026-10-01"}) == ["2026-10-01"]
    assert months(to="2026-10-01") == ["2026-09-01"]
    cross = client.post(
        "/api/v1/economic-reports/import",
        headers=t.headers("operator"),
        json={"reports": [{"enterprise_id": t.other_e1, "month": "2026-10-01", "output_value": 1.0}]},
    )
    assert cross.status_code == 404
    listed = client.get("/api/v1/economic-reports", headers=t.headers("enterprise")).json()["items"]
    assert {r["enterprise_id"] for r in listed} == {t.e1}
    dirty = db.execute(
        "SELECT count(*) FROM aggregation_dirty_days WHERE park_id = %s AND day = '2026-10-01'",
        (t.park_id,),
    ).fetchone()
    assert dirty is not None and dirty[0] == 1  # the indicator job will recompute that month


def test_overview(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    r = _get(client, t, "operator", "/api/v1/overview")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["park_id"] == t.park_id and body["enterprises"] == 2 and body["devices"] == 9
    assert _get(client, t, "operator", "/api/v1/overview", park_id=t.other_park_id).status_code == 404
    ent = _get(client, t, "enterprise", "/api/v1/overview").json()
    assert ent["enterprises"] == 1 and ent["today"] is None


def test_economic_figures_follow_one_rule_for_every_route(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    """Issue 14, M4: regulators got the economic group through /statistics although
    /economic-reports is refused to them."""
    t = tenancy
    for who, may in (
        ("operator", True),
        ("readonly", True),
        ("admin", True),
        ("env_regulator", False),
        ("emg_regulator", False),
    ):
        reports = _get(client, t, who, "/api/v1/economic-reports")
        assert (reports.status_code == 200) is may, (who, reports.status_code)
        for period in ("month", "year"):
            rows = _park_stats(client, t, who, "2037-01-01", "2038-01-01", period=period).json()["rows"]
            assert rows, (who, period)
            for row in rows:
                assert (row["economic"] is not None) is may, (who, period)
                assert row["economic"] is None or row["economic"]["output_value"] > 0
                if not may:
                    assert row["intensities"] is None


@pytest.mark.parametrize("month", ["2020-01-01", "1999-12-01", "2999-01-01"])
def test_economic_reports_outside_the_supported_months_are_refused(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], month: str
) -> None:
    """Issue 14, H6: one report for 2020-01 stopped the statistics of every park. The conversion
    tables start in 2021: CO2 of electricity (MEE/NBS national factor) from 2021, equal-value
    electricity uses the previous year's figure, which starts at 2020 (aggregation/coefficients.py)."""
    t = tenancy
    body = {"output_value": 1.0}
    put = client.put(f"/api/v1/economic-reports/{t.e1}/{month}", headers=t.headers("enterprise"), json=body)
    assert put.status_code == 422, put.text
    detail = put.json()["detail"]
    assert month[:7] in detail and "2021-01" in detail and put.json()["supported_from"] == "2021-01"
    imp = client.post(
        "/api/v1/economic-reports/import",
        headers=t.headers("operator"),
        json={
            "reports": [
                {"enterprise_id": t.e2, "month": "2021-01-01", "output_value": 1.0},
                {"enterprise_id": t.e2, "month": month, "output_value": 1.0},
            ]
        },
    )
    assert imp.status_code == 422 and f"reports[1].month {month[:7]}" in imp.json()["detail"]
    stored = db.execute(
        "SELECT count(*) FROM economic_monthly WHERE enterprise_id IN (%s, %s) AND month IN (%s, '2021-01-01')",
        (t.e1, t.e2, month),
    ).fetchone()
    assert stored is not None and stored[0] == 0  # nothing of the refused import was kept
    first = client.put(f"/api/v1/economic-reports/{t.e1}/2021-01-01", headers=t.headers("enterprise"), json=body)
    assert first.status_code == 200, first.text  # the first supported month


def _ranking(client: TestClient, t: Tenancy, who: str, **params: Any) -> Any:
    path = f"/api/v1/statistics/parks/{t.park_id}/ranking"
    return _get(client, t, who, path, **{"from": "2026-02-01", "to": "2026-02-03", "period": "day"} | params)


def test_ranking_lists_every_enterprise_in_one_answer(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    r = _ranking(client, t, "operator", by="so2_kg")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    # e1 emitted 12 + 12 kg of SO2 over the two days, e2 none: every enterprise of the park listed.
    assert [(i["enterprise_id"], i["rank"], i["emissions"]["so2_kg"]) for i in items][:2] == [
        (t.e1, 1, 24.0),
        (t.e2, 2, 0.0),
    ]
    assert {i["enterprise_id"] for i in items} == {t.e1, t.e2} | {
        i["enterprise_id"] for i in items if i["rank"] is None
    }
    by_kwh = _ranking(client, t, "operator").json()["items"]  # by tce, the default
    # (1 000 000 + 500 000) / 2 kWh x 0.1229 kgce/kWh = 92.175 tce each: a tie, ordered by code.
    assert by_kwh[0]["energy"]["tce_equivalent"] == pytest.approx(92.175)
    assert "raw_coal_t" in by_kwh[0]["energy"] and "heat_gj" in by_kwh[0]["energy"]


def test_a_ranking_limited_to_the_first_n_keeps_their_order_and_counts_all(
    client: TestClient, tenancy: Tenancy, stats: None
) -> None:
    t = tenancy
    whole = _ranking(client, t, "operator", by="so2_kg").json()
    first = _ranking(client, t, "operator", by="so2_kg", limit=1).json()
    assert whole["total"] == len(whole["items"]) >= 2
    assert first["total"] == whole["total"]
    assert first["items"] == whole["items"][:1] and first["items"][0]["enterprise_id"] == t.e1
    assert _ranking(client, t, "operator", limit=0).status_code == 422
    assert _ranking(client, t, "operator", limit=100_001).status_code == 422


def test_ranking_scope_and_bad_values(client: TestClient, tenancy: Tenancy, stats: None) -> None:
    t = tenancy
    assert _ranking(client, t, "enterprise").status_code == 404
    assert _ranking(client, t, "other_operator").status_code == 404
    assert _ranking(client, t, "env_regulator").status_code == 403  # energy is not its remit
    assert _ranking(client, t, "env_regulator", by="so2_kg").status_code == 200
    bad = _ranking(client, t, "operator", by="output_value")
    assert bad.status_code == 400 and "output_value" in bad.text
    assert _ranking(client, t, "operator", period="year").status_code == 422


def test_park_load_sums_the_meters_per_bucket(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    from tests.api.conftest import device_id

    t = tenancy
    power = BY_CODE["elec.power_kw"].id
    meters = [device_id(db, t.e1, "em1"), device_id(db, t.e2, "em1")]
    for dev, kw in zip(meters, (120.0, 30.5), strict=True):
        for bucket in ("2026-02-01T00:00:00Z", "2026-02-01T00:15:00Z"):
            db.execute(
                "INSERT INTO rollup_15m (device_id, metric_id, bucket, count, sum, min, max, mean, first,"
                " first_ts, last, last_ts) VALUES (%s, %s, %s, 15, %s, %s, %s, %s, %s, %s, %s, %s)",
                (dev, power, bucket, kw * 15, kw, kw, kw, kw, bucket, kw, bucket),
            )
    q = {"from": "2026-02-01T08:00:00+08:00", "to": "2026-02-01T08:30:00+08:00"}
    r = _get(client, t, "operator", f"/api/v1/statistics/parks/{t.park_id}/load", **q)
    assert r.status_code == 200, r.text
    body = r.json()
    ms = int(datetime(2026, 2, 1, tzinfo=UTC).timestamp() * 1000)
    assert body["ts"] == [ms, ms + 900_000] and body["values"] == [150.5, 150.5]
    assert (body["meters"], body["unit"]) == (2, "kW")
    assert _get(client, t, "enterprise", f"/api/v1/statistics/parks/{t.park_id}/load", **q).status_code == 404
    assert _get(client, t, "env_regulator", f"/api/v1/statistics/parks/{t.park_id}/load", **q).status_code == 403
    naive = _get(
        client,
        t,
        "operator",
        f"/api/v1/statistics/parks/{t.park_id}/load",
        **{"from": "2026-02-01T00:00:00", "to": q["to"]},
    )
    assert naive.status_code == 400 and "2026-02-01T00:00:00" in naive.text
    long = _get(
        client,
        t,
        "operator",
        f"/api/v1/statistics/parks/{t.park_id}/load",
        **{"from": "2026-01-01T00:00:00Z", "to": q["to"]},
    )
    assert long.status_code == 400 and "8 days" in long.text
