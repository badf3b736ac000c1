"""The page's park context in headless Chromium: an admin picks the park in the header (in
Chinese and English) and the page keeps the choice; a regulator has no picker and sees its own
park's plan with its bureau's devices, never another park's.

The platform here is the API alone (a supervisor child, as `smartpark up` runs it) over two parks
of their own written straight into the database (nothing is published, so no broker account is
needed): quick to start, and every wait is on a condition the page sets, not on time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from api.auth import Bureau, Role
from smartpark.settings import Settings
from tests.api.conftest import device_id, make_user
from tests.support.browser import ARTIFACTS, api_alone, wait_js
from tests.support.factories import small_model, unique_code

pytestmark = [pytest.mark.browser, pytest.mark.integration]
NAMES = ("甲园区", "乙园区")
LABEL = {"zh": "选择园区", "en": "Choose the park"}
LOAD_KW = 412.4


@dataclass(frozen=True, slots=True)
class Parks:
    url: str
    codes: tuple[str, str]
    ids: tuple[int, int]
    admin_key: str
    regulator_key: str  # environment bureau of the first park
    regulator_devices: frozenset[int]  # what that bureau measures there: the stack and the wastewater outlet


@pytest.fixture(scope="module")
def parks(settings: Settings) -> Iterator[Parks]:
    from smartpark.registry import load_model

    codes = (unique_code("pa"), unique_code("pb"))
    with psycopg.connect(settings.database_url or "", autocommit=True) as db:
        ids = []
        for code, name in zip(codes, NAMES, strict=True):
            model = small_model(code)
            model["parks"][0]["name"] = name
            with db.transaction():
                load_model(db, model)
            ids.append(db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()[0])  # type: ignore[index]
        ents = dict(db.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (ids[0],)).fetchall())
        admin = make_user(db, Role.ADMIN)
        regulator = make_user(db, Role.REGULATOR, park_id=ids[0], bureaus=[Bureau.ENVIRONMENT])
        watched = frozenset({device_id(db, ents["e1"], "cems1"), device_id(db, ents["e2"], "ww1")})
        # the first park's load now: one meter's latest power, and no live reading after it
        db.execute(
            "INSERT INTO telemetry_latest (device_id, metric_id, ts, value, flag)"
            " SELECT %s, metric_id, now(), %s, 0 FROM metrics WHERE code = 'elec.power_kw'",
            (device_id(db, ents["e1"], "em1"), LOAD_KW),
        )
    with api_alone(ARTIFACTS / "logs" / codes[0]) as url:
        yield Parks(url, codes, (ids[0], ids[1]), admin, regulator, watched)


@pytest.fixture
def cold(browser: Any) -> Iterator[Any]:
    """A new context (empty storage) in a zone that is not the parks'; fails on a page error."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, timezone_id="Europe/London")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield ctx, page
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _signed_in(ctx: Any, key: str, lang: str = "zh") -> None:
    ctx.add_init_script(
        f"localStorage.setItem('smartpark.lang', '{lang}'); sessionStorage.setItem('smartpark.apiKey', '{key}');"
    )


def _ready(page: Any, park: str) -> None:
    page.wait_for_selector(f"#view[data-park='{park}'][data-ready='1']", timeout=60_000)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_picks_the_park_in_the_header_and_the_page_keeps_it(cold: Any, parks: Parks, lang: str) -> None:
    ctx, page = cold
    _signed_in(ctx, parks.admin_key, lang)
    first, second = parks.codes
    page.goto(f"{parks.url}?park={first}#/enterprise")
    _ready(page, first)
    picker = page.locator("#park-select")
    assert picker.is_visible()
    assert picker.input_value() == first
    assert picker.get_attribute("title") == LABEL[lang] == picker.get_attribute("aria-label")
    # every park the admin may see is offered, by name
    offered = dict(zip(picker.locator("option").evaluate_all("os => os.map((o) => o.value)"),
                       picker.locator("option").all_inner_texts(), strict=True))  # fmt: skip
    assert offered[first] == NAMES[0] and offered[second] == NAMES[1]
    # the enterprise view lists the chosen park's enterprises; the other park's after the switch
    before = page.locator("#ent-select option").evaluate_all("os => os.map((o) => Number(o.value))")
    picker.select_option(second)
    _ready(page, second)
    assert page.locator("#park-select").input_value() == second
    after = page.locator("#ent-select option").evaluate_all("os => os.map((o) => Number(o.value))")
    assert len(after) == len(before) == 2 and not set(after) & set(before)
    assert f"park={second}" in page.url
    assert page.evaluate("localStorage.getItem('smartpark.park')") == second
    # the choice is kept on this browser: the address without ?park= opens the same park
    page.goto(f"{parks.url}#/enterprise")
    _ready(page, second)
    assert page.locator("#park-select").input_value() == second


def test_a_regulator_sees_its_parks_plan_with_its_bureaus_devices_only(cold: Any, parks: Parks) -> None:
    ctx, page = cold
    _signed_in(ctx, parks.regulator_key)
    first, second = parks.codes
    page.goto(f"{parks.url}?park={second}#/plan")  # asking for another park changes nothing
    _ready(page, first)
    assert page.locator("#park-select").count() == 0  # bound to its park: no picker
    visible = [a.get_attribute("data-view") for a in page.locator("#nav a").all() if a.is_visible()]
    assert visible == ["plan", "environment", "regulator", "reports"]
    wait_js(page, "Number(document.querySelector('#plan')?.dataset.devices || 0) > 0", 30)
    drawn = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#plan')).getOption()"
        ".series.find((s) => s.id === 'devices').data.map((d) => d.value[2])"
    )
    assert set(drawn) == parks.regulator_devices
    # read-only: the plan offers nothing to change, and the API keeps the other park's plan away
    assert page.locator("#view button, #view input, #view select").count() == 0
    status = page.evaluate(
        "async (id) => (await fetch(`/api/v1/parks/${id}/plan`,"
        " {headers: {'X-API-Key': sessionStorage.getItem('smartpark.apiKey')}})).status",
        parks.ids[1],
    )
    assert status == 404


def test_the_overview_shows_the_parks_load_from_the_states_answer(cold: Any, parks: Parks) -> None:
    """The live load starts from the latest power readings that come with the devices' states,
    before any reading arrives on the stream (the stream here is held silent)."""
    ctx, page = cold
    _signed_in(ctx, parks.admin_key)
    ctx.route_web_socket(re.compile(r".*/api/v1/live.*"), lambda ws: None)  # a stream that stays silent
    page.goto(f"{parks.url}?park={parks.codes[0]}#/overview")
    _ready(page, parks.codes[0])
    assert page.inner_text("#live-load").replace(",", "").startswith(str(round(LOAD_KW)))
    assert page.get_attribute("#live-load", "data-received") == "0"
