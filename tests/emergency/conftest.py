"""Emergency fixtures: the API's app and tenancy, the paging tests' local SMTP and robot
servers, real alarms (through alerting's store) and a park's hazard, plan and receivers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alerting import alarm_store, paging_store, routing_store
from alerting.metrics import AlertingMetrics
from alerting.paging import LinkSettings, Pager
from alerting.rules import by_id, default_rules
from api.app import DASHBOARD_DIR, create_app
from benchmarks.paging_endpoints import PlatformServer, SmtpServer
from smartpark.settings import ApiSettings, Settings
from smartpark.webhook_targets import TargetPolicy
from tests.alerting.conftest import cert, platforms, smtp  # noqa: F401  (the paging tests' servers)
from tests.api.conftest import Tenancy, api_limits, client, device_id, tenancy  # noqa: F401
from tests.support.browser import _wait_http
from tests.support.ports import free_port

RULES = by_id(default_rules())


def raise_alarm(
    db: psycopg.Connection[Any], t: Tenancy, device: str, rule_id: str, value: float, ent: str = "e1"
) -> int:
    """A firing alarm as the evaluator opens one (alerting.alarm_store.open_alert)."""
    eid = t.e1
    did = device_id(db, eid, device)
    rule = RULES[rule_id]
    aid = alarm_store.open_alert(
        db,
        rule=rule,
        series_key=f"d:{did}",
        ids=alarm_store.SeriesIds(t.park_id, eid, did, None),
        state="firing",
        at_ms=int(time.time() * 1000),
        value=value,
        labels={"alertname": rule_id, "severity": rule.severity, "device": device, "zone": "C1"},
    )
    assert aid is not None
    return aid


@dataclass(frozen=True, slots=True)
class Paging:
    robot: str
    mail: str
    lead: str
    on_duty: str
    pager: Pager

    def deliver(self, db: psycopg.Connection[Any], park_id: int) -> None:
        """One delivery pass of the park's receivers, as the alerting service's makes."""
        metrics = AlertingMetrics.create(CollectorRegistry())
        for r in routing_store.fetch_receivers(db, park_ids=[park_id])[0]:
            self.pager.deliver(db, r, metrics)


@pytest.fixture
def paging(db: psycopg.Connection[Any], tenancy: Tenancy, platforms: PlatformServer, smtp: SmtpServer) -> Paging:  # noqa: F811
    pid = tenancy.park_id
    robot, mail = f"wecom-em-{pid}", f"mail-em-{pid}"
    routing_store.create_receiver(
        db, name=robot, park_id=pid, categories=["energy"], channel="wecom", url=f"{platforms.base}/wecom/send",
        secrets={"key": platforms.creds.wecom_key},
    )  # fmt: skip
    routing_store.create_receiver(
        db, name=mail, park_id=pid, categories=["energy"], channel="email", config=smtp.receiver_config(to=[]),
        secrets={"password": smtp.password},
    )  # fmt: skip
    lead, duty = f"lead-{pid}", f"duty-{pid}"
    paging_store.create_contact(db, name=lead, park_id=pid, email=f"{lead}@park.example", phone=None)
    paging_store.create_contact(db, name=duty, park_id=pid, email=f"{duty}@park.example", phone=None)
    paging_store.save_roster(
        db, name=f"roster-{pid}", park_id=pid,
        definition={"rotation": "daily", "start": "2026-01-01", "members": [duty]},
    )  # fmt: skip
    pager = Pager(
        links=LinkSettings(None, "https://p.example", 3600),
        targets=TargetPolicy.from_cidrs(["127.0.0.0/8"]),  # the local servers, allowed explicitly
    )
    return Paging(robot, mail, lead, duty, pager)


def hazard_body(**kw: Any) -> dict[str, Any]:
    return {
        "code": "cl-tank", "name": "液氯储罐区", "enterprise": "e1", "kind": "major_hazard", "unit_kind": "storage",
        "substances": [{"substance": "chlorine", "quantity_t": 30}], "exposed_people": 120, "zone": "C1",
        "plan_x": 0.4, "plan_y": 0.6, "responsible": {"name": "张工", "phone": "13800000001"}, "devices": ["gd1"],
        "incident_type": "gas_leak", **kw,
    }  # fmt: skip


def plan_body(p: Paging | None, pid: int) -> dict[str, Any]:
    notify1 = {"receivers": [p.robot, p.mail], "contacts": [p.lead]} if p else {}
    notify2 = {"receivers": [p.mail], "rosters": [f"roster-{pid}"]} if p else {}
    return {
        "code": "leak", "name": "危化品泄漏预案", "incident_type": "gas_leak", "hazard_codes": ["cl-tank"],
        "steps": [
            {"title": "确认泄漏并报告", "role": "值班长", "checklist": ["确认报警", "通知指挥"], "notify": notify1},
            {"title": "疏散C1区", "role": "安全员", "checklist": ["清点人数"], "notify": notify2},
            {"title": "堵漏", "role": "抢险队"},
        ],
    }  # fmt: skip


@pytest.fixture
def registry(client: TestClient, tenancy: Tenancy, paging: Paging) -> dict[str, Any]:  # noqa: F811
    pid, op = tenancy.park_id, tenancy.headers("operator")
    hazard = client.put(f"/api/v1/emergency/parks/{pid}/hazards", json=hazard_body(), headers=op)
    assert hazard.status_code == 200, hazard.text
    plan = client.put(f"/api/v1/emergency/parks/{pid}/plans", json=plan_body(paging, pid), headers=op)
    assert plan.status_code == 200, plan.text
    for code, kind, ent, zone in (("e1-team", "team", "e1", "B1"), ("e1-scba", "equipment", "e1", "C1"),
                                  ("park-foam", "supply", None, "")):  # fmt: skip
        body = {"code": code, "name": code, "kind": kind, "enterprise": ent, "quantity": 4, "unit": "套", "zone": zone}
        r = client.put(f"/api/v1/emergency/parks/{pid}/resources", json=body, headers=op)
        assert r.status_code == 200, r.text
    return {"hazard": hazard.json(), "plan": plan.json()}


@pytest.fixture
def photo_dir(client: TestClient, tmp_path: Path) -> Iterator[Path]:  # noqa: F811
    client.app.state.emergency_files_dir = tmp_path / "photos"  # type: ignore[attr-defined]
    yield tmp_path / "photos"
    client.app.state.emergency_files_dir = None  # type: ignore[attr-defined]


@pytest.fixture
def server(settings: Settings, db_url: str, api_limits: ApiSettings) -> Iterator[str]:  # noqa: F811
    """The API with the pages on a real port (uvicorn in a thread), for the browser tests."""
    port = free_port()
    app = create_app(settings, limits=api_limits, database_url=db_url, static_dir=DASHBOARD_DIR)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    _wait_http(url + "healthz", 30)
    yield url
    srv.should_exit = True
    thread.join(10)


def signed_in_page(browser: Any, key: str, width: int, height: int) -> tuple[Any, list[str]]:
    """A page of a new browser context in London (the park is in Shanghai) signed in with the
    key as the tab's own, and the script errors it raises."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, timezone_id="Europe/London")
    ctx.add_init_script(f"sessionStorage.setItem('smartpark.apiKey', '{key}');")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors
