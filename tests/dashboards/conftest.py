"""Fixtures of the page's browser tests: one platform and one Chromium for the whole package, so
every browser test file shares the forty days of history instead of making its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smartpark.settings import Settings
from tests.support.browser import Platform, checked_page, launched_chromium, run_platform


@pytest.fixture(scope="package")
def platform(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from run_platform(settings, tmp_path_factory)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with launched_chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with checked_page(browser, viewport={"width": 1600, "height": 1000}, timezone_id="Asia/Shanghai",
                      locale="zh-CN") as pg:  # fmt: skip
        yield pg
