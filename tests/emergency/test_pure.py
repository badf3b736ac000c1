"""The pure parts of emergency management: states, nearness, the opening rule's match, photo
checks, the after-action report and its renderers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from emergency import after_action, nearest, notify, photos, rule
from emergency.states import StateError, check_move, reached
from reports import render_pdf, render_xlsx

T0 = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def test_states_move_forward_only_and_closed_is_final() -> None:
    check_move("reported", "responding")
    check_move("reported", "controlled")  # contained before the teams arrived
    with pytest.raises(StateError, match="forward"):
        check_move("controlled", "responding")
    with pytest.raises(StateError, match="forward"):
        check_move("responding", "responding")
    with pytest.raises(StateError, match="closed"):
        check_move("closed", "closed")
    with pytest.raises(StateError, match="not one of"):
        check_move("reported", "solved")


def test_a_skipped_state_takes_the_time_of_the_move() -> None:
    assert reached("controlled") == ("responding_at", "controlled_at")
    assert reached("responding") == ("responding_at",)


def test_nearest_resources_rank_by_zone_then_enterprise_then_park() -> None:
    res = [
        {"code": "park-foam", "kind": "supply", "enterprise_id": None, "zone": ""},
        {"code": "e1-team", "kind": "team", "enterprise_id": 1, "zone": "B1"},
        {"code": "e1-scba", "kind": "equipment", "enterprise_id": 1, "zone": "C1"},
        {"code": "e2-team", "kind": "team", "enterprise_id": 2, "zone": "C1"},
        {"code": "park-c1", "kind": "equipment", "enterprise_id": None, "zone": "C1"},
        {"code": "e1-sand", "kind": "supply", "enterprise_id": 1, "zone": "C1"},
    ]
    ranked = nearest.nearest(res, enterprise_id=1, zone="C1")
    assert [r["code"] for r in ranked] == ["e1-scba", "e1-sand", "e1-team", "park-c1", "park-foam", "e2-team"]
    assert [r["rank"] for r in ranked][:3] == ["same_zone", "same_zone", "same_enterprise"]


def _alarm(aid: int, metric: str, severity: str, zone: str = "C1", ent: int | None = 1) -> dict[str, Any]:
    return {"alert_id": aid, "park_id": 7, "enterprise_id": ent, "zone": zone, "metric": metric, "severity": severity}


def test_the_rule_needs_a_second_level_gas_alarm_and_a_fire_alarm_in_one_zone() -> None:
    gas2, gas1 = _alarm(1, "safety.lel_pct", "critical"), _alarm(2, "safety.lel_pct", "major")
    fire, fire_b = _alarm(3, "safety.fire_alarm", "critical"), _alarm(4, "safety.fire_alarm", "critical", zone="B1")
    assert rule.matches([gas2, fire]) == [(7, [1, 3])]
    assert rule.matches([gas1, fire]) == []  # first level only
    assert rule.matches([gas2, fire_b]) == []  # another zone
    assert rule.matches([gas2, _alarm(5, "safety.fire_alarm", "critical", ent=2)]) == []  # another enterprise
    assert rule.matches([gas2, gas1, fire]) == [(7, [1, 2, 3])]  # the zone's alarms go in with them
    assert rule.matches([gas2]) == []


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32


def test_photos_are_checked_by_type_and_bytes() -> None:
    assert photos.check("image/png", PNG) == "image/png"
    assert photos.check("image/jpeg; charset=binary", JPEG) == "image/jpeg"
    with pytest.raises(photos.PhotoError) as e:
        photos.check("text/html", b"<html>")
    assert e.value.field == "content-type"
    with pytest.raises(photos.PhotoError, match="not a image/png"):
        photos.check("image/png", JPEG)
    with pytest.raises(photos.PhotoError, match="limited to 10 bytes"):
        photos.check("image/png", PNG, max_bytes=10)
    with pytest.raises(photos.PhotoError, match="empty"):
        photos.check("image/png", b"")
    with pytest.raises(photos.PhotoError):
        photos.check("image/webp", b"RIFF\0\0\0\0WAVEfmt ")


def test_stored_photos_are_private(tmp_path: Any) -> None:
    name, digest = photos.store(tmp_path / "p", "image/png", PNG)
    path = tmp_path / "p" / name
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "p").stat().st_mode & 0o777 == 0o700
    assert name.endswith(".png") and len(digest) == 64
    with pytest.raises(ValueError):
        photos.path_of(tmp_path, "../etc/passwd")


def incident(**kw: Any) -> dict[str, Any]:
    base = {
        "incident_id": 9, "title": "液氯储罐泄漏", "park_name": "测试园区", "enterprise_name": "测试化工",
        "hazard_code": "cl-tank", "hazard_name": "液氯储罐区", "zone": "C1", "incident_type": "gas_leak", "level": 3,
        "state": "closed", "commander": "王队长", "drill": False, "plan_name": "泄漏预案", "timezone": "Asia/Shanghai",
        "first_alarm_at": T0, "opened_at": T0 + timedelta(seconds=40), "responding_at": T0 + timedelta(minutes=5),
        "controlled_at": T0 + timedelta(minutes=70), "closed_at": T0 + timedelta(hours=2), "rule": None,
    }  # fmt: skip
    return {**base, **kw}


def report_data(events: int = 50, **kw: Any) -> dict[str, Any]:
    alarm = {
        "alert_id": 1, "started_at": T0, "device_code": "gd1", "metric": "safety.lel_pct", "severity": "critical",
        "value": 62.0, "acknowledged_at": T0 + timedelta(seconds=25),
    }  # fmt: skip
    return {
        "incident": incident(**kw),
        "alarms": [alarm],
        "steps": [
            {"step_no": 1, "title": "疏散", "role": "值班长", "done_at": T0 + timedelta(minutes=3), "done_by": "li"}
        ],
        "events": [
            {"at": T0 + timedelta(minutes=2 * i), "kind": "note", "by": "li", "text": f"处置记录 {i}"}
            for i in range(events)
        ],
        "readings": [
            {"device_code": "gd1", "metric": "safety.lel_pct", "n": 720, "min": 0.0, "max": 62.0, "last": 1.0,
             "max_at": T0}
        ],
    }  # fmt: skip


def _seconds(data: dict[str, Any]) -> list[float | None]:
    return [s for _, s in after_action.durations(data["incident"], data["alarms"])]


def test_durations_run_from_the_first_alarm() -> None:
    data = report_data()
    assert _seconds(data) == [25.0, 300.0, 4200.0, 7200.0]  # ack 25 s, response 5 min …
    assert after_action.clock(4200.0) == "1:10:00"
    summary = after_action.build(data).sections[0].tables[1]
    assert [row[1:] for row in summary.rows] == [
        ("0:00:25", 25),
        ("0:05:00", 300),
        ("1:10:00", 4200),
        ("2:00:00", 7200),
    ]
    # opened by the rule with no alarm acknowledged: no acknowledgement yet
    data = report_data(rule="gas-level2-and-fire")
    data["alarms"][0]["acknowledged_at"] = None
    assert _seconds(data)[0] is None
    # opened by a person: the opening is the acknowledgement
    data["incident"]["rule"] = None
    assert _seconds(data)[0] == 40.0


def test_the_report_is_a_shared_report_rendered_as_xlsx_and_pdf() -> None:
    r = after_action.build(report_data())
    assert [s.title for s in r.sections] == [
        "概要 Summary", "报警 Alarms", "预案步骤 Plan steps", "读数 Readings", after_action.TIMELINE,
    ]  # fmt: skip
    book = load_workbook(io.BytesIO(render_xlsx.render(r)))
    assert book.sheetnames[0] == "概要 Summary"
    rows = [tuple(c.value for c in row) for row in book.worksheets[-1].iter_rows()]
    head = rows.index(("时间 at", "类型 kind", "人 by", "内容 text"))
    events = rows[head + 1 :]
    assert len(events) == 50 and events[0][3] == "处置记录 0"
    assert events[0][0] == "2026-12-06 10:00:00"  # the park's clock (UTC+8)
    alarms = [tuple(c.value for c in row) for row in book["报警 Alarms"].iter_rows()]
    assert (1, "2026-12-06 10:00:00", "gd1", "safety.lel_pct", "critical", 62.0, "2026-12-06 10:00:25") in alarms
    pdf = render_pdf.render(r)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5000
    answer = after_action.as_json(report_data())
    assert answer["durations"][1] == {"label": "首次报警→响应 first alarm → response", "seconds": 300.0}
    timeline = answer["sections"][-1]["tables"][0]
    assert timeline["columns"][3] == "内容 text" and len(timeline["rows"]) == 50


def test_a_page_says_it_is_an_incident_and_a_drill() -> None:
    text = notify.headline(incident(drill=True, level=2), 1, {"title": "疏散"})
    assert text.startswith("【演练】【应急事件 #9 II级(重大)】液氯储罐泄漏")
    assert "步骤1: 疏散" in text


def test_a_registry_file_names_each_code_once_and_every_bad_field() -> None:
    from pydantic import ValidationError

    from emergency.definitions import EmergencyModel

    hazard = {"code": "h1", "name": "罐区", "responsible": {"name": "张工"}}
    with pytest.raises(ValidationError, match=r"codes \['h1'\] appear more than once"):
        EmergencyModel.model_validate({"park": "p", "hazards": [hazard, hazard]})
    with pytest.raises(ValidationError) as e:
        EmergencyModel.model_validate(
            {"park": "p", "hazards": [{**hazard, "substances": [{"substance": "chlorine", "quantity_t": -1}]}]}
        )
    assert "hazards.0.substances.0.quantity_t" in str(e.value)
    with pytest.raises(ValidationError, match="responsible"):
        EmergencyModel.model_validate({"park": "p", "hazards": [{"code": "h2", "name": "x"}]})


def test_an_incident_is_named_in_chinese_by_its_hazard_and_what_went_out_of_limits() -> None:
    from emergency.incidents import default_title

    gas = {"metric": "safety.lel_pct", "summary": "combustible gas second-level alarm"}
    assert default_title(gas, {"hazard_name": "液氯储罐区"}) == "液氯储罐区: 可燃气体浓度超限"
    assert default_title({"metric": "x.unknown"}, None) == "x.unknown超限"
