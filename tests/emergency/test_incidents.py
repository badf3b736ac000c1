"""The incident workflow through the API against the real database, SMTP server and robot
endpoint: open from an alarm with the plan instantiated and the first step paged, tick steps
(the next step's people paged), move through the states, close, and the after-action report."""

from __future__ import annotations

import io
import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from benchmarks.paging_endpoints import PlatformServer, SmtpServer
from tests.api.conftest import Tenancy, device_id
from tests.emergency.conftest import Paging, hazard_body, raise_alarm
from tests.support.readings import store_readings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
API = "/api/v1/emergency"


def open_from(client: TestClient, t: Tenancy, alert_ids: list[int], **kw: Any) -> dict[str, Any]:
    r = client.post(f"{API}/incidents", json={"alert_ids": alert_ids, **kw}, headers=t.headers("operator"))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_hazard_is_graded_and_its_alarms_carry_it(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    h = registry["hazard"]
    # Cl2 30 t against 5 t: S = 6; β 4, 120 people outside (α 2.0): R = 2 × 4 × 6 = 48 → 三级
    assert (h["ratio_sum"], h["r_value"], h["grade"]) == (6.0, 48.0, 3)
    assert h["devices"] == ["gd1"] and h["substances"][0]["threshold_t"] == 5.0
    aid = raise_alarm(db, tenancy, "gd1", "lel-level1", 30)
    rows = client.get(f"{API}/alarms", headers=tenancy.headers("operator")).json()
    (mine,) = [r for r in rows if r["alert_id"] == aid]
    assert (mine["hazard_code"], mine["hazard_grade"], mine["zone"], mine["incident_id"]) == ("cl-tank", 3, "C1", None)


def test_opening_instantiates_the_plan_and_pages_its_first_step_then_the_next(
    client: TestClient,
    db: psycopg.Connection[Any],
    tenancy: Tenancy,
    registry: dict[str, Any],
    paging: Paging,
    platforms: PlatformServer,
    smtp: SmtpServer,
) -> None:
    aid = raise_alarm(db, tenancy, "gd1", "lel-level2", 62)
    inc = open_from(client, tenancy, [aid], commander="王队长")
    assert (inc["hazard_code"], inc["zone"], inc["state"], inc["level"]) == ("cl-tank", "C1", "reported", 4)
    assert inc["plan_name"] == "危化品泄漏预案" and inc["enterprise_id"] == tenancy.e1
    assert [s["title"] for s in inc["steps"]] == ["确认泄漏并报告", "疏散C1区", "堵漏"]
    assert inc["steps"][0]["checklist"] == ["确认报警", "通知指挥"]
    kinds = [e["kind"] for e in inc["timeline"]]
    assert {"opened", "alarm", "notified", "alarm:firing"} <= set(kinds)
    notified = next(e for e in inc["timeline"] if e["kind"] == "notified")
    assert paging.robot in notified["text"] and paging.lead in notified["text"]
    # the alerting outbox delivers them: the robot and the lead's mail say it is the incident
    paging.deliver(db, tenancy.park_id)
    wait_until(lambda: platforms.of("wecom") and smtp.mails, what="the robot's post and the lead's mail")
    assert f"应急事件 #{inc['incident_id']}" in platforms.of("wecom")[0].text
    assert smtp.mails[0].rcpt_tos == [f"{paging.lead}@park.example"]
    assert "确认泄漏并报告" in str(smtp.mails[0].message["Subject"])
    # their delivery is in the timeline (receiver and channel, not the address)
    timeline = client.get(f"{API}/incidents/{inc['incident_id']}", headers=tenancy.headers("emg_regulator")).json()
    pages = [e["text"] for e in timeline["timeline"] if e["kind"] == "page:ok"]
    assert sorted(pages) == sorted([f"{paging.robot} (wecom)", f"{paging.mail} (email)"])
    assert not any("@" in e["text"] for e in timeline["timeline"])
    # ticking step 1 off pages step 2: whoever the roster has on duty
    r = client.post(f"{API}/incidents/{inc['incident_id']}/steps/1/done", json={}, headers=tenancy.headers("operator"))
    assert r.status_code == 200, r.text
    step1 = r.json()["steps"][0]
    assert step1["done_by"] and step1["done_at"] is not None
    paging.deliver(db, tenancy.park_id)
    wait_until(lambda: len(smtp.mails) == 2, what="the on-duty person's mail for step 2")
    assert smtp.mails[1].rcpt_tos == [f"{paging.on_duty}@park.example"]
    again = client.post(
        f"{API}/incidents/{inc['incident_id']}/steps/1/done", json={}, headers=tenancy.headers("operator")
    )
    assert again.status_code == 409
    missing = client.post(
        f"{API}/incidents/{inc['incident_id']}/steps/9/done", json={}, headers=tenancy.headers("operator")
    )
    assert missing.status_code == 422 and missing.json()["field"] == "step_no"


def test_states_move_forward_and_closing_gives_the_after_action_report(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    op = tenancy.headers("operator")
    gas = raise_alarm(db, tenancy, "gd1", "lel-level2", 70)
    inc = open_from(client, tenancy, [gas])
    iid = inc["incident_id"]
    fire = raise_alarm(db, tenancy, "fa1", "fire-alarm", 1)
    assert client.post(f"{API}/incidents/{iid}/alarms", json={"alert_ids": [fire]}, headers=op).status_code == 200
    assert client.get(f"{API}/incidents/{iid}/report", headers=op).status_code == 409  # not closed yet
    for kind, text in (("action", "关闭C1区进料阀"), ("message", "已电话通知应急局"), ("note", "风向东南")):
        assert (
            client.post(f"{API}/incidents/{iid}/notes", json={"kind": kind, "text": text}, headers=op).status_code
            == 201
        )
    r = client.patch(f"{API}/incidents/{iid}", json={"level": 2, "commander": "李指挥"}, headers=op)
    assert (r.json()["level"], r.json()["commander"]) == (2, "李指挥")
    for to in ("responding", "controlled"):
        assert client.post(f"{API}/incidents/{iid}/state", json={"to": to}, headers=op).status_code == 200
    back = client.post(f"{API}/incidents/{iid}/state", json={"to": "responding"}, headers=op)
    assert back.status_code == 409 and "forward" in back.json()["detail"]
    closed = client.post(f"{API}/incidents/{iid}/state", json={"to": "closed", "note": "险情解除"}, headers=op).json()
    assert closed["state"] == "closed"
    assert closed["responding_at"] <= closed["controlled_at"] <= closed["closed_at"]
    late = client.post(f"{API}/incidents/{iid}/notes", json={"text": "too late"}, headers=op)
    assert late.status_code == 409
    report = client.get(f"{API}/incidents/{iid}/report", headers=op).json()
    durations = {d["label"].split(" ")[0]: d["seconds"] for d in report["durations"]}
    assert durations["首次报警→确认"] is not None and durations["首次报警→关闭"] >= durations["首次报警→控制"]
    timeline = next(s["tables"][0] for s in report["sections"] if s["title"].startswith("时间线"))
    texts = [row[3] for row in timeline["rows"]]
    assert "关闭C1区进料阀" in texts and "险情解除" in texts
    xlsx = client.get(f"{API}/incidents/{iid}/report", params={"format": "xlsx"}, headers=op)
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "概要 Summary"
    pdf = client.get(f"{API}/incidents/{iid}/report", params={"format": "pdf"}, headers=op)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")


def test_an_alarm_goes_into_one_open_incident_and_bad_input_is_named(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    op = tenancy.headers("operator")
    aid = raise_alarm(db, tenancy, "gd1", "lel-level2", 55)
    open_from(client, tenancy, [aid])
    twice = client.post(f"{API}/incidents", json={"alert_ids": [aid]}, headers=op)
    assert twice.status_code == 409
    for body, field in (
        ({"alert_ids": []}, "alert_ids"),
        ({"alert_ids": [aid], "level": 5}, "level"),
        ({"alert_ids": [aid], "surprise": 1}, "surprise"),
    ):
        r = client.post(f"{API}/incidents", json=body, headers=op)
        assert r.status_code == 422 and field in r.json()["detail"], r.text
    nobody = client.post(f"{API}/incidents", json={"alert_ids": [2**62]}, headers=op)
    assert nobody.status_code == 422 and nobody.json()["field"] == "alert_ids"
    put = f"{API}/parks/{tenancy.park_id}/hazards"
    unknown = client.put(put, json=hazard_body(substances=[{"substance": "unobtainium", "quantity_t": 1}]), headers=op)
    assert unknown.status_code == 422 and unknown.json()["field"] == "substances"
    assert "threshold_t" in unknown.json()["detail"]
    device = client.put(put, json=hazard_body(devices=["nope"]), headers=op)
    assert device.status_code == 422 and device.json()["field"] == "devices"
    steps = client.put(f"{API}/parks/{tenancy.park_id}/plans", json={"code": "x", "name": "x", "incident_type": "fire",
                                                                      "steps": []}, headers=op)  # fmt: skip
    assert steps.status_code == 422 and "steps" in steps.json()["detail"]


def test_drills_follow_the_workflow_but_stay_out_of_the_statistics(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    op = tenancy.headers("operator")
    drill = open_from(client, tenancy, [raise_alarm(db, tenancy, "gd1", "lel-level2", 51)], drill=True)
    assert drill["drill"] and drill["steps"]
    assert (
        client.post(f"{API}/incidents/{drill['incident_id']}/state", json={"to": "closed"}, headers=op).status_code
        == 200
    )
    stats = client.get(f"{API}/statistics", params={"park_id": tenancy.park_id}, headers=op).json()
    assert stats["drills_excluded"] and stats["rows"] == []
    real = open_from(client, tenancy, [raise_alarm(db, tenancy, "fa1", "fire-alarm", 1)], incident_type="fire")
    assert real["plan_name"] is None  # the park has no fire plan: an incident without steps
    rows = client.get(f"{API}/statistics", params={"park_id": tenancy.park_id}, headers=op).json()["rows"]
    assert [(r["incident_type"], r["incidents"]) for r in rows] == [("fire", 1)]
    listed = client.get(f"{API}/incidents", params={"drill": "true"}, headers=op).json()["items"]
    assert [i["incident_id"] for i in listed if i["park_id"] == tenancy.park_id] == [drill["incident_id"]]


def test_nearest_resources_and_the_zones_readings(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    aid = raise_alarm(db, tenancy, "gd1", "lel-level2", 60)
    inc = open_from(client, tenancy, [aid])
    assert [r["code"] for r in inc["nearest_resources"]] == ["e1-scba", "e1-team", "park-foam"]
    did = device_id(db, tenancy.e1, "gd1")
    (mid,) = db.execute("SELECT metric_id FROM metrics WHERE code = 'safety.lel_pct'").fetchone()  # type: ignore[misc]
    now = int(time.time() * 1000)
    store_readings(db, [(did, mid, now - 60_000, 10.0), (did, mid, now - 30_000, 35.0), (did, mid, now - 1000, 60.0)])
    got = client.get(f"{API}/incidents/{inc['incident_id']}/readings", headers=tenancy.headers("operator")).json()
    (series,) = [s for s in got["series"] if s["device"] == "gd1" and s["metric"] == "safety.lel_pct"]
    assert [p[1] for p in series["points"]] == [10.0, 35.0, 60.0]
