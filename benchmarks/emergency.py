"""`smartpark bench emergency`: opening an incident end to end, and the after-action report.

Real parts throughout: a scratch database, the API app in this process (an in-process HTTP
client), alerting's delivery thread with its paging channels (as `smartpark alerting` runs it,
polling the outbox every 0.5 s), a local SMTP server (STARTTLS, AUTH) and a local WeCom robot
endpoint that checks its key.

1. Opening: ``--runs`` times, a second-level gas alarm on a monitored device, then
   ``POST /emergency/incidents`` from it; timed from the request to the API's answer (the plan
   instantiated, the first step's pages queued) and to the robot's post and the person's mail
   arriving (the first notifications sent). Runs stay within the robot's 20 and a person's 10
   messages a minute.
2. Report: an incident whose first alarm is 2 hours old, with 50 timeline events and 2 hours of
   readings of its zone (5 detectors every 10 s), closed; then its after-action report as JSON,
   XLSX and PDF through the API, each timed.
Prints a table, then one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.harness import scratch_db
from benchmarks.paging_endpoints import PlatformServer, SmtpServer, self_signed

DETECTORS = 5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=8, help="incidents opened (1..9: the budgets per minute)")
    parser.set_defaults(func=main)


def _model(runs: int) -> dict[str, Any]:
    devices = [{"code": f"gd{i:02d}", "kind": "gas_detector", "zone": "C1"} for i in range(max(runs, DETECTORS))]
    devices.append({"code": "fa1", "kind": "fire_alarm", "zone": "C1"})
    ent = {"code": "e1", "name": "化工", "industry": "coal_chemical", "gateways": [{"code": "gw1", "devices": devices}]}
    return {"parks": [{"code": "emgb", "name": "应急基准园区", "timezone": "Asia/Shanghai", "enterprises": [ent]}]}


def _setup(conn: psycopg.Connection[Any], platforms: PlatformServer, smtp: SmtpServer, runs: int) -> dict[str, Any]:
    from alerting import paging_store, routing_store
    from api.auth import Role
    from api.queries import users
    from emergency import registry_store
    from emergency.definitions import HazardIn, PlanIn
    from smartpark.registry import load_model

    with conn.transaction():
        load_model(conn, _model(runs))
    row = conn.execute("SELECT park_id FROM parks WHERE code = 'emgb'").fetchone()
    assert row is not None
    park_id = int(row[0])
    routing_store.create_receiver(
        conn, name="robot", park_id=park_id, categories=["energy"], channel="wecom",
        url=f"{platforms.base}/wecom/send", secrets={"key": platforms.creds.wecom_key},
    )  # fmt: skip
    routing_store.create_receiver(
        conn, name="mail", park_id=park_id, categories=["energy"], channel="email",
        config=smtp.receiver_config(to=[]), secrets={"password": smtp.password},
    )  # fmt: skip
    paging_store.create_contact(conn, name="lead", park_id=park_id, email="lead@park.example", phone=None)
    codes = [f"gd{i:02d}" for i in range(max(runs, DETECTORS))]
    hazard = HazardIn.model_validate({
        "code": "cl-tank", "name": "液氯储罐区", "enterprise": "e1", "zone": "C1", "exposed_people": 120,
        "substances": [{"substance": "chlorine", "quantity_t": 30}], "responsible": {"name": "张工"}, "devices": codes,
    })  # fmt: skip
    steps = [
        {"title": "确认并报告", "role": "值班长", "notify": {"receivers": ["robot", "mail"], "contacts": ["lead"]}}
    ]
    steps += [{"title": f"处置步骤 {i}", "role": "抢险队", "checklist": ["检查"] * 5} for i in range(2, 11)]
    plan = PlanIn.model_validate({"code": "leak", "name": "泄漏预案", "incident_type": "gas_leak", "steps": steps})
    with conn.transaction():
        registry_store.save_hazard(conn, park_id=park_id, hazard=hazard)
        registry_store.save_plan(conn, park_id=park_id, plan=plan)
    user = users.create_user(conn, name="bench-operator", role=Role.OPERATOR, park_id=park_id)
    made, _ = users.create_key(conn, user_id=user["user_id"])
    return {"park_id": park_id, "key": made.key}


def _alarm(conn: psycopg.Connection[Any], park_id: int, device: str, rule_id: str, at_ms: int) -> int:
    from alerting import alarm_store
    from alerting.rules import by_id, default_rules

    rule = by_id(default_rules())[rule_id]
    row = conn.execute(
        "SELECT device_id, enterprise_id FROM devices JOIN enterprises USING (enterprise_id)"
        " WHERE park_id = %s AND devices.code = %s",
        (park_id, device),
    ).fetchone()
    assert row is not None
    aid = alarm_store.open_alert(
        conn, rule=rule, series_key=f"d:{row[0]}", ids=alarm_store.SeriesIds(park_id, row[1], row[0], None),
        state="firing", at_ms=at_ms, value=60.0, labels={"alertname": rule_id, "severity": rule.severity},
    )  # fmt: skip
    assert aid is not None
    return aid


def _deliverer(url: str) -> Any:
    from prometheus_client import CollectorRegistry

    from alerting import routing_store
    from alerting.delivery import Deliverer, Sender
    from alerting.metrics import AlertingMetrics
    from alerting.paging import LinkSettings, Pager
    from smartpark.webhook_targets import TargetPolicy

    local = TargetPolicy.from_cidrs(["127.0.0.0/8"])  # the local endpoints, allowed explicitly

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(url, autocommit=True)

    with connect() as conn:
        receivers = {r.receiver_id: r for r in routing_store.fetch_receivers(conn)[0]}
    return Deliverer(
        connect=connect, sender=Sender(targets=local), receivers=lambda: receivers,
        metrics=AlertingMetrics.create(CollectorRegistry()),
        pager=Pager(links=LinkSettings(None, "https://p.example", 3600), connect=connect, targets=local),
    )  # fmt: skip


def _wait(cond: Any, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("the pages did not arrive")
        time.sleep(0.002)
    return time.perf_counter()


def _opening(
    conn: Any, client: Any, s: dict[str, Any], platforms: PlatformServer, smtp: SmtpServer, runs: int
) -> dict[str, Any]:
    api_ms, e2e_ms = [], []
    headers = {"X-API-Key": s["key"]}
    for i in range(runs):
        aid = _alarm(conn, s["park_id"], f"gd{i:02d}", "lel-level2", int(time.time() * 1000))
        robots, mails = len(platforms.of("wecom")), len(smtp.mails)
        t0 = time.perf_counter()
        r = client.post("/api/v1/emergency/incidents", json={"alert_ids": [aid]}, headers=headers)
        t1 = time.perf_counter()
        assert r.status_code == 201, r.text
        t2 = max(_wait(lambda n=robots: len(platforms.of("wecom")) > n), _wait(lambda n=mails: len(smtp.mails) > n))
        api_ms.append((t1 - t0) * 1000)
        e2e_ms.append((t2 - t0) * 1000)
        time.sleep(0.3)
    runs_ms = [round(x) for x in e2e_ms]
    e2e_ms.sort()
    return {
        "open_api_ms_each": [round(x) for x in api_ms],
        "open_to_pages_ms_each": runs_ms,
        "open_api_ms_median": round(sorted(api_ms)[len(api_ms) // 2], 1),
        "open_to_pages_ms_median": round(e2e_ms[len(e2e_ms) // 2], 1),
        "open_to_pages_ms_max": round(e2e_ms[-1], 1),
    }


def _report(conn: Any, client: Any, s: dict[str, Any]) -> dict[str, Any]:
    from emergency import incident_store
    from emergency.incidents import Opening, open_incident

    now = datetime.now(UTC)
    start = now - timedelta(hours=2)
    aid = _alarm(conn, s["park_id"], "fa1", "fire-alarm", int(start.timestamp() * 1000))
    iid = open_incident(conn, Opening(park_id=s["park_id"], alert_ids=(aid,), by="bench", incident_type="gas_leak"))
    with conn.transaction():
        for k in range(50):
            at = start + timedelta(seconds=144 * k)
            incident_store.add_event(conn, incident_id=iid, kind="action", by="bench", text=f"处置记录 {k}", at=at)
    conn.execute(
        "INSERT INTO telemetry (ts, device_id, metric_id, value, flag)"
        " SELECT %s + g * interval '10 seconds', d.device_id, m.metric_id, random() * 60, 0"
        " FROM generate_series(0, 719) g, devices d, metrics m"
        " WHERE d.code LIKE 'gd%%' AND d.code <= %s AND m.code = 'safety.lel_pct'",
        (start, f"gd{DETECTORS - 1:02d}"),
    )
    headers = {"X-API-Key": s["key"]}
    for to in ("responding", "controlled", "closed"):
        client.post(f"/api/v1/emergency/incidents/{iid}/state", json={"to": to}, headers=headers)
    out: dict[str, Any] = {}
    for fmt in ("json", "xlsx", "pdf"):
        t0 = time.perf_counter()
        r = client.get(f"/api/v1/emergency/incidents/{iid}/report", params={"format": fmt}, headers=headers)
        out[f"report_{fmt}_s"] = round(time.perf_counter() - t0, 3)
        assert r.status_code == 200, r.text
        out[f"report_{fmt}_bytes"] = len(r.content)
    return out


def main(args: argparse.Namespace) -> int:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from smartpark.settings import get_settings

    runs = max(1, min(9, args.runs))
    settings = get_settings()
    figures: dict[str, Any] = {"runs": runs}
    with tempfile.TemporaryDirectory() as tmp, scratch_db("smartpark_bench_emergency", settings) as scratch:
        platforms, smtp = PlatformServer(), SmtpServer(*self_signed(Path(tmp)))
        try:
            with psycopg.connect(scratch.url, autocommit=True) as conn:
                s = _setup(conn, platforms, smtp, runs)
                deliverer = _deliverer(scratch.url)
                deliverer.start()
                app = create_app(settings, database_url=scratch.url, static_dir=None)
                try:
                    with TestClient(app) as client:
                        figures.update(_opening(conn, client, s, platforms, smtp, runs))
                        figures.update(_report(conn, client, s))
                finally:
                    deliverer.stop()
                    deliverer.join(5)
        finally:
            platforms.close()
            smtp.close()
    print(f"{'figure':<28}{'value':>14}")
    for k, v in figures.items():
        print(f"{k:<28}{v!s:>14}")
    print(json.dumps(figures))
    return 0
