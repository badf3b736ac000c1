"""The page's paging parts in headless Chromium: an alarm's notification log (every attempt:
channel, target masked as the API masks it, result, latency, time in the park's zone) and the
"on duty now" panel of the safety view, in Chinese and English.

The platform here is the API alone (a supervisor child, as `smartpark up` runs it) over a park of
its own; the alarm, its delivery attempts and escalation, and the rosters are written through
their owner modules, as the alerting service writes them. The browser runs in Europe/London for
a park in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml

from alerting import paging_store, routing_store
from operations.preparation import run_step
from smartpark.settings import Settings
from tests.api.conftest import device_id
from tests.api.test_alarms import _alarm
from tests.support.browser import (
    ARTIFACTS,
    DOC_SHOTS,
    Platform,
    _cold_page,
    _log,
    add_user,
    api_alone,
    shot,
    wait_js,
)
from tests.support.factories import small_model, unique_code

pytestmark = [pytest.mark.browser, pytest.mark.integration]
ZONE = "Asia/Shanghai"
# what the alerting service logged: several targets of one message are joined by ", "
ATTEMPTS = [
    ("mail", "email", "duty@park.example, lead@park.example", "ok", None, 412.0, 1),
    ("sms", "sms", "+8613800000001", "error",
     'tencent refused 1 of 1 numbers: [{"PhoneNumber": "+8613800000001", "Code": "LimitExceeded"}]', 96.4, 1),
    ("ding", "dingtalk", "https://oapi.dingtalk.com/robot/send", "ok", None, 230.25, 3),
]  # fmt: skip
MASKED = ["d***@park.example, l***@park.example", "+86138****0001", "https://oapi.dingtalk.com/…"]


@dataclass(frozen=True, slots=True)
class Paged:
    platform: Platform
    alert_id: int
    attempts_at: list[datetime]  # as stored, in the log's order


@pytest.fixture(scope="module")
def paged(settings: Settings) -> Iterator[Paged]:
    code = unique_code("pg")
    model = small_model(code)
    logs = ARTIFACTS / "logs" / code
    logs.mkdir(parents=True, exist_ok=True)
    model_path = logs / "park.yaml"
    model_path.write_text(yaml.safe_dump(model, allow_unicode=True))
    run_step("registry", ("registry", "load", str(model_path)), log_dir=logs, say=_log, attempts=3)
    # the park's operator: an admin's page opens the first park of the database, which the
    # folder's other tests share
    admin = add_user("operator", f"{code}-op", "operator", "--park", code, logs=logs)
    reg = add_user("regulator", f"{code}-em", "regulator", "--park", code, "--bureau", "emergency", logs=logs)
    with psycopg.connect(settings.database_url or "", autocommit=True) as db:
        park_id, alert_id, at = _paging_history(db, code)
        ents = dict(db.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (park_id,)).fetchall())
    with api_alone(logs) as url:
        yield Paged(Platform(url, code, park_id, ents, admin, "", reg, model_path, model), alert_id, at)


def _paging_history(db: psycopg.Connection[Any], code: str) -> tuple[int, int, list[datetime]]:
    """A gas alarm on e1's detector with three delivery attempts and an escalation at level 1;
    two rosters: one by rotation, one with an override covering now."""
    park_id, e1 = db.execute(
        "SELECT p.park_id, e.enterprise_id FROM parks p JOIN enterprises e USING (park_id)"
        " WHERE p.code = %s AND e.code = 'e1'",
        (code,),
    ).fetchone()  # type: ignore[misc]
    aid = _alarm(
        db,
        park_id=park_id,
        enterprise_id=e1,
        device_id=device_id(db, e1, "gd1"),
        metric="safety.lel_pct",
        category="safety",
        rule="lel-level1",
    )
    for name, channel, target, result, error, latency, carried in ATTEMPTS:
        rid = routing_store.create_receiver(
            db, name=f"{name}-{code}", park_id=park_id, categories=["safety"], channel=channel, enabled=False
        )
        paging_store.log_attempt(
            db,
            receiver_id=rid,
            channel=channel,
            target=target,
            budget_key=f"receiver:{rid}",
            notification_ids=[1],
            alert_ids=[aid, *range(10**12, 10**12 + carried - 1)],
            result=result,
            error=error,
            latency_ms=latency,
        )
    policy = paging_store.save_policy(
        db,
        name=f"gas-{code}",
        park_id=park_id,
        matchers=[f"park={code}"],
        definition={"levels": [{"after_min": 0, "receivers": [f"mail-{code}"]}]},
    )
    firing_at = db.execute("SELECT firing_at FROM alerts WHERE alert_id = %s", (aid,)).fetchone()[0]  # type: ignore[index]
    paging_store.start_escalations(db, rows=[(aid, policy, firing_at)])
    paging_store.advance_escalation(
        db, alert_id=aid, policy_id=policy, level=1, next_at=firing_at + timedelta(minutes=10), repeats=0, why=""
    )
    today = datetime.now(ZoneInfo(ZONE))
    paging_store.save_roster(
        db,
        name=f"day-{code}",
        park_id=park_id,
        definition={"rotation": "daily", "handoff": "08:00", "start": "2026-01-01", "members": [f"li-{code}"]},
    )
    local = "%Y-%m-%dT%H:%M"
    override = {
        "start": (today - timedelta(days=1)).strftime(local),
        "end": (today + timedelta(days=1)).strftime(local),
        "member": f"zhao-{code}",
    }
    paging_store.save_roster(
        db,
        name=f"night-{code}",
        park_id=park_id,
        definition={
            "rotation": "weekly",
            "handoff": "20:00",
            "start": "2026-01-05",
            "members": [f"wang-{code}"],
            "overrides": [override],
        },
    )
    logged = db.execute("SELECT at FROM notify_attempts WHERE %s = ANY(alert_ids) ORDER BY attempt_id", (aid,))
    at = [r[0] for r in logged]
    return park_id, aid, at


def _open_log(page: Any, alert_id: int) -> None:
    page.locator(f"tr[data-alarm-row='{alert_id}'] button.detail").click()
    page.wait_for_selector(f"#alarm-detail[data-alarm='{alert_id}'][data-loaded]", timeout=30_000)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_notification_log_and_who_is_on_duty(browser: Any, paged: Paged, lang: str) -> None:
    p = paged.platform
    ctx, page, errors = _cold_page(browser, p, 1366, 768, lang)
    try:
        page.goto(f"{p.url}#/safety")
        page.wait_for_selector("#view[data-view='safety'][data-ready='1']", timeout=60_000)

        # on duty now: one row per roster, the override winning over the rotation
        duty = {r.get_attribute("data-member"): r.inner_text() for r in page.locator("#on-duty tr[data-roster]").all()}
        code = p.park_code
        assert set(duty) == {f"li-{code}", f"zhao-{code}"}, (duty, page.inner_text("#view")[:600], errors)
        rotation, override = ("轮班", "临时替班") if lang == "zh" else ("Rotation", "Override")
        assert rotation in duty[f"li-{code}"] and override in duty[f"zhao-{code}"]
        assert ("当前值班" if lang == "zh" else "On duty now") in page.inner_text("#view")

        # the alarm's notification log: every attempt, targets masked, times in the park's zone
        _open_log(page, paged.alert_id)
        rows = page.locator("#alarm-detail tr[data-attempt]").all()
        assert len(rows) == len(ATTEMPTS)
        for row, (_, _, _, result, _, latency, carried), masked, at in zip(
            rows, ATTEMPTS, MASKED, paged.attempts_at, strict=True
        ):
            cells = [c.inner_text() for c in row.locator("td").all()]
            assert cells[0] == at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S"), (cells, at)
            assert cells[3] == masked
            assert row.get_attribute("data-result") == result
            assert cells[5] == f"{latency:.0f} ms" and cells[6] == str(carried)
        text = page.inner_text("#alarm-detail")
        for raw in ("duty@park.example", "8613800000001", "/robot/send"):
            assert raw not in text, raw  # neither in the targets nor in the error
        assert "UTC+08:00" in text
        labels = (
            ("通知记录", "短信", "失败", "成功", "升级")
            if lang == "zh"
            else ("Notification log", "SMS", "Failed", "Delivered", "Escalation")
        )
        for label in labels:
            assert label in text, label
        escalation = page.locator(f"#alarm-detail tr[data-policy='gas-{code}'] td").all_inner_texts()
        assert escalation[1:3] == ["1", "0"], escalation
        page.screenshot(path=str(DOC_SHOTS / f"paging-log-{lang}-1366.png"))
        shot(page, f"paging-log-{lang}")
        page.locator("#alarm-detail button.close").click()
        wait_js(page, "!document.querySelector('#alarm-detail')", 10)
        assert not errors, errors
    finally:
        ctx.close()


def test_a_regulator_reads_the_log_but_sees_no_rosters(browser: Any, paged: Paged) -> None:
    """Rosters are operators' data (GET /notify/on-duty answers 403 to others): no panel; the
    log is whoever may see the alarm's."""
    p = paged.platform
    ctx, page, errors = _cold_page(browser, replace(p, admin_key=p.regulator_key), 1366, 768, "zh")
    try:
        page.goto(f"{p.url}#/safety")
        page.wait_for_selector("#view[data-view='safety'][data-ready='1']", timeout=60_000)
        assert page.locator("#on-duty").count() == 0
        _open_log(page, paged.alert_id)
        assert page.locator("#alarm-detail tr[data-attempt]").count() == len(ATTEMPTS)
        assert "+86138****0001" in page.inner_text("#alarm-detail")
        assert not errors, errors
    finally:
        ctx.close()
