"""The park plan: a generated plan has a plot per enterprise and a zone per zone its devices
name, every device lands inside its zone, a plan the page cannot draw is refused by name."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from device_sim.model import generate_model
from smartpark import park_plan
from smartpark.park_plan import DeviceSpot, PlanError, PlotSpec, Rect
from smartpark.registry import ModelError, park_plan_svg, read_model


def _inside(p: tuple[float, float], r: Rect) -> bool:
    return r.x < p[0] < r.x + r.w and r.y < p[1] < r.y + r.h


def test_generated_plan_has_a_plot_per_enterprise_and_a_rect_per_zone() -> None:
    plots = [
        PlotSpec("e1", "甲公司", 300, ("A1", "A2", "B1")),
        PlotSpec("e2", "乙公司", 200, ("D1",)),
        PlotSpec("e3", "丙公司", 30, ()),
        PlotSpec("ops", "园区管理中心", None, ()),
    ]
    regions = park_plan.regions(park_plan.generate(plots))
    assert set(regions) == {"e1", "e1/A1", "e1/A2", "e1/B1", "e2", "e2/D1", "e3", "ops"}
    # zones lie inside their plot; A1 and A2 share a row, B1 is below them
    for z in ("e1/A1", "e1/A2", "e1/B1"):
        r, plot = regions[z], regions["e1"]
        assert plot.x <= r.x and r.x + r.w <= plot.x + plot.w and plot.y <= r.y and r.y + r.h <= plot.y + plot.h
    assert regions["e1/A1"].y == regions["e1/A2"].y < regions["e1/B1"].y
    # the larger enterprise has the larger plot (sides ∝ √land, at least 70 % of the cell)
    assert regions["e1"].w > regions["e2"].w
    assert regions["e2"].w == pytest.approx(park_plan.CELL_W * (200 / 300) ** 0.5, abs=0.1)
    assert regions["e3"].w == pytest.approx(park_plan.CELL_W * 0.7, abs=0.1)  # √0.1 is under the floor


def test_devices_sit_inside_their_zone_else_their_plot_and_apart() -> None:
    svg = park_plan.generate([PlotSpec("e1", "甲", 100, ("A1", "B1"))])
    regions = park_plan.regions(svg)
    spots = [DeviceSpot(i, "e1", "A1") for i in range(1, 6)] + [DeviceSpot(9, "e1", "Z9"), DeviceSpot(10, "e7", "A1")]
    places = park_plan.place(regions, spots)
    assert set(places) == {1, 2, 3, 4, 5, 9}  # e7 has no plot on the plan
    assert all(_inside(places[i], regions["e1/A1"]) for i in range(1, 6))
    assert len({places[i] for i in range(1, 6)}) == 5
    assert _inside(places[9], regions["e1"]) and not _inside(places[9], regions["e1/A1"])


def test_the_simulated_park_gets_a_plan_with_every_device_placed() -> None:
    park = generate_model(enterprises=40)["parks"][0]
    svg = park_plan_svg(park, "parks[0]")
    regions = park_plan.regions(svg)
    devices = [
        DeviceSpot(n, e["code"], d["zone"])
        for n, (e, d) in enumerate(
            ((e, d) for e in park["enterprises"] for gw in e["gateways"] for d in gw["devices"]), start=1
        )
    ]
    assert len(park_plan.place(regions, devices)) == len(devices)
    assert {e["code"] for e in park["enterprises"]} <= set(regions)


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        ("<svg", "not well-formed"),
        ('<html><rect name="e1"/></html>', "not <svg>"),
        ("<svg/>", "neither a viewBox"),
        ('<svg viewBox="0 0 9 9"><rect name="e1" x="a" y="0" width="1" height="1"/></svg>', "not a number"),
    ],
)
def test_a_plan_the_page_cannot_draw_is_refused(svg: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        park_plan.check(svg)
        park_plan.regions(svg)


def test_plan_size_bound() -> None:
    head = '<svg viewBox="0 0 1 1"><desc>'
    tail = "</desc></svg>"
    fits = head + "x" * (park_plan.MAX_PLAN_BYTES - len(head) - len(tail)) + tail
    park_plan.check(fits)
    with pytest.raises(PlanError, match="at most"):
        park_plan.check(fits.replace("<desc>", "<desc>x"))


def test_a_model_names_its_plan_file_beside_it(tmp_path: Path) -> None:
    plan = '<svg viewBox="0 0 9 9"><rect name="e1" x="1" y="1" width="5" height="5"/></svg>'
    (tmp_path / "plan.svg").write_text(plan)
    (tmp_path / "park.yaml").write_text("parks:\n- code: p1\n  plan: plan.svg\n  enterprises: []\n")
    park = read_model(tmp_path / "park.yaml")["parks"][0]
    assert park_plan.regions(park_plan_svg(park, "parks[0]")) == {"e1": Rect(1, 1, 5, 5)}
    (tmp_path / "bad.yaml").write_text("parks:\n- code: p1\n  plan: missing.svg\n")
    with pytest.raises(ModelError, match=r"cannot read the plan 'missing\.svg'"):
        read_model(tmp_path / "bad.yaml")
    with pytest.raises(ModelError, match=r"parks\[0\]\.plan: plan is not well-formed"):
        park_plan_svg({"code": "p1", "plan": "<svg"}, "parks[0]")


def test_a_large_generated_plan_keeps_one_region_per_plot_and_places_devices_in_zones() -> None:
    """Past ZONE_REGIONS_MAX_PLOTS plots the zones are drawn unnamed and unlabelled (the page's
    map keeps state per named region), and the server still places devices in them."""
    n = park_plan.ZONE_REGIONS_MAX_PLOTS + 1
    svg = park_plan.generate([PlotSpec(f"e{i}", f"企业{i}", 100, ("A1", "C1")) for i in range(n)])
    named = [el for el in ET.fromstring(svg).iter() if el.get("name")]
    assert len(named) == n  # the plots only
    assert svg.count("<text") == n  # the plots' names; no zone labels
    regions = park_plan.regions(svg)
    assert len(regions) == 3 * n and "e7/C1" in regions
    places = park_plan.place(regions, [DeviceSpot(1, "e7", "C1")])
    assert _inside(places[1], regions["e7/C1"])
    small = park_plan.generate([PlotSpec(f"e{i}", f"企业{i}", 100, ("A1",)) for i in range(n - 1)])
    assert len([el for el in ET.fromstring(small).iter() if el.get("name")]) == 2 * (n - 1)
