"""The park plan, the device detail, completeness and the alarm filters in headless Chromium,
against the running platform of tests/dashboards/conftest.py.

Alarms the tests need are opened through the alarm store's owner function (alerting/alarm_store.py) on
e1's devices, which the live simulator does not drive.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest

from alerting import alarm_store
from alerting.rules import default_rules
from smartpark.settings import Settings
from tests.support.browser import (
    DOC_SHOTS,
    OVERFLOW,
    Platform,
    _cold_page,
    _display_key,
    _latin_words,
    _park_now,
    _units,
    api,
    login,
    show,
    wait_js,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

CRITICAL = "#ff2d55"
FILTER = "JSON.parse(document.querySelector('#alarm-list [data-role=table]').dataset.filter || '{}')"


def _device(settings: Settings, platform: Platform, enterprise: str, code: str) -> int:
    with psycopg.connect(settings.database_url or "") as conn:
        row = conn.execute(
            "SELECT device_id FROM devices WHERE enterprise_id = %s AND code = %s",
            (platform.enterprise_ids[enterprise], code),
        ).fetchone()
    assert row is not None
    return int(row[0])


# Critical rules and e1's devices the live simulator does not drive. The platform is shared by
# the folder's tests (a gas-leak replay fires some of these too): each call takes the pair whose
# alarm is oldest and, if it is still open, closes it first, so a new one can open.
CRITICAL_PAIRS = (
    ("fire-alarm", "fa1"),
    ("co-level2", "gd1"),
    ("h2s-level2", "gd1"),
    ("o2-low", "gd1"),
    ("co-level2", "fa1"),
)


def _open_critical_alarm(settings: Settings, platform: Platform) -> tuple[int, int]:
    """A new firing critical alarm on one of e1's devices: (alarm, device)."""
    rules = {r.id: r for r in default_rules()}
    with psycopg.connect(settings.database_url or "") as conn:
        pairs = []
        for rule_id, code in CRITICAL_PAIRS:
            device = _device(settings, platform, "e1", code)
            row = conn.execute(
                "SELECT alert_id, started_at FROM alerts WHERE rule_id = %s AND series_key = %s"
                " AND state IN ('pending', 'firing')",
                (rule_id, f"d:{device}"),
            ).fetchone()
            pairs.append((row[1].timestamp() if row else 0.0, rule_id, device, row[0] if row else None))
        _, rule_id, device, open_id = min(pairs)
        if open_id is not None:
            alarm_store.move_alert(conn, alert_id=open_id, to="resolved", at_ms=int(time.time() * 1000), value=None)
        alarm = alarm_store.open_alert(
            conn,
            rule=rules[rule_id],
            series_key=f"d:{device}",
            ids=alarm_store.SeriesIds(platform.park_id, platform.enterprise_ids["e1"], device, None),
            state="firing",
            at_ms=int(time.time() * 1000),
            value=1.0,
            labels={},
        )
    assert alarm is not None
    return alarm, device


def _option(page: Any, selector: str) -> Any:
    return page.evaluate(
        "(sel) => { const o = echarts.getInstanceByDom(document.querySelector(sel)).getOption();"
        " return JSON.parse(JSON.stringify(o, (k, v) => typeof v === 'function' ? undefined : v)); }",
        selector,
    )


def test_plan_places_every_device_pins_alarms_and_opens_the_device(
    page: Any, platform: Platform, settings: Settings
) -> None:
    alarm, device = _open_critical_alarm(settings, platform)
    login(page, platform, platform.admin_key)
    show(page, platform, "plan")
    wait_js(page, "Number(document.querySelector('#plan')?.dataset.devices || 0) > 0", 30)
    status, plan = api(platform, platform.admin_key, f"/parks/{platform.park_id}/plan")
    assert status == 200
    assert int(page.get_attribute("#plan", "data-devices") or 0) == len(plan["devices"]["device_id"])
    option = _option(page, "#plan")
    series = {s["id"]: s for s in option["series"]}
    critical = {d["value"][2]: d["itemStyle"]["color"] for d in series["critical"]["data"]}
    assert critical.get(device) == CRITICAL, critical  # the fire alarm's pin, pulsing (effectScatter)
    assert series["critical"]["type"] == "effectScatter"
    # every pin is a device with a firing alarm, and the reverse
    status, firing = api(platform, platform.admin_key, f"/alarms?state=firing&park_id={platform.park_id}&limit=500")
    assert status == 200
    placed = set(plan["devices"]["device_id"])
    pinned = {d["value"][2] for d in series["critical"]["data"] + series["pins"]["data"]}
    assert pinned == {a["device_id"] for a in firing["items"]} & placed
    # the plot of the enterprise in alarm is outlined
    outlined = {r["name"]: r.get("itemStyle", {}).get("borderColor") for r in option["geo"][0]["regions"]}
    assert outlined.get("e1") == "#ff5d5d", outlined
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(800)
    page.screenshot(path=str(DOC_SHOTS / "plan-zh-1920.png"))
    # a click on the device goes to its detail
    i = plan["devices"]["device_id"].index(device)
    x, y = page.evaluate(
        "([x, y]) => echarts.getInstanceByDom(document.querySelector('#plan')).convertToPixel({geoIndex: 0}, [x, y])",
        [plan["devices"]["x"][i], plan["devices"]["y"][i]],
    )
    box = page.locator("#plan").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#view[data-view='device'][data-ready='1']", timeout=30_000)
    assert page.url.endswith(f"#/device?id={device}")
    rows = page.locator(f"#dev-alarms tr[data-alarm-row='{alarm}']")
    rows.wait_for(timeout=30_000)
    assert rows.get_attribute("data-severity") == "critical"


