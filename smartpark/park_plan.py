"""The park plan (园区一张图): an SVG of the park's plots and zones, and where devices sit on it.

A park's plan is an SVG in the registry (the model's ``plan``: inline SVG or a file beside the
model). A park without one gets a generated plan: one plot per enterprise on a grid of roads,
sized by its land area, divided into the zones its devices name. The page draws it with ECharts'
SVG map support, whose regions are the SVG elements carrying a ``name``: a plot is named by the
enterprise code, a zone ``{enterprise}/{zone}``. Devices are placed inside their zone's rectangle
(else their enterprise's), spread on a small grid so that none hides another. A generated plan of
more than ``ZONE_REGIONS_MAX_PLOTS`` plots keeps its zones as plain shapes (``data-zone``, no
label): every named element is a region the page's map keeps state for, and at 500 enterprises
the zones' 2 000 regions and labels made the plan the slowest thing the page drew. Pure: no I/O.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

MAX_PLAN_BYTES = 4 * 1024 * 1024  # a plan larger than this is refused at registry load
CELL_W, CELL_H = 220.0, 160.0  # one enterprise's cell on the generated grid (SVG units)
ROAD = 28.0  # road width between cells
MARGIN = 40.0
TITLE_H = 22.0  # the plot's name band
MIN_SCALE = 0.7  # the smallest plot takes 70 % of its cell's sides
ZONE_REGIONS_MAX_PLOTS = 100  # beyond this many plots, zones are drawn but are no regions


class PlanError(ValueError):
    """A plan that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class PlotSpec:
    """What the generator needs of an enterprise: its code, name, land and its devices' zones."""

    code: str
    name: str
    land_mu: float | None
    zones: tuple[str, ...]


def zone_region(enterprise: str, zone: str) -> str:
    return f"{enterprise}/{zone}"


def plot_specs(park: Mapping[str, object]) -> list[PlotSpec]:
    """The plots of a registry model's park (its enterprises, the zones their devices name)."""
    out = []
    for ent in park.get("enterprises") or []:  # type: ignore[attr-defined]
        devices = [d for gw in ent.get("gateways") or [] for d in gw.get("devices") or []]
        devices += list(ent.get("devices") or [])
        zones = tuple(sorted({str(d["zone"]) for d in devices if d.get("zone")}))
        land = ent.get("land_area_mu")
        out.append(PlotSpec(str(ent["code"]), str(ent.get("name") or ent["code"]), land, zones))
    return out


def _zone_cells(zones: Sequence[str], area: Rect) -> dict[str, Rect]:
    """Zones in rows by their leading letter ("A1", "A2" | "B1" …), the row's zones side by side."""
    rows: dict[str, list[str]] = {}
    for z in zones:
        rows.setdefault(z[:1], []).append(z)
    out = {}
    gap = 4.0
    row_h = (area.h - gap * (len(rows) - 1)) / max(len(rows), 1)
    for r, (_, names) in enumerate(sorted(rows.items())):
        w = (area.w - gap * (len(names) - 1)) / len(names)
        for c, z in enumerate(names):
            out[z] = Rect(area.x + c * (w + gap), area.y + r * (row_h + gap), w, row_h)
    return out


