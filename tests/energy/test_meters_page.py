"""The energy-management view in headless Chromium: the tree with balance, cost by period,
demand against contract, meter changes, manual readings with a correction, and the CSV export;
a regulator is told it may not read it. The API (with the page) runs in this process on the
run's database; the browser is in Europe/London for a park in Asia/Shanghai."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from energy import changes, manual
from smartpark.settings import ApiSettings, Settings
from tests.energy.conftest import KWH, load_tree
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, _wait_http, shot
from tests.support.ports import free_port
from tests.support.readings import device_id, ms

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def server(settings: Settings, db_url: str) -> Iterator[str]:
    import uvicorn

    from api.app import create_app

    limits = ApiSettings(token_check_s=0.0, auth_fail_limit=10_000)  # the default pool: page, live stream
    app = create_app(settings, limits=limits, database_url=db_url)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    _wait_http(f"http://127.0.0.1:{port}/healthz", 60)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(chromium: Any, server: str, key: str, path: str) -> tuple[Any, Any, list[str]]:
    ctx = chromium.new_context(
        viewport={"width": 1600, "height": 1000}, timezone_id="Europe/London", locale="en-GB", accept_downloads=True
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.fill("#api-key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#view[data-ready='1']", timeout=60_000)
    page.goto(server + path)
    page.wait_for_selector("#view[data-view='meters'][data-ready='1']", timeout=60_000)
    return ctx, page, errors


def test_the_energy_management_view(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    load_tree(db, tree_park)
    em2 = device_id(db, tree_park, "e1", "em2")
    with db.transaction():
        (first,) = manual.enter(
            db, entries=[manual.Entry(em2, KWH, ms(2026, 7, 15, 5), 1030.0)], source="page", by="张三"
        )
        manual.correct(db, reading_id=first, value=1031.0, by="李四", reason="读数看错")
        em1 = device_id(db, tree_park, "e1", "em1")
        changes.record(
            db,
            change=changes.Change(em1, KWH, ms(2026, 7, 14, 19, 5), 1024.4, 1024.4),
            new_serial="N-2",
            note="",
            by="王五",
        )
    ctx, page, errors = _open(chromium, server, keys["operator"], f"#/meters?enterprise={keys['e1']}&month=2026-07")
    try:
        text = page.inner_text("#view")
        assert "E1A" in page.inner_text("#em-tree") and "分表" in page.inner_text("#em-tree")
        assert "25" in page.inner_text("#em-tree")  # E1's loss against its sub-meters: 25 %
        assert "59.26" in page.inner_text("#em-cost")  # 72 flat + 16 peak + 8 valley kWh, worked in test_energy_api
        assert "正常" in page.inner_text("#em-demand")  # 8 kW against 50 kW
        assert "已被更正" in page.inner_text("#em-manual") and "读数看错" in page.inner_text("#em-manual")
        assert "王五" in page.inner_text("#em-changes")
        assert "能源管理" in text
        with page.expect_download() as info:
            page.click("#em-export")
        csv = Path(info.value.path()).read_text(encoding="utf-8-sig")
        assert csv.splitlines()[0].startswith('"meter","role","in_totals"') and '"E1","main","true"' in csv
        shot(page, "meters-zh")
        assert not errors, errors
    finally:
        ctx.close()
    ctx, page, errors = _open(chromium, server, keys["regulator"], f"#/meters?enterprise={keys['e1']}")
    try:
        assert "无权查看能源管理" in page.inner_text("#view")
        assert not errors, errors
    finally:
        ctx.close()
