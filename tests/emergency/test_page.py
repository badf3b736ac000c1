"""The incident view (/incident/?id=N) in headless Chromium against the API on a real port: the
timeline, the plan's checklist (a step ticked from the page), the map with the hazard pin and the
zone's readings, at 1920×1080 (a wall) and 1366×768 (a laptop); another park's operator sees
nothing of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import DASHBOARD_DIR, create_app
from smartpark.settings import ApiSettings, Settings
from tests.api.conftest import Tenancy, device_id
from tests.emergency.conftest import raise_alarm
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DOC_SHOTS, _wait_http, wait_js
from tests.support.ports import free_port
from tests.support.readings import store_readings

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def server(settings: Settings, db_url: str, api_limits: ApiSettings) -> Iterator[str]:
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


def test_the_incident_view_on_a_wall_and_a_laptop(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any], server: str
) -> None:
    from playwright.sync_api import sync_playwright

    did = device_id(db, tenancy.e1, "gd1")
    (mid,) = db.execute("SELECT metric_id FROM metrics WHERE code = 'safety.lel_pct'").fetchone()  # type: ignore[misc]
    now = int(time.time() * 1000)
    # the leak building up over the last 20 minutes, one reading every 30 s
    store_readings(db, [(did, mid, now - 30_000 * k, max(0.0, 64.0 - 1.6 * k)) for k in range(40)])
    aid = raise_alarm(db, tenancy, "gd1", "lel-level2", 64)
    opened = client.post("/api/v1/emergency/incidents", json={"alert_ids": [aid], "commander": "王队长"},
                         headers=tenancy.headers("operator"))  # fmt: skip
    assert opened.status_code == 201, opened.text
    iid = opened.json()["incident_id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, timezone_id="Europe/London")
            ctx.add_init_script(f"sessionStorage.setItem('smartpark.apiKey', '{tenancy.keys['operator']}');")
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}incident/?id={iid}")
            wait_js(page, "document.body.dataset.ready === '1'", 30)
            assert f"#{iid}" in page.inner_text("#inc-title")
            assert page.locator("#inc-steps > li").count() == 3
            assert "opened" in page.inner_text("#inc-events")
            assert "王队长" in page.inner_text("#inc-facts")
            assert page.locator("#inc-map .pin.hazard").count() == 1
            page.click('button[data-tick="1"]')
            wait_js(page, "document.querySelector('#inc-steps li[data-step=\"1\"]').classList.contains('done')", 15)
            wait_js(page, "document.querySelector('#inc-chart').dataset.empty === '0'", 15)
            DOC_SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOC_SHOTS / "incident-zh-1920.png"))
            page.set_viewport_size({"width": 1366, "height": 768})
            page.screenshot(path=str(DOC_SHOTS / "incident-zh-1366.png"), full_page=True)
            assert errors == []
            other = browser.new_context(viewport={"width": 1366, "height": 768})
            other.add_init_script(f"sessionStorage.setItem('smartpark.apiKey', '{tenancy.keys['other_operator']}');")
            op2 = other.new_page()
            op2.goto(f"{server}incident/?id={iid}")
            wait_js(op2, "!document.querySelector('#inc-error').hidden", 30)
            assert "404" in op2.inner_text("#inc-error")
            assert op2.locator("#incident").is_hidden()
        finally:
            browser.close()
