"""The 报表 (reports) view in headless Chromium, on the API alone over one park written straight
into the database (quick to start; every wait is on a condition the page sets): an export
downloads with its Chinese headers (XLSX and CSV), an operator generates a pack and the list
shows it, and an economic import with bad cells lists each cell with its column and reason; the
park's 全区 view shows its result as the region published it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import psycopg
import pytest

from api.auth import Role
from smartpark.settings import Settings
from tests.api.conftest import make_user
from tests.support.browser import ARTIFACTS, api_alone
from tests.support.factories import small_model, unique_code

pytestmark = [pytest.mark.browser, pytest.mark.integration]
ZONE = "Asia/Shanghai"  # small_model's park


@dataclass(frozen=True, slots=True)
class Site:
    url: str
    code: str
    park_id: int
    operator_key: str


@pytest.fixture(scope="module")
def site(settings: Settings) -> Iterator[Site]:
    from smartpark.registry import load_model

    code = unique_code("rp")
    with psycopg.connect(settings.database_url or "", autocommit=True) as db:
        with db.transaction():
            load_model(db, small_model(code))
        park_id = db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()[0]  # type: ignore[index]
        operator = make_user(db, Role.OPERATOR, park_id=park_id)
    with api_alone(ARTIFACTS / "logs" / code) as url:
        yield Site(url, code, park_id, operator)


@contextmanager
def _operator_page(browser: Any, site: Site, **context: Any) -> Iterator[Any]:
    """A new context signed in as the park's operator, in Chinese; fails on a page error."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, timezone_id=ZONE, **context)
    key = site.operator_key
    ctx.add_init_script(
        f"localStorage.setItem('smartpark.lang','zh');sessionStorage.setItem('smartpark.apiKey','{key}')"
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def reports_page(browser: Any, site: Site) -> Iterator[Any]:
    """The operator on the 报表 view."""
    with _operator_page(browser, site, accept_downloads=True) as page:
        page.goto(f"{site.url}#/reports")
        page.wait_for_selector("#rep-packs .empty, #rep-packs table", timeout=60_000)
        yield page


def _download(page: Any, tmp_path: Path, kind: str, fmt: str) -> Path:
    form = page.locator("#rep-export")
    form.locator("select[name=kind]").select_option(kind)
    form.locator("select[name=format]").select_option(fmt)
    with page.expect_download(timeout=60_000) as got:
        form.locator("button[type=submit]").click()
    path = tmp_path / got.value.suggested_filename
    got.value.save_as(path)
    return path


def test_exports_download_with_chinese_headers(reports_page: Any, tmp_path: Path) -> None:
    xlsx = _download(reports_page, tmp_path, "telemetry", "xlsx")
    assert xlsx.suffix == ".xlsx"
    header = [c.value for c in next(openpyxl.load_workbook(xlsx).worksheets[0].iter_rows(max_row=1))]
    assert header[0] == f"时间（{ZONE}）" and "企业" in header and "指标" in header, header
    alarms = _download(reports_page, tmp_path, "alarms", "csv")
    raw = alarms.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese headers
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert any("时间" in h for h in header) and "企业" in header, header
    assert reports_page.locator("#rep-export-error").inner_text() == ""


def test_an_operator_generates_a_pack_and_the_list_shows_it(reports_page: Any, site: Site) -> None:
    yesterday = (datetime.now(ZoneInfo(ZONE)) - timedelta(days=1)).date().isoformat()
    form = reports_page.locator("#rep-generate")
    form.locator("select[name=kind]").select_option("daily")
    form.locator("input[name=period]").fill(yesterday)
    form.locator("button[type=submit]").click()
    row = reports_page.locator("#rep-packs tr", has_text=f"运行日报 {yesterday}")
    row.wait_for(timeout=60_000)
    assert row.locator("button[data-format=pdf]").count() == 1 and row.locator("button[data-format=xlsx]").count() == 1
    with reports_page.expect_download(timeout=60_000) as got:
        row.locator("button[data-format=pdf]").click()
    assert got.value.suggested_filename.endswith(".pdf")


def test_an_economic_import_lists_each_bad_cell(reports_page: Any, site: Site, tmp_path: Path) -> None:
    month = (datetime.now(ZoneInfo(ZONE)).date().replace(day=1) - timedelta(days=1)).replace(day=1)
    template = httpx.get(
        site.url + "api/v1/economic-reports/template",
        params={"month": month.isoformat()},
        headers={"X-API-Key": site.operator_key},
        timeout=60,
    )
    assert template.status_code == 200, template.text
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    sheet = book.worksheets[0]
    sheet["E2"] = -5  # 工业总产值 not negative
    sheet["I2"] = 1.5  # 从业人员 a whole number
    path = tmp_path / "economic.xlsx"
    book.save(path)
    reports_page.locator("#rep-file").set_input_files(str(path))
    table = reports_page.locator("#rep-econ-result table")
    table.wait_for(timeout=60_000)
    cells = {tr.locator("td").nth(0).inner_text(): tr.locator("td").nth(1).inner_text()
             for tr in table.locator("tbody tr").all()}  # fmt: skip
    assert cells == {"E2": "工业总产值 (万元)", "I2": "从业人员 (人)"}, cells
    assert reports_page.locator("#rep-econ-result .error").inner_text()


def test_a_park_sees_its_result_as_the_region_published_it(browser: Any, site: Site, settings: Settings) -> None:
    from region import my_result

    row = {"code": site.code, "rank": 3, "ranked_parks": 12, "designated_class": 2, "park_class": 2, "score": 61.25,
           "rewarded": True, "penalised": False, "downgrade_review": False, "below_class_years": 0}  # fmt: skip
    publication = {"publication_id": 4, "published_at": "2026-03-01T02:00:00Z", "method": None, "results": [row]}
    with psycopg.connect(settings.database_url or "", autocommit=True) as db:
        my_result.keep(db, park_code=site.code, year=2025, publication=publication, now=datetime.now(UTC))
    with _operator_page(browser, site) as page:
        page.goto(f"{site.url}#/region")
        page.wait_for_selector("#region-mine tr[data-year='2025']", timeout=60_000)
        cells = page.locator("#region-mine tr[data-year='2025'] td").all_inner_texts()
        assert cells[:5] == ["2025", "3 / 12", "2", "2", "61.3"] and "前10名" in cells[5], cells
        assert cells[6] == "2026-03-01" and "本园区评价结果" in page.inner_text("#view")
