"""The incident view (/incident/?id=N) in headless Chromium against the API on a real port: the
timeline, the plan's checklist (a step ticked from the page), the map with the hazard pin and the
zone's readings, at 1920×1080 (a wall) and 1366×768 (a laptop); another park's operator sees
nothing of it."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy, device_id
from tests.emergency.conftest import raise_alarm, signed_in_page
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DOC_SHOTS, wait_js
from tests.support.readings import store_readings

pytestmark = [pytest.mark.browser, pytest.mark.integration]


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
            page, errors = signed_in_page(browser, tenancy.keys["operator"], 1920, 1080)
            page.goto(f"{server}incident/?id={iid}")
            wait_js(page, "document.body.dataset.ready === '1'", 30)
            assert f"#{iid}" in page.inner_text("#inc-title")
            assert page.locator("#inc-steps > li").count() == 3
            assert "启动事件" in page.inner_text("#inc-events")  # the page's language, not the stored text
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