def test_device_detail_picks_raw_or_rollups_by_range_and_zooms(
    page: Any, platform: Platform, settings: Settings
) -> None:
    device = _device(settings, platform, "e2", "em1")  # live, with forty days of history
    asked: list[dict[str, list[str]]] = []
    page.on(
        "request",
        lambda r: asked.append(parse_qs(urlparse(r.url).query)) if "/telemetry/series" in r.url else None,
    )
    login(page, platform, platform.admin_key)
    page.goto(f"{platform.url}#/device?id={device}")
    page.wait_for_selector("#view[data-view='device'][data-ready='1']", timeout=60_000)
    chart = ".dev-metric[data-metric='elec.power_kw'] .chart"
    for key, interval in (("1h", "raw"), ("24h", "15m"), ("7d", "15m"), ("30d", "1h")):
        loads = int(page.get_attribute("#dev-charts", "data-loads") or 0)
        asked.clear()
        page.click(f"#dev-range button[data-range='{key}']")
        wait_js(page, f"Number(document.querySelector('#dev-charts').dataset.loads) > {loads}", 30)
        assert page.get_attribute("#dev-charts", "data-interval") == interval
        assert page.get_attribute(chart, "data-empty") == "0", key
        assert asked and {a["interval"][0] for a in asked} == {interval}, (key, asked)
        option = _option(page, chart)
        assert [z["type"] for z in option["dataZoom"]] == ["inside", "slider"]
        points = option["series"][0]["data"]
        assert points, key
    # custom: two days of the park's wall clock, hourly at most ~1 500 points -> 15-minute means
    page.click("#dev-range button[data-range='custom']")
    page.fill("#dev-range input[name=from]", "2026-01-01T00:00")
    page.fill("#dev-range input[name=to]", "2026-01-03T00:00")
    asked.clear()
    page.click("#dev-range button[data-apply]")
    wait_js(page, "document.querySelector('#dev-charts').dataset.interval === '15m'", 30)
    assert asked and asked[-1]["from"][0].startswith("2025-12-31T16:00:00")  # 00:00 at UTC+08:00
    # a bad custom range says so and asks nothing
    asked.clear()
    page.fill("#dev-range input[name=to]", "2025-12-01T00:00")
    page.click("#dev-range button[data-apply]")
    assert page.inner_text("#dev-range .error") == "结束时间须晚于开始时间" and not asked
    # completeness of the device over the range's days, as the API gives it
    page.click("#dev-range button[data-range='24h']")
    today = _park_now(platform).date()
    first, last = (today - timedelta(days=1)).isoformat(), today.isoformat()  # the last 24 h's park days
    wait_js(page, f"document.querySelector('#dev-comp').dataset.period === '{first}/{last}'", 30)
    status, rows = api(
        platform,
        platform.admin_key,
        f"/completeness?from={first}&to={last}&by=device&period=range&enterprise_id={platform.enterprise_ids['e2']}",
    )
    assert status == 200
    (mine,) = [r for r in rows if r["device"] == device]
    shown = page.inner_text("#dev-comp [data-rate=transmission]")
    rate = mine["transmission_rate"]  # None when nothing was owed yet (a device registered minutes ago)
    assert shown == ("—" if rate is None else f"{rate * 100:.1f}%"), (shown, mine)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(800)
    page.screenshot(path=str(DOC_SHOTS / "device-zh-1920.png"))


