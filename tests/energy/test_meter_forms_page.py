"""The energy-management view's forms in headless Chromium against the real API and database: a
manual coal reading moves the enterprise's month total, its correction shows in the audit trail
with the old value, an import names its bad rows, a meter change makes a reset register's
consumption exact again, the tree is edited in place, product output gives unit consumption; the
422s show at their fields in both languages; read-only users and regulators get no form, an
enterprise user no other enterprise; nothing overflows at 1366x768; the tables export as CSV.

The park (``tree_park`` of conftest, with a coal scale in e1) has e1's sub-meter E1B replaced at
local 06:10 of 2026-07-15: its register read 1 000 + 1 kWh a quarter hour to 1 024 at 06:00, the
new one 5.4 at 06:15 and 1 kWh a quarter hour after that (28.4 at 12:00)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aggregation import indicator_job, job
from energy.tree import Meter, Tree, TreeError
from smartpark.catalogue import metric
from tests.energy.conftest import KWH, load_tree, tree_model, viewing
from tests.support.browser import OVERFLOW, shot, wait_js
from tests.support.readings import device_id, ms, store_readings

pytestmark = [pytest.mark.browser, pytest.mark.integration]
COAL = metric("coal.mass_t").id
TCE_PER_T_RAW_COAL = 0.7143  # GB/T 2589-2020 Appendix A, as in test_manual_statistics
MONTH = "2026-07"


@pytest.fixture
def keys(keys: dict[str, Any], tree_park: dict[str, Any]) -> dict[str, Any]:
    return {**keys, "park_code": tree_park["parks"][0]["code"]}


@pytest.fixture
def tree_park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    from smartpark.registry import load_model

    model = tree_model()
    e1 = model["parks"][0]["enterprises"][0]
    e1["gateways"][0]["devices"].append({"code": "cs1", "kind": "coal_scale", "zone": "C1", "name": "1号原煤秤"})
    with db.transaction():
        load_model(db, model, broker=None)
    rate = {("e1", "em1"): 8.0, ("e1", "em2"): 2.0, ("e2", "em1"): 16.0, ("e2", "in1"): 25.0}
    start = ms(2026, 7, 15) - 8 * 3_600_000  # local 00:00
    rows = [
        (device_id(db, model, e, d), KWH, start + q * 900_000, 1000.0 + r * q / 4)
        for (e, d), r in rate.items()
        for q in range(49)
    ]
    em3 = device_id(db, model, "e1", "em3")
    rows += [(em3, KWH, start + q * 900_000, 1000.0 + q if q <= 24 else 5.4 + (q - 25)) for q in range(49)]
    rows.append((device_id(db, model, "e1", "cs1"), COAL, start, 500.0))
    store_readings(db, rows)
    load_tree(db, model)
    _drain(db, model)
    return model


def _drain(db: psycopg.Connection[Any], model: dict[str, Any]) -> None:
    """What the platform's jobs do between a request and the next look: rollups, then indicators."""
    job.drain(db)
    db.execute(
        "INSERT INTO aggregation_dirty_days SELECT park_id, '2026-07-15' FROM parks WHERE code = %s"
        " ON CONFLICT DO NOTHING",
        (model["parks"][0]["code"],),
    )
    indicator_job.drain(db)


def _view(keys: dict[str, Any], ent: str = "e1") -> str:
    """The view of the test's park (an admin's page would show the first park of the database)."""
    return f"?park={keys['park_code']}#/meters?enterprise={keys[ent]}&month={MONTH}"


def _reload(page: Any) -> None:
    page.reload()
    page.wait_for_selector("#view[data-view='meters'][data-ready='1']", timeout=60_000)


DONE = """(() => {{
  const f = document.querySelector({form!r});
  const said = f && [...f.querySelectorAll('[data-error-for]')].some((e) => e.textContent);
  return !f || (f.dataset.busy === '0' && (f.dataset.sent === '{sent}' || said));
}})()"""


def _submit(page: Any, form: str, sent: int = 1) -> None:
    """Double-click the form's button (a second submission must not go out) and wait for the answer:
    the form gone, its ``sent``-th success, or a message at a field."""
    page.dblclick(f"{form} button[type=submit]")
    wait_js(page, DONE.format(form=form, sent=sent), 30)