def generate(plots: Sequence[PlotSpec]) -> str:
    """A plausible plan: plots on a grid of roads, wider than high (a wall screen's centre)."""
    n = max(len(plots), 1)
    cols = max(1, math.ceil(math.sqrt(n * 1.9)))
    rows = math.ceil(n / cols)
    width = 2 * MARGIN + cols * CELL_W + (cols - 1) * ROAD
    height = 2 * MARGIN + rows * CELL_H + (rows - 1) * ROAD
    zones_named = len(plots) <= ZONE_REGIONS_MAX_PLOTS
    lands = [p.land_mu for p in plots if p.land_mu]
    biggest = max(lands) if lands else 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}"'
        f' width="{width:g}" height="{height:g}">',
        f'<rect x="0" y="0" width="{width:g}" height="{height:g}" fill="#2a3b49"/>',  # roads
        f'<rect x="{MARGIN / 2:g}" y="{MARGIN / 2:g}" width="{width - MARGIN:g}" height="{height - MARGIN:g}"'
        ' fill="none" stroke="#3d7a4e" stroke-width="8"/>',  # the green belt round the park
    ]
    for i, p in enumerate(plots):
        r, c = divmod(i, cols)
        scale = max(MIN_SCALE, math.sqrt((p.land_mu or biggest * 0.5) / biggest))
        w, h = CELL_W * scale, CELL_H * scale
        x = MARGIN + c * (CELL_W + ROAD) + (CELL_W - w) / 2
        y = MARGIN + r * (CELL_H + ROAD) + (CELL_H - h) / 2
        parts.append(
            f'<rect name={quoteattr(p.code)} x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"'
            ' fill="#16364d" stroke="#4f8fbf" stroke-width="2"/>'
        )
        font = min(14.0, (w - 10) / max(len(p.name), 1))  # a CJK glyph is about one font size wide
        parts.append(
            f'<text x="{x + 5:.1f}" y="{y + TITLE_H - 6:.1f}" font-size="{font:.1f}" fill="#cfe3f3">'
            f"{escape(p.name)}</text>"
        )
        inner = Rect(x + 5, y + TITLE_H, w - 10, h - TITLE_H - 5)
        for z, zr in _zone_cells(p.zones, inner).items():
            attr = "name" if zones_named else "data-zone"
            parts.append(
                f'<rect {attr}={quoteattr(zone_region(p.code, z))} x="{zr.x:.1f}" y="{zr.y:.1f}" width="{zr.w:.1f}"'
                f' height="{zr.h:.1f}" fill="#1d4662" stroke="#2f6a92" stroke-width="1"/>'
            )
            if zones_named:
                parts.append(
                    f'<text x="{zr.x + 3:.1f}" y="{zr.y + 11:.1f}" font-size="10" fill="#7fa6c4">{escape(z)}</text>'
                )
    parts.append("</svg>")
    return "\n".join(parts)


def _float(el: ET.Element, attr: str) -> float:
    try:
        return float(el.get(attr) or 0)
    except ValueError as exc:
        raise PlanError(f"<rect name={el.get('name')!r}> has {attr}={el.get(attr)!r}, not a number") from exc


def check(svg: str) -> None:
    """Refuse what the page cannot draw: too large, not XML, not an <svg> with a size."""
    if len(svg.encode()) > MAX_PLAN_BYTES:
        raise PlanError(f"plan is {len(svg.encode())} bytes; at most {MAX_PLAN_BYTES}")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise PlanError(f"plan is not well-formed SVG: {exc}") from exc
    if root.tag.rsplit("}", 1)[-1] != "svg":
        raise PlanError(f"plan's root element is <{root.tag}>, not <svg>")
    if not (root.get("viewBox") or (root.get("width") and root.get("height"))):
        raise PlanError("plan's <svg> has neither a viewBox nor a width and height")


def regions(svg: str) -> dict[str, Rect]:
    """The named rectangles of a plan: plots and zones, a zone named by ``name`` or, drawn only,
    ``data-zone`` (other named shapes are drawn, not placed in)."""
    out = {}
    for el in ET.fromstring(svg).iter():
        name = el.get("name") or el.get("data-zone")
        if name and el.tag.rsplit("}", 1)[-1] == "rect":
            out[name] = Rect(_float(el, "x"), _float(el, "y"), _float(el, "width"), _float(el, "height"))
    return out


@dataclass(frozen=True, slots=True)
class DeviceSpot:
    device_id: int
    enterprise: str  # code
    zone: str


def place(plan_regions: Mapping[str, Rect], devices: Iterable[DeviceSpot]) -> dict[int, tuple[float, float]]:
    """Where each device sits: on a grid inside its zone's rectangle, else its plot's; a device
    whose enterprise has no plot on the plan is left out."""
    groups: dict[str, list[int]] = {}
    for d in devices:
        key = zone_region(d.enterprise, d.zone)
        if key not in plan_regions:
            key = d.enterprise
        if key in plan_regions:
            groups.setdefault(key, []).append(d.device_id)
    out = {}
    for key, ids in groups.items():
        r = plan_regions[key]
        # a plot's own name band stays clear; a zone has none
        top = TITLE_H if "/" not in key and r.h > 3 * TITLE_H else 0.0
        cols = max(1, math.ceil(math.sqrt(len(ids) * r.w / max(r.h, 1e-9))))
        rows = math.ceil(len(ids) / cols)
        for i, device_id in enumerate(sorted(ids)):
            row, col = divmod(i, cols)
            out[device_id] = (
                round(r.x + r.w * (col + 0.5) / cols, 1),
                round(r.y + top + (r.h - top) * (row + 0.5) / rows, 1),
            )
    return out