def test_overview_shows_online_rate_and_completeness_gaps(page: Any, platform: Platform) -> None:
    login(page, platform, platform.admin_key)
    wait_js(page, "!!document.querySelector('#completeness')?.dataset.online", 30)
    status, states = api(platform, platform.admin_key, f"/parks/{platform.park_id}/device-states")
    assert status == 200
    online, total = (int(x) for x in (page.get_attribute("#completeness", "data-online") or "").split("/"))
    assert total == states["total"]
    assert abs(online - states["online"]) <= 1  # a device may come or go between the two reads
    # the gaps listed are the enterprises owing readings today or with a device offline, per the API
    today = _park_now(platform).date().isoformat()
    status, rows = api(
        platform,
        platform.admin_key,
        f"/completeness?from={today}&to={today}&by=enterprise&period=range&park_id={platform.park_id}",
    )
    assert status == 200
    d = states["devices"]
    offline = {e for e, on in zip(d["enterprise_id"], d["online"], strict=True) if not on}
    owing = {r["enterprise"] for r in rows if round(r["expected"] - r["received"]) > 0}
    shown = {int(g.get_attribute("data-gap") or 0) for g in page.locator("#completeness tr[data-gap]").all()}
    assert shown == owing | offline, (shown, owing, offline)
    # per enterprise: the same panel lists the enterprise's devices
    page.evaluate(f"sessionStorage.setItem('smartpark.enterprise', '{platform.enterprise_ids['e1']}')")
    show(page, platform, "enterprise")
    wait_js(page, "!!document.querySelector('#ent-completeness')?.dataset.online", 30)
    listed = page.locator("#ent-completeness tr[data-gap] a[href^='#/device?id=']").count()
    assert (listed > 0) == (platform.enterprise_ids["e1"] in shown), listed


def test_alarm_filters_sort_colours_and_the_critical_sound(page: Any, platform: Platform, settings: Settings) -> None:
    first_alarm, _ = _open_critical_alarm(settings, platform)
    login(page, platform, platform.admin_key)
    page.evaluate("localStorage.setItem('smartpark.alarmSoundMuted', '0')")
    show(page, platform, "safety")
    page.wait_for_selector(f"tr[data-alarm-row='{first_alarm}']", timeout=30_000)
    page.select_option("#alarm-list select[name=severity]", "critical")
    wait_js(page, f"{FILTER}.severity?.[0] === 'critical'", 30)
    severities = {r.get_attribute("data-severity") for r in page.locator("#alarm-list tr[data-alarm-row]").all()}
    assert severities == {"critical"}
    colour = page.evaluate(
        f"getComputedStyle(document.querySelector(\"tr[data-alarm-row='{first_alarm}'] td\")).borderLeftColor"
    )
    assert colour == "rgb(255, 45, 85)"  # --crit
    page.select_option("#alarm-list select[name=severity]", "")
    wait_js(page, f"!{FILTER}.severity", 30)
    page.select_option("#alarm-list select[name=sort]", "severity")
    wait_js(page, "document.querySelector('#alarm-list [data-role=table]').dataset.sort === 'severity'", 30)
    shown = [r.get_attribute("data-severity") for r in page.locator("#alarm-list tr[data-alarm-row]").all()]
    rank = {"critical": 0, "major": 1, "minor": 2, "warning": 3}
    assert [rank[s] for s in shown] == sorted(rank[s] for s in shown)
    page.select_option("#alarm-list select[name=state]", "resolved")
    wait_js(page, f"{FILTER}.state?.[0] === 'resolved'", 30)
    assert {r.get_attribute("data-state") for r in page.locator("#alarm-list tr[data-alarm-row]").all()} <= {"resolved"}
    page.select_option("#alarm-list select[name=state]", "active")
    # a new critical alarm sounds (the page asks to play it; headless Chromium allows autoplay)
    before = int(page.evaluate("Number(document.body.dataset.alarmSound || 0)"))
    second, _ = _open_critical_alarm(settings, platform)
    page.wait_for_selector(f"tr[data-alarm-row='{second}']", timeout=30_000)
    wait_js(page, f"Number(document.body.dataset.alarmSound || 0) > {before}", 15)
    # muted: kept in the browser, the button says so
    page.click("#alarm-list .sound-toggle")
    assert page.get_attribute("#alarm-list .sound-toggle", "data-muted") == "1"
    assert page.evaluate("localStorage.getItem('smartpark.alarmSoundMuted')") == "1"
    page.screenshot(path=str(DOC_SHOTS / "safety-filters-zh-1600.png"))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_device_view_fits_and_speaks_one_language(
    browser: Any, platform: Platform, settings: Settings, width: int, height: int, lang: str
) -> None:
    device = _device(settings, platform, "e1", "cems1")
    ctx, page, errors = _cold_page(browser, platform, width, height, lang)
    try:
        page.goto(f"{platform.url}#/device?id={device}")
        page.wait_for_selector("#view[data-view='device'][data-ready='1']", timeout=60_000)
        page.wait_for_timeout(800)
        bad = page.evaluate(OVERFLOW)
        assert not bad, bad[:8]
        if lang == "zh":
            text = page.evaluate(
                "() => [...document.querySelectorAll('.user, #who, #lang')]"
                ".reduce((text, e) => text.split(e.innerText).join(' '), document.body.innerText)"
            )
            assert not _latin_words(text, _units(platform))
        assert not errors, errors
    finally:
        ctx.close()


