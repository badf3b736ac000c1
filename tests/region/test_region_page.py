"""The region view of the page on a region instance, in Chromium: a league/city's user sees its
parks ranked among all, with class, Article 22 flags, rank over the years and missing packages,
and downloads the same table as XLSX."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import psycopg
import pytest

from api.auth import Role
from region.package import new_package, sign
from smartpark.settings import Settings
from tests.region.conftest import LIMITS, ApiThread, key_of, region_user, register
from tests.support.browser import DOC_SHOTS

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# Outputs in 10⁴ yuan (Article 12: class 1 ≥ 1 500 000, class 2 ≥ 100 000).
PARKS = (
    ("pg-bt-a", "baotou", "包头稀土高新区", 1, 1_600_000.0),
    ("pg-bt-b", "baotou", "包头九原工业园区", 2, 120_000.0),
    ("pg-od-a", "ordos", "鄂尔多斯大路工业园区", 1, 400_000.0),
)


@pytest.fixture
def region_site(settings: Settings) -> Iterator[tuple[str, str]]:
    """A region instance serving the page, three parks' 2025 packages in; (its URL, a league key)."""
    from api.app import DASHBOARD_DIR, create_app
    from smartpark.db import database_url
    from smartpark.db.scratch import scratch_database
    from tests.support.ports import free_port

    with scratch_database("smartpark_region_page", admin_url=database_url(settings)) as db:
        site = ApiThread(
            lambda: create_app(settings, limits=LIMITS, database_url=db.url, static_dir=DASHBOARD_DIR), free_port()
        )
        with psycopg.connect(db.url, autocommit=True) as conn:
            league_key = region_user(conn, league="baotou")
            key_of(conn, Role.ADMIN)
        keys = {code: register(db.url, code, league, designated, name) for code, league, name, designated, _ in PARKS}
        site.start()
        try:
            for code, _, _, _, output in PARKS:
                same = {"employees": 100, "enterprises": 2, "exceedance_minutes": 0}
                body = {"figures": {"output_value": output, "tax": output / 20, **same}}
                pkg = new_package(park=code, period="2025", revision=1, body=body, clock=time.time)
                got = httpx.post(site.url + "/api/v1/region/submissions", json=sign(pkg, keys[code]).to_json())
                assert got.status_code == 201, got.text
            yield site.url, league_key
        finally:
            site.stop()


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, checked_page

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with checked_page(browser, viewport={"width": 1600, "height": 1000}, locale="zh-CN") as pg:
            yield pg
        browser.close()


def test_a_league_sees_its_parks_ranked_among_all(page: Any, region_site: tuple[str, str]) -> None:
    url, key = region_site
    page.goto(url + "/")
    page.fill("#api-key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#view[data-view='region'][data-ready='1']", timeout=60_000)
    assert page.url.endswith("#/region")  # a region instance opens on the region
    page.wait_for_selector("#region-table tr[data-park]", timeout=60_000)
    rows = page.locator("#region-table tr[data-park]").all()
    assert [r.get_attribute("data-park") for r in rows] == ["pg-bt-a", "pg-bt-b"]  # rank 1, then rank 3
    first, second = (r.locator("td").all_inner_texts() for r in rows)
    assert first[0] == "1" and second[0] == "3"  # ranked among all three parks, ordos' included
    assert first[1] == "包头稀土高新区" and first[4] == "1" and second[4] == "2"  # Article 12 class by output
    assert "前10名" in first[7] and "2025: 1" in first[8]
    assert "鄂尔多斯" not in page.inner_text("body")  # another league's park is not shown
    assert "假设" in page.inner_text("#region-method")
    # the region view's export: the same parks, by rank, with Chinese headers
    with page.expect_download(timeout=60_000) as got:
        page.click("#region-xlsx")
    assert got.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    values = [[c.value for c in line] for line in book.worksheets[0].iter_rows()]
    header = next(v for v in values if v and v[0] == "园区编码")
    assert [v[0] for v in values[values.index(header) + 1 :] if v[0]] == ["pg-bt-a", "pg-bt-b"]
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(DOC_SHOTS / "region-zh-1920.png"))