def _number(text: str) -> float:
    m = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert m, text
    return float(m.group(0).replace(",", ""))


def _tce(page: Any) -> float:
    return _number(page.inner_text("#em-tce"))


def _csv(page: Any, selector: str) -> list[list[str]]:
    import csv
    import io

    with page.expect_download() as info:
        page.click(selector)
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheet tools read the Chinese
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _error(page: Any, form: str, field: str) -> str:
    return str(page.inner_text(f'{form} [data-error-for="{field}"]'))


def test_a_manual_coal_reading_its_correction_and_an_import(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    scale = device_id(db, tree_park, "e1", "cs1")
    with viewing(chromium, server, keys["operator"], _view(keys)) as page:
        before = _tce(page)
        form = "[data-form=reading]"
        page.select_option(f"{form} [name=device]", label="1号原煤秤")
        assert page.inner_text(f"{form} [name=metric]") == "原煤用量" and page.inner_text(f"{form} [data-unit]") == "t"
        page.fill(f"{form} [name=ts]", "2026-07-15T12:00")  # park time: 04:00Z
        page.fill(f"{form} [name=value]", "-5")
        _submit(page, form)
        assert _error(page, form, "value") == "数值过小"  # the API's 422 (ge=0), at the field, in Chinese
        page.fill(f"{form} [name=value]", "512")
        _submit(page, form)
        stored = db.execute(
            "SELECT value, extract(epoch FROM ts)::int8 * 1000, source FROM energy_manual_readings"
            " WHERE device_id = %s",
            (scale,),
        ).fetchall()
        assert stored == [(512.0, ms(2026, 7, 15, 4), "page")]  # one reading for a double click, at 12:00 park time
        assert "512" in page.inner_text("#em-manual") and "页面录入" in page.inner_text("#em-manual")

        _drain(db, tree_park)
        _reload(page)
        # the register read 500 t at 00:00: 12 t burnt, 12 × 0.7143 = 8.5716 tce more this month
        assert _tce(page) - before == pytest.approx(12 * TCE_PER_T_RAW_COAL, abs=2e-3)

        page.click("#em-manual [data-correct]")
        fix = "[data-form=correction]"
        page.fill(f"{fix} [name=value]", "510")
        _submit(page, fix)
        assert _error(page, fix, "reason") == "必填"  # a correction says why
        page.fill(f"{fix} [name=reason]", "读数看错")
        page.dblclick(f"{fix} button[type=submit]")
        # the old reading stays, superseded; the correction below it
        wait_js(page, "document.querySelectorAll('#em-manual tbody tr[data-reading]').length === 2", 30)
        rows = page.locator("#em-manual tbody tr")
        old, new = rows.nth(0).inner_text(), rows.nth(1).inner_text()
        assert "512" in old and "已被更正" in old
        assert "510" in new and "读数看错" in new and new.count("512") == 1  # the old value in the trail
        assert page.locator("#em-manual [data-correct]").count() == 1  # only the current one is corrected
        _drain(db, tree_park)
        _reload(page)
        assert _tce(page) - before == pytest.approx(10 * TCE_PER_T_RAW_COAL, abs=2e-3)

        trail = _csv(page, "[data-csv=manual]")
        assert trail[0][:6] == ["记录编号", "设备", "计量指标", "读数时间（园区时间 UTC+08:00）", "读数", "单位"]
        by_value = {r[4]: dict(zip(trail[0], r, strict=True)) for r in trail[1:]}
        assert by_value["510"]["更正前读数"] == "512" and by_value["510"]["更正原因"] == "读数看错"
        assert by_value["512"]["被更正为记录"] == by_value["510"]["记录编号"]
        assert (
            by_value["510"]["设备"] == "1号原煤秤"
            and by_value["510"]["读数时间（园区时间 UTC+08:00）"] == "2026-07-15 12:00:00"
        )

        imp = "[data-form=import]"
        bad = (
            "设备编码,指标编码,时间,读数\ncs1,coal.mass_t,2026-07-15 13:00,515\nnope,coal.mass_t,2026-07-15 14:00,520\n"
        )
        page.set_input_files(
            f"{imp} [name=file]", files=[{"name": "r.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
        )
        _submit(page, imp)
        problem = page.locator(f"{imp} [data-problems] li")
        assert problem.count() == 1 and problem.inner_text() == "第 3 行 · 设备编码: 本企业没有这个设备"
        good = bad.replace("nope", "cs1").replace(",515", ",oops")
        page.set_input_files(
            f"{imp} [name=file]", files=[{"name": "r.csv", "mimeType": "text/csv", "buffer": good.encode()}]
        )
        _submit(page, imp, sent=2)
        assert page.inner_text(f"{imp} [data-problems] li") == "第 2 行 · 读数: 请输入数字"  # found before sending
        good = good.replace(",oops", ",515")
        page.set_input_files(
            f"{imp} [name=file]", files=[{"name": "r.csv", "mimeType": "text/csv", "buffer": good.encode()}]
        )
        _submit(page, imp, sent=3)
        assert page.inner_text(f"{imp} [data-imported]") == "已导入 2 条读数"
        n = db.execute(
            "SELECT count(*) FROM energy_manual_readings WHERE source = 'import' AND device_id = %s", (scale,)
        )
        assert n.fetchone() == (2,)
        assert page.inner_text("#em-manual").count("文件导入") == 2
        shot(page, "meter-forms-zh")


def test_a_meter_change_makes_a_reset_register_exact(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    with viewing(chromium, server, keys["e1_user"], _view(keys)) as page:
        # unrecorded, the drop from 1 024 to 5.4 counts 5.4 (from zero): E1B 24 + 5.4 + 23 = 52.4 kWh,
        # E1's sub-meters 76.4 of its 96 kWh: a loss of 19.6 / 96 = 20.4 %
        assert "20.4" in page.locator("#em-tree tr", has_text="E1").first.inner_text()
        form = "[data-form=change]"
        page.select_option(f"{form} [name=device]", label="电表 · A1 区 · E1B")
        assert page.inner_text(f"{form} [name=metric]").startswith("购入电量")
        page.fill(f"{form} [name=changed_at]", "2026-07-15T06:10")
        page.fill(f"{form} [name=old_final]", "1024.6")
        page.fill(f"{form} [name=new_initial]", "6")  # above the new register's first reading, 5.4: refused
        _submit(page, form)
        assert _error(page, form, "old_final").startswith("与换表前后的读数不符")
        page.fill(f"{form} [name=new_initial]", "5")
        page.fill(f"{form} [name=new_serial]", "N-7")
        _submit(page, form)
        change = page.inner_text("#em-changes tbody tr")
        assert change.split("\t")[:5] == ["电表 · A1 区 · E1B", "2026-07-15 06:10:00", "1,024.6", "5", "N-7"]
        _drain(db, tree_park)
        _reload(page)
        # exact: (1 024.6 − 1 024) + (5.4 − 5) = 1 kWh from 06:00 to 06:15, E1B 24 + 1 + 23 = 48 kWh
        # as if never replaced, and E1's loss back to (96 − 72) / 96 = 25 %
        e1_row = page.locator("#em-tree tbody tr").first.inner_text()
        assert e1_row.startswith("E1") and e1_row.split("\t")[4].strip() == "25"  # the loss column
        cost = _csv(page, "#em-export")
        e1b = next(r for r in cost if r[0] == "E1B")
        assert sum(float(x) for x in e1b[3:8]) == pytest.approx(48.0)
        changes = _csv(page, "[data-csv=changes]")
        assert changes[0][:6] == ["设备", "计量指标", "换表时间（园区时间 UTC+08:00）", "旧表止码", "新表起码", "单位"]
        assert changes[1][2:7] == ["2026-07-15 06:10:00", "1024.6", "5", "kWh", "N-7"]
        tree = _csv(page, "[data-csv=tree]")
        e1 = dict(zip(tree[0], next(r for r in tree if r[0] == "E1"), strict=True))
        assert (e1["本表计量"], e1["下级表合计"], e1["损耗率（%）"], e1["计量单位"]) == ("96", "72", "25", "kWh")


def test_the_tree_is_edited_in_place(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    with viewing(chromium, server, keys["admin"], _view(keys), lang="en") as page:
        assert "OK" in page.inner_text("#em-demand")  # 8 kW against 50 kW
        page.click("#em-tree-edit")
        form = "[data-form=tree]"
        page.fill(f"{form} tr[data-meter=E1R] [data-field=formula]", "E1 - E1A - NOPE")
        page.fill(f"{form} tr[data-meter=E1] [data-field=contracted_kw]", "-3")
        _submit(page, form)
        assert _error(page, form, "meter:E1.contracted_kw") == "too small"  # pydantic: meters[1].contracted_kw
        page.fill(f"{form} tr[data-meter=E1] [data-field=contracted_kw]", "5")
        _submit(page, form)
        assert _error(page, form, "meter:E1R.formula") == "no such meter"  # the tree's own rule, by meter code
        page.fill(f"{form} tr[data-meter=E1R] [data-field=formula]", "E1 - E1A")
        page.select_option(f"{form} tr[data-meter=E1B] [data-field=role]", "main")
        _submit(page, form)
        assert _error(page, form, "meter:E1B.parent").startswith("an enterprise's main meter")
        page.select_option(f"{form} tr[data-meter=E1B] [data-field=role]", "sub")
        _submit(page, form)
        page.wait_for_selector(form, state="detached", timeout=30_000)
        stored = dict(
            db.execute(
                "SELECT m.code, coalesce(m.formula, m.contracted_kw::text, '') FROM energy_meters m"
                " JOIN parks USING (park_id) WHERE parks.code = %s AND m.code IN ('E1', 'E1R', 'IN')",
                (tree_park["parks"][0]["code"],),
            ).fetchall()
        )
        assert stored == {"E1": "5", "E1R": "E1 - E1A", "IN": ""}  # the park's intake sent back as it was
        assert "Above contract" in page.inner_text("#em-demand")  # 8 kW against 5 kW now
        assert "E1 - E1A" in page.inner_text("#em-tree")


def test_product_output_gives_unit_consumption(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    row = db.execute(
        "SELECT tce_equivalent FROM indicator_monthly WHERE enterprise_id = %s AND month = %s",
        (keys["e1"], f"{MONTH}-01"),
    ).fetchone()
    assert row is not None and row[0] > 0
    kgce_per_t = row[0] * 1000 / 100  # the month's energy, share 1, over 100 t
    with viewing(chromium, server, keys["operator"], _view(keys)) as page:
        assert page.locator("#em-output tbody tr").count() == 0
        form = "[data-form=output]"
        row_in = f"{form} tr[data-output]"
        page.fill(f"{row_in} [data-field=product]", "尿素")
        page.fill(f"{row_in} [data-field=unit]", "t")
        page.fill(f"{row_in} [data-field=quantity]", "100")
        page.fill(f"{row_in} [data-field=limit_kgce]", "1000")
        _submit(page, form)
        assert _error(page, form, "outputs[0].product") == "只能使用字母、数字、_ . -"
        page.fill(f"{row_in} [data-field=product]", "urea")
        page.click(f"{form} [data-add]")
        second = page.locator(row_in).nth(1)
        second.locator("[data-field=product]").fill("urea")
        second.locator("[data-field=unit]").fill("t")
        second.locator("[data-field=quantity]").fill("1")
        _submit(page, form)
        assert _error(page, form, "outputs[1].product") == "重复填写"
        second.locator("[data-remove]").click()
        _submit(page, form, sent=1)
        shown = page.locator("#em-output tbody tr").first.inner_text()
        assert _number(shown.split("\t")[3]) == pytest.approx(kgce_per_t, abs=1e-3) and "未超限额" in shown
        page.fill(f"{row_in} [data-field=limit_kgce]", f"{kgce_per_t / 2:.6f}")
        _submit(page, form, sent=2)
        assert "超限额" in page.locator("#em-output tbody tr").first.inner_text()
        out = _csv(page, "[data-csv=output]")
        got = dict(zip(out[0], out[1], strict=True))
        assert (got["产品"], got["产量"], got["产品单位"], got["是否超限额"]) == ("urea", "100", "t", "是")
        assert float(got["单位产品能耗（kgce/产品单位）"]) == pytest.approx(kgce_per_t, abs=1e-3)


def test_who_gets_forms(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    for who in ("readonly",):
        with viewing(chromium, server, keys[who], _view(keys)) as page:
            assert "E1A" in page.inner_text("#em-tree")  # reads everything
            assert page.locator("#view form, #view [data-correct], #em-tree-edit").count() == 0
    with viewing(chromium, server, keys["regulator"], _view(keys)) as page:
        assert "无权查看能源管理" in page.inner_text("#view") and page.locator("#view form").count() == 0
    # an enterprise user asking for another enterprise gets its own, records for its own devices only
    with viewing(chromium, server, keys["e1_user"], _view(keys, "e2")) as page:
        picker = page.locator("#em-ent")
        assert picker.is_disabled() and picker.locator("option").all_inner_texts() == ["测试化工有限公司"]
        own = {r[0] for r in db.execute("SELECT device_id::text FROM devices WHERE enterprise_id = %s", (keys["e1"],))}
        for form in ("reading", "change"):
            values = page.locator(f"[data-form={form}] [name=device] option").evaluate_all(
                "os => os.map((o) => o.value)"
            )
            assert values and set(values) <= own
        assert page.locator("#em-tree-edit").count() == 0  # the tree is an admin's


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_overflows_at_1366(
    server: str, chromium: Any, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any], lang: str
) -> None:
    scale = device_id(db, tree_park, "e1", "cs1")
    from energy import manual

    with db.transaction():
        manual.enter(db, entries=[manual.Entry(scale, COAL, ms(2026, 7, 15, 4), 512.0)], source="page", by="张三")
    with viewing(
        chromium, server, keys["admin"], _view(keys), lang=lang, viewport={"width": 1366, "height": 768}
    ) as page:
        page.click("#em-tree-edit")
        page.click("#em-manual [data-correct]")
        page.fill("[data-form=correction] [name=value]", "x")
        _submit(page, "[data-form=correction]")
        label = "enter a number" if lang == "en" else "请输入数字"
        assert _error(page, "[data-form=correction]", "value") == label
        assert page.evaluate(OVERFLOW) == []
        shot(page, f"meter-forms-1366-{lang}")


def _tree_error(*meters: Meter) -> str:
    with pytest.raises(TreeError) as caught:
        Tree.of(meters)
    return str(caught.value)


def test_the_page_finds_the_field_of_each_tree_error(server: str, chromium: Any) -> None:
    """The tree's own messages (energy.tree), as the API's 422 carries them, name the field the
    page shows them at: the i-th meter sent or, for a formula, the meter by its code."""
    main = Meter("M", "electricity", "main", 1, device=1)
    expected = {
        _tree_error(main, Meter("S", "electricity", "sub", 1, device=2)): "meters[1].parent",
        _tree_error(main, Meter("V", "electricity", "virtual", 1, formula="M - X")): "meter:V.formula",
        _tree_error(main, Meter("V", "electricity", "virtual", 1, formula="M -")): "meter:V.formula",
        _tree_error(main, Meter("V", "electricity", "virtual", 1)): "meters[1].formula",
        _tree_error(main, Meter("M", "electricity", "sub", 1, device=2)): "meters[1].code",
        _tree_error(main, Meter("S", "water", "sub", 1, parent="M", device=2)): "meters[1].parent",
        _tree_error(main, Meter("T", "electricity", "main", 1, device=1)): "meters[1].device",
    }
    ctx = chromium.new_context()
    try:
        page = ctx.new_page()
        page.goto(server)
        got = page.evaluate(
            "async (details) => { const kit = await import('/js/form-kit.js'); return details.map(kit.fieldOf); }",
            list(expected),
        )
    finally:
        ctx.close()
    assert dict(zip(expected, got, strict=True)) == expected
