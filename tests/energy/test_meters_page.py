"""The energy-management view in headless Chromium: the tree with balance, cost by period,
demand against contract, meter changes, manual readings with a correction, and the CSV export;
a regulator is told it may not read it. The API (with the page) runs in this process on the
run's database; the browser is in Europe/London for a park in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from energy import changes, manual
from energy import meters as em
from tests.energy.conftest import KWH, TREE, load_tree, park_id_of, viewing
from tests.support.browser import shot
from tests.support.readings import device_id, ms

pytestmark = [pytest.mark.browser, pytest.mark.integration]


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
    with viewing(chromium, server, keys["operator"], f"#/meters?enterprise={keys['e1']}&month=2026-07") as page:
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
        head = csv.splitlines()[0]
        assert head.startswith('"表计","类型","计入总量","深谷电量（kWh）"') and '"需量电费（元）"' in head
        assert '"E1","总表","是"' in csv and csv.splitlines()[-1].startswith('"合计"')
        shot(page, "meters-zh")
    with viewing(chromium, server, keys["regulator"], f"#/meters?enterprise={keys['e1']}") as page:
        assert "无权查看能源管理" in page.inner_text("#view")


def test_the_tree_flags_meters_whose_calibration_is_overdue_or_near(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    soon = (date.today() + timedelta(days=10)).isoformat()  # within the 30 days' notice whatever the zone
    due = {"E1A": "2020-01-01", "E1B": soon, "E1": "2099-01-01"}
    spec = [
        {**m, "attributes": {**m.get("attributes", {}), "calibration_due": due[m["code"]]}} if m["code"] in due else m
        for m in TREE
    ]
    park_id = park_id_of(db, tree_park)
    try:
        with db.transaction():
            em.replace_tree(db, park_id=park_id, tree=em.resolve(db, park_id=park_id, spec=spec))
        with viewing(chromium, server, keys["operator"], f"#/meters?enterprise={keys['e1']}&month=2026-07") as page:
            rows = {r.split("\t")[0]: r for r in page.locator("#em-tree tbody tr").all_inner_texts()}
            assert "2020-01-01" in rows["E1A"] and "已逾期" in rows["E1A"]
            assert soon in rows["E1B"] and "30 天内到期" in rows["E1B"]
            assert "2099-01-01" in rows["E1"] and "到期" not in rows["E1"].split("2099-01-01")[1]
            assert page.locator("#em-tree [data-calibration]").count() == 2
    finally:
        load_tree(db, tree_park)
