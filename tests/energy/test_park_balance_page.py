"""The energy view's park balance: the intake meter against the enterprises' main meters under it
over the last seven days, in headless Chromium against the API on the run's database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from aggregation import job
from tests.energy.conftest import KWH, load_tree, viewing
from tests.support.readings import device_id, store_readings

pytestmark = [pytest.mark.browser, pytest.mark.integration]
QUARTER_MS = 900_000


def test_the_energy_view_shows_the_parks_balance_of_its_intake(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    load_tree(db, tree_park)
    # Yesterday, local 00:00 to 24:00 (the park is in Asia/Shanghai): the intake IN takes 26 kWh an
    # hour, its children E1 and E2 8 and 16: 624 kWh in, 576 out, a loss of 48 kWh = 2/26 = 7.69 %,
    # above the 5 % limit in every hour that holds readings: a reading's consumption counts in its
    # own bucket, so the 97 readings' 96 quarters fill yesterday's hours 01-23, three quarters of
    # its hour 00 and the first quarter of today's: 25 hours.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).replace(hour=0, minute=0, second=0, microsecond=0)
    start = int((today - timedelta(days=1)).timestamp() * 1000)
    # The registers go on from where the fixture's July day left them (1 000 + 12 h at its rate), so
    # nothing is consumed between then and yesterday.
    rate = {("e2", "in1"): 26.0, ("e1", "em1"): 8.0, ("e2", "em1"): 16.0}
    july = {("e2", "in1"): 25.0, ("e1", "em1"): 8.0, ("e2", "em1"): 16.0}
    rows = [
        (device_id(db, tree_park, e, d), KWH, start + q * QUARTER_MS, 1000.0 + 12 * july[e, d] + r * q / 4)
        for (e, d), r in rate.items()
        for q in range(97)
    ]
    store_readings(db, rows)
    job.drain(db)
    with viewing(chromium, server, keys["operator"], "#/energy", view="energy") as page:
        row = page.locator("#park-balance tr[data-intake='IN']")
        cells = [c.strip() for c in row.inner_text().split("\t")]
        assert cells[0] == "电 · IN"
        assert cells[1:6] == ["624 kWh", "576 kWh", "48 kWh", "7.69", "25"]
        assert cells[6] == "—"  # electricity has no night-flow indicator
        assert page.get_attribute("#park-balance-chart", "data-empty") == "0"
    with viewing(chromium, server, keys["operator"], "#/energy", view="energy", lang="en") as page:
        assert "Intake meter" in page.inner_text("#park-balance")


def test_the_park_load_takes_a_range_and_compares_it_with_the_range_before(
    server: str, chromium: Any, keys: dict[str, Any], tree_park: dict[str, Any]
) -> None:
    from urllib.parse import parse_qs, urlsplit

    with viewing(chromium, server, keys["operator"], "#/energy", view="energy") as page:

        def span_of_next_load(preset: str) -> tuple[float, str]:
            with page.expect_request(lambda r: "/load?" in r.url) as request:
                page.click(f"#load-range [data-range='{preset}']")
            q = parse_qs(urlsplit(request.value.url).query)
            start, end = (datetime.fromisoformat(q[k][0].replace("Z", "+00:00")) for k in ("from", "to"))
            return (end - start).total_seconds() / 86_400, q["interval"][0]

        # the range and the one before it, in one answer: 7 d -> 14 days of hourly sums
        days, interval = span_of_next_load("7d")
        assert round(days) == 14 and interval == "1h"
        days, interval = span_of_next_load("24h")
        assert round(days) == 2 and interval == "15m"
        assert page.locator("#load-range [data-range='24h']").get_attribute("class") == "active"