def test_wall_screen_draws_the_plan_and_scales_chart_text_at_4k(browser: Any, platform: Platform) -> None:
    key = _display_key(platform, "wall-plan")
    ctx = browser.new_context(viewport={"width": 3840, "height": 2160})
    ctx.add_init_script(f"localStorage.setItem('smartpark.displayKey', '{key}')")
    page = ctx.new_page()
    try:
        page.goto(platform.url + "screen/")
        page.wait_for_selector("#screen[data-ready='1']", timeout=60_000)
        assert int(page.get_attribute("#screen-plan", "data-devices") or 0) > 0
        load = _option(page, "#screen-load")
        assert load["xAxis"][0]["axisLabel"]["fontSize"] == 24  # 12 px at 1920, twice at 3840
        assert load["legend"][0]["textStyle"]["fontSize"] == 24
    finally:
        ctx.close()


def test_the_page_s_pure_rules(page: Any, platform: Platform) -> None:
    """Range -> source, completeness sums and gaps, filter -> API query, run in the page's modules."""
    login(page, platform, platform.admin_key)
    out = page.evaluate(
        """async () => {
          const { chooseInterval, parkWallToMs } = await import('/js/range.js');
          const { total, gaps } = await import('/js/completeness.js');
          const { queryOf, sortAlarms } = await import('/js/alarm-list.js');
          const { newCritical } = await import('/js/alarm-sound.js');
          const H = 3600e3;
          const rows = [{ enterprise: 1, expected: 100, received: 90, valid: 81, transmission_rate: 0.9 },
                        { enterprise: 2, expected: 100, received: 100, valid: 100, transmission_rate: 1 }];
          const seen = new Set();
          const a = (id, severity, state = 'firing') =>
            ({ alert_id: id, severity, state, firing_at: `2026-12-0${id}` });
          return {
            intervals: [chooseInterval(3 * H, 3), chooseInterval(3 * H + 1, 3), chooseInterval(3 * H, 4),
                        chooseInterval(7 * 24 * H, 5), chooseInterval(15.625 * 24 * H, 5),
                        chooseInterval(15.7 * 24 * H, 5), chooseInterval(90 * 24 * H, 5)],
            wall: parkWallToMs('2026-01-01T00:00'),
            total: total(rows),
            gaps: gaps(rows, 'enterprise', new Map([[2, 1], [3, 2]])),
            query: [queryOf({ state: 'active' }), queryOf({ state: 'firing', severity: 'critical', enterprise: '7' }),
                    queryOf({ state: 'resolved', category: 'safety' })],
            sorted: sortAlarms([a(1, 'minor'), a(2, 'critical'), a(3, 'minor')], 'severity').map((x) => x.alert_id),
            sound: [newCritical([a(1, 'critical')], seen, true).length, newCritical([a(1, 'critical'), a(2, 'critical'),
                    a(3, 'major'), a(4, 'critical', 'resolved')], seen, false).map((x) => x.alert_id)],
          };
        }"""
    )
    # raw up to 3 h while the readings (one per 2 s) stay under the API's 20 000 points: 3 series
    # of 5 400 do, 4 do not; 15-minute means up to 1 500 points a line (15.625 days), hourly
    # beyond, daily past 62.5 days
    assert out["intervals"] == ["raw", "15m", "15m", "15m", "15m", "1h", "1d"]
    assert out["wall"] == 1767196800000  # 2026-01-01 00:00 at UTC+08:00 = 2025-12-31T16:00Z
    assert out["total"] == {
        "expected": 200,
        "received": 190,
        "valid": 181,
        "transmission_rate": 0.95,
        "validity_rate": pytest.approx(181 / 190),
        "effective_rate": 0.905,
    }
    # worst first: enterprise 1 (90 %, 10 readings owed), then 2 (complete but a device offline),
    # then 3 (two devices offline, no completeness row)
    assert out["gaps"] == [
        {"id": 1, "missing": 10, "offline": 0, "rate": 0.9},
        {"id": 2, "missing": 0, "offline": 1, "rate": 1},
        {"id": 3, "missing": 0, "offline": 2, "rate": None},
    ]
    active, critical, resolved = out["query"]
    assert active == {"limit": 500, "state": ["firing"]}
    assert critical == {
        "limit": 500,
        "state": ["firing"],
        "acknowledged": False,
        "severity": ["critical"],
        "enterprise_id": 7,
    }
    assert resolved == {"limit": 500, "state": ["resolved"], "category": "safety"}
    assert out["sorted"] == [2, 3, 1]
    # alarms there at the first load are not news; a new firing critical one is, once
    assert out["sound"] == [0, [2]]
