"""The incident page reached from the ops-centre page, in headless Chromium: the safety view lists
the park's incidents (open first) and an operator opens one from a firing safety alarm; a link
opens the incident page, which speaks the language chosen on the ops-centre page (the same
localStorage key) with no English in the Chinese page, and nothing overflows at 1366×768 or
1920×1080. The emergency bureau finds the list in its regulator view. Every wait is on a
condition the page sets."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy
from tests.emergency.conftest import raise_alarm, signed_in_page
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Every element inside the viewport's width, the page not scrolling sideways.
OVERFLOW = """() => {
  const bad = [];
  if (document.documentElement.scrollWidth > innerWidth + 1) bad.push('page wider than the window');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    const shown = r.width && r.height && el.offsetParent !== null;
    if (shown && r.right > innerWidth + 1) bad.push(el.tagName + '#' + el.id + ' ' + el.className);
  }
  for (const p of document.querySelectorAll('.panel')) {
    if (p.scrollWidth > p.clientWidth + 1) bad.push('panel scrolls: ' + p.className);
  }
  return bad;
}"""
UI_LATIN = {"UTC", "EN", "XLSX", "PDF", "LEL", "ppm", "MPa", "vol", "II", "III", "IV"}  # symbols, units, level numerals


def _fits(page: Any, width: int, height: int) -> None:
    """Nothing overflows once the page has laid itself out at the new size (charts redraw on resize)."""
    from playwright.sync_api import TimeoutError as Timeout

    page.set_viewport_size({"width": width, "height": height})
    with contextlib.suppress(Timeout):  # the assertion below names what overflows
        # a function, not an expression: the page's CSP forbids evaluating strings
        page.wait_for_function(f"() => ({OVERFLOW})().length === 0", timeout=10_000)
    assert page.evaluate(OVERFLOW) == [], (width, height)


def _data_words(inc: dict[str, Any], more: list[str]) -> set[str]:
    """Latin words the incident's own data brings (codes, people, resource names): data, not labels."""
    values = [inc["zone"], inc["hazard_code"], inc["opened_by"], inc["enterprise_code"], *more]
    values += [a["device_code"] for a in inc["alarms"]]
    values += [f"{r['name']} {r['enterprise'] or ''} {r['zone'] or ''} {r['unit']}" for r in inc["nearest_resources"]]
    values += [e["by"] for e in inc["timeline"]] + [(e.get("data") or {}).get("receiver", "") for e in inc["timeline"]]
    # who was paged, without the channel in brackets: the page names that in its language
    values += [re.sub(r"\(\w+\)$", "", str(v)) for e in inc["timeline"] for v in (e.get("data") or {}).get("sent", [])]
    return {w for v in values if v for w in re.findall(r"[A-Za-z]+", str(v))}


def _english(text: str, allowed: set[str]) -> list[str]:
    return sorted({w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in allowed})


def test_the_safety_view_lists_incidents_and_links_to_a_page_in_the_chosen_language(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any], server: str
) -> None:
    from playwright.sync_api import sync_playwright

    op = tenancy.headers("operator")
    fire = raise_alarm(db, tenancy, "fa1", "fire-alarm", 1)
    closed = client.post("/api/v1/emergency/incidents", json={"alert_ids": [fire], "drill": True}, headers=op).json()
    shut = client.post(f"/api/v1/emergency/incidents/{closed['incident_id']}/state", json={"to": "closed"}, headers=op)
    assert shut.status_code == 200, shut.text
    gas = raise_alarm(db, tenancy, "gd1", "lel-level2", 64)
    opened = client.post("/api/v1/emergency/incidents", json={"alert_ids": [gas], "commander": "王队长"}, headers=op)
    assert opened.status_code == 201, opened.text
    iid = opened.json()["incident_id"]
    loose = raise_alarm(db, tenancy, "gd1", "lel-level1", 30)  # firing, in no incident yet
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, errors = signed_in_page(browser, tenancy.keys["operator"], 1366, 768)
            page.on("dialog", lambda d: d.accept())  # the confirmation before opening an incident
            page.goto(f"{server}#/safety")
            wait_js(page, f"document.querySelector('#incidents tr[data-incident=\"{iid}\"]') !== null", 30)
            rows = page.locator("#incidents tbody tr")
            assert [rows.nth(i).get_attribute("data-incident") for i in range(rows.count())] == [
                str(iid),
                str(closed["incident_id"]),
            ]  # the open one first
            first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
            assert "王队长" in first and "IV级 一般" in first and "已报告" in first
            assert "演练" in second and "已关闭" in second
            for width, height in ((1920, 1080), (1366, 768)):
                _fits(page, width, height)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "safety-incidents-zh-1366.png"))

            # an operator opens an incident from the firing alarm that is in none, and lands on its page
            page.click(f'button[data-open-incident="{loose}"]')
            page.wait_for_url(re.compile(r"/incident/\?id=\d+$"), timeout=30_000)
            new_id = int(page.url.rsplit("=", 1)[1])
            assert new_id not in (iid, closed["incident_id"])
            wait_js(page, "document.body.dataset.ready === '1'", 30)

            # back to the safety view: the list's link opens the first incident's page, in Chinese
            page.goto(f"{server}#/safety")
            wait_js(page, f"document.querySelector('#incidents tr[data-incident=\"{iid}\"] a') !== null", 30)
            page.click(f'#incidents tr[data-incident="{iid}"] a')
            page.wait_for_url(re.compile(rf"/incident/\?id={iid}$"), timeout=30_000)
            wait_js(page, "document.body.dataset.ready === '1'", 30)
            inc = client.get(f"/api/v1/emergency/incidents/{iid}", headers=op).json()
            allowed = UI_LATIN | _data_words(inc, [])
            text = page.inner_text("body")
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            assert "启动事件" in text and "概况" in text and "UTC+08:00" in text  # park times, labelled
            assert _english(text, allowed) == []
            for width, height in ((1366, 768), (1920, 1080)):
                _fits(page, width, height)
            page.screenshot(path=str(ARTIFACTS / "incident-linked-zh-1920.png"))

            # the switch: English labels, kept where the ops-centre page keeps its language
            page.click("#lang")
            wait_js(page, "document.documentElement.lang === 'en'", 10)
            text = page.inner_text("body")
            assert "Summary" in text and "Timeline" in text and "Opened" in text and "概况" not in text
            assert page.evaluate("localStorage.getItem('smartpark.lang')") == "en"
            for width, height in ((1366, 768), (1920, 1080)):
                _fits(page, width, height)
            page.screenshot(path=str(ARTIFACTS / "incident-linked-en-1920.png"))
            page.goto(f"{server}#/safety")
            wait_js(page, "document.querySelector('#incidents tbody tr') !== null", 30)
            assert "Incidents" in page.inner_text("#view")
            assert errors == []

            # the emergency bureau finds the list in its regulator view, without the button
            reg = browser.new_context(viewport={"width": 1366, "height": 768})
            reg.add_init_script(f"sessionStorage.setItem('smartpark.apiKey', '{tenancy.keys['emg_regulator']}');")
            rp = reg.new_page()
            rp.goto(f"{server}#/regulator")
            wait_js(rp, f"document.querySelector('#reg-incidents tr[data-incident=\"{iid}\"] a') !== null", 30)
            assert rp.locator("button[data-open-incident]").count() == 0
        finally:
            browser.close()
