"""CSV and XLSX exports through the API: Chinese headers with units, numbers as numbers, local
times, and each role's boundary (an enterprise its own, a regulator its park and bureau)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.conftest import Tenancy
from tests.reports.conftest import MONTH, fill_month, local, rollup_day

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 3)
RANGE = {"from": local(DAY).isoformat(), "to": local(DAY + timedelta(days=1)).isoformat()}


def _csv(resp: Any) -> list[list[str]]:
    assert resp.status_code == 200, resp.text
    assert resp.content.startswith("\ufeff".encode())  # Excel reads the Chinese header as UTF-8
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))


@pytest.fixture
def day_of_series(db: psycopg.Connection[Any], ids: dict[str, int]) -> dict[str, int]:
    rollup_day(db, ids["e1.em1"], "elec.power_kw", DAY, base=100.0)
    rollup_day(db, ids["e1.wm1"], "water.volume_m3", DAY, base=0.0)
    rollup_day(db, ids["e1.cems1"], "stack.so2_mgm3", DAY, base=20.0)
    rollup_day(db, ids["e2.em1"], "elec.power_kw", DAY, base=50.0)
    return ids


def test_telemetry_csv_has_chinese_headers_local_times_and_numbers(
    client: TestClient, tenancy: Tenancy, day_of_series: dict[str, int]
) -> None:
    t = tenancy
    rows = _csv(
        client.get("/api/v1/exports/telemetry", headers=t.headers("operator"), params={**RANGE, "park_id": t.park_id})
    )
    assert rows[0] == ["时间（Asia/Shanghai）", "企业", "设备", "指标", "单位", "统计", "数值"]
    data = rows[1:]
    assert len(data) == 4 * 96  # four series, one local day of 15-minute buckets
    power = [r for r in data if r[1] == "e1" and r[2] == "em1"]
    # bucket i has mean 100 + i (a gauge: its mean); the first starts at local midnight
    assert power[0][:6] == ["2026-11-03 00:00:00", "e1", "em1", "有功功率", "kW", "均值"]
    assert float(power[0][6]) == 100.0
    assert power[95][0] == "2026-11-03 23:45:00" and float(power[95][6]) == 195.0
    water = [r for r in data if r[2] == "wm1"]
    assert water[4][5] == "用量" and float(water[4][6]) == 1.0  # a counter: its consumption, 0.25 × 4


def test_telemetry_xlsx_stores_numbers_and_times(
    client: TestClient, tenancy: Tenancy, day_of_series: dict[str, int]
) -> None:
    t = tenancy
    resp = client.get(
        "/api/v1/exports/telemetry",
        headers=t.headers("operator"),
        params={**RANGE, "park_id": t.park_id, "enterprise_id": t.e2, "format": "xlsx"},
    )
    assert resp.status_code == 200, resp.text
    assert "attachment" in resp.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "时间（Asia/Shanghai）" and rows[0][6] == "数值"
    assert len(rows) == 1 + 96 and {r[1] for r in rows[1:]} == {"e2"}
    first = rows[1]
    assert first[0].isoformat() == "2026-11-03T00:00:00"  # a date cell, not text
    assert isinstance(first[6], int | float) and first[6] == 50.0  # a number cell (50 reads back as int)


def test_an_enterprise_exports_only_its_own_series(
    client: TestClient, tenancy: Tenancy, day_of_series: dict[str, int]
) -> None:
    t = tenancy
    h = t.headers("enterprise")
    rows = _csv(client.get("/api/v1/exports/telemetry", headers=h, params=RANGE))
    assert {r[1] for r in rows[1:]} == {"e1"} and len(rows) == 1 + 3 * 96
    assert (
        client.get("/api/v1/exports/telemetry", headers=h, params={**RANGE, "enterprise_id": t.e2}).status_code == 404
    )
    other = {**RANGE, "park_id": t.other_park_id}
    assert client.get("/api/v1/exports/telemetry", headers=h, params=other).status_code == 404


def test_a_regulator_exports_its_bureaus_metrics_of_its_park_only(
    client: TestClient, tenancy: Tenancy, day_of_series: dict[str, int]
) -> None:
    t = tenancy
    rows = _csv(client.get("/api/v1/exports/telemetry", headers=t.headers("env_regulator"), params=RANGE))
    assert {r[3] for r in rows[1:]} == {"烟气二氧化硫浓度"}  # emissions, not the energy meters
    assert len(rows) == 1 + 96
    other = {**RANGE, "park_id": t.other_park_id}
    assert client.get("/api/v1/exports/telemetry", headers=t.headers("env_regulator"), params=other).status_code == 404
    assert (
        client.get(
            "/api/v1/exports/telemetry", headers=t.headers("other_operator"), params={**RANGE, "park_id": t.park_id}
        ).status_code
        == 404
    )


def test_exports_refuse_no_key_and_bad_input_by_name(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    assert client.get("/api/v1/exports/telemetry", params={**RANGE, "park_id": t.park_id}).status_code == 401
    h = t.headers("operator")
    bad = client.get("/api/v1/exports/telemetry", headers=h, params={**RANGE, "interval": "5m"})
    assert bad.status_code == 422 and "interval" in bad.text
    naive = client.get(
        "/api/v1/exports/telemetry", headers=h, params={"from": "2026-11-03T00:00:00", "to": RANGE["to"]}
    )
    assert naive.status_code == 400 and "no time zone offset" in naive.json()["detail"]
    long = {"from": local(DAY).isoformat(), "to": local(DAY + timedelta(days=40)).isoformat(), "interval": "raw"}
    too_long = client.get("/api/v1/exports/telemetry", headers=h, params=long)
    assert too_long.status_code == 400 and "at most 31 days" in too_long.json()["detail"]
    none = client.get(
        "/api/v1/exports/telemetry", headers=h, params={**RANGE, "metric": "safety.fire_alarm", "enterprise_id": t.e2}
    )
    assert none.status_code == 400 and "no series" in none.json()["detail"]
    fmt = client.get("/api/v1/exports/alarms", headers=h, params={**RANGE, "format": "ods"})
    assert fmt.status_code == 422 and "format" in fmt.text


def _alarm(db: psycopg.Connection[Any], park_id: int, enterprise_id: int, device: int, category: str) -> int:
    row = db.execute(
        "INSERT INTO alerts (rule_id, series_key, park_id, enterprise_id, device_id, metric, severity, category,"
        " state, summary, trigger_value, value, started_at, firing_at, acknowledged_at, acknowledged_by)"
        " VALUES ('r1', %s, %s, %s, %s, 'stack.so2_mgm3', 'major', %s, 'firing', '二氧化硫超标', 120.5, 120.5,"
        " %s, %s, %s, 'duty') RETURNING alert_id",
        (f"d:{device}", park_id, enterprise_id, device, category, local(DAY, 9), local(DAY, 9), local(DAY, 10)),
    ).fetchone()
    assert row is not None
    db.execute(
        "INSERT INTO alert_events (alert_id, at, kind, by, comment) VALUES (%s, %s, 'firing', 'system', ''),"
        " (%s, %s, 'acknowledged', 'duty', '已安排检修')",
        (row[0], local(DAY, 9), row[0], local(DAY, 10)),
    )
    return int(row[0])


def test_alarms_export_lists_each_event_within_the_scope(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], ids: dict[str, int]
) -> None:
    t = tenancy
    alarm = _alarm(db, t.park_id, t.e1, ids["e1.cems1"], "emissions")
    _alarm(db, t.park_id, t.e2, ids["e2.em1"], "energy")
    rows = _csv(client.get("/api/v1/exports/alarms", headers=t.headers("env_regulator"), params=RANGE))
    assert rows[0][:3] == ["告警编号", "规则", "企业"] and "事件时间（Asia/Shanghai）" in rows[0]
    assert [(r[0], r[rows[0].index("事件")]) for r in rows[1:]] == [
        (str(alarm), "firing"),
        (str(alarm), "acknowledged"),
    ]
    ack = rows[2]
    assert (
        ack[rows[0].index("备注")] == "已安排检修"
        and ack[rows[0].index("确认时间（Asia/Shanghai）")] == "2026-11-03 10:00:00"
    )
    assert float(ack[rows[0].index("触发值")]) == 120.5
    mine = _csv(client.get("/api/v1/exports/alarms", headers=t.headers("enterprise"), params=RANGE))
    assert {r[2] for r in mine[1:]} == {"e1"}
    assert (
        client.get(
            "/api/v1/exports/alarms", headers=t.headers("other_operator"), params={**RANGE, "park_id": t.park_id}
        ).status_code
        == 404
    )


def test_rejected_export_is_not_for_regulators(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    db.execute(
        "INSERT INTO rejected_messages (received_at, topic, reason_code, reason, park_id, enterprise_id, excerpt)"
        " VALUES (%s, 'hj212://10.0.0.1/MN123', 'out_of_range', 'value 9999 MN=MN123', %s, %s, 'x'),"
        " (%s, 't2', 'bad_json', 'not JSON', %s, %s, 'y')",
        (local(DAY, 1), t.park_id, t.e1, local(DAY, 2), t.park_id, t.e2),
    )
    assert client.get("/api/v1/exports/rejected", headers=t.headers("env_regulator"), params=RANGE).status_code == 403
    rows = _csv(client.get("/api/v1/exports/rejected", headers=t.headers("operator"), params=RANGE))
    assert rows[0][:3] == ["接收时间（Asia/Shanghai）", "企业", "原因代码"]
    assert [r[2] for r in rows[1:]] == ["out_of_range", "bad_json"] and rows[1][6] == "1"
    mine = _csv(client.get("/api/v1/exports/rejected", headers=t.headers("enterprise"), params=RANGE))
    assert [r[1] for r in mine[1:]] == ["e1"]


def test_statistics_export_flattens_the_api_rows(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    fill_month(db, t.park_id, {"e1": t.e1, "e2": t.e2})
    params = {"from": MONTH.isoformat(), "to": "2026-12-01", "period": "month", "park_id": t.park_id, "format": "xlsx"}
    resp = client.get("/api/v1/exports/statistics", headers=t.headers("operator"), params=params)
    assert resp.status_code == 200, resp.text
    rows = list(load_workbook(io.BytesIO(resp.content)).worksheets[0].iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:2] == ["周期", "读数条数"]
    # 30 days × (1 000 + 250) kWh; tce by the row's stored figure (0.1229 kgce/kWh, GB/T 2589 equivalent value)
    assert rows[1][head.index("用电量 (kWh)")] == pytest.approx(37_500.0)
    assert rows[1][head.index("综合能耗（当量值） (tce)")] == pytest.approx(37_500 * 0.1229 / 1000)
    assert rows[1][head.index("工业总产值 (万元)")] == 5000
    # an enterprise: its own figures only, not the park's
    h = t.headers("enterprise")
    assert client.get("/api/v1/exports/statistics", headers=h, params=params).status_code == 404
    by_enterprise = {k: v for k, v in params.items() if k != "park_id"}
    own = client.get(
        "/api/v1/exports/statistics", headers=h, params={**by_enterprise, "enterprise_id": t.e1, "format": "csv"}
    )
    table = _csv(own)
    assert float(table[1][table[0].index("用电量 (kWh)")]) == 30_000.0
    theirs = {**by_enterprise, "enterprise_id": t.e2}
    assert client.get("/api/v1/exports/statistics", headers=h, params=theirs).status_code == 404


def test_completeness_export_names_the_subjects(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()  # the park's day: its devices exist
    mine_params = {"from": today, "to": today, "period": "range"}
    params = {**mine_params, "park_id": t.park_id}
    rows = _csv(client.get("/api/v1/exports/completeness", headers=t.headers("operator"), params=params))
    assert rows[0] == ["企业", "周期", "应收条数", "实收条数", "有效条数", "传输率 (%)", "有效率 (%)", "有效传输率 (%)"]
    assert {r[0] for r in rows[1:]} == {"e1 测试化工有限公司", "e2 测试食品有限公司"}
    mine = _csv(client.get("/api/v1/exports/completeness", headers=t.headers("enterprise"), params=mine_params))
    assert [r[0] for r in mine[1:]] == ["e1 测试化工有限公司"]
